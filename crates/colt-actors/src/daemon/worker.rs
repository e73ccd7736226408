//! The daemon as a worker of its tuning database: the scheduler thread that
//! claims the next job of this host's labels (or a model job) and runs it,
//! one at a time, and the heartbeat that lists it among the database's
//! workers. What the API asks of the daemon is in `mod.rs`.

use super::views::JobEvent;
use super::{end_stream, model_jobs, Daemon, Running, RunningModel};
use crate::colt::ColtError;
use crate::tune::TuneRequest;
use crate::tune_model::{ModelRequest, ModelTask};
use colt_db::{JobRow, JobState, ModelJobRow};
use colt_search::{Event, JobSettings, SearchError, SearchParams, StopReason};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A job's options beyond its row's columns, as its row stores them.
#[derive(Default, Serialize, Deserialize)]
struct JobOptions {
    llm_calls: Option<u64>,
    wall_s: Option<f64>,
    params: Option<SearchParams>,
}

impl Daemon {
    /// Records this daemon as a worker of its database, listening on
    /// `listen`, and renews its heartbeat every [`colt_db::LEASE_RENEWAL`]
    /// until [`shutdown`](Self::shutdown) (which removes it). Workers of a
    /// shared database list each other through it (`GET /v1/workers`).
    pub fn announce(self: &Arc<Self>, listen: String) -> std::io::Result<JoinHandle<()>> {
        let daemon = self.clone();
        std::thread::Builder::new().name("heartbeat".into()).spawn(move || {
            let (me, targets) = (daemon.colt.owner().clone(), daemon.served_targets());
            while !daemon.shutting_down.load(Ordering::SeqCst) {
                let (me, listen, targets) = (me.clone(), listen.clone(), targets.clone());
                let _ = daemon.colt.db().call(move |db| db.worker_heartbeat(&me, &listen, &targets));
                let next = std::time::Instant::now() + colt_db::LEASE_RENEWAL;
                while std::time::Instant::now() < next && !daemon.shutting_down.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            let _ = daemon.colt.db().call(move |db| db.worker_gone(&me));
        })
    }

    pub(super) fn schedule(self: Arc<Self>) {
        while !self.shutting_down.load(Ordering::SeqCst) {
            // Interrupted jobs first, then queued ones; not one a live
            // process (a `colt tune`, another daemon) holds.
            // Picked and claimed in one step: in a database several
            // daemons share, two never both take one job.
            let (targets, me) = (self.served_targets(), self.colt.owner().clone());
            let next = self
                .colt
                .db()
                .call(move |db| db.claim_next_job(&me, &targets, colt_db::LEASE))
                .ok()
                .and_then(|r| r.ok())
                .flatten();
            // Held for this daemon while it runs: in a shared database,
            // two daemons never run one model job at once.
            let next_model = || self.colt.db().call(|db| db.claim_next_model_job()).ok().and_then(|r| r.ok()).flatten();
            match next {
                Some(job) => self.run_job(job),
                None if let Some(model) = next_model() => {
                    let id = model.id;
                    self.run_model_job(model);
                    let _ = self.colt.db().call(move |db| db.release_model_job(id));
                }
                None => {
                    let mut state = self.state.lock();
                    self.wake.wait_for(&mut state, Duration::from_secs(1));
                }
            }
        }
    }

    /// The target labels this daemon runs jobs of: this host's CPU, and its
    /// OpenCL device if it opened one.
    pub(super) fn served_targets(&self) -> Vec<String> {
        let mut targets = vec![colt_measure::Target::Cpu.label()];
        if self.colt.target() != colt_measure::Target::Cpu {
            targets.push(self.colt.target().label());
        }
        targets
    }

    /// Runs a job the scheduler claimed; on every way out it is released
    /// (`tune` releases it on its own way out).
    fn run_job(self: &Arc<Self>, row: JobRow) {
        let id = row.id;
        let release = || {
            let me = self.colt.owner().clone();
            let _ = self.colt.db().call(move |db| db.release_job(id, &me));
        };
        let request = match self.request_of(&row) {
            Ok(r) => r,
            Err(message) => {
                let _ = self.colt.db().call(move |db| db.set_job_state(id, JobState::Failed, Some(&message)));
                release();
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut state = self.state.lock();
            // A shutdown that came before this job was `running` found no
            // stop flag to set (it sets the flag, then takes this lock).
            if self.shutting_down.load(Ordering::SeqCst) {
                stop.store(true, Ordering::SeqCst);
            }
            if state.cancelled.contains(&id) {
                end_stream(state.waiting.remove(&id).unwrap_or_default(), id, "cancelled", None);
                drop(state);
                let _ = self.colt.db().call(move |db| db.set_job_state(id, JobState::Cancelled, None));
                release();
                return;
            }
            let listeners = state.waiting.remove(&id).unwrap_or_default();
            state.running = Some(Running { job: id, stop: stop.clone(), progress: None, naive_ms: None, listeners });
        }
        let (events, inbox) = crossbeam_channel::unbounded();
        let relay = self.relay(inbox);
        let result = self.colt.tune(request, events, stop, |_| Ok(()));
        let _ = relay.join();
        let mut state = self.state.lock();
        let running = state.running.take();
        let cancelled = state.cancelled.contains(&id);
        if let Ok(result) = &result {
            for m in &result.outcome.models {
                *state.calls.entry(m.name.clone()).or_default() += m.calls;
                *state.tokens.entry(m.name.clone()).or_default() += m.tokens;
            }
        }
        drop(state);
        // Told to stop before its baseline: as resumable as a job stopped
        // later (`tune` marked it `stopped`).
        let stopped_early = matches!(&result, Err(ColtError::Search(SearchError::Stopped { .. })));
        let final_state = match &result {
            Ok(_) if cancelled => Some(JobState::Cancelled),
            _ if stopped_early && cancelled => Some(JobState::Cancelled),
            // Stopped by the daemon's shutdown: queued again (no row is
            // left `running` by a daemon that exited), and resumed from its
            // trials and last snapshot at the next start.
            Ok(r) if r.outcome.reason == StopReason::Stopped => Some(JobState::Queued),
            _ if stopped_early => Some(JobState::Queued),
            Ok(_) => None,
            // Another process claimed it between the pick and the claim: it
            // is that process's to finish.
            Err(ColtError::JobHeld { .. }) => None,
            // `tune` marks a job whose search failed; this covers the
            // failures before it (so the job is not picked again forever).
            Err(_) => Some(JobState::Failed),
        };
        let error = result.as_ref().err().filter(|_| !stopped_early).map(|e| e.to_string());
        if let Some(s) = final_state {
            let error = error.clone();
            let _ = self.colt.db().call(move |db| db.set_job_state(id, s, error.as_deref()));
        }
        if let Some(running) = running {
            let state = final_state.map_or(if result.is_ok() { "done" } else { "failed" }, JobState::as_str);
            end_stream(running.listeners, id, state, error);
        }
    }

    /// Runs a model job's rounds until its budget is spent, it is
    /// cancelled, the daemon stops, or an ordinary job is waiting (then it
    /// stays `running` and resumes after that job).
    fn run_model_job(self: &Arc<Self>, row: ModelJobRow) {
        let id = row.id;
        let request = match model_request_of(&row, self.threads) {
            Ok(r) => r,
            Err(message) => {
                let _ = self.colt.db().call(move |db| db.set_model_job_state(id, JobState::Failed, Some(&message)));
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut state = self.state.lock();
            if self.shutting_down.load(Ordering::SeqCst) {
                stop.store(true, Ordering::SeqCst);
            }
            if state.cancelled_models.contains(&id) {
                drop(state);
                let _ = self.colt.db().call(move |db| db.set_model_job_state(id, JobState::Cancelled, None));
                return;
            }
            state.running_model = Some(RunningModel { id, stop: stop.clone(), progress: request.progress.clone() });
        }
        let _ = self.colt.db().call(move |db| db.set_model_job_state(id, JobState::Running, None));
        let daemon = self.clone();
        let result = self.colt.tune_model(request, stop, |progress| {
            if let Some(m) = daemon.state.lock().running_model.as_mut() {
                m.progress = Some(progress.clone());
            }
            if let Ok(json) = serde_json::to_string(progress) {
                let _ = daemon.colt.db().call(move |db| db.set_model_job_progress(id, &json));
            }
            // Between rounds, a waiting single-layer job goes first.
            let targets = daemon.served_targets();
            let waiting =
                daemon.colt.db().call(move |db| db.next_job_to_run(&targets)).ok().and_then(|r| r.ok()).flatten();
            waiting.is_none()
        });
        let cancelled = {
            let mut state = self.state.lock();
            state.running_model = None;
            state.cancelled_models.contains(&id)
        };
        let shutting_down = self.shutting_down.load(Ordering::SeqCst);
        let (final_state, error) = match &result {
            Ok(_) if cancelled => (JobState::Cancelled, None),
            Ok(o) if o.complete => (JobState::Done, None),
            // Stopped by the daemon's shutdown: queued again (no row is left
            // `running` by a daemon that exited), resumed at the next start
            // from its stored progress.
            Ok(_) if shutting_down => (JobState::Queued, None),
            // Yielded to a waiting job: resumed after it.
            Ok(_) => (JobState::Running, None),
            Err(e) => (JobState::Failed, Some(e.to_string())),
        };
        let _ = self.colt.db().call(move |db| db.set_model_job_state(id, final_state, error.as_deref()));
    }

    /// What a job row asks for, as a tune request (resuming the row itself).
    fn request_of(&self, row: &JobRow) -> Result<TuneRequest, String> {
        let program = colt_ir::parse_workload(&row.job.workload_text, &row.job.workload, colt_ir::Size::Bench)
            .map_err(|e| format!("job {}'s workload no longer parses: {e}", row.id))?;
        let options: JobOptions = serde_json::from_str(&row.job.options_json).unwrap_or_default();
        let target = row.job.target.parse().map_err(|e| format!("job {}: {e}", row.id))?;
        let strategy = row.job.strategy.parse().map_err(|e| format!("job {}: {e}", row.id))?;
        // Rows queued before submissions were checked may hold any number.
        let wall = options
            .wall_s
            .map(colt_search::wall_budget)
            .transpose()
            .map_err(|e| format!("job {}'s wall_s: {e}", row.id))?;
        Ok(TuneRequest {
            program: Arc::new(program),
            target,
            settings: JobSettings {
                strategy,
                trials: row.job.trials as usize,
                llm_calls: options.llm_calls,
                wall,
                threads: self.threads,
                seed: row.job.seed,
                params: options.params.unwrap_or_default(),
            },
            resume: Some(row.id),
            start_from_known: false,
            warm_start: true,
            naive_ms: None,
        })
    }

    /// Keeps the running job's progress for status requests and passes its
    /// events on to its listeners.
    fn relay(self: &Arc<Self>, inbox: crossbeam_channel::Receiver<Event>) -> JoinHandle<()> {
        let daemon = self.clone();
        std::thread::spawn(move || {
            for event in inbox {
                let Some(sent) = JobEvent::of(&event) else { continue };
                let mut s = daemon.state.lock();
                if let Some(r) = s.running.as_mut() {
                    match event {
                        Event::Progress(p) => r.progress = Some(p),
                        Event::Baseline(ms) => r.naive_ms = Some(ms),
                        _ => {}
                    }
                    r.listeners.retain(|l| l(&sent));
                }
            }
        })
    }
}

/// What a model job row asks for, resuming from its stored progress.
fn model_request_of(row: &ModelJobRow, threads: usize) -> Result<ModelRequest, String> {
    let spec: model_jobs::ModelSpec = serde_json::from_str(&row.job.spec_json)
        .map_err(|e| format!("model job {}'s stored request does not read: {e}", row.id))?;
    let tasks = spec
        .tasks
        .iter()
        .map(|t| {
            let program = colt_ir::parse_workload(&t.workload_text, &t.name, colt_ir::Size::Bench)
                .map_err(|e| format!("model job {}'s task `{}` no longer parses: {e}", row.id, t.name))?;
            Ok(ModelTask { name: t.name.clone(), program: Arc::new(program), count: t.count })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let progress = match &row.progress_json {
        None => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| format!("model job {}'s stored progress does not read: {e}", row.id))?,
        ),
    };
    let fail = |e: String| format!("model job {}: {e}", row.id);
    Ok(ModelRequest {
        tasks,
        trials: spec.trials,
        round: spec.round,
        allocation: spec.scheduler.parse().map_err(fail)?,
        target: spec.target.parse::<colt_measure::Target>().map_err(|e| fail(e.to_string()))?,
        settings: JobSettings {
            strategy: spec.strategy.parse::<colt_search::StrategyChoice>().map_err(|e| fail(e.to_string()))?,
            trials: 0,
            llm_calls: None,
            wall: None,
            threads,
            seed: spec.seed,
            params: SearchParams::default(),
        },
        progress,
    })
}
