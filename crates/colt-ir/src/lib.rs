//! colt-ir: the tensor programs colt tunes, and everything that only needs
//! the program to answer.
//!
//! It owns the IR (buffers, stages, expressions), the built-in workload
//! suite and its text format, the seeded inputs, the reference interpreter
//! every kernel is checked against, the [schedule space](schedule)
//! (sketches, decisions, edits and their syntax), the lowering of a
//! candidate to a [loop nest](loopnest) and from it to C or OpenCL, the
//! [features] the cost model reads, the [fingerprints](fnv1a)
//! colt stores and a program's [necessary work](work) (what a roofline
//! bound counts). It knows nothing of search, models or measurement.
//!
//! Take it alone to describe a layer as a tensor program and get its
//! reference result, its naive C and the C of any point of colt's schedule
//! space: a kernel generator, a test oracle for hand-written kernels, or
//! the space of another search.
//!
//! # Examples
//!
//! A built-in workload: a sampled schedule, one legal edit applied, the
//! result lowered to C and to the cost model's features; an edit that does
//! not apply is an error, not a wrong kernel.
//!
//! ```
//! use colt_ir::schedule::{lower, Candidate, Edit};
//! use std::sync::Arc;
//!
//! let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
//! let candidate = Candidate::sample(program, 7);
//! let edits = colt_ir::schedule::legal_edits(&candidate);
//! let next = edits[0].apply(&candidate).unwrap();
//! let nest = lower(&next);
//! assert!(nest.to_c().contains("colt_kernel"));
//! let features = colt_ir::features::features_of(&next, &nest);
//! assert_eq!(features.0.len(), colt_ir::features::FEATURE_COUNT);
//! assert!(Edit::parse("unroll(stage=\"C\", depth=7)").unwrap().apply(&next).is_err());
//! ```
//!
//! A workload in the text format, run by the reference interpreter on the
//! seeded inputs (the ones every kernel is checked on), and its naive C.
//!
//! ```
//! use colt_ir::{interp, parse_workload, Size};
//!
//! let program = parse_workload(
//!     "workload tiny-mm\ninput A[4, 3]\ninput B[3, 2]\noutput C[4, 2]\nC[i, j] += A[i, k] * B[k, j]\n",
//!     "tiny-mm.colt",
//!     Size::Bench,
//! )
//! .unwrap();
//! assert_eq!((program.name(), program.macs()), ("tiny-mm", 24));
//! // Buffers in declaration order: A, B, C.
//! let buffers = interp::evaluate(&program, colt_ir::data::DEFAULT_SEED);
//! let (a, b, c) = (&buffers[0], &buffers[1], &buffers[2]);
//! let c_1_0: f32 = (0..3).map(|k| a[3 + k] * b[2 * k]).sum();
//! assert!((c[2] - c_1_0).abs() <= 1e-6 * c_1_0.abs().max(1.0));
//! assert!(colt_ir::c::naive_c(&program).contains("void colt_kernel("));
//! // The same file, printed back, is the same program.
//! let printed = colt_ir::print_program(&program);
//! assert_eq!(parse_workload(&printed, "again.colt", Size::Bench).unwrap(), program);
//! ```
//!
//! # The kernel ABI
//!
//! Every kernel colt generates, naive or scheduled, is one C function with
//! no libc calls, no includes beyond the compiler's freestanding headers and
//! no mutable global state, so it can run as a bare code image:
//!
//! ```c
//! typedef void (*colt_barrier_fn)(void *ctx);
//! void colt_kernel(float *const *bufs, int task, int ntasks,
//!                  colt_barrier_fn barrier, void *barrier_ctx);
//! ```
//!
//! - `bufs[i]` is buffer `i` of the program in declaration order (inputs,
//!   temporaries and outputs alike), row-major `f32`, allocated by the
//!   caller; kernels write every element of every output and never rely on
//!   a buffer's prior contents. After the program's buffers come the
//!   *scratch* buffers a scheduled kernel asks for (packed operands), whose
//!   lengths in floats [`LoopNest::scratch`](loopnest::LoopNest) gives; the
//!   naive kernel has none. Scratch is the caller's memory, so the kernel
//!   stays free of allocation and global state.
//! - The caller runs `ntasks` threads at once, each calling `colt_kernel`
//!   with its own `task` in `0..ntasks`; parallel loops are split by
//!   `(task, ntasks)`. Between dependent phases every task calls
//!   `barrier(barrier_ctx)`, the same number of times. The naive kernel does
//!   all the work on task 0 and never calls the barrier.
//! - Compile with `-O3 -march=native -fno-math-errno` (so `sqrt` is an
//!   instruction, not a libm call) and flags that stop the compiler from
//!   inserting `memset`/`memcpy` calls (`-ffreestanding
//!   -fno-tree-loop-distribute-patterns`).

pub mod builder;
pub mod c;
pub mod corpus;
pub mod data;
pub mod expr;
pub mod features;
mod fingerprint;
pub mod interp;
pub mod loopnest;
pub mod model;
pub mod opencl;
mod program;
mod resolve;
pub mod schedule;
pub mod text;
pub mod vector;
pub mod work;
pub mod workloads;

pub use expr::{AxisId, BinaryOp, BufferId, CmpOp, Cond, Expr, IndexExpr, Load, UnaryOp};
pub use fingerprint::{fnv1a, workload_fingerprint};
pub use program::{
    Axis, AxisKind, Buffer, BufferRole, Combine, DType, Name, Pos, Program, ProgramDef, Stage, StageDef,
};
pub use resolve::{IrError, IrErrorKind, MAX_BUFFER_ELEMENTS, MAX_INDEX_MAGNITUDE, MAX_PROGRAM_ELEMENTS};
pub use text::{load_workload, parse_workload, parse_workload_as, print_program, WorkloadError};
pub use workloads::{builtin, Size, Workload, SUITE};
