//! Backup: add a value along a selected path and remove its virtual loss.
//!
//! The (terminal visits, own value sum) pair of the leaf must change as one
//! with respect to a measurement of the leaf (which rewrites the pair from
//! the measurement) and a snapshot (which reads it), but backups may update
//! it at the same time as each other: both updates are additions. So backups
//! do not lock; they pass a per-node gate, a counter of backups inside it
//! plus a "closed" bit:
//!
//! - a backup adds itself to the counter; if the gate was open it updates
//!   the pair and leaves (one `fetch_add` in, one `fetch_sub` out, on a line
//!   the backup touches anyway); if it was closed it leaves the counter and
//!   does its update under the leaf's stripe, which the closer holds;
//! - a measurement or a snapshot takes the leaf's stripe, closes the gate,
//!   waits for the backups inside to leave (each is a few instructions from
//!   it, and none waits on anything), does its work and reopens.
//!
//! The counter and the closed bit share one atomic, so of a backup entering
//! and a closer closing, whichever comes second sees the other. A lock here
//! had made two threads that back up the same leaf (the common case when
//! they walk one path) queue on the stripe's mutex, and then stay in step.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::node::Node;
use crate::path::Path;
use crate::tree::Tree;
use crate::value::Units;
use std::sync::atomic::Ordering;

/// The bit of `Node::backup_gate` set while the gate is closed; the bits
/// below count the backups inside (at most one per search thread).
const GATE_CLOSED: u32 = 1 << 31;

impl<P> Tree<P> {
    /// Backs `value` up along `path`: every node on it gains one visit and
    /// `value`, and loses the path's virtual loss; the leaf counts one
    /// terminal visit.
    ///
    /// If the leaf's candidate has been measured, the measurement is backed
    /// up instead of `value` (measured latencies always override
    /// predictions). Returns the value actually backed up: `value` or the
    /// measurement (sums hold it to the nearest 2⁻³², see `value.rs`).
    ///
    /// A value outside [0, 1] is refused, and the path's virtual loss is
    /// still removed, so an error never leaves a path half in flight.
    pub fn backup(&self, path: Path, value: f64) -> Result<f64, TreeError> {
        self.check_owner(&path)?;
        let predicted = match Units::from_value(value) {
            Ok(units) => units,
            Err(error) => {
                self.release(&path);
                return Err(error);
            }
        };
        let leaf = self.get(path.leaf())?;
        let (used, units) = if leaf.backup_gate.fetch_add(1, Ordering::SeqCst) & GATE_CLOSED == 0 {
            // Inside the open gate: a measurement of this leaf either closed
            // the gate after this backup entered (it waits for the update
            // below, then rewrites the pair from the measurement it stored
            // first), or stored its measurement before this backup entered
            // (it is read here).
            let used = self.add_terminal(leaf, value, predicted);
            leaf.backup_gate.fetch_sub(1, Ordering::Release);
            used
        } else {
            leaf.backup_gate.fetch_sub(1, Ordering::Release);
            let _stripe = self.stripes.lock(path.leaf());
            // The closer held the stripe while the gate was closed, and no
            // other can close it while this thread holds it.
            self.add_terminal(leaf, value, predicted)
        };
        for &id in &path.nodes {
            let node = self.get(id)?;
            node.convert_loss_to_visit();
            node.value_sum.fetch_add(units.0, Ordering::Relaxed);
        }
        Ok(used)
    }

    /// Counts one backup ending at `leaf`, with its measurement if it has
    /// one and `predicted` otherwise; returns what was counted. Only with the
    /// leaf's gate passed or its stripe held.
    fn add_terminal(&self, leaf: &Node<P>, value: f64, predicted: Units) -> (f64, Units) {
        let used = match self.measured_value(leaf) {
            Some(measured) => (measured, Units::quantize(measured)),
            None => (value, predicted),
        };
        leaf.terminal_visits.fetch_add(1, Ordering::Relaxed);
        leaf.own_value_sum.fetch_add(used.1 .0, Ordering::Relaxed);
        used
    }

    /// Runs `work` with `node`'s (terminal visits, own value sum) pair to
    /// itself: under the node's stripe, with its backup gate closed and no
    /// backup inside. For measurements and snapshots.
    pub(crate) fn with_backups_held<T>(&self, id: NodeId, node: &Node<P>, work: impl FnOnce() -> T) -> T {
        let _stripe = self.stripes.lock(id);
        node.backup_gate.fetch_or(GATE_CLOSED, Ordering::SeqCst);
        let mut spins = 0u32;
        while node.backup_gate.load(Ordering::Acquire) != GATE_CLOSED {
            // A backup inside is a few instructions from leaving, unless its
            // thread was preempted there: then let it run.
            if spins < 64 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let result = work();
        node.backup_gate.fetch_and(!GATE_CLOSED, Ordering::Release);
        result
    }
}
