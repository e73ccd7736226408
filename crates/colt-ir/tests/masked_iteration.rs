//! Masked iteration (`iterate(stage="S", points="kept")`, see
//! `colt_ir::schedule::mask`): its edits print and parse, are offered only
//! where legal, are refused with the rule they break, and its loops skip
//! the tiles outside the mask. (That the kernels compute what the
//! reference interpreter computes is `schedule_fuzz`'s job.)

mod common;

use colt_ir::builder::{ax, cst, index_cmp, load, select, ProgramBuilder};
use colt_ir::schedule::{legal_edits, lower, sketches, Candidate, Edit, Iterate, ScheduleError, Target};
use colt_ir::{CmpOp, Combine, Program};
use common::masked_attention::{masked_attention, MaskShape, Shape};
use common::{illegal, workload};
use std::sync::Arc;

fn edit(text: &str) -> Edit {
    Edit::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The candidate of `program`'s sketch that inlines only `S` (the one
/// that inlines nothing, where there is no `S`), with `edits` applied.
fn with(program: Arc<Program>, edits: &[&str]) -> Candidate {
    let all = sketches(&program);
    let name = if program.stages().iter().any(|s| program.stage_name(s) == "S") { "inline(S)" } else { "none" };
    let sketch = all.iter().find(|k| k.name(&program) == name).unwrap_or(&all[0]).clone();
    let mut c = Candidate::initial(program, sketch);
    for text in edits {
        c = edit(text).apply(&c).unwrap_or_else(|e| panic!("{e}"));
    }
    c
}

fn attention(mask: MaskShape) -> Arc<Program> {
    Arc::new(masked_attention("masked", &Shape { heads: 2, queries: 11, keys: 11, length: 8, mask }))
}

#[test]
fn iterate_edits_print_and_parse_back() {
    for text in [r#"iterate(stage="O", points="kept")"#, r#"iterate(stage="O", points="all")"#] {
        assert_eq!(edit(text).to_string(), text);
    }
    assert_eq!(
        edit(r#"iterate(stage="O", points="kept")"#),
        Edit::Iterate { stage: "O".into(), points: Iterate::Kept }
    );
    let err = Edit::parse(r#"iterate(stage="O", points="half")"#).unwrap_err().to_string();
    assert!(err.contains("`points` is \"all\" or \"kept\""), "{err}");
}

/// On causal attention every stage has the mask `j - i <= 0`; a stage
/// whose skipped elements another stage reads (E, P) is offered only once
/// its readers skip them too, and skipping everything is legal.
#[test]
fn iterate_is_offered_where_legal_and_consumers_first() {
    let p = workload("llama3-8b-attn");
    let c = with(p.clone(), &[]);
    let offered: Vec<String> = legal_edits(&c)
        .into_iter()
        .filter(|e| matches!(e, Edit::Iterate { .. }))
        .map(|e| e.stage().to_string())
        .collect();
    assert_eq!(offered, ["QK", "M", "L", "O"], "E and P are read where they would be left unwritten");
    let all = [
        r#"iterate(stage="O", points="kept")"#,
        r#"iterate(stage="P", points="kept")"#,
        r#"iterate(stage="L", points="kept")"#,
        r#"iterate(stage="E", points="kept")"#,
        r#"iterate(stage="M", points="kept")"#,
        r#"iterate(stage="QK", points="kept")"#,
    ];
    let c = with(p, &all);
    assert!(c.decisions_text().lines().filter(|l| l.ends_with(" iterate=kept")).count() == 6, "{}", c.decisions_text());
    for stage in ["QK", "M", "E", "L", "P", "O"] {
        let i = c.stage_index(stage).unwrap();
        let mask = c.mask_facts().masks[i].as_ref().unwrap();
        assert_eq!(mask.text(&c.program().stages()[i]), "-i + j <= 0", "{stage}");
    }
}

#[test]
fn a_stage_without_a_mask_cannot_iterate_kept_points() {
    let c = with(workload("gemm-512"), &[]);
    let err = illegal(&c, r#"iterate(stage="C", points="kept")"#);
    assert_eq!(err, ScheduleError::IterateWithoutMask { stage: "C".into() });
    assert!(err.to_string().contains("it has no mask"), "{err}");
    assert!(!legal_edits(&c).iter().any(|e| matches!(e, Edit::Iterate { .. })));
}

#[test]
fn a_skipped_element_read_by_a_stage_that_does_not_skip_it_is_refused() {
    let p = workload("llama3-8b-attn");
    let c = with(p.clone(), &[]);
    let err = illegal(&c, r#"iterate(stage="E", points="kept")"#);
    assert!(
        matches!(&err, ScheduleError::IterateReadsSkipped { stage, reader, .. } if stage == "E" && reader == "L"),
        "{err}"
    );
    assert!(err.to_string().contains("iterate `L` over its kept points too"), "{err}");
    // Once every reader skips them, it is legal; undoing a reader's skip
    // is then refused in turn.
    let c = with(p, &[r#"iterate(stage="O", points="kept")"#, r#"iterate(stage="P", points="kept")"#]);
    let err = illegal(&c, r#"iterate(stage="O", points="all")"#);
    assert!(
        matches!(&err, ScheduleError::IterateReadsSkipped { stage, reader, .. } if stage == "P" && reader == "O"),
        "{err}"
    );
}

/// Rows the mask keeps nothing of have `M = -inf`, so `E = exp(-inf - -inf)`
/// is NaN there, and P·V's terms there are not zero: O cannot skip them.
/// With every row keeping something it can.
#[test]
fn a_reduction_cannot_skip_terms_that_are_not_its_identity() {
    let c = with(attention(MaskShape::Causal { offset: -3 }), &[]);
    let err = illegal(&c, r#"iterate(stage="O", points="kept")"#);
    assert!(matches!(&err, ScheduleError::IterateTermNotIdentity { stage, .. } if stage == "O"), "{err}");
    assert!(err.to_string().contains("identity 0"), "{err}");
    // The row max may skip: its terms outside the mask are -inf.
    with(attention(MaskShape::Causal { offset: -3 }), &[r#"iterate(stage="M", points="kept")"#]);
    with(attention(MaskShape::Causal { offset: 0 }), &[r#"iterate(stage="O", points="kept")"#]);
}

#[test]
fn a_stage_writing_an_output_cannot_leave_elements_unwritten() {
    let program = ProgramBuilder::new("lower-triangle")
        .input("A", &[9, 9])
        .output("T", &[9, 9])
        .stage(
            "T",
            &["i", "j"],
            Combine::Assign,
            select(index_cmp(ax("j"), CmpOp::Le, ax("i")), load("A", [ax("i"), ax("j")]), cst(0.0)),
        )
        .build()
        .unwrap();
    let c = with(Arc::new(program), &[]);
    let err = illegal(&c, r#"iterate(stage="T", points="kept")"#);
    assert_eq!(err, ScheduleError::IterateSkipsOutput { stage: "T".into(), output: "T".into() });
}

#[test]
fn a_mask_over_two_reduction_axes_is_refused() {
    let program = ProgramBuilder::new("triangle-sum")
        .input("A", &[8, 6, 6])
        .output("R", &[8])
        .stage(
            "R",
            &["b"],
            Combine::Sum,
            select(index_cmp(ax("j"), CmpOp::Le, ax("k")), load("A", [ax("b"), ax("j"), ax("k")]), cst(0.0)),
        )
        .build()
        .unwrap();
    let c = with(Arc::new(program), &[]);
    let err = illegal(&c, r#"iterate(stage="R", points="kept")"#);
    assert!(matches!(&err, ScheduleError::IterateMaskOverReductions { stage, .. } if stage == "R"), "{err}");
}

#[test]
fn opencl_does_not_offer_or_take_masked_iteration() {
    let p = workload("llama3-8b-attn");
    let sketch = sketches(&p)[0].clone();
    let c = Candidate::initial_on(p.clone(), sketch, Target::OpenCl);
    assert!(!legal_edits(&c).iter().any(|e| matches!(e, Edit::Iterate { .. })));
    let err = illegal(&c, r#"iterate(stage="O", points="kept")"#);
    assert_eq!(err, ScheduleError::IterateOnOpenCl { stage: "O".into() });
    for seed in 0..4 {
        let c = Candidate::sample_on(p.clone(), Target::OpenCl, seed);
        assert!(c.stages().iter().all(|s| s.iterate == Iterate::All));
    }
}

/// The loops skip the tiles outside the mask, the lowered trip counts
/// carry the skipped work (so the features and the cost model see it), and
/// a candidate that does not use the decision lowers as before (its text
/// and fingerprint unchanged).
#[test]
fn kept_iteration_skips_tiles_and_counts_the_work_it_skips() {
    let p = workload("llama3-8b-attn");
    let tiles = [r#"tile(stage="O", axis="i", factors=[8,2,8])"#, r#"tile(stage="O", axis="j", factors=[16])"#];
    let plain = with(p.clone(), &tiles);
    let kept = with(p, &[tiles[0], tiles[1], r#"iterate(stage="O", points="kept")"#]);
    let (plain_nest, kept_nest) = (lower(&plain), lower(&kept));
    assert_ne!(plain_nest.fingerprint(), kept_nest.fingerprint());
    let c = kept_nest.to_c();
    assert!(c.contains("colt_maxl") && !plain_nest.to_c().contains("colt_maxl"), "{c}");
    // R0's loop over j stops after the last tile the rows of the i tile keep.
    assert!(
        c.contains("for (long O_j0 = 0; O_j0 < colt_minl(128, colt_maxl(0 + 1, (O_i1 + 15) + 1)); O_j0 += 16)"),
        "{c}"
    );
    // O is half the program's flops; it does about half its work.
    let log2_flops = |c: &Candidate, n| colt_ir::features::features_of(c, n).0[0];
    let (plain_flops, kept_flops) = (log2_flops(&plain, &plain_nest), log2_flops(&kept, &kept_nest));
    assert!(kept_flops < plain_flops - 0.2, "log2 flops {kept_flops} against {plain_flops}");
    assert!(!plain.decisions_text().contains("iterate"));
}

/// A vectorised reduction (rfactor) skips masked points too: its `R1`
/// loop is clamped to the points its register tile keeps, in whole
/// vectors, every term guarded by the mask. (Against the reference:
/// `schedule_fuzz`'s `vectorised_reductions_skipping_masked_points…`.)
#[test]
fn a_vectorised_reduction_skips_masked_points_in_whole_vectors() {
    let p = workload("llama3-8b-attn");
    let c = with(p, &[r#"tile(stage="M", axis="j", factors=[32])"#, r#"rfactor(stage="M", lanes=16)"#]);
    let kept = edit(r#"iterate(stage="M", points="kept")"#).apply(&c).unwrap_or_else(|e| panic!("{e}"));
    assert!(kept.decisions_text().contains("rfactor=16 acc=memory iterate=kept"), "{}", kept.decisions_text());
    let source = lower(&kept).to_c();
    assert!(source.contains("M_j1_vstart") && source.contains("M_j1 < M_j1_split; M_j1 += 16"), "{source}");
    // The loop ends where row i's last kept point is, rounded up.
    assert!(source.contains("long M_j1_end = colt_minl(colt_minl(M_j0 + 32, 128), (M_i2 + 0) + 1);"), "{source}");
}

/// A fused register tile (here `S` computed on `QK`'s finished
/// accumulators) has loops of its own that the mask does not clamp or
/// guard: the two exclude each other, refused by name either way round.
#[test]
fn a_fused_register_tile_does_not_also_skip_masked_points() {
    let p = workload("llama3-8b-attn");
    let sketch = sketches(&p).into_iter().find(|k| k.name(&p) == "inline()").expect("the sketch inlining nothing");
    let plain = Candidate::initial(p, sketch);
    let fused = edit(r#"epilogue(stage="S", at="QK")"#).apply(&plain).unwrap_or_else(|e| panic!("{e}"));
    let err = illegal(&fused, r#"iterate(stage="QK", points="kept")"#);
    assert!(matches!(&err, ScheduleError::IterateExcluded { stage, .. } if stage == "QK"), "{err}");
    assert!(err.to_string().contains("it is fused with another stage"), "{err}");
    let kept = edit(r#"iterate(stage="QK", points="kept")"#).apply(&plain).unwrap_or_else(|e| panic!("{e}"));
    let err = illegal(&kept, r#"epilogue(stage="S", at="QK")"#);
    assert!(matches!(&err, ScheduleError::IterateExcluded { .. }), "{err}");
}
