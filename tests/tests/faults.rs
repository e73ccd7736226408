//! Fault injection against real processes (issue 19): what a hostile or
//! unlucky user does to a daemon, a tuning job or a database, and the
//! specific error each gets, with every earlier record still there. The
//! cases of the other numbered items live beside the code they harden (see
//! the README's "Hardening" table); these are the ones that need a whole
//! `colt` process or two.

use colt_db::{JobState, TuningDb};
use colt_e2e::{colt, colt_binary, repo_root, stderr, stdout, submit, Daemon};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn trials(db: &Path, job: i64) -> Vec<colt_db::TrialRecord> {
    TuningDb::open(db).unwrap().job_trials(job).unwrap()
}

/// Item 7: a daemon started on the database of a running `colt tune` saw
/// its job `running` with no owner and resumed it, measuring one job from
/// two processes at once. Now the job is the tune's (owner and lease): the
/// daemon shows it as run by that process, never runs it, and the tune
/// finishes with every trial once.
#[test]
fn a_daemon_never_runs_the_job_of_a_live_colt_tune() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let trials_asked = 24;
    let mut tune = Command::new(colt_binary())
        .args(["tune", "gemm-512", "--strategy", "random", "--seed", "3", "--json"])
        .args(["--trials", &trials_asked.to_string(), "--db", db.to_str().unwrap()])
        .args(["--out", dir.path().join("out").to_str().unwrap()])
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let found = db.exists().then(|| TuningDb::open(&db).ok()).flatten().and_then(|d| {
            let jobs = d.jobs().ok()?;
            let job = jobs.first()?.id;
            (d.job_trials(job).ok()?.len() >= 2).then_some(job)
        });
        if let Some(job) = found {
            break job;
        }
        assert!(Instant::now() < deadline, "the tune job recorded no trials");
        assert!(tune.try_wait().unwrap().is_none(), "colt tune ended early");
        std::thread::sleep(Duration::from_millis(100));
    };
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let mut seen_running_by_tune = false;
    while tune.try_wait().unwrap().is_none() {
        let health = daemon.get("/v1/health").json();
        assert_eq!(health["running_job"], serde_json::Value::Null, "the daemon runs the tune's job: {health}");
        let view = daemon.get(&format!("/v1/jobs/{job}")).json();
        if view["state"] == "running" {
            let owner = view["owner"].as_str().unwrap_or_default();
            assert!(owner.contains("colt tune") && owner.contains(&format!("pid {}", tune.id())), "{view}");
            seen_running_by_tune = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(tune.wait().unwrap().success());
    assert!(seen_running_by_tune, "the daemon never showed the job as the tune's");
    let recorded = trials(&db, job);
    assert_eq!(recorded.len(), trials_asked);
    let fingerprints: HashSet<u64> = recorded.iter().map(|t| t.fingerprint).collect();
    assert_eq!(fingerprints.len(), trials_asked);
    let row = TuningDb::open(&db).unwrap().job(job).unwrap().unwrap();
    assert_eq!((row.state, row.owner, row.crashes), (JobState::Done, None, 0), "{:?}", row.error);
}

/// Item 2: the reference interpreter ran in the daemon's process, so a
/// workload whose buffers exceed memory killed the daemon (and, left
/// `running`, killed every restart). Now it runs in a worker: under an
/// address-space limit the worker dies, the job fails naming the failed
/// allocation, and the daemon answers and runs the next job.
#[test]
fn a_reference_that_exhausts_memory_fails_its_job_and_not_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    // 3 GB of address space: the daemon (models mapped) needs under 2; the
    // program's two 2 GiB buffers do not fit beside it.
    let daemon = Daemon::start_with_memory_limit(&db, 3_000_000, &[]);
    let huge = r#"{"workload_text": "input A[16384, 32768]\noutput C[16384, 32768]\nC[i, j] = A[i, j] * 2.0\n",
                   "strategy": "random", "trials": 2}"#;
    let id = submit(&daemon, huge);
    let failed = daemon.wait_state(id, "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("reference interpreter") && error.contains("memory allocation"), "{error}");
    let health = daemon.get("/v1/health").json();
    assert_eq!(health["status"], "ok", "{health}");
    let small = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 2, "seed": 1}"#);
    daemon.wait_state(small, "done");
    assert_eq!(trials(&db, small).len(), 2);
}

/// Item 6: a backup is `colt db backup`, a consistent copy taken while a
/// job runs (a copy of `colt.db` alone lost what the WAL held), and
/// `colt db check` runs the full integrity check; a damaged file fails it,
/// naming the file.
#[test]
fn colt_db_backup_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("colt.db");
    let out = dir.path().join("out");
    let o = colt(&[
        "tune",
        "gemm-512",
        "--strategy",
        "random",
        "--trials",
        "3",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let backup = dir.path().join("backup.db");
    let o = colt(&["db", "backup", "--db", db.to_str().unwrap(), backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 jobs, 3 trials"), "{}", stdout(&o));
    let o = colt(&["db", "check", "--db", backup.to_str().unwrap()]);
    assert!(o.status.success() && stdout(&o).contains("ok (integrity_check)"), "{}{}", stdout(&o), stderr(&o));
    let o = colt(&["db", "backup", "--db", db.to_str().unwrap(), backup.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("exists already"), "{}", stderr(&o));
    let o = colt(&["db", "check", "--db", dir.path().join("missing.db").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("missing.db` does not exist"), "{}", stderr(&o));
    assert!(!dir.path().join("missing.db").exists(), "`colt db check` created a database");
    // Garbage over the backup's inner pages.
    let mut bytes = std::fs::read(&backup).unwrap();
    let len = bytes.len();
    bytes[4096..len.min(3 * 4096)].fill(0x5a);
    std::fs::write(&backup, &bytes).unwrap();
    let o = colt(&["db", "check", "--db", backup.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("backup.db"), "{}", stderr(&o));
}
