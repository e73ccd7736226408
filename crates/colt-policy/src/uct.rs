//! Model-aware UCT: the selection score of DESIGN.md.
//!
//! For child `c` of `p`:
//! `score = (1-λ)·Q(c) + λ·φ(model(c)) + C·sqrt(ln N(p) / N(c))`,
//! unvisited children first (ordered by φ, larger first), and the λ terms
//! dropped (`score = Q + C·sqrt(...)`) when all of `p`'s children were
//! expanded by the same model, since φ then says nothing about them.
//!
//! N counts virtual loss as visits that scored 0 (colt-tree's convention),
//! so concurrent selections spread over siblings: `N = visits + virtual
//! loss`, `Q = value sum / N`.

use crate::error::{check_range, PolicyError};
use crate::roster::Roster;
use colt_tree::{ModelId, NodeRef};
use std::sync::Arc;

/// The reference implementation's exploration constant (≈ √2, the UCB1
/// constant for rewards in [0, 1]).
pub const DEFAULT_EXPLORATION: f64 = 1.41;

/// Unvisited children score `UNVISITED + φ`: far above any visited child's
/// score, which is at most `1 + C·sqrt(ln N)` (below 100 for any C ≤ 10 and
/// any N a job reaches), and ordered by φ among themselves.
pub const UNVISITED: f64 = 1.0e6;

/// A child's numbers as the formula reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildTerms {
    /// N(c): visits + virtual loss.
    pub visits: f64,
    /// Value sum (measurements and predictions, in [0, 1] each).
    pub value_sum: f64,
    /// φ of the model that expanded the child.
    pub phi: f64,
}

/// The selection rule, with its two parameters and the models' φ.
#[derive(Clone, Debug)]
pub struct ModelAwareUct {
    lambda: f64,
    exploration: f64,
    roster: Arc<Roster>,
}

impl ModelAwareUct {
    /// `lambda` in [0, 1] (0 = plain UCT), `exploration` (C) in [0, 10].
    pub fn new(roster: Arc<Roster>, lambda: f64, exploration: f64) -> Result<ModelAwareUct, PolicyError> {
        let lambda = check_range("λ", lambda, 0.0, 1.0, "[0, 1]")?;
        let exploration = check_range("C", exploration, 0.0, 10.0, "[0, 10]")?;
        Ok(ModelAwareUct { lambda, exploration, roster })
    }

    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    pub fn exploration(&self) -> f64 {
        self.exploration
    }

    pub fn roster(&self) -> &Arc<Roster> {
        &self.roster
    }

    /// The formula itself. `parent_visits` is N(p); `mixed` says whether
    /// the siblings were expanded by more than one model (λ applies only
    /// then).
    pub fn score(&self, parent_visits: f64, child: ChildTerms, mixed: bool) -> f64 {
        if child.visits <= 0.0 {
            return UNVISITED + child.phi;
        }
        let q = child.value_sum / child.visits;
        // N(p) ≥ N(c) ≥ 1 in a consistent tree; the max guards a read taken
        // while another thread backs up (counters are read one at a time).
        let explore = self.exploration * (parent_visits.max(1.0).ln() / child.visits).sqrt();
        if mixed {
            (1.0 - self.lambda) * q + self.lambda * child.phi + explore
        } else {
            q + explore
        }
    }

    /// The index of the child to descend to: the closure for
    /// [`colt_tree::Tree::select_with`], which sees all siblings at once
    /// (so "do they share a model" is computed once). `None` only for no
    /// children.
    pub fn choose<P>(&self, parent: NodeRef<'_, P>, children: &[NodeRef<'_, P>]) -> Option<usize> {
        let mixed = mixed_models(children.iter().map(|c| c.expanded_by()));
        let n_parent = visits_with_loss(parent);
        let mut best: Option<(f64, usize)> = None;
        for (i, child) in children.iter().enumerate() {
            let s = self.score(n_parent, self.terms(*child), mixed);
            if best.is_none_or(|(top, _)| s > top) {
                best = Some((s, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// The score of one child: the closure for [`colt_tree::Tree::select`].
    /// It walks the siblings to learn whether they share a model, so it
    /// costs O(siblings) per child; prefer [`choose`](Self::choose).
    pub fn score_child<P>(&self, parent: NodeRef<'_, P>, child: NodeRef<'_, P>) -> f64 {
        let mixed = mixed_models(parent.children().map(|c| c.expanded_by()));
        self.score(visits_with_loss(parent), self.terms(child), mixed)
    }

    fn terms<P>(&self, child: NodeRef<'_, P>) -> ChildTerms {
        // A child no model expanded (an initial sample) earns no bonus.
        let phi = child.expanded_by().map_or(0.0, |m| self.roster.phi(m));
        ChildTerms { visits: visits_with_loss(child), value_sum: child.value_sum(), phi }
    }
}

fn visits_with_loss<P>(node: NodeRef<'_, P>) -> f64 {
    (node.visits() + u64::from(node.virtual_loss())) as f64
}

fn mixed_models(mut models: impl Iterator<Item = Option<ModelId>>) -> bool {
    match models.next() {
        Some(first) => models.any(|m| m != first),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::ModelSpec;
    use colt_tree::{NewNode, Tree};

    fn roster() -> Arc<Roster> {
        // φ(big) = 0, φ(small) = 1.
        Arc::new(Roster::new(vec![ModelSpec::new("big", 100), ModelSpec::new("small", 10)]).unwrap())
    }

    #[test]
    fn the_formula_matches_hand_computed_values() {
        let uct = ModelAwareUct::new(roster(), 0.25, 1.41).unwrap();
        let child = ChildTerms { visits: 4.0, value_sum: 2.0, phi: 1.0 };
        // Q = 0.5; explore = 1.41·sqrt(ln 16 / 4) = 1.41·sqrt(0.693147) = 1.173902
        // mixed: 0.75·0.5 + 0.25·1 + 1.173902 = 1.798902
        let mixed = uct.score(16.0, child, true);
        assert!((mixed - 1.798_902).abs() < 1e-6, "{mixed}");
        // shared model: λ ignored: 0.5 + 1.173902
        let shared = uct.score(16.0, child, false);
        assert!((shared - 1.673_902).abs() < 1e-6, "{shared}");
        // largest model's child (φ = 0), same numbers: 0.375 + 1.173902
        let big = uct.score(16.0, ChildTerms { phi: 0.0, ..child }, true);
        assert!((big - 1.548_902).abs() < 1e-6, "{big}");
        // λ = 0 is plain UCT.
        let plain = ModelAwareUct::new(roster(), 0.0, 1.41).unwrap();
        assert_eq!(plain.score(16.0, child, true), shared);
        // Unvisited children come first, ordered by φ.
        assert_eq!(uct.score(16.0, ChildTerms { visits: 0.0, value_sum: 0.0, phi: 0.5 }, true), UNVISITED + 0.5);
        // N(p) = 1 explores nothing (ln 1 = 0): only Q and φ.
        assert!((uct.score(1.0, ChildTerms { visits: 1.0, value_sum: 0.8, phi: 1.0 }, true) - 0.85).abs() < 1e-12);
    }

    #[test]
    fn parameters_are_checked() {
        assert!(ModelAwareUct::new(roster(), 1.5, 1.41).is_err());
        assert!(ModelAwareUct::new(roster(), f64::NAN, 1.41).is_err());
        assert!(ModelAwareUct::new(roster(), 0.1, -1.0).is_err());
    }

    fn child(fp: u64, by: Option<u16>) -> NewNode<&'static str> {
        NewNode { fingerprint: fp, payload: "c", expanded_by: by.map(ModelId), next_model: None }
    }

    #[test]
    fn on_a_tree_unvisited_children_go_first_by_phi_then_the_formula_decides() {
        let tree = Tree::new(NewNode::new(1, "root"));
        let uct = ModelAwareUct::new(roster(), 0.5, 1.41).unwrap();
        // big's child first in the list, small's second: φ puts small first.
        let kids = tree.add_children(tree.root(), [child(2, Some(0)), child(3, Some(1))]).unwrap();
        let first = tree.select_with(tree.root(), |p, c| uct.choose(p, c)).unwrap();
        assert_eq!(first.leaf(), kids[1].id);
        tree.backup(first, 0.2).unwrap();
        let second = tree.select(tree.root(), |p, c| uct.score_child(p, c)).unwrap();
        assert_eq!(second.leaf(), kids[0].id);
        tree.backup(second, 0.9).unwrap();
        // N(root) = 2, both children N = 1, same exploration term:
        // small: 0.5·0.2 + 0.5·1 = 0.6; big: 0.5·0.9 + 0 = 0.45 → small.
        let third = tree.select_with(tree.root(), |p, c| uct.choose(p, c)).unwrap();
        assert_eq!(third.leaf(), kids[1].id);
        // While third is in flight, small's N is 2 (virtual loss), so a
        // concurrent selection scores small 0.5·0.1 + 0.5 + 1.41·sqrt(ln 3/2)
        // = 1.5950 and big 0.45 + 1.41·sqrt(ln 3) = 1.9279 → big.
        let concurrent = tree.select(tree.root(), |p, c| uct.score_child(p, c)).unwrap();
        assert_eq!(concurrent.leaf(), kids[0].id);
        tree.abandon(third).unwrap();
        tree.abandon(concurrent).unwrap();
    }

    #[test]
    fn lambda_is_ignored_when_all_children_share_a_model() {
        let tree = Tree::new(NewNode::new(1, "root"));
        let uct = ModelAwareUct::new(roster(), 0.9, 1.41).unwrap();
        let kids = tree.add_children(tree.root(), [child(2, Some(1)), child(3, Some(1))]).unwrap();
        for (kid, v) in [(kids[0].id, 0.3), (kids[1].id, 0.6)] {
            let mut path = tree.select_with(tree.root(), |_, _| None).unwrap();
            tree.extend(&mut path, kid).unwrap();
            tree.backup(path, v).unwrap();
        }
        // With λ = 0.9 applied both would score 0.1·Q + 0.9 + same explore;
        // ignored, Q alone decides: the 0.6 child.
        let path = tree.select_with(tree.root(), |p, c| uct.choose(p, c)).unwrap();
        assert_eq!(path.leaf(), kids[1].id);
        tree.abandon(path).unwrap();
    }
}
