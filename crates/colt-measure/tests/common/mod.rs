//! What the integration tests share: a builder on a private cache, a
//! measurer whose worker is this crate's `colt-measure-worker`, a small
//! program and kernels of it, good and bad.
#![allow(dead_code)]

use colt_measure::{
    affinity, ArtifactCache, Builder, Compiler, CpuConfig, CpuMeasurer, KernelSource, RunPlan, TimingGate,
    WorkerCommand,
};
use std::sync::Arc;
use std::time::Duration;

pub fn worker() -> WorkerCommand {
    WorkerCommand::new(env!("CARGO_BIN_EXE_colt-measure-worker"))
}

pub fn builder(cache: &std::path::Path) -> Arc<Builder> {
    Arc::new(Builder::new(Compiler::system(), ArtifactCache::new(cache), TimingGate::new()))
}

/// A short plan (tests check behaviour, not speed) on at most two cores.
pub fn config(timeout: Duration) -> CpuConfig {
    let cores: Vec<usize> = affinity::available_cores().into_iter().take(2).collect();
    CpuConfig {
        cores,
        plan: RunPlan { warmup_runs: 1, min_runs: 3, min_seconds: 0.0, max_seconds: 0.5 },
        timeout,
        seed: colt_ir::data::DEFAULT_SEED,
    }
}

pub fn measurer(cache: &std::path::Path) -> CpuMeasurer {
    CpuMeasurer::new(builder(cache), worker(), config(Duration::from_secs(20)))
}

/// A 64x32 by 32x48 matrix product: fast to compute and to check.
pub fn small_gemm() -> colt_ir::Program {
    colt_ir::parse_workload(
        "workload small-gemm\ninput A[64, 32]\ninput B[32, 48]\noutput C[64, 48]\nC[i, j] += A[i, k] * B[k, j]\n",
        "small-gemm.colt",
        colt_ir::Size::Bench,
    )
    .expect("the small gemm parses")
}

/// A kernel of `small_gemm` whose body (task 0 only) is `body`, with
/// `A`, `B`, `C` bound.
pub fn small_gemm_kernel(name: &str, body: &str) -> KernelSource {
    let c = format!(
        "typedef void (*colt_barrier_fn)(void *ctx);\n\
         void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {{\n\
         (void)ntasks; (void)barrier; (void)barrier_ctx;\n\
         if (task != 0) return;\n\
         const float *A = bufs[0]; const float *B = bufs[1]; float *C = bufs[2];\n\
         (void)A; (void)B; (void)C;\n{body}\n}}\n"
    );
    KernelSource::new(name, c, Vec::new())
}

/// A correct kernel, split over the tasks by rows with a barrier after.
pub fn good_kernel() -> KernelSource {
    let c = "typedef void (*colt_barrier_fn)(void *ctx);\n\
         void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {\n\
         const float *A = bufs[0]; const float *B = bufs[1]; float *C = bufs[2];\n\
         for (long i = task; i < 64; i += ntasks)\n\
           for (long j = 0; j < 48; j++) {\n\
             float acc = 0.0f;\n\
             for (long k = 0; k < 32; k++) acc += A[i * 32 + k] * B[k * 48 + j];\n\
             C[i * 48 + j] = acc;\n\
           }\n\
         barrier(barrier_ctx);\n\
         }\n";
    KernelSource::new("small-gemm good", c, Vec::new())
}
