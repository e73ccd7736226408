//! The tuning database's records, through its public API: every test of
//! the records runs on both backends — an in-memory SQLite database and a
//! fresh database on a real PostgreSQL server this suite starts
//! (`colt_db::test_server`) — and the file's own behaviour (WAL,
//! migrations, damage) on real SQLite files.

use colt_db::{
    Claim, DbError, JobId, JobState, MachineLimitsRecord, NewJob, NewModelJob, Owner, ProbeRecord, TrialRecord,
    TuningDb, LEASE, SCHEMA_VERSION,
};
use colt_ir::schedule::{Machine, Sampler};
use rusqlite::Connection;

/// Runs `test` on an in-memory SQLite database, then on a new database of
/// the suite's PostgreSQL server (started once, on first use).
fn on_each_backend(test: impl Fn(TuningDb)) {
    eprintln!("on SQLite (in memory)");
    test(TuningDb::open_in_memory().unwrap());
    let url = postgres_database();
    eprintln!("on PostgreSQL ({url})");
    test(TuningDb::open(std::path::Path::new(&url)).unwrap());
}

/// A new database on the suite's one PostgreSQL server.
fn postgres_database() -> String {
    static SERVER: std::sync::OnceLock<std::sync::Mutex<colt_db::test_server::TestServer>> = std::sync::OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let server = colt_db::test_server::TestServer::start()
            .unwrap_or_else(|e| panic!("the PostgreSQL backend's tests need a server: {e}"));
        std::sync::Mutex::new(server)
    });
    let mut server = server.lock().unwrap_or_else(|e| e.into_inner());
    server.fresh_database().unwrap()
}

/// The label the scheduler tests serve.
fn cpu() -> Vec<String> {
    vec!["cpu".to_string()]
}

fn new_job(workload: &str, target: &str) -> NewJob {
    NewJob {
        workload: workload.to_string(),
        workload_text: format!("program {workload}"),
        workload_fingerprint: format!("fp-{workload}"),
        target: target.to_string(),
        strategy: "colt".to_string(),
        trials: 100,
        seed: u64::MAX,
        options_json: r#"{"threads":2}"#.to_string(),
    }
}

/// A verified trial when `median_ms` is given, a failed one otherwise.
fn trial(job: JobId, workload: &str, target: &str, fingerprint: u64, median_ms: Option<f64>) -> TrialRecord {
    TrialRecord {
        job,
        workload_fingerprint: format!("fp-{workload}"),
        target: target.to_string(),
        // Both samplers: odd fingerprints informed.
        sampler: if !fingerprint.is_multiple_of(2) {
            Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 })
        } else {
            Sampler::Uniform
        },
        seed: 1 << 63,
        edits: vec!["tile i 32".to_string(), "say \"hé\"".to_string()],
        decisions: "i:32".to_string(),
        source_hash: "abc".to_string(),
        fingerprint,
        verified: median_ms.is_some(),
        median_ms,
        min_ms: median_ms.map(|m| m * 0.9),
        max_ms: median_ms.map(|m| m * 1.1),
        runs: if median_ms.is_some() { 5 } else { 0 },
        failure: median_ms.is_none().then(|| "Wrong: output differs".to_string()),
        strategy: "colt".to_string(),
        model: median_ms.map(|_| "qwen".to_string()),
        trial_index: fingerprint % 1000,
        created_unix: 1_700_000_000.25,
    }
}

fn medians(trials: &[TrialRecord]) -> Vec<(u64, f64)> {
    trials.iter().map(|t| (t.fingerprint, t.median_ms.unwrap())).collect()
}

#[test]
fn a_job_round_trips_and_starts_queued() {
    on_each_backend(|mut db| {
        let job = new_job("matmul", "cpu");
        let id = db.create_job(&job).unwrap();
        let row = db.job(id).unwrap().unwrap();
        assert_eq!(row.job, job);
        assert_eq!((row.state, row.error, row.trials_done, row.best_ms), (JobState::Queued, None, 0, None));
        assert!(row.created_unix > 1.6e9 && row.updated_unix == row.created_unix);
        let other = db.create_job(&new_job("conv", "cpu")).unwrap();
        assert_eq!(db.jobs().unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![id, other]);
        assert_eq!(db.job(other + 1).unwrap(), None);
    });
}

#[test]
fn failures_are_counted_by_kind() {
    on_each_backend(|mut db| {
        let id = db.create_job(&new_job("matmul", "cpu")).unwrap();
        for (fp, failure) in [(1, "WrongResult: x"), (2, "Crashed: y"), (3, "WrongResult: z"), (4, "odd")] {
            let mut t = trial(id, "matmul", "cpu", fp, None);
            t.failure = Some(failure.into());
            db.record_trial(&t).unwrap();
        }
        db.record_trial(&trial(id, "matmul", "cpu", 5, Some(1.0))).unwrap();
        let counts = db.failure_counts().unwrap();
        assert_eq!(counts, vec![("Crashed".into(), 1), ("WrongResult".into(), 2), ("odd".into(), 1)]);
    });
}

#[test]
fn job_states_parse_from_their_text() {
    for state in JobState::ALL {
        assert_eq!(state.as_str().parse::<JobState>().unwrap(), state);
        assert_eq!(serde_json::to_string(&state).unwrap(), format!("\"{state}\""));
    }
    assert!("paused".parse::<JobState>().unwrap_err().to_string().contains("`paused`"));
}

#[test]
fn trials_round_trip_exactly_in_trial_order() {
    on_each_backend(|mut db| {
        let id = db.create_job(&new_job("matmul", "cpu")).unwrap();
        let failed = trial(id, "matmul", "cpu", u64::MAX, None);
        let fast = trial(id, "matmul", "cpu", (1 << 63) + 7, Some(1.25));
        let first = trial(id, "matmul", "cpu", 3, Some(2.5));
        for t in [&failed, &fast, &first] {
            assert!(db.record_trial(t).unwrap());
        }
        // trial_index is fingerprint % 1000: 3, 615, 815.
        assert_eq!(db.job_trials(id).unwrap(), vec![first, failed, fast]);
        assert_eq!(db.job_trials(id + 1).unwrap(), vec![]);
    });
}

#[test]
fn recording_a_candidate_twice_in_a_job_is_a_no_op() {
    on_each_backend(|mut db| {
        let (a, b) = (db.create_job(&new_job("m", "cpu")).unwrap(), db.create_job(&new_job("m", "cpu")).unwrap());
        assert!(db.record_trial(&trial(a, "m", "cpu", 9, Some(2.0))).unwrap());
        assert!(!db.record_trial(&trial(a, "m", "cpu", 9, Some(1.0))).unwrap());
        assert_eq!(medians(&db.job_trials(a).unwrap()), vec![(9, 2.0)]);
        // The same candidate in another job is another measurement.
        assert!(db.record_trial(&trial(b, "m", "cpu", 9, Some(1.0))).unwrap());
    });
}

#[test]
fn best_trials_are_verified_fastest_first_one_per_candidate_across_jobs() {
    on_each_backend(|mut db| {
        let (a, b) = (db.create_job(&new_job("m", "cpu")).unwrap(), db.create_job(&new_job("m", "cpu")).unwrap());
        let other = db.create_job(&new_job("other", "cpu")).unwrap();
        for t in [
            trial(a, "m", "cpu", 1, Some(2.0)),
            trial(b, "m", "cpu", 1, Some(1.5)),
            trial(a, "m", "cpu", 2, Some(1.8)),
            trial(b, "m", "cpu", 3, None),
            trial(a, "m", "gpu", 4, Some(0.1)),
            trial(other, "other", "cpu", 5, Some(0.2)),
        ] {
            db.record_trial(&t).unwrap();
        }
        let best = db.best_trials("fp-m", "cpu", 10).unwrap();
        assert_eq!(medians(&best), vec![(1, 1.5), (2, 1.8)]);
        assert_eq!(best[0].job, b);
        assert_eq!(medians(&db.best_trials("fp-m", "cpu", 1).unwrap()), vec![(1, 1.5)]);
        assert_eq!(medians(&db.best_trials("fp-m", "gpu", usize::MAX).unwrap()), vec![(4, 0.1)]);

        // One label's records alone: the faster gpu record is not `cpu`'s answer.
        assert_eq!(db.best_for_workload_name("m", "cpu").unwrap().unwrap().median_ms, Some(1.5));
        assert_eq!(db.best_for_workload_name("m", "gpu").unwrap().unwrap().median_ms, Some(0.1));
        assert_eq!(db.best_for_workload_name("m", "npu").unwrap(), None);
        assert_eq!(db.best_for_workload_name("nope", "cpu").unwrap(), None);
        assert_eq!(db.workload_targets("m").unwrap(), vec!["cpu".to_string(), "gpu".to_string()]);
        assert!(db.workload_targets("nope").unwrap().is_empty());
    });
}

#[test]
fn other_workloads_trials_are_verified_on_the_target_one_per_candidate_newest_first() {
    on_each_backend(|mut db| {
        let (m, conv, conv2) = (
            db.create_job(&new_job("m", "cpu")).unwrap(),
            db.create_job(&new_job("conv", "cpu")).unwrap(),
            db.create_job(&new_job("conv", "cpu")).unwrap(),
        );
        let at = |mut t: TrialRecord, when: f64| {
            t.created_unix = when;
            t
        };
        for t in [
            at(trial(m, "m", "cpu", 1, Some(2.0)), 1.0),
            at(trial(conv, "conv", "cpu", 2, Some(3.0)), 2.0),
            at(trial(conv, "conv", "cpu", 3, None), 3.0),
            at(trial(conv, "conv", "opencl", 4, Some(1.0)), 4.0),
            at(trial(conv2, "conv", "cpu", 2, Some(2.5)), 5.0),
            at(trial(conv2, "conv", "cpu", 6, Some(4.0)), 6.0),
        ] {
            db.record_trial(&t).unwrap();
        }
        let others = db.other_workloads_trials("cpu", "fp-m", 10).unwrap();
        let got: Vec<(u64, f64, &str)> =
            others.iter().map(|o| (o.trial.fingerprint, o.trial.median_ms.unwrap(), o.workload.as_str())).collect();
        assert_eq!(got, [(6, 4.0, "conv"), (2, 2.5, "conv")], "candidate 2 once, at its fastest");
        assert_eq!(others[0].workload_text, "program conv");
        assert_eq!(db.other_workloads_trials("cpu", "fp-m", 1).unwrap().len(), 1);
        assert_eq!(db.other_workloads_trials("cpu", "fp-conv", 10).unwrap()[0].workload, "m");
    });
}

#[test]
fn job_state_and_progress_follow_the_job() {
    on_each_backend(|mut db| {
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.set_job_state(id, JobState::Running, None).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 1, Some(3.0))).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 2, None)).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 3, Some(2.0))).unwrap();
        db.set_job_state(id, JobState::Failed, Some("worker died")).unwrap();
        let row = db.job(id).unwrap().unwrap();
        assert_eq!((row.state, row.error.as_deref()), (JobState::Failed, Some("worker died")));
        assert_eq!((row.trials_done, row.best_ms), (3, Some(2.0)));
        assert!(row.updated_unix >= row.created_unix);
        // Resuming clears the old error.
        db.set_job_state(id, JobState::Running, None).unwrap();
        assert_eq!(db.job(id).unwrap().unwrap().error, None);
    });
}

#[test]
fn latest_job_is_the_newest_with_that_setup() {
    on_each_backend(|mut db| {
        let first = db.create_job(&new_job("m", "cpu")).unwrap();
        let second = db.create_job(&new_job("m", "cpu")).unwrap();
        db.create_job(&NewJob { strategy: "random".into(), ..new_job("m", "cpu") }).unwrap();
        db.set_job_state(second, JobState::Cancelled, None).unwrap();
        assert_eq!(db.latest_job("fp-m", "cpu", "colt").unwrap().map(|j| j.id), Some(second));
        assert!(first < second);
        assert_eq!(db.latest_job("fp-m", "gpu", "colt").unwrap(), None);
    });
}

#[test]
fn unknown_jobs_are_errors_naming_the_job() {
    on_each_backend(|mut db| {
        let e = db.set_job_state(42, JobState::Done, None).unwrap_err();
        assert!(matches!(e, DbError::NoSuchJob { job: 42, .. }));
        assert_eq!(e.to_string(), format!("tuning database `{}`: no job 42", db.path().display()));
        assert!(matches!(db.record_trial(&trial(7, "m", "cpu", 1, None)), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.save_snapshot(7, b"x"), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.snapshot(7), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.set_baseline(7, 1.0), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.baseline(7), Err(DbError::NoSuchJob { job: 7, .. })));
    });
}

fn probe(job: JobId, model: &str, proposal: Option<f64>, ms: Option<(Option<f64>, Option<f64>)>) -> ProbeRecord {
    ProbeRecord {
        job,
        model: model.into(),
        parent_predicted: 0.25,
        proposal_predicted: proposal,
        random_predicted: 0.5,
        duplicate: proposal.is_some_and(|p| p > 0.9),
        measured: ms.is_some(),
        proposal_ms: ms.and_then(|m| m.0),
        random_ms: ms.and_then(|m| m.1),
        created_unix: 1_700_000_000.5,
    }
}

#[test]
fn proposal_probes_round_trip_per_job_in_order() {
    on_each_backend(|mut db| {
        let (a, b) = (db.create_job(&new_job("m", "cpu")).unwrap(), db.create_job(&new_job("m", "cpu")).unwrap());
        let probes = [
            probe(a, "small", Some(0.75), None),
            probe(b, "large", None, Some((None, Some(2.5)))),
            probe(a, "large", Some(0.95), Some((Some(1.25), None))),
        ];
        for p in &probes {
            db.record_probe(p).unwrap();
        }
        assert_eq!(db.job_probes(a).unwrap(), [probes[0].clone(), probes[2].clone()]);
        assert_eq!(db.job_probes(b).unwrap(), [probes[1].clone()]);
        let e = db.record_probe(&probe(99, "small", None, None)).unwrap_err();
        assert!(matches!(e, DbError::NoSuchJob { job: 99, .. }), "{e}");
    });
}

#[test]
fn a_version_5_file_is_migrated_and_keeps_probes_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    let id = TuningDb::open(&path).unwrap().create_job(&new_job("m", "cpu")).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("{TO_VERSION_5} PRAGMA user_version = 5;")).unwrap();
    drop(conn);
    let mut db = TuningDb::open(&path).unwrap();
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
    assert_eq!(db.job_probes(id).unwrap(), vec![]);
    db.record_probe(&probe(id, "small", Some(0.5), None)).unwrap();
    assert_eq!(db.job_probes(id).unwrap().len(), 1);
}

fn limits(label: &str, measured_unix: u64) -> MachineLimitsRecord {
    MachineLimitsRecord {
        label: label.into(),
        limits_json: format!("{{\"label\":\"{label}\",\"peak_flops_per_s\":4.9e11,\"measured_at\":{measured_unix}}}"),
        measured_unix,
    }
}

#[test]
fn machine_limits_round_trip_per_label_and_a_new_measurement_replaces_the_old() {
    on_each_backend(|mut db| {
        let (here, there) = ("cpu:Xeon [avx512f]", "cpu:EPYC [avx2]");
        assert_eq!(db.machine_limits(here).unwrap(), None);
        db.save_machine_limits(&limits(here, 1_700_000_000)).unwrap();
        db.save_machine_limits(&limits(there, 1_700_000_001)).unwrap();
        assert_eq!(db.machine_limits(here).unwrap(), Some(limits(here, 1_700_000_000)));
        // u64 seconds beyond i64 come back exactly too.
        db.save_machine_limits(&limits(here, u64::MAX - 1)).unwrap();
        assert_eq!(db.machine_limits(here).unwrap(), Some(limits(here, u64::MAX - 1)));
        assert_eq!(db.machine_limits(there).unwrap(), Some(limits(there, 1_700_000_001)));
        assert_eq!(db.machine_limits("cpu").unwrap(), None);
    });
}

#[test]
fn a_version_6_file_is_migrated_keeps_its_rows_and_stores_machine_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    let (job, trials) = {
        let mut db = TuningDb::open(&path).unwrap();
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 3, Some(1.5))).unwrap();
        db.record_probe(&probe(id, "small", Some(0.5), None)).unwrap();
        (db.job(id).unwrap().unwrap(), db.job_trials(id).unwrap())
    };
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("{TO_VERSION_6} PRAGMA user_version = 6;")).unwrap();
    drop(conn);
    // A command that only reads migrates it too (it reads this schema).
    let db = TuningDb::open_read_only(&path).unwrap();
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
    assert_eq!(db.machine_limits("cpu:X").unwrap(), None);
    drop(db);
    let mut db = TuningDb::open(&path).unwrap();
    assert_eq!(db.jobs().unwrap(), vec![job.clone()]);
    assert_eq!(db.job_trials(job.id).unwrap(), trials);
    assert_eq!(db.job_probes(job.id).unwrap().len(), 1);
    db.save_machine_limits(&limits("cpu:X", 5)).unwrap();
    assert_eq!(db.machine_limits("cpu:X").unwrap(), Some(limits("cpu:X", 5)));
}

#[test]
fn a_version_6_postgres_database_is_migrated_and_keeps_its_jobs() {
    let url = postgres_database();
    let id = TuningDb::open(std::path::Path::new(&url)).unwrap().create_job(&new_job("m", "cpu")).unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("{TO_VERSION_6} UPDATE colt_schema SET version = 6;")).unwrap();
    let mut db = TuningDb::open(std::path::Path::new(&url)).unwrap();
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
    assert_eq!(db.job(id).unwrap().unwrap().job.workload, "m");
    assert_eq!(db.machine_limits("cpu:X").unwrap(), None);
    db.save_machine_limits(&limits("cpu:X", 5)).unwrap();
    assert_eq!(db.machine_limits("cpu:X").unwrap(), Some(limits("cpu:X", 5)));
}

#[test]
fn snapshots_and_baselines_are_kept_per_job() {
    on_each_backend(|mut db| {
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        assert_eq!((db.snapshot(id).unwrap(), db.baseline(id).unwrap()), (None, None));
        db.save_snapshot(id, b"one").unwrap();
        db.save_snapshot(id, b"two").unwrap();
        db.set_baseline(id, 12.5).unwrap();
        assert_eq!((db.snapshot(id).unwrap(), db.baseline(id).unwrap()), (Some(b"two".to_vec()), Some(12.5)));
    });
}

#[test]
fn a_reopened_file_keeps_everything_and_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colt.db");
    let (row, trials) = {
        let mut db = TuningDb::open(&path).unwrap();
        assert_eq!(db.path(), path);
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.record_trial(&trial(id, "m", "cpu", u64::MAX - 1, Some(1.0))).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 2, None)).unwrap();
        db.save_snapshot(id, &[0, 1, 255]).unwrap();
        db.set_job_state(id, JobState::Stopped, None).unwrap();
        (db.job(id).unwrap().unwrap(), db.job_trials(id).unwrap())
    };
    let db = TuningDb::open(&path).unwrap();
    assert_eq!(db.jobs().unwrap(), vec![row.clone()]);
    assert_eq!(db.job_trials(row.id).unwrap(), trials);
    assert_eq!(db.snapshot(row.id).unwrap(), Some(vec![0, 1, 255]));
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert!(db.foreign_keys_enforced().unwrap());
}

#[test]
fn a_version_1_file_is_migrated_and_its_trials_read_as_uniformly_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let id = {
        let mut db = TuningDb::open(&path).unwrap();
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.record_trial(&trial(id, "m", "cpu", 4, Some(2.0))).unwrap();
        id
    };
    // What version 1 wrote: the same tables without `trials.sampler` (nor
    // version 3's owners).
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("ALTER TABLE trials DROP COLUMN sampler; {TO_VERSION_2} PRAGMA user_version = 1;"))
        .unwrap();
    drop(conn);
    let mut db = TuningDb::open(&path).unwrap();
    let version: i64 = Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    // The low 16 bits hold the schema version, the bits above it the
    // database's identity (given at this first open for writing).
    assert_eq!(version & 0xffff, SCHEMA_VERSION);
    assert_ne!(version >> 16, 0, "the migrated file has no identity");
    assert_eq!(db.job_trials(id).unwrap(), vec![trial(id, "m", "cpu", 4, Some(2.0))]);
    let informed = trial(id, "m", "cpu", 5, Some(1.0));
    db.record_trial(&informed).unwrap();
    assert_eq!(db.job_trials(id).unwrap()[1].sampler, informed.sampler);
}

/// What turns a version-7 file back into a version-6 one.
const TO_VERSION_6: &str = "DROP TABLE machine_limits;";

/// What turns a version-7 file back into a version-4 one.
const TO_VERSION_4: &str =
    "DROP TABLE machine_limits; DROP TABLE proposal_probes; DROP TABLE claims; DROP TABLE workers;";

/// What turns a version-7 file back into a version-5 one.
const TO_VERSION_5: &str = "DROP TABLE machine_limits; DROP TABLE proposal_probes;";

/// What turns a version-7 file back into a version-3 one.
const TO_VERSION_3: &str = "DROP TABLE machine_limits; DROP TABLE proposal_probes; DROP TABLE claims; \
    DROP TABLE workers; DROP TABLE model_jobs;";

/// What turns a version-7 file back into a version-2 one.
const TO_VERSION_2: &str =
    "DROP TABLE machine_limits; DROP TABLE proposal_probes; DROP TABLE claims; DROP TABLE workers; DROP TABLE model_jobs; DROP INDEX jobs_by_state; ALTER TABLE jobs DROP COLUMN owner_host; \
    ALTER TABLE jobs DROP COLUMN owner_pid; ALTER TABLE jobs DROP COLUMN owner_started; \
    ALTER TABLE jobs DROP COLUMN owner_command; ALTER TABLE jobs DROP COLUMN lease_until_unix; \
    ALTER TABLE jobs DROP COLUMN crashes;";

#[test]
fn a_version_2_file_is_migrated_and_its_jobs_have_no_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let id = {
        let mut db = TuningDb::open(&path).unwrap();
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.set_job_state(id, JobState::Running, None).unwrap();
        id
    };
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("{TO_VERSION_2} PRAGMA user_version = 2;")).unwrap();
    drop(conn);
    let mut db = TuningDb::open(&path).unwrap();
    let job = db.job(id).unwrap().unwrap();
    assert_eq!((job.state, job.owner, job.crashes), (JobState::Running, None, 0));
    assert_eq!(db.claim_job(id, &Owner::this_process("test"), LEASE).unwrap(), Claim::Claimed);
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
}

#[test]
fn a_version_3_file_is_migrated_and_has_no_model_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let id = TuningDb::open(&path).unwrap().create_job(&new_job("m", "cpu")).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("{TO_VERSION_3} PRAGMA user_version = 3;")).unwrap();
    drop(conn);
    let mut db = TuningDb::open(&path).unwrap();
    assert_eq!(db.job(id).unwrap().unwrap().state, JobState::Queued);
    assert_eq!(db.model_jobs().unwrap(), vec![]);
    let model = db.create_model_job(&NewModelJob { model: "m".into(), spec_json: "{}".into() }).unwrap();
    assert_eq!(db.model_job(model).unwrap().unwrap().state, JobState::Queued);
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
}

#[test]
fn a_version_4_file_is_migrated_and_its_claims_are_kept_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    let id = TuningDb::open(&path).unwrap().create_job(&new_job("m", "cpu")).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&format!("{TO_VERSION_4} PRAGMA user_version = 4;")).unwrap();
    drop(conn);
    let mut db = TuningDb::open(&path).unwrap();
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
    assert_eq!(db.job_claims(id).unwrap(), vec![]);
    let me = Owner::this_process("colt tune");
    assert_eq!(db.claim_job(id, &me, LEASE).unwrap(), Claim::Claimed);
    assert_eq!(db.job_claims(id).unwrap().len(), 1);
}

#[test]
fn model_jobs_run_interrupted_first_then_oldest_queued_and_keep_their_progress() {
    on_each_backend(|mut db| {
        let spec = |m: &str| NewModelJob { model: m.into(), spec_json: format!("{{\"model\":\"{m}\"}}") };
        let a = db.create_model_job(&spec("a")).unwrap();
        let b = db.create_model_job(&spec("b")).unwrap();
        let c = db.create_model_job(&spec("c")).unwrap();
        assert_eq!(db.unfinished_model_jobs().unwrap(), 3);
        assert_eq!(db.next_model_job_to_run().unwrap().unwrap().id, a);
        db.set_model_job_state(b, JobState::Running, None).unwrap();
        db.set_model_job_progress(b, "{\"rounds\":1}").unwrap();
        let next = db.next_model_job_to_run().unwrap().unwrap();
        assert_eq!((next.id, next.job, next.progress_json.as_deref()), (b, spec("b"), Some("{\"rounds\":1}")));
        db.set_model_job_state(b, JobState::Done, None).unwrap();
        db.set_model_job_state(a, JobState::Failed, Some("no tasks")).unwrap();
        assert_eq!(db.next_model_job_to_run().unwrap().unwrap().id, c);
        assert_eq!(db.unfinished_model_jobs().unwrap(), 1);
        let rows = db.model_jobs().unwrap();
        assert_eq!(
            rows.iter().map(|r| (r.id, r.state)).collect::<Vec<_>>(),
            [(a, JobState::Failed), (b, JobState::Done), (c, JobState::Queued)]
        );
        assert_eq!(rows[0].error.as_deref(), Some("no tasks"));
        let missing = db.set_model_job_state(99, JobState::Done, None).unwrap_err().to_string();
        assert!(missing.contains("no model job 99"), "{missing}");
    });
}

/// An owner on this host whose process is gone: this pid with another
/// start time.
fn dead_owner(command: &str) -> Owner {
    let me = Owner::this_process(command);
    Owner { started: me.started + 1000, ..me }
}

/// A live `colt tune` holds its job: a daemon's claim is refused and its
/// scheduler does not pick the job; a dead owner's job is taken over, a
/// crash counted; at the second crash the job fails instead (issue 19,
/// item 7: a daemon resumed a live `colt tune`'s job).
#[test]
fn a_job_is_claimed_by_one_live_owner_and_failed_after_two_crashes() {
    on_each_backend(|mut db| {
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        db.set_job_state(id, JobState::Running, None).unwrap();
        let me = Owner::this_process("colt tune");
        assert_eq!(db.claim_job(id, &me, LEASE).unwrap(), Claim::Claimed);
        let row = db.job(id).unwrap().unwrap();
        assert_eq!(row.owner.as_ref(), Some(&me));
        assert!(row.lease_until_unix.unwrap() > 0.0);
        // Another process (here: one on another host, its lease running).
        let other = Owner { host: "elsewhere".into(), ..Owner::this_process("colt serve") };
        match db.claim_job(id, &other, LEASE).unwrap() {
            Claim::Held { owner, .. } => assert_eq!(owner, me),
            claim => panic!("a live owner's job was taken: {claim:?}"),
        }
        assert_eq!(db.next_job_to_run(&cpu()).unwrap(), None, "the scheduler picked a held job");
        assert!(db.renew_lease(id, &me, LEASE).unwrap());
        assert!(!db.renew_lease(id, &other, LEASE).unwrap(), "a lease renewed by a process that does not hold it");
        // A clean release: the next claim is no crash.
        db.release_job(id, &me).unwrap();
        assert_eq!(db.next_job_to_run(&cpu()).unwrap().map(|r| r.id), Some(id));
        assert_eq!(db.claim_job(id, &dead_owner("first"), LEASE).unwrap(), Claim::Claimed);
        assert_eq!(db.job(id).unwrap().unwrap().crashes, 0);
        // Its owner died: the job is free, and taking it counts the crash.
        assert_eq!(db.next_job_to_run(&cpu()).unwrap().map(|r| r.id), Some(id));
        assert_eq!(db.claim_job(id, &dead_owner("second"), LEASE).unwrap(), Claim::Claimed);
        assert_eq!(db.job(id).unwrap().unwrap().crashes, 1);
        // Died again: failed, with the reason, and never picked again.
        let Claim::GaveUp { reason } = db.claim_job(id, &me, LEASE).unwrap() else {
            panic!("a job crashed twice was resumed")
        };
        assert!(reason.contains("died 2 times") && reason.contains("second"), "{reason}");
        let row = db.job(id).unwrap().unwrap();
        assert_eq!((row.state, row.error.as_deref(), row.owner), (JobState::Failed, Some(reason.as_str()), None));
        assert_eq!(db.next_job_to_run(&cpu()).unwrap(), None);
        // Resumed by hand, it starts its count afresh.
        assert_eq!(db.claim_job(id, &me, LEASE).unwrap(), Claim::Claimed);
        assert_eq!(db.job(id).unwrap().unwrap().crashes, 0);
        // The history: me (released), first and second (found dead), me
        // (holding); a claim by the holder itself (a renewal) opens none,
        // and one hold ends before the next begins.
        assert_eq!(db.claim_job(id, &me, LEASE).unwrap(), Claim::Claimed);
        let claims = db.job_claims(id).unwrap();
        let who: Vec<(&str, Option<&str>)> =
            claims.iter().map(|c| (c.owner.command.as_str(), c.ended.as_deref())).collect();
        assert_eq!(
            who,
            [("colt tune", Some("released")), ("first", Some("died")), ("second", Some("died")), ("colt tune", None)]
        );
        for pair in claims.windows(2) {
            assert!(pair[0].ended_unix.unwrap() <= pair[1].claimed_unix, "two holds overlap: {pair:?}");
        }
        // Another host's owner whose lease ran out is dead too.
        let id = db.create_job(&new_job("n", "cpu")).unwrap();
        db.set_job_state(id, JobState::Running, None).unwrap();
        assert_eq!(db.claim_job(id, &other, std::time::Duration::ZERO).unwrap(), Claim::Claimed);
        std::thread::sleep(std::time::Duration::from_millis(10));
        assert_eq!(db.claim_job(id, &me, LEASE).unwrap(), Claim::Claimed);
        assert_eq!(db.job(id).unwrap().unwrap().crashes, 1);
    });
}

/// The scheduler's pick reads unfinished jobs only: interrupted first,
/// then the oldest queued.
#[test]
fn the_next_job_is_an_interrupted_one_then_the_oldest_queued() {
    on_each_backend(|mut db| {
        let done = db.create_job(&new_job("a", "cpu")).unwrap();
        db.set_job_state(done, JobState::Done, None).unwrap();
        let queued = db.create_job(&new_job("b", "cpu")).unwrap();
        let _later = db.create_job(&new_job("c", "cpu")).unwrap();
        assert_eq!(db.next_job_to_run(&cpu()).unwrap().map(|r| r.id), Some(queued));
        let interrupted = db.create_job(&new_job("d", "cpu")).unwrap();
        db.set_job_state(interrupted, JobState::Running, None).unwrap();
        assert_eq!(db.next_job_to_run(&cpu()).unwrap().map(|r| r.id), Some(interrupted));
        assert_eq!(db.unfinished_jobs().unwrap(), 3);
        // Another label's job is another host's: never this scheduler's pick.
        let elsewhere = db.create_job(&new_job("e", "cpu:Another Part [x86_64]")).unwrap();
        db.set_job_state(elsewhere, JobState::Running, None).unwrap();
        assert_eq!(db.next_job_to_run(&cpu()).unwrap().map(|r| r.id), Some(interrupted));
        let there = vec!["cpu:Another Part [x86_64]".to_string()];
        assert_eq!(db.next_job_to_run(&there).unwrap().map(|r| r.id), Some(elsewhere));
        assert_eq!(db.next_job_to_run(&[]).unwrap(), None);
    });
}

#[test]
fn a_recorded_trial_is_visible_to_another_connection_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colt.db");
    let mut db = TuningDb::open(&path).unwrap();
    let id = db.create_job(&new_job("m", "cpu")).unwrap();
    db.record_trial(&trial(id, "m", "cpu", 1 << 63, Some(1.0))).unwrap();
    let reader = Connection::open(&path).unwrap();
    let fingerprint: i64 =
        reader.query_row("SELECT fingerprint FROM trials WHERE job = ?1", [id], |r| r.get(0)).unwrap();
    assert_eq!(fingerprint as u64, 1 << 63);
}

#[test]
fn a_file_that_is_not_a_database_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(100)).unwrap();
    let e = TuningDb::open(&path).err().unwrap();
    assert!(matches!(e, DbError::NotADatabase { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("`{}`", path.display())), "{e}");
}

#[test]
fn another_programs_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE jobs (x);").unwrap();
    let e = TuningDb::open(&path).err().unwrap();
    assert!(matches!(e, DbError::Foreign { .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
}

#[test]
fn a_newer_schema_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(TuningDb::open(&path).unwrap());
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let e = TuningDb::open(&path).err().unwrap();
    let text = e.to_string();
    assert!(matches!(e, DbError::TooNew { found: 99, .. }), "{e:?}");
    assert!(text.contains(&path.display().to_string()) && text.contains("99"), "{text}");
    assert!(text.contains(&format!("version {SCHEMA_VERSION}")), "{text}");
}

#[test]
fn a_missing_directory_is_an_open_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("colt.db");
    let e = TuningDb::open(&path).err().unwrap();
    assert!(matches!(e, DbError::Open { .. }) && e.to_string().contains(&path.display().to_string()), "{e}");
}

#[test]
fn the_database_can_move_to_its_actor_thread() {
    fn send<T: Send>() {}
    send::<TuningDb>();
}

#[test]
fn a_new_database_and_its_wal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let mut db = TuningDb::open(&path).unwrap();
    db.create_job(&new_job("my-gemm", "cpu")).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("private.db-wal");
    assert!(wal.exists(), "the database runs in WAL mode");
    assert_eq!(mode(&wal), 0o600);
    // An existing file keeps the mode its owner gave it.
    drop(db);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    TuningDb::open(&path).unwrap();
    assert_eq!(mode(&path), 0o640);
}

/// A copy of the main file alone, taken while colt still has it open,
/// holds every finished job: the WAL is checkpointed when a job ends (it
/// was not, and a backup of `colt.db` without `-wal` looked empty).
#[test]
fn a_finished_job_is_in_the_main_file_without_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colt.db");
    let mut db = TuningDb::open(&path).unwrap();
    let done = db.create_job(&new_job("my-gemm", "cpu")).unwrap();
    db.record_trial(&trial(done, "my-gemm", "cpu", 7, Some(1.5))).unwrap();
    db.set_job_state(done, JobState::Done, None).unwrap();
    let running = db.create_job(&new_job("my-conv", "cpu")).unwrap();
    db.set_job_state(running, JobState::Running, None).unwrap();
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let copied = TuningDb::open(&copy).unwrap();
    assert_eq!(copied.job(done).unwrap().unwrap().state, JobState::Done);
    assert_eq!(copied.job_trials(done).unwrap().len(), 1);
    drop(copied);
    // Closing checkpoints the rest.
    drop(db);
    std::fs::copy(&path, &copy).unwrap();
    let _ = std::fs::remove_file(dir.path().join("copy.db-wal"));
    assert_eq!(TuningDb::open(&copy).unwrap().job(running).unwrap().unwrap().state, JobState::Running);
}

/// Garbage in inner pages, or a job in a state colt does not know, is an
/// error at open naming the file (a daemon started on them, said it was
/// healthy, and failed every listing).
#[test]
fn a_damaged_database_is_refused_at_open_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.db");
    {
        let mut db = TuningDb::open(&path).unwrap();
        let job = db.create_job(&new_job("my-gemm", "cpu")).unwrap();
        for f in 0..400 {
            db.record_trial(&trial(job, "my-gemm", "cpu", f, Some(1.0 + f as f64))).unwrap();
        }
        db.set_job_state(job, JobState::Done, None).unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 8 * page, "{} bytes", bytes.len());
    bytes[3 * page..5 * page].fill(0xa5);
    std::fs::write(&path, &bytes).unwrap();
    let e = TuningDb::open(&path).err().expect("a damaged file must not open");
    assert!(matches!(e, DbError::Corrupt { .. }) && e.to_string().contains("damaged.db"), "{e}");

    let path = dir.path().join("odd-state.db");
    let job = TuningDb::open(&path).unwrap().create_job(&new_job("my-gemm", "cpu")).unwrap();
    // The schema's CHECK refuses it; another tool may not have.
    let other = Connection::open(&path).unwrap();
    other.execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE jobs SET state = 'exploded';").unwrap();
    drop(other);
    let e = TuningDb::open(&path).err().expect("an unknown state must not open");
    let message = e.to_string();
    // quick_check finds the broken CHECK first; without the CHECK (a
    // version 1 file) the state query names the job.
    let named = message.contains("CHECK constraint failed in jobs")
        || message.contains(&format!("job {job} has the unknown state `exploded`"));
    assert!(matches!(e, DbError::Corrupt { .. }) && message.contains("odd-state.db") && named, "{message}");
}

/// A copy of `colt.db` without the `-wal` that held its schema is refused,
/// not "started afresh" (issue 19, item 6: `colt show` wrote a new schema
/// into it and `colt serve` started with 0 jobs); a `-wal` that is not a
/// log of this database is refused, not silently dropped.
#[test]
fn a_file_without_its_wal_or_with_a_foreign_wal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colt.db");
    let copy = dir.path().join("copy.db");
    {
        let _db = TuningDb::open(&path).unwrap();
        // Another connection keeps the rows in the log: no checkpoint.
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        std::fs::copy(&path, &copy).unwrap();
        drop(writer);
    }
    assert!(std::fs::metadata(&copy).unwrap().len() > 0, "WAL mode writes the main file's header at once");
    {
        let probe = Connection::open(&copy).unwrap();
        let tables: i64 = probe.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        drop(probe);
        assert_eq!(tables, 0, "the copy was meant to hold no schema (the WAL kept it)");
        let e = TuningDb::open(&copy).err().expect("a schema-less copy must not start afresh");
        assert!(matches!(e, DbError::NoSchema { .. }) && e.to_string().contains("copy.db"), "{e}");
        let tables: i64 =
            Connection::open(&copy).unwrap().query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "the refused file was written to");
    }

    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    for (garbage, says) in [
        (b"not a log".to_vec(), "shorter than"),
        (vec![0xa5; 4096], "magic number"),
        (
            [&[0x37, 0x7f, 0x06, 0x82, 0x00, 0x2d, 0xe2, 0x18, 0x00, 0x00, 0x02, 0x00][..], &[0; 20][..]].concat(),
            "another database's",
        ),
    ] {
        std::fs::write(&wal, &garbage).unwrap();
        let e = TuningDb::open(&path).err().expect("a foreign -wal must not open");
        assert!(matches!(e, DbError::BadWal { .. }) && e.to_string().contains(says), "{e}");
        assert_eq!(std::fs::read(&wal).unwrap(), garbage, "the refused log was changed");
    }
    std::fs::remove_file(&wal).unwrap();
    TuningDb::open(&path).unwrap();
}

/// A database left as a killed process leaves it: one finished job
/// (checkpointed into the main file) and one running job whose rows are
/// only in the `-wal` (the connection is never closed, so nothing is
/// checkpointed at the end). Without the page-1 stamp colt writes after
/// each checkpoint, the log would hold no copy of page 1 at all.
fn left_mid_job(path: &std::path::Path, workload: &str) {
    let mut db = TuningDb::open(path).unwrap();
    let done = db.create_job(&new_job(workload, "cpu")).unwrap();
    db.record_trial(&trial(done, workload, "cpu", 1, Some(1.0))).unwrap();
    db.set_job_state(done, JobState::Done, None).unwrap();
    let running = db.create_job(&new_job(workload, "cpu")).unwrap();
    db.set_job_state(running, JobState::Running, None).unwrap();
    // More pages than a log holds before it is checkpointed: SQLite's
    // automatic checkpoint would let the next write start a log without
    // page 1; colt's own stamps page 1 into it.
    db.save_snapshot(running, &vec![7u8; 6 << 20]).unwrap();
    db.set_job_trials(running, 50).unwrap();
    std::mem::forget(db);
}

/// Issue 40, item 5: a database file with another database's `-wal`
/// beside it opened as that other database (`db check` said ok, `serve`
/// resumed the other's job). Swapped logs are refused, for writing and for
/// reading, naming the log, and neither file is changed; each file with
/// its own log opens with its rows.
#[test]
fn a_log_swapped_between_two_databases_is_refused_and_its_own_log_opens() {
    let live = tempfile::tempdir().unwrap();
    let (a, b) = (live.path().join("a.db"), live.path().join("b.db"));
    left_mid_job(&a, "gemm-a");
    left_mid_job(&b, "gemm-b");
    let wal = |p: &std::path::Path| {
        let mut w = p.as_os_str().to_owned();
        w.push("-wal");
        std::path::PathBuf::from(w)
    };
    assert!(std::fs::metadata(wal(&a)).unwrap().len() > 0, "the test needs a's rows in its log");
    let dir = tempfile::tempdir().unwrap();
    let (a2, b2) = (dir.path().join("a.db"), dir.path().join("b.db"));
    for (main, log) in [(&a2, &b), (&b2, &a)] {
        std::fs::copy(if main == &a2 { &a } else { &b }, main).unwrap();
        std::fs::copy(wal(log), wal(main)).unwrap();
    }
    for path in [&a2, &b2] {
        let (main_before, log_before) = (std::fs::read(path).unwrap(), std::fs::read(wal(path)).unwrap());
        for e in [TuningDb::open(path).err(), TuningDb::open_read_only(path).err()] {
            let e = e.expect("another database's log must not open");
            let message = e.to_string();
            assert!(matches!(e, DbError::ForeignWal { .. }), "{message}");
            assert!(message.contains(&format!("{}-wal", path.display())), "{message}");
        }
        assert_eq!(std::fs::read(path).unwrap(), main_before, "the refused file was changed");
        assert_eq!(std::fs::read(wal(path)).unwrap(), log_before, "the refused log was changed");
    }
    // Each with its own log: both jobs, the running one still running.
    std::fs::copy(wal(&a), wal(&a2)).unwrap();
    let db = TuningDb::open_read_only(&a2).unwrap();
    let jobs = db.jobs().unwrap();
    assert_eq!(
        jobs.iter().map(|j| (j.job.workload.as_str(), j.state)).collect::<Vec<_>>(),
        [("gemm-a", JobState::Done), ("gemm-a", JobState::Running)]
    );
    drop(db);
    assert_eq!(TuningDb::open(&a2).unwrap().jobs().unwrap().len(), 2);
}

#[test]
fn a_backup_is_a_checked_copy_taken_while_the_database_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colt.db");
    let mut db = TuningDb::open(&path).unwrap();
    let job = db.create_job(&new_job("my-gemm", "cpu")).unwrap();
    db.set_job_state(job, JobState::Running, None).unwrap();
    for f in 0..50 {
        db.record_trial(&trial(job, "my-gemm", "cpu", f, Some(1.0 + f as f64))).unwrap();
    }
    db.save_snapshot(job, b"tree").unwrap();
    let dest = dir.path().join("backup.db");
    let summary = db.backup_to(&dest).unwrap();
    assert_eq!((summary.jobs, summary.trials, summary.snapshots, summary.schema_version), (1, 50, 1, SCHEMA_VERSION));
    // The copy needs no -wal of its own.
    let mut wal = dest.as_os_str().to_owned();
    wal.push("-wal");
    let _ = std::fs::remove_file(&wal);
    let copy = TuningDb::open(&dest).unwrap();
    assert_eq!(copy.job_trials(job).unwrap(), db.job_trials(job).unwrap());
    assert_eq!(copy.integrity_check().unwrap(), ["ok"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let e = db.backup_to(&dest).expect_err("a backup overwrote a file");
    assert!(matches!(e, DbError::Backup { .. }) && e.to_string().contains("exists already"), "{e}");
}

#[test]
fn a_postgres_url_is_shown_without_its_password_and_a_dead_server_is_named() {
    let url = "postgres://colt:s3cret@127.0.0.1:1/nothing";
    let e = TuningDb::open(std::path::Path::new(url)).err().unwrap();
    assert!(matches!(e, DbError::Connect { .. }), "{e}");
    let message = e.to_string();
    assert!(message.contains("postgres://colt:***@127.0.0.1:1/nothing") && !message.contains("s3cret"), "{message}");
    assert!(message.contains("cannot connect to the PostgreSQL server"), "{message}");
}

#[test]
fn a_postgres_database_of_another_program_or_a_newer_schema_is_refused() {
    let url = postgres_database();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute("CREATE TABLE jobs (id INT)").unwrap();
    let e = TuningDb::open(std::path::Path::new(&url)).err().unwrap();
    assert!(matches!(e, DbError::ForeignServer { .. }), "{e}");

    let url = postgres_database();
    drop(TuningDb::open(std::path::Path::new(&url)).unwrap());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("UPDATE colt_schema SET version = {}", SCHEMA_VERSION + 1)).unwrap();
    let e = TuningDb::open(std::path::Path::new(&url)).err().unwrap();
    assert!(matches!(e, DbError::TooNew { found, .. } if found == SCHEMA_VERSION + 1), "{e}");
}

#[test]
fn two_processes_connecting_at_once_create_the_postgres_schema_once() {
    let url = postgres_database();
    let opened: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || TuningDb::open(std::path::Path::new(&url)).map(|_| ()))
        })
        .collect();
    for handle in opened {
        handle.join().unwrap().unwrap();
    }
    let mut db = TuningDb::open(std::path::Path::new(&url)).unwrap();
    assert_eq!(db.summary().unwrap().schema_version, SCHEMA_VERSION);
    db.create_job(&new_job("m", "cpu")).unwrap();
    assert_eq!(db.integrity_check().unwrap(), vec!["ok".to_string()]);
}

#[test]
fn a_postgres_restart_mid_job_loses_nothing_the_connection_comes_back() {
    let mut server = colt_db::test_server::TestServer::start().unwrap();
    let url = server.fresh_database().unwrap();
    let mut db = TuningDb::open(std::path::Path::new(&url)).unwrap();
    let job = db.create_job(&new_job("m", "cpu")).unwrap();
    db.record_trial(&trial(job, "m", "cpu", 1, Some(1.0))).unwrap();
    server.restart().unwrap();
    // The old connection is dead; the next write redials and lands.
    assert!(db.record_trial(&trial(job, "m", "cpu", 2, Some(0.5))).unwrap());
    assert_eq!(medians(&db.job_trials(job).unwrap()), vec![(1, 1.0), (2, 0.5)]);
    // While the server is down a write waits for it, then lands.
    server.stop();
    let restarter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        server.restart().unwrap();
        server
    });
    assert!(db.record_trial(&trial(job, "m", "cpu", 3, Some(0.7))).unwrap());
    let _server = restarter.join().unwrap();
    assert_eq!(db.job_trials(job).unwrap().len(), 3);
}

#[test]
fn workers_are_listed_while_their_heartbeat_is_fresh_and_gone_when_they_say_so() {
    on_each_backend(|mut db| {
        let a = Owner { host: "host-a".into(), ..Owner::this_process("colt serve") };
        let b = Owner { host: "host-b".into(), ..Owner::this_process("colt serve") };
        let labels = vec!["cpu:A [x86_64]".to_string()];
        db.worker_heartbeat(&a, "10.0.0.1:7878", &labels).unwrap();
        db.worker_heartbeat(&b, "10.0.0.2:7878", &[]).unwrap();
        db.worker_heartbeat(&a, "10.0.0.1:7878", &labels).unwrap();
        let live = db.live_workers(LEASE).unwrap();
        let hosts: Vec<&str> = live.iter().map(|w| w.worker.host.as_str()).collect();
        assert_eq!(hosts, ["host-a", "host-b"], "one row per worker, however many heartbeats");
        assert_eq!((live[0].listen.as_str(), &live[0].labels), ("10.0.0.1:7878", &labels));
        assert!(live[0].heartbeat_unix >= live[0].started_unix);
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(db.live_workers(std::time::Duration::from_millis(10)).unwrap().is_empty(), "stale heartbeats listed");
        db.worker_gone(&b).unwrap();
        assert_eq!(db.live_workers(LEASE).unwrap().len(), 1);
    });
}

#[test]
fn a_copy_from_a_file_to_postgres_and_back_keeps_every_id_and_trial_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("from.db");
    let mut source = TuningDb::open(&file).unwrap();
    let a = source.create_job(&new_job("a", "cpu")).unwrap();
    let b = source.create_job(&new_job("b", "cpu")).unwrap();
    // A gap in the ids: the copy must not renumber.
    let c = source.create_job(&new_job("c", "gpu")).unwrap();
    for (job, n) in [(a, 3), (c, 2)] {
        for f in 0..n {
            source.record_trial(&trial(job, "m", "cpu", f, Some(1.0 + f as f64))).unwrap();
        }
    }
    source.set_job_state(b, JobState::Running, None).unwrap();
    source.set_baseline(a, 40.0).unwrap();
    source.save_snapshot(a, b"tree").unwrap();
    source.record_probe(&probe(a, "small", Some(0.5), Some((Some(1.0), Some(2.0))))).unwrap();
    source.record_probe(&probe(a, "large", None, None)).unwrap();
    let model = source.create_model_job(&NewModelJob { model: "m".into(), spec_json: "{}".into() }).unwrap();

    let url = postgres_database();
    let mut server = TuningDb::open(std::path::Path::new(&url)).unwrap();
    let first = colt_db::copy_database(&source, &mut server).unwrap();
    assert_eq!((first.jobs_copied, first.trials_copied, first.snapshots, first.model_jobs_copied), (3, 5, 1, 1));
    let again = colt_db::copy_database(&source, &mut server).unwrap();
    assert_eq!(
        (again.jobs_copied, again.jobs_present, again.trials_copied, again.probes_copied),
        (0, 3, 0, 0),
        "a second copy changed something"
    );
    for id in [a, b, c] {
        let (s, d) = (source.job(id).unwrap().unwrap(), server.job(id).unwrap().unwrap());
        assert_eq!((s.job, s.trials_done, s.best_ms), (d.job, d.trials_done, d.best_ms));
        assert_eq!(source.job_trials(id).unwrap(), server.job_trials(id).unwrap());
    }
    assert_eq!(server.job(b).unwrap().unwrap().state, JobState::Stopped, "a running job arrives stopped");
    assert_eq!((server.baseline(a).unwrap(), server.snapshot(a).unwrap()), (Some(40.0), Some(b"tree".to_vec())));
    assert_eq!((first.probes_copied, server.job_probes(a).unwrap()), (2, source.job_probes(a).unwrap()));
    assert_eq!(server.model_job(model).unwrap().unwrap().job.model, "m");
    // New jobs on the server are numbered after the copied ones.
    assert!(server.create_job(&new_job("d", "cpu")).unwrap() > c);

    // And back into a new file, as it now is.
    let back_path = dir.path().join("back.db");
    let mut back = TuningDb::open(&back_path).unwrap();
    let copied = colt_db::copy_database(&server, &mut back).unwrap();
    assert_eq!((copied.jobs_copied, copied.trials_copied), (4, 5));
    assert_eq!(back.summary().unwrap().trials, 5);

    // Into a database whose job 1 is another job: refused, naming it.
    let mut other = TuningDb::open_in_memory().unwrap();
    other.create_job(&new_job("unrelated", "cpu")).unwrap();
    let e = colt_db::copy_database(&source, &mut other).unwrap_err();
    assert!(matches!(e, DbError::CopyMismatch { .. }) && e.to_string().contains("job 1 is another job"), "{e}");
}

#[test]
fn claiming_the_next_job_takes_each_job_once_and_skips_held_and_other_labels() {
    on_each_backend(|mut db| {
        let a = Owner { host: "host-a".into(), ..Owner::this_process("colt serve") };
        let b = Owner { host: "host-b".into(), ..Owner::this_process("colt serve") };
        let first = db.create_job(&new_job("m", "cpu")).unwrap();
        let second = db.create_job(&new_job("n", "cpu")).unwrap();
        db.create_job(&new_job("o", "cpu:Another Part [x86_64]")).unwrap();
        let took = |db: &mut TuningDb, who: &Owner| db.claim_next_job(who, &cpu(), LEASE).unwrap().map(|r| r.id);
        assert_eq!(took(&mut db, &a), Some(first));
        assert_eq!(db.job(first).unwrap().unwrap().owner.as_ref(), Some(&a));
        // a's job is held (its lease runs): b takes the next one.
        assert_eq!(took(&mut db, &b), Some(second));
        assert_eq!(took(&mut db, &b), None, "a held job, or another label's, was claimed");
        assert_eq!(db.job_claims(first).unwrap().len(), 1);
    });
}

#[test]
fn workers_racing_for_a_postgres_queue_each_take_distinct_jobs() {
    let url = postgres_database();
    let mut db = TuningDb::open(std::path::Path::new(&url)).unwrap();
    let ids: Vec<JobId> = (0..24).map(|i| db.create_job(&new_job(&format!("w{i}"), "cpu")).unwrap()).collect();
    let racers: Vec<_> = (0..6)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut db = TuningDb::open(std::path::Path::new(&url)).unwrap();
                let me = Owner { host: format!("racer-{w}"), ..Owner::this_process("colt serve") };
                let mut mine = Vec::new();
                while let Some(row) = db.claim_next_job(&me, &cpu(), LEASE).unwrap() {
                    mine.push(row.id);
                }
                mine
            })
        })
        .collect();
    let taken: Vec<JobId> = racers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let mut sorted = taken.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "every job claimed exactly once");
    for id in ids {
        assert_eq!(db.job_claims(id).unwrap().len(), 1, "job {id}");
    }
}

#[test]
fn a_model_job_runs_in_one_process_of_a_shared_postgres_at_a_time() {
    let url = postgres_database();
    let open = || TuningDb::open(std::path::Path::new(&url)).unwrap();
    let (mut first, mut second) = (open(), open());
    let a = first.create_model_job(&NewModelJob { model: "a".into(), spec_json: "{}".into() }).unwrap();
    let b = first.create_model_job(&NewModelJob { model: "b".into(), spec_json: "{}".into() }).unwrap();
    assert_eq!(first.claim_next_model_job().unwrap().map(|m| m.id), Some(a));
    assert_eq!(second.claim_next_model_job().unwrap().map(|m| m.id), Some(b), "a held model job was taken");
    let mut third = open();
    assert_eq!(third.claim_next_model_job().unwrap(), None);
    first.release_model_job(a).unwrap();
    assert_eq!(third.claim_next_model_job().unwrap().map(|m| m.id), Some(a));
    // A process that dies lets its model job go.
    drop(second);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(open().claim_next_model_job().unwrap().map(|m| m.id), Some(b));
}

#[test]
fn a_file_backup_of_a_postgres_database_is_refused_naming_pg_dump() {
    let url = postgres_database();
    let db = TuningDb::open(std::path::Path::new(&url)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = db.backup_to(&dir.path().join("copy.db")).unwrap_err();
    assert!(matches!(e, DbError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains(&url) && e.to_string().contains("pg_dump"), "{e}");
}

/// A best record whose lineage no longer applies (a database written by
/// another version of colt's schedule space) is refused with a message
/// that says so and what to do, the lineage's own error as its source.
#[test]
fn a_best_record_that_no_longer_rebuilds_says_why_and_what_to_do() {
    let mut db = TuningDb::open_in_memory().unwrap();
    let text = "workload tiny-mm\ninput A[4, 4]\ninput B[4, 4]\noutput C[4, 4]\nC[i, j] += A[i, k] * B[k, j]\n";
    let job = db.create_job(&NewJob { workload_text: text.to_string(), ..new_job("tiny-mm", "cpu") }).unwrap();
    let mut record = trial(job, "tiny-mm", "cpu", 2, Some(1.0));
    record.edits = vec![r#"tile(stage="C", axis="q", factors=[1,1,1])"#.to_string()];
    assert!(db.record_trial(&record).unwrap());
    let err = match db.best_kernel(colt_db::KernelQuery::Workload { name: "tiny-mm", target: "cpu" }) {
        Err(e) => e,
        Ok(_) => panic!("a lineage whose edit names no axis of the program rebuilt"),
    };
    let message = err.to_string();
    assert!(message.contains("the best record of `tiny-mm`"), "{message}");
    assert!(message.contains("another version of colt's schedule space"), "{message}");
    assert!(message.contains("tune the workload again"), "{message}");
    let source = std::error::Error::source(&err).expect("the lineage's error").to_string();
    assert!(source.contains("has no axis `q`"), "{source}");
    assert!(!message.contains(&source), "the source is not repeated in the message: {message}");
}
