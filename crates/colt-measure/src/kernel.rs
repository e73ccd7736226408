//! What is measured: a kernel's C source under the kernel ABI, the scratch
//! buffers it asks for, and a name for reports and errors.

use colt_ir::schedule::Candidate;
use colt_ir::Program;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSource {
    /// Names the kernel in errors and reports (e.g. `gemm-512 naive` or a
    /// candidate's fingerprint).
    pub name: String,
    pub c: String,
    /// Lengths in floats of the scratch buffers after the program's
    /// buffers in `bufs[]` (`LoopNest::scratch`).
    pub scratch: Vec<usize>,
}

impl KernelSource {
    /// The naive kernel of `program` (no scratch).
    pub fn naive(program: &Program) -> KernelSource {
        KernelSource { name: format!("{} naive", program.name()), c: colt_ir::c::naive_c(program), scratch: Vec::new() }
    }

    /// A scheduled candidate, named by its fingerprint.
    pub fn candidate(candidate: &Candidate) -> KernelSource {
        let nest = colt_ir::schedule::lower(candidate);
        KernelSource {
            name: format!("{} {:016x}", candidate.program().name(), nest.fingerprint()),
            c: nest.to_c(),
            scratch: nest.scratch.clone(),
        }
    }

    /// Hand-written C (tests, experiments).
    pub fn new(name: impl Into<String>, c: impl Into<String>, scratch: Vec<usize>) -> KernelSource {
        KernelSource { name: name.into(), c: c.into(), scratch }
    }
}
