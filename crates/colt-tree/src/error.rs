//! The tree's typed errors.

use crate::id::NodeId;

/// What went wrong in a tree operation. Each variant names the node or value
/// it is about.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum TreeError {
    /// The id is not (yet) a node of this tree.
    #[error("{id} is not in this tree ({len} nodes)")]
    UnknownNode { id: NodeId, len: usize },

    /// Values are normalised throughputs; anything outside [0, 1] (or NaN) is
    /// a caller bug, refused before it can skew every ancestor's mean.
    #[error("value {value} is outside [0, 1]")]
    ValueOutOfRange { value: f64 },

    /// A path was selected on another tree (or on this tree before it was
    /// restored), so its virtual loss is not this tree's to remove.
    #[error("the path was selected on another tree")]
    ForeignPath,

    /// `extend` was asked to step to a node that is not a child of the
    /// path's leaf.
    #[error("{child} is not a child of the path's leaf {leaf}")]
    NotAChild { leaf: NodeId, child: NodeId },

    /// A `select_with` chooser returned an index past the end of the
    /// children it was shown.
    #[error("chooser picked child {index} of {parent}, which has {children}")]
    NoSuchChild { parent: NodeId, index: usize, children: usize },

    /// The arena is full: node ids are 32 bits.
    #[error("the tree is full ({len} nodes)")]
    Full { len: usize },

    /// `restore` was given bytes that are not a snapshot this version can
    /// read, or whose nodes do not form a tree.
    #[error("corrupt snapshot: {reason}")]
    CorruptSnapshot { reason: String },

    /// `snapshot` could not encode a payload.
    #[error("cannot encode snapshot: {reason}")]
    Encode { reason: String },

    /// `audit` found counters that do not add up. Only possible while
    /// operations are in flight, or through a bug in this crate.
    #[error("{id}: {what}")]
    Inconsistent { id: NodeId, what: String },
}
