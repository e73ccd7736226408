//! An OpenCL kernel to measure: source, scratch buffers, launches.

/// One enqueue of one `__kernel` function.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Launch {
    pub entry: String,
    /// Global work size, 1 to 3 dimensions.
    pub global: Vec<usize>,
    /// Local work size (same dimensions), or the platform's choice.
    pub local: Option<Vec<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenClKernel {
    /// Names the kernel in errors and reports.
    pub name: String,
    pub source: String,
    /// Lengths in floats of the scratch buffers after the program's.
    pub scratch: Vec<usize>,
    /// Enqueued in order, every run.
    pub launches: Vec<Launch>,
}

impl OpenClKernel {
    /// The kernels of an OpenCL candidate, named by its fingerprint.
    pub fn candidate(candidate: &colt_ir::schedule::Candidate) -> OpenClKernel {
        OpenClKernel::from_nest(&colt_ir::schedule::lower(candidate))
    }

    /// The kernels of a lowered OpenCL loop nest, named by its fingerprint.
    pub fn from_nest(nest: &colt_ir::loopnest::LoopNest) -> OpenClKernel {
        OpenClKernel::from_program(format!("{} {:016x}", nest.name, nest.fingerprint()), nest.to_opencl())
    }

    /// An OpenCL program of colt-ir (scheduled or naive), one-dimensional
    /// launches.
    pub fn from_program(name: String, program: colt_ir::opencl::OpenClProgram) -> OpenClKernel {
        OpenClKernel {
            name,
            source: program.source,
            scratch: Vec::new(),
            launches: program
                .launches
                .into_iter()
                .map(|l| Launch { entry: l.entry, global: vec![l.global], local: l.local.map(|n| vec![n]) })
                .collect(),
        }
    }

    /// The naive OpenCL kernels of a program: the baseline on a device.
    pub fn naive(program: &colt_ir::Program) -> OpenClKernel {
        OpenClKernel::from_program(format!("{} naive opencl", program.name()), colt_ir::opencl::naive_opencl(program))
    }
}
