//! What the arena stores per node, and what a caller gives to create one.

use crate::id::{ModelId, NodeId};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

/// A node to add: the caller's payload plus what the tree itself records.
#[derive(Clone, Debug, PartialEq)]
pub struct NewNode<P> {
    /// Identifies the candidate the node stands for (a hash of its lowered
    /// code): two nodes with one fingerprint share one measurement.
    pub fingerprint: u64,
    /// Domain data (decisions, the edits that led here, a prediction...).
    /// Immutable once added; use interior mutability inside `P` if needed.
    pub payload: P,
    /// The model whose proposal created the node (`None` for the root or for
    /// a node no model proposed, such as a random fallback).
    pub expanded_by: Option<ModelId>,
    /// The model that should expand the node next, as the joint action that
    /// created it chose; can be changed later with `Tree::set_next_model`.
    pub next_model: Option<ModelId>,
}

impl<P> NewNode<P> {
    /// A node no model proposed and none is assigned to expand.
    pub fn new(fingerprint: u64, payload: P) -> Self {
        NewNode { fingerprint, payload, expanded_by: None, next_model: None }
    }
}

/// Sentinel of `Node::measured` for "not measured": the bits of a NaN, and
/// measurements are checked to be in [0, 1], so none collides with it.
pub(crate) const NOT_MEASURED: u64 = u64::MAX;

/// A node in the arena. Fields fixed at creation are plain; everything that
/// changes later is atomic, so that readers never lock.
///
/// `repr(C)`, counters first: the words a selection reads and a backup
/// writes (traffic, value sum, and at a leaf the terminal pair and its
/// gate) sit next to each other, so that when two threads walk the same
/// path each node costs as few cache-line transfers as it can.
pub(crate) struct Node<P> {
    // Counters. `traffic` and `value_sum` are updated along whole paths with
    // relaxed `fetch_add`s (they are statistics: exact once the threads that
    // updated them have been joined, approximate while they run).
    // `terminal_visits` and `own_value_sum` change together: by backups
    // through `backup_gate`, by measurements and read by snapshots with the
    // gate closed (see `backup.rs`).
    /// Visits in the high bits, virtual loss in the low `LOSS_BITS`: a
    /// backup turns one unit of virtual loss into one visit with a single
    /// `fetch_add`, one read-modify-write fewer per node per backup on the
    /// lines every search thread contends for (the root's above all).
    pub(crate) traffic: AtomicU64,
    /// In fixed-point units (see `value.rs`).
    pub(crate) value_sum: AtomicI64,
    /// Backups whose path ended at this node.
    pub(crate) terminal_visits: AtomicU64,
    /// Sum of the values those backups contributed, in units.
    pub(crate) own_value_sum: AtomicI64,
    /// Backups ending at this node that are updating (terminal visits, own
    /// value sum) right now, in the low bits, and `GATE_CLOSED` while a
    /// measurement or a snapshot needs that pair to itself.
    pub(crate) backup_gate: AtomicU32,
    /// Measured value as `f64` bits, or `NOT_MEASURED`. Kept as given rather
    /// than in units, so that a caller reads back exactly what it measured;
    /// sums use its rounding to units. Only meaningful on a node with
    /// `transposition_of == NONE`; the others read their first node's.
    pub(crate) measured: AtomicU64,

    pub(crate) payload: P,
    pub(crate) fingerprint: u64,
    /// `NodeId::NONE` for the root.
    pub(crate) parent: u32,
    pub(crate) depth: u32,
    pub(crate) expanded_by: Option<ModelId>,
    /// `ModelId::NONE` for none.
    pub(crate) next_model: AtomicU32,
    /// The node that holds this node's measurement: `NodeId::NONE` when this
    /// node is the first with its fingerprint (it holds its own).
    pub(crate) transposition_of: u32,

    // Child list: an intrusive singly linked list through `next_sibling`,
    // appended at `last_child` under the parent's stripe and read without a
    // lock. Each link is stored (Release) only after the node it names is in
    // the arena, so a reader that loads it (Acquire) finds the node complete.
    pub(crate) first_child: AtomicU32,
    /// Read and written only under this node's stripe.
    pub(crate) last_child: AtomicU32,
    pub(crate) next_sibling: AtomicU32,
    pub(crate) child_count: AtomicU32,
    /// Chain of the nodes that transpose to the same fingerprint: on the
    /// first node it is the newest later one, on each later one the one
    /// before it. Prepended under the transposition table's entry lock.
    pub(crate) next_transposition: AtomicU32,
}

/// Bits of `Node::traffic` that count virtual loss. 2^24 (16 million)
/// paths in flight through one node at once is far beyond any search (each
/// is a live `Path`); the remaining 40 bits count a trillion visits.
const LOSS_BITS: u32 = 24;
const LOSS_MASK: u64 = (1 << LOSS_BITS) - 1;
const ONE_VISIT: u64 = 1 << LOSS_BITS;

impl<P> Node<P> {
    pub(crate) fn visits(&self) -> u64 {
        self.traffic.load(Ordering::Relaxed) >> LOSS_BITS
    }

    pub(crate) fn virtual_loss(&self) -> u32 {
        // Masked to 24 bits, so it fits.
        (self.traffic.load(Ordering::Relaxed) & LOSS_MASK) as u32
    }

    pub(crate) fn add_loss(&self) {
        self.traffic.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remove_loss(&self) {
        self.traffic.fetch_sub(1, Ordering::Relaxed);
    }

    /// One visit in, one unit of virtual loss out (the path that brought it
    /// holds one, so the low bits do not borrow from the visits).
    pub(crate) fn convert_loss_to_visit(&self) {
        self.traffic.fetch_add(ONE_VISIT - 1, Ordering::Relaxed);
    }

    /// For restore, which rebuilds visit counts of a tree with no path.
    pub(crate) fn add_visits(&self, visits: u64) {
        self.traffic.fetch_add(visits << LOSS_BITS, Ordering::Relaxed);
    }

    pub(crate) fn new(
        spec: NewNode<P>,
        parent: Option<NodeId>,
        depth: u32,
        transposition_of: Option<NodeId>,
        next_transposition: Option<NodeId>,
    ) -> Self {
        Node {
            payload: spec.payload,
            fingerprint: spec.fingerprint,
            parent: NodeId::to_link(parent),
            depth,
            expanded_by: spec.expanded_by,
            next_model: AtomicU32::new(ModelId::to_slot(spec.next_model)),
            transposition_of: NodeId::to_link(transposition_of),
            first_child: AtomicU32::new(NodeId::NONE),
            last_child: AtomicU32::new(NodeId::NONE),
            next_sibling: AtomicU32::new(NodeId::NONE),
            child_count: AtomicU32::new(0),
            next_transposition: AtomicU32::new(NodeId::to_link(next_transposition)),
            traffic: AtomicU64::new(0),
            value_sum: AtomicI64::new(0),
            terminal_visits: AtomicU64::new(0),
            own_value_sum: AtomicI64::new(0),
            backup_gate: AtomicU32::new(0),
            measured: AtomicU64::new(NOT_MEASURED),
        }
    }
}
