//! BEAM search, after tinygrad's (`tinygrad/codegen/opt/search.py`): keep
//! the `k` fastest measured candidates, expand each by every legal edit,
//! rank the children by the cost model and measure the best; `k` is the
//! round's batch. It starts from the design space's samples, like the
//! tree's first level, and every round's pool is only the new frontier.

use super::members::Members;
use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::JobSpec;
use crate::known::KnownCandidate;
use crate::pool::{Pool, RoundResults};
use crate::registry::{no_options, StrategyChoice, StrategyKind};
use crate::strategy::{Generated, Strategy};
use colt_ir::schedule::{legal_edits, lower, Candidate, Lineage};
use colt_policy::Proposer;

pub const BEAM: StrategyKind = StrategyKind {
    name: "beam",
    syntax: "beam",
    uses_models: false,
    options: no_options,
    build: |_: &StrategyChoice, _: &JobSpec, _: &dyn Proposer| Ok(Box::new(Beam::default())),
};

#[derive(Default)]
pub struct Beam {
    members: Members,
    /// What this round offers, best predicted first.
    frontier: Vec<(Candidate, Lineage, u64)>,
}

impl Strategy for Beam {
    fn pre_tuning(
        &mut self,
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<(), SearchError> {
        self.members = Members::start(ctx, known, snapshot)?;
        // The first beam is chosen from the design space's samples (a
        // resumed job's from its measured members).
        if snapshot.is_none() {
            for s in ctx.screened(ctx.params().initial) {
                if self.members.push(s.candidate.clone(), s.lineage.clone(), s.fingerprint) {
                    self.frontier.push((s.candidate, s.lineage, s.fingerprint));
                }
            }
        }
        Ok(())
    }

    fn generate(&mut self, ctx: &SearchContext<'_>) -> Generated {
        ctx.progress("expanding the beam", &[], 0);
        let width = ctx.params().batch.max(1);
        let mut children = Vec::new();
        for parent in self.members.fastest(ctx).into_iter().take(width) {
            // Each parent's legal edits grow with the program.
            if ctx.stopped() {
                break;
            }
            for edit in legal_edits(&parent.candidate) {
                let Ok(child) = edit.apply(&parent.candidate) else { continue };
                let fingerprint = lower(&child).fingerprint();
                if !ctx.is_measured(fingerprint) && !self.members.contains(fingerprint) {
                    children.push((ctx.predict(&child), child, parent.lineage.then(&[edit]), fingerprint));
                }
            }
        }
        children.sort_by(|a, b| b.0.total_cmp(&a.0));
        self.frontier.clear();
        for (_, child, lineage, fingerprint) in children {
            if self.members.push(child.clone(), lineage.clone(), fingerprint) {
                self.frontier.push((child, lineage, fingerprint));
            }
        }
        Generated::Candidates
    }

    fn fill(&mut self, _: &SearchContext<'_>, pool: &mut Pool<'_>) {
        for (tag, (candidate, lineage, fingerprint)) in self.frontier.iter().enumerate() {
            pool.offer(*fingerprint, candidate, lineage, None, tag as u64);
        }
    }

    /// Children not measured this round are dropped: the next round's beam
    /// is made of measured candidates only.
    fn notify(&mut self, _: &SearchContext<'_>, _: RoundResults) {
        self.frontier.clear();
    }

    fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        self.members.snapshot()
    }

    fn size(&self) -> usize {
        self.members.len()
    }
}
