//! The schema (version 7) and how rows map to records.
//!
//! Version 2 added `trials.sampler` (how the trial's candidate was drawn;
//! `uniform` for every trial of version 1, which had only that sampler).
//! Version 3 added each job's owner, lease and crash count
//! ([`crate::ownership`]) and an index by state (the daemon's scheduler
//! reads only unfinished jobs). Version 4 added `model_jobs`
//! ([`crate::model_jobs`]: whole-model jobs of the daemon, each over
//! ordinary jobs). Version 5 added `claims`, the history of who held each
//! job when ([`crate::ownership`]), and `workers`, the daemons that serve
//! the database and their last heartbeat ([`crate::workers`]). Version 6
//! added `proposal_probes` ([`crate::probes`]). Version 7 added
//! `machine_limits` ([`crate::machine_limits`]). An older file is migrated
//! in place when it is opened.

use crate::records::{JobRow, NewJob, TrialRecord};
use rusqlite::types::Type;
use rusqlite::Row;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The schema this code reads and writes, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 7;

/// `PRAGMA application_id` of colt's files ("colt" in ASCII), so a SQLite file
/// written by another program is told apart from an empty one.
pub(crate) const APPLICATION_ID: i64 = 0x636f_6c74;

/// Long enough for another process's write (milliseconds) to finish, short
/// enough that a stuck one is reported rather than waited on forever.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) const SCHEMA: &str = "
CREATE TABLE jobs (
    -- AUTOINCREMENT: a job id written into a resume file never names another job later.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workload TEXT NOT NULL,
    workload_text TEXT NOT NULL,
    workload_fingerprint TEXT NOT NULL,
    target TEXT NOT NULL,
    strategy TEXT NOT NULL,
    trials INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    options_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'stopped', 'done', 'failed', 'cancelled')),
    error TEXT,
    created_unix REAL NOT NULL,
    updated_unix REAL NOT NULL,
    baseline_ms REAL,
    owner_host TEXT,
    owner_pid INTEGER,
    owner_started INTEGER,
    owner_command TEXT,
    lease_until_unix REAL,
    crashes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_workload ON jobs (workload);
CREATE INDEX jobs_by_setup ON jobs (workload_fingerprint, target, strategy);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL REFERENCES jobs (id),
    workload_fingerprint TEXT NOT NULL,
    target TEXT NOT NULL,
    seed INTEGER NOT NULL,
    edits TEXT NOT NULL,
    decisions TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    median_ms REAL,
    min_ms REAL,
    max_ms REAL,
    runs INTEGER NOT NULL,
    failure TEXT,
    strategy TEXT NOT NULL,
    model TEXT,
    trial_index INTEGER NOT NULL,
    created_unix REAL NOT NULL,
    sampler TEXT NOT NULL DEFAULT 'uniform',
    UNIQUE (job, fingerprint)
);
CREATE INDEX trials_by_job ON trials (job, trial_index);
CREATE INDEX trials_best ON trials (workload_fingerprint, target, verified, median_ms);
-- Apart from jobs so that listing jobs never reads the (large) tree snapshots.
CREATE TABLE snapshots (
    job INTEGER PRIMARY KEY REFERENCES jobs (id),
    bytes BLOB NOT NULL,
    saved_unix REAL NOT NULL
);
";

/// Version 4's table: whole-model jobs. What a model job asks for
/// (`spec_json`) and where it stands (`progress_json`: its tasks' jobs and
/// rounds) are the daemon's JSON; the tasks' trials are ordinary jobs'.
pub(crate) const MIGRATE_FROM_3: &str = "
CREATE TABLE model_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    progress_json TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'stopped', 'done', 'failed', 'cancelled')),
    error TEXT,
    created_unix REAL NOT NULL,
    updated_unix REAL NOT NULL
);
CREATE INDEX model_jobs_by_state ON model_jobs (state, id);
";

/// Version 5's table: every claim of a job — who took it, when, and how
/// the hold ended (`released`, or `died`: the holder was found dead when
/// the job was taken over, or failed for it) — so that "never run by two
/// processes at once" can be read back from the database.
pub(crate) const MIGRATE_FROM_4: &str = "
CREATE TABLE claims (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL REFERENCES jobs (id),
    owner_host TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    owner_started INTEGER NOT NULL,
    owner_command TEXT NOT NULL,
    claimed_unix REAL NOT NULL,
    ended_unix REAL,
    ended TEXT CHECK (ended IN ('released', 'died'))
);
CREATE INDEX claims_by_job ON claims (job, id);
CREATE TABLE workers (
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started INTEGER NOT NULL,
    command TEXT NOT NULL,
    listen TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    started_unix REAL NOT NULL,
    heartbeat_unix REAL NOT NULL,
    PRIMARY KEY (host, pid, started)
);
";

/// From version 1 to 2.
pub(crate) const MIGRATE_FROM_1: &str = "ALTER TABLE trials ADD COLUMN sampler TEXT NOT NULL DEFAULT 'uniform';";

/// From version 2 to 3.
pub(crate) const MIGRATE_FROM_2: &str = "
ALTER TABLE jobs ADD COLUMN owner_host TEXT;
ALTER TABLE jobs ADD COLUMN owner_pid INTEGER;
ALTER TABLE jobs ADD COLUMN owner_started INTEGER;
ALTER TABLE jobs ADD COLUMN owner_command TEXT;
ALTER TABLE jobs ADD COLUMN lease_until_unix REAL;
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_state ON jobs (state, id);
";

pub(crate) const JOB_COLUMNS: &str =
    "id, workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
    options_json, state, error, created_unix, updated_unix, \
    (SELECT COUNT(*) FROM trials WHERE trials.job = jobs.id), \
    (SELECT MIN(median_ms) FROM trials WHERE trials.job = jobs.id AND verified = 1), \
    owner_host, owner_pid, owner_started, owner_command, lease_until_unix, crashes, baseline_ms";

pub(crate) const TRIAL_COLUMNS: &str =
    "job, workload_fingerprint, target, seed, edits, decisions, source_hash, fingerprint, \
    verified, median_ms, min_ms, max_ms, runs, failure, strategy, model, trial_index, created_unix, sampler";

/// SQLite integers are i64; u64s are stored bit-cast so that every value,
/// including those >= 2^63, round-trips exactly.
pub(crate) fn bits(v: u64) -> i64 {
    v as i64
}

pub(crate) fn unbits(v: i64) -> u64 {
    v as u64
}

pub(crate) fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn conversion(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e))
}

pub(crate) fn job_from_row(row: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: row.get(0)?,
        job: NewJob {
            workload: row.get(1)?,
            workload_text: row.get(2)?,
            workload_fingerprint: row.get(3)?,
            target: row.get(4)?,
            strategy: row.get(5)?,
            trials: unbits(row.get(6)?),
            seed: unbits(row.get(7)?),
            options_json: row.get(8)?,
        },
        state: row.get::<_, String>(9)?.parse().map_err(|e| conversion(9, e))?,
        error: row.get(10)?,
        created_unix: row.get(11)?,
        updated_unix: row.get(12)?,
        trials_done: unbits(row.get(13)?),
        best_ms: row.get(14)?,
        owner: match row.get::<_, Option<String>>(15)? {
            None => None,
            Some(host) => {
                Some(crate::Owner { host, pid: row.get(16)?, started: unbits(row.get(17)?), command: row.get(18)? })
            }
        },
        lease_until_unix: row.get(19)?,
        crashes: row.get(20)?,
        baseline_ms: row.get(21)?,
    })
}

pub(crate) fn trial_from_row(row: &Row<'_>) -> rusqlite::Result<TrialRecord> {
    Ok(TrialRecord {
        job: row.get(0)?,
        workload_fingerprint: row.get(1)?,
        target: row.get(2)?,
        seed: unbits(row.get(3)?),
        edits: serde_json::from_str(&row.get::<_, String>(4)?).map_err(|e| conversion(4, e))?,
        decisions: row.get(5)?,
        source_hash: row.get(6)?,
        fingerprint: unbits(row.get(7)?),
        verified: row.get(8)?,
        median_ms: row.get(9)?,
        min_ms: row.get(10)?,
        max_ms: row.get(11)?,
        runs: row.get(12)?,
        failure: row.get(13)?,
        strategy: row.get(14)?,
        model: row.get(15)?,
        trial_index: unbits(row.get(16)?),
        created_unix: row.get(17)?,
        sampler: row.get::<_, String>(18)?.parse().map_err(|e| conversion(18, e))?,
    })
}
