//! Fused sibling reductions and epilogues (`schedule::fusion`): the edits
//! read and print, are proposed only where legal, are refused with the rule
//! they break, and the kernels they make compute what the interpreter does.

mod common;

use colt_ir::data::{initial_buffers, max_rel_err, DEFAULT_SEED, TOLERANCE};
use colt_ir::schedule::{legal_edits, lower, sketches, Candidate, Edit, ScheduleError, Target};
use colt_ir::{interp, BufferRole, Program};
use std::sync::Arc;

fn apply_all(c: &Candidate, edits: &[&str]) -> Candidate {
    edits.iter().fold(c.clone(), |c, e| Edit::parse(e).unwrap().apply(&c).unwrap_or_else(|err| panic!("{err}")))
}

/// The sketch that inlines nothing.
fn untransformed(program: &Arc<Program>) -> Candidate {
    let sketch = sketches(program).into_iter().find(|k| (0..program.stages().len()).all(|s| !k.is_inlined(s))).unwrap();
    Candidate::initial(program.clone(), sketch)
}

fn swiglu_odd() -> Arc<Program> {
    Arc::new(
        common::held_back().into_iter().find(|p| p.name() == "swiglu-odd").expect("tests/workloads/swiglu-odd.colt"),
    )
}

fn assert_matches_reference(c: &Candidate, ntasks: usize) {
    let program = c.program();
    let reference = interp::evaluate(program, DEFAULT_SEED);
    let nest = lower(c);
    let inputs = initial_buffers(program, DEFAULT_SEED);
    let actual = common::run_c_kernel_tasks(program, &nest.to_c(), &inputs, ntasks, &nest.scratch);
    for (id, b) in program.buffers_with_role(BufferRole::Output) {
        let err = max_rel_err(&actual[id.0], &reference[id.0]);
        assert!(err <= TOLERANCE, "{}: {} off by {err}\n{}", program.name(), b.name, c.decisions_text());
    }
}

const FUSED_TILE: &[&str] = &[
    r#"tile(stage="G", axis="t", factors=[1,2,3])"#,
    r#"tile(stage="G", axis="f", factors=[1,1,16])"#,
    r#"tile(stage="G", axis="h", factors=[16])"#,
    r#"vectorize(stage="G", lanes=8)"#,
    r#"accumulate(stage="G", into="registers")"#,
    r#"parallel(stage="G", loops=1)"#,
    r#"fuse(stage="U", with="G")"#,
    r#"epilogue(stage="H", at="G")"#,
];

#[test]
fn the_edits_print_as_they_parse() {
    for text in [
        r#"fuse(stage="U", with="G")"#,
        r#"fuse(stage="U", with="none")"#,
        r#"epilogue(stage="H", at="G")"#,
        r#"epilogue(stage="H", at="none")"#,
    ] {
        assert_eq!(Edit::parse(text).unwrap().to_string(), text);
    }
    let error = Edit::parse(r#"fuse(stage="U")"#).unwrap_err();
    assert!(error.to_string().contains("missing `with=`"), "{error}");
}

/// Fused register tiles with edge tiles on every axis, a reduction split
/// over several `R0` steps (partial sums stored between them) and in one,
/// memory accumulators, on 1 and 3 tasks: the same outputs as the
/// interpreter, G (an output) stored, H computed in registers.
#[test]
fn fused_kernels_of_an_odd_swiglu_match_the_reference() {
    let program = swiglu_odd();
    let base = apply_all(&untransformed(&program), FUSED_TILE);
    let c_text = lower(&base).to_c();
    assert!(c_text.contains("U_acc0") && c_text.contains("G_acc0"), "one tile holds both accumulator sets");
    for extra in [
        vec![],
        vec![r#"tile(stage="G", axis="h", factors=[67])"#],
        vec![r#"accumulate(stage="G", into="memory")"#],
        vec![r#"epilogue(stage="H", at="none")"#],
        vec![
            r#"tile(stage="G", axis="t", factors=[1,2,1])"#,
            r#"vectorize(stage="G", lanes=1)"#,
            r#"tile(stage="G", axis="f", factors=[2,2,5])"#,
        ],
        vec![
            r#"parallel(stage="G", loops=0)"#,
            r#"tile(stage="Y", axis="t", factors=[1,2,1])"#,
            r#"tile(stage="Y", axis="h", factors=[1,1,67])"#,
            r#"compute_at(stage="G", at="Y.t1")"#,
        ],
    ] {
        let c = apply_all(&base, &extra);
        for ntasks in [1, 3] {
            assert_matches_reference(&c, ntasks);
        }
    }
}

#[test]
fn edits_of_a_leader_are_its_siblings_and_edits_of_a_fused_stage_are_refused() {
    let program = swiglu_odd();
    let c = apply_all(&untransformed(&program), FUSED_TILE);
    let tiled = apply_all(&c, &[r#"tile(stage="G", axis="h", factors=[8])"#]);
    assert_eq!(tiled.stages()[1].tiles, tiled.stages()[0].tiles, "U follows G");
    let reason = common::illegal(&c, r#"tile(stage="U", axis="h", factors=[8])"#);
    assert!(matches!(reason, ScheduleError::SiblingDecisionsDiffer { .. }), "{reason}");
    assert!(reason.to_string().contains("edit `G` instead"), "{reason}");
    let reason = common::illegal(&c, r#"vectorize(stage="H", lanes=8)"#);
    assert!(matches!(reason, ScheduleError::EpilogueHasDecisions { .. }), "{reason}");
    // Unfused, U keeps G's decisions as its own and H gets its loops back.
    let apart = apply_all(&c, &[r#"epilogue(stage="H", at="none")"#, r#"fuse(stage="U", with="none")"#]);
    assert_eq!(apart.stages()[1].tiles, c.stages()[0].tiles);
    assert!(apart.decisions_text().contains("U: at=root"), "{}", apart.decisions_text());
}

#[test]
fn illegal_fusions_name_the_stage_and_the_rule() {
    let program = swiglu_odd();
    let c = untransformed(&program);
    let cases = [
        (r#"fuse(stage="G", with="U")"#, "a stage is fused with an earlier one"),
        (r#"fuse(stage="H", with="G")"#, "only reductions are fused as siblings"),
        (r#"fuse(stage="Y", with="G")"#, "their axes differ"),
        (r#"epilogue(stage="H", at="G")"#, "it reads `U`, which the register tile of `G` does not hold"),
        (r#"epilogue(stage="U", at="G")"#, "only an elementwise stage is an epilogue"),
    ];
    for (edit, expected) in cases {
        let reason = common::illegal(&c, edit);
        assert!(matches!(reason, ScheduleError::FusionIllegal { .. }), "{edit}: {reason}");
        assert!(reason.to_string().contains(expected), "{edit}: {reason}");
    }
    // A reduction that reads its would-be leader depends on it.
    let chain = "workload chain\ninput A[5, 7]\ninput B[7, 6]\ntemp P[5, 6]\noutput Q[5, 6]\n\
                 P[i, j] += A[i, k] * B[k, j]\nQ[i, j] += P[i, j] * A[i, k]\n";
    let chain = Arc::new(colt_ir::parse_workload(chain, "chain.colt", colt_ir::Size::Bench).unwrap());
    let reason = common::illegal(&untransformed(&chain), r#"fuse(stage="Q", with="P")"#);
    assert!(reason.to_string().contains("it depends on `P`: it reads its output `P`"), "{reason}");
    // Lanes on the reduction axis (rfactor) and a fused register tile's
    // lanes on the spatial axis exclude each other.
    let twin = "workload twin\ninput W1[6, 32]\ninput W2[6, 32]\ninput x[32]\noutput A[6]\noutput B[6]\n\
                A[n] += W1[n, k] * x[k]\nB[n] += W2[n, k] * x[k]\n";
    let twin = Arc::new(colt_ir::parse_workload(twin, "twin.colt", colt_ir::Size::Bench).unwrap());
    let lanes = apply_all(
        &untransformed(&twin),
        &[r#"tile(stage="A", axis="k", factors=[8])"#, r#"rfactor(stage="A", lanes=8)"#],
    );
    let reason = common::illegal(&lanes, r#"fuse(stage="B", with="A")"#);
    assert!(reason.to_string().contains("`A` vectorises its reduction (rfactor)"), "{reason}");
    let fused = apply_all(&c, &[r#"fuse(stage="U", with="G")"#]);
    let wide = [
        r#"tile(stage="G", axis="t", factors=[1,1,8])"#,
        r#"tile(stage="G", axis="f", factors=[1,1,3])"#,
        r#"accumulate(stage="G", into="registers")"#,
    ];
    let fits = apply_all(&fused, &wide[..2]);
    let reason = common::illegal(&fits, wide[2]);
    assert!(matches!(reason, ScheduleError::RegisterTileTooLarge { count: 48, .. }), "{reason}");
    let unknown = Edit::parse(r#"fuse(stage="U", with="Q")"#).unwrap().apply(&c).unwrap_err();
    assert!(unknown.to_string().contains("no stage `Q`"), "{unknown}");
    // OpenCL's space has no fusion.
    let opencl = Candidate::initial_on(program.clone(), c.sketch().clone(), Target::OpenCl);
    let reason = common::illegal(&opencl, r#"fuse(stage="U", with="G")"#);
    assert!(matches!(reason, ScheduleError::FusionOnOpenCl { .. }), "{reason}");
    assert!(!legal_edits(&opencl).iter().any(|e| matches!(e, Edit::Fuse { .. } | Edit::Epilogue { .. })));
}

/// `legal_edits` offers `fuse(U, with=G)` (the only sibling pair) and, once
/// fused, `epilogue(H, at=G)` and the undoing edits, nothing else.
#[test]
fn legal_edits_offer_fusion_exactly_where_it_is_legal() {
    let program = swiglu_odd();
    let fusion_edits = |c: &Candidate| -> Vec<String> {
        legal_edits(c)
            .into_iter()
            .filter(|e| matches!(e, Edit::Fuse { .. } | Edit::Epilogue { .. }))
            .map(|e| e.to_string())
            .collect()
    };
    let c = untransformed(&program);
    assert_eq!(fusion_edits(&c), vec![r#"fuse(stage="U", with="G")"#]);
    let fused = apply_all(&c, &[r#"fuse(stage="U", with="G")"#]);
    assert_eq!(fusion_edits(&fused), vec![r#"fuse(stage="U", with="none")"#, r#"epilogue(stage="H", at="G")"#]);
    let both = apply_all(&fused, &[r#"epilogue(stage="H", at="G")"#]);
    assert_eq!(fusion_edits(&both), vec![r#"epilogue(stage="H", at="none")"#]);
    assert!(both.decisions_text().contains("U: fused with G\nH: epilogue of G\n"), "{}", both.decisions_text());
}

/// Both samplers draw fusions where the space has them: on the suite's
/// SwiGLU MLPs about half the samples fuse U with G, and some of those
/// compute H as G's epilogue.
#[test]
fn both_samplers_draw_fusions_on_swiglu_mlps() {
    use colt_ir::schedule::{Machine, Sampler};
    let avx512 = Sampler::Informed(Machine { lanes: 16, registers: 32, cores: 2 });
    for name in ["deepseek-r1-moe", "llama4-scout-mlp"] {
        let program = common::workload(name);
        for sampler in [Sampler::Uniform, avx512] {
            let samples: Vec<Candidate> =
                (0..48).map(|seed| sampler.sample(program.clone(), Target::Cpu, seed)).collect();
            let fused = samples.iter().filter(|c| c.stages()[1].fused.is_some()).count();
            let epilogues = samples.iter().filter(|c| c.stages()[2].fused.is_some()).count();
            assert!((8..=36).contains(&fused), "{name} {sampler}: {fused} of 48 fuse U with G");
            assert!(epilogues >= 2, "{name} {sampler}: {epilogues} of 48 compute H as an epilogue");
        }
    }
}

/// Fused candidates of random gated-MLP-like programs (odd shapes, sums and
/// maxima, leaders that are outputs, consumers of the epilogue) drawn by
/// both samplers, on 1 to 3 tasks, against the interpreter.
#[test]
fn fused_candidates_of_random_gated_programs_match_the_reference() {
    use colt_ir::schedule::{Machine, Sampler};
    let samplers = [Sampler::Uniform, Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 })];
    let count: usize = std::env::var("FUSION_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let mut checked = 0;
    for program_seed in 0u64.. {
        let def = common::random_program::random_program(program_seed);
        if !def.stages.iter().any(|s| s.output.text == "Gm") {
            continue;
        }
        let program = Arc::new(Program::from_def(&def).expect("random programs are valid"));
        for seed in 0..8u64 {
            let c = samplers[seed as usize % 2].sample(program.clone(), Target::Cpu, seed);
            if c.stages().iter().all(|s| s.fused.is_none()) {
                continue;
            }
            assert_matches_reference(&c, 1 + (seed as usize % 3));
            checked += 1;
        }
        if checked >= count {
            break;
        }
    }
}

/// The cost model sees what fusion saves: the fused nest's statements
/// read `X` once for both projections and never read `G` and `U` back (H is
/// computed from registers), so they access fewer bytes, in fewer phases,
/// for the same flops.
#[test]
fn the_features_price_the_shared_loads_and_the_skipped_pass() {
    let program = common::workload("deepseek-r1-moe");
    let sketch = sketches(&program).into_iter().find(|k| !k.is_inlined(2)).unwrap();
    let mut edits = Vec::new();
    for stage in ["G", "U"] {
        edits.extend([
            format!(r#"tile(stage="{stage}", axis="t", factors=[1,1,4])"#),
            format!(r#"tile(stage="{stage}", axis="f", factors=[1,2,32])"#),
            format!(r#"vectorize(stage="{stage}", lanes=16)"#),
            format!(r#"accumulate(stage="{stage}", into="registers")"#),
        ]);
    }
    edits.push(r#"tile(stage="H", axis="f", factors=[1,1,16])"#.to_string());
    edits.push(r#"vectorize(stage="H", lanes=16)"#.to_string());
    let refs: Vec<&str> = edits.iter().map(String::as_str).collect();
    let apart = apply_all(&Candidate::initial(program.clone(), sketch), &refs);
    let fused = apply_all(&apart, &[r#"fuse(stage="U", with="G")"#, r#"epilogue(stage="H", at="G")"#]);
    let (a, f) = (colt_ir::features::features(&apart).0, colt_ir::features::features(&fused).0);
    // 0: log2 flops, 1: log2 bytes accessed, 11: phases.
    assert!((a[0] - f[0]).abs() < 0.01, "same flops: {} vs {}", a[0], f[0]);
    // The reductions' own traffic dominates: X's broadcast is one float of
    // the 34 a step of both reads, H's pass 3 floats a point of 64x512.
    assert!(f[1] < a[1], "fewer bytes: {} vs {}", f[1], a[1]);
    assert!(f[11] < a[11], "fewer phases: {} vs {}", f[11], a[11]);
}
