//! Random search: each round, fresh samples of the design space, measured
//! in the order they were drawn: the job's (informed) sampler's, or with
//! `random:uniform` the uniform sampler's — the space as it is, the
//! baseline every rule of the informed sampler is measured against.

use super::members::Members;
use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::JobSpec;
use crate::known::KnownCandidate;
use crate::pool::{Pool, RoundResults};
use crate::registry::{OptionError, StrategyChoice, StrategyKind};
use crate::strategy::{Generated, Strategy};
use colt_ir::schedule::Sampler;
use colt_policy::{EpsilonGreedy, Proposer};

pub const RANDOM: StrategyKind = StrategyKind {
    name: "random",
    syntax: "random[:uniform]",
    uses_models: false,
    options: |options| match options {
        [] => Ok(Vec::new()),
        ["uniform"] => Ok(vec!["uniform".to_string()]),
        _ => Err(OptionError::Unknown),
    },
    build: |choice: &StrategyChoice, _: &JobSpec, _: &dyn Proposer| {
        let uniform = choice.options().iter().any(|o| o == "uniform");
        Ok(Box::new(RandomSearch { members: Members::default(), uniform }))
    },
};

pub struct RandomSearch {
    members: Members,
    /// Draws with the uniform sampler instead of the job's.
    uniform: bool,
}

impl Strategy for RandomSearch {
    fn pre_tuning(
        &mut self,
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<(), SearchError> {
        let sampler = if self.uniform { Sampler::Uniform } else { ctx.spec().sampler() };
        self.members = Members::start_by(ctx, sampler, known, snapshot)?;
        Ok(())
    }

    fn generate(&mut self, ctx: &SearchContext<'_>) -> Generated {
        for _ in 0..ctx.params().batch {
            if ctx.stopped() {
                break;
            }
            let (candidate, lineage, fingerprint) =
                if self.uniform { ctx.sample_by(Sampler::Uniform) } else { ctx.sample() };
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
