//! Vectorised reductions (TVM's `rfactor`): the `rfactor` decision and
//! the rule that makes it legal.
//!
//! A stage's `vector` lanes run along its innermost *spatial* axis. A
//! reduction whose operands are contiguous along its innermost
//! *reduction* axis instead (softmax's row max and row sum, a norm's sum of
//! squares, a matrix-vector product's dot products) would need them packed
//! (transposed) on every call to vectorise that way. With `rfactor = L`,
//! each register-tile point keeps a vector of `L` partial results over the
//! innermost `R1` loop, which steps by `L`; a scalar loop takes the points
//! left over at the end of the axis, and the vector is reduced across its
//! lanes (a tree of halves, `colt_hsum`/`colt_hmax` of the reduction
//! prelude) once per point and `R0` step, then combined into the output.
//!
//! The lanes live on one axis at a time: a stage with `rfactor > 1` is
//! scalar along its spatial axes (`vector = 1`). The `rfactor` edit moves
//! the lanes to the reduction axis and `vectorize` moves them back, so
//! either is one step of the search. `accumulator = registers` keeps every
//! point of the register tile's vector partials live over the `R1` loops
//! (loads that do not depend on a point, e.g. `x[k]` of `W[n,k]·x[k]`, are
//! shared); `memory` computes the points one after another, each over its
//! own `R1` loops. Edge tiles take the second form. OpenCL's space does not
//! offer the decision.
//!
//! Legal where: the target is the CPU; the stage reduces (sum or max); every
//! index of its body (loads and index conditions, after packing) is affine
//! in the innermost reduction axis and every load reads with stride 0 or 1
//! along it (a vector load or a broadcast; other strides would be gathers,
//! which cost what the scalar loop costs, so they are refused), with no
//! padding check that depends on it; and the lanes divide the axis's `R1`
//! factor (so only the last, partial `R0` tile has a scalar tail).

use super::analysis::load_stride;
use super::error::ScheduleError;
use super::{StageSchedule, Target, VECTOR_WIDTHS};
use crate::expr::{AxisId, Expr, Load};
use crate::program::{Combine, Program, Stage};

/// The axis an `rfactor` vectorises: the stage's innermost (last declared)
/// reduction axis, whose `R1` loop is the innermost of the `R1` nest.
pub fn rfactor_axis(stage: &Stage) -> Option<AxisId> {
    stage.reduction_axes().last().map(|(id, _)| id)
}

/// Why stage `stage` (body `body` in the program `program` after packing)
/// cannot take `sched.rfactor` lanes on `target`, if it cannot.
pub fn check_rfactor(
    program: &Program,
    stage: &Stage,
    body: &Expr,
    sched: &StageSchedule,
    target: Target,
) -> Result<(), ScheduleError> {
    let lanes = sched.rfactor;
    let name = program.stage_name(stage).to_string();
    if lanes == 1 {
        return Ok(());
    }
    if target != Target::Cpu {
        return Err(ScheduleError::RfactorOnOpenCl { stage: name });
    }
    if !VECTOR_WIDTHS.contains(&lanes) {
        let widths = VECTOR_WIDTHS.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ");
        return Err(ScheduleError::BadVectorWidth { stage: name, lanes, widths });
    }
    let obstacle = |reason: String| ScheduleError::NotRfactorable { stage: name.clone(), reason };
    let Some(axis) = rfactor_axis(stage).filter(|_| stage.combine != Combine::Assign) else {
        return Err(obstacle("it has no reduction axis".to_string()));
    };
    if sched.vector > 1 {
        return Err(ScheduleError::RfactorWithSpatialVector { stage: name, vector: sched.vector });
    }
    if let Some(reason) = reduction_obstacle(program, stage, body, axis) {
        return Err(obstacle(reason));
    }
    let r1 = sched.tiles[axis.0][0];
    if !r1.is_multiple_of(lanes) {
        let axis = stage.axis(axis).name.clone();
        return Err(ScheduleError::RfactorDoesNotDivideTile { stage: name, lanes, axis, r1 });
    }
    Ok(())
}

/// Why `body` cannot be read in vectors along reduction `axis`, if it
/// cannot: an index that divides or takes a modulo of the axis, a load
/// with a stride other than 0 or 1 along it, or a padding check that
/// depends on it.
fn reduction_obstacle(program: &Program, stage: &Stage, body: &Expr, axis: AxisId) -> Option<String> {
    let axis_name = &stage.axis(axis).name;
    let mut nonlinear = false;
    body.for_each_index(&mut |e| nonlinear |= e.mentions(&axis) && !e.is_linear_in(&axis));
    if nonlinear {
        return Some(format!("an index divides or takes a modulo of `{axis_name}`"));
    }
    let ranges: Vec<(i64, i64)> = stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect();
    let mut obstacle = None;
    body.for_each_load(&mut |l: &Load| {
        if obstacle.is_some() {
            return;
        }
        let name = &program.buffer(l.buffer).name;
        match load_stride(program, l, axis) {
            Some(0) | Some(1) => {}
            Some(s) => obstacle = Some(format!("`{name}` is read with stride {s} along `{axis_name}`")),
            None => obstacle = Some(format!("`{name}` is indexed by a division or modulo of `{axis_name}`")),
        }
        if l.pad.is_some() {
            let shape = &program.buffer(l.buffer).shape;
            for (e, &extent) in l.index.iter().zip(shape) {
                let (lo, hi) = e.range(&|a: &AxisId| ranges[a.0]);
                if e.mentions(&axis) && (lo < 0 || hi >= extent as i64) {
                    obstacle = Some(format!("the padding of `{name}` depends on `{axis_name}`"));
                }
            }
        }
    });
    obstacle
}

/// Whether stage `s`'s body could take `rfactor` at all: a reduction
/// read with stride 0 or 1 along its innermost reduction axis. The
/// samplers draw the decision only there.
pub fn rfactorable(program: &Program, stage: &Stage, body: &Expr) -> bool {
    stage.combine != Combine::Assign
        && rfactor_axis(stage).is_some_and(|axis| reduction_obstacle(program, stage, body, axis).is_none())
}
