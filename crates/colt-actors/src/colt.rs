//! A colt process's actors: [`Colt::start`] starts the system — a model
//! actor per model, the measurement actor (CPU, and the OpenCL device when
//! one is opened), the database actor — and [`Colt::tune`] (in `tune.rs`)
//! runs jobs on it.

use crate::db_actor::{Db, DbActor};
use crate::llm::{DecodeSlots, LlmActor, LlmStartError};
use crate::measure::MeasureActor;
use crate::system::{ActorGone, ActorSystem};
use actix::{Addr, SyncArbiter};
use colt_db::{DbError, JobId, TuningDb};
use colt_ir::schedule::Sampler;
use colt_llm::{LoadOptions, PauseGate, SessionOptions};
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClError, OpenClMeasurer};
use colt_measure::{Builder, CpuConfig, Target, WorkerCommand};
use colt_policy::cost::{MeasuredLevel, MeasuredMachine, Roofline};
use colt_policy::specialist::MachineView;
use colt_search::ModelEntry;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// What a colt process runs on.
pub struct ColtConfig {
    /// The tuning database file.
    pub db: PathBuf,
    /// GGUF files to load (none for strategies without models).
    pub models: Vec<PathBuf>,
    /// llama.cpp threads of each model's session.
    pub llm_threads: u32,
    /// Layers of each model offloaded to a GPU (0: CPU only; see
    /// `colt_llm::LoadOptions`).
    pub gpu_layers: u32,
    pub cpu: CpuConfig,
    /// How to start the isolated measurement worker.
    pub worker: WorkerCommand,
    pub builder: Arc<Builder>,
    /// The OpenCL device to tune for, if any: jobs whose target is
    /// `opencl:...` are measured on it (with the CPU config's run plan).
    pub opencl: Option<DeviceChoice>,
}

impl ColtConfig {
    /// The set-up of a `colt` process on this machine: kernels built by the
    /// system C compiler into the default cache, measured in a worker that
    /// is `exe measure-worker`, every model given every core (routing sends
    /// most calls to one model, models take turns decoding, and
    /// measurement pauses them all).
    pub fn for_this_machine(
        db: PathBuf,
        models: Vec<PathBuf>,
        opencl: Option<DeviceChoice>,
        exe: PathBuf,
    ) -> ColtConfig {
        ColtConfig {
            db,
            models,
            llm_threads: std::thread::available_parallelism().map_or(1, |n| n.get()) as u32,
            gpu_layers: 0,
            cpu: CpuConfig::default(),
            worker: WorkerCommand::colt(exe),
            builder: Arc::new(Builder::system()),
            opencl,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ColtError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Model(#[from] LlmStartError),
    #[error(transparent)]
    Actor(#[from] ActorGone),
    #[error("cannot start the actor system: {0}")]
    System(std::io::Error),
    #[error("two models are named `{0}`: model names must differ (they route the search)")]
    DuplicateModel(String),
    #[error(
        "model `{path}` is a colt specialist of another vocabulary (`{found}`) than this colt's (`{expected}`): \
         train it again with `colt train`"
    )]
    SpecialistVocabulary { path: PathBuf, found: String, expected: String },
    #[error(
        "job {job} of the tuning database `{db}` tuned another program (workload `{found}`) than this one \
         (`{asked}`): it resumes only with the program it started with (has the file changed since?)"
    )]
    ResumeMismatch { job: JobId, db: String, found: String, asked: String },
    #[error("the tuning database `{db}` has no job {job}")]
    NoSuchJob { job: JobId, db: String },
    #[error(transparent)]
    Search(#[from] colt_search::SearchError),
    #[error(transparent)]
    OpenCl(#[from] OpenClError),
    #[error("job {job} of the tuning database `{db}` was tuned for target `{found}`, not `{asked}`")]
    TargetMismatch { job: JobId, db: String, found: String, asked: String },
    #[error("target `{target}` needs an OpenCL device, and this colt process opened none")]
    NoOpenClDevice { target: String },
    #[error("target `{target}`: this colt process tunes for `{serves}`")]
    OtherDevice { target: String, serves: String },
    #[error("{0}")]
    OnJob(String),
    #[error("job {job} of the tuning database `{db}` is being run by {owner}: not run twice at once")]
    JobHeld { job: JobId, db: String, owner: String },
    #[error("job {job} of the tuning database `{db}` failed: {reason}")]
    GaveUp { job: JobId, db: String, reason: String },
}

/// The running actor system of a colt process.
pub struct Colt {
    pub(crate) models: Vec<(ModelEntry, Addr<LlmActor>)>,
    pub(crate) measure: Addr<MeasureActor>,
    /// The OpenCL device's target, if one was opened.
    pub(crate) opencl: Option<Target>,
    pub(crate) db: Db,
    /// The database as shown (a server's URL without its password).
    pub(crate) db_path: PathBuf,
    /// The database as given (to dial a server again), shown without its
    /// password.
    pub(crate) db_location: colt_db::DbLocation,
    /// This process, as the owner of the jobs it runs.
    pub(crate) owner: colt_db::Owner,
    /// How CPU jobs draw samples: informed, for the measured cores and
    /// this CPU's vector unit.
    pub(crate) sampler: Sampler,
    /// The names of the models that are colt specialists (prompted in the
    /// schedule language, see colt-policy's `specialist`).
    pub(crate) specialists: std::collections::HashSet<String>,
    // Dropped last: stops every actor.
    pub(crate) system: ActorSystem,
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
        let (opencl, opencl_target) = match &config.opencl {
            None => (None, None),
            Some(choice) => {
                let device = OpenClDevice::open(choice)?;
                let target = device.target();
                let plan = config.cpu.plan.clone();
                // Kernels run in the measurement worker, which opens the
                // same device: a kernel that crashes the driver or never
                // ends fails that candidate, not this process.
                let measurer = OpenClMeasurer::new(device, OpenClConfig { plan, seed: config.cpu.seed }).in_worker(
                    config.worker.clone(),
                    choice.clone(),
                    config.cpu.timeout,
                );
                (Some(measurer), Some(target))
            }
        };
        let sampler = Sampler::Informed(config.cpu.machine());
        let (builder, worker, cpu_config, gate) = (config.builder, config.worker, config.cpu, pause.clone());
        let cell = Mutex::new(Some((opencl, builder, worker, cpu_config)));
        // One thread: the measurer owns the worker and the device's queue.
        // The factory runs once (see the database actor), so the cell is
        // still full when it runs.
        let measure = system.run(move || {
            SyncArbiter::start(1, move || {
                let (opencl, builder, worker, cpu) = cell.lock().take().expect("the measurement actor starts once");
                MeasureActor::new(builder, worker, cpu, opencl, gate.clone())
            })
        })?;
        let mut models = Vec::new();
        let mut specialists = std::collections::HashSet::new();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slots = DecodeSlots::new(cores / config.llm_threads.max(1) as usize);
        for path in &config.models {
            let options = SessionOptions::default()
                .threads(config.llm_threads.max(1))
                .pause_gate(pause.clone())
                .sequences(crate::llm::MAX_ANSWERS);
            let load = LoadOptions::default().gpu_layers(config.gpu_layers);
            let actor = LlmActor::load(path, load, options, slots.clone())?;
            if let Some(found) = &actor.info().specialist_vocabulary {
                let expected = colt_policy::specialist::Vocabulary::new().fingerprint();
                if *found != expected {
                    return Err(ColtError::SpecialistVocabulary { path: path.clone(), found: found.clone(), expected });
                }
                specialists.insert(actor.info().name.clone());
            }
            let entry = ModelEntry { name: actor.info().name.clone(), parameters: actor.info().parameters };
            if models.iter().any(|(m, _): &(ModelEntry, _)| m.name == entry.name) {
                return Err(ColtError::DuplicateModel(entry.name));
            }
            let addr = system.run(move || actix::Actor::start(actor))?;
            models.push((entry, addr));
        }
        let owner = colt_db::Owner::this_process(&command_line_name());
        let db = Db::new(db_addr);
        // Messages show the database as its DbLocation does: a server URL without its password.
        let db_location = colt_db::DbLocation::new(&config.db);
        let db_path = PathBuf::from(db_location.to_string());
        Ok(Colt {
            models,
            specialists,
            measure,
            opencl: opencl_target,
            db,
            db_path,
            db_location,
            owner,
            sampler,
            system,
        })
    }

    /// The target this process tunes for: its OpenCL device if it opened
    /// one, else the CPU. Jobs, trials and "best known" lookups are per
    /// target label, so kernels of two devices never mix.
    pub fn target(&self) -> Target {
        self.opencl.clone().unwrap_or(Target::Cpu)
    }

    /// What a specialist's prompt says of the machine `label` names: the
    /// informed sampler's vector unit and cores, and the cache sizes of the
    /// label's limits in the database (none where it has none yet), as
    /// `colt train` builds its examples.
    pub(crate) fn machine_view(&self, label: &str) -> Result<MachineView, ColtError> {
        let machine = match self.sampler {
            Sampler::Informed(m) | Sampler::Styled(m, _) => m,
            Sampler::Uniform => colt_ir::schedule::Machine { lanes: 0, registers: 0, cores: 0 },
        };
        let label = label.to_string();
        let limits = self.db.call(move |db| db.machine_limits(&label))??;
        let caches = limits.map(|r| colt_policy::specialist::cache_bytes(&r.limits_json)).unwrap_or_default();
        Ok(MachineView::of(machine, &caches))
    }

    /// The machine a job's cost-model prior assumes on `target`: the
    /// limits `colt machine` measured for its label on the cores its
    /// kernels are measured on, as the database keeps them; None (the
    /// prior's generic constants) for an OpenCL device, a uniform sampler
    /// and a label not measured yet.
    pub(crate) fn job_roofline(&self, target: &Target) -> Result<Option<Roofline>, ColtError> {
        let (Some(cores), Sampler::Informed(machine) | Sampler::Styled(machine, _)) =
            (self.measured_cores(target), self.sampler)
        else {
            return Ok(None);
        };
        let label = target.label();
        let record = self.db.call(move |db| db.machine_limits(&label))??;
        Ok(record.and_then(|r| roofline_of_limits(&r.limits_json, cores, machine)))
    }

    /// The cores `target`'s kernels are measured on: the CPU's, as its
    /// sampler shapes kernels for them; None for an OpenCL device.
    pub fn measured_cores(&self, target: &Target) -> Option<usize> {
        match (target, self.sampler) {
            (Target::Cpu, Sampler::Informed(machine) | Sampler::Styled(machine, _)) => Some(machine.cores),
            _ => None,
        }
    }

    /// The actors that no longer run (the measurement actor, the
    /// database, a model): a daemon reports itself degraded while any is.
    pub fn actors_down(&self) -> Vec<String> {
        let mut down = Vec::new();
        if !self.measure.connected() {
            down.push("measurement".to_string());
        }
        if !self.db.connected() {
            down.push("tuning database".to_string());
        }
        down.extend(self.models.iter().filter(|(_, a)| !a.connected()).map(|(m, _)| format!("model `{}`", m.name)));
        down
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// This process, as the owner of the jobs it runs.
    pub fn owner(&self) -> &colt_db::Owner {
        &self.owner
    }

    /// The database as messages show it: a server's URL without its password.
    pub fn db_path(&self) -> &std::path::Path {
        &self.db_path
    }

    /// The database's location (its `Display` has no password).
    pub fn db_location(&self) -> &colt_db::DbLocation {
        &self.db_location
    }

    pub fn models(&self) -> Vec<ModelEntry> {
        self.models.iter().map(|(m, _)| m.clone()).collect()
    }
}

/// `colt serve`, `colt tune`: this process as job owners are named.
fn command_line_name() -> String {
    let mut args = std::env::args_os();
    let program = args.next().map(std::path::PathBuf::from);
    let name =
        program.as_deref().and_then(|p| p.file_name()).map_or("colt".into(), |n| n.to_string_lossy().into_owned());
    match args.next() {
        Some(sub) => format!("{name} {}", sub.to_string_lossy()),
        None => name,
    }
}

/// The prior's machine from colt-measure's limits as JSON (a database
/// record's), if they were measured on `cores` cores: limits of another
/// core count are of all those cores together, and the job's parallel
/// split would not be theirs.
fn roofline_of_limits(json: &str, cores: usize, machine: colt_ir::schedule::Machine) -> Option<Roofline> {
    let limits: colt_measure::limits::MachineLimits = serde_json::from_str(json).ok()?;
    if limits.cores != cores {
        return None;
    }
    let memory = limits.levels.iter().find(|l| l.bytes.is_none())?;
    let caches = limits
        .levels
        .iter()
        .filter_map(|l| Some(MeasuredLevel { bytes: l.bytes? as f64, read_bytes_per_s: l.read_bytes_per_s }))
        .collect();
    Roofline::measured(&MeasuredMachine {
        cores,
        lanes: machine.lanes,
        registers: machine.registers,
        peak_flops_per_s: limits.peak_flops_per_s,
        caches,
        memory_read_bytes_per_s: memory.read_bytes_per_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_measure::limits::{MachineLimits, MemoryLevel, OpCosts};

    fn limits(cores: usize) -> MachineLimits {
        let level = |name: &str, bytes: Option<u64>, gb_s: f64| MemoryLevel {
            name: name.into(),
            bytes,
            read_bytes_per_s: gb_s * 1e9,
        };
        MachineLimits {
            label: Target::Cpu.label(),
            cores,
            peak_flops_per_s: 230e9,
            op_cost: OpCosts { add: 1.0, max: 1.0, div: 4.0, exp: 10.0, sqrt: 4.0 },
            levels: vec![
                level("L1d", Some(65536), 800.0),
                level("L2", Some(2097152), 300.0),
                level("L3", Some(33554432), 150.0),
                level("memory", None, 60.0),
            ],
            measured_at: 0,
        }
    }

    const AVX2: colt_ir::schedule::Machine = colt_ir::schedule::Machine { lanes: 8, registers: 16, cores: 2 };

    #[test]
    fn a_jobs_prior_is_its_machines_measured_limits_per_core() {
        let json = serde_json::to_string(&limits(2)).unwrap();
        let r = roofline_of_limits(&json, 2, AVX2).unwrap();
        assert_eq!(r.cores, 2);
        assert_eq!(r.scalar_flops, 230e9 / 16.0);
        assert_eq!(r.bandwidth, [400e9, 150e9, 75e9, 30e9]);
        assert_eq!(r.capacity, [512.0, 32768.0, 1048576.0, 16777216.0]);
    }

    #[test]
    fn limits_of_other_cores_or_unreadable_give_the_generic_prior() {
        let json = serde_json::to_string(&limits(4)).unwrap();
        assert_eq!(roofline_of_limits(&json, 2, AVX2), None);
        assert_eq!(roofline_of_limits("{\"label\": 3}", 2, AVX2), None);
        let mut no_memory = limits(2);
        no_memory.levels.pop();
        assert_eq!(roofline_of_limits(&serde_json::to_string(&no_memory).unwrap(), 2, AVX2), None);
    }
}
