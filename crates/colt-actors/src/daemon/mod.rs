//! The tuning daemon's job queue, without HTTP: jobs are rows of the tuning
//! database, so they survive restarts, and a scheduler thread runs them one
//! at a time (measurements must not overlap on the measured cores),
//! interrupted (`running`) ones first, then queued ones, oldest first.
//! Every measured trial and every round's snapshot is in the database
//! before anything else hears of them, so a daemon killed mid-job resumes
//! it from its last snapshot and its recorded trials, measuring nothing
//! twice. [`Daemon::shutdown`] stops the running job at once (its search
//! polls the stop flag, a measurement or model call in flight is given
//! up) and queues it again, so that the next start resumes it and no row
//! is left `running` by a daemon that exited.
//!
//! `colt serve` puts an HTTP API in front of it: each request is one call
//! here, answered with the typed views of [`views`].

mod db_watch;
mod metrics;
pub mod model_jobs;
mod submit;
pub mod views;
mod worker;

pub use db_watch::{PROBE_DEADLINE, PROBE_EVERY};
pub use model_jobs::{ModelJobView, ModelSubmit, MAX_ROUNDS};
pub use submit::{Submit, SubmitError, MAX_TRIALS};

use crate::colt::Colt;
use crate::tune_model::ModelProgress;
use colt_db::{JobId, JobRow, JobState, ModelJobId, ModelJobRow};
use colt_measure::limits::MachineLimits;
use colt_search::Progress;
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
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
    #[error(
        "the tuning database `{database}` did not answer within {} s (busy, or its server does not answer: \
         see /v1/health)",
        after.as_secs()
    )]
    NoAnswer { database: String, after: std::time::Duration },
}

/// Longest a request's read of the database (a job's status, the job
/// list, metrics, workers) waits behind the database actor, which may be
/// inside a job's statement to a server that does not answer (up to
/// `colt_db::STATEMENT_DEADLINE`, then redialling): past it the request is
/// answered 503 rather than held. The actor answers in milliseconds
/// otherwise; a stuck server is reported by health within 5 s.
pub const READ_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Daemon {
    colt: Colt,
    /// Wakes the scheduler when a job is submitted or the daemon stops.
    wake: Condvar,
    state: Mutex<DaemonState>,
    shutting_down: AtomicBool,
    max_jobs: usize,
    /// Search threads of each job.
    threads: usize,
    /// The one folder model jobs' `model_path`s may name files in.
    models_dir: PathBuf,
    /// Why the database server does not answer, as last probed (`None`:
    /// it answers, or the database is a file).
    database_trouble: Mutex<Option<String>>,
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

impl Daemon {
    /// The daemon on `colt`'s actors, with its scheduler thread running;
    /// model jobs read GGUF files from the default models folder
    /// (`colt_llm::default_models_dir`).
    pub fn start(colt: Colt, max_jobs: usize, threads: usize) -> std::io::Result<(Arc<Daemon>, JoinHandle<()>)> {
        Daemon::start_with_models_dir(colt, max_jobs, threads, colt_llm::default_models_dir())
    }

    /// [`Daemon::start`], with model jobs' GGUF files in `models_dir`: a
    /// `model_path` naming anything outside it is refused (a client could
    /// otherwise have the daemon open any file it can read).
    pub fn start_with_models_dir(
        colt: Colt,
        max_jobs: usize,
        threads: usize,
        models_dir: PathBuf,
    ) -> std::io::Result<(Arc<Daemon>, JoinHandle<()>)> {
        let daemon = Arc::new(Daemon {
            colt,
            wake: Condvar::new(),
            state: Mutex::new(DaemonState::default()),
            shutting_down: AtomicBool::new(false),
            max_jobs,
            threads: threads.max(1),
            models_dir,
            database_trouble: Mutex::new(None),
        });
        daemon.watch_database()?;
        let scheduler = {
            let daemon = daemon.clone();
            std::thread::Builder::new().name("scheduler".into()).spawn(move || daemon.schedule())?
        };
        Ok((daemon, scheduler))
    }

    pub fn colt(&self) -> &Colt {
        &self.colt
    }

    /// The database's live workers (heartbeat within a lease), each with
    /// the jobs it holds and their leases.
    pub fn workers(&self) -> Result<Vec<views::WorkerView>, JobError> {
        let workers = self.read(|db| db.live_workers(colt_db::LEASE))?;
        let unfinished: Vec<JobRow> =
            self.read(|db| db.jobs())?.into_iter().filter(|j| j.state.is_unfinished() && j.owner.is_some()).collect();
        Ok(workers.iter().map(|w| views::WorkerView::of(w, &unfinished)).collect())
    }

    /// Stops the running job (it is queued again, so the next start
    /// resumes it) and ends the scheduler.
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

    /// After [`shutdown`](Self::shutdown), for a job that did not stop in
    /// time (its process is about to exit under it): its row is queued
    /// again and its claim released, so that no row is left `running` and
    /// the next start resumes it from its trials and last snapshot.
    pub fn requeue_running(&self) {
        let (job, model) = {
            let state = self.state.lock();
            (state.running.as_ref().map(|r| r.job), state.running_model.as_ref().map(|m| m.id))
        };
        let me = self.colt.owner().clone();
        if let Some(id) = job {
            let _ = self.colt.db().call(move |db| {
                db.set_job_state(id, JobState::Queued, None)?;
                db.release_job(id, &me)
            });
        }
        if let Some(id) = model {
            let _ = self.colt.db().call(move |db| {
                db.set_model_job_state(id, JobState::Queued, None)?;
                db.release_model_job(id)
            });
        }
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
        let job = request.into_model_job(&self.colt, &self.models_dir)?;
        self.check_room()?;
        let id = self.db(move |db| db.create_model_job(&job))?;
        self.wake.notify_all();
        Ok(id)
    }

    /// `--max-jobs` counts jobs and model jobs alike.
    fn check_room(&self) -> Result<(), SubmitError> {
        let unfinished =
            self.read(|db| Ok::<_, colt_db::DbError>(db.unfinished_jobs()? + db.unfinished_model_jobs()?))? as usize;
        if unfinished >= self.max_jobs {
            return Err(SubmitError::TooMany { unfinished, max_jobs: self.max_jobs });
        }
        Ok(())
    }

    /// Every model job, by id.
    pub fn model_jobs(&self) -> Result<Vec<ModelJobView>, JobError> {
        Ok(self.read(|db| db.model_jobs())?.iter().map(|row| self.model_view(row)).collect())
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
        self.read(move |db| db.model_job(id))?.ok_or(JobError::NoSuchModelJob(id))
    }

    fn model_view(&self, row: &ModelJobRow) -> ModelJobView {
        let state = self.state.lock();
        let live = state.running_model.as_ref().filter(|r| r.id == row.id);
        ModelJobView::of(row, live.and_then(|r| r.progress.as_ref()), live.is_some())
    }

    /// Every job, by id, as the API shows it.
    pub fn jobs(&self) -> Result<Vec<JobView>, JobError> {
        Ok(self.read(|db| db.jobs())?.iter().map(|row| self.view(row)).collect())
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
        let best = self.read(move |db| db.best_kernel(colt_db::KernelQuery::Job(id)))?;
        let best = best.ok_or(JobError::NoKernel(id))?;
        let label = best.record.target.clone();
        // Limits that cannot be read leave the bound out, not the kernel.
        let limits = self
            .read(move |db| db.machine_limits(&label))
            .ok()
            .flatten()
            .and_then(|record| serde_json::from_str::<MachineLimits>(&record.limits_json).ok())
            .filter(|limits| limits.label == best.record.target);
        Ok(views::KernelView::of(id, &best, limits.as_ref()))
    }

    pub fn health(&self) -> views::HealthView {
        let mut down = self.colt.actors_down();
        let trouble = self.database_trouble.lock().clone();
        if let Some(why) = &trouble {
            down.push(format!("tuning database unreachable: {why}"));
        }
        views::HealthView {
            status: if down.is_empty() { "ok" } else { "degraded" },
            down,
            running_job: self.running_job(),
            running_model_job: self.state.lock().running_model.as_ref().map(|m| m.id),
            models: self.colt.models(),
            database: self.colt.db_path().to_path_buf(),
            database_status: trouble.map_or("ok".to_string(), |why| format!("unreachable: {why}")),
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

    /// Runs the read `f` on the database actor, waiting at most
    /// [`READ_WAIT`] (the read still runs when the actor gets to it; it
    /// changes nothing).
    fn read<T: Send + 'static, E: Into<JobError> + Send + 'static>(
        &self,
        f: impl FnOnce(&mut colt_db::TuningDb) -> Result<T, E> + Send + 'static,
    ) -> Result<T, JobError> {
        match self.colt.db().call_within(READ_WAIT, f)? {
            Some(answer) => answer.map_err(Into::into),
            None => Err(JobError::NoAnswer { database: self.colt.db_path().display().to_string(), after: READ_WAIT }),
        }
    }

    fn row(&self, id: JobId) -> Result<JobRow, JobError> {
        self.read(move |db| db.job(id))?.ok_or(JobError::NoSuchJob(id))
    }

    /// A job as the API shows it: its row, and live progress when running.
    fn view(&self, row: &JobRow) -> JobView {
        let state = self.state.lock();
        let live = state.running.as_ref().filter(|r| r.job == row.id);
        JobView::of(row, live.map(|r| (r.progress.as_ref(), r.naive_ms)))
    }
}

/// The last event of a job's stream; dropping the listeners then ends it.
fn end_stream(listeners: Vec<Listener>, job: JobId, state: &str, error: Option<String>) {
    let end = JobEvent::new("end", &views::EndView { job, state: state.to_string(), error });
    for l in listeners {
        l(&end);
    }
}
