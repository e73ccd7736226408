//! The strategy interface, after MetaSchedule's `SearchStrategy`
//! (`pre_tuning`, `generate_measure_candidates`, `notify_runner_results`,
//! `post_tuning`): a strategy generates candidates from the
//! [`SearchContext`], offers them to the round's [`Pool`], may choose
//! which to measure, and is told what became of each. The loop around it
//! owns measurement, records and checkpoints; a strategy never calls back
//! into it.
//!
//! One file per strategy; [`STRATEGIES`](crate::STRATEGIES) names them for `--strategy`.

pub mod beam;
pub mod evolutionary;
mod members;
pub mod random;
pub mod tree;

use crate::context::SearchContext;
use crate::error::SearchError;
use crate::known::KnownCandidate;
use crate::outcome::{ModelReport, ProposalProbe};
use crate::pool::{Pool, RoundResults};
use colt_ir::schedule::Candidate;
use colt_policy::EpsilonGreedy;

/// A proposal probe as a strategy hands it to the loop: the record, and
/// the two candidates the loop measures when the job measures its probes.
pub struct ProbeDraft {
    pub probe: ProposalProbe,
    /// The call's child (None when the answer was unusable).
    pub proposal: Option<Candidate>,
    pub random: Candidate,
}

/// What a generation round ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    Candidates,
    /// The job's model-call budget is spent: the loop measures this round
    /// and stops.
    LlmBudgetSpent,
}

pub trait Strategy: Send {
    /// Before the first round: the candidates measured before it (earlier
    /// jobs' records, and a resumed job's own trials, in that order), and
    /// the job's last snapshot when it is resumed.
    fn pre_tuning(
        &mut self,
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<(), SearchError>;

    /// One round of candidate generation.
    fn generate(&mut self, ctx: &SearchContext<'_>) -> Generated;

    /// Offers every candidate it would measure now, in its order.
    fn fill(&mut self, ctx: &SearchContext<'_>, pool: &mut Pool<'_>);

    /// Which entries of the pool to measure, in order: ε-greedy on the
    /// predictions unless the strategy knows better.
    fn pick(&mut self, pool: &Pool<'_>, batch: usize, greedy: &mut EpsilonGreedy) -> Vec<usize> {
        greedy.pick(&pool.predicted(), batch)
    }

    /// What the round did with every entry of its pool.
    fn notify(&mut self, ctx: &SearchContext<'_>, results: RoundResults);

    /// After the cost model was retrained (each round, and once after
    /// `pre_tuning`).
    fn post_round(&mut self, _ctx: &SearchContext<'_>) {}

    /// Bytes from which `pre_tuning` resumes the strategy.
    fn snapshot(&self) -> Result<Vec<u8>, SearchError>;

    /// Its models' calls so far (none for a model-free strategy).
    fn models(&self) -> Vec<ModelReport> {
        Vec::new()
    }

    /// Escalations to the largest model so far.
    fn course_alterations(&self) -> u64 {
        0
    }

    /// Candidates it holds (tree nodes, population members).
    fn size(&self) -> usize;

    /// Expansions it made by random edits (tree strategies), this run.
    fn random_expansions(&self) -> u64 {
        0
    }

    /// The proposal probes of its model calls since it was last asked.
    fn take_probes(&mut self) -> Vec<ProbeDraft> {
        Vec::new()
    }
}
