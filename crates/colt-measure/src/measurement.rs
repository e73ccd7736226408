//! What a successful measurement reports.

use crate::timing::Timing;
use serde::{Deserialize, Serialize};

/// A verified kernel's latency and what it cost to get it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub kernel: String,
    pub timing: Timing,
    /// The largest relative error of any output against the reference.
    pub max_rel_err: f32,
    pub phases: Phases,
}

/// Seconds spent in each phase of one measurement: the overhead per
/// candidate that the search pays on top of the kernel's own runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Building (compiling, or finding the image in the cache).
    pub build: f64,
    /// Whether the image came from the cache.
    pub cached: bool,
    /// Reading and checking the image, and mapping it in the worker
    /// (OpenCL: creating the context and building the program).
    pub load: f64,
    /// The reference outputs (only the first measurement of a program
    /// computes them; later ones find them cached).
    pub reference: f64,
    /// The check run, from sending the request to having the outputs.
    pub check_run: f64,
    /// Comparing the outputs with the reference.
    pub verify: f64,
    /// Warm-up and timed runs.
    pub timing: f64,
}
