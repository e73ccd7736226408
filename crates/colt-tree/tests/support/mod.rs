//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use colt_tree::{NewNode, NodeId, NodeRef, Tree};

/// Payload of the test trees: the fingerprint again, so that a restored
/// payload can be checked against the node.
pub type Payload = u64;

pub fn node(fingerprint: u64) -> NewNode<Payload> {
    NewNode::new(fingerprint, fingerprint)
}

/// UCT with unvisited-first, counting virtual loss as visits that scored 0.
pub fn uct(parent: NodeRef<'_, Payload>, child: NodeRef<'_, Payload>) -> f64 {
    let n = (child.visits() + u64::from(child.virtual_loss())) as f64;
    if n == 0.0 {
        return f64::INFINITY;
    }
    let n_parent = (parent.visits() + u64::from(parent.virtual_loss())).max(1) as f64;
    child.value_sum() / n + 1.41 * (n_parent.ln() / n).sqrt()
}

/// A score that is a fixed pseudo-random function of (seed, child): lets a
/// generated test steer selection anywhere in the tree.
pub fn seeded_score(seed: u64) -> impl FnMut(NodeRef<'_, Payload>, NodeRef<'_, Payload>) -> f64 {
    move |_, child| mix(seed ^ u64::from(child.id().index())) as f64
}

/// SplitMix64's finaliser.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Checks the counter invariants through the public API only (independently
/// of `Tree::audit`): visits = terminal + children's; value sum = children's
/// + what ended here (within rounding); no virtual loss.
pub fn check_counters(tree: &Tree<Payload>) {
    for node in tree.nodes() {
        let children: Vec<_> = node.children().collect();
        let child_visits: u64 = children.iter().map(|c| c.visits()).sum();
        assert_eq!(node.visits(), node.terminal_visits() + child_visits, "visits of {:?}", node.id());
        assert_eq!(node.virtual_loss(), 0, "virtual loss left on {:?}", node.id());
        assert_eq!(node.child_count() as usize, children.len());
        for child in &children {
            assert_eq!(child.parent(), Some(node.id()));
        }
        let child_value: f64 = children.iter().map(|c| c.value_sum()).sum();
        let own = node.value_sum() - child_value;
        assert!(
            own >= -1e-6 && own <= node.terminal_visits() as f64 + 1e-6,
            "{:?}: own value {own} for {} terminal visits",
            node.id(),
            node.terminal_visits()
        );
        if let Some(measured) = node.measured() {
            let expected = measured * node.terminal_visits() as f64;
            assert!((own - expected).abs() < 1e-6, "{:?}: own {own}, measured {expected}", node.id());
        }
    }
    tree.audit().unwrap();
}

/// All node ids, in order.
pub fn ids(tree: &Tree<Payload>) -> Vec<NodeId> {
    tree.nodes().map(|n| n.id()).collect()
}
