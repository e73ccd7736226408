//! What a search-tree node carries: how to rebuild its candidate (the
//! lineage), the candidate itself once built, and its latest prediction.

use colt_ir::schedule::{Candidate, Edit, Target};
use colt_ir::Program;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// How a candidate is made, in the words of `colt emit-c --seed S --apply
/// EDIT...`: colt-ir's `Candidate::sample(program, seed)`, then `edits`
/// applied in order. It is what the tuning database and tree snapshots
/// store: short, readable, and rebuilt exactly by the same colt-ir.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    pub seed: u64,
    pub edits: Vec<String>,
}

/// Why a stored lineage no longer makes a candidate (a database written by
/// another version of colt-ir's schedule space).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("candidate of seed {seed}: edit {index} `{edit}` does not apply: {reason}")]
pub struct LineageError {
    pub seed: u64,
    pub index: usize,
    pub edit: String,
    pub reason: String,
}

impl Lineage {
    pub fn sampled(seed: u64) -> Lineage {
        Lineage { seed, edits: Vec::new() }
    }

    /// This lineage followed by `edits`.
    pub fn then(&self, edits: &[Edit]) -> Lineage {
        let mut next = self.clone();
        next.edits.extend(edits.iter().map(Edit::to_string));
        next
    }

    /// The CPU candidate of this lineage.
    pub fn rebuild(&self, program: &Arc<Program>) -> Result<Candidate, LineageError> {
        self.rebuild_on(program, Target::Cpu)
    }

    /// The candidate of this lineage in `target`'s schedule space.
    pub fn rebuild_on(&self, program: &Arc<Program>, target: Target) -> Result<Candidate, LineageError> {
        let mut candidate = Candidate::sample_on(program.clone(), target, self.seed);
        for (index, text) in self.edits.iter().enumerate() {
            let error = |reason: String| LineageError { seed: self.seed, index, edit: text.clone(), reason };
            let edit = Edit::parse(text).map_err(|e| error(e.to_string()))?;
            candidate = edit.apply(&candidate).map_err(|e| error(e.to_string()))?;
        }
        Ok(candidate)
    }
}

impl std::fmt::Display for Lineage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--seed {}", self.seed)?;
        for edit in &self.edits {
            write!(f, " --apply '{edit}'")?;
        }
        Ok(())
    }
}

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

impl Default for Lineage {
    fn default() -> Lineage {
        Lineage::sampled(0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lineage_rebuilds_the_candidate_it_describes() {
        let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
        let start = Candidate::sample(program.clone(), 7);
        let legal = colt_ir::schedule::legal_edits(&start);
        let edits = vec![legal[0].clone(), legal[legal.len() / 2].clone()];
        let mut direct = start.clone();
        for e in &edits {
            direct = e.apply(&direct).unwrap();
        }
        let lineage = Lineage::sampled(7).then(&edits);
        let rebuilt = lineage.rebuild(&program).unwrap();
        assert_eq!(colt_ir::schedule::lower(&rebuilt).fingerprint(), colt_ir::schedule::lower(&direct).fingerprint());
    }

    #[test]
    fn a_stale_lineage_names_the_edit_that_fails() {
        let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
        let lineage = Lineage { seed: 3, edits: vec!["tile(stage=\"NOPE\", axis=0, level=1, factor=4)".into()] };
        let error = lineage.rebuild(&program).unwrap_err();
        assert_eq!(error.index, 0);
        assert!(error.to_string().contains("NOPE"), "{error}");
    }
}
