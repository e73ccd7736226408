//! Fused attention in the informed samples (issue 39): a *pipeline* is a
//! root reduction with producers (attention's P·V) that every stage before
//! it that can be is computed inside, at one of its outer row loops, so
//! that a query tile's scores are produced, normalised and consumed while
//! they are in cache. This module says where a pipeline may be drawn
//! (`inputs_fit_per_outer_index`, `pipeline_loop`), re-tiles its root for
//! the query tile (`tile_for_pipeline`) and places its members there
//! (`join_pipeline`, `fit_to_region`); `sampler` decides when to draw one.

use super::candidate::Candidate;
use super::informed::near_divisor;
use super::sketch::StageRule;
use super::Placement;
use crate::expr::AxisId;
use crate::program::{AxisKind, Program};

/// Places stage `s` at the pipeline's loop `at`, if that is legal with its
/// drawn schedule, its reductions whole in the inner loop (up to 512), less
/// the packing of operands that other stages produce
/// (a packing copies all of an operand before the group runs, which a
/// member cannot do with an operand its group produces), or else, for a
/// stage without multi-level tiling, with scalar code and a register tile
/// of one point per row too; whether it did.
pub(super) fn join_pipeline(candidate: &mut Candidate, s: usize, at: &Placement) -> bool {
    let drawn = candidate.stages[s].clone();
    let inputs = input_buffers(candidate.program());
    candidate.stages[s].packed.retain(|b| inputs.contains(b));
    candidate.stages[s].blocked.retain(|b| inputs.contains(b));
    // A member's reductions run whole inside its tile: its register tile
    // is stored once, not once per outer reduction step.
    let reduction: Vec<(usize, usize)> =
        candidate.program().stages()[s].reduction_axes().map(|(id, a)| (id.0, a.extent)).collect();
    for (k, extent) in reduction {
        if extent <= 512 {
            candidate.stages[s].tiles[k][0] = extent;
        }
    }
    if candidate.try_placement(s, at.clone()) {
        fit_to_region(candidate, s);
        return true;
    }
    // Scalar, a register tile of one point per row, for the row-wise
    // stages (softmax's) only: a tiled reduction keeps its vectors.
    if candidate.sketch.rules[s] == StageRule::MultiLevelTiling {
        candidate.stages[s] = drawn;
        return false;
    }
    candidate.stages[s].vector = 1;
    let spatial: Vec<usize> = candidate.program().stages()[s].spatial_axes().map(|(id, _)| id.0).collect();
    for a in spatial {
        candidate.stages[s].tiles[a][2] = 1;
    }
    if candidate.try_placement(s, at.clone()) {
        fit_to_region(candidate, s);
        return true;
    }
    candidate.stages[s] = drawn;
    false
}

/// The most input bytes a pipeline's task may read (all of the program's
/// inputs over the root's outer indices): they are read again for every
/// query tile, so they must stay in a core's L2 (1–2 MB on x86). Attention
/// reads one head's Q, K and V (384 KB for FLUX's); an MLP's down
/// projection would read all of its weights for every row tile.
const PIPELINE_INPUT_BYTES: usize = 1 << 20;

/// Whether the program's inputs, shared out over root `r`'s outer spatial
/// axes (all but the last two: a head, a batch), fit `PIPELINE_INPUT_BYTES`.
pub(super) fn inputs_fit_per_outer_index(candidate: &Candidate, r: usize) -> bool {
    let program = candidate.program();
    let stage = &program.stages()[r];
    let spatial: Vec<usize> = stage.spatial_axes().map(|(_, a)| a.extent).collect();
    let outer: usize = spatial.iter().rev().skip(2).product();
    let input_bytes: usize = input_buffers(program).iter().map(|&b| 4 * program.buffers()[b].len()).sum();
    input_bytes / outer.max(1) <= PIPELINE_INPUT_BYTES
}

/// The bytes of one query tile's scores (a pipeline root's row tile by its
/// reductions) that a pipeline keeps: within any x86 core's L1 data cache
/// (32–48 KB) beside the register tile's operands.
const PIPELINE_TILE_BYTES: usize = 16 * 1024;

/// Re-tiles root stage `r`, which a pipeline is drawn at, for fused
/// attention's loop structure: one task per outer index and query tile,
/// the query tile (the last non-vector axis) as many register tiles as
/// keep its scores (rows by the reduction extents) within
/// `PIPELINE_TILE_BYTES`, the vector axis and the reductions whole inside
/// it (so that no producer is recomputed or its scores reloaded), and no
/// packing of operands its producers write (they are computed inside).
/// Deterministic, so that the seed's other draws are unchanged; the drawn
/// schedule stays where the result is illegal or the vector axis cannot
/// be one tile.
pub(super) fn tile_for_pipeline(candidate: &mut Candidate, r: usize) {
    let program = candidate.program().clone();
    let stage = &program.stages()[r];
    let spatial: Vec<(AxisId, usize)> = stage.spatial_axes().map(|(id, a)| (id, a.extent)).collect();
    let [outer @ .., (rows_axis, rows_extent), (vector_axis, vector_extent)] = spatial.as_slice() else {
        return;
    };
    let drawn = candidate.stages[r].clone();
    let sched = &mut candidate.stages[r];
    for &(a, _) in outer {
        sched.tiles[a.0] = vec![1, 1, 1];
    }
    let f3 = sched.tiles[vector_axis.0][2];
    if !vector_extent.is_multiple_of(f3) {
        return;
    }
    sched.tiles[vector_axis.0] = vec![1, vector_extent / f3, f3];
    let reduced: usize = stage.reduction_axes().map(|(_, a)| a.extent).product();
    // Register rows that divide the axis, where the drawn ones do not and
    // half as many or more do: an edge tile runs one row at a time.
    let mut rows = sched.tiles[rows_axis.0][2].max(1);
    if !rows_extent.is_multiple_of(rows) {
        rows = (rows.div_ceil(2)..=rows).rev().find(|r| rows_extent.is_multiple_of(*r)).unwrap_or(rows);
    }
    let most = (PIPELINE_TILE_BYTES / (4 * reduced.max(1))).clamp(rows, *rows_extent);
    let tiles_of_rows = (1..=most / rows)
        .rev()
        .find(|k| rows_extent.is_multiple_of(k * rows))
        .or_else(|| (1..=most / rows).rev().find(|k| near_divisor(*rows_extent, k * rows)))
        .unwrap_or(1);
    sched.tiles[rows_axis.0] = vec![1, tiles_of_rows, rows];
    for (k, axis) in stage.axes.iter().enumerate() {
        if axis.kind == AxisKind::Reduction && axis.extent <= 512 {
            sched.tiles[k][0] = axis.extent;
        }
    }
    sched.parallel = spatial.len() - 1;
    let inputs = input_buffers(&program);
    sched.packed.retain(|b| inputs.contains(b));
    sched.blocked.retain(|b| inputs.contains(b));
    if candidate.check().is_err() {
        candidate.stages[r] = drawn;
    }
}

/// A pipeline member's tiles fitted to the region its loop gives it (a
/// tile that does not divide the region leaves an edge tile, a point or a
/// vector at a time, every time), and
/// its packed inputs blocked into panels where that is legal (rows a
/// power-of-two stride apart share a few L1 sets, which the tile's
/// repeated sweeps of the panel would evict).
fn fit_to_region(candidate: &mut Candidate, s: usize) {
    let program = candidate.program().clone();
    let Some(member) = candidate.groups().into_iter().flat_map(|g| g.members).find(|m| m.stage == s) else {
        return;
    };
    let Placement::At { stage: r, loop_index } = candidate.stages[s].placement else { return };
    let order = super::analysis::loop_order(&program.stages()[r]);
    let spatial: Vec<AxisId> = program.stages()[s].spatial_axes().map(|(id, _)| id).collect();
    let vector_axis = spatial.last().copied();
    for (k, &a) in spatial.iter().enumerate() {
        let Some(bound) = member.binding.dims.get(k).copied().flatten() else { continue };
        let Some(l) = order[..=loop_index].iter().rev().find(|l| l.axis == bound) else { continue };
        let region = super::analysis::tile_sizes(&candidate.stages[r].tiles[bound.0])[l.level];
        let before = candidate.stages[s].clone();
        if region.is_multiple_of(before.tiles[a.0].iter().product::<usize>()) {
            continue;
        }
        // The register tile: its own rows where they divide the region,
        // else the most that do (a vector axis keeps its lanes).
        let step = if Some(a) == vector_axis { before.vector.max(1) } else { 1 };
        let most = before.tiles[a.0][2].min(region) / step;
        let Some(f3) = (1..=most).rev().map(|k| k * step).find(|f| region.is_multiple_of(*f)) else { continue };
        candidate.stages[s].tiles[a.0] = vec![1, region / f3, f3];
        if candidate.check().is_err() {
            candidate.stages[s] = before;
        }
    }
    let inputs = input_buffers(&program);
    for b in candidate.stages[s].packed.clone() {
        if inputs.contains(&b) && !candidate.stages[s].blocked.contains(&b) {
            candidate.stages[s].blocked.push(b);
            candidate.stages[s].blocked.sort_unstable();
            if candidate.check().is_err() {
                candidate.stages[s].blocked.retain(|&x| x != b);
            }
        }
    }
}

/// The program's input buffers (what no stage writes).
fn input_buffers(program: &Program) -> Vec<usize> {
    program
        .buffers()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.role == crate::program::BufferRole::Input)
        .map(|(id, _)| id)
        .collect()
}

/// A loop of root stage `r`'s outer spatial tiles (`S0`, `S1`) at which
/// the stages before it are then computed, the most of them that can be
/// (as they are now), innermost first: the pipeline of fused attention, where a
/// query tile's scores are produced, normalised and consumed while they
/// are in cache. Only a reduction stage with producers starts one, and
/// only at a loop inside its parallel loops (rule 3 of compute-at).
pub(super) fn pipeline_loop(candidate: &Candidate, r: usize) -> Option<Placement> {
    let producers: Vec<usize> = (0..r).rev().filter(|&s| !candidate.sketch.is_inlined(s)).collect();
    let stage = &candidate.program().stages()[r];
    if producers.is_empty() || stage.reduction_axes().next().is_none() {
        return None;
    }
    let order = super::analysis::loop_order(stage);
    let parallel = candidate.stages[r].parallel;
    let placed_at = |loop_index: usize| -> usize {
        let mut trial = candidate.clone();
        let at = Placement::At { stage: r, loop_index };
        producers.iter().filter(|&&s| trial.try_placement(s, at.clone())).count()
    };
    let counts: Vec<(usize, usize)> = (0..order.len())
        .filter(|&i| order[i].section <= super::Section::S1 && i + 1 >= parallel)
        .filter(|&i| candidate.target().offers_attach(&order, i))
        .map(|i| (i, placed_at(i)))
        .collect();
    let most = counts.iter().map(|&(_, n)| n).max().filter(|&n| n > 0)?;
    // Of those, the innermost: the smallest region, the likeliest to stay
    // in cache between the stages.
    let innermost = counts.iter().filter(|&&(_, n)| n == most).map(|&(i, _)| i).max()?;
    Some(Placement::At { stage: r, loop_index: innermost })
}
