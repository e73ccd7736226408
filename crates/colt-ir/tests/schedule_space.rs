//! The schedule space: sketches, sampling, edits (legal and each kind of
//! illegal), rendering, fingerprints and features.

mod common;

use common::{illegal, workload};

use colt_ir::features::{features, FEATURE_COUNT, FEATURE_NAMES};
use colt_ir::schedule::{
    legal_edits, lower, random_legal_edit, sketches, Accumulator, Candidate, Edit, EditError, Placement, ScheduleError,
    StageRule,
};
use colt_ir::Size;
use std::sync::Arc;

fn gemm_initial() -> Candidate {
    let p = workload("gemm-512");
    Candidate::initial(p.clone(), sketches(&p)[0].clone())
}

fn edit(text: &str) -> Edit {
    Edit::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn sketches_follow_the_rules() {
    let attn = workload("llama3-8b-attn");
    let all = sketches(&attn);
    // S, E and P are elementwise temporaries: 8 subsets of inlining.
    assert_eq!(all.len(), 8);
    assert_eq!(all[0].name(&attn), "inline(S,E,P)");
    assert_eq!(all[7].name(&attn), "inline()");
    // QK and O multiply loads that miss a spatial axis: multi-level tiling;
    // the row max and row sum get the simple rule.
    let rules = &all[7].rules;
    assert_eq!(rules[0], StageRule::MultiLevelTiling);
    assert_eq!(rules[2], StageRule::Simple);
    assert_eq!(rules[6], StageRule::MultiLevelTiling);
    let conv = workload("flux-conv");
    // The convolution's Yc is read by Y: a reduction, never inlined; Y is
    // an output.
    assert_eq!(sketches(&conv).len(), 1);
}

#[test]
fn sampling_is_deterministic_and_always_legal() {
    for w in colt_ir::SUITE {
        let p = Arc::new(w.program(Size::Bench));
        for seed in 0..20 {
            let a = Candidate::sample(p.clone(), seed);
            let b = Candidate::sample(p.clone(), seed);
            assert_eq!(a, b);
            assert_eq!(lower(&a).to_c(), lower(&b).to_c());
            a.check().unwrap_or_else(|e| panic!("{} seed {seed}: {e}", w.name));
        }
    }
}

#[test]
fn sampling_reaches_every_kind_of_decision() {
    let p = workload("llama3-8b-attn");
    let (mut at, mut vector, mut registers, mut parallel) = (0, 0, 0, 0);
    for seed in 0..50 {
        let c = Candidate::sample(p.clone(), seed);
        for s in c.stages() {
            at += matches!(s.placement, Placement::At { .. }) as usize;
            vector += (s.vector > 1) as usize;
            registers += (s.accumulator == Accumulator::Registers) as usize;
            parallel += (s.parallel > 0) as usize;
        }
    }
    assert!(at > 10 && vector > 10 && registers > 10 && parallel > 10, "{at} {vector} {registers} {parallel}");
}

#[test]
fn edits_print_and_parse_back() {
    let texts = [
        r#"tile(stage="C", axis="j", factors=[4,8,16])"#,
        r#"tile(stage="C", axis="k", factors=[8])"#,
        r#"unroll(stage="C", depth=64)"#,
        r#"compute_at(stage="P", at="O.i1")"#,
        r#"parallel(stage="O", loops=2)"#,
        r#"vectorize(stage="C", lanes=16)"#,
        r#"accumulate(stage="C", into="registers")"#,
        r#"pack(stage="QK", operand="K", layout="packed")"#,
        r#"pack(stage="C", operand="B", layout="blocked")"#,
        r#"pack(stage="C", operand="B", layout="original")"#,
    ];
    for text in texts {
        assert_eq!(edit(text).to_string(), text);
    }
    assert_eq!(edit(r#" tile( stage = "C" , axis="j", factors=[ 4, 8 ,16 ] ) "#).to_string(), texts[0]);
}

#[test]
fn malformed_edit_texts_say_what_is_wrong() {
    let cases = [
        ("tile", "expected `name(...)`"),
        (r#"tile(stage="C""#, "expected `)`"),
        (r#"spin(stage="C")"#, "unknown edit `spin`"),
        (r#"unroll(stage="C")"#, "missing `depth=`"),
        (r#"unroll(stage="C", depth=many)"#, "not a non-negative integer"),
        (r#"tile(stage="C", axis="j", factors=4)"#, "list of integers"),
        (r#"accumulate(stage="C", into="stack")"#, "\"memory\" or \"registers\""),
    ];
    for (text, expected) in cases {
        let err = Edit::parse(text).unwrap_err().to_string();
        assert!(err.contains(expected) && err.contains(text), "`{text}`: {err}");
    }
}

#[test]
fn every_listed_edit_applies_and_changes_the_candidate() {
    for w in ["gemm-512", "llama3-8b-attn", "flux-conv"] {
        let p = workload(w);
        let c = Candidate::sample(p, 3);
        let edits = legal_edits(&c);
        assert!(edits.len() > 10, "{w}: {} edits", edits.len());
        for e in &edits {
            let next = e.apply(&c).unwrap_or_else(|err| panic!("{w}: listed edit fails: {err}"));
            assert_ne!(next, c, "{w}: `{e}` changes nothing");
            // What a model reads is what the parser takes back.
            assert_eq!(Edit::parse(&e.to_string()).unwrap(), *e);
        }
    }
}

#[test]
fn a_random_legal_edit_is_each_legal_edit_about_equally_often() {
    for (w, seed) in [("gemm-512", 3), ("llama3-8b-attn", 5), ("flux-conv", 7)] {
        let c = Candidate::sample(workload(w), seed);
        let legal = legal_edits(&c);
        let mut counts = vec![0usize; legal.len()];
        let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let draws = 60 * legal.len();
        for _ in 0..draws {
            let (child, edit) = random_legal_edit(&c, &mut below).expect("the sample has legal edits");
            let k = legal.iter().position(|e| *e == edit).unwrap_or_else(|| panic!("{w}: `{edit}` is not legal"));
            assert_eq!(child, edit.apply(&c).unwrap(), "{w}: `{edit}` made another child");
            counts[k] += 1;
        }
        // 60 expected draws each: a legal edit drawn under 20 or over 120
        // times would mean the draw is not uniform (each bound is more
        // than five standard deviations away).
        let (rarest, commonest) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*rarest >= 20 && *commonest <= 120, "{w}: legal edits drawn {rarest}..{commonest} times, 60 expected");
    }
}

#[test]
fn edits_naming_what_does_not_exist_are_refused() {
    let c = gemm_initial();
    let err = edit(r#"unroll(stage="Z", depth=16)"#).apply(&c).unwrap_err();
    assert!(matches!(err, EditError::UnknownStage { .. }) && err.to_string().contains("no stage `Z`"), "{err}");
    let err = edit(r#"tile(stage="C", axis="q", factors=[1,1,1])"#).apply(&c).unwrap_err();
    assert!(matches!(err, EditError::UnknownAxis { .. }) && err.to_string().contains("no axis `q`"), "{err}");
    let err = edit(r#"compute_at(stage="C", at="C.x9")"#).apply(&c).unwrap_err();
    assert!(matches!(err, EditError::UnknownLoop { .. }), "{err}");
    let attn = workload("llama3-8b-attn");
    let inlined = Candidate::initial(attn.clone(), sketches(&attn)[0].clone());
    let err = edit(r#"unroll(stage="S", depth=16)"#).apply(&inlined).unwrap_err();
    assert!(matches!(err, EditError::StageInlined { .. }) && err.to_string().contains("inlined"), "{err}");
}

#[test]
fn illegal_tiles_are_refused_with_the_reason() {
    let c = gemm_initial();
    let e = illegal(&c, r#"tile(stage="C", axis="j", factors=[4,8])"#);
    assert!(matches!(e, ScheduleError::WrongFactorCount { expected: 3, got: 2, .. }), "{e}");
    let e = illegal(&c, r#"tile(stage="C", axis="j", factors=[4,0,8])"#);
    assert!(matches!(e, ScheduleError::ZeroFactor { .. }), "{e}");
    let e = illegal(&c, r#"tile(stage="C", axis="j", factors=[16,8,16])"#);
    assert!(e.to_string().contains("multiply to 2048, more than its extent 512"), "{e}");
    let attn = workload("llama3-8b-attn");
    let plain = Candidate::initial(attn.clone(), sketches(&attn)[7].clone());
    let e = illegal(&plain, r#"tile(stage="M", axis="i", factors=[2,1,4])"#);
    assert!(matches!(e, ScheduleError::LevelFixedBySketch { .. }), "{e}");
}

#[test]
fn illegal_parallelism_vectors_unrolls_and_accumulators_are_refused() {
    let c = gemm_initial();
    let e = illegal(&c, r#"parallel(stage="C", loops=3)"#);
    assert!(matches!(e, ScheduleError::ParallelTooDeep { loops: 3, spatial: 2, .. }), "{e}");
    let e = illegal(&c, r#"vectorize(stage="C", lanes=5)"#);
    assert!(matches!(e, ScheduleError::BadVectorWidth { .. }), "{e}");
    let e = illegal(&c, r#"vectorize(stage="C", lanes=8)"#);
    assert!(e.to_string().contains("8 lanes do not divide the register tile of axis `j` (1)"), "{e}");
    let e = illegal(&c, r#"unroll(stage="C", depth=7)"#);
    assert!(matches!(e, ScheduleError::BadUnroll { .. }), "{e}");
    let big = edit(r#"tile(stage="C", axis="i", factors=[1,1,64])"#).apply(&c).unwrap();
    let e = illegal(&big, r#"accumulate(stage="C", into="registers")"#);
    assert!(matches!(e, ScheduleError::RegisterTileTooLarge { count: 64, .. }), "{e}");
    // The row max reads S[h, i, j] with stride 128 along i, its innermost
    // spatial axis.
    let attn = workload("llama3-8b-attn");
    let plain = Candidate::initial(attn.clone(), sketches(&attn)[7].clone());
    let tiled = edit(r#"tile(stage="M", axis="i", factors=[1,1,8])"#).apply(&plain).unwrap();
    let e = illegal(&tiled, r#"vectorize(stage="M", lanes=8)"#);
    assert!(e.to_string().contains("`S` is read with stride 128"), "{e}");
    let e = illegal(&plain, r#"accumulate(stage="S", into="registers")"#);
    assert!(matches!(e, ScheduleError::RegistersWithoutReduction { .. }), "{e}");
    // The convolution's padding depends on x, its innermost axis.
    let conv = workload("flux-conv");
    let c = Candidate::initial(conv.clone(), sketches(&conv)[0].clone());
    let c = edit(r#"tile(stage="Yc", axis="x", factors=[1,1,16])"#).apply(&c).unwrap();
    let e = illegal(&c, r#"vectorize(stage="Yc", lanes=16)"#);
    assert!(e.to_string().contains("padding of `X` depends on it"), "{e}");
}

#[test]
fn packing_makes_reads_vectorisable_and_says_when_it_cannot() {
    // Attention's K is read along d, not j: packed, j goes last.
    let attn = workload("llama3-8b-attn");
    let plain = Candidate::initial(attn.clone(), sketches(&attn)[7].clone());
    let qk = edit(r#"tile(stage="QK", axis="j", factors=[1,1,16])"#).apply(&plain).unwrap();
    let e = illegal(&qk, r#"vectorize(stage="QK", lanes=16)"#);
    assert!(e.to_string().contains("`K` is read with stride 128"), "{e}");
    let packed = edit(r#"pack(stage="QK", operand="K", layout="packed")"#).apply(&qk).unwrap();
    let vectorised = edit(r#"vectorize(stage="QK", lanes=16)"#).apply(&packed).unwrap();
    assert_eq!(lower(&vectorised).scratch, vec![8 * 128 * 128]);
    // The convolution's X with its padding stored: 34x34 planes.
    let conv = workload("flux-conv");
    let c = Candidate::initial(conv.clone(), sketches(&conv)[0].clone());
    let c = edit(r#"tile(stage="Yc", axis="x", factors=[1,1,16])"#).apply(&c).unwrap();
    let c = edit(r#"pack(stage="Yc", operand="X", layout="packed")"#).apply(&c).unwrap();
    let c = edit(r#"vectorize(stage="Yc", lanes=16)"#).apply(&c).unwrap();
    assert_eq!(lower(&c).scratch, vec![128 * 34 * 34]);
    // Blocking needs the vector axis alone in one dimension: x + kx - 1 is not.
    let e = illegal(&c, r#"pack(stage="Yc", operand="X", layout="blocked")"#);
    assert!(matches!(e, ScheduleError::BlockNeedsVectorDimension { .. }), "{e}");
    // gemm's B in panels of the register tile's 32 columns.
    let g = gemm_initial();
    let g = edit(r#"tile(stage="C", axis="j", factors=[1,1,32])"#).apply(&g).unwrap();
    let g = edit(r#"pack(stage="C", operand="B", layout="blocked")"#).apply(&g).unwrap();
    let g = edit(r#"vectorize(stage="C", lanes=16)"#).apply(&g).unwrap();
    assert_eq!(lower(&g).scratch, vec![16 * 512 * 32]);
    assert!(g.render().contains("pack=B:blocked"));
    // A stage that does not read the operand cannot pack it.
    let e = illegal(&g, r#"pack(stage="C", operand="C", layout="packed")"#);
    assert!(matches!(e, ScheduleError::PackNotRead { .. }), "{e}");
    let e = edit(r#"pack(stage="C", operand="Q", layout="packed")"#).apply(&g).unwrap_err();
    assert!(matches!(e, EditError::UnknownOperand { .. }), "{e}");
}

#[test]
fn illegal_placements_are_refused_with_the_reason() {
    let attn = workload("llama3-8b-attn");
    let plain = Candidate::initial(attn.clone(), sketches(&attn)[7].clone());
    // O's loops: h0 i0 d0 h1 i1 d1 j0 ...; S2 loops cannot take stages.
    let e = illegal(&plain, r#"compute_at(stage="O", at="O.i0")"#);
    assert!(matches!(e, ScheduleError::AttachNotToLaterStage { .. }), "{e}");
    let e = illegal(&plain, r#"compute_at(stage="P", at="O.i2")"#);
    assert!(matches!(e, ScheduleError::AttachInsideTile { .. }), "{e}");
    // E is read by L, which runs before O.
    let e = illegal(&plain, r#"compute_at(stage="E", at="O.i0")"#);
    assert!(e.to_string().contains("its consumer `L` runs before `O`"), "{e}");
    // P at O's d0 loop is fine while d is one tile; split d and P would be
    // recomputed for every tile of d.
    let e = illegal(&plain, r#"compute_at(stage="P", at="O.d0")"#);
    assert!(e.to_string().contains("loop `d0` iterates 128 times"), "{e}");
    let whole_d = edit(r#"tile(stage="O", axis="d", factors=[1,1,128])"#).apply(&plain).unwrap();
    let fused = edit(r#"compute_at(stage="P", at="O.d0")"#).apply(&whole_d).unwrap();
    let e = illegal(&fused, r#"tile(stage="O", axis="d", factors=[1,1,32])"#);
    assert!(e.to_string().contains("loop `d0` iterates 4 times"), "{e}");
    // P inside O, then L into P (not a root).
    let e = illegal(&fused, r#"compute_at(stage="L", at="P.i0")"#);
    assert!(matches!(e, ScheduleError::AttachToNonRoot { .. }), "{e}");
    // L placed deeper than its consumer P.
    let deeper = edit(r#"compute_at(stage="P", at="O.h0")"#).apply(&plain).unwrap();
    let e = illegal(&deeper, r#"compute_at(stage="L", at="O.i0")"#);
    assert!(matches!(e, ScheduleError::ConsumerShallower { .. }), "{e}");
    // Parallel loops fused over h and i: nothing fits between them.
    let par = edit(r#"parallel(stage="O", loops=2)"#).apply(&plain).unwrap();
    let e = illegal(&par, r#"compute_at(stage="P", at="O.h0")"#);
    assert!(matches!(e, ScheduleError::AttachBetweenParallelLoops { .. }), "{e}");
}

#[test]
fn a_stage_computed_inside_another_blocks_panels_only_where_its_region_starts_on_one() {
    // The gate projection computed at the down projection's f0 loop: its
    // vector axis f is bound to that loop, whose tiles must hold whole
    // panels of Wg (the register tile's 16 columns).
    let mlp = workload("llama4-scout-mlp");
    let sketch = sketches(&mlp).into_iter().find(|k| k.name(&mlp) == "inline(H)").expect("the inline(H) sketch");
    let gate = [
        r#"tile(stage="Y", axis="h", factors=[1,80,16])"#,
        r#"tile(stage="G", axis="f", factors=[1,1,16])"#,
        r#"pack(stage="G", operand="Wg", layout="blocked")"#,
        r#"vectorize(stage="G", lanes=16)"#,
    ]
    .iter()
    .fold(Candidate::initial(mlp.clone(), sketch), |c, t| edit(t).apply(&c).unwrap());
    let straddling = edit(r#"tile(stage="Y", axis="f", factors=[24])"#).apply(&gate).unwrap();
    let e = illegal(&straddling, r#"compute_at(stage="G", at="Y.f0")"#);
    assert!(matches!(e, ScheduleError::BlockedPanelsStraddled { size: 24, width: 16, .. }), "{e}");
    assert!(e.to_string().contains("stage `G` cannot block `Wg` computed at `Y.f0`"), "{e}");
    let whole = edit(r#"tile(stage="Y", axis="f", factors=[32])"#).apply(&gate).unwrap();
    let placed = edit(r#"compute_at(stage="G", at="Y.f0")"#).apply(&whole).unwrap();
    assert!(placed.render().contains("G: at=Y.f0") && placed.render().contains("pack=Wg:blocked"));
    // Once placed, the loop's tiles cannot be made to straddle either.
    let e = illegal(&placed, r#"tile(stage="Y", axis="f", factors=[40])"#);
    assert!(matches!(e, ScheduleError::BlockedPanelsStraddled { size: 40, .. }), "{e}");
}

#[test]
fn attention_becomes_a_row_wise_pipeline() {
    // The row max, the exponentials, the row sum and the probabilities all
    // computed inside O's row loop: one phase instead of five passes.
    let attn = workload("llama3-8b-attn");
    let mut c = Candidate::initial(attn.clone(), sketches(&attn)[1].clone()); // S, E inlined... see name
    assert!(c.sketch().name(&attn).starts_with("inline("));
    for text in [
        r#"parallel(stage="O", loops=2)"#,
        r#"compute_at(stage="P", at="O.i0")"#,
        r#"compute_at(stage="L", at="O.i0")"#,
        r#"compute_at(stage="M", at="O.i0")"#,
    ] {
        if let Ok(next) = edit(text).apply(&c) {
            c = next;
        }
    }
    let groups = c.groups();
    let last = groups.last().unwrap();
    assert!(last.members.len() >= 2, "{}", c.render());
    assert!(c.render().contains("at=O.i0"));
}

#[test]
fn renders_are_short_and_fingerprints_tell_kernels_apart() {
    for w in colt_ir::SUITE {
        let p = Arc::new(w.program(Size::Bench));
        for seed in 0..5 {
            let c = Candidate::sample(p.clone(), seed);
            let text = c.render();
            // A few hundred tokens: about 4 characters a token.
            assert!(text.len() < 2400, "{}: {} characters\n{text}", w.name, text.len());
        }
        let a = lower(&Candidate::sample(p.clone(), 1));
        let b = lower(&Candidate::sample(p.clone(), 2));
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}

#[test]
fn features_are_finite_and_follow_the_schedule() {
    assert_eq!(FEATURE_NAMES.len(), FEATURE_COUNT);
    for w in colt_ir::SUITE {
        let p = Arc::new(w.program(Size::Bench));
        for seed in 0..10 {
            let f = features(&Candidate::sample(p.clone(), seed));
            assert!(f.0.iter().all(|x| x.is_finite()), "{}: {:?}", w.name, f.0);
        }
        // The last sketch keeps every stage: its naive nest computes
        // nothing twice.
        let recomputation = FEATURE_NAMES.iter().position(|n| n.contains("(recomputation)")).unwrap();
        let naive = features(&Candidate::initial(p.clone(), sketches(&p).last().unwrap().clone()));
        assert!(naive.0[recomputation].abs() < 1e-3, "{}: {}", w.name, naive.0[recomputation]);
    }
    let c = gemm_initial();
    let base = features(&c);
    let fast = [
        r#"tile(stage="C", axis="i", factors=[2,4,12])"#,
        r#"tile(stage="C", axis="j", factors=[4,4,32])"#,
        r#"tile(stage="C", axis="k", factors=[128])"#,
        r#"vectorize(stage="C", lanes=16)"#,
        r#"accumulate(stage="C", into="registers")"#,
        r#"parallel(stage="C", loops=1)"#,
    ]
    .iter()
    .fold(c.clone(), |c, t| edit(t).apply(&c).unwrap());
    let tuned = features(&fast);
    let index = |name: &str| FEATURE_NAMES.iter().position(|n| n.starts_with(name)).unwrap();
    // Same work, fewer bytes moved, vector and parallel work, more reuse.
    assert!((base.0[index("log2 total flops")] - tuned.0[index("log2 total flops")]).abs() < 0.2);
    assert!(tuned.0[index("log2 total bytes")] < base.0[index("log2 total bytes")]);
    assert_eq!(base.0[index("share of flops in vector")], 0.0);
    // 512 rows in tiles of 12: the last, partial tile runs its rows by
    // whole vectors too (its columns are whole), so every flop is in
    // vector code.
    assert!((tuned.0[index("share of flops in vector")] - 1.0).abs() < 1e-6);
    assert_eq!(tuned.0[index("share of flops inside a parallel")], 1.0);
    assert_eq!(tuned.0[index("share of flops in stages that accumulate")], 1.0);
    assert!(tuned.0[index("log2 flops per byte of the reg")] > base.0[index("log2 flops per byte of the reg")]);
}

/// gemm-512 tiled by the factors `i` and `j`, vectorised by 16 lanes, its
/// sums in registers where `registers`.
fn gemm_register_tile(i: &str, j: &str, registers: bool) -> Candidate {
    let mut edits = vec![
        format!(r#"tile(stage="C", axis="i", factors={i})"#),
        format!(r#"tile(stage="C", axis="j", factors={j})"#),
        r#"vectorize(stage="C", lanes=16)"#.to_string(),
    ];
    if registers {
        edits.push(r#"accumulate(stage="C", into="registers")"#.to_string());
    }
    edits.iter().fold(gemm_initial(), |c, t| edit(t).apply(&c).unwrap())
}

/// The register tile's loads per FMA, as the prior reads them: an 8-row
/// tile of 2 vectors broadcasts 8 scalars of A and loads 2 vectors of B
/// for its 16 FMAs; 16 rows of 1 vector, 16 and 1; without registers
/// accumulating, none are counted.
#[test]
fn the_register_tiles_loads_per_fma_follow_its_shape() {
    let index = |name: &str| FEATURE_NAMES.iter().position(|n| n.starts_with(name)).unwrap();
    let (broadcasts, vectors) = (index("scalars broadcast per vector FMA"), index("vectors loaded per vector FMA"));
    let tiled = |i: &str, j: &str, registers: bool| {
        let f = features(&gemm_register_tile(i, j, registers));
        (f.0[broadcasts], f.0[vectors])
    };
    assert_eq!(tiled("[2,8,8]", "[1,8,32]", true), (0.5, 0.125));
    assert_eq!(tiled("[2,4,16]", "[2,16,16]", true), (1.0, 0.0625));
    assert_eq!(tiled("[2,8,8]", "[1,8,32]", false), (0.0, 0.0));
}

/// The register block's flops per byte: one step of the reduction loads a
/// row of A's tile rows and one of B's vectors, and the sums, kept in
/// registers, are written once per 512 steps. gemm-512's 16-row tile of 2
/// vectors: 2 × 16 × 32 flops over 4 × (16 + 32 + 16 × 32 / 512) bytes =
/// 5.22; 8 rows, 3.16; 16 rows of 1 vector, 3.94. Sums kept in memory are
/// read and written every step: 2 × 16 × 32 / (4 × (16 + 32 + 512)) = 0.457.
#[test]
fn the_register_blocks_intensity_counts_the_sums_once_per_reduction() {
    let index = FEATURE_NAMES.iter().position(|n| n.starts_with("log2 flops per byte of the reg")).unwrap();
    let intensity = |i: &str, j: &str, registers: bool| {
        f64::from(features(&gemm_register_tile(i, j, registers)).0[index]).exp2() - 1.0
    };
    let close = |x: f64, want: f64| assert!((x - want).abs() < 2e-3 * want, "{x} against {want}");
    close(intensity("[2,2,16]", "[1,16,32]", true), 1024.0 / (4.0 * 49.0));
    close(intensity("[2,4,8]", "[1,16,32]", true), 512.0 / (4.0 * 40.5));
    close(intensity("[2,2,16]", "[2,16,16]", true), 512.0 / (4.0 * 32.5));
    close(intensity("[2,2,16]", "[1,16,32]", false), 1024.0 / (4.0 * 560.0));
}

/// The pack passes' traffic: gemm-512's `B` (512 x 512 floats) packed is
/// read once and written once a call, 2 MiB; `A` too, 4 MiB; none, 0.
#[test]
fn the_pack_bytes_are_every_packed_float_read_and_written_once() {
    let index = FEATURE_NAMES.iter().position(|n| n.starts_with("log2 bytes the pack passes")).unwrap();
    let packed = |operands: &[&str]| {
        let c = operands.iter().fold(gemm_initial(), |c, b| {
            edit(&format!(r#"pack(stage="C", operand="{b}", layout="packed")"#)).apply(&c).unwrap()
        });
        f64::from(features(&c).0[index])
    };
    let log2p = |x: f64| (1.0 + x).log2();
    assert_eq!(packed(&[]), 0.0);
    assert!((packed(&["B"]) - log2p(8.0 * 512.0 * 512.0)).abs() < 1e-4);
    assert!((packed(&["A", "B"]) - log2p(16.0 * 512.0 * 512.0)).abs() < 1e-4);
}
