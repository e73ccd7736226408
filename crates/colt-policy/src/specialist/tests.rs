use super::*;
use crate::protocol::parse_answer;
use crate::{ModelSpec, Roster};
use colt_ir::schedule::{legal_edits, Machine, Sampler, Target};
use colt_ir::{Size, SUITE};
use colt_tree::ModelId;
use std::sync::Arc;

fn xeon() -> MachineView {
    MachineView { lanes: 16, registers: 32, cores: 2, caches_kib: vec![48, 2048, 107_520] }
}

fn roster() -> Roster {
    Roster::new(vec![
        ModelSpec::new("qwen-0.5b", 500_000_000),
        ModelSpec::new("colt-specialist", 1_000_000),
        ModelSpec::new("qwen-1.5b", 1_500_000_000),
    ])
    .unwrap()
}

/// Candidates of every suite workload, uniform and informed.
fn candidates() -> Vec<Candidate> {
    let informed = Sampler::Informed(Machine { lanes: 16, registers: 32, cores: 2 });
    let mut out = Vec::new();
    for w in SUITE {
        let program = Arc::new(w.program(Size::Bench));
        for seed in 0..6 {
            out.push(Candidate::sample(program.clone(), seed));
            out.push(informed.sample(program.clone(), Target::Cpu, seed));
        }
    }
    out
}

#[test]
fn the_vocabulary_spells_each_token_once_after_llamas_special_tokens() {
    let v = Vocabulary::new();
    assert_eq!(&v.tokens()[..3], ["<unk>", "<s>", "</s>"]);
    let mut seen = std::collections::HashSet::new();
    assert!(v.tokens().iter().all(|t| seen.insert(t)), "a token is spelled twice");
    for (i, t) in v.tokens().iter().enumerate() {
        assert_eq!(v.id(t), Some(i as TokenId));
    }
    assert!(v.len() < 512, "{} tokens", v.len());
}

#[test]
fn numbers_are_one_token_up_to_256_and_digits_above() {
    let v = Vocabulary::new();
    let spell = |text: &str| v.render(&v.encode(text));
    assert_eq!(spell("factors=[1,8,256]"), "factors = [ 1 , 8 , 256 ]");
    assert_eq!(spell("h1792=[224]"), "h #1 #7 #9 #2 = [ 224 ]");
    // Powers of two, the commonest extents and depths, are one token too.
    assert_eq!(spell("unroll=512 k=16384 n=65536 m=131072"), "unroll = 512 k = 16384 n = 65536 m = #1 #3 #1 #0 #7 #2");
    assert_eq!(spell("007"), "#0 #0 #7");
    assert_eq!(spell("257 0"), "#2 #5 #7 0");
    // Words the vocabulary has are one token; names are spelled by letters.
    assert_eq!(spell("tile(stage=\"QK\", axis=\"h\")"), "tile ( stage = Q K , axis = h )");
    assert_eq!(spell("at=P.h0\nacc=registers"), "at = P . h 0 <nl> acc = registers");
    assert_eq!(spell("x é y"), "x <unk> y");
}

#[test]
fn every_prompt_of_the_suite_is_in_the_vocabulary_and_fits_a_short_context() {
    let v = Vocabulary::new();
    let mut longest = 0;
    for c in candidates() {
        let tokens = prompt(&v, &xeon(), &c);
        assert!(!tokens.contains(&0), "{}: {}", c.program().name(), v.render(&tokens));
        assert_eq!(tokens.first(), Some(&v.marker("<s>")));
        assert_eq!(tokens.last(), Some(&v.marker("<answer>")));
        // The prefix is the job's: the same for every candidate of a program.
        let prefix = prompt_prefix(&v, &xeon(), c.program());
        assert_eq!(&tokens[..prefix.len()], &prefix[..]);
        assert!(!v.render(&prefix).contains(c.program().name()), "the program's name is not shown");
        longest = longest.max(tokens.len());
    }
    assert!(longest <= 768, "the longest prompt is {longest} tokens");
}

#[test]
fn every_legal_edit_of_the_suite_is_spelled_apart() {
    let v = Vocabulary::new();
    for c in candidates() {
        let legal = legal_edits(&c);
        let constraint = AnswerConstraint::new(&v, &legal, &roster(), ModelId(1));
        assert_eq!(constraint.edits().len(), legal.len(), "{}", c.program().name());
        for edit in &legal {
            assert!(!v.encode(&edit.to_string()).contains(&0), "{edit}");
        }
    }
}

#[test]
fn every_answer_the_mask_allows_is_a_legal_joint_action() {
    let v = Vocabulary::new();
    let roster = roster();
    let mut state = 0x1234_5678u64;
    let mut pick = |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % n
    };
    let mut answers = 0;
    for c in candidates().into_iter().step_by(3) {
        let legal = legal_edits(&c);
        if legal.is_empty() {
            continue;
        }
        let constraint = AnswerConstraint::new(&v, &legal, &roster, ModelId(1));
        for _ in 0..4 {
            let mut answer = Vec::new();
            loop {
                let allowed = constraint.allowed(&answer);
                if allowed.is_empty() {
                    break;
                }
                answer.push(allowed[pick(allowed.len())]);
            }
            let (edits, next) = constraint.read(&answer).expect("a walk of allowed tokens ends in a complete answer");
            assert!((1..=3).contains(&edits.len()));
            let json = constraint.answer_json(&answer).unwrap();
            let action = parse_answer(&json, &legal, &roster);
            assert_eq!(action.next_model, Some(next), "{json}");
            let named: Vec<&colt_ir::schedule::Edit> = edits.iter().map(|&k| &constraint.edits()[k]).collect();
            assert_eq!(action.edits.iter().collect::<Vec<_>>(), named[..action.edits.len()], "{json}");
            // Only an edit that a previous one of the answer made inapplicable may be dropped.
            assert!(action.problems.iter().all(|p| matches!(p, crate::protocol::AnswerProblem::Inapplicable { .. })));
            // The answer is its own training target.
            assert_eq!(constraint.encode(&edits, next), Some(answer.clone()));
            answers += 1;
        }
    }
    assert!(answers > 30, "{answers}");
}

#[test]
fn the_asker_is_model_zero_and_nothing_outside_the_answers_is_allowed() {
    let v = Vocabulary::new();
    let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(Size::Bench));
    let c = Candidate::sample(program, 3);
    let legal = legal_edits(&c);
    let roster = roster();
    let constraint = AnswerConstraint::new(&v, &legal, &roster, ModelId(1));
    let answer = constraint.encode(&[0], ModelId(1)).unwrap();
    assert!(v.render(&answer).ends_with("<next> <model0> </s>"), "{}", v.render(&answer));
    let others = constraint.encode(&[0], ModelId(2)).unwrap();
    assert!(v.render(&others).ends_with("<next> <model2> </s>"));
    assert_eq!(constraint.read(&others), Some((vec![0], ModelId(2))));
    // Three models: <model0..2> after <next>, no more.
    let at_next = &answer[..answer.len() - 2];
    assert_eq!(constraint.allowed(at_next).len(), 3);
    // A token no legal answer has there ends the walk.
    let mut wrong = answer[..3].to_vec();
    wrong.push(v.marker("<answer>"));
    assert!(constraint.allowed(&wrong).is_empty());
    assert_eq!(constraint.read(&wrong), None);
    assert_eq!(constraint.encode(&[0, 0], ModelId(1)), None, "an edit twice");
    assert_eq!(constraint.encode(&[], ModelId(1)), None);
}

#[test]
fn the_machine_view_reads_the_cache_sizes_of_measured_limits() {
    let json = r#"{"label": "cpu:X", "cores": 2, "levels": [{"name": "L1d", "bytes": 98304, "read_bytes_per_s": 1e12},
        {"name": "L2", "bytes": 4194304, "read_bytes_per_s": 5e11}, {"name": "memory", "bytes": null, "read_bytes_per_s": 2e10}]}"#;
    assert_eq!(cache_bytes(json), [98_304, 4_194_304]);
    assert!(cache_bytes("not json").is_empty());
    let view = MachineView::of(Machine { lanes: 16, registers: 32, cores: 2 }, &cache_bytes(json));
    assert_eq!(view.caches_kib, [96, 4096]);
    let tokens = prompt_prefix(&Vocabulary::new(), &view, &colt_ir::builtin("gemm-512").unwrap().program(Size::Bench));
    assert!(Vocabulary::new().render(&tokens).contains("caches 96 , 4096 kib"));
}
