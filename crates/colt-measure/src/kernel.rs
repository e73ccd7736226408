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

/// A kernel of the job's target, as one measurement request carries it: C
/// under the kernel ABI for the CPU, OpenCL C and its launches for an
/// OpenCL device.
#[derive(Clone, Debug)]
pub enum Kernel {
    Cpu(KernelSource),
    OpenCl(crate::opencl::OpenClKernel),
}

impl Kernel {
    /// The naive kernel of `program` in a schedule space: the baseline of
    /// every speedup.
    pub fn naive(program: &Program, space: colt_ir::schedule::Target) -> Kernel {
        match space {
            colt_ir::schedule::Target::Cpu => Kernel::Cpu(KernelSource::naive(program)),
            colt_ir::schedule::Target::OpenCl => Kernel::OpenCl(crate::opencl::OpenClKernel::naive(program)),
        }
    }

    /// A lowered candidate, in its nest's space, named `name`.
    pub fn lowered(name: String, nest: &colt_ir::loopnest::LoopNest) -> Kernel {
        match nest.target {
            colt_ir::schedule::Target::Cpu => {
                Kernel::Cpu(KernelSource { name, c: nest.to_c(), scratch: nest.scratch.clone() })
            }
            colt_ir::schedule::Target::OpenCl => {
                Kernel::OpenCl(crate::opencl::OpenClKernel::from_program(name, nest.to_opencl()))
            }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Kernel::Cpu(k) => &k.name,
            Kernel::OpenCl(k) => &k.name,
        }
    }

    /// The source text: what a trial's source hash is taken of.
    pub fn source(&self) -> &str {
        match self {
            Kernel::Cpu(k) => &k.c,
            Kernel::OpenCl(k) => &k.source,
        }
    }
}
