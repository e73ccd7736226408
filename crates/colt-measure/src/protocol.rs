//! What the parent and the worker process say to each other: one bincode
//! message at a time over the worker's stdin and stdout (bincode values
//! delimit themselves, so no framing is needed).

use crate::buffers::BufferSpec;
use crate::image::KernelImage;
use crate::opencl::{DeviceChoice, OpenClError, OpenClKernel};
use crate::runner::RunPlan;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// A bound on one message, so a corrupt stream cannot make the reader
/// allocate without limit. The largest real message is a program's outputs:
/// colt-ir admits 2^31 elements in all (`MAX_PROGRAM_ELEMENTS`), 8 GiB.
const MESSAGE_LIMIT: usize = 1 << 34;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MESSAGE_LIMIT>()
}

/// Parent → worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Map `image`, allocate `buffers` (inputs from `seed`), run once on
    /// `cores` after poisoning, and return the buffers at `outputs`. The
    /// kernel and its buffers stay loaded for `Time`.
    Check { image: KernelImage, buffers: Vec<BufferSpec>, seed: u64, cores: Vec<usize>, outputs: Vec<usize> },
    /// Time the loaded kernel.
    Time { plan: RunPlan },
    /// Parse the program `text` (printed by colt-ir, origin `name`), run the
    /// reference interpreter on inputs of `seed`, and return the buffers at
    /// `outputs` (indices among the program's buffers).
    Reference { name: String, text: String, seed: u64, outputs: Vec<usize> },
    /// Open `device` (once per worker), build `kernel`, bind `buffers`
    /// (inputs from `seed`), run once and return the buffers at `outputs`.
    /// The kernel stays bound for `Time`.
    OpenClCheck { device: DeviceChoice, kernel: OpenClKernel, buffers: Vec<BufferSpec>, seed: u64, outputs: Vec<usize> },
}

/// Worker → parent.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Checked {
        outputs: Vec<Vec<f32>>,
        /// Index in `bufs[]` of an input the kernel wrote, if any.
        modified_input: Option<usize>,
        load_seconds: f64,
        run_seconds: f64,
    },
    Timed {
        samples_ms: Vec<f64>,
    },
    Referenced {
        outputs: Vec<Vec<f32>>,
    },
    /// The request could not be carried out (the worker lives on).
    Failed {
        message: String,
    },
    /// An OpenCL request failed in a way OpenCL reports (the kernel does
    /// not build, a launch is refused); the worker lives on.
    OpenClFailed {
        error: OpenClError,
    },
}

impl Response {
    /// What kind of answer this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Response::Checked { .. } => "a check",
            Response::Timed { .. } => "a timing",
            Response::Referenced { .. } => "a reference",
            Response::Failed { .. } => "a failure",
            Response::OpenClFailed { .. } => "an OpenCL failure",
        }
    }
}

pub fn write_message<T: Serialize>(out: &mut impl Write, message: &T) -> std::io::Result<()> {
    bincode::serde::encode_into_std_write(message, out, config()).map_err(std::io::Error::other)?;
    out.flush()
}

pub fn read_message<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> Result<T, bincode::error::DecodeError> {
    bincode::serde::decode_from_std_read(input, config())
}
