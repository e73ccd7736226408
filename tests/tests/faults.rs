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

/// `colt tune gemm-512 --strategy random` on `db` in the background.
fn spawn_tune(db: &Path, out: &Path, trials: usize, seed: u64) -> std::process::Child {
    Command::new(colt_binary())
        .args(["tune", "gemm-512", "--strategy", "random", "--seed", &seed.to_string()])
        .args(["--trials", &trials.to_string(), "--db", db.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

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
    let mut tune = spawn_tune(&db, &dir.path().join("out"), trials_asked, 3);
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

/// Items 1, 3 and 4 through the API, with a token: every hostile job body
/// is refused with its own message, and the daemon then still answers,
/// keeps the job it had, and runs a valid one (before: a deep or long
/// expression overflowed its stack, `wall_s: -1` killed its scheduler, an
/// overflowing index killed its measurement actor).
#[test]
fn hostile_job_bodies_are_refused_each_with_its_reason_and_the_daemon_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let first = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 2, "seed": 9}"#);
    daemon.wait_state(first, "done");
    let before = trials(&db, first);
    let text = |t: &str| serde_json::json!({"workload_text": t, "strategy": "random", "trials": 1}).to_string();
    let deep = format!("input A[8]\noutput C[8]\nC[i] = {}A[i]{}\n", "(".repeat(1200), ")".repeat(1200));
    let long = format!("input A[8]\noutput C[8]\nC[i] = {}\n", vec!["A[i]"; 3000].join(" + "));
    let cases: Vec<(String, u16, &str)> = vec![
        (text(&deep), 400, "MAX_NESTING"),
        (text(&long), 400, "MAX_EXPRESSION_DEPTH"),
        (
            text("input A[1000000, 1000000]\noutput C[1000000, 1000000]\nC[i, j] = A[i, j] * 2.0\n"),
            400,
            "MAX_BUFFER_ELEMENTS",
        ),
        (text("input A[8]\noutput C[8]\nC[i] = A[i * 7905747460161236407]\n"), 400, "MAX_INDEX_MAGNITUDE"),
        (text("input A[4294967296, 4294967296]\noutput C[8]\nC[i] = A[0, i]\n"), 400, "MAX_BUFFER_ELEMENTS"),
        (r#"{"workload": "gemm-512", "wall_s": -1}"#.into(), 400, "30 days), not -1"),
        (r#"{"workload": "gemm-512", "wall_s": 1e300}"#.into(), 400, "30 days), not 1e300"),
        (r#"{"workload": "gemm-512", "trials": 0}"#.into(), 400, "trials must be in 1..="),
        (r#"{"workload": "gemm-512", "strategy": "genetic"}"#.into(), 400, "unknown strategy `genetic`"),
        (r#"{"workload": "no-such-layer"}"#.into(), 400, "no built-in workload `no-such-layer`"),
        (r#"{"workload": "gemm-512", "trials": "#.into(), 400, "not a valid job"),
        (format!(r#"{{"workload_text": "{}"}}"#, "x".repeat(70 << 10)), 413, ""),
    ];
    for (body, status, says) in &cases {
        let r = daemon.post("/v1/jobs", body);
        assert_eq!(r.status, *status, "{}: {}", &body[..body.len().min(80)], r.body);
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains(says), "`{says}` not in: {error}");
    }
    let health = daemon.get("/v1/health").json();
    assert_eq!(health["status"], "ok", "{health}");
    let jobs = daemon.get("/v1/jobs").json();
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(1), "a refused body became a job: {jobs}");
    let next = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 2, "seed": 10}"#);
    daemon.wait_state(next, "done");
    assert_eq!(trials(&db, first), before, "an earlier job's trials changed");
}

/// A job whose daemon is killed while running it twice is failed with
/// that reason at the next start, not resumed (and killed) for ever; its
/// trials stay, and the daemon runs the next job.
#[test]
fn a_job_whose_daemon_died_twice_is_failed_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let mut recorded = 0;
    let mut id = 0;
    for kill in 0..2 {
        let mut daemon = Daemon::start(&db, "127.0.0.1", &[]);
        if kill == 0 {
            id = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 400, "seed": 5}"#);
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while trials(&db, id).len() < recorded + 2 {
            assert!(Instant::now() < deadline, "the job made no progress");
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon.child.kill().unwrap(); // SIGKILL, mid-job
        daemon.child.wait().unwrap();
        recorded = trials(&db, id).len();
        let row = TuningDb::open(&db).unwrap().job(id).unwrap().unwrap();
        assert_eq!((row.state, row.crashes), (JobState::Running, kill), "{row:?}");
    }
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let failed = daemon.wait_state(id, "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("died 2 times") && error.contains("colt serve"), "{error}");
    assert_eq!(failed["crashes"], 2);
    assert_eq!(trials(&db, id).len(), recorded, "the failed job's trials were lost");
    let next = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 2, "seed": 6}"#);
    daemon.wait_state(next, "done");
}

/// Items 6 and 8 at the daemon: a damaged database, or a copy of one
/// without the `-wal` that held it, stops `colt serve` at start, naming
/// the file (before: it started, said healthy, and listed 500s or 0 jobs).
#[test]
fn colt_serve_refuses_a_damaged_or_schema_less_database() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |db: &Path| {
        Command::new(colt_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db.to_str().unwrap()])
            .current_dir(repo_root())
            .output()
            .unwrap()
    };
    let damaged = dir.path().join("damaged.db");
    {
        let mut db = TuningDb::open(&damaged).unwrap();
        let job = db.create_job(&colt_db::NewJob {
            workload: "w".into(),
            workload_text: "w".into(),
            workload_fingerprint: "f".into(),
            target: "cpu".into(),
            strategy: "random".into(),
            trials: 1,
            seed: 0,
            options_json: "{}".into(),
        });
        job.unwrap();
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    let len = bytes.len();
    bytes[100..len].fill(0x5a);
    std::fs::write(&damaged, &bytes).unwrap();
    let o = serve(&damaged);
    assert!(!o.status.success() && stderr(&o).contains("damaged.db"), "{}", stderr(&o));

    // A copy of a running job's database without its -wal: the main file
    // holds only the header WAL mode wrote, the schema and rows are in the
    // log (nothing is checkpointed before the job ends).
    let live = dir.path().join("live.db");
    let mut tune = spawn_tune(&live, &dir.path().join("out"), 200, 0);
    let mut wal = live.as_os_str().to_owned();
    wal.push("-wal");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline && tune.try_wait().unwrap().is_none(), "the job wrote no log");
        std::thread::sleep(Duration::from_millis(50));
    }
    let copy = dir.path().join("copied.db");
    std::fs::copy(&live, &copy).unwrap();
    tune.kill().unwrap();
    tune.wait().unwrap();
    let o = serve(&copy);
    assert!(!o.status.success() && stderr(&o).contains("holds no colt schema"), "{}", stderr(&o));
    assert!(stderr(&o).contains("copied.db"), "{}", stderr(&o));
    // The original, with its log, still opens with the job in it.
    assert_eq!(TuningDb::open(&live).unwrap().jobs().unwrap().len(), 1);
}

/// A database as a killed process leaves it: a finished job checkpointed
/// into the main file, and a running one whose rows are only in the `-wal`
/// (the connection is never closed, so nothing is checkpointed at the end).
fn left_mid_job(path: &Path, workload: &str) {
    let mut db = TuningDb::open(path).unwrap();
    let mut job = || {
        db.create_job(&colt_db::NewJob {
            workload: workload.into(),
            workload_text: workload.into(),
            workload_fingerprint: format!("fp-{workload}"),
            target: "cpu".into(),
            strategy: "random".into(),
            trials: 4,
            seed: 0,
            options_json: "{}".into(),
        })
        .unwrap()
    };
    let (done, running) = (job(), job());
    db.set_job_state(done, JobState::Done, None).unwrap();
    db.set_job_state(running, JobState::Running, None).unwrap();
    std::mem::forget(db);
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Issue 40, item 5: a database file with another database's `-wal`
/// beside it opened as that other database (`db check` said ok, `serve`
/// resumed the other's job). `db check`, `show` and `serve` each refuse
/// it, naming the log, and change neither file; with its own log the file
/// opens with its jobs.
#[test]
fn a_database_with_another_databases_log_is_refused_by_check_show_and_serve() {
    let live = tempfile::tempdir().unwrap();
    let (a, b) = (live.path().join("a.db"), live.path().join("b.db"));
    left_mid_job(&a, "gemm-a");
    left_mid_job(&b, "gemm-b");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    std::fs::copy(&a, &db).unwrap();
    let wal = with_suffix(&db, "-wal");
    std::fs::copy(with_suffix(&b, "-wal"), &wal).unwrap();
    let (main_before, log_before) = (std::fs::read(&db).unwrap(), std::fs::read(&wal).unwrap());
    let s = db.to_str().unwrap();
    for args in [
        vec!["db", "check", "--db", s],
        vec!["show", "--db", s, "--workload", "gemm-b"],
        vec!["serve", "--listen", "127.0.0.1:0", "--db", s],
    ] {
        let o = colt(&args);
        let err = stderr(&o);
        assert!(!o.status.success(), "`colt {}` opened another database's log: {err}", args.join(" "));
        assert!(err.contains(wal.to_str().unwrap()) && err.contains("another database's"), "{err}");
        assert_eq!(std::fs::read(&db).unwrap(), main_before, "`colt {}` changed the file", args.join(" "));
        assert_eq!(std::fs::read(&wal).unwrap(), log_before, "`colt {}` changed the log", args.join(" "));
    }
    std::fs::copy(with_suffix(&a, "-wal"), &wal).unwrap();
    let o = colt(&["db", "check", "--db", s]);
    assert!(o.status.success() && stdout(&o).contains("2 jobs"), "{}{}", stdout(&o), stderr(&o));
}

/// Issue 40, item 7 (and issue 19's minor list): `colt show` and `colt db
/// check` on an empty file wrote a schema into it. Commands that only
/// read open the database read-only: an empty or missing file is "no colt
/// database", and nothing is created or written.
#[test]
fn commands_that_only_read_never_create_or_write_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.db");
    let out = dir.path().join("lib");
    for db in [&empty, &missing] {
        let s = db.to_str().unwrap();
        for args in [
            vec!["show", "--db", s, "--workload", "gemm-512"],
            vec!["db", "check", "--db", s],
            vec!["export", "--db", s, "--workload", "gemm-512", "--out", out.to_str().unwrap()],
        ] {
            let o = colt(&args);
            let err = stderr(&o);
            assert!(!o.status.success(), "`colt {}` succeeded: {err}", args.join(" "));
            let named = err.contains(&format!("no colt database at `{s}`"))
                || err.contains(&format!("tuning database `{s}` does not exist"));
            assert!(named, "`colt {}`: {err}", args.join(" "));
        }
    }
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "a read-only command wrote into the empty file");
    let mut left: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["empty.db"], "a read-only command created files");
}

/// Issue 40, item 8: `colt db copy --to /dev/null` created
/// `/dev/null-journal`. A database path that is there but is not a
/// regular file (a device, a folder) is refused, naming it.
#[test]
fn a_database_path_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.db");
    left_mid_job(&source, "gemm-s");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let journal_before = Path::new("/dev/null-journal").exists();
    for (target, kind) in [(Path::new("/dev/null"), "a character device"), (folder.as_path(), "a folder")] {
        let o = colt(&["db", "copy", "--from", source.to_str().unwrap(), "--to", target.to_str().unwrap()]);
        let err = stderr(&o);
        assert!(!o.status.success(), "copied into `{}`: {err}", target.display());
        assert!(err.contains(&format!("`{}` is not a regular file ({kind})", target.display())), "{err}");
    }
    assert_eq!(Path::new("/dev/null-journal").exists(), journal_before, "SQLite wrote beside /dev/null");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "SQLite wrote into the folder");
}
