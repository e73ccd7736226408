//! Lowering to C under the kernel ABI (see the crate docs).
//!
//! [`naive_c`] prints the untransformed loop nest of a program: every stage
//! in order, its spatial axes outermost in the order of the output's
//! dimensions, then its reduction axes, on task 0 alone. Compiled with `-O3`
//! it is the baseline every speedup is measured against. The pieces here
//! (prelude, expression printer, identifiers) are shared with the scheduled
//! lowering.

use crate::expr::{AxisId, BinaryOp, BufferId, Cond, Expr, IndexExpr, UnaryOp};
use crate::program::{BufferRole, Combine, Program, Stage};
use std::fmt::Write;

/// Declarations every kernel starts with. `colt_exp` is a libc-free `expf`
/// (Cody–Waite range reduction, degree-6 Taylor polynomial on
/// |r| <= ln2/2: relative error below 2e-7, well inside the suite's 1e-3);
/// it returns 0 below -87 (so `exp(-inf)` of masked scores is exactly 0)
/// and +inf above 88.
pub const PRELUDE: &str = r#"typedef void (*colt_barrier_fn)(void *ctx);

static inline float colt_exp(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return __builtin_inff();
  float kf = x * 1.44269504f;
  int k = (int)(kf + (kf >= 0.0f ? 0.5f : -0.5f));
  float r = x - (float)k * 0.693145752f - (float)k * 1.42860677e-6f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f
            + r * (0.00833333377f + r * 0.00138888892f)))));
  union { int i; float f; } scale;
  scale.i = (k + 127) << 23;
  return p * scale.f;
}
static inline float colt_max(float a, float b) { return a > b ? a : b; }
static inline float colt_min(float a, float b) { return a < b ? a : b; }
static inline long colt_floordiv(long a, long b) { long q = a / b; return (a % b != 0 && a < 0) ? q - 1 : q; }
static inline long colt_floormod(long a, long b) { long r = a % b; return r < 0 ? r + b : r; }
static inline long colt_minl(long a, long b) { return a < b ? a : b; }
"#;

/// The signature of the entry point.
pub const SIGNATURE: &str =
    "void colt_kernel(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx)";

/// Names C or the ABI already uses; colt identifiers that collide get a `_`.
const RESERVED: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bufs",
    "task",
    "ntasks",
    "barrier",
    "barrier_ctx",
    "acc",
    "scale",
    "main",
];

/// A C identifier for a buffer or axis name.
pub fn c_ident(name: &str) -> String {
    if RESERVED.contains(&name) || name.starts_with("colt_") || name.starts_with("__") {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A C float literal.
pub fn c_f32(value: f32) -> String {
    if value.is_nan() {
        "__builtin_nanf(\"\")".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "__builtin_inff()" } else { "(-__builtin_inff())" }.to_string()
    } else {
        let text = format!("{value:?}f");
        if value < 0.0 {
            format!("({text})")
        } else {
            text
        }
    }
}

/// Prints a stage's expressions as C, given each axis's C expression and
/// the inclusive range of values it takes (used to drop bounds checks and
/// floor corrections that cannot matter).
pub struct ExprPrinter<'a> {
    pub program: &'a Program,
    pub axis_c: Vec<String>,
    pub axis_range: Vec<(i64, i64)>,
    /// Loads read from a work-group's copy in local memory instead (OpenCL).
    pub staged: &'a [StagedLoad],
    /// Buffers whose value at the printed point is held in a C variable
    /// (a fused register tile's accumulators, read by its epilogue).
    pub held: &'a [(BufferId, String)],
}

/// A load served from a work-group's copy of a region of its buffer in
/// `__local` memory (OpenCL): the copy holds the region row-major, padding
/// included, so reads need no bounds check.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedLoad {
    pub buffer: BufferId,
    /// The local array's name.
    pub array: String,
    /// Per dimension of the buffer: the copy's stride, and the index's
    /// terms `coefficient·axis`.
    pub dims: Vec<(usize, Vec<(AxisId, i64)>)>,
    /// Per axis of the stage: the C expression of the region's first value
    /// along it (the group tile's or the `R0` step's start).
    pub base: Vec<String>,
}

impl ExprPrinter<'_> {
    /// The element offset of a staged load in its local copy, if `buffer`
    /// is staged.
    pub fn staged_access(&self, buffer: BufferId) -> Option<(String, String)> {
        let staged = self.staged.iter().find(|s| s.buffer == buffer)?;
        let terms: Vec<String> = staged
            .dims
            .iter()
            .filter(|(_, terms)| !terms.is_empty())
            .map(|(stride, terms)| {
                let index: Vec<String> = terms
                    .iter()
                    .map(|&(a, k)| {
                        let relative = format!("({} - {})", self.axis_c[a.0], staged.base[a.0]);
                        if k == 1 {
                            relative
                        } else {
                            format!("{relative} * {k}L")
                        }
                    })
                    .collect();
                format!("({}) * {stride}L", index.join(" + "))
            })
            .collect();
        let offset = if terms.is_empty() { "0".to_string() } else { terms.join(" + ") };
        Some((staged.array.clone(), offset))
    }

    pub fn range(&self, e: &IndexExpr) -> (i64, i64) {
        e.range(&|a: &AxisId| self.axis_range[a.0])
    }

    pub fn index(&self, e: &IndexExpr) -> String {
        match e {
            IndexExpr::Axis(a) => self.axis_c[a.0].clone(),
            IndexExpr::Const(c) => format!("{c}L"),
            IndexExpr::Add(a, b) => format!("({} + {})", self.index(a), self.index(b)),
            IndexExpr::Sub(a, b) => format!("({} - {})", self.index(a), self.index(b)),
            IndexExpr::Mul(a, c) => format!("({} * {c}L)", self.index(a)),
            IndexExpr::Div(a, c) | IndexExpr::Mod(a, c) => {
                let is_div = matches!(e, IndexExpr::Div(..));
                // C's `/` and `%` truncate; they agree with floor semantics
                // on non-negative operands, which is the common case and
                // lets the compiler use shifts and masks.
                if self.range(a).0 >= 0 {
                    format!("({} {} {c}L)", self.index(a), if is_div { "/" } else { "%" })
                } else {
                    let f = if is_div { "colt_floordiv" } else { "colt_floormod" };
                    format!("{f}({}, {c}L)", self.index(a))
                }
            }
        }
    }

    /// Row-major element offset of `index` in `buffer`.
    pub fn offset(&self, buffer: BufferId, index: &[IndexExpr]) -> String {
        let strides = self.program.buffer(buffer).strides();
        let terms: Vec<String> = index
            .iter()
            .zip(&strides)
            .map(|(e, &s)| if s == 1 { self.index(e) } else { format!("{} * {s}L", self.index(e)) })
            .collect();
        if terms.is_empty() {
            "0".to_string()
        } else {
            terms.join(" + ")
        }
    }

    /// The condition under which a padded load is inside its buffer, or
    /// `None` when the axis ranges keep it inside anyway.
    pub fn bounds_check(&self, l: &crate::expr::Load) -> Option<String> {
        l.pad?;
        let shape = &self.program.buffer(l.buffer).shape;
        let checks: Vec<String> = l
            .index
            .iter()
            .zip(shape)
            .filter_map(|(e, &extent)| {
                let (lo, hi) = self.range(e);
                let mut parts = Vec::new();
                if lo < 0 {
                    parts.push(format!("{} >= 0L", self.index(e)));
                }
                if hi >= extent as i64 {
                    parts.push(format!("{} < {extent}L", self.index(e)));
                }
                (!parts.is_empty()).then(|| parts.join(" && "))
            })
            .collect();
        (!checks.is_empty()).then(|| checks.join(" && "))
    }

    pub fn value(&self, e: &Expr) -> String {
        match e {
            Expr::Const(c) => c_f32(*c),
            Expr::Load(l) => {
                if let Some((_, var)) = self.held.iter().find(|(b, _)| *b == l.buffer) {
                    return var.clone();
                }
                if let Some((array, offset)) = self.staged_access(l.buffer) {
                    return format!("{array}[{offset}]");
                }
                let buf = self.program.buffer(l.buffer);
                let access = format!("{}[{}]", c_ident(&buf.name), self.offset(l.buffer, &l.index));
                match (l.pad, self.bounds_check(l)) {
                    (Some(pad), Some(check)) => format!("(({check}) ? {access} : {})", c_f32(pad)),
                    _ => access,
                }
            }
            Expr::Unary(op, a) => match op {
                UnaryOp::Neg => format!("(-{})", self.value(a)),
                UnaryOp::Exp => format!("colt_exp({})", self.value(a)),
                UnaryOp::Sqrt => format!("__builtin_sqrtf({})", self.value(a)),
            },
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.value(a), self.value(b));
                match op {
                    BinaryOp::Add => format!("({a} + {b})"),
                    BinaryOp::Sub => format!("({a} - {b})"),
                    BinaryOp::Mul => format!("({a} * {b})"),
                    BinaryOp::Div => format!("({a} / {b})"),
                    BinaryOp::Max => format!("colt_max({a}, {b})"),
                    BinaryOp::Min => format!("colt_min({a}, {b})"),
                }
            }
            Expr::Select(c, a, b) => format!("({} ? {} : {})", self.cond(c), self.value(a), self.value(b)),
        }
    }

    pub fn cond(&self, c: &Cond) -> String {
        match c {
            Cond::Index(a, op, b) => format!("({} {op} {})", self.index(a), self.index(b)),
            Cond::Value(a, op, b) => format!("({} {op} {})", self.value(a), self.value(b)),
            Cond::And(a, b) => format!("({} && {})", self.cond(a), self.cond(b)),
            Cond::Or(a, b) => format!("({} || {})", self.cond(a), self.cond(b)),
        }
    }
}

/// The C expression that folds `value` into the accumulator `acc` of a
/// reduction (`acc + value`, or the max of both); `lanes > 1` for vectors of
/// that many floats.
pub fn accumulate(combine: Combine, acc: &str, value: &str, lanes: usize) -> String {
    match (combine, lanes > 1) {
        (Combine::Max, true) => format!("colt_vmax{lanes}({acc}, {value})"),
        (Combine::Max, false) => format!("colt_max({acc}, {value})"),
        _ => format!("{acc} + {value}"),
    }
}

/// `const float *restrict A = bufs[0];` for every buffer.
pub fn buffer_bindings(program: &Program) -> String {
    let mut out = String::new();
    for (i, b) in program.buffers().iter().enumerate() {
        let constness = if b.role == BufferRole::Input { "const " } else { "" };
        let _ = writeln!(out, "  {constness}float *restrict {} = bufs[{i}];", c_ident(&b.name));
    }
    out
}

/// The untransformed program as one C function under the kernel ABI.
pub fn naive_c(program: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "/* colt naive kernel: {} */", program.name());
    out.push_str(PRELUDE);
    let _ = writeln!(out, "\n{SIGNATURE} {{");
    out.push_str("  (void)ntasks; (void)barrier; (void)barrier_ctx;\n");
    out.push_str("  if (task != 0) return;\n");
    out.push_str(&buffer_bindings(program));
    let def = program.to_def();
    for (stage, written) in program.stages().iter().zip(&def.stages) {
        let _ = writeln!(out, "  /* {} */", crate::text::print_stage(written).replace("*/", "* /"));
        naive_stage(&mut out, program, stage);
    }
    out.push_str("}\n");
    out
}

fn naive_stage(out: &mut String, program: &Program, stage: &Stage) {
    let printer = ExprPrinter {
        program,
        axis_c: stage.axes.iter().map(|a| c_ident(&a.name)).collect(),
        axis_range: stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect(),
        staged: &[],
        held: &[],
    };
    let out_index: Vec<IndexExpr> = stage.spatial_axes().map(|(id, _)| IndexExpr::Axis(id)).collect();
    let target =
        format!("{}[{}]", c_ident(&program.buffer(stage.output).name), printer.offset(stage.output, &out_index));
    let mut depth = 1;
    let open = |out: &mut String, depth: usize, name: &str, extent: usize| {
        let v = c_ident(name);
        let _ = writeln!(out, "{}for (long {v} = 0; {v} < {extent}L; {v}++) {{", "  ".repeat(depth));
    };
    for (_, axis) in stage.spatial_axes() {
        open(out, depth, &axis.name, axis.extent);
        depth += 1;
    }
    let indent = |depth: usize| "  ".repeat(depth);
    let body = printer.value(&stage.body);
    if stage.combine == Combine::Assign {
        let _ = writeln!(out, "{}{target} = {body};", indent(depth));
    } else {
        let _ = writeln!(out, "{}{target} = {};", indent(depth), c_f32(stage.combine.init()));
        let spatial_depth = depth;
        for (_, axis) in stage.reduction_axes() {
            open(out, depth, &axis.name, axis.extent);
            depth += 1;
        }
        let update = accumulate(stage.combine, &target, &body, 1);
        let _ = writeln!(out, "{}{target} = {update};", indent(depth));
        while depth > spatial_depth {
            depth -= 1;
            let _ = writeln!(out, "{}}}", indent(depth));
        }
    }
    while depth > 1 {
        depth -= 1;
        let _ = writeln!(out, "{}}}", indent(depth));
    }
}
