//! Several hosts, one PostgreSQL: three `colt serve` workers share a real
//! server (a throw-away cluster this test starts) as their tuning database
//! and job queue. Jobs submitted through any worker are run by one of them;
//! a worker SIGKILLed in the middle of a job loses it to another, which
//! resumes it from its snapshot and recorded trials; the server restarting
//! in the middle of jobs loses nothing. Every trial is recorded once, and
//! the claim history shows no job held by two workers at once.

use colt_db::test_server::TestServer;
use colt_db::{JobState, TuningDb};
use colt_e2e::{submit, Daemon};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

const TRIALS: usize = 10;

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn three_workers_share_one_postgres_queue_through_a_kill_and_a_server_restart() {
    let mut server = TestServer::start().unwrap();
    let url = server.fresh_database().unwrap();
    let db_path = Path::new(&url);
    let mut workers: Vec<Option<Daemon>> = (0..3).map(|_| Some(Daemon::start(db_path, "127.0.0.1", &[]))).collect();
    let ids: Vec<i64> = (0..6)
        .map(|i| {
            let body =
                format!(r#"{{"workload": "gemm-512", "strategy": "evolutionary", "trials": {TRIALS}, "seed": {i}}}"#);
            submit(workers[i % 3].as_ref().unwrap(), &body)
        })
        .collect();
    let db = TuningDb::open(db_path).unwrap();

    // Every worker lists all three, with their addresses and this host's
    // CPU label, and the jobs each holds.
    let label = db.jobs().unwrap()[0].job.target.clone();
    assert!(label.starts_with("cpu:"), "{label}");
    let mut held = 0;
    wait_until("the workers hold jobs", Duration::from_secs(120), || {
        let listed = workers[1].as_ref().unwrap().get("/v1/workers").json();
        let listed = listed["workers"].as_array().unwrap().clone();
        assert_eq!(listed.len(), 3, "{listed:?}");
        for w in workers.iter().flatten() {
            let mine = listed.iter().find(|l| l["listen"] == w.addr.as_str()).expect("each worker is listed");
            assert_eq!(
                (mine["pid"].as_u64(), mine["labels"][0].as_str()),
                (Some(u64::from(w.child.id())), Some(label.as_str()))
            );
        }
        held = listed.iter().map(|l| l["jobs"].as_array().unwrap().len()).sum();
        held >= 2
    });
    let metrics = workers[2].as_ref().unwrap().get("/metrics").body;
    assert_eq!(metrics.matches("colt_worker_jobs{worker=").count(), 3, "{metrics}");

    // Kill the worker running a job that is under way.
    let mut victim_job = None;
    wait_until("a job is under way", Duration::from_secs(300), || {
        for &id in &ids {
            let row = db.job(id).unwrap().unwrap();
            let trials = db.job_trials(id).unwrap().len();
            if let Some(owner) =
                row.owner.filter(|_| row.state == JobState::Running && (2..TRIALS - 2).contains(&trials))
            {
                victim_job = Some((id, owner.pid, trials));
                return true;
            }
        }
        false
    });
    let (victim, pid, trials_before) = victim_job.unwrap();
    let index = workers.iter().position(|w| w.as_ref().is_some_and(|d| d.child.id() == pid)).expect("a worker runs it");
    let mut killed = workers[index].take().unwrap();
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let before: Vec<_> = db.job_trials(victim).unwrap();
    assert!(before.len() >= trials_before);

    // The server restarts while the others run (and one takes the victim over).
    std::thread::sleep(Duration::from_secs(1));
    server.restart().unwrap();

    let db = TuningDb::open(db_path).unwrap();
    wait_until("every job is done", Duration::from_secs(600), || {
        ids.iter().all(|&id| db.job(id).unwrap().unwrap().state == JobState::Done)
    });

    for &id in &ids {
        let trials = db.job_trials(id).unwrap();
        assert_eq!(trials.len(), TRIALS, "job {id}");
        let fingerprints: HashSet<u64> = trials.iter().map(|t| t.fingerprint).collect();
        assert_eq!(fingerprints.len(), TRIALS, "job {id}: a candidate was measured twice");
        let indices: Vec<u64> = trials.iter().map(|t| t.trial_index).collect();
        assert_eq!(indices, (0..TRIALS as u64).collect::<Vec<_>>(), "job {id}: a gap or repeat in trial indices");
        let claims = db.job_claims(id).unwrap();
        assert!(!claims.is_empty(), "job {id} ran unclaimed");
        for pair in claims.windows(2) {
            let ended = pair[0].ended_unix.expect("an earlier hold ended");
            assert!(ended <= pair[1].claimed_unix, "job {id} was held by two workers at once: {pair:?}");
        }
        assert_eq!(claims.last().unwrap().ended.as_deref(), Some("released"), "job {id}: {claims:?}");
    }
    // The victim: the killed worker's hold ended when another took it over,
    // and everything recorded before the kill is unchanged.
    let claims = db.job_claims(victim).unwrap();
    let died: Vec<_> = claims.iter().filter(|c| c.ended.as_deref() == Some("died")).collect();
    assert_eq!(died.len(), 1, "{claims:?}");
    assert_eq!(died[0].owner.pid, pid);
    assert!(claims.iter().skip_while(|c| c.owner.pid != pid).nth(1).is_some_and(|c| c.owner.pid != pid));
    let after = db.job_trials(victim).unwrap();
    assert_eq!(&after[..before.len()], &before[..], "a trial recorded before the kill was lost or changed");

    // Any live worker lists the cluster's jobs, each with its state.
    let live = workers.iter().flatten().next().unwrap();
    let listed = live.get("/v1/jobs").json();
    let listed: Vec<i64> = listed["jobs"].as_array().unwrap().iter().filter_map(|j| j["id"].as_i64()).collect();
    for id in &ids {
        assert!(listed.contains(id), "job {id} is not listed by a worker that did not take it: {listed:?}");
    }
}
