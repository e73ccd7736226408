//! [`TuningStore`] for the SQLite file: every operation delegates to the
//! inherent methods of [`SqliteDb`] (here and in the modules beside it), so
//! that code written against the file type keeps its methods.

use super::*;
use crate::machine_limits::MachineLimitsRecord;

impl TuningStore for SqliteDb {
    fn path(&self) -> &Path {
        SqliteDb::path(self)
    }
    fn create_job(&mut self, job: &NewJob) -> Result<JobId, DbError> {
        SqliteDb::create_job(self, job)
    }
    fn job(&self, id: JobId) -> Result<Option<JobRow>, DbError> {
        SqliteDb::job(self, id)
    }
    fn jobs(&self) -> Result<Vec<JobRow>, DbError> {
        SqliteDb::jobs(self)
    }
    fn set_job_state(&mut self, id: JobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        SqliteDb::set_job_state(self, id, state, error)
    }
    fn set_job_trials(&mut self, id: JobId, trials: u64) -> Result<(), DbError> {
        SqliteDb::set_job_trials(self, id, trials)
    }
    fn checkpoint(&mut self) -> Result<(), DbError> {
        SqliteDb::checkpoint(self)
    }
    fn record_trial(&mut self, trial: &TrialRecord) -> Result<bool, DbError> {
        SqliteDb::record_trial(self, trial)
    }
    fn job_trials(&self, job: JobId) -> Result<Vec<TrialRecord>, DbError> {
        SqliteDb::job_trials(self, job)
    }
    fn best_trials(&self, fingerprint: &str, target: &str, limit: usize) -> Result<Vec<TrialRecord>, DbError> {
        SqliteDb::best_trials(self, fingerprint, target, limit)
    }
    fn other_workloads_trials(&self, target: &str, except: &str, limit: usize) -> Result<Vec<WorkloadTrial>, DbError> {
        SqliteDb::other_workloads_trials(self, target, except, limit)
    }
    fn best_for_workload_name(&self, workload: &str, target: &str) -> Result<Option<TrialRecord>, DbError> {
        SqliteDb::best_for_workload_name(self, workload, target)
    }
    fn workload_targets(&self, workload: &str) -> Result<Vec<String>, DbError> {
        SqliteDb::workload_targets(self, workload)
    }
    fn workload_fingerprints(&self, workload: &str) -> Result<Vec<String>, DbError> {
        SqliteDb::workload_fingerprints(self, workload)
    }
    fn best_of_job(&self, job: JobId) -> Result<Option<TrialRecord>, DbError> {
        SqliteDb::best_of_job(self, job)
    }
    fn foreign_keys_enforced(&self) -> Result<bool, DbError> {
        SqliteDb::foreign_keys_enforced(self)
    }
    fn latest_job(&self, fingerprint: &str, target: &str, strategy: &str) -> Result<Option<JobRow>, DbError> {
        SqliteDb::latest_job(self, fingerprint, target, strategy)
    }
    fn save_snapshot(&mut self, job: JobId, bytes: &[u8]) -> Result<(), DbError> {
        SqliteDb::save_snapshot(self, job, bytes)
    }
    fn record_probe(&mut self, probe: &ProbeRecord) -> Result<(), DbError> {
        SqliteDb::record_probe(self, probe)
    }
    fn job_probes(&self, job: JobId) -> Result<Vec<ProbeRecord>, DbError> {
        SqliteDb::job_probes(self, job)
    }
    fn machine_limits(&self, label: &str) -> Result<Option<MachineLimitsRecord>, DbError> {
        SqliteDb::machine_limits(self, label)
    }
    fn save_machine_limits(&mut self, record: &MachineLimitsRecord) -> Result<(), DbError> {
        SqliteDb::save_machine_limits(self, record)
    }
    fn snapshot(&self, job: JobId) -> Result<Option<Vec<u8>>, DbError> {
        SqliteDb::snapshot(self, job)
    }
    fn set_baseline(&mut self, job: JobId, ms: f64) -> Result<(), DbError> {
        SqliteDb::set_baseline(self, job, ms)
    }
    fn baseline(&self, job: JobId) -> Result<Option<f64>, DbError> {
        SqliteDb::baseline(self, job)
    }
    fn failure_counts(&self) -> Result<Vec<(String, u64)>, DbError> {
        SqliteDb::failure_counts(self)
    }
    fn claim_job(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<Claim, DbError> {
        SqliteDb::claim_job(self, id, owner, lease)
    }
    fn renew_lease(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<bool, DbError> {
        SqliteDb::renew_lease(self, id, owner, lease)
    }
    fn release_job(&mut self, id: JobId, owner: &Owner) -> Result<(), DbError> {
        SqliteDb::release_job(self, id, owner)
    }
    fn next_job_to_run(&self, targets: &[String]) -> Result<Option<JobRow>, DbError> {
        SqliteDb::next_job_to_run(self, targets)
    }
    fn claim_next_job(
        &mut self,
        owner: &Owner,
        targets: &[String],
        lease: Duration,
    ) -> Result<Option<JobRow>, DbError> {
        // One process serves a file (the daemon's lock), so the pick and
        // the claim need no lock between them; a `colt tune` that claims
        // the job in between makes the claim `Held`, and the next is tried.
        while let Some(row) = SqliteDb::next_job_to_run(self, targets)? {
            match SqliteDb::claim_job(self, row.id, owner, lease)? {
                Claim::Claimed => return SqliteDb::job(self, row.id),
                Claim::GaveUp { .. } => continue,
                Claim::Held { .. } => return Ok(None),
            }
        }
        Ok(None)
    }
    fn unfinished_jobs(&self) -> Result<u64, DbError> {
        SqliteDb::unfinished_jobs(self)
    }
    fn create_model_job(&mut self, job: &NewModelJob) -> Result<ModelJobId, DbError> {
        SqliteDb::create_model_job(self, job)
    }
    fn model_job(&self, id: ModelJobId) -> Result<Option<ModelJobRow>, DbError> {
        SqliteDb::model_job(self, id)
    }
    fn model_jobs(&self) -> Result<Vec<ModelJobRow>, DbError> {
        SqliteDb::model_jobs(self)
    }
    fn next_model_job_to_run(&self) -> Result<Option<ModelJobRow>, DbError> {
        SqliteDb::next_model_job_to_run(self)
    }
    fn unfinished_model_jobs(&self) -> Result<u64, DbError> {
        SqliteDb::unfinished_model_jobs(self)
    }
    fn claim_next_model_job(&mut self) -> Result<Option<ModelJobRow>, DbError> {
        SqliteDb::next_model_job_to_run(self)
    }
    fn release_model_job(&mut self, _id: ModelJobId) -> Result<(), DbError> {
        Ok(())
    }
    fn set_model_job_state(&mut self, id: ModelJobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        SqliteDb::set_model_job_state(self, id, state, error)
    }
    fn set_model_job_progress(&mut self, id: ModelJobId, progress_json: &str) -> Result<(), DbError> {
        SqliteDb::set_model_job_progress(self, id, progress_json)
    }
    fn summary(&self) -> Result<DbSummary, DbError> {
        SqliteDb::summary(self)
    }
    fn integrity_check(&self) -> Result<Vec<String>, DbError> {
        SqliteDb::integrity_check(self)
    }
    fn backup_to(&self, dest: &Path) -> Result<DbSummary, DbError> {
        SqliteDb::backup_to(self, dest)
    }
    fn relabel_target(&mut self, from: &str, to: &str) -> Result<(u64, u64), DbError> {
        SqliteDb::relabel_target(self, from, to)
    }
    fn job_claims(&self, job: JobId) -> Result<Vec<ClaimRecord>, DbError> {
        SqliteDb::job_claims(self, job)
    }
    fn import_job(&mut self, row: &JobRow, baseline: Option<f64>) -> Result<bool, DbError> {
        let j = &row.job;
        let inserted = self
            .conn
            .execute(
                "INSERT INTO jobs (id, workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
                 options_json, state, error, created_unix, updated_unix, baseline_ms, crashes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (id) DO NOTHING",
                params![
                    row.id,
                    j.workload,
                    j.workload_text,
                    j.workload_fingerprint,
                    j.target,
                    j.strategy,
                    bits(j.trials),
                    bits(j.seed),
                    j.options_json,
                    crate::copy::imported_state(row.state).as_str(),
                    row.error,
                    row.created_unix,
                    row.updated_unix,
                    baseline,
                    row.crashes
                ],
            )
            .map_err(self.fail(format!("import job {}", row.id)))?;
        Ok(inserted == 1)
    }
    fn import_model_job(&mut self, row: &ModelJobRow) -> Result<bool, DbError> {
        let inserted = self
            .conn
            .execute(
                "INSERT INTO model_jobs (id, model, spec_json, progress_json, state, error, created_unix, updated_unix) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                params![
                    row.id,
                    row.job.model,
                    row.job.spec_json,
                    row.progress_json,
                    crate::copy::imported_state(row.state).as_str(),
                    row.error,
                    row.created_unix,
                    row.updated_unix
                ],
            )
            .map_err(self.fail(format!("import model job {}", row.id)))?;
        Ok(inserted == 1)
    }
    fn worker_heartbeat(&mut self, worker: &Owner, listen: &str, labels: &[String]) -> Result<(), DbError> {
        SqliteDb::worker_heartbeat(self, worker, listen, labels)
    }
    fn worker_gone(&mut self, worker: &Owner) -> Result<(), DbError> {
        SqliteDb::worker_gone(self, worker)
    }
    fn live_workers(&self, within: Duration) -> Result<Vec<WorkerRow>, DbError> {
        SqliteDb::live_workers(self, within)
    }
}
