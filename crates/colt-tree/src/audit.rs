//! Checking the counters' invariants on a quiescent tree.

use crate::error::TreeError;
use crate::id::NodeId;
use crate::tree::Tree;
use crate::value::to_value;
use std::sync::atomic::Ordering;

impl<P> Tree<P> {
    /// Checks, exactly, that for every node
    /// - visits = terminal visits + the sum of its children's visits,
    /// - value sum = own value sum + the sum of its children's value sums,
    /// - no virtual loss is left,
    /// - a node with a measurement carries exactly measurement × terminal
    ///   visits as its own contribution.
    ///
    /// Meaningful only when no operation is in flight (paths still selected
    /// hold virtual loss; a backup in progress has updated part of its path):
    /// after the search threads are joined, after a restore, in tests.
    pub fn audit(&self) -> Result<(), TreeError> {
        for node in self.nodes() {
            let raw = node.raw();
            let id = node.id();
            let (mut visits, mut value) =
                (raw.terminal_visits.load(Ordering::Relaxed), raw.own_value_sum.load(Ordering::Relaxed));
            for child in node.children() {
                visits += child.raw().visits();
                value += child.raw().value_sum.load(Ordering::Relaxed);
            }
            let stored_visits = raw.visits();
            if stored_visits != visits {
                return Err(inconsistent(
                    id,
                    format!("{stored_visits} visits, but terminal visits and children's add up to {visits}"),
                ));
            }
            let stored_value = raw.value_sum.load(Ordering::Relaxed);
            if stored_value != value {
                return Err(inconsistent(
                    id,
                    format!(
                        "value sum {}, but own and children's add up to {}",
                        to_value(stored_value),
                        to_value(value)
                    ),
                ));
            }
            let loss = raw.virtual_loss();
            if loss != 0 {
                return Err(inconsistent(id, format!("{loss} virtual loss left")));
            }
            if let Some(measured) = self.measurement(raw) {
                let terminal = raw.terminal_visits.load(Ordering::Relaxed);
                let own = raw.own_value_sum.load(Ordering::Relaxed);
                if own != measured.0.saturating_mul(terminal as i64) {
                    return Err(inconsistent(
                        id,
                        format!(
                            "measured {} over {terminal} terminal visits, but own value sum {}",
                            measured.to_value(),
                            to_value(own)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn inconsistent(id: NodeId, what: String) -> TreeError {
    TreeError::Inconsistent { id, what }
}
