//! The OpenCL measurer: build the program on the device, fill buffers,
//! check one run against the reference, then time runs with profiling
//! events.

use super::{DeviceChoice, OpenClDevice, OpenClError, OpenClKernel};
use crate::buffers::{layout, BufferSpec, Fill};
use crate::client::{WorkerClient, WorkerCommand, WorkerFault};
use crate::failure::MeasureError;
use crate::gate::TimingGate;
use crate::measurement::{Measurement, Phases};
use crate::protocol::{Request, Response};
use crate::reference::Reference;
use crate::reference::ReferenceCache;
use crate::runner::RunPlan;
use crate::timing::Timing;
use colt_ir::Program;
use ocl::enums::ProfilingInfo;
use ocl::{flags, Buffer, Event, Kernel, SpatialDims};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct OpenClConfig {
    pub plan: RunPlan,
    pub seed: u64,
}

impl Default for OpenClConfig {
    fn default() -> OpenClConfig {
        OpenClConfig { plan: RunPlan::default(), seed: colt_ir::data::DEFAULT_SEED }
    }
}

/// Measures OpenCL kernels of programs on one device.
pub struct OpenClMeasurer {
    device: OpenClDevice,
    references: Arc<ReferenceCache>,
    config: OpenClConfig,
    gate: TimingGate,
    /// Where kernels run: this process, or a worker (see [`in_worker`](Self::in_worker)).
    isolation: Option<Isolation>,
}

/// Kernels run in a worker process that opens the same device.
struct Isolation {
    client: Mutex<WorkerClient>,
    choice: DeviceChoice,
    timeout: Duration,
}

/// A kernel built and bound to its buffers, ready to run.
pub(crate) struct Bound {
    buffers: Vec<Buffer<f32>>,
    kernels: Vec<(String, Kernel)>,
}

impl OpenClMeasurer {
    /// Runs kernels in this process: a kernel that crashes the driver
    /// takes the process, and one that never ends is waited on forever.
    pub fn new(device: OpenClDevice, config: OpenClConfig) -> OpenClMeasurer {
        OpenClMeasurer { device, references: Arc::default(), config, gate: TimingGate::new(), isolation: None }
    }

    /// Runs kernels in worker processes started by `command`, which open
    /// the device `choice` names (the one this measurer opened): a kernel
    /// that crashes is a [`MeasureError::Crashed`], one whose check runs
    /// past twice `timeout` (the program's build, then one run) or whose
    /// timing runs past `timeout` beyond its plan is killed and a
    /// [`MeasureError::TimedOut`]; the
    /// next kernel gets a fresh worker either way. What a daemon uses.
    pub fn in_worker(mut self, command: WorkerCommand, choice: DeviceChoice, timeout: Duration) -> OpenClMeasurer {
        self.isolation = Some(Isolation { client: Mutex::new(WorkerClient::new(command)), choice, timeout });
        self
    }

    /// Shares a reference cache with other measurers.
    pub fn with_references(mut self, references: Arc<ReferenceCache>) -> OpenClMeasurer {
        self.references = references;
        self
    }

    /// Times only while no build of `gate` runs (a CPU device shares its
    /// cores with the C compiler).
    pub fn with_gate(mut self, gate: TimingGate) -> OpenClMeasurer {
        self.gate = gate;
        self
    }

    pub fn device(&self) -> &OpenClDevice {
        &self.device
    }

    /// Builds, checks and times `kernel`, an OpenCL kernel of `program`.
    pub fn measure(&self, program: &Program, kernel: &OpenClKernel) -> Result<Measurement, MeasureError> {
        let mut phases = Phases::default();
        let start = Instant::now();
        let reference = self
            .references
            .get(program, self.config.seed)
            .map_err(|source| MeasureError::Reference { kernel: kernel.name.clone(), source })?;
        phases.reference = start.elapsed().as_secs_f64();
        let specs = layout(program, &kernel.scratch);
        let outputs = reference.indices();
        match &self.isolation {
            None => self.measure_here(kernel, &specs, &reference, &outputs, phases),
            Some(isolation) => self.measure_in_worker(isolation, kernel, specs, &reference, outputs, phases),
        }
    }

    fn measure_here(
        &self,
        kernel: &OpenClKernel,
        specs: &[BufferSpec],
        reference: &Reference,
        outputs: &[usize],
        mut phases: Phases,
    ) -> Result<Measurement, MeasureError> {
        let start = Instant::now();
        let bound = self.bind(kernel, specs, self.config.seed)?;
        phases.load = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (outputs, _) = self.check_run(kernel, &bound, outputs)?;
        phases.check_run = start.elapsed().as_secs_f64();
        let max_rel_err = verify(kernel, reference, &outputs, &mut phases)?;
        let start = Instant::now();
        let samples = {
            let _timing = self.gate.timing();
            self.time(kernel, &bound, &self.config.plan)?
        };
        phases.timing = start.elapsed().as_secs_f64();
        finish(kernel, &samples, max_rel_err, phases)
    }

    fn measure_in_worker(
        &self,
        isolation: &Isolation,
        kernel: &OpenClKernel,
        specs: Vec<BufferSpec>,
        reference: &Reference,
        outputs: Vec<usize>,
        mut phases: Phases,
    ) -> Result<Measurement, MeasureError> {
        let mut client = isolation.client.lock().unwrap_or_else(|p| p.into_inner());
        let name = &kernel.name;
        let check = Request::OpenClCheck {
            device: isolation.choice.clone(),
            kernel: kernel.clone(),
            buffers: specs,
            seed: self.config.seed,
            outputs,
        };
        let start = Instant::now();
        // The program build is part of the check: allow it one run's time too.
        let (outputs, run_seconds) = match ask(&mut client, name, &check, isolation.timeout * 2, isolation.timeout)? {
            Response::Checked { outputs, load_seconds, run_seconds, .. } => {
                phases.load = load_seconds;
                (outputs, run_seconds)
            }
            other => return Err(out_of_turn(&mut client, name, &other)),
        };
        phases.check_run = start.elapsed().as_secs_f64() - phases.load;
        let max_rel_err = verify(kernel, reference, &outputs, &mut phases).inspect_err(|_| client.kill())?;
        let plan = self.config.plan.clone();
        let limit = isolation.timeout + Duration::from_secs_f64(plan.bound_seconds(run_seconds));
        let start = Instant::now();
        let samples = {
            let _timing = self.gate.timing();
            match ask(&mut client, name, &Request::Time { plan }, limit, isolation.timeout)? {
                Response::Timed { samples_ms } => samples_ms,
                other => return Err(out_of_turn(&mut client, name, &other)),
            }
        };
        phases.timing = start.elapsed().as_secs_f64();
        finish(kernel, &samples, max_rel_err, phases)
    }

    /// Builds the program, allocates and fills the buffers (inputs from the
    /// generator, the rest NaN) and binds them to every launch's kernel.
    pub(crate) fn bind(&self, kernel: &OpenClKernel, specs: &[BufferSpec], seed: u64) -> Result<Bound, OpenClError> {
        let device = &self.device;
        let cl_program =
            // `-w`: the compiler's warnings would go to the process's
            // stderr on some platforms (pocl); errors still fail the build.
            ocl::Program::builder().src(kernel.source.as_str()).cmplr_opt("-w").devices(device.device).build(&device.context).map_err(
                |e| OpenClError::Build { kernel: kernel.name.clone(), device: device.name.clone(), log: e.to_string() },
            )?;
        let mut buffers = Vec::new();
        for spec in specs {
            let mut host = match &spec.fill {
                Fill::Input { name } => colt_ir::data::fill(name, spec.len, seed),
                Fill::Poison | Fill::PoisonPlainPages => vec![f32::NAN; spec.len],
            };
            // OpenCL has no empty buffers.
            host.resize(spec.len.max(1), f32::NAN);
            let buffer = Buffer::<f32>::builder()
                .queue(device.queue.clone())
                .flags(flags::MEM_READ_WRITE)
                .len(host.len())
                .copy_host_slice(&host)
                .build()
                .map_err(|e| OpenClError::Setup {
                    what: "buffer".into(),
                    device: device.name.clone(),
                    message: e.to_string(),
                })?;
            buffers.push(buffer);
        }
        let mut kernels = Vec::new();
        for launch in &kernel.launches {
            let run_error = |message: String| OpenClError::Run {
                kernel: kernel.name.clone(),
                entry: launch.entry.clone(),
                device: device.name.clone(),
                message,
            };
            let dims = |d: &[usize]| {
                if d.is_empty() || d.len() > 3 {
                    return Err(run_error(format!("a work size has {} dimensions, not 1 to 3", d.len())));
                }
                SpatialDims::new(d.first().copied(), d.get(1).copied(), d.get(2).copied())
                    .map_err(|e| run_error(e.to_string()))
            };
            let mut builder = Kernel::builder();
            builder.program(&cl_program).name(launch.entry.as_str()).queue(device.queue.clone());
            builder.global_work_size(dims(&launch.global)?);
            if let Some(local) = &launch.local {
                builder.local_work_size(dims(local)?);
            }
            for buffer in &buffers {
                builder.arg(buffer);
            }
            let cl_kernel = builder.build().map_err(|e| run_error(e.to_string()))?;
            kernels.push((launch.entry.clone(), cl_kernel));
        }
        Ok(Bound { buffers, kernels })
    }

    /// The check run: one run, then the buffers at `outputs` read back;
    /// the outputs and the run's seconds.
    pub(crate) fn check_run(
        &self,
        kernel: &OpenClKernel,
        bound: &Bound,
        outputs: &[usize],
    ) -> Result<(Vec<Vec<f32>>, f64), OpenClError> {
        let run_seconds = self.run(kernel, bound)?;
        let mut read = Vec::with_capacity(outputs.len());
        for &index in outputs {
            let Some(buffer) = bound.buffers.get(index) else {
                read.push(Vec::new());
                continue;
            };
            let mut host = vec![0.0f32; buffer.len()];
            buffer.read(&mut host).enq().map_err(|e| self.run_error(kernel, "read back", e))?;
            read.push(host);
        }
        Ok((read, run_seconds))
    }

    /// Warm-up runs, then timed runs as `plan` says; milliseconds per run.
    pub(crate) fn time(&self, kernel: &OpenClKernel, bound: &Bound, plan: &RunPlan) -> Result<Vec<f64>, OpenClError> {
        for _ in 0..plan.warmup_runs {
            self.run(kernel, bound)?;
        }
        let (mut samples, mut total) = (Vec::new(), 0.0);
        loop {
            let seconds = self.run(kernel, bound)?;
            total += seconds;
            samples.push(seconds * 1e3);
            if (samples.len() >= plan.min_runs && total >= plan.min_seconds) || total >= plan.max_seconds {
                return Ok(samples);
            }
        }
    }

    /// One run: every launch in order; seconds from the first launch's
    /// start to the last one's end.
    fn run(&self, kernel: &OpenClKernel, bound: &Bound) -> Result<f64, OpenClError> {
        let mut events = Vec::with_capacity(bound.kernels.len());
        for (entry, cl_kernel) in &bound.kernels {
            let mut event = Event::empty();
            // SAFETY: every argument is a buffer of the length the program's
            // layout gives; what the kernel does with it is its own affair
            // and checked against the reference.
            unsafe { cl_kernel.cmd().enew(&mut event).enq() }.map_err(|e| OpenClError::Run {
                kernel: kernel.name.clone(),
                entry: entry.clone(),
                device: self.device.name.clone(),
                message: e.to_string(),
            })?;
            events.push(event);
        }
        let error = |e: ocl::Error| self.run_error(kernel, "profiling", e);
        self.device.queue.finish().map_err(error)?;
        let (Some(first), Some(last)) = (events.first(), events.last()) else { return Ok(0.0) };
        let start = first.profiling_info(ProfilingInfo::Start).and_then(|p| Ok(p.time()?)).map_err(error)?;
        let end = last.profiling_info(ProfilingInfo::End).and_then(|p| Ok(p.time()?)).map_err(error)?;
        Ok(end.saturating_sub(start) as f64 * 1e-9)
    }

    fn run_error(&self, kernel: &OpenClKernel, entry: &str, e: ocl::Error) -> OpenClError {
        OpenClError::Run {
            kernel: kernel.name.clone(),
            entry: entry.to_string(),
            device: self.device.name.clone(),
            message: e.to_string(),
        }
    }
}

/// Compares a check run's outputs with the reference.
fn verify(
    kernel: &OpenClKernel,
    reference: &Reference,
    outputs: &[Vec<f32>],
    phases: &mut Phases,
) -> Result<f32, MeasureError> {
    let start = Instant::now();
    let max_rel_err = reference.check(outputs).map_err(|m| MeasureError::WrongResult {
        kernel: kernel.name.clone(),
        buffer: m.buffer,
        max_rel_err: m.max_rel_err,
    })?;
    phases.verify = start.elapsed().as_secs_f64();
    Ok(max_rel_err)
}

fn finish(
    kernel: &OpenClKernel,
    samples: &[f64],
    max_rel_err: f32,
    phases: Phases,
) -> Result<Measurement, MeasureError> {
    let timing = Timing::from_samples(samples)
        .ok_or_else(|| MeasureError::Worker { kernel: kernel.name.clone(), message: "no timed runs".into() })?;
    Ok(Measurement { kernel: kernel.name.clone(), timing, max_rel_err, phases })
}

/// One request to the worker, its faults as the CPU path reports them;
/// `timeout` is the per-run limit the user set, which a timeout names.
fn ask(
    client: &mut WorkerClient,
    kernel: &str,
    request: &Request,
    limit: Duration,
    timeout: Duration,
) -> Result<Response, MeasureError> {
    let kernel = kernel.to_string();
    match client.request(request, limit) {
        Ok(Response::Failed { message }) => Err(MeasureError::Worker { kernel, message }),
        Ok(Response::OpenClFailed { error }) => {
            // The worker lives on after a typed failure, but its loaded
            // kernel is gone: nothing is asked of it before the next check.
            Err(MeasureError::OpenCl(error))
        }
        Ok(response) => Ok(response),
        Err(WorkerFault::Crashed { status, signal, stderr }) => {
            Err(MeasureError::Crashed { kernel, status, signal, stderr })
        }
        Err(WorkerFault::TimedOut { .. }) => Err(MeasureError::TimedOut { kernel, limit: timeout }),
        Err(fault @ WorkerFault::Spawn { .. }) => Err(MeasureError::Worker { kernel, message: fault.to_string() }),
    }
}

fn out_of_turn(client: &mut WorkerClient, kernel: &str, response: &Response) -> MeasureError {
    client.kill();
    MeasureError::Worker {
        kernel: kernel.to_string(),
        message: format!("the OpenCL worker answered out of turn ({})", response.kind()),
    }
}
