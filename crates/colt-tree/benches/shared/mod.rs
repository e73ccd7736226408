//! What the colt-tree benchmarks share: the warmed 100k-node tree, the UCT
//! scoring they select with, one select+backup, pinning a thread to a CPU,
//! and the cache-line round trip between two CPUs.

use colt_tree::{NewNode, NodeId, NodeRef, Tree};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const NODES: usize = 100_000;
/// Children per node: two shapes of the same size, a deep narrow tree
/// (depth 9) and a shallower bushier one (depth 6). Selection cost grows
/// with depth × branching, mostly in the caller's scoring.
pub const BRANCHING: [usize; 2] = [4, 8];

/// A complete tree of `NODES` nodes, filled breadth-first, then warmed with
/// one backup per node so that UCT has statistics to work with.
pub fn tree(branching: usize) -> Tree<u32> {
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
        // `parent` is a node of this tree, far below the arena's capacity.
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
pub struct Uct {
    parent: Option<NodeId>,
    log_parent_visits: f64,
}

impl Uct {
    pub fn score(&mut self, parent: NodeRef<'_, u32>, child: NodeRef<'_, u32>) -> f64 {
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
pub fn value_of(leaf: NodeId) -> f64 {
    f64::from(leaf.index().wrapping_mul(2_654_435_761) >> 8) / f64::from(1u32 << 24)
}

/// One operation: selects a leaf from the root and backs up its value;
/// returns the leaf.
pub fn select_backup(tree: &Tree<u32>, uct: &mut Uct) -> NodeId {
    // Every tree here has its root, and the path is this tree's own.
    let path = tree.select(tree.root(), |parent, child| uct.score(parent, child)).expect("root exists");
    let leaf = path.leaf();
    // `value_of` is a 24-bit fraction, in [0, 1).
    tree.backup(path, value_of(leaf)).expect("value in range");
    leaf
}

/// Untimed: the median, over 21 runs of 10 000, of the time a cache line
/// takes to go from one thread to another and back (two threads taking
/// turns to increment one atomic). On a virtual machine it depends on where
/// the hypervisor has placed the two vCPUs at that moment.
pub fn line_round_trip() -> Duration {
    const ROUND_TRIPS: u32 = 10_000;
    // Thread `me` increments `turn` from 2·round + me to 2·round + me + 1.
    fn take_turns(turn: &AtomicU64, me: u64) -> Duration {
        pin_to_cpu(me as usize);
        let start = Instant::now();
        for round in 0..u64::from(ROUND_TRIPS) {
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
                // A join fails only if the thread panicked: pass it on.
                let first = first.join().expect("ping-pong thread");
                second.join().expect("ping-pong thread").min(first)
            });
            elapsed / ROUND_TRIPS
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
}

/// Pins the calling thread to CPU `cpu` modulo the CPUs this process may
/// use, where the platform allows (Linux), so that two benchmark threads
/// never take turns on one CPU while the other idles: unpinned, the first
/// ping-pong of a run measured 2 µs per round trip for all of its 21
/// repetitions (about 0.4 s), the cost of two threads sharing one vCPU.
#[cfg(target_os = "linux")]
pub fn pin_to_cpu(cpu: usize) {
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
pub fn pin_to_cpu(_cpu: usize) {}
