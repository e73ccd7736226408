//! The tree itself: its parts, creation, lookup and iteration.
//!
//! What guards what:
//! - the arena: nothing (append-only, stable slots, lock-free reads);
//! - a node's child list: the node's stripe (`stripes.rs`);
//! - a node's (terminal visits, own value sum) pair: its backup gate, which
//!   backups pass without locking and measurements and snapshots close
//!   under the node's stripe (`backup.rs`);
//! - the transposition table: its own shard locks (`dashmap`);
//! - the set of nodes as a whole: `growth`, held shared by every expansion
//!   and exclusively by `snapshot`, so that a snapshot sees no half-added
//!   node. Selection and backup never take it.

use crate::arena::Arena;
use crate::error::TreeError;
use crate::id::{ModelId, NodeId};
use crate::node::{NewNode, Node};
use crate::node_ref::NodeRef;
use crate::stripes::Stripes;
use dashmap::DashMap;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A concurrent MCTS tree whose nodes carry a payload `P`.
///
/// Share it between search threads by reference or `Arc`; every operation
/// takes `&self`. See the crate documentation for the invariants.
pub struct Tree<P> {
    pub(crate) arena: Arena<Node<P>>,
    pub(crate) stripes: Stripes,
    /// Fingerprint → the first node added with it.
    pub(crate) transpositions: DashMap<u64, NodeId>,
    pub(crate) growth: RwLock<()>,
    /// Distinguishes this tree's paths from another tree's (see `Path`).
    pub(crate) tag: u64,
}

/// Source of tree tags: unique per process, which is all a path needs (paths
/// are not serialised).
static NEXT_TAG: AtomicU64 = AtomicU64::new(0);

impl<P> Tree<P> {
    /// A tree holding only `root` (id 0, see [`Tree::root`]).
    pub fn new(root: NewNode<P>) -> Self {
        let tree = Tree::empty();
        let fingerprint = root.fingerprint;
        // An empty arena has room for one node; were it refused anyway, the
        // tree would have no root and every lookup would say so.
        if let Ok(index) = tree.arena.push(Node::new(root, None, 0, None, None)) {
            tree.transpositions.insert(fingerprint, NodeId::new(index));
        }
        tree
    }

    /// A tree with no node at all; only `new` and `restore` make one, and
    /// both add the root before handing it out.
    pub(crate) fn empty() -> Self {
        Tree {
            arena: Arena::new(),
            stripes: Stripes::new(),
            transpositions: DashMap::new(),
            growth: RwLock::new(()),
            tag: NEXT_TAG.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The root's id.
    pub fn root(&self) -> NodeId {
        NodeId::new(0)
    }

    /// Number of nodes (including any whose addition is still in progress on
    /// another thread).
    pub fn len(&self) -> usize {
        self.arena.reserved()
    }

    /// Always false: a tree has its root from the start. Present because
    /// `len` is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A view of node `id`.
    pub fn node(&self, id: NodeId) -> Result<NodeRef<'_, P>, TreeError> {
        Ok(NodeRef::new(self, id, self.get(id)?))
    }

    /// Every node, in id order (parents before children). Nodes added while
    /// the iteration runs may or may not be seen.
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef<'_, P>> + '_ {
        (0..self.arena.reserved()).filter_map(move |index| {
            // Indices below `reserved` fit in u32 (the arena caps it).
            let id = NodeId::new(u32::try_from(index).ok()?);
            Some(NodeRef::new(self, id, self.arena.get(id.index())?))
        })
    }

    /// The first node added with `fingerprint`: the one that holds the
    /// measurement of that candidate.
    pub fn find(&self, fingerprint: u64) -> Option<NodeId> {
        self.transpositions.get(&fingerprint).map(|entry| *entry)
    }

    /// Reassigns the model that should expand `id` next (course alteration,
    /// or a routing fallback when the proposed model failed).
    pub fn set_next_model(&self, id: NodeId, model: Option<ModelId>) -> Result<(), TreeError> {
        self.get(id)?.next_model.store(ModelId::to_slot(model), Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn get(&self, id: NodeId) -> Result<&Node<P>, TreeError> {
        self.arena.get(id.index()).ok_or(TreeError::UnknownNode { id, len: self.len() })
    }

    /// Follows a link read from a node (parent, child, sibling...).
    pub(crate) fn linked(&self, raw: u32) -> Option<(NodeId, &Node<P>)> {
        let id = NodeId::from_link(raw)?;
        Some((id, self.arena.get(id.index())?))
    }
}

impl<P> std::fmt::Debug for Tree<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("nodes", &self.len()).finish()
    }
}
