//! `colt bench`: the strategies side by side on the suite, with the same
//! trial budgets and seeds, in one process — colt-actors' bench runner
//! ([`colt_actors::Colt::bench`]) with progress bars, its outputs written
//! by colt-report.
//!
//! Writes to `--out`: `bench.json` (every figure and every run's curve, to
//! compare across versions with `--compare`), `tables.md` (a table per
//! workload) and `<workload>.svg` and `.png` (best speedup versus trials, a
//! line per strategy, the band between the worst and best repeat). A
//! workload is named everywhere, and in the bench's database, by the name
//! its program declares (a file's `workload` line), not by its path.
//! Each workload's roofline bound on this machine goes into the tables and
//! `bench.json` when the machine's limits are measured; `--from` keeps the
//! bounds its files recorded (they are of the machine that ran them).

use anyhow::{bail, Context, Result};
use colt_actors::{BenchPlan, BenchProgress};
use colt_report::BenchReport;
use colt_search::{check_count, StrategyChoice};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Most runs of each strategy per workload (`--repeats`): the benches
/// this repository publishes use 2 to 5, and each run is a whole job.
pub const MAX_REPEATS: usize = 1000;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// `all` (the suite) or workloads, comma-separated.
    #[arg(long, default_value = "all")]
    pub workloads: String,
    /// Strategies, comma-separated (ablations too: `colt:no-course-alteration`, `colt:lambda=0.5`).
    #[arg(long, value_delimiter = ',', default_value = "colt,single,mcts,evolutionary,random")]
    pub strategies: Vec<String>,
    /// Trial budgets, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    pub trials: Vec<usize>,
    /// Runs of each strategy per workload (seeds `--seed`, `--seed`+1, ...).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// GGUF models, comma-separated; the default local models by default.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<PathBuf>,
    /// Layers of each model llama.cpp offloads to a GPU (0: the models run
    /// on the CPU). Needs colt built with `--features cuda` or `vulkan`.
    #[arg(long, default_value_t = 0)]
    pub gpu_layers: u32,
    /// Where the tables, plots, JSON and the bench's own database go.
    #[arg(long, default_value = "colt-bench")]
    pub out: PathBuf,
    /// The speedup over naive whose first trial is reported (sample efficiency).
    #[arg(long, default_value_t = 50.0)]
    pub target_speedup: f64,
    /// An earlier `bench.json`: its best latencies are put beside the new ones.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Measure nothing: write the tables and plots of this earlier
    /// `bench.json` (a stopped run's, say) into `--out`. Repeated, the
    /// runs are joined into one (see colt-report's `merge`): a bench made
    /// in parts, by workloads or by strategies.
    #[arg(long)]
    pub from: Vec<PathBuf>,
    /// A folder of peers' results on this machine, as
    /// `shared/peers/metaschedule.py --results-dir DIR` (MetaSchedule and
    /// numpy) and `shared/peers/torch_peer.py --results-dir DIR` (torch
    /// eager and torch.compile) write them: the tables and plots show each
    /// beside the strategies (its latency, its tuning or compile time,
    /// each strategy's ratio to it and trials to reach it), and
    /// `bench.json` keeps them.
    #[arg(long)]
    pub peer_results: Option<PathBuf>,
    /// Print `bench.json` on stdout.
    #[arg(long)]
    pub json: bool,
    /// The full model shapes instead of the bench shapes.
    #[arg(long)]
    pub full: bool,
    /// Measure both sides of every proposal probe (each model call's child
    /// and a random edit set at the same node), outside the trial budget:
    /// the proposal-quality table then has measured win rates.
    #[arg(long)]
    pub measure_probes: bool,
    /// Answers each model call decodes side by side from its one prompt.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub answers: u32,
    #[command(flatten)]
    pub target: crate::TargetArg,
}

pub fn run(args: BenchArgs) -> Result<String> {
    let workloads: Vec<String> = if args.workloads == "all" {
        colt_ir::SUITE.iter().map(|w| w.name.to_string()).collect()
    } else {
        args.workloads.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    let strategies: Vec<StrategyChoice> =
        args.strategies.iter().map(|s| s.parse::<StrategyChoice>()).collect::<Result<_, _>>()?;
    // Two columns of one strategy would be one job run twice, its figures
    // told apart by nothing.
    for (i, s) in strategies.iter().enumerate() {
        if strategies[..i].contains(s) {
            bail!("--strategies: strategy `{s}` is listed more than once");
        }
    }
    let mut budgets = args.trials.clone();
    for &budget in &budgets {
        check_count("--trials", budget, 1, colt_search::MAX_TRIALS, "each trial budget")?;
    }
    budgets.sort_unstable();
    budgets.dedup();
    let Some(&max_budget) = budgets.last() else {
        bail!("--trials needs at least one budget");
    };
    check_count("--repeats", args.repeats, 1, MAX_REPEATS, "the runs of each strategy per workload")?;
    let earlier = args.compare.as_deref().map(colt_report::read_report).transpose()?;
    let peers = args.peer_results.as_deref().map(colt_report::read_peer_results).transpose()?;
    let with_peers = |report: &BenchReport| -> BenchReport {
        let mut report = report.clone();
        if let Some(peers) = &peers {
            report.peers = peers.clone();
        }
        report
    };
    if !args.from.is_empty() {
        // Only the outputs, again, from earlier runs' figures.
        let reports = args
            .from
            .iter()
            .map(|path| Ok((path.clone(), colt_report::read_report(path)?)))
            .collect::<Result<Vec<_>>>()?;
        let report = with_peers(&colt_report::merge(reports)?);
        return outputs(&args, &report, earlier.as_ref());
    }
    let programs: Vec<Arc<colt_ir::Program>> = workloads
        .iter()
        .map(|w| {
            colt_ir::load_workload(w, if args.full { colt_ir::Size::Full } else { colt_ir::Size::Bench })
                .map(Arc::new)
                .with_context(|| format!("cannot load workload `{w}`"))
        })
        .collect::<Result<_>>()?;
    // Figures, plots and rows are keyed by the declared name: two
    // workloads of one name would be one table and one plot.
    for (i, program) in programs.iter().enumerate() {
        if let Some(j) = programs[..i].iter().position(|p| p.name() == program.name()) {
            bail!(
                "--workloads: `{}` and `{}` both declare the workload `{}`: give each its own name (the \
                 `workload` line of its file), or bench it once",
                workloads[j],
                workloads[i],
                program.name()
            );
        }
    }
    let models = crate::tune::model_paths(strategies.iter().any(StrategyChoice::uses_models), &args.models)?;
    create_out(&args.out)?;
    // SQLite opens its files through links: one planted at any of the bench
    // database's names would have it write outside `--out`.
    for name in ["bench.db", "bench.db-wal", "bench.db-shm", "bench.db-journal"] {
        colt_report::remove_link(&args.out.join(name))?;
    }
    let colt = crate::tune::start_colt(args.out.join("bench.db"), models, args.gpu_layers, args.target.opencl())?;
    // Before anything is measured: a program under a name the bench's
    // database keeps for another (a `--out` used before) is refused.
    for program in &programs {
        crate::tune::refuse_a_taken_name(&colt, program)?;
    }
    // The bound is the same for every run of a workload: computed once.
    let limits = crate::roofline::machine_limits(&colt, &colt.target().label());
    let bounds: Vec<(String, Option<colt_report::Bound>)> =
        programs.iter().map(|p| (p.name().to_string(), colt_report::bound_of(limits.as_ref(), p))).collect();
    let annotated = |report: &BenchReport| -> BenchReport {
        let mut report = with_peers(report);
        report.fill_bounds(|name| bounds.iter().find(|(n, _)| n == name).and_then(|(_, b)| b.clone()));
        report
    };
    let stop = crate::tune::stop_on_ctrl_c()?;
    let plan = BenchPlan {
        workloads: programs,
        strategies,
        budgets,
        repeats: args.repeats,
        seed: args.seed,
        target_speedup: args.target_speedup,
        full: args.full,
        target: colt.target(),
        params: colt_search::SearchParams {
            measure_probes: args.measure_probes,
            answers: args.answers as usize,
            ..Default::default()
        },
    };

    let bars = Bars::new(plan.runs(), max_budget, args.json);
    // Outputs are written after every workload, so that a long bench that
    // is stopped or fails keeps what it measured; one that cannot be
    // written stops the bench (after its workload) with the error.
    let mut unwritten: Option<anyhow::Error> = None;
    let report = colt.bench(&plan, stop.clone(), |progress| {
        if let BenchProgress::WorkloadDone(report) = progress {
            if let Err(e) = colt_report::write_outputs(&args.out, &annotated(report), earlier.as_ref()) {
                unwritten.get_or_insert(e.into());
                stop.store(true, Ordering::Relaxed);
            }
        } else {
            bars.show(progress);
        }
    });
    bars.finish();
    if let Some(e) = unwritten {
        return Err(e);
    }
    outputs(&args, &annotated(&report), earlier.as_ref())
}

/// The outputs written to `--out`, and what to print: `bench.json` with
/// `--json`, else the tables.
fn outputs(args: &BenchArgs, report: &BenchReport, earlier: Option<&BenchReport>) -> Result<String> {
    create_out(&args.out)?;
    let written = colt_report::write_outputs(&args.out, report, earlier)?;
    Ok(if args.json { written.json + "\n" } else { written.tables })
}

fn create_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))
}

/// The bench's progress: a bar of runs and one of the running job's trials;
/// hidden with `--json`.
struct Bars {
    all: MultiProgress,
    runs: ProgressBar,
    trials: ProgressBar,
}

impl Bars {
    fn new(runs: usize, max_budget: usize, hidden: bool) -> Bars {
        let all = if hidden {
            MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        let style = |template| {
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ")
        };
        let runs = all.add(ProgressBar::new(runs as u64));
        runs.set_style(style("{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta}  {msg}"));
        let trials = all.add(ProgressBar::new(max_budget as u64));
        trials.set_style(style("  [{bar:30}] {pos}/{len} trials  {msg}"));
        Bars { all, runs, trials }
    }

    fn show(&self, progress: BenchProgress<'_>) {
        match progress {
            BenchProgress::RunStarted { workload, strategy, seed } => {
                self.runs.set_message(format!("{workload} {strategy} (seed {seed})"));
                self.trials.set_position(0);
            }
            BenchProgress::Trials { trials, best_ms } => {
                self.trials.set_position(trials as u64);
                self.trials.set_message(best_ms.map_or(String::new(), |b| format!("best {b:.3} ms")));
            }
            BenchProgress::RunFailed { workload, strategy, seed, error } => {
                // Above the bars, and hidden with them under `--json`; the
                // tables show the run with no trials.
                let warning = format!("warning: the {strategy} job on `{workload}` (seed {seed}) failed: {error}");
                if self.all.println(&warning).is_err() {
                    eprintln!("{warning}");
                }
            }
            BenchProgress::RunEnded => self.runs.inc(1),
            BenchProgress::WorkloadDone(_) => {}
        }
    }

    fn finish(&self) {
        self.runs.finish_and_clear();
        self.trials.finish_and_clear();
    }
}
