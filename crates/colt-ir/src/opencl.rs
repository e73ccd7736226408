//! Lowering to OpenCL C: the naive program as one kernel per stage, one
//! work-item per output element, enqueued in program order. It is the
//! baseline GPU kernels are measured against, and what `colt run --target
//! opencl` verifies a device with. Scheduled OpenCL kernels come from the
//! OpenCL schedule space (`schedule::opencl`), printed by
//! `LoopNest::to_opencl`.
//!
//! Every kernel takes every buffer, in the ABI's `bufs[]` order, as a
//! `__global float *` argument; inputs are `const`.

use crate::c::{c_ident, ExprPrinter};
use crate::expr::IndexExpr;
use crate::program::{BufferRole, Combine, Program, Stage};
use std::fmt::Write;

/// One enqueue of a kernel of the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenClLaunch {
    pub entry: String,
    /// One-dimensional global work size.
    pub global: usize,
    /// One-dimensional work-group size, or the platform's choice.
    pub local: Option<usize>,
}

/// An OpenCL program and the launches that run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenClProgram {
    pub source: String,
    pub launches: Vec<OpenClLaunch>,
}

/// The helpers of `c::PRELUDE`, for OpenCL C: the device's own `exp`
/// (accurate to a few ulp), and no function pointers.
pub(crate) const PRELUDE: &str = r#"inline float colt_exp(float x) { return exp(x); }
inline float colt_max(float a, float b) { return a > b ? a : b; }
inline float colt_min(float a, float b) { return a < b ? a : b; }
inline long colt_floordiv(long a, long b) { long q = a / b; return (a % b != 0 && a < 0) ? q - 1 : q; }
inline long colt_floormod(long a, long b) { long r = a % b; return r < 0 ? r + b : r; }
inline long colt_minl(long a, long b) { return a < b ? a : b; }
"#;

/// C's compiler builtins, as OpenCL C spells them.
pub(crate) fn opencl_spelling(c: &str) -> String {
    c.replace("__builtin_sqrtf(", "sqrt(")
        .replace("__builtin_inff()", "INFINITY")
        .replace("__builtin_nanf(\"\")", "NAN")
}

/// Every kernel's parameter list: each buffer, in the ABI's `bufs[]` order,
/// as a `__global float *` (inputs `const`).
pub(crate) fn kernel_params(program: &Program) -> String {
    let params: Vec<String> = program
        .buffers()
        .iter()
        .map(|b| {
            let constness = if b.role == BufferRole::Input { "const " } else { "" };
            format!("__global {constness}float *restrict {}", c_ident(&b.name))
        })
        .collect();
    params.join(", ")
}

/// The naive program in OpenCL C.
pub fn naive_opencl(program: &Program) -> OpenClProgram {
    let mut source = format!("/* colt naive OpenCL kernels: {} */\n{PRELUDE}", program.name());
    let params = kernel_params(program);
    let mut launches = Vec::new();
    for (i, stage) in program.stages().iter().enumerate() {
        let entry = format!("colt_stage{i}");
        let points: usize = stage.spatial_axes().map(|(_, a)| a.extent).product();
        let _ = writeln!(source, "\n__kernel void {entry}({}) {{", params);
        source.push_str(&opencl_spelling(&stage_body(program, stage)));
        source.push_str("}\n");
        launches.push(OpenClLaunch { entry, global: points.max(1), local: None });
    }
    OpenClProgram { source, launches }
}

/// One work-item's element: its spatial indices from the global id, then
/// the reduction loops as in the naive C.
fn stage_body(program: &Program, stage: &Stage) -> String {
    let printer = ExprPrinter {
        program,
        axis_c: stage.axes.iter().map(|a| c_ident(&a.name)).collect(),
        axis_range: stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect(),
        staged: &[],
        held: &[],
    };
    let mut out = String::from("  long colt_id = get_global_id(0);\n");
    let spatial: Vec<_> = stage.spatial_axes().collect();
    let mut inner = 1usize;
    for (_, axis) in spatial.iter().rev() {
        let _ = writeln!(out, "  long {} = colt_id / {inner}L % {}L;", c_ident(&axis.name), axis.extent);
        inner *= axis.extent;
    }
    let index: Vec<IndexExpr> = spatial.iter().map(|(id, _)| IndexExpr::Axis(*id)).collect();
    let target = format!("{}[{}]", c_ident(&program.buffer(stage.output).name), printer.offset(stage.output, &index));
    let body = printer.value(&stage.body);
    if stage.combine == Combine::Assign {
        let _ = writeln!(out, "  {target} = {body};");
        return out;
    }
    let _ = writeln!(out, "  float colt_acc = {};", crate::c::c_f32(stage.combine.init()));
    let mut depth = 1;
    for (_, axis) in stage.reduction_axes() {
        let v = c_ident(&axis.name);
        let _ = writeln!(out, "{}for (long {v} = 0; {v} < {}L; {v}++) {{", "  ".repeat(depth), axis.extent);
        depth += 1;
    }
    let update = crate::c::accumulate(stage.combine, "colt_acc", &body, 1);
    let _ = writeln!(out, "{}colt_acc = {update};", "  ".repeat(depth));
    while depth > 1 {
        depth -= 1;
        let _ = writeln!(out, "{}}}", "  ".repeat(depth));
    }
    let _ = writeln!(out, "  {target} = colt_acc;");
    out
}
