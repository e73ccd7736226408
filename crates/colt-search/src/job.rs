//! One tuning job as the search sees it: what to tune, where, with which
//! models and budgets, and what is already known.

use crate::params::SearchParams;
use crate::registry::StrategyChoice;
use colt_ir::schedule::{Lineage, Sampler};
use colt_ir::Program;
use colt_measure::Target;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A model of the job, as the search needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub name: String,
    pub parameters: u64,
}

/// The longest wall-clock budget a job may ask for: 30 days. Longer is
/// no budget a daemon could honour (and `Duration::from_secs_f64` panics
/// on what no `Duration` holds).
pub const MAX_WALL_S: f64 = 30.0 * 24.0 * 3600.0;

/// A wall-clock budget of `seconds` as a `Duration`: finite, positive and
/// at most [`MAX_WALL_S`], or why not (a message for whoever gave it).
pub fn wall_budget(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_WALL_S {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        // 1e300 as itself, not as 301 digits.
        let given = if seconds.abs() >= 1e9 { format!("{seconds:e}") } else { seconds.to_string() };
        Err(format!(
            "a wall-clock budget is a number of seconds above 0 and at most {MAX_WALL_S} (30 days), not {given}"
        ))
    }
}

/// What a job asks of its search, as its submitter gives it (`colt tune`'s
/// flags, a daemon job's row).
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub strategy: StrategyChoice,
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

/// A verified record of an earlier job on the same workload and target.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownRecord {
    pub lineage: Lineage,
    /// The fingerprint of the kernel that was measured: a lineage that now
    /// rebuilds another kernel (a sampler or an edit changed since) is
    /// stale and is not given this latency.
    pub fingerprint: u64,
    pub latency_ms: f64,
}

/// A verified record of another workload on the job's target: it warms the
/// cost model up (its features and flop/s), nothing else.
#[derive(Clone, Debug)]
pub struct WarmRecord {
    pub program: Arc<Program>,
    pub lineage: Lineage,
    /// The measured kernel's fingerprint (see [`KnownRecord::fingerprint`]).
    pub fingerprint: u64,
    pub latency_ms: f64,
}

/// A trial this job recorded before it was stopped (a resumed job).
#[derive(Clone, Debug, PartialEq)]
pub struct PastTrial {
    pub lineage: Lineage,
    /// The measured kernel's fingerprint (see [`KnownRecord::fingerprint`]).
    pub fingerprint: u64,
    /// None: it failed.
    pub latency_ms: Option<f64>,
    /// The model whose proposal it is or extends.
    pub model: Option<String>,
}

/// A resumed job: its recorded trials and its last snapshot.
#[derive(Clone, Debug, Default)]
pub struct Resume {
    pub trials: Vec<PastTrial>,
    pub snapshot: Option<Vec<u8>>,
}

/// One tuning job.
#[derive(Clone)]
pub struct JobSpec {
    /// The job's id in its caller's records (the tuning database's).
    pub job: i64,
    pub workload: String,
    pub workload_fingerprint: String,
    pub target: Target,
    pub program: Arc<Program>,
    /// The job's models (for `single`, only the largest is used).
    pub models: Vec<ModelEntry>,
    /// How the job's samples of the design space are drawn: the informed
    /// sampler for the measuring machine (a runtime's choice, not the
    /// submitter's; `random:uniform` asks for the uniform one). OpenCL
    /// jobs sample uniformly whatever it says.
    pub sampler: Sampler,
    pub settings: JobSettings,
    /// The naive kernel's latency when already known (a resumed job);
    /// measured first otherwise.
    pub naive_ms: Option<f64>,
    /// Verified records of earlier jobs on this workload and target: known
    /// candidates to start from (never measured again, not this job's
    /// trials).
    pub known: Vec<KnownRecord>,
    /// Verified records of other workloads on the same target: the cost
    /// model trains on them before the first round (see colt-policy's
    /// `CostModel::add_prior_measurement`), so that a machine's second job
    /// starts with a model that already ranks.
    pub warm: Vec<WarmRecord>,
    pub resume: Option<Resume>,
    /// The machine the cost model's roofline prior assumes: the target's
    /// measured limits where the tuning database has them (colt-policy's
    /// `Roofline::measured`), else None and `Roofline::default()`'s
    /// generic constants.
    pub roofline: Option<colt_policy::cost::Roofline>,
}

impl JobSpec {
    /// The schedule space of the job's target.
    pub fn space(&self) -> colt_ir::schedule::Target {
        self.target.space()
    }

    /// The sampler the job's samples are drawn with in its space.
    pub fn sampler(&self) -> Sampler {
        match self.space() {
            colt_ir::schedule::Target::Cpu => self.sampler,
            colt_ir::schedule::Target::OpenCl => Sampler::Uniform,
        }
    }
}
