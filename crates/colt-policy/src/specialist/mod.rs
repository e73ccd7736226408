//! The specialist's language: how colt's own model (colt-specialist's
//! GGUF) is prompted and how its answer is held to the legal joint actions.
//!
//! The general models read an English prompt and answer JSON under a GBNF
//! grammar. The specialist reads and writes colt's schedule language in a
//! vocabulary of its own ([`Vocabulary`]: the edit table's words, the
//! decision lines' and the program text's, numbers, punctuation, and
//! letters for names), with no chat template and no instructions:
//!
//! ```text
//! <s> <machine> lanes 16 registers 32 cores 2 caches 48 , 2048 , … kib
//!     <program> input X [ 64 , #1 #7 #9 #2 ] <nl> … G [ t , f ] += X [ t , h ] * Wg [ h , f ] …
//!     <node> sketch inline ( ) <nl> G : at = root tile t 64 = [ 1 , 8 , 8 ] …
//!     <answer> <edit> tile ( stage = G , axis = t , … ) <next> <model0> </s>
//! ```
//!
//! The machine and the program come first: they are the same for every
//! call of a job, so llama.cpp keeps their KV state between calls
//! (`colt_llm::Session::next_token_logits`). The answer is decoded token
//! by token with the logits masked to what [`AnswerConstraint::allowed`]
//! says may follow, so every answer is a legal joint action; it is then
//! read through the same parser as the general models' answers
//! ([`AnswerConstraint::answer_json`]).

mod answer;
mod vocabulary;

pub use answer::AnswerConstraint;
pub use vocabulary::{TokenId, Vocabulary, LARGEST_POWER_TOKEN, MAX_MODELS, WHOLE_NUMBERS};

use colt_ir::schedule::Candidate;
use colt_ir::Program;

/// What the specialist is told of the machine: what its schedule rules
/// depend on, so that one model can serve several machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineView {
    /// FP32 lanes of a vector register.
    pub lanes: usize,
    /// Vector registers.
    pub registers: usize,
    /// Cores the kernels run on.
    pub cores: usize,
    /// Each cache level's size in KiB, L1 first.
    pub caches_kib: Vec<u64>,
}

impl MachineView {
    /// The view of `machine` (the informed sampler's) with caches of
    /// `cache_bytes` (inner first; colt-measure's measured levels).
    pub fn of(machine: colt_ir::schedule::Machine, cache_bytes: &[u64]) -> MachineView {
        MachineView {
            lanes: machine.lanes,
            registers: machine.registers,
            cores: machine.cores,
            caches_kib: cache_bytes.iter().map(|b| b / 1024).collect(),
        }
    }
}

/// The cache sizes in bytes (inner first) of colt-measure's machine limits
/// as JSON (its `levels`; memory's has no size), read without depending on
/// colt-measure; empty when the JSON is not such limits.
pub fn cache_bytes(limits_json: &str) -> Vec<u64> {
    let limits: serde_json::Value = serde_json::from_str(limits_json).unwrap_or_default();
    let levels = limits.get("levels").and_then(|l| l.as_array()).cloned().unwrap_or_default();
    levels.iter().filter_map(|l| l.get("bytes")?.as_u64()).collect()
}

/// The job's fixed part of every prompt: `<s> <machine> … <program> …`.
pub fn prompt_prefix(vocabulary: &Vocabulary, machine: &MachineView, program: &Program) -> Vec<TokenId> {
    let mut out = vec![vocabulary.marker("<s>"), vocabulary.marker("<machine>")];
    // Commas: numbers spelled by digits would run together.
    let caches: Vec<String> = machine.caches_kib.iter().map(u64::to_string).collect();
    vocabulary.encode_into(
        &format!(
            "lanes {} registers {} cores {} caches {} kib",
            machine.lanes,
            machine.registers,
            machine.cores,
            caches.join(", ")
        ),
        &mut out,
    );
    out.push(vocabulary.marker("<program>"));
    vocabulary.encode_into(&program_text(program), &mut out);
    out
}

/// The whole prompt at a node: the prefix, the node's decisions and `<answer>`.
pub fn prompt(vocabulary: &Vocabulary, machine: &MachineView, candidate: &Candidate) -> Vec<TokenId> {
    let mut out = prompt_prefix(vocabulary, machine, candidate.program());
    out.push(vocabulary.marker("<node>"));
    vocabulary.encode_into(candidate.decisions_text().trim_end(), &mut out);
    out.push(vocabulary.marker("<answer>"));
    out
}

/// The program's buffers and statements without its name and size lines:
/// the specialist learns from what a program computes, never from what it
/// is called (the suite's workloads are held out of its corpus by name).
fn program_text(program: &Program) -> String {
    let text = colt_ir::print_program(program);
    let kept: Vec<&str> =
        text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("workload") && !l.starts_with("size")).collect();
    kept.join("\n")
}

#[cfg(test)]
mod tests;
