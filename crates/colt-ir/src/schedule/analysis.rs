//! What a schedule means: loop orders, tile sizes, compute-at groups and
//! their bindings, strides. The rules that every decision must keep are in
//! `check`, which reads them through these.
//!
//! # Compute-at, precisely
//!
//! A stage `X` placed at loop `p` of a root stage `R` joins `R`'s *group*.
//! Inside `R`'s loop nest, at the start of the body of loop `p`, the group's
//! members placed there run in program order, each on a *region* of its
//! output: a member's output dimension is *bound* to an axis `a` of `R` when
//! every read of it by the group (by `R`, or by a member bound in turn)
//! indexes it by exactly an axis bound to `a`; a bound dimension covers the
//! tile of `a` that the loops enclosing `p` select, an unbound one its whole
//! extent. The rules that make this correct:
//!
//! 1. Every consumer of `X` either runs in a later phase than `R`'s group,
//!    or is in the group at the same or a deeper loop (or is `R`).
//! 2. Every loop enclosing `p` that iterates more than once is over an axis
//!    bound to one of `X`'s dimensions; otherwise `X` would be recomputed for
//!    every iteration (and, in a parallel loop, by several tasks at once).
//! 3. `p` is in `R`'s `S0`, `S1` or `R0` loops, at or inside its parallel
//!    loops, and `X` itself is not parallel.
//!
//! A stage fused with a leader (see `fusion`) runs where its leader runs:
//! it is in no group itself, its reads by others count as reads of the
//! leader (its output's dimensions are the leader's spatial axes, in
//! order), and no stage is computed at it.

use super::error::ScheduleError;
use super::fusion;
use super::sketch::{loads, Sketch};
use super::{Placement, StageSchedule};
use crate::expr::{AxisId, BufferId, Expr, IndexExpr, Load};
use crate::program::{Program, Stage};

/// Which part of the `S S R S R S` order a loop belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    S0,
    S1,
    R0,
    S2,
    R1,
    S3,
}

/// One loop of a stage's nest: an axis at a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopLevel {
    pub axis: AxisId,
    /// 0..=3 for spatial axes, 0..=1 for reduction axes.
    pub level: usize,
    pub section: Section,
}

/// The loops of a stage in nest order (see the module docs of `schedule`).
pub fn loop_order(stage: &Stage) -> Vec<LoopLevel> {
    let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
    let reduction: Vec<AxisId> = stage.reduction_axes().map(|(id, _)| id).collect();
    let mut order = Vec::new();
    let mut push = |axes: &[AxisId], level: usize, section: Section| {
        order.extend(axes.iter().map(|&axis| LoopLevel { axis, level, section }));
    };
    push(&spatial, 0, Section::S0);
    push(&spatial, 1, Section::S1);
    push(&reduction, 0, Section::R0);
    push(&spatial, 2, Section::S2);
    push(&reduction, 1, Section::R1);
    push(&spatial, 3, Section::S3);
    order
}

/// The name of a loop as edits and prompts write it: axis name and level,
/// e.g. `i1`.
pub fn loop_name(stage: &Stage, l: &LoopLevel) -> String {
    format!("{}{}", stage.axis(l.axis).name, l.level)
}

/// Tile size of each level of an axis, outermost first: the number of
/// points one iteration of that level's loop covers. `sizes[last] == 1`.
pub fn tile_sizes(factors: &[usize]) -> Vec<usize> {
    let mut sizes = vec![1; factors.len() + 1];
    for l in (0..factors.len()).rev() {
        sizes[l] = sizes[l + 1] * factors[l];
    }
    sizes
}

/// The most iterations the loop at `level` of an axis with `extent` points
/// (in a root stage, where the range is the whole extent) can make.
pub fn trip_count(extent: usize, factors: &[usize], level: usize) -> usize {
    let sizes = tile_sizes(factors);
    if level == 0 {
        extent.div_ceil(sizes[0])
    } else {
        factors[level - 1].min(extent)
    }
}

/// A stage computed inside a root's loop nest.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub stage: usize,
    pub loop_index: usize,
    pub binding: StageBinding,
}

/// For each spatial axis of a member (= output dimension), the axis of the
/// group's root it is bound to, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageBinding {
    pub dims: Vec<Option<AxisId>>,
}

/// A root stage and the stages computed inside it, in program order.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub root: usize,
    pub members: Vec<Member>,
}

/// The stages (not inlined) whose effective body reads the output of `x`.
pub fn consumers(program: &Program, bodies: &[Expr], inlined: &[bool], x: usize) -> Vec<usize> {
    let out = program.stages()[x].output;
    (x + 1..program.stages().len())
        .filter(|&d| !inlined[d] && loads(&bodies[d]).iter().any(|l| l.buffer == out))
        .collect()
}

/// The groups of a schedule — `stages`' decisions for `program` under
/// `sketch`, whose bodies after inlining are `bodies` — in execution
/// order, or the first rule a placement breaks.
pub fn groups(
    program: &Program,
    sketch: &Sketch,
    bodies: &[Expr],
    stages: &[StageSchedule],
) -> Result<Vec<Group>, ScheduleError> {
    let n = program.stages().len();
    let inlined: Vec<bool> = (0..n).map(|s| sketch.is_inlined(s)).collect();
    // The phase each stage runs in: its own index for roots, its root's
    // for members.
    // A fused stage runs where its leader runs (see `fusion`).
    let owner = |s: usize| fusion::owner(stages, s);
    let phase: Vec<usize> = (0..n)
        .map(|s| match stages[owner(s)].placement {
            Placement::Root => owner(s),
            Placement::At { stage, .. } => stage,
            Placement::Inlined => usize::MAX,
        })
        .collect();
    let own_nest = |s: usize| !fusion::is_fused(stages, s);
    let mut result = Vec::new();
    for r in (0..n).filter(|&s| stages[s].placement == Placement::Root && own_nest(s)) {
        let root = &program.stages()[r];
        let order = loop_order(root);
        // Bindings of the group's stages, filled consumers first.
        let mut bound: Vec<Option<Vec<Option<AxisId>>>> = vec![None; n];
        bound[r] = Some((0..root.axes.len()).map(|a| Some(AxisId(a))).collect());
        bind_fused(program, stages, r, &mut bound);
        let depth = |s: usize| match stages[owner(s)].placement {
            Placement::At { loop_index, .. } => loop_index,
            _ => usize::MAX,
        };
        let mut members = Vec::new();
        let placed_here = |x: usize| matches!(stages[x].placement, Placement::At { stage, .. } if stage == r);
        for x in (0..r).rev().filter(|&x| placed_here(x) && own_nest(x)) {
            let stage = &program.stages()[x];
            let xname = program.stage_name(stage).to_string();
            let rank = stage.spatial_axes().count();
            let mut dims: Vec<Option<Option<AxisId>>> = vec![None; rank];
            // The fused stages' outputs are the leader's dimensions in order
            // (`fusion`'s rules 2), so their reads bind the leader's.
            let set = fusion::fused_set(stages, x);
            let outputs: Vec<BufferId> = set.iter().map(|&f| program.stages()[f].output).collect();
            let mut readers: Vec<usize> = set
                .iter()
                .flat_map(|&f| consumers(program, bodies, &inlined, f))
                .filter(|d| !set.contains(d))
                .collect();
            readers.sort_unstable();
            readers.dedup();
            for d in readers {
                if phase[d] != r {
                    if phase[d] < r {
                        return Err(ScheduleError::ConsumerRunsEarlier {
                            stage: xname,
                            consumer: program.stage_name(&program.stages()[d]).to_string(),
                            root: program.stage_name(root).to_string(),
                        });
                    }
                    continue;
                }
                if depth(d) < depth(x) {
                    return Err(ScheduleError::ConsumerShallower {
                        stage: xname,
                        consumer: program.stage_name(&program.stages()[d]).to_string(),
                    });
                }
                let consumer_binding = bound[d].clone().unwrap_or_default();
                for l in loads(&bodies[d]).into_iter().filter(|l| outputs.contains(&l.buffer)) {
                    for (k, e) in l.index.iter().enumerate() {
                        let this = match e {
                            IndexExpr::Axis(b) => consumer_binding.get(b.0).copied().flatten(),
                            _ => None,
                        };
                        dims[k] = Some(match dims[k] {
                            None => this,
                            Some(prev) if prev == this => prev,
                            Some(_) => None,
                        });
                    }
                }
            }
            let dims: Vec<Option<AxisId>> = dims.into_iter().map(Option::flatten).collect();
            let loop_index = depth(x);
            // Rule 2: no enclosing loop may repeat the member's work.
            for l in &order[..=loop_index] {
                let axis = root.axis(l.axis);
                let trips = trip_count(axis.extent, &stages[r].tiles[l.axis.0], l.level);
                if trips > 1 && !dims.contains(&Some(l.axis)) {
                    return Err(ScheduleError::RecomputedInLoop {
                        stage: xname,
                        at: format!("{}.{}", program.stage_name(root), loop_name(root, l)),
                        loop_name: loop_name(root, l),
                        trips,
                    });
                }
            }
            let mut binding = dims.clone();
            binding.resize(stage.axes.len(), None);
            bound[x] = Some(binding);
            bind_fused(program, stages, x, &mut bound);
            members.push(Member { stage: x, loop_index, binding: StageBinding { dims } });
        }
        members.reverse();
        result.push(Group { root: r, members });
    }
    Ok(result)
}

/// The bindings of the stages fused with `leader`, from its own: a
/// sibling's axes are the leader's, an epilogue's are its spatial axes.
fn bind_fused(program: &Program, stages: &[StageSchedule], leader: usize, bound: &mut [Option<Vec<Option<AxisId>>>]) {
    let Some(own) = bound[leader].clone() else { return };
    for f in fusion::siblings(stages, leader) {
        bound[f] = Some(own.clone());
    }
    if let Some(e) = fusion::epilogue(stages, leader) {
        let spatial = program.stages()[leader].spatial_axes().map(|(a, _)| own.get(a.0).copied().flatten());
        bound[e] = Some(spatial.collect());
    }
}

/// How the flat offset of `load` changes per step of `axis`: `Some(stride)`
/// when the load is affine in it, `None` when it goes through a division or
/// modulo.
pub fn load_stride(program: &Program, load: &Load, axis: AxisId) -> Option<i64> {
    let strides = program.buffer(load.buffer).strides();
    let mut total = 0i64;
    for (e, &s) in load.index.iter().zip(&strides) {
        total += index_coefficient(e, axis)? * s as i64;
    }
    Some(total)
}

/// The coefficient of `axis` in an index expression, `None` when the axis
/// occurs under a division or modulo.
pub fn index_coefficient(e: &IndexExpr, axis: AxisId) -> Option<i64> {
    if !e.is_linear_in(&axis) {
        return None;
    }
    let at = |v: i64| e.eval(&|a: &AxisId| if *a == axis { v } else { 0 });
    Some(at(1) - at(0))
}

/// Accumulator variables of a stage's register tile: its `S3` points over
/// the vector lanes.
pub fn register_count(stage: &Stage, sched: &StageSchedule) -> usize {
    let points: usize = stage.spatial_axes().map(|(id, _)| sched.tiles[id.0][2]).product();
    points / sched.vector.max(1)
}
