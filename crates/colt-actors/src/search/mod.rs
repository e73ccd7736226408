//! The search of a tuning job, as plain Rust over colt-tree, colt-policy and
//! colt-ir: every strategy (`colt`, `single`, `mcts`, `evolutionary`,
//! `random`) runs in the same loop — a round of candidate generation, then
//! a measurement round — with the same measurement, database records, cost
//! model and stopping rules, so that comparisons between them are fair.
//!
//! What waits on the outside world (a model's answer, a measurement, a
//! database write) goes through [`Services`]; colt-actors implements it
//! with its actors, tests with anything. The loop itself is in
//! [`engine`]; what a strategy does in its generation round is in
//! [`strategy`].

mod engine;
mod strategy;

pub use engine::{run_search, ModelReport, Outcome, SearchError, StopReason};
pub use strategy::{Strategy, StrategyParseError};

use crate::db::TrialRecord;
use crate::node::Lineage;
use colt_ir::Program;
use colt_measure::opencl::{OpenClError, OpenClKernel};
use colt_measure::{KernelSource, MeasureError, Measurement};
use colt_policy::{Proposal, ProposalFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Identifies a workload across jobs and databases: a hash of its program
/// in colt's text format (so a renamed file with the same program is the
/// same workload, and a changed shape is another).
pub fn workload_fingerprint(program: &Program) -> String {
    engine::source_hash(&colt_ir::print_program(program))
}

/// What the search asks of the world around it. Every method blocks the
/// calling search thread only.
pub trait Services: Sync {
    /// One call of the model named `model` (a `ModelEntry::name`).
    fn propose(
        &self,
        model: &str,
        system: &str,
        user: &str,
        grammar: &str,
        seed: u32,
    ) -> Result<Proposal, ProposalFailure>;
    /// Builds, checks and times a kernel of the job's program on the CPU.
    fn measure(&self, kernel: &KernelSource) -> Result<Measurement, MeasureError>;
    /// The same for the OpenCL kernels of a job on an OpenCL target.
    fn measure_opencl(&self, kernel: &OpenClKernel) -> Result<Measurement, MeasureError> {
        Err(MeasureError::OpenCl(OpenClError::NoPlatform {
            message: format!("`{}`: this colt process was started without an OpenCL device", kernel.name),
        }))
    }
    /// Stores a measured trial durably before returning.
    fn record(&self, trial: &TrialRecord) -> Result<(), String>;
}

/// A model of the job, as the search needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub name: String,
    pub parameters: u64,
}

/// The search's knobs. Defaults are chosen for a 64-trial budget on 2
/// cores (see the crate README section "Defaults").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchParams {
    /// λ of model-aware UCT.
    pub lambda: f64,
    /// C of UCT.
    pub exploration: f64,
    /// K of course alteration.
    pub course_k: u32,
    /// ε of the measurement pick.
    pub epsilon: f64,
    /// Candidates measured per measurement round.
    pub batch: usize,
    /// Candidates sampled from the design space as the tree's first level.
    pub initial: usize,
    /// Tree strategies: fresh samples of the design space drawn each round,
    /// of which the `root_widening` best predicted join the root's
    /// children (see `Search::widen_root`). 0 keeps the first level fixed.
    #[serde(default)]
    pub root_samples: usize,
    #[serde(default)]
    pub root_widening: usize,
    /// Expansions between two measurement rounds, for the model-driven
    /// strategies (each is one model call, plus a correction sometimes).
    pub llm_expansions: usize,
    /// Expansions between two measurement rounds for `mcts` (random edits
    /// cost nothing, so it gets more).
    pub random_expansions: usize,
    /// Cost-model rollouts from each new child, and their depth in edits.
    /// `rollouts` after a random expansion (`mcts`), `llm_rollouts` after a
    /// model's: both give a round the same number of rollout candidates
    /// (32 × 4 = 4 × 32), so `colt` and `mcts` choose what to measure
    /// from pools of one size and differ only in who picks the edits.
    pub rollouts: usize,
    pub llm_rollouts: usize,
    pub rollout_depth: usize,
    /// Evolutionary search: population and generations per round.
    pub population: usize,
    pub generations: usize,
    /// Most tokens of one model answer.
    pub answer_tokens: u32,
}

impl Default for SearchParams {
    fn default() -> SearchParams {
        SearchParams {
            lambda: 0.2,
            exploration: colt_policy::DEFAULT_EXPLORATION,
            course_k: colt_policy::DEFAULT_STREAK,
            epsilon: colt_policy::DEFAULT_EPSILON,
            batch: 8,
            initial: 16,
            root_samples: 48,
            root_widening: 8,
            llm_expansions: 4,
            random_expansions: 32,
            rollouts: 4,
            llm_rollouts: 32,
            rollout_depth: 3,
            population: 64,
            generations: 4,
            answer_tokens: 96,
        }
    }
}

/// What a job asks of its search, as its submitter gives it (`colt tune`'s
/// flags, a daemon job's row).
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub strategy: Strategy,
    /// Measured candidates to stop at.
    pub trials: usize,
    /// Model calls to stop at (all models together).
    pub llm_calls: Option<u64>,
    pub wall: Option<Duration>,
    /// Search threads.
    pub threads: usize,
    pub seed: u64,
    pub params: SearchParams,
}

/// One tuning job, as the search sees it.
#[derive(Clone)]
pub struct JobSpec {
    pub job: crate::db::JobId,
    pub workload: String,
    pub workload_fingerprint: String,
    pub target: String,
    pub program: Arc<Program>,
    /// The job's models (for `single`, only the largest is used).
    pub models: Vec<ModelEntry>,
    pub settings: JobSettings,
    /// The naive kernel's latency when already known (a resumed job);
    /// measured first otherwise.
    pub naive_ms: Option<f64>,
    /// Verified records of earlier jobs on this workload and target: known
    /// candidates to start from (never measured again, not this job's
    /// trials).
    pub known: Vec<(Lineage, f64)>,
    /// A resumed job: its recorded trials and its last tree snapshot.
    pub resume: Option<Resume>,
}

impl JobSpec {
    /// The schedule space of the job's target (`cpu`, `opencl:DEVICE`).
    pub fn space(&self) -> colt_ir::schedule::Target {
        colt_ir::schedule::Target::of_label(&self.target)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Resume {
    pub trials: Vec<TrialRecord>,
    pub snapshot: Option<Vec<u8>>,
}

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
