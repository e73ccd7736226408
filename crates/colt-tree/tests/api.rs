//! Selection, backup, best-child and error behaviour of the public API.

mod support;

use colt_tree::{ModelId, NewNode, NodeId, Tree, TreeError};
use support::{check_counters, node};

/// root ─ c1, c2, c3
fn three_children() -> (Tree<u64>, Vec<NodeId>) {
    let tree = Tree::new(node(0));
    let ids = tree.add_children(tree.root(), (1..=3).map(node)).unwrap().iter().map(|i| i.id).collect();
    (tree, ids)
}

#[test]
fn select_takes_the_highest_score_first_on_ties_and_nan_last() {
    let (tree, c) = three_children();
    let path = tree.select(tree.root(), |_, child| child.fingerprint() as f64).unwrap();
    assert_eq!(path.nodes(), &[tree.root(), c[2]]);
    tree.abandon(path).unwrap();

    let path = tree.select(tree.root(), |_, _| 1.0).unwrap();
    assert_eq!(path.leaf(), c[0]);
    tree.abandon(path).unwrap();

    let path = tree.select(tree.root(), |_, child| if child.id() == c[0] { f64::NAN } else { -1e300 }).unwrap();
    assert_eq!(path.leaf(), c[1]);
    tree.abandon(path).unwrap();
    check_counters(&tree);
}

#[test]
fn virtual_loss_is_held_until_backup_and_steers_other_selections() {
    let (tree, c) = three_children();
    // Prefer unvisited children, counting virtual loss as a visit.
    let score = |_: colt_tree::NodeRef<'_, u64>, child: colt_tree::NodeRef<'_, u64>| {
        -((child.visits() + u64::from(child.virtual_loss())) as f64)
    };
    let first = tree.select(tree.root(), score).unwrap();
    let second = tree.select(tree.root(), score).unwrap();
    assert_eq!((first.leaf(), second.leaf()), (c[0], c[1]));
    assert_eq!(tree.node(tree.root()).unwrap().virtual_loss(), 2);
    assert_eq!(tree.node(c[0]).unwrap().virtual_loss(), 1);
    tree.backup(first, 1.0).unwrap();
    tree.backup(second, 0.0).unwrap();
    assert_eq!(tree.node(tree.root()).unwrap().virtual_loss(), 0);
    assert_eq!(tree.node(tree.root()).unwrap().visits(), 2);
    assert_eq!(tree.node(tree.root()).unwrap().mean(), Some(0.5));
    check_counters(&tree);
}

#[test]
fn select_with_can_stop_early_and_rejects_a_bad_index() {
    let (tree, c) = three_children();
    let path = tree.select_with(tree.root(), |_, _| None).unwrap();
    assert_eq!(path.nodes(), &[tree.root()]);
    tree.backup(path, 0.5).unwrap();
    assert_eq!(tree.node(tree.root()).unwrap().terminal_visits(), 1);

    let path = tree
        .select_with(tree.root(), |_, children| {
            assert_eq!(children.len(), 3);
            Some(2)
        })
        .unwrap();
    assert_eq!(path.leaf(), c[2]);
    tree.abandon(path).unwrap();

    let error = tree.select_with(tree.root(), |_, _| Some(3)).unwrap_err();
    assert_eq!(error, TreeError::NoSuchChild { parent: tree.root(), index: 3, children: 3 });
    // The virtual loss of the refused selection is gone.
    check_counters(&tree);
}

#[test]
fn extend_only_steps_to_a_child_of_the_leaf() {
    let (tree, c) = three_children();
    let grandchild = tree.add_children(c[0], [node(10)]).unwrap()[0].id;
    let mut path = tree.select_with(tree.root(), |_, _| None).unwrap();
    assert_eq!(tree.extend(&mut path, grandchild), Err(TreeError::NotAChild { leaf: tree.root(), child: grandchild }));
    tree.extend(&mut path, c[0]).unwrap();
    tree.extend(&mut path, grandchild).unwrap();
    tree.backup(path, 0.3).unwrap();
    assert_eq!(tree.node(grandchild).unwrap().visits(), 1);
    check_counters(&tree);
}

#[test]
fn a_bad_value_is_refused_and_the_virtual_loss_removed() {
    let (tree, _) = three_children();
    for value in [-0.1, 1.5, f64::NAN] {
        let path = tree.select(tree.root(), |_, _| 0.0).unwrap();
        assert!(matches!(tree.backup(path, value), Err(TreeError::ValueOutOfRange { .. })));
    }
    assert!(matches!(tree.set_measured(tree.root(), 2.0), Err(TreeError::ValueOutOfRange { .. })));
    check_counters(&tree);
    assert_eq!(tree.node(tree.root()).unwrap().visits(), 0);
}

#[test]
fn unknown_nodes_and_foreign_paths_are_errors() {
    let (tree, _) = three_children();
    let (other, other_children) = three_children();
    let beyond = other.add_children(other_children[0], [node(50)]).unwrap()[0].id;
    assert_eq!(tree.node(beyond).unwrap_err(), TreeError::UnknownNode { id: beyond, len: 4 });
    assert!(tree.add_children(beyond, [node(1)]).is_err());
    assert!(tree.set_measured(beyond, 0.5).is_err());
    let foreign = other.select(other.root(), |_, _| 0.0).unwrap();
    assert_eq!(tree.backup(foreign, 0.5), Err(TreeError::ForeignPath));
}

#[test]
fn a_measured_leaf_backs_up_its_measurement() {
    let (tree, c) = three_children();
    tree.set_measured(c[1], 0.8).unwrap();
    let path = tree.select(tree.root(), |_, child| if child.id() == c[1] { 1.0 } else { 0.0 }).unwrap();
    assert_eq!(tree.backup(path, 0.1).unwrap(), 0.8);
    // Sums are fixed point: the mean is the measurement to within 2^-32.
    let mean = tree.node(c[1]).unwrap().mean().unwrap();
    assert!((mean - 0.8).abs() < 1e-9);
    assert_eq!(tree.node(c[1]).unwrap().measured(), Some(0.8));
    check_counters(&tree);
}

#[test]
fn best_child_and_best_path_follow_the_key() {
    let (tree, c) = three_children();
    let deep = tree.add_children(c[1], [node(20), node(21)]).unwrap();
    for (nodes, value) in [(vec![c[1], deep[1].id], 0.9), (vec![c[1], deep[0].id], 0.2), (vec![c[0]], 0.5)] {
        let mut path = tree.select_with(tree.root(), |_, _| None).unwrap();
        for id in nodes {
            tree.extend(&mut path, id).unwrap();
        }
        tree.backup(path, value).unwrap();
    }
    let visits = |n: colt_tree::NodeRef<'_, u64>| n.visits() as f64;
    let mean = |n: colt_tree::NodeRef<'_, u64>| n.mean().unwrap_or(0.0);
    assert_eq!(tree.best_child(tree.root(), visits).unwrap(), Some(c[1]));
    assert_eq!(tree.best_child(c[2], visits).unwrap(), None);
    assert_eq!(tree.best_path(tree.root(), mean).unwrap(), vec![tree.root(), c[1], deep[1].id]);
    assert_eq!(tree.best_measured(), None);
}

#[test]
fn models_are_recorded_and_the_next_one_can_be_changed() {
    let tree = Tree::new(node(0));
    let child = tree
        .add_children(
            tree.root(),
            [NewNode { fingerprint: 1, payload: 1, expanded_by: Some(ModelId(2)), next_model: Some(ModelId(0)) }],
        )
        .unwrap()[0]
        .id;
    let view = tree.node(child).unwrap();
    assert_eq!((view.expanded_by(), view.next_model()), (Some(ModelId(2)), Some(ModelId(0))));
    tree.set_next_model(child, Some(ModelId(u16::MAX))).unwrap();
    assert_eq!(tree.node(child).unwrap().next_model(), Some(ModelId(u16::MAX)));
    tree.set_next_model(child, None).unwrap();
    assert_eq!(tree.node(child).unwrap().next_model(), None);
    assert_eq!(tree.node(tree.root()).unwrap().expanded_by(), None);
}
