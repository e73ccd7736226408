//! The fixed system part of every prompt.
//!
//! It holds nothing that changes between calls — no workload, no model
//! names, no numbers of the search — so a model's KV cache of it is reused
//! by every call of a job and of every later job (colt-llm keeps the longest
//! common prefix). Everything job-specific is in the user part.
//!
//! The edit syntax it teaches is not written here: it is colt-ir's
//! [`edit_syntax`], generated from the same table of edit kinds that the
//! parser and the legal-edit enumeration read, and the escaped example is
//! an [`Edit`] printed by [`edit_json`]. This file holds what only a prompt
//! says: the task, how to read the decisions on each target, the answer
//! format and the advice.

use super::grammar::{edit_json, MAX_EDITS};
use colt_ir::schedule::{edit_syntax, Edit, Target};
use std::fmt::Write;
use std::sync::OnceLock;

/// The task on the CPU and what its decisions are.
const CPU_TASK: &str = r#"You tune the schedule of a tensor program for speed on a CPU. A schedule sets, per stage: tile factors per loop level (spatial axes [outer,middle,register], reduction axes [block]), where the stage is computed (root or inside a loop of a consumer), how many outer loops run in parallel, vector lanes, unroll depth, where sums accumulate, and which operands are first copied into a packed or blocked layout."#;

/// The task on OpenCL: the same decisions, read for a GPU.
const OPENCL_TASK: &str = r#"You tune the schedule of a tensor program for speed on a GPU (OpenCL). Each root stage is one kernel. A schedule sets, per stage: tile factors per spatial axis [work-items per group, steps per work-item, register tile] (a work-group covers their product; the work-group size is the product of the first factors, at most 256) and per reduction axis [block: the step in which operands staged in local memory are refreshed], where the stage is computed (root, or inside a consumer's kernel at its work-group loop), vector lanes (float2/4/8), unroll depth, where sums accumulate, and which operands each work-group first copies into local memory."#;

/// What the user part shows (the same on every target).
const WHAT_IS_SHOWN: &str = r#"You see the current candidate (its decisions, one line per stage, and the cost model's reading of it), its parent and grandparent (their differing decisions), scores (predicted or measured throughput relative to the best known, 1 = best), the legal edits grouped by stage, the models of this search with their statistics, and the search progress."#;

const CPU_ADVICE: &str = r#"Prefer edits that raise arithmetic intensity (register tiles, blocking for cache), use all vector lanes and split work evenly across cores."#;

const OPENCL_ADVICE: &str = r#"Prefer edits that give enough work-groups and 64 to 256 work-items each, reuse operands through local memory and register tiles, and read memory contiguously."#;

/// The system prompt of a target's schedule space: the task, the edit
/// syntax and the answer format. Built once per target, so every call of a
/// process sends the same text.
pub fn system_prompt(target: Target) -> &'static str {
    static CPU: OnceLock<String> = OnceLock::new();
    static OPENCL: OnceLock<String> = OnceLock::new();
    let cell = match target {
        Target::Cpu => &CPU,
        Target::OpenCl => &OPENCL,
    };
    cell.get_or_init(|| build(target))
}

fn build(target: Target) -> String {
    // The escaped example is a tile a model might propose on the target.
    let (task, factors, advice) = match target {
        Target::Cpu => (CPU_TASK, vec![1, 4, 16], CPU_ADVICE),
        Target::OpenCl => (OPENCL_TASK, vec![16, 1, 4], OPENCL_ADVICE),
    };
    let example = edit_json(&Edit::Tile { stage: "C".into(), axis: "j".into(), factors });
    let mut out = String::new();
    let _ = writeln!(out, "{task}");
    let _ = writeln!(out, "{WHAT_IS_SHOWN}");
    out.push_str("Answer with one JSON object and nothing else: {\"edits\": [...], \"next_model\": \"...\"}.\n");
    let _ = writeln!(out, "- \"edits\": 1 to {MAX_EDITS} edits, applied in order, each a string in this syntax:");
    out.push_str(&edit_syntax(target));
    let _ = writeln!(out, "  Use only listed values. Inside the JSON string, quotes are escaped: {example}.");
    out.push_str(
        "- \"next_model\": the model that should expand the result next: a cheap model for routine steps, a large one when progress stalls.\n",
    );
    out.push_str(advice);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB_WORDS: [&str; 8] = ["gemm", "attn", "conv", "moe", "mlp", "gemma", "qwen", "llama"];

    #[test]
    fn the_opencl_prompt_offers_no_cpu_decision() {
        let prompt = system_prompt(Target::OpenCl);
        assert!(!prompt.contains("parallel(") && !prompt.contains("\"packed\""));
        assert!(prompt.contains(r#"layout="local""#));
        for word in JOB_WORDS {
            assert!(!prompt.to_lowercase().contains(word), "{word}");
        }
    }

    #[test]
    fn the_system_part_names_nothing_job_specific() {
        // Stage, axis and operand names in the examples are generic; no
        // workload or model name, no number from a search.
        for word in JOB_WORDS {
            assert!(!system_prompt(Target::Cpu).to_lowercase().contains(word), "{word}");
        }
    }

    #[test]
    fn the_syntax_is_colt_irs_and_the_example_is_an_edit() {
        for target in [Target::Cpu, Target::OpenCl] {
            let prompt = system_prompt(target);
            assert!(prompt.contains(&edit_syntax(target)), "{prompt}");
            // The escaped example, read back as the answer's JSON string, is an edit.
            let (_, rest) = prompt.split_once("quotes are escaped: ").unwrap();
            let json = rest.split_once(".\n").unwrap().0;
            let text: String = serde_json::from_str(json).unwrap();
            Edit::parse(&text).unwrap();
            // One text per process, so its KV state is reusable.
            assert!(std::ptr::eq(prompt, system_prompt(target)));
        }
    }
}
