//! Golden files of the lowering: a few fixed candidates per kind of
//! schedule, their decisions, outline and C side by side in
//! `tests/golden/*.txt`, so that a compiler change shows up as a readable
//! diff. `COLT_UPDATE_GOLDEN=1 cargo test --release -p colt-ir --test
//! lowering_golden` rewrites them; review the diff before committing.
//! (Correctness is the fuzz tests' job; these pin the shape of the code.)

use colt_ir::schedule::{lower, sketches, Candidate, Edit};
use colt_ir::Size;
use std::path::Path;
use std::sync::Arc;

fn candidate(workload: &str, sketch: usize, edits: &[&str]) -> Candidate {
    let program = Arc::new(colt_ir::builtin(workload).unwrap().program(Size::Bench));
    let mut c = Candidate::initial(program.clone(), sketches(&program)[sketch].clone());
    for e in edits {
        c = Edit::parse(e).unwrap().apply(&c).unwrap_or_else(|err| panic!("{err}"));
    }
    c
}

fn check_golden(name: &str, c: &Candidate) {
    let nest = lower(c);
    let text = format!(
        "{}fingerprint {:016x}\nscratch {:?}\n\n{}",
        c.render(),
        nest.fingerprint(),
        nest.scratch,
        // The prelude is the same in every kernel: keep the files short.
        nest.to_c().split_once("\nvoid colt_kernel").map(|(_, body)| format!("void colt_kernel{body}")).unwrap()
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.txt"));
    if std::env::var_os("COLT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with COLT_UPDATE_GOLDEN=1", path.display()));
    if expected != text {
        let first = expected.lines().zip(text.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{name}: lowering changed at line {}:\n- {}\n+ {}\n(COLT_UPDATE_GOLDEN=1 rewrites the file)",
            first + 1,
            expected.lines().nth(first).unwrap_or(""),
            text.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn gemm_register_tile() {
    let c = candidate(
        "gemm-512",
        0,
        &[
            r#"tile(stage="C", axis="i", factors=[2,4,12])"#,
            r#"tile(stage="C", axis="j", factors=[4,4,32])"#,
            r#"tile(stage="C", axis="k", factors=[128])"#,
            r#"vectorize(stage="C", lanes=16)"#,
            r#"accumulate(stage="C", into="registers")"#,
            r#"parallel(stage="C", loops=1)"#,
            r#"unroll(stage="C", depth=64)"#,
        ],
    );
    check_golden("gemm-register-tile", &c);
}

#[test]
fn attention_row_pipeline() {
    let c = candidate(
        "llama3-8b-attn",
        6,
        &[
            r#"tile(stage="O", axis="d", factors=[1,2,64])"#,
            r#"parallel(stage="O", loops=2)"#,
            r#"compute_at(stage="P", at="O.i0")"#,
            r#"compute_at(stage="L", at="O.i0")"#,
            r#"compute_at(stage="E", at="O.i0")"#,
            r#"compute_at(stage="M", at="O.i0")"#,
            r#"tile(stage="P", axis="j", factors=[1,1,32])"#,
            r#"vectorize(stage="P", lanes=16)"#,
        ],
    );
    check_golden("attention-row-pipeline", &c);
}

#[test]
fn convolution_packed_input() {
    let c = candidate(
        "flux-conv",
        0,
        &[
            r#"tile(stage="Yc", axis="co", factors=[1,2,8])"#,
            r#"tile(stage="Yc", axis="x", factors=[1,1,32])"#,
            r#"pack(stage="Yc", operand="X", layout="packed")"#,
            r#"vectorize(stage="Yc", lanes=16)"#,
            r#"accumulate(stage="Yc", into="registers")"#,
            r#"compute_at(stage="Yc", at="Y.co0")"#,
        ],
    );
    check_golden("convolution-packed-input", &c);
}
