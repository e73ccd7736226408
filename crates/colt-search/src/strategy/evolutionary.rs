//! MetaSchedule's evolutionary search over the same cost model: each round
//! a population of the best measured candidates and fresh screened samples is
//! mutated by random legal edits for a few generations, selected by the
//! cost model (a tournament of two picks each parent), and its best
//! unmeasured members join the pool.

use super::members::Members;
use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::JobSpec;
use crate::known::KnownCandidate;
use crate::pool::{Pool, RoundResults};
use crate::registry::{no_options, StrategyChoice, StrategyKind};
use crate::strategy::{Generated, Strategy};
use colt_ir::schedule::{lower, Candidate, Lineage};
use colt_policy::Proposer;
use std::collections::HashSet;

pub const EVOLUTIONARY: StrategyKind = StrategyKind {
    name: "evolutionary",
    syntax: "evolutionary",
    uses_models: false,
    options: no_options,
    build: |_: &StrategyChoice, _: &JobSpec, _: &dyn Proposer| Ok(Box::new(Evolutionary::default())),
};

#[derive(Default)]
pub struct Evolutionary {
    members: Members,
}

/// A population entry: predicted score, candidate, lineage, fingerprint.
type Individual = (f64, Candidate, Lineage, u64);

impl Evolutionary {
    fn evolve(&mut self, ctx: &SearchContext<'_>) {
        ctx.progress("evolving", &[], 0);
        let p = ctx.params().population.max(2);
        let mut population: Vec<Individual> = Vec::new();
        let mut seen = HashSet::new();
        for m in self.members.fastest(ctx).into_iter().take(p / 4) {
            if seen.insert(m.fingerprint) {
                population.push((ctx.predict(&m.candidate), m.candidate.clone(), m.lineage.clone(), m.fingerprint));
            }
        }
        // Fresh members screened by the cost model; a draw that comes back
        // short (its candidates measured already) is not retried forever.
        for _ in 0..4 {
            if population.len() >= p || ctx.stopped() {
                break;
            }
            for s in ctx.screened(p - population.len()) {
                if seen.insert(s.fingerprint) {
                    population.push((ctx.predict(&s.candidate), s.candidate, s.lineage, s.fingerprint));
                }
            }
        }
        for _ in 0..ctx.params().generations {
            // Screening may have come back empty (a stopped job, or every
            // sample measured already): nothing to breed from.
            if ctx.stopped() || population.is_empty() {
                break;
            }
            let mut children = Vec::with_capacity(p);
            for _ in 0..p {
                let (_, c, lineage, _) = &population[tournament(ctx, &population)];
                let Some((child, edit)) = ctx.random_legal_edit(c) else { continue };
                let fingerprint = lower(&child).fingerprint();
                if seen.insert(fingerprint) {
                    children.push((ctx.predict(&child), child, lineage.then(&[edit]), fingerprint));
                }
            }
            population.extend(children);
            population.sort_by(|a, b| b.0.total_cmp(&a.0));
            population.truncate(p);
        }
        for (_, candidate, lineage, fingerprint) in population {
            if !ctx.is_measured(fingerprint) {
                self.members.push(candidate, lineage, fingerprint);
            }
        }
    }
}

/// A parent by a tournament of two on predicted score.
fn tournament(ctx: &SearchContext<'_>, population: &[Individual]) -> usize {
    let a = ctx.below(population.len());
    let b = ctx.below(population.len());
    if population[a].0 >= population[b].0 {
        a
    } else {
        b
    }
}

impl Strategy for Evolutionary {
    fn pre_tuning(
        &mut self,
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<(), SearchError> {
        self.members = Members::start(ctx, known, snapshot)?;
        Ok(())
    }

    fn generate(&mut self, ctx: &SearchContext<'_>) -> Generated {
        self.evolve(ctx);
        Generated::Candidates
    }

    fn fill(&mut self, _: &SearchContext<'_>, pool: &mut Pool<'_>) {
        self.members.fill(pool);
    }

    fn notify(&mut self, _: &SearchContext<'_>, _: RoundResults) {}

    fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        self.members.snapshot()
    }

    fn size(&self) -> usize {
        self.members.len()
    }
}
