//! The tuning daemon's job queue, without HTTP: jobs are rows of the tuning
//! database, so they survive restarts, and a scheduler thread runs them one
//! at a time (measurements must not overlap on the measured cores),
//! interrupted (`running`) ones first, then queued ones, oldest first.
//! Every measured trial and every round's snapshot is in the database
//! before anything else hears of them, so a daemon killed mid-job resumes
//! it from its last snapshot and its recorded trials, measuring nothing
//! twice. [`Daemon::shutdown`] stops the running job after its current
//! step and leaves it `running`, so that the next start resumes it.
//!
//! `colt serve` puts an HTTP API in front of it: each request is one call
//! here, answered with the typed views of [`views`].

mod metrics;
pub mod model_jobs;
mod submit;
pub mod views;

pub use model_jobs::{ModelJobView, ModelSubmit, MAX_ROUNDS};
pub use submit::{Submit, SubmitError, MAX_TRIALS};

use crate::colt::{Colt, ColtError};
use crate::tune::TuneRequest;
use crate::tune_model::{ModelProgress, ModelRequest, ModelTask};
use colt_db::{JobId, JobRow, JobState, ModelJobId, ModelJobRow};
use colt_search::{Event, JobSettings, Progress, SearchParams, StopReason};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use views::{JobEvent, JobView};

/// Receives one job's events; returns false once it no longer listens.
pub type Listener = Box<dyn Fn(&JobEvent) -> bool + Send>;

/// Why a request about a job cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job {0}")]
    NoSuchJob(JobId),
    #[error("no model job {0}")]
    NoSuchModelJob(ModelJobId),
    #[error("model job {id} is already {state}")]
    ModelFinished { id: ModelJobId, state: JobState },
    #[error("job {id} is already {state}")]
    Finished { id: JobId, state: JobState },
    #[error("job {0} has no verified kernel yet")]
    NoKernel(JobId),
    #[error(transparent)]
    Kernel(#[from] colt_db::KernelError),
    #[error(transparent)]
    Db(#[from] colt_db::DbError),
    #[error(transparent)]
    Actor(#[from] crate::system::ActorGone),
}

pub struct Daemon {
    colt: Colt,
    /// Wakes the scheduler when a job is submitted or the daemon stops.
    wake: Condvar,
    state: Mutex<DaemonState>,
    shutting_down: AtomicBool,
    max_jobs: usize,
    /// Search threads of each job.
    threads: usize,
}

#[derive(Default)]
struct DaemonState {
    running: Option<Running>,
    running_model: Option<RunningModel>,
    /// Jobs cancelled while queued or running.
    cancelled: Vec<JobId>,
    cancelled_models: Vec<ModelJobId>,
    /// Event listeners of jobs that have not started yet: they become the
    /// running job's listeners when it starts.
    waiting: HashMap<JobId, Vec<Listener>>,
    /// Calls and tokens per model of the jobs this process finished.
    calls: BTreeMap<String, u64>,
    tokens: BTreeMap<String, u64>,
}

struct Running {
    job: JobId,
    stop: Arc<AtomicBool>,
    progress: Option<Progress>,
    naive_ms: Option<f64>,
    listeners: Vec<Listener>,
}

struct RunningModel {
    id: ModelJobId,
    stop: Arc<AtomicBool>,
    progress: Option<ModelProgress>,
}

/// A job's options beyond its row's columns, as its row stores them.
#[derive(Default, Serialize, Deserialize)]
struct JobOptions {
    llm_calls: Option<u64>,
    wall_s: Option<f64>,
    params: Option<SearchParams>,
}

impl Daemon {
    /// The daemon on `colt`'s actors, with its scheduler thread running.
    pub fn start(colt: Colt, max_jobs: usize, threads: usize) -> std::io::Result<(Arc<Daemon>, JoinHandle<()>)> {
        let daemon = Arc::new(Daemon {
            colt,
            wake: Condvar::new(),
            state: Mutex::new(DaemonState::default()),
            shutting_down: AtomicBool::new(false),
            max_jobs,
            threads: threads.max(1),
        });
        let scheduler = {
            let daemon = daemon.clone();
            std::thread::Builder::new().name("scheduler".into()).spawn(move || daemon.schedule())?
        };
        Ok((daemon, scheduler))
    }

    pub fn colt(&self) -> &Colt {
        &self.colt
    }

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

    /// The database's live workers (heartbeat within a lease), each with
    /// the jobs it holds and their leases.
    pub fn workers(&self) -> Result<Vec<views::WorkerView>, JobError> {
        let workers = self.db(|db| db.live_workers(colt_db::LEASE))?;
        let unfinished: Vec<JobRow> =
            self.db(|db| db.jobs())?.into_iter().filter(|j| j.state.is_unfinished() && j.owner.is_some()).collect();
        Ok(workers.iter().map(|w| views::WorkerView::of(w, &unfinished)).collect())
    }

    /// Stops the running job after its current step (it stays `running`,
    /// so the next start resumes it) and ends the scheduler.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let state = self.state.lock();
        let stops =
            state.running.as_ref().map(|r| &r.stop).into_iter().chain(state.running_model.as_ref().map(|m| &m.stop));
        for stop in stops {
            stop.store(true, Ordering::SeqCst);
        }
        drop(state);
        self.wake.notify_all();
    }

    /// The job currently running, if any.
    pub fn running_job(&self) -> Option<JobId> {
        self.state.lock().running.as_ref().map(|r| r.job)
    }

    /// Queues a job; its id.
    pub fn submit(&self, request: Submit) -> Result<JobId, SubmitError> {
        let job = request.into_job(&self.colt)?;
        self.check_room()?;
        let id = self.db(move |db| db.create_job(&job))?;
        self.wake.notify_all();
        Ok(id)
    }

    /// Queues a model job; its id.
    pub fn submit_model(&self, request: ModelSubmit) -> Result<ModelJobId, SubmitError> {
        let job = request.into_model_job(&self.colt)?;
        self.check_room()?;
        let id = self.db(move |db| db.create_model_job(&job))?;
        self.wake.notify_all();
        Ok(id)
    }

    /// `--max-jobs` counts jobs and model jobs alike.
    fn check_room(&self) -> Result<(), SubmitError> {
        let unfinished =
            self.db(|db| Ok::<_, colt_db::DbError>(db.unfinished_jobs()? + db.unfinished_model_jobs()?))? as usize;
        if unfinished >= self.max_jobs {
            return Err(SubmitError::TooMany { unfinished, max_jobs: self.max_jobs });
        }
        Ok(())
    }

    /// Every model job, by id.
    pub fn model_jobs(&self) -> Result<Vec<ModelJobView>, JobError> {
        Ok(self.db(|db| db.model_jobs())?.iter().map(|row| self.model_view(row)).collect())
    }

    pub fn model_job(&self, id: ModelJobId) -> Result<ModelJobView, JobError> {
        Ok(self.model_view(&self.model_row(id)?))
    }

    /// Cancels a queued or running model job (a running one stops after
    /// its current step; its tasks' jobs keep what they measured).
    pub fn cancel_model(&self, id: ModelJobId) -> Result<(), JobError> {
        let row = self.model_row(id)?;
        if !row.state.is_unfinished() {
            return Err(JobError::ModelFinished { id, state: row.state });
        }
        let running_now = {
            let mut state = self.state.lock();
            state.cancelled_models.push(id);
            match state.running_model.as_ref().filter(|r| r.id == id) {
                Some(r) => {
                    r.stop.store(true, Ordering::SeqCst);
                    true
                }
                None => false,
            }
        };
        if !running_now {
            self.db(move |db| db.set_model_job_state(id, JobState::Cancelled, None))?;
        }
        Ok(())
    }

    fn model_row(&self, id: ModelJobId) -> Result<ModelJobRow, JobError> {
        self.db(move |db| db.model_job(id))?.ok_or(JobError::NoSuchModelJob(id))
    }

    fn model_view(&self, row: &ModelJobRow) -> ModelJobView {
        let state = self.state.lock();
        let live = state.running_model.as_ref().filter(|r| r.id == row.id);
        ModelJobView::of(row, live.and_then(|r| r.progress.as_ref()), live.is_some())
    }

    /// Every job, by id, as the API shows it.
    pub fn jobs(&self) -> Result<Vec<JobView>, JobError> {
        Ok(self.db(|db| db.jobs())?.iter().map(|row| self.view(row)).collect())
    }

    pub fn job(&self, id: JobId) -> Result<JobView, JobError> {
        Ok(self.view(&self.row(id)?))
    }

    /// Cancels a queued or running job (a running one stops after its
    /// current step).
    pub fn cancel(&self, id: JobId) -> Result<(), JobError> {
        let row = self.row(id)?;
        if !row.state.is_unfinished() {
            return Err(JobError::Finished { id, state: row.state });
        }
        let running_now = {
            let mut state = self.state.lock();
            state.cancelled.push(id);
            match state.running.as_ref().filter(|r| r.job == id) {
                Some(r) => {
                    r.stop.store(true, Ordering::SeqCst);
                    true
                }
                None => false,
            }
        };
        if !running_now {
            self.db(move |db| db.set_job_state(id, JobState::Cancelled, None))?;
            let waiting = self.state.lock().waiting.remove(&id).unwrap_or_default();
            end_stream(waiting, id, "cancelled", None);
        }
        Ok(())
    }

    /// Sends `listener` the job's state now, then every event of the job
    /// until it ends (nothing more for a finished job).
    pub fn subscribe(&self, id: JobId, listener: Listener) -> Result<(), JobError> {
        let row = self.row(id)?;
        listener(&JobEvent::new("state", &self.view(&row)));
        let mut state = self.state.lock();
        match state.running.as_mut().filter(|r| r.job == id) {
            Some(r) => r.listeners.push(listener),
            // Queued (or interrupted, waiting to resume): the stream waits
            // for the job to start.
            None if row.state.is_unfinished() => state.waiting.entry(id).or_default().push(listener),
            // Finished: the stream ends after its state.
            None => {}
        }
        Ok(())
    }

    /// The job's best verified kernel (its fingerprint checked, on the
    /// job's own target).
    pub fn kernel(&self, id: JobId) -> Result<views::KernelView, JobError> {
        self.row(id)?;
        let best = self.db(move |db| db.best_kernel(colt_db::KernelQuery::Job(id)))?;
        let best = best.ok_or(JobError::NoKernel(id))?;
        Ok(views::KernelView::of(id, &best))
    }

    pub fn health(&self) -> views::HealthView {
        let down = self.colt.actors_down();
        views::HealthView {
            status: if down.is_empty() { "ok" } else { "degraded" },
            down,
            running_job: self.running_job(),
            running_model_job: self.state.lock().running_model.as_ref().map(|m| m.id),
            models: self.colt.models(),
            database: self.colt.db_path().to_path_buf(),
            target: self.colt.target().label(),
        }
    }

    /// Runs `f` on the database actor.
    fn db<T: Send + 'static, E: Into<JobError> + Send + 'static>(
        &self,
        f: impl FnOnce(&mut colt_db::TuningDb) -> Result<T, E> + Send + 'static,
    ) -> Result<T, JobError> {
        self.colt.db().call(f)?.map_err(Into::into)
    }

    fn row(&self, id: JobId) -> Result<JobRow, JobError> {
        self.db(move |db| db.job(id))?.ok_or(JobError::NoSuchJob(id))
    }

    /// A job as the API shows it: its row, and live progress when running.
    fn view(&self, row: &JobRow) -> JobView {
        let state = self.state.lock();
        let live = state.running.as_ref().filter(|r| r.job == row.id);
        JobView::of(row, live.map(|r| (r.progress.as_ref(), r.naive_ms)))
    }

    fn schedule(self: Arc<Self>) {
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
    fn served_targets(&self) -> Vec<String> {
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
        let final_state = match &result {
            Ok(_) if cancelled => Some(JobState::Cancelled),
            // Stopped by the daemon's shutdown: left `running`, so that the
            // next start resumes it.
            Ok(r) if r.outcome.reason == StopReason::Stopped => Some(JobState::Running),
            Ok(_) => None,
            // Another process claimed it between the pick and the claim: it
            // is that process's to finish.
            Err(ColtError::JobHeld { .. }) => None,
            // `tune` marks a job whose search failed; this covers the
            // failures before it (so the job is not picked again forever).
            Err(_) => Some(JobState::Failed),
        };
        let error = result.as_ref().err().map(|e| e.to_string());
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
        let (final_state, error) = match &result {
            Ok(_) if cancelled => (JobState::Cancelled, None),
            Ok(o) if o.complete => (JobState::Done, None),
            // Yielded, or stopped by the daemon's shutdown: resumed later.
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
            workload: row.job.workload.clone(),
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

/// The last event of a job's stream; dropping the listeners then ends it.
fn end_stream(listeners: Vec<Listener>, job: JobId, state: &str, error: Option<String>) {
    let end = JobEvent::new("end", &views::EndView { job, state: state.to_string(), error });
    for l in listeners {
        l(&end);
    }
}
