//! Backup: add a value along a selected path and remove its virtual loss.

use crate::error::TreeError;
use crate::path::Path;
use crate::tree::Tree;
use crate::value::Units;
use std::sync::atomic::Ordering;

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
        let (used, units) = {
            // Under the leaf's stripe, so that a concurrent `set_measured`
            // either counts this backup in the contribution it replaces, or
            // runs first and this backup reads its measurement.
            let _stripe = self.stripes.lock(path.leaf());
            let used = match self.measured_value(leaf) {
                Some(measured) => (measured, Units::quantize(measured)),
                None => (value, predicted),
            };
            leaf.terminal_visits.fetch_add(1, Ordering::Relaxed);
            leaf.own_value_sum.fetch_add(used.1 .0, Ordering::Relaxed);
            used
        };
        for &id in &path.nodes {
            let node = self.get(id)?;
            node.convert_loss_to_visit();
            node.value_sum.fetch_add(units.0, Ordering::Relaxed);
        }
        Ok(used)
    }
}
