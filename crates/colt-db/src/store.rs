//! The tuning database's interface, one trait with two implementations:
//! embedded SQLite (a file path, the default) and a PostgreSQL server
//! (`postgres://…`) that many hosts share. Everything above colt-db —
//! the search's database actor, the daemon, the CLI — speaks this trait
//! through [`crate::TuningDb`], and the crate's test suite runs on both.
//!
//! What differs lives below it: SQL dialects, how a job is claimed
//! atomically (an immediate transaction; `SELECT … FOR UPDATE`), file upkeep
//! (a WAL checkpoint, SQLite's integrity check and online backup, which a
//! server does for itself: `pg_dump`, `amcheck`).

use crate::error::DbError;
use crate::machine_limits::MachineLimitsRecord;
use crate::model_jobs::{ModelJobId, ModelJobRow, NewModelJob};
use crate::ownership::{Claim, ClaimRecord, Owner};
use crate::probes::ProbeRecord;
use crate::records::{DbSummary, JobId, JobRow, JobState, NewJob, TrialRecord, WorkloadTrial};
use crate::workers::WorkerRow;
use std::path::Path;
use std::time::Duration;

pub trait TuningStore: Send {
    /// Where the database is, for messages: a file's path, or a server's
    /// URL without its password.
    fn path(&self) -> &Path;

    /// Records a new job in state [`JobState::Queued`].
    fn create_job(&mut self, job: &NewJob) -> Result<JobId, DbError>;
    fn job(&self, id: JobId) -> Result<Option<JobRow>, DbError>;
    /// Every job, by id.
    fn jobs(&self) -> Result<Vec<JobRow>, DbError>;
    /// Sets a job's state and its error (`None` clears an earlier one, e.g.
    /// when a failed job is resumed).
    fn set_job_state(&mut self, id: JobId, state: JobState, error: Option<&str>) -> Result<(), DbError>;
    /// Sets job `id`'s trial budget: a resumed job may be given more.
    fn set_job_trials(&mut self, id: JobId, trials: u64) -> Result<(), DbError>;
    /// Makes every committed row durable in the database proper (SQLite:
    /// moves the write-ahead log into the main file; a server: nothing to
    /// do).
    fn checkpoint(&mut self) -> Result<(), DbError>;

    /// Records one measured candidate, committed before this returns. A
    /// candidate (fingerprint) already recorded in the job is left as it
    /// was and `false` returned: a resumed job re-measures nothing twice.
    fn record_trial(&mut self, trial: &TrialRecord) -> Result<bool, DbError>;
    /// A job's trials in the order they were measured.
    fn job_trials(&self, job: JobId) -> Result<Vec<TrialRecord>, DbError>;
    /// The fastest verified candidates of a workload on a target, across
    /// all jobs: one record per candidate (its fastest), fastest first.
    fn best_trials(&self, workload_fingerprint: &str, target: &str, limit: usize) -> Result<Vec<TrialRecord>, DbError>;
    /// Verified trials on `target` of every workload but the one of
    /// `except_workload_fingerprint`, one per workload and candidate (its
    /// fastest), the newest first, at most `limit`; each with its job's
    /// workload. What a job's cost model warms up on.
    fn other_workloads_trials(
        &self,
        target: &str,
        except_workload_fingerprint: &str,
        limit: usize,
    ) -> Result<Vec<WorkloadTrial>, DbError>;
    /// The fastest verified trial of any job on the workload named
    /// `workload`, on the target labelled `target`.
    fn best_for_workload_name(&self, workload: &str, target: &str) -> Result<Option<TrialRecord>, DbError>;
    /// The target labels that hold a verified trial of the workload named
    /// `workload`, sorted: what to name when a lookup on one label finds
    /// nothing.
    fn workload_targets(&self, workload: &str) -> Result<Vec<String>, DbError>;
    /// The distinct workload fingerprints of the jobs named `workload`
    /// (one, or none, in a database written since names were checked).
    fn workload_fingerprints(&self, workload: &str) -> Result<Vec<String>, DbError>;
    /// Refuses a job of the program `fingerprint` under the name
    /// `workload` when the name stands for another program here
    /// ([`DbError::WorkloadNameTaken`]); every backend's `create_job` asks
    /// it first, and a caller may ask before it starts anything.
    fn check_workload_name(&self, workload: &str, fingerprint: &str) -> Result<(), DbError> {
        crate::workload_names::refuse_other_program(self, workload, fingerprint)
    }
    /// The fastest verified trial of one job.
    fn best_of_job(&self, job: JobId) -> Result<Option<TrialRecord>, DbError>;
    /// Whether the database enforces the schema's foreign keys.
    fn foreign_keys_enforced(&self) -> Result<bool, DbError>;
    /// The most recently created job with this setup, in any state.
    fn latest_job(&self, workload_fingerprint: &str, target: &str, strategy: &str) -> Result<Option<JobRow>, DbError>;

    /// Keeps `bytes` as the job's search-tree snapshot, replacing the last one.
    fn save_snapshot(&mut self, job: JobId, bytes: &[u8]) -> Result<(), DbError>;
    /// The job's last search-tree snapshot, if it saved one.
    fn snapshot(&self, job: JobId) -> Result<Option<Vec<u8>>, DbError>;

    /// Stores a proposal probe of an existing job.
    fn record_probe(&mut self, probe: &ProbeRecord) -> Result<(), DbError>;
    /// The job's proposal probes, in the order they were recorded.
    fn job_probes(&self, job: JobId) -> Result<Vec<ProbeRecord>, DbError>;
    /// The limits measured on the hardware label `label`, if stored.
    fn machine_limits(&self, label: &str) -> Result<Option<MachineLimitsRecord>, DbError>;
    /// Stores `record` as its label's limits, replacing earlier ones.
    fn save_machine_limits(&mut self, record: &MachineLimitsRecord) -> Result<(), DbError>;
    /// Records the job's naive (unscheduled) kernel time, so a resumed job
    /// need not measure it again.
    fn set_baseline(&mut self, job: JobId, ms: f64) -> Result<(), DbError>;
    fn baseline(&self, job: JobId) -> Result<Option<f64>, DbError>;
    /// Failed trials of all jobs, counted by failure kind (the text before
    /// the first `:` of `TrialRecord::failure`), for the daemon's metrics.
    fn failure_counts(&self) -> Result<Vec<(String, u64)>, DbError>;

    /// Claims job `id` for `owner` with a lease of `lease` from now (see
    /// [`crate::ownership`]).
    fn claim_job(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<Claim, DbError>;
    /// Extends `owner`'s lease on job `id` to `lease` from now; false when
    /// the job is no longer `owner`'s (another process took it over).
    fn renew_lease(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<bool, DbError>;
    /// Gives job `id` up, if `owner` holds it.
    fn release_job(&mut self, id: JobId, owner: &Owner) -> Result<(), DbError>;
    /// Who held job `id`, in the order they took it (each claim by a new
    /// owner opens a hold; a release or a takeover from a dead owner ends
    /// it).
    fn job_claims(&self, id: JobId) -> Result<Vec<ClaimRecord>, DbError>;

    /// Records that `worker` (a daemon listening on `listen`, running jobs
    /// of `labels`) is alive now; its first heartbeat registers it.
    fn worker_heartbeat(&mut self, worker: &Owner, listen: &str, labels: &[String]) -> Result<(), DbError>;
    /// Removes `worker` (its clean shutdown).
    fn worker_gone(&mut self, worker: &Owner) -> Result<(), DbError>;
    /// The workers whose last heartbeat is at most `within` old.
    fn live_workers(&self, within: Duration) -> Result<Vec<WorkerRow>, DbError>;
    /// The job a scheduler serving the target labels `targets` should run
    /// next: an interrupted (`running`) job of those labels no live owner
    /// holds, else the oldest queued one. A job of another label is another
    /// host's to run (in a database that several hosts share).
    fn next_job_to_run(&self, targets: &[String]) -> Result<Option<JobRow>, DbError>;
    /// Claims for `owner` the job [`next_job_to_run`](Self::next_job_to_run)
    /// would pick among `targets`' jobs, in one step: on a server, rows
    /// another worker is claiming at this moment are skipped
    /// (`FOR UPDATE SKIP LOCKED`), not waited on, and a job whose owners
    /// died too often is failed on the way ([`claim_job`](Self::claim_job)'s
    /// rules). The claimed job's row, or `None` when there is nothing to
    /// run.
    fn claim_next_job(&mut self, owner: &Owner, targets: &[String], lease: Duration)
        -> Result<Option<JobRow>, DbError>;
    /// How many jobs are queued or running.
    fn unfinished_jobs(&self) -> Result<u64, DbError>;

    /// Records a new model job in state [`JobState::Queued`].
    fn create_model_job(&mut self, job: &NewModelJob) -> Result<ModelJobId, DbError>;
    fn model_job(&self, id: ModelJobId) -> Result<Option<ModelJobRow>, DbError>;
    /// Every model job, by id.
    fn model_jobs(&self) -> Result<Vec<ModelJobRow>, DbError>;
    /// The model job to run next: an interrupted one, else the oldest queued.
    fn next_model_job_to_run(&self) -> Result<Option<ModelJobRow>, DbError>;
    /// The model job this process should run next (as
    /// [`next_model_job_to_run`](Self::next_model_job_to_run)), held for it
    /// until [`release_model_job`](Self::release_model_job): on a server, by
    /// an advisory lock of this connection, which the server drops if the
    /// process dies; one of another live process is skipped. A file has one
    /// daemon (its lock file), so there it is the next one.
    fn claim_next_model_job(&mut self) -> Result<Option<ModelJobRow>, DbError>;
    /// Lets other processes run model job `id` again.
    fn release_model_job(&mut self, id: ModelJobId) -> Result<(), DbError>;
    /// How many model jobs are queued or running.
    fn unfinished_model_jobs(&self) -> Result<u64, DbError>;
    fn set_model_job_state(&mut self, id: ModelJobId, state: JobState, error: Option<&str>) -> Result<(), DbError>;
    /// Records where a model job stands (after each of its rounds).
    fn set_model_job_progress(&mut self, id: ModelJobId, progress_json: &str) -> Result<(), DbError>;

    /// Inserts `row` under its own id, with its naive baseline, unless a job
    /// of that id exists (then `false`): `colt db copy`. The copy is held
    /// by no one; a `running` job arrives `stopped` (its process still runs
    /// it at the source), to be resumed by hand.
    fn import_job(&mut self, row: &JobRow, baseline: Option<f64>) -> Result<bool, DbError>;
    /// Inserts a model job under its own id unless one of that id exists
    /// (then `false`); a `running` one arrives `stopped`.
    fn import_model_job(&mut self, row: &ModelJobRow) -> Result<bool, DbError>;

    /// What the database holds: its schema version and its rows.
    fn summary(&self) -> Result<DbSummary, DbError>;
    /// The backend's full consistency check; `["ok"]` when sound.
    fn integrity_check(&self) -> Result<Vec<String>, DbError>;
    /// A consistent copy into the new SQLite file `dest`, checked.
    fn backup_to(&self, dest: &Path) -> Result<DbSummary, DbError>;
    /// Gives every job and trial of the target label `from` the label `to`,
    /// in one transaction; the jobs and trials changed.
    fn relabel_target(&mut self, from: &str, to: &str) -> Result<(u64, u64), DbError>;
}

/// What a claim of a job finds, decided the same way by every backend
/// from the job's row as read inside the claiming transaction.
pub(crate) enum ClaimDecision {
    /// Another live owner holds it.
    Held(Claim),
    /// Its owners died too often: fail it with this reason and crash count.
    GiveUp { reason: String, crashes: u32 },
    /// Take it, with this crash count.
    Take { crashes: u32 },
}

pub(crate) fn decide_claim(row: &JobRow, owner: &Owner) -> ClaimDecision {
    let mut crashes = if row.state == JobState::Running { row.crashes } else { 0 };
    if let Some(holder) = row.owner.as_ref().filter(|o| *o != owner) {
        if row.held_by_other(Some(owner)) {
            let lease_until_unix = row.lease_until_unix.unwrap_or(0.0);
            return ClaimDecision::Held(Claim::Held { owner: holder.clone(), lease_until_unix });
        }
        if row.state == JobState::Running {
            crashes += 1;
        }
        if crashes >= crate::MAX_CRASHES {
            let reason = format!(
                "the process running it died {crashes} times (the last: {holder}); not resumed again \
                 (`colt tune --resume` takes it up by hand)"
            );
            return ClaimDecision::GiveUp { reason, crashes };
        }
    }
    ClaimDecision::Take { crashes }
}
