//! Vectorised reductions (`rfactor`): the edit's text, where it is legal
//! and why not elsewhere, how candidates show it, what the cost model
//! sees, and that candidates without it are unchanged. (Correctness against
//! the interpreter is `schedule_fuzz`'s.)

mod common;

use common::{illegal, workload};

use colt_ir::features::{features, FEATURE_NAMES};
use colt_ir::schedule::{
    legal_edits, lower, sketches, Candidate, Edit, EditKind, Machine, Sampler, ScheduleError, Target,
};
use colt_ir::Size;
use std::sync::Arc;

fn apply(c: &Candidate, texts: &[&str]) -> Candidate {
    texts.iter().fold(c.clone(), |c, t| {
        Edit::parse(t).unwrap_or_else(|e| panic!("{e}")).apply(&c).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// llama3-8b-attn with `S` inlined (sketch 6) and nothing transformed.
fn attention() -> Candidate {
    let p = workload("llama3-8b-attn");
    let sketch = sketches(&p).into_iter().find(|k| k.name(&p) == "inline(S)").expect("the inline(S) sketch");
    Candidate::initial(p, sketch)
}

fn matvec(size: Size) -> Candidate {
    let path = common::repo_root().join("crates/colt-ir/tests/workloads/matvec-odd.colt");
    let p = Arc::new(colt_ir::load_workload(path.to_str().unwrap(), size).unwrap());
    Candidate::initial(p.clone(), sketches(&p)[0].clone())
}

#[test]
fn the_edit_prints_and_parses_back() {
    let text = r#"rfactor(stage="M", lanes=16)"#;
    let edit = Edit::parse(text).unwrap();
    assert_eq!(edit, Edit::Rfactor { stage: "M".into(), lanes: 16 });
    assert_eq!(edit.to_string(), text);
    assert_eq!(edit.kind(), EditKind::Rfactor);
    let error = Edit::parse(r#"rfactor(stage="M", lanes="x")"#).unwrap_err();
    assert!(error.to_string().contains("`lanes` takes an integer"), "{error}");
}

#[test]
fn a_reduction_along_its_contiguous_axis_takes_it_and_shows_it() {
    let c = apply(&attention(), &[r#"tile(stage="M", axis="j", factors=[32])"#, r#"rfactor(stage="M", lanes=16)"#]);
    let m = c.stage_index("M").unwrap();
    assert_eq!((c.stages()[m].rfactor, c.stages()[m].vector), (16, 1));
    let text = c.decisions_text();
    assert!(
        text.contains(
            "M: at=root tile h32=[1,1,1] i128=[1,1,1] r:j128=[32] parallel=0 vector=1 unroll=0 rfactor=16 acc=memory"
        ),
        "{text}"
    );
    // Only the stage that has it says so.
    assert_eq!(text.matches("rfactor=").count(), 1, "{text}");
    let source = lower(&c).to_c();
    assert!(source.contains("colt_hmax16(") && source.contains("M_j1 += 16"), "{source}");
    // The causal mask is a vector condition along j.
    assert!(source.contains("colt_vsel16(((colt_iota16() * 1 + (int)(M_j1)) <= "), "{source}");
    // A row sum reduces with a sum.
    let c = apply(&c, &[r#"tile(stage="L", axis="j", factors=[64])"#, r#"rfactor(stage="L", lanes=8)"#]);
    assert!(lower(&c).to_c().contains("colt_hsum8(L_vacc"));
}

#[test]
fn rfactor_moves_the_lanes_and_vectorize_moves_them_back() {
    let c = apply(
        &attention(),
        &[
            r#"tile(stage="M", axis="i", factors=[1,1,16])"#,
            r#"tile(stage="M", axis="j", factors=[16])"#,
            r#"pack(stage="M", operand="QK", layout="packed")"#,
            r#"vectorize(stage="M", lanes=16)"#,
        ],
    );
    let m = c.stage_index("M").unwrap();
    // The pack made i contiguous and j strided; rfactor reads QK in place.
    let r = apply(&c, &[r#"rfactor(stage="M", lanes=16)"#]);
    assert_eq!((r.stages()[m].vector, r.stages()[m].rfactor), (1, 16));
    assert!(r.stages()[m].packed.is_empty());
    // Back to the spatial axis: that axis needs its pack first, which the
    // vectorised reduction cannot read.
    let e = illegal(&r, r#"pack(stage="M", operand="QK", layout="packed")"#);
    assert!(e.to_string().contains("`QK_packed_for_M` is read with stride 128 along `j`"), "{e}");
    let back = apply(
        &r,
        &[
            r#"rfactor(stage="M", lanes=1)"#,
            r#"pack(stage="M", operand="QK", layout="packed")"#,
            r#"vectorize(stage="M", lanes=16)"#,
        ],
    );
    assert_eq!(back, c);
    // Where both axes read contiguously, one edit moves the lanes each way.
    let text = "workload outer\ninput x[64]\ninput z[32]\noutput y[32]\ny[i] += x[k] * z[i]\n";
    let p = Arc::new(colt_ir::parse_workload(text, "outer.colt", Size::Bench).unwrap());
    let c = apply(
        &Candidate::initial(p.clone(), sketches(&p)[0].clone()),
        &[r#"tile(stage="y", axis="i", factors=[1,1,8])"#, r#"tile(stage="y", axis="k", factors=[16])"#],
    );
    let r = apply(&c, &[r#"vectorize(stage="y", lanes=8)"#, r#"rfactor(stage="y", lanes=16)"#]);
    assert_eq!((r.stages()[0].vector, r.stages()[0].rfactor), (1, 16));
    let v = apply(&r, &[r#"vectorize(stage="y", lanes=8)"#]);
    assert_eq!((v.stages()[0].vector, v.stages()[0].rfactor), (8, 1));
}

#[test]
fn each_illegal_rfactor_names_the_stage_and_why() {
    let c = attention();
    // E is elementwise.
    let e = illegal(&c, r#"rfactor(stage="E", lanes=8)"#);
    assert!(matches!(e, ScheduleError::NotRfactorable { .. }), "{e}");
    assert!(
        e.to_string().contains("stage `E` cannot vectorise its reduction (rfactor): it has no reduction axis"),
        "{e}"
    );
    // O reads V[h / 4, j, d] with a stride of a row along j.
    let e = illegal(&c, r#"rfactor(stage="O", lanes=8)"#);
    assert!(
        e.to_string()
            .contains("stage `O` cannot vectorise its reduction (rfactor): `V` is read with stride 128 along `j`"),
        "{e}"
    );
    // The R1 factor must be a multiple of the lanes.
    let e = illegal(&c, r#"rfactor(stage="M", lanes=8)"#);
    assert_eq!(e, ScheduleError::RfactorDoesNotDivideTile { stage: "M".into(), lanes: 8, axis: "j".into(), r1: 1 });
    assert!(e.to_string().contains("8 rfactor lanes do not divide the inner tile factor of reduction axis `j` (1)"));
    let c = apply(&c, &[r#"tile(stage="M", axis="j", factors=[16])"#, r#"rfactor(stage="M", lanes=16)"#]);
    let e = illegal(&c, r#"tile(stage="M", axis="j", factors=[24])"#);
    assert!(matches!(e, ScheduleError::RfactorDoesNotDivideTile { r1: 24, .. }), "{e}");
    let e = illegal(&c, r#"rfactor(stage="M", lanes=12)"#);
    assert!(e.to_string().contains("12 is not a vector width"), "{e}");
    // The lanes live on one axis: an explicit schedule with both is refused.
    let m = c.stage_index("M").unwrap();
    let mut stages = c.stages().to_vec();
    stages[m].vector = 16;
    stages[m].tiles[1][2] = 16;
    stages[m].packed = vec![c.program().buffer_id("QK").unwrap().0];
    let e = Candidate::new(c.program_arc().clone(), c.sketch().clone(), stages).unwrap_err();
    assert_eq!(e, ScheduleError::RfactorWithSpatialVector { stage: "M".into(), vector: 16 });
    assert!(e.to_string().contains("needs vector=1"), "{e}");
}

#[test]
fn padding_or_division_along_the_reduction_axis_is_refused() {
    // The convolution's window axis reads padded input.
    let conv = workload("flux-conv");
    let c = Candidate::initial(conv.clone(), sketches(&conv)[0].clone());
    let stage = c.program().stage_name(&c.program().stages()[0]).to_string();
    let innermost = c.program().stages()[0].reduction_axes().last().unwrap().1.name.clone();
    let c = apply(&c, &[&format!(r#"tile(stage="{stage}", axis="{innermost}", factors=[1])"#)]);
    for lanes in [4, 8, 16] {
        let error = Edit::Rfactor { stage: stage.clone(), lanes }.apply(&c).unwrap_err().to_string();
        assert!(error.contains("cannot vectorise its reduction") || error.contains("do not divide"), "{error}");
    }
}

#[test]
fn opencl_does_not_offer_it_and_refuses_it() {
    let p = workload("llama3-8b-attn");
    let c = Sampler::Uniform.sample(p.clone(), Target::OpenCl, 3);
    assert!(legal_edits(&c).iter().all(|e| e.kind() != EditKind::Rfactor));
    let m = c.stage_index("M").unwrap();
    let mut stages = c.stages().to_vec();
    stages[m].rfactor = 4;
    stages[m].tiles[2] = vec![4];
    stages[m].vector = 1;
    let e = Candidate::new_on(p, c.sketch().clone(), stages, Target::OpenCl).unwrap_err();
    assert_eq!(e, ScheduleError::RfactorOnOpenCl { stage: "M".into() });
}

#[test]
fn legal_edits_offer_it_only_where_it_applies() {
    let c = apply(&attention(), &[r#"tile(stage="M", axis="j", factors=[32])"#]);
    let offered: Vec<String> =
        legal_edits(&c).iter().filter(|e| e.kind() == EditKind::Rfactor).map(|e| e.to_string()).collect();
    // M (j1 = 32: 4, 8 and 16 lanes) and QK (d1 = 1: none); L's j1 = 1 and
    // O's strided V take none; elementwise stages none.
    assert_eq!(
        offered,
        [r#"rfactor(stage="M", lanes=4)"#, r#"rfactor(stage="M", lanes=8)"#, r#"rfactor(stage="M", lanes=16)"#]
    );
    for edit in legal_edits(&c) {
        assert_eq!(Edit::parse(&edit.to_string()).unwrap(), edit);
    }
}

/// A candidate without the decision lowers, prints and fingerprints as
/// it did before the decision existed: the suite's golden files pin that,
/// and here no sampled candidate without it mentions it.
#[test]
fn candidates_without_it_do_not_show_it() {
    for w in colt_ir::SUITE {
        let p = Arc::new(w.program(Size::Bench));
        for seed in 0..8 {
            let c = Candidate::sample(p.clone(), seed);
            let uses = c.stages().iter().any(|s| s.rfactor > 1);
            assert_eq!(c.decisions_text().contains("rfactor="), uses, "{}", w.name);
            assert_eq!(
                lower(&c).prelude.contains("colt_hsum"),
                c.stages().iter().any(|s| s.rfactor > 1 && s.placement != colt_ir::schedule::Placement::Inlined),
                "{}",
                w.name
            );
        }
    }
}

/// Both samplers draw it: the uniform one where it leaves a reduction
/// scalar, the informed one most of the time where the reduction is
/// contiguous and vectorising the other axis would copy an operand.
#[test]
fn both_samplers_draw_it() {
    let p = workload("llama3-8b-attn");
    let informed = Sampler::Informed(Machine { lanes: 16, registers: 32, cores: 2 });
    let drawn = (0..64)
        .filter(|&seed| Sampler::Uniform.sample(p.clone(), Target::Cpu, seed).stages().iter().any(|s| s.rfactor > 1))
        .count();
    assert!((4..=60).contains(&drawn), "uniform: {drawn} of 64 samples have a vectorised reduction");
    // The informed sampler, stage by stage: the softmax's row max and row
    // sum (contiguous along the keys, where vectorising the rows instead
    // would copy the scores) take it three times in four each.
    let (mut taken, mut stages) = (0, 0);
    for seed in 0..64 {
        let c = informed.sample(p.clone(), Target::Cpu, seed);
        for (s, sched) in c.stages().iter().enumerate() {
            if ["M", "L"].contains(&p.stage_name(&p.stages()[s])) {
                stages += 1;
                taken += usize::from(sched.rfactor > 1);
            }
        }
    }
    assert_eq!(stages, 128);
    assert!((80..=112).contains(&taken), "{informed}: {taken} of {stages} row reductions vectorised");
}

fn feature(c: &Candidate, name: &str) -> f32 {
    let i = FEATURE_NAMES.iter().position(|n| *n == name).unwrap();
    features(c).0[i]
}

/// The cost model sees the vectorised reduction as vector work; and a
/// pack of the weights (read once a call) as the copy it is: the pack
/// phase's reads and writes count in the bytes the statements access.
#[test]
fn the_cost_model_sees_vector_work_and_prices_a_pack_as_a_copy() {
    let base = apply(
        &matvec(Size::Full),
        &[r#"tile(stage="y", axis="k", factors=[256])"#, r#"tile(stage="y", axis="n", factors=[1,1,16])"#],
    );
    let rfactor = apply(&base, &[r#"rfactor(stage="y", lanes=16)"#]);
    let vector = "share of flops in vector statements";
    assert_eq!(feature(&base, vector), 0.0);
    assert!(feature(&rfactor, vector) > 0.99, "{}", feature(&rfactor, vector));
    assert!(feature(&rfactor, "mean lanes per flop / 16") > 0.99);
    // Vectorising n instead packs W (stride K along n): 4096 x 4096
    // floats read and written once a call on top of the kernel's own.
    let packed =
        apply(&base, &[r#"pack(stage="y", operand="W", layout="packed")"#, r#"vectorize(stage="y", lanes=16)"#]);
    let bytes = |c: &Candidate| 2f64.powf(feature(c, "log2 total bytes accessed by statements") as f64) - 1.0;
    let copy = 2.0 * 4.0 * 4096.0 * 4096.0;
    let kernel = bytes(&rfactor);
    assert!(bytes(&packed) >= kernel + 0.9 * copy, "packed {} vs {} + copy {copy}", bytes(&packed), kernel);
    assert!(feature(&packed, FEATURE_NAMES[39]) > feature(&rfactor, FEATURE_NAMES[39]));
}
