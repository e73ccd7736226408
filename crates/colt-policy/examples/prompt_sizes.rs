//! Prints the size of an expansion prompt and its grammar on each suite
//! workload: a candidate two edits from a random sample, with parent and
//! grandparent, three models, at bench size.
//!
//! `CARGO_TARGET_DIR=/tmp/target-policy cargo run --release -p colt-policy --example prompt_sizes [-- --show WORKLOAD]`
//!
//! Tokens are approximated as characters / 4 (no tokenizer here: colt-llm
//! counts real tokens per model).

use colt_ir::schedule::{legal_edits, Candidate, Target};
use colt_policy::protocol::{
    answer_grammar, expansion_prompt, system_prompt, ExpansionView, Scores, SearchProgress, Shown,
};
use colt_policy::{ModelSpec, ModelStats, Roster};
use std::sync::Arc;

fn main() {
    let show = std::env::args().skip_while(|a| a != "--show").nth(1);
    let roster = Arc::new(
        Roster::new(vec![
            ModelSpec::new("gemma-3-1b", 1_000_000_000),
            ModelSpec::new("qwen3-4b", 4_000_000_000),
            ModelSpec::new("qwen3-14b", 14_000_000_000),
        ])
        .expect("three distinct names with parameters"),
    );
    let stats = ModelStats::new(roster.clone());
    let system = system_prompt(Target::Cpu);
    println!("system part: {} chars, ~{} tokens (reused across calls)", system.len(), system.len() / 4);
    println!(
        "{:<18} {:>6} {:>11} {:>11} {:>11} {:>13}",
        "workload", "legal", "user chars", "user ~tok", "total ~tok", "grammar chars"
    );
    for w in colt_ir::SUITE {
        let program = Arc::new(w.program(colt_ir::Size::Bench));
        let grandparent = Candidate::sample(program, 1);
        let gp_edits = legal_edits(&grandparent);
        let parent = gp_edits[gp_edits.len() / 2].apply(&grandparent).expect("a legal edit applies");
        let p_edits = legal_edits(&parent);
        let current = p_edits[p_edits.len() / 3].apply(&parent).expect("a legal edit applies");
        let legal = legal_edits(&current);
        let view = ExpansionView {
            current: Shown { candidate: &current, scores: Scores { predicted: Some(0.41), measured: None } },
            parent: Some(Shown { candidate: &parent, scores: Scores { predicted: Some(0.52), measured: Some(0.47) } }),
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
        let grammar = answer_grammar(&legal, &roster);
        println!(
            "{:<18} {:>6} {:>11} {:>11} {:>11} {:>13}",
            w.name,
            legal.len(),
            user.len(),
            user.len() / 4,
            (user.len() + system.len()) / 4,
            grammar.len()
        );
        if show.as_deref() == Some(w.name) {
            println!("----- system -----\n{system}\n----- user -----\n{user}\n----- grammar -----\n{grammar}");
        }
    }
}
