//! Reading the result: best child, best path, best measured node.
//!
//! "Best" is the caller's key (most visits is the classic robust choice, the
//! mean the greedy one); the tree only takes the maximum.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::node_ref::NodeRef;
use crate::tree::Tree;

impl<P> Tree<P> {
    /// The child of `parent` with the highest `key` (the first one on ties, a
    /// NaN key ranking below every number), or `None` for a leaf.
    pub fn best_child<K>(&self, parent: NodeId, key: K) -> Result<Option<NodeId>, TreeError>
    where
        K: FnMut(NodeRef<'_, P>) -> f64,
    {
        Ok(arg_max(self.node(parent)?.children(), key))
    }

    /// From `from`, follows the best child (by `key`) down to a leaf;
    /// the path starts with `from`.
    pub fn best_path<K>(&self, from: NodeId, mut key: K) -> Result<Vec<NodeId>, TreeError>
    where
        K: FnMut(NodeRef<'_, P>) -> f64,
    {
        let mut path = vec![from];
        let mut current = self.node(from)?;
        while let Some(child) = arg_max(current.children(), &mut key) {
            path.push(child);
            current = self.node(child)?;
        }
        Ok(path)
    }

    /// The measured node with the highest measurement (the first added on
    /// ties): the best candidate found. Transpositions of a measured node are
    /// not reported separately.
    pub fn best_measured(&self) -> Option<(NodeId, f64)> {
        self.nodes()
            .filter(|node| node.transposition_of().is_none())
            .filter_map(|node| Some((node.id(), node.measured()?)))
            .fold(None, |best, (id, value)| match best {
                Some((_, top)) if top >= value => best,
                _ => Some((id, value)),
            })
    }
}

fn arg_max<'t, P: 't, K>(nodes: impl Iterator<Item = NodeRef<'t, P>>, mut key: K) -> Option<NodeId>
where
    K: FnMut(NodeRef<'_, P>) -> f64,
{
    let mut best: Option<(f64, NodeId)> = None;
    for node in nodes {
        let k = key(node);
        let k = if k.is_nan() { f64::NEG_INFINITY } else { k };
        if best.is_none_or(|(top, _)| k > top) {
            best = Some((k, node.id()));
        }
    }
    best.map(|(_, id)| id)
}
