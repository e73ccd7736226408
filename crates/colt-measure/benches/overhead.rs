//! The measurement overhead per candidate, phase by phase (build, load,
//! reference, check run, verify), cold (empty build cache, first reference
//! of the workload) and cached (the same candidate again), for the naive
//! kernel and a random candidate of every workload of the suite. The timed
//! runs themselves are the kernel's cost, not overhead, and are cut to one.
//!
//! ```text
//! cargo bench -p colt-measure --bench overhead
//! ```

use colt_ir::schedule::Candidate;
use colt_measure::{
    ArtifactCache, Builder, Compiler, CpuConfig, CpuMeasurer, KernelSource, Phases, RunPlan, TimingGate, WorkerCommand,
};
use std::sync::Arc;

fn row(name: &str, state: &str, p: &Phases) {
    let ms = |s: f64| format!("{:.2}", s * 1e3);
    println!(
        "| {name} | {state} | {} | {} | {} | {} | {} |",
        ms(p.build),
        ms(p.load),
        ms(p.reference),
        ms(p.check_run),
        ms(p.verify)
    );
}

fn main() {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let builder = Arc::new(Builder::new(Compiler::system(), ArtifactCache::new(cache.path()), TimingGate::new()));
    let config = CpuConfig {
        plan: RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.0 },
        timeout: std::time::Duration::from_secs(60),
        ..CpuConfig::default()
    };
    let worker = WorkerCommand::new(env!("CARGO_BIN_EXE_colt-measure-worker"));
    let mut measurer = CpuMeasurer::new(builder, worker, config);
    println!("milliseconds per phase; check run = sending the request, one kernel run, returning the outputs");
    println!("| kernel | state | build | load | reference | check run | verify |");
    println!("|---|---|---|---|---|---|---|");
    for workload in colt_ir::SUITE {
        let program = Arc::new(workload.program(colt_ir::Size::Bench));
        let kernels = [KernelSource::naive(&program), KernelSource::candidate(&Candidate::sample(program.clone(), 1))];
        for kernel in kernels {
            for state in ["cold", "cached"] {
                match measurer.measure(&program, &kernel) {
                    Ok(m) => row(&kernel.name, state, &m.phases),
                    Err(e) => println!("| {} | {state} | failed: {e} |", kernel.name),
                }
            }
        }
    }
}
