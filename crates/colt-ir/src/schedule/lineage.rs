//! How a candidate is made, as the tuning database and tree snapshots store
//! it: a sampling seed and the edits applied after it.

use super::{Candidate, Edit, Target};
use crate::program::Program;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a candidate is made, in the words of `colt emit-c --seed S --apply
/// EDIT...`: [`Candidate::sample_on`]`(program, target, seed)`, then
/// `edits` applied in order. Short, readable, and rebuilt exactly by the
/// same colt-ir (sampling and edits are deterministic).
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
    /// The sampled candidate of `seed`, unedited.
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

/// The command-line arguments that rebuild it: `--seed S --apply 'EDIT'...`.
impl std::fmt::Display for Lineage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--seed {}", self.seed)?;
        for edit in &self.edits {
            write!(f, " --apply '{edit}'")?;
        }
        Ok(())
    }
}

/// The candidate of seed 0, unedited.
impl Default for Lineage {
    fn default() -> Lineage {
        Lineage::sampled(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lineage_rebuilds_the_candidate_it_describes() {
        let program = Arc::new(crate::builtin("gemm-512").unwrap().program(crate::Size::Bench));
        let start = Candidate::sample(program.clone(), 7);
        let legal = super::super::legal_edits(&start);
        let edits = vec![legal[0].clone(), legal[legal.len() / 2].clone()];
        let mut direct = start.clone();
        for e in &edits {
            direct = e.apply(&direct).unwrap();
        }
        let lineage = Lineage::sampled(7).then(&edits);
        let rebuilt = lineage.rebuild(&program).unwrap();
        assert_eq!(super::super::lower(&rebuilt).fingerprint(), super::super::lower(&direct).fingerprint());
    }

    #[test]
    fn a_stale_lineage_names_the_edit_that_fails() {
        let program = Arc::new(crate::builtin("gemm-512").unwrap().program(crate::Size::Bench));
        let lineage = Lineage { seed: 3, edits: vec!["tile(stage=\"NOPE\", axis=0, level=1, factor=4)".into()] };
        let error = lineage.rebuild(&program).unwrap_err();
        assert_eq!(error.index, 0);
        assert!(error.to_string().contains("NOPE"), "{error}");
    }
}
