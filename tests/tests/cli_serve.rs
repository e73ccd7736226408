//! `colt serve` against a real daemon process on a loopback port: the API,
//! its errors, the token rule, and durability across SIGKILL and SIGTERM.

use colt_db::{JobState, TuningDb};
use colt_e2e::{colt_binary, free_port, http, repo_root, submit, Daemon};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn trials(db: &Path, job: i64) -> Vec<colt_db::TrialRecord> {
    TuningDb::open(db).unwrap().job_trials(job).unwrap()
}

fn wait_trials(db: &Path, job: i64, at_least: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while trials(db, job).len() < at_least {
        assert!(Instant::now() < deadline, "job {job} did not reach {at_least} trials");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_api_submits_streams_fetches_and_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let health = daemon.get("/v1/health");
    assert_eq!((health.status, &health.json()["status"]), (200, &serde_json::json!("ok")));

    let id = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "mcts", "trials": 6, "seed": 2}"#);
    // Server-sent events until the job's end.
    let mut stream = std::net::TcpStream::connect(&daemon.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    write!(stream, "GET /v1/jobs/{id}/events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut kinds = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        if let Some(kind) = line.strip_prefix("event: ") {
            kinds.push(kind.to_string());
            if kind == "end" {
                break;
            }
        }
    }
    assert_eq!(kinds.first().map(String::as_str), Some("state"), "{kinds:?}");
    assert!(kinds.iter().filter(|k| *k == "trial").count() >= 1, "no trial event: {kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("end"));
    let job = daemon.wait_state(id, "done");
    assert_eq!(job["trials"], 6);
    let kernel = daemon.get(&format!("/v1/jobs/{id}/kernel"));
    assert_eq!(kernel.status, 200, "{}", kernel.body);
    let kernel = kernel.json();
    assert!(kernel["source"].as_str().unwrap().contains("colt_kernel"), "{kernel}");
    assert_eq!(kernel["best_ms"].as_f64(), job["best_ms"].as_f64());
    // The daemon's database got this machine's limits at start: the view
    // gives the kernel's roofline bound and its share of it.
    let (bound, share) = (kernel["bound_ms"].as_f64(), kernel["share_of_bound"].as_f64());
    let best = kernel["best_ms"].as_f64().unwrap();
    assert!(bound.is_some_and(|b| b > 0.0 && (share.unwrap() - b / best).abs() < 1e-9), "{kernel}");

    // A long job, cancelled while it runs.
    let long = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "random", "trials": 5000}"#);
    daemon.wait_state(long, "running");
    let r = http(&daemon.addr, "DELETE", &format!("/v1/jobs/{long}"), &[], None);
    assert_eq!(r.status, 202, "{}", r.body);
    daemon.wait_state(long, "cancelled");
    let r = http(&daemon.addr, "DELETE", &format!("/v1/jobs/{long}"), &[], None);
    assert_eq!(r.status, 409, "{}", r.body);

    let list = daemon.get("/v1/jobs").json();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2);
    let metrics = daemon.get("/metrics").body;
    assert!(metrics.contains("colt_jobs{state=\"done\"} 1"), "{metrics}");
    assert!(metrics.contains("colt_jobs{state=\"cancelled\"} 1"), "{metrics}");
    assert!(metrics.contains("colt_trials_total "), "{metrics}");

    // Errors: JSON bodies with the reason.
    let r = daemon.get("/v1/jobs/999");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("999"));
    let r = daemon.post("/v1/jobs", r#"{"workload_text": "program p {\n  stage C[i:4] = A[i] *\n}"}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("workload_text"), "{}", r.body);
    let r = daemon.post("/v1/jobs", r#"{"workload": "no-such-layer"}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("no-such-layer"), "{}", r.body);
    let r = daemon.post("/v1/jobs", r#"{"workload": "gemm-512", "strategy": "genetic"}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("genetic"), "{}", r.body);
    let big = format!(r#"{{"workload_text": "{}"}}"#, "x".repeat(100_000));
    let r = daemon.post("/v1/jobs", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].is_string());
}

#[test]
fn another_address_needs_a_token_and_requests_must_carry_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let o = Command::new(colt_binary())
        .args(["serve", "--listen", "127.0.0.2:0", "--db", db.to_str().unwrap()])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--token-file"), "{}", String::from_utf8_lossy(&o.stderr));

    let token_file = dir.path().join("token");
    let write_token = |contents: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&token_file, contents).unwrap();
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let huge = "t".repeat(10 << 20);
    for (contents, expected) in [
        (None, "cannot read the token file"),
        (Some(("short\n", 0o600)), "shorter than 16"),
        (Some(("s3cret-token-of-the-tests\n", 0o644)), "by group or others (mode 644)"),
        (Some(("s3cret-token-of-the-tests\n", 0o640)), "chmod 600"),
        (Some(("s3cret-token\nof-the-tests\n", 0o600)), "not printable ASCII (0x0a, byte 13)"),
        (Some(("s3cret token of the tests", 0o600)), "without spaces"),
        // Both started the daemon: then no request matched the first, and
        // the second was 10 MiB of secret.
        (Some(("s3cret-tökén-of-the-tests\n", 0o600)), "not printable ASCII (0xc3, byte 9)"),
        (Some((huge.as_str(), 0o600)), "longer than 256 bytes"),
    ] {
        if let Some((c, mode)) = contents {
            write_token(c, mode);
        }
        let o = Command::new(colt_binary())
            .args(["serve", "--listen", "127.0.0.2:0", "--db", db.to_str().unwrap()])
            .args(["--token-file", token_file.to_str().unwrap()])
            .current_dir(repo_root())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(expected) && err.contains("token"), "{err}");
    }
    write_token("s3cret-token-of-the-tests\n", 0o600);
    let daemon = Daemon::start(&db, "127.0.0.2", &["--token-file", token_file.to_str().unwrap()]);
    let r = daemon.get("/v1/health");
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].is_string());
    let wrong = http(&daemon.addr, "GET", "/v1/jobs", &[("Authorization", "Bearer s3cret-token-of-the-test")], None);
    assert_eq!(wrong.status, 401);
    let right = http(&daemon.addr, "GET", "/v1/jobs", &[("Authorization", "Bearer s3cret-token-of-the-tests")], None);
    assert_eq!(right.status, 200, "{}", right.body);
    // Without the token, a body is not read: nothing of the API's fields
    // is told (an extractor parsed it first, and named them).
    let probe = http(&daemon.addr, "POST", "/v1/jobs", &[], Some(r#"{"nonsense": 1}"#));
    assert_eq!(probe.status, 401, "{}", probe.body);
    assert!(!probe.body.contains("field") && !probe.body.contains("workload"), "{}", probe.body);
    // The scheme is case-insensitive; the token is not.
    let lower = http(&daemon.addr, "GET", "/v1/jobs", &[("Authorization", "bearer s3cret-token-of-the-tests")], None);
    assert_eq!(lower.status, 200, "{}", lower.body);
    let upper = http(&daemon.addr, "GET", "/v1/jobs", &[("Authorization", "Bearer S3CRET-TOKEN-OF-THE-TESTS")], None);
    assert_eq!(upper.status, 401);
}

#[test]
fn a_killed_daemon_resumes_its_job_with_no_trial_lost_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let mut daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let id = submit(&daemon, r#"{"workload": "gemm-512", "strategy": "evolutionary", "trials": 24, "seed": 4}"#);
    wait_trials(&db, id, 3);
    daemon.child.kill().unwrap(); // SIGKILL
    daemon.child.wait().unwrap();
    let before = trials(&db, id);
    assert!(before.len() < 24);

    // SIGTERM after a few more trials: a clean exit that leaves the job to
    // resume.
    let mut daemon = Daemon::start(&db, "127.0.0.1", &[]);
    wait_trials(&db, id, before.len() + 2);
    let status = Command::new("kill").args(["-TERM", &daemon.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = daemon.child.wait().unwrap();
    assert!(exit.success(), "SIGTERM must exit cleanly: {exit}");
    let job = TuningDb::open(&db).unwrap().job(id).unwrap().unwrap();
    // Queued again, not left `running` (issue 40): the next start resumes
    // it from its trials and last snapshot all the same.
    assert_eq!(job.state, JobState::Queued, "a job interrupted by shutdown is queued for the next start");

    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    daemon.wait_state(id, "done");
    let after = trials(&db, id);
    assert_eq!(after.len(), 24);
    let fingerprints: HashSet<u64> = after.iter().map(|t| t.fingerprint).collect();
    assert_eq!(fingerprints.len(), 24, "a candidate was measured twice");
    assert_eq!(&after[..before.len()], &before[..], "a trial recorded before the kill was lost or changed");
}

/// The load test of the guide (docs/src/daemon.md, "Requests do not slow
/// measurements"): 1000 status requests per second for 30 s
/// while a job runs. The job (`random`, a fixed seed) is run twice, first
/// without load, then under load: both measure the same candidates, so
/// their latencies compare pairwise. Prints the request latency
/// percentiles and the median slowdown. Run on an otherwise idle machine:
/// `cargo test --release --workspace --test cli_serve -- --ignored --nocapture load_test`.
#[test]
#[ignore = "a benchmark: needs an idle machine, about 2 minutes"]
fn load_test_status_requests_do_not_slow_measurements() {
    const RATE: u64 = 1000;
    const SECONDS: u64 = 30;
    const CLIENTS: u64 = 4;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let daemon = Daemon::start(&db, "127.0.0.1", &[]);
    let job = r#"{"workload": "flux-conv", "strategy": "random", "trials": 40, "seed": 9}"#;
    let quiet = submit(&daemon, job);
    daemon.wait_state(quiet, "done");

    let loaded = submit(&daemon, job);
    daemon.wait_state(loaded, "running");
    let started = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let addr = daemon.addr.clone();
                s.spawn(move || {
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    let period = Duration::from_nanos(1_000_000_000 * CLIENTS / RATE);
                    let mut next = started + period * c as u32 / CLIENTS as u32;
                    while started.elapsed() < Duration::from_secs(SECONDS) {
                        let now = Instant::now();
                        if now < next {
                            std::thread::sleep(next - now);
                        }
                        next += period;
                        let t = Instant::now();
                        let r = http(&addr, "GET", &format!("/v1/jobs/{loaded}"), &[], None);
                        latencies.push(t.elapsed().as_secs_f64() * 1e3);
                        if r.status != 200 {
                            errors += 1;
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut latencies: Vec<f64> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let errors: usize = results.iter().map(|r| r.1).sum();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    let rate = latencies.len() as f64 / SECONDS as f64;
    println!(
        "{} requests in {SECONDS} s ({rate:.0}/s), {errors} errors; latency ms p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        latencies.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    daemon.wait_state(loaded, "done");
    let by_fingerprint = |job| -> std::collections::HashMap<u64, f64> {
        trials(&db, job).into_iter().filter_map(|t| t.median_ms.map(|m| (t.fingerprint, m))).collect()
    };
    let (a, b) = (by_fingerprint(quiet), by_fingerprint(loaded));
    let load_end = trials(&db, loaded)
        .iter()
        .filter(|t| t.created_unix <= trials(&db, loaded)[0].created_unix + SECONDS as f64)
        .map(|t| t.fingerprint)
        .collect::<HashSet<_>>();
    let mut ratios: Vec<f64> =
        b.iter().filter(|(f, _)| load_end.contains(f)).filter_map(|(f, ms)| a.get(f).map(|q| ms / q)).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("{} candidates measured under load and without: median latency ratio {median:.3}", ratios.len());
    assert_eq!(errors, 0);
    assert!(rate > 0.9 * RATE as f64, "the load did not reach {RATE}/s");
    assert!(median <= 1.05, "measurements under load are {:.1}% slower", (median - 1.0) * 100.0);
}

/// Clients that stall mid-body are answered 408 and let go (they held a
/// connection each for ever), and the daemon answers others meanwhile.
#[test]
fn stalled_bodies_time_out_and_others_are_answered_meanwhile() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&dir.path().join("d.db"), "127.0.0.1", &[]);
    let started = Instant::now();
    let mut stalled: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&daemon.addr).unwrap();
            let head =
                "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(br#"{"workload""#).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            s
        })
        .collect();
    let health = daemon.get("/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    for s in &mut stalled {
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("did not arrive within 10 s"), "{answer}");
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(25), "{waited:?}");
}

/// A second daemon on the same database is refused, naming the first's
/// pid; once the first is gone (SIGKILL too), a new one starts.
#[test]
fn one_daemon_per_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let mut first = Daemon::start(&db, "127.0.0.1", &[]);
    let port = free_port("127.0.0.1");
    let second = Command::new(colt_binary())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", db.to_str().unwrap()])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{err}");
    assert!(err.contains(&format!("another `colt serve` (pid {})", first.child.id())) && err.contains("d.db"), "{err}");
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let third = Daemon::start(&db, "127.0.0.1", &[]);
    assert_eq!(third.get("/v1/health").status, 200);
}

/// Issue 40, item 4: the lock was keyed by the path string, so a second
/// daemon through a symbolic link to the served file (or `dir/../d.db`)
/// started, and two jobs ran at once. Every other name of the file is
/// refused while the first daemon runs, naming its pid: a link, a path
/// through `..`, and a hard link.
#[test]
fn one_daemon_per_database_whatever_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let db = dir.path().join("d.db");
    let mut first = Daemon::start(&db, "127.0.0.1", &[]);
    let link = dir.path().join("sub/link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let hard = dir.path().join("sub/hard.db");
    std::fs::hard_link(&db, &hard).unwrap();
    let dotdot = dir.path().join("sub/../d.db");
    for other in [&link, &dotdot, &hard] {
        let port = free_port("127.0.0.1");
        let mut second = Command::new(colt_binary())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", other.to_str().unwrap()])
            .current_dir(repo_root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A daemon that starts runs until killed: give it time to refuse.
        let deadline = Instant::now() + Duration::from_secs(30);
        while second.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let started = second.try_wait().unwrap().is_none();
        let _ = second.kill();
        let second = second.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(!started && !second.status.success(), "a second daemon started on `{}`: {err}", other.display());
        assert!(err.contains(&format!("another `colt serve` (pid {})", first.child.id())), "{err}");
        assert!(err.contains(other.to_str().unwrap()), "{err}");
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let through_link = Daemon::start(&link, "127.0.0.1", &[]);
    assert_eq!(through_link.get("/v1/health").status, 200);
}
