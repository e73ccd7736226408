//! The OpenCL measurer: build the program on the device, fill buffers,
//! check one run against the reference, then time runs with profiling
//! events.

use super::{OpenClDevice, OpenClError, OpenClKernel};
use crate::buffers::{layout, Fill};
use crate::failure::MeasureError;
use crate::gate::TimingGate;
use crate::measurement::{Measurement, Phases};
use crate::reference::ReferenceCache;
use crate::runner::RunPlan;
use crate::timing::Timing;
use colt_ir::Program;
use ocl::enums::ProfilingInfo;
use ocl::{flags, Buffer, Event, Kernel, SpatialDims};
use std::sync::Arc;
use std::time::Instant;

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
}

/// A kernel built and bound to its buffers, ready to run.
struct Bound {
    buffers: Vec<Buffer<f32>>,
    kernels: Vec<(String, Kernel)>,
}

impl OpenClMeasurer {
    pub fn new(device: OpenClDevice, config: OpenClConfig) -> OpenClMeasurer {
        OpenClMeasurer { device, references: Arc::default(), config, gate: TimingGate::new() }
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
        let bound = self.bind(program, kernel)?;
        phases.load = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let reference = self
            .references
            .get(program, self.config.seed)
            .map_err(|source| MeasureError::Reference { kernel: kernel.name.clone(), source })?;
        phases.reference = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let run_seconds = self.run(kernel, &bound)?;
        let mut outputs = Vec::new();
        for index in reference.indices() {
            let buffer = &bound.buffers[index];
            let mut host = vec![0.0f32; buffer.len()];
            buffer.read(&mut host).enq().map_err(|e| self.run_error(kernel, "read back", e))?;
            outputs.push(host);
        }
        phases.check_run = start.elapsed().as_secs_f64();
        let _ = run_seconds;

        let start = Instant::now();
        let max_rel_err = reference.check(&outputs).map_err(|m| MeasureError::WrongResult {
            kernel: kernel.name.clone(),
            buffer: m.buffer,
            max_rel_err: m.max_rel_err,
        })?;
        phases.verify = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let samples = {
            let _timing = self.gate.timing();
            let plan = &self.config.plan;
            for _ in 0..plan.warmup_runs {
                self.run(kernel, &bound)?;
            }
            let (mut samples, mut total) = (Vec::new(), 0.0);
            loop {
                let seconds = self.run(kernel, &bound)?;
                total += seconds;
                samples.push(seconds * 1e3);
                if (samples.len() >= plan.min_runs && total >= plan.min_seconds) || total >= plan.max_seconds {
                    break samples;
                }
            }
        };
        phases.timing = start.elapsed().as_secs_f64();
        let timing = Timing::from_samples(&samples)
            .ok_or_else(|| MeasureError::Worker { kernel: kernel.name.clone(), message: "no timed runs".into() })?;
        Ok(Measurement { kernel: kernel.name.clone(), timing, max_rel_err, phases })
    }

    /// Builds the program, allocates and fills the buffers (inputs from the
    /// generator, the rest NaN) and binds them to every launch's kernel.
    fn bind(&self, program: &Program, kernel: &OpenClKernel) -> Result<Bound, OpenClError> {
        let device = &self.device;
        let cl_program =
            // `-w`: the compiler's warnings would go to the process's
            // stderr on some platforms (pocl); errors still fail the build.
            ocl::Program::builder().src(kernel.source.as_str()).cmplr_opt("-w").devices(device.device).build(&device.context).map_err(
                |e| OpenClError::Build { kernel: kernel.name.clone(), device: device.name.clone(), log: e.to_string() },
            )?;
        let mut buffers = Vec::new();
        for spec in layout(program, &kernel.scratch) {
            let mut host = match &spec.fill {
                Fill::Input { name } => colt_ir::data::fill(name, spec.len, self.config.seed),
                Fill::Poison => vec![f32::NAN; spec.len],
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
                    what: "buffer",
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
