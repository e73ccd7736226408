//! How a candidate is drawn from the schedule space.
//!
//! [`Sampler::Uniform`] draws every decision uniformly from its domain (and
//! is what every lineage stored before the informed sampler means). Most of
//! what it draws is slow: scalar code, sums in memory, one task, tiles
//! that fit nothing.
//!
//! [`Sampler::Informed`] draws from the part of the space where fast
//! kernels are, the way MetaSchedule's sketch rules and post-processors
//! shape its samples, for one [`Machine`]:
//! - the contiguous (last spatial) axis is vectorised with the machine's
//!   lanes; an operand whose reads along it are strided, or whose padding
//!   depends on it, is packed so that they become contiguous;
//! - a reduction with multi-level tiling accumulates in a register tile that
//!   fits the register file: `1..=4` vectors along the contiguous axis
//!   times a number of rows along the spatial axis that reuses the
//!   contiguous operand (the one its vector loads do not depend on), using
//!   at most three quarters of the registers (the rest hold the loaded
//!   vectors and broadcasts); [`Sampler::Styled`] gives every tiled stage
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
use super::sketch::{loads, recomputes_expensive, StageRule};
use super::style::{TileStyle, MAX_STYLE_VECTORS};
use super::{factor_domain, Accumulator, Placement, Rng, StageSchedule, Target, MAX_REGISTER_TILE, VECTOR_WIDTHS};
use crate::expr::AxisId;
use crate::program::{AxisKind, Combine, Program};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The machine an informed sample is shaped for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Machine {
    /// f32 lanes of one vector register: 4 (SSE), 8 (AVX2), 16 (AVX-512).
    pub lanes: usize,
    /// Vector registers: 16 (SSE, AVX2), 32 (AVX-512).
    pub registers: usize,
    /// Cores the kernel's tasks run on.
    pub cores: usize,
}

/// How a candidate is drawn from a seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sampler {
    /// Every decision uniform in its domain.
    #[default]
    Uniform,
    /// Shaped for a machine (see the module docs).
    Informed(Machine),
    /// Shaped for a machine, every tiled stage in one given register-tile
    /// style instead of a drawn one: a job's transfer of another
    /// workload's fast kernel (see [`TileStyle`]).
    Styled(Machine, TileStyle),
}

impl Sampler {
    /// The candidate of `seed` in `target`'s space.
    pub fn sample(self, program: Arc<Program>, target: Target, seed: u64) -> Candidate {
        match (self, target) {
            (Sampler::Informed(machine), Target::Cpu) => sample_informed(program, machine, None, seed),
            (Sampler::Styled(machine, style), Target::Cpu) => sample_informed(program, machine, Some(style), seed),
            _ => Candidate::sample_on(program, target, seed),
        }
    }

    pub fn is_uniform(self) -> bool {
        self == Sampler::Uniform
    }

    /// The style it gives every tiled stage, if it is a styled one.
    pub fn style(self) -> Option<TileStyle> {
        match self {
            Sampler::Styled(_, style) => Some(style),
            _ => None,
        }
    }
}

/// `uniform`, `informed(lanes=8, registers=16, cores=2)` or
/// `styled(lanes=8, registers=16, cores=2, vectors=2, rows=6, depth=256,
/// unroll=16, panel=0)`: how the command line (`--sampler`) and the tuning
/// database write it.
impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machine = |m: &Machine| format!("lanes={}, registers={}, cores={}", m.lanes, m.registers, m.cores);
        match self {
            Sampler::Uniform => write!(f, "uniform"),
            Sampler::Informed(m) => write!(f, "informed({})", machine(m)),
            Sampler::Styled(m, s) => write!(
                f,
                "styled({}, vectors={}, rows={}, depth={}, unroll={}, panel={})",
                machine(m),
                s.vectors,
                s.rows,
                s.depth,
                s.unroll,
                u8::from(s.panel)
            ),
        }
    }
}

/// Why a sampler's text does not name one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "sampler `{text}`: {reason} (expected `uniform`, `informed(lanes=L, registers=R, cores=C)`, \
     e.g. `informed(lanes=8, registers=16, cores=2)`, or `styled(...)` with those and \
     `vectors=V, rows=N, depth=D, unroll=U, panel=0|1`)"
)]
pub struct SamplerParseError {
    pub text: String,
    pub reason: String,
}

impl std::str::FromStr for Sampler {
    type Err = SamplerParseError;

    fn from_str(text: &str) -> Result<Sampler, SamplerParseError> {
        let error = |reason: &str| SamplerParseError { text: text.to_string(), reason: reason.to_string() };
        let trimmed = text.trim();
        if trimmed == "uniform" {
            return Ok(Sampler::Uniform);
        }
        let (name, names): (_, &[&str]) = if trimmed.starts_with("informed(") {
            ("informed", &["lanes", "registers", "cores"])
        } else if trimmed.starts_with("styled(") {
            ("styled", &["lanes", "registers", "cores", "vectors", "rows", "depth", "unroll", "panel"])
        } else {
            return Err(error("not a sampler"));
        };
        let Some(args) = trimmed.strip_prefix(name).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')'))
        else {
            return Err(error("not a sampler"));
        };
        let mut values: Vec<Option<usize>> = vec![None; names.len()];
        for part in args.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| error(&format!("`{part}` is not NAME=VALUE")))?;
            let value: usize =
                value.trim().parse().map_err(|_| error(&format!("`{}` is not a number", value.trim())))?;
            let slot = names
                .iter()
                .position(|n| *n == key.trim())
                .ok_or_else(|| error(&format!("unknown argument `{}`", key.trim())))?;
            values[slot] = Some(value);
        }
        let value = |n: usize| values[n].ok_or_else(|| error(&format!("`{}` is missing", names[n])));
        let machine = Machine { lanes: value(0)?, registers: value(1)?, cores: value(2)? };
        if !VECTOR_WIDTHS.contains(&machine.lanes) {
            return Err(error(&format!("lanes must be one of {VECTOR_WIDTHS:?}")));
        }
        if machine.registers == 0 || machine.cores == 0 {
            return Err(error("registers and cores must be at least 1"));
        }
        if name == "informed" {
            return Ok(Sampler::Informed(machine));
        }
        let panel = match value(7)? {
            0 => false,
            1 => true,
            other => return Err(error(&format!("panel must be 0 or 1, not {other}"))),
        };
        let style = TileStyle { vectors: value(3)?, rows: value(4)?, depth: value(5)?, unroll: value(6)?, panel };
        style.check().map_err(|reason| error(&reason))?;
        Ok(Sampler::Styled(machine, style))
    }
}

/// Whether `d` tiles `extent` leaving edge tiles of under 5% of it.
pub(super) fn near_divisor(extent: usize, d: usize) -> bool {
    d >= 1 && d <= extent && (extent % d) * 20 <= extent
}

/// The near-divisors of `extent` in colt's factor domain, within `lo..=hi`.
fn near_divisors(extent: usize, lo: usize, hi: usize) -> Vec<usize> {
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
const BLOCKING_AMORTISED_READS: usize = 256;

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

fn sample_informed(program: Arc<Program>, machine: Machine, style: Option<TileStyle>, seed: u64) -> Candidate {
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
fn panel_order(
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

#[cfg(test)]
mod tests {
    use super::*;

    const AVX2: Machine = Machine { lanes: 8, registers: 16, cores: 2 };
    const AVX512: Machine = Machine { lanes: 16, registers: 32, cores: 2 };

    #[test]
    fn the_text_form_round_trips_and_bad_text_names_what_is_wrong() {
        for sampler in [Sampler::Uniform, Sampler::Informed(AVX2)] {
            assert_eq!(sampler.to_string().parse::<Sampler>().unwrap(), sampler);
        }
        let error = "informed(lanes=8, cores=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("`registers` is missing"), "{error}");
        let error = "informed(lanes=12, registers=16, cores=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("lanes must be one of"), "{error}");
        let error = "fancy".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("sampler `fancy`"), "{error}");
    }

    /// What the module docs promise, on every workload of the suite: each
    /// multi-level-tiled reduction is vectorised with the machine's lanes,
    /// accumulates in a register tile of at most 3/4 of the registers, and,
    /// at the root, gives every core two tasks; every root stage runs in
    /// parallel.
    #[test]
    fn informed_samples_of_the_suite_have_the_shape_of_fast_kernels() {
        for machine in [AVX2, Machine { lanes: 16, registers: 32, cores: 4 }] {
            for w in crate::SUITE {
                let program = Arc::new(w.program(crate::Size::Bench));
                for seed in 0..24 {
                    let c = Sampler::Informed(machine).sample(program.clone(), Target::Cpu, seed);
                    for (s, sched) in c.stages().iter().enumerate() {
                        let stage = &program.stages()[s];
                        let name = format!("{} seed {seed} stage {}: {sched:?}", w.name, program.stage_name(stage));
                        // A fused stage runs in its leader's loops.
                        if sched.fused.is_some() {
                            continue;
                        }
                        if sched.placement == Placement::Root {
                            assert!(sched.parallel > 0, "{name}");
                        }
                        if c.sketch().rules[s] != StageRule::MultiLevelTiling {
                            continue;
                        }
                        // The lanes along the spatial axis, or along the
                        // reduction axis (rfactor).
                        assert!(sched.vector == machine.lanes || sched.rfactor > 1, "{name}");
                        assert_eq!(sched.accumulator, Accumulator::Registers, "{name}");
                        let registers = super::super::analysis::register_count(stage, sched);
                        assert!(registers <= machine.registers * 3 / 4, "{name}");
                        if sched.placement == Placement::Root {
                            let tasks: usize = stage
                                .spatial_axes()
                                .take(sched.parallel)
                                .map(|(a, axis)| axis.extent.div_ceil(sched.tiles[a.0].iter().product()))
                                .product();
                            assert!(tasks >= 2 * machine.cores, "{name}: {tasks} tasks");
                        }
                    }
                }
            }
        }
    }

    /// About one sample in two of an attention is a pipeline: the stages
    /// before the output computed at one loop of it, so that a query
    /// tile's scores stay in cache from QK to P·V; the others keep their
    /// own placements. An MLP's down projection starts none.
    #[test]
    fn half_the_attention_samples_compute_the_softmax_at_the_output_rows() {
        for w in ["flux-attn", "llama3-8b-attn"] {
            let program = Arc::new(crate::builtin(w).unwrap().program(crate::Size::Bench));
            let o = program.stages().len() - 1;
            let pipelines = (0..200)
                .filter(|&seed| {
                    let c = Sampler::Informed(AVX512).sample(program.clone(), Target::Cpu, seed);
                    // An epilogue or a fused sibling runs in its leader's
                    // nest, wherever that is.
                    let members: Vec<&Placement> = c.stages()[..o]
                        .iter()
                        .filter(|sched| sched.fused.is_none())
                        .map(|sched| &sched.placement)
                        .filter(|p| **p != Placement::Inlined)
                        .collect();
                    let at = members.first().copied();
                    matches!(at, Some(Placement::At { stage, .. }) if *stage == o)
                        && members.iter().all(|&p| Some(p) == at)
                })
                .count();
            assert!((60..=140).contains(&pipelines), "{w}: {pipelines} pipelines of 200 samples");
        }
        let mlp = Arc::new(crate::builtin("llama4-scout-mlp").unwrap().program(crate::Size::Bench));
        let y = mlp.stages().len() - 1;
        // Random placements put all three there now and then.
        let pipelines = (0..100)
            .filter(|&seed| {
                let c = Sampler::Informed(AVX512).sample(mlp.clone(), Target::Cpu, seed);
                let at_y = |s: &&StageSchedule| matches!(s.placement, Placement::At { stage, .. } if stage == y);
                c.stages().iter().filter(at_y).count() >= 3
            })
            .count();
        assert!(pipelines <= 10, "{pipelines} pipelines at the down projection of 100 samples");
    }

    #[test]
    fn a_seed_draws_one_candidate_and_seeds_draw_many() {
        let program = Arc::new(crate::builtin("llama3-8b-attn").unwrap().program(crate::Size::Bench));
        let draw = |seed| super::super::lower(&Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed));
        assert_eq!(draw(5).fingerprint(), draw(5).fingerprint());
        let distinct: std::collections::HashSet<u64> = (0..64).map(|seed| draw(seed).fingerprint()).collect();
        assert!(distinct.len() >= 60, "{} distinct of 64", distinct.len());
    }

    /// The panel order (see `panel_order`) is drawn for about half of the
    /// tiled matmul samples: one panel of B per `R0` step (the vector
    /// axis's outer levels 1), at most 16 KB deep, and the rows' largest
    /// `S2` level of up to 16 row tiles. (A few other draws land on the
    /// same shape by chance.) B is blocked in those panels where enough
    /// rows read it to pay for the copy.
    #[test]
    fn about_half_the_matmul_samples_read_b_by_panels_blocked_where_rows_pay_for_the_copy() {
        for name in ["gemm-512", "llama4-scout-mlp"] {
            let program = Arc::new(crate::builtin(name).unwrap().program(crate::Size::Bench));
            let rows_extent = program.stages()[0].axes[0].extent;
            let (b, n, k) = (1, 1, 2); // the weights, the contiguous axis, the reduction
                                       // A fused draw halves the leader's row tile to fit its
                                       // siblings' accumulators: those are not panel draws.
            let unfused: Vec<Candidate> = (0..96)
                .map(|seed| Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed))
                .filter(|c| c.stages().iter().all(|s| s.fused.is_none()))
                .collect();
            let panels: Vec<&Candidate> = unfused
                .iter()
                .filter(|c| {
                    let sched = &c.stages()[0];
                    let (vector, rows) = (&sched.tiles[n], &sched.tiles[0]);
                    let widest = near_divisors(rows_extent / rows[2], 1, 16).into_iter().max();
                    vector[0] == 1
                        && vector[1] == 1
                        && sched.tiles[k][0] * vector[2] * 4 <= 16 * 1024
                        && Some(rows[1]) == widest
                })
                .collect();
            let considered = unfused.len();
            assert!(considered >= 32, "{name}: {considered} unfused samples of 96");
            let drawn = panels.len();
            assert!((30 * considered..=80 * considered).contains(&(drawn * 96)), "{name}: {drawn} of {considered}");
            // gemm-512 reads each element of B 512 times, and blocks its
            // panels in every panel draw; the MLP reads its weights 32
            // times, and blocks them in one panel draw in four.
            let blocked = panels.iter().filter(|c| c.stages()[0].blocked.contains(&b)).count();
            if rows_extent >= BLOCKING_AMORTISED_READS {
                assert_eq!(blocked, drawn, "{name}");
            } else {
                assert!(blocked * 2 < drawn, "{name}: {blocked} of {drawn} panel draws blocked");
            }
        }
    }

    #[test]
    fn the_sampler_seldom_recomputes_silu_per_output_column() {
        let program = Arc::new(crate::builtin("deepseek-r1-moe").unwrap().program(crate::Size::Bench));
        let h = program.stages().iter().position(|s| program.stage_name(s) == "H").unwrap();
        let inlined = (0..96)
            .filter(|&seed| Sampler::Informed(AVX2).sample(program.clone(), Target::Cpu, seed).sketch().is_inlined(h))
            .count();
        // One draw in four from all sketches, half of those inline H: 1/8.
        assert!(inlined <= 24, "{inlined} of 96 samples inline H");
        assert!(inlined >= 2, "the inlined sketch stays in the space: {inlined} of 96");
    }

    #[test]
    fn a_styled_sampler_round_trips_and_a_bad_style_is_named() {
        let style = TileStyle { vectors: 2, rows: 6, depth: 256, unroll: 16, panel: false };
        let styled = Sampler::Styled(AVX2, style);
        let text = "styled(lanes=8, registers=16, cores=2, vectors=2, rows=6, depth=256, unroll=16, panel=0)";
        assert_eq!(styled.to_string(), text);
        assert_eq!(text.parse::<Sampler>().unwrap(), styled);
        assert_eq!(styled.style(), Some(style));
        assert_eq!(Sampler::Informed(AVX2).style(), None);
        let base = "styled(lanes=8, registers=16, cores=2";
        for (args, expected) in [
            ("vectors=5, rows=6, depth=0, unroll=16, panel=0", "vectors must be 1 to 4, not 5"),
            ("vectors=2, rows=0, depth=0, unroll=16, panel=0", "rows must be 1 to 32, not 0"),
            ("vectors=2, rows=6, depth=0, unroll=7, panel=0", "unroll must be one of [0, 16, 64, 512], not 7"),
            ("vectors=2, rows=6, depth=0, unroll=16, panel=2", "panel must be 0 or 1, not 2"),
            ("vectors=2, rows=6, depth=0, unroll=16", "`panel` is missing"),
        ] {
            let error = format!("{base}, {args})").parse::<Sampler>().unwrap_err();
            assert!(error.to_string().contains(expected), "{args}: {error}");
        }
        let error = "informed(lanes=8, registers=16, cores=2, vectors=2)".parse::<Sampler>().unwrap_err();
        assert!(error.to_string().contains("unknown argument `vectors`"), "{error}");
    }

    /// A styled sample gives every tiled stage the style (here legal on
    /// every extent as it is), and the style read back from the sample is
    /// the one it was drawn in.
    #[test]
    fn a_styled_sample_has_its_style_on_every_tiled_stage() {
        let style = TileStyle { vectors: 1, rows: 8, depth: 128, unroll: 64, panel: true };
        for name in ["gemm-512", "deepseek-r1-moe", "llama4-scout-mlp"] {
            let program = Arc::new(crate::builtin(name).unwrap().program(crate::Size::Bench));
            for seed in 0..16 {
                let c = Sampler::Styled(AVX2, style).sample(program.clone(), Target::Cpu, seed);
                let mut tiled = 0;
                for (s, sched) in c.stages().iter().enumerate() {
                    if c.sketch().rules[s] != StageRule::MultiLevelTiling || sched.placement == Placement::Inlined {
                        continue;
                    }
                    tiled += 1;
                    let stage = &program.stages()[s];
                    let spatial: Vec<usize> = stage.spatial_axes().map(|(a, _)| a.0).collect();
                    let (&vector_axis, rows) = spatial.split_last().unwrap();
                    let what = format!("{name} seed {seed} stage {}: {sched:?}", program.stage_name(stage));
                    assert_eq!((sched.vector, sched.tiles[vector_axis][2]), (8, 8), "{what}");
                    assert!(rows.iter().any(|&a| sched.tiles[a][2] == 8), "{what}");
                    let depth = stage.axes.iter().position(|a| a.kind == AxisKind::Reduction).unwrap();
                    assert_eq!(sched.tiles[depth][0], 128, "{what}");
                    assert_eq!(sched.unroll, 64, "{what}");
                }
                assert!(tiled > 0, "{name} seed {seed}: no tiled stage");
                assert_eq!(TileStyle::of(&c), Some(style), "{name} seed {seed}");
            }
        }
    }

    #[test]
    fn near_divisors_leave_small_edges() {
        assert!(near_divisor(512, 6)); // 2 of 512 points in the edge tile
        assert!(!near_divisor(32, 12)); // 8 of 32
                                        // 3 and 7 leave one point of 64 in an edge tile, 5 and 6 four.
        assert_eq!(near_divisors(64, 1, 8), vec![1, 2, 3, 4, 7, 8]);
    }
}
