//! A bounded load test of the PostgreSQL backend: N simulated workers,
//! each on its own connection, doing what a `colt serve` worker does to the
//! database as fast as they can for S seconds — queue a job, claim the next
//! one (the scheduler's `claim_next_job`: a read of the unfinished jobs,
//! then a `FOR UPDATE SKIP LOCKED` claim), record its trials, renew the
//! lease (the heartbeat), release it. Prints the rates one server sustains,
//! per operation, as one JSON line per N.
//!
//!     cargo run --release -p colt-db --example pg_load -- 1,4,16,64 10
//!
//! The server is a throw-away one (`colt_db::test_server`) on this machine,
//! sharing its cores with the clients, with `fsync=off` unless
//! `COLT_LOAD_FSYNC=on` (durable commits, as a real server makes them);
//! `COLT_LOAD_URL` points the test at another server instead.

use colt_db::test_server::TestServer;
use colt_db::{JobState, NewJob, Owner, TrialRecord, TuningDb, LEASE};
use colt_ir::schedule::Sampler;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Trials a simulated job records before it is released.
const TRIALS_PER_JOB: u64 = 16;

#[derive(Default)]
struct Counts {
    claims: AtomicU64,
    trials: AtomicU64,
    heartbeats: AtomicU64,
}

fn job(n: u64) -> NewJob {
    NewJob {
        workload: format!("load-{n}"),
        workload_text: "input A[8]\noutput C[8]\nC[i] = A[i] * 2.0\n".into(),
        workload_fingerprint: format!("fp-{}", n % 64),
        target: "cpu:load test".into(),
        strategy: "random".into(),
        trials: TRIALS_PER_JOB,
        seed: n,
        options_json: "{}".into(),
    }
}

fn trial(job: i64, index: u64) -> TrialRecord {
    TrialRecord {
        job,
        workload_fingerprint: "fp".into(),
        target: "cpu:load test".into(),
        sampler: Sampler::Uniform,
        seed: index,
        edits: vec!["tile(stage=\"C\", axis=\"i\", factors=[4])".into(), "vectorize(stage=\"C\", lanes=8)".into()],
        decisions: "tile i 4\nvectorize 8".into(),
        source_hash: format!("{index:016x}"),
        fingerprint: index,
        verified: true,
        median_ms: Some(1.0 + index as f64 * 1e-3),
        min_ms: Some(0.9),
        max_ms: Some(1.2),
        runs: 20,
        failure: None,
        strategy: "random".into(),
        model: None,
        trial_index: index,
        created_unix: 0.0,
    }
}

fn worker(url: &str, me: Owner, stop: &AtomicBool, counts: &Counts) {
    let mut db = TuningDb::open(Path::new(url)).expect("connect");
    let targets = vec!["cpu:load test".to_string()];
    while !stop.load(Ordering::Relaxed) {
        db.create_job(&job(u64::from(me.pid))).expect("queue");
        // Another worker may take the job just queued: this one takes the next.
        let Some(row) = db.claim_next_job(&me, &targets, LEASE).expect("claim") else { continue };
        let id = row.id;
        counts.claims.fetch_add(1, Ordering::Relaxed);
        db.set_job_state(id, JobState::Running, None).expect("state");
        for i in 0..TRIALS_PER_JOB {
            db.record_trial(&trial(id, i)).expect("trial");
            counts.trials.fetch_add(1, Ordering::Relaxed);
            if i % 4 == 3 {
                db.renew_lease(id, &me, LEASE).expect("heartbeat");
                counts.heartbeats.fetch_add(1, Ordering::Relaxed);
            }
        }
        db.set_job_state(id, JobState::Done, None).expect("done");
        db.release_job(id, &me).expect("release");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sizes: Vec<u32> =
        args.next().unwrap_or_else(|| "1,4,16".into()).split(',').map(|n| n.parse().expect("worker counts")).collect();
    let seconds: u64 = args.next().map_or(10, |s| s.parse().expect("seconds"));
    let mut server = None;
    let base = match std::env::var("COLT_LOAD_URL") {
        Ok(url) => url,
        Err(_) => {
            let fsync = format!("fsync={}", std::env::var("COLT_LOAD_FSYNC").unwrap_or_else(|_| "off".into()));
            let s = server.insert(TestServer::start_with(&[&fsync]).expect("a throw-away PostgreSQL server"));
            s.fresh_database().expect("a database")
        }
    };
    for &n in &sizes {
        let url = match server.as_mut() {
            Some(s) => s.fresh_database().expect("a database"),
            None => base.clone(),
        };
        drop(TuningDb::open(Path::new(&url)).expect("schema"));
        let (stop, counts) = (Arc::new(AtomicBool::new(false)), Arc::new(Counts::default()));
        let start = Instant::now();
        let handles: Vec<_> = (0..n)
            .map(|w| {
                let (url, stop, counts) = (url.clone(), stop.clone(), counts.clone());
                // One owner per simulated worker: another "host" each, so
                // that liveness is by lease, as between machines.
                let me = Owner { host: format!("load-host-{w}"), pid: 1000 + w, started: 1, command: "load".into() };
                std::thread::spawn(move || worker(&url, me, &stop, &counts))
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().expect("a worker panicked");
        }
        let s = start.elapsed().as_secs_f64();
        let rate = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / s;
        println!(
            "{}",
            serde_json::json!({
                "workers": n, "seconds": s,
                "claims_per_s": rate(&counts.claims), "trials_per_s": rate(&counts.trials),
                "heartbeats_per_s": rate(&counts.heartbeats),
            })
        );
    }
}
