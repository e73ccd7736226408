//! Transposition behaviour: a candidate reached by two paths is two nodes
//! sharing one measurement.

mod support;

use colt_tree::{Insertion, InsertionKind, NodeId, Tree};
use support::{check_counters, node};

/// root(0) ─ a(1) ─ x(9)
///        └ b(2) ─ x'(9)   (x' transposes x)
fn diamond() -> (Tree<u64>, [NodeId; 4]) {
    let tree = Tree::new(node(0));
    let ab = tree.add_children(tree.root(), [node(1), node(2)]).unwrap();
    let (a, b) = (ab[0].id, ab[1].id);
    let x = tree.add_children(a, [node(9)]).unwrap()[0];
    assert_eq!(x.kind, InsertionKind::New);
    let x2 = tree.add_children(b, [node(9)]).unwrap()[0];
    assert_eq!(x2.kind, InsertionKind::Transposition { of: x.id });
    (tree, [a, b, x.id, x2.id])
}

fn backup_through(tree: &Tree<u64>, nodes: &[NodeId], value: f64) -> f64 {
    let mut path = tree.select_with(tree.root(), |_, _| None).unwrap();
    for &id in nodes {
        tree.extend(&mut path, id).unwrap();
    }
    tree.backup(path, value).unwrap()
}

#[test]
fn second_path_to_a_candidate_is_a_transposition_with_its_own_statistics() {
    let (tree, [a, b, x, x2]) = diamond();
    assert_ne!(x, x2);
    assert_eq!(tree.find(9), Some(x));
    let link = tree.node(x2).unwrap();
    assert_eq!(link.transposition_of(), Some(x));
    assert_eq!(link.parent(), Some(b));
    assert_eq!(tree.node(x).unwrap().transposition_of(), None);

    backup_through(&tree, &[a, x], 0.2);
    backup_through(&tree, &[b, x2], 0.4);
    backup_through(&tree, &[b, x2], 0.4);
    // Statistics stay per path: each parent's visits are its child's.
    assert_eq!(tree.node(x).unwrap().visits(), 1);
    assert_eq!(tree.node(x2).unwrap().visits(), 2);
    assert_eq!(tree.node(a).unwrap().visits(), 1);
    assert_eq!(tree.node(b).unwrap().visits(), 2);
    check_counters(&tree);
}

#[test]
fn measuring_either_node_measures_both_and_rewrites_both_paths() {
    let (tree, [a, b, x, x2]) = diamond();
    backup_through(&tree, &[a, x], 0.2);
    backup_through(&tree, &[b, x2], 0.4);
    backup_through(&tree, &[b, x2], 0.4);

    // Measured through the transposition: stored once, seen by both.
    tree.set_measured(x2, 0.5).unwrap();
    assert_eq!(tree.node(x).unwrap().measured(), Some(0.5));
    assert_eq!(tree.node(x2).unwrap().measured(), Some(0.5));
    assert_eq!(tree.node(a).unwrap().value_sum(), 0.5);
    assert_eq!(tree.node(b).unwrap().value_sum(), 1.0);
    assert_eq!(tree.node(tree.root()).unwrap().value_sum(), 1.5);

    // Later backups at either node use the measurement, not the prediction.
    assert_eq!(backup_through(&tree, &[a, x], 0.9), 0.5);
    assert_eq!(backup_through(&tree, &[b, x2], 0.1), 0.5);
    assert_eq!(tree.node(tree.root()).unwrap().value_sum(), 2.5);

    // A new measurement replaces the old one everywhere.
    tree.set_measured(x, 0.25).unwrap();
    assert_eq!(tree.node(tree.root()).unwrap().value_sum(), 1.25);
    check_counters(&tree);

    // The best candidate is reported once, as its first node.
    assert_eq!(tree.best_measured(), Some((x, 0.25)));
}

#[test]
fn a_transposition_made_after_the_measurement_sees_it() {
    let tree = Tree::new(node(0));
    let a = tree.add_children(tree.root(), [node(1)]).unwrap()[0].id;
    tree.set_measured(a, 0.75).unwrap();
    let b = tree.add_children(tree.root(), [node(2)]).unwrap()[0].id;
    let late = tree.add_children(b, [node(1)]).unwrap()[0].id;
    assert_eq!(tree.node(late).unwrap().measured(), Some(0.75));
    assert_eq!(backup_through(&tree, &[b, late], 0.1), 0.75);
    check_counters(&tree);
}

#[test]
fn a_repeated_sibling_is_the_existing_child() {
    let tree = Tree::new(node(0));
    let first = tree.add_children(tree.root(), [node(5), node(6), node(5)]).unwrap();
    assert_eq!(first[0].kind, InsertionKind::New);
    assert_eq!(first[2], Insertion { id: first[0].id, kind: InsertionKind::AlreadyChild });
    let again = tree.add_children(tree.root(), [node(6)]).unwrap();
    assert_eq!(again[0].id, first[1].id);
    assert_eq!(again[0].kind, InsertionKind::AlreadyChild);
    assert_eq!(tree.len(), 3);
    assert_eq!(tree.node(tree.root()).unwrap().child_count(), 2);
}

#[test]
fn a_transposition_can_be_expanded_and_its_children_dedup_too() {
    let (tree, [_, _, x, x2]) = diamond();
    let under_x = tree.add_children(x, [node(20)]).unwrap()[0];
    let under_x2 = tree.add_children(x2, [node(20), node(21)]).unwrap();
    assert_eq!(under_x2[0].kind, InsertionKind::Transposition { of: under_x.id });
    assert_eq!(under_x2[1].kind, InsertionKind::New);
    // The root's fingerprint is in the table too: reaching the start again
    // is a transposition of the root.
    let back = tree.add_children(under_x.id, [node(0)]).unwrap()[0];
    assert_eq!(back.kind, InsertionKind::Transposition { of: tree.root() });
}
