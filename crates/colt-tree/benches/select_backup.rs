//! Select + backup throughput on a 100k-node tree, with 1 and 2 threads.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-tree cargo bench -p colt-tree`.
//! One element = one `select` (UCT with virtual loss, from the root to a
//! leaf) followed by one `backup` of a value at that leaf.

use colt_tree::{NewNode, NodeId, NodeRef, Tree};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};

const NODES: usize = 100_000;
/// Children per node: two shapes of the same size, a deep narrow tree
/// (depth 9) and a shallower bushier one (depth 6). Selection cost grows
/// with depth × branching, mostly in the caller's scoring.
const BRANCHING: [usize; 2] = [4, 8];

/// A complete tree of `NODES` nodes, filled breadth-first, then warmed with
/// one backup per node so that UCT has statistics to work with.
fn tree(branching: usize) -> Tree<u32> {
    let tree = Tree::new(NewNode::new(0, 0));
    let mut frontier = std::collections::VecDeque::from([tree.root()]);
    let mut len = 1;
    while len < NODES {
        let Some(parent) = frontier.pop_front() else { break };
        let count = branching.min(NODES - len);
        let children = (0..count).map(|k| {
            let fingerprint = (len + k) as u64;
            NewNode::new(fingerprint, fingerprint as u32)
        });
        for insertion in tree.add_children(parent, children).expect("tree grows") {
            frontier.push_back(insertion.id);
        }
        len += count;
    }
    for _ in 0..NODES {
        select_backup(&tree, &mut Uct::default());
    }
    tree
}

/// UCT (C = 1.41, DESIGN.md's default) with virtual loss counted as visits
/// that scored 0; unvisited children first. Caches ln N(parent) per parent,
/// as a real policy would.
#[derive(Default)]
struct Uct {
    parent: Option<NodeId>,
    log_parent_visits: f64,
}

impl Uct {
    fn score(&mut self, parent: NodeRef<'_, u32>, child: NodeRef<'_, u32>) -> f64 {
        let n = (child.visits() + u64::from(child.virtual_loss())) as f64;
        if n == 0.0 {
            return f64::INFINITY;
        }
        if self.parent != Some(parent.id()) {
            self.parent = Some(parent.id());
            let n_parent = parent.visits() + u64::from(parent.virtual_loss());
            self.log_parent_visits = (n_parent.max(1) as f64).ln();
        }
        child.value_sum() / n + 1.41 * (self.log_parent_visits / n).sqrt()
    }
}

/// A value that depends on the leaf only, like a cost model's prediction.
fn value_of(leaf: NodeId) -> f64 {
    f64::from(leaf.index().wrapping_mul(2_654_435_761) >> 8) / f64::from(1u32 << 24)
}

fn select_backup(tree: &Tree<u32>, uct: &mut Uct) {
    let path = tree.select(tree.root(), |parent, child| uct.score(parent, child)).expect("root exists");
    let value = value_of(path.leaf());
    tree.backup(path, value).expect("value in range");
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

fn run(tree: &Tree<u32>, threads: u64, iters: u64, clock: Clock) -> Duration {
    let start = Instant::now();
    let cpu_times: Vec<Option<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let before = thread_cpu_ns();
                    let mut uct = Uct::default();
                    for _ in 0..iters {
                        select_backup(tree, &mut uct);
                    }
                    Some(thread_cpu_ns()? - before?)
                })
            })
            .collect();
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

fn bench(c: &mut Criterion) {
    for branching in BRANCHING {
        let tree = tree(branching);
        for (clock, name) in [(Clock::Wall, "wall"), (Clock::OnCpu, "on_cpu")] {
            let mut group = c.benchmark_group(format!("select_backup/100k_nodes/branching_{branching}/{name}"));
            for threads in [1u64, 2] {
                // Elements count operations over all threads: the per-thread
                // rate is the reported rate divided by `threads`.
                group.throughput(Throughput::Elements(threads));
                group.bench_function(format!("{threads}_threads"), |b| {
                    b.iter_custom(|iters| run(&tree, threads, iters, clock))
                });
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
