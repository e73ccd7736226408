//! What a search-tree node carries: how to rebuild its candidate (the
//! lineage), the candidate itself once built, and its latest prediction.

use colt_ir::schedule::{Candidate, Lineage, LineageError, Target};
use colt_ir::Program;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// A tree node's payload. Only the lineage is snapshotted: the candidate
/// is rebuilt from it on first use after a restore.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct NodeData {
    pub lineage: Lineage,
    #[serde(skip)]
    candidate: OnceLock<Candidate>,
    /// The cost model's latest prediction (f64 bits; 0 = none yet),
    /// refreshed after every retraining.
    #[serde(skip)]
    predicted: AtomicU64,
}

impl NodeData {
    pub fn new(lineage: Lineage, candidate: Candidate, predicted: f64) -> NodeData {
        NodeData { lineage, candidate: OnceLock::from(candidate), predicted: AtomicU64::new(predicted.to_bits()) }
    }

    /// The candidate, rebuilt from the lineage if this node was restored.
    pub fn candidate(&self, program: &Arc<Program>, target: Target) -> Result<&Candidate, LineageError> {
        if let Some(c) = self.candidate.get() {
            return Ok(c);
        }
        let built = self.lineage.rebuild_on(program, target)?;
        Ok(self.candidate.get_or_init(|| built))
    }

    pub fn predicted(&self) -> Option<f64> {
        let bits = self.predicted.load(Ordering::Relaxed);
        (bits != 0).then(|| f64::from_bits(bits))
    }

    pub fn set_predicted(&self, value: f64) {
        // 0.0 is stored as the smallest positive value so that it still
        // reads as "predicted".
        let value = if value > 0.0 { value } else { f64::MIN_POSITIVE };
        self.predicted.store(value.to_bits(), Ordering::Relaxed);
    }
}
