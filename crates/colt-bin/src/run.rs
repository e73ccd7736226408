//! `colt run`: build, verify and time one kernel of a workload — the naive
//! one, or a candidate of its schedule space — on the CPU or an OpenCL
//! device, and print the measurement.

use anyhow::{Context, Result};
use colt_ir::Program;
use colt_measure::opencl::{DeviceChoice, OpenClConfig, OpenClDevice, OpenClKernel, OpenClMeasurer};
use colt_measure::{Builder, CpuConfig, CpuMeasurer, KernelSource, Measurement, RunPlan, WorkerCommand};
use std::sync::Arc;

/// Where a kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Cpu,
    Opencl,
}

impl Target {
    /// The schedule space of kernels for this target.
    pub fn space(self) -> colt_ir::schedule::Target {
        match self {
            Target::Cpu => colt_ir::schedule::Target::Cpu,
            Target::Opencl => colt_ir::schedule::Target::OpenCl,
        }
    }
}

/// What to run on the target.
pub enum Subject {
    Naive,
    Candidate(colt_ir::schedule::Candidate),
}

pub struct RunRequest {
    pub target: Target,
    pub subject: Subject,
    /// OpenCL platform (name or part of it) and device index.
    pub device: DeviceChoice,
    pub plan: RunPlan,
}

/// One timed run after the check, no warm-up: verifies a kernel quickly
/// (its time is a single sample, not a measurement to compare).
pub fn quick_plan() -> RunPlan {
    RunPlan { warmup_runs: 0, min_runs: 1, min_seconds: 0.0, max_seconds: 0.0 }
}

/// The measurement as one line of JSON (or a short text), after the
/// kernel's output matched the reference.
pub fn run(program: &Program, request: RunRequest, json: bool) -> Result<String> {
    let (label, measurement, where_) = match request.target {
        Target::Cpu => {
            let kernel = match &request.subject {
                Subject::Naive => KernelSource::naive(program),
                Subject::Candidate(c) => KernelSource::candidate(c),
            };
            let exe = std::env::current_exe().context("cannot find the colt executable to start its measure worker")?;
            let mut measurer = CpuMeasurer::new(
                Arc::new(Builder::system()),
                WorkerCommand::colt(exe),
                CpuConfig { plan: request.plan.clone(), ..CpuConfig::default() },
            );
            let cores = measurer.config().cores.len();
            let m = measurer.measure(program, &kernel).with_context(|| format!("cannot measure {}", kernel.name))?;
            (kernel.name.clone(), m, format!("cpu ({cores} cores)"))
        }
        Target::Opencl => {
            let kernel = match &request.subject {
                Subject::Naive => OpenClKernel::naive(program),
                Subject::Candidate(c) => OpenClKernel::candidate(c),
            };
            let device = OpenClDevice::open(&request.device).context("cannot open the OpenCL device")?;
            let where_ = format!("opencl ({} / {})", device.platform_name, device.name);
            let measurer =
                OpenClMeasurer::new(device, OpenClConfig { plan: request.plan.clone(), ..OpenClConfig::default() });
            let m = measurer.measure(program, &kernel).with_context(|| format!("cannot measure {}", kernel.name))?;
            (kernel.name.clone(), m, where_)
        }
    };
    Ok(report(program, &label, &measurement, &where_, json))
}

fn report(program: &Program, label: &str, m: &Measurement, target: &str, json: bool) -> String {
    let gflops = program.flops() as f64 / (m.timing.median_ms * 1e-3) / 1e9;
    if json {
        let value = serde_json::json!({
            "workload": program.name(),
            "kernel": label,
            "target": target,
            "verified": true,
            "max_rel_err": m.max_rel_err,
            "median_ms": m.timing.median_ms,
            "min_ms": m.timing.min_ms,
            "max_ms": m.timing.max_ms,
            "runs": m.timing.runs,
            "gflops": gflops,
            "build_cached": m.phases.cached,
        });
        format!("{value}\n")
    } else {
        format!(
            "{}: {label} on {target}: verified (max rel err {:.2e}); median {:.3} ms (min {:.3}, max {:.3}, {} runs), {gflops:.1} GFLOP/s\n",
            program.name(),
            m.max_rel_err,
            m.timing.median_ms,
            m.timing.min_ms,
            m.timing.max_ms,
            m.timing.runs
        )
    }
}

/// `colt devices`: every OpenCL platform and device, numbered as
/// `--platform` and `--device` take them.
pub fn devices(json: bool) -> Result<String> {
    let platforms = colt_measure::opencl::list_devices().context("cannot list the OpenCL devices")?;
    let mut out = String::new();
    for p in &platforms {
        if !json {
            out.push_str(&format!("platform {}: {} ({})\n", p.index, p.name, p.version));
        }
        for d in &p.devices {
            if json {
                let line = serde_json::json!({
                    "platform": p.index, "platform_name": p.name, "device": d.index, "name": d.name,
                    "vendor": d.vendor, "type": d.kind, "compute_units": d.compute_units,
                    "max_work_group": d.max_work_group, "local_memory_bytes": d.local_memory_bytes,
                    "global_memory_bytes": d.global_memory_bytes,
                });
                out.push_str(&format!("{line}\n"));
            } else {
                out.push_str(&format!(
                    "  device {}: {} [{}] {} compute units, work-groups up to {}, {} KiB local, {} MiB global\n",
                    d.index,
                    d.name,
                    d.kind,
                    d.compute_units,
                    d.max_work_group,
                    d.local_memory_bytes / 1024,
                    d.global_memory_bytes >> 20
                ));
            }
        }
    }
    Ok(out)
}
