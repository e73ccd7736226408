//! What the search asks of the world around it, as three small
//! interfaces: a [`Proposer`](colt_policy::Proposer) answers a model call
//! (colt-policy's), a [`Runner`] builds, checks and times a kernel, a
//! [`Recorder`] stores a measured trial. Each call blocks the calling
//! search thread only. colt-actors implements them with its actors; tests
//! with anything.

use colt_ir::schedule::Lineage;
use colt_ir::Program;
use colt_measure::{Kernel, MeasureError, Measurement, Target, Timing};
use colt_policy::{ModelCall, Proposal, ProposalFailure, Proposer};
use std::sync::Arc;

/// Builds, checks against the reference and times one kernel of `program`
/// on the job's target.
pub trait Runner: Sync {
    fn run(&self, program: &Arc<Program>, kernel: &Kernel) -> Result<Measurement, MeasureError>;
}

/// Stores a measured trial durably before returning.
pub trait Recorder: Sync {
    fn record(&self, trial: &Trial) -> Result<(), RecordError>;

    /// Stores one proposal probe of job `job` (not a trial).
    fn record_probe(&self, job: i64, probe: &crate::ProposalProbe) -> Result<(), RecordError>;
}

/// Why a trial was measured but not recorded (the recorder's own error).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub Box<dyn std::error::Error + Send + Sync>);

/// One measured candidate of a job, as the recorder receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub job: i64,
    pub workload_fingerprint: String,
    pub target: Target,
    /// How to rebuild the candidate.
    pub lineage: Lineage,
    /// The schedule, rendered for people.
    pub decisions: String,
    /// FNV-1a of the kernel source, as 16 hex digits.
    pub source_hash: String,
    /// The candidate's loop-nest fingerprint; unique within a job.
    pub fingerprint: u64,
    /// The timing of a verified kernel; None when it failed.
    pub timing: Option<Timing>,
    /// Failure kind and message when it failed.
    pub failure: Option<String>,
    pub strategy: String,
    /// The model whose proposal it is or extends; None for sampled or
    /// random candidates.
    pub model: Option<String>,
    /// 0-based order in its job.
    pub index: u64,
    pub created_unix: f64,
}

/// The proposer of a job without models: every call fails (model-free
/// strategies never call it).
pub struct NoModels;

impl Proposer for NoModels {
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure> {
        Err(ProposalFailure(format!("no model `{}`: this job has no models", call.model)))
    }
}
