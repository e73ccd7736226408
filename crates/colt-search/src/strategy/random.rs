//! Random search: each round, fresh samples of the design space, measured
//! in the order they were drawn.

use super::members::Members;
use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::JobSpec;
use crate::known::KnownCandidate;
use crate::pool::{Pool, RoundResults};
use crate::registry::{no_options, StrategyChoice, StrategyKind};
use crate::strategy::{Generated, Strategy};
use colt_policy::{EpsilonGreedy, Proposer};

pub const RANDOM: StrategyKind = StrategyKind {
    name: "random",
    syntax: "random",
    uses_models: false,
    options: no_options,
    build: |_: &StrategyChoice, _: &JobSpec, _: &dyn Proposer| Ok(Box::new(RandomSearch::default())),
};

#[derive(Default)]
pub struct RandomSearch {
    members: Members,
}

impl Strategy for RandomSearch {
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
        for _ in 0..ctx.params().batch {
            let (candidate, lineage, fingerprint) = ctx.sample();
            self.members.push(candidate, lineage, fingerprint);
        }
        Generated::Candidates
    }

    fn fill(&mut self, _: &SearchContext<'_>, pool: &mut Pool<'_>) {
        self.members.fill(pool);
    }

    /// What it sampled, in order: the cost model plays no part.
    fn pick(&mut self, pool: &Pool<'_>, batch: usize, _: &mut EpsilonGreedy) -> Vec<usize> {
        (0..pool.len().min(batch)).collect()
    }

    fn notify(&mut self, _: &SearchContext<'_>, _: RoundResults) {}

    fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        self.members.snapshot()
    }

    fn size(&self) -> usize {
        self.members.len()
    }
}
