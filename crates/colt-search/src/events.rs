//! What a running job tells its caller: the baseline, each trial, its
//! progress, checkpoints and warnings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a job stands, sent after every trial and phase change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: String,
    pub trials: usize,
    pub trial_budget: usize,
    pub naive_ms: Option<f64>,
    pub best_ms: Option<f64>,
    pub llm_calls: BTreeMap<String, u64>,
    /// Prompt plus generated tokens per model.
    pub llm_tokens: BTreeMap<String, u64>,
    pub largest_model_share: Option<f64>,
    pub course_alterations: u64,
}

/// A measured trial, as the progress stream reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialEvent {
    pub index: usize,
    pub latency_ms: Option<f64>,
    pub best_ms: Option<f64>,
    pub failure: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Event {
    /// The naive kernel's latency (measured or known).
    Baseline(f64),
    Trial(TrialEvent),
    Progress(Progress),
    /// A tree snapshot taken after a measurement round.
    Checkpoint(Arc<Vec<u8>>),
    /// Something went wrong that does not stop the job (a failed database
    /// write, a model error); reported, counted, and the job goes on.
    Warning(String),
}
