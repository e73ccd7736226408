//! colt-measure: colt's ground truth. A number colt reports is a real,
//! repeatable latency of a kernel that computed the right answer; this
//! crate produces those numbers: it builds kernels into a cache, loads them
//! into executable memory, checks them against the reference interpreter
//! and times them, in a crash- and hang-proof worker process (and the same
//! on OpenCL). It knows nothing of the search, of actors or of the command
//! line.
//!
//! Take it alone to time C kernels under colt's kernel ABI safely — your
//! own, or ones lowered by colt-ir — with a correctness check you cannot
//! forget: a benchmark harness, or another search's measurement backend.
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
//! - the same flow on **OpenCL** ([`opencl`]);
//! - the **machine's limits** ([`limits::MachineLimits::measure`]): FP32
//!   FMA peak, the cost of exp, max, division, ... in FMA slots, and the
//!   read bandwidth of each cache level and of memory, by probes built and
//!   run like any kernel, on every measured core at once;
//! - the **roofline bound** of a program on a machine whose limits were
//!   measured: its necessary work at peak against its bytes at the bandwidth
//!   of the level they fit in ([`Bound`], [`bound`]).
//!
//! The worker executable is whatever the caller names (`colt
//! measure-worker`, this crate's own `colt-measure-worker` binary, or your
//! program started with an argument that makes it call
//! [`worker::serve_stdio`], as below). A [`Kernel`] is what one measurement
//! request carries on either target, and a [`Target`] is where a job's
//! kernels run, parsed from its label.
//!
//! # Example
//!
//! A tiny matmul's naive kernel is built (into a cache in a temporary
//! directory), checked against the reference interpreter and timed, in a
//! worker that is this same program started with `measure-worker`. Then a
//! kernel that computes garbage and one that crashes are each reported as
//! such, and the measurer carries on.
//!
//! ```
//! use colt_measure::{
//!     ArtifactCache, Builder, Compiler, CpuConfig, CpuMeasurer, FailureKind, KernelSource, RunPlan, TimingGate,
//!     WorkerCommand,
//! };
//! use std::sync::Arc;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The worker: this very executable, asked to serve.
//!     if std::env::args().nth(1).as_deref() == Some("measure-worker") {
//!         colt_measure::worker::serve_stdio()?;
//!         return Ok(());
//!     }
//!     let worker = WorkerCommand::new(std::env::current_exe()?).arg("measure-worker");
//!
//!     let text = "input A[64, 32]\ninput B[32, 48]\noutput C[64, 48]\nC[i, j] += A[i, k] * B[k, j]\n";
//!     let program = colt_ir::parse_workload(text, "tiny-mm.colt", colt_ir::Size::Bench)?;
//!     let cache = tempfile::tempdir()?;
//!     let builder = Arc::new(Builder::new(Compiler::system(), ArtifactCache::new(cache.path()), TimingGate::new()));
//!     let config = CpuConfig {
//!         // One core is enough for a naive kernel: it runs on task 0.
//!         cores: colt_measure::affinity::available_cores()[..1].to_vec(),
//!         plan: RunPlan { warmup_runs: 1, min_runs: 5, min_seconds: 0.0, max_seconds: 1.0 },
//!         ..CpuConfig::default()
//!     };
//!     let mut measurer = CpuMeasurer::new(builder.clone(), worker, config);
//!
//!     let m = measurer.measure(&program, &KernelSource::naive(&program))?;
//!     assert_eq!(m.kernel, "tiny-mm naive");
//!     assert!(m.timing.runs >= 5 && m.timing.median_ms > 0.0);
//!     assert!(m.max_rel_err < 1e-4, "checked against the reference");
//!     // Measured again, the kernel comes from the cache.
//!     assert!(measurer.measure(&program, &KernelSource::naive(&program))?.phases.cached);
//!     assert_eq!(builder.stats().compiled, 1);
//!
//!     // Every output element written, but wrong.
//!     let zeros = r#"
//!         typedef void (*colt_barrier_fn)(void *ctx);
//!         void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *ctx) {
//!             if (task == 0) for (int i = 0; i < 64 * 48; i++) bufs[2][i] = 0.0f;
//!         }"#;
//!     let wrong = measurer.measure(&program, &KernelSource::new("zeros", zeros, vec![])).unwrap_err();
//!     assert_eq!(wrong.kind(), FailureKind::WrongResult);
//!
//!     // A crash takes down the worker, not this process.
//!     let null = r#"
//!         typedef void (*colt_barrier_fn)(void *ctx);
//!         void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *ctx) {
//!             *(volatile float *)0 = bufs[0][0];
//!         }"#;
//!     let crash = measurer.measure(&program, &KernelSource::new("null", null, vec![])).unwrap_err();
//!     assert_eq!(crash.kind(), FailureKind::Crashed, "{crash}");
//!     assert!(measurer.measure(&program, &KernelSource::naive(&program)).is_ok());
//!     Ok(())
//! }
//! ```

pub mod affinity;
pub mod barrier;
pub mod bound;
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
pub mod limits;
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

pub use bound::Bound;
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
