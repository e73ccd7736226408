//! What a strategy may use, and nothing more: the job, sampling of the
//! design space, the cost model's predictions, random legal edits, the
//! budgets and where the job stands, progress and warnings. It is one-way:
//! a strategy reads from it and draws from its random streams, but never
//! measures, records or stops the job — the loop does.
//!
//! Every method takes `&self`: tree strategies call it from several search
//! threads at once.

use crate::events::{Event, Progress};
use crate::job::{JobSpec, ModelEntry};
use crate::outcome::ModelReport;
use crate::params::SearchParams;
use colt_ir::features::features;
use colt_ir::schedule::{lower, Candidate, Edit, Lineage, Placement, Rng, Sampler, Sketch, Target};
use colt_ir::Program;
use colt_policy::cost::CostModel;
use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The best verified candidate so far.
#[derive(Clone)]
pub(crate) struct Best {
    pub latency: f64,
    pub lineage: Lineage,
    pub candidate: Candidate,
}

/// What screening keeps apart: the sketch, and per stage its placement,
/// register tile (`f3` of every spatial axis) and packed operands.
type Structure = (Sketch, Vec<(Placement, Vec<usize>, Vec<usize>)>);

fn structure(c: &Candidate) -> Structure {
    let stages = c
        .stages()
        .iter()
        .map(|s| {
            let register_tile = s.tiles.iter().filter(|f| f.len() == 3).map(|f| f[2]).collect();
            (s.placement.clone(), register_tile, s.packed.clone())
        })
        .collect();
    (c.sketch().clone(), stages)
}

/// A sample chosen by [`SearchContext::screened`].
pub struct Screened {
    /// The cost model's prediction when it was screened (0 when unranked).
    pub predicted: f64,
    pub candidate: Candidate,
    pub lineage: Lineage,
    pub fingerprint: u64,
}

pub struct SearchContext<'a> {
    spec: &'a JobSpec,
    /// The job's knobs, with what its strategy's text overrides.
    params: SearchParams,
    pub(crate) cost: RwLock<CostModel>,
    /// Fingerprint → latency (None = failed) of every candidate measured in
    /// this job or known from earlier ones: never measured again.
    pub(crate) measured: Mutex<HashMap<u64, Option<f64>>>,
    pub(crate) best: Mutex<Option<Best>>,
    pub(crate) trial_count: AtomicUsize,
    /// One entry per trial of this job: its latency (None = failed).
    pub(crate) curve: Mutex<Vec<Option<f64>>>,
    /// One entry per trial of this run: who found its candidate.
    pub(crate) sources: Mutex<Vec<String>>,
    pub(crate) naive_ms: Mutex<Option<f64>>,
    rng: Mutex<Rng>,
    /// Seeds of sampled candidates: a counter, so that no seed is used twice.
    next_seed: AtomicU64,
    stop: &'a AtomicBool,
    events: &'a Sender<Event>,
    /// When this run of the job began.
    started: Instant,
}

impl<'a> SearchContext<'a> {
    /// `rng_seed` seeds the strategy's random choices; `first_sample_seed`
    /// the counter of sampled candidates' seeds; `started` is when the run
    /// began (the loop's clock, for its wall limit and its report).
    pub(crate) fn new(
        spec: &'a JobSpec,
        rng_seed: u64,
        first_sample_seed: u64,
        stop: &'a AtomicBool,
        events: &'a Sender<Event>,
        started: Instant,
    ) -> SearchContext<'a> {
        let mut params = spec.settings.params.clone();
        if let Some(screen) = spec.settings.strategy.screen() {
            params.screen = screen;
        }
        if let Some(transfer) = spec.settings.strategy.transfer() {
            params.transfer = transfer;
        }
        SearchContext {
            spec,
            params,
            cost: RwLock::new(CostModel::new(spec.roofline.clone().unwrap_or_default())),
            measured: Mutex::new(HashMap::new()),
            best: Mutex::new(None),
            trial_count: AtomicUsize::new(spec.resume.as_ref().map_or(0, |r| r.trials.len())),
            curve: Mutex::new(Vec::new()),
            sources: Mutex::new(Vec::new()),
            naive_ms: Mutex::new(spec.naive_ms),
            rng: Mutex::new(Rng::new(rng_seed)),
            next_seed: AtomicU64::new(first_sample_seed),
            stop,
            events,
            started,
        }
    }

    pub fn spec(&self) -> &JobSpec {
        self.spec
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.spec.program
    }

    /// The schedule space of the job's target.
    pub fn space(&self) -> Target {
        self.spec.space()
    }

    /// The job's knobs (with the strategy's `transfer=N` and `screen=N`).
    pub fn params(&self) -> &SearchParams {
        &self.params
    }

    /// The job's models (for `single`, a strategy uses the largest alone).
    pub fn models(&self) -> &[ModelEntry] {
        &self.spec.models
    }

    /// The job's first candidate: the design space's sample of the job's
    /// seed (a tree's root).
    pub fn first_candidate(&self) -> (Candidate, Lineage, u64) {
        self.first_candidate_by(self.spec.sampler())
    }

    /// The job's first candidate as `sampler` draws it.
    pub fn first_candidate_by(&self, sampler: Sampler) -> (Candidate, Lineage, u64) {
        self.sample_of(sampler, self.spec.settings.seed)
    }

    /// A fresh sample of the design space (a seed never used before in
    /// this job) by the job's sampler, its lineage and its fingerprint.
    pub fn sample(&self) -> (Candidate, Lineage, u64) {
        self.sample_by(self.spec.sampler())
    }

    /// A fresh sample by `sampler` (the `random` baseline's uniform one).
    pub fn sample_by(&self, sampler: Sampler) -> (Candidate, Lineage, u64) {
        let seed = self.next_seed.fetch_add(1, Ordering::Relaxed);
        self.sample_of(sampler, seed)
    }

    fn sample_of(&self, sampler: Sampler, seed: u64) -> (Candidate, Lineage, u64) {
        let candidate = sampler.sample(self.spec.program.clone(), self.space(), seed);
        let fingerprint = lower(&candidate).fingerprint();
        (candidate, Lineage::sampled_by(sampler, seed), fingerprint)
    }

    /// `count` fresh samples chosen from [`screen`](SearchParams::screen)
    /// of them by the cost model, best predicted first, each with its
    /// prediction. Diversity is kept by structure (the sketch, and each
    /// stage's placement, register tile and packed operands): no structure
    /// gets more than a quarter of the places (at least one), and no
    /// sketch more than half when several were drawn, while others are
    /// left; the rest of the places go by prediction alone. The sketch
    /// cap is there because the prior cannot see what inlining costs: on
    /// `deepseek-r1-moe` it put every place of two jobs' first levels on
    /// the sketch that recomputes `silu(G)·U` per output column, and the
    /// trees never left it (4.8–6.5 ms against 0.95–1.17 for the jobs
    /// that started on both). Without
    /// it the prior's favourite shape (a bias it has on every workload)
    /// would fill a tree's whole first level. Candidates already measured or drawn twice
    /// are skipped, so fewer than `count` may come back. With `screen <=
    /// count` these are `count` plain samples, unranked. A job told to
    /// stop gets what was drawn so far (perhaps nothing).
    pub fn screened(&self, count: usize) -> Vec<Screened> {
        let screen = self.params().screen;
        let mut seen = std::collections::HashSet::new();
        let mut drawn: Vec<Screened> = Vec::new();
        for _ in 0..screen.max(count) {
            // A draw grows with `screen` (up to `MAX_SCREEN`) and with the
            // program: a stopped job does not finish it.
            if self.stopped() {
                break;
            }
            let (candidate, lineage, fingerprint) = self.sample();
            if self.is_measured(fingerprint) || !seen.insert(fingerprint) {
                continue;
            }
            let predicted = if screen > count { self.predict(&candidate) } else { 0.0 };
            drawn.push(Screened { predicted, candidate, lineage, fingerprint });
        }
        if screen <= count {
            return drawn;
        }
        drawn.sort_by(|a, b| b.predicted.total_cmp(&a.predicted));
        let share = (count / 4).max(1);
        let sketches = drawn.iter().map(|s| s.candidate.sketch()).collect::<std::collections::HashSet<_>>().len();
        let sketch_share = if sketches > 1 { count.div_ceil(2) } else { count };
        let mut per_structure: HashMap<Structure, usize> = HashMap::new();
        let mut per_sketch: HashMap<Sketch, usize> = HashMap::new();
        let mut kept = Vec::with_capacity(count);
        let mut passed = Vec::new();
        for s in drawn {
            if kept.len() == count {
                break;
            }
            let n = per_structure.entry(structure(&s.candidate)).or_default();
            let k = per_sketch.entry(s.candidate.sketch().clone()).or_default();
            if *n < share && *k < sketch_share {
                *n += 1;
                *k += 1;
                kept.push(s);
            } else {
                passed.push(s);
            }
        }
        let missing = count - kept.len();
        kept.extend(passed.into_iter().take(missing));
        kept.sort_by(|a, b| b.predicted.total_cmp(&a.predicted));
        kept
    }

    /// The job's flop/s at `ms` milliseconds a run: the cost model's unit.
    pub fn flop_rate(&self, ms: f64) -> f64 {
        self.spec.program.flops() as f64 / (ms * 1e-3)
    }

    /// The cost model's predicted value in [0, 1].
    pub fn predict(&self, candidate: &Candidate) -> f64 {
        self.cost.read().predict(&features(candidate))
    }

    /// The roofline prior's throughput of `candidate` (flop/s), without
    /// what the cost model learned from measurements.
    pub fn prior_throughput(&self, candidate: &Candidate) -> f64 {
        self.cost.read().prior().throughput(&features(candidate))
    }

    /// The cost model's roofline prior's reading of `candidate`, as a line
    /// for a prompt.
    pub fn roofline_reading(&self, candidate: &Candidate) -> String {
        self.cost.read().prior().reading(&features(candidate)).text()
    }

    /// One of `candidate`'s legal edits, each equally likely, and the
    /// child it makes; `None` when it has none (see
    /// [`colt_ir::schedule::random_legal_edit`]).
    pub fn random_legal_edit(&self, candidate: &Candidate) -> Option<(Candidate, Edit)> {
        let mut rng = self.rng.lock();
        colt_ir::schedule::random_legal_edit(candidate, |n| rng.below(n))
    }

    /// A uniform index below `n` (> 0) from the strategy's random stream.
    pub fn below(&self, n: usize) -> usize {
        self.rng.lock().below(n)
    }

    /// 64 random bits from the strategy's random stream.
    pub fn next_u64(&self) -> u64 {
        self.rng.lock().next_u64()
    }

    /// The latency of a measured or known candidate (inner None: it
    /// failed); None when it was never measured.
    pub fn measured_latency(&self, fingerprint: u64) -> Option<Option<f64>> {
        self.measured.lock().get(&fingerprint).copied()
    }

    pub fn is_measured(&self, fingerprint: u64) -> bool {
        self.measured.lock().contains_key(&fingerprint)
    }

    /// The best verified latency so far (this job's or a known record's).
    pub fn best_ms(&self) -> Option<f64> {
        self.best.lock().as_ref().map(|b| b.latency)
    }

    /// Seconds since this run of the job began.
    pub fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Trials measured so far, a resumed job's earlier ones included.
    pub fn trials(&self) -> usize {
        self.trial_count.load(Ordering::Relaxed)
    }

    /// The job's trial budget.
    pub fn trial_budget(&self) -> usize {
        self.spec.settings.trials
    }

    /// The job's model-call budget (all models together).
    pub fn llm_call_budget(&self) -> Option<u64> {
        self.spec.settings.llm_calls
    }

    /// Search threads a strategy may run.
    pub fn threads(&self) -> usize {
        self.spec.settings.threads.max(1)
    }

    /// Whether the job was told to stop: a strategy ends its round early.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Where the job stands, with the strategy's model calls so far.
    pub fn progress(&self, phase: &str, models: &[ModelReport], course_alterations: u64) {
        let (llm_calls, llm_tokens, largest_model_share) = if models.is_empty() {
            (BTreeMap::new(), BTreeMap::new(), None)
        } else {
            let calls: BTreeMap<String, u64> = models.iter().map(|m| (m.name.clone(), m.calls)).collect();
            let tokens = models.iter().map(|m| (m.name.clone(), m.tokens)).collect();
            let total: u64 = calls.values().sum();
            // The first of the largest, as `Roster::largest` chooses.
            let largest = models.iter().rev().max_by_key(|m| m.parameters).map_or(0, |m| m.calls);
            (calls, tokens, (total > 0).then(|| largest as f64 / total as f64))
        };
        self.emit(Event::Progress(Progress {
            phase: phase.to_string(),
            trials: self.trials(),
            trial_budget: self.trial_budget(),
            naive_ms: *self.naive_ms.lock(),
            best_ms: self.best_ms(),
            llm_calls,
            llm_tokens,
            largest_model_share,
            course_alterations,
        }));
    }

    /// Something that does not stop the job (a model error, a stored
    /// candidate that no longer builds): reported and the job goes on.
    pub fn warn(&self, message: String) {
        tracing::warn!(job = self.spec.job, "{message}");
        self.emit(Event::Warning(message));
    }

    pub(crate) fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobSettings;
    use crate::registry::StrategyChoice;
    use colt_ir::schedule::Machine;
    use colt_policy::cost::{MeasuredLevel, MeasuredMachine, Roofline};
    use crossbeam_channel::unbounded;

    fn deepseek_spec(roofline: Option<Roofline>) -> JobSpec {
        let program = Arc::new(colt_ir::builtin("deepseek-r1-moe").unwrap().program(colt_ir::Size::Bench));
        JobSpec {
            job: 1,
            workload: "deepseek-r1-moe".into(),
            workload_fingerprint: colt_ir::workload_fingerprint(&program),
            target: colt_measure::Target::Cpu,
            program,
            models: Vec::new(),
            sampler: Sampler::Informed(Machine { lanes: 8, registers: 16, cores: 2 }),
            settings: JobSettings {
                strategy: "mcts:screen=256".parse::<StrategyChoice>().unwrap(),
                trials: 64,
                llm_calls: None,
                wall: None,
                threads: 1,
                seed: 1,
                params: SearchParams::default(),
            },
            naive_ms: None,
            known: Vec::new(),
            warm: Vec::new(),
            resume: None,
            roofline,
        }
    }

    /// A job given its machine's measured limits ranks with them, and one
    /// given none with the generic constants.
    #[test]
    fn the_prior_is_the_jobs_machine() {
        let measured = Roofline::measured(&MeasuredMachine {
            cores: 2,
            lanes: 8,
            registers: 16,
            peak_flops_per_s: 230e9,
            caches: vec![
                MeasuredLevel { bytes: 65536.0, read_bytes_per_s: 800e9 },
                MeasuredLevel { bytes: 2097152.0, read_bytes_per_s: 300e9 },
            ],
            memory_read_bytes_per_s: 60e9,
        })
        .unwrap();
        let (stop, (events, _inbox)) = (AtomicBool::new(false), unbounded());
        let generic = deepseek_spec(None);
        let on_limits = deepseek_spec(Some(measured.clone()));
        let generic_ctx = SearchContext::new(&generic, 1, 1, &stop, &events, Instant::now());
        let limits_ctx = SearchContext::new(&on_limits, 1, 1, &stop, &events, Instant::now());
        let (candidate, _, _) = generic_ctx.sample();
        let f = features(&candidate);
        assert_eq!(limits_ctx.prior_throughput(&candidate), measured.throughput(&f));
        assert_eq!(generic_ctx.prior_throughput(&candidate), Roofline::default().throughput(&f));
        assert_ne!(measured.throughput(&f), Roofline::default().throughput(&f));
    }

    /// `deepseek-r1-moe` has two sketches (silu inlined or not) and the
    /// prior prefers the inlined one; screening must still give the other
    /// sketch half of a first level.
    #[test]
    fn screening_gives_no_sketch_more_than_half_the_places() {
        let spec = deepseek_spec(None);
        let stop = AtomicBool::new(false);
        let (events, _inbox) = unbounded();
        let ctx = SearchContext::new(&spec, 1, 1, &stop, &events, Instant::now());
        let kept = ctx.screened(16);
        assert_eq!(kept.len(), 16);
        let mut per_sketch: HashMap<String, usize> = HashMap::new();
        for s in &kept {
            *per_sketch.entry(s.candidate.sketch().name(ctx.program())).or_default() += 1;
        }
        assert_eq!(per_sketch.len(), 2, "{per_sketch:?}");
        assert!(per_sketch.values().all(|&n| n == 8), "{per_sketch:?}");
    }
}
