//! `colt bench`: the strategies side by side on the suite, with the same
//! trial budgets and seeds, in one process (one actor system, the models
//! loaded once, measurements never overlapping).
//!
//! Each (workload, strategy, repeat) is one job with the largest budget;
//! the figures at a smaller budget N are read from the first N trials of
//! its best-latency curve. A job's rounds measure the same candidates up to
//! N whatever its budget (8 per round; only a budget that is not a multiple
//! of the round changes its last round), so this is the run a job with
//! budget N would have made, at a fraction of the time.
//!
//! Writes to `--out`: `bench.json` (every figure and every run's curve, to
//! compare across versions with `--compare`), `tables.md` (a table per
//! workload) and `<workload>.svg` and `.png` (best speedup versus trials, a
//! line per strategy, the band between the worst and best repeat).

use crate::plot::{self, Drawn};
use anyhow::{bail, Context, Result};
use colt_actors::{Colt, TuneRequest};
use colt_search::{Event, JobSettings, SearchParams, StrategyChoice};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

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
    /// runs are joined into one (see `bench_merge.rs`): a bench made in
    /// parts, by workloads or by strategies.
    #[arg(long)]
    pub from: Vec<PathBuf>,
    /// Print `bench.json` on stdout.
    #[arg(long)]
    pub json: bool,
    /// The full model shapes instead of the bench shapes.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub target: crate::TargetArg,
}

fn cpu_label() -> String {
    "cpu".to_string()
}

/// Everything a bench measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// `cpu`, or `opencl:PLATFORM / DEVICE`.
    #[serde(default = "cpu_label")]
    pub target: String,
    /// Whether the workloads had their full model shapes.
    #[serde(default)]
    pub full: bool,
    pub budgets: Vec<usize>,
    pub target_speedup: f64,
    pub repeats: usize,
    pub workloads: Vec<WorkloadReport>,
    pub wall_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkloadReport {
    pub workload: String,
    /// Floating-point operations of one run (for GFLOP/s; 0 in reports
    /// written before it was recorded).
    #[serde(default)]
    pub flops: u64,
    pub naive_ms: f64,
    pub strategies: Vec<StrategyReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StrategyReport {
    pub strategy: String,
    /// Per budget: the median over repeats of the best latency within it.
    pub best_ms: BTreeMap<usize, Option<f64>>,
    pub speedup: BTreeMap<usize, Option<f64>>,
    /// Median over repeats of the first trial reaching the target speedup
    /// (None when a repeat never did).
    pub trials_to_target: Option<usize>,
    pub llm_calls: BTreeMap<String, u64>,
    pub llm_tokens: u64,
    pub largest_model_share: Option<f64>,
    pub wall_s: f64,
    pub runs: Vec<RunRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    /// Latency per trial (None = failed).
    pub curve: Vec<Option<f64>>,
    pub wall_s: f64,
}

pub fn run(args: BenchArgs) -> Result<String> {
    let workloads: Vec<String> = if args.workloads == "all" {
        colt_ir::SUITE.iter().map(|w| w.name.to_string()).collect()
    } else {
        args.workloads.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    let strategies: Vec<StrategyChoice> =
        args.strategies.iter().map(|s| s.parse::<StrategyChoice>()).collect::<Result<_, _>>()?;
    let mut budgets = args.trials.clone();
    budgets.sort_unstable();
    budgets.dedup();
    let Some(&max_budget) = budgets.last().filter(|&&b| b > 0) else {
        bail!("--trials needs at least one positive budget");
    };
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let earlier = args.compare.as_deref().map(read_report).transpose()?;
    if !args.from.is_empty() {
        // Only the outputs, again, from earlier runs' figures.
        let reports =
            args.from.iter().map(|path| Ok((path.clone(), read_report(path)?))).collect::<Result<Vec<_>>>()?;
        let report = crate::bench_merge::merge(reports)?;
        std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create `{}`", args.out.display()))?;
        let (json, tables) = write_outputs(&args.out, &report, earlier.as_ref())?;
        return Ok(if args.json { json + "\n" } else { tables });
    }
    let programs: Vec<(String, Arc<colt_ir::Program>)> = workloads
        .iter()
        .map(|w| {
            colt_ir::load_workload(w, if args.full { colt_ir::Size::Full } else { colt_ir::Size::Bench })
                .map(|p| (w.clone(), Arc::new(p)))
                .with_context(|| format!("cannot load workload `{w}`"))
        })
        .collect::<Result<_>>()?;
    let models = crate::tune::model_paths(strategies.iter().any(StrategyChoice::uses_models), &args.models)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create `{}`", args.out.display()))?;
    let colt = crate::tune::start_colt(args.out.join("bench.db"), models, args.target.opencl())?;
    let target = colt.target();
    let stop = crate::tune::stop_on_ctrl_c()?;

    let started = Instant::now();
    let runs_total = (programs.len() * strategies.len() * args.repeats) as u64;
    let bars = if args.json {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let matrix = bars.add(ProgressBar::new(runs_total));
    matrix.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let trial_bar = bars.add(ProgressBar::new(max_budget as u64));
    trial_bar.set_style(
        ProgressStyle::with_template("  [{bar:30}] {pos}/{len} trials  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    let mut report = BenchReport {
        target: target.label(),
        full: args.full,
        budgets: budgets.clone(),
        target_speedup: args.target_speedup,
        repeats: args.repeats,
        workloads: Vec::new(),
        wall_s: 0.0,
    };
    for (name, program) in &programs {
        let mut naive_ms: Option<f64> = None;
        let mut rows = Vec::new();
        for strategy in &strategies {
            let mut runs = Vec::new();
            let mut calls: BTreeMap<String, u64> = BTreeMap::new();
            let (mut tokens, mut wall) = (0, 0.0);
            for repeat in 0..args.repeats {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let seed = args.seed + repeat as u64;
                matrix.set_message(format!("{name} {strategy} (seed {seed})"));
                trial_bar.set_position(0);
                let request = TuneRequest {
                    workload: name.clone(),
                    program: program.clone(),
                    target: target.clone(),
                    settings: JobSettings {
                        strategy: strategy.clone(),
                        trials: max_budget,
                        llm_calls: None,
                        wall: None,
                        threads: 2,
                        seed,
                        params: SearchParams::default(),
                    },
                    resume: None,
                    start_from_known: false,
                    naive_ms,
                };
                let (events, inbox) = crossbeam_channel::unbounded();
                let bar = trial_bar.clone();
                let watcher = std::thread::spawn(move || {
                    for event in inbox {
                        if let Event::Progress(p) = event {
                            bar.set_position(p.trials as u64);
                            bar.set_message(p.best_ms.map_or(String::new(), |b| format!("best {b:.3} ms")));
                        }
                    }
                });
                let result = colt.tune(request, events, stop.clone(), |_| Ok(()));
                let _ = watcher.join();
                let outcome = match result {
                    Ok(r) => r.outcome,
                    Err(e) => {
                        // One failed job must not lose the rest of a long
                        // bench: its run has no trials, and the table says so.
                        bars.println(format!("warning: the {strategy} job on `{name}` (seed {seed}) failed: {e}"))?;
                        runs.push(RunRecord { seed, curve: Vec::new(), wall_s: 0.0 });
                        matrix.inc(1);
                        continue;
                    }
                };
                naive_ms.get_or_insert(outcome.naive_ms);
                for m in &outcome.models {
                    *calls.entry(m.name.clone()).or_default() += m.calls;
                    tokens += m.tokens;
                }
                wall += outcome.wall_s;
                runs.push(RunRecord { seed, curve: outcome.curve, wall_s: outcome.wall_s });
                matrix.inc(1);
            }
            let naive = naive_ms.unwrap_or(f64::NAN);
            rows.push(strategy_report(
                strategy,
                runs,
                naive,
                &budgets,
                args.target_speedup,
                calls,
                tokens,
                wall,
                &colt,
            ));
        }
        report.workloads.push(WorkloadReport {
            workload: name.clone(),
            flops: program.flops(),
            naive_ms: naive_ms.unwrap_or(f64::NAN),
            strategies: rows,
        });
        // Written after every workload: a long bench that is stopped or
        // fails keeps what it measured.
        report.wall_s = started.elapsed().as_secs_f64();
        write_outputs(&args.out, &report, earlier.as_ref())?;
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    matrix.finish_and_clear();
    trial_bar.finish_and_clear();
    report.wall_s = started.elapsed().as_secs_f64();

    let (json, tables) = write_outputs(&args.out, &report, earlier.as_ref())?;
    Ok(if args.json { json + "\n" } else { tables })
}

/// Writes `bench.json`, `tables.md` and the plots; returns the first two.
fn write_outputs(
    out: &std::path::Path,
    report: &BenchReport,
    earlier: Option<&BenchReport>,
) -> Result<(String, String)> {
    let json = serde_json::to_string_pretty(report)?;
    crate::tune::write_atomically(&out.join("bench.json"), json.as_bytes())?;
    let tables = tables_markdown(report, earlier);
    crate::tune::write_atomically(&out.join("tables.md"), tables.as_bytes())?;
    let max_trials = report.budgets.last().copied().unwrap_or(1).max(1);
    for w in &report.workloads {
        let name = w.workload.replace(['/', ' '], "_");
        let series = speedup_series(w, max_trials);
        let svg = crate::plot::svg(|root| draw_speedups(root, w, &series, max_trials)).map_err(plot_error)?;
        crate::tune::write_atomically(&out.join(format!("{name}.svg")), svg.as_bytes())?;
        let png = crate::plot::png(|root| draw_speedups(root, w, &series, max_trials)).map_err(plot_error)?;
        crate::tune::write_atomically(&out.join(format!("{name}.png")), &png)?;
    }
    Ok((json, tables))
}

fn read_report(path: &std::path::Path) -> Result<BenchReport> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not a colt bench.json", path.display()))
}

#[allow(clippy::too_many_arguments)]
fn strategy_report(
    strategy: &StrategyChoice,
    runs: Vec<RunRecord>,
    naive: f64,
    budgets: &[usize],
    target: f64,
    llm_calls: BTreeMap<String, u64>,
    llm_tokens: u64,
    wall_s: f64,
    colt: &Colt,
) -> StrategyReport {
    let mut best_ms = BTreeMap::new();
    for &b in budgets {
        let bests: Vec<f64> = runs.iter().filter_map(|r| best_within(&r.curve, b)).collect();
        best_ms.insert(b, (bests.len() == runs.len()).then(|| median(bests)).flatten());
    }
    let (speedup, trials_to_target) = against_naive(&runs, &best_ms, naive, target);
    let total: u64 = llm_calls.values().sum();
    let largest = colt.models().into_iter().max_by_key(|m| m.parameters).map(|m| m.name);
    let largest_model_share =
        largest.and_then(|name| llm_calls.get(&name).copied()).filter(|_| total > 0).map(|n| n as f64 / total as f64);
    StrategyReport {
        strategy: strategy.to_string(),
        best_ms,
        speedup,
        trials_to_target,
        llm_calls,
        llm_tokens,
        largest_model_share,
        wall_s,
        runs,
    }
}

/// The figures of a strategy that depend on the naive latency: the speedup
/// at each budget, and the median over runs of the first trial reaching
/// `target` times naive (None when a run never did).
pub(crate) fn against_naive(
    runs: &[RunRecord],
    best_ms: &BTreeMap<usize, Option<f64>>,
    naive: f64,
    target: f64,
) -> (BTreeMap<usize, Option<f64>>, Option<usize>) {
    let speedup = best_ms.iter().map(|(&b, m)| (b, m.map(|m| naive / m))).collect();
    let reached: Vec<Option<usize>> = runs.iter().map(|r| first_reaching(&r.curve, naive / target)).collect();
    let trials_to_target = if reached.iter().all(Option::is_some) {
        median(reached.into_iter().flatten().map(|n| n as f64).collect()).map(|m| m.round() as usize)
    } else {
        None
    };
    (speedup, trials_to_target)
}

/// The best verified latency among the first `budget` trials.
fn best_within(curve: &[Option<f64>], budget: usize) -> Option<f64> {
    curve.iter().take(budget).flatten().copied().reduce(f64::min)
}

/// The 1-based trial at which the best latency first reaches `ms`.
fn first_reaching(curve: &[Option<f64>], ms: f64) -> Option<usize> {
    curve.iter().position(|l| l.is_some_and(|l| l <= ms)).map(|i| i + 1)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

fn tables_markdown(report: &BenchReport, earlier: Option<&BenchReport>) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# colt bench\n\nOn {}, {} shapes. {} repeat(s); budgets {:?}; target speedup {}x; {:.0} s in all.\n",
        report.target,
        if report.full { "full" } else { "bench" },
        report.repeats,
        report.budgets,
        report.target_speedup,
        report.wall_s
    );
    let gflops = |flops: u64, ms: f64| flops as f64 / (ms * 1e-3) / 1e9;
    for w in &report.workloads {
        if w.flops > 0 {
            let _ = writeln!(
                md,
                "## {} (naive {:.3} ms, {:.1} GFLOP/s)\n",
                w.workload,
                w.naive_ms,
                gflops(w.flops, w.naive_ms)
            );
        } else {
            let _ = writeln!(md, "## {} (naive {:.3} ms)\n", w.workload, w.naive_ms);
        }
        let mut head = String::from("| strategy |");
        let mut rule = String::from("|---|");
        for b in &report.budgets {
            let _ = write!(head, " best ms @{b} (x) |");
            rule.push_str("--:|");
        }
        let old = earlier.and_then(|e| e.workloads.iter().find(|o| o.workload == w.workload));
        let last = *report.budgets.last().unwrap_or(&0);
        if old.is_some() {
            let _ = write!(head, " before @{last} |");
            rule.push_str("--:|");
        }
        head.push_str(&format!(
            " GFLOP/s @{last} | trials to {}x | LLM calls | largest share | tokens | wall s |",
            report.target_speedup
        ));
        rule.push_str("--:|--:|---|--:|--:|--:|");
        let _ = writeln!(md, "{head}\n{rule}");
        for s in &w.strategies {
            let mut row = format!("| {} |", s.strategy);
            for b in &report.budgets {
                match (s.best_ms.get(b).copied().flatten(), s.speedup.get(b).copied().flatten()) {
                    (Some(ms), Some(x)) => {
                        let _ = write!(row, " {ms:.3} ({x:.1}x) |");
                    }
                    _ => row.push_str(" — |"),
                }
            }
            if let Some(old) = old {
                let before = old
                    .strategies
                    .iter()
                    .find(|o| o.strategy == s.strategy)
                    .and_then(|o| o.best_ms.get(&last).copied().flatten());
                let _ = write!(row, " {} |", before.map_or("—".into(), |b| format!("{b:.3}")));
            }
            let best = s.best_ms.get(&last).copied().flatten().filter(|_| w.flops > 0);
            let _ = write!(row, " {} |", best.map_or("—".into(), |ms| format!("{:.1}", gflops(w.flops, ms))));
            let calls = if s.llm_calls.is_empty() {
                "—".to_string()
            } else {
                s.llm_calls.iter().map(|(m, n)| format!("{m}: {n}")).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(
                row,
                " {} | {calls} | {} | {} | {:.0} |",
                s.trials_to_target.map_or("—".into(), |n| n.to_string()),
                s.largest_model_share.map_or("—".into(), |x| format!("{:.0}%", x * 100.0)),
                s.llm_tokens,
                s.wall_s
            );
            md.push_str(&row);
        }
        let _ = writeln!(md, "\n![best speedup versus trials]({}.svg)\n", w.workload.replace(['/', ' '], "_"));
    }
    md
}

/// (trial, median, worst, best) speedup over the repeats.
type SpeedupPoint = (usize, f64, f64, f64);

/// Per strategy, its best speedup after each trial: the median repeat, the
/// worst and the best.
fn speedup_series(w: &WorkloadReport, max_trials: usize) -> Vec<(String, Vec<SpeedupPoint>)> {
    w.strategies
        .iter()
        .map(|s| {
            let points = (1..=max_trials)
                .filter_map(|t| {
                    let xs: Vec<f64> =
                        s.runs.iter().filter_map(|r| best_within(&r.curve, t)).map(|b| w.naive_ms / b).collect();
                    if xs.len() != s.runs.len() || xs.is_empty() {
                        return None;
                    }
                    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = xs.iter().copied().fold(0.0, f64::max);
                    Some((t, median(xs)?, lo, hi))
                })
                .collect();
            (s.strategy.clone(), points)
        })
        .collect()
}

/// Best speedup versus trials, a line per strategy (the median repeat) and
/// a band from the worst to the best repeat.
fn draw_speedups<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    w: &WorkloadReport,
    series: &[(String, Vec<SpeedupPoint>)],
    max_trials: usize,
) -> Drawn {
    const COLOURS: [RGBColor; 8] = [
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    let top = series.iter().flat_map(|(_, p)| p.iter().map(|x| x.3)).fold(1.0, f64::max) * 1.1;
    {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{}: best speedup over naive versus trials", w.workload), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(1..max_trials, 0.0..top)
            .map_err(plot::error)?;
        chart.configure_mesh().x_desc("trials").y_desc("speedup (x)").draw().map_err(plot::error)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let band: Vec<(usize, f64)> =
                points.iter().map(|p| (p.0, p.3)).chain(points.iter().rev().map(|p| (p.0, p.2))).collect();
            if points.len() > 1 {
                chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15)))).map_err(plot::error)?;
            }
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), colour.stroke_width(2)))
                .map_err(plot::error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot::error)?;
    }
    Ok(())
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the bench plot: {e}")
}
