//! Real kernels of colt-ir through the whole CPU flow: the naive kernel
//! and a random scheduled candidate (scratch buffers, parallel phases,
//! barriers) of every workload of the suite verify and get a timing.

mod common;

use colt_ir::schedule::Candidate;
use colt_measure::KernelSource;
use common::*;
use std::sync::Arc;

#[test]
fn the_naive_kernel_and_a_scheduled_candidate_of_every_workload_verify() {
    let cache = tempfile::tempdir().unwrap();
    // One timed run after the check run: the naive kernels take seconds.
    let mut config = config(std::time::Duration::from_secs(60));
    config.plan = colt_measure::RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.0 };
    let mut measurer = colt_measure::CpuMeasurer::new(builder(cache.path()), worker(), config);
    for workload in colt_ir::SUITE {
        let program = Arc::new(workload.program(colt_ir::Size::Bench));
        let candidate = Candidate::sample(program.clone(), 1);
        for kernel in [KernelSource::naive(&program), KernelSource::candidate(&candidate)] {
            let m = measurer.measure(&program, &kernel).unwrap_or_else(|e| panic!("{}: {e}", kernel.name));
            assert!(m.max_rel_err <= colt_ir::data::TOLERANCE);
            assert!(
                m.timing.runs >= 1 && m.timing.min_ms <= m.timing.median_ms && m.timing.median_ms <= m.timing.max_ms
            );
            eprintln!("{}: {:.3} ms ({} runs, err {:.1e})", m.kernel, m.timing.median_ms, m.timing.runs, m.max_rel_err);
        }
    }
    assert_eq!(measurer.workers_spawned(), 1);
}
