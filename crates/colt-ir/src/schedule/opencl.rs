//! The OpenCL schedule space: the same sketches, decisions and edits as on
//! the CPU, read for a GPU (after MetaSchedule's GPU multi-level tiling,
//! `S S R S R S` with the outer spatial levels bound to the grid).
//!
//! # What each decision means on OpenCL
//!
//! Every root stage is one kernel, enqueued in program order (a launch
//! boundary is the barrier between phases). For a spatial axis with
//! factors `[f1, f2, f3]`:
//! - `S0` is bound to the **work-groups**: each group computes a tile of
//!   `f1·f2·f3` points of the axis, and there are `⌈extent / tile⌉` groups
//!   along it (groups of all axes are flattened into dimension 0 of the
//!   NDRange);
//! - `S1` is bound to the **work-items** of a group: `f1` along the axis, so
//!   the work-group size is the product of every spatial axis's `f1` (at most
//!   [`MAX_WORK_GROUP`]);
//! - `S2` (`f2` steps of `f3`) and `S3` (the register tile of `f3`) are
//!   each work-item's own loops, exactly as on the CPU: the register tile
//!   with `accumulate(into="registers")` lives in private variables, and its
//!   innermost axis is vectorised with `float2/4/8` loads and arithmetic.
//!
//! A reduction axis's `[r1]` splits it into `R0` steps of `r1`: the loop in
//! which operands staged in local memory are refreshed. `unroll` puts
//! `#pragma unroll` on the innermost loops.
//!
//! Operands may be **staged in `__local` memory** (`pack(..., layout=
//! "local")`): for each `R0` step the group's work-items copy the region of
//! the operand that the group's tile reads (the affine image of the group
//! tile and the `r1` block, padding included) into a local array, wait at a
//! barrier, compute from it, and wait again before the next step. Staging
//! needs every read of the operand at one affine index with non-negative
//! coefficients, and all staged regions of a stage fit [`MAX_LOCAL_FLOATS`].
//!
//! A stage **computed at** another stage's group loop (its last `S0` loop,
//! the only attach point on OpenCL) runs inside that stage's kernel, on the
//! region the work-group needs, point by point over the group's work-items,
//! followed by a barrier: for attention, the softmax row pipeline of a
//! group's rows in one kernel. Its own tiles do not apply there.
//!
//! There is no `parallel` decision (everything spatial is bound), and the
//! CPU's packed and blocked layouts do not exist on OpenCL.

use super::analysis::{tile_sizes, LoopLevel, Section};
use super::error::ScheduleError;
use super::StageSchedule;
use crate::expr::{AxisId, BufferId, Expr, IndexExpr};
use crate::program::{AxisKind, Program, Stage};

/// Vector widths on OpenCL: `float`, `float2`, `float4`, `float8`.
pub const VECTOR_WIDTHS: [usize; 4] = [1, 2, 4, 8];

/// The most work-items a work-group may have: what every OpenCL GPU and
/// pocl's CPU device accept.
pub const MAX_WORK_GROUP: usize = 256;

/// The most floats a work-item's register tile may hold (accumulating in
/// registers): a GPU thread has a few hundred registers at most, and
/// spilling tiles go to slow private memory.
pub const MAX_TILE_FLOATS: usize = 64;

/// The most floats a stage may stage in local memory per work-group (32
/// KiB, the local memory of most GPUs).
pub const MAX_LOCAL_FLOATS: usize = 8192;

/// Whether loop `index` of a stage's `order` is its group loop (the last
/// `S0` loop), the attach point of compute-at on OpenCL.
pub fn is_group_loop(order: &[LoopLevel], index: usize) -> bool {
    order.get(index).is_some_and(|l| l.section == Section::S0)
        && order.get(index + 1).is_none_or(|n| n.section != Section::S0)
}

/// Work-items per work-group of a stage with decisions `sched`: the
/// product of its spatial axes' `f1`.
pub fn work_group_size(stage: &Stage, sched: &StageSchedule) -> usize {
    stage.spatial_axes().map(|(a, _)| sched.tiles[a.0][0]).product()
}

/// Work-groups of a root stage with decisions `sched`: the product over its
/// spatial axes of the number of group tiles.
pub fn work_groups(stage: &Stage, sched: &StageSchedule) -> usize {
    stage.spatial_axes().map(|(a, axis)| axis.extent.div_ceil(tile_sizes(&sched.tiles[a.0])[0])).product()
}

/// One dimension of a staged region: the operand's index in that dimension
/// is `constant + Σ coefficient·axis`, and the region spans `len` values of
/// it from its value at the group's (and `R0` step's) first point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionDim {
    pub constant: i64,
    pub terms: Vec<(AxisId, i64)>,
    pub len: usize,
}

/// The region of an operand a work-group stages in local memory.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalRegion {
    pub buffer: BufferId,
    pub dims: Vec<RegionDim>,
    /// The value outside the buffer (its reads' padding), 0 without one.
    pub pad: f32,
}

impl LocalRegion {
    pub fn floats(&self) -> usize {
        self.dims.iter().map(|d| d.len).product()
    }
}

/// `e` as `constant + Σ coefficient·axis`, or `None` when it divides or
/// takes a remainder.
fn affine(e: &IndexExpr) -> Option<(i64, Vec<(AxisId, i64)>)> {
    fn add(mut a: Vec<(AxisId, i64)>, b: Vec<(AxisId, i64)>, sign: i64) -> Vec<(AxisId, i64)> {
        for (axis, k) in b {
            match a.iter_mut().find(|(x, _)| *x == axis) {
                Some((_, c)) => *c += sign * k,
                None => a.push((axis, sign * k)),
            }
        }
        a.retain(|(_, k)| *k != 0);
        a
    }
    match e {
        IndexExpr::Axis(a) => Some((0, vec![(*a, 1)])),
        IndexExpr::Const(c) => Some((*c, Vec::new())),
        IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => {
            let sign = if matches!(e, IndexExpr::Add(..)) { 1 } else { -1 };
            let ((ca, ta), (cb, tb)) = (affine(a)?, affine(b)?);
            Some((ca + sign * cb, add(ta, tb, sign)))
        }
        IndexExpr::Mul(a, k) => {
            let (c, t) = affine(a)?;
            Some((c * k, t.into_iter().map(|(x, v)| (x, v * k)).collect()))
        }
        IndexExpr::Div(..) | IndexExpr::Mod(..) => None,
    }
}

/// The regions stage `s` of `program` stages in local memory under its
/// decisions `sched`, reading them as its body after inlining (`body`)
/// does, or why it cannot.
pub fn local_regions(
    program: &Program,
    s: usize,
    body: &Expr,
    sched: &StageSchedule,
) -> Result<Vec<LocalRegion>, ScheduleError> {
    let stage = &program.stages()[s];
    let name = program.stage_name(stage).to_string();
    let mut regions = Vec::new();
    for &b in &sched.local {
        let buffer = BufferId(b);
        let operand = program.buffer(buffer).name.clone();
        let refuse = |reason: &str| ScheduleError::LocalNotStageable {
            stage: name.clone(),
            operand: operand.clone(),
            reason: reason.to_string(),
        };
        let mut reads = Vec::new();
        body.for_each_load(&mut |l| {
            if l.buffer == buffer {
                reads.push(l.clone());
            }
        });
        let Some(first) = reads.first() else { return Err(refuse("the stage does not read it")) };
        if reads.iter().any(|l| l.index != first.index || l.pad != first.pad) {
            return Err(refuse("the stage reads it at different indices"));
        }
        let mut dims = Vec::new();
        for e in &first.index {
            let (constant, terms) =
                affine(e).ok_or_else(|| refuse("an index divides or takes a remainder, so its region is not a box"))?;
            if terms.iter().any(|&(_, k)| k < 0) {
                return Err(refuse("an index decreases along an axis"));
            }
            let len = 1 + terms
                .iter()
                .map(|&(a, k)| {
                    let axis = stage.axis(a);
                    let size = match axis.kind {
                        AxisKind::Spatial => tile_sizes(&sched.tiles[a.0])[0],
                        AxisKind::Reduction => sched.tiles[a.0][0],
                    };
                    k as usize * (size.min(axis.extent) - 1)
                })
                .sum::<usize>();
            dims.push(RegionDim { constant, terms, len });
        }
        regions.push(LocalRegion { buffer, dims, pad: first.pad.unwrap_or(0.0) });
    }
    let floats: usize = regions.iter().map(LocalRegion::floats).sum();
    if floats > MAX_LOCAL_FLOATS {
        return Err(ScheduleError::LocalTooLarge { stage: name, floats, max: MAX_LOCAL_FLOATS });
    }
    Ok(regions)
}
