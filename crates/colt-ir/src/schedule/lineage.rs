//! How a candidate is made, as the tuning database and tree snapshots store
//! it: a sampler, a sampling seed and the edits applied after it.

use super::{Candidate, Edit, Sampler, Target};
use crate::program::Program;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a candidate is made, in the words of `colt emit-c --random [--sampler
/// SAMPLER] --seed S --apply EDIT...`: `sampler`'s
/// [`sample`](Sampler::sample)`(program, target, seed)`, then `edits`
/// applied in order. Short, readable, and rebuilt exactly by the same
/// colt-ir (sampling and edits are deterministic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// Uniform for every lineage written before the informed sampler.
    #[serde(default)]
    pub sampler: Sampler,
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
    /// The uniform sampler's candidate of `seed`, unedited.
    pub fn sampled(seed: u64) -> Lineage {
        Lineage::sampled_by(Sampler::Uniform, seed)
    }

    /// `sampler`'s candidate of `seed`, unedited.
    pub fn sampled_by(sampler: Sampler, seed: u64) -> Lineage {
        Lineage { sampler, seed, edits: Vec::new() }
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
        let mut candidate = self.sampler.sample(program.clone(), target, self.seed);
        for (index, text) in self.edits.iter().enumerate() {
            let error = |reason: String| LineageError { seed: self.seed, index, edit: text.clone(), reason };
            let edit = Edit::parse(text).map_err(|e| error(e.to_string()))?;
            candidate = edit.apply(&candidate).map_err(|e| error(e.to_string()))?;
        }
        Ok(candidate)
    }
}

/// The command-line arguments that rebuild it: `--random [--sampler 'SAMPLER']
/// --seed S --apply 'EDIT'...`.
impl std::fmt::Display for Lineage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Without `--random`, `colt emit-c`/`colt run` build the naive
        // kernel and would ignore the seed and the sampler.
        write!(f, "--random ")?;
        if !self.sampler.is_uniform() {
            write!(f, "--sampler '{}' ", self.sampler)?;
        }
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
    fn an_informed_lineage_rebuilds_its_candidate_and_prints_its_sampler() {
        let program = Arc::new(crate::builtin("gemm-512").unwrap().program(crate::Size::Bench));
        let sampler = Sampler::Informed(super::super::Machine { lanes: 8, registers: 16, cores: 2 });
        let start = sampler.sample(program.clone(), Target::Cpu, 11);
        let edit = super::super::legal_edits(&start)[0].clone();
        let direct = edit.apply(&start).unwrap();
        let lineage = Lineage::sampled_by(sampler, 11).then(&[edit]);
        let rebuilt = lineage.rebuild(&program).unwrap();
        assert_eq!(super::super::lower(&rebuilt).fingerprint(), super::super::lower(&direct).fingerprint());
        assert!(
            lineage
                .to_string()
                .starts_with("--random --sampler 'informed(lanes=8, registers=16, cores=2)' --seed 11 --apply"),
            "{lineage}"
        );
        assert_eq!(Lineage::sampled(11).to_string(), "--random --seed 11");
    }

    #[test]
    fn a_stale_lineage_names_the_edit_that_fails() {
        let program = Arc::new(crate::builtin("gemm-512").unwrap().program(crate::Size::Bench));
        let lineage =
            Lineage { edits: vec!["tile(stage=\"NOPE\", axis=0, level=1, factor=4)".into()], ..Lineage::sampled(3) };
        let error = lineage.rebuild(&program).unwrap_err();
        assert_eq!(error.index, 0);
        assert!(error.to_string().contains("NOPE"), "{error}");
    }
}
