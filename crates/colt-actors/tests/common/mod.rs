//! What the colt-actors tests share: a `Colt` with real actors, a real
//! measurement worker and a real database in a folder, and no models.

use colt_actors::{Colt, ColtConfig};
use colt_measure::{ArtifactCache, Builder, Compiler, CpuConfig, RunPlan, TimingGate, WorkerCommand};
use std::sync::Arc;

/// colt-measure's worker, built beside these tests by `cargo test
/// --workspace` (or `cargo build --release --workspace`).
pub fn worker() -> WorkerCommand {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(|deps| deps.parent()).unwrap().join("colt-measure-worker");
    assert!(
        path.is_file(),
        "no measurement worker at {} (cargo build --release --workspace builds it)",
        path.display()
    );
    WorkerCommand::new(path)
}

/// The actors on a database `db` in `dir`, kernels cached in `dir`; a quick
/// run plan: these tests check the machinery, not latencies.
pub fn colt(dir: &std::path::Path, db: &str) -> Colt {
    let cache = ArtifactCache::new(dir.join("kernels"));
    let builder = Builder::new(Compiler::system(), cache, TimingGate::new());
    let plan = RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.05 };
    Colt::start(ColtConfig {
        db: dir.join(db),
        models: Vec::new(),
        llm_threads: 1,
        gpu_layers: 0,
        cpu: CpuConfig { plan, ..CpuConfig::default() },
        worker: worker(),
        builder: Arc::new(builder),
        opencl: None,
    })
    .unwrap()
}
