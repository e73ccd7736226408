//! Which edits a candidate offers: every edit of its target's kinds on
//! every stage (proposals, legal or not), the legal ones, and one legal
//! edit drawn at random without checking them all.

use super::analysis::loop_order;
use super::candidate::Candidate;
use super::edit::{placement_text, Edit};
use super::edit_kind::{EditKind, EDIT_KINDS};
use super::sketch::StageRule;
use super::{factor_domain, Accumulator, Fusion, Iterate, PackLayout, Placement, UNROLL_DEPTHS};
use crate::program::AxisKind;

/// Every edit that applies to `c` and changes it: stage by stage, the kinds
/// `c`'s target offers in [`EDIT_KINDS`]' order; for tiles, one level at a
/// time to each value of the axis's factor domain.
pub fn legal_edits(c: &Candidate) -> Vec<Edit> {
    edit_proposals(c).into_iter().filter(|e| e.apply(c).is_ok()).collect()
}

/// One of [`legal_edits`]`(c)`, each equally likely (`below(n)` draws
/// uniformly below `n`), with the candidate it makes; `None` when there
/// is none. Random edits are the searches' commonest move (every
/// mutation, every rollout step), and checking every edit of an attention
/// program (hundreds, each a full candidate check) only to keep one cost
/// half of a tree search's time: this draws proposals until one applies,
/// which picks each legal edit with the same chance.
pub fn random_legal_edit(c: &Candidate, mut below: impl FnMut(usize) -> usize) -> Option<(Candidate, Edit)> {
    let proposals = edit_proposals(c);
    if proposals.is_empty() {
        return None;
    }
    for _ in 0..4 * proposals.len() {
        let edit = &proposals[below(proposals.len())];
        if let Ok(child) = edit.apply(c) {
            return Some((child, edit.clone()));
        }
    }
    // Hardly any proposal applies: pick among those that do.
    let mut legal: Vec<(Candidate, Edit)> =
        proposals.into_iter().filter_map(|e| e.apply(c).ok().map(|child| (child, e))).collect();
    if legal.is_empty() {
        return None;
    }
    let k = below(legal.len());
    Some(legal.swap_remove(k))
}

/// Every edit of `c`'s target's kinds, on every stage not inlined, legal
/// or not, in [`legal_edits`]' order.
fn edit_proposals(c: &Candidate) -> Vec<Edit> {
    let mut proposals = Vec::new();
    for s in 0..c.program().stages().len() {
        if c.sketch.rules[s] == StageRule::Inlined {
            continue;
        }
        for spec in EDIT_KINDS.iter().filter(|k| k.offered_on(c.target())) {
            proposals.extend(proposals_of(c, s, spec.kind));
        }
    }
    proposals
}

/// The edits of `kind` that set stage `s`'s decision to another value of
/// its domain on `c`'s target, legal or not.
fn proposals_of(c: &Candidate, s: usize, kind: EditKind) -> Vec<Edit> {
    let program = c.program();
    let target = c.target();
    let stage = &program.stages()[s];
    let name = program.stage_name(stage).to_string();
    let sched = &c.stages[s];
    let mut proposals = Vec::new();
    match kind {
        EditKind::Tile => {
            for (a, axis) in stage.axes.iter().enumerate() {
                let current = &sched.tiles[a];
                let levels: &[usize] = match axis.kind {
                    AxisKind::Reduction => &[0],
                    AxisKind::Spatial => target.free_levels(c.sketch.rules[s]),
                };
                for &l in levels {
                    for v in factor_domain(axis.extent) {
                        if v == current[l] {
                            continue;
                        }
                        let mut factors = current.clone();
                        factors[l] = v;
                        proposals.push(Edit::Tile { stage: name.clone(), axis: axis.name.clone(), factors });
                    }
                }
            }
        }
        EditKind::Unroll => {
            for depth in UNROLL_DEPTHS.into_iter().filter(|&d| d != sched.unroll) {
                proposals.push(Edit::Unroll { stage: name.clone(), depth });
            }
        }
        EditKind::Parallel => {
            for loops in (0..=stage.spatial_axes().count()).filter(|&n| n != sched.parallel) {
                proposals.push(Edit::Parallel { stage: name.clone(), loops });
            }
        }
        EditKind::Vectorize => {
            for lanes in target.vector_widths().iter().copied().filter(|&v| v != sched.vector) {
                proposals.push(Edit::Vectorize { stage: name.clone(), lanes });
            }
        }
        EditKind::Rfactor => {
            for lanes in target.vector_widths().iter().copied().filter(|&v| v != sched.rfactor) {
                proposals.push(Edit::Rfactor { stage: name.clone(), lanes });
            }
        }
        EditKind::Accumulate => {
            for into in [Accumulator::Memory, Accumulator::Registers].into_iter().filter(|&a| a != sched.accumulator) {
                proposals.push(Edit::Accumulate { stage: name.clone(), into });
            }
        }
        EditKind::Pack => {
            for b in super::pack::operands(&c.bodies()[s]) {
                let current = if sched.blocked.contains(&b.0) {
                    PackLayout::Blocked
                } else if sched.packed.contains(&b.0) {
                    PackLayout::Packed
                } else if sched.local.contains(&b.0) {
                    PackLayout::Local
                } else {
                    PackLayout::Original
                };
                for &layout in target.pack_layouts() {
                    if layout != current {
                        let operand = program.buffer(b).name.clone();
                        proposals.push(Edit::Pack { stage: name.clone(), operand, layout });
                    }
                }
            }
        }
        EditKind::Fuse | EditKind::Epilogue => proposals = fusion_proposals(c, s, kind),
        EditKind::Iterate => {
            // Only stages with a mask: the others' edit is always illegal.
            if c.mask_facts().masks[s].is_some() {
                let points = if sched.iterate == Iterate::Kept { Iterate::All } else { Iterate::Kept };
                proposals.push(Edit::Iterate { stage: name.clone(), points });
            }
        }
        EditKind::ComputeAt => {
            let mut places = vec![Placement::Root];
            for r in s + 1..program.stages().len() {
                let order = loop_order(&program.stages()[r]);
                for i in (0..order.len()).filter(|&i| target.offers_attach(&order, i)) {
                    places.push(Placement::At { stage: r, loop_index: i });
                }
            }
            for p in places.into_iter().filter(|p| *p != sched.placement) {
                proposals.push(Edit::ComputeAt { stage: name.clone(), at: placement_text(c, &p) });
            }
        }
    }
    proposals
}

/// The `fuse` or `epilogue` edits of stage `s`: with each earlier stage
/// whose rules allow it, and `none` where `s` is fused that way.
fn fusion_proposals(c: &Candidate, s: usize, kind: EditKind) -> Vec<Edit> {
    let program = c.program();
    let name = |x: usize| program.stage_name(&program.stages()[x]).to_string();
    let stages = &c.stages;
    let current = stages[s].fused;
    let leaders = (0..s).filter(|&l| !c.sketch.is_inlined(l) && current.map(Fusion::leader) != Some(l));
    match kind {
        EditKind::Fuse => {
            let mut edits: Vec<Edit> = leaders
                .filter(|&l| super::fusion::sibling_obstacle(program, &c.sketch, c.bodies(), stages, l, s).is_none())
                .map(|l| Edit::Fuse { stage: name(s), with: name(l) })
                .collect();
            if matches!(current, Some(Fusion::Sibling { .. })) {
                edits.push(Edit::Fuse { stage: name(s), with: "none".into() });
            }
            edits
        }
        _ => {
            let mut edits: Vec<Edit> = leaders
                .filter(|&l| super::fusion::epilogue_obstacle(program, c.bodies(), stages, l, s).is_none())
                .map(|l| Edit::Epilogue { stage: name(s), at: name(l) })
                .collect();
            if matches!(current, Some(Fusion::Epilogue { .. })) {
                edits.push(Edit::Epilogue { stage: name(s), at: "none".into() });
            }
            edits
        }
    }
}
