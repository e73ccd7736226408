//! Select + backup throughput on a 100k-node tree, with 1 and 2 threads.
//!
//! Run: `cargo bench -p colt-tree --bench select_backup` (the figures and
//! how to read them: docs/src/schedule-space.md, "The search tree").
//! One element = one `select` (UCT with virtual loss, from the root to a
//! leaf) followed by one `backup` of a value at that leaf.
//!
//! Every sample starts from the same tree: the warmed tree is snapshotted
//! once and each sample runs on a fresh restore of it (restoring is not
//! timed), with the same number of iterations (flat sampling). Without
//! this, each benchmark ran on the visits every earlier one had added (tens
//! of millions), so a figure depended on how many iterations criterion
//! happened to run before it, and the two-thread figures moved by a factor
//! of three between runs of the same code.
//!
//! Before the groups of a tree shape, an untimed run of two threads prints
//! how often a thread's selection ends at the leaf the other thread
//! selected last: UCT's argmax moves slowly on a tree with this many
//! visits, a unit of virtual loss barely changes it, so the two threads
//! mostly walk the same path and every node's counters move between the
//! cores several times per operation. That, not locking, is what the
//! two-thread figures measure.
//!
//! Each group has three benchmarks: one thread; two threads sharing the
//! tree (the figure the tree is judged by); and a control, two threads each
//! on its own copy of the tree, which share nothing and so show what the
//! two vCPUs give to two threads that do not interact (about twice the
//! one-thread rate). The threads are pinned one per CPU (see `pin_to_cpu`).
//!
//! Each group also prints the time a cache line takes to go from one CPU
//! to the other and back, before and after it (median of 21 ping-pongs of
//! 10 000 round trips): the shared-tree figures are bound by it. On the
//! development VM it is about 45 ns most of the time, and 400–480 ns for
//! tens of seconds now and then (presumably the hypervisor moving the
//! vCPUs apart); groups run in such a period show the shared-tree rate
//! divided by two while the control does not move. The `slices` benchmark
//! tells the two apart slice by slice.
//!
//! Each group also prints the host's steal time while it ran (Linux
//! `/proc/stat`): on a virtual machine, time the hypervisor gave the vCPUs
//! to other guests counts in both clocks below, and a group with a few
//! percent of steal is not a figure to compare.

#[allow(dead_code, reason = "each benchmark uses part of the shared code")]
mod shared;

use colt_tree::Tree;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use shared::{line_round_trip, pin_to_cpu, select_backup, tree, Uct, BRANCHING};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Untimed: the share of selections, over two threads running `iters`
/// operations each on `tree`, that end at the leaf the other thread
/// selected last.
fn shared_leaf_share(tree: &Tree<u32>, iters: u64) -> f64 {
    #[repr(align(64))]
    struct LastLeaf(AtomicU32);
    let last = [LastLeaf(AtomicU32::new(u32::MAX)), LastLeaf(AtomicU32::new(u32::MAX))];
    let shared: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|me| {
                let last = &last;
                scope.spawn(move || {
                    pin_to_cpu(me);
                    let mut uct = Uct::default();
                    let mut shared = 0;
                    for _ in 0..iters {
                        let leaf = select_backup(tree, &mut uct).index();
                        shared += u64::from(last[1 - me].0.load(Ordering::Relaxed) == leaf);
                        last[me].0.store(leaf, Ordering::Relaxed);
                    }
                    shared
                })
            })
            .collect();
        // A join fails only if the thread panicked: pass it on.
        handles.into_iter().map(|h| h.join().expect("probe thread")).sum()
    });
    shared as f64 / (2 * iters) as f64
}

/// How a run is timed.
#[derive(Clone, Copy)]
enum Clock {
    /// Wall-clock time of the whole run: what a user sees, but on a machine
    /// whose cores are shared with other work it also measures that work.
    Wall,
    /// CPU time of the slowest thread (`CLOCK_THREAD_CPUTIME_ID`): the time the
    /// threads actually ran, contention stalls included, preemption by
    /// other processes excluded. Reported alongside `Wall` because the
    /// development machines have 2 cores shared with other builds.
    OnCpu,
}

/// Nanoseconds this thread has spent on a CPU, where the platform says.
#[cfg(unix)]
fn thread_cpu_ns() -> Option<u64> {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `time` is a valid, writable timespec for the duration of the
    // call, and CLOCK_THREAD_CPUTIME_ID is a clock every unix libc knows.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    if status != 0 {
        return None;
    }
    Some(u64::try_from(time.tv_sec).ok()? * 1_000_000_000 + u64::try_from(time.tv_nsec).ok()?)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// Runs one thread per entry of `trees`, each doing `iters` operations on
/// its tree (the same tree several times over for a shared tree).
fn run(trees: &[&Tree<u32>], iters: u64, clock: Clock) -> Duration {
    let start = Instant::now();
    let cpu_times: Vec<Option<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = trees
            .iter()
            .enumerate()
            .map(|(cpu, &tree)| {
                scope.spawn(move || {
                    pin_to_cpu(cpu);
                    let before = thread_cpu_ns();
                    let mut uct = Uct::default();
                    for _ in 0..iters {
                        select_backup(tree, &mut uct);
                    }
                    Some(thread_cpu_ns()? - before?)
                })
            })
            .collect();
        // A join fails only if the thread panicked: pass it on.
        handles.into_iter().map(|h| h.join().expect("bench thread")).collect()
    });
    let wall = start.elapsed();
    match clock {
        Clock::Wall => wall,
        // Without a thread CPU clock, fall back to wall-clock time.
        Clock::OnCpu => cpu_times
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .and_then(|times| times.into_iter().max())
            .map_or(wall, Duration::from_nanos),
    }
}

/// The host's CPU time counters (`/proc/stat`'s first line, in ticks):
/// (all time, steal). `None` where there is no such file.
fn host_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).map(|field| field.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]
    // (guest time is already counted in user).
    let steal = *fields.get(7)?;
    Some((fields.iter().take(8).sum(), steal))
}

fn bench(c: &mut Criterion) {
    for branching in BRANCHING {
        // A `u32` payload always encodes, and bytes a snapshot just wrote
        // always restore.
        let warmed = tree(branching).snapshot().expect("snapshot of the warmed tree");
        let probe: Tree<u32> = Tree::restore(&warmed).expect("restore of the warmed tree");
        eprintln!(
            "select_backup/100k_nodes/branching_{branching}: with 2 threads, {:.1}% of selections end at the leaf \
             the other thread selected last",
            100.0 * shared_leaf_share(&probe, 100_000)
        );
        for (clock, name) in [(Clock::Wall, "wall"), (Clock::OnCpu, "on_cpu")] {
            let group_name = format!("select_backup/100k_nodes/branching_{branching}/{name}");
            let round_trip_before = line_round_trip();
            let ticks_before = host_ticks();
            let mut group = c.benchmark_group(&group_name);
            group.sampling_mode(SamplingMode::Flat);
            for (threads, trees, name) in [(1, 1, "1_thread"), (2, 1, "2_threads"), (2, 2, "2_threads_2_trees")] {
                // Elements count operations over all threads: the per-thread
                // rate is the reported rate divided by `threads`.
                group.throughput(Throughput::Elements(threads as u64));
                group.bench_function(name, |b| {
                    b.iter_custom(|iters| {
                        let copies: Vec<Tree<u32>> =
                            (0..trees).map(|_| Tree::restore(&warmed).expect("restore of the warmed tree")).collect();
                        let per_thread: Vec<&Tree<u32>> = (0..threads).map(|t| &copies[t % trees]).collect();
                        run(&per_thread, iters, clock)
                    })
                });
            }
            group.finish();
            if let (Some((all_before, steal_before)), Some((all_after, steal_after))) = (ticks_before, host_ticks()) {
                let share = (steal_after - steal_before) as f64 / (all_after - all_before).max(1) as f64;
                eprintln!(
                    "{group_name}: host steal {:.1}% of CPU time while it ran; a cache line's round trip between \
                     two threads took {round_trip_before:.0?} before it and {:.0?} after",
                    100.0 * share,
                    line_round_trip()
                );
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
