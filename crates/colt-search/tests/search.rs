//! The search loop of every strategy, with a scripted model and a
//! deterministic stand-in for the target (latency from a hash of the
//! kernel's source, so every candidate has a fixed, distinct latency). The
//! real models and measurements are exercised end to end in `tests/`.

use colt_ir::schedule::{Lineage, Machine, Sampler, TileStyle};
use colt_ir::Program;
use colt_measure::{Kernel, MeasureError, Measurement, Phases, Target, Timing};
use colt_search::{
    run_search, Event, JobSettings, JobSpec, KnownRecord, ModelCall, ModelEntry, NodeData, Outcome, PastTrial,
    Proposal, ProposalFailure, Proposer, RecordError, Recorder, Resume, Runner, SearchError, SearchParams, StopReason,
    StrategyChoice, Trial, WarmRecord,
};
use crossbeam_channel::unbounded;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A deterministic target and a scripted model: the model answers the
/// first legal edit its grammar offers, names itself as the next model,
/// and counts its calls.
#[derive(Default)]
struct Scripted {
    records: Mutex<Vec<Trial>>,
    measured: Mutex<HashMap<String, usize>>,
    calls: Mutex<HashMap<String, usize>>,
    /// Measurements that fail as the machinery's fault (not the candidate's).
    machinery_failures: AtomicUsize,
    probes: Mutex<Vec<colt_search::ProposalProbe>>,
    /// Prompts that listed the legal edits.
    listing_prompts: AtomicUsize,
    /// How long each model call takes, for the model-time budget.
    call_delay: Duration,
    /// The calls' wall time in all.
    call_seconds: Mutex<f64>,
}

fn latency_of(source: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    1.0 + (h % 10_000) as f64 / 100.0
}

impl Proposer for Scripted {
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure> {
        let (model, grammar) = (call.model, call.grammar);
        *self.calls.lock().entry(model.to_string()).or_default() += 1;
        if call.user.contains("legal edits:\n") {
            self.listing_prompts.fetch_add(1, Ordering::Relaxed);
        }
        if !self.call_delay.is_zero() {
            let started = Instant::now();
            std::thread::sleep(self.call_delay);
            *self.call_seconds.lock() += started.elapsed().as_secs_f64();
        }
        // The grammar's first alternative of the first edit rule, unescaped
        // once (GBNF string → JSON string).
        let rule = grammar.lines().find(|l| l.starts_with("edit-0 ::=")).ok_or(ProposalFailure("no edit".into()))?;
        let first = rule.split(" ::= ").nth(1).unwrap().split(" | ").next().unwrap();
        let json = unliteral(first);
        Ok(Proposal {
            more_answers: Vec::new(),
            answer: format!("{{\"edits\": [{json}], \"next_model\": \"{model}\"}}"),
            tokens: 100,
            seconds: 0.01,
        })
    }
}

/// The text a GBNF string literal (`"…"`, escaped) matches.
fn unliteral(literal: &str) -> String {
    let inner = &literal[1..literal.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap() } else { c });
    }
    out
}

impl Runner for Scripted {
    fn run(&self, _: &Arc<Program>, kernel: &Kernel) -> Result<Measurement, MeasureError> {
        if self.machinery_failures.load(Ordering::Relaxed) > 0 {
            self.machinery_failures.fetch_sub(1, Ordering::Relaxed);
            return Err(MeasureError::Worker { kernel: kernel.name().to_string(), message: "scripted".into() });
        }
        *self.measured.lock().entry(kernel.source().to_string()).or_default() += 1;
        let ms = latency_of(kernel.source());
        Ok(Measurement {
            kernel: kernel.name().to_string(),
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

    fn record_probe(&self, _job: i64, probe: &colt_search::ProposalProbe) -> Result<(), RecordError> {
        self.probes.lock().push(probe.clone());
        Ok(())
    }
}

fn spec(strategy: StrategyChoice, trials: usize) -> JobSpec {
    let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
    JobSpec {
        job: 1,
        workload: "gemm-512".into(),
        workload_fingerprint: colt_ir::workload_fingerprint(&program),
        target: Target::Cpu,
        program,
        models: vec![
            ModelEntry { name: "small".into(), parameters: 100_000_000 },
            ModelEntry { name: "large".into(), parameters: 1_000_000_000 },
        ],
        sampler: Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 }),
        settings: JobSettings {
            strategy,
            trials,
            llm_calls: None,
            wall: None,
            threads: 2,
            seed: 5,
            // No model-time budget: it reads the wall clock, and these
            // tests compare runs call for call (its own test sets one).
            params: SearchParams { batch: 4, model_share: None, ..SearchParams::default() },
        },
        naive_ms: Some(150.0),
        known: Vec::new(),
        warm: Vec::new(),
        resume: None,
        roofline: None,
    }
}

fn search(spec: &JobSpec, services: &Scripted, stop: &AtomicBool) -> Result<Outcome, SearchError> {
    let (events, _inbox) = unbounded::<Event>();
    run_search(spec, services, services, services, stop, &events)
}

fn run(spec: &JobSpec, services: &Scripted) -> Outcome {
    search(spec, services, &AtomicBool::new(false)).unwrap()
}

/// A recorded trial, as a resumed job gets it back.
fn past(trial: &Trial) -> PastTrial {
    PastTrial {
        lineage: trial.lineage.clone(),
        fingerprint: trial.fingerprint,
        latency_ms: trial.timing.map(|t| t.median_ms),
        model: trial.model.clone(),
    }
}

fn latency(trial: &Trial) -> Option<f64> {
    trial.timing.map(|t| t.median_ms)
}

/// Every record: distinct candidates, consecutive indices, a lineage that
/// rebuilds the measured kernel.
fn check_records(spec: &JobSpec, records: &[Trial]) {
    let fingerprints: HashSet<u64> = records.iter().map(|r| r.fingerprint).collect();
    assert_eq!(fingerprints.len(), records.len(), "a candidate was measured twice");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.index, i as u64);
        let candidate = r.lineage.rebuild(&spec.program).unwrap();
        let nest = colt_ir::schedule::lower(&candidate);
        assert_eq!(nest.fingerprint(), r.fingerprint, "trial {i}'s lineage rebuilds another kernel");
        assert_eq!(latency(r), Some(latency_of(&nest.to_c())), "trial {i}'s latency is not its kernel's");
    }
}

#[test]
fn every_strategy_measures_distinct_candidates_up_to_its_budget() {
    for strategy in
        ["colt", "single", "mcts", "evolutionary", "random", "colt:no-course-alteration", "colt:separate-trees"]
    {
        let spec = spec(strategy.parse().unwrap(), 14);
        let services = Scripted::default();
        let outcome = run(&spec, &services);
        assert_eq!(outcome.reason, StopReason::TrialBudget, "{strategy}");
        let records = services.records.lock().clone();
        assert_eq!(records.len(), 14, "{strategy}");
        assert_eq!(outcome.curve.len(), 14, "{strategy}");
        check_records(&spec, &records);
        assert!(services.measured.lock().values().all(|&n| n == 1), "{strategy}: a kernel was timed twice");
        let best = records.iter().filter_map(latency).fold(f64::INFINITY, f64::min);
        assert_eq!(outcome.best.as_ref().map(|b| b.0), Some(best), "{strategy}: the best is not the fastest record");
        let calls: usize = services.calls.lock().values().sum();
        let reported: u64 = outcome.models.iter().map(|m| m.calls).sum();
        assert_eq!(calls as u64, reported, "{strategy}: calls made and counted differ");
        match strategy {
            "single" => assert_eq!(services.calls.lock().keys().collect::<Vec<_>>(), ["large"]),
            "colt" | "colt:no-course-alteration" | "colt:separate-trees" => assert!(calls > 0),
            _ => assert_eq!(calls, 0, "{strategy} must not call a model"),
        }
    }
}

#[test]
fn every_model_call_is_probed_and_measuring_the_probes_leaves_the_search_as_it_was() {
    for strategy in ["colt", "single"] {
        // One search thread: two threads' expansions race, so only a
        // one-thread job makes the same trials twice.
        let mut plain_spec = spec(strategy.parse().unwrap(), 16);
        plain_spec.settings.threads = 1;
        let plain_services = Scripted::default();
        let plain = run(&plain_spec, &plain_services);
        let calls: u64 = plain.models.iter().map(|m| m.calls).sum();
        assert!(calls > 0, "{strategy}");
        for m in &plain.models {
            let probes = plain.probes.iter().filter(|p| p.model == m.name).count() as u64;
            assert_eq!(probes, m.calls, "{strategy}: {} made {} calls, {probes} probes", m.name, m.calls);
        }
        assert_eq!(*plain_services.probes.lock(), plain.probes, "{strategy}: every probe is recorded");
        assert!(plain.probes.iter().all(|p| !p.measured && p.proposal_ms.is_none() && p.random_ms.is_none()));
        // The scripted model answers a legal edit of the node: it applies.
        assert!(plain.probes.iter().all(|p| p.proposal_predicted.is_some()), "{strategy}");

        let mut measured_spec = plain_spec.clone();
        measured_spec.settings.params.measure_probes = true;
        let services = Scripted::default();
        let measured = run(&measured_spec, &services);
        assert_eq!(measured.curve, plain.curve, "{strategy}: measuring probes changed the trials");
        let trials = |s: &Scripted| s.records.lock().iter().map(|r| r.fingerprint).collect::<Vec<_>>();
        assert_eq!(trials(&services), trials(&plain_services), "{strategy}: probes were recorded as trials");
        assert_eq!(measured.probes.len(), plain.probes.len());
        for (m, p) in measured.probes.iter().zip(&plain.probes) {
            assert!(m.measured, "{strategy}: a probe was left unmeasured");
            assert_eq!((m.proposal_predicted, m.random_predicted), (p.proposal_predicted, p.random_predicted));
            // The scripted target's latencies lie in [1, 101) ms.
            for ms in [m.proposal_ms, m.random_ms] {
                assert!(ms.is_some_and(|ms| (1.0..101.0).contains(&ms)), "{strategy}: {m:?}");
            }
        }
    }
}

#[test]
fn model_strategies_add_cheap_random_expansions_and_every_trial_has_a_source() {
    for (strategy, cheap) in [("colt", true), ("single", true), ("colt:cheap=0", false), ("mcts", true)] {
        let spec = spec(strategy.parse().unwrap(), 16);
        let services = Scripted::default();
        let outcome = run(&spec, &services);
        assert_eq!(outcome.random_expansions > 0, cheap, "{strategy}: {} random expansions", outcome.random_expansions);
        let trials: usize = outcome.sources.iter().map(|s| s.trials).sum();
        assert_eq!(trials, outcome.curve.len(), "{strategy}: {:?}", outcome.sources);
        assert_eq!(outcome.sources.iter().filter(|s| s.found_best).count(), 1, "{strategy}: {:?}", outcome.sources);
        let names: Vec<&str> = outcome.sources.iter().map(|s| s.source.as_str()).collect();
        assert!(names.contains(&"samples"), "{strategy}: the first level is samples: {names:?}");
        for name in &names {
            let known = ["samples", "random edits"].contains(name) || outcome.models.iter().any(|m| m.name == *name);
            assert!(known, "{strategy}: unknown source {name}");
        }
        // Every trial of a record names the same source as the report counts.
        let records = services.records.lock();
        let random = records.iter().filter(|r| r.model.is_none() && !r.lineage.edits.is_empty()).count();
        let reported = outcome.sources.iter().find(|s| s.source == "random edits").map_or(0, |s| s.trials);
        assert_eq!(random, reported, "{strategy}");
    }
    for bad in ["colt:cheap=x", "colt:cheap=-1", "colt:cheap=100000"] {
        assert!(bad.parse::<StrategyChoice>().is_err(), "{bad} was accepted");
    }
    assert_eq!("colt:cheap=8".parse::<StrategyChoice>().unwrap().to_string(), "colt:cheap=8");
}

#[test]
fn the_model_time_budget_bounds_the_models_share_of_the_job_and_the_cheap_search_goes_on() {
    let run_with = |strategy: &str, share: Option<f64>| {
        let mut spec = spec(strategy.parse().unwrap(), 16);
        spec.settings.params.model_share = share;
        // One thread: the calls' time is then the model phases' time.
        spec.settings.threads = 1;
        let services = Scripted { call_delay: Duration::from_millis(50), ..Scripted::default() };
        let outcome = run(&spec, &services);
        let calls: usize = services.calls.lock().values().sum();
        let call_seconds = *services.call_seconds.lock();
        (outcome, calls, call_seconds)
    };
    let (unbounded, unbounded_calls, _) = run_with("colt", None);
    // The strategy's option overrides the job's parameter.
    for (strategy, parameter, share) in [("colt", Some(0.5), 0.5), ("colt:model-share=0.25", Some(4.0), 0.25)] {
        let (outcome, calls, call_seconds) = run_with(strategy, parameter);
        // A call started before the budget ran out finishes: one
        // expansion's two calls (a proposal and a correction) can overrun.
        let overrun = 2.0 * 0.05 + 0.05;
        let rest = outcome.wall_s - call_seconds;
        assert!(
            call_seconds <= share * rest + overrun,
            "{strategy}: {call_seconds:.2} s of model calls against {rest:.2} s of the rest"
        );
        assert!(calls > 0, "{strategy}: the budget let no model call through");
        assert!(calls < unbounded_calls, "{strategy}: {calls} calls with the budget, {unbounded_calls} without");
        assert!(outcome.random_expansions > 0, "{strategy}: the cheap search stopped with the models");
        assert_eq!(outcome.curve.len(), 16, "{strategy}: the job did not measure its trials");
    }
    assert_eq!(unbounded.curve.len(), 16);
    // `single` is the largest model at every expansion: no budget.
    let (_, single_calls, _) = run_with("single", Some(0.5));
    assert!(single_calls >= unbounded_calls / 2, "single was budgeted: {single_calls} calls");
    for bad in ["colt:model-share=0", "colt:model-share=-1", "colt:model-share=x", "colt:model-share=inf"] {
        assert!(bad.parse::<StrategyChoice>().is_err(), "{bad} was accepted");
    }
    for good in ["colt:model-share=0.25", "colt:model-share=none"] {
        assert_eq!(good.parse::<StrategyChoice>().unwrap().to_string(), good);
    }
}

#[test]
fn prompts_list_the_legal_edits_only_when_asked() {
    for (strategy, listed) in [("colt", false), ("colt:no-legal-list", false), ("colt:legal-list", true)] {
        let services = Scripted::default();
        run(&spec(strategy.parse().unwrap(), 12), &services);
        let (calls, listing): (usize, usize) =
            (services.calls.lock().values().sum(), services.listing_prompts.load(Ordering::Relaxed));
        assert!(calls > 0, "{strategy}");
        assert_eq!(listing, if listed { calls } else { 0 }, "{strategy}: {listing} of {calls} prompts listed them");
    }
}

#[test]
fn separate_trees_give_each_model_its_own_tree_and_resume_with_them() {
    // Without the cheap random expansions: their candidates belong to no
    // model, and this test is about the models' trees.
    let strategy: StrategyChoice = "colt:separate-trees:cheap=0".parse().unwrap();
    // Without root widening and with a first level of 2: screened samples
    // belong to no model and, the best predicted of many, can take most of
    // a small budget's picks; this test is about whose tree a measured
    // candidate comes from.
    let no_widening = |mut spec: JobSpec| {
        spec.settings.params.root_widening = 0;
        spec.settings.params.initial = 2;
        spec
    };
    // 32 trials: at 24, large's tree once lost every pick (one failure in
    // eleven runs, during a full workspace run): the search threads'
    // timing decides which tree's pending candidates a round picks from.
    let first_spec = no_widening(spec(strategy.clone(), 32));
    let first = Scripted::default();
    let outcome = run(&first_spec, &first);
    // The scripted small model always names itself as the next model, so
    // in a shared tree the large one is called only on escalation; with a
    // tree each, the expansions go to the trees in turn.
    let calls = first.calls.lock().clone();
    let (small, large) = (calls["small"], calls["large"]);
    assert!(small.abs_diff(large) <= 2, "the trees were not expanded in turn: {calls:?}");
    let records = first.records.lock().clone();
    for model in ["small", "large"] {
        assert!(
            records.iter().any(|r| r.model.as_deref() == Some(model)),
            "no measured candidate came from {model}'s tree"
        );
    }
    let reports: Vec<&str> = outcome.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(reports, ["small", "large"]);

    let mut resumed = no_widening(spec(strategy, 40));
    resumed.resume = Some(Resume { trials: records.iter().map(past).collect(), snapshot: outcome.snapshot.clone() });
    let second = Scripted::default();
    let resumed_outcome = run(&resumed, &second);
    assert!(resumed_outcome.tree_nodes >= outcome.tree_nodes, "the resumed trees lost nodes");
    let all: Vec<Trial> = records.into_iter().chain(second.records.lock().clone()).collect();
    assert_eq!(all.len(), 40);
    check_records(&resumed, &all);

    // A two-tree snapshot is not a one-tree job's: the job says so and
    // starts its tree again from its trials rather than not at all.
    let mut wrong = spec(colt(), 20);
    wrong.resume = Some(Resume { trials: Vec::new(), snapshot: outcome.snapshot });
    let (events, inbox) = unbounded::<Event>();
    let services = Scripted::default();
    let restarted = run_search(&wrong, &services, &services, &services, &AtomicBool::new(false), &events).unwrap();
    assert_eq!(restarted.curve.len(), 20);
    let warning = inbox.try_iter().find_map(|e| match e {
        Event::Warning(w) => Some(w),
        _ => None,
    });
    let warning = warning.expect("a warning about the snapshot");
    assert!(warning.contains("tree snapshot") && warning.contains("starting again from its trials"), "{warning}");
}

#[test]
fn the_root_widens_with_the_best_predicted_fresh_samples_each_round() {
    let root_children = |spec: &JobSpec| {
        let outcome = run(spec, &Scripted::default());
        let tree: colt_tree::Tree<NodeData> = colt_tree::Tree::restore(&outcome.snapshot.unwrap()).unwrap();
        let root = tree.node(tree.root()).unwrap();
        root.children().count()
    };
    let mut fixed = spec(mcts(), 24);
    fixed.settings.params.root_widening = 0;
    assert_eq!(root_children(&fixed), 16, "without widening the root keeps its first level");
    // Up to 8 a round (6 rounds of 4 trials); fewer when a screened
    // sample is already one of the root's children.
    let widened = spec(mcts(), 24);
    let children = root_children(&widened);
    assert!(children > 16 + 8 && children <= 16 + 8 * 6, "the root has {children} children");
}

#[test]
fn model_proposals_reach_the_measured_trials() {
    // Without the cheap random-edit expansions: beside them (32 a round to
    // the models' 4) whether the scripted model's one fixed edit is among
    // a round's best predicted depends on how the two search threads
    // interleave, and a CI run saw none of it measured in 24 trials.
    let spec = spec("colt:cheap=0".parse().unwrap(), 24);
    let services = Scripted::default();
    run(&spec, &services);
    let records = services.records.lock();
    assert!(
        records.iter().any(|r| r.model.as_deref() == Some("small")),
        "no measured candidate came from the model's proposals"
    );
}

#[test]
fn a_resumed_job_measures_nothing_it_measured_before() {
    let first_spec = spec(mcts(), 8);
    let first = Scripted::default();
    let outcome = run(&first_spec, &first);
    let before = first.records.lock().clone();
    let mut resumed = spec(mcts(), 15);
    resumed.resume = Some(Resume { trials: before.iter().map(past).collect(), snapshot: outcome.snapshot });
    let second = Scripted::default();
    let outcome = run(&resumed, &second);
    let after = second.records.lock().clone();
    assert_eq!(after.len(), 7, "the resumed job measures up to its budget only");
    assert_eq!(outcome.curve.len(), 15);
    let all: Vec<Trial> = before.into_iter().chain(after).collect();
    check_records(&resumed, &all);
}

#[test]
fn known_records_are_never_measured_again() {
    let first_spec = spec(random(), 6);
    let first = Scripted::default();
    run(&first_spec, &first);
    let mut second_spec = spec(evolutionary(), 10);
    second_spec.known = first
        .records
        .lock()
        .iter()
        .map(|r| KnownRecord {
            lineage: r.lineage.clone(),
            fingerprint: r.fingerprint,
            latency_ms: latency(r).unwrap(),
        })
        .collect();
    let second = Scripted::default();
    let outcome = run(&second_spec, &second);
    let old: HashSet<u64> = first.records.lock().iter().map(|r| r.fingerprint).collect();
    assert!(second.records.lock().iter().all(|r| !old.contains(&r.fingerprint)));
    let known_best = second_spec.known.iter().map(|k| k.latency_ms).fold(f64::INFINITY, f64::min);
    assert!(outcome.best.unwrap().0 <= known_best, "a job starts from the best known kernel");
}

#[test]
fn the_model_call_budget_stops_the_job() {
    let mut spec = spec(colt(), 64);
    spec.settings.llm_calls = Some(3);
    let services = Scripted::default();
    let outcome = run(&spec, &services);
    assert_eq!(outcome.reason, StopReason::LlmBudget);
    let calls: usize = services.calls.lock().values().sum();
    // The budget is checked before each expansion; one expansion may add a
    // course-alteration call.
    assert!((3..=4).contains(&calls), "{calls} calls");
    assert!(services.records.lock().len() < 64);
}

#[test]
fn a_stop_request_ends_the_job_between_steps() {
    let spec = spec(mcts(), 64);
    let services = Scripted::default();
    let (events, inbox) = unbounded::<Event>();
    let stop = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        s.spawn(|| {
            for event in inbox {
                if matches!(event, Event::Trial(t) if t.index >= 5) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        });
        let outcome = run_search(&spec, &services, &services, &services, &stop, &events).unwrap();
        drop(events);
        outcome
    });
    assert_eq!(outcome.reason, StopReason::Stopped);
    let n = services.records.lock().len();
    assert!((6..64).contains(&n), "{n} trials");
    assert!(outcome.best.is_some(), "the best kernel so far is kept");
}

#[test]
fn a_failing_measurement_machinery_fails_the_job_with_its_reason() {
    let spec = spec(random(), 16);
    let services = Scripted { machinery_failures: AtomicUsize::new(100), ..Scripted::default() };
    let error = search(&spec, &services, &AtomicBool::new(false)).err().expect("the job fails");
    assert!(error.to_string().contains("measurement machinery"), "{error}");
    assert!(services.records.lock().is_empty(), "a machinery failure is not the candidate's trial");
}

fn colt() -> StrategyChoice {
    "colt".parse().unwrap()
}

fn mcts() -> StrategyChoice {
    "mcts".parse().unwrap()
}

fn random() -> StrategyChoice {
    "random".parse().unwrap()
}

fn evolutionary() -> StrategyChoice {
    "evolutionary".parse().unwrap()
}

#[test]
fn other_workloads_records_warm_the_model_up_and_stale_ones_are_named() {
    let conv = Arc::new(colt_ir::builtin("flux-conv").unwrap().program(colt_ir::Size::Bench));
    let fingerprint = |lineage: &Lineage| colt_ir::schedule::lower(&lineage.rebuild(&conv).unwrap()).fingerprint();
    let warm = |lineage: Lineage, fingerprint: u64| WarmRecord {
        program: conv.clone(),
        lineage,
        fingerprint,
        latency_ms: 2.0,
    };
    let mut spec = spec(random(), 4);
    let (one, two) = (Lineage::sampled(1), Lineage::sampled(2));
    let unbuildable =
        Lineage { edits: vec!["tile(stage=\"NOPE\", axis=\"i\", factors=[1,1,2])".into()], ..Lineage::sampled(1) };
    // Recorded as seed 1's kernel, but it rebuilds seed 2's: what a record
    // written before a sampler change looks like.
    let another_kernel = warm(two.clone(), fingerprint(&one));
    spec.warm = vec![
        warm(one.clone(), fingerprint(&one)),
        warm(two.clone(), fingerprint(&two)),
        warm(unbuildable, 0),
        another_kernel,
    ];
    let services = Scripted::default();
    let (events, inbox) = unbounded::<Event>();
    let outcome = run_search(&spec, &services, &services, &services, &AtomicBool::new(false), &events).unwrap();
    assert_eq!(outcome.warm_records, 2);
    let warnings: Vec<String> = inbox
        .try_iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(
        warnings,
        ["2 of 4 other workloads' records no longer build the kernel they were measured as; not learned from"]
    );
}

/// A known record whose lineage now rebuilds another kernel than the one
/// measured is not given that kernel's latency: the job neither starts
/// from it nor counts it as measured.
#[test]
fn a_known_record_that_rebuilds_another_kernel_is_not_believed() {
    let mut spec = spec(random(), 4);
    let (one, two) = (Lineage::sampled(1), Lineage::sampled(2));
    let fingerprint = |l: &Lineage| colt_ir::schedule::lower(&l.rebuild(&spec.program).unwrap()).fingerprint();
    let (one_fp, two_fp) = (fingerprint(&one), fingerprint(&two));
    // A latency no kernel reaches, recorded for seed 1's kernel under seed 2's lineage.
    spec.known = vec![KnownRecord { lineage: two, fingerprint: one_fp, latency_ms: 1e-6 }];
    assert_ne!(one_fp, two_fp);
    let services = Scripted::default();
    let (events, inbox) = unbounded::<Event>();
    let outcome = run_search(&spec, &services, &services, &services, &AtomicBool::new(false), &events).unwrap();
    let (best_ms, _, _) = outcome.best.expect("the job measured kernels");
    assert!(best_ms > 1e-6, "the stale record's latency was taken: {best_ms}");
    let warned = inbox
        .try_iter()
        .any(|e| matches!(e, Event::Warning(w) if w.contains("1 stored candidates no longer build the kernel")));
    assert!(warned, "the stale record is named in a warning");
}

/// A stale record's latency still belongs to the kernel it was measured
/// as (its fingerprint): that kernel is not measured again, though its
/// lineage no longer builds it.
#[test]
fn the_kernel_of_a_stale_record_is_not_measured_again() {
    let first = Scripted::default();
    run(&spec(random(), 4), &first);
    let drawn_first = first.records.lock()[0].fingerprint;
    let mut stale = spec(random(), 4);
    let elsewhere = Lineage::sampled(12345);
    let built = colt_ir::schedule::lower(&elsewhere.rebuild(&stale.program).unwrap()).fingerprint();
    assert_ne!(built, drawn_first);
    stale.known = vec![KnownRecord { lineage: elsewhere, fingerprint: drawn_first, latency_ms: 50.0 }];
    let services = Scripted::default();
    run(&stale, &services);
    let measured: Vec<u64> = services.records.lock().iter().map(|r| r.fingerprint).collect();
    assert_eq!(measured.len(), 4);
    assert!(!measured.contains(&drawn_first), "the stale record's kernel was measured again");
}

/// A tree snapshot keeps each node's lineage and its kernel's fingerprint;
/// a node whose lineage now builds another kernel (colt's sampling or
/// lowering changed since) would be credited, measured and recorded as the
/// kernel it no longer is. Such a snapshot is not restored: the job says
/// why and starts its tree again from its trials.
#[test]
fn a_snapshot_whose_nodes_build_other_kernels_is_not_restored() {
    let mut resumed = spec(mcts(), 6);
    let lineage = Lineage::sampled;
    let built = |seed| {
        let candidate = lineage(seed).rebuild(&resumed.program).unwrap();
        let fingerprint = colt_ir::schedule::lower(&candidate).fingerprint();
        (candidate, fingerprint)
    };
    let ((root, root_fp), (two, _), (_, three_fp)) = (built(1), built(2), built(3));
    let tree = colt_tree::Tree::new(colt_tree::NewNode::new(root_fp, NodeData::new(lineage(1), root, 0.0)));
    // Seed 2's lineage, recorded as seed 3's kernel.
    let stale = colt_tree::NewNode::new(three_fp, NodeData::new(lineage(2), two, 0.0));
    tree.add_children(tree.root(), [stale]).unwrap();
    resumed.resume = Some(Resume { trials: Vec::new(), snapshot: Some(tree.snapshot().unwrap()) });
    let services = Scripted::default();
    let (events, inbox) = unbounded::<Event>();
    let outcome = run_search(&resumed, &services, &services, &services, &AtomicBool::new(false), &events).unwrap();
    assert_eq!(outcome.curve.len(), 6);
    check_records(&resumed, &services.records.lock());
    let warning = inbox.try_iter().find_map(|e| match e {
        Event::Warning(w) => Some(w),
        _ => None,
    });
    let warning = warning.expect("a warning about the snapshot");
    assert!(
        warning.contains("1 of its 2 tree nodes no longer build the kernel they were recorded as")
            && warning.contains("starting again from its trials"),
        "{warning}"
    );
}

/// A job that learns from other workloads' records and asks for a
/// transfer round first measures candidates of its own workload drawn in
/// the styles of those workloads' fastest kernels, the register tile most
/// workloads agree on first, before anything its strategy draws. Without
/// such records, or by default, there is none.
#[test]
fn the_transfer_round_measures_the_styles_other_workloads_agree_on_first() {
    let machine = Machine { lanes: 8, registers: 16, cores: 2 };
    let style = |vectors, rows| TileStyle { vectors, rows, depth: 128, unroll: 64, panel: false };
    let (agreed, other, too_slow) = (style(1, 8), style(2, 4), style(4, 2));
    let records = |workload: &str, fast: TileStyle, slow: TileStyle| -> Vec<WarmRecord> {
        let program = Arc::new(colt_ir::builtin(workload).unwrap().program(colt_ir::Size::Bench));
        // Eight fast kernels in one style, then slower ones in another:
        // only a workload's eight fastest have a say.
        (0..12u64)
            .map(|seed| {
                let sampler = Sampler::Styled(machine, if seed < 8 { fast } else { slow });
                let candidate = sampler.sample(program.clone(), colt_ir::schedule::Target::Cpu, seed);
                WarmRecord {
                    program: program.clone(),
                    lineage: Lineage::sampled_by(sampler, seed),
                    fingerprint: colt_ir::schedule::lower(&candidate).fingerprint(),
                    latency_ms: 1.0 + seed as f64,
                }
            })
            .collect()
    };
    let mut warm = records("flux-conv", agreed, too_slow);
    warm.extend(records("llama4-scout-mlp", agreed, too_slow));
    warm.extend(records("llama3-8b-attn", other, too_slow));

    let mut warm_spec = spec("random:transfer=4".parse().unwrap(), 8);
    warm_spec.warm = warm.clone();
    let services = Scripted::default();
    let outcome = run(&warm_spec, &services);
    let records = services.records.lock();
    let tiles: Vec<_> = records.iter().map(|r| r.lineage.sampler.style().map(|s| s.tile())).collect();
    assert_eq!(tiles[..2], [Some(agreed.tile()), Some(other.tile())], "{tiles:?}");
    assert!(tiles[2..].iter().all(Option::is_none), "only the transfer round is styled: {tiles:?}");
    let source = outcome.sources.iter().find(|s| s.source == "transfer").expect("a transfer source");
    assert_eq!(source.trials, 2);

    // Without the warm records, or without the option (the default): none.
    let mut off = spec(random(), 8);
    off.warm = warm;
    for spec in [spec("random:transfer=4".parse().unwrap(), 8), off] {
        let cold = Scripted::default();
        run(&spec, &cold);
        assert!(cold.records.lock().iter().all(|r| r.lineage.sampler.style().is_none()), "{}", spec.settings.strategy);
    }
}
