//! What the database stores, as plain types: jobs (what to tune, where,
//! how, and where they stand) and trials (one measured candidate each).

use colt_ir::schedule::Sampler;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

pub type JobId = i64;

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

    /// Queued or running: not finished (a running job that was stopped by
    /// a daemon's shutdown waits to resume).
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }

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
    /// The workload's name: the one its program declares (a built-in's, or
    /// a file's `workload` line), one program per name in a database.
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
    /// The process running it, while one does (see [`crate::ownership`]).
    pub owner: Option<crate::Owner>,
    pub lease_until_unix: Option<f64>,
    /// How many times an owner died while running it.
    pub crashes: u32,
    /// The naive program's latency, once the job has measured it.
    pub baseline_ms: Option<f64>,
}

impl JobRow {
    /// Whether a live process other than `me` holds this job (see
    /// [`crate::ownership`]): on this host by its pid and start time,
    /// elsewhere by its lease.
    pub fn held_by_other(&self, me: Option<&crate::Owner>) -> bool {
        match &self.owner {
            None => false,
            Some(o) if Some(o) == me => false,
            Some(o) => {
                o.alive_here().unwrap_or_else(|| self.lease_until_unix.unwrap_or(0.0) > crate::schema::now_unix())
            }
        }
    }
}

/// One measured candidate of one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub job: JobId,
    pub workload_fingerprint: String,
    pub target: String,
    /// The candidate is `sampler`'s sample of `seed` (colt-ir's
    /// `Sampler::sample`) ...
    pub sampler: Sampler,
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

/// A trial with its job's workload, as
/// [`TuningStore::other_workloads_trials`](crate::TuningStore::other_workloads_trials)
/// gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadTrial {
    pub trial: TrialRecord,
    /// The workload's name as its job was given it.
    pub workload: String,
    /// Its program in colt's text format.
    pub workload_text: String,
}

/// What a database holds, as `colt db check` and `colt db backup` report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSummary {
    pub schema_version: i64,
    pub jobs: u64,
    pub trials: u64,
    pub snapshots: u64,
}
