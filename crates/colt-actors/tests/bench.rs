//! [`Colt::bench`], the bench runner: real actors, a real measurement
//! worker and a real database, no models (model-free strategies).

use colt_actors::{BenchPlan, BenchProgress, Colt, ColtError};
use colt_measure::Target;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod common;

fn colt(dir: &std::path::Path) -> Colt {
    common::colt(dir, "bench.db")
}

fn plan(workloads: &[&str], strategies: &[&str], repeats: usize, target: Target) -> BenchPlan {
    BenchPlan {
        workloads: workloads
            .iter()
            .map(|w| Arc::new(colt_ir::load_workload(w, colt_ir::Size::Bench).unwrap()))
            .collect(),
        strategies: strategies.iter().map(|s| s.parse().unwrap()).collect(),
        budgets: vec![2, 3],
        repeats,
        seed: 5,
        target_speedup: 2.0,
        full: false,
        target,
        params: Default::default(),
    }
}

/// The progress as text, one line per report, the trials left out.
fn line(progress: &BenchProgress<'_>) -> Option<String> {
    Some(match progress {
        BenchProgress::RunStarted { workload, strategy, seed } => format!("start {workload} {strategy} {seed}"),
        BenchProgress::Trials { .. } => return None,
        BenchProgress::RunFailed { workload, strategy, seed, error } => {
            format!("failed {workload} {strategy} {seed}: {error}")
        }
        BenchProgress::RunEnded => "end".into(),
        BenchProgress::WorkloadDone(report) => format!("done {}", report.workloads.len()),
    })
}

#[test]
fn a_job_per_repeat_with_the_largest_budget_and_consecutive_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let colt = colt(dir.path());
    let plan = plan(&["gemm-512"], &["random"], 2, Target::Cpu);
    assert_eq!(plan.runs(), 2);
    let (mut lines, mut trials) = (Vec::new(), Vec::new());
    let report = colt.bench(&plan, Arc::new(AtomicBool::new(false)), |p| {
        if let BenchProgress::Trials { trials: n, .. } = p {
            trials.push(n);
        }
        lines.extend(line(&p));
    });
    assert_eq!(lines, ["start gemm-512 random 5", "end", "start gemm-512 random 6", "end", "done 1"]);
    assert!(trials.contains(&3), "the running job's trials are reported: {trials:?}");
    assert_eq!(
        (report.target.clone(), report.budgets.as_slice(), report.repeats),
        (Target::Cpu.label(), &[2, 3][..], 2)
    );
    let w = &report.workloads[0];
    assert!(w.naive_ms > 0.0 && w.flops > 0);
    let s = &w.strategies[0];
    assert_eq!(s.runs.iter().map(|r| (r.seed, r.curve.len())).collect::<Vec<_>>(), [(5, 3), (6, 3)]);
    if let (Some(best), Some(x)) = (s.best_ms[&3], s.speedup[&3]) {
        assert_eq!(x, w.naive_ms / best, "speedups are over the workload's one baseline");
    }
    assert!(s.llm_calls.is_empty() && s.largest_model_share.is_none());
}

#[test]
fn a_failed_job_is_an_empty_run_and_a_stop_ends_the_bench_with_its_workload() {
    let dir = tempfile::tempdir().unwrap();
    let colt = colt(dir.path());
    // This Colt opened no OpenCL device: every job fails before measuring.
    let plan = plan(&["gemm-512", "flux-conv"], &["random", "mcts"], 2, "opencl:pocl / cpu".parse().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let mut lines = Vec::new();
    let report = colt.bench(&plan, stop.clone(), |p| {
        if let BenchProgress::RunFailed { error, .. } = p {
            assert!(matches!(error, ColtError::NoOpenClDevice { .. }), "{error}");
        }
        if matches!(p, BenchProgress::RunEnded) && lines.iter().filter(|l| *l == "end").count() == 2 {
            // Ctrl-C during the third run: it ends, the workload's other runs are not started.
            stop.store(true, Ordering::Relaxed);
        }
        lines.extend(line(&p));
    });
    let failed = "needs an OpenCL device, and this colt process opened none";
    assert_eq!(lines.len(), 10, "{lines:#?}");
    for (i, seed) in [(0, 5), (3, 6), (6, 5)] {
        let strategy = if i < 6 { "random" } else { "mcts" };
        assert_eq!(lines[i], format!("start gemm-512 {strategy} {seed}"));
        assert!(lines[i + 1].starts_with(&format!("failed gemm-512 {strategy} {seed}: ")));
        assert!(lines[i + 1].ends_with(failed), "{}", lines[i + 1]);
        assert_eq!(lines[i + 2], "end");
    }
    assert_eq!(lines[9], "done 1");
    assert_eq!(report.workloads.len(), 1, "the stop ends the bench after its workload");
    let w = &report.workloads[0];
    assert!(w.naive_ms.is_nan(), "no job measured the naive kernel");
    let runs: Vec<Vec<(u64, usize)>> =
        w.strategies.iter().map(|s| s.runs.iter().map(|r| (r.seed, r.curve.len())).collect()).collect();
    assert_eq!(runs, [vec![(5, 0), (6, 0)], vec![(5, 0)]]);
    assert!(w.strategies.iter().all(|s| s.best_ms.values().all(Option::is_none)));
}
