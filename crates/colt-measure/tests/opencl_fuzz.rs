//! Compiler fuzzing of the OpenCL schedule space on this machine's CPU
//! OpenCL (pocl): random OpenCL candidates of every workload of the suite
//! build, run and compute what the reference interpreter computes.
//!
//! Counts: `COLT_OPENCL_FUZZ=N` sets the candidates per workload (CI runs
//! the default below).

use colt_ir::schedule::{lower, Candidate, Placement, Target};
use colt_ir::Size;
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClKernel, OpenClMeasurer};
use colt_measure::RunPlan;
use std::sync::Arc;

fn cases(default: u64) -> u64 {
    std::env::var("COLT_OPENCL_FUZZ").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn measurer() -> OpenClMeasurer {
    // pocl is the platform scripts/setup.sh installs; the test fails, never
    // skips, when it is missing.
    let device = OpenClDevice::open(&DeviceChoice::named("portable", 0)).unwrap_or_else(|e| panic!("{e}"));
    let plan = RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.0 };
    OpenClMeasurer::new(device, OpenClConfig { plan, seed: colt_ir::data::DEFAULT_SEED })
}

#[test]
fn random_opencl_candidates_of_the_suite_match_the_reference_on_pocl() {
    let measurer = measurer();
    let count = cases(4);
    let mut staged = 0;
    let mut fused = 0;
    let mut vector = 0;
    for w in colt_ir::SUITE {
        let program = Arc::new(w.program(Size::Bench));
        for seed in 0..count {
            let seed = seed * 7919 + 13;
            let c = Candidate::sample_on(program.clone(), Target::OpenCl, seed);
            let nest = lower(&c);
            let kernel = OpenClKernel::from_nest(&nest);
            if let Err(e) = measurer.measure(&program, &kernel) {
                panic!("{} seed {seed}: {e}\n{}\n{}", w.name, c.decisions_text(), kernel.source);
            }
            staged += c.stages().iter().filter(|s| !s.local.is_empty()).count();
            fused += c.stages().iter().filter(|s| matches!(s.placement, Placement::At { .. })).count();
            vector += c.stages().iter().filter(|s| s.vector > 1).count();
        }
    }
    // The draws reach the space's features, not just its plain corner.
    assert!(staged > 0 && fused > 0 && vector > 0, "staged {staged}, computed-at {fused}, vectorised {vector}");
}
