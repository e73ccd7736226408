//! The informed sampler's rules: how [`Sampler::Informed`](super::Sampler::Informed) and
//! [`Sampler::Styled`](super::Sampler::Styled) draw a candidate.
//!
//! [`Sampler::Informed`](super::Sampler::Informed) draws from the part of the space where fast
//! kernels are, the way MetaSchedule's sketch rules and post-processors
//! shape its samples, for one [`Machine`](super::Machine):
//! - the contiguous (last spatial) axis is vectorised with the machine's
//!   lanes; an operand whose reads along it are strided, or whose padding
//!   depends on it, is packed so that they become contiguous;
//! - a reduction with multi-level tiling accumulates in a register tile that
//!   fits the register file: `1..=4` vectors along the contiguous axis
//!   times a number of rows along the spatial axis that reuses the
//!   contiguous operand (the one its vector loads do not depend on), using
//!   at most three quarters of the registers (the rest hold the loaded
//!   vectors and broadcasts); [`Sampler::Styled`](super::Sampler::Styled) gives every tiled stage
//!   one [`TileStyle`] it is told instead (tile, depth, unroll, order);
//! - tile factors are drawn from the divisors and near-divisors of what is
//!   left of the extent (a near-divisor leaves edge tiles of under 5% of the
//!   axis), the inner reduction factor from those between 16 and 512;
//! - root stages run the fewest outer loops in parallel that give every
//!   core at least two tasks (outer tiles are shrunk until they do);
//! - operands the vector loads read contiguously are blocked into panels
//!   with probability 1/2 (and in every panel order) where the stage reads
//!   each of their elements at least 256 times, with a quarter of that
//!   where fewer (the blocking is a copy every call); others are packed
//!   with probability 1/4; unroll is 16 or 64 twice as often as 0 or 512;
//! - half of those register tiles get the panel order (`panel_order`): one
//!   panel of the contiguous operand (blocked, as above), at most 16 KB,
//!   read by up to 16 row tiles before the next, as BLAS kernels order
//!   their loops;
//! - sibling reductions are fused and elementwise stages made their
//!   epilogues as the uniform sampler draws them (`fusion::draw`), the
//!   fused register tile shrunk to the same three quarters of the
//!   registers;
//! - stages with a mask iterate only the points it keeps three times in
//!   four where legal (see [`mask`](super::mask)), drawn from a stream of
//!   their own after every other decision;
//! - sketches are drawn three times in four from those that do not
//!   recompute an `exp`, `sqrt` or division per reuse
//!   ([`recomputes_expensive`]), otherwise from all; compute-at placements
//!   are drawn as the uniform sampler draws them, except that one time in
//!   two a root reduction with producers whose program's inputs per outer
//!   index fit a core's L2 (attention's P·V, one head's Q, K and V; not an
//!   MLP's down projection, which would re-read all its weights for every
//!   row tile) starts a *pipeline*: every stage before it that can be is
//!   computed at the innermost of its outer spatial loops where the most
//!   of them can be, their reductions whole in their inner loop and
//!   without packing operands the group produces (row-wise stages fall
//!   back to scalar code), so that a query tile's scores are produced,
//!   normalised and consumed by P·V while they are in cache (issue 39's
//!   fused attention; see `pipeline`).
//!
//! A draw that the rules refuse is retried without its optional parts
//! (blocking, packing, vectors), then redrawn, then drawn uniformly: every
//! sample is a valid candidate. The informed sampler shapes CPU kernels;
//! on OpenCL it draws as the uniform one does (its work-group and work-item
//! decisions have no informed rules yet).

use super::analysis::load_stride;
use super::candidate::Candidate;
use super::pipeline::{inputs_fit_per_outer_index, join_pipeline, pipeline_loop, tile_for_pipeline};
use super::sampler::Machine;
use super::sketch::{loads, recomputes_expensive, StageRule};
use super::style::{TileStyle, MAX_STYLE_VECTORS};
use super::{factor_domain, Accumulator, Placement, Rng, StageSchedule, Target, MAX_REGISTER_TILE, VECTOR_WIDTHS};
use crate::expr::AxisId;
use crate::program::{AxisKind, Combine, Program};
use std::sync::Arc;

/// Whether `d` tiles `extent` leaving edge tiles of under 5% of it.
pub(super) fn near_divisor(extent: usize, d: usize) -> bool {
    d >= 1 && d <= extent && (extent % d) * 20 <= extent
}

/// The near-divisors of `extent` in colt's factor domain, within `lo..=hi`.
pub(super) fn near_divisors(extent: usize, lo: usize, hi: usize) -> Vec<usize> {
    factor_domain(extent).into_iter().filter(|&d| d >= lo && d <= hi && near_divisor(extent, d)).collect()
}

/// Unroll depths, 16 and 64 twice as likely as none and 512.
const UNROLL_WEIGHTED: [usize; 6] = [0, 16, 16, 64, 64, 512];

/// How many times a stage must read each element of its contiguous
/// operand for blocking it into panels (a copy of it every call) to be
/// drawn as often as not. The copy moves an element in about a cycle; the
/// stage does one FMA per read, 32 a cycle on two FMA ports of 16 lanes:
/// at 256 reads the copy costs an eighth of the compute, at 64 a half.
/// Below this, one in four of the draws that would block it does.
pub(super) const BLOCKING_AMORTISED_READS: usize = 256;

/// How many times `stage` reads each element of operand `b`: the product
/// of the extents of its spatial axes that no load of `b` mentions (a
/// matmul's rows for its right-hand operand).
fn reads_per_element(stage: &crate::program::Stage, body: &crate::expr::Expr, b: usize) -> usize {
    let reads_of_b: Vec<_> = loads(body).into_iter().filter(|l| l.buffer.0 == b).collect();
    stage
        .spatial_axes()
        .filter(|(id, _)| !reads_of_b.iter().any(|l| l.index.iter().any(|e| e.mentions(id))))
        .map(|(_, a)| a.extent)
        .product()
}

/// The accumulators a register tile may use: three quarters of the vector
/// registers (the rest hold the loaded vectors and broadcasts).
fn tile_budget(registers: usize) -> usize {
    (registers * 3 / 4).clamp(1, MAX_REGISTER_TILE)
}

pub(super) fn sample_informed(
    program: Arc<Program>,
    machine: Machine,
    style: Option<TileStyle>,
    seed: u64,
) -> Candidate {
    let mut rng = Rng::new(seed);
    let all = super::sketches(&program);
    // Three draws in four from the sketches that recompute no expensive
    // stage per reuse, when there are any (see `recomputes_expensive`).
    let cheap: Vec<&super::Sketch> = all.iter().filter(|k| !recomputes_expensive(&program, k)).collect();
    let sketch = if !cheap.is_empty() && rng.below(4) != 0 {
        cheap[rng.below(cheap.len())].clone()
    } else {
        all[rng.below(all.len())].clone()
    };
    let mut candidate = Candidate::initial_on(program, sketch, Target::Cpu);
    let mut pipeline: Option<Placement> = None;
    for s in (0..candidate.stages.len()).rev() {
        if candidate.sketch.is_inlined(s) {
            continue;
        }
        place_informed(&mut candidate, s, machine, style, &mut rng);
        if let Some(at) = &pipeline {
            if join_pipeline(&mut candidate, s, at) {
                continue;
            }
        }
        if pipeline.is_none() && candidate.stages[s].placement == Placement::Root {
            // Drawn only where there is a pipeline to draw, so that
            // programs without one sample as they did before it.
            if let Some(at) = pipeline_loop(&candidate, s).filter(|_| inputs_fit_per_outer_index(&candidate, s)) {
                if rng.below(2) == 0 {
                    tile_for_pipeline(&mut candidate, s);
                    pipeline = Some(pipeline_loop(&candidate, s).unwrap_or(at));
                    continue;
                }
            }
        }
        if rng.below(2) == 0 {
            candidate.try_random_placement(s, &mut rng);
        }
    }
    // A style's register tile is kept as it is: fused only where it fits.
    let shrink = style.is_none();
    super::fusion::draw(&mut candidate, seed, tile_budget(machine.registers), shrink);
    // Skipping masked work is what fast masked kernels do: three draws in
    // four where legal.
    candidate.draw_iteration(seed, 4);
    candidate
}

/// Sets stage `s`'s decisions to an informed draw that the rules accept
/// (see the module docs for the fallbacks).
fn place_informed(candidate: &mut Candidate, s: usize, machine: Machine, style: Option<TileStyle>, rng: &mut Rng) {
    let before = candidate.stages[s].clone();
    for _ in 0..8 {
        let full = informed_schedule(candidate, s, machine, style, rng);
        for variant in fallbacks(&full) {
            candidate.stages[s] = variant;
            if candidate.check().is_ok() {
                return;
            }
        }
    }
    for _ in 0..32 {
        candidate.stages[s] = candidate.random_schedule(s, rng);
        if candidate.accept_or_drop_rfactor(s) {
            return;
        }
    }
    candidate.stages[s] = before;
}

/// The draw, then the draw without blocking, without optional packing,
/// and scalar.
fn fallbacks(full: &StageSchedule) -> Vec<StageSchedule> {
    let mut out = vec![full.clone()];
    let mut unblocked = full.clone();
    unblocked.blocked.clear();
    out.push(unblocked.clone());
    let mut unpacked = unblocked.clone();
    unpacked.packed.clear();
    out.push(unpacked.clone());
    let mut scalar = unpacked;
    scalar.vector = 1;
    scalar.rfactor = 1;
    out.push(scalar);
    out
}

/// Stage `s`'s informed draw; a tiled reduction takes `style`'s register
/// tile, depth, unroll and order where its extents allow (the nearest legal
/// version of it), or draws its own.
fn informed_schedule(
    candidate: &Candidate,
    s: usize,
    machine: Machine,
    style: Option<TileStyle>,
    rng: &mut Rng,
) -> StageSchedule {
    let program = candidate.program();
    let stage = &program.stages()[s];
    let rule = candidate.sketch.rules[s];
    let body = &candidate.bodies()[s];
    let spatial: Vec<(AxisId, usize)> = stage.spatial_axes().map(|(id, a)| (id, a.extent)).collect();
    let reduces = stage.combine != Combine::Assign;
    let mut tiles: Vec<Vec<usize>> =
        stage.axes.iter().map(|a| if a.kind == AxisKind::Spatial { vec![1, 1, 1] } else { vec![1] }).collect();
    let Some(&(vector_axis, vector_extent)) = spatial.last() else {
        return candidate.random_schedule(s, rng);
    };
    let lanes = VECTOR_WIDTHS.iter().copied().filter(|&w| w <= machine.lanes && w <= vector_extent).max().unwrap_or(1);

    // Which operands the vector loads read how.
    let mut must_pack: Vec<usize> = Vec::new();
    let mut contiguous: Vec<usize> = Vec::new();
    let mut invariant: Vec<usize> = Vec::new();
    for l in loads(body) {
        let b = l.buffer.0;
        let mentions = l.index.iter().any(|e| e.mentions(&vector_axis));
        let padded_along = l.pad.is_some() && mentions;
        match load_stride(program, l, vector_axis) {
            _ if padded_along => must_pack.push(b),
            Some(0) => invariant.push(b),
            Some(1) => contiguous.push(b),
            _ => must_pack.push(b),
        }
    }
    for list in [&mut must_pack, &mut contiguous, &mut invariant] {
        list.sort_unstable();
        list.dedup();
    }
    contiguous.retain(|b| !must_pack.contains(b));
    invariant.retain(|b| !must_pack.contains(b) && !contiguous.contains(b));

    let tiled = rule == StageRule::MultiLevelTiling && reduces;
    let mut rows: Option<(AxisId, usize)> = None;
    // The register tile: vectors along the contiguous axis, rows along the
    // axis that reuses the vector operand.
    let style = style.filter(|_| tiled);
    let most_vectors = (vector_extent / lanes).clamp(1, MAX_STYLE_VECTORS);
    let vectors = match style {
        Some(style) => style.vectors.min(most_vectors),
        None if tiled => 1 + rng.below(most_vectors),
        None => 1 << rng.below(3),
    };
    let mut f3_vector = (vectors * lanes).min(vector_extent);
    if !near_divisor(vector_extent, f3_vector) {
        f3_vector = lanes.min(vector_extent);
    }
    tiles[vector_axis.0][2] = f3_vector;
    if tiled {
        let vector_loads: Vec<_> =
            loads(body).into_iter().filter(|l| l.index.iter().any(|e| e.mentions(&vector_axis))).collect();
        let rows_options: Vec<(AxisId, usize)> =
            spatial[..spatial.len() - 1].iter().copied().filter(|&(_, extent)| extent >= 2).collect();
        let reusing: Vec<(AxisId, usize)> = rows_options
            .iter()
            .copied()
            .filter(|(a, _)| vector_loads.iter().all(|l| !l.index.iter().any(|e| e.mentions(a))))
            .collect();
        let choices = if reusing.is_empty() { &rows_options } else { &reusing };
        if !choices.is_empty() {
            let (rows_axis, rows_extent) = choices[rng.below(choices.len())];
            rows = Some((rows_axis, rows_extent));
            let max_rows = (tile_budget(machine.registers) / (f3_vector / lanes).max(1)).clamp(1, rows_extent);
            if let Some(style) = style {
                // The style's rows, or the most this extent tiles well.
                let most = style.rows.min(max_rows);
                tiles[rows_axis.0][2] = near_divisors(rows_extent, 1, most).into_iter().max().unwrap_or(1);
            } else {
                let mut options = near_divisors(rows_extent, max_rows.div_ceil(2), max_rows);
                if options.is_empty() {
                    options = near_divisors(rows_extent, 1, max_rows);
                }
                if !options.is_empty() {
                    tiles[rows_axis.0][2] = rng.pick(&options);
                }
            }
        }
        // The middle levels: near-divisors of what the register tile leaves.
        for &(a, extent) in &spatial {
            for level in [1, 0] {
                let used: usize = tiles[a.0].iter().product();
                let left = extent / used.max(1);
                let options = near_divisors(left.max(1), 1, 16);
                if !options.is_empty() {
                    tiles[a.0][level] = rng.pick(&options);
                }
            }
        }
    }
    for (a, axis) in stage.axes.iter().enumerate() {
        if axis.kind == AxisKind::Reduction {
            let hi = if tiled { 512 } else { 256 };
            let mut options = near_divisors(axis.extent, 16.min(axis.extent), hi);
            if options.is_empty() {
                options = near_divisors(axis.extent, 1, hi);
            }
            tiles[a][0] = if options.is_empty() { 1 } else { rng.pick(&options) };
        }
    }

    let panel = tiled && rows.is_some() && style.map_or_else(|| rng.below(2) == 0, |style| style.panel);
    if let (true, Some((rows_axis, rows_extent))) = (panel, rows) {
        panel_order(&mut tiles, stage, vector_axis, f3_vector, rows_axis, rows_extent, rng);
    }
    if let Some(depth) = style.map(|style| style.depth).filter(|&d| d > 0) {
        // The style's depth on the first reduction axis, the one the panel
        // order sizes: the largest near-divisor of its extent up to it.
        if let Some(r) = stage.axes.iter().position(|a| a.kind == AxisKind::Reduction) {
            tiles[r][0] = near_divisors(stage.axes[r].extent, 1, depth).into_iter().max().unwrap_or(1);
        }
    }

    // Enough outer tasks for the cores: shrink outer tiles until the outer
    // loops have at least two tasks a core, then fuse the fewest of them.
    let want = 2 * machine.cores.max(1);
    let outer = |tiles: &[Vec<usize>], a: AxisId, extent: usize| extent.div_ceil(tiles[a.0].iter().product());
    let tasks = |tiles: &[Vec<usize>]| spatial.iter().map(|&(a, e)| outer(tiles, a, e)).product::<usize>();
    for &(a, _) in &spatial {
        for level in [0, 1] {
            if tasks(&tiles) < want {
                tiles[a.0][level] = 1;
            }
        }
    }
    let mut parallel = spatial.len();
    let mut fused = 1;
    for (n, &(a, extent)) in spatial.iter().enumerate() {
        fused *= outer(&tiles, a, extent);
        if fused >= want {
            parallel = n + 1;
            break;
        }
    }

    let mut packed = must_pack.clone();
    let mut blocked = Vec::new();
    if tiled {
        for &b in &contiguous {
            // The panel order reads the contiguous operand in panels a
            // register tile wide: blocked, each panel is one stream
            // instead of rows a power-of-two stride apart, which map to a
            // few L1 sets and evict one another. The blocking is a copy of
            // the operand every call, though, which only enough rows
            // reading each panel pay for (an MLP's weights, read by 32 or
            // 64 tokens, are not: deepseek-r1-moe's hand-written kernel
            // went from 1.48 to 1.83 ms with its three weights blocked).
            let block = panel || rng.below(2) == 0;
            let amortised = reads_per_element(stage, body, b) >= BLOCKING_AMORTISED_READS;
            if block && (amortised || rng.below(4) == 0) {
                packed.push(b);
                blocked.push(b);
            }
        }
        for &b in &invariant {
            if rng.below(4) == 0 {
                packed.push(b);
            }
        }
    }
    packed.sort_unstable();
    blocked.sort_unstable();
    let accumulator = if reduces { Accumulator::Registers } else { Accumulator::Memory };
    let mut schedule = StageSchedule {
        placement: Placement::Root,
        tiles,
        parallel,
        vector: lanes,
        unroll: style.map_or_else(|| rng.pick(&UNROLL_WEIGHTED), |style| style.unroll),
        accumulator,
        packed,
        blocked,
        local: Vec::new(),
        fused: None,
        rfactor: 1,
        iterate: super::Iterate::All,
    };
    informed_rfactor(candidate, s, machine, &mut schedule, rng);
    if reduces && super::analysis::register_count(stage, &schedule) > MAX_REGISTER_TILE {
        schedule.accumulator = Accumulator::Memory;
    }
    schedule
}

/// Where stage `s`'s reduction can be read in vectors along its innermost
/// reduction axis — three times in four where vectorising the spatial
/// axis instead would pack an operand read once a call (a pure copy:
/// softmax's rows, a matrix-vector product's weights), once in eight
/// where the pack is reused across another spatial axis (attention's `K`,
/// as a matmul packs its panels) — the machine's lanes there instead, over
/// the deepest `R1` block that is a multiple of them, the spatial axis scalar
/// with the points of its register tile's vectors (`f3 / lanes`), and no
/// packing, since the packs only made the spatial axis contiguous. Drawn
/// from a stream of its own (see `Candidate::random_rfactor`).
fn informed_rfactor(candidate: &Candidate, s: usize, machine: Machine, schedule: &mut StageSchedule, rng: &Rng) {
    let program = candidate.program();
    let stage = &program.stages()[s];
    let Some(axis) = super::rfactor::rfactor_axis(stage) else { return };
    if !super::rfactor::rfactorable(program, stage, &candidate.bodies()[s]) {
        return;
    }
    let mut side = super::candidate::rfactor_stream(rng);
    let in_eight = if packs_an_operand_read_once(program, stage, &candidate.bodies()[s]) { 6 } else { 1 };
    if side.below(8) >= in_eight {
        return;
    }
    // Each point reduces its lanes once per `R0` step, which costs what a
    // few vector steps do: the deepest `R1` block (the whole axis where it
    // is at most 512 long) keeps that to a few per point.
    let extent = stage.axis(axis).extent;
    let lanes = VECTOR_WIDTHS.iter().copied().filter(|&w| w <= machine.lanes && w <= extent).max().unwrap_or(1);
    let deepest = near_divisors(extent, lanes, 512).into_iter().filter(|d| d.is_multiple_of(lanes)).max();
    let Some(r1) = deepest.filter(|_| lanes > 1) else { return };
    schedule.tiles[axis.0][0] = r1;
    if let Some((vector_axis, _)) = stage.spatial_axes().last() {
        let f3 = &mut schedule.tiles[vector_axis.0][2];
        *f3 = (*f3 / schedule.vector.max(1)).max(1);
    }
    schedule.rfactor = lanes;
    schedule.vector = 1;
    schedule.packed.clear();
    schedule.blocked.clear();
}

/// Whether vectorising `stage`'s last spatial axis would pack an operand
/// that every point of the stage reads its own part of (its index
/// mentions every spatial axis), so that the pack is a copy of it each
/// call, reused by nothing.
fn packs_an_operand_read_once(program: &Program, stage: &crate::program::Stage, body: &crate::expr::Expr) -> bool {
    let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
    let Some(&vector_axis) = spatial.last() else { return false };
    loads(body).into_iter().any(|l| {
        let strided = !matches!(load_stride(program, l, vector_axis), Some(0) | Some(1));
        strided && spatial.iter().all(|a| l.index.iter().any(|e| e.mentions(a)))
    })
}

/// The loop order that keeps a panel of the contiguous operand in L1
/// while every row tile of the block reads it (the order of OpenBLAS's and
/// BLIS's kernels): the `S2` level of the vector axis is 1, so one `R0`
/// step reads one panel of `R1 x f3` elements; the rows axis takes its
/// largest `S2` level (up to 16 row tiles), so that panel is reused by
/// all of them before the next; and the inner reduction factor is drawn
/// so that the panel takes at most half of a 32 KB L1 (the rest for the
/// rows' elements and the tile's output). The outer levels are left to
/// the parallel rule.
pub(super) fn panel_order(
    tiles: &mut [Vec<usize>],
    stage: &crate::program::Stage,
    vector_axis: AxisId,
    f3_vector: usize,
    rows_axis: AxisId,
    rows_extent: usize,
    rng: &mut Rng,
) {
    const PANEL_BYTES: usize = 16 * 1024;
    tiles[vector_axis.0][0] = 1;
    tiles[vector_axis.0][1] = 1;
    let row_tile = tiles[rows_axis.0][2].max(1);
    let left = (rows_extent / row_tile).max(1);
    tiles[rows_axis.0][0] = 1;
    tiles[rows_axis.0][1] = near_divisors(left, 1, 16).into_iter().max().unwrap_or(1);
    let reductions: Vec<usize> =
        stage.axes.iter().enumerate().filter(|(_, a)| a.kind == AxisKind::Reduction).map(|(n, _)| n).collect();
    // One reduction axis sets the panel's depth; with several (a
    // convolution's channels and window) the first declared is redrawn,
    // the others keep their draws and count against the panel's size.
    let Some(&depth_axis) = reductions.first() else { return };
    let others: usize = reductions.iter().filter(|&&r| r != depth_axis).map(|&r| tiles[r][0].max(1)).product();
    let max_depth = (PANEL_BYTES / (4 * f3_vector.max(1) * others)).max(1);
    let extent = stage.axes[depth_axis].extent;
    let options = near_divisors(extent, 32.min(extent).min(max_depth), max_depth.min(extent));
    if !options.is_empty() {
        tiles[depth_axis][0] = rng.pick(&options);
    }
}
