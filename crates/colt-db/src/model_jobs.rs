//! Whole-model jobs (`POST /v1/model-jobs` of `colt serve`): one row per
//! model job, over ordinary jobs — each of the model's tasks is a job of
//! `jobs` with its own trials and snapshots, so the model job keeps only
//! what it asks for and where it stands, as the daemon's JSON.
//!
//! A model job has no owner or lease of its own: only `colt serve` runs
//! them, and one daemon holds a database file at a time (its lock file);
//! the tasks' jobs are claimed as every job is.

use crate::error::DbError;
use crate::records::JobState;
use crate::schema::now_unix;
use crate::sqlite::SqliteDb;
use rusqlite::types::Type;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

pub type ModelJobId = i64;

/// A model job as it is queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewModelJob {
    /// The model's name (from its file, or as the client named it).
    pub model: String,
    /// What the job asks for: tasks, budget, scheduler, strategy.
    pub spec_json: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelJobRow {
    pub id: ModelJobId,
    pub job: NewModelJob,
    /// Its tasks' jobs and rounds so far (`None` before its first round).
    pub progress_json: Option<String>,
    pub state: JobState,
    pub error: Option<String>,
    pub created_unix: f64,
    pub updated_unix: f64,
}

const COLUMNS: &str = "id, model, spec_json, progress_json, state, error, created_unix, updated_unix";

fn model_job_from_row(row: &Row<'_>) -> rusqlite::Result<ModelJobRow> {
    Ok(ModelJobRow {
        id: row.get(0)?,
        job: NewModelJob { model: row.get(1)?, spec_json: row.get(2)? },
        progress_json: row.get(3)?,
        state: row
            .get::<_, String>(4)?
            .parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(e)))?,
        error: row.get(5)?,
        created_unix: row.get(6)?,
        updated_unix: row.get(7)?,
    })
}

impl SqliteDb {
    /// Records a new model job in state [`JobState::Queued`].
    pub fn create_model_job(&mut self, job: &NewModelJob) -> Result<ModelJobId, DbError> {
        let now = now_unix();
        self.conn
            .execute(
                "INSERT INTO model_jobs (model, spec_json, state, created_unix, updated_unix) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![job.model, job.spec_json, JobState::Queued.as_str(), now],
            )
            .map_err(self.fail(format!("create a model job for `{}`", job.model)))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn model_job(&self, id: ModelJobId) -> Result<Option<ModelJobRow>, DbError> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM model_jobs WHERE id = ?1"), [id], model_job_from_row)
            .optional()
            .map_err(self.fail(format!("read model job {id}")))
    }

    /// Every model job, by id.
    pub fn model_jobs(&self) -> Result<Vec<ModelJobRow>, DbError> {
        self.query(
            &format!("SELECT {COLUMNS} FROM model_jobs ORDER BY id"),
            [],
            model_job_from_row,
            "list the model jobs",
        )
    }

    /// The model job to run next: an interrupted (`running`) one first,
    /// then the oldest queued one.
    pub fn next_model_job_to_run(&self) -> Result<Option<ModelJobRow>, DbError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM model_jobs WHERE state IN ('running', 'queued') \
                     ORDER BY state = 'queued', id LIMIT 1"
                ),
                [],
                model_job_from_row,
            )
            .optional()
            .map_err(self.fail("find the next model job to run"))
    }

    /// How many model jobs are queued or running.
    pub fn unfinished_model_jobs(&self) -> Result<u64, DbError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM model_jobs WHERE state IN ('queued', 'running')", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(self.fail("count the unfinished model jobs"))
    }

    /// Sets a model job's state and error.
    pub fn set_model_job_state(&mut self, id: ModelJobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        let changed = self
            .conn
            .execute(
                "UPDATE model_jobs SET state = ?2, error = ?3, updated_unix = ?4 WHERE id = ?1",
                params![id, state.as_str(), error, now_unix()],
            )
            .map_err(self.fail(format!("set model job {id}'s state to {state}")))?;
        self.changed_model_job(id, changed)
    }

    /// Records where a model job stands (after each of its rounds).
    pub fn set_model_job_progress(&mut self, id: ModelJobId, progress_json: &str) -> Result<(), DbError> {
        let changed = self
            .conn
            .execute(
                "UPDATE model_jobs SET progress_json = ?2, updated_unix = ?3 WHERE id = ?1",
                params![id, progress_json, now_unix()],
            )
            .map_err(self.fail(format!("record model job {id}'s progress")))?;
        self.changed_model_job(id, changed)
    }

    fn changed_model_job(&self, id: ModelJobId, rows: usize) -> Result<(), DbError> {
        if rows == 0 {
            return Err(DbError::NoSuchModelJob { path: self.path.clone(), job: id });
        }
        Ok(())
    }
}
