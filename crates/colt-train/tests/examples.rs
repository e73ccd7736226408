//! Examples from a real tuning database (the latencies are set by the test:
//! what is tested is which edges and lineages become examples) and from the
//! corpus.

use colt_db::{JobState, NewJob, TrialRecord, TuningDb};
use colt_ir::schedule::{legal_edits, lower, Edit, Lineage, Machine, Sampler, Target};
use colt_policy::specialist::{MachineView, Vocabulary};
use colt_train::{database_examples, screened_examples, Source, TrainError};
use std::sync::Arc;

const TEXT: &str =
    "workload corpus-like-mm\ninput A[96, 64]\ninput B[64, 80]\noutput C[96, 80]\nC[i, j] += A[i, k] * B[k, j]\n";
const LABEL: &str = "cpu:Test CPU [avx2]";

fn informed() -> Sampler {
    Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 })
}

/// Records the lineage `edits` (of sampler seed 5) with `median_ms`;
/// `stale` records another fingerprint than its kernel's.
fn record(db: &mut TuningDb, job: i64, edits: &[Edit], median_ms: f64, index: u64, stale: bool) {
    let program = Arc::new(colt_ir::parse_workload(TEXT, "t", colt_ir::Size::Bench).unwrap());
    let lineage = Lineage { sampler: informed(), seed: 5, edits: edits.iter().map(|e| e.to_string()).collect() };
    let candidate = lineage.rebuild_on(&program, Target::Cpu).unwrap();
    let nest = lower(&candidate);
    db.record_trial(&TrialRecord {
        job,
        workload_fingerprint: colt_ir::workload_fingerprint(&program),
        target: LABEL.into(),
        sampler: lineage.sampler,
        seed: 5,
        edits: lineage.edits,
        decisions: candidate.render(),
        source_hash: "0".into(),
        fingerprint: nest.fingerprint() ^ u64::from(stale),
        verified: true,
        median_ms: Some(median_ms),
        min_ms: Some(median_ms),
        max_ms: Some(median_ms),
        runs: 3,
        failure: None,
        strategy: "evolutionary".into(),
        model: None,
        trial_index: index,
        created_unix: 1.7e9,
    })
    .unwrap();
}

fn new_job(db: &mut TuningDb) -> i64 {
    let program = colt_ir::parse_workload(TEXT, "t", colt_ir::Size::Bench).unwrap();
    let job = db
        .create_job(&NewJob {
            workload: "corpus-like-mm".into(),
            workload_text: TEXT.into(),
            workload_fingerprint: colt_ir::workload_fingerprint(&program),
            target: LABEL.into(),
            strategy: "evolutionary".into(),
            trials: 8,
            seed: 0,
            options_json: "{}".into(),
        })
        .unwrap();
    db.set_job_state(job, JobState::Done, None).unwrap();
    job
}

/// Three edits that apply one after the other from seed 5's sample.
fn path() -> Vec<Edit> {
    let program = Arc::new(colt_ir::parse_workload(TEXT, "t", colt_ir::Size::Bench).unwrap());
    let mut node = informed().sample(program, Target::Cpu, 5);
    let mut edits = Vec::new();
    for pick in [3, 11, 7] {
        let legal = legal_edits(&node);
        let edit = legal[pick % legal.len()].clone();
        node = edit.apply(&node).unwrap();
        edits.push(edit);
    }
    edits
}

#[test]
fn faster_children_and_the_best_lineage_become_examples_and_stale_records_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = TuningDb::open(&dir.path().join("t.db")).unwrap();
    let job = new_job(&mut db);
    let edits = path();
    // root 1.0 ms -> one edit 0.8 (faster) -> two edits 0.9 (slower) -> three edits 0.5 (faster than its parent).
    record(&mut db, job, &[], 1.0, 0, false);
    record(&mut db, job, &edits[..1], 0.8, 1, false);
    record(&mut db, job, &edits[..2], 0.9, 2, false);
    record(&mut db, job, &edits[..3], 0.5, 3, false);
    let vocabulary = Vocabulary::new();
    let found = database_examples(&db, None, &vocabulary, 1024, 0.0).unwrap();
    assert_eq!((found.jobs, found.trials, found.stale), (1, 4, 0));
    let improvements: Vec<_> = found.samples.iter().filter(|s| s.source == Source::Improvement).collect();
    let demonstrations: Vec<_> = found.samples.iter().filter(|s| s.source == Source::Demonstration).collect();
    // 0 -> 1 and 2 -> 3 improved; 1 -> 2 did not.
    assert_eq!(improvements.len(), 2);
    // The best (three edits) is demonstrated node by node.
    assert_eq!(demonstrations.len(), 3);
    let answer = |s: &colt_train::Sample| vocabulary.render(&s.example.tokens[s.example.answer_start..]);
    assert!(answer(improvements[0])
        .starts_with(&format!("<edit> {}", vocabulary.render(&vocabulary.encode(&edits[0].to_string())))));
    assert!(answer(improvements[0]).ends_with("<next> <model0> </s>"));
    assert!(found.labels.contains(LABEL));

    // At a minimum gain of 30%, 0 -> 1 (1.25 times faster) is left out and counted; 2 -> 3 (1.8) is kept.
    let gained = database_examples(&db, None, &vocabulary, 1024, 0.3).unwrap();
    let kept: Vec<_> = gained.samples.iter().filter(|s| s.source == Source::Improvement).collect();
    assert_eq!((kept.len(), gained.below_gain), (1, 1));
    assert_eq!(kept[0].example, improvements[1].example);

    // A stale record is counted, not trained on.
    let job2 = new_job(&mut db);
    record(&mut db, job2, &[], 1.0, 0, true);
    record(&mut db, job2, &edits[..1], 0.7, 1, false);
    let found = database_examples(&db, None, &vocabulary, 1024, 0.0).unwrap();
    assert!(found.stale >= 1, "{}", found.stale);

    // A label without records, and an empty database, are refused by name.
    let error = database_examples(&db, Some("cpu:Other"), &vocabulary, 1024, 0.0).unwrap_err();
    assert!(matches!(error, TrainError::NoRecordsForLabel { .. }));
    let message = error.to_string();
    assert!(message.contains("no trials measured on `cpu:Other`") && message.contains(LABEL), "{message}");
    let empty = TuningDb::open(&dir.path().join("empty.db")).unwrap();
    let message = database_examples(&empty, None, &vocabulary, 1024, 0.0).unwrap_err().to_string();
    assert!(message.contains("has no measured trials to train on"), "{message}");
}

#[test]
fn screened_examples_answer_an_edit_the_cost_model_ranks_faster() {
    let vocabulary = Vocabulary::new();
    let machine = MachineView { lanes: 16, registers: 32, cores: 2, caches_kib: vec![48, 2048] };
    let screened = screened_examples(0..12, 3, &machine, &vocabulary, 1024, 2);
    assert_eq!((screened.programs, screened.nodes), (12, 36));
    assert_eq!(screened.samples.len() + screened.no_better_edit + screened.too_long, 36);
    assert!(screened.samples.len() >= 12, "{} of 36 nodes had a better edit", screened.samples.len());
    for s in &screened.samples {
        assert!(s.workload.starts_with("corpus-"));
        let answer = vocabulary.render(&s.example.tokens[s.example.answer_start..]);
        assert!(answer.starts_with("<edit>") && answer.ends_with("<next> <model0> </s>"), "{answer}");
    }
}
