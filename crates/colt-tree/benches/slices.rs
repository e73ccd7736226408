//! Two threads' select+backup rate on one tree, slice by slice, against the
//! time a cache line takes between their CPUs.
//!
//! Run: `cargo bench -p colt-tree --bench slices [-- SLICES]` (200 slices
//! per tree shape unless told; about 20 s in all).
//!
//! A slice measures the cache-line round trip between the two CPUs, runs
//! two threads (pinned one per CPU) for 30 000 select+backups each on a
//! fresh restore of `select_backup`'s warmed tree, and measures the round
//! trip again. Slices whose slower round trip is under 150 ns count as
//! fast, the others as slow; for each kind the report gives the count and
//! the minimum, median and maximum rate per thread. On a virtual machine
//! the round trip depends on where the hypervisor has put the vCPUs, and
//! changes while the benchmark runs: this is how to tell whether a low
//! figure from `select_backup` came from the tree or from the machine.

#[allow(dead_code, reason = "each benchmark uses part of the shared code")]
mod shared;

use colt_tree::Tree;
use shared::{line_round_trip, pin_to_cpu, select_backup, tree, Uct, BRANCHING};
use std::time::{Duration, Instant};

const OPERATIONS_PER_THREAD: u32 = 30_000;
const FAST_ROUND_TRIP: Duration = Duration::from_nanos(150);

/// Per-thread rate in M operations/s of two threads sharing `tree`.
fn shared_rate(tree: &Tree<u32>) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for cpu in 0..2 {
            scope.spawn(move || {
                pin_to_cpu(cpu);
                let mut uct = Uct::default();
                for _ in 0..OPERATIONS_PER_THREAD {
                    select_backup(tree, &mut uct);
                }
            });
        }
    });
    f64::from(OPERATIONS_PER_THREAD) / start.elapsed().as_secs_f64() / 1e6
}

fn summary(kind: &str, mut rates: Vec<f64>) -> String {
    if rates.is_empty() {
        return format!("{kind}: none");
    }
    rates.sort_by(f64::total_cmp);
    format!(
        "{kind}: {:3} slices, M ops/s per thread min {:.2} median {:.2} max {:.2}",
        rates.len(),
        rates[0],
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    )
}

fn main() {
    // `cargo bench` passes `--bench`; the one number, if any, is the count.
    let slices = std::env::args().skip(1).find_map(|arg| arg.parse::<usize>().ok()).unwrap_or(200);
    for branching in BRANCHING {
        // A `u32` payload always encodes, and bytes a snapshot just wrote
        // always restore.
        let warmed = tree(branching).snapshot().expect("snapshot of the warmed tree");
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        let mut slow_round_trips = Vec::new();
        for _ in 0..slices {
            let tree: Tree<u32> = Tree::restore(&warmed).expect("restore of the warmed tree");
            let before = line_round_trip();
            let rate = shared_rate(&tree);
            let round_trip = before.max(line_round_trip());
            if round_trip < FAST_ROUND_TRIP {
                fast.push(rate);
            } else {
                slow.push(rate);
                slow_round_trips.push(round_trip);
            }
        }
        slow_round_trips.sort();
        println!("slices/100k_nodes/branching_{branching}, 2 threads on one tree:");
        println!("  {}", summary("round trip under 150 ns", fast));
        println!("  {}", summary("round trip 150 ns or more", slow));
        if let Some(median) = slow_round_trips.get(slow_round_trips.len() / 2) {
            println!("  (median round trip of the slow slices: {median:.0?})");
        }
    }
}
