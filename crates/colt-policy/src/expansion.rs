//! One expansion of the search, end to end: ask the acting model for a
//! joint action, read it, apply it (or fall back to a random legal edit),
//! score the child, keep the statistics, and run course alteration.
//!
//! The model is behind the [`Proposer`] trait: in a job, colt-actors' LLM
//! actor; in the scenario tests, a scripted double. The tree is not here:
//! the caller selects the node, builds the [`ExpansionView`] from it and
//! its ancestors, and adds the returned child.

use crate::course::{keep, Course, CourseAlteration, Kept};
use crate::protocol::{
    answer_grammar, correction_prompt, expansion_prompt, parse_answer, system_prompt, AnswerShape, ExpansionView,
    Scores,
};
use crate::roster::Roster;
use crate::stats::ModelStats;
use colt_ir::schedule::{Candidate, Edit, Rng};
use colt_tree::ModelId;
use parking_lot::Mutex;
use std::sync::Arc;

/// A model's answer text (and, when the call asked for several, the
/// others) and what the call cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proposal {
    pub answer: String,
    /// The call's further answers to the same prompt (other seeds).
    pub more_answers: Vec<String>,
    pub tokens: u64,
    pub seconds: f64,
}

/// Why a model gave no answer at all (its error, as its caller words it).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("model call failed: {0}")]
pub struct ProposalFailure(pub String);

/// One model call: the model (by its roster name), the system and user
/// prompt, the GBNF grammar the answer is decoded under, the sampling
/// seed, and how many answers to decode side by side from the one prompt
/// (a proposer may give fewer). `shape` is the grammar's language as data:
/// what text it forces after an answer's prefix (a proposer may decode it
/// without sampling, see [`AnswerShape`]).
#[derive(Clone, Copy, Debug)]
pub struct ModelCall<'a> {
    pub model: &'a str,
    /// The roster's id of `model`, and the roster: a proposer that answers
    /// in joint actions itself (colt's specialist, see
    /// [`crate::specialist`]) names the next model by them.
    pub asking: ModelId,
    pub roster: &'a Roster,
    /// The node to expand and its legal edits, for a proposer that prompts
    /// in the schedule language rather than with `system` and `user`.
    pub node: &'a Candidate,
    pub legal: &'a [Edit],
    pub system: &'a str,
    pub user: &'a str,
    pub grammar: &'a str,
    pub shape: &'a Arc<AnswerShape>,
    pub seed: u32,
    pub answers: usize,
    /// The sampling temperature of a proposer that samples its answer
    /// token by token itself (colt's specialist; 0 is its most likely
    /// answer); None: the proposer's own default.
    pub temperature: Option<f32>,
}

/// What answers for the models: in a job, colt-actors' LLM actors; in
/// tests, a script. Called from several search threads at once.
pub trait Proposer: Sync {
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure>;
}

/// Why an expansion produced no child.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExpansionError {
    #[error("the candidate has no legal edit, so it cannot be expanded")]
    NoLegalEdits,
}

/// The child an expansion produced.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub child: Candidate,
    pub edits: Vec<Edit>,
    /// The model whose edits the child carries (the largest model when its
    /// correction was kept).
    pub expanded_by: ModelId,
    /// Who expands the child next: the answer's choice or the fallback.
    pub next_model: ModelId,
    pub score: f64,
    /// The acting model's answer was unusable and a random legal edit was
    /// applied instead.
    pub random_fallback: bool,
    /// Course alteration asked the largest model, and whether its child
    /// was kept.
    pub correction: Option<Kept>,
    /// Each model call of the expansion beside a random edit set drawn at
    /// the same node (the acting call's first, then the correction's).
    pub probes: Vec<Probe>,
}

/// One model call beside chance: the call's child and a random legal edit
/// set of as many edits, drawn from the same node's legal list and scored
/// by the same `score`. The draw has a random stream of its own, so probing
/// changes nothing of the search.
#[derive(Clone, Debug)]
pub struct Probe {
    pub model: ModelId,
    pub parent_score: f64,
    /// The call's child and its score; None when the answer had no edit
    /// that applied (the expansion fell back to a random edit) or the call
    /// failed.
    pub proposal: Option<(Candidate, f64)>,
    pub random: (Candidate, f64),
}

/// The shared part of the expansions of one search.
pub struct Expander {
    stats: Arc<ModelStats>,
    course: Arc<CourseAlteration>,
    /// Answers a call asks for; the best-scoring usable one is the child.
    answers: usize,
    /// Passed on in every call (see [`ModelCall::temperature`]).
    temperature: Option<f32>,
    rng: Mutex<Rng>,
    /// The probes' random edit sets (apart from `rng`: probing must not
    /// change the fallback edits).
    probe_rng: Mutex<Rng>,
}

impl Expander {
    /// `seed` drives the random fallback edits.
    pub fn new(stats: Arc<ModelStats>, course: Arc<CourseAlteration>, seed: u64) -> Expander {
        let probe_seed = seed ^ 0x7072_6f62_6573;
        Expander {
            stats,
            course,
            answers: 1,
            temperature: None,
            rng: Mutex::new(Rng::new(seed)),
            probe_rng: Mutex::new(Rng::new(probe_seed)),
        }
    }

    /// Each call asks for `answers` answers decoded side by side (at least
    /// one); the child is the usable answer the cost model scores best,
    /// and the call's probe is set against as many random edit sets.
    pub fn answers(mut self, answers: usize) -> Expander {
        self.answers = answers.max(1);
        self
    }

    /// Each call asks a proposer that samples its own tokens (colt's
    /// specialist) to sample at `temperature`; None: its default.
    pub fn temperature(mut self, temperature: Option<f32>) -> Expander {
        self.temperature = temperature;
        self
    }

    pub fn stats(&self) -> &Arc<ModelStats> {
        &self.stats
    }

    /// Expands `view.current` with `model`. `score` gives a candidate's
    /// score (the cost model's prediction, or a measurement); the parent's
    /// score is `view.current.scores`' best known one, or `score` of it.
    /// The expansion's calls use the seeds `seed + 1`, `seed + 2`, ...
    pub fn expand(
        &self,
        proposer: &dyn Proposer,
        model: ModelId,
        seed: u32,
        view: &ExpansionView<'_>,
        score: &mut dyn FnMut(&Candidate) -> f64,
    ) -> Result<Expansion, ExpansionError> {
        let current = view.current.candidate;
        if view.legal.is_empty() {
            return Err(ExpansionError::NoLegalEdits);
        }
        let roster = self.stats.roster().clone();
        let grammar = answer_grammar(view.legal, &roster);
        let shape = Arc::new(AnswerShape::new(view.legal, &roster));
        let mut seeds = Seeds(seed);
        let user = expansion_prompt(view);
        let call = ModelCall {
            model: model_name(&roster, model),
            asking: model,
            roster: &roster,
            node: current,
            legal: view.legal,
            system: system_prompt(current.target()),
            user: &user,
            grammar: &grammar,
            shape: &shape,
            seed: seeds.next(),
            answers: self.answers,
            temperature: self.temperature,
        };
        // A call of several answers takes the one `score` ranks first.
        seeds.0 = seeds.0.wrapping_add(self.answers as u32 - 1);
        let mut answers_given = 1;
        let (child, edits, asked_next, random_fallback) = match proposer.propose(&call) {
            Ok(proposal) => {
                answers_given = 1 + proposal.more_answers.len();
                let (action, applied) = best_answer(&proposal, current, view, &roster, score);
                self.stats.record_call(model, action.call_record(proposal.tokens, proposal.seconds, applied.is_none()));
                match applied {
                    Some(a) => (a.candidate, a.edits, action.next_model, false),
                    None => {
                        let (c, e) = self.random_edit(current, view.legal)?;
                        (c, e, action.next_model, true)
                    }
                }
            }
            Err(_) => {
                let record = crate::stats::CallRecord { failed: true, missing_next_model: true, ..Default::default() };
                self.stats.record_call(model, record);
                let (c, e) = self.random_edit(current, view.legal)?;
                (c, e, None, true)
            }
        };
        let parent_score = view.current.scores.best_known().unwrap_or_else(|| score(current));
        let child_score = score(&child);
        if child_score > parent_score {
            self.stats.record_hit(model);
        }
        let proposal = (!random_fallback).then(|| (child.clone(), child_score));
        let probe = self.probe(model, parent_score, proposal, edits.len(), answers_given, view, score);
        let mut expansion = Expansion {
            child,
            edits,
            expanded_by: model,
            next_model: self.stats.route(asked_next),
            score: child_score,
            random_fallback,
            correction: None,
            probes: vec![probe],
        };
        if let Course::Escalate { to } = self.course.observe(model, parent_score, child_score) {
            self.correct(proposer, to, seeds.next(), view, &mut expansion, parent_score, score);
        }
        Ok(expansion)
    }

    /// Course alteration: `largest` sees the small model's proposal and both
    /// scores and answers edits from the same parent; its child replaces the
    /// proposal's if it scores at least as well.
    #[allow(clippy::too_many_arguments)]
    fn correct(
        &self,
        proposer: &dyn Proposer,
        largest: ModelId,
        seed: u32,
        view: &ExpansionView<'_>,
        expansion: &mut Expansion,
        parent_score: f64,
        score: &mut dyn FnMut(&Candidate) -> f64,
    ) {
        let roster = self.stats.roster().clone();
        let proposer_name = roster.get(expansion.expanded_by).map_or("?", |m| m.name.as_str()).to_string();
        let proposal_scores = Scores { predicted: Some(expansion.score), measured: None };
        let user = correction_prompt(view, &expansion.edits, proposal_scores, &proposer_name);
        let grammar = answer_grammar(view.legal, &roster);
        let shape = Arc::new(AnswerShape::new(view.legal, &roster));
        let system = system_prompt(view.current.candidate.target());
        let call = ModelCall {
            model: model_name(&roster, largest),
            asking: largest,
            roster: &roster,
            node: view.current.candidate,
            legal: view.legal,
            system,
            user: &user,
            grammar: &grammar,
            shape: &shape,
            seed,
            answers: self.answers,
            temperature: self.temperature,
        };
        let Ok(proposal) = proposer.propose(&call) else {
            let record = crate::stats::CallRecord { failed: true, missing_next_model: true, ..Default::default() };
            self.stats.record_call(largest, record);
            expansion.correction = Some(Kept::Proposal);
            let probe = self.probe(largest, parent_score, None, expansion.edits.len(), 1, view, score);
            expansion.probes.push(probe);
            return;
        };
        let answers_given = 1 + proposal.more_answers.len();
        let (action, applied) = best_answer(&proposal, view.current.candidate, view, &roster, score);
        self.stats.record_call(largest, action.call_record(proposal.tokens, proposal.seconds, applied.is_none()));
        let Some(applied) = applied else {
            expansion.correction = Some(Kept::Proposal);
            let probe = self.probe(largest, parent_score, None, expansion.edits.len(), answers_given, view, score);
            expansion.probes.push(probe);
            return;
        };
        let corrected = score(&applied.candidate);
        let proposal = Some((applied.candidate.clone(), corrected));
        let probe = self.probe(largest, parent_score, proposal, applied.edits.len(), answers_given, view, score);
        expansion.probes.push(probe);
        if corrected > parent_score {
            self.stats.record_hit(largest);
        }
        let kept = keep(expansion.score, corrected);
        if kept == Kept::Correction {
            expansion.child = applied.candidate;
            expansion.edits = applied.edits;
            expansion.expanded_by = largest;
            expansion.score = corrected;
            expansion.next_model = self.stats.route(action.next_model);
        }
        expansion.correction = Some(kept);
    }

    /// `model`'s call beside the best scoring of `draws` random sets of
    /// `edits` legal edits of the same node (at least one each), scored by
    /// the same `score`: a call whose best of several answers was kept is
    /// set against as many random draws, so the selection favours neither.
    #[allow(clippy::too_many_arguments)]
    fn probe(
        &self,
        model: ModelId,
        parent_score: f64,
        proposal: Option<(Candidate, f64)>,
        edits: usize,
        draws: usize,
        view: &ExpansionView<'_>,
        score: &mut dyn FnMut(&Candidate) -> f64,
    ) -> Probe {
        let mut best: Option<(Candidate, f64)> = None;
        for _ in 0..draws.max(1) {
            let random = random_edit_set(&mut self.probe_rng.lock(), view.current.candidate, view.legal, edits.max(1));
            let s = score(&random);
            if best.as_ref().is_none_or(|(_, b)| s > *b) {
                best = Some((random, s));
            }
        }
        // At least one draw was made.
        let random = best.unwrap_or_else(|| (view.current.candidate.clone(), parent_score));
        Probe { model, parent_score, proposal, random }
    }

    fn random_edit(&self, current: &Candidate, legal: &[Edit]) -> Result<(Candidate, Vec<Edit>), ExpansionError> {
        let mut rng = self.rng.lock();
        // Every edit of `legal` applies on its own; try from a random start
        // in case the caller's list is stale.
        let start = rng.below(legal.len());
        for i in 0..legal.len() {
            let edit = &legal[(start + i) % legal.len()];
            if let Ok(child) = edit.apply(current) {
                return Ok((child, vec![edit.clone()]));
            }
        }
        Err(ExpansionError::NoLegalEdits)
    }
}

/// The call's answer whose child `score` ranks first among those with an
/// edit that applies (the first answer when none does), read and applied.
fn best_answer(
    proposal: &Proposal,
    current: &Candidate,
    view: &ExpansionView<'_>,
    roster: &crate::roster::Roster,
    score: &mut dyn FnMut(&Candidate) -> f64,
) -> (crate::protocol::JointAction, Option<crate::protocol::Applied>) {
    let mut first = parse_answer(&proposal.answer, view.legal, roster);
    let first_applied = first.apply(current);
    if proposal.more_answers.is_empty() {
        return (first, first_applied);
    }
    let mut best: Option<(f64, crate::protocol::JointAction, crate::protocol::Applied)> = None;
    let answers =
        std::iter::once((first.clone(), first_applied.clone())).chain(proposal.more_answers.iter().map(|a| {
            let mut action = parse_answer(a, view.legal, roster);
            let applied = action.apply(current);
            (action, applied)
        }));
    for (action, applied) in answers {
        let Some(applied) = applied else { continue };
        let s = score(&applied.candidate);
        if best.as_ref().is_none_or(|(b, _, _)| s > *b) {
            best = Some((s, action, applied));
        }
    }
    match best {
        Some((_, action, applied)) => (action, Some(applied)),
        None => (first, first_applied),
    }
}

/// Up to `count` distinct edits of `legal`, in a random order, applied one
/// after the other to `current` (an edit an earlier one made inapplicable
/// is skipped, as a model's joint action skips it).
pub fn random_edit_set(rng: &mut Rng, current: &Candidate, legal: &[Edit], count: usize) -> Candidate {
    let mut order: Vec<usize> = (0..legal.len()).collect();
    let mut result = current.clone();
    let mut applied = 0;
    while applied < count && !order.is_empty() {
        let edit = &legal[order.swap_remove(rng.below(order.len()))];
        if let Ok(next) = edit.apply(&result) {
            result = next;
            applied += 1;
        }
    }
    result
}

/// The seeds of one expansion's calls, one after another.
struct Seeds(u32);

impl Seeds {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

/// A roster model's name; `?` for an id the roster does not have (a
/// proposer then fails the call, which the expansion counts).
fn model_name(roster: &crate::roster::Roster, model: ModelId) -> &str {
    roster.get(model).map_or("?", |m| m.name.as_str())
}
