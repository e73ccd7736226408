//! A whole model's layers as tasks: from a transformer's hyperparameters
//! (as a GGUF header states them; colt-llm reads them) to the distinct
//! layer programs of one forward pass, each with how many times the pass
//! runs it.
//!
//! What a forward pass is made of, per block: the attention norm, the Q, K
//! and V projections, grouped-query attention, the output projection, the
//! feed-forward norm and the gated MLP (or, with experts, the router and
//! the routed experts); after the blocks, the final norm and the output
//! head. Prefill of `N` tokens runs every projection on `N` rows and causal
//! attention over `N` positions; one decode step against a cache of `N`
//! tokens runs them on one row (GEMV shapes) and attends one query over
//! `N + 1` keys. The head computes the last token's logits only (what a
//! runtime samples from; llama.cpp's default). Identical programs are one
//! task, their counts added (the Q and output projections of a model whose
//! query width is its embedding width have one shape).
//!
//! Left to the runtime, as not worth tuning or not expressible as one of
//! these programs: the token embedding (a gather), rotary position
//! embedding, residual adds, biases (qwen2's QKV biases), the KV-cache
//! copy, sampling, and the shared experts of the architectures that have
//! them. Weights are laid out `[in, out]` (the programs read `X·W`).

use crate::builder::{ax, cst, exp, load, silu, sqrt, NamedExpr, ProgramBuilder};
use crate::program::{Combine, Program};
use crate::resolve::IrError;
use crate::workloads::{attention_of as attention, gated_mlp, AttentionShape};

/// `C = A·B` with `A[m, k]`, `B[k, n]` (the suite's gemm takes n before k).
fn gemm(name: &str, m: usize, k: usize, n: usize) -> Result<Program, IrError> {
    crate::workloads::gemm(name, m, n, k)
}

/// The longest prefill or cache a model's tasks are derived for: its
/// attention holds heads × N × N scores, and 8192 positions is already
/// gigabytes.
pub const MAX_SEQUENCE: usize = 8192;

/// The most blocks and experts a shape may have (far above any published
/// model's; they bound the tasks' counts).
pub const MAX_BLOCKS: usize = 1 << 20;
pub const MAX_EXPERTS: usize = 1 << 16;

/// The families whose layers this module derives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `llama`: SwiGLU MLP, 2 norms a block, optional experts.
    Llama,
    /// `qwen2`: as llama (its QKV biases are left to the runtime).
    Qwen2,
    /// `gemma3`: GeGLU MLP (tanh GELU), 4 norms a block, RMS-normed
    /// queries and keys, sliding-window attention on 5 layers of 6.
    Gemma3,
}

impl Family {
    /// The family of a GGUF `general.architecture`.
    pub fn of_architecture(architecture: &str) -> Option<Family> {
        match architecture {
            "llama" => Some(Family::Llama),
            "qwen2" => Some(Family::Qwen2),
            "gemma3" => Some(Family::Gemma3),
            _ => None,
        }
    }
}

/// A transformer's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelShape {
    /// Names the tasks: letters, digits, `-`, `_` and `.`.
    pub name: String,
    pub family: Family,
    pub embedding: usize,
    pub blocks: usize,
    pub feed_forward: usize,
    pub heads: usize,
    pub kv_heads: usize,
    /// Per head, of queries and keys, and of values.
    pub key_length: usize,
    pub value_length: usize,
    pub vocabulary: usize,
    /// 0 for a dense model.
    pub experts: usize,
    pub experts_used: usize,
    /// The width of one expert's MLP (the feed-forward length when the
    /// file gives none).
    pub expert_feed_forward: usize,
    pub rms_epsilon: f32,
    /// gemma3's window of the local attention layers, in tokens.
    pub sliding_window: Option<usize>,
}

/// Which pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The prompt: `tokens` at once.
    Prefill { tokens: usize },
    /// One new token against a cache of `context` tokens.
    Decode { context: usize },
}

impl Phase {
    fn label(self) -> String {
        match self {
            Phase::Prefill { tokens } => format!("prefill{tokens}"),
            Phase::Decode { context } => format!("decode{context}"),
        }
    }

    /// Rows of the projections, and query and key positions of attention.
    fn rows_queries_keys(self) -> (usize, usize, usize) {
        match self {
            Phase::Prefill { tokens } => (tokens, tokens, tokens),
            Phase::Decode { context } => (1, 1, context + 1),
        }
    }
}

/// One distinct layer program of the pass.
#[derive(Clone, Debug)]
pub struct Task {
    /// `<model>.<phase>.<roles>`, a workload name.
    pub name: String,
    /// The layers it stands for (`q-proj`, `o-proj`, ...), in pass order.
    pub roles: Vec<String>,
    pub program: Program,
    /// How many times one forward pass runs it.
    pub count: u64,
}

/// Why a shape has no tasks.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model `{model}`: {reason}")]
    Shape { model: String, reason: String },
    #[error("model `{model}`, layer `{role}`: {source}")]
    Program { model: String, role: String, source: IrError },
}

/// The distinct layer programs of one forward pass of `shape` in `phase`,
/// in the order the pass first runs them.
pub fn model_tasks(shape: &ModelShape, phase: Phase) -> Result<Vec<Task>, ModelError> {
    check(shape, phase)?;
    let (rows, queries, keys) = phase.rows_queries_keys();
    let (d, layers) = (shape.embedding, shape.blocks as u64);
    let (q_width, kv_width, v_width) =
        (shape.heads * shape.key_length, shape.kv_heads * shape.key_length, shape.kv_heads * shape.value_length);
    let eps = shape.rms_epsilon;
    let gemma = shape.family == Family::Gemma3;
    // (role, count, program builder taking the task's name)
    type Build<'a> = Box<dyn Fn(&str) -> Result<Program, IrError> + 'a>;
    let mut layers_of_pass: Vec<(&str, u64, Build)> = Vec::new();
    let norms_per_block = if gemma { 4 } else { 2 };
    layers_of_pass.push(("norm", norms_per_block * layers + 1, Box::new(move |n| rmsnorm(n, rows, d, eps))));
    layers_of_pass.push(("q-proj", layers, Box::new(move |n| gemm(n, rows, d, q_width))));
    layers_of_pass.push(("k-proj", layers, Box::new(move |n| gemm(n, rows, d, kv_width))));
    layers_of_pass.push(("v-proj", layers, Box::new(move |n| gemm(n, rows, d, v_width))));
    if gemma {
        let (heads, kv_heads, dk) = (shape.heads, shape.kv_heads, shape.key_length);
        layers_of_pass.push(("q-norm", layers, Box::new(move |n| rmsnorm(n, rows * heads, dk, eps))));
        layers_of_pass.push(("k-norm", layers, Box::new(move |n| rmsnorm(n, rows * kv_heads, dk, eps))));
    }
    let attention_shape = AttentionShape {
        heads: shape.heads,
        kv_heads: shape.kv_heads,
        queries,
        keys,
        key_length: shape.key_length,
        value_length: shape.value_length,
        // One query sees the whole cache: no mask.
        causal: queries > 1,
        window: None,
    };
    match shape.sliding_window.filter(|&w| gemma && w < keys) {
        // gemma3: every 6th layer attends globally, the others within the
        // window (llama.cpp's sliding-window pattern for gemma3).
        Some(window) => {
            let global = layers / 6;
            let local = AttentionShape { window: Some(window), ..attention_shape };
            layers_of_pass.push(("local-attention", layers - global, Box::new(move |n| attention(n, &local))));
            if global > 0 {
                layers_of_pass.push(("attention", global, Box::new(move |n| attention(n, &attention_shape))));
            }
        }
        None => layers_of_pass.push(("attention", layers, Box::new(move |n| attention(n, &attention_shape)))),
    }
    layers_of_pass.push(("o-proj", layers, Box::new(move |n| gemm(n, rows, shape.heads * shape.value_length, d))));
    let gate: fn(NamedExpr) -> NamedExpr = if gemma { gelu } else { silu };
    if shape.experts == 0 {
        let f = shape.feed_forward;
        layers_of_pass.push(("mlp", layers, Box::new(move |n| gated_mlp(n, rows, d, f, gate))));
    } else {
        let (experts, used, f) = (shape.experts, shape.experts_used, shape.expert_feed_forward);
        layers_of_pass.push(("router", layers, Box::new(move |n| gemm(n, rows, d, experts))));
        // Tokens spread evenly over the experts (a router's load balance is
        // what its training aims for): each expert sees its share, or the
        // decode step's one token on each of the used experts.
        let (per_expert, runs) = match phase {
            Phase::Prefill { tokens } => ((tokens * used).div_ceil(experts), experts as u64),
            Phase::Decode { .. } => (1, used as u64),
        };
        layers_of_pass.push(("expert", layers * runs, Box::new(move |n| gated_mlp(n, per_expert, d, f, gate))));
    }
    layers_of_pass.push(("head", 1, Box::new(move |n| gemm(n, 1, d, shape.vocabulary))));

    // Identical programs are one task: compared as printed under one name.
    let mut tasks: Vec<(String, Vec<String>, u64, &Build)> = Vec::new();
    for (role, count, build) in &layers_of_pass {
        let program = build("layer").map_err(|source| program_error(shape, role, source))?;
        let key = crate::print_program(&program);
        match tasks.iter_mut().find(|(k, ..)| *k == key) {
            Some((_, roles, total, _)) => {
                roles.push(role.to_string());
                *total += count;
            }
            None => tasks.push((key, vec![role.to_string()], *count, build)),
        }
    }
    tasks
        .into_iter()
        .map(|(_, roles, count, build)| {
            let name = format!("{}.{}.{}", shape.name, phase.label(), roles.join("."));
            let program = build(&name).map_err(|source| program_error(shape, &roles[0], source))?;
            Ok(Task { name, roles, program, count })
        })
        .collect()
}

fn program_error(shape: &ModelShape, role: &str, source: IrError) -> ModelError {
    ModelError::Program { model: shape.name.clone(), role: role.to_string(), source }
}

fn check(shape: &ModelShape, phase: Phase) -> Result<(), ModelError> {
    let fail = |reason: String| Err(ModelError::Shape { model: shape.name.clone(), reason });
    let named = [
        ("embedding length", shape.embedding),
        ("block count", shape.blocks),
        ("feed-forward length", shape.feed_forward),
        ("head count", shape.heads),
        ("key/value head count", shape.kv_heads),
        ("key length", shape.key_length),
        ("value length", shape.value_length),
        ("vocabulary", shape.vocabulary),
    ];
    if let Some((what, _)) = named.iter().find(|(_, v)| *v == 0) {
        return fail(format!("the {what} is 0"));
    }
    if shape.blocks > MAX_BLOCKS || shape.experts > MAX_EXPERTS {
        return fail(format!(
            "{} blocks and {} experts: colt derives at most {MAX_BLOCKS} blocks and {MAX_EXPERTS} experts",
            shape.blocks, shape.experts
        ));
    }
    // Bounds that keep every product of two sizes below (hostile shapes
    // come over the daemon's API) within u64; buffers are bounded further
    // when each program is built.
    let limit = crate::MAX_BUFFER_ELEMENTS as usize;
    let experts = [
        ("expert count", shape.experts),
        ("experts used", shape.experts_used),
        ("expert feed-forward length", shape.expert_feed_forward),
    ];
    if let Some((what, v)) = named.iter().chain(&experts).find(|(_, v)| *v > limit) {
        return fail(format!("the {what} {v} is more than any buffer holds ({limit} elements)"));
    }
    let well_named = !shape.name.is_empty()
        && shape.name.len() <= 64
        && shape.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !well_named {
        return fail("a model's name is 1 to 64 letters, digits, `-`, `_` and `.`".into());
    }
    // A window of no key masks every score of a local attention layer: its
    // softmax divides 0 by 0, and the layer's kernel computes NaN.
    if shape.sliding_window == Some(0) {
        return fail("the sliding window is 0: a window holds at least one key".into());
    }
    if !shape.heads.is_multiple_of(shape.kv_heads) {
        return fail(format!("{} heads do not share {} key/value heads evenly", shape.heads, shape.kv_heads));
    }
    if shape.experts > 0 && !(1..=shape.experts).contains(&shape.experts_used) {
        return fail(format!("{} experts used of {}", shape.experts_used, shape.experts));
    }
    let positions = match phase {
        Phase::Prefill { tokens } => tokens,
        Phase::Decode { context } => context + 1,
    };
    if positions == 0 {
        return fail("a prefill of 0 tokens".into());
    }
    let (Phase::Prefill { tokens: length } | Phase::Decode { context: length }) = phase;
    if length > MAX_SEQUENCE {
        return fail(format!("a sequence of {length} tokens (at most MAX_SEQUENCE, {MAX_SEQUENCE})"));
    }
    if !(shape.rms_epsilon.is_finite() && shape.rms_epsilon >= 0.0) {
        return fail(format!("the RMS norm epsilon {} is not a small positive number", shape.rms_epsilon));
    }
    Ok(())
}

/// RMSNorm over the last axis with a gain: `Y = X / rms(X) * g`.
fn rmsnorm(name: &str, rows: usize, width: usize, eps: f32) -> Result<Program, IrError> {
    ProgramBuilder::new(name)
        .input("X", &[rows, width])
        .input("g", &[width])
        .temp("SS", &[rows])
        .temp("R", &[rows])
        .output("Y", &[rows, width])
        .stage("SS", &["t"], Combine::Sum, load("X", [ax("t"), ax("h")]) * load("X", [ax("t"), ax("h")]))
        .stage("R", &["t"], Combine::Assign, cst(1.0) / sqrt(load("SS", [ax("t")]) / cst(width as f32) + cst(eps)))
        .stage(
            "Y",
            &["t", "h"],
            Combine::Assign,
            load("X", [ax("t"), ax("h")]) * load("R", [ax("t")]) * load("g", [ax("h")]),
        )
        .build()
}

/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, with `tanh(z) = 1 − 2/(1 + e^{2z})`.
fn gelu(x: NamedExpr) -> NamedExpr {
    let inner = cst(0.797_884_6) * (x.clone() + cst(0.044_715) * x.clone() * x.clone() * x.clone());
    let tanh = cst(1.0) - cst(2.0) / (cst(1.0) + exp(cst(2.0) * inner));
    cst(0.5) * x * (cst(1.0) + tanh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smollm() -> ModelShape {
        ModelShape {
            name: "smollm2-135m".into(),
            family: Family::Llama,
            embedding: 576,
            blocks: 30,
            feed_forward: 1536,
            heads: 9,
            kv_heads: 3,
            key_length: 64,
            value_length: 64,
            vocabulary: 49152,
            experts: 0,
            experts_used: 0,
            expert_feed_forward: 1536,
            rms_epsilon: 1e-5,
            sliding_window: None,
        }
    }

    #[test]
    fn a_dense_llama_has_norm_projections_attention_mlp_and_head_with_their_counts() {
        let tasks = model_tasks(&smollm(), Phase::Prefill { tokens: 128 }).unwrap();
        let summary: Vec<(String, u64)> = tasks.iter().map(|t| (t.roles.join("+"), t.count)).collect();
        assert_eq!(
            summary,
            [("norm", 61), ("q-proj+o-proj", 60), ("k-proj+v-proj", 60), ("attention", 30), ("mlp", 30), ("head", 1)]
                .map(|(r, c)| (r.to_string(), c))
        );
        let q = &tasks[1].program;
        assert_eq!(q.buffer(q.buffer_id("B").unwrap()).shape, vec![576, 576]);
        assert_eq!(tasks[1].name, "smollm2-135m.prefill128.q-proj.o-proj");
        // Total MACs of the pass: 30 blocks of projections, attention and
        // MLP on 128 rows, and the head on one.
        let macs: u64 = tasks.iter().map(|t| t.count * t.program.macs()).sum();
        let per_block = 128 * 576 * (576 + 2 * 192 + 576) + 2 * 9 * 128 * 128 * 64 + 3 * 128 * 576 * 1536;
        let norms = 61 * 128 * 576;
        assert_eq!(macs, 30 * per_block as u64 + 576 * 49152 + norms as u64);
    }

    #[test]
    fn decode_is_gemv_shaped_and_attends_one_query_over_the_cache() {
        let tasks = model_tasks(&smollm(), Phase::Decode { context: 200 }).unwrap();
        let attention = tasks.iter().find(|t| t.roles == ["attention"]).unwrap();
        let p = &attention.program;
        assert_eq!(p.buffer(p.buffer_id("Q").unwrap()).shape, vec![9, 1, 64]);
        assert_eq!(p.buffer(p.buffer_id("K").unwrap()).shape, vec![3, 201, 64]);
        let mlp = tasks.iter().find(|t| t.roles == ["mlp"]).unwrap();
        assert_eq!(mlp.program.buffer(mlp.program.buffer_id("X").unwrap()).shape, vec![1, 576]);
    }

    #[test]
    fn experts_replace_the_mlp_with_a_router_and_evenly_loaded_experts() {
        let moe = ModelShape { experts: 8, experts_used: 2, expert_feed_forward: 512, ..smollm() };
        let tasks = model_tasks(&moe, Phase::Prefill { tokens: 128 }).unwrap();
        let expert = tasks.iter().find(|t| t.roles == ["expert"]).unwrap();
        assert_eq!(expert.count, 30 * 8);
        assert_eq!(expert.program.buffer(expert.program.buffer_id("X").unwrap()).shape, vec![32, 576]);
        assert!(tasks.iter().any(|t| t.roles == ["router"] && t.count == 30));
        let decode = model_tasks(&moe, Phase::Decode { context: 10 }).unwrap();
        assert_eq!(decode.iter().find(|t| t.roles == ["expert"]).unwrap().count, 30 * 2);
    }

    #[test]
    fn impossible_shapes_are_errors_naming_the_model() {
        for (bad, says) in [
            (ModelShape { heads: 8, ..smollm() }, "share"),
            (ModelShape { embedding: 0, ..smollm() }, "embedding length is 0"),
            (ModelShape { experts: 4, experts_used: 5, ..smollm() }, "5 experts used of 4"),
            // Sizes from a hostile client, whose products would overflow.
            (ModelShape { heads: usize::MAX, kv_heads: 1, ..smollm() }, "more than any buffer holds"),
            (ModelShape { blocks: usize::MAX, ..smollm() }, "at most 1048576 blocks"),
            (ModelShape { experts: 1 << 20, experts_used: 1, ..smollm() }, "65536 experts"),
            (ModelShape { name: "smollm2-135m; rm".into(), ..smollm() }, "name is 1 to 64"),
            // Accepted before: every local attention layer computed NaN.
            (ModelShape { sliding_window: Some(0), ..smollm() }, "sliding window is 0"),
        ] {
            let e = model_tasks(&bad, Phase::Prefill { tokens: 4 }).unwrap_err().to_string();
            assert!(e.contains("smollm2-135m") && e.contains(says), "{e}");
        }
        let e = model_tasks(&smollm(), Phase::Prefill { tokens: 0 }).unwrap_err().to_string();
        assert!(e.contains("0 tokens"), "{e}");
        let e = model_tasks(&smollm(), Phase::Decode { context: MAX_SEQUENCE + 1 }).unwrap_err().to_string();
        assert!(e.contains("8193 tokens"), "{e}");
    }
}
