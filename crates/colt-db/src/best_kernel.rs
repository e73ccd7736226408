//! The best verified kernel the database knows — of a workload, or of one
//! job — rebuilt from its record and checked against it: `colt show` and
//! the daemon's `GET /v1/jobs/{id}/kernel` are this one lookup.
//!
//! The program comes from the record's job (its stored workload text), not
//! from a file that may have changed since; the candidate is rebuilt in the
//! schedule space of the record's target (CPU or OpenCL) and must lower to
//! the recorded fingerprint, or the record was written by another version
//! of colt's schedule space and is refused rather than shown wrong.

use crate::error::DbError;
use crate::records::{JobId, TrialRecord};
use crate::tuning_db::TuningDb;
use colt_ir::schedule::{lower, Candidate, Lineage, LineageError, Target};
use colt_ir::Size;
use std::sync::Arc;

/// Which best kernel.
#[derive(Clone, Copy, Debug)]
pub enum KernelQuery<'a> {
    /// Of every job on the workload named `name`, on the target labelled
    /// `target` alone: a kernel measured on other hardware is no answer.
    Workload { name: &'a str, target: &'a str },
    /// Of one job.
    Job(JobId),
}

/// A verified kernel, rebuilt.
#[derive(Clone, Debug)]
pub struct BestKernel {
    pub record: TrialRecord,
    /// The workload's name, as its job was given it (the name its program
    /// declares).
    pub workload: String,
    pub lineage: Lineage,
    pub candidate: Candidate,
    /// C on the CPU, OpenCL C on an OpenCL target.
    pub source: String,
    /// Scratch buffer lengths (floats) after the program's buffers.
    pub scratch: Vec<usize>,
}

impl BestKernel {
    /// The command that prints this kernel again: a built-in by its name
    /// (with `--full` for its full shapes); any other program from a file
    /// that declares it, which the database does not know the path of.
    pub fn rebuild_command(&self) -> String {
        let program = self.candidate.program();
        let workload = match colt_ir::builtin(&self.workload) {
            Some(b)
                if colt_ir::workload_fingerprint(&b.program(Size::Bench)) == colt_ir::workload_fingerprint(program) =>
            {
                self.workload.clone()
            }
            Some(_) => format!("{} --full", self.workload),
            None => format!("<a file declaring `workload {}`>", self.workload),
        };
        format!("colt emit-c {workload} --space {} {}", self.candidate.target().name(), self.lineage)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("job {job}'s stored workload `{workload}` no longer parses: {message}")]
    Workload { job: JobId, workload: String, message: String },
    // The lineage's own error is this one's source, which the caller's
    // chain prints after it: not repeated here.
    #[error(
        "the best record of `{workload}` (job {job}) no longer rebuilds: the database was written by another \
         version of colt's schedule space (tune the workload again for a kernel of this one)"
    )]
    Lineage { workload: String, job: JobId, source: LineageError },
    #[error(
        "the best record of `{workload}` (job {job}, fingerprint {recorded:016x}) rebuilds to another kernel \
         ({rebuilt:016x}): the database was written by another version of colt's schedule space"
    )]
    Stale { workload: String, job: JobId, recorded: u64, rebuilt: u64 },
}

impl TuningDb {
    /// The fastest verified record the query selects, rebuilt and checked;
    /// `None` when there is none.
    pub fn best_kernel(&self, query: KernelQuery<'_>) -> Result<Option<BestKernel>, KernelError> {
        let record = match query {
            KernelQuery::Workload { name, target } => self.best_for_workload_name(name, target)?,
            KernelQuery::Job(job) => self.best_of_job(job)?,
        };
        let Some(record) = record else { return Ok(None) };
        let job = record.job;
        let row = self.job(job)?.ok_or_else(|| DbError::NoSuchJob { path: self.path().to_path_buf(), job })?;
        let workload = row.job.workload.clone();
        let program = colt_ir::parse_workload(&row.job.workload_text, &workload, Size::Bench)
            .map_err(|e| KernelError::Workload { job, workload: workload.clone(), message: e.to_string() })?;
        let lineage = Lineage { sampler: record.sampler, seed: record.seed, edits: record.edits.clone() };
        let candidate = lineage
            .rebuild_on(&Arc::new(program), Target::of_label(&record.target))
            .map_err(|source| KernelError::Lineage { workload: workload.clone(), job, source })?;
        let nest = lower(&candidate);
        if nest.fingerprint() != record.fingerprint {
            return Err(KernelError::Stale {
                workload,
                job,
                recorded: record.fingerprint,
                rebuilt: nest.fingerprint(),
            });
        }
        Ok(Some(BestKernel {
            source: nest.source(),
            scratch: nest.scratch.clone(),
            record,
            workload,
            lineage,
            candidate,
        }))
    }
}
