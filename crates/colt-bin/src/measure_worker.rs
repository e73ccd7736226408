//! `colt measure-worker`: the process colt-measure runs candidate kernels
//! in, so a kernel that crashes or hangs takes only this process down. It
//! speaks colt-measure's bincode protocol on stdin/stdout; not for people.

use anyhow::{Context, Result};

pub fn run() -> Result<()> {
    colt_measure::worker::serve_stdio().context("measurement worker")
}
