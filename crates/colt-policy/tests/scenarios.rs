//! Scenario tests of expansions with a scripted model: the double stands in
//! for the LLM only; the statistics, routing, course alteration and edits
//! are the real ones.

use colt_ir::schedule::{legal_edits, Candidate};
use colt_policy::protocol::{ExpansionView, Scores, SearchProgress, Shown};
use colt_policy::{
    CourseAlteration, Expander, Kept, ModelCall, ModelSpec, ModelStats, Proposal, ProposalFailure, Proposer, Roster,
    DEFAULT_STREAK,
};
use colt_tree::ModelId;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

const BIG: ModelId = ModelId(0);
const SMALL: ModelId = ModelId(1);

/// Answers from a script, in order, whatever model is asked; records who
/// was asked and whether it was a correction.
struct ScriptedModel {
    answers: Mutex<VecDeque<Result<String, &'static str>>>,
    calls: Mutex<Vec<(ModelId, bool)>>,
}

impl ScriptedModel {
    fn new(answers: impl IntoIterator<Item = Result<String, &'static str>>) -> ScriptedModel {
        ScriptedModel { answers: Mutex::new(answers.into_iter().collect()), calls: Mutex::new(Vec::new()) }
    }

    fn calls(&self) -> Vec<(ModelId, bool)> {
        self.calls.lock().clone()
    }
}

impl Proposer for ScriptedModel {
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure> {
        assert!(!call.system.is_empty() && call.grammar.starts_with("root ::= "));
        let model = match call.model {
            "big" => BIG,
            "small" => SMALL,
            other => panic!("the roster has no model `{other}`"),
        };
        self.calls.lock().push((model, call.user.contains("\nCorrection: ")));
        let next = self.answers.lock().pop_front();
        match next.expect("the script has an answer for every call") {
            Ok(answer) => Ok(Proposal { answer, more_answers: Vec::new(), tokens: 100, seconds: 0.5 }),
            Err(reason) => Err(ProposalFailure(reason.to_string())),
        }
    }
}

fn answer(depth: usize, next: &str) -> String {
    format!("{{\"edits\": [\"unroll(stage=\\\"C\\\", depth={depth})\"], \"next_model\": \"{next}\"}}")
}

/// The job: gemm-512 at a sample whose unroll depth is 16; the score is a
/// function of the unroll depth alone, so each scripted edit's effect is
/// known: 0 → 0.2, 16 → 0.5 (the parent), 64 → 0.7, 512 → 0.3.
struct Job {
    current: Candidate,
    expander: Expander,
    stats: Arc<ModelStats>,
}

fn job() -> Job {
    let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
    let current = Candidate::sample(program, 3);
    assert_eq!(current.stages()[0].unroll, 16);
    let roster = Arc::new(
        Roster::new(vec![ModelSpec::new("big", 14_000_000_000), ModelSpec::new("small", 1_000_000_000)]).unwrap(),
    );
    let stats = Arc::new(ModelStats::new(roster.clone()));
    let course = Arc::new(CourseAlteration::new(roster, DEFAULT_STREAK).unwrap());
    Job { current, expander: Expander::new(stats.clone(), course, 7), stats }
}

fn score(c: &Candidate) -> f64 {
    match c.stages()[0].unroll {
        0 => 0.2,
        16 => 0.5,
        64 => 0.7,
        _ => 0.3,
    }
}

impl Job {
    fn expand(&self, model: &ScriptedModel, acting: ModelId) -> colt_policy::Expansion {
        let legal = legal_edits(&self.current);
        let view = ExpansionView {
            current: Shown {
                candidate: &self.current,
                scores: Scores { predicted: Some(score(&self.current)), measured: None },
            },
            parent: None,
            grandparent: None,
            legal: &legal,
            list_legal: true,
            stats: &self.stats,
            progress: SearchProgress { trials: 0, trial_budget: 64, best_latency: None, stalled_expansions: 0 },
            history: "",
            reading: None,
        };
        self.expander.expand(model, acting, 0, &view, &mut |c| score(c)).unwrap()
    }
}

#[test]
fn the_second_small_regression_escalates_and_a_better_correction_replaces_the_proposal() {
    let job = job();
    let model = ScriptedModel::new([answer(0, "small"), answer(512, "small"), answer(64, "small")].map(Ok));

    let first = job.expand(&model, SMALL);
    assert_eq!((first.score, first.correction, first.expanded_by), (0.2, None, SMALL));
    let second = job.expand(&model, SMALL);
    // 0.3 < 0.5: the second regression in a row; the largest corrects it
    // with unroll 64 (0.7 ≥ 0.3), which is kept.
    assert_eq!(second.correction, Some(Kept::Correction));
    assert_eq!((second.score, second.expanded_by, second.child.stages()[0].unroll), (0.7, BIG, 64));
    assert_eq!(model.calls(), vec![(SMALL, false), (SMALL, false), (BIG, true)]);
    let (small, big) = (job.stats.summary(SMALL), job.stats.summary(BIG));
    assert_eq!((small.calls, small.hits, small.errors()), (2, 0, 0));
    assert_eq!((big.calls, big.hits, big.tokens), (1, 1, 100));
}

#[test]
fn a_worse_correction_keeps_the_small_models_child_and_the_streak_restarts() {
    let job = job();
    let script =
        [answer(0, "small"), answer(512, "small"), answer(0, "small"), answer(64, "small"), answer(0, "small")];
    let model = ScriptedModel::new(script.map(Ok));
    job.expand(&model, SMALL);
    let second = job.expand(&model, SMALL);
    // The correction (unroll 0, 0.2) is below the proposal (0.3).
    assert_eq!(second.correction, Some(Kept::Proposal));
    assert_eq!((second.score, second.expanded_by), (0.3, SMALL));
    // An improvement ends the streak: the next regression does not escalate.
    assert_eq!(job.expand(&model, SMALL).correction, None);
    assert_eq!(job.expand(&model, SMALL).correction, None);
    assert_eq!(model.calls().iter().filter(|(_, correction)| *correction).count(), 1);
}

#[test]
fn the_largest_models_regressions_never_escalate() {
    let job = job();
    let script = [answer(0, "big"), answer(512, "big"), answer(0, "big")];
    let model = ScriptedModel::new(script.map(Ok));
    for _ in 0..3 {
        assert_eq!(job.expand(&model, BIG).correction, None);
    }
    assert_eq!(model.calls().len(), 3);
}

#[test]
fn unknown_or_missing_next_models_fall_back_to_the_best_hit_rate() {
    let job = job();
    let script = [
        answer(64, "big"),                                                  // big: 1 hit of 1
        answer(0, "gpt-9"),                                                 // unknown: fallback = big
        "{\"edits\": [\"unroll(stage=\\\"C\\\", depth=64)\"]}".to_string(), // missing: fallback
    ];
    let model = ScriptedModel::new(script.map(Ok));
    assert_eq!(job.expand(&model, BIG).next_model, BIG);
    let unknown = job.expand(&model, SMALL);
    assert_eq!(unknown.next_model, BIG, "big has the best hit rate (1/1 vs 0/1)");
    assert_eq!(job.stats.summary(SMALL).missing_next_model, 1);
    let missing = job.expand(&model, SMALL);
    // small: 1 hit of 2 (0.5) < big 1 of 1.
    assert_eq!((missing.next_model, missing.score), (BIG, 0.7));
    assert_eq!(job.stats.summary(SMALL).missing_next_model, 2);
}

#[test]
fn an_unusable_answer_or_a_failed_call_falls_back_to_a_random_legal_edit() {
    let job = job();
    let model = ScriptedModel::new([
        Ok("I think you should tile more.".into()),
        Err("the model ran out of context"),
        Ok("{\"edits\": [\"unroll(stage=\\\"C\\\", depth=7)\"], \"next_model\": \"small\"}".into()),
    ]);
    let legal = legal_edits(&job.current);
    for _ in 0..3 {
        let e = job.expand(&model, SMALL);
        assert!(e.random_fallback);
        assert_eq!(e.edits.len(), 1);
        assert!(legal.contains(&e.edits[0]));
        assert_eq!(e.child, e.edits[0].apply(&job.current).unwrap());
    }
    let small = job.stats.summary(SMALL);
    assert_eq!((small.calls, small.failures, small.illegal_edits), (3, 3, 1));
    assert_eq!(small.missing_next_model, 2, "prose and the failed call name no model; the third named small");
}

#[test]
fn search_threads_share_one_expander_and_its_statistics() {
    let job = job();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let job = &job;
            scope.spawn(move || {
                // Regressions of different threads interleave, so some
                // streaks reach K and ask for a correction; the thread's
                // own script answers it (50 answers cover 20 expansions
                // and up to 20 corrections).
                let answers = (0..50).map(|i| Ok(answer(if i % 2 == 0 { 64 } else { 0 }, "small")));
                let model = ScriptedModel::new(answers);
                for _ in 0..20 {
                    let e = job.expand(&model, if t % 2 == 0 { SMALL } else { BIG });
                    assert!(!e.random_fallback);
                }
            });
        }
    });
    let (small, big) = (job.stats.summary(SMALL), job.stats.summary(BIG));
    // Small answered its 40 expansions; big its 40 and every correction.
    assert_eq!(small.calls, 40);
    assert!(big.calls >= 40);
    assert_eq!(small.errors() + big.errors(), 0);
}
