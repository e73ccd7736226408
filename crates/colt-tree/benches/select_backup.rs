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

fn run(tree: &Tree<u32>, threads: u64, iters: u64) -> Duration {
    std::thread::scope(|scope| {
        let start = Instant::now();
        for _ in 0..threads {
            scope.spawn(|| {
                let mut uct = Uct::default();
                for _ in 0..iters {
                    select_backup(tree, &mut uct);
                }
            });
        }
        // The scope joins the threads before returning.
        start
    })
    .elapsed()
}

fn bench(c: &mut Criterion) {
    for branching in BRANCHING {
        let tree = tree(branching);
        let mut group = c.benchmark_group(format!("select_backup/100k_nodes/branching_{branching}"));
        for threads in [1u64, 2] {
            // Elements count operations over all threads: the per-thread
            // rate is the reported rate divided by `threads`.
            group.throughput(Throughput::Elements(threads));
            group.bench_function(format!("{threads}_threads"), |b| {
                b.iter_custom(|iters| {
                    if threads == 1 {
                        let start = Instant::now();
                        let mut uct = Uct::default();
                        for _ in 0..iters {
                            select_backup(&tree, &mut uct);
                        }
                        start.elapsed()
                    } else {
                        run(&tree, threads, iters)
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
