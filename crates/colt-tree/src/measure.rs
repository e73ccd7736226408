//! Measurements: a measured value replaces the predictions backed up for a
//! candidate, in every node that stands for it and in all their ancestors.
//!
//! Each node keeps what the backups that *ended* at it contributed (terminal
//! visits, own value sum), behind its backup gate (`backup.rs`). Replacing predictions is then
//! exact: the node's own sum becomes `measurement × terminal visits`, and the
//! difference is added to the node and each ancestor. Backups that pass
//! through a node towards a deeper leaf are the deeper node's business.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::node::{Node, NOT_MEASURED};
use crate::tree::Tree;
use crate::value::Units;
use std::sync::atomic::Ordering;

impl<P> Tree<P> {
    /// Records that the candidate of `id` measured `value` (normalised
    /// throughput in [0, 1]). The measurement is stored once for the
    /// fingerprint, so every transposition of `id` sees it too; every backup
    /// that already ended at any of them is rewritten to the measured value
    /// (ancestors' sums included), and later backups ending there use it.
    /// Measuring again replaces the earlier measurement the same way.
    pub fn set_measured(&self, id: NodeId, value: f64) -> Result<(), TreeError> {
        Units::from_value(value)?;
        let node = self.get(id)?;
        let first_id = NodeId::from_link(node.transposition_of).unwrap_or(id);
        let first = self.get(first_id)?;
        // SeqCst, with the chain's SeqCst load below and the one in
        // `add_children`: a node added to the chain after this walk read it
        // was added after this store, so its backups read the measurement.
        first.measured.store(value.to_bits(), Ordering::SeqCst);
        let mut member = Some(first_id);
        while let Some(id) = member {
            let node = self.get(id)?;
            self.replace_contribution(id, node, first);
            member = NodeId::from_link(node.next_transposition.load(Ordering::SeqCst));
        }
        Ok(())
    }

    /// Rewrites the backups that ended at `node` to `first`'s measurement.
    fn replace_contribution(&self, id: NodeId, node: &Node<P>, first: &Node<P>) {
        let delta = self.with_backups_held(id, node, || {
            // Read with the pair held rather than passed in, so that with
            // two racing measurements every node ends on the one stored last.
            let measured = self.measurement(first).unwrap_or(Units(0)).0;
            let terminal = node.terminal_visits.load(Ordering::Relaxed);
            // terminal < 2^31 in any real search (see value.rs), so the
            // product stays within i64.
            let target = measured.saturating_mul(terminal as i64);
            target - node.own_value_sum.swap(target, Ordering::Relaxed)
        });
        if delta != 0 {
            for ancestor in self.ancestors(id) {
                if let Ok(node) = self.get(ancestor) {
                    node.value_sum.fetch_add(delta, Ordering::Relaxed);
                }
            }
        }
    }

    /// The measurement that applies to `node` (its own, or its first
    /// transposition's), in units, if any.
    pub(crate) fn measurement(&self, node: &Node<P>) -> Option<Units> {
        self.measured_value(node).map(Units::quantize)
    }

    /// The same, as the value the caller measured.
    pub(crate) fn measured_value(&self, node: &Node<P>) -> Option<f64> {
        let holder = self.linked(node.transposition_of).map_or(node, |(_, first)| first);
        let bits = holder.measured.load(Ordering::SeqCst);
        (bits != NOT_MEASURED).then(|| f64::from_bits(bits))
    }
}
