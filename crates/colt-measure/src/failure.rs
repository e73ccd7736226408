//! Why a candidate has no latency. Every variant names the kernel; the
//! candidate's own faults (it does not build, load, finish, survive or
//! compute the right answer) are told apart from the machinery's.

use crate::build::BuildError;
use crate::image::ImageError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("kernel `{kernel}` cannot be loaded: {source}")]
    Image { kernel: String, source: ImageError },
    #[error("kernel `{kernel}` crashed the worker ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Crashed { kernel: String, status: String, signal: Option<i32>, stderr: String },
    #[error("kernel `{kernel}` did not finish within the {limit:?} limit")]
    TimedOut { kernel: String, limit: Duration },
    #[error(
        "kernel `{kernel}` computes a wrong `{buffer}`: relative error {max_rel_err} > {}",
        colt_ir::data::TOLERANCE
    )]
    WrongResult { kernel: String, buffer: String, max_rel_err: f32 },
    #[error("kernel `{kernel}` wrote its input `{buffer}`")]
    WroteInput { kernel: String, buffer: String },
    #[error("measuring kernel `{kernel}`: {message}")]
    Worker { kernel: String, message: String },
    #[error(transparent)]
    OpenCl(#[from] crate::opencl::OpenClError),
    /// The program's reference could not be computed: no kernel of it can
    /// be checked, so this is the machinery's failure, not the candidate's.
    #[error("measuring kernel `{kernel}`: {source}")]
    Reference { kernel: String, source: crate::reference::ReferenceError },
}

/// The kind of a failure, for counting and for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    Build,
    Image,
    Crashed,
    TimedOut,
    WrongResult,
    WroteInput,
    /// Not the candidate's fault: the worker could not be started or
    /// answered nonsense, or OpenCL is unavailable.
    Machinery,
    /// An OpenCL kernel that does not build or does not run.
    OpenClKernel,
}

impl MeasureError {
    pub fn kind(&self) -> FailureKind {
        use crate::opencl::OpenClError;
        match self {
            MeasureError::Build(BuildError::Compile { .. } | BuildError::CompileTimedOut { .. }) => FailureKind::Build,
            MeasureError::Build(_) => FailureKind::Machinery,
            MeasureError::Image { .. } => FailureKind::Image,
            MeasureError::Crashed { .. } => FailureKind::Crashed,
            MeasureError::TimedOut { .. } => FailureKind::TimedOut,
            MeasureError::WrongResult { .. } => FailureKind::WrongResult,
            MeasureError::WroteInput { .. } => FailureKind::WroteInput,
            MeasureError::Worker { .. } | MeasureError::Reference { .. } => FailureKind::Machinery,
            MeasureError::OpenCl(OpenClError::Build { .. } | OpenClError::Run { .. }) => FailureKind::OpenClKernel,
            MeasureError::OpenCl(_) => FailureKind::Machinery,
        }
    }

    /// True when the candidate is at fault (the search should score it as
    /// failed), false when the machinery is (the search should retry or stop).
    pub fn is_candidate_fault(&self) -> bool {
        self.kind() != FailureKind::Machinery
    }
}
