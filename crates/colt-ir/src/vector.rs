//! Vector C: GCC/Clang vector extensions for the vectorised innermost loop
//! of a scheduled stage. Portable across x86-64 widths: a 16-lane vector on
//! a machine without AVX-512 is split into two AVX2 halves by the compiler.

use crate::c::{c_f32, c_ident, ExprPrinter};
use crate::expr::{AxisId, BinaryOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::schedule::analysis::{index_coefficient, load_stride};
use std::fmt::Write;

/// The declarations for vectors of `lanes` floats: the types, unaligned
/// loads and stores, splat, blend, max/min, and a vector `exp` that computes
/// exactly what the scalar `colt_exp` of the prelude does, lane by lane.
pub fn vector_prelude(lanes: usize) -> String {
    let l = lanes;
    let bytes = 4 * lanes;
    let iota: Vec<String> = (0..lanes).map(|i| i.to_string()).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"
typedef float colt_v{l} __attribute__((vector_size({bytes})));
typedef int colt_vi{l} __attribute__((vector_size({bytes})));
typedef float colt_vu{l} __attribute__((vector_size({bytes}), aligned(4), may_alias));
static inline colt_v{l} colt_vload{l}(const float *p) {{ return *(const colt_vu{l} *)p; }}
static inline void colt_vstore{l}(float *p, colt_v{l} v) {{ *(colt_vu{l} *)p = v; }}
static inline colt_v{l} colt_splat{l}(float x) {{ return (colt_v{l}){{0}} + x; }}
static inline colt_vi{l} colt_mask{l}(int c) {{ return (colt_vi{l}){{0}} - (c != 0); }}
static inline colt_vi{l} colt_iota{l}(void) {{ return (colt_vi{l}){{{iota}}}; }}
static inline colt_v{l} colt_vsel{l}(colt_vi{l} m, colt_v{l} a, colt_v{l} b) {{
  return (colt_v{l})((m & (colt_vi{l})a) | (~m & (colt_vi{l})b));
}}
static inline colt_v{l} colt_vmax{l}(colt_v{l} a, colt_v{l} b) {{ return colt_vsel{l}(a > b, a, b); }}
static inline colt_v{l} colt_vmin{l}(colt_v{l} a, colt_v{l} b) {{ return colt_vsel{l}(a < b, a, b); }}
static inline colt_v{l} colt_vsqrt{l}(colt_v{l} a) {{
  for (int i = 0; i < {l}; i++) a[i] = __builtin_sqrtf(a[i]);
  return a;
}}
static inline colt_v{l} colt_vexp{l}(colt_v{l} x) {{
  colt_vi{l} low = x < colt_splat{l}(-87.0f), high = x > colt_splat{l}(88.0f);
  x = colt_vsel{l}(low | high, colt_splat{l}(0.0f), x);
  colt_v{l} kf = x * 1.44269504f;
  kf = kf + colt_vsel{l}(kf >= colt_splat{l}(0.0f), colt_splat{l}(0.5f), colt_splat{l}(-0.5f));
  colt_vi{l} k = __builtin_convertvector(kf, colt_vi{l});
  colt_v{l} kr = __builtin_convertvector(k, colt_v{l});
  colt_v{l} r = x - kr * 0.693145752f - kr * 1.42860677e-6f;
  colt_v{l} p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f
                + r * (0.00833333377f + r * 0.00138888892f)))));
  colt_v{l} y = p * (colt_v{l})((k + 127) << 23);
  y = colt_vsel{l}(low, colt_splat{l}(0.0f), y);
  return colt_vsel{l}(high, colt_splat{l}(__builtin_inff()), y);
}}
"#,
        iota = iota.join(", ")
    );
    out
}

/// The horizontal reductions of a vector of `lanes` floats that a
/// vectorised reduction (`rfactor`) ends with: a tree of halves, each step
/// combining lane `i` with lane `i + w` (`w = lanes/2, ..., 1`) through
/// one shuffle (`__builtin_shufflevector`, GCC 12 and Clang), so that
/// lane 0 ends with the result in `log2(lanes)` shuffles and combines.
/// A loop over the lanes instead compiled to a spill and scalar adds,
/// which cost more than the whole reduction of a short `R1` block. Kept
/// apart from [`vector_prelude`] so that kernels without vectorised
/// reductions keep their text (and their fingerprints).
pub fn reduction_prelude(lanes: usize) -> String {
    let l = lanes;
    let mut steps = Vec::new();
    let mut w = l / 2;
    while w > 0 {
        let indices: Vec<String> = (0..l).map(|i| if i + w < l { i + w } else { i }.to_string()).collect();
        steps.push(format!("__builtin_shufflevector(v, v, {})", indices.join(", ")));
        w /= 2;
    }
    let sum: String = steps.iter().map(|sh| format!("  v = v + {sh};\n")).collect();
    let max: String = steps.iter().map(|sh| format!("  v = colt_vmax{l}(v, {sh});\n")).collect();
    format!(
        "\nstatic inline float colt_hsum{l}(colt_v{l} v) {{\n{sum}  return v[0];\n}}\n\
         static inline float colt_hmax{l}(colt_v{l} v) {{\n{max}  return v[0];\n}}\n"
    )
}

/// Prints a body with one axis vectorised: the scalar printer gives every
/// axis's C value (the vector axis's value is the first lane's), and each
/// subexpression comes out scalar or vector as its dependence on the axis
/// says.
pub struct VectorPrinter<'a> {
    pub scalar: &'a ExprPrinter<'a>,
    pub axis: AxisId,
    pub lanes: usize,
}

/// A printed subexpression: C text, and whether it is a vector.
struct Printed(String, bool);

impl VectorPrinter<'_> {
    /// The body as a vector of `lanes` floats.
    pub fn value(&self, e: &Expr) -> String {
        let p = self.expr(e);
        self.splat(p)
    }

    fn splat(&self, p: Printed) -> String {
        if p.1 {
            p.0
        } else {
            format!("colt_splat{}({})", self.lanes, p.0)
        }
    }

    fn mask(&self, p: Printed) -> String {
        if p.1 {
            p.0
        } else {
            format!("colt_mask{}({})", self.lanes, p.0)
        }
    }

    fn mentions(&self, e: &IndexExpr) -> bool {
        e.mentions(&self.axis)
    }

    fn load(&self, l: &Load) -> Printed {
        let program = self.scalar.program;
        if let Some((_, var)) = self.scalar.held.iter().find(|(b, _)| *b == l.buffer) {
            // Held at the printed point, lanes included.
            return Printed(var.clone(), true);
        }
        let stride = load_stride(program, l, self.axis);
        if stride == Some(0) {
            return Printed(self.scalar.value(&Expr::Load(l.clone())), false);
        }
        if let Some((array, offset)) = self.scalar.staged_access(l.buffer) {
            // A staged copy keeps the buffer's last dimension contiguous.
            return Printed(format!("colt_vload{}(&{array}[{offset}])", self.lanes), true);
        }
        // Legality (vector_obstacle) guarantees stride 1 and a bounds check
        // that does not depend on the vector axis.
        let buf = program.buffer(l.buffer);
        let access =
            format!("colt_vload{}(&{}[{}])", self.lanes, c_ident(&buf.name), self.scalar.offset(l.buffer, &l.index));
        match (l.pad, self.scalar.bounds_check(l)) {
            (Some(pad), Some(check)) => {
                Printed(format!("(({check}) ? {access} : colt_splat{}({}))", self.lanes, c_f32(pad)), true)
            }
            _ => Printed(access, true),
        }
    }

    fn expr(&self, e: &Expr) -> Printed {
        let l = self.lanes;
        match e {
            Expr::Const(c) => Printed(c_f32(*c), false),
            Expr::Load(load) => self.load(load),
            Expr::Unary(op, a) => {
                let a = self.expr(a);
                if !a.1 {
                    return Printed(self.scalar.value(e), false);
                }
                let text = match op {
                    UnaryOp::Neg => format!("(-{})", a.0),
                    UnaryOp::Exp => format!("colt_vexp{l}({})", a.0),
                    UnaryOp::Sqrt => format!("colt_vsqrt{l}({})", a.0),
                };
                Printed(text, true)
            }
            Expr::Binary(op, a, b) => {
                let (pa, pb) = (self.expr(a), self.expr(b));
                if !pa.1 && !pb.1 {
                    return Printed(self.scalar.value(e), false);
                }
                let text = match op {
                    BinaryOp::Add => format!("({} + {})", pa.0, pb.0),
                    BinaryOp::Sub => format!("({} - {})", pa.0, pb.0),
                    BinaryOp::Mul => format!("({} * {})", pa.0, pb.0),
                    BinaryOp::Div => format!("({} / {})", pa.0, pb.0),
                    BinaryOp::Max => format!("colt_vmax{l}({}, {})", self.splat(pa), self.splat(pb)),
                    BinaryOp::Min => format!("colt_vmin{l}({}, {})", self.splat(pa), self.splat(pb)),
                };
                Printed(text, true)
            }
            Expr::Select(c, a, b) => {
                let (pc, pa, pb) = (self.cond(c), self.expr(a), self.expr(b));
                if !pc.1 && !pa.1 && !pb.1 {
                    return Printed(self.scalar.value(e), false);
                }
                if pc.1 {
                    Printed(format!("colt_vsel{l}({}, {}, {})", pc.0, self.splat(pa), self.splat(pb)), true)
                } else {
                    Printed(format!("({} ? {} : {})", pc.0, self.splat(pa), self.splat(pb)), true)
                }
            }
        }
    }

    /// An index expression as a vector of ints: first lane's value plus the
    /// axis's coefficient times the lane number.
    fn index_vector(&self, e: &IndexExpr) -> String {
        let coefficient = index_coefficient(e, self.axis).unwrap_or(0);
        format!("(colt_iota{}() * {coefficient} + (int)({}))", self.lanes, self.scalar.index(e))
    }

    fn cond(&self, c: &Cond) -> Printed {
        match c {
            Cond::Index(a, op, b) => {
                if !self.mentions(a) && !self.mentions(b) {
                    return Printed(self.scalar.cond(c), false);
                }
                Printed(format!("({} {} {})", self.index_vector(a), op.symbol(), self.index_vector(b)), true)
            }
            Cond::Value(a, op, b) => {
                let (pa, pb) = (self.expr(a), self.expr(b));
                if !pa.1 && !pb.1 {
                    return Printed(self.scalar.cond(c), false);
                }
                Printed(format!("({} {} {})", self.splat(pa), op.symbol(), self.splat(pb)), true)
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                let (pa, pb) = (self.cond(a), self.cond(b));
                if !pa.1 && !pb.1 {
                    return Printed(self.scalar.cond(c), false);
                }
                let op = if matches!(c, Cond::And(..)) { "&" } else { "|" };
                Printed(format!("({} {op} {})", self.mask(pa), self.mask(pb)), true)
            }
        }
    }
}

/// The OpenCL C of the same helpers [`vector_prelude`] declares for C, on
/// OpenCL's own vector types (`float4`, `int4`, ...) and built-ins.
pub fn opencl_vector_prelude(lanes: usize) -> String {
    let l = lanes;
    let iota: Vec<String> = (0..lanes).map(|i| i.to_string()).collect();
    format!(
        r#"
typedef float{l} colt_v{l};
typedef int{l} colt_vi{l};
#define colt_vload{l}(p) vload{l}(0, (p))
#define colt_vstore{l}(p, v) vstore{l}((v), 0, (p))
#define colt_splat{l}(x) ((colt_v{l})(x))
#define colt_mask{l}(c) ((colt_vi{l})(-(int)((c) != 0)))
#define colt_iota{l}() ((colt_vi{l})({iota}))
#define colt_vsel{l}(m, a, b) select((b), (a), (m))
#define colt_vmax{l}(a, b) select((b), (a), (a) > (b))
#define colt_vmin{l}(a, b) select((b), (a), (a) < (b))
#define colt_vsqrt{l}(a) sqrt(a)
#define colt_vexp{l}(a) exp(a)
"#,
        iota = iota.join(", ")
    )
}
