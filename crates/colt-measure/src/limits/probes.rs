//! The probes behind [`super::MachineLimits`]: small kernels under colt's
//! kernel ABI, written in the vector C colt-ir lowers to (its prelude's
//! `colt_vexp`, `colt_vmax`, `colt_vsqrt`, vectors of the lanes
//! `-march=native` gives), built by the same [`Builder`] with the same
//! flags as every candidate, loaded by the same loader and run by the same
//! [`Runner`]: one task on each measured core at once, warm-up, then the
//! median of timed runs.
//!
//! Each probe does a fixed amount of work per run and per task, sized so
//! that a run takes milliseconds on a current x86 core; a slower machine
//! makes fewer runs (the plan's time limit), not a longer probe. An empty
//! `asm` with a memory clobber between the repeats of a loop keeps the
//! compiler from folding repeats of the same work into one.

use super::LimitsError;
use crate::buffers::{BufferSpec, Fill};
use crate::build::Builder;
use crate::image::KernelImage;
use crate::loader::LoadedKernel;
use crate::runner::{RunPlan, Runner};
use crate::timing::Timing;
use std::fmt::Write;

/// Independent accumulators of the fold and read loops: 2 vector adds a
/// cycle at 4 cycles' latency (Intel since Skylake, AMD Zen 4) need 8.
const ACCUMULATORS: usize = 8;

/// Floats of the working arrays of the operation probes (16 KiB): three
/// of them stay in any L1 data cache colt targets (32 KiB and up).
pub const OP_ARRAY: usize = 1024;

/// One probe: its kernel, its buffers, and the work one run does on all
/// tasks together (FLOPs, elements or bytes: the caller's unit).
pub struct Probe {
    pub name: String,
    pub c: String,
    pub buffers: Vec<BufferSpec>,
    pub work: f64,
}

/// How much a probe does per task and run.
#[derive(Clone, Copy, Debug)]
pub struct Effort {
    /// FLOPs of the FMA probe.
    pub fma_flops: f64,
    /// Elements of an operation probe at one FMA slot each (a costlier
    /// operation is given proportionally fewer).
    pub op_elements: f64,
    /// Bytes read by a cache-level probe (at least one pass).
    pub level_bytes: f64,
}

impl Effort {
    /// A run of about 10 ms per probe on this project's build machine
    /// (a Xeon with AVX-512: ~245 GFLOP/s and ~120 G FMA lanes/s a core).
    pub const MEASURE: Effort = Effort { fma_flops: 2.5e9, op_elements: 1e9, level_bytes: 256.0 * 1024.0 * 1024.0 };
}

fn header(lanes: usize) -> String {
    format!("{}{}\n", colt_ir::c::PRELUDE, colt_ir::vector::vector_prelude(lanes))
}

fn poison(len: usize) -> BufferSpec {
    BufferSpec { len, fill: Fill::Poison }
}

/// `chains` independent FMA chains per task (`a = a * m + c`, which the
/// compiler contracts into one FMA, as it does a kernel's `acc + a * b`),
/// each step one vector FMA: with more chains than the FMA units times
/// their latency, every unit issues one each cycle. Work: FLOPs.
pub fn fma(lanes: usize, registers: usize, tasks: usize, effort: Effort) -> Probe {
    // Two registers hold the constants; the rest may be chains, up to 24
    // (2 units x 4 cycles need 8; more costs nothing).
    let chains = registers.saturating_sub(4).clamp(4, 24);
    let per_step = (2 * lanes * chains) as f64;
    let steps = (effort.fma_flops / per_step).ceil().max(1.0) as u64;
    let l = lanes;
    let mut c = header(l);
    let _ = writeln!(c, "{} {{", colt_ir::c::SIGNATURE);
    c.push_str("  (void)ntasks; (void)barrier; (void)barrier_ctx;\n");
    let _ = writeln!(c, "  colt_v{l} m = colt_splat{l}(0.999999f), k = colt_splat{l}(1e-7f);");
    for j in 0..chains {
        let _ = writeln!(c, "  colt_v{l} a{j} = colt_splat{l}((float)task + {j}.0f);");
    }
    let _ = writeln!(c, "  for (long s = 0; s < {steps}L; s++) {{");
    for j in 0..chains {
        let _ = writeln!(c, "    a{j} = a{j} * m + k;");
    }
    c.push_str("  }\n");
    let sum: Vec<String> = (0..chains).map(|j| format!("a{j}")).collect();
    let _ = writeln!(c, "  colt_vstore{l}(bufs[0] + (long)task * {l}, {});\n}}", sum.join(" + "));
    Probe {
        name: "limits fma".into(),
        c,
        buffers: vec![poison(tasks * l)],
        work: per_step * steps as f64 * tasks as f64,
    }
}

/// An operation whose cost in FMA slots is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Max,
    Div,
    Exp,
    Sqrt,
}

impl Op {
    /// In the order `MachineLimits::measure` reads their costs back.
    pub const ALL: [Op; 5] = [Op::Add, Op::Max, Op::Div, Op::Exp, Op::Sqrt];

    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Max => "max",
            Op::Div => "div",
            Op::Exp => "exp",
            Op::Sqrt => "sqrt",
        }
    }

    /// About the cost in FMA slots measured on this project's build
    /// machine (a Xeon with AVX-512), only to size the probe's work.
    fn expected_cost(self) -> f64 {
        match self {
            Op::Add => 1.0,
            Op::Max => 3.0,
            Op::Div => 20.0,
            Op::Exp => 26.0,
            Op::Sqrt => 36.0,
        }
    }
}

/// The operation over L1-resident arrays, in the loop where it is the only
/// arithmetic. `add` and `max` fold an array into independent vector
/// accumulators (`a = a + x`, `a = colt_vmax(a, x)`), one load per
/// operation, which the load ports sustain at two a cycle. `div`, `exp`
/// and `sqrt` map arrays into another (`y = x / z`, `colt_vexp(x)`,
/// `colt_vsqrt(x)`): a store per vector, far cheaper than them. Inputs are
/// in [1, 2), written by each task into its own arrays at the start of a
/// run: no denormal, no NaN, no overflow. Work: elements.
pub fn op(op: Op, lanes: usize, tasks: usize, effort: Effort) -> Probe {
    let l = lanes;
    let n = OP_ARRAY;
    let per_pass = n as f64;
    let passes = (effort.op_elements / op.expected_cost() / per_pass).ceil().max(1.0) as u64;
    let mut c = header(l);
    let _ = writeln!(c, "{} {{", colt_ir::c::SIGNATURE);
    c.push_str("  (void)ntasks; (void)barrier; (void)barrier_ctx;\n");
    let _ = writeln!(c, "  float *x = bufs[0] + (long)task * {}, *z = x + {n}, *y = z + {n};", 3 * n);
    let _ = writeln!(
        c,
        "  for (int i = 0; i < {n}; i++) {{ x[i] = 1.0f + (float)(i % 61) * 0.015625f; \
         z[i] = 1.0f + (float)(i % 53) * 0.015625f; }}"
    );
    let body = match op {
        Op::Add | Op::Max => {
            let combine = |a: &str, x: &str| match op {
                Op::Add => format!("{a} + {x}"),
                _ => format!("colt_vmax{l}({a}, {x})"),
            };
            for j in 0..ACCUMULATORS {
                let _ = writeln!(c, "  colt_v{l} a{j} = colt_splat{l}(0.0f);");
            }
            let mut body = format!("    for (int i = 0; i < {n}; i += {}) {{\n", ACCUMULATORS * l);
            for j in 0..ACCUMULATORS {
                let x = format!("colt_vload{l}(x + i + {})", j * l);
                let _ = writeln!(body, "      a{j} = {};", combine(&format!("a{j}"), &x));
            }
            body.push_str("    }\n");
            body
        }
        Op::Div | Op::Exp | Op::Sqrt => {
            let x = format!("colt_vload{l}(x + i)");
            let value = match op {
                Op::Div => format!("{x} / colt_vload{l}(z + i)"),
                Op::Exp => format!("colt_vexp{l}({x})"),
                _ => format!("colt_vsqrt{l}({x})"),
            };
            format!("    for (int i = 0; i < {n}; i += {l}) colt_vstore{l}(y + i, {value});\n")
        }
    };
    let _ = writeln!(c, "  for (long p = 0; p < {passes}L; p++) {{\n    __asm__ volatile(\"\" ::: \"memory\");");
    c.push_str(&body);
    c.push_str("  }\n");
    if matches!(op, Op::Add | Op::Max) {
        let sum: Vec<String> = (0..ACCUMULATORS).map(|j| format!("a{j}")).collect();
        let _ = writeln!(c, "  colt_vstore{l}(y, {});", sum.join(" + "));
    }
    c.push_str("}\n");
    Probe {
        name: format!("limits {}", op.name()),
        c,
        buffers: vec![poison(tasks * 3 * n)],
        work: per_pass * passes as f64 * tasks as f64,
    }
}

/// Reads of a buffer of `floats` per task, summed into independent vector
/// accumulators, all tasks at once, each its own buffer (filled as `fill`
/// says); passes enough for `effort.level_bytes` (at least one). Work:
/// bytes read. The buffers hold
/// the NaN they are created with: adding NaN costs an x86 vector unit
/// nothing extra (only denormals take a slow path).
pub fn read(name: &str, floats: usize, lanes: usize, tasks: usize, effort: Effort, fill: Fill) -> Probe {
    let l = lanes;
    let step = ACCUMULATORS * l;
    let floats = (floats / step).max(1) * step;
    let bytes = (floats * 4) as f64;
    let passes = (effort.level_bytes / bytes).ceil().max(1.0) as u64;
    let mut c = header(l);
    let _ = writeln!(c, "{} {{", colt_ir::c::SIGNATURE);
    c.push_str("  (void)ntasks; (void)barrier; (void)barrier_ctx;\n");
    c.push_str("  const float *x = bufs[task];\n");
    for j in 0..ACCUMULATORS {
        let _ = writeln!(c, "  colt_v{l} a{j} = colt_splat{l}(0.0f);");
    }
    let _ = writeln!(c, "  for (long p = 0; p < {passes}L; p++) {{\n    __asm__ volatile(\"\" ::: \"memory\");");
    let _ = writeln!(c, "    for (long i = 0; i < {floats}L; i += {step}) {{");
    for j in 0..ACCUMULATORS {
        let _ = writeln!(c, "      a{j} = a{j} + colt_vload{l}(x + i + {});", j * l);
    }
    c.push_str("    }\n  }\n");
    let sum: Vec<String> = (0..ACCUMULATORS).map(|j| format!("a{j}")).collect();
    let _ = writeln!(c, "  colt_vstore{l}(bufs[{tasks}] + (long)task * {l}, {});\n}}", sum.join(" + "));
    let mut buffers: Vec<BufferSpec> = (0..tasks).map(|_| BufferSpec { len: floats, fill: fill.clone() }).collect();
    buffers.push(poison(tasks * l));
    Probe { name: format!("limits read {name}"), c, buffers, work: bytes * passes as f64 * tasks as f64 }
}

/// Builds `probe` (so every probe is compiled before any timing starts:
/// a build waits for no timing and a timing for no build).
pub fn build(builder: &Builder, probe: &Probe) -> Result<KernelImage, LimitsError> {
    let failed = |detail: String| LimitsError::Probe { probe: probe.name.clone(), detail };
    let artifact = builder.build(&probe.name, &probe.c).map_err(|e| failed(e.to_string()))?;
    let elf = artifact.read().map_err(|e| failed(e.to_string()))?;
    KernelImage::parse(&elf).map_err(|e| failed(e.to_string()))
}

/// Runs a built probe on `cores` as `plan` says; the median seconds of a run.
pub fn time(probe: &Probe, image: &KernelImage, cores: &[usize], plan: &RunPlan) -> Result<f64, LimitsError> {
    let failed = |detail: String| LimitsError::Probe { probe: probe.name.clone(), detail };
    let kernel = LoadedKernel::load(image).map_err(|e| failed(e.to_string()))?;
    let bytes: usize = probe.buffers.iter().map(|b| b.len * 4).sum();
    let mut runner = Runner::new(kernel, probe.buffers.clone(), 0, cores.to_vec())
        .map_err(|e| failed(format!("cannot map {bytes} bytes of buffers: {e}")))?;
    let samples = runner.time(plan).map_err(|e| failed(e.to_string()))?;
    let timing = Timing::from_samples(&samples).ok_or_else(|| failed("made no timed run".into()))?;
    if timing.median_ms <= 0.0 {
        return Err(failed(format!("ran in {} ms, too short to time", timing.median_ms)));
    }
    Ok(timing.median_ms / 1e3)
}
