//! A colt process's actors and the job actor that runs one tuning job on
//! them: [`Colt`] starts the system (a model actor per model, the CPU
//! measurement actor, the database actor); [`Colt::tune`] creates or
//! resumes the job's database row, starts a [`JobActor`] that runs the
//! search on a coordinator thread (which starts the search threads), relays
//! its events (checkpoints and the naive baseline go to the database), and
//! returns the outcome.

use crate::db::{JobId, JobState, NewJob, TrialRecord, TuningDb};
use crate::db_actor::{Db, DbActor};
use crate::llm::{Generate, LlmActor, LlmStartError};
use crate::measure::{CpuMeasureActor, MeasureCpu, MeasureOpenCl, OpenClMeasureActor};
use crate::node::Lineage;
use crate::search::{run_search, Event, JobSettings, JobSpec, ModelEntry, Outcome, Resume, Services, StopReason};
use crate::system::{ask, ActorGone, ActorSystem};
use actix::{Actor, Addr, Context, Handler, Message, SyncArbiter};
use colt_ir::Program;
use colt_llm::{PauseGate, SessionOptions};
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClError, OpenClKernel, OpenClMeasurer};
use colt_measure::{Builder, CpuConfig, KernelSource, MeasureError, Measurement, WorkerCommand};
use colt_policy::{Proposal, ProposalFailure};
use crossbeam_channel::{unbounded, Sender};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What a colt process runs on.
pub struct ColtConfig {
    /// The tuning database file.
    pub db: PathBuf,
    /// GGUF files to load (none for strategies without models).
    pub models: Vec<PathBuf>,
    /// llama.cpp threads of each model's session.
    pub llm_threads: u32,
    pub cpu: CpuConfig,
    /// How to start the isolated measurement worker.
    pub worker: WorkerCommand,
    pub builder: Arc<Builder>,
    /// The OpenCL device to tune for, if any: jobs whose target is
    /// `opencl:...` are measured on it (with the CPU config's run plan).
    pub opencl: Option<DeviceChoice>,
}

#[derive(Debug, thiserror::Error)]
pub enum ColtError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Model(#[from] LlmStartError),
    #[error(transparent)]
    Actor(#[from] ActorGone),
    #[error("cannot start the actor system: {0}")]
    System(std::io::Error),
    #[error("two models are named `{0}`: model names must differ (they route the search)")]
    DuplicateModel(String),
    #[error("job {job} of the tuning database `{db}` is for workload `{found}`, not `{asked}`")]
    ResumeMismatch { job: JobId, db: String, found: String, asked: String },
    #[error("the tuning database `{db}` has no job {job}")]
    NoSuchJob { job: JobId, db: String },
    #[error("{0}")]
    Search(String),
    #[error(transparent)]
    OpenCl(#[from] OpenClError),
    #[error("job {job} of the tuning database `{db}` was tuned for target `{found}`, not `{asked}`")]
    TargetMismatch { job: JobId, db: String, found: String, asked: String },
    #[error("target `{target}` needs an OpenCL device, and this colt process opened none")]
    NoOpenClDevice { target: String },
}

/// The running actor system of a colt process.
pub struct Colt {
    models: Vec<(ModelEntry, Addr<LlmActor>)>,
    cpu: Addr<CpuMeasureActor>,
    opencl: Option<(String, Addr<OpenClMeasureActor>)>,
    db: Db,
    db_path: PathBuf,
    // Dropped last: stops every actor.
    system: ActorSystem,
}

impl Colt {
    pub fn start(config: ColtConfig) -> Result<Colt, ColtError> {
        let system = ActorSystem::start().map_err(ColtError::System)?;
        let pause = PauseGate::new();
        let tuning_db = TuningDb::open(&config.db)?;
        let db_addr = system.run(move || {
            let db = Mutex::new(Some(tuning_db));
            // One thread: SQLite connections are used from one thread. The
            // factory runs once: a sync actor is made again only after it
            // stops itself, and DbActor never does (a panic ends its thread).
            SyncArbiter::start(1, move || DbActor::new(db.lock().take().expect("the database actor starts once")))
        })?;
        let opencl = match &config.opencl {
            None => None,
            Some(choice) => {
                let device = OpenClDevice::open(choice)?;
                let label = format!("opencl:{} / {}", device.platform_name, device.name);
                let plan = config.cpu.plan.clone();
                let measurer = OpenClMeasurer::new(device, OpenClConfig { plan, seed: config.cpu.seed });
                let gate = pause.clone();
                let cell = Mutex::new(Some(measurer));
                // One thread: the measurer owns the device's queue. The
                // factory runs once: a sync actor is made again only after it
                // stops itself, and OpenClMeasureActor never does (a panic
                // ends its thread), so the cell is still full when it runs.
                let addr = system.run(move || {
                    SyncArbiter::start(1, move || {
                        OpenClMeasureActor::new(cell.lock().take().expect("the OpenCL actor starts once"), gate.clone())
                    })
                })?;
                Some((label, addr))
            }
        };
        let (builder, worker, cpu_config, gate) = (config.builder, config.worker, config.cpu, pause.clone());
        let cpu = system.run(move || {
            SyncArbiter::start(1, move || {
                CpuMeasureActor::new(builder.clone(), worker.clone(), cpu_config.clone(), gate.clone())
            })
        })?;
        let mut models = Vec::new();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slots = crate::llm::DecodeSlots::new(cores / config.llm_threads.max(1) as usize);
        for path in &config.models {
            let options = SessionOptions::default().threads(config.llm_threads.max(1)).pause_gate(pause.clone());
            let actor = LlmActor::load(path, options, slots.clone())?;
            let entry = ModelEntry { name: actor.info().name.clone(), parameters: actor.info().parameters };
            if models.iter().any(|(m, _): &(ModelEntry, _)| m.name == entry.name) {
                return Err(ColtError::DuplicateModel(entry.name));
            }
            let addr = system.run(move || actor.start())?;
            models.push((entry, addr));
        }
        Ok(Colt { models, cpu, opencl, db: Db::new(db_addr), db_path: config.db, system })
    }

    /// The label of the target this process tunes for: its OpenCL device's
    /// (`opencl:PLATFORM / DEVICE`) if it opened one, else `cpu`. Jobs,
    /// trials and "best known" lookups are per label, so kernels of two
    /// devices never mix.
    pub fn target_label(&self) -> String {
        self.opencl.as_ref().map_or("cpu", |(label, _)| label.as_str()).to_string()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn models(&self) -> Vec<ModelEntry> {
        self.models.iter().map(|(m, _)| m.clone()).collect()
    }

    /// Runs one tuning job to its end (or until `stop` is set) and returns
    /// its outcome; `events` receives its progress. `on_job` learns the
    /// job's id once its database row exists, before anything is measured
    /// (to write down how to resume it); its error aborts the job.
    pub fn tune(
        &self,
        request: TuneRequest,
        events: Sender<Event>,
        stop: Arc<AtomicBool>,
        on_job: impl FnOnce(JobId) -> Result<(), String>,
    ) -> Result<TuneResult, ColtError> {
        let workload_text = colt_ir::print_program(&request.program);
        let workload_fingerprint = crate::search::workload_fingerprint(&request.program);
        let target = request.target.clone();
        let opencl = match colt_ir::schedule::Target::of_label(&target) {
            colt_ir::schedule::Target::Cpu => None,
            colt_ir::schedule::Target::OpenCl => Some(
                self.opencl
                    .as_ref()
                    .map(|(_, a)| a.clone())
                    .ok_or(ColtError::NoOpenClDevice { target: target.clone() })?,
            ),
        };
        let (job, resume, naive_ms) = match request.resume {
            Some(job) => {
                let row = self.db.call(move |db| db.job(job))??;
                let row = row.ok_or_else(|| ColtError::NoSuchJob { job, db: self.db_path.display().to_string() })?;
                if row.job.workload_fingerprint != workload_fingerprint {
                    return Err(ColtError::ResumeMismatch {
                        job,
                        db: self.db_path.display().to_string(),
                        found: row.job.workload.clone(),
                        asked: request.workload.clone(),
                    });
                }
                if row.job.target != target {
                    return Err(ColtError::TargetMismatch {
                        job,
                        db: self.db_path.display().to_string(),
                        found: row.job.target.clone(),
                        asked: target.clone(),
                    });
                }
                let trials = self.db.call(move |db| db.job_trials(job))??;
                let snapshot = self.db.call(move |db| db.snapshot(job))??;
                let naive = self.db.call(move |db| db.baseline(job))??;
                (job, Some(Resume { trials, snapshot }), naive)
            }
            None => {
                let new = NewJob {
                    workload: request.workload.clone(),
                    workload_text,
                    workload_fingerprint: workload_fingerprint.clone(),
                    target: target.clone(),
                    strategy: request.settings.strategy.to_string(),
                    trials: request.settings.trials as u64,
                    seed: request.settings.seed,
                    options_json: serde_json::json!({
                        "threads": request.settings.threads,
                        "llm_calls": request.settings.llm_calls,
                        "wall_s": request.settings.wall.map(|w| w.as_secs_f64()),
                        "params": request.settings.params,
                        "models": self.models(),
                    })
                    .to_string(),
                };
                let job = self.db.call(move |db| db.create_job(&new))??;
                (job, None, None)
            }
        };
        let known = if request.start_from_known && resume.is_none() {
            let (fp, target) = (workload_fingerprint.clone(), target.clone());
            let best = self.db.call(move |db| db.best_trials(&fp, &target, 8))??;
            best.into_iter()
                .filter(|t| t.job != job)
                .filter_map(|t| t.median_ms.map(|ms| (Lineage { seed: t.seed, edits: t.edits }, ms)))
                .collect()
        } else {
            Vec::new()
        };
        on_job(job).map_err(ColtError::Search)?;
        self.db.call(move |db| db.set_job_state(job, JobState::Running, None))??;
        let spec = JobSpec {
            job,
            workload: request.workload.clone(),
            workload_fingerprint,
            target,
            program: request.program.clone(),
            models: self.models(),
            settings: request.settings.clone(),
            naive_ms: naive_ms.or(request.naive_ms),
            known,
            resume,
        };
        let services = ActorServices {
            models: self.models.iter().map(|(m, a)| (m.name.clone(), a.clone())).collect(),
            cpu: self.cpu.clone(),
            opencl,
            db: self.db.clone(),
            program: request.program.clone(),
            answer_tokens: request.settings.params.answer_tokens,
        };
        let actor = JobActor { spec: Arc::new(spec), services: Arc::new(services), stop, events, db: self.db.clone() };
        let addr = self.system.run(move || actor.start())?;
        let outcome = ask(&addr, "job", |reply| RunJob { reply })?;
        let (state, error) = match &outcome {
            Ok(o) if o.reason == StopReason::Stopped => (JobState::Stopped, None),
            Ok(_) => (JobState::Done, None),
            Err(e) => (JobState::Failed, Some(e.clone())),
        };
        self.db.call(move |db| db.set_job_state(job, state, error.as_deref()))??;
        let outcome = outcome.map_err(ColtError::Search)?;
        Ok(TuneResult { job, outcome })
    }
}

/// One tuning job to run.
#[derive(Clone)]
pub struct TuneRequest {
    /// The workload as the user named it (a built-in name or a file).
    pub workload: String,
    pub program: Arc<Program>,
    pub target: String,
    pub settings: JobSettings,
    /// Continue this job of the database instead of starting one.
    pub resume: Option<JobId>,
    /// Start from the database's best records of this workload and target.
    pub start_from_known: bool,
    /// The naive kernel's latency when the caller measured it already (a
    /// bench runs many jobs on one workload): not measured again.
    pub naive_ms: Option<f64>,
}

pub struct TuneResult {
    pub job: JobId,
    pub outcome: Outcome,
}

/// The job actor: owns the job and runs its search on a coordinator
/// thread, which starts the search threads; relays the search's events.
pub struct JobActor {
    spec: Arc<JobSpec>,
    services: Arc<ActorServices>,
    stop: Arc<AtomicBool>,
    events: Sender<Event>,
    db: Db,
}

impl Actor for JobActor {
    type Context = Context<Self>;
}

/// Runs the job; the reply comes when it ends.
pub struct RunJob {
    pub reply: Sender<Result<Outcome, String>>,
}

impl Message for RunJob {
    type Result = ();
}

impl Handler<RunJob> for JobActor {
    type Result = ();

    fn handle(&mut self, run: RunJob, _: &mut Context<Self>) {
        let (spec, services, stop, outer, db) =
            (self.spec.clone(), self.services.clone(), self.stop.clone(), self.events.clone(), self.db.clone());
        let job = spec.job;
        let (events, inbox) = unbounded::<Event>();
        // The relay: checkpoints and the baseline go to the database before
        // the caller hears of them.
        let relay = std::thread::Builder::new().name(format!("job {job} events")).spawn(move || {
            for event in inbox {
                match &event {
                    Event::Checkpoint(bytes) => {
                        let bytes = bytes.clone();
                        if let Ok(Err(e)) = db.call(move |db| db.save_snapshot(job, &bytes)) {
                            let _ = outer.send(Event::Warning(format!("checkpoint not saved: {e}")));
                        }
                    }
                    Event::Baseline(ms) => {
                        let ms = *ms;
                        let _ = db.call(move |db| db.set_baseline(job, ms));
                    }
                    _ => {}
                }
                let _ = outer.send(event);
            }
        });
        let coordinator = std::thread::Builder::new().name(format!("job {job}")).spawn(move || {
            let outcome = run_search(&spec, services.as_ref(), &stop, &events).map_err(|e| e.to_string());
            drop(events);
            if let Ok(relay) = relay {
                let _ = relay.join();
            }
            let _ = run.reply.send(outcome);
        });
        if let Err(e) = coordinator {
            // `run` moved into the closure that failed to spawn: the
            // caller's `ask` sees the reply channel close.
            eprintln!("colt: cannot start job {job}'s thread: {e}");
        }
    }
}

/// The search's services, as messages to the actors.
struct ActorServices {
    models: HashMap<String, Addr<LlmActor>>,
    cpu: Addr<CpuMeasureActor>,
    opencl: Option<Addr<OpenClMeasureActor>>,
    db: Db,
    program: Arc<Program>,
    answer_tokens: u32,
}

impl Services for ActorServices {
    fn propose(
        &self,
        model: &str,
        system: &str,
        user: &str,
        grammar: &str,
        seed: u32,
    ) -> Result<Proposal, ProposalFailure> {
        let addr = self.models.get(model).ok_or_else(|| ProposalFailure(format!("no model named `{model}`")))?;
        let call = |reply| Generate {
            system: system.to_string(),
            user: user.to_string(),
            grammar: Some(grammar.to_string()),
            max_tokens: self.answer_tokens,
            seed,
            reply,
        };
        let completion = ask(addr, "model", call)
            .map_err(|e| ProposalFailure(e.to_string()))?
            .map_err(|e| ProposalFailure(format!("model `{model}`: {e}")))?;
        let s = completion.stats;
        Ok(Proposal {
            answer: completion.text,
            tokens: (s.prompt_tokens + s.generated_tokens) as u64,
            seconds: s.prompt_seconds + s.generation_seconds,
        })
    }

    fn measure(&self, kernel: &KernelSource) -> Result<Measurement, MeasureError> {
        let program = self.program.clone();
        let kernel = kernel.clone();
        let kernel_name = kernel.name.clone();
        ask(&self.cpu, "CPU measurement", |reply| MeasureCpu { program, kernel, reply })
            .unwrap_or_else(|e| Err(MeasureError::Worker { kernel: kernel_name, message: e.to_string() }))
    }

    fn measure_opencl(&self, kernel: &OpenClKernel) -> Result<Measurement, MeasureError> {
        let Some(addr) = &self.opencl else {
            let message = format!("`{}`: this job has no OpenCL device", kernel.name);
            return Err(MeasureError::OpenCl(OpenClError::NoPlatform { message }));
        };
        let program = self.program.clone();
        let kernel = kernel.clone();
        let kernel_name = kernel.name.clone();
        ask(addr, "OpenCL measurement", |reply| MeasureOpenCl { program, kernel, reply })
            .unwrap_or_else(|e| Err(MeasureError::Worker { kernel: kernel_name, message: e.to_string() }))
    }

    fn record(&self, trial: &TrialRecord) -> Result<(), String> {
        let trial = trial.clone();
        match self.db.call(move |db| db.record_trial(&trial)) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}
