//! Compiler fuzzing of the OpenCL schedule space on this machine's CPU
//! OpenCL (pocl): random OpenCL candidates — sampled, then walked by random
//! legal edits as the search walks them — of every workload of the suite,
//! of colt-ir's held-back shapes and of random programs build, run and
//! compute what the reference interpreter computes. A failure prints the
//! candidate's decisions and lineage and the kernel's source.
//!
//! Counts: `COLT_OPENCL_FUZZ=N` sets the candidates per workload (CI runs
//! the default, 4; `N=24` runs 144 suite candidates in about 3 minutes).

// colt-ir's generator of random valid programs, shared with its own fuzz
// tests rather than copied.
#[path = "../../colt-ir/tests/common/random_program.rs"]
#[allow(dead_code)]
mod random_program;

use colt_ir::schedule::{legal_edits, Candidate, Edit, Placement, Rng, Target};
use colt_ir::{Program, Size};
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClKernel, OpenClMeasurer};
use colt_measure::RunPlan;
use std::path::Path;
use std::sync::Arc;

fn cases() -> u64 {
    std::env::var("COLT_OPENCL_FUZZ").ok().and_then(|v| v.parse().ok()).unwrap_or(4)
}

fn measurer() -> OpenClMeasurer {
    // pocl is the platform scripts/setup.sh installs; the test fails, never
    // skips, when it is missing.
    let device = OpenClDevice::open(&DeviceChoice::named("portable", 0)).unwrap_or_else(|e| panic!("{e}"));
    let plan = RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.0 };
    OpenClMeasurer::new(device, OpenClConfig { plan, seed: colt_ir::data::DEFAULT_SEED })
}

/// What the draws reached, so that a test can insist on it.
#[derive(Default)]
struct Reached {
    candidates: usize,
    staged: usize,
    fused: usize,
    vector: usize,
    registers: usize,
}

/// A candidate of seed `seed`, then `walk` random legal edits.
fn candidate(program: &Arc<Program>, seed: u64, walk: usize) -> (Candidate, Vec<Edit>) {
    let mut c = Candidate::sample_on(program.clone(), Target::OpenCl, seed);
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut edits = Vec::new();
    for _ in 0..walk {
        let legal = legal_edits(&c);
        if legal.is_empty() {
            break;
        }
        let edit = legal[rng.below(legal.len())].clone();
        c = edit.apply(&c).unwrap_or_else(|e| panic!("a listed edit does not apply: {e}"));
        edits.push(edit);
    }
    (c, edits)
}

fn check(measurer: &OpenClMeasurer, program: &Arc<Program>, seed: u64, walk: usize, reached: &mut Reached) {
    let (c, edits) = candidate(program, seed, walk);
    let kernel = OpenClKernel::candidate(&c);
    if let Err(e) = measurer.measure(program, &kernel) {
        let edits: Vec<String> = edits.iter().map(|e| format!(" --apply '{e}'")).collect();
        panic!("{} seed {seed}{}: {e}\n{}\n{}", program.name(), edits.concat(), c.decisions_text(), kernel.source);
    }
    reached.candidates += 1;
    for s in c.stages() {
        reached.staged += usize::from(!s.local.is_empty());
        reached.fused += usize::from(matches!(s.placement, Placement::At { .. }));
        reached.vector += usize::from(s.vector > 1);
        reached.registers += usize::from(s.accumulator == colt_ir::schedule::Accumulator::Registers);
    }
}

#[test]
fn random_opencl_candidates_of_the_suite_match_the_reference_on_pocl() {
    let measurer = measurer();
    let mut reached = Reached::default();
    for w in colt_ir::SUITE {
        let program = Arc::new(w.program(Size::Bench));
        for i in 0..cases() {
            // Half sampled as they are, half walked 6 edits further.
            check(&measurer, &program, i * 7919 + 13, if i % 2 == 0 { 0 } else { 6 }, &mut reached);
        }
    }
    let r = &reached;
    assert!(
        r.staged > 0 && r.fused > 0 && r.vector > 0 && r.registers > 0,
        "{} {} {} {}",
        r.staged,
        r.fused,
        r.vector,
        r.registers
    );
}

#[test]
fn random_opencl_candidates_of_held_back_shapes_and_random_programs_match_the_reference_on_pocl() {
    let measurer = measurer();
    let mut reached = Reached::default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../colt-ir/tests/workloads");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 4, "colt-ir's held-back workloads are missing from {}", dir.display());
    for path in paths {
        let program = Arc::new(colt_ir::load_workload(path.to_str().unwrap(), Size::Bench).unwrap());
        for i in 0..cases() {
            check(&measurer, &program, i * 104_729 + 5, if i % 2 == 0 { 0 } else { 6 }, &mut reached);
        }
    }
    for i in 0..3 * cases() {
        let def = random_program::random_program(i * 31 + 1);
        let program = Arc::new(Program::from_def(&def).expect("random programs are valid"));
        check(&measurer, &program, i, (i % 3) as usize * 3, &mut reached);
    }
    assert!(reached.candidates as u64 >= 7 * cases());
}
