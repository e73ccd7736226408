//! The fixed system part of every prompt.
//!
//! It holds nothing that changes between calls — no workload, no model
//! names, no numbers of the search — so a model's KV cache of it is reused
//! by every call of a job and of every later job (colt-llm keeps the longest
//! common prefix). Everything job-specific is in the user part.

/// The system prompt: the task, the edit syntax and the answer format.
pub const SYSTEM_PROMPT: &str = r#"You tune the schedule of a tensor program for speed on a CPU. A schedule sets, per stage: tile factors per loop level (spatial axes [outer,middle,register], reduction axes [block]), where the stage is computed (root or inside a loop of a consumer), how many outer loops run in parallel, vector lanes, unroll depth, where sums accumulate, and which operands are first copied into a packed or blocked layout.
You see the current candidate (decisions and loop nest), its parent and grandparent (their differing decisions), scores (predicted or measured throughput relative to the best known, 1 = best), the legal edits grouped by stage, the models of this search with their statistics, and the search progress.
Answer with one JSON object and nothing else: {"edits": [...], "next_model": "..."}.
- "edits": 1 to 3 edits, applied in order, each a string in this syntax:
  tile(stage="S", axis="a", factors=[f1,f2,f3])   (fill the _ of a listed template with a listed value)
  unroll(stage="S", depth=N)   parallel(stage="S", loops=N)   vectorize(stage="S", lanes=N)
  accumulate(stage="S", into="registers")   compute_at(stage="S", at="root")
  pack(stage="S", operand="B", layout="packed")
  Use only listed values. Inside the JSON string, quotes are escaped: "tile(stage=\"C\", axis=\"j\", factors=[1,4,16])".
- "next_model": the model that should expand the result next: a cheap model for routine steps, a large one when progress stalls.
Prefer edits that raise arithmetic intensity (register tiles, blocking for cache), use all vector lanes and split work evenly across cores."#;

/// The system prompt of the OpenCL schedule space: the same answer format
/// and edit syntax, the decisions read for a GPU.
pub const OPENCL_SYSTEM_PROMPT: &str = r#"You tune the schedule of a tensor program for speed on a GPU (OpenCL). Each root stage is one kernel. A schedule sets, per stage: tile factors per spatial axis [work-items per group, steps per work-item, register tile] (a work-group covers their product; the work-group size is the product of the first factors, at most 256) and per reduction axis [block: the step in which operands staged in local memory are refreshed], where the stage is computed (root, or inside a consumer's kernel at its work-group loop), vector lanes (float2/4/8), unroll depth, where sums accumulate, and which operands each work-group first copies into local memory.
You see the current candidate (decisions and loop nest), its parent and grandparent (their differing decisions), scores (predicted or measured throughput relative to the best known, 1 = best), the legal edits grouped by stage, the models of this search with their statistics, and the search progress.
Answer with one JSON object and nothing else: {"edits": [...], "next_model": "..."}.
- "edits": 1 to 3 edits, applied in order, each a string in this syntax:
  tile(stage="S", axis="a", factors=[f1,f2,f3])   (fill the _ of a listed template with a listed value)
  unroll(stage="S", depth=N)   vectorize(stage="S", lanes=N)
  accumulate(stage="S", into="registers")   compute_at(stage="S", at="root")
  pack(stage="S", operand="B", layout="local")
  Use only listed values. Inside the JSON string, quotes are escaped: "tile(stage=\"C\", axis=\"j\", factors=[16,1,4])".
- "next_model": the model that should expand the result next: a cheap model for routine steps, a large one when progress stalls.
Prefer edits that give enough work-groups and 64 to 256 work-items each, reuse operands through local memory and register tiles, and read memory contiguously."#;

/// The system prompt of a target's schedule space.
pub fn system_prompt(target: colt_ir::schedule::Target) -> &'static str {
    match target {
        colt_ir::schedule::Target::Cpu => SYSTEM_PROMPT,
        colt_ir::schedule::Target::OpenCl => OPENCL_SYSTEM_PROMPT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opencl_prompt_offers_no_cpu_decision() {
        assert!(!OPENCL_SYSTEM_PROMPT.contains("parallel(") && !OPENCL_SYSTEM_PROMPT.contains("\"packed\""));
        assert!(OPENCL_SYSTEM_PROMPT.contains(r#"layout="local""#));
        for word in ["gemm", "attn", "conv", "moe", "mlp", "gemma", "qwen", "llama"] {
            assert!(!OPENCL_SYSTEM_PROMPT.to_lowercase().contains(word), "{word}");
        }
    }

    #[test]
    fn the_system_part_names_nothing_job_specific() {
        // Stage, axis and operand names in the examples are generic; no
        // workload or model name, no number from a search.
        for word in ["gemm", "attn", "conv", "moe", "mlp", "gemma", "qwen", "llama"] {
            assert!(!SYSTEM_PROMPT.to_lowercase().contains(word), "{word}");
        }
    }
}
