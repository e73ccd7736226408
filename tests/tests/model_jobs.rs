//! `POST /v1/model-jobs`: a whole model tuned by the daemon — from its
//! hyperparameters or a GGUF file on the server — every task an ordinary
//! job, the per-task progress in `GET /v1/model-jobs/{id}`, a model job
//! that survives a SIGKILL with nothing measured twice, ordinary jobs
//! served between its rounds, and `colt export --model-job` writing the
//! library of its kernels.

use colt_db::{JobState, TuningDb};
use colt_e2e::{colt, stderr, submit, Daemon};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// A small llama (GQA 4:2) whose tasks compile and run in milliseconds.
const TINY_LLAMA: &str = r#"{"architecture": "llama", "embedding": 64, "blocks": 2, "feed_forward": 96,
    "heads": 4, "kv_heads": 2, "vocabulary": 128}"#;

fn model_job(hyperparameters: &str, rest: &str) -> String {
    format!(r#"{{"hyperparameters": {hyperparameters}, "name": "tiny", "seq": 8, {rest}}}"#)
}

fn wait_model(daemon: &Daemon, id: i64, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let job = daemon.get(&format!("/v1/model-jobs/{id}"));
        assert_eq!(job.status, 200, "{}", job.body);
        let job = job.json();
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "model job {id} did not get there: {job}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Each task's job: its trials' fingerprints, all distinct.
fn task_trials(db: &Path, job: &serde_json::Value) -> Vec<(i64, usize)> {
    let db = TuningDb::open(db).unwrap();
    job["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["job"].as_i64())
        .map(|id| {
            let trials = db.job_trials(id).unwrap();
            let distinct: HashSet<u64> = trials.iter().map(|t| t.fingerprint).collect();
            assert_eq!(distinct.len(), trials.len(), "job {id} measured a candidate twice");
            (id, trials.len())
        })
        .collect()
}

#[test]
fn a_model_job_tunes_every_task_serves_ordinary_jobs_between_rounds_and_exports_its_library() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let r = daemon.post("/v1/model-jobs", &model_job(TINY_LLAMA, r#""trials": 30, "round": 3, "strategy": "random""#));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    // An ordinary job submitted once the model job is under way runs
    // before it ends: the model job yields between rounds.
    wait_model(&daemon, id, |j| j["rounds"].as_u64().unwrap_or(0) >= 1);
    let single = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 2}"#);
    daemon.wait_state(single, "done");
    let meanwhile = daemon.get(&format!("/v1/model-jobs/{id}")).json();
    assert_ne!(meanwhile["state"], "done", "the model job did not let the single job in between rounds: {meanwhile}");

    let job = wait_model(&daemon, id, |j| j["state"] == "done");
    let tasks = job["tasks"].as_array().unwrap();
    let names: Vec<&str> = tasks.iter().map(|t| t["task"].as_str().unwrap()).collect();
    // norm, q/o (64x64), k/v (64x32), attention, mlp, head: identical shapes are one task.
    assert!(names.contains(&"tiny.prefill8.norm"), "{names:?}");
    assert!(names.contains(&"tiny.prefill8.attention"), "{names:?}");
    assert!(names.contains(&"tiny.prefill8.mlp"), "{names:?}");
    assert_eq!(names.len(), 6, "{names:?}");
    let norm = tasks.iter().find(|t| t["task"] == "tiny.prefill8.norm").unwrap();
    assert_eq!(norm["count"], 2 * 2 + 1);
    assert_eq!(job["trials"], 30, "{job}");
    assert_eq!(job["trial_budget"], 30);
    let measured = task_trials(&db, &job);
    assert_eq!(measured.iter().map(|(_, n)| n).sum::<usize>(), 30);
    for t in tasks {
        assert!(t["trials"].as_u64().unwrap() >= 3, "every task gets its warm-up round: {t}");
        let task_job = daemon.get(&format!("/v1/jobs/{}", t["job"])).json();
        assert_eq!(task_job["state"], "done", "{task_job}");
        assert_eq!(task_job["workload"], t["task"]);
        assert!(t["naive_ms"].as_f64().unwrap() > 0.0);
        assert!(t["best_ms"].as_f64().unwrap() > 0.0);
    }
    let pass: f64 = tasks.iter().map(|t| t["count"].as_f64().unwrap() * t["best_ms"].as_f64().unwrap()).sum();
    let reported = job["tuned_pass_ms"].as_f64().unwrap();
    assert!((pass - reported).abs() <= 1e-9 * pass, "Σ count × best {pass} against {reported}");
    assert!(job["naive_pass_ms"].as_f64().unwrap() > 0.0);
    let listed = daemon.get("/v1/model-jobs").json();
    assert_eq!(listed["model_jobs"][0]["id"], id);
    let metrics = daemon.get("/metrics").body;
    assert!(metrics.contains("colt_model_jobs{state=\"done\"} 1"), "{metrics}");
    drop(daemon);

    let out = dir.path().join("lib");
    let export =
        colt(&["export", "--db", db.to_str().unwrap(), "--model-job", &id.to_string(), "--out", out.to_str().unwrap()]);
    assert!(export.status.success(), "{}", stderr(&export));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("kernels.json")).unwrap()).unwrap();
    let entries = manifest.as_array().or_else(|| manifest["kernels"].as_array()).unwrap();
    assert_eq!(entries.len(), 6, "{manifest}");
    let norm = entries.iter().find(|e| e["task"] == "tiny.prefill8.norm").unwrap();
    assert_eq!(norm["count"], 5);
    assert!(out.join("colt_kernels.h").is_file() && out.join("build.sh").is_file());
}

#[test]
fn a_killed_daemon_resumes_its_model_job_where_it_stood() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let mut daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let body = model_job(TINY_LLAMA, r#""trials": 24, "round": 2, "strategy": "evolutionary", "seed": 3"#);
    let r = daemon.post("/v1/model-jobs", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let before = wait_model(&daemon, id, |j| j["rounds"].as_u64().unwrap_or(0) >= 4);
    daemon.child.kill().unwrap(); // SIGKILL, mid-round or between rounds
    daemon.child.wait().unwrap();
    let jobs_before: Vec<i64> = before["tasks"].as_array().unwrap().iter().filter_map(|t| t["job"].as_i64()).collect();
    assert!(jobs_before.len() >= 2, "{before}");
    let stored = TuningDb::open(&db).unwrap().model_job(id).unwrap().unwrap();
    assert_eq!(stored.state, JobState::Running);

    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let after = wait_model(&daemon, id, |j| j["state"] == "done");
    let jobs_after: Vec<i64> = after["tasks"].as_array().unwrap().iter().filter_map(|t| t["job"].as_i64()).collect();
    assert_eq!(&jobs_after[..jobs_before.len()], &jobs_before[..], "tasks' jobs must be resumed, not started again");
    let measured = task_trials(&db, &after);
    assert_eq!(measured.iter().map(|(_, n)| n).sum::<usize>(), 24, "{after}");
    assert_eq!(after["trials"], 24);
}

#[test]
fn bad_model_jobs_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    // The daemon's models folder: a file that is no GGUF, and the tests'
    // small model linked in, as an owner links models from a shared store.
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::fs::write(models.join("text.gguf"), "not a model").unwrap();
    let smollm = colt_llm::default_models_dir().join(colt_llm::TEST_SMALL_MODEL_FILE).canonicalize().unwrap();
    std::os::unix::fs::symlink(&smollm, models.join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "root:the-first-bytes-of-a-secret").unwrap();
    let daemon = Daemon::start(&db, "127.0.0.1", &["--max-jobs", "1", "--models-dir", models.to_str().unwrap()]);
    let missing = models.join("nowhere.gguf");
    let outside = "is not a file in the daemon's models folder";
    let cases: Vec<(String, u16, &str)> = vec![
        (r#"{"trials": 8}"#.into(), 400, "exactly one of `model_path`"),
        (
            format!(r#"{{"model_path": "{}", "hyperparameters": {TINY_LLAMA}}}"#, missing.display()),
            400,
            "exactly one of",
        ),
        (format!(r#"{{"model_path": "{}"}}"#, missing.display()), 400, "nowhere.gguf"),
        (r#"{"model_path": "text.gguf"}"#.into(), 400, "is not a GGUF file"),
        // Any file the daemon could read was opened, and its first bytes
        // quoted in the error (`/etc/shadow`: "root").
        (format!(r#"{{"model_path": "{}"}}"#, secret.display()), 400, outside),
        (r#"{"model_path": "../secret.txt"}"#.into(), 400, outside),
        (format!(r#"{{"model_path": "{}/../secret.txt"}}"#, models.display()), 400, outside),
        (r#"{"model_path": "/etc/passwd"}"#.into(), 400, outside),
        (r#"{"model_path": ""}"#.into(), 400, outside),
        (model_job(&TINY_LLAMA.replace("llama", "gpt2"), r#""trials": 8"#), 400, "architecture `gpt2`"),
        (
            model_job(&TINY_LLAMA.replace("\"embedding\": 64", "\"embedding\": 1000000"), r#""trials": 8"#),
            400,
            "elements",
        ),
        (model_job(&TINY_LLAMA.replace("\"blocks\": 2", "\"blocks\": 0"), r#""trials": 8"#), 400, "block count is 0"),
        (model_job(&TINY_LLAMA.replace("\"heads\": 4", "\"heads\": 0"), r#""trials": 8"#), 400, "head count is 0"),
        (model_job(&TINY_LLAMA.replace("\"kv_heads\": 2", "\"kv_heads\": 3"), r#""trials": 8"#), 400, "evenly"),
        (format!(r#"{{"hyperparameters": {TINY_LLAMA}, "seq": 100000}}"#), 400, "seq must be in 1..=8192"),
        (model_job(TINY_LLAMA, r#""trials": 0"#), 400, "trials 0: a model job's trial budget"),
        (model_job(TINY_LLAMA, r#""trials": 8, "round": 0"#), 400, "round 0"),
        (model_job(TINY_LLAMA, r#""trials": 100000, "round": 1"#), 400, "4096 rounds"),
        (model_job(TINY_LLAMA, r#""trials": 8, "scheduler": "fastest""#), 400, "scheduler"),
        (model_job(TINY_LLAMA, r#""trials": 8, "strategy": "magic""#), 400, "magic"),
        (model_job(TINY_LLAMA, r#""trials": 8, "colour": "red""#), 400, "unknown field `colour`"),
        (format!(r#"{{"hyperparameters": {TINY_LLAMA}, "name": "a b"}}"#), 400, "name"),
    ];
    for (body, status, message) in &cases {
        let r = daemon.post("/v1/model-jobs", body);
        assert_eq!(r.status, *status, "{body}: {}", r.body);
        assert!(r.body.contains(message), "{body}: expected `{message}` in {}", r.body);
        assert!(!r.body.contains("root") && !r.body.contains("not a model"), "a file's contents quoted: {}", r.body);
    }
    assert_eq!(daemon.get("/v1/model-jobs/99").status, 404);
    assert_eq!(daemon.get("/v1/model-jobs").json()["model_jobs"], serde_json::json!([]));
    // A GGUF file on the server (the tests' small model) names the
    // tasks after its stem. --max-jobs counts model jobs: the second is
    // refused; the first is cancelled, and cannot be cancelled again.
    let body = r#"{"model_path": "SmolLM2-135M-Instruct.Q4_1.gguf", "seq": 8, "trials": 400, "strategy": "random"}"#;
    let r = daemon.post("/v1/model-jobs", body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let stem = smollm.file_stem().unwrap().to_string_lossy().to_lowercase();
    let job = daemon.get(&format!("/v1/model-jobs/{id}")).json();
    let first = job["tasks"][0]["task"].as_str().unwrap().to_string();
    assert_eq!(first, format!("{stem}.prefill8.norm"), "{job}");
    let r = daemon.post("/v1/model-jobs", &model_job(TINY_LLAMA, r#""trials": 8"#));
    assert_eq!(r.status, 429, "{}", r.body);
    let cancel = colt_e2e::http(&daemon.addr, "DELETE", &format!("/v1/model-jobs/{id}"), &[], None);
    assert_eq!(cancel.status, 202, "{}", cancel.body);
    let job = wait_model(&daemon, id, |j| j["state"] == "cancelled");
    assert!(job["trials"].as_u64().unwrap() < 400, "{job}");
    let again = colt_e2e::http(&daemon.addr, "DELETE", &format!("/v1/model-jobs/{id}"), &[], None);
    assert_eq!(again.status, 409, "{}", again.body);
}
