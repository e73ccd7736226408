//! Recorded trial sequences: every strategy's measured candidates, in
//! order, for a few seeds and two workloads, with a deterministic target
//! (a latency that is a fixed function of the kernel's source, so no timing
//! noise reaches the cost model) and a scripted model (its answer a fixed
//! function of its prompt). The files under `tests/sequences/` were first
//! recorded before the search moved out of colt-actors into this crate
//! (commit 8be9cf1, by the same test against the old interface), and
//! recorded again when the informed sampler and screening became every
//! job's (issue 17; beam joined then); the same sequences must come out
//! after any change that claims not to change behaviour.
//!
//! `COLT_RECORD_SEQUENCES=1` rewrites the files (for a deliberate change of
//! behaviour: say which and why in the commit). A missing file fails.

use colt_ir::schedule::{Machine, Sampler};
use colt_ir::Program;
use colt_measure::{Kernel, MeasureError, Measurement, Phases, Target, Timing};
use colt_search::{
    run_search, Event, JobSettings, JobSpec, KnownRecord, ModelCall, ModelEntry, Outcome, PastTrial, Proposal,
    ProposalFailure, Proposer, RecordError, Recorder, Resume, Runner, SearchParams, Trial,
};
use crossbeam_channel::unbounded;
use parking_lot::Mutex;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const STRATEGIES: [&str; 9] = [
    "colt",
    "colt:no-course-alteration",
    "colt:separate-trees",
    "single",
    "mcts",
    "evolutionary",
    "random",
    "random:uniform",
    "beam",
];
const WORKLOADS: [&str; 2] = ["gemm-512", "llama3-8b-attn"];

fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The deterministic target and the scripted models.
#[derive(Default)]
struct Scripted {
    records: Mutex<Vec<Trial>>,
}

impl Proposer for Scripted {
    /// Any legal edit of the grammar, chosen by a hash of the prompt, and a
    /// next model chosen by the same hash: the answer depends on everything
    /// the prompt shows, so a changed prompt changes the sequence.
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure> {
        let (model, user, grammar) = (call.model, call.user, call.grammar);
        let h = fnv(user);
        let alternatives: Vec<String> = grammar
            .lines()
            .filter(|l| l.starts_with("edit-"))
            .filter_map(|l| l.split_once(" ::= ").map(|(_, r)| r))
            .flat_map(|r| r.split(" | "))
            .map(unliteral)
            .collect();
        let models: Vec<String> = grammar
            .lines()
            .find_map(|l| l.strip_prefix("model ::= "))
            .map(|r| r.split(" | ").map(unliteral).collect())
            .unwrap_or_default();
        if alternatives.is_empty() || h.is_multiple_of(11) {
            return Err(ProposalFailure(format!("{model}: scripted failure")));
        }
        // Both are JSON strings as the answer writes them.
        let json = &alternatives[(h % alternatives.len() as u64) as usize];
        let fallback = format!("\"{model}\"");
        let next = models.get(((h >> 32) % models.len().max(1) as u64) as usize).unwrap_or(&fallback);
        // Every seventh answer carries a second, unreadable edit.
        let extra = if h.is_multiple_of(7) { ", \"tile(stage=\\\"NOPE\\\")\"" } else { "" };
        Ok(Proposal {
            more_answers: Vec::new(),
            answer: format!("{{\"edits\": [{json}{extra}], \"next_model\": {next}}}"),
            tokens: 100,
            seconds: 0.01,
        })
    }
}

/// The text a GBNF string literal of the answer grammar matches: the
/// quotes around it removed and its escapes undone.
fn unliteral(literal: &str) -> String {
    let inner = literal.trim().strip_prefix('"').and_then(|l| l.strip_suffix('"')).expect("a GBNF string literal");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(escaped) => out.push(escaped),
            None => panic!("a GBNF literal ends in a lone backslash: {literal}"),
        }
    }
    out
}

impl Runner for Scripted {
    /// A latency from the source's hash; one kernel in 13 computes garbage.
    fn run(&self, _: &Arc<Program>, kernel: &Kernel) -> Result<Measurement, MeasureError> {
        let (name, h) = (kernel.name().to_string(), fnv(kernel.source()));
        if h.is_multiple_of(13) {
            return Err(MeasureError::WrongResult { kernel: name, buffer: "C".into(), max_rel_err: 1.0 });
        }
        let ms = 1.0 + (h % 10_000) as f64 / 100.0;
        Ok(Measurement {
            kernel: name,
            timing: Timing::from_samples(&[ms]).unwrap(),
            max_rel_err: 0.0,
            phases: Phases::default(),
        })
    }
}

impl Recorder for Scripted {
    fn record(&self, trial: &Trial) -> Result<(), RecordError> {
        self.records.lock().push(trial.clone());
        Ok(())
    }

    fn record_probe(&self, _job: i64, _probe: &colt_search::ProposalProbe) -> Result<(), RecordError> {
        Ok(())
    }
}

fn spec(workload: &str, strategy: &str, seed: u64, trials: usize) -> JobSpec {
    let program = Arc::new(colt_ir::builtin(workload).unwrap().program(colt_ir::Size::Bench));
    JobSpec {
        job: 1,
        workload: workload.into(),
        workload_fingerprint: colt_ir::workload_fingerprint(&program),
        target: Target::Cpu,
        program,
        models: vec![
            ModelEntry { name: "small".into(), parameters: 100_000_000 },
            ModelEntry { name: "large".into(), parameters: 1_000_000_000 },
        ],
        // A fixed machine, so that the sequences do not depend on the one
        // the test runs on.
        sampler: Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 }),
        settings: JobSettings {
            strategy: strategy.parse().unwrap(),
            trials,
            llm_calls: None,
            wall: None,
            // One thread: two threads interleave their expansions by timing.
            threads: 1,
            seed,
            // Screening of 64, not the default: the same code path at an
            // eighth of the cost.
            // No model-time budget: it reads the wall clock.
            params: SearchParams { screen: 64, model_share: None, ..SearchParams::default() },
        },
        naive_ms: Some(150.0),
        known: Vec::new(),
        warm: Vec::new(),
        resume: None,
        roofline: None,
    }
}

fn run(spec: &JobSpec) -> (Outcome, Vec<Trial>) {
    let services = Scripted::default();
    let (events, _inbox) = unbounded::<Event>();
    let outcome = run_search(spec, &services, &services, &services, &AtomicBool::new(false), &events).unwrap();
    let records = services.records.lock().clone();
    (outcome, records)
}

fn latency(trial: &Trial) -> Option<f64> {
    trial.timing.map(|t| t.median_ms)
}

fn describe(title: &str, records: &[Trial], outcome: &Outcome, out: &mut String) {
    let _ = writeln!(out, "## {title}");
    for r in records {
        let latency = latency(r).map_or("failed".to_string(), |ms| format!("{ms:.2}"));
        let _ = writeln!(
            out,
            "{} seed={} fp={:016x} {latency} model={} edits=[{}]",
            r.index,
            r.lineage.seed,
            r.fingerprint,
            r.model.as_deref().unwrap_or("-"),
            r.lineage.edits.join(" ; ")
        );
    }
    // Errors: failed calls and answers with no usable edit (both fall back
    // to a random edit), so a file shows that the scripted answers are read.
    let calls: Vec<String> =
        outcome.models.iter().map(|m| format!("{}={} errors={}", m.name, m.calls, m.errors)).collect();
    let _ = writeln!(
        out,
        "end reason={:?} best={:?} calls=[{}] course_alterations={}",
        outcome.reason,
        outcome.best.as_ref().map(|b| format!("{:.2}", b.0)),
        calls.join(","),
        outcome.course_alterations
    );
}

/// Two fresh jobs, a job resumed from its snapshot, and a job that starts
/// from an earlier job's records.
fn sequences(workload: &str, strategy: &str) -> String {
    let mut out = String::new();
    for seed in [1, 2] {
        let (outcome, records) = run(&spec(workload, strategy, seed, 24));
        describe(&format!("seed {seed}, 24 trials"), &records, &outcome, &mut out);
    }
    let (first, before) = run(&spec(workload, strategy, 3, 12));
    let mut resumed = spec(workload, strategy, 3, 24);
    let trials = before
        .iter()
        .map(|t| PastTrial {
            lineage: t.lineage.clone(),
            fingerprint: t.fingerprint,
            latency_ms: latency(t),
            model: t.model.clone(),
        })
        .collect();
    resumed.resume = Some(Resume { trials, snapshot: first.snapshot.clone() });
    let (outcome, after) = run(&resumed);
    let all: Vec<Trial> = before.iter().cloned().chain(after).collect();
    describe("seed 3, 12 trials, resumed to 24", &all, &outcome, &mut out);

    let mut warm = spec(workload, strategy, 4, 16);
    warm.known = before
        .iter()
        .filter_map(|r| {
            latency(r).map(|latency_ms| KnownRecord {
                lineage: r.lineage.clone(),
                fingerprint: r.fingerprint,
                latency_ms,
            })
        })
        .collect();
    let (outcome, records) = run(&warm);
    describe("seed 4, 16 trials, from seed 3's records", &records, &outcome, &mut out);
    out
}

fn check(workload: &str, strategy: &str) {
    let name = format!("{workload}-{}.txt", strategy.replace([':', '='], "_"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sequences").join(name);
    let actual = sequences(workload, strategy);
    if std::env::var_os("COLT_RECORD_SEQUENCES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (record with COLT_RECORD_SEQUENCES=1)", path.display()));
    if expected != actual {
        let diff = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{workload} {strategy}: the trial sequence changed at line {}:\nrecorded: {}\nnow:      {}",
            diff + 1,
            expected.lines().nth(diff).unwrap_or("<end>"),
            actual.lines().nth(diff).unwrap_or("<end>")
        );
    }
}

#[test]
fn recorded_sequences_of_the_tree_strategies() {
    for workload in WORKLOADS {
        for strategy in STRATEGIES.iter().filter(|s| !POPULATION_STRATEGIES.contains(s)) {
            check(workload, strategy);
        }
    }
}

const POPULATION_STRATEGIES: [&str; 4] = ["evolutionary", "random", "random:uniform", "beam"];

#[test]
fn recorded_sequences_of_evolutionary_random_and_beam_search() {
    for workload in WORKLOADS {
        for strategy in POPULATION_STRATEGIES {
            check(workload, strategy);
        }
    }
}
