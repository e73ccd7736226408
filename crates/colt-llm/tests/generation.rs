//! Grammar-constrained generation, prefix reuse and accounting on the real
//! default models.

mod common;

use colt_llm::{ChatPrompt, Continuation, Generation, GenerationError, Grammar, Model, StopReason};

/// A bounded grammar shaped like colt's joint actions: at most three edits
/// and a model name. Its longest sentence is 71 characters, so 80 tokens
/// always suffice to finish it.
const ACTION_GRAMMAR: &str = r#"
root  ::= "{\"edits\": [" (edit ("," edit){0,2})? "], \"next_model\": \"" model "\"}"
edit  ::= "\"" ("tile" | "unroll" | "vectorize" | "parallel") "\""
model ::= "small" | "large"
"#;
const MAX_TOKENS: u32 = 80;
const SYSTEM: &str = "You tune loop nests. Answer with JSON: the edits to apply and the model to call next.";

fn action(seed: u32) -> Generation {
    Generation::new(MAX_TOKENS).temperature(1.0).seed(seed).grammar(Grammar::gbnf(ACTION_GRAMMAR))
}

/// Parses an answer of ACTION_GRAMMAR and checks its shape.
fn check_action(text: &str) {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let edits = value["edits"].as_array().unwrap_or_else(|| panic!("no edits: {text}"));
    assert!(edits.len() <= 3, "{text}");
    assert!(edits.iter().all(|e| ["tile", "unroll", "vectorize", "parallel"].contains(&e.as_str().unwrap())));
    assert!(["small", "large"].contains(&value["next_model"].as_str().unwrap()), "{text}");
}

#[test]
fn grammar_constrained_answers_parse_for_20_seeds() {
    let model = common::small_model();
    let mut session = model.session(common::options()).unwrap();
    let requests = ["Speed up a 512x512 matmul.", "The last edit was slower.", "Make the inner loop vector friendly."];
    for seed in 0..20 {
        let prompt = ChatPrompt::new(SYSTEM, requests[seed as usize % requests.len()]);
        let answer = session.chat(&prompt, &action(seed)).unwrap();
        assert_eq!(answer.stop, StopReason::EndOfGeneration, "seed {seed}: {}", answer.text);
        check_action(&answer.text);
        assert!(answer.stats.generated_tokens > 0 && answer.stats.generated_tokens <= MAX_TOKENS as usize);
    }
}

#[test]
fn grammar_constrained_answers_parse_on_the_large_model() {
    let model = common::large_model();
    let mut session = model.session(common::options()).unwrap();
    for seed in 0..3 {
        let answer = session.chat(&ChatPrompt::new(SYSTEM, "Speed up a matmul."), &action(seed)).unwrap();
        assert_eq!(answer.stop, StopReason::EndOfGeneration, "seed {seed}: {}", answer.text);
        check_action(&answer.text);
    }
}

#[test]
fn several_answers_decode_side_by_side_from_one_prompt_and_leave_the_session_consistent() {
    let model = common::small_model();
    let mut session = model.session(common::options().sequences(4)).unwrap();
    let prompt = ChatPrompt::new(SYSTEM, "Speed up a 512x512 matmul.");
    let answers = session.chat_n(&prompt, &action(3), 4).unwrap();
    assert_eq!(answers.len(), 4);
    for answer in &answers {
        assert_eq!(answer.stop, StopReason::EndOfGeneration, "{}", answer.text);
        check_action(&answer.text);
        assert!(answer.stats.generated_tokens > 0 && answer.stats.generated_tokens <= MAX_TOKENS as usize);
        assert_eq!(answer.stats.prompt_tokens, answers[0].stats.prompt_tokens);
    }
    let distinct: std::collections::HashSet<&str> = answers.iter().map(|a| a.text.as_str()).collect();
    assert!(distinct.len() > 1, "four seeds gave one answer: {}", answers[0].text);
    // More than the session's sequences are capped, not an error.
    assert_eq!(session.chat_n(&prompt, &action(9), 99).unwrap().len(), 4);
    // The KV state left behind is the prompt's and the first answer's: a
    // call after it reuses the system message and answers as a cold one.
    let next = ChatPrompt::new(SYSTEM, "Tiling made it slower; try something else.");
    let reused = session.chat(&next, &action(5)).unwrap();
    let fresh = model.session(common::options().reuse_prefix(false)).unwrap().chat(&next, &action(5)).unwrap();
    assert_eq!(reused.text, fresh.text);
    assert!(reused.stats.reused_prompt_tokens > 0, "{:?}", reused.stats);
    // Every answer needs its own cells: too many for the context is refused.
    let long = Generation::new(400);
    let e = session.chat_n(&prompt, &long, 4).unwrap_err();
    assert!(matches!(e, GenerationError::ContextOverflow { .. }), "{e}");
}

fn reuse_matches_a_cold_call(model: &Model, seeds: std::ops::Range<u32>) {
    let mut warm = model.session(common::options()).unwrap();
    let mut cold = model.session(common::options().reuse_prefix(false)).unwrap();
    for seed in seeds {
        let first = warm.chat(&ChatPrompt::new(SYSTEM, "Speed up a 512x512 matmul."), &action(seed)).unwrap();
        let prompt = ChatPrompt::new(SYSTEM, "Tiling made it slower; try something else.");
        let reused = warm.chat(&prompt, &action(seed)).unwrap();
        let fresh = cold.chat(&prompt, &action(seed)).unwrap();
        assert_eq!(reused.text, fresh.text, "seed {seed}");
        assert_eq!(reused.stop, fresh.stop);
        // The system message's tokens were reused; the cold session reused none.
        let system_tokens = model.format(&ChatPrompt::new(SYSTEM, "")).unwrap().len() / 8;
        assert!(reused.stats.reused_prompt_tokens >= system_tokens, "{:?} vs {:?}", reused.stats, first.stats);
        assert_eq!(reused.stats.prompt_tokens, fresh.stats.prompt_tokens);
        assert_eq!(fresh.stats.reused_prompt_tokens, 0);
    }
}

/// A system message of several prompt batches, and requests that share
/// their first words: reuse must still give the cold answer when the cached
/// prefix and the batches do not line up.
#[test]
fn prefix_reuse_across_batches_gives_the_cold_answer() {
    let system = format!("{SYSTEM} Legal edits: {}", "split loop i by 4, unroll loop j, vectorize loop k; ".repeat(6));
    for model in [common::small_model(), common::large_model()] {
        let options = common::options().batch_tokens(48);
        let mut warm = model.session(options.clone()).unwrap();
        let mut cold = model.session(options.reuse_prefix(false)).unwrap();
        for (seed, user) in
            ["Speed up the matmul.", "Speed up the matmul again.", "Speed up the attention."].iter().enumerate()
        {
            let prompt = ChatPrompt::new(&system, *user);
            let generation = Generation::new(12).temperature(1.0).seed(seed as u32);
            let reused = warm.chat(&prompt, &generation).unwrap();
            let fresh = cold.chat(&prompt, &generation).unwrap();
            assert_eq!(reused.text, fresh.text, "{} seed {seed}", model.info().name);
            assert!(seed == 0 || reused.stats.reused_prompt_tokens > 0);
        }
    }
}

#[test]
fn prefix_reuse_gives_the_cold_answer_on_the_small_model() {
    reuse_matches_a_cold_call(common::small_model(), 0..4);
}

#[test]
fn prefix_reuse_gives_the_cold_answer_on_the_large_model() {
    // Gemma 3 has sliding-window layers: this checks that cutting the cache
    // keeps them right too.
    reuse_matches_a_cold_call(common::large_model(), 0..2);
}

#[test]
fn same_prompt_twice_reuses_the_system_message_and_answers_the_same() {
    let mut session = common::small_model().session(common::options()).unwrap();
    let prompt = ChatPrompt::new(SYSTEM, "Speed up a matmul.");
    let a = session.chat(&prompt, &action(5)).unwrap();
    let b = session.chat(&prompt, &action(5)).unwrap();
    assert_eq!(a.text, b.text);
    assert_eq!(a.stats.reused_prompt_tokens, 0);
    assert!(b.stats.reused_prompt_tokens > 10 && b.stats.reused_prompt_tokens < b.stats.prompt_tokens, "{:?}", b.stats);
}

#[test]
fn accounting_counts_tokens_and_time() {
    let mut session = common::small_model().session(common::options()).unwrap();
    let answer = session.chat(&ChatPrompt::new(SYSTEM, "Speed up a matmul."), &Generation::new(6).seed(1)).unwrap();
    let s = answer.stats;
    assert!(s.prompt_tokens > 10, "{s:?}");
    assert!(s.generated_tokens <= 6, "{s:?}");
    assert_eq!(answer.stop == StopReason::TokenLimit, s.generated_tokens == 6, "{s:?}");
    assert!(s.prompt_seconds > 0.0 && s.generation_seconds > 0.0 && s.paused_seconds == 0.0, "{s:?}");
}

#[test]
fn the_token_limit_stops_generation() {
    let mut session = common::small_model().session(common::options()).unwrap();
    let endless = Grammar::gbnf(r#"root ::= "a" root | "a""#);
    let answer = session.complete("Say a:", &Generation::new(5).grammar(endless)).unwrap();
    assert_eq!(answer.stop, StopReason::TokenLimit);
    assert_eq!(answer.stats.generated_tokens, 5);
    assert!(answer.text.chars().all(|c| c == 'a') && !answer.text.is_empty(), "{}", answer.text);
}

#[test]
fn a_bad_grammar_is_an_error_and_the_session_goes_on() {
    let model = common::small_model();
    let mut session = model.session(common::options()).unwrap();
    for bad in ["root ::= undefined-rule", "root ::= \"unterminated", "root ::= root \"a\"", "not a grammar"] {
        let err = session.complete("Hi", &Generation::new(4).grammar(Grammar::gbnf(bad))).unwrap_err();
        assert!(matches!(err, GenerationError::Grammar { .. }), "{bad}: {err}");
        assert!(model.check_grammar(&Grammar::gbnf(bad)).is_err());
    }
    let err = session.complete("Hi", &Generation::new(4).grammar(Grammar::gbnf("x ::= \"a\""))).unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
    let answer = session.chat(&ChatPrompt::new(SYSTEM, "Go."), &action(0)).unwrap();
    check_action(&answer.text);
}

#[test]
fn a_prompt_that_does_not_fit_is_an_error() {
    let mut session = common::small_model().session(common::options().context_tokens(64)).unwrap();
    let long = "word ".repeat(100);
    let err = session.complete(&long, &Generation::new(4)).unwrap_err();
    assert!(matches!(err, GenerationError::ContextOverflow { context_tokens: 64, .. }), "{err}");
    assert!(session.complete("Hi", &Generation::new(2)).is_ok());
}

/// A finite language's forced text: what all its sentences that start
/// with the answer share after it.
struct Sentences(Vec<String>);

impl Continuation for Sentences {
    fn forced(&self, answer: &str) -> String {
        let mut open = self.0.iter().filter_map(|s| s.strip_prefix(answer));
        let Some(first) = open.next() else { return String::new() };
        let shared =
            open.fold(first.len(), |n, s| first.bytes().zip(s.bytes()).take(n).take_while(|(a, b)| a == b).count());
        first[..shared].to_string()
    }
}

/// Answers that choose once and are otherwise fixed.
fn choice_sentences() -> (String, Vec<String>) {
    let tail = " is the loop to split first, then the inner one is vectorised";
    let sentences: Vec<String> =
        ["outer", "middle", "inner"].iter().map(|w| format!("{{\"pick\": \"the {w}{tail}\"}}")).collect();
    let grammar =
        format!("root ::= \"{{\\\"pick\\\": \\\"the \" (\"outer\" | \"middle\" | \"inner\") \"{tail}\\\"}}\"\n");
    (grammar, sentences)
}

#[test]
fn forced_text_is_decoded_without_sampling_and_the_answer_is_still_the_grammars() {
    let model = common::small_model();
    let (grammar, sentences) = choice_sentences();
    let forced: std::sync::Arc<dyn Continuation> = std::sync::Arc::new(Sentences(sentences.clone()));
    let prompt = ChatPrompt::new(SYSTEM, "Which loop of a 512x512 matmul do you split first?");
    let generation = |seed| Generation::new(MAX_TOKENS).seed(seed).grammar(Grammar::gbnf(grammar.clone()));
    let mut session = model.session(common::options().sequences(3)).unwrap();
    let plain = session.chat(&prompt, &generation(1)).unwrap();
    assert!(sentences.contains(&plain.text), "{}", plain.text);
    assert_eq!(plain.stats.forced_tokens, 0);
    for n in [1, 3] {
        let answers = session.chat_n(&prompt, &generation(1).forced(forced.clone()), n).unwrap();
        assert_eq!(answers.len(), n);
        for answer in &answers {
            assert!(sentences.contains(&answer.text), "{}", answer.text);
            assert_eq!(answer.stop, StopReason::EndOfGeneration);
            // The opening `{"pick": "the ` went with the prompt; after the
            // word chosen, the tail was forced in one batch.
            assert!(answer.stats.prompt_tokens > plain.stats.prompt_tokens, "{:?}", answer.stats);
            assert!(answer.stats.forced_tokens >= 8, "{:?}", answer.stats);
            // Only the choice was sampled.
            assert!(answer.stats.generated_tokens - answer.stats.forced_tokens <= 2, "{:?}", answer.stats);
        }
    }
    // Text the grammar does not admit is not decoded: the answer is sampled.
    struct Astray;
    impl Continuation for Astray {
        fn forced(&self, _: &str) -> String {
            "zzz".to_string()
        }
    }
    let astray = session.chat(&prompt, &generation(1).forced(std::sync::Arc::new(Astray))).unwrap();
    assert_eq!(astray.text, plain.text);
    assert_eq!(astray.stats.forced_tokens, 0);
    assert_eq!(astray.stats.prompt_tokens, plain.stats.prompt_tokens);
}
