//! `colt db copy`: a database's history into another — a SQLite file into
//! a PostgreSQL server and back, or any of the four ways — keeping every
//! job's and model job's id (a resume file or a model job's progress names
//! jobs by id), every trial, snapshot, baseline and proposal probe. Idempotent: what the
//! destination already holds is left as it is, so a copy that was
//! interrupted is finished by running it again; a destination job of the
//! same id that is another job is an error, not a merge. The claim history
//! and the workers stay behind: they describe the source's processes.

use crate::error::DbError;
use crate::records::JobState;
use crate::tuning_db::TuningDb;
use serde::Serialize;

/// What a copy did, and what it checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CopySummary {
    /// Jobs inserted, and jobs the destination held already.
    pub jobs_copied: u64,
    pub jobs_present: u64,
    /// Trials inserted (the rest were there).
    pub trials_copied: u64,
    pub trials: u64,
    pub snapshots: u64,
    /// Proposal probes inserted.
    pub probes_copied: u64,
    pub model_jobs_copied: u64,
    pub model_jobs_present: u64,
}

/// How a copied job arrives: a running one is its source process's still,
/// so it arrives stopped, for a person to resume where it should run.
pub(crate) fn imported_state(state: JobState) -> JobState {
    match state {
        JobState::Running => JobState::Stopped,
        other => other,
    }
}

/// Copies everything `from` holds into `to` (see the module), then checks
/// that every job of `from` is in `to` as the same job with at least its
/// trials.
pub fn copy_database(from: &TuningDb, to: &mut TuningDb) -> Result<CopySummary, DbError> {
    let path = to.path().to_path_buf();
    let mismatch = |reason: String| DbError::CopyMismatch { path: path.clone(), reason };
    let mut summary = CopySummary::default();
    for row in from.jobs()? {
        let baseline = from.baseline(row.id)?;
        if to.import_job(&row, baseline)? {
            summary.jobs_copied += 1;
        } else {
            summary.jobs_present += 1;
            let there = to.job(row.id)?.ok_or_else(|| DbError::NoSuchJob { path: path.clone(), job: row.id })?;
            if there.job != row.job {
                return Err(mismatch(format!(
                    "its job {} is another job (`{}` on `{}`) than the source's (`{}` on `{}`): not copying into it",
                    row.id, there.job.workload, there.job.target, row.job.workload, row.job.target
                )));
            }
        }
        for trial in from.job_trials(row.id)? {
            summary.trials += 1;
            if to.record_trial(&trial)? {
                summary.trials_copied += 1;
            }
        }
        if let Some(bytes) = from.snapshot(row.id)? {
            to.save_snapshot(row.id, &bytes)?;
            summary.snapshots += 1;
        }
        // Probes have no key of their own: an interrupted copy left a
        // prefix of the source's, in order, so the rest follows it.
        let present = to.job_probes(row.id)?.len();
        for probe in from.job_probes(row.id)?.into_iter().skip(present) {
            to.record_probe(&probe)?;
            summary.probes_copied += 1;
        }
    }
    for row in from.model_jobs()? {
        if to.import_model_job(&row)? {
            summary.model_jobs_copied += 1;
        } else {
            summary.model_jobs_present += 1;
        }
    }
    for row in from.jobs()? {
        let copied = to.job_trials(row.id)?.len() as u64;
        if copied < row.trials_done {
            return Err(mismatch(format!(
                "after the copy its job {} holds {copied} trials, the source's {}",
                row.id, row.trials_done
            )));
        }
    }
    Ok(summary)
}
