//! A borrowed, read-only view of one node.

use crate::id::{ModelId, NodeId};
use crate::node::Node;
use crate::tree::Tree;
use crate::value::to_value;
use std::sync::atomic::Ordering;

/// A node as scoring closures and callers see it. Each counter is read when
/// its method is called (a relaxed atomic load): while other threads run, two
/// calls may see different values.
pub struct NodeRef<'t, P> {
    tree: &'t Tree<P>,
    id: NodeId,
    node: &'t Node<P>,
}

// Manual impls: a derive would require `P: Clone`, but only references are
// copied.
impl<P> Clone for NodeRef<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for NodeRef<'_, P> {}

impl<'t, P> NodeRef<'t, P> {
    pub(crate) fn new(tree: &'t Tree<P>, id: NodeId, node: &'t Node<P>) -> Self {
        NodeRef { tree, id, node }
    }

    pub(crate) fn raw(&self) -> &'t Node<P> {
        self.node
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn payload(&self) -> &'t P {
        &self.node.payload
    }

    pub fn fingerprint(&self) -> u64 {
        self.node.fingerprint
    }

    /// `None` for the root.
    pub fn parent(&self) -> Option<NodeId> {
        NodeId::from_link(self.node.parent)
    }

    /// Edges from the root (0 for the root).
    pub fn depth(&self) -> u32 {
        self.node.depth
    }

    /// The model whose proposal created this node.
    pub fn expanded_by(&self) -> Option<ModelId> {
        self.node.expanded_by
    }

    /// The model that should expand this node next.
    pub fn next_model(&self) -> Option<ModelId> {
        ModelId::from_slot(self.node.next_model.load(Ordering::Relaxed))
    }

    /// The earlier node with the same fingerprint, which holds the shared
    /// measurement; `None` when this node is the first with its fingerprint.
    pub fn transposition_of(&self) -> Option<NodeId> {
        NodeId::from_link(self.node.transposition_of)
    }

    /// Backups that passed through this node.
    pub fn visits(&self) -> u64 {
        self.node.visits()
    }

    /// Sum of the values backed up through this node.
    pub fn value_sum(&self) -> f64 {
        to_value(self.node.value_sum.load(Ordering::Relaxed))
    }

    /// Mean value Q, `None` before the first backup.
    pub fn mean(&self) -> Option<f64> {
        let visits = self.visits();
        (visits > 0).then(|| self.value_sum() / visits as f64)
    }

    /// Selections in flight through this node (paths selected and not yet
    /// backed up or abandoned).
    pub fn virtual_loss(&self) -> u32 {
        self.node.virtual_loss()
    }

    /// Backups whose path ended at this node.
    pub fn terminal_visits(&self) -> u64 {
        self.node.terminal_visits.load(Ordering::Relaxed)
    }

    /// The measured value of this node's candidate, shared by every node
    /// with its fingerprint.
    pub fn measured(&self) -> Option<f64> {
        self.tree.measured_value(self.node)
    }

    /// Number of children.
    pub fn child_count(&self) -> u32 {
        self.node.child_count.load(Ordering::Acquire)
    }

    pub fn is_leaf(&self) -> bool {
        self.node.first_child.load(Ordering::Acquire) == NodeId::NONE
    }

    /// The children in the order they were added. Lock-free: children added
    /// while iterating may or may not be seen, but the ones seen are always a
    /// prefix of the list.
    pub fn children(&self) -> Children<'t, P> {
        Children { tree: self.tree, next: self.node.first_child.load(Ordering::Acquire) }
    }
}

impl<P> std::fmt::Debug for NodeRef<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRef")
            .field("id", &self.id)
            .field("visits", &self.visits())
            .field("value_sum", &self.value_sum())
            .field("virtual_loss", &self.virtual_loss())
            .field("measured", &self.measured())
            .finish_non_exhaustive()
    }
}

/// Iterator over a node's children (see [`NodeRef::children`]).
pub struct Children<'t, P> {
    tree: &'t Tree<P>,
    next: u32,
}

impl<'t, P> Iterator for Children<'t, P> {
    type Item = NodeRef<'t, P>;

    fn next(&mut self) -> Option<Self::Item> {
        let (id, node) = self.tree.linked(self.next)?;
        self.next = node.next_sibling.load(Ordering::Acquire);
        Some(NodeRef::new(self.tree, id, node))
    }
}
