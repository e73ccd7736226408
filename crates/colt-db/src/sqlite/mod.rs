//! The embedded backend of the tuning database: every tuning job and every
//! candidate it measured, in one SQLite file in WAL mode.
//!
//! It is what lets a job be resumed (its trials and last tree snapshot are
//! here), a later job on the same workload and target start from the best
//! records of earlier ones ([`SqliteDb::best_trials`]), and a daemon list its
//! jobs after a restart ([`SqliteDb::jobs`]). A trial names its candidate by
//! how to rebuild it — colt-ir's `Sampler::sample(program, target, seed)`
//! of its `sampler`, then `edits` applied in order — so records stay
//! meaningful across runs.
//!
//! One [`SqliteDb`] owns one connection and is used from one thread (the
//! database actor), so it does no locking of its own; other processes may
//! read the same file concurrently, which is what WAL is for.

use crate::error::DbError;
use crate::identity::{identity, new_identity, schema_version, user_version};
use crate::model_jobs::{ModelJobId, ModelJobRow, NewModelJob};
use crate::ownership::{Claim, ClaimRecord, Owner};
use crate::probes::ProbeRecord;
use crate::records::DbSummary;
use crate::records::{JobId, JobRow, JobState, NewJob, TrialRecord, WorkloadTrial};
use crate::schema::{
    bits, job_from_row, now_unix, trial_from_row, unbits, APPLICATION_ID, BUSY_TIMEOUT, JOB_COLUMNS, MIGRATE_FROM_1,
    MIGRATE_FROM_2, MIGRATE_FROM_3, MIGRATE_FROM_4, SCHEMA, SCHEMA_VERSION, TRIAL_COLUMNS,
};
use crate::store::TuningStore;
use crate::workers::WorkerRow;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod store;

/// How many pages the write-ahead log may hold before a writer
/// checkpoints it: SQLite's own automatic checkpoint's default, which colt
/// replaces with its own so that each log it starts holds page 1 (see
/// [`crate::wal`]).
pub const MAX_WAL_PAGES: i32 = 1000;

/// The tuning database in one SQLite file (see [`crate::TuningStore`]).
pub struct SqliteDb {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Whether the file was found (or made) a colt database: only then
    /// is it checkpointed on drop (a foreign file is left as it was).
    ours: bool,
    /// Opened read-only ([`SqliteDb::open_read_only`]): nothing is
    /// written, not even a checkpoint.
    read_only: bool,
    /// Whether the file is in WAL mode (a file system without WAL support
    /// keeps the rollback journal): only then is page 1 stamped.
    wal: bool,
    /// The pages in the write-ahead log after this connection's last
    /// commit (SQLite's WAL hook).
    wal_pages: Arc<AtomicI32>,
}

/// Whether a connection may write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Write,
    ReadOnly,
}

impl SqliteDb {
    /// Opens the database at `path`, creating the file and its schema if
    /// missing (but not its parent directory).
    /// A file it creates is readable by its owner only (0600), and so are
    /// the `-wal` and `-shm` files beside it (SQLite gives them the main
    /// file's mode): tuning history names the workloads a site runs.
    ///
    /// Refused, naming the file: a `-wal` beside it that is not a
    /// write-ahead log of its page size (SQLite would silently drop it, and
    /// with it the newest rows), and a file that is not empty but holds no
    /// schema (a copy of `colt.db` without the `-wal` that held everything:
    /// colt would "start fresh" over it).
    ///
    /// Refused too: a path that is there but is not a regular file (a
    /// device, a folder, a FIFO: SQLite would write a `-journal` beside
    /// it), and a `-wal` that is another database's (`wal.rs`).
    pub fn open(path: &Path) -> Result<SqliteDb, DbError> {
        let bytes_before = match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return Err(DbError::NotAFile { path: path.to_path_buf(), kind: kind_of(&m) }),
            Ok(m) => m.len(),
            Err(_) => 0,
        };
        let main_identity = crate::wal::check_wal(path)?;
        // Where it cannot be created (a missing folder, no permission),
        // SQLite's open below fails too and names the file.
        let _ = create_private(path);
        let conn = Connection::open(path).map_err(|source| DbError::Open { path: path.to_path_buf(), source })?;
        SqliteDb::init(conn, path.to_path_buf(), bytes_before, main_identity, Access::Write)
    }

    /// Opens the colt database at `path` for reading only (`colt show`,
    /// `colt db check`, `colt export`): nothing is created or written. A
    /// missing or empty file is [`DbError::NoDatabase`]. A database of an
    /// older schema is opened for writing instead, so that it is migrated
    /// (the queries read this schema's columns).
    pub fn open_read_only(path: &Path) -> Result<SqliteDb, DbError> {
        let no_database = |detail| DbError::NoDatabase { path: path.to_path_buf(), detail };
        let bytes = match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return Err(DbError::NotAFile { path: path.to_path_buf(), kind: kind_of(&m) }),
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_database("")),
            Err(_) => 0,
        };
        if bytes == 0 {
            return Err(no_database(" (the file is empty)"));
        }
        let main_identity = crate::wal::check_wal(path)?;
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            | rusqlite::OpenFlags::SQLITE_OPEN_URI
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| DbError::Open { path: path.to_path_buf(), source })?;
        match SqliteDb::init(conn, path.to_path_buf(), bytes, main_identity, Access::ReadOnly) {
            Err(DbError::Outdated { .. }) => SqliteDb::open(path),
            other => other,
        }
    }

    pub fn open_in_memory() -> Result<SqliteDb, DbError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| DbError::Open { path: path.clone(), source })?;
        SqliteDb::init(conn, path, 0, 0, Access::Write)
    }

    /// `bytes_before`: the file's size before it was opened (0 when new);
    /// `main_identity`: the identity its main file holds (0: none).
    fn init(
        conn: Connection,
        path: PathBuf,
        bytes_before: u64,
        main_identity: u16,
        access: Access,
    ) -> Result<SqliteDb, DbError> {
        let read_only = access == Access::ReadOnly;
        let wal_pages = Arc::new(AtomicI32::new(0));
        let mut db = SqliteDb { conn, path, ours: false, read_only, wal: false, wal_pages };
        // Until the file is known to be a colt database with its own log,
        // closing the connection must not checkpoint: that would write a
        // refused log (another database's rows) into the file.
        db.conn
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(db.fail("keep the log as it is until the file is checked"))?;
        db.conn.busy_timeout(BUSY_TIMEOUT).map_err(db.fail("set the busy timeout"))?;
        // Check what the file is before changing anything in it: switching a
        // foreign file to WAL would modify it.
        let header = |c: &Connection| -> rusqlite::Result<(i64, i64, i64)> {
            let app = c.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let version = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tables = c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
            Ok((app, version, tables))
        };
        let (app, raw_version, tables) = header(&db.conn).map_err(|source| match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => DbError::NotADatabase { path: db.path.clone(), source },
            Some(ErrorCode::DatabaseCorrupt) => DbError::Corrupt { path: db.path.clone(), reason: source.to_string() },
            _ => DbError::Open { path: db.path.clone(), source },
        })?;
        let version = schema_version(raw_version);
        if main_identity != 0 && identity(raw_version) != main_identity {
            return Err(DbError::ForeignWal {
                path: db.path.clone(),
                wal: crate::wal::wal_path(&db.path),
                reason: format!(
                    "SQLite reads database {:#06x} through it, and the file is database {main_identity:#06x}",
                    identity(raw_version)
                ),
            });
        }
        let fresh = app == 0 && version == 0 && tables == 0;
        if fresh && bytes_before > 0 {
            return Err(DbError::NoSchema { path: db.path.clone(), bytes: bytes_before });
        }
        if !fresh && app != APPLICATION_ID && version <= SCHEMA_VERSION {
            return Err(DbError::Foreign { path: db.path.clone() });
        }
        if version > SCHEMA_VERSION {
            return Err(DbError::TooNew { path: db.path.clone(), found: version });
        }
        if read_only {
            if version < SCHEMA_VERSION {
                return Err(DbError::Outdated { path: db.path.clone(), found: version });
            }
            db.check_integrity()?;
            db.ours = true;
            return Ok(db);
        }
        if fresh {
            // The identity goes into the main file itself, before the
            // switch to WAL: every log of the file is then checked against it.
            db.conn
                .pragma_update(None, "user_version", user_version(0, new_identity()))
                .map_err(db.fail("give the new database its identity"))?;
        }
        // WAL: readers (`colt show`, a daemon) never block the tuning job's
        // writes. synchronous=NORMAL in WAL loses nothing when the process is
        // killed, only on power loss, and saves an fsync per trial.
        // A file system without WAL support (some network ones) keeps the
        // old journal: slower for readers, still correct, so not an error.
        let mode: String = db
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db.fail("switch to WAL"))?;
        db.wal = mode.eq_ignore_ascii_case("wal");
        db.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(db.fail("set the connection's pragmas"))?;
        // Replaces SQLite's automatic checkpoint (also a WAL hook): colt
        // checkpoints itself, and stamps page 1 after ([`SqliteDb::bound_wal`]).
        let pages = db.wal_pages.clone();
        db.conn
            .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, n: std::ffi::c_int| {
                pages.store(n, Ordering::Relaxed);
                Ok(())
            }))
            .map_err(db.fail("watch the write-ahead log's size"))?;
        if fresh {
            db.upgrade_from(0, "create the schema", |tx| {
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(MIGRATE_FROM_3)?;
                tx.execute_batch(MIGRATE_FROM_4)?;
                tx.execute_batch(&crate::probes::migrate_from_5_sqlite())?;
                tx.execute_batch(crate::machine_limits::MIGRATE_FROM_6)?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)
            })?;
        } else if (1..SCHEMA_VERSION).contains(&version) {
            // Each step from the file's version on, in one transaction.
            let from_5 = crate::probes::migrate_from_5_sqlite();
            let from_6 = crate::machine_limits::MIGRATE_FROM_6;
            let steps = [MIGRATE_FROM_1, MIGRATE_FROM_2, MIGRATE_FROM_3, MIGRATE_FROM_4, from_5.as_str(), from_6];
            let what = format!("migrate schema {version} to {SCHEMA_VERSION}");
            db.upgrade_from(version, &what, |tx| {
                steps[version as usize - 1..].iter().try_for_each(|step| tx.execute_batch(step))
            })?;
        }
        if !fresh {
            db.check_integrity()?;
        }
        db.ours = true;
        db.conn
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
            .map_err(db.fail("let the last connection checkpoint on close"))?;
        db.claim_identity()?;
        Ok(db)
    }

    /// Gives a file made before identities one (checkpointed at once, so
    /// that the main file holds it), and stamps page 1 into the log this
    /// connection writes to (see [`crate::wal`]).
    fn claim_identity(&mut self) -> Result<(), DbError> {
        let fail = self.fail("give the database its identity");
        let run = |conn: &mut Connection| -> rusqlite::Result<bool> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let claimed = identity(found) == 0;
            if claimed {
                tx.pragma_update(None, "user_version", user_version(found, new_identity()))?;
            }
            tx.commit()?;
            Ok(claimed)
        };
        if run(&mut self.conn).map_err(fail)? {
            self.checkpoint()
        } else {
            self.stamp()
        }
    }

    /// Writes page 1 (its `user_version`, unchanged) into the write-ahead
    /// log, so that the log holds this database's identity.
    fn stamp(&mut self) -> Result<(), DbError> {
        if !self.wal || self.read_only {
            return Ok(());
        }
        let fail = self.fail("write page 1 into the write-ahead log");
        let run = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            tx.pragma_update(None, "user_version", found)?;
            tx.commit()
        };
        run(&mut self.conn).map_err(fail)
    }

    /// Checkpoints the log once it holds [`MAX_WAL_PAGES`] pages (as
    /// SQLite's automatic checkpoint would), without waiting for readers,
    /// and stamps page 1 into the log that starts afresh after it. Called
    /// after the writes that repeat (trials, snapshots, heartbeats); a
    /// failure loses nothing (the rows stay in the log).
    pub(crate) fn bound_wal(&mut self) {
        if self.wal && self.wal_pages.load(Ordering::Relaxed) >= MAX_WAL_PAGES {
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            let _ = self.stamp();
        }
    }

    /// SQLite's `quick_check` (every page and index well-formed) and every
    /// job's state known: a damaged file is an error at open, naming it,
    /// not a failed query hours later (a daemon answered health "ok" and
    /// `GET /v1/jobs` 500). `quick_check` reads the whole file: well under
    /// a second for a year of one machine's trials.
    fn check_integrity(&self) -> Result<(), DbError> {
        let corrupt = |reason: String| DbError::Corrupt { path: self.path.clone(), reason };
        let report: rusqlite::Result<Vec<String>> = self
            .conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get::<_, String>(0))?.collect());
        match report {
            Ok(lines) if lines == ["ok"] => {}
            Ok(lines) => return Err(corrupt(format!("SQLite's quick_check says: {}", lines.join("; ")))),
            Err(e) => return Err(corrupt(format!("SQLite's quick_check failed: {e}"))),
        }
        let known: Vec<String> = JobState::ALL.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let unknown: Option<(JobId, String)> = self
            .conn
            .query_row(
                &format!("SELECT id, state FROM jobs WHERE state NOT IN ({}) ORDER BY id LIMIT 1", known.join(", ")),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| corrupt(format!("cannot read the jobs' states: {e}")))?;
        if let Some((id, state)) = unknown {
            return Err(corrupt(format!("job {id} has the unknown state `{state}`")));
        }
        Ok(())
    }

    /// Runs `change` and sets the schema version to this code's, in one
    /// immediate transaction, if the file is still at version `from` (another
    /// process may have changed it since it was first read).
    fn upgrade_from(
        &mut self,
        from: i64,
        what: &str,
        change: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<(), DbError> {
        let path = self.path.clone();
        let fail = |source| DbError::Sql { path: path.clone(), what: what.into(), source };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(fail)?;
        if schema_version(found) == from {
            change(&tx).map_err(fail)?;
            tx.pragma_update(None, "user_version", user_version(SCHEMA_VERSION, identity(found))).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// The file's path (`:memory:` for an in-memory database).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn fail(&self, what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> DbError {
        let (path, what) = (self.path.clone(), what.into());
        move |source| DbError::Sql { path, what, source }
    }

    pub(crate) fn no_such_job(&self, job: JobId) -> DbError {
        DbError::NoSuchJob { path: self.path.clone(), job }
    }

    /// An update that changed no row was given a job id that does not exist.
    pub(crate) fn changed_job(&self, job: JobId, rows: usize) -> Result<(), DbError> {
        if rows == 0 {
            return Err(self.no_such_job(job));
        }
        Ok(())
    }

    /// Records a new job in state [`JobState::Queued`].
    pub fn create_job(&mut self, job: &NewJob) -> Result<JobId, DbError> {
        crate::workload_names::refuse_other_program(self, &job.workload, &job.workload_fingerprint)?;
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
        self.changed_job(id, changed)?;
        if !state.is_unfinished() {
            // A finished job's rows go into the main file, so that a copy
            // of `colt.db` alone (a backup that forgets `-wal`) holds it. A
            // failure here loses nothing: the rows stay in the WAL.
            let _ = self.checkpoint();
        }
        Ok(())
    }

    /// Sets job `id`'s trial budget: a resumed job may be given more
    /// (`colt tune-model` resumes a task's job a round at a time).
    pub fn set_job_trials(&mut self, id: JobId, trials: u64) -> Result<(), DbError> {
        let changed = self
            .conn
            .execute(
                "UPDATE jobs SET trials = ?2, updated_unix = ?3 WHERE id = ?1",
                params![id, bits(trials), now_unix()],
            )
            .map_err(self.fail(format!("set job {id}'s trial budget")))?;
        self.changed_job(id, changed)
    }

    /// Moves every committed row from the write-ahead log into the main
    /// file and empties the log (`wal_checkpoint(TRUNCATE)`). Done when a
    /// job finishes and when the database is closed.
    /// The log that starts afresh after it is given page 1 at once
    /// (`wal.rs`).
    pub fn checkpoint(&mut self) -> Result<(), DbError> {
        if self.read_only {
            return Ok(());
        }
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(self.fail("checkpoint the write-ahead log".to_string()))?;
        self.stamp()
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
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
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
                    trial.created_unix,
                    trial.sampler.to_string()
                ],
            )
            .map_err(fail)?
            == 1;
        if inserted {
            tx.execute("UPDATE jobs SET updated_unix = ?2 WHERE id = ?1", params![job, now_unix()]).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        self.bound_wal();
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

    /// Verified trials on `target` of every workload but the one of
    /// `except_workload_fingerprint`, one per workload and candidate (its
    /// fastest), the newest first, at most `limit`; each with its job's
    /// workload. What a job's cost model warms up on.
    pub fn other_workloads_trials(
        &self,
        target: &str,
        except_workload_fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<WorkloadTrial>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS}, \
                 (SELECT workload FROM jobs WHERE jobs.id = job), \
                 (SELECT workload_text FROM jobs WHERE jobs.id = job) \
             FROM ( \
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY workload_fingerprint, fingerprint ORDER BY median_ms, id) \
                     AS place FROM trials \
                 WHERE target = ?1 AND workload_fingerprint != ?2 AND verified = 1 AND median_ms IS NOT NULL) \
             WHERE place = 1 ORDER BY created_unix DESC, id DESC LIMIT ?3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let map = |row: &Row<'_>| {
            Ok(WorkloadTrial { trial: trial_from_row(row)?, workload: row.get(19)?, workload_text: row.get(20)? })
        };
        self.query(&sql, params![target, except_workload_fingerprint, limit], map, "read other workloads' trials")
    }

    /// The fastest verified trial of any job on the workload named
    /// `workload`, on the target labelled `target`.
    pub fn best_for_workload_name(&self, workload: &str, target: &str) -> Result<Option<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM trials \
             WHERE job IN (SELECT id FROM jobs WHERE workload = ?1) AND target = ?2 \
             AND verified = 1 AND median_ms IS NOT NULL ORDER BY median_ms, id LIMIT 1"
        );
        self.conn
            .query_row(&sql, params![workload, target], trial_from_row)
            .optional()
            .map_err(self.fail(format!("read the best trial of workload `{workload}`")))
    }

    /// The target labels that hold a verified trial of the workload named
    /// `workload`, sorted: what to name when a lookup on one label finds
    /// nothing.
    pub fn workload_targets(&self, workload: &str) -> Result<Vec<String>, DbError> {
        let sql = "SELECT DISTINCT target FROM trials WHERE job IN (SELECT id FROM jobs WHERE workload = ?1) \
                   AND verified = 1 AND median_ms IS NOT NULL ORDER BY target";
        self.query(sql, params![workload], |row| row.get::<_, String>(0), "read the targets of a workload")
    }

    /// The distinct workload fingerprints of the jobs named `workload`.
    pub fn workload_fingerprints(&self, workload: &str) -> Result<Vec<String>, DbError> {
        let sql = "SELECT DISTINCT workload_fingerprint FROM jobs WHERE workload = ?1 ORDER BY workload_fingerprint";
        self.query(sql, params![workload], |row| row.get::<_, String>(0), "read the programs of a workload name")
    }

    /// The fastest verified trial of one job.
    pub fn best_of_job(&self, job: JobId) -> Result<Option<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM trials WHERE job = ?1 AND verified = 1 AND median_ms IS NOT NULL \
             ORDER BY median_ms, id LIMIT 1"
        );
        self.conn
            .query_row(&sql, [job], trial_from_row)
            .optional()
            .map_err(self.fail(format!("read job {job}'s best trial")))
    }

    /// Whether this connection enforces the schema's foreign keys (SQLite
    /// turns them on per connection).
    pub fn foreign_keys_enforced(&self) -> Result<bool, DbError> {
        self.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).map_err(self.fail("read the foreign-key setting"))
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
        self.changed_job(job, changed)?;
        self.bound_wal();
        Ok(())
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

    pub(crate) fn query<T>(
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

impl Drop for SqliteDb {
    /// A clean close leaves everything in the main file (SQLite also does
    /// this when the last connection closes, but a process that exits
    /// without dropping its connections never closes them).
    fn drop(&mut self) {
        if self.ours {
            let _ = self.checkpoint();
        }
    }
}

/// What kind of thing a path that is not a regular file names.
fn kind_of(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if m.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// Creates `path` empty with mode 0600 unless it exists (an empty file is
/// a database SQLite opens as new).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
