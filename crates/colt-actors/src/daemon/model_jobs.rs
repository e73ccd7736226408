//! Whole-model jobs (`POST /v1/model-jobs`): a model, named by a GGUF file
//! on the daemon's machine or by its hyperparameters, tuned as
//! `colt tune-model` does — one trial budget over its tasks, rounds given
//! out by the task scheduler, each task an ordinary job.
//!
//! The submission is turned into its tasks' workload texts at once, and
//! those are what the row keeps: the job resumes after a restart even if
//! the GGUF file has gone. A model job yields to ordinary jobs between its
//! rounds (it stays `running` and resumes once they are done), so one long
//! model job does not hold up a single-layer job for an hour.

use super::submit::{submitted_strategy, SubmitError, MAX_TRIALS};
use crate::colt::Colt;
use crate::tune_model::{ModelProgress, TaskReport};
use colt_db::{JobState, ModelJobId, ModelJobRow, NewModelJob};
use colt_ir::model::{model_tasks, Phase, MAX_SEQUENCE};
use colt_search::Allocation;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Most rounds (trials / round) one model job may have: its progress is
/// rewritten after every round.
pub const MAX_ROUNDS: usize = 4096;

/// A model job to submit: the model (exactly one of `model_path` and
/// `hyperparameters`) and how to tune it; the rest has `colt tune-model`'s
/// defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSubmit {
    /// A GGUF file on the daemon's machine...
    pub model_path: Option<PathBuf>,
    /// ...or the model's hyperparameters.
    pub hyperparameters: Option<HyperparametersJson>,
    /// Names the tasks (default: the file's stem, or `model`).
    pub name: Option<String>,
    /// Prefill of this many tokens, or with `decode` the cache length (128).
    pub seq: Option<usize>,
    pub decode: Option<bool>,
    /// Over all tasks (256).
    pub trials: Option<usize>,
    /// Trials per round (8).
    pub round: Option<usize>,
    /// `gradient` (the default) or `equal`.
    pub scheduler: Option<String>,
    /// Each task's search (`evolutionary`, as `colt tune-model`).
    pub strategy: Option<String>,
    pub seed: Option<u64>,
}

/// A transformer's hyperparameters as a client sends them: the keys of
/// colt-llm's `Hyperparameters`, with llama.cpp's defaults where a GGUF
/// may leave a key out (key/value heads = heads, key length = embedding /
/// heads, value length = key length, no experts, expert width = the
/// feed-forward length, RMS epsilon 1e-5).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperparametersJson {
    pub architecture: String,
    pub embedding: u64,
    pub blocks: u64,
    pub feed_forward: u64,
    pub heads: u64,
    pub kv_heads: Option<u64>,
    pub key_length: Option<u64>,
    pub value_length: Option<u64>,
    pub vocabulary: u64,
    #[serde(default)]
    pub experts: u64,
    #[serde(default)]
    pub experts_used: u64,
    pub expert_feed_forward: Option<u64>,
    pub rms_epsilon: Option<f64>,
    pub sliding_window: Option<u64>,
}

impl HyperparametersJson {
    fn complete(self) -> Result<colt_llm::Hyperparameters, String> {
        if self.heads == 0 {
            return Err("hyperparameters: the head count is 0".into());
        }
        let key_length = self.key_length.unwrap_or(self.embedding / self.heads);
        Ok(colt_llm::Hyperparameters {
            architecture: self.architecture,
            embedding: self.embedding,
            blocks: self.blocks,
            feed_forward: self.feed_forward,
            heads: self.heads,
            kv_heads: self.kv_heads.unwrap_or(self.heads),
            key_length,
            value_length: self.value_length.unwrap_or(key_length),
            vocabulary: self.vocabulary,
            experts: self.experts,
            experts_used: self.experts_used,
            expert_feed_forward: self.expert_feed_forward.unwrap_or(self.feed_forward),
            rms_epsilon: self.rms_epsilon.unwrap_or(1e-5),
            sliding_window: self.sliding_window,
        })
    }
}

/// The file `given` names in `models_dir`: a name relative to it, or an
/// absolute path that starts with it, with no `..`. A client names only
/// GGUF files the daemon was given, never any file the daemon can read;
/// links the daemon's owner put in the folder are followed (models are
/// often linked in from a shared store). A missing file and a path outside
/// the folder get the same answer, so the API tells no one which paths
/// exist.
fn model_file_in(models_dir: &Path, given: &Path) -> Result<PathBuf, String> {
    let refused = || {
        format!(
            "model_path `{}` is not a file in the daemon's models folder `{}` \
             (model jobs read GGUF files from there only: see `colt serve --models-dir`)",
            given.display(),
            models_dir.display()
        )
    };
    let dir = models_dir.canonicalize().map_err(|e| {
        format!(
            "the daemon's models folder `{}` cannot be read ({e}): see `colt serve --models-dir`",
            models_dir.display()
        )
    })?;
    let relative = match given.is_absolute() {
        true => given.strip_prefix(&dir).or_else(|_| given.strip_prefix(models_dir)).map_err(|_| refused())?,
        false => given,
    };
    if relative.as_os_str().is_empty() || !relative.components().all(|c| matches!(c, std::path::Component::Normal(_))) {
        return Err(refused());
    }
    let file = dir.join(relative);
    match file.is_file() {
        true => Ok(file),
        false => Err(refused()),
    }
}

/// What a model job's row keeps of it (`spec_json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ModelSpec {
    pub phase: String,
    pub tasks: Vec<SpecTask>,
    pub trials: usize,
    pub round: usize,
    pub scheduler: String,
    pub strategy: String,
    pub seed: u64,
    pub target: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SpecTask {
    pub name: String,
    pub count: u64,
    pub workload_text: String,
}

impl ModelSubmit {
    /// The model job to queue, if the request is one this daemon can run;
    /// a `model_path` names a file in `models_dir`.
    pub(crate) fn into_model_job(self, colt: &Colt, models_dir: &Path) -> Result<NewModelJob, SubmitError> {
        let invalid = SubmitError::Invalid;
        let (hyperparameters, default_name) = match (self.model_path, self.hyperparameters) {
            (Some(given), None) => {
                let path = model_file_in(models_dir, &given).map_err(invalid)?;
                let h = colt_llm::Hyperparameters::read(&path).map_err(|e| invalid(format!("model_path: {e}")))?;
                // The stem as a task name: lower case, other characters `-`.
                let stem = path.file_stem().map_or("model".into(), |s| s.to_string_lossy().to_lowercase());
                let slug: String = stem
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
                    .take(64)
                    .collect();
                (h, if slug.is_empty() { "model".into() } else { slug })
            }
            (None, Some(json)) => (json.complete().map_err(invalid)?, "model".to_string()),
            _ => return Err(invalid("give exactly one of `model_path` (a GGUF file) and `hyperparameters`".into())),
        };
        let name = self.name.unwrap_or(default_name);
        let shape = crate::tune_model::model_shape(&name, &hyperparameters).map_err(invalid)?;
        let seq = self.seq.unwrap_or(128);
        if !(1..=MAX_SEQUENCE).contains(&seq) {
            return Err(invalid(format!("seq must be in 1..={MAX_SEQUENCE}, not {seq}")));
        }
        let phase =
            if self.decode.unwrap_or(false) { Phase::Decode { context: seq } } else { Phase::Prefill { tokens: seq } };
        let tasks = model_tasks(&shape, phase).map_err(|e| invalid(e.to_string()))?;
        let what = "a model job's trial budget (over all its tasks)";
        let trials = colt_search::check_count("trials", self.trials.unwrap_or(256), 1, MAX_TRIALS, what)
            .map_err(|e| invalid(e.to_string()))?;
        let round = self.round.unwrap_or(8);
        if round == 0 || trials.div_ceil(round) > MAX_ROUNDS {
            return Err(invalid(format!(
                "round {round}: a model job has 1 to {MAX_ROUNDS} rounds (trials / round), and a round at least 1 trial"
            )));
        }
        let scheduler: Allocation = self
            .scheduler
            .as_deref()
            .unwrap_or("gradient")
            .parse()
            .map_err(|e: String| invalid(format!("scheduler: {e}")))?;
        let strategy = submitted_strategy(self.strategy.as_deref(), colt)?;
        let spec = ModelSpec {
            phase: match phase {
                Phase::Prefill { tokens } => format!("prefill{tokens}"),
                Phase::Decode { context } => format!("decode{context}"),
            },
            tasks: tasks
                .iter()
                .map(|t| SpecTask {
                    name: t.name.clone(),
                    count: t.count,
                    workload_text: colt_ir::print_program(&t.program),
                })
                .collect(),
            trials,
            round,
            scheduler: scheduler.to_string(),
            strategy: strategy.to_string(),
            seed: self.seed.unwrap_or(0),
            target: colt_measure::Target::Cpu.label(),
        };
        let spec_json = serde_json::to_string(&spec).map_err(|e| invalid(format!("cannot store the job: {e}")))?;
        Ok(NewModelJob { model: name, spec_json })
    }
}

/// A model job as the API shows it: its state, and every task's standing.
#[derive(Clone, Debug, Serialize)]
pub struct ModelJobView {
    pub id: ModelJobId,
    pub model: String,
    pub phase: String,
    pub state: String,
    pub error: Option<String>,
    pub scheduler: String,
    pub strategy: String,
    pub trial_budget: usize,
    /// Trials measured over all tasks.
    pub trials: usize,
    pub rounds: usize,
    pub tasks: Vec<ModelTaskView>,
    /// Σ count × naive latency, and Σ count × best (naive where a task has
    /// no kernel yet), once every task has been measured.
    pub naive_pass_ms: Option<f64>,
    pub tuned_pass_ms: Option<f64>,
    pub speedup: Option<f64>,
    pub created_unix: f64,
    pub updated_unix: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelTaskView {
    pub task: String,
    pub count: u64,
    /// Its ordinary job (`GET /v1/jobs/{job}`, `/kernel`).
    pub job: Option<colt_db::JobId>,
    pub trials: usize,
    pub naive_ms: Option<f64>,
    pub best_ms: Option<f64>,
    pub speedup: Option<f64>,
    /// Of the tuned pass, where every task has a latency.
    pub share: Option<f64>,
}

impl ModelJobView {
    /// `live`: the running model job's progress, fresher than its row's.
    pub(crate) fn of(row: &ModelJobRow, live: Option<&ModelProgress>, running: bool) -> ModelJobView {
        let spec: Option<ModelSpec> = serde_json::from_str(&row.job.spec_json).ok();
        let stored: Option<ModelProgress> = row.progress_json.as_deref().and_then(|p| serde_json::from_str(p).ok());
        let progress = live.cloned().or(stored);
        let tasks: Vec<TaskReport> = match (&progress, &spec) {
            (Some(p), _) if !p.tasks.is_empty() => p.tasks.clone(),
            (_, Some(s)) => s.tasks.iter().map(|t| TaskReport::unmeasured(&t.name, t.count)).collect(),
            _ => Vec::new(),
        };
        let weighted = |t: &TaskReport, ms: Option<f64>| ms.map(|ms| ms * t.count as f64);
        let naive_pass: Option<f64> = tasks.iter().map(|t| weighted(t, t.naive_ms)).sum();
        let tuned_pass: Option<f64> = tasks.iter().map(|t| weighted(t, t.best_ms.or(t.naive_ms))).sum();
        let state = match (row.state, running) {
            (JobState::Running, false) => "queued".to_string(), // interrupted or yielding, waiting to resume
            (s, _) => s.to_string(),
        };
        ModelJobView {
            id: row.id,
            model: row.job.model.clone(),
            phase: spec.as_ref().map_or_else(String::new, |s| s.phase.clone()),
            state,
            error: row.error.clone(),
            scheduler: spec.as_ref().map_or_else(String::new, |s| s.scheduler.clone()),
            strategy: spec.as_ref().map_or_else(String::new, |s| s.strategy.clone()),
            trial_budget: spec.as_ref().map_or(0, |s| s.trials),
            trials: tasks.iter().map(|t| t.trials).sum(),
            rounds: progress.as_ref().map_or(0, |p| p.rounds.len()),
            tasks: tasks
                .iter()
                .map(|t| ModelTaskView {
                    task: t.name.clone(),
                    count: t.count,
                    job: t.job,
                    trials: t.trials,
                    naive_ms: t.naive_ms,
                    best_ms: t.best_ms,
                    speedup: t.naive_ms.zip(t.best_ms).map(|(n, b)| n / b),
                    share: tuned_pass.zip(weighted(t, t.best_ms.or(t.naive_ms))).map(|(pass, l)| l / pass),
                })
                .collect(),
            naive_pass_ms: naive_pass,
            tuned_pass_ms: tuned_pass,
            speedup: naive_pass.zip(tuned_pass).map(|(n, t)| n / t),
            created_unix: row.created_unix,
            updated_unix: row.updated_unix,
        }
    }
}
