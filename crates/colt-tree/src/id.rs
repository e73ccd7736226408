//! The two small identifiers the tree hands out or stores: nodes and models.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node's place in the arena. Stable for the life of the tree and across
/// snapshot/restore, so callers may keep it (in a database row, a message to
/// another thread) and look the node up later.
///
/// 32 bits: a tuning job creates one node per expansion (thousands to
/// millions); four billion is far beyond any budget, and the narrower id keeps
/// the intrusive child and sibling links in a node small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(u32);

impl NodeId {
    /// The sentinel stored in atomic links for "no node". Never handed out:
    /// the arena refuses to grow past `NONE - 1`.
    pub(crate) const NONE: u32 = u32::MAX;

    pub(crate) const fn new(index: u32) -> Self {
        NodeId(index)
    }

    /// The id as an index (0 is the root).
    pub const fn index(self) -> u32 {
        self.0
    }

    /// Decodes an atomic link, mapping the sentinel to `None`.
    pub(crate) fn from_link(raw: u32) -> Option<Self> {
        (raw != Self::NONE).then_some(NodeId(raw))
    }

    /// Encodes an optional id for an atomic link.
    pub(crate) fn to_link(id: Option<Self>) -> u32 {
        id.map_or(Self::NONE, |id| id.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// Which model expanded a node, or should expand it next. The tree knows
/// nothing of models beyond this number: the caller keeps the table that maps
/// it to a GGUF file, a parameter count and statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModelId(pub u16);

impl ModelId {
    /// Sentinel for "no model" inside a 32-bit atomic; no `u16` reaches it,
    /// so every `ModelId` is usable.
    pub(crate) const NONE: u32 = u32::MAX;

    pub(crate) fn from_slot(raw: u32) -> Option<Self> {
        u16::try_from(raw).ok().map(ModelId)
    }

    pub(crate) fn to_slot(model: Option<Self>) -> u32 {
        model.map_or(Self::NONE, |m| u32::from(m.0))
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model {}", self.0)
    }
}
