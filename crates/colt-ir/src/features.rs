//! Loop-nest features for the cost model: a fixed-length vector of numbers
//! per candidate, in the manner of Ansor's and MetaSchedule's per-store
//! features, read off the lowered [`LoopNest`] (what runs) and the
//! candidate's tiles (what stays in which cache).
//!
//! Every feature is scale-free or logarithmic, so that one model serves
//! workloads of different sizes. [`FEATURE_NAMES`] documents each one. The
//! "blocks" are the data one iteration of a loop level touches in the
//! stage with the most work: `reg` = one register tile for one step of the
//! reduction (`S3` x `k=1`; sums kept in registers count once per
//! reduction, see `block_bytes`), `l1` = one `S2` tile over one `R1` block,
//! `l2` = one `S1` tile over one `R1` block, `l3` = one `S1` tile over the
//! whole reduction.

use crate::expr::{AxisId, Expr, IndexExpr, Load};
use crate::loopnest::{Loop, LoopNest, Node};
use crate::program::{AxisKind, Stage};
use crate::schedule::{
    analysis::tile_sizes, fusion, intrinsic_flops, lower, opencl, Accumulator, Candidate, Placement, StageSchedule,
    Target,
};

/// The number of features.
pub const FEATURE_COUNT: usize = 40;

/// What each feature is, in order.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "log2 total flops",
    "log2 total bytes accessed by statements",
    "log2 flops per byte accessed",
    "share of flops in vector statements",
    "mean lanes per flop / 16",
    "share of loads that broadcast (stride 0 along the innermost spatial axis)",
    "share of loads that are contiguous (stride 1)",
    "share of loads that are strided or indirect",
    "share of flops inside a parallel loop",
    "log2 iterations of the parallel loop (flop-weighted)",
    "parallel balance over 2 tasks (1 = even)",
    "phases (barriers + 1)",
    "log2 number of loops",
    "log2 trip count of the innermost loop (flop-weighted)",
    "share of flops under an unroll hint",
    "log2 unroll count (flop-weighted)",
    "share of flops in stages that accumulate in registers",
    "register accumulators of the heaviest stage / 32",
    "log2 bytes of the reg block",
    "log2 bytes of the l1 block",
    "log2 bytes of the l2 block",
    "log2 bytes of the l3 block",
    "log2 flops per byte of the reg block",
    "log2 flops per byte of the l1 block",
    "log2 flops per byte of the l2 block",
    "log2 flops per byte of the l3 block",
    "share of the heaviest stage's points in full (fast-path) tiles",
    "share of stages computed at another stage",
    "share of stages inlined",
    "log2 bytes of temporaries",
    "share of flops in the heaviest phase",
    "share of the heaviest stage's reduction done per R0 step (r1 / extent)",
    "log2 executed flops per flop of the program computed once (recomputation)",
    "OpenCL: log2 work-items per work-group of the heaviest stage's kernel (0 on the CPU)",
    "OpenCL: log2 work-groups of the heaviest stage's kernel (0 on the CPU)",
    "OpenCL: log2 bytes the heaviest stage stages in local memory per work-group (0 on the CPU)",
    "OpenCL: share of the heaviest stage's operands staged in local memory (0 on the CPU)",
    "scalars broadcast per vector FMA in one step of the heaviest stage's register tile (0 without one)",
    "vectors loaded per vector FMA in one step of the heaviest stage's register tile (0 without one)",
    "log2 bytes the pack passes read and write (every packed float read once and written once a call)",
];

/// A candidate's features.
#[derive(Clone, Debug, PartialEq)]
pub struct Features(pub [f32; FEATURE_COUNT]);

fn log2p(x: f64) -> f32 {
    (1.0 + x).log2() as f32
}

/// The features of a candidate (lowers it; use [`features_of`] when the
/// nest is at hand).
pub fn features(c: &Candidate) -> Features {
    features_of(c, &lower(c))
}

#[derive(Default)]
struct Totals {
    flops: f64,
    bytes: f64,
    vector_flops: f64,
    lane_flops: f64,
    loads: [f64; 3],
    parallel_flops: f64,
    parallel_log_trips: f64,
    parallel_balance: f64,
    innermost_log_trips: f64,
    unrolled_flops: f64,
    unroll_log: f64,
    register_flops: f64,
    stage_flops: Vec<f64>,
}

/// The features of a candidate whose loop nest is `nest`.
pub fn features_of(c: &Candidate, nest: &LoopNest) -> Features {
    let program = c.program();
    let mut t = Totals { stage_flops: vec![0.0; program.stages().len()], ..Totals::default() };
    nest.for_each_statement(&mut |s, loops, share| {
        let executions: f64 = share * loops.iter().map(|l| l.trips as f64).product::<f64>();
        let flops = s.flops as f64 * executions;
        t.flops += flops;
        t.stage_flops[s.stage] += flops;
        for a in &s.accesses {
            t.bytes += 4.0 * a.elements as f64 * executions;
            if !a.write {
                let class = match a.stride {
                    Some(0) => 0,
                    Some(1) => 1,
                    _ => 2,
                };
                t.loads[class] += executions;
            }
        }
        if s.lanes > 1 {
            t.vector_flops += flops;
        }
        t.lane_flops += flops * s.lanes as f64;
        if let Some(p) = loops.iter().find(|l| l.kind.is_parallel()) {
            t.parallel_flops += flops;
            t.parallel_log_trips += flops * (p.trips as f64).log2();
            let even = if p.trips % 2 == 0 { 1.0 } else { p.trips as f64 / (p.trips + 1) as f64 };
            t.parallel_balance += flops * even;
        }
        if let Some(inner) = loops.last() {
            t.innermost_log_trips += flops * (inner.trips as f64).log2();
        }
        if let Some(u) = loops.iter().rev().find_map(|l| l.unroll) {
            t.unrolled_flops += flops;
            t.unroll_log += flops * (u as f64).log2();
        }
        if c.stages()[s.stage].accumulator == Accumulator::Registers {
            t.register_flops += flops;
        }
    });
    let share = |x: f64| if t.flops > 0.0 { (x / t.flops) as f32 } else { 0.0 };
    let loads_total: f64 = t.loads.iter().sum::<f64>().max(1.0);
    let heaviest = (0..t.stage_flops.len()).max_by(|&a, &b| t.stage_flops[a].total_cmp(&t.stage_flops[b])).unwrap_or(0);
    let blocks = block_bytes(c, heaviest);
    let stage_work = t.stage_flops[heaviest];
    let stage = &program.stages()[heaviest];
    let sched = &c.stages()[heaviest];
    let points = stage.domain_size().max(1) as f64;
    let per_block = |block_points: f64, bytes: f64| log2p(stage_work / points * block_points / bytes.max(1.0));
    let registers = crate::schedule::analysis::register_count(stage, sched) as f32 / 32.0;
    let full_share: f64 = stage
        .spatial_axes()
        .map(|(id, a)| {
            let f3 = sched.tiles[id.0][2].max(1);
            (a.extent / f3 * f3) as f64 / a.extent as f64
        })
        .product();
    let n = program.stages().len() as f32;
    let at = c.stages().iter().filter(|s| matches!(s.placement, Placement::At { .. })).count() as f32;
    let inlined = c.stages().iter().filter(|s| s.placement == Placement::Inlined).count() as f32;
    let temp_bytes: f64 = program
        .buffers_with_role(crate::program::BufferRole::Temp)
        .filter(|(id, _)| {
            program
                .stages()
                .iter()
                .position(|s| s.output == *id)
                .is_some_and(|s| c.stages()[s].placement != Placement::Inlined)
        })
        .map(|(_, b)| 4.0 * b.len() as f64)
        .sum();
    let phases = count_barriers(&nest.body) + 1;
    let reduction_share =
        stage.reduction_axes().map(|(id, a)| sched.tiles[id.0][0] as f64 / a.extent as f64).product::<f64>() as f32;
    let phase_share = heaviest_phase_share(c, &t.stage_flops, t.flops);
    let opencl = opencl_features(c, heaviest);
    let (broadcasts, vector_loads) = register_tile_loads(c, heaviest);
    let pack_bytes = 8.0 * nest.scratch.iter().sum::<usize>() as f64;
    Features([
        log2p(t.flops),
        log2p(t.bytes),
        log2p(t.flops / t.bytes.max(1.0)),
        share(t.vector_flops),
        share(t.lane_flops) / 16.0,
        (t.loads[0] / loads_total) as f32,
        (t.loads[1] / loads_total) as f32,
        (t.loads[2] / loads_total) as f32,
        share(t.parallel_flops),
        if t.parallel_flops > 0.0 { (t.parallel_log_trips / t.parallel_flops) as f32 } else { 0.0 },
        if t.parallel_flops > 0.0 { (t.parallel_balance / t.parallel_flops) as f32 } else { 0.0 },
        phases as f32,
        log2p(count_loops(&nest.body) as f64),
        share(t.innermost_log_trips),
        share(t.unrolled_flops),
        share(t.unroll_log),
        share(t.register_flops),
        registers,
        log2p(blocks[0].1),
        log2p(blocks[1].1),
        log2p(blocks[2].1),
        log2p(blocks[3].1),
        per_block(blocks[0].0, blocks[0].1),
        per_block(blocks[1].0, blocks[1].1),
        per_block(blocks[2].0, blocks[2].1),
        per_block(blocks[3].0, blocks[3].1),
        full_share as f32,
        at / n,
        inlined / n,
        log2p(temp_bytes),
        phase_share,
        reduction_share,
        (t.flops.max(1.0) / intrinsic_flops(program).max(1.0)).log2().max(0.0) as f32,
        opencl[0],
        opencl[1],
        opencl[2],
        opencl[3],
        broadcasts,
        vector_loads,
        log2p(pack_bytes),
    ])
}

/// The loads one reduction step of stage `s`'s register tile issues, per
/// vector FMA of the step: scalars broadcast (operands that do not vary
/// along the vector axis, the last spatial one) and vectors loaded (those
/// that do), each distinct element or vector once, as the compiler keeps
/// them in registers across the tile. An 8-row tile of 2 vectors on a
/// matmul issues 8 broadcasts and 2 loads for 16 FMAs; 16 rows of 1
/// vector, 16 and 1 for 16. (0, 0) without a vectorised register tile.
fn register_tile_loads(c: &Candidate, s: usize) -> (f32, f32) {
    let stage = &c.program().stages()[s];
    let sched = &c.stages()[s];
    let lanes = sched.vector.max(1);
    let reduces = stage.axes.iter().any(|a| a.kind == AxisKind::Reduction);
    let Some((vector_axis, _)) = stage.spatial_axes().last() else { return (0.0, 0.0) };
    if sched.accumulator != Accumulator::Registers || lanes == 1 || !reduces {
        return (0.0, 0.0);
    }
    let extents = block_extents(stage, sched, 2, 0);
    let fmas = crate::schedule::analysis::register_count(stage, sched).max(1) as f64;
    let (mut broadcasts, mut vectors) = (0.0, 0.0);
    for_each_distinct_load(&c.bodies()[s], &extents, |l, elements| {
        if l.index.iter().any(|e| e.mentions(&vector_axis)) {
            vectors += (elements / lanes as f64).ceil();
        } else {
            broadcasts += elements;
        }
    });
    ((broadcasts / fmas) as f32, (vectors / fmas) as f32)
}

/// The OpenCL features of stage `s`: those of the kernel it runs in (its
/// root's, when it is computed at another stage).
fn opencl_features(c: &Candidate, s: usize) -> [f32; 4] {
    if c.target() != Target::OpenCl {
        return [0.0; 4];
    }
    let root = match c.stages()[s].placement {
        Placement::At { stage, .. } => stage,
        _ => s,
    };
    let (stage, sched) = (&c.program().stages()[root], &c.stages()[root]);
    // A valid candidate's regions were checked (`Candidate::check`).
    let regions = opencl::local_regions(c.program(), root, &c.bodies()[root], sched).unwrap_or_default();
    let local_bytes: usize = regions.iter().map(|r| 4 * r.floats()).sum();
    let operands = crate::schedule::pack::operands(&c.bodies()[root]).len().max(1);
    [
        log2p(opencl::work_group_size(stage, sched) as f64),
        log2p(opencl::work_groups(stage, sched) as f64),
        log2p(local_bytes as f64),
        regions.len() as f32 / operands as f32,
    ]
}

fn count_loops(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Loop(Loop { body, .. }) => 1 + count_loops(body),
            Node::If { then, otherwise, .. } => count_loops(then) + count_loops(otherwise),
            _ => 0,
        })
        .sum()
}

fn count_barriers(nodes: &[Node]) -> usize {
    nodes.iter().filter(|n| matches!(n, Node::Barrier)).count()
}

fn heaviest_phase_share(c: &Candidate, stage_flops: &[f64], total: f64) -> f32 {
    if total <= 0.0 {
        return 0.0;
    }
    c.groups()
        .iter()
        .map(|g| {
            // A phase computes its stages' fused siblings and epilogues too.
            let stages = g.members.iter().map(|m| m.stage).chain([g.root]);
            stages.flat_map(|s| fusion::fused_set(c.stages(), s)).map(|s| stage_flops[s]).sum::<f64>()
        })
        .fold(0.0f64, f64::max) as f32
        / total as f32
}

/// For the blocks `reg`, `l1`, `l2`, `l3` of stage `s`: the points of its
/// iteration domain one block covers, and the bytes of distinct data it
/// reads and writes. A register tile's sums stay in its registers over the
/// whole reduction: the `reg` block counts their bytes once per reduction,
/// spread over its steps, not once per step. Counted per step, a 16 × 2
/// tile's 2 KB of sums buried the 192 bytes of operands each step loads,
/// so every tile read about 0.45 flops a byte and the block told a 16-row
/// tile (each loaded vector reused 16 times) from a 4-row one no better
/// than chance; sums kept in memory are loaded and stored every step.
fn block_bytes(c: &Candidate, s: usize) -> [(f64, f64); 4] {
    let stage = &c.program().stages()[s];
    let sched = &c.stages()[s];
    let body = &c.bodies()[s];
    let reduction_points: usize =
        stage.axes.iter().filter(|a| a.kind == AxisKind::Reduction).map(|a| a.extent.max(1)).product();
    [(2, 0), (2, 1), (1, 1), (1, 2)].map(|(spatial_level, reduction)| {
        let extents = block_extents(stage, sched, spatial_level, reduction);
        let points: f64 = extents.iter().map(|&e| e as f64).product();
        let sums_stay = reduction == 0 && sched.accumulator == Accumulator::Registers;
        let output_share = if sums_stay { 1.0 / reduction_points as f64 } else { 1.0 };
        (points, footprint(stage, body, &extents, output_share))
    })
}

/// Extent of each axis within a block: spatial at tile level
/// `spatial_level`, reduction at one step (`reduction` 0), one R1 block
/// (1), or everything (2).
fn block_extents(stage: &Stage, sched: &StageSchedule, spatial_level: usize, reduction: usize) -> Vec<usize> {
    stage
        .axes
        .iter()
        .zip(&sched.tiles)
        .map(|(a, factors)| match a.kind {
            AxisKind::Spatial => tile_sizes(factors)[spatial_level].min(a.extent),
            AxisKind::Reduction => match reduction {
                0 => 1,
                1 => tile_sizes(factors)[0].min(a.extent),
                _ => a.extent,
            },
        })
        .collect()
}

/// Bytes of the distinct elements the block touches: each load's (and
/// `output_share` of the output's) extent per dimension, from the axes its
/// index mentions.
fn footprint(stage: &Stage, body: &Expr, extents: &[usize], output_share: f64) -> f64 {
    let mut bytes = 0.0;
    for_each_distinct_load(body, extents, |_, elements| bytes += 4.0 * elements);
    let out: f64 = stage.spatial_axes().map(|(id, _)| extents[id.0] as f64).product();
    bytes + 4.0 * out * output_share
}

/// Each distinct load of `body` (buffer and index) once, with the elements
/// it touches in a block of `extents`: per dimension, the span of its index
/// over the axes it mentions.
fn for_each_distinct_load<'a>(body: &'a Expr, extents: &[usize], mut f: impl FnMut(&'a Load, f64)) {
    let span = |e: &IndexExpr| -> f64 {
        let r = e.range(&|a: &AxisId| (0, extents[a.0] as i64 - 1));
        (r.1 - r.0 + 1).max(1) as f64
    };
    let mut seen: Vec<(usize, &[IndexExpr])> = Vec::new();
    body.for_each_load(&mut |l| {
        let key = (l.buffer.0, l.index.as_slice());
        if !seen.contains(&key) {
            seen.push(key);
            f(l, l.index.iter().map(span).product());
        }
    });
}
