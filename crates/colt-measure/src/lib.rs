//! colt-measure: colt's ground truth. A number colt reports is a real,
//! repeatable latency of a kernel that computed the right answer; this
//! crate produces those numbers: it builds kernels into a cache, loads them
//! into executable memory, checks them against the reference interpreter
//! and times them, in a crash- and hang-proof worker process (and the same
//! on OpenCL). It knows nothing of the search, of actors or of the command
//! line.
//!
//! # What it owns
//!
//! - **building** a kernel's C source with the system compiler into a
//!   position-independent image, kept in a content-addressed cache (key:
//!   source, compiler identity, flags), so nothing is compiled twice, across
//!   runs too ([`Builder`], [`ArtifactCache`]); builds may overlap each
//!   other but never a timed run ([`TimingGate`]);
//! - **loading** the image into an executable anonymous memory map and
//!   calling it through colt-ir's kernel ABI, without `dlopen`
//!   ([`KernelImage`], [`LoadedKernel`]; the image format and the one
//!   relocation applied are described in [`image`]);
//! - **running** it on threads pinned to the measured cores, with a
//!   spinning barrier between phases: a check run on NaN-poisoned buffers,
//!   compared with colt-ir's reference interpreter ([`ReferenceCache`]),
//!   then warm-up and timed runs ([`Runner`], [`RunPlan`], [`Timing`]);
//! - **isolation**: every kernel runs in a worker process that speaks
//!   bincode over pipes ([`WorkerClient`], [`worker::serve_stdio`]); a kernel
//!   that crashes, hangs or computes garbage becomes a [`MeasureError`] and
//!   the next one gets a fresh worker ([`CpuMeasurer`]);
//! - the same flow on **OpenCL** ([`opencl`]).
//!
//! The worker executable is whatever the caller names (`colt
//! measure-worker`, or this crate's own `colt-measure-worker` binary). A
//! [`Kernel`] is what one measurement request carries on either target, and
//! a [`Target`] is where a job's kernels run, parsed from its label.
//!
//! ```no_run
//! use colt_measure::{Builder, CpuConfig, CpuMeasurer, KernelSource, WorkerCommand};
//! use std::sync::Arc;
//!
//! let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
//! let builder = Arc::new(Builder::system());
//! let worker = WorkerCommand::colt("target/release/colt");
//! let mut measurer = CpuMeasurer::new(builder, worker, CpuConfig::default());
//! match measurer.measure(&program, &KernelSource::naive(&program)) {
//!     Ok(m) => println!("{}: {:.3} ms median of {} runs", m.kernel, m.timing.median_ms, m.timing.runs),
//!     Err(e) => println!("failed ({:?}): {e}", e.kind()),
//! }
//! ```

pub mod affinity;
pub mod barrier;
pub mod buffers;
mod build;
mod cache;
mod client;
mod compiler;
mod failure;
mod gate;
pub mod identity;
pub mod image;
mod kernel;
mod loader;
mod machine;
mod measurement;
mod measurer;
pub mod opencl;
pub mod protocol;
pub mod reference;
mod runner;
mod target;
mod timing;
pub mod worker;

pub use build::{Artifact, BuildError, BuildStats, Builder};
pub use cache::{ArtifactCache, ArtifactKey};
pub use client::{WorkerClient, WorkerCommand, WorkerFault};
pub use compiler::{Compiler, ABI_FLAGS, COMPILE_TIMEOUT, IMAGE_FLAGS};
pub use failure::{FailureKind, MeasureError};
pub use gate::{BuildPermit, TimingGate, TimingPermit};
pub use image::{ImageError, KernelImage};
pub use kernel::{Kernel, KernelSource};
pub use loader::{BarrierFn, KernelFn, LoadedKernel, MapError};
pub use machine::vector_unit;
pub use measurement::{Measurement, Phases};
pub use measurer::{CpuConfig, CpuMeasurer};
pub use reference::{Reference, ReferenceCache, ReferenceError, ReferenceSource, REFERENCE_TIMEOUT};
pub use runner::{RunPlan, Runner};
pub use target::{Target, TargetParseError};
pub use timing::Timing;
