//! The workload text format: the files under `workloads/` are the built-in
//! suite, printing and parsing are inverse, and every mistake a user can
//! make is reported with its line, column and what was expected.

mod common;

use colt_ir::{load_workload, parse_workload, print_program, Size, WorkloadError};

#[test]
fn every_builtin_workload_file_parses_to_the_builtin_program() {
    for w in colt_ir::SUITE {
        let path = common::repo_root().join("workloads").join(format!("{}.colt", w.name));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for size in [Size::Bench, Size::Full] {
            let parsed = parse_workload(&text, path.to_str().unwrap(), size).unwrap();
            assert_eq!(parsed, w.program(size), "{} at {size:?}", w.name);
        }
    }
}

#[test]
fn printed_suite_and_held_back_programs_parse_back_identically() {
    let mut programs: Vec<_> = colt_ir::SUITE.iter().map(|w| w.program(Size::Bench)).collect();
    programs.extend(common::held_back());
    for p in programs {
        let text = print_program(&p);
        assert_eq!(parse_workload(&text, "printed.colt", Size::Bench).unwrap(), p, "{text}");
    }
}

/// Parses `text` and returns the error's message, which must carry `line:col`.
fn error(text: &str) -> (WorkloadError, String) {
    let e = parse_workload(text, "bad.colt", Size::Bench).expect_err("the text is wrong");
    let message = e.to_string();
    (e, message)
}

fn assert_error_at(text: &str, line: u32, column: u32, words: &[&str]) {
    let (e, message) = error(text);
    let pos = e.pos().unwrap_or_else(|| panic!("no position in `{message}`"));
    assert_eq!((pos.line, pos.column), (line, column), "{message}");
    assert!(message.starts_with(&format!("bad.colt:{line}:{column}: ")), "{message}");
    for w in words {
        assert!(message.contains(w), "`{message}` should mention `{w}`");
    }
}

const GEMM_HEAD: &str = "input A[4, 3]\ninput B[3, 2]\noutput C[4, 2]\n";

#[test]
fn syntax_errors_say_where_and_what_was_expected() {
    // A missing closing bracket: reported where it opened.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, k * B[k, j]\n"), 4, 13, &["`[` is never closed"]);
    // A bracket closed by the wrong kind.
    assert_error_at(
        &format!("{GEMM_HEAD}C[i, j] += A[i, k) * B[k, j]\n"),
        4,
        18,
        &["`)` does not match the `[` opened at 4:13"],
    );
    // A missing `]` on the left-hand side.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j += A[i, k]\n"), 4, 2, &["`[` is never closed"]);
    // A missing `]`, closed later on the line: found by the parser.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j += A[i, k]]\n"), 4, 8, &["expected `]`", "`+=`"]);
    // A missing operator between a stage's left and right sides.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] A[i, k]\n"), 4, 9, &["expected `=`, `+=` or `max=`", "`A`"]);
    // A stray character.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, k] $ B[k, j]\n"), 4, 20, &["unexpected character `$`"]);
    // A declaration without a shape.
    assert_error_at("input A\n", 1, 8, &["expected `[`", "end of line"]);
    // Trailing tokens after a complete stage.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, k] * B[k, j] B\n"), 4, 30, &["expected end of line"]);
    // A dangling operator.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, k] *\n"), 4, 21, &["expected an expression"]);
    // A condition that is not a comparison.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] = select(A[i, 0], 1.0, 2.0)\n"), 4, 25, &["expected a comparison"]);
}

#[test]
fn meaning_errors_say_where_and_why() {
    // Unknown function.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += tanh(A[i, k]) * B[k, j]\n"), 4, 12, &["unknown function `tanh`"]);
    // Wrong number of arguments.
    assert_error_at(
        &format!("{GEMM_HEAD}C[i, j] += exp(A[i, k], B[k, j])\n"),
        4,
        12,
        &["`exp` takes 1 argument, found 2"],
    );
    // A non-affine index.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i * k, k] * B[k, j]\n"), 4, 16, &["affine"]);
    // A float in an index.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, 1.5] * B[k, j]\n"), 4, 17, &["float constant"]);
    // An axis used as a value.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i, k] * k\n"), 4, 22, &["`k` used as a value"]);
    // An unknown size in a shape.
    assert_error_at("size N = 4\ninput A[N, M]\n", 2, 12, &["unknown size `M`", "declared sizes: N"]);
    // A zero dimension.
    assert_error_at("input A[4, 0]\n", 1, 12, &["must be positive"]);
    // Division of an index by something that is not a positive integer.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] += A[i / 0, k] * B[k, j]\n"), 4, 16, &["positive integer divisor"]);
    // An unknown element type.
    assert_error_at("input A[4] f16\n", 1, 12, &["unknown element type `f16`"]);
}

#[test]
fn invalid_programs_name_the_stage_the_buffer_and_the_place() {
    // An undefined buffer, with the declared ones listed.
    assert_error_at(
        &format!("{GEMM_HEAD}C[i, j] += A[i, k] * Bt[k, j]\n"),
        4,
        22,
        &["undefined buffer `Bt`", "A, B, C"],
    );
    // A shape mismatch: the reduction axis spans 3 in A but 2 in a transposed B.
    assert_error_at(
        "input A[4, 3]\ninput B[2, 3]\noutput C[4, 2]\nC[i, j] += A[i, k] * B[k, j]\n",
        4,
        24,
        &["shape mismatch", "`k`", "`A` dimension 1 (extent 3)", "`B` dimension 0 (extent 2)"],
    );
    // A shape mismatch in rank.
    assert_error_at(
        &format!("{GEMM_HEAD}C[i, j] += A[i] * B[0, j]\n"),
        4,
        12,
        &["shape mismatch", "`A` has 2 dimensions"],
    );
    // An index out of range.
    assert_error_at(
        &format!("{GEMM_HEAD}C[i, j] += A[i, k] * B[k + 1, j]\n"),
        4,
        22,
        &["index out of range", "`B` dimension 0 has extent 3", "k + 1", "1..=3"],
    );
    // A stage reading a buffer written later.
    assert_error_at(
        "input A[4]\ntemp T[4]\noutput C[4]\nC[i] = T[i] * 2.0\nT[i] = A[i]\n",
        4,
        8,
        &["stage `C` reads `T` before any stage writes it", "written by a later stage"],
    );
    // A stage reading its own output.
    assert_error_at("input A[4]\noutput C[4]\nC[i] = C[i] + A[i]\n", 3, 8, &["may not read its own output"]);
    // A reduction axis on an assignment.
    assert_error_at(&format!("{GEMM_HEAD}C[i, j] = A[i, k] * B[k, j]\n"), 4, 16, &["use `+=` or `max=`"]);
    // Writing an input.
    assert_error_at("input A[4]\nA[i] = 1.0\n", 2, 1, &["`A` is an input"]);
    // A buffer written by two stages.
    assert_error_at(
        "input A[4]\noutput C[4]\nC[i] = A[i]\nC[i] = A[i] * 2.0\n",
        4,
        1,
        &["already written by an earlier stage"],
    );
    // An axis that cannot be sized.
    assert_error_at("input A[4]\noutput C[4]\nC[i] += A[i + r]\n", 3, 15, &["cannot infer the extent of axis `r`"]);
    // An axis named like a buffer.
    assert_error_at("input A[4]\noutput C[4]\nC[A] = 1.0\n", 3, 3, &["axis `A` has the name of a buffer"]);
}

#[test]
fn program_level_errors_name_the_buffer() {
    let (_, message) = error("input A[4]\noutput C[4]\n");
    assert!(message.contains("output buffer `C` is never written"), "{message}");
    let (_, message) = error("input A[4]\ninput A[5]\noutput C[4]\nC[i] = A[i]\n");
    assert!(message.contains("buffer `A` is declared twice"), "{message}");
}

#[test]
fn a_program_that_computes_nothing_is_refused() {
    // Each was accepted and "tuned": an empty kernel, a 0 ms baseline.
    for text in ["", "# only a comment\n", "workload w\n", "input A[8]\n", "input A[8]\ninput B[4]\n"] {
        let (_, m) = error(text);
        assert!(m.contains("the program computes nothing: it has no stage"), "{text:?}: {m}");
    }
    // Temporaries but no output: nothing would come back.
    let (_, m) = error("input A[8]\ntemp T[8]\nT[i] = A[i] * 2.0\n");
    assert!(m.contains("no `output` buffer") && m.contains("declared: A, T"), "{m}");
}

#[test]
fn unknown_workload_names_list_the_builtin_ones() {
    let e = load_workload("gemm-1024", Size::Bench).unwrap_err();
    let message = e.to_string();
    assert!(matches!(e, WorkloadError::Unknown { .. }));
    assert!(message.contains("unknown workload `gemm-1024`") && message.contains("llama3-8b-attn"), "{message}");
}

#[test]
fn a_long_stage_may_span_lines_inside_brackets() {
    let text = format!("{GEMM_HEAD}C[i, j] += A[i,\n  k] * B[k,\n  j]\n");
    let p = parse_workload(&text, "multi.colt", Size::Bench).unwrap();
    assert_eq!(p.macs(), 24);
}

#[test]
fn the_workload_name_comes_from_the_header_or_else_the_file_stem() {
    let p = parse_workload(
        GEMM_HEAD
            .to_string()
            .as_str()
            .replace("output C[4, 2]\n", "output C[4, 2]\nC[i, j] += A[i, k] * B[k, j]\n")
            .as_str(),
        "dir/my-layer.colt",
        Size::Bench,
    )
    .unwrap();
    assert_eq!(p.name(), "my-layer");
    let p = parse_workload(
        &format!("workload mine.v2 # a comment\n{GEMM_HEAD}C[i, j] += A[i, k] * B[k, j]\n"),
        "x.colt",
        Size::Bench,
    )
    .unwrap();
    assert_eq!(p.name(), "mine.v2");
}

#[test]
fn oversized_buffers_and_overflowing_indices_are_refused() {
    // 2^64 elements: the product wrapped to 0, and the buffer was empty.
    let (_, m) = error("input A[4294967296, 4294967296]\noutput C[4]\nC[i] = A[0, i]\n");
    assert!(m.contains("buffer `A` of shape [4294967296, 4294967296]") && m.contains("MAX_BUFFER_ELEMENTS"), "{m}");
    // 10^12 elements: accepted, then the interpreter's allocation aborted.
    let (_, m) = error("input A[1000000, 1000000]\noutput C[1000000, 1000000]\nC[i, j] = A[i, j] * 2.0\n");
    assert!(m.contains("buffer `A`") && m.contains("more than 1073741824 elements"), "{m}");
    // Two buffers under the limit each, over it together.
    let (_, m) = error("input A[32768, 32768]\ninput B[32768, 32768]\noutput C[4]\nC[i] = A[i, 0] + B[i, 0]\n");
    assert!(m.contains("2147483652 elements together") && m.contains("MAX_PROGRAM_ELEMENTS"), "{m}");
    // An index whose range wrapped into the buffer.
    assert_error_at(
        "input A[8]\noutput C[8]\nC[i] = A[i * 7905747460161236407]\n",
        3,
        8,
        &["`A` dimension 0", "MAX_INDEX_MAGNITUDE"],
    );
    // A part that overflows, brought back into range by a division: the
    // whole index's range looks fine, its evaluation wraps.
    assert_error_at(
        "input A[8]\noutput C[8]\nC[i] = A[(i * 4611686018427387904) / 4611686018427387904]\n",
        3,
        8,
        &["`A` dimension 0", "MAX_INDEX_MAGNITUDE"],
    );
}

#[test]
fn deep_long_and_huge_texts_are_refused_before_they_overflow_the_stack() {
    let stage = |rhs: String| format!("input A[8]\noutput C[8]\nC[i] = {rhs}\n");
    // 5,000 parentheses aborted the process (stack overflow in the parser).
    let (_, m) = error(&stage(format!("{}A[i]{}", "(".repeat(5000), ")".repeat(5000))));
    assert!(m.contains("nests deeper than 64 levels (MAX_NESTING)"), "{m}");
    let (_, m) = error(&stage(format!("{}A[i]", "- ".repeat(5000))));
    assert!(m.contains("MAX_NESTING"), "{m}");
    // A flat sum of 3,000 loads is a left-deep tree 3,000 levels deep.
    let (_, m) = error(&stage(format!("A[i]{}", " + A[i]".repeat(3000))));
    assert!(m.contains("deeper than 256 levels (MAX_EXPRESSION_DEPTH)"), "{m}");
    let (_, m) = error(&stage(format!("select({}i < 1, A[i], 0.0)", "i < 1 && ".repeat(3000))));
    assert!(m.contains("MAX_EXPRESSION_DEPTH"), "{m}");
    let (_, m) = error(&format!("workload w\n{}", "\n".repeat(1 << 20)));
    assert!(m.contains("MAX_WORKLOAD_BYTES"), "{m}");
    // Inside the limits they parse, and mean what they say.
    let p = parse_workload(&stage(format!("{}A[i]{}", "(".repeat(60), ")".repeat(60))), "ok.colt", Size::Bench);
    assert!(p.is_ok(), "{p:?}");
    let p = parse_workload(&stage(format!("A[i]{}", " + A[i]".repeat(200))), "ok.colt", Size::Bench).unwrap();
    let buffers = colt_ir::interp::evaluate(&p, 1);
    let (a, c) = (&buffers[0], &buffers[1]);
    assert!((c[3] - 201.0 * a[3]).abs() < 1e-3 * a[3].abs().max(1.0), "{} {}", c[3], a[3]);
}
