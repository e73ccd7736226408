//! The daemon's job queue without HTTP: real actors, a real measurement
//! worker and a real database, no models (model-free strategies).

use colt_actors::daemon::views::JobEvent;
use colt_actors::daemon::{Daemon, JobError, Submit, SubmitError};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

fn daemon(dir: &std::path::Path, max_jobs: usize) -> Arc<Daemon> {
    Daemon::start(common::colt(dir, "colt.db"), max_jobs, 1).unwrap().0
}

fn submit(workload: &str, strategy: &str, trials: usize) -> Submit {
    serde_json::from_value(serde_json::json!({"workload": workload, "strategy": strategy, "trials": trials})).unwrap()
}

fn wait_for(daemon: &Daemon, id: i64, state: &str) -> colt_actors::daemon::views::JobView {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let view = daemon.job(id).unwrap();
        if view.state == state {
            return view;
        }
        assert!(Instant::now() < deadline, "job {id} is still {} (waited for {state})", view.state);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_submitted_job_runs_streams_its_events_and_serves_its_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), 8);
    let id = daemon.submit(submit("gemm-512", "random", 3)).unwrap();
    let events: Arc<Mutex<Vec<JobEvent>>> = Arc::default();
    let sink = events.clone();
    daemon
        .subscribe(
            id,
            Box::new(move |e| {
                sink.lock().push(e.clone());
                true
            }),
        )
        .unwrap();
    let done = wait_for(&daemon, id, "done");
    assert_eq!((done.trials, done.trial_budget, done.strategy.as_str()), (3, 3, "random"));
    assert!(done.best_ms.is_some_and(|ms| ms > 0.0), "{done:?}");
    // The stream: the state first, then the job's own events, the end last.
    let deadline = Instant::now() + Duration::from_secs(10);
    while events.lock().last().is_none_or(|e| e.kind != "end") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let kinds: Vec<&str> = events.lock().iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&"state"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"end"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "trial").count(), 3, "{kinds:?}");
    assert!(kinds.contains(&"baseline"), "{kinds:?}");
    assert_eq!(events.lock().last().unwrap().data["state"], "done");

    let kernel = daemon.kernel(id).unwrap();
    assert_eq!(
        (kernel.job, kernel.target.clone(), kernel.best_ms),
        (id, colt_measure::Target::Cpu.label(), done.best_ms)
    );
    assert!(kernel.source.contains("void colt_kernel("), "{}", kernel.source);
    let metrics = daemon.metrics().unwrap();
    assert!(metrics.contains("colt_jobs{state=\"done\"} 1") && metrics.contains("colt_trials_total 3"), "{metrics}");
    assert_eq!(daemon.jobs().unwrap().len(), 1);
    daemon.shutdown();

    // A finished job's baseline and speedup come from its row: a daemon
    // that did not run it (here, the next start) showed them as null.
    let again = self::daemon(dir.path(), 8);
    let view = again.job(id).unwrap();
    let (naive, best) = (view.naive_ms.expect("the row holds the baseline"), view.best_ms.unwrap());
    assert!(naive > 0.0 && view.speedup == Some(naive / best), "{view:?}");
    assert!(again.jobs().unwrap().iter().all(|j| j.naive_ms == Some(naive)));
    again.shutdown();
}

#[test]
fn a_job_that_names_no_strategy_runs_the_default_without_models() {
    // The default is model-free (issue 18's fallback: the default models
    // measured no better than random edits), so a daemon started without
    // models takes a job that names no strategy.
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), 1);
    let plain = serde_json::json!({"workload": "gemm-512", "trials": 2});
    let id = daemon.submit(serde_json::from_value(plain).unwrap()).unwrap();
    let done = wait_for(&daemon, id, "done");
    assert_eq!((done.trials, done.strategy.as_str()), (2, "evolutionary"), "{done:?}");
    daemon.shutdown();
}

#[test]
fn bad_submissions_are_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), 1);
    let invalid = |s: Submit| match daemon.submit(s) {
        Err(SubmitError::Invalid(message)) => message,
        other => panic!("expected an invalid submission, got {other:?}"),
    };
    assert!(invalid(submit("gemm-512", "colt", 8)).contains("needs models"));
    assert!(invalid(submit("gemm-513", "random", 8)).contains("no built-in workload `gemm-513`"));
    assert!(invalid(submit("gemm-512", "genetic", 8)).contains("unknown strategy `genetic`"));
    assert!(invalid(submit("gemm-512", "random", 0))
        .contains("trials 0: a job's trial budget is a whole number from 1 to 100000"));
    for wall_s in [-1.0, 0.0, 1e300, f64::NAN, f64::INFINITY] {
        let mut s = submit("gemm-512", "random", 8);
        s.wall_s = Some(wall_s);
        let message = invalid(s);
        assert!(message.contains("wall_s") && message.contains("30 days"), "{wall_s}: {message}");
    }
    let other_target = serde_json::json!({"workload": "gemm-512", "target": "opencl:X / Y"});
    assert!(invalid(serde_json::from_value(other_target).unwrap()).contains("this daemon tunes for"));
    // `opencl` is a known target that a CPU-only daemon does not serve.
    let opencl = serde_json::json!({"workload": "gemm-512", "target": "opencl"});
    assert!(invalid(serde_json::from_value(opencl).unwrap()).contains("start it with `--target opencl`"));
    let text = serde_json::json!({"workload_text": "input A[4]\noutput B[4]\nB[i] = A[i] *\n"});
    assert!(invalid(serde_json::from_value(text).unwrap()).contains("workload_text does not parse"));
    // 4 TB of buffers: accepted once, and the reference interpreter's
    // allocation took the daemon down.
    let huge = serde_json::json!({"workload_text": "input A[1000000, 1000000]\noutput C[1000000, 1000000]\nC[i, j] = A[i, j] * 2.0\n", "strategy": "random", "trials": 1});
    assert!(invalid(serde_json::from_value(huge).unwrap()).contains("MAX_BUFFER_ELEMENTS"));
    let wrapping = serde_json::json!({"workload_text": "input A[8]\noutput C[8]\nC[i] = A[i * 7905747460161236407]\n", "strategy": "random", "trials": 1});
    assert!(invalid(serde_json::from_value(wrapping).unwrap()).contains("MAX_INDEX_MAGNITUDE"));

    // One unfinished job at most: a second is refused until the first ends.
    let first = daemon.submit(submit("gemm-512", "random", 2000)).unwrap();
    assert!(matches!(
        daemon.submit(submit("gemm-512", "random", 1)),
        Err(SubmitError::TooMany { unfinished: 1, max_jobs: 1 })
    ));
    daemon.cancel(first).unwrap();
    wait_for(&daemon, first, "cancelled");
    assert!(matches!(daemon.cancel(first), Err(JobError::Finished { .. })));
    assert!(matches!(daemon.cancel(first + 1), Err(JobError::NoSuchJob(_))));
    assert!(matches!(daemon.kernel(first + 1), Err(JobError::NoSuchJob(_))));
    daemon.shutdown();
}

/// A row queued before submissions were checked, with a wall-clock budget
/// no `Duration` holds: it fails naming it, and the scheduler goes on (it
/// used to panic, and no job ran again).
#[test]
fn a_stored_job_with_an_impossible_wall_clock_budget_fails_and_the_next_runs() {
    let dir = tempfile::tempdir().unwrap();
    let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
    let bad = colt_db::TuningDb::open(&dir.path().join("colt.db"))
        .unwrap()
        .create_job(&colt_db::NewJob {
            workload: "gemm-512".into(),
            workload_text: colt_ir::print_program(&program),
            workload_fingerprint: colt_ir::workload_fingerprint(&program),
            target: colt_measure::Target::Cpu.label(),
            strategy: "random".into(),
            trials: 2,
            seed: 0,
            options_json: r#"{"wall_s": -1.0}"#.into(),
        })
        .unwrap();
    let daemon = daemon(dir.path(), 8);
    let failed = wait_for(&daemon, bad, "failed");
    let error = failed.error.unwrap_or_default();
    assert!(error.contains("wall_s") && error.contains("not -1"), "{error}");
    let next = daemon.submit(submit("gemm-512", "random", 2)).unwrap();
    wait_for(&daemon, next, "done");
    daemon.shutdown();
}
