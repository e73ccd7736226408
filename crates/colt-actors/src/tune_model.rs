//! [`Colt::tune_model`]: one trial budget over a model's tasks. Each task
//! is an ordinary job of the tuning database, run a round at a time (a
//! round resumes the task's job with a larger trial budget: its trials and
//! tree snapshot carry over, nothing is measured twice); colt-search's
//! [`TaskScheduler`] picks the task of each round.
//!
//! A model job resumes from its [`ModelProgress`] (the daemon keeps it in
//! the model job's row): the rounds replay into the scheduler, and each
//! task's trials and best are read again from its job, so a round cut
//! short by a restart is counted as far as it went.

use crate::colt::{Colt, ColtError};
use crate::tune::TuneRequest;
use colt_db::JobId;
use colt_ir::model::{Family, ModelShape};
use colt_ir::Program;
use colt_measure::Target;
use colt_search::{Allocation, JobSettings, StopReason, TaskScheduler};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// One task of a model.
#[derive(Clone)]
pub struct ModelTask {
    pub name: String,
    pub program: Arc<Program>,
    /// Runs per forward pass.
    pub count: u64,
}

/// A whole-model job.
pub struct ModelRequest {
    pub tasks: Vec<ModelTask>,
    /// Trials over all tasks.
    pub trials: usize,
    /// Trials per round.
    pub round: usize,
    pub allocation: Allocation,
    pub target: Target,
    /// The jobs' settings (their `trials` is set per round).
    pub settings: JobSettings,
    /// Where an interrupted run of this request stood.
    pub progress: Option<ModelProgress>,
}

/// Where a model job stands: its tasks and its rounds so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelProgress {
    pub tasks: Vec<TaskReport>,
    pub rounds: Vec<RoundReport>,
}

/// A task at the end (or at a round).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskReport {
    pub name: String,
    pub count: u64,
    pub job: Option<JobId>,
    pub trials: usize,
    pub naive_ms: Option<f64>,
    pub best_ms: Option<f64>,
}

impl TaskReport {
    /// A task before its first round.
    pub fn unmeasured(name: &str, count: u64) -> TaskReport {
        TaskReport { name: name.to_string(), count, job: None, trials: 0, naive_ms: None, best_ms: None }
    }
}

/// One round: which task, and where it and the pass stood after it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoundReport {
    pub round: usize,
    pub task: usize,
    pub trials: usize,
    pub best_ms: Option<f64>,
    /// Σ count × best (naive where a task has no kernel yet).
    pub pass_ms: Option<f64>,
    pub total_trials: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelOutcome {
    pub allocation: String,
    pub tasks: Vec<TaskReport>,
    pub rounds: Vec<RoundReport>,
    /// Σ count × naive.
    pub naive_pass_ms: Option<f64>,
    pub tuned_pass_ms: Option<f64>,
    pub wall_s: f64,
    /// Whether the budget is spent (or every task's space exhausted);
    /// false when `stop` or `on_round` ended it early.
    pub complete: bool,
}

impl Colt {
    /// Runs `request` to its trial budget (or until `stop`, or until
    /// `on_round`, called after each round, returns false).
    pub fn tune_model(
        &self,
        request: ModelRequest,
        stop: Arc<AtomicBool>,
        mut on_round: impl FnMut(&ModelProgress) -> bool,
    ) -> Result<ModelOutcome, ColtError> {
        let start = Instant::now();
        let counts: Vec<u64> = request.tasks.iter().map(|t| t.count).collect();
        let mut scheduler = TaskScheduler::new(&counts, request.allocation, request.settings.seed);
        let mut progress = match request.progress.clone() {
            Some(p) if p.tasks.len() == request.tasks.len() => p,
            _ => ModelProgress {
                tasks: request.tasks.iter().map(|t| TaskReport::unmeasured(&t.name, t.count)).collect(),
                rounds: Vec::new(),
            },
        };
        for r in &progress.rounds {
            scheduler.record(r.task, r.trials, r.best_ms);
        }
        for (index, report) in progress.tasks.iter_mut().enumerate() {
            let Some(job) = report.job else { continue };
            report.trials = self.db.call(move |db| db.job_trials(job))??.len();
            report.best_ms = self.db.call(move |db| db.best_of_job(job))??.and_then(|t| t.median_ms);
            if let Some(naive) = report.naive_ms {
                scheduler.set_naive(index, naive);
            }
        }
        let mut total: usize = progress.tasks.iter().map(|t| t.trials).sum();
        let mut paused = false;
        let round = request.round.max(1);
        while total < request.trials && !stop.load(Ordering::SeqCst) {
            let Some(index) = scheduler.next_task() else { break };
            let tasks = &mut progress.tasks;
            let give = round.min(request.trials - total);
            let task = &request.tasks[index];
            let before = tasks[index].trials;
            let tune = TuneRequest {
                program: task.program.clone(),
                target: request.target.clone(),
                settings: JobSettings { trials: before + give, ..request.settings.clone() },
                resume: tasks[index].job,
                start_from_known: false,
                warm_start: true,
                naive_ms: None,
            };
            let (events, inbox) = crossbeam_channel::unbounded();
            let result = match self.tune(tune, events, stop.clone(), |_| Ok(())) {
                Ok(result) => result,
                // Stopped before the task's baseline: the round measured
                // nothing, and the model job is not complete.
                Err(ColtError::Search(colt_search::SearchError::Stopped { .. })) => break,
                Err(e) => return Err(e),
            };
            drop(inbox);
            let job = result.job;
            let best = self.db.call(move |db| db.best_of_job(job))??.and_then(|t| t.median_ms);
            let trials = self.db.call(move |db| db.job_trials(job))??.len();
            let report = &mut tasks[index];
            report.job = Some(job);
            report.naive_ms = Some(result.outcome.naive_ms);
            report.best_ms = best;
            report.trials = trials;
            scheduler.set_naive(index, result.outcome.naive_ms);
            scheduler.record(index, trials, best);
            total += trials - before;
            // A task whose space gave nothing more is done.
            if trials == before || result.outcome.reason == StopReason::Exhausted {
                scheduler.retire(index);
            }
            let r = RoundReport {
                round: progress.rounds.len(),
                task: index,
                trials,
                best_ms: best,
                pass_ms: scheduler.estimated_pass_ms(),
                total_trials: total,
            };
            progress.rounds.push(r);
            if !on_round(&progress) {
                paused = true;
                break;
            }
        }
        let complete = !paused && !stop.load(Ordering::SeqCst);
        let ModelProgress { tasks, rounds } = progress;
        let pass = |pick: fn(&TaskReport) -> Option<f64>| -> Option<f64> {
            tasks.iter().map(|t| pick(t).or(t.naive_ms).map(|ms| ms * t.count as f64)).sum()
        };
        Ok(ModelOutcome {
            allocation: request.allocation.to_string(),
            naive_pass_ms: pass(|t| t.naive_ms),
            tuned_pass_ms: pass(|t| t.best_ms),
            tasks,
            rounds,
            wall_s: start.elapsed().as_secs_f64(),
            complete,
        })
    }
}

/// The shape colt-ir derives a model's layers from, of its hyperparameters
/// as colt-llm reads them from a GGUF header (or a client sends them);
/// `name` names its tasks.
pub fn model_shape(name: &str, h: &colt_llm::Hyperparameters) -> Result<ModelShape, String> {
    let Some(family) = Family::of_architecture(&h.architecture) else {
        return Err(format!(
            "architecture `{}`: colt derives the layers of `llama`, `qwen2` and `gemma3` models only",
            h.architecture
        ));
    };
    let size = |what: &str, v: u64| {
        usize::try_from(v).map_err(|_| format!("the {what} {v} does not fit this machine's integers"))
    };
    Ok(ModelShape {
        name: name.to_string(),
        family,
        embedding: size("embedding length", h.embedding)?,
        blocks: size("block count", h.blocks)?,
        feed_forward: size("feed-forward length", h.feed_forward)?,
        heads: size("head count", h.heads)?,
        kv_heads: size("key/value head count", h.kv_heads)?,
        key_length: size("key length", h.key_length)?,
        value_length: size("value length", h.value_length)?,
        vocabulary: size("vocabulary", h.vocabulary)?,
        experts: size("expert count", h.experts)?,
        experts_used: size("experts used", h.experts_used)?,
        expert_feed_forward: size("expert feed-forward length", h.expert_feed_forward)?,
        rms_epsilon: h.rms_epsilon as f32,
        sliding_window: h.sliding_window.map(|w| size("sliding window", w)).transpose()?,
    })
}
