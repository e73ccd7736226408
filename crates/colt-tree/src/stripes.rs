//! A fixed array of locks, striped by node id.
//!
//! A lock per node would cost a word in every node and a lock per tree would
//! serialise every expansion; a fixed set of stripes costs a constant 16 KiB
//! and lets unrelated nodes proceed in parallel. Consecutive ids (siblings
//! created by one expansion) fall on different stripes.
//!
//! What a node's stripe guards (see `tree.rs` for the full list): appending
//! to the node's child list, and closing the node's backup gate, which a
//! measurement of the node and a snapshot do to have its pair (terminal
//! visits, own value sum) to themselves (see `backup.rs`). Reads of child
//! lists and counters, selections and backups take no lock.
//!
//! Lock order: the growth gate, then at most one stripe, then a transposition
//! table shard. No code holds two stripes at once.

use crate::id::NodeId;
use parking_lot::{Mutex, MutexGuard};

/// Many more stripes than search threads (a handful), so that two threads
/// rarely meet on one by chance.
const STRIPES: usize = 256;

/// One stripe per cache line, so that threads locking neighbouring stripes
/// do not bounce a shared line between cores.
#[repr(align(64))]
struct Stripe(Mutex<()>);

pub(crate) struct Stripes {
    stripes: Box<[Stripe]>,
}

impl Stripes {
    pub(crate) fn new() -> Self {
        Stripes { stripes: (0..STRIPES).map(|_| Stripe(Mutex::new(()))).collect() }
    }

    /// Locks the stripe of `id` until the guard is dropped.
    pub(crate) fn lock(&self, id: NodeId) -> MutexGuard<'_, ()> {
        self.stripes[id.index() as usize % STRIPES].0.lock()
    }
}
