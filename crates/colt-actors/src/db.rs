//! The tuning database: every tuning job and every candidate it measured, in
//! one SQLite file in WAL mode.
//!
//! It is what lets a job be resumed (its trials and last tree snapshot are
//! here), a later job on the same workload and target start from the best
//! records of earlier ones ([`TuningDb::best_trials`]), and a daemon list its
//! jobs after a restart ([`TuningDb::jobs`]). A trial names its candidate by
//! how to rebuild it — colt-ir's `Candidate::sample(program, seed)` then
//! `edits` applied in order — so records stay meaningful across runs.
//!
//! One [`TuningDb`] owns one connection and is used from one thread (the
//! database actor), so it does no locking of its own; other processes may
//! read the same file concurrently, which is what WAL is for.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Type;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

pub type JobId = i64;

/// The schema this code reads and writes, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

/// `PRAGMA application_id` of colt's files ("colt" in ASCII), so a SQLite file
/// written by another program is told apart from an empty one.
const APPLICATION_ID: i64 = 0x636f_6c74;

/// Long enough for another process's write (milliseconds) to finish, short
/// enough that a stuck one is reported rather than waited on forever.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
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
    baseline_ms REAL
);
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

const JOB_COLUMNS: &str = "id, workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
    options_json, state, error, created_unix, updated_unix, \
    (SELECT COUNT(*) FROM trials WHERE trials.job = jobs.id), \
    (SELECT MIN(median_ms) FROM trials WHERE trials.job = jobs.id AND verified = 1)";

const TRIAL_COLUMNS: &str = "job, workload_fingerprint, target, seed, edits, decisions, source_hash, fingerprint, \
    verified, median_ms, min_ms, max_ms, runs, failure, strategy, model, trial_index, created_unix";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Stopped,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] =
        [JobState::Queued, JobState::Running, JobState::Stopped, JobState::Done, JobState::Failed, JobState::Cancelled];

    /// The text stored in the database and shown to users (serde's too).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Stopped => "stopped",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown job state `{0}` (expected queued, running, stopped, done, failed or cancelled)")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(text: &str) -> Result<JobState, UnknownJobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| UnknownJobState(text.to_string()))
    }
}

/// A job as it is created: what to tune, where, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// The workload's name as the user gave it.
    pub workload: String,
    /// The program in colt's text format, so the job can be rerun without the original file.
    pub workload_text: String,
    pub workload_fingerprint: String,
    pub target: String,
    pub strategy: String,
    /// The trial budget.
    pub trials: u64,
    pub seed: u64,
    /// Everything else of the job's configuration.
    pub options_json: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: JobId,
    pub job: NewJob,
    pub state: JobState,
    pub error: Option<String>,
    pub created_unix: f64,
    pub updated_unix: f64,
    /// How many trials the job has recorded.
    pub trials_done: u64,
    /// The best verified median of its trials.
    pub best_ms: Option<f64>,
}

/// One measured candidate of one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub job: JobId,
    pub workload_fingerprint: String,
    pub target: String,
    /// The candidate is colt-ir's `Candidate::sample(program, seed)` ...
    pub seed: u64,
    /// ... then these edits applied in order.
    pub edits: Vec<String>,
    /// The schedule, rendered for people.
    pub decisions: String,
    /// Hash of the kernel source.
    pub source_hash: String,
    /// The candidate's loop-nest fingerprint; unique within a job.
    pub fingerprint: u64,
    pub verified: bool,
    pub median_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub runs: u32,
    /// Failure kind and message when not verified.
    pub failure: Option<String>,
    pub strategy: String,
    /// The model that proposed it; `None` for sampled or random candidates.
    pub model: Option<String>,
    /// 0-based order in its job.
    pub trial_index: u64,
    pub created_unix: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("tuning database `{}`: cannot open: {source}", path.display())]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("tuning database `{}`: not a SQLite database", path.display())]
    NotADatabase { path: PathBuf, source: rusqlite::Error },
    #[error("tuning database `{}`: a SQLite file, but not a colt tuning database", path.display())]
    Foreign { path: PathBuf },
    #[error(
        "tuning database `{}`: schema version {found}, but this colt reads version {SCHEMA_VERSION}: \
         written by a newer colt (or another program)",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error("tuning database `{}`: no job {job}", path.display())]
    NoSuchJob { path: PathBuf, job: JobId },
    #[error("tuning database `{}`: cannot {what}: {source}", path.display())]
    Sql { path: PathBuf, what: String, source: rusqlite::Error },
}

pub struct TuningDb {
    conn: Connection,
    path: PathBuf,
}

impl TuningDb {
    /// Opens the database at `path`, creating the file and its schema if
    /// missing (but not its parent directory).
    pub fn open(path: &Path) -> Result<TuningDb, DbError> {
        let conn = Connection::open(path).map_err(|source| DbError::Open { path: path.to_path_buf(), source })?;
        TuningDb::init(conn, path.to_path_buf())
    }

    pub fn open_in_memory() -> Result<TuningDb, DbError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| DbError::Open { path: path.clone(), source })?;
        TuningDb::init(conn, path)
    }

    fn init(conn: Connection, path: PathBuf) -> Result<TuningDb, DbError> {
        let mut db = TuningDb { conn, path };
        db.conn.busy_timeout(BUSY_TIMEOUT).map_err(db.fail("set the busy timeout"))?;
        // Check what the file is before changing anything in it: switching a
        // foreign file to WAL would modify it.
        let header = |c: &Connection| -> rusqlite::Result<(i64, i64, i64)> {
            let app = c.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let version = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tables = c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
            Ok((app, version, tables))
        };
        let (app, version, tables) = header(&db.conn).map_err(|source| match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => DbError::NotADatabase { path: db.path.clone(), source },
            _ => DbError::Open { path: db.path.clone(), source },
        })?;
        let fresh = app == 0 && version == 0 && tables == 0;
        if !fresh && app != APPLICATION_ID && version <= SCHEMA_VERSION {
            return Err(DbError::Foreign { path: db.path });
        }
        if version > SCHEMA_VERSION {
            return Err(DbError::TooNew { path: db.path, found: version });
        }
        // WAL: readers (`colt show`, a daemon) never block the tuning job's
        // writes. synchronous=NORMAL in WAL loses nothing when the process is
        // killed, only on power loss, and saves an fsync per trial.
        // A file system without WAL support (some network ones) keeps the
        // old journal: slower for readers, still correct, so not an error.
        db.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(db.fail("set the connection's pragmas"))?;
        if fresh {
            let path = db.path.clone();
            let fail = |source| DbError::Sql { path: path.clone(), what: "create the schema".into(), source };
            let tx = db.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
            // Another process may have created it since the check above.
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(fail)?;
            if version == 0 {
                tx.execute_batch(SCHEMA).map_err(fail)?;
                tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(fail)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(fail)?;
            }
            tx.commit().map_err(fail)?;
        }
        Ok(db)
    }

    /// The file's path (`:memory:` for an in-memory database).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> DbError {
        let (path, what) = (self.path.clone(), what.into());
        move |source| DbError::Sql { path, what, source }
    }

    fn no_such_job(&self, job: JobId) -> DbError {
        DbError::NoSuchJob { path: self.path.clone(), job }
    }

    /// An update that changed no row was given a job id that does not exist.
    fn changed_job(&self, job: JobId, rows: usize) -> Result<(), DbError> {
        if rows == 0 {
            return Err(self.no_such_job(job));
        }
        Ok(())
    }

    /// Records a new job in state [`JobState::Queued`].
    pub fn create_job(&mut self, job: &NewJob) -> Result<JobId, DbError> {
        let now = now_unix();
        self.conn
            .execute(
                "INSERT INTO jobs (workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
                 options_json, state, created_unix, updated_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                params![
                    job.workload,
                    job.workload_text,
                    job.workload_fingerprint,
                    job.target,
                    job.strategy,
                    bits(job.trials),
                    bits(job.seed),
                    job.options_json,
                    JobState::Queued.as_str(),
                    now
                ],
            )
            .map_err(self.fail(format!("create a job for workload `{}`", job.workload)))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn job(&self, id: JobId) -> Result<Option<JobRow>, DbError> {
        self.conn
            .query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], job_from_row)
            .optional()
            .map_err(self.fail(format!("read job {id}")))
    }

    /// Every job, by id.
    pub fn jobs(&self) -> Result<Vec<JobRow>, DbError> {
        self.query(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"), [], job_from_row, "list the jobs")
    }

    /// Sets a job's state and its error (`None` clears an earlier one, e.g.
    /// when a failed job is resumed).
    pub fn set_job_state(&mut self, id: JobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        let changed = self
            .conn
            .execute(
                "UPDATE jobs SET state = ?2, error = ?3, updated_unix = ?4 WHERE id = ?1",
                params![id, state.as_str(), error, now_unix()],
            )
            .map_err(self.fail(format!("set job {id}'s state to {state}")))?;
        self.changed_job(id, changed)
    }

    /// Records one measured candidate, committed before this returns. A
    /// candidate (fingerprint) already recorded in the job is left as it was
    /// and `false` returned: a resumed job re-measures nothing twice.
    pub fn record_trial(&mut self, trial: &TrialRecord) -> Result<bool, DbError> {
        let (path, job) = (self.path.clone(), trial.job);
        let fail = |source| DbError::Sql { path: path.clone(), what: format!("record a trial of job {job}"), source };
        // A Vec<String> has no map keys or non-finite floats, the only
        // things serde_json refuses to write.
        let edits = serde_json::to_string(&trial.edits).expect("a list of strings always serializes");
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        let exists = tx.query_row("SELECT 1 FROM jobs WHERE id = ?1", [job], |_| Ok(())).optional().map_err(fail)?;
        if exists.is_none() {
            return Err(DbError::NoSuchJob { path, job });
        }
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO trials ({TRIAL_COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
                     ON CONFLICT (job, fingerprint) DO NOTHING"
                ),
                params![
                    job,
                    trial.workload_fingerprint,
                    trial.target,
                    bits(trial.seed),
                    edits,
                    trial.decisions,
                    trial.source_hash,
                    bits(trial.fingerprint),
                    trial.verified,
                    trial.median_ms,
                    trial.min_ms,
                    trial.max_ms,
                    trial.runs,
                    trial.failure,
                    trial.strategy,
                    trial.model,
                    bits(trial.trial_index),
                    trial.created_unix
                ],
            )
            .map_err(fail)?
            == 1;
        if inserted {
            tx.execute("UPDATE jobs SET updated_unix = ?2 WHERE id = ?1", params![job, now_unix()]).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(inserted)
    }

    /// A job's trials in the order they were measured.
    pub fn job_trials(&self, job: JobId) -> Result<Vec<TrialRecord>, DbError> {
        let sql = format!("SELECT {TRIAL_COLUMNS} FROM trials WHERE job = ?1 ORDER BY trial_index, id");
        self.query(&sql, [job], trial_from_row, &format!("read job {job}'s trials"))
    }

    /// The fastest verified candidates of a workload on a target, across all
    /// jobs: one record per candidate (its fastest), fastest first.
    pub fn best_trials(
        &self,
        workload_fingerprint: &str,
        target: &str,
        limit: usize,
    ) -> Result<Vec<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM ( \
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY fingerprint ORDER BY median_ms, id) AS place FROM trials \
                 WHERE workload_fingerprint = ?1 AND target = ?2 AND verified = 1 AND median_ms IS NOT NULL) \
             WHERE place = 1 ORDER BY median_ms, id LIMIT ?3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(&sql, params![workload_fingerprint, target, limit], trial_from_row, "read the best trials")
    }

    /// The fastest verified trial of any job on the workload named
    /// `workload`, on `target` or any target.
    pub fn best_for_workload_name(&self, workload: &str, target: Option<&str>) -> Result<Option<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM trials \
             WHERE job IN (SELECT id FROM jobs WHERE workload = ?1) AND (?2 IS NULL OR target = ?2) \
             AND verified = 1 AND median_ms IS NOT NULL ORDER BY median_ms, id LIMIT 1"
        );
        self.conn
            .query_row(&sql, params![workload, target], trial_from_row)
            .optional()
            .map_err(self.fail(format!("read the best trial of workload `{workload}`")))
    }

    /// The most recently created job with this setup, in any state.
    pub fn latest_job(
        &self,
        workload_fingerprint: &str,
        target: &str,
        strategy: &str,
    ) -> Result<Option<JobRow>, DbError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workload_fingerprint = ?1 AND target = ?2 AND strategy = ?3 \
             ORDER BY id DESC LIMIT 1"
        );
        self.conn
            .query_row(&sql, params![workload_fingerprint, target, strategy], job_from_row)
            .optional()
            .map_err(self.fail("find the latest job"))
    }

    /// Keeps `bytes` as the job's search-tree snapshot, replacing the last one.
    pub fn save_snapshot(&mut self, job: JobId, bytes: &[u8]) -> Result<(), DbError> {
        // Inserting from `jobs` makes an unknown job change no row rather than fail a foreign key.
        let changed = self
            .conn
            .execute(
                "INSERT INTO snapshots (job, bytes, saved_unix) SELECT id, ?2, ?3 FROM jobs WHERE id = ?1 \
                 ON CONFLICT (job) DO UPDATE SET bytes = excluded.bytes, saved_unix = excluded.saved_unix",
                params![job, bytes, now_unix()],
            )
            .map_err(self.fail(format!("save job {job}'s snapshot")))?;
        self.changed_job(job, changed)
    }

    /// The job's last search-tree snapshot, if it saved one.
    pub fn snapshot(&self, job: JobId) -> Result<Option<Vec<u8>>, DbError> {
        self.require_job(job)?;
        self.conn
            .query_row("SELECT bytes FROM snapshots WHERE job = ?1", [job], |r| r.get(0))
            .optional()
            .map_err(self.fail(format!("read job {job}'s snapshot")))
    }

    /// Records the job's naive (unscheduled) kernel time, so a resumed job
    /// need not measure it again.
    pub fn set_baseline(&mut self, job: JobId, ms: f64) -> Result<(), DbError> {
        let changed = self
            .conn
            .execute("UPDATE jobs SET baseline_ms = ?2 WHERE id = ?1", params![job, ms])
            .map_err(self.fail(format!("set job {job}'s baseline")))?;
        self.changed_job(job, changed)
    }

    pub fn baseline(&self, job: JobId) -> Result<Option<f64>, DbError> {
        self.conn
            .query_row("SELECT baseline_ms FROM jobs WHERE id = ?1", [job], |r| r.get(0))
            .optional()
            .map_err(self.fail(format!("read job {job}'s baseline")))?
            .ok_or_else(|| self.no_such_job(job))
    }

    /// Failed trials of all jobs, counted by failure kind (the text before
    /// the first `:` of `TrialRecord::failure`), for the daemon's metrics.
    pub fn failure_counts(&self) -> Result<Vec<(String, u64)>, DbError> {
        self.query(
            "SELECT CASE WHEN instr(failure, ':') > 0 THEN substr(failure, 1, instr(failure, ':') - 1) ELSE failure END, \
             count(*) FROM trials WHERE failure IS NOT NULL GROUP BY 1 ORDER BY 1",
            [],
            |row| Ok((row.get::<_, String>(0)?, unbits(row.get::<_, i64>(1)?))),
            "count the failed trials",
        )
    }

    fn require_job(&self, job: JobId) -> Result<(), DbError> {
        self.job(job)?.map(|_| ()).ok_or_else(|| self.no_such_job(job))
    }

    fn query<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
        what: &str,
    ) -> Result<Vec<T>, DbError> {
        let run = || self.conn.prepare_cached(sql)?.query_map(params, map)?.collect::<rusqlite::Result<Vec<T>>>();
        run().map_err(self.fail(what))
    }
}

/// SQLite integers are i64; u64s are stored bit-cast so that every value,
/// including those >= 2^63, round-trips exactly.
fn bits(v: u64) -> i64 {
    v as i64
}

fn unbits(v: i64) -> u64 {
    v as u64
}

fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn conversion(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e))
}

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<JobRow> {
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
    })
}

fn trial_from_row(row: &Row<'_>) -> rusqlite::Result<TrialRecord> {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut db = TuningDb::open_in_memory().unwrap();
        let job = new_job("matmul", "cpu");
        let id = db.create_job(&job).unwrap();
        let row = db.job(id).unwrap().unwrap();
        assert_eq!(row.job, job);
        assert_eq!((row.state, row.error, row.trials_done, row.best_ms), (JobState::Queued, None, 0, None));
        assert!(row.created_unix > 1.6e9 && row.updated_unix == row.created_unix);
        let other = db.create_job(&new_job("conv", "cpu")).unwrap();
        assert_eq!(db.jobs().unwrap().iter().map(|j| j.id).collect::<Vec<_>>(), vec![id, other]);
        assert_eq!(db.job(other + 1).unwrap(), None);
    }

    #[test]
    fn failures_are_counted_by_kind() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let id = db.create_job(&new_job("matmul", "cpu")).unwrap();
        for (fp, failure) in [(1, "WrongResult: x"), (2, "Crashed: y"), (3, "WrongResult: z"), (4, "odd")] {
            let mut t = trial(id, "matmul", "cpu", fp, None);
            t.failure = Some(failure.into());
            db.record_trial(&t).unwrap();
        }
        db.record_trial(&trial(id, "matmul", "cpu", 5, Some(1.0))).unwrap();
        let counts = db.failure_counts().unwrap();
        assert_eq!(counts, vec![("Crashed".into(), 1), ("WrongResult".into(), 2), ("odd".into(), 1)]);
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
        let mut db = TuningDb::open_in_memory().unwrap();
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
    }

    #[test]
    fn recording_a_candidate_twice_in_a_job_is_a_no_op() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let (a, b) = (db.create_job(&new_job("m", "cpu")).unwrap(), db.create_job(&new_job("m", "cpu")).unwrap());
        assert!(db.record_trial(&trial(a, "m", "cpu", 9, Some(2.0))).unwrap());
        assert!(!db.record_trial(&trial(a, "m", "cpu", 9, Some(1.0))).unwrap());
        assert_eq!(medians(&db.job_trials(a).unwrap()), vec![(9, 2.0)]);
        // The same candidate in another job is another measurement.
        assert!(db.record_trial(&trial(b, "m", "cpu", 9, Some(1.0))).unwrap());
    }

    #[test]
    fn best_trials_are_verified_fastest_first_one_per_candidate_across_jobs() {
        let mut db = TuningDb::open_in_memory().unwrap();
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

        assert_eq!(db.best_for_workload_name("m", None).unwrap().unwrap().median_ms, Some(0.1));
        assert_eq!(db.best_for_workload_name("m", Some("cpu")).unwrap().unwrap().median_ms, Some(1.5));
        assert_eq!(db.best_for_workload_name("m", Some("npu")).unwrap(), None);
        assert_eq!(db.best_for_workload_name("nope", None).unwrap(), None);
    }

    #[test]
    fn job_state_and_progress_follow_the_job() {
        let mut db = TuningDb::open_in_memory().unwrap();
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
    }

    #[test]
    fn latest_job_is_the_newest_with_that_setup() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let first = db.create_job(&new_job("m", "cpu")).unwrap();
        let second = db.create_job(&new_job("m", "cpu")).unwrap();
        db.create_job(&NewJob { strategy: "random".into(), ..new_job("m", "cpu") }).unwrap();
        db.set_job_state(second, JobState::Cancelled, None).unwrap();
        assert_eq!(db.latest_job("fp-m", "cpu", "colt").unwrap().map(|j| j.id), Some(second));
        assert!(first < second);
        assert_eq!(db.latest_job("fp-m", "gpu", "colt").unwrap(), None);
    }

    #[test]
    fn unknown_jobs_are_errors_naming_the_job() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let e = db.set_job_state(42, JobState::Done, None).unwrap_err();
        assert!(matches!(e, DbError::NoSuchJob { job: 42, .. }));
        assert_eq!(e.to_string(), "tuning database `:memory:`: no job 42");
        assert!(matches!(db.record_trial(&trial(7, "m", "cpu", 1, None)), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.save_snapshot(7, b"x"), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.snapshot(7), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.set_baseline(7, 1.0), Err(DbError::NoSuchJob { job: 7, .. })));
        assert!(matches!(db.baseline(7), Err(DbError::NoSuchJob { job: 7, .. })));
    }

    #[test]
    fn snapshots_and_baselines_are_kept_per_job() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let id = db.create_job(&new_job("m", "cpu")).unwrap();
        assert_eq!((db.snapshot(id).unwrap(), db.baseline(id).unwrap()), (None, None));
        db.save_snapshot(id, b"one").unwrap();
        db.save_snapshot(id, b"two").unwrap();
        db.set_baseline(id, 12.5).unwrap();
        assert_eq!((db.snapshot(id).unwrap(), db.baseline(id).unwrap()), (Some(b"two".to_vec()), Some(12.5)));
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
        let mode: String = db.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: bool = db.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(foreign_keys);
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
        assert_eq!(unbits(fingerprint), 1 << 63);
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
}
