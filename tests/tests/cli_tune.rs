//! `colt tune` end to end: the real small default model, real measurements,
//! the tuning database, resume, Ctrl-C and SIGKILL.

use colt_db::{JobState, TrialRecord, TuningDb};
use colt_e2e::{colt, colt_binary, json_line, repo_root, stderr, stdout};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMALL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

fn require_small_model() {
    assert!(repo_root().join(SMALL).is_file(), "{SMALL} is missing: run `bash scripts/fetch-models.sh`");
}

fn trials_of(db: &Path, job: i64) -> Vec<TrialRecord> {
    TuningDb::open(db).unwrap().job_trials(job).unwrap()
}

fn job_id(out: &Path) -> i64 {
    let text = std::fs::read_to_string(out.join("job.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["job"].as_i64().unwrap()
}

fn assert_unique(trials: &[TrialRecord]) {
    let fingerprints: HashSet<u64> = trials.iter().map(|t| t.fingerprint).collect();
    assert_eq!(fingerprints.len(), trials.len(), "a candidate was measured twice");
    let indices: Vec<u64> = trials.iter().map(|t| t.trial_index).collect();
    assert_eq!(indices, (0..trials.len() as u64).collect::<Vec<_>>(), "trial indices are not 0..n");
}

fn tune_args<'a>(db: &'a str, out: &'a str, trials: &'a str, strategy: &'a str) -> Vec<&'a str> {
    vec![
        "tune",
        "gemm-512",
        "--trials",
        trials,
        "--strategy",
        strategy,
        "--models",
        SMALL,
        "--db",
        db,
        "--out",
        out,
        "--seed",
        "3",
        "--batch",
        "4",
        "--expansions",
        "2",
        "--json",
        "--fresh",
    ]
}

#[test]
fn tune_with_the_small_model_finds_a_verified_kernel_faster_than_naive() {
    require_small_model();
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let (db_s, out_s) = (db.to_str().unwrap(), out.to_str().unwrap());
    let o = colt(&tune_args(db_s, out_s, "8", "colt"));
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_line(&stdout(&o));
    assert_eq!(summary["workload"], "gemm-512");
    assert_eq!(summary["strategy"], "colt");
    assert_eq!(summary["trials"], 8);
    assert_eq!(summary["verified"], true);
    let (naive, best) = (summary["naive_ms"].as_f64().unwrap(), summary["best_ms"].as_f64().unwrap());
    assert!(best < naive, "best {best} ms is not faster than naive {naive} ms");
    let calls = summary["llm_calls"].as_object().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls.values().all(|n| n.as_u64().unwrap() > 0), "the model was never called: {calls:?}");

    let trials = trials_of(&db, job_id(&out));
    assert_eq!(trials.len(), 8, "the database must hold every trial");
    assert_unique(&trials);
    let fastest = trials.iter().filter_map(|t| t.median_ms).fold(f64::INFINITY, f64::min);
    assert_eq!(fastest, best, "the reported best is the database's best");
    let job = TuningDb::open(&db).unwrap().job(job_id(&out)).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    for file in ["report.md", "curve.svg", "curve.png", "kernel.c", "decisions.txt", "summary.json", "job.json"] {
        assert!(out.join(file).is_file(), "{file} missing in --out");
    }

    // `colt show` prints the same kernel the job wrote.
    let o = colt(&["show", "--db", db_s, "--workload", "gemm-512"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kernel = std::fs::read_to_string(out.join("kernel.c")).unwrap();
    assert!(stdout(&o).contains(kernel.trim()), "colt show does not print the job's best kernel");
}

#[test]
fn a_job_that_names_no_strategy_runs_evolutionary_search_and_calls_no_model() {
    // Issue 18's fallback: the default models measured no better than
    // random edits, so the default is the fastest honest strategy. It
    // loads no model: a model file that does not exist is never opened.
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let missing = dir.path().join("no-such-model.gguf");
    let o = colt(&[
        "tune",
        "gemm-512",
        "--trials",
        "3",
        "--models",
        missing.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_line(&stdout(&o));
    assert_eq!(
        (summary["strategy"].as_str(), summary["trials"].as_u64()),
        (Some("evolutionary"), Some(3)),
        "{summary}"
    );
    assert!(summary["llm_calls"].as_object().unwrap().is_empty(), "{summary}");
    assert_eq!(trials_of(&db, job_id(&out)).len(), 3);
    // This machine's limits, measured once (or kept from an earlier
    // database here) and stored in this one: the bound, and the best
    // kernel's share of it, agree between the summary, the report and show.
    let (bound, share, best) = (
        summary["bound_ms"].as_f64().expect("a CPU tune gives its bound"),
        summary["share_of_bound"].as_f64().unwrap(),
        summary["best_ms"].as_f64().unwrap(),
    );
    assert!(bound > 0.0 && (share - bound / best).abs() < 1e-9, "{summary}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("| roofline bound | {bound:.3} ms (compute ")), "{report}");
    // Limits measured under load (other tests beside this one) can put the
    // share above 100%, and the report then says so after the figure.
    assert!(report.contains(&format!("| share of the bound | {:.1}%", share * 100.0)), "{report}");
    let db_s = db.to_str().unwrap();
    let o = colt(&["show", "--db", db_s, "--workload", "gemm-512"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let third = stdout(&o).lines().nth(2).unwrap_or_default().to_string();
    assert!(third.starts_with(&format!("// roofline bound: {bound:.3} ms (compute ")), "{third}");
    assert!(third.contains(&format!("this kernel runs at {:.1}% of it", share * 100.0)), "{third}");
    let o = colt(&["show", "--db", db_s, "--workload", "gemm-512", "--json"]);
    let shown = json_line(&stdout(&o));
    assert_eq!((shown["bound_ms"].as_f64(), shown["share_of_bound"].as_f64()), (Some(bound), Some(share)), "{shown}");
    // Kept in the database: `colt machine` reads them back, not measuring.
    let o = colt(&["machine", "--db", db_s, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(json_line(&stdout(&o))["peak_flops_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn resume_measures_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let (db_s, out_s) = (db.to_str().unwrap(), out.to_str().unwrap());
    let o = colt(&tune_args(db_s, out_s, "6", "mcts"));
    assert!(o.status.success(), "{}", stderr(&o));
    let first = trials_of(&db, job_id(&out));
    assert_eq!(first.len(), 6);
    let mut args = tune_args(db_s, out_s, "11", "mcts");
    args.push("--resume");
    let o = colt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_line(&stdout(&o))["trials"], 11);
    let all = trials_of(&db, job_id(&out));
    assert_eq!(all.len(), 11);
    assert_unique(&all);
    assert_eq!(&all[..6], &first[..], "the first run's records changed");
    // Resuming a finished job at its budget measures nothing.
    let o = colt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(trials_of(&db, job_id(&out)).len(), 11);
}

/// Starts `colt tune` in the background and waits until the database holds
/// `at_least` trials of its job.
fn start_and_wait(args: &[&str], db: &Path, out: &Path, at_least: usize) -> std::process::Child {
    let mut child = Command::new(colt_binary())
        .args(args)
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if out.join("job.json").is_file() && db.is_file() {
            if let Ok(db) = TuningDb::open(db) {
                if db.job_trials(job_id(out)).map(|t| t.len()).unwrap_or(0) >= at_least {
                    return child;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    panic!("the job did not reach {at_least} trials in time: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_killed_job_resumes_with_no_record_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let (db_s, out_s) = (db.to_str().unwrap(), out.to_str().unwrap());
    let mut child = start_and_wait(&tune_args(db_s, out_s, "40", "evolutionary"), &db, &out, 3);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = trials_of(&db, job_id(&out));
    assert!(before.len() >= 3 && before.len() < 40, "{} trials", before.len());
    let target = (before.len() + 4).to_string();
    let mut args = tune_args(db_s, out_s, &target, "evolutionary");
    args.push("--resume");
    let o = colt(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = trials_of(&db, job_id(&out));
    assert_eq!(after.len(), before.len() + 4);
    assert_unique(&after);
    assert_eq!(&after[..before.len()], &before[..], "a record measured before the kill was lost or changed");
}

#[test]
fn ctrl_c_stops_gracefully_with_the_best_kernel_written() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("t.db"), dir.path().join("out"));
    let (db_s, out_s) = (db.to_str().unwrap(), out.to_str().unwrap());
    let child = start_and_wait(&tune_args(db_s, out_s, "40", "random"), &db, &out, 2);
    // SIGINT, as Ctrl-C sends.
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_line(&String::from_utf8_lossy(&o.stdout));
    let trials = summary["trials"].as_u64().unwrap() as usize;
    assert!(trials < 40, "the job did not stop early");
    assert_eq!(trials_of(&db, job_id(&out)).len(), trials, "the summary and the database disagree");
    assert!(out.join("kernel.c").is_file(), "the best kernel so far was not written");
    let job = TuningDb::open(&db).unwrap().job(job_id(&out)).unwrap().unwrap();
    assert_eq!(job.state, JobState::Stopped);
}

#[test]
fn tune_errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nothing-here");
    let o = colt(&["tune", "gemm-512", "--strategy", "genetic"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown strategy `genetic`"), "{}", stderr(&o));
    // An option over its bound is said once (the bound is not also the
    // error's source, which the printed chain would repeat).
    let o = colt(&["tune", "gemm-512", "--strategy", "mcts:screen=99999999"]);
    assert!(!o.status.success());
    assert_eq!(stderr(&o).matches("whole number from 0 to 65536").count(), 1, "{}", stderr(&o));
    let o = colt(&["tune", "gemm-512", "--resume", "--out", out.to_str().unwrap(), "--strategy", "random"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("job.json"), "{}", stderr(&o));
    // A job file that points at another database.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("job.json"),
        r#"{"job": 1, "db": "elsewhere.db", "workload": "gemm-512", "strategy": "random"}"#,
    )
    .unwrap();
    let o = colt(&["tune", "gemm-512", "--resume", "--out", out.to_str().unwrap(), "--strategy", "random"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("elsewhere.db"), "{}", stderr(&o));
    // Wall-clock budgets no `Duration` holds (these used to panic).
    for bad in ["-1", "0", "nan", "inf", "1e300", "soon"] {
        let flag = format!("--wall-s={bad}");
        let o = colt(&["tune", "gemm-512", "--strategy", "random", flag.as_str()]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--wall-s") && stderr(&o).contains(&format!("'{bad}'")), "{}", stderr(&o));
    }
    // Model layers on a GPU in a CPU-only build (CI's): an error naming
    // the model file and the flag, not a job that quietly runs on the CPU.
    if colt_llm::GPU_BACKEND.is_none() {
        require_small_model();
        let (db, gpu_out) = (dir.path().join("gpu.db"), dir.path().join("gpu-out"));
        let o = colt(&[
            "tune",
            "gemm-512",
            "--strategy",
            "colt",
            "--trials",
            "1",
            "--models",
            SMALL,
            "--gpu-layers",
            "8",
            "--db",
            db.to_str().unwrap(),
            "--out",
            gpu_out.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(err.contains(SMALL) && err.contains("--gpu-layers 8") && err.contains("--features cuda"), "{err}");
    }
    let o = colt(&["tune", "no-such-workload", "--strategy", "random"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no-such-workload"), "{}", stderr(&o));
    let o = colt(&["show", "--db", dir.path().join("none.db").to_str().unwrap(), "--workload", "gemm-512"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("none.db"), "{}", stderr(&o));
}
