//! What the daemon answers, as typed views that serialise to the API's
//! JSON.

use colt_db::{BestKernel, JobId, JobRow, JobState};
use colt_measure::limits::MachineLimits;
use colt_search::{Event, ModelEntry, Progress};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A worker of the database (a `colt serve`, here or on another host).
#[derive(Clone, Debug, Serialize)]
pub struct WorkerView {
    /// As a job's `owner` names it.
    pub worker: String,
    pub host: String,
    pub pid: u32,
    pub listen: String,
    /// The target labels it runs jobs of.
    pub labels: Vec<String>,
    pub started_unix: f64,
    pub heartbeat_unix: f64,
    /// The jobs it holds, with their leases.
    pub jobs: Vec<HeldJob>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HeldJob {
    pub id: JobId,
    pub state: String,
    pub lease_until_unix: Option<f64>,
}

impl WorkerView {
    pub(crate) fn of(w: &colt_db::WorkerRow, unfinished: &[JobRow]) -> WorkerView {
        let jobs = unfinished
            .iter()
            .filter(|j| j.owner.as_ref() == Some(&w.worker))
            .map(|j| HeldJob { id: j.id, state: j.state.to_string(), lease_until_unix: j.lease_until_unix })
            .collect();
        WorkerView {
            worker: w.worker.to_string(),
            host: w.worker.host.clone(),
            pid: w.worker.pid,
            listen: w.listen.clone(),
            labels: w.labels.clone(),
            started_unix: w.started_unix,
            heartbeat_unix: w.heartbeat_unix,
            jobs,
        }
    }
}

/// A job: its row, and its live progress while it runs.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    pub id: JobId,
    pub workload: String,
    pub target: String,
    pub strategy: String,
    pub state: String,
    pub trials: usize,
    pub trial_budget: u64,
    pub best_ms: Option<f64>,
    pub naive_ms: Option<f64>,
    pub speedup: Option<f64>,
    pub llm_calls: Option<BTreeMap<String, u64>>,
    pub error: Option<String>,
    pub created_unix: f64,
    pub updated_unix: f64,
    /// The process running it (this daemon, another one, or a `colt tune`).
    pub owner: Option<String>,
    /// How many times a process died while running it.
    pub crashes: u32,
}

impl JobView {
    /// `live`: the running job's progress and baseline, when this is it.
    pub fn of(row: &JobRow, live: Option<(Option<&Progress>, Option<f64>)>) -> JobView {
        let state = match (row.state, live) {
            // Run by another process (a `colt tune` on this database).
            (JobState::Running, None) if row.held_by_other(None) => "running".to_string(),
            (JobState::Running, None) => "queued".to_string(), // interrupted, waiting to resume
            (s, _) => s.to_string(),
        };
        let progress = live.and_then(|(p, _)| p);
        let trials = progress.map_or(row.trials_done as usize, |p| p.trials);
        let best = progress.and_then(|p| p.best_ms).or(row.best_ms);
        // A finished job's baseline is in its row; a running one's may be
        // newer than the row the view was read from.
        let naive = live.and_then(|(_, n)| n).or(row.baseline_ms);
        JobView {
            id: row.id,
            workload: row.job.workload.clone(),
            target: row.job.target.clone(),
            strategy: row.job.strategy.clone(),
            state,
            trials,
            trial_budget: row.job.trials,
            best_ms: best,
            naive_ms: naive,
            speedup: naive.zip(best).map(|(n, b)| n / b),
            llm_calls: progress.map(|p| p.llm_calls.clone()),
            error: row.error.clone(),
            created_unix: row.created_unix,
            updated_unix: row.updated_unix,
            owner: row.owner.as_ref().map(ToString::to_string),
            crashes: row.crashes,
        }
    }
}

/// A job's best verified kernel.
#[derive(Clone, Debug, Serialize)]
pub struct KernelView {
    pub job: JobId,
    pub workload: String,
    pub target: String,
    pub best_ms: Option<f64>,
    pub fingerprint: String,
    pub model: Option<String>,
    pub lineage: LineageView,
    pub decisions: String,
    /// C on the CPU, OpenCL C on an OpenCL device.
    pub source: String,
    pub scratch: Vec<usize>,
    /// The roofline bound of its program on its target, from the limits
    /// the database keeps for that label (`colt machine`); None where
    /// they are not measured.
    pub bound_ms: Option<f64>,
    /// `bound_ms / best_ms`: 1.0 is a kernel at the bound.
    pub share_of_bound: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LineageView {
    /// `uniform` or `informed(lanes=L, registers=R, cores=C)`.
    pub sampler: String,
    pub seed: u64,
    pub edits: Vec<String>,
}

impl KernelView {
    pub fn of(job: JobId, best: &BestKernel, limits: Option<&MachineLimits>) -> KernelView {
        let bound = colt_report::bound_of(limits, best.candidate.program());
        KernelView {
            bound_ms: bound.as_ref().map(|b| b.milliseconds()),
            share_of_bound: colt_report::share_of(bound.as_ref(), best.record.median_ms),
            job,
            workload: best.workload.clone(),
            target: best.record.target.clone(),
            best_ms: best.record.median_ms,
            fingerprint: format!("{:016x}", best.record.fingerprint),
            model: best.record.model.clone(),
            lineage: LineageView {
                sampler: best.lineage.sampler.to_string(),
                seed: best.lineage.seed,
                edits: best.lineage.edits.clone(),
            },
            decisions: best.candidate.render(),
            source: best.source.clone(),
            scratch: best.scratch.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct HealthView {
    /// `ok`, or `degraded` while an actor is down or the database server
    /// does not answer (then named in `down`).
    pub status: &'static str,
    pub down: Vec<String>,
    pub running_job: Option<JobId>,
    /// The model job whose round is running (or that waits between rounds).
    pub running_model_job: Option<colt_db::ModelJobId>,
    pub models: Vec<ModelEntry>,
    /// The database's location, a server's without its password.
    pub database: PathBuf,
    /// `ok`, or `unreachable: why` while the database server does not
    /// answer (probed every `PROBE_EVERY`, each probe within
    /// `PROBE_DEADLINE`).
    pub database_status: String,
    /// The device this daemon tunes for besides the CPU (`cpu` if none).
    pub target: String,
}

/// The end of a job's event stream.
#[derive(Clone, Debug, Serialize)]
pub struct EndView {
    pub job: JobId,
    pub state: String,
    pub error: Option<String>,
}

/// One event of a job's stream: its kind (`state`, `baseline`, `trial`,
/// `progress`, `warning`, `end`) and its JSON.
#[derive(Clone, Debug)]
pub struct JobEvent {
    pub kind: &'static str,
    pub data: serde_json::Value,
}

impl JobEvent {
    pub fn new(kind: &'static str, data: &impl Serialize) -> JobEvent {
        JobEvent { kind, data: serde_json::to_value(data).unwrap_or(serde_json::Value::Null) }
    }

    /// A search event as a stream event (checkpoints are not streamed).
    pub fn of(event: &Event) -> Option<JobEvent> {
        Some(match event {
            Event::Progress(p) => JobEvent::new("progress", p),
            Event::Trial(t) => JobEvent::new("trial", t),
            Event::Baseline(ms) => JobEvent::new("baseline", &serde_json::json!({ "naive_ms": ms })),
            Event::Warning(w) => JobEvent::new("warning", w),
            Event::Checkpoint(_) => return None,
        })
    }
}
