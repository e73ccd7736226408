//! The benchmark suite of `shared/workloads.md`, built in.
//!
//! Each workload is also a file under the repository's `workloads/` folder;
//! a test checks that every file parses to exactly the program built here.

use crate::builder::{ax, cst, exp, index_cmp, load, padded, select, silu, sqrt, NamedExpr, ProgramBuilder};
use crate::expr::{CmpOp, Cond};
use crate::program::{Combine, Program};
use crate::resolve::IrError;

/// Which shapes to build: the bench shapes (a naive run on 2 cores takes well
/// under a few seconds) or the full model sizes (for GPUs and big machines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Size {
    #[default]
    Bench,
    Full,
}

impl Size {
    fn pick(self, bench: usize, full: usize) -> usize {
        match self {
            Size::Bench => bench,
            Size::Full => full,
        }
    }
}

/// A built-in workload: its name, where it comes from, and its program.
pub struct Workload {
    pub name: &'static str,
    pub description: &'static str,
    build: fn(Size) -> Result<Program, IrError>,
}

impl Workload {
    pub fn program(&self, size: Size) -> Program {
        // Invariant: every built-in program is valid; the test
        // `every_builtin_validates` builds each at both sizes.
        match (self.build)(size) {
            Ok(p) => p,
            Err(e) => panic!("built-in workload {} is invalid: {e}", self.name),
        }
    }
}

/// The suite, in the order of `workloads.md`.
pub const SUITE: &[Workload] = &[
    Workload {
        name: "gemm-512",
        description: "calibration matmul C = A·B, 512x512x512",
        build: |_| gemm("gemm-512", 512, 512, 512),
    },
    Workload {
        name: "llama3-8b-attn",
        description: "Llama-3-8B grouped-query causal attention, prefill block (32 heads, 8 KV heads, d=128)",
        build: |size| attention("llama3-8b-attn", 32, 8, size.pick(128, 2048), 128, true),
    },
    Workload {
        name: "deepseek-r1-moe",
        description: "DeepSeek-R1 routed-expert SwiGLU MLP (hidden and width scaled by 1/4)",
        build: |size| swiglu_mlp("deepseek-r1-moe", 64, size.pick(1792, 7168), size.pick(512, 2048)),
    },
    Workload {
        name: "flux-attn",
        description: "FLUX.1 joint attention (24 heads, d=128, sequence scaled)",
        build: |size| attention("flux-attn", 24, 24, size.pick(256, 4608), 128, false),
    },
    Workload {
        name: "flux-conv",
        description: "FLUX.1 VAE decoder 3x3 convolution, zero padding 1 (channels scaled)",
        build: |size| conv3x3("flux-conv", size.pick(128, 512), size.pick(32, 128)),
    },
    Workload {
        name: "llama4-scout-mlp",
        description: "Llama-4-Scout SwiGLU MLP (hidden and width scaled by 1/4)",
        build: |size| swiglu_mlp("llama4-scout-mlp", 32, size.pick(1280, 5120), size.pick(2048, 8192)),
    },
];

/// The built-in workload called `name`.
pub fn builtin(name: &str) -> Option<&'static Workload> {
    SUITE.iter().find(|w| w.name == name)
}

/// `C = A·B`: `A[m, k]`, `B[k, n]`.
pub(crate) fn gemm(name: &str, m: usize, n: usize, k: usize) -> Result<Program, IrError> {
    ProgramBuilder::new(name)
        .input("A", &[m, k])
        .input("B", &[k, n])
        .output("C", &[m, n])
        .stage("C", &["i", "j"], Combine::Sum, load("A", [ax("i"), ax("k")]) * load("B", [ax("k"), ax("j")]))
        .build()
}

/// Multi-head attention with `heads / kv_heads` query heads per key/value
/// head; softmax as its four stages (row max, exp, row sum, normalise).
fn attention(
    name: &str,
    heads: usize,
    kv_heads: usize,
    seq: usize,
    dim: usize,
    causal: bool,
) -> Result<Program, IrError> {
    let shape = AttentionShape {
        heads,
        kv_heads,
        queries: seq,
        keys: seq,
        key_length: dim,
        value_length: dim,
        causal,
        window: None,
    };
    attention_of(name, &shape)
}

/// An attention layer's shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttentionShape {
    pub heads: usize,
    pub kv_heads: usize,
    /// Query positions: the last `queries` of the `keys` positions.
    pub queries: usize,
    pub keys: usize,
    pub key_length: usize,
    pub value_length: usize,
    /// Query `i` sees keys up to its own position only.
    pub causal: bool,
    /// And only keys within this many positions of it (itself included).
    pub window: Option<usize>,
}

/// Grouped-query attention of `shape`.
pub(crate) fn attention_of(name: &str, shape: &AttentionShape) -> Result<Program, IrError> {
    let AttentionShape { heads, kv_heads, queries, keys, key_length, value_length, causal, window } = *shape;
    let group = (heads / kv_heads) as i64;
    let kv_head = || if group == 1 { ax("h") } else { ax("h") / group };
    let offset = (keys - queries) as i64;
    let position = || if offset == 0 { ax("i") } else { ax("i") + offset };
    let scaled = load("QK", [ax("h"), ax("i"), ax("j")]) / sqrt(cst(key_length as f32));
    let mut visible = index_cmp(ax("j"), CmpOp::Le, position());
    if let Some(window) = window {
        let nearby = index_cmp(ax("j") + (window as i64 - 1), CmpOp::Ge, position());
        visible = Cond::And(Box::new(visible), Box::new(nearby));
    }
    let scores = if causal || window.is_some() { select(visible, scaled, cst(f32::NEG_INFINITY)) } else { scaled };
    let (h, q, k) = (heads, queries, keys);
    ProgramBuilder::new(name)
        .input("Q", &[h, q, key_length])
        .input("K", &[kv_heads, k, key_length])
        .input("V", &[kv_heads, k, value_length])
        .temp("QK", &[h, q, k])
        .temp("S", &[h, q, k])
        .temp("M", &[h, q])
        .temp("E", &[h, q, k])
        .temp("L", &[h, q])
        .temp("P", &[h, q, k])
        .output("O", &[h, q, value_length])
        .stage(
            "QK",
            &["h", "i", "j"],
            Combine::Sum,
            load("Q", [ax("h"), ax("i"), ax("d")]) * load("K", [kv_head(), ax("j"), ax("d")]),
        )
        .stage("S", &["h", "i", "j"], Combine::Assign, scores)
        .stage("M", &["h", "i"], Combine::Max, load("S", [ax("h"), ax("i"), ax("j")]))
        .stage(
            "E",
            &["h", "i", "j"],
            Combine::Assign,
            exp(load("S", [ax("h"), ax("i"), ax("j")]) - load("M", [ax("h"), ax("i")])),
        )
        .stage("L", &["h", "i"], Combine::Sum, load("E", [ax("h"), ax("i"), ax("j")]))
        .stage(
            "P",
            &["h", "i", "j"],
            Combine::Assign,
            load("E", [ax("h"), ax("i"), ax("j")]) / load("L", [ax("h"), ax("i")]),
        )
        .stage(
            "O",
            &["h", "i", "d"],
            Combine::Sum,
            load("P", [ax("h"), ax("i"), ax("j")]) * load("V", [kv_head(), ax("j"), ax("d")]),
        )
        .build()
}

/// `Y = (silu(X·Wg) * (X·Wu))·Wd`.
fn swiglu_mlp(name: &str, tokens: usize, hidden: usize, width: usize) -> Result<Program, IrError> {
    gated_mlp(name, tokens, hidden, width, silu)
}

/// `Y = (gate(X·Wg) * (X·Wu))·Wd`.
pub(crate) fn gated_mlp(
    name: &str,
    tokens: usize,
    hidden: usize,
    width: usize,
    gate: fn(NamedExpr) -> NamedExpr,
) -> Result<Program, IrError> {
    let x = || load("X", [ax("t"), ax("h")]);
    ProgramBuilder::new(name)
        .input("X", &[tokens, hidden])
        .input("Wg", &[hidden, width])
        .input("Wu", &[hidden, width])
        .input("Wd", &[width, hidden])
        .temp("G", &[tokens, width])
        .temp("U", &[tokens, width])
        .temp("H", &[tokens, width])
        .output("Y", &[tokens, hidden])
        .stage("G", &["t", "f"], Combine::Sum, x() * load("Wg", [ax("h"), ax("f")]))
        .stage("U", &["t", "f"], Combine::Sum, x() * load("Wu", [ax("h"), ax("f")]))
        .stage("H", &["t", "f"], Combine::Assign, gate(load("G", [ax("t"), ax("f")])) * load("U", [ax("t"), ax("f")]))
        .stage("Y", &["t", "h"], Combine::Sum, load("H", [ax("t"), ax("f")]) * load("Wd", [ax("f"), ax("h")]))
        .build()
}

/// 3x3 convolution, stride 1, zero padding 1, with bias; batch 1, square
/// images, as many output as input channels.
fn conv3x3(name: &str, channels: usize, side: usize) -> Result<Program, IrError> {
    let window = |a: &str, k: &str| ax(a) + ax(k) - 1;
    ProgramBuilder::new(name)
        .input("X", &[1, channels, side, side])
        .input("W", &[channels, channels, 3, 3])
        .input("b", &[channels])
        .temp("Yc", &[1, channels, side, side])
        .output("Y", &[1, channels, side, side])
        .stage(
            "Yc",
            &["n", "co", "y", "x"],
            Combine::Sum,
            padded("X", [ax("n"), ax("ci"), window("y", "ky"), window("x", "kx")], 0.0)
                * load("W", [ax("co"), ax("ci"), ax("ky"), ax("kx")]),
        )
        .stage(
            "Y",
            &["n", "co", "y", "x"],
            Combine::Assign,
            load("Yc", [ax("n"), ax("co"), ax("y"), ax("x")]) + load("b", [ax("co")]),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_validates() {
        for w in SUITE {
            for size in [Size::Bench, Size::Full] {
                (w.build)(size).unwrap_or_else(|e| panic!("{} {size:?}: {e}", w.name));
            }
        }
    }

    #[test]
    fn mac_counts_match_workloads_md() {
        let millions = |name| (builtin(name).unwrap().program(Size::Bench).macs() as f64 / 1e6).round() as u64;
        assert_eq!(millions("gemm-512"), 134);
        assert_eq!(millions("llama3-8b-attn"), 134);
        assert_eq!(millions("deepseek-r1-moe"), 176);
        assert_eq!(millions("flux-attn"), 403);
        assert_eq!(millions("flux-conv"), 151);
        assert_eq!(millions("llama4-scout-mlp"), 252);
    }

    #[test]
    fn full_shapes_are_the_model_sizes() {
        let shape = |name, buf: &str| {
            let p = builtin(name).unwrap().program(Size::Full);
            p.buffer(p.buffer_id(buf).unwrap()).shape.clone()
        };
        assert_eq!(shape("llama3-8b-attn", "Q"), vec![32, 2048, 128]);
        assert_eq!(shape("deepseek-r1-moe", "X"), vec![64, 7168]);
        assert_eq!(shape("deepseek-r1-moe", "Wg"), vec![7168, 2048]);
        assert_eq!(shape("flux-attn", "K"), vec![24, 4608, 128]);
        assert_eq!(shape("flux-conv", "X"), vec![1, 512, 128, 128]);
        assert_eq!(shape("llama4-scout-mlp", "Wd"), vec![8192, 5120]);
    }
}
