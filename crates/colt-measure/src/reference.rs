//! Reference outputs (colt-ir's interpreter on the seeded inputs), computed
//! once per program and seed, and the check of a kernel's outputs against
//! them.

use colt_ir::data::{max_rel_err, TOLERANCE};
use colt_ir::{BufferRole, Program};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One program's reference outputs.
#[derive(Debug)]
pub struct Reference {
    /// `(index in bufs[], name, values)` of each output.
    pub outputs: Vec<(usize, String, Vec<f32>)>,
}

/// An output that does not match.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub buffer: String,
    pub max_rel_err: f32,
}

impl Reference {
    /// Runs the interpreter (seconds for the bench-size suite).
    pub fn compute(program: &Program, seed: u64) -> Reference {
        let mut all = colt_ir::interp::evaluate(program, seed);
        let outputs = program
            .buffers_with_role(BufferRole::Output)
            .map(|(id, b)| (id.0, b.name.clone(), std::mem::take(&mut all[id.0])))
            .collect();
        Reference { outputs }
    }

    /// The `bufs[]` indices of the outputs, in the order `check` expects.
    pub fn indices(&self) -> Vec<usize> {
        self.outputs.iter().map(|(index, _, _)| *index).collect()
    }

    /// Compares `actual` (one per output, in [`indices`](Self::indices)
    /// order) with the suite's tolerance; the largest error, or the first
    /// output over the tolerance.
    pub fn check(&self, actual: &[Vec<f32>]) -> Result<f32, Mismatch> {
        let mut worst = 0.0f32;
        for (i, (_, name, expected)) in self.outputs.iter().enumerate() {
            let err = actual.get(i).map_or(f32::INFINITY, |a| max_rel_err(a, expected));
            if err.is_nan() || err > TOLERANCE {
                return Err(Mismatch { buffer: name.clone(), max_rel_err: err });
            }
            worst = worst.max(err);
        }
        Ok(worst)
    }
}

/// A reference being computed or computed, shared by everyone who asks.
type Slot = Arc<OnceLock<Arc<Reference>>>;

/// References by program and seed; thread-safe, each computed once.
#[derive(Default)]
pub struct ReferenceCache {
    entries: Mutex<HashMap<(String, u64), Slot>>,
}

impl ReferenceCache {
    pub fn new() -> ReferenceCache {
        ReferenceCache::default()
    }

    /// The reference of `program` on inputs of `seed`. Programs are keyed by
    /// name and printed text, so two loads of one workload share it.
    pub fn get(&self, program: &Program, seed: u64) -> Arc<Reference> {
        let key = (format!("{}\n{}", program.name(), colt_ir::print_program(program)), seed);
        let slot = self.entries.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default().clone();
        slot.get_or_init(|| Arc::new(Reference::compute(program, seed))).clone()
    }

    /// How many references have been computed or are being computed.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
