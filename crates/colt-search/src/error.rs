//! Why a search could not run.

/// The search failed before or while it ran; each variant names what.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("strategy `{strategy}` needs at least one model (--models)")]
    NoModels { strategy: String },
    #[error("the job's models: {0}")]
    Models(colt_policy::PolicyError),
    #[error(transparent)]
    Params(#[from] colt_policy::PolicyError),
    #[error("cannot restore the job's snapshot: {reason}")]
    Snapshot { reason: String },
    #[error("cannot take the job's snapshot: {reason}")]
    TakeSnapshot { reason: String },
    #[error("the naive kernel of `{workload}` failed: {source}")]
    Baseline { workload: String, source: Box<colt_measure::MeasureError> },
    /// Told to stop before the job had a baseline to report against: the
    /// job is resumable (nothing of it was measured).
    #[error("the job was stopped {during}")]
    Stopped { during: &'static str },
    #[error("the measurement machinery keeps failing: {source}")]
    Machinery { source: Box<colt_measure::MeasureError> },
}
