//! Select + backup throughput on a 100k-node tree, with 1 and 2 threads.
//!
//! Run: `cargo bench -p colt-tree --bench select_backup` (the figures and
//! how to read them: README, "The search tree").
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
//! development VM it is about 45 ns most of the time, and for a minute or
//! so now and then about 380 ns (the hypervisor moving the vCPUs apart);
//! groups run in such a period show the shared-tree rate divided by two or
//! more while the control does not move.
//!
//! Each group also prints the host's steal time while it ran (Linux
//! `/proc/stat`): on a virtual machine, time the hypervisor gave the vCPUs
//! to other guests counts in both clocks below, and a group with a few
//! percent of steal is not a figure to compare.

use colt_tree::{NewNode, NodeId, NodeRef, Tree};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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
                        let path =
                            tree.select(tree.root(), |parent, child| uct.score(parent, child)).expect("root exists");
                        let leaf = path.leaf().index();
                        shared += u64::from(last[1 - me].0.load(Ordering::Relaxed) == leaf);
                        last[me].0.store(leaf, Ordering::Relaxed);
                        let value = value_of(path.leaf());
                        tree.backup(path, value).expect("value in range");
                    }
                    shared
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("probe thread")).sum()
    });
    shared as f64 / (2 * iters) as f64
}

/// Untimed: the median, over 21 runs of 10 000, of the time a cache line
/// takes to go from one thread to another and back (two threads taking
/// turns to increment one atomic). On a virtual machine it depends on where
/// the hypervisor has placed the two vCPUs at that moment.
fn line_round_trip() -> Duration {
    const ROUND_TRIPS: u64 = 10_000;
    // Thread `me` increments `turn` from 2·round + me to 2·round + me + 1.
    fn take_turns(turn: &AtomicU64, me: u64) -> Duration {
        pin_to_cpu(me as usize);
        let start = Instant::now();
        for round in 0..ROUND_TRIPS {
            while turn.load(Ordering::Acquire) != 2 * round + me {
                std::hint::spin_loop();
            }
            turn.store(2 * round + me + 1, Ordering::Release);
        }
        start.elapsed()
    }
    let mut runs: Vec<Duration> = (0..21)
        .map(|_| {
            let turn = AtomicU64::new(0);
            let elapsed = std::thread::scope(|scope| {
                let second = scope.spawn(|| take_turns(&turn, 1));
                let first = scope.spawn(|| take_turns(&turn, 0));
                let first = first.join().expect("ping-pong thread");
                second.join().expect("ping-pong thread").min(first)
            });
            elapsed / u32::try_from(ROUND_TRIPS).expect("fits")
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
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

/// Pins the calling thread to CPU `cpu` modulo the CPUs this process may
/// use, where the platform allows (Linux), so that two benchmark threads
/// never take turns on one CPU while the other idles: unpinned, the first
/// ping-pong of a run measured 2 µs per round trip for all of its 21
/// repetitions (about 0.4 s), the cost of two threads sharing one vCPU.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) {
    // SAFETY: `set` is a plain bit set, zeroed, then filled and passed by
    // pointer with its true size; the calls only read it.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &allowed)).collect();
        if cpus.is_empty() {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpus[cpu % cpus.len()], &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(_cpu: usize) {}

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
