//! What a finished (or stopped) job found.

use colt_ir::schedule::{Candidate, Lineage};
use serde::{Deserialize, Serialize};

/// Why a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    TrialBudget,
    LlmBudget,
    WallClock,
    /// Told to stop (Ctrl-C, a cancelled daemon job).
    Stopped,
    /// Nothing left to measure: every candidate the strategy can reach has
    /// been measured.
    Exhausted,
}

pub struct Outcome {
    pub reason: StopReason,
    pub naive_ms: f64,
    /// The best verified candidate: latency, lineage, candidate.
    pub best: Option<(f64, Lineage, Candidate)>,
    /// One entry per trial of this job: its latency (None = failed).
    pub curve: Vec<Option<f64>>,
    pub models: Vec<ModelReport>,
    pub course_alterations: u64,
    /// Candidates the strategy holds (tree nodes, population).
    pub tree_nodes: usize,
    /// Other workloads' records the cost model learned from before the
    /// first round (the warm start).
    pub warm_records: usize,
    pub snapshot: Option<Vec<u8>>,
    pub wall_s: f64,
    /// Every model call of this run beside a random edit set of the same
    /// node (the proposal-quality instrument).
    pub probes: Vec<ProposalProbe>,
}

/// One model call beside chance (colt-policy's `Probe`): the cost model's
/// prediction for the call's child and for a random legal edit set of as
/// many edits at the same node, and, when the job measures its probes
/// (`SearchParams::measure_probes`), both measured outside the trial
/// budget. Predictions are the tree's values (higher is faster).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalProbe {
    pub model: String,
    pub parent_predicted: f64,
    /// None when the answer had no applicable edit or the call failed.
    pub proposal_predicted: Option<f64>,
    pub random_predicted: f64,
    /// The call's child was already in the tree (its parent included).
    pub duplicate: bool,
    /// Whether both children were measured (then a None latency failed).
    pub measured: bool,
    pub proposal_ms: Option<f64>,
    pub random_ms: Option<f64>,
}

/// A model's calls in a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    pub name: String,
    pub parameters: u64,
    pub calls: u64,
    pub errors: u64,
    /// Share (0 to 1) of its calls whose child beat its parent.
    pub hit_rate: f64,
    /// Prompt plus generated tokens.
    pub tokens: u64,
    pub seconds: f64,
}
