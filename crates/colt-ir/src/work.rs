//! The work a program needs, whatever its schedule: the operations whose
//! results reach an output (work a mask throws away is not needed) and the
//! bytes that must cross from memory at least once (every input read, every
//! output written). colt-measure's `MachineLimits::bound` turns it into a
//! roofline bound, the time no kernel of the program can beat on a machine.
//!
//! # Which work is necessary
//!
//! A *point* of a stage is one evaluation of its body at one value of every
//! axis (spatial and reduction). [`Program::necessary_work`] decides, point
//! by point, whether a kernel must compute it, from the outputs backward:
//!
//! 1. Every element of an output buffer is needed. An element of a temp is
//!    needed when a necessary point of a later stage reads it.
//! 2. A point is necessary when the element it writes is needed and, for a
//!    reduction, its term can change the result: a `+=` term that is known
//!    to be zero and a `max=` term known to be `-inf` are not necessary.
//! 3. A necessary point reads, and makes needed, only what its evaluation
//!    reads: of a `select` whose condition compares indices, the branch the
//!    condition picks at that point; of one that compares values, both
//!    branches and the condition (the analysis cannot know which is taken).
//!
//! "Known to be zero" comes from a forward pass over the stages that
//! follows, per element, which values are a known `0`, `-inf` or `+inf`:
//! constants, the padding of padded loads, a `select` whose index condition
//! picks a constant branch, and the operations that keep them
//! (`exp(-inf) = 0`, `0 · x = 0`, `0 / x = 0`, `-inf - x = -inf`, `max(-inf, x)
//! = x`, a sum of zeros, a max of `-inf`s). Values it does not know are taken
//! to be finite and, as divisors, nonzero. For causal attention this makes
//! the masked scores `-inf`, their exponentials and probabilities `0`, so
//! the masked scores, the `Q·K` products feeding only them, their `exp`,
//! their share of the row max, the row sum and the normalisation, and the
//! `P·V` terms they multiply are all unnecessary: each of those stages keeps
//! the fraction `(n + 1) / (2n)` of its points. A convolution's taps on the
//! zero padding are unnecessary the same way.
//!
//! # What a necessary point costs
//!
//! A multiply-accumulate stage (a `+=` of a product, [`Stage::is_mac`]) costs
//! one MAC per point; any other `+=` one add and a `max=` one max. The body
//! costs each operation it evaluates (the taken branch of an index `select`):
//! add, sub, mul and negation count as adds, `max`, `min` and value
//! comparisons as maxes, then divisions, `exp`s and `sqrt`s. Operations on
//! constants only (`sqrt(128.0)`) cost nothing: a compiler folds them.
//!
//! # How it is counted
//!
//! A stage's point decides its fate only through the axes that its index
//! conditions, its padded loads, its loads of buffers with known values or
//! of temps, and (when not every element is needed) its output mention.
//! The analysis enumerates those axes only and weighs each point by the
//! extent of the others: `gemm-512` is one point of weight 512³, the
//! attention stages one point per score. Per-element maps are kept only for
//! buffers of at most [`MAX_ANALYSED_ELEMENTS`] elements and stages whose
//! enumerated axes span at most as many points; past that a stage counts
//! every point of its domain and both branches of each `select` (more work
//! than necessary, never less), which no bench-size workload reaches.

mod known;

use crate::expr::{AxisId, BinaryOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::program::{BufferRole, Combine, Program, Stage};
use known::{Known, Map};

/// Counts of one run's necessary operations, by kind, and its bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NecessaryWork {
    /// Multiply-accumulates (one FMA each; 2 FLOPs).
    pub macs: f64,
    /// Elementwise add, sub and mul (a reduction's `+=` that is not a
    /// multiply-accumulate counts here too).
    pub adds: f64,
    /// `max=` reductions and `max(a, b)`.
    pub maxes: f64,
    pub divs: f64,
    pub exps: f64,
    pub sqrts: f64,
    /// Inputs read once plus outputs written once, in bytes.
    pub bytes: u64,
}

/// The most elements of a buffer, and points of a stage's enumerated axes,
/// the analysis follows one by one. The suite's bench shapes need at most
/// 1.6M (`flux-attn`'s scores, analysed in under a second); at 2^24 the
/// analysis stays within seconds and tens of MB, and past it (the full
/// shapes' attention scores) a stage is counted whole.
pub const MAX_ANALYSED_ELEMENTS: u64 = 1 << 24;

impl Program {
    /// The program's necessary work: see the [module docs](self) for the
    /// rule.
    pub fn necessary_work(&self) -> NecessaryWork {
        let walker = Walker { program: self, strides: self.buffers.iter().map(|b| b.strides()).collect() };
        let mut work = walker.necessary_work();
        work.bytes = self
            .buffers
            .iter()
            .filter(|b| b.role != BufferRole::Temp)
            .map(|b| (b.len() * b.dtype.size_bytes()) as u64)
            .sum();
        work
    }
}

/// The reference semantics' known constants (the forward pass above), for
/// the schedule's masked iteration (`schedule::mask`), which must know
/// that a reduction's term is its identity wherever it skips it.
pub(crate) struct ReferenceValues<'p> {
    walker: Walker<'p>,
    known: Vec<Map<Known>>,
}

impl<'p> ReferenceValues<'p> {
    pub(crate) fn of(program: &'p Program) -> ReferenceValues<'p> {
        let walker = Walker { program, strides: program.buffers.iter().map(|b| b.strides()).collect() };
        let known = walker.known_values();
        ReferenceValues { walker, known }
    }

    /// Whether `body`, an expression over a stage's axes, is known to be
    /// `value` (`0` or `-inf`) at `point` in the reference semantics.
    pub(crate) fn is_known(&self, body: &Expr, point: &[i64], value: f32) -> bool {
        self.walker.value(body, point, &self.known) == Known::of(value)
    }

    /// Whether the known values of `buffer` differ from element to element
    /// (so a check must enumerate the axes that index it).
    pub(crate) fn varies(&self, buffer: usize) -> bool {
        !matches!(self.known[buffer], Map::Uniform(_))
    }
}

/// A program with its buffers' strides, which every point's offsets use.
struct Walker<'p> {
    program: &'p Program,
    strides: Vec<Vec<usize>>,
}

impl std::ops::Deref for Walker<'_> {
    type Target = Program;
    fn deref(&self) -> &Program {
        self.program
    }
}

impl Walker<'_> {
    fn necessary_work(&self) -> NecessaryWork {
        let known = self.known_values();
        let mut needed: Vec<Map<bool>> =
            self.buffers.iter().map(|b| Map::Uniform(b.role == BufferRole::Output)).collect();
        let mut work = NecessaryWork::default();
        for stage in self.stages.iter().rev() {
            let out = stage.output.0;
            needed[out].compress();
            if matches!(needed[out], Map::Uniform(false)) {
                continue;
            }
            let relevant = self.relevant_axes(stage, &known, Some(&needed[out]));
            let Some(weight) = weight_outside(stage, &relevant) else {
                self.count_everything(stage, &mut needed, &mut work);
                continue;
            };
            let mut ops = Ops::default();
            let mut marks: Vec<(usize, usize)> = Vec::new();
            for_each_point(stage, &relevant, |point| {
                if !needed[out].get(self.output_offset(stage, point)) {
                    return;
                }
                let term = self.value(&stage.body, point, &known);
                let absorbed = match stage.combine {
                    Combine::Assign => false,
                    Combine::Sum => term == Known::Zero,
                    Combine::Max => term == Known::NegInf,
                };
                if absorbed {
                    return;
                }
                match stage.combine {
                    Combine::Assign => {}
                    Combine::Sum if stage.is_mac() => ops.macs += 1.0,
                    Combine::Sum => ops.adds += 1.0,
                    Combine::Max => ops.maxes += 1.0,
                }
                let body = match (&stage.body, stage.is_mac()) {
                    // The product is the MAC's multiply; only its factors cost.
                    (Expr::Binary(BinaryOp::Mul, a, b), true) => {
                        self.cost(a, point, &mut ops, &mut marks);
                        b
                    }
                    _ => &stage.body,
                };
                self.cost(body, point, &mut ops, &mut marks);
                for (buffer, offset) in marks.drain(..) {
                    needed[buffer].set(offset, self.buffers[buffer].len());
                }
            });
            work.add(&ops, weight);
        }
        work
    }

    /// Per buffer, the values of its elements that are known constants.
    fn known_values(&self) -> Vec<Map<Known>> {
        let mut known: Vec<Map<Known>> = self.buffers.iter().map(|_| Map::Uniform(Known::Other)).collect();
        for stage in &self.stages {
            let len = self.buffers[stage.output.0].len();
            let relevant = self.relevant_axes(stage, &known, None);
            if weight_outside(stage, &relevant).is_none() || len as u64 > MAX_ANALYSED_ELEMENTS {
                continue; // stays Other: nothing assumed known
            }
            let spatial: Vec<usize> = stage.spatial_axes().map(|(a, _)| a.0).collect();
            let varies = relevant.iter().any(|a| spatial.contains(a));
            let init = match stage.combine {
                Combine::Assign | Combine::Sum => Known::Zero,
                Combine::Max => Known::NegInf,
            };
            let mut map = if varies { Map::Each(vec![init; len]) } else { Map::Uniform(init) };
            // Sums and maxes of equal terms are that term, so axes outside
            // `relevant` need no enumeration; elements along spatial ones
            // are copied below.
            for_each_point(stage, &relevant, |point| {
                let term = self.value(&stage.body, point, &known);
                let slot = match &mut map {
                    Map::Uniform(v) => v,
                    Map::Each(v) => &mut v[self.output_offset(stage, point)],
                };
                *slot = match stage.combine {
                    Combine::Assign => term,
                    Combine::Sum => Known::add(*slot, term),
                    Combine::Max => Known::max(*slot, term),
                };
            });
            if let Map::Each(values) = &mut map {
                let copied: Vec<usize> = spatial.iter().copied().filter(|a| !relevant.contains(a)).collect();
                if !copied.is_empty() {
                    let strides = &self.strides[stage.output.0];
                    let shape = &self.buffers[stage.output.0].shape;
                    for offset in 0..len {
                        let source: usize =
                            copied.iter().fold(offset, |o, &a| o - (o / strides[a] % shape[a]) * strides[a]);
                        values[offset] = values[source];
                    }
                }
            }
            map.compress();
            known[stage.output.0] = map;
        }
        known
    }

    /// The axes (indices into `stage.axes`, ascending) on which a point's
    /// value can depend, and with `needed` (the stage's output's needed
    /// elements) whether it is necessary, what it costs and which temp
    /// elements it reads.
    fn relevant_axes(&self, stage: &Stage, known: &[Map<Known>], needed: Option<&Map<bool>>) -> Vec<usize> {
        let mut mentioned = vec![false; stage.axes.len()];
        if let Some(Map::Each(_)) = needed {
            stage.spatial_axes().for_each(|(a, _)| mentioned[a.0] = true);
        }
        let mut mark = |e: &IndexExpr| {
            for (a, m) in mentioned.iter_mut().enumerate() {
                *m |= e.mentions(&AxisId(a));
            }
        };
        visit(&stage.body, &mut |node| match node {
            Node::Load(l) => {
                let temp = needed.is_some() && self.buffers[l.buffer.0].role == BufferRole::Temp;
                if temp || l.pad.is_some() || !matches!(known[l.buffer.0], Map::Uniform(_)) {
                    l.index.iter().for_each(&mut mark);
                }
            }
            Node::Cond(Cond::Index(a, _, b)) => {
                mark(a);
                mark(b);
            }
            Node::Cond(_) => {}
        });
        mentioned.iter().enumerate().filter(|(_, m)| **m).map(|(a, _)| a).collect()
    }

    fn output_offset(&self, stage: &Stage, point: &[i64]) -> usize {
        point.iter().zip(&self.strides[stage.output.0]).map(|(&v, s)| v as usize * s).sum()
    }

    /// The element a load reads at `point`, or None in its padding.
    fn offset(&self, load: &Load, point: &[i64]) -> Option<usize> {
        let buffer = &self.buffers[load.buffer.0];
        let mut offset = 0usize;
        for ((e, &extent), stride) in load.index.iter().zip(&buffer.shape).zip(&self.strides[load.buffer.0]) {
            let v = e.eval(&|a| point[a.0]);
            if v < 0 || v >= extent as i64 {
                return None;
            }
            offset += v as usize * stride;
        }
        Some(offset)
    }

    fn value(&self, e: &Expr, point: &[i64], known: &[Map<Known>]) -> Known {
        match e {
            Expr::Const(c) => Known::of(*c),
            Expr::Load(l) => match self.offset(l, point) {
                Some(o) => known[l.buffer.0].get(o),
                None => Known::of(l.pad.unwrap_or(0.0)),
            },
            Expr::Unary(op, a) => Known::unary(*op, self.value(a, point, known)),
            Expr::Binary(op, a, b) => Known::binary(*op, self.value(a, point, known), self.value(b, point, known)),
            Expr::Select(c, a, b) => match index_only(c, point) {
                Some(true) => self.value(a, point, known),
                Some(false) => self.value(b, point, known),
                None => Known::join(self.value(a, point, known), self.value(b, point, known)),
            },
        }
    }

    /// Adds what evaluating `e` at `point` costs to `ops`, and the temp
    /// elements it reads to `marks`.
    fn cost(&self, e: &Expr, point: &[i64], ops: &mut Ops, marks: &mut Vec<(usize, usize)>) {
        if !reads(e) {
            return;
        }
        match e {
            Expr::Const(_) => {}
            Expr::Load(l) => {
                if self.buffers[l.buffer.0].role == BufferRole::Temp {
                    marks.extend(self.offset(l, point).map(|o| (l.buffer.0, o)));
                }
            }
            Expr::Unary(op, a) => {
                ops.unary(*op);
                self.cost(a, point, ops, marks);
            }
            Expr::Binary(op, a, b) => {
                ops.binary(*op);
                self.cost(a, point, ops, marks);
                self.cost(b, point, ops, marks);
            }
            Expr::Select(c, a, b) => match index_only(c, point) {
                Some(true) => self.cost(a, point, ops, marks),
                Some(false) => self.cost(b, point, ops, marks),
                None => {
                    self.cost_cond(c, point, ops, marks);
                    self.cost(a, point, ops, marks);
                    self.cost(b, point, ops, marks);
                }
            },
        }
    }

    fn cost_cond(&self, c: &Cond, point: &[i64], ops: &mut Ops, marks: &mut Vec<(usize, usize)>) {
        match c {
            Cond::Index(..) => {}
            Cond::Value(a, _, b) => {
                ops.maxes += 1.0;
                self.cost(a, point, ops, marks);
                self.cost(b, point, ops, marks);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.cost_cond(a, point, ops, marks);
                self.cost_cond(b, point, ops, marks);
            }
        }
    }

    /// The fallback past the size limits: every point of the stage, every
    /// branch, every temp it reads needed in full.
    fn count_everything(&self, stage: &Stage, needed: &mut [Map<bool>], work: &mut NecessaryWork) {
        let mut ops = Ops::default();
        match stage.combine {
            Combine::Assign => {}
            Combine::Sum if stage.is_mac() => ops.macs = 1.0,
            Combine::Sum => ops.adds = 1.0,
            Combine::Max => ops.maxes = 1.0,
        }
        let body = match (&stage.body, stage.is_mac()) {
            (Expr::Binary(BinaryOp::Mul, a, b), true) => {
                every_branch_cost(a, &mut ops);
                b
            }
            _ => &stage.body,
        };
        every_branch_cost(body, &mut ops);
        visit(&stage.body, &mut |node| {
            if let Node::Load(l) = node {
                if self.buffers[l.buffer.0].role == BufferRole::Temp {
                    needed[l.buffer.0] = Map::Uniform(true);
                }
            }
        });
        work.add(&ops, stage.domain_size() as f64);
    }
}

impl NecessaryWork {
    fn add(&mut self, ops: &Ops, weight: f64) {
        self.macs += ops.macs * weight;
        self.adds += ops.adds * weight;
        self.maxes += ops.maxes * weight;
        self.divs += ops.divs * weight;
        self.exps += ops.exps * weight;
        self.sqrts += ops.sqrts * weight;
    }
}

/// Operation counts of the points of one enumeration (before weighting).
#[derive(Default)]
struct Ops {
    macs: f64,
    adds: f64,
    maxes: f64,
    divs: f64,
    exps: f64,
    sqrts: f64,
}

impl Ops {
    fn unary(&mut self, op: UnaryOp) {
        match op {
            UnaryOp::Neg => self.adds += 1.0,
            UnaryOp::Exp => self.exps += 1.0,
            UnaryOp::Sqrt => self.sqrts += 1.0,
        }
    }

    fn binary(&mut self, op: BinaryOp) {
        match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => self.adds += 1.0,
            BinaryOp::Max | BinaryOp::Min => self.maxes += 1.0,
            BinaryOp::Div => self.divs += 1.0,
        }
    }
}

fn every_branch_cost(e: &Expr, ops: &mut Ops) {
    if !reads(e) {
        return;
    }
    match e {
        Expr::Const(_) | Expr::Load(_) => {}
        Expr::Unary(op, a) => {
            ops.unary(*op);
            every_branch_cost(a, ops);
        }
        Expr::Binary(op, a, b) => {
            ops.binary(*op);
            every_branch_cost(a, ops);
            every_branch_cost(b, ops);
        }
        Expr::Select(c, a, b) => {
            every_cond_cost(c, ops);
            every_branch_cost(a, ops);
            every_branch_cost(b, ops);
        }
    }
}

fn every_cond_cost(c: &Cond, ops: &mut Ops) {
    match c {
        Cond::Index(..) => {}
        Cond::Value(a, _, b) => {
            ops.maxes += 1.0;
            every_branch_cost(a, ops);
            every_branch_cost(b, ops);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            every_cond_cost(a, ops);
            every_cond_cost(b, ops);
        }
    }
}

/// Whether `e` reads a buffer (otherwise a compiler folds it to a constant).
fn reads(e: &Expr) -> bool {
    let mut any = false;
    e.for_each_load(&mut |_| any = true);
    any
}

/// The condition's value at `point` when it compares indices only.
pub(crate) fn index_only(c: &Cond, point: &[i64]) -> Option<bool> {
    match c {
        Cond::Index(a, op, b) => Some(op.holds(a.eval(&|x| point[x.0]), b.eval(&|x| point[x.0]))),
        Cond::Value(..) => None,
        Cond::And(a, b) => Some(index_only(a, point)? && index_only(b, point)?),
        Cond::Or(a, b) => Some(index_only(a, point)? || index_only(b, point)?),
    }
}

enum Node<'e> {
    Load(&'e Load),
    Cond(&'e Cond),
}

fn visit<'e>(e: &'e Expr, f: &mut impl FnMut(Node<'e>)) {
    match e {
        Expr::Const(_) => {}
        Expr::Load(l) => f(Node::Load(l)),
        Expr::Unary(_, a) => visit(a, f),
        Expr::Binary(_, a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Select(c, a, b) => {
            visit_cond(c, f);
            visit(a, f);
            visit(b, f);
        }
    }
}

fn visit_cond<'e>(c: &'e Cond, f: &mut impl FnMut(Node<'e>)) {
    f(Node::Cond(c));
    match c {
        Cond::Index(..) => {}
        Cond::Value(a, _, b) => {
            visit(a, f);
            visit(b, f);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            visit_cond(a, f);
            visit_cond(b, f);
        }
    }
}

/// The product of the extents of the axes not in `relevant`, or None when
/// the relevant axes span more than [`MAX_ANALYSED_ELEMENTS`] points.
fn weight_outside(stage: &Stage, relevant: &[usize]) -> Option<f64> {
    let enumerated: u64 = relevant.iter().map(|&a| stage.axes[a].extent as u64).product();
    if enumerated > MAX_ANALYSED_ELEMENTS {
        return None;
    }
    let others = (0..stage.axes.len()).filter(|a| !relevant.contains(a));
    Some(others.map(|a| stage.axes[a].extent as f64).product())
}

/// Calls `f` at every value of the `relevant` axes, the others at 0.
pub(crate) fn for_each_point(stage: &Stage, relevant: &[usize], mut f: impl FnMut(&[i64])) {
    if relevant.iter().any(|&a| stage.axes[a].extent == 0) {
        return;
    }
    let mut point = vec![0i64; stage.axes.len()];
    loop {
        f(&point);
        let mut carry = true;
        for &a in relevant.iter().rev() {
            point[a] += 1;
            if point[a] < stage.axes[a].extent as i64 {
                carry = false;
                break;
            }
            point[a] = 0;
        }
        if carry {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{ax, cst, exp, index_cmp, load, select, ProgramBuilder};
    use crate::expr::{CmpOp, IndexExpr};
    use crate::workloads::{builtin, Size};

    fn work_of(name: &str) -> NecessaryWork {
        builtin(name).unwrap().program(Size::Bench).necessary_work()
    }

    #[test]
    fn gemm_needs_every_mac_and_reads_its_operands_once() {
        let work = work_of("gemm-512");
        let n = 512.0f64;
        assert_eq!(work, NecessaryWork { macs: n * n * n, bytes: 3 * 512 * 512 * 4, ..NecessaryWork::default() });
    }

    #[test]
    fn causal_attention_keeps_the_lower_triangle_of_every_score_stage() {
        let work = work_of("llama3-8b-attn");
        let (heads, n, d) = (32.0f64, 128.0f64, 128.0f64);
        let kept = heads * n * (n + 1.0) / 2.0;
        assert_eq!(kept / (heads * n * n), (n + 1.0) / (2.0 * n));
        // QK and P·V: a MAC per kept score and head dimension.
        assert_eq!(work.macs, 2.0 * kept * d);
        // S's division by sqrt(128) and P's by the row sum; sqrt(128) is folded.
        assert_eq!(work.divs, 2.0 * kept);
        assert_eq!(work.sqrts, 0.0);
        // The row max over kept scores; E's exp and subtraction, L's sum.
        assert_eq!(work.maxes, kept);
        assert_eq!(work.exps, kept);
        assert_eq!(work.adds, 2.0 * kept);
        let elements = (32 + 8 + 8 + 32) * 128 * 128;
        assert_eq!(work.bytes, elements * 4);
    }

    #[test]
    fn unmasked_attention_needs_every_score() {
        let work = work_of("flux-attn");
        let scores = 24.0 * 256.0 * 256.0;
        let expected = NecessaryWork {
            macs: 2.0 * scores * 128.0,
            adds: 2.0 * scores,
            maxes: scores,
            divs: 2.0 * scores,
            exps: scores,
            sqrts: 0.0,
            bytes: 4 * 24 * 256 * 128 * 4,
        };
        assert_eq!(work, expected);
    }

    #[test]
    fn swiglu_counts_silus_exp_and_division() {
        let work = work_of("deepseek-r1-moe");
        let (t, h, w) = (64.0f64, 1792.0f64, 512.0f64);
        assert_eq!(work.macs, 3.0 * t * h * w);
        // silu(g) * u = g / (1 + exp(-g)) * u: a negation, an add, a multiply.
        assert_eq!((work.adds, work.exps, work.divs, work.maxes), (3.0 * t * w, t * w, t * w, 0.0));
        assert_eq!(work.bytes, (64 * 1792 + 3 * 1792 * 512 + 64 * 1792) * 4);
    }

    #[test]
    fn convolution_taps_on_the_zero_padding_are_not_needed() {
        let work = work_of("flux-conv");
        // Per image axis, 32 outputs see 3 taps but the two edges one less.
        let taps_per_axis = 32.0 * 3.0 - 2.0;
        assert_eq!(work.macs, 128.0 * 128.0 * taps_per_axis * taps_per_axis);
        assert_eq!(work.adds, 128.0 * 32.0 * 32.0);
    }

    /// `O = exp(select(cond, A, -inf)) · V` over n×n scores, width 8.
    fn masked(cond: crate::builder::NamedCond, n: usize) -> NecessaryWork {
        ProgramBuilder::new("masked")
            .input("A", &[n, n])
            .input("V", &[n, 8])
            .temp("S", &[n, n])
            .temp("E", &[n, n])
            .output("O", &[n, 8])
            .stage(
                "S",
                &["i", "j"],
                Combine::Assign,
                select(cond, load("A", [ax("i"), ax("j")]), cst(f32::NEG_INFINITY)),
            )
            .stage("E", &["i", "j"], Combine::Assign, exp(load("S", [ax("i"), ax("j")])))
            .stage("O", &["i", "d"], Combine::Sum, load("E", [ax("i"), ax("j")]) * load("V", [ax("j"), ax("d")]))
            .build()
            .unwrap()
            .necessary_work()
    }

    #[test]
    fn a_select_that_keeps_nothing_needs_nothing_behind_it() {
        let work = masked(index_cmp(ax("j"), CmpOp::Lt, IndexExpr::Const(0)), 16);
        assert_eq!(work, NecessaryWork { bytes: (16 * 16 + 16 * 8 + 16 * 8) * 4, ..NecessaryWork::default() });
    }

    #[test]
    fn a_select_that_keeps_everything_needs_everything() {
        let work = masked(index_cmp(ax("j"), CmpOp::Ge, IndexExpr::Const(0)), 16);
        assert_eq!((work.macs, work.exps, work.adds), (16.0 * 16.0 * 8.0, 16.0 * 16.0, 0.0));
    }

    #[test]
    fn past_the_size_limit_a_mask_is_not_followed_and_every_point_counts() {
        let n = 4097; // n² just past MAX_ANALYSED_ELEMENTS
        assert!((n * n) as u64 > MAX_ANALYSED_ELEMENTS && ((n - 1) * (n - 1)) as u64 <= MAX_ANALYSED_ELEMENTS);
        let work = masked(index_cmp(ax("j"), CmpOp::Le, ax("i")), n);
        let scores = (n * n) as f64;
        assert_eq!((work.macs, work.exps), (scores * 8.0, scores));
    }

    #[test]
    fn a_band_keeps_its_own_points() {
        // |i - j| <= 1 on 16×16: 16 + 2·15 scores.
        let near = crate::expr::Cond::And(
            Box::new(index_cmp(ax("j"), CmpOp::Le, ax("i") + 1)),
            Box::new(index_cmp(ax("j") + 1, CmpOp::Ge, ax("i"))),
        );
        let work = masked(near, 16);
        assert_eq!((work.macs, work.exps), (46.0 * 8.0, 46.0));
    }
}
