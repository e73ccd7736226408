//! Protocol tests on the suite's workloads: the grammar admits exactly the
//! legal edits and the model names, a grammar-shaped answer parses, bad
//! answers become problems, prompts stay short.

use super::*;
use crate::roster::{ModelSpec, Roster};
use crate::stats::{CallRecord, ModelStats};
use colt_ir::schedule::{legal_edits, Candidate, Edit, Target};
use colt_tree::ModelId;
use std::sync::Arc;

fn roster() -> Roster {
    Roster::new(vec![ModelSpec::new("gemma-3-1b", 1_000_000_000), ModelSpec::new("qwen3-8b", 8_000_000_000)]).unwrap()
}

fn candidate(workload: &str, seed: u64) -> Candidate {
    let program = Arc::new(colt_ir::builtin(workload).unwrap().program(colt_ir::Size::Bench));
    Candidate::sample(program, seed)
}

/// The alternatives of rule `name`, as the text each literal matches.
fn literals_of(grammar: &str, name: &str) -> Vec<String> {
    let line = grammar.lines().find(|l| l.starts_with(&format!("{name} ::= "))).unwrap();
    let body = &line[name.len() + 5..];
    body.split(" | ").map(unescape).collect()
}

fn unescape(literal: &str) -> String {
    let inner = literal.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap();
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next().unwrap() {
                'n' => out.push('\n'),
                other => out.push(other),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_grammar_admits_every_legal_edit_and_every_model_and_nothing_else() {
    let roster = roster();
    for w in colt_ir::SUITE {
        let c = candidate(w.name, 11);
        let legal = legal_edits(&c);
        let grammar = answer_grammar(&legal, &roster);
        assert_eq!(
            grammar.lines().next().unwrap(),
            r#"root ::= "{\"edits\": [" edit ("," edit)? ("," edit)? "], \"next_model\": " model "}""#
        );
        let edit_rule = grammar.lines().find(|l| l.starts_with("edit ::= ")).unwrap();
        let stage_rules: Vec<&str> = edit_rule["edit ::= ".len()..].split(" | ").collect();
        let mut admitted = Vec::new();
        for rule in grammar.lines().filter(|l| l.starts_with("edit-")) {
            let name = rule.split(' ').next().unwrap();
            admitted.extend(literals_of(&grammar, name));
        }
        // `edit ::= edit-0 | edit-1 ...`: one rule per stage with edits.
        assert_eq!(stage_rules.len(), grammar.lines().filter(|l| l.starts_with("edit-")).count());
        let expected: Vec<String> = legal.iter().map(edit_json).collect();
        assert_eq!(admitted, expected, "{}", w.name);
        for json in &admitted {
            let text: String = serde_json::from_str(json).unwrap();
            assert!(legal.contains(&Edit::parse(&text).unwrap()));
        }
        assert_eq!(literals_of(&grammar, "model"), vec!["\"gemma-3-1b\"", "\"qwen3-8b\""]);
    }
}

#[test]
fn an_answer_the_grammar_admits_parses_into_those_edits_and_model() {
    let roster = roster();
    let c = candidate("flux-conv", 5);
    let legal = legal_edits(&c);
    let grammar = answer_grammar(&legal, &roster);
    // Build the answer the way the grammar's root sequences its parts.
    let picks = [literals_of(&grammar, "edit-0")[0].clone(), literals_of(&grammar, "edit-0")[3].clone()];
    let model = &literals_of(&grammar, "model")[1];
    let answer = format!("{{\"edits\": [{}], \"next_model\": {model}}}", picks.join(","));
    let mut action = parse_answer(&answer, &legal, &roster);
    assert_eq!(action.problems, vec![], "{answer}");
    assert_eq!(action.edits, vec![legal[0].clone(), legal[3].clone()]);
    assert_eq!(action.next_model, Some(ModelId(1)));
    let applied = action.apply(&c).expect("two tile edits of different levels apply");
    assert!(!applied.edits.is_empty());
}

#[test]
fn unusable_parts_of_answers_are_problems_never_panics() {
    let roster = roster();
    let c = candidate("gemm-512", 3);
    let legal = legal_edits(&c);
    let good = edit_json(&legal[0]);
    let cases: Vec<(String, Vec<AnswerProblem>)> = vec![
        (
            "no json here".into(),
            vec![AnswerProblem::NotJson("expected ident at line 1 column 2".into()), AnswerProblem::MissingNextModel],
        ),
        ("[1, 2]".into(), vec![AnswerProblem::NotJson("not an object".into()), AnswerProblem::MissingNextModel]),
        (format!("{{\"edits\": [{good}]}}"), vec![AnswerProblem::MissingNextModel]),
        (
            format!("{{\"edits\": [{good}], \"next_model\": \"gpt-9\"}}"),
            vec![AnswerProblem::UnknownModel("gpt-9".into())],
        ),
        (
            "{\"edits\": [\"unroll(stage=\\\"C\\\", depth=7)\"], \"next_model\": \"qwen3-8b\"}".into(),
            vec![AnswerProblem::NotLegal("unroll(stage=\"C\", depth=7)".into())],
        ),
        (
            "{\"edits\": [\"swizzle(stage=\\\"C\\\")\", 4], \"next_model\": \"qwen3-8b\"}".into(),
            vec![
                AnswerProblem::UnreadableEdit {
                    text: "swizzle(stage=\"C\")".into(),
                    // colt-ir's reason, which lists the kinds of edit there are.
                    reason: Edit::parse("swizzle(stage=\"C\")").unwrap_err().reason,
                },
                AnswerProblem::UnreadableEdit { text: "4".into(), reason: "not a string".into() },
            ],
        ),
        (
            format!("{{\"edits\": [{good},{good}], \"next_model\": \"qwen3-8b\"}}"),
            vec![AnswerProblem::Repeated(legal[0].to_string())],
        ),
        (
            format!(
                "Sure! ```json\n{{\"edits\": [{good},{},{},{}], \"next_model\": \"qwen3-8b\"}}\n```",
                edit_json(&legal[1]),
                edit_json(&legal[2]),
                edit_json(&legal[3])
            ),
            vec![AnswerProblem::TooManyEdits(4)],
        ),
        ("{\"next_model\": \"qwen3-8b\"}".into(), vec![AnswerProblem::NoEdits]),
    ];
    for (answer, expected) in cases {
        let action = parse_answer(&answer, &legal, &roster);
        assert_eq!(action.problems, expected, "{answer}");
    }
    // Every prefix of a good answer (a cut-off generation) is handled.
    let full = format!("{{\"edits\": [{good}], \"next_model\": \"qwen3-8b\"}}");
    for end in 0..full.len() {
        let _ = parse_answer(&full[..end], &legal, &roster);
    }
}

#[test]
fn edits_made_illegal_by_an_earlier_edit_are_skipped_and_counted() {
    let roster = roster();
    let c = candidate("gemm-512", 3);
    let legal = legal_edits(&c);
    // Two tile edits of the same axis and level: the second is legal on the
    // candidate; after the first it may or may not be — find a pair whose
    // combination is illegal.
    let pair = legal.iter().enumerate().find_map(|(i, a)| {
        let after = a.apply(&c).ok()?;
        legal[i + 1..].iter().find(|b| b.apply(&after).is_err()).map(|b| (a.clone(), b.clone()))
    });
    let Some((a, b)) = pair else { return };
    let answer = format!("{{\"edits\": [{},{}], \"next_model\": \"gemma-3-1b\"}}", edit_json(&a), edit_json(&b));
    let mut action = parse_answer(&answer, &legal, &roster);
    let applied = action.apply(&c).unwrap();
    assert_eq!(applied.edits, vec![a]);
    assert!(matches!(action.problems.as_slice(), [AnswerProblem::Inapplicable { .. }]));
    let record = action.call_record(10, 0.5, false);
    assert_eq!(
        record,
        CallRecord { tokens: 10, seconds: 0.5, illegal_edits: 1, missing_next_model: false, failed: false }
    );
}

/// Prompt sizes on the suite; the budget is 1500 tokens at 4 characters a
/// token, system part included. `cargo run --release -p colt-policy
/// --example prompt_sizes` prints the figures.
#[test]
fn prompts_stay_short_on_every_workload() {
    let roster = Arc::new(roster());
    let stats = ModelStats::new(roster.clone());
    for w in colt_ir::SUITE {
        let grandparent = candidate(w.name, 1);
        let legal_gp = legal_edits(&grandparent);
        let parent = legal_gp[legal_gp.len() / 2].apply(&grandparent).unwrap();
        let legal_p = legal_edits(&parent);
        let current = legal_p[legal_p.len() / 3].apply(&parent).unwrap();
        let legal = legal_edits(&current);
        let view = ExpansionView {
            current: Shown { candidate: &current, scores: Scores { predicted: Some(0.4), measured: None } },
            parent: Some(Shown { candidate: &parent, scores: Scores { predicted: Some(0.5), measured: Some(0.45) } }),
            grandparent: Some(Shown {
                candidate: &grandparent,
                scores: Scores { predicted: None, measured: Some(0.3) },
            }),
            legal: &legal,
            list_legal: true,
            stats: &stats,
            progress: SearchProgress {
                trials: 12,
                trial_budget: 64,
                best_latency: Some(0.0123),
                stalled_expansions: 3,
            },
            history: "",
            reading: None,
        };
        let user = expansion_prompt(&view);
        let chars = system_prompt(Target::Cpu).len() + user.len();
        assert!(chars < 6000, "{}: {chars} characters\n{user}", w.name);
        assert!(user.contains("legal edits:") && user.contains("parent [measured 0.45]"), "{user}");
        // What is the same for every call of a round comes first; the
        // reading follows the candidate, the models' standing comes last.
        let with_history = ExpansionView {
            history: "measured effect of edits: tile C 2x +10%\n",
            reading: Some("compute-bound"),
            ..view
        };
        let user = expansion_prompt(&with_history);
        assert!(user.starts_with("measured effect of edits: tile C 2x +10%\nprogram "), "{user}");
        let (current, reading, legal, models) = (
            user.find("current [").unwrap(),
            user.find("cost model's reading of current: compute-bound\n").unwrap(),
            user.find("legal edits:").unwrap(),
            user.find("models (params").unwrap(),
        );
        assert!(current < reading && reading < legal && legal < models, "{user}");
        // Without the list, the grammar alone says what is legal: no value
        // set is shown and the prompt is shorter by the whole list.
        let unlisted = expansion_prompt(&ExpansionView { list_legal: false, ..with_history });
        let list = legal_edits_text(with_history.current.candidate, with_history.legal);
        assert!(!unlisted.contains("∈{") && user.contains(&list), "{unlisted}");
        assert!(unlisted.len() + list.len() - 80 < user.len(), "{unlisted}");
        assert!(unlisted.contains("only legal ones"), "{unlisted}");
    }
}

/// An admitted answer: the edits of the grammar's literals at `picks`
/// (indices into all of them) and the model at `model`.
fn admitted_answer(grammar: &str, picks: &[usize], model: usize) -> String {
    let mut literals = Vec::new();
    for rule in grammar.lines().filter(|l| l.starts_with("edit-")) {
        literals.extend(literals_of(grammar, rule.split(' ').next().unwrap()));
    }
    let edits: Vec<&str> = picks.iter().map(|p| literals[p % literals.len()].as_str()).collect();
    let models = literals_of(grammar, "model");
    format!("{{\"edits\": [{}], \"next_model\": {}}}", edits.join(","), models[model % models.len()])
}

#[test]
fn the_forced_text_is_empty_where_the_answer_has_a_choice_or_went_astray() {
    let roster = roster();
    let c = candidate("gemm-512", 3);
    let legal = legal_edits(&c);
    let shape = AnswerShape::new(&legal, &roster);
    // Before any choice: the opening and the quote every edit starts with.
    assert!(shape.forced("").starts_with("{\"edits\": [\""), "{}", shape.forced(""));
    assert_eq!(shape.forced("{\"ed"), shape.forced("")[4..]);
    // After a whole edit: `,` or `]` is the model's choice.
    let one = format!("{{\"edits\": [{}", edit_json(&legal[0]));
    assert_eq!(shape.forced(&one), "");
    // After `]`: the closing, then the models' shared start (none: two names).
    assert_eq!(shape.forced(&format!("{one}]")), ", \"next_model\": \"");
    // Text the grammar does not admit forces nothing.
    for astray in ["[", "{\"edits\": [\"swizzle", "{\"edits\": [1", &format!("{one};")] {
        assert_eq!(shape.forced(astray), "", "{astray}");
    }
    // With one model, its name is forced as soon as the edits are closed.
    let alone = Roster::new(vec![ModelSpec::new("qwen3-8b", 8_000_000_000)]).unwrap();
    let shape = AnswerShape::new(&legal, &alone);
    assert_eq!(shape.forced(&format!("{one}]")), ", \"next_model\": \"qwen3-8b\"}");
}

proptest::proptest! {
    /// For any answer the grammar admits, the text forced after each of its
    /// prefixes is how the answer goes on, nothing is forced after the
    /// whole answer, and most of the answer is forced: the model chooses
    /// only where edits, values or models differ.
    #[test]
    fn the_forced_text_after_any_prefix_of_an_admitted_answer_is_how_it_goes_on(
        workload in 0..colt_ir::SUITE.len(),
        seed in 0u64..1000,
        picks in proptest::collection::vec(0usize..10_000, 1..=3),
        model in 0usize..2,
    ) {
        let roster = roster();
        let c = candidate(colt_ir::SUITE[workload].name, seed);
        let legal = legal_edits(&c);
        let shape = AnswerShape::new(&legal, &roster);
        let answer = admitted_answer(&answer_grammar(&legal, &roster), &picks, model);
        for (i, _) in answer.char_indices() {
            let forced = shape.forced(&answer[..i]);
            proptest::prop_assert!(answer[i..].starts_with(&forced), "after {:?}: {:?}", &answer[..i], forced);
        }
        proptest::prop_assert_eq!(shape.forced(&answer), "");
        // A model that writes one character at each choice and gets the rest forced.
        let (mut at, mut chosen) = (0, 0);
        while at < answer.len() {
            at += shape.forced(&answer[..at]).len();
            if at < answer.len() {
                at += answer[at..].chars().next().unwrap().len_utf8();
                chosen += 1;
            }
        }
        proptest::prop_assert!(4 * chosen < answer.len(), "{chosen} of {} characters chosen: {answer}", answer.len());
    }

    /// Any text, and any text inside an answer's edit list, is read
    /// without panicking, and what comes out is legal or counted.
    #[test]
    fn any_answer_text_is_read_without_panicking(text in ".{0,200}", inner in "[a-z_(=\\\\\"0-9, \\[\\]]{0,80}") {
        let roster = roster();
        let c = candidate("gemm-512", 3);
        let legal = legal_edits(&c);
        for answer in [text.clone(), format!("{{\"edits\": [\"{inner}\"], \"next_model\": \"{text}\"}}")] {
            let action = parse_answer(&answer, &legal, &roster);
            proptest::prop_assert!(action.edits.iter().all(|e| legal.contains(e)));
            proptest::prop_assert!(action.next_model.is_some() || action.problems.iter().any(AnswerProblem::is_routing_error));
        }
    }
}
