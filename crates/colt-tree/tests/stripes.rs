//! Stress test of the striped locks: threads expanding the same parents with
//! colliding fingerprints while others select, back up and measure. The
//! structure must come out exactly as if the expansions had run one at a
//! time.

mod support;

use colt_tree::{InsertionKind, NodeId, Tree};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use support::{check_counters, mix, node, uct, Payload};

const THREADS: u64 = 4;
const ROUNDS: u64 = 3_000;
/// Few fingerprints, so that most additions collide with an existing node.
const FINGERPRINTS: u64 = 600;

#[test]
fn striped_expansion_under_contention_builds_a_consistent_tree() {
    let tree = Tree::new(node(u64::MAX));
    let backups = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (tree, backups) = (&tree, &backups);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let r = mix(thread << 32 | round);
                    let mut path = tree.select(tree.root(), uct).unwrap();
                    // Half the time, expand the root itself, so that every
                    // thread hammers one stripe.
                    let parent = if r & 1 == 0 { tree.root() } else { path.leaf() };
                    let children = (0..1 + r % 3).map(|k| node(mix(r + k) % FINGERPRINTS));
                    let added = tree.add_children(parent, children).unwrap();
                    for insertion in &added {
                        assert_eq!(tree.node(insertion.id).unwrap().parent(), Some(parent));
                    }
                    if parent == path.leaf() {
                        tree.extend(&mut path, added[0].id).unwrap();
                    }
                    if r.is_multiple_of(7) {
                        tree.set_measured(path.leaf(), (r % 100) as f64 / 100.0).unwrap();
                    }
                    tree.backup(path, (r % 1000) as f64 / 1000.0).unwrap();
                    backups.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });

    check_counters(&tree);
    assert_eq!(tree.node(tree.root()).unwrap().visits(), backups.load(Ordering::Relaxed));

    let mut first_of: HashMap<u64, NodeId> = HashMap::new();
    for node in tree.nodes() {
        // Siblings never share a fingerprint, and a parent's children are in
        // id order (the property snapshots rely on).
        let children: Vec<_> = node.children().collect();
        let fingerprints: HashSet<u64> = children.iter().map(|c| c.fingerprint()).collect();
        assert_eq!(fingerprints.len(), children.len(), "duplicate sibling under {:?}", node.id());
        assert!(children.windows(2).all(|w| w[0].id() < w[1].id()));
        assert!(children.iter().all(|c| c.depth() == node.depth() + 1));

        // Exactly one first node per fingerprint, the one with the smallest
        // id; every other node points at it.
        match node.transposition_of() {
            None => {
                assert!(first_of.insert(node.fingerprint(), node.id()).is_none());
                assert_eq!(tree.find(node.fingerprint()), Some(node.id()));
            }
            Some(first) => {
                assert_eq!(first_of.get(&node.fingerprint()), Some(&first));
                assert_eq!(node.measured(), tree.node(first).unwrap().measured());
            }
        }
    }
}

#[test]
fn concurrent_identical_expansions_add_each_child_once() {
    let tree = Tree::new(node(0));
    let kinds: Vec<Vec<InsertionKind>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let tree = &tree;
                scope.spawn(move || {
                    tree.add_children(tree.root(), (1..=50).map(node))
                        .unwrap()
                        .into_iter()
                        .map(|i| i.kind)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each child was added by exactly one of the racing calls; the others
    // were told it was already there.
    for child in 0..50 {
        let new = kinds.iter().filter(|k| k[child] == InsertionKind::New).count();
        assert_eq!(new, 1, "child {child}");
    }
    assert_eq!(tree.len(), 51);
    let fingerprints: Vec<Payload> = tree.node(tree.root()).unwrap().children().map(|c| c.fingerprint()).collect();
    assert_eq!(fingerprints, (1..=50).collect::<Vec<_>>());
}
