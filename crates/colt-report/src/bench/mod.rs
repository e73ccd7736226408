//! What a bench measured: the strategies side by side on workloads, with
//! the same trial budgets and seeds, as `bench.json` holds it.
//!
//! Each (workload, strategy, repeat) is one job with the largest budget;
//! the figures at a smaller budget N are read from the first N trials of
//! its latency curve (`figures.rs`): a job's rounds measure the same
//! candidates up to N whatever its budget, so this is the run a job with
//! budget N would have made.

pub(crate) mod figures;
mod merge;
mod outputs;
mod peers;
mod speedup_plot;
mod tables;

pub use figures::{against_naive, best_within, first_reaching, median, strategy_report, StrategyRuns};
pub use merge::{merge, MergeError};
pub use outputs::{read_report, write_outputs, BenchError, BenchOutputs};
pub use peers::{
    read_peer_result, read_peer_results, PeerError, PeerResult, METASCHEDULE, NUMPY, TORCH_COMPILE, TORCH_EAGER,
};
pub use speedup_plot::{speedup_plot_png, speedup_plot_svg};
pub use tables::tables_markdown;

use crate::roofline::Bound;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn cpu_label() -> String {
    "cpu".to_string()
}

/// Everything a bench measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// `cpu`, or `opencl:PLATFORM / DEVICE`.
    #[serde(default = "cpu_label")]
    pub target: String,
    /// Whether the workloads had their full model shapes.
    #[serde(default)]
    pub full: bool,
    pub budgets: Vec<usize>,
    pub target_speedup: f64,
    pub repeats: usize,
    pub workloads: Vec<WorkloadReport>,
    pub wall_s: f64,
    /// The cores colt measured on (CPU benches written since 2026-12-07):
    /// a peer timed on another thread count is not like for like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<usize>,
    /// Peers' results on the same machine (`--peer-results`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "peers::deserialize_peers")]
    pub peers: Vec<PeerResult>,
}

impl BenchReport {
    /// The peers' results on `workload`, one per label, in the order of
    /// the tables' rows and columns: MetaSchedule, the largest budget
    /// first, then torch.compile, torch eager and numpy (the numpy of the
    /// largest MetaSchedule run). Those without a latency are included:
    /// a failed torch.compile is shown as failed.
    pub fn peers_of(&self, workload: &str) -> Vec<&PeerResult> {
        let mut peers: Vec<&PeerResult> = self.peers.iter().filter(|p| p.workload == workload).collect();
        peers.sort_by_key(|p| p.order());
        let mut labels = std::collections::HashSet::new();
        peers.retain(|p| labels.insert(p.label()));
        peers
    }

    /// Gives each workload without a bound `bound_of(its name)`, and every
    /// strategy its share of its workload's bound.
    pub fn fill_bounds(&mut self, mut bound_of: impl FnMut(&str) -> Option<Bound>) {
        for w in &mut self.workloads {
            if w.bound.is_none() {
                w.bound = bound_of(&w.workload);
            }
        }
        self.refresh_shares();
    }

    /// Each strategy's share of the bound at the largest budget, from the
    /// figures as they are now (a merge can change the budgets' bests).
    pub(crate) fn refresh_shares(&mut self) {
        let last = self.budgets.last().copied().unwrap_or(0);
        for w in &mut self.workloads {
            for s in &mut w.strategies {
                s.share_of_bound = crate::share_of(w.bound.as_ref(), s.best_ms.get(&last).copied().flatten());
            }
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkloadReport {
    pub workload: String,
    /// Floating-point operations of one run (for GFLOP/s; 0 in reports
    /// written before it was recorded).
    #[serde(default)]
    pub flops: u64,
    pub naive_ms: f64,
    pub strategies: Vec<StrategyReport>,
    /// The workload's roofline bound on the bench's machine; None when its
    /// limits were not measured (and in benches written before it was).
    #[serde(default)]
    pub bound: Option<Bound>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StrategyReport {
    pub strategy: String,
    /// Per budget: the median over repeats of the best latency within it.
    pub best_ms: BTreeMap<usize, Option<f64>>,
    pub speedup: BTreeMap<usize, Option<f64>>,
    /// Median over repeats of the first trial reaching the target speedup
    /// (None when a repeat never did).
    pub trials_to_target: Option<usize>,
    pub llm_calls: BTreeMap<String, u64>,
    pub llm_tokens: u64,
    /// The models' call time (seconds, the repeats together); benches
    /// written before 2026-12-04 have none.
    #[serde(default)]
    pub llm_seconds: f64,
    pub largest_model_share: Option<f64>,
    /// The workload's bound over the best latency at the largest budget.
    #[serde(default)]
    pub share_of_bound: Option<f64>,
    pub wall_s: f64,
    pub runs: Vec<RunRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    /// Latency per trial (None = failed).
    pub curve: Vec<Option<f64>>,
    pub wall_s: f64,
    /// The run's model calls beside random edit sets (model strategies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<colt_search::ProposalProbe>,
}
