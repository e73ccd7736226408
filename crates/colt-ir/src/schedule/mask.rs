//! Masked iteration (`iterate(stage="O", points="kept")`): a stage whose
//! values are masked by a condition on its own indices (causal attention's
//! `j <= i`, a sliding window) iterates only the points the condition
//! keeps. This module owns what a mask is, where a stage's mask comes from,
//! and when skipping the dropped points is correct; `lower` clamps the
//! loops by it.
//!
//! # The mask of a stage
//!
//! A mask is a conjunction of affine comparisons of a stage's axes whose
//! coefficients are `-1`, `0` or `1` ([`Mask`]), taken from, in order:
//! 1. the condition of the first `select` in the stage's effective body
//!    (after inlining) that is such a conjunction (`S`'s `j <= i`, inlined
//!    into `M` and `E`);
//! 2. the mask of a stage it reads by plain axes (`L`, `P` read `E[h,i,j]`;
//!    `O` reads `P[h,i,j]`), renamed to its own axes;
//! 3. the mask of a stage that reads it by plain axes (`QK`, read by `M`
//!    and `E`).
//!
//! A mask that mentions a reduction axis makes a *reduction skip*: every
//! output element is still initialised and written, and the reduction
//! points outside the mask are not accumulated. One that mentions spatial
//! axes only makes a *spatial skip*: the output elements outside it are
//! not computed at all (left unwritten).
//!
//! # When skipping is correct (the legality rule)
//!
//! Legality is of the whole candidate, checked point by point in the
//! reference semantics (work.rs's forward pass of known constants):
//! - (a) a reduction skip is legal only if the stage's term at every point
//!   outside its mask is its combine's identity (`0` for a sum, `-inf` for
//!   a max): `P·V` where the mask made `P` zero, a row max of `-inf`
//!   scores. A row the mask keeps nothing of fails it (`M = -inf`, so
//!   `exp(S - M)` is NaN there), and so does any term the forward pass
//!   does not know (it takes unknown values to be finite, as the necessary
//!   work does);
//! - (b) a spatial skip is legal only if the stage does not write an
//!   output and every reader of its buffer reads, at each point it
//!   evaluates (the points its own mask keeps when it iterates them only,
//!   else all), elements the mask keeps, or reads the others only in a
//!   `select` branch the point does not take.
//!
//! Only one reduction axis may be mentioned by a reduction skip's mask (it
//! is the one clamped). The check enumerates, per stage, the axes its
//! mask, its index conditions and its loads of temporaries and masked
//! values mention (others cannot change the outcome), up to
//! [`MAX_CHECKED_POINTS`]; past that the decision is refused, not
//! guessed. The facts are computed once per program and sketch and shared
//! by every candidate edited from it.
//!
//! # Lowering
//!
//! See `lower` (`loop_over`, and `lower/tile.rs`'s `R1` loops): each loop
//! over a mentioned axis (spatial ones for a spatial skip, the reduction
//! one for a reduction skip) is clamped to the tiles that intersect the
//! mask, given the other axes' ranges at that point of the nest (the
//! current tile of the innermost enclosing loop over each, else the
//! stage's whole range). A reduction skip clamps its `R0` loop from above
//! only and keeps its first iteration (where the register tile is
//! initialised), and splits its `R1` loop into the points kept by the
//! whole register tile (the fast path, no condition) and the boundary
//! points before and after, whose term is `select(mask, term, identity)`.
//! A spatial skip computes its boundary tiles whole: the extra elements
//! are outside the mask, which (b) makes sure nothing reads. Loops that are
//! not clamped (conservative, never wrong): the fused parallel loops, the
//! register tile's `S3` loops, and any loop with a stage computed at it or
//! inside it (that stage's region is needed by its other readers too).
//! The lowered trip counts carry the skipped work: the first clamped loop
//! inside a loop over another axis of the mask is scaled by the share of
//! points the mask keeps, so the features' flops (and the cost model) see
//! it; no feature is added (stored models keep their 40 inputs).
//!
//! # In the space
//!
//! The decision is [`Iterate`], `all` by default and
//! printed (` iterate=kept`) only when set, so candidates that do not use
//! it render, lower and fingerprint as before. `legal_edits` proposes it
//! for stages with a mask only; CPU only. Both samplers draw it after every
//! other decision from a stream of their own (see
//! `Candidate::draw_iteration`): programs without masks sample exactly as
//! before; a masked program's stored lineage (llama3-8b-attn's) rebuilds
//! with the flags its seed now draws.

use super::error::ScheduleError;
use super::sketch::{loads, Sketch};
use super::{Iterate, StageSchedule, Target};
use crate::expr::{AxisId, CmpOp, Cond, Expr, IndexExpr, Load};
use crate::program::{AxisKind, BufferRole, Combine, Program, Stage};
use crate::work::{for_each_point, index_only, ReferenceValues};
use std::sync::{Arc, Mutex, OnceLock};

/// The most points the check enumerates for one stage (work.rs's limit).
pub const MAX_CHECKED_POINTS: u64 = crate::work::MAX_ANALYSED_ELEMENTS;

/// One conjunct of a mask: `Σ coef[a]·x_a + constant <= 0` over a stage's
/// axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    pub coef: Vec<i64>,
    pub constant: i64,
}

/// A conjunction of [`Bound`]s, each coefficient `-1`, `0` or `1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    pub bounds: Vec<Bound>,
}

impl Bound {
    fn holds(&self, point: &[i64]) -> bool {
        self.coef.iter().zip(point).map(|(c, v)| c * v).sum::<i64>() + self.constant <= 0
    }

    /// `a - b <= 0` (shifted by `slack`) as a bound, if `a - b` is affine
    /// with unit coefficients.
    fn of_difference(a: &IndexExpr, b: &IndexExpr, slack: i64, axes: usize) -> Option<Bound> {
        let diff = IndexExpr::Sub(Box::new(a.clone()), Box::new(b.clone()));
        if !(0..axes).all(|x| diff.is_linear_in(&AxisId(x))) {
            return None;
        }
        let at = |unit: Option<usize>| diff.eval(&|x: &AxisId| i64::from(Some(x.0) == unit));
        let constant = at(None);
        let coef: Vec<i64> = (0..axes).map(|x| at(Some(x)) - constant).collect();
        coef.iter().all(|c| c.abs() <= 1).then_some(Bound { coef, constant: constant + slack })
    }
}

impl Mask {
    pub fn holds(&self, point: &[i64]) -> bool {
        self.bounds.iter().all(|b| b.holds(point))
    }

    pub fn mentions(&self, axis: usize) -> bool {
        self.bounds.iter().any(|b| b.coef[axis] != 0)
    }

    /// The mask a condition over `axes` axes is, if it is a conjunction of
    /// affine comparisons with unit coefficients.
    pub fn of_cond(c: &Cond, axes: usize) -> Option<Mask> {
        let bounds = match c {
            Cond::And(a, b) => [Mask::of_cond(a, axes)?.bounds, Mask::of_cond(b, axes)?.bounds].concat(),
            Cond::Index(a, op, b) => match op {
                CmpOp::Le => vec![Bound::of_difference(a, b, 0, axes)?],
                CmpOp::Lt => vec![Bound::of_difference(a, b, 1, axes)?],
                CmpOp::Ge => vec![Bound::of_difference(b, a, 0, axes)?],
                CmpOp::Gt => vec![Bound::of_difference(b, a, 1, axes)?],
                CmpOp::Eq => vec![Bound::of_difference(a, b, 0, axes)?, Bound::of_difference(b, a, 0, axes)?],
                CmpOp::Ne => return None,
            },
            Cond::Value(..) | Cond::Or(..) => return None,
        };
        Some(Mask { bounds })
    }

    /// The mask over another stage's `axes` axes, axis `a` of this one
    /// becoming `to[a]`; `None` if it mentions an axis with no image.
    fn renamed(&self, to: &[Option<usize>], axes: usize) -> Option<Mask> {
        let mut bounds = Vec::new();
        for b in &self.bounds {
            let mut coef = vec![0; axes];
            for (a, &c) in b.coef.iter().enumerate().filter(|(_, c)| **c != 0) {
                coef[to.get(a).copied().flatten()?] += c;
            }
            bounds.push(Bound { coef, constant: b.constant });
        }
        Some(Mask { bounds })
    }

    /// As a `select` condition over the stage's axes.
    pub fn cond(&self) -> Cond {
        let one = |b: &Bound| {
            let mut e = IndexExpr::Const(b.constant);
            for (a, &c) in b.coef.iter().enumerate() {
                let axis = Box::new(IndexExpr::Axis(AxisId(a)));
                e = match c {
                    1 => IndexExpr::Add(Box::new(e), axis),
                    -1 => IndexExpr::Sub(Box::new(e), axis),
                    _ => e,
                };
            }
            Cond::Index(e, CmpOp::Le, IndexExpr::Const(0))
        };
        let mut conds = self.bounds.iter().map(one);
        let first = conds.next().unwrap_or(Cond::Index(IndexExpr::Const(0), CmpOp::Le, IndexExpr::Const(0)));
        conds.fold(first, |acc, c| Cond::And(Box::new(acc), Box::new(c)))
    }

    /// Readable: `j - i <= 0 && ...`, in the stage's axis names.
    pub fn text(&self, stage: &Stage) -> String {
        let one = |b: &Bound| {
            let mut terms = String::new();
            for (a, &c) in b.coef.iter().enumerate().filter(|(_, c)| **c != 0) {
                let name = &stage.axes[a].name;
                terms += &match (c, terms.is_empty()) {
                    (1, true) => name.clone(),
                    (1, false) => format!(" + {name}"),
                    (_, true) => format!("-{name}"),
                    (_, false) => format!(" - {name}"),
                };
            }
            match b.constant {
                0 => format!("{terms} <= 0"),
                c if c > 0 => format!("{terms} + {c} <= 0"),
                c => format!("{terms} - {} <= 0", -c),
            }
        };
        self.bounds.iter().map(one).collect::<Vec<_>>().join(" && ")
    }

    /// Whether the mask spans reduction axes of `stage` (a reduction
    /// skip) rather than spatial ones only (a spatial skip).
    pub fn is_reduction_skip(&self, stage: &Stage) -> bool {
        stage.reduction_axes().any(|(a, _)| self.mentions(a.0))
    }

    /// The axes whose loops a skip clamps: the mentioned reduction axes of
    /// a reduction skip, the mentioned spatial ones of a spatial skip.
    pub fn clamped_axes(&self, stage: &Stage) -> Vec<AxisId> {
        let kind = if self.is_reduction_skip(stage) { AxisKind::Reduction } else { AxisKind::Spatial };
        (0..stage.axes.len()).filter(|&a| stage.axes[a].kind == kind && self.mentions(a)).map(AxisId).collect()
    }

    /// C expressions for the values of `axis` the mask can keep (`reach`)
    /// or keeps for every point (`!reach`) when each other axis `y` ranges
    /// over the inclusive C range `range(y)`: lower bounds and upper
    /// bounds, inclusive; `None` for a bound that does not mention `axis`
    /// while `!reach` (such a conjunct may drop points whatever `axis` is).
    pub fn limits(
        &self,
        axis: usize,
        range: &dyn Fn(usize) -> (String, String),
        reach: bool,
    ) -> Option<(Vec<String>, Vec<String>)> {
        let (mut lows, mut highs) = (Vec::new(), Vec::new());
        for b in &self.bounds {
            let c = b.coef[axis];
            if c == 0 {
                if reach {
                    continue;
                }
                return None;
            }
            // c·x <= -constant - Σ c_y·y: the extreme of the right side
            // over the box, the largest for `reach` when c = 1.
            let mut text = if b.constant == 0 { String::new() } else { format!("{}", -c * b.constant) };
            for (y, &cy) in b.coef.iter().enumerate().filter(|&(y, cy)| y != axis && *cy != 0) {
                let (lo, hi) = range(y);
                // The term is -c·cy·y; it is largest at hi when -c·cy > 0.
                let coefficient = -c * cy;
                let largest = coefficient > 0;
                let end = if largest == (reach == (c > 0)) { hi } else { lo };
                text += &match (coefficient > 0, text.is_empty()) {
                    (true, true) => format!("({end})"),
                    (true, false) => format!(" + ({end})"),
                    (false, true) => format!("-({end})"),
                    (false, false) => format!(" - ({end})"),
                };
            }
            if text.is_empty() {
                text = "0".to_string();
            }
            if c > 0 {
                highs.push(text);
            } else {
                lows.push(text);
            }
        }
        Some((lows, highs))
    }
}

/// Each stage's mask (see the module docs), `None` for inlined stages and
/// stages without one.
pub fn stage_masks(program: &Program, bodies: &[Expr], inlined: &[bool]) -> Vec<Option<Mask>> {
    let stages = program.stages();
    let n = stages.len();
    let producer = |l: &Load| stages.iter().position(|st| st.output == l.buffer).filter(|&u| !inlined[u]);
    let mut masks: Vec<Option<Mask>> = (0..n).map(|s| own_mask(&bodies[s], stages[s].axes.len())).collect();
    for s in 0..n {
        if inlined[s] || masks[s].is_some() {
            continue;
        }
        masks[s] = loads(&bodies[s]).into_iter().find_map(|l| {
            let u = producer(l)?;
            let to = plain_renaming(&stages[u], l)?;
            masks[u].as_ref()?.renamed(&to, stages[s].axes.len())
        });
    }
    for s in (0..n).rev() {
        if inlined[s] || masks[s].is_some() {
            continue;
        }
        masks[s] = (s + 1..n).filter(|&d| !inlined[d]).find_map(|d| {
            let mask = masks[d].as_ref()?;
            loads(&bodies[d]).into_iter().filter(|l| l.buffer == stages[s].output).find_map(|l| {
                // The consumer's axis indexing dimension k is the
                // producer's k-th spatial axis.
                let mut to = vec![None; stages[d].axes.len()];
                for (e, (own, _)) in l.index.iter().zip(stages[s].spatial_axes()) {
                    let IndexExpr::Axis(a) = e else { continue };
                    to[a.0] = Some(own.0);
                }
                mask.renamed(&to, stages[s].axes.len())
            })
        });
    }
    for (s, mask) in masks.iter_mut().enumerate() {
        if inlined[s] {
            *mask = None;
        }
    }
    masks
}

/// The first `select` condition in `body` that is a mask.
fn own_mask(body: &Expr, axes: usize) -> Option<Mask> {
    match body {
        Expr::Const(_) | Expr::Load(_) => None,
        Expr::Unary(_, a) => own_mask(a, axes),
        Expr::Binary(_, a, b) => own_mask(a, axes).or_else(|| own_mask(b, axes)),
        Expr::Select(c, a, b) => Mask::of_cond(c, axes).or_else(|| own_mask(a, axes)).or_else(|| own_mask(b, axes)),
    }
}

/// For a load of stage `u`'s output whose every index is a plain axis of
/// the reader: each axis of `u` mapped to the reader's axis (reduction axes
/// of `u` unmapped).
fn plain_renaming(u: &Stage, l: &Load) -> Option<Vec<Option<usize>>> {
    let mut to = vec![None; u.axes.len()];
    for (e, (own, _)) in l.index.iter().zip(u.spatial_axes()) {
        let IndexExpr::Axis(a) = e else { return None };
        to[own.0] = Some(a.0);
    }
    Some(to)
}

/// What the reads of one producer's output by one reader hit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Reads {
    /// Over every point of the reader, only elements the producer's mask
    /// keeps (or untaken branches).
    all: bool,
    /// The same over the points the reader's own mask keeps.
    kept: bool,
}

/// The pointwise facts the legality rule reads, per program and sketch.
#[derive(Debug)]
pub struct MaskFacts {
    pub masks: Vec<Option<Mask>>,
    /// Per stage with a reduction skip's mask: whether its term outside
    /// the mask is its identity.
    identity: Vec<bool>,
    /// `reads[d][u]`, for producers `u` with a spatial skip's mask.
    reads: Vec<Vec<Reads>>,
    /// Stages past [`MAX_CHECKED_POINTS`].
    too_large: Vec<bool>,
    /// The share of each mask's points that it keeps (over the axes it
    /// mentions), which the lowered loops' trip counts are scaled by.
    pub kept_share: Vec<f64>,
}

impl MaskFacts {
    pub fn of(program: &Program, bodies: &[Expr], sketch: &Sketch) -> MaskFacts {
        let n = program.stages().len();
        let inlined: Vec<bool> = (0..n).map(|s| sketch.is_inlined(s)).collect();
        let masks = stage_masks(program, bodies, &inlined);
        let mut facts = MaskFacts {
            identity: vec![true; n],
            reads: vec![vec![Reads { all: true, kept: true }; n]; n],
            too_large: vec![false; n],
            kept_share: masks.iter().zip(program.stages()).map(|(m, st)| kept_share(m.as_ref(), st)).collect(),
            masks,
        };
        if facts.masks.iter().all(Option::is_none) {
            return facts;
        }
        let reference = ReferenceValues::of(program);
        for d in (0..n).filter(|&d| !inlined[d]) {
            facts.check_stage(program, &bodies[d], d, &reference);
        }
        facts
    }

    /// The producers whose buffers a spatial skip may leave unwritten.
    fn spatial_skip(&self, program: &Program, u: usize) -> bool {
        self.masks[u].as_ref().is_some_and(|m| !m.is_reduction_skip(&program.stages()[u]))
    }

    fn check_stage(&mut self, program: &Program, body: &Expr, d: usize, reference: &ReferenceValues) {
        let stage = &program.stages()[d];
        let producer = |b: crate::expr::BufferId| program.stages().iter().position(|st| st.output == b);
        let watched: Vec<usize> =
            loads(body).iter().filter_map(|l| producer(l.buffer)).filter(|&u| self.spatial_skip(program, u)).collect();
        let mask = self.masks[d].clone();
        let reduction_skip = mask.as_ref().is_some_and(|m| m.is_reduction_skip(stage));
        if watched.is_empty() && !reduction_skip {
            return;
        }
        let relevant = relevant_axes(program, stage, body, mask.as_ref(), reference);
        let points: u64 = relevant.iter().map(|&a| stage.axes[a].extent as u64).product();
        if points > MAX_CHECKED_POINTS {
            self.too_large[d] = true;
            return;
        }
        let identity = stage.combine.init();
        let (mut is_identity, mut reads) = (true, self.reads[d].clone());
        let mut at: Vec<i64> = Vec::new();
        for_each_point(stage, &relevant, |point| {
            let kept = mask.as_ref().is_none_or(|m| m.holds(point));
            if reduction_skip && !kept && is_identity && !reference.is_known(body, point, identity) {
                is_identity = false;
            }
            for_each_taken_load(body, point, &mut |l| {
                let Some(u) = producer(l.buffer).filter(|u| watched.contains(u)) else { return };
                let producer_stage = &program.stages()[u];
                at.clear();
                at.resize(producer_stage.axes.len(), 0);
                for (e, (a, _)) in l.index.iter().zip(producer_stage.spatial_axes()) {
                    at[a.0] = e.eval(&|x| point[x.0]);
                }
                if !self.masks[u].as_ref().is_some_and(|m| m.holds(&at)) {
                    reads[u].all = false;
                    reads[u].kept &= !kept;
                }
            });
        });
        self.identity[d] = is_identity;
        self.reads[d] = reads;
    }

    /// The rule of the module docs for `stages`' iteration decisions.
    pub(crate) fn check(
        &self,
        program: &Program,
        bodies: &[Expr],
        stages: &[StageSchedule],
        target: Target,
    ) -> Result<(), ScheduleError> {
        let name = |s: usize| program.stage_name(&program.stages()[s]).to_string();
        let kept = |s: usize| stages[s].iterate == Iterate::Kept;
        for s in (0..stages.len()).filter(|&s| kept(s)) {
            let stage = &program.stages()[s];
            let Some(mask) = &self.masks[s] else {
                return Err(ScheduleError::IterateWithoutMask { stage: name(s) });
            };
            if target == Target::OpenCl {
                return Err(ScheduleError::IterateOnOpenCl { stage: name(s) });
            }
            if self.too_large[s] {
                return Err(ScheduleError::IterateTooLarge { stage: name(s), max: MAX_CHECKED_POINTS });
            }
            if mask.is_reduction_skip(stage) {
                if mask.clamped_axes(stage).len() > 1 {
                    return Err(ScheduleError::IterateMaskOverReductions { stage: name(s), mask: mask.text(stage) });
                }
                if !self.identity[s] {
                    let identity = if stage.combine == Combine::Max { "-inf" } else { "0" };
                    return Err(ScheduleError::IterateTermNotIdentity {
                        stage: name(s),
                        mask: mask.text(stage),
                        identity: identity.to_string(),
                    });
                }
                continue;
            }
            let output = program.buffer(stage.output);
            if output.role == BufferRole::Output {
                return Err(ScheduleError::IterateSkipsOutput { stage: name(s), output: output.name.clone() });
            }
            for d in (0..stages.len()).filter(|&d| loads(&bodies[d]).iter().any(|l| l.buffer == stage.output)) {
                if stages[d].placement == super::Placement::Inlined {
                    continue;
                }
                let reads = self.reads[d][s];
                let ok = if kept(d) { reads.kept } else { reads.all };
                if !ok || self.too_large[d] {
                    return Err(ScheduleError::IterateReadsSkipped {
                        stage: name(s),
                        mask: mask.text(stage),
                        reader: name(d),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The axes a point's outcome can depend on: those of the mask, of index
/// conditions, and of loads of temporaries, padded loads and loads of
/// values known to vary.
fn relevant_axes(
    program: &Program,
    stage: &Stage,
    body: &Expr,
    mask: Option<&Mask>,
    reference: &ReferenceValues,
) -> Vec<usize> {
    let mut mentioned: Vec<bool> = (0..stage.axes.len()).map(|a| mask.is_some_and(|m| m.mentions(a))).collect();
    let mut indices: Vec<IndexExpr> = Vec::new();
    let mut conds: Vec<IndexExpr> = Vec::new();
    for_each_cond_and_load(
        body,
        &mut |c| {
            if let Cond::Index(a, _, b) = c {
                conds.extend([a.clone(), b.clone()]);
            }
        },
        &mut |l| {
            if program.buffer(l.buffer).role == BufferRole::Temp || l.pad.is_some() || reference.varies(l.buffer.0) {
                indices.extend(l.index.iter().cloned());
            }
        },
    );
    for e in conds.iter().chain(&indices) {
        for (a, m) in mentioned.iter_mut().enumerate() {
            *m |= e.mentions(&AxisId(a));
        }
    }
    mentioned.iter().enumerate().filter(|(_, m)| **m).map(|(a, _)| a).collect()
}

fn for_each_cond_and_load(e: &Expr, on_cond: &mut impl FnMut(&Cond), on_load: &mut impl FnMut(&Load)) {
    match e {
        Expr::Const(_) => {}
        Expr::Load(l) => on_load(l),
        Expr::Unary(_, a) => for_each_cond_and_load(a, on_cond, on_load),
        Expr::Binary(_, a, b) => {
            for_each_cond_and_load(a, on_cond, on_load);
            for_each_cond_and_load(b, on_cond, on_load);
        }
        Expr::Select(c, a, b) => {
            for_each_cond(c, on_cond, on_load);
            for_each_cond_and_load(a, on_cond, on_load);
            for_each_cond_and_load(b, on_cond, on_load);
        }
    }
}

fn for_each_cond(c: &Cond, on_cond: &mut impl FnMut(&Cond), on_load: &mut impl FnMut(&Load)) {
    on_cond(c);
    match c {
        Cond::Index(..) => {}
        Cond::Value(a, _, b) => {
            for_each_cond_and_load(a, on_cond, on_load);
            for_each_cond_and_load(b, on_cond, on_load);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            for_each_cond(a, on_cond, on_load);
            for_each_cond(b, on_cond, on_load);
        }
    }
}

/// Calls `f` on every load that evaluating `e` at `point` reads: of a
/// `select` on indices the branch taken, of one on values both branches
/// and the condition.
fn for_each_taken_load(e: &Expr, point: &[i64], f: &mut impl FnMut(&Load)) {
    match e {
        Expr::Const(_) => {}
        Expr::Load(l) => f(l),
        Expr::Unary(_, a) => for_each_taken_load(a, point, f),
        Expr::Binary(_, a, b) => {
            for_each_taken_load(a, point, f);
            for_each_taken_load(b, point, f);
        }
        Expr::Select(c, a, b) => match index_only(c, point) {
            Some(true) => for_each_taken_load(a, point, f),
            Some(false) => for_each_taken_load(b, point, f),
            None => {
                for_each_cond(c, &mut |_| {}, f);
                for_each_taken_load(a, point, f);
                for_each_taken_load(b, point, f);
            }
        },
    }
}

/// The share of the points of the axes `mask` mentions that it keeps (1
/// without a mask, or past the enumeration limit).
fn kept_share(mask: Option<&Mask>, stage: &Stage) -> f64 {
    let Some(mask) = mask else { return 1.0 };
    let relevant: Vec<usize> = (0..stage.axes.len()).filter(|&a| mask.mentions(a)).collect();
    let points: u64 = relevant.iter().map(|&a| stage.axes[a].extent as u64).product();
    if points == 0 || points > MAX_CHECKED_POINTS {
        return 1.0;
    }
    let mut kept = 0u64;
    for_each_point(stage, &relevant, |p| kept += u64::from(mask.holds(p)));
    kept as f64 / points as f64
}

/// The facts of a program and sketch, computed on first use and shared by
/// every candidate edited from the same sample (as its bodies are). Always
/// equal: they follow from the program and sketch, which candidates
/// compare.
#[derive(Default)]
pub(crate) struct MaskSlot(OnceLock<Arc<MaskFacts>>);

impl MaskSlot {
    pub(crate) fn get(&self, program: &Program, bodies: &[Expr], sketch: &Sketch) -> &MaskFacts {
        self.0.get_or_init(|| remembered(program, bodies, sketch))
    }
}

/// The facts of the programs and sketches seen last in this process: a
/// search samples hundreds of candidates of one program from a few
/// sketches, and the check of causal attention's bench shape enumerates
/// about 3M points (a few hundred ms), which each sample would otherwise
/// repeat.
fn remembered(program: &Program, bodies: &[Expr], sketch: &Sketch) -> Arc<MaskFacts> {
    type Memo = Vec<(Program, Sketch, Arc<MaskFacts>)>;
    const KEPT: usize = 16;
    static MEMO: Mutex<Memo> = Mutex::new(Vec::new());
    let find = |memo: &Memo| memo.iter().find(|(p, k, _)| k == sketch && p == program).map(|(_, _, f)| f.clone());
    // A poisoned memo only means another thread panicked mid-insert; its
    // entries are whole, so it is still read.
    if let Some(facts) = find(&MEMO.lock().unwrap_or_else(|e| e.into_inner())) {
        return facts;
    }
    let facts = Arc::new(MaskFacts::of(program, bodies, sketch));
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    if memo.len() == KEPT {
        memo.remove(0);
    }
    memo.push((program.clone(), sketch.clone(), facts.clone()));
    facts
}

impl PartialEq for MaskSlot {
    fn eq(&self, _: &MaskSlot) -> bool {
        true
    }
}

impl std::fmt::Debug for MaskSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskSlot")
    }
}
