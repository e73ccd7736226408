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
    /// Expansions by random edits this run (a tree strategy's; a model's
    /// expansions are its calls in `models`).
    pub random_expansions: u64,
    /// Who found this run's trials and its improvements of the best.
    pub sources: Vec<SourceReport>,
}

/// What one source of candidates found in a run: a model (its proposals
/// and the rollouts from them), `random edits` (random expansions and
/// their rollouts, evolutionary's mutations), `samples` (fresh draws of
/// the design space) or `transfer` (the transfer round's draws in other
/// workloads' styles, see `transfer.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub source: String,
    /// Trials measured.
    pub trials: usize,
    /// Trials that improved on the job's best so far.
    pub improvements: usize,
    /// Whether the run's best kernel is one of this source's.
    pub found_best: bool,
}

/// The source of a candidate a trial measured (see [`SourceReport`]).
pub(crate) fn source_of(model: Option<&str>, lineage: &Lineage) -> String {
    match model {
        Some(m) => m.to_string(),
        None if !lineage.edits.is_empty() => "random edits".to_string(),
        None if lineage.sampler.style().is_some() => "transfer".to_string(),
        None => "samples".to_string(),
    }
}

/// Per source, in order of first appearance: the trials of `curve` whose
/// source is the same-index entry of `sources`; `best_before` is the best
/// latency known before the run.
pub(crate) fn source_reports(curve: &[Option<f64>], sources: &[String], best_before: Option<f64>) -> Vec<SourceReport> {
    let mut reports: Vec<SourceReport> = Vec::new();
    let mut best = best_before;
    let mut best_source = None;
    for (latency, source) in curve.iter().zip(sources) {
        let index = match reports.iter().position(|r| r.source == *source) {
            Some(i) => i,
            None => {
                reports.push(SourceReport { source: source.clone(), trials: 0, improvements: 0, found_best: false });
                reports.len() - 1
            }
        };
        reports[index].trials += 1;
        if let Some(ms) = latency.filter(|&ms| best.is_none_or(|b| ms < b)) {
            best = Some(ms);
            reports[index].improvements += 1;
            best_source = Some(index);
        }
    }
    if let Some(i) = best_source {
        reports[i].found_best = true;
    }
    reports
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
