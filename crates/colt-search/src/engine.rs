//! The tuning loop, the same for every strategy: what the job knows,
//! the baseline, then rounds — the strategy generates, fills the pool and
//! picks; the loop measures, records, retrains the cost model and
//! checkpoints — until a budget is spent or the job is told to stop.

use crate::context::{Best, SearchContext};
use crate::error::SearchError;
use crate::events::{Event, TrialEvent};
use crate::interfaces::{Recorder, Runner, Trial};
use crate::job::JobSpec;
use crate::known::{load_known, load_warm, KnownCandidate};
use crate::outcome::{source_of, source_reports, Outcome, ProposalProbe, StopReason};
use crate::pool::{Fate, Pool, PoolEntry, RoundResults};
use crate::strategy::{Generated, Strategy};
use crate::transfer::transplants;
use colt_ir::features::features_of;
use colt_ir::schedule::{lower, TileStyle};
use colt_measure::Kernel;
use colt_policy::{EpsilonGreedy, Proposer};
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A measurement machinery that fails this many times in a row ends the
/// job rather than spin.
const MACHINERY_FAILURES: usize = 3;

/// Rounds in a row that measure nothing new end the job: the strategy
/// keeps reaching known candidates (a small design space).
const IDLE_ROUNDS: usize = 3;

/// Runs the job to its end. `stop` is polled between steps; `events`
/// receives progress (a closed receiver is fine).
pub fn run_search(
    spec: &JobSpec,
    proposer: &dyn Proposer,
    runner: &dyn Runner,
    recorder: &dyn Recorder,
    stop: &AtomicBool,
    events: &Sender<Event>,
) -> Result<Outcome, SearchError> {
    let started = Instant::now();
    let trials_done = spec.resume.as_ref().map_or(0, |r| r.trials.len()) as u64;
    let seed = spec.settings.seed;
    let mut streams = colt_ir::schedule::Rng::new(seed ^ 0x636f_6c74);
    let mut picker = EpsilonGreedy::new(spec.settings.params.epsilon, streams.next_u64())?;
    // A resumed job continues with other random choices and other samples
    // than the ones it already made.
    let rng_seed = streams.next_u64() ^ trials_done;
    let first_sample = seed.wrapping_mul(0x9e37_79b9).wrapping_add(1 + trials_done * 4096);
    let ctx = SearchContext::new(spec, rng_seed, first_sample, stop, events, started);
    let mut strategy = spec.settings.strategy.build(spec, proposer)?;

    let mut known = load_known(&ctx);
    // What the run's trials are measured against: every record it starts from.
    let best_before = known.iter().filter_map(|k| k.latency).reduce(f64::min);
    let warm = load_warm(&ctx);
    ctx.cost.write().retrain();
    let naive_ms = baseline(&ctx, runner)?;
    let mut measuring = Measuring { ctx: &ctx, runner, recorder, machinery_failures: 0, started };
    if spec.resume.is_none() {
        known.extend(transfer_round(&mut measuring, &warm.styles)?);
    }
    // Before the strategy starts: its first samples are screened by the
    // model, which has learned from what is known by now.
    ctx.cost.write().retrain();
    let snapshot = spec.resume.as_ref().and_then(|r| r.snapshot.as_deref());
    match strategy.pre_tuning(&ctx, &known, snapshot) {
        // A snapshot of another colt (its lineages or trees in an older
        // layout): the job goes on from its recorded trials, which are all
        // known, rather than not at all.
        Err(SearchError::Snapshot { reason }) if snapshot.is_some() => {
            ctx.warn(format!("the job's snapshot cannot be restored ({reason}); starting again from its trials"));
            strategy = spec.settings.strategy.build(spec, proposer)?;
            strategy.pre_tuning(&ctx, &known, None)?;
        }
        other => other?,
    }
    strategy.post_round(&ctx);

    let mut job =
        Job { ctx: &ctx, strategy: strategy.as_mut(), measuring, probes: Vec::new(), probe_latencies: HashMap::new() };
    let reason = job.rounds(&mut picker)?;
    let probes = std::mem::take(&mut job.probes);

    let best = ctx.best.lock().clone().map(|b| (b.latency, b.lineage, b.candidate));
    let curve = ctx.curve.lock().clone();
    // A resumed job's curve starts with its earlier runs' trials.
    let run_sources = ctx.sources.lock().clone();
    let run_curve = &curve[curve.len().saturating_sub(run_sources.len())..];
    let sources = source_reports(run_curve, &run_sources, best_before);
    let outcome = Outcome {
        reason,
        naive_ms,
        best,
        curve,
        models: strategy.models(),
        course_alterations: strategy.course_alterations(),
        tree_nodes: strategy.size(),
        warm_records: warm.records,
        snapshot: strategy.snapshot().ok(),
        wall_s: started.elapsed().as_secs_f64(),
        probes,
        random_expansions: strategy.random_expansions(),
        sources,
    };
    Ok(outcome)
}

fn baseline(ctx: &SearchContext<'_>, runner: &dyn Runner) -> Result<f64, SearchError> {
    if let Some(ms) = *ctx.naive_ms.lock() {
        ctx.emit(Event::Baseline(ms));
        return Ok(ms);
    }
    if ctx.stopped() {
        return Err(SearchError::Stopped { during: "before its naive kernel was measured" });
    }
    ctx.progress("measuring the naive kernel", &[], 0);
    let kernel = Kernel::naive(ctx.program(), ctx.space());
    let measured = runner.run(ctx.program(), &kernel).map_err(|e| {
        // The runner gives up a measurement in flight when the job is
        // told to stop (its reference alone may take an hour).
        if ctx.stopped() {
            SearchError::Stopped { during: "while its naive kernel was measured" }
        } else {
            SearchError::Baseline { workload: ctx.spec().workload.clone(), source: Box::new(e) }
        }
    })?;
    let ms = measured.timing.median_ms;
    *ctx.naive_ms.lock() = Some(ms);
    ctx.emit(Event::Baseline(ms));
    Ok(ms)
}

/// Measures the transfer round's candidates (see `transfer.rs`): trials
/// of the job, which its strategy then starts from as known candidates.
fn transfer_round(measuring: &mut Measuring<'_, '_>, styles: &[TileStyle]) -> Result<Vec<KnownCandidate>, SearchError> {
    let ctx = measuring.ctx;
    let count = ctx.params().transfer.min(ctx.trial_budget().saturating_sub(ctx.trials()));
    if styles.is_empty() || count == 0 {
        return Ok(Vec::new());
    }
    ctx.progress("measuring the transfer round", &[], 0);
    let mut known = Vec::new();
    for entry in transplants(ctx, styles, count) {
        if ctx.stopped() || measuring.out_of_time() {
            break;
        }
        let Some(fate) = measuring.measure(&entry)? else { break };
        if let Fate::Measured(latency) = fate {
            known.push(KnownCandidate {
                candidate: entry.candidate,
                lineage: entry.lineage,
                fingerprint: entry.fingerprint,
                latency,
                model: None,
                own: true,
            });
        }
    }
    Ok(known)
}

/// What measures a job's trials: the runner, the recorder, and the count
/// of machinery failures in a row.
struct Measuring<'j, 'c> {
    ctx: &'c SearchContext<'c>,
    runner: &'j dyn Runner,
    recorder: &'j dyn Recorder,
    machinery_failures: usize,
    started: Instant,
}

struct Job<'j, 'c> {
    ctx: &'c SearchContext<'c>,
    strategy: &'j mut dyn Strategy,
    measuring: Measuring<'j, 'c>,
    probes: Vec<ProposalProbe>,
    /// Probe candidates measured so far, by fingerprint (None = failed):
    /// kept apart from the job's own `measured`, so that probing never
    /// changes what the search measures.
    probe_latencies: HashMap<u64, Option<f64>>,
}

impl Measuring<'_, '_> {
    fn out_of_time(&self) -> bool {
        self.ctx.spec().settings.wall.is_some_and(|w| self.started.elapsed() >= w)
    }

    /// Measures one candidate, records the trial, and enters its latency
    /// into the cost model and the best. None: the job was told to stop
    /// and the runner gave the measurement up (nothing is recorded, so a
    /// resumed job measures it then).
    fn measure(&mut self, entry: &PoolEntry) -> Result<Option<Fate>, SearchError> {
        let ctx = self.ctx;
        let nest = lower(&entry.candidate);
        let fingerprint = nest.fingerprint();
        let kernel = Kernel::lowered(format!("{} {fingerprint:016x}", ctx.program().name()), &nest);
        let result = self.runner.run(ctx.program(), &kernel);
        if result.is_err() && ctx.stopped() {
            return Ok(None);
        }
        if let Err(e) = &result {
            if !e.is_candidate_fault() {
                self.machinery_failures += 1;
                ctx.warn(format!("measurement machinery failed ({} in a row): {e}", self.machinery_failures));
                if self.machinery_failures >= MACHINERY_FAILURES {
                    let Err(source) = result else { unreachable!("matched as an error above") };
                    return Err(SearchError::Machinery { source: Box::new(source) });
                }
                return Ok(Some(Fate::MachineryFailed));
            }
        }
        self.machinery_failures = 0;
        let index = ctx.trial_count.fetch_add(1, Ordering::Relaxed);
        let (latency, failure, timing) = match &result {
            Ok(m) => (Some(m.timing.median_ms), None, Some(m.timing)),
            Err(e) => (None, Some(format!("{:?}: {e}", e.kind())), None),
        };
        ctx.measured.lock().insert(fingerprint, latency);
        let trial = Trial {
            job: ctx.spec().job,
            workload_fingerprint: ctx.spec().workload_fingerprint.clone(),
            target: ctx.spec().target.clone(),
            lineage: entry.lineage.clone(),
            decisions: entry.candidate.render(),
            source_hash: format!("{:016x}", colt_ir::fnv1a(kernel.source().as_bytes())),
            fingerprint,
            timing,
            failure: failure.clone(),
            strategy: ctx.spec().settings.strategy.to_string(),
            model: entry.model.clone(),
            index: index as u64,
            created_unix: now_unix(),
        };
        if let Err(e) = self.recorder.record(&trial) {
            ctx.warn(format!("trial {index} was measured but not recorded: {e}"));
        }
        if let Some(ms) = latency {
            let mut best = ctx.best.lock();
            if best.as_ref().is_none_or(|b| ms < b.latency) {
                *best = Some(Best { latency: ms, lineage: entry.lineage.clone(), candidate: entry.candidate.clone() });
            }
            drop(best);
            ctx.cost.write().add_measurement(&features_of(&entry.candidate, &nest), ctx.flop_rate(ms));
        }
        ctx.curve.lock().push(latency);
        ctx.sources.lock().push(source_of(entry.model.as_deref(), &entry.lineage));
        ctx.emit(Event::Trial(TrialEvent { index, latency_ms: latency, best_ms: ctx.best_ms(), failure }));
        Ok(Some(Fate::Measured(latency)))
    }
}

impl Job<'_, '_> {
    fn rounds(&mut self, picker: &mut EpsilonGreedy) -> Result<StopReason, SearchError> {
        let ctx = self.ctx;
        let mut first = true;
        let mut idle_rounds = 0;
        let mut llm_spent = false;
        loop {
            if let Some(reason) = self.should_stop(llm_spent) {
                return Ok(reason);
            }
            // The first round measures what the strategy starts from (a
            // tree's first level) before generating anything.
            let mut pool = Pool::new(ctx);
            if first {
                self.strategy.fill(ctx, &mut pool);
            }
            if !first || pool.is_empty() {
                llm_spent |= self.strategy.generate(ctx) == Generated::LlmBudgetSpent;
                pool = Pool::new(ctx);
                self.strategy.fill(ctx, &mut pool);
            }
            first = false;
            if let Some(reason) = self.should_stop(llm_spent).filter(|r| *r != StopReason::LlmBudget) {
                return Ok(reason);
            }
            let before = ctx.trials();
            self.measurement_round(pool, picker)?;
            self.probe_round();
            ctx.cost.write().retrain();
            self.strategy.post_round(ctx);
            if let Ok(bytes) = self.strategy.snapshot() {
                ctx.emit(Event::Checkpoint(std::sync::Arc::new(bytes)));
            }
            if llm_spent {
                return Ok(StopReason::LlmBudget);
            }
            idle_rounds = if ctx.trials() == before { idle_rounds + 1 } else { 0 };
            if idle_rounds >= IDLE_ROUNDS {
                return Ok(StopReason::Exhausted);
            }
        }
    }

    fn should_stop(&self, llm_spent: bool) -> Option<StopReason> {
        let ctx = self.ctx;
        if ctx.stopped() {
            Some(StopReason::Stopped)
        } else if ctx.trials() >= ctx.trial_budget() {
            Some(StopReason::TrialBudget)
        } else if self.out_of_time() {
            Some(StopReason::WallClock)
        } else if llm_spent {
            Some(StopReason::LlmBudget)
        } else {
            None
        }
    }

    fn out_of_time(&self) -> bool {
        self.measuring.out_of_time()
    }

    /// Picks the round's batch from the pool, measures it in pick order and
    /// tells the strategy what became of every entry.
    fn measurement_round(&mut self, pool: Pool<'_>, picker: &mut EpsilonGreedy) -> Result<(), SearchError> {
        let ctx = self.ctx;
        self.progress("measuring");
        let batch = ctx.params().batch.min(ctx.trial_budget().saturating_sub(ctx.trials()));
        let picks = self.strategy.pick(&pool, batch, picker);
        let mut entries: Vec<Option<PoolEntry>> = pool.into_entries().into_iter().map(Some).collect();
        let mut measured = Vec::with_capacity(picks.len());
        for index in picks {
            if ctx.stopped() || self.out_of_time() {
                break;
            }
            let Some(entry) = entries.get_mut(index).and_then(Option::take) else { continue };
            let Some(fate) = self.measuring.measure(&entry)? else {
                // Given up for the stop: left unmeasured.
                entries[index] = Some(entry);
                break;
            };
            self.progress("measuring");
            measured.push((entry, fate));
        }
        let left = entries.into_iter().flatten().collect();
        self.strategy.notify(ctx, RoundResults { measured, left });
        Ok(())
    }

    fn progress(&self, phase: &str) {
        self.ctx.progress(phase, &self.strategy.models(), self.strategy.course_alterations());
    }

    /// The round's proposal probes: measured when the job asks for it
    /// (outside the trial budget, never recorded as trials), then recorded.
    fn probe_round(&mut self) {
        let drafts = self.strategy.take_probes();
        if drafts.is_empty() {
            return;
        }
        let measure = self.ctx.params().measure_probes;
        if measure {
            self.progress("measuring proposal probes");
        }
        for draft in drafts {
            let mut probe = draft.probe;
            if measure && !self.ctx.stopped() && !self.out_of_time() {
                let random = self.probe_latency(&draft.random);
                let proposal = match &draft.proposal {
                    Some(c) => self.probe_latency(c),
                    None => Some(None),
                };
                if let (Some(random), Some(proposal)) = (random, proposal) {
                    probe.measured = true;
                    probe.random_ms = random;
                    probe.proposal_ms = proposal;
                }
            }
            if let Err(e) = self.measuring.recorder.record_probe(self.ctx.spec().job, &probe) {
                self.ctx.warn(format!("a proposal probe of `{}` was not recorded: {e}", probe.model));
            }
            self.probes.push(probe);
        }
    }

    /// A probe candidate's median latency (Some(None): it failed; None: the
    /// machinery failed and it is left unmeasured). A candidate the job
    /// measured as a trial is not measured again.
    fn probe_latency(&mut self, candidate: &colt_ir::schedule::Candidate) -> Option<Option<f64>> {
        let ctx = self.ctx;
        let nest = lower(candidate);
        let fingerprint = nest.fingerprint();
        if let Some(known) = ctx.measured.lock().get(&fingerprint) {
            return Some(*known);
        }
        if let Some(known) = self.probe_latencies.get(&fingerprint) {
            return Some(*known);
        }
        let kernel = Kernel::lowered(format!("{} probe {fingerprint:016x}", ctx.program().name()), &nest);
        let latency = match self.measuring.runner.run(ctx.program(), &kernel) {
            Ok(m) => Some(m.timing.median_ms),
            // Given up for the job's stop: left unmeasured.
            Err(_) if ctx.stopped() => return None,
            Err(e) if e.is_candidate_fault() => None,
            Err(e) => {
                ctx.warn(format!("a proposal probe was not measured: {e}"));
                return None;
            }
        };
        self.probe_latencies.insert(fingerprint, latency);
        Some(latency)
    }
}

fn now_unix() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
