//! [`Colt::bench`]: strategies side by side on workloads, with the same
//! trial budgets and seeds, on one running [`Colt`] (the models loaded
//! once, measurements never overlapping).
//!
//! Each (workload, strategy, repeat) is one job with the largest budget,
//! seeded `seed + repeat`; colt-report reads the figures at a smaller
//! budget from the first trials of its curve. The naive kernel is measured
//! by a workload's first job that succeeds and passed to the later ones, so
//! every speedup of a workload is over the same baseline.

use crate::colt::{Colt, ColtError};
use crate::tune::TuneRequest;
use colt_ir::Program;
use colt_measure::Target;
use colt_report::{strategy_report, BenchReport, RunRecord, StrategyRuns, WorkloadReport};
use colt_search::{Event, JobSettings, SearchParams, StrategyChoice};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Search threads of each bench job: the same for every strategy, so that
/// none is faster for having more.
const JOB_THREADS: usize = 2;

/// What a bench runs.
#[derive(Clone)]
pub struct BenchPlan {
    /// The workloads, each reported under the name its program declares.
    pub workloads: Vec<Arc<Program>>,
    pub strategies: Vec<StrategyChoice>,
    /// Trial budgets, ascending without repeats; every job runs to the last.
    pub budgets: Vec<usize>,
    /// Runs of each strategy per workload.
    pub repeats: usize,
    /// The first repeat's seed; repeat `r` is seeded `seed + r`.
    pub seed: u64,
    /// The speedup over naive whose first trial is reported.
    pub target_speedup: f64,
    /// Whether the workloads have their full model shapes (recorded in the report).
    pub full: bool,
    /// Where kernels run: the target the [`Colt`] tunes for.
    pub target: Target,
    /// Every job's knobs.
    pub params: SearchParams,
}

impl BenchPlan {
    /// Jobs the bench runs when it is not stopped.
    pub fn runs(&self) -> usize {
        self.workloads.len() * self.strategies.len() * self.repeats
    }
}

/// What a running bench reports, in order: per run `RunStarted`, then
/// `Trials` as it measures, `RunFailed` if it failed, and `RunEnded`; per
/// workload `WorkloadDone`.
pub enum BenchProgress<'a> {
    RunStarted {
        workload: &'a str,
        strategy: &'a StrategyChoice,
        seed: u64,
    },
    /// The running job's measured trials and best verified latency so far.
    Trials {
        trials: usize,
        best_ms: Option<f64>,
    },
    /// The job failed; its run is recorded with no trials (the tables say
    /// so) and the bench goes on.
    RunFailed {
        workload: &'a str,
        strategy: &'a StrategyChoice,
        seed: u64,
        error: &'a ColtError,
    },
    RunEnded,
    /// A workload's figures are in: the report so far (its `wall_s` up to
    /// date), to save, so that a bench stopped or failing later keeps what
    /// it measured.
    WorkloadDone(&'a BenchReport),
}

impl Colt {
    /// Runs `plan` to its end, or until `stop` is set (checked between
    /// runs: the running job stops after its current step, and the report
    /// ends with the workload it was in). Strategies, workloads and repeats
    /// come in the plan's order.
    pub fn bench(
        &self,
        plan: &BenchPlan,
        stop: Arc<AtomicBool>,
        mut on_progress: impl FnMut(BenchProgress<'_>),
    ) -> BenchReport {
        let started = Instant::now();
        let max_budget = plan.budgets.iter().copied().max().unwrap_or(0);
        // The model with the most parameters (the last of equals), whose
        // share of the calls the report gives.
        let largest = self.models().into_iter().max_by_key(|m| m.parameters).map(|m| m.name);
        let mut report = BenchReport {
            target: plan.target.label(),
            full: plan.full,
            budgets: plan.budgets.clone(),
            target_speedup: plan.target_speedup,
            repeats: plan.repeats,
            workloads: Vec::new(),
            wall_s: 0.0,
            cores: self.measured_cores(&plan.target),
            peers: Vec::new(),
        };
        for program in &plan.workloads {
            let name = program.name();
            let mut naive_ms: Option<f64> = None;
            let mut rows = Vec::new();
            for strategy in &plan.strategies {
                let mut measured = StrategyRuns {
                    strategy: strategy.to_string(),
                    runs: Vec::new(),
                    llm_calls: BTreeMap::new(),
                    llm_tokens: 0,
                    llm_seconds: 0.0,
                    wall_s: 0.0,
                };
                for repeat in 0..plan.repeats {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let seed = plan.seed + repeat as u64;
                    on_progress(BenchProgress::RunStarted { workload: name, strategy, seed });
                    let request = TuneRequest {
                        program: program.clone(),
                        target: plan.target.clone(),
                        settings: JobSettings {
                            strategy: strategy.clone(),
                            trials: max_budget,
                            llm_calls: None,
                            wall: None,
                            threads: JOB_THREADS,
                            seed,
                            params: plan.params.clone(),
                        },
                        resume: None,
                        start_from_known: false,
                        warm_start: false,
                        naive_ms,
                    };
                    match self.tune_reporting_trials(request, stop.clone(), &mut on_progress) {
                        Ok(outcome) => {
                            naive_ms.get_or_insert(outcome.naive_ms);
                            for m in &outcome.models {
                                *measured.llm_calls.entry(m.name.clone()).or_default() += m.calls;
                                measured.llm_tokens += m.tokens;
                                measured.llm_seconds += m.seconds;
                            }
                            measured.wall_s += outcome.wall_s;
                            measured.runs.push(RunRecord {
                                seed,
                                curve: outcome.curve,
                                wall_s: outcome.wall_s,
                                probes: outcome.probes,
                            });
                        }
                        Err(error) => {
                            // One failed job must not lose the rest of a
                            // long bench.
                            on_progress(BenchProgress::RunFailed { workload: name, strategy, seed, error: &error });
                            measured.runs.push(RunRecord { seed, curve: Vec::new(), wall_s: 0.0, probes: Vec::new() });
                        }
                    }
                    on_progress(BenchProgress::RunEnded);
                }
                let naive = naive_ms.unwrap_or(f64::NAN);
                rows.push(strategy_report(measured, naive, &plan.budgets, plan.target_speedup, largest.as_deref()));
            }
            report.workloads.push(WorkloadReport {
                workload: name.to_string(),
                flops: program.flops(),
                naive_ms: naive_ms.unwrap_or(f64::NAN),
                strategies: rows,
                // The bench's caller knows the machine's limits (colt-bin).
                bound: None,
            });
            report.wall_s = started.elapsed().as_secs_f64();
            on_progress(BenchProgress::WorkloadDone(&report));
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        report.wall_s = started.elapsed().as_secs_f64();
        report
    }

    /// One job of a bench, its progress passed on as [`BenchProgress::Trials`].
    fn tune_reporting_trials(
        &self,
        request: TuneRequest,
        stop: Arc<AtomicBool>,
        on_progress: &mut impl FnMut(BenchProgress<'_>),
    ) -> Result<colt_search::Outcome, ColtError> {
        let (events, inbox) = crossbeam_channel::unbounded();
        // The job runs on its own thread so that this one, which owns the
        // callback, can pass its events on as they come; the channel closes
        // when the job ends.
        std::thread::scope(|scope| {
            let job = scope.spawn(move || self.tune(request, events, stop, |_| Ok(())));
            for event in inbox {
                if let Event::Progress(p) = event {
                    on_progress(BenchProgress::Trials { trials: p.trials, best_ms: p.best_ms });
                }
            }
            match job.join() {
                Ok(result) => result.map(|r| r.outcome),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}
