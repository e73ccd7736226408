//! The CPU measurer: build → load → check → time, with every kernel run in
//! the worker process, so that a candidate's crash, hang or garbage becomes
//! a [`MeasureError`] and the next candidate measures on a fresh worker.

use crate::affinity::available_cores;
use crate::buffers::layout;
use crate::build::Builder;
use crate::client::{WorkerClient, WorkerCommand, WorkerFault};
use crate::failure::MeasureError;
use crate::image::KernelImage;
use crate::kernel::KernelSource;
use crate::measurement::{Measurement, Phases};
use crate::protocol::{Request, Response};
use crate::reference::ReferenceCache;
use crate::runner::RunPlan;
use crate::timing::Timing;
use colt_ir::Program;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the CPU measurer runs kernels.
#[derive(Clone, Debug)]
pub struct CpuConfig {
    /// The measured cores: one task per core, task 0 on the first.
    pub cores: Vec<usize>,
    pub plan: RunPlan,
    /// The longest one run of a kernel may take before it counts as hung
    /// (the timing phase is allowed its planned duration on top).
    pub timeout: Duration,
    /// Seed of the input generator.
    pub seed: u64,
}

impl Default for CpuConfig {
    /// Every core this process may use, the default plan, a 10 s limit
    /// (the naive full-size suite kernels run well under it).
    fn default() -> CpuConfig {
        CpuConfig {
            cores: available_cores(),
            plan: RunPlan::default(),
            timeout: Duration::from_secs(10),
            seed: colt_ir::data::DEFAULT_SEED,
        }
    }
}

/// Measures kernels of programs on this machine's CPU, one at a time.
pub struct CpuMeasurer {
    builder: Arc<Builder>,
    client: WorkerClient,
    references: Arc<ReferenceCache>,
    config: CpuConfig,
}

impl CpuMeasurer {
    /// Builds with `builder` (shareable with threads that build ahead) and
    /// runs kernels in workers started by `worker`.
    pub fn new(builder: Arc<Builder>, worker: WorkerCommand, config: CpuConfig) -> CpuMeasurer {
        CpuMeasurer { builder, client: WorkerClient::new(worker), references: Arc::default(), config }
    }

    /// Shares a reference cache with other measurers.
    pub fn with_references(mut self, references: Arc<ReferenceCache>) -> CpuMeasurer {
        self.references = references;
        self
    }

    pub fn config(&self) -> &CpuConfig {
        &self.config
    }

    pub fn builder(&self) -> &Arc<Builder> {
        &self.builder
    }

    /// How many worker processes have been started (one more after each
    /// crash, hang or wrong result).
    pub fn workers_spawned(&self) -> usize {
        self.client.spawned()
    }

    /// Ends the worker process, if one runs; the next measurement starts a
    /// fresh one.
    pub fn end_worker(&mut self) {
        self.client.kill();
    }

    /// Builds, checks and times `kernel`, a kernel of `program`.
    pub fn measure(&mut self, program: &Program, kernel: &KernelSource) -> Result<Measurement, MeasureError> {
        let artifact = self.builder.build(&kernel.name, &kernel.c)?;
        let elf = artifact.read()?;
        let phases = Phases { build: artifact.seconds, cached: artifact.cached, ..Phases::default() };
        self.measure_image(program, kernel, &elf, phases)
    }

    /// Checks and times an already built image (`elf`) of `kernel`;
    /// `phases` carries the build's share of the cost.
    pub fn measure_image(
        &mut self,
        program: &Program,
        kernel: &KernelSource,
        elf: &[u8],
        mut phases: Phases,
    ) -> Result<Measurement, MeasureError> {
        let name = &kernel.name;
        let start = Instant::now();
        let image = KernelImage::parse(elf).map_err(|source| MeasureError::Image { kernel: name.clone(), source })?;
        phases.load = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let reference = self
            .references
            .get(program, self.config.seed)
            .map_err(|source| MeasureError::Reference { kernel: name.clone(), source })?;
        phases.reference = start.elapsed().as_secs_f64();

        let request = Request::Check {
            image,
            buffers: layout(program, &kernel.scratch),
            seed: self.config.seed,
            cores: self.config.cores.clone(),
            outputs: reference.indices(),
        };
        let start = Instant::now();
        let (outputs, modified_input, run_seconds) = match self.ask(name, &request, self.config.timeout)? {
            Response::Checked { outputs, modified_input, load_seconds, run_seconds } => {
                phases.load += load_seconds;
                (outputs, modified_input, run_seconds)
            }
            other => return Err(self.unexpected(name, other)),
        };
        phases.check_run = start.elapsed().as_secs_f64();

        let start = Instant::now();
        // A kernel that computed garbage may also have scribbled over the
        // worker's memory: the next candidate gets a fresh worker.
        if let Some(index) = modified_input {
            self.client.kill();
            let buffer = program.buffers().get(index).map_or_else(|| format!("#{index}"), |b| b.name.clone());
            return Err(MeasureError::WroteInput { kernel: name.clone(), buffer });
        }
        let max_rel_err = reference.check(&outputs).map_err(|mismatch| {
            self.client.kill();
            MeasureError::WrongResult {
                kernel: name.clone(),
                buffer: mismatch.buffer,
                max_rel_err: mismatch.max_rel_err,
            }
        })?;
        phases.verify = start.elapsed().as_secs_f64();

        let plan = self.config.plan.clone();
        let limit = self.config.timeout + Duration::from_secs_f64(plan.bound_seconds(run_seconds));
        let start = Instant::now();
        let gate = self.builder.gate().clone();
        let samples = {
            let _timing = gate.timing();
            match self.ask(name, &Request::Time { plan }, limit)? {
                Response::Timed { samples_ms } => samples_ms,
                other => return Err(self.unexpected(name, other)),
            }
        };
        phases.timing = start.elapsed().as_secs_f64();
        let timing = Timing::from_samples(&samples)
            .ok_or_else(|| MeasureError::Worker { kernel: name.clone(), message: "the worker timed no runs".into() })?;
        Ok(Measurement { kernel: name.clone(), timing, max_rel_err, phases })
    }

    fn ask(&mut self, kernel: &str, request: &Request, limit: Duration) -> Result<Response, MeasureError> {
        let kernel = kernel.to_string();
        match self.client.request(request, limit) {
            Ok(Response::Failed { message }) => Err(MeasureError::Worker { kernel, message }),
            Ok(response) => Ok(response),
            Err(WorkerFault::Crashed { status, signal, stderr }) => {
                Err(MeasureError::Crashed { kernel, status, signal, stderr })
            }
            // Report the configured limit, the number the user set.
            Err(WorkerFault::TimedOut { .. }) => Err(MeasureError::TimedOut { kernel, limit: self.config.timeout }),
            Err(fault @ WorkerFault::Spawn { .. }) => Err(MeasureError::Worker { kernel, message: fault.to_string() }),
        }
    }

    fn unexpected(&mut self, kernel: &str, response: Response) -> MeasureError {
        self.client.kill();
        MeasureError::Worker {
            kernel: kernel.to_string(),
            message: format!("the worker answered out of turn with {}", response.kind()),
        }
    }
}
