//! Crossover: one stage's decisions taken from another candidate of the
//! same sketch, in the manner of Ansor's crossover (Zheng et al., OSDI
//! 2020, §5.2), which merges programs at the granularity of a stage.
//!
//! Why: a program with several heavy stages (an MLP's gate, up and down
//! projections) is searched as one candidate, and mutation changes one
//! decision of one stage at a time, so a population in which each
//! projection's best register tile sits in a different member needs a
//! dozen lucky edits to bring them together. Measured on a Zen 5 part
//! (llama4-scout-mlp): evolutionary@64 found a kernel at 2.12 ms; the same
//! kernel with the gate, up and down tiles that evolutionary@64 found for
//! each projection tuned alone ran at 1.25 ms.
//!
//! The child is written as the edits that turn the receiving stage's
//! decisions into the donor's, so that it has a lineage like every
//! candidate (it rebuilds from its seed, and a model reads what changed).
//! Edits that are illegal in one order (a register tile grown along one
//! axis before it shrinks along the other) are applied as soon as they
//! become legal.

use super::candidate::Candidate;
use super::edit::Edit;
use super::{Fusion, PackLayout, StageSchedule};

/// `into` with stage `s`'s decisions taken from `from`, and the edits that
/// make it; `None` when there is nothing to take (the decisions are equal),
/// when the two differ in sketch, target or the stage's placement and
/// fusion (crossover moves a stage's tiling, not the program's structure),
/// when the stage has no decisions of its own (inlined, or fused into a
/// leader), or when the donor's decisions are illegal in `into`.
pub fn transplant(into: &Candidate, from: &Candidate, s: usize) -> Option<(Candidate, Vec<Edit>)> {
    if into.sketch != from.sketch || into.target() != from.target() || s >= into.stages.len() {
        return None;
    }
    let (have, want) = (&into.stages[s], &from.stages[s]);
    if into.sketch.is_inlined(s)
        || have == want
        || have.placement != want.placement
        || have.fused != want.fused
        || matches!(want.fused, Some(Fusion::Sibling { .. } | Fusion::Epilogue { .. }))
    {
        return None;
    }
    let mut pending = edits_between(into, s, have, want);
    let mut child = into.clone();
    let mut applied = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|edit| match edit.apply(&child) {
            Ok(next) => {
                child = next.clone();
                applied.push(edit.clone());
                false
            }
            Err(_) => true,
        });
        if pending.len() == before {
            return None;
        }
    }
    (child.stages[s] == *want).then_some((child, applied))
}

/// The edits that set each of `have`'s decisions that differ to `want`'s.
fn edits_between(c: &Candidate, s: usize, have: &StageSchedule, want: &StageSchedule) -> Vec<Edit> {
    let program = c.program();
    let stage_def = &program.stages()[s];
    let stage = program.stage_name(stage_def).to_string();
    let mut edits = Vec::new();
    // The lanes first: `rfactor` clears the packs and `vectorize` clears
    // `rfactor`, so the packs are set after both.
    if want.rfactor != have.rfactor && want.rfactor > 1 {
        edits.push(Edit::Rfactor { stage: stage.clone(), lanes: want.rfactor });
    }
    if want.vector != have.vector || (want.rfactor == 1 && have.rfactor > 1) {
        edits.push(Edit::Vectorize { stage: stage.clone(), lanes: want.vector });
    }
    for (axis, (h, w)) in stage_def.axes.iter().zip(have.tiles.iter().zip(&want.tiles)) {
        if h != w {
            edits.push(Edit::Tile { stage: stage.clone(), axis: axis.name.clone(), factors: w.clone() });
        }
    }
    if want.unroll != have.unroll {
        edits.push(Edit::Unroll { stage: stage.clone(), depth: want.unroll });
    }
    if want.parallel != have.parallel {
        edits.push(Edit::Parallel { stage: stage.clone(), loops: want.parallel });
    }
    if want.accumulator != have.accumulator {
        edits.push(Edit::Accumulate { stage: stage.clone(), into: want.accumulator });
    }
    if want.iterate != have.iterate {
        edits.push(Edit::Iterate { stage: stage.clone(), points: want.iterate });
    }
    let mut operands: Vec<usize> =
        [&have.packed, &want.packed, &have.local, &want.local].into_iter().flatten().copied().collect();
    operands.sort_unstable();
    operands.dedup();
    for b in operands {
        let layout = layout_of(want, b);
        // Compared with the layout after the lane edits above: `rfactor`
        // leaves every operand where it is.
        let now = if want.rfactor > 1 && have.rfactor != want.rfactor { PackLayout::Original } else { layout_of(have, b) };
        if layout != now {
            let operand = program.buffer(crate::expr::BufferId(b)).name.clone();
            edits.push(Edit::Pack { stage: stage.clone(), operand, layout });
        }
    }
    edits
}

fn layout_of(sched: &StageSchedule, b: usize) -> PackLayout {
    if sched.local.contains(&b) {
        PackLayout::Local
    } else if sched.blocked.contains(&b) {
        PackLayout::Blocked
    } else if sched.packed.contains(&b) {
        PackLayout::Packed
    } else {
        PackLayout::Original
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{lower, Lineage, Machine, Sampler, Target};
    use std::sync::Arc;

    fn informed() -> Sampler {
        Sampler::Informed(Machine { lanes: 16, registers: 32, cores: 2 })
    }

    /// Over many pairs of informed samples of the MLPs and the attentions,
    /// every transplant that succeeds gives the receiving stage exactly
    /// the donor's decisions, leaves every other stage as it was, and
    /// rebuilds from its lineage as the same kernel.
    #[test]
    fn a_transplant_takes_exactly_one_stage_and_rebuilds_from_its_lineage() {
        let mut made = 0;
        for name in ["llama4-scout-mlp", "deepseek-r1-moe", "llama3-8b-attn", "flux-attn"] {
            let program = Arc::new(crate::builtin(name).unwrap().program(crate::Size::Bench));
            for seed in 0..40u64 {
                let a = informed().sample(program.clone(), Target::Cpu, seed);
                let b = informed().sample(program.clone(), Target::Cpu, seed + 1000);
                for s in 0..program.stages().len() {
                    let Some((child, edits)) = transplant(&a, &b, s) else { continue };
                    made += 1;
                    assert_eq!(child.stages()[s], b.stages()[s], "{name} seed {seed} stage {s}");
                    for t in (0..program.stages().len()).filter(|&t| t != s) {
                        // A leader's siblings follow it; nothing else moves.
                        if a.stages()[t].fused != Some(Fusion::Sibling { leader: s }) {
                            assert_eq!(child.stages()[t], a.stages()[t], "{name} seed {seed} stage {t}");
                        }
                    }
                    let lineage = Lineage::sampled_by(informed(), seed).then(&edits);
                    let rebuilt = lineage.rebuild(&program).unwrap();
                    assert_eq!(lower(&rebuilt).fingerprint(), lower(&child).fingerprint());
                }
            }
        }
        assert!(made >= 100, "only {made} transplants succeeded");
    }

    #[test]
    fn no_transplant_between_equal_stages_or_different_sketches() {
        let program = Arc::new(crate::builtin("llama4-scout-mlp").unwrap().program(crate::Size::Bench));
        let a = informed().sample(program.clone(), Target::Cpu, 3);
        for s in 0..program.stages().len() {
            assert!(transplant(&a, &a, s).is_none());
        }
        let other = (0..200u64)
            .map(|seed| informed().sample(program.clone(), Target::Cpu, seed))
            .find(|b| b.sketch() != a.sketch())
            .expect("a sample of another sketch");
        for s in 0..program.stages().len() {
            assert!(transplant(&a, &other, s).is_none());
        }
    }
}
