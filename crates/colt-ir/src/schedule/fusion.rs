//! Fused sibling reductions and their elementwise epilogue: the decisions
//! that compute SwiGLU's gate and up projections (`G = X·Wg`, `U = X·Wu`)
//! in one nest, one step of `X` feeding both accumulator sets of one
//! register tile, and `H = silu(G)·U` on the finished accumulators before
//! anything is stored.
//!
//! Both are a [`Fusion`] on the stage that is computed inside another: the
//! *leader* (`G`) keeps its nest; a *sibling* (`U`,
//! `fuse(stage="U", with="G")`) and an *epilogue* (`H`,
//! `epilogue(stage="H", at="G")`) have none of their own.
//!
//! # The rules
//!
//! A sibling `F` of leader `L`:
//! 1. `L` comes before `F`, both are reductions under the same sketch rule
//!    and `L` is not itself fused;
//! 2. their axes are the same, in order (kind and extent), so one nest and
//!    one register tile cover both (`F` is printed with `L`'s loop
//!    variables);
//! 3. `F` reads no output of a stage from `L` up to `F`: it runs when `L`
//!    runs, before those stages would (this also says there is no
//!    dependence between them);
//! 4. `F`'s shared decisions — tiles, vector lanes, unroll, accumulator,
//!    parallel loops and placement — are `L`'s. Edits of them go to `L` and
//!    are copied to its siblings ([`copy_shared`]); the same edit on `F` is
//!    refused, naming `L`. `F` keeps its own packings (its operands are its
//!    own);
//! 5. with `accumulate(into="registers")`, the accumulators of `L` and all
//!    its siblings together fit [`MAX_REGISTER_TILE`].
//!
//! An epilogue `E` of leader `L`:
//! 1. `E` is an elementwise (`Assign`) stage after `L`, `L` a reduction
//!    that is not itself fused, and `L` has no other epilogue;
//! 2. `E`'s axes are `L`'s spatial axes (same extents, in order);
//! 3. every read of `E` is of `L`'s or a sibling's output, at exactly `E`'s
//!    own point (index `[a0, a1, ...]`, no padding): the values a register
//!    tile holds;
//! 4. `E` has the untransformed decisions: what runs is `L`'s nest.
//!
//! Fusion is the CPU's: OpenCL's space does not offer it.
//!
//! # What the nest does
//!
//! In `L`'s register tile (the fast path with register accumulators) the
//! accumulators of `L` and its siblings live side by side; each `R1` step
//! reads the operands once and updates them all. After the last `R0` step
//! the epilogue is computed on them and stored; `L`'s and a sibling's
//! outputs are stored there only where something other than the fused
//! stages reads them (or they are program outputs), since the epilogue was
//! their only reader. On earlier `R0` steps the partial sums are stored as
//! always. Edge tiles and memory accumulators compute each fused stage in
//! memory, one after another inside `L`'s tile loops, then the epilogue
//! from memory.
//!
//! The fused group is placed where `L` is: at the root or at a loop of a
//! later stage (compute-at), in which case the rules of `analysis` read the
//! consumers of every fused stage as consumers of `L`.

use super::analysis::register_count;
use super::error::ScheduleError;
use super::sketch::{loads, Sketch};
use super::{Accumulator, Candidate, Fusion, Placement, Rng, StageSchedule, Target, MAX_REGISTER_TILE};
use crate::expr::{Expr, IndexExpr};
use crate::program::{AxisKind, BufferRole, Combine, Program};

/// The stage whose nest computes `s`: its leader, or itself.
pub fn owner(stages: &[StageSchedule], s: usize) -> usize {
    // A leader out of range is refused by `check`; until then, itself.
    stages[s].fused.map(Fusion::leader).filter(|&l| l < stages.len()).unwrap_or(s)
}

/// The siblings fused with `leader`, ascending.
pub fn siblings(stages: &[StageSchedule], leader: usize) -> Vec<usize> {
    (0..stages.len()).filter(|&s| stages[s].fused == Some(Fusion::Sibling { leader })).collect()
}

/// The epilogue computed on `leader`'s accumulators, if any.
pub fn epilogue(stages: &[StageSchedule], leader: usize) -> Option<usize> {
    (0..stages.len()).find(|&s| stages[s].fused == Some(Fusion::Epilogue { leader }))
}

/// `leader`, its siblings and its epilogue: the stages its nest computes.
pub fn fused_set(stages: &[StageSchedule], leader: usize) -> Vec<usize> {
    let mut set = vec![leader];
    set.extend(siblings(stages, leader));
    set.extend(epilogue(stages, leader));
    set
}

/// Whether `s` is computed in another stage's nest.
pub fn is_fused(stages: &[StageSchedule], s: usize) -> bool {
    stages[s].fused.is_some()
}

/// Copies the decisions a sibling shares with its leader (rule 4).
pub fn copy_shared(from: &StageSchedule, to: &mut StageSchedule) {
    to.tiles = from.tiles.clone();
    to.vector = from.vector;
    to.unroll = from.unroll;
    to.accumulator = from.accumulator;
    to.parallel = from.parallel;
    to.placement = from.placement.clone();
}

/// After an edit of stage `s`: its siblings take its shared decisions.
pub fn propagate(stages: &mut [StageSchedule], s: usize) {
    for f in siblings(stages, s) {
        let from = stages[s].clone();
        copy_shared(&from, &mut stages[f]);
    }
}

fn shares_decisions(leader: &StageSchedule, sibling: &StageSchedule) -> bool {
    let mut copy = sibling.clone();
    copy_shared(leader, &mut copy);
    copy == *sibling
}

fn is_untransformed(sched: &StageSchedule) -> bool {
    sched.placement == Placement::Root
        && sched.tiles.iter().flatten().all(|&f| f == 1)
        && sched.vector == 1
        && sched.unroll == 0
        && sched.parallel == 0
        && sched.accumulator == Accumulator::Memory
        && sched.packed.is_empty()
        && sched.blocked.is_empty()
        && sched.local.is_empty()
}

/// Whether the nest of `leader` must store the output of `x` (a stage of
/// its fused set) after the last reduction step: it is a program output, or
/// a stage other than the fused ones reads it.
pub fn keeps_store(program: &Program, sketch: &Sketch, bodies: &[Expr], stages: &[StageSchedule], x: usize) -> bool {
    let leader = owner(stages, x);
    let set = fused_set(stages, leader);
    let out = program.stages()[x].output;
    if program.buffer(out).role == BufferRole::Output {
        return true;
    }
    // Effective bodies: a read through an inlined stage is its consumer's.
    (0..program.stages().len())
        .any(|d| !set.contains(&d) && !sketch.is_inlined(d) && loads(&bodies[d]).iter().any(|l| l.buffer == out))
}

/// Why stage `follower` cannot be a sibling of `leader` (rules 1–3), if it
/// cannot.
pub fn sibling_obstacle(
    program: &Program,
    sketch: &Sketch,
    bodies: &[Expr],
    stages: &[StageSchedule],
    leader: usize,
    follower: usize,
) -> Option<String> {
    let (l, f) = (&program.stages()[leader], &program.stages()[follower]);
    let name = |s: usize| program.stage_name(&program.stages()[s]).to_string();
    if leader >= follower {
        return Some(format!("a stage is fused with an earlier one, and `{}` comes after it", name(leader)));
    }
    if l.combine == Combine::Assign || f.combine == Combine::Assign {
        return Some("only reductions are fused as siblings (an elementwise stage can be an epilogue)".into());
    }
    if sketch.rules[leader] != sketch.rules[follower] {
        return Some("their sketch rules differ, so their tiles cannot be the same".into());
    }
    if let Some(other) = stages[leader].fused {
        return Some(format!("`{}` is itself computed in the nest of `{}`", name(leader), name(other.leader())));
    }
    let same_axes = l.axes.len() == f.axes.len()
        && l.axes.iter().zip(&f.axes).all(|(a, b)| a.kind == b.kind && a.extent == b.extent);
    if !same_axes {
        return Some("their axes differ (one nest needs the same kinds and extents, in order)".into());
    }
    let between: Vec<usize> = (leader..follower).collect();
    for load in loads(&bodies[follower]) {
        if let Some(p) = between.iter().find(|&&p| program.stages()[p].output == load.buffer) {
            let buffer = &program.buffer(load.buffer).name;
            return Some(if *p == leader {
                format!("it depends on `{}`: it reads its output `{buffer}`", name(leader))
            } else {
                format!("it reads `{buffer}`, which `{}` computes between `{}` and it", name(*p), name(leader))
            });
        }
    }
    None
}

/// Why stage `e` cannot be the epilogue of `leader` (rules 1–3), if it
/// cannot.
pub fn epilogue_obstacle(
    program: &Program,
    bodies: &[Expr],
    stages: &[StageSchedule],
    leader: usize,
    e: usize,
) -> Option<String> {
    let (l, es) = (&program.stages()[leader], &program.stages()[e]);
    let name = |s: usize| program.stage_name(&program.stages()[s]).to_string();
    if leader >= e {
        return Some(format!("an epilogue comes after its leader, and `{}` comes after it", name(leader)));
    }
    if es.combine != Combine::Assign {
        return Some("only an elementwise stage is an epilogue".into());
    }
    if l.combine == Combine::Assign {
        return Some(format!("`{}` is not a reduction: it has no accumulators", name(leader)));
    }
    if let Some(other) = stages[leader].fused {
        return Some(format!("`{}` is itself computed in the nest of `{}`", name(leader), name(other.leader())));
    }
    if let Some(other) = epilogue(stages, leader).filter(|&o| o != e) {
        return Some(format!("`{}` already has the epilogue `{}`", name(leader), name(other)));
    }
    let extents: Vec<usize> = l.spatial_axes().map(|(_, a)| a.extent).collect();
    let own: Vec<usize> = es.axes.iter().map(|a| a.extent).collect();
    if es.axes.iter().any(|a| a.kind != AxisKind::Spatial) || own != extents {
        return Some(format!("its axes are not the spatial axes of `{}`", name(leader)));
    }
    let held: Vec<usize> = std::iter::once(leader).chain(siblings(stages, leader)).collect();
    let point: Vec<IndexExpr> = (0..es.axes.len()).map(|a| IndexExpr::Axis(crate::expr::AxisId(a))).collect();
    for load in loads(&bodies[e]) {
        let buffer = &program.buffer(load.buffer).name;
        if !held.iter().any(|&h| program.stages()[h].output == load.buffer) {
            return Some(format!("it reads `{buffer}`, which the register tile of `{}` does not hold", name(leader)));
        }
        if load.index != point || load.pad.is_some() {
            return Some(format!("it reads `{buffer}` at another point than its own"));
        }
    }
    None
}

/// Every rule of fused stages but the register budget: checked before
/// each stage's own decisions, so that a fusion that cannot be is refused
/// for that reason rather than for the decisions it copied.
pub(crate) fn check(
    program: &Program,
    sketch: &Sketch,
    bodies: &[Expr],
    stages: &[StageSchedule],
    target: Target,
) -> Result<(), ScheduleError> {
    let name = |s: usize| program.stage_name(&program.stages()[s]).to_string();
    for (s, sched) in stages.iter().enumerate() {
        let Some(fusion) = sched.fused else { continue };
        let leader = fusion.leader();
        if leader >= stages.len() {
            return Err(ScheduleError::FusionIllegal {
                stage: name(s),
                leader: leader.to_string(),
                reason: "there is no such stage".into(),
            });
        }
        if !siblings(stages, s).is_empty() || epilogue(stages, s).is_some() {
            return Err(ScheduleError::FusionIllegal {
                stage: name(s),
                leader: name(leader),
                reason: format!("`{}` has fused stages of its own", name(s)),
            });
        }
        if target != Target::Cpu {
            return Err(ScheduleError::FusionOnOpenCl { stage: name(s) });
        }
        // A fused register tile keeps its lanes on the spatial axis; a
        // vectorised reduction keeps them on the reduction axis.
        if let Some(v) = [leader, s].into_iter().find(|&x| stages[x].rfactor > 1) {
            return Err(ScheduleError::FusionIllegal {
                stage: name(s),
                leader: name(leader),
                reason: format!(
                    "`{}` vectorises its reduction (rfactor), and fused stages keep their lanes on the spatial axis",
                    name(v)
                ),
            });
        }
        if sketch.is_inlined(leader) {
            return Err(ScheduleError::FusionIllegal {
                stage: name(s),
                leader: name(leader),
                reason: format!("`{}` is inlined by this sketch", name(leader)),
            });
        }
        let obstacle = match fusion {
            Fusion::Sibling { .. } => sibling_obstacle(program, sketch, bodies, stages, leader, s),
            Fusion::Epilogue { .. } => epilogue_obstacle(program, bodies, stages, leader, s),
        };
        if let Some(reason) = obstacle {
            return Err(ScheduleError::FusionIllegal { stage: name(s), leader: name(leader), reason });
        }
        match fusion {
            Fusion::Sibling { .. } if !shares_decisions(&stages[leader], sched) => {
                return Err(ScheduleError::SiblingDecisionsDiffer { stage: name(s), leader: name(leader) });
            }
            Fusion::Epilogue { .. } if !is_untransformed(sched) => {
                return Err(ScheduleError::EpilogueHasDecisions { stage: name(s), leader: name(leader) });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rule 5 of siblings, once every stage's tiles are well formed: the
/// leader's and its siblings' accumulators fit the registers.
pub(crate) fn check_registers(program: &Program, stages: &[StageSchedule]) -> Result<(), ScheduleError> {
    let name = |s: usize| program.stage_name(&program.stages()[s]).to_string();
    for leader in 0..stages.len() {
        let set = siblings(stages, leader);
        if set.is_empty() || stages[leader].accumulator != Accumulator::Registers {
            continue;
        }
        let count: usize =
            std::iter::once(leader).chain(set).map(|s| register_count(&program.stages()[s], &stages[s])).sum();
        if count > MAX_REGISTER_TILE {
            return Err(ScheduleError::RegisterTileTooLarge { stage: name(leader), count, max: MAX_REGISTER_TILE });
        }
    }
    Ok(())
}

/// The samplers' stream of fusion draws is its own, made after every other
/// draw: a seed draws the same decisions as before fusion existed, and a
/// program without sibling reductions or epilogues the same candidate.
const FUSION_STREAM: u64 = 0x5157_1A0F_F05E_D00D;

/// A sampler's fusion draws on a drawn candidate: each stage that may be a
/// sibling of an earlier reduction is fused with one (chosen uniformly)
/// with probability 1/2, its leader's register tile halved along its rows
/// (where `shrink`) until they all fit `budget` accumulators; then each stage that may be an
/// epilogue becomes one with probability 1/2. A draw the rules refuse is
/// dropped.
pub(crate) fn draw(c: &mut Candidate, seed: u64, budget: usize, shrink: bool) {
    if c.target() != Target::Cpu {
        return;
    }
    let mut rng = Rng::new(seed ^ FUSION_STREAM);
    let n = c.stages.len();
    for f in 0..n {
        let leaders: Vec<usize> = (0..f).filter(|&l| may_lead(c, l) && sibling_ok(c, l, f)).collect();
        if leaders.is_empty() || c.stages[f].fused.is_some() || rng.below(2) != 0 {
            continue;
        }
        let leader = rng.pick(&leaders);
        let before = c.stages.clone();
        c.stages[f].fused = Some(Fusion::Sibling { leader });
        fit_registers(c, leader, f, budget, shrink);
        let fits = register_count(&c.program().stages()[leader], &c.stages[leader])
            * (1 + siblings(&c.stages, leader).len())
            <= budget
            || c.stages[leader].accumulator != Accumulator::Registers;
        if !fits || c.check().is_err() {
            c.stages = before;
        }
    }
    for e in 0..n {
        let leaders: Vec<usize> = (0..e).filter(|&l| may_lead(c, l) && epilogue_ok(c, l, e)).collect();
        if leaders.is_empty() || c.stages[e].fused.is_some() || !siblings(&c.stages, e).is_empty() {
            continue;
        }
        if rng.below(2) != 0 {
            continue;
        }
        let before = c.stages.clone();
        let leader = rng.pick(&leaders);
        c.stages[e] = super::candidate::default_schedule(c.program(), c.sketch(), e);
        c.stages[e].fused = Some(Fusion::Epilogue { leader });
        if c.check().is_err() {
            c.stages = before;
        }
    }
}

fn may_lead(c: &Candidate, l: usize) -> bool {
    !c.sketch().is_inlined(l) && c.stages[l].fused.is_none()
}

fn sibling_ok(c: &Candidate, l: usize, f: usize) -> bool {
    !c.sketch().is_inlined(f) && sibling_obstacle(c.program(), c.sketch(), c.bodies(), &c.stages, l, f).is_none()
}

fn epilogue_ok(c: &Candidate, l: usize, e: usize) -> bool {
    !c.sketch().is_inlined(e) && epilogue_obstacle(c.program(), c.bodies(), &c.stages, l, e).is_none()
}

/// Halves the leader's register tile along its first spatial axes (not the
/// vector axis) until the leader and its siblings, `f` included, fit
/// `budget` accumulators; then gives `f` the leader's shared decisions.
fn fit_registers(c: &mut Candidate, leader: usize, f: usize, budget: usize, shrink: bool) {
    let program = c.program_arc().clone();
    let stage = &program.stages()[leader];
    let rows: Vec<usize> = stage.spatial_axes().map(|(a, _)| a.0).collect();
    let rows = &rows[..rows.len().saturating_sub(1)];
    let fused = |c: &Candidate| 1 + siblings(&c.stages, leader).len();
    if shrink && c.stages[leader].accumulator == Accumulator::Registers {
        for &a in rows.iter().cycle().take(4 * rows.len()) {
            if register_count(stage, &c.stages[leader]) * fused(c) <= budget {
                break;
            }
            let f3 = &mut c.stages[leader].tiles[a][2];
            *f3 = (*f3 / 2).max(1);
        }
    }
    let from = c.stages[leader].clone();
    copy_shared(&from, &mut c.stages[f]);
    propagate(&mut c.stages, leader);
}
