//! Attention-like programs whose scores are masked by a condition on their
//! indices, for fuzzing masked iteration (`iterate(points="kept")`): causal
//! masks with queries at the end of the keys (an offset), sliding windows,
//! odd lengths, masks that keep nothing of some rows (which must not be
//! skipped where that changes a NaN) and masks that keep everything.
//!
//! `O = softmax(mask(Q·Kᵀ / √d)) · V` in the stages of colt's attention
//! workloads (`QK`, `S`, `M`, `E`, `L`, `P`, `O`), on small shapes so that
//! each candidate compiles and runs in a fraction of a second.

use colt_ir::builder::{ax, cst, exp, index_cmp, load, select, sqrt, NamedCond, ProgramBuilder};
use colt_ir::{CmpOp, Combine, Cond, Program};

/// Which scores a query row keeps.
#[derive(Clone, Copy, Debug)]
pub enum MaskShape {
    /// `j <= i + offset`: queries are the last of the keys when `offset`
    /// is `keys - queries`; a negative offset leaves the first rows with
    /// nothing kept.
    Causal { offset: i64 },
    /// Causal and `j + window > i + offset`.
    Window { offset: i64, window: i64 },
    /// `j <= i + keys`: everything kept.
    Everything,
}

pub struct Shape {
    pub heads: usize,
    pub queries: usize,
    pub keys: usize,
    pub length: usize,
    pub mask: MaskShape,
}

fn condition(mask: MaskShape, keys: usize) -> NamedCond {
    let shifted = |offset: i64| if offset == 0 { ax("i") } else { ax("i") + offset };
    match mask {
        MaskShape::Causal { offset } => index_cmp(ax("j"), CmpOp::Le, shifted(offset)),
        MaskShape::Window { offset, window } => Cond::And(
            Box::new(index_cmp(ax("j"), CmpOp::Le, shifted(offset))),
            Box::new(index_cmp(ax("j") + window, CmpOp::Gt, shifted(offset))),
        ),
        MaskShape::Everything => index_cmp(ax("j"), CmpOp::Le, ax("i") + keys as i64),
    }
}

pub fn masked_attention(name: &str, shape: &Shape) -> Program {
    let Shape { heads: h, queries: q, keys: k, length: d, mask } = *shape;
    let scaled = load("QK", [ax("h"), ax("i"), ax("j")]) / sqrt(cst(d as f32));
    let scores = select(condition(mask, k), scaled, cst(f32::NEG_INFINITY));
    ProgramBuilder::new(name)
        .input("Q", &[h, q, d])
        .input("K", &[h, k, d])
        .input("V", &[h, k, d])
        .temp("QK", &[h, q, k])
        .temp("S", &[h, q, k])
        .temp("M", &[h, q])
        .temp("E", &[h, q, k])
        .temp("L", &[h, q])
        .temp("P", &[h, q, k])
        .output("O", &[h, q, d])
        .stage(
            "QK",
            &["h", "i", "j"],
            Combine::Sum,
            load("Q", [ax("h"), ax("i"), ax("d")]) * load("K", [ax("h"), ax("j"), ax("d")]),
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
            load("P", [ax("h"), ax("i"), ax("j")]) * load("V", [ax("h"), ax("j"), ax("d")]),
        )
        .build()
        .expect("masked attention programs are valid")
}

/// The shapes the fuzz tests run: every mask kind, odd lengths, more
/// keys than queries.
pub fn masked_programs() -> Vec<Program> {
    use MaskShape::*;
    let cases = [
        ("causal-odd", 2, 13, 13, 8, Causal { offset: 0 }),
        ("causal-offset", 2, 7, 19, 5, Causal { offset: 12 }),
        ("window", 1, 24, 24, 16, Window { offset: 0, window: 5 }),
        ("window-offset-odd", 3, 9, 17, 3, Window { offset: 8, window: 4 }),
        ("rows-keep-nothing", 2, 11, 11, 8, Causal { offset: -3 }),
        ("keeps-everything", 2, 10, 10, 8, Everything),
    ];
    cases
        .into_iter()
        .map(|(name, heads, queries, keys, length, mask)| {
            masked_attention(&format!("masked-{name}"), &Shape { heads, queries, keys, length, mask })
        })
        .collect()
}
