//! A selected path: the nodes from where selection started down to a leaf,
//! each holding one unit of virtual loss until the path is backed up or
//! abandoned.

use crate::id::NodeId;

/// A path returned by [`Tree::select`](crate::Tree::select). It is the only
/// way to back up, so every unit of virtual loss a selection adds is removed
/// exactly once: by [`Tree::backup`](crate::Tree::backup) or
/// [`Tree::abandon`](crate::Tree::abandon), which consume it. Dropping it
/// instead leaves the virtual loss in place (the tree cannot tell a dropped
/// path from one still in flight), hence `must_use`.
#[must_use = "a path holds virtual loss until it is backed up or abandoned"]
#[derive(Debug, PartialEq, Eq)]
pub struct Path {
    /// The tree that selected it, so that another tree's path is refused.
    pub(crate) tree: u64,
    /// Never empty: selection starts with the node it starts from.
    pub(crate) nodes: Vec<NodeId>,
}

impl Path {
    /// The last node: the one to expand or evaluate.
    pub fn leaf(&self) -> NodeId {
        // `nodes` is never empty (see the field); the fallback is unreachable
        // and only avoids a panic path.
        self.nodes.last().copied().unwrap_or(NodeId::new(0))
    }

    /// The nodes from the start of the selection to the leaf.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// Number of nodes (at least 1).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}
