//! Adding children, deduplicated through the transposition table.
//!
//! The transposition design: **the tree stays a tree, measurements are
//! shared.** The table maps a fingerprint to the first node added with it.
//! A later child with the same fingerprint under another parent becomes a
//! node of its own (its own id, parent, payload and path statistics) that
//! records `transposition_of` = the first node, and measurements of either are
//! stored once, on the first, and read by both.
//!
//! Why not a DAG (one node, several parents): per-node visit counts would
//! then mix the traffic of every parent, so no parent's visits could equal
//! the sum of its children's, UCT's N(p) and N(c) would count different
//! things, and a backup would need the edge it came along. With links every
//! counter means one thing, the visit and value invariants hold exactly, and
//! the one thing transpositions are for in colt, never measuring a program
//! twice, is kept. A transposed node may still be expanded; its children
//! dedup against the rest of the tree the same way.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::node::{NewNode, Node};
use crate::tree::Tree;
use dashmap::mapref::entry::Entry;
use std::sync::atomic::Ordering;

/// What `add_children` did with one requested child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insertion {
    pub id: NodeId,
    pub kind: InsertionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertionKind {
    /// A new node, the first with its fingerprint.
    New,
    /// A new node whose fingerprint an earlier node (`of`) already has; it
    /// shares that node's measurement.
    Transposition { of: NodeId },
    /// The parent already had a child with this fingerprint (added earlier
    /// or earlier in the same call): no node was added and `id` is that
    /// child. Two edges from one parent to one program would only split its
    /// visits.
    AlreadyChild,
}

impl<P> Tree<P> {
    /// Adds `children` under `parent`, in order, and says for each which
    /// node stands for it. Safe to call from several threads, on one parent
    /// or many.
    ///
    /// On `Full`, the children before the one that did not fit stay added.
    pub fn add_children<I>(&self, parent: NodeId, children: I) -> Result<Vec<Insertion>, TreeError>
    where
        I: IntoIterator<Item = NewNode<P>>,
    {
        let _growth = self.growth.read();
        let parent_node = self.get(parent)?;
        // Held for the whole call: ids of this parent's children are then
        // allocated in the order they are linked, which is what lets a
        // snapshot store only parent links (see `snapshot.rs`).
        let _stripe = self.stripes.lock(parent);
        let children = children.into_iter();
        let mut insertions = Vec::with_capacity(children.size_hint().0);
        for child in children {
            if let Some(existing) = self.child_with_fingerprint(parent_node, child.fingerprint) {
                insertions.push(Insertion { id: existing, kind: InsertionKind::AlreadyChild });
                continue;
            }
            let insertion = self.insert(parent, parent_node.depth + 1, child)?;
            self.link_child(parent_node, insertion.id);
            insertions.push(insertion);
        }
        Ok(insertions)
    }

    /// Puts a node in the arena and the transposition table, not yet linked
    /// to its parent.
    fn insert(&self, parent: NodeId, depth: u32, child: NewNode<P>) -> Result<Insertion, TreeError> {
        // The entry lock is held while the node is pushed, so that the first
        // node with a fingerprint always has the smallest id of them, and the
        // transposition chain gets no lost update.
        match self.transpositions.entry(child.fingerprint) {
            Entry::Vacant(vacant) => {
                let id = self.push(Node::new(child, Some(parent), depth, None, None))?;
                vacant.insert(id);
                Ok(Insertion { id, kind: InsertionKind::New })
            }
            Entry::Occupied(occupied) => {
                let first = *occupied.get();
                let first_node = self.get(first)?;
                let newest = NodeId::from_link(first_node.next_transposition.load(Ordering::SeqCst));
                let id = self.push(Node::new(child, Some(parent), depth, Some(first), newest))?;
                // SeqCst pairs with `set_measured`, which stores a measurement
                // and then walks this chain: either it sees this node, or this
                // node's backups see the measurement (see `measure.rs`).
                first_node.next_transposition.store(id.index(), Ordering::SeqCst);
                Ok(Insertion { id, kind: InsertionKind::Transposition { of: first } })
            }
        }
    }

    fn push(&self, node: Node<P>) -> Result<NodeId, TreeError> {
        self.arena.push(node).map(NodeId::new).map_err(|_| TreeError::Full { len: self.len() })
    }

    /// Appends `child` to `parent`'s list. Caller holds `parent`'s stripe.
    pub(crate) fn link_child(&self, parent: &Node<P>, child: NodeId) {
        // Release: a reader that follows the new link finds the child
        // complete (it was pushed before this store).
        match self.linked(parent.last_child.load(Ordering::Relaxed)) {
            None => parent.first_child.store(child.index(), Ordering::Release),
            Some((_, last)) => last.next_sibling.store(child.index(), Ordering::Release),
        }
        parent.last_child.store(child.index(), Ordering::Relaxed);
        parent.child_count.fetch_add(1, Ordering::Release);
    }

    fn child_with_fingerprint(&self, parent: &Node<P>, fingerprint: u64) -> Option<NodeId> {
        let mut next = parent.first_child.load(Ordering::Acquire);
        while let Some((id, node)) = self.linked(next) {
            if node.fingerprint == fingerprint {
                return Some(id);
            }
            next = node.next_sibling.load(Ordering::Acquire);
        }
        None
    }
}
