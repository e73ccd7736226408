//! The reference interpreter: the oracle every generated kernel is checked
//! against.
//!
//! It evaluates a program stage by stage straight from its definition, with
//! no schedule. To be fast enough for the suite (every bench workload in
//! well under a few seconds on 2 cores) without giving up obvious
//! correctness, it evaluates a stage body for a whole row of one *batch axis*
//! at a time — each expression node yields a vector over that axis — so the
//! interpretation overhead is paid once per row rather than per element.
//! Sums accumulate in f64, so the oracle is more accurate than any kernel it
//! judges. Stages split their outermost spatial axis over threads.

use crate::expr::{AxisId, BinaryOp, CmpOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::program::{AxisKind, Combine, Program, Stage};

/// Evaluates every stage of `program` in order. `buffers` holds every buffer
/// in declaration order with inputs filled; temporaries and outputs are
/// overwritten.
///
/// # Panics
/// When `buffers` does not match the program's buffers in number and
/// lengths (a caller bug, not a user error).
pub fn run(program: &Program, buffers: &mut [Vec<f32>]) {
    assert_eq!(buffers.len(), program.buffers().len(), "one Vec per buffer");
    for (b, data) in program.buffers().iter().zip(buffers.iter()) {
        assert_eq!(data.len(), b.len(), "buffer {} has the wrong length", b.name);
    }
    for stage in program.stages() {
        let mut output = std::mem::take(&mut buffers[stage.output.0]);
        run_stage(program, stage, buffers, &mut output);
        buffers[stage.output.0] = output;
    }
}

/// Every buffer after a run on the seeded inputs: the reference result.
pub fn evaluate(program: &Program, seed: u64) -> Vec<Vec<f32>> {
    let mut buffers = crate::data::initial_buffers(program, seed);
    run(program, &mut buffers);
    buffers
}

/// How a stage's iteration domain is walked.
struct Walk {
    /// The axis evaluated as a vector, if the stage has any axis.
    batch: Option<AxisId>,
    /// Lanes per vector: the batch axis's extent, or 1.
    lanes: usize,
    /// The spatial axis split over threads, if any.
    split: Option<AxisId>,
}

fn plan_walk(program: &Program, stage: &Stage) -> Walk {
    // The row runs along the axis that makes the most loads contiguous or
    // constant (cache-friendly gathers), then the longest; ties go inward.
    let mut loads = Vec::new();
    stage.body.for_each_load(&mut |l| loads.push(l));
    let friendly_loads = |axis: AxisId| {
        loads
            .iter()
            .filter(|l| {
                let strides = program.buffer(l.buffer).strides();
                let steps: Option<i64> = l
                    .index
                    .iter()
                    .zip(&strides)
                    .map(|(e, &s)| IndexPlan::new(e, Some(axis)).step.map(|step| step * s as i64))
                    .sum();
                matches!(steps, Some(-1..=1))
            })
            .count()
    };
    let batch =
        (0..stage.axes.len()).map(AxisId).max_by_key(|&a| (friendly_loads(a), stage.axes[a.0].extent.min(64), a.0));
    let lanes = batch.map_or(1, |b| stage.axes[b.0].extent);
    // Threads own contiguous slices of the output: split the first spatial
    // axis whose predecessors all have extent 1.
    let split = stage.spatial_axes().find(|(_, a)| a.extent > 1).map(|(id, _)| id).filter(|id| Some(*id) != batch);
    Walk { batch, lanes, split }
}

fn run_stage(program: &Program, stage: &Stage, buffers: &[Vec<f32>], output: &mut [f32]) {
    let walk = plan_walk(program, stage);
    let out_strides = program.buffer(stage.output).strides();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let Some(split) = walk.split.filter(|_| threads > 1) else {
        let extent = walk.split.map_or(1, |s| stage.axes[s.0].extent);
        run_rows(program, stage, &walk, buffers, output, 0, (0, extent), &out_strides);
        return;
    };
    let extent = stage.axes[split.0].extent;
    let row = out_strides[split.0];
    let per_thread = extent.div_ceil(threads);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in output.chunks_mut(per_thread * row).enumerate() {
            let start = chunk_index * per_thread;
            let end = (start + per_thread).min(extent);
            let walk = &walk;
            let out_strides = &out_strides;
            scope.spawn(move || run_rows(program, stage, walk, buffers, chunk, start * row, (start, end), out_strides));
        }
    });
}

/// Evaluates the points whose split axis lies in `range`, writing into
/// `out`, which starts at element `out_base` of the output buffer.
#[allow(clippy::too_many_arguments)]
fn run_rows(
    program: &Program,
    stage: &Stage,
    walk: &Walk,
    buffers: &[Vec<f32>],
    out: &mut [f32],
    out_base: usize,
    range: (usize, usize),
    out_strides: &[usize],
) {
    let mut vm = Vm::compile(program, stage, walk, buffers);
    let n_axes = stage.axes.len();
    // Odometer over every axis except the batch axis, split axis limited to
    // `range`.
    let bounds: Vec<(usize, usize)> = (0..n_axes)
        .map(|i| {
            if Some(AxisId(i)) == walk.batch {
                (0, 1)
            } else if Some(AxisId(i)) == walk.split {
                range
            } else {
                (0, stage.axes[i].extent)
            }
        })
        .collect();
    if bounds.iter().any(|(lo, hi)| lo >= hi) {
        return;
    }
    let batch_is_reduction = walk.batch.is_some_and(|b| stage.axes[b.0].kind == AxisKind::Reduction);
    let mut point: Vec<i64> = bounds.iter().map(|(lo, _)| *lo as i64).collect();
    // Spatial axes are outermost, so all reduction points of one output
    // element (or one row of them, when the batch axis is spatial) are
    // visited in one run of consecutive odometer steps.
    let n_spatial = stage.spatial_axes().count();
    let accumulators = if batch_is_reduction { 1 } else { walk.lanes };
    let mut acc_sum = vec![0.0f64; accumulators];
    let mut acc_max = vec![f32::NEG_INFINITY; accumulators];
    let out_step = walk.batch.filter(|_| !batch_is_reduction).map_or(0, |b| out_strides[b.0]);
    loop {
        if (n_spatial..n_axes).all(|i| point[i] as usize == bounds[i].0) {
            acc_sum.fill(0.0);
            acc_max.fill(f32::NEG_INFINITY);
        }
        let values = vm.eval(&point);
        match (stage.combine, batch_is_reduction) {
            (Combine::Max, true) => acc_max[0] = values.iter().fold(acc_max[0], |m, &v| m.max(v)),
            (Combine::Max, false) => acc_max.iter_mut().zip(values).for_each(|(m, &v)| *m = m.max(v)),
            (_, true) => acc_sum[0] += values.iter().map(|&v| v as f64).sum::<f64>(),
            // A sum over no reduction axis is the value itself, exactly.
            (_, false) => acc_sum.iter_mut().zip(values).for_each(|(a, &v)| *a += v as f64),
        }
        if (n_spatial..n_axes).all(|i| point[i] as usize + 1 == bounds[i].1) {
            let base: usize = (0..n_spatial).map(|i| point[i] as usize * out_strides[i]).sum::<usize>() - out_base;
            for t in 0..accumulators {
                out[base + t * out_step] = if stage.combine == Combine::Max { acc_max[t] } else { acc_sum[t] as f32 };
            }
        }
        // Advance the odometer, innermost axis first.
        let mut axis = n_axes;
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            point[axis] += 1;
            if (point[axis] as usize) < bounds[axis].1 {
                break;
            }
            point[axis] = bounds[axis].0 as i64;
        }
    }
}

/// Where a value of the body lives during a row evaluation.
type Reg = usize;

/// An index expression prepared for row evaluation: its step per lane of
/// the batch axis, when it is linear in that axis (the step of an affine
/// expression does not depend on the other axes, so it is computed once).
struct IndexPlan<'p> {
    expr: &'p IndexExpr,
    step: Option<i64>,
}

impl<'p> IndexPlan<'p> {
    fn new(expr: &'p IndexExpr, batch: Option<AxisId>) -> IndexPlan<'p> {
        let step = match batch {
            Some(b) if expr.mentions(&b) => expr.is_linear_in(&b).then(|| {
                let at = |lane| expr.eval(&|a: &AxisId| if *a == b { lane } else { 0 });
                at(1) - at(0)
            }),
            _ => Some(0),
        };
        IndexPlan { expr, step }
    }

    fn base(&self, point: &[i64], batch: Option<AxisId>) -> i64 {
        eval_at(self.expr, point, batch, 0)
    }
}

enum Op<'p> {
    Const {
        dst: Reg,
        value: f32,
    },
    Load {
        dst: Reg,
        load: &'p Load,
        data: &'p [f32],
        shape: &'p [usize],
        strides: Vec<usize>,
        dims: Vec<IndexPlan<'p>>,
    },
    Unary {
        dst: Reg,
        op: UnaryOp,
        a: Reg,
    },
    Binary {
        dst: Reg,
        op: BinaryOp,
        a: Reg,
        b: Reg,
    },
    Select {
        dst: Reg,
        mask: Reg,
        a: Reg,
        b: Reg,
    },
    CmpIndex {
        mask: Reg,
        a: IndexPlan<'p>,
        op: CmpOp,
        b: IndexPlan<'p>,
    },
    CmpValue {
        mask: Reg,
        a: Reg,
        op: CmpOp,
        b: Reg,
    },
    And {
        mask: Reg,
        a: Reg,
        b: Reg,
    },
    Or {
        mask: Reg,
        a: Reg,
        b: Reg,
    },
}

/// A stage body compiled to a list of vector operations over the batch axis.
struct Vm<'p> {
    ops: Vec<Op<'p>>,
    values: Vec<Vec<f32>>,
    masks: Vec<Vec<bool>>,
    result: Reg,
    batch: Option<AxisId>,
    lanes: usize,
    scratch: Vec<i64>,
    offsets: Vec<i64>,
    valid: Vec<bool>,
}

impl<'p> Vm<'p> {
    fn compile(program: &'p Program, stage: &'p Stage, walk: &Walk, buffers: &'p [Vec<f32>]) -> Vm<'p> {
        let mut vm = Vm {
            ops: Vec::new(),
            values: Vec::new(),
            masks: Vec::new(),
            result: 0,
            batch: walk.batch,
            lanes: walk.lanes,
            scratch: vec![0; walk.lanes],
            offsets: vec![0; walk.lanes],
            valid: vec![true; walk.lanes],
        };
        vm.result = vm.expr(program, &stage.body, buffers);
        vm
    }

    fn value_reg(&mut self) -> Reg {
        self.values.push(vec![0.0; self.lanes]);
        self.values.len() - 1
    }

    fn mask_reg(&mut self) -> Reg {
        self.masks.push(vec![false; self.lanes]);
        self.masks.len() - 1
    }

    fn expr(&mut self, program: &'p Program, e: &'p Expr, buffers: &'p [Vec<f32>]) -> Reg {
        match e {
            Expr::Const(value) => {
                let dst = self.value_reg();
                self.ops.push(Op::Const { dst, value: *value });
                dst
            }
            Expr::Load(load) => {
                let dst = self.value_reg();
                let buf = program.buffer(load.buffer);
                let data = buffers[load.buffer.0].as_slice();
                let dims = load.index.iter().map(|e| IndexPlan::new(e, self.batch)).collect();
                self.ops.push(Op::Load { dst, load, data, shape: &buf.shape, strides: buf.strides(), dims });
                dst
            }
            Expr::Unary(op, a) => {
                let a = self.expr(program, a, buffers);
                let dst = self.value_reg();
                self.ops.push(Op::Unary { dst, op: *op, a });
                dst
            }
            Expr::Binary(op, a, b) => {
                let a = self.expr(program, a, buffers);
                let b = self.expr(program, b, buffers);
                let dst = self.value_reg();
                self.ops.push(Op::Binary { dst, op: *op, a, b });
                dst
            }
            Expr::Select(cond, a, b) => {
                // Both branches are evaluated: validation guarantees every
                // unpadded load is in range, so this is safe, and the result
                // is the chosen branch's value either way.
                let mask = self.cond(program, cond, buffers);
                let a = self.expr(program, a, buffers);
                let b = self.expr(program, b, buffers);
                let dst = self.value_reg();
                self.ops.push(Op::Select { dst, mask, a, b });
                dst
            }
        }
    }

    fn cond(&mut self, program: &'p Program, c: &'p Cond, buffers: &'p [Vec<f32>]) -> Reg {
        match c {
            Cond::Index(a, op, b) => {
                let mask = self.mask_reg();
                let (a, b) = (IndexPlan::new(a, self.batch), IndexPlan::new(b, self.batch));
                self.ops.push(Op::CmpIndex { mask, a, op: *op, b });
                mask
            }
            Cond::Value(a, op, b) => {
                let a = self.expr(program, a, buffers);
                let b = self.expr(program, b, buffers);
                let mask = self.mask_reg();
                self.ops.push(Op::CmpValue { mask, a, op: *op, b });
                mask
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                let a = self.cond(program, a, buffers);
                let b = self.cond(program, b, buffers);
                let mask = self.mask_reg();
                self.ops.push(if matches!(c, Cond::And(..)) { Op::And { mask, a, b } } else { Op::Or { mask, a, b } });
                mask
            }
        }
    }

    /// The body's values for every lane of the batch axis at `point` (whose
    /// batch coordinate is ignored).
    fn eval(&mut self, point: &[i64]) -> &[f32] {
        let batch = self.batch;
        for op in &self.ops {
            match op {
                Op::Const { dst, value } => self.values[*dst].fill(*value),
                Op::Load { dst, load, data, shape, strides, dims } => {
                    let mut out = std::mem::take(&mut self.values[*dst]);
                    let row = Row { point, batch };
                    row.gather(
                        load,
                        dims,
                        data,
                        shape,
                        strides,
                        &mut out,
                        &mut self.scratch,
                        &mut self.offsets,
                        &mut self.valid,
                    );
                    self.values[*dst] = out;
                }
                Op::Unary { dst, op, a } => {
                    let mut out = std::mem::take(&mut self.values[*dst]);
                    for (o, &x) in out.iter_mut().zip(&self.values[*a]) {
                        *o = op.apply(x);
                    }
                    self.values[*dst] = out;
                }
                Op::Binary { dst, op, a, b } => {
                    let mut out = std::mem::take(&mut self.values[*dst]);
                    let lanes = out.iter_mut().zip(self.values[*a].iter().zip(&self.values[*b]));
                    match op {
                        // The hot cases get loops the compiler vectorises.
                        BinaryOp::Mul => lanes.for_each(|(o, (&x, &y))| *o = x * y),
                        BinaryOp::Add => lanes.for_each(|(o, (&x, &y))| *o = x + y),
                        _ => lanes.for_each(|(o, (&x, &y))| *o = op.apply(x, y)),
                    }
                    self.values[*dst] = out;
                }
                Op::Select { dst, mask, a, b } => {
                    let mut out = std::mem::take(&mut self.values[*dst]);
                    let choices = self.masks[*mask].iter().zip(self.values[*a].iter().zip(&self.values[*b]));
                    for (o, (&m, (&x, &y))) in out.iter_mut().zip(choices) {
                        *o = if m { x } else { y };
                    }
                    self.values[*dst] = out;
                }
                Op::CmpIndex { mask, a, op, b } => {
                    let mut out = std::mem::take(&mut self.masks[*mask]);
                    let (a0, b0) = (a.base(point, batch), b.base(point, batch));
                    for (t, o) in out.iter_mut().enumerate() {
                        let lane = t as i64;
                        let x = a.step.map_or_else(|| eval_at(a.expr, point, batch, lane), |s| a0 + s * lane);
                        let y = b.step.map_or_else(|| eval_at(b.expr, point, batch, lane), |s| b0 + s * lane);
                        *o = op.holds(x, y);
                    }
                    self.masks[*mask] = out;
                }
                Op::CmpValue { mask, a, op, b } => {
                    let mut out = std::mem::take(&mut self.masks[*mask]);
                    for (o, (&x, &y)) in out.iter_mut().zip(self.values[*a].iter().zip(&self.values[*b])) {
                        *o = op.holds(x, y);
                    }
                    self.masks[*mask] = out;
                }
                Op::And { mask, a, b } | Op::Or { mask, a, b } => {
                    let is_and = matches!(op, Op::And { .. });
                    let mut out = std::mem::take(&mut self.masks[*mask]);
                    for (o, (&x, &y)) in out.iter_mut().zip(self.masks[*a].iter().zip(&self.masks[*b])) {
                        *o = if is_and { x && y } else { x || y };
                    }
                    self.masks[*mask] = out;
                }
            }
        }
        &self.values[self.result]
    }
}

fn eval_at(e: &IndexExpr, point: &[i64], batch: Option<AxisId>, lane: i64) -> i64 {
    e.eval(&|a: &AxisId| if Some(*a) == batch { lane } else { point[a.0] })
}

/// One row of the iteration domain: a point, and the axis that varies.
struct Row<'a> {
    point: &'a [i64],
    batch: Option<AxisId>,
}

impl Row<'_> {
    #[allow(clippy::too_many_arguments)]
    fn gather(
        &self,
        load: &Load,
        dims: &[IndexPlan],
        data: &[f32],
        shape: &[usize],
        strides: &[usize],
        out: &mut [f32],
        scratch: &mut [i64],
        offsets: &mut [i64],
        valid: &mut [bool],
    ) {
        let lanes = out.len() as i64;
        if dims.iter().all(|d| d.step.is_some()) {
            // Every index is linear along the row: one strided walk over
            // the lanes where all indices are in range (all of them when
            // unpadded: validation proved it), padding elsewhere.
            let (mut first, mut end) = (0i64, lanes);
            let mut base = 0i64;
            let mut step = 0i64;
            for ((d, &extent), &stride) in dims.iter().zip(shape).zip(strides) {
                let (b, s) = (d.base(self.point, self.batch), d.step.unwrap_or(0));
                base += b * stride as i64;
                step += s * stride as i64;
                if load.pad.is_some() {
                    let (lo, hi) = lanes_in_range(b, s, extent as i64);
                    first = first.max(lo);
                    end = end.min(hi);
                }
            }
            let pad = load.pad.unwrap_or(0.0);
            for (t, o) in out.iter_mut().enumerate() {
                let t = t as i64;
                *o = if t >= first && t < end { data[(base + step * t) as usize] } else { pad };
            }
            return;
        }
        offsets.fill(0);
        valid.fill(true);
        for ((d, &extent), &stride) in dims.iter().zip(shape).zip(strides) {
            let base = d.base(self.point, self.batch);
            for (t, s) in scratch.iter_mut().enumerate() {
                *s = match d.step {
                    Some(step) => base + step * t as i64,
                    None => eval_at(d.expr, self.point, self.batch, t as i64),
                };
            }
            for ((&i, v), o) in scratch.iter().zip(valid.iter_mut()).zip(offsets.iter_mut()) {
                *v &= i >= 0 && i < extent as i64;
                *o += i * stride as i64;
            }
        }
        let pad = load.pad.unwrap_or(0.0);
        for ((o, &v), &off) in out.iter_mut().zip(valid.iter()).zip(offsets.iter()) {
            *o = if v { data[off as usize] } else { pad };
        }
    }
}

/// The lanes `t` with `0 <= base + step * t < extent`, as a half-open range.
fn lanes_in_range(base: i64, step: i64, extent: i64) -> (i64, i64) {
    match step.cmp(&0) {
        std::cmp::Ordering::Equal => {
            if base >= 0 && base < extent {
                (0, i64::MAX)
            } else {
                (0, 0)
            }
        }
        std::cmp::Ordering::Greater => {
            // t >= ceil(-base / step) and t <= floor((extent - 1 - base) / step)
            let lo = (-base).div_euclid(step) + i64::from((-base).rem_euclid(step) != 0);
            let hi = (extent - 1 - base).div_euclid(step) + 1;
            (lo.max(0), hi)
        }
        std::cmp::Ordering::Less => {
            let (s, b) = (-step, base);
            // base - s*t >= 0  => t <= floor(base / s); base - s*t < extent => t > (base - extent) / s
            let hi = b.div_euclid(s) + 1;
            let lo = (b - extent).div_euclid(s) + 1;
            (lo.max(0), hi)
        }
    }
}
