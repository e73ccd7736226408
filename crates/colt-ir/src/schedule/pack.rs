//! Packing: an operand of a stage copied, in a phase of its own just before
//! the stage's phase, into a scratch buffer laid out for the stage's
//! register tile. The packed layout keeps the operand's dimensions but
//! moves those indexed by the stage's vector axis last (so a transposed
//! read such as attention's `K[h/4, j, d]` along `j` becomes contiguous),
//! and widens padded dimensions to the range the stage reads, with the
//! padding value stored (so a convolution's zero padding costs no bounds
//! check and no longer stops vectorisation).
//!
//! A *blocked* layout splits the vector axis into panels of the register
//! tile's width, outermost (`K[h, j, d]` as `[j/32][h][d][32]`): a
//! register tile then reads one contiguous stream instead of rows a
//! power-of-two stride apart, which share a few L1 sets and evict one
//! another. Its tiles must start on panel boundaries: a root stage's do
//! (they are multiples of the register tile), and a stage computed inside
//! another's loop must be given whole panels by that loop
//! ([`check_blocked_members`]) — fused attention's `QK` at `O`'s query
//! tile gets all of `j`.
//!
//! Scratch buffers follow the program's buffers in the kernel ABI's
//! `bufs[]`; [`LoopNest::scratch`](crate::loopnest::LoopNest) gives their
//! lengths.

use super::error::ScheduleError;
use super::{Placement, StageSchedule};
use crate::expr::{AxisId, BufferId, Cond, Expr, IndexExpr, Load};
use crate::program::{Buffer, BufferRole, DType, Program};

/// Where a source dimension's index comes from in the packed buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SourceIndex {
    /// Packed dimension `packed`, shifted by `low` (the lowest index the
    /// stage reads: 0, or negative where padding is read).
    Dim { packed: usize, low: i64 },
    /// `outer * width + inner`: a dimension split into panels.
    Blocked { outer: usize, inner: usize, width: usize },
}

/// One packed operand.
#[derive(Clone, Debug, PartialEq)]
pub struct PackPlan {
    pub stage: usize,
    pub source: BufferId,
    pub scratch: BufferId,
    /// For each source dimension, where it is in the packed buffer.
    pub index: Vec<SourceIndex>,
    pub shape: Vec<usize>,
    pub pad: Option<f32>,
}

/// The program as the kernel sees it: the program's buffers plus the
/// scratch buffers of packed operands, and every stage's body reading the
/// packed copies.
#[derive(Clone, Debug)]
pub struct PackedView {
    pub program: Program,
    pub bodies: Vec<Expr>,
    pub plans: Vec<PackPlan>,
    /// Blocked scratch buffers: read through a division and a modulo by
    /// the register tile's width, yet contiguous within a register tile.
    pub contiguous: Vec<BufferId>,
}

/// The buffers a stage's (effective) body reads, which it may pack.
pub fn operands(body: &Expr) -> Vec<BufferId> {
    let mut out: Vec<BufferId> = Vec::new();
    body.for_each_load(&mut |l| {
        if !out.contains(&l.buffer) {
            out.push(l.buffer);
        }
    });
    out
}

/// Builds the packed view of a schedule — `stages`' decisions for
/// `source_program`, whose bodies after inlining are `bodies` — or says why
/// a packing is illegal.
pub fn packed_view(
    source_program: &Program,
    bodies: &[Expr],
    stages: &[StageSchedule],
) -> Result<PackedView, ScheduleError> {
    let mut program = source_program.clone();
    let mut bodies = bodies.to_vec();
    let mut plans = Vec::new();
    let mut contiguous = Vec::new();
    // A fused stage runs in its leader's phase.
    let phase_of = |s: usize| {
        let s = super::fusion::owner(stages, s);
        match stages[s].placement {
            Placement::At { stage, .. } => stage,
            _ => s,
        }
    };
    for (s, stage) in source_program.stages().iter().enumerate() {
        let stage_name = source_program.stage_name(stage).to_string();
        for &b in &stages[s].packed {
            let buffer = source_program.buffer(BufferId(b)).clone();
            let loads: Vec<Load> = {
                let mut v = Vec::new();
                bodies[s].for_each_load(&mut |l| {
                    if l.buffer.0 == b {
                        v.push(l.clone());
                    }
                });
                v
            };
            let Some(first) = loads.first() else {
                return Err(ScheduleError::PackNotRead { stage: stage_name, operand: buffer.name });
            };
            if loads.iter().any(|l| l.index != first.index || l.pad != first.pad) {
                return Err(ScheduleError::PackReadSeveralWays { stage: stage_name, operand: buffer.name });
            }
            if let Some(p) = source_program.stages().iter().position(|x| x.output.0 == b) {
                if phase_of(p) >= phase_of(s) {
                    return Err(ScheduleError::PackProducedInPhase { stage: stage_name, operand: buffer.name });
                }
            }
            let vector_axis = stage.spatial_axes().last().map(|(id, _)| id);
            let mentions_v = |e: &IndexExpr| vector_axis.is_some_and(|v| e.mentions(&v));
            let mut order: Vec<usize> = (0..first.index.len()).filter(|&k| !mentions_v(&first.index[k])).collect();
            order.extend((0..first.index.len()).filter(|&k| mentions_v(&first.index[k])));
            let ranges: Vec<(i64, i64)> = stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect();
            let mut low = Vec::new();
            let mut extent = Vec::new();
            for (e, &dim) in first.index.iter().zip(&buffer.shape) {
                let (lo, hi) = e.range(&|a: &AxisId| ranges[a.0]);
                let (lo, hi) =
                    if first.pad.is_some() { (lo.min(0), hi.max(dim as i64 - 1)) } else { (0, dim as i64 - 1) };
                low.push(lo);
                extent.push((hi - lo + 1) as usize);
            }
            let blocked = stages[s].blocked.contains(&b);
            let vector_dims: Vec<usize> = (0..first.index.len()).filter(|&k| mentions_v(&first.index[k])).collect();
            let block = match (blocked, vector_axis, vector_dims.as_slice()) {
                (false, ..) => None,
                (true, Some(v), &[k]) if first.index[k] == IndexExpr::Axis(v) && stages[s].packed.contains(&b) => {
                    Some((k, v, stages[s].tiles[v.0][2]))
                }
                (true, ..) => {
                    let axis = vector_axis.map(|v| stage.axis(v).name.clone()).unwrap_or_default();
                    return Err(ScheduleError::BlockNeedsVectorDimension {
                        stage: stage_name,
                        operand: buffer.name,
                        axis,
                    });
                }
            };
            let mut shape: Vec<usize> = order.iter().map(|&k| extent[k]).collect();
            let mut source_index: Vec<SourceIndex> = (0..first.index.len())
                .map(|k| SourceIndex::Dim { packed: order.iter().position(|&o| o == k).unwrap_or(k), low: low[k] })
                .collect();
            if let Some((k, _, width)) = block {
                // [v / width] first, the other dimensions, then [v % width].
                let others: Vec<usize> = order.iter().copied().filter(|&o| o != k).collect();
                shape = std::iter::once(extent[k].div_ceil(width))
                    .chain(others.iter().map(|&o| extent[o]))
                    .chain(std::iter::once(width))
                    .collect();
                for (j, &o) in others.iter().enumerate() {
                    source_index[o] = SourceIndex::Dim { packed: j + 1, low: low[o] };
                }
                source_index[k] = SourceIndex::Blocked { outer: 0, inner: others.len() + 1, width };
            }
            let scratch = BufferId(program.buffers.len());
            program.buffers.push(Buffer {
                name: format!("{}_packed_for_{}", buffer.name, stage_name),
                shape: shape.clone(),
                dtype: DType::F32,
                role: BufferRole::Temp,
            });
            let shifted = |k: usize| {
                let e = first.index[k].clone();
                if low[k] == 0 {
                    e
                } else {
                    IndexExpr::Sub(Box::new(e), Box::new(IndexExpr::Const(low[k])))
                }
            };
            let index: Vec<IndexExpr> = match block {
                None => order.iter().map(|&k| shifted(k)).collect(),
                Some((k, v, width)) => {
                    let axis = || Box::new(IndexExpr::Axis(v));
                    std::iter::once(IndexExpr::Div(axis(), width as i64))
                        .chain(order.iter().copied().filter(|&o| o != k).map(shifted))
                        .chain(std::iter::once(IndexExpr::Mod(axis(), width as i64)))
                        .collect()
                }
            };
            if block.is_some() {
                contiguous.push(scratch);
            }
            let packed = Load { buffer: scratch, index, pad: None };
            bodies[s] = replace_loads(&bodies[s], BufferId(b), &packed);
            plans.push(PackPlan { stage: s, source: BufferId(b), scratch, index: source_index, shape, pad: first.pad });
        }
    }
    Ok(PackedView { program, bodies, plans, contiguous })
}

fn replace_loads(e: &Expr, source: BufferId, packed: &Load) -> Expr {
    let r = |x: &Expr| Box::new(replace_loads(x, source, packed));
    match e {
        Expr::Const(c) => Expr::Const(*c),
        Expr::Load(l) if l.buffer == source => Expr::Load(packed.clone()),
        Expr::Load(l) => Expr::Load(l.clone()),
        Expr::Unary(op, a) => Expr::Unary(*op, r(a)),
        Expr::Binary(op, a, b) => Expr::Binary(*op, r(a), r(b)),
        Expr::Select(c, a, b) => Expr::Select(Box::new(replace_cond(c, source, packed)), r(a), r(b)),
    }
}

fn replace_cond(c: &Cond, source: BufferId, packed: &Load) -> Cond {
    match c {
        Cond::Index(a, op, b) => Cond::Index(a.clone(), *op, b.clone()),
        Cond::Value(a, op, b) => Cond::Value(replace_loads(a, source, packed), *op, replace_loads(b, source, packed)),
        Cond::And(a, b) => {
            Cond::And(Box::new(replace_cond(a, source, packed)), Box::new(replace_cond(b, source, packed)))
        }
        Cond::Or(a, b) => {
            Cond::Or(Box::new(replace_cond(a, source, packed)), Box::new(replace_cond(b, source, packed)))
        }
    }
}

/// A blocked pack read by a stage computed inside another's loop nest:
/// its panels are `width` (the register tile's) wide from index 0, so the
/// region the attach loop gives the stage along its vector axis must
/// start on a panel boundary — the whole axis, or the root's tiles of the
/// axis it is bound to a multiple of the width. (A root stage's tiles
/// start at multiples of its register tile, which is the width.)
pub fn check_blocked_members(
    program: &Program,
    stages: &[StageSchedule],
    groups: &[super::analysis::Group],
) -> Result<(), ScheduleError> {
    use super::analysis::{loop_name, loop_order, tile_sizes};
    for group in groups {
        let root = &program.stages()[group.root];
        let order = loop_order(root);
        for m in group.members.iter().filter(|m| !stages[m.stage].blocked.is_empty()) {
            let stage = &program.stages()[m.stage];
            let Some((k, (v, _))) = stage.spatial_axes().enumerate().last() else { continue };
            let Some(bound) = m.binding.dims.get(k).copied().flatten() else { continue };
            let Some(l) = order[..=m.loop_index].iter().rev().find(|l| l.axis == bound) else { continue };
            let size = tile_sizes(&stages[group.root].tiles[bound.0])[l.level];
            let width = stages[m.stage].tiles[v.0][2];
            if size >= root.axis(bound).extent || size.is_multiple_of(width) {
                continue;
            }
            let operand = program.buffer(BufferId(stages[m.stage].blocked[0])).name.clone();
            return Err(ScheduleError::BlockedPanelsStraddled {
                stage: program.stage_name(stage).to_string(),
                operand,
                at: format!("{}.{}", program.stage_name(root), loop_name(root, l)),
                size,
                width,
            });
        }
    }
    Ok(())
}
