//! `colt tune-model`: every distinct layer of a GGUF model under one trial
//! budget, rounds given out by a task scheduler (colt-search's
//! `TaskScheduler`); each task is an ordinary job of the tuning database.

use crate::tune::{model_paths, start_colt, stop_on_ctrl_c};
use crate::{export, model_layers};
use anyhow::{Context, Result};
use colt_actors::{ModelOutcome, ModelRequest, ModelTask, TaskReport};
use colt_search::{check_count, Allocation, JobSettings, SearchParams, StrategyChoice, MAX_TRIALS};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct TuneModelArgs {
    /// The GGUF model file.
    pub model: PathBuf,
    /// Trials over all tasks.
    #[arg(long, default_value_t = 256)]
    pub trials: usize,
    /// Prefill of this many tokens (or, with `--decode`, the cache length).
    #[arg(long, default_value_t = 128)]
    pub seq: usize,
    /// One decode step against a cache of `--seq` tokens.
    #[arg(long)]
    pub decode: bool,
    /// The search of each task's job: `colt tune`'s default
    /// (`colt_search::DEFAULT_STRATEGY`, evolutionary), which also suits a
    /// model's many tasks (on these machines it matched colt's models at a
    /// fifth of the wall time, bench/tune-model/).
    #[arg(long, default_value = colt_search::DEFAULT_STRATEGY)]
    pub strategy: String,
    /// How rounds are given out: `gradient` (Ansor's task scheduler) or
    /// `equal` (tasks in turn).
    #[arg(long, default_value = "gradient")]
    pub scheduler: String,
    /// Trials per round.
    #[arg(long, default_value_t = 8)]
    pub round: usize,
    /// GGUF models for `--strategy colt` (default: the two default models).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<PathBuf>,
    /// Layers of each model llama.cpp offloads to a GPU (0: the models run
    /// on the CPU). Needs colt built with `--features cuda` or `vulkan`.
    #[arg(long, default_value_t = 0)]
    pub gpu_layers: u32,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The tuning database.
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: PathBuf,
    /// Where the report goes (default: `colt-out/<model>-<phase>-<scheduler>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: TuneModelArgs) -> Result<String> {
    let strategy: StrategyChoice = args.strategy.parse()?;
    let allocation: Allocation = args.scheduler.parse().map_err(anyhow::Error::msg)?;
    check_count("--trials", args.trials, 1, MAX_TRIALS, "a model job's trial budget (over all its tasks)")?;
    check_count("--threads", args.threads, 1, colt_search::MAX_THREADS, "a job's search threads")?;
    let rounds = colt_actors::daemon::MAX_ROUNDS;
    check_count("--round", args.round, 1, MAX_TRIALS, "the trials of a round")?;
    if args.trials.div_ceil(args.round) > rounds {
        anyhow::bail!(
            "--round {}: {} trials make {} rounds of it, and a model job has at most {rounds} \
             (colt_actors::daemon::MAX_ROUNDS)",
            args.round,
            args.trials,
            args.trials.div_ceil(args.round)
        );
    }
    let tasks = model_layers::tasks(&args.model, args.seq, args.decode)?;
    let phase = if args.decode { format!("decode{}", args.seq) } else { format!("prefill{}", args.seq) };
    let stem = args.model.file_stem().map_or("model".into(), |s| s.to_string_lossy().into_owned());
    let out =
        args.out.clone().unwrap_or_else(|| PathBuf::from("colt-out").join(format!("{stem}-{phase}-{allocation}")));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create `{}`", out.display()))?;
    let colt = start_colt(args.db.clone(), model_paths(strategy.uses_models(), &args.models)?, args.gpu_layers, None)?;
    // Before the jobs: their cost models' prior runs on them, and the
    // report gives each task's share of their bound.
    let limits = crate::roofline::machine_limits(&colt, &colt.target().label());
    let request = ModelRequest {
        tasks: tasks
            .iter()
            .map(|t| ModelTask { name: t.name.clone(), program: Arc::new(t.program.clone()), count: t.count })
            .collect(),
        trials: args.trials,
        round: args.round,
        allocation,
        target: colt.target(),
        settings: JobSettings {
            strategy,
            trials: 0,
            llm_calls: None,
            wall: None,
            threads: args.threads,
            seed: args.seed,
            params: SearchParams::default(),
        },
        progress: None,
    };
    let stop = stop_on_ctrl_c()?;
    let outcome = colt.tune_model(request, stop, |progress| {
        let Some(round) = progress.rounds.last() else { return true };
        let t = &progress.tasks[round.task];
        eprintln!(
            "round {:>3}: {} -> {} trials, best {} ms; pass {} ms; {} trials in all",
            round.round,
            t.name,
            round.trials,
            round.best_ms.map_or("-".into(), |b| format!("{b:.3}")),
            round.pass_ms.map_or("-".into(), |p| format!("{p:.2}")),
            round.total_trials
        );
        // Every task's standing, once per as many rounds as there are tasks.
        if (round.round + 1).is_multiple_of(progress.tasks.len()) {
            eprint!("{}", progress_table(&progress.tasks));
        }
        true
    })?;
    // The library: every task's best verified kernel.
    let mut kernels = Vec::new();
    for t in &outcome.tasks {
        let Some(job) = t.job else { continue };
        if let Some(best) = colt.db().call(move |db| db.best_kernel(colt_db::KernelQuery::Job(job)))?? {
            kernels.push((t.name.clone(), t.count, best, t.naive_ms));
        }
    }
    let exported: Vec<export::Exported<'_>> = kernels
        .iter()
        .map(|(task, count, kernel, naive_ms)| export::Exported { task, count: *count, kernel, naive_ms: *naive_ms })
        .collect();
    export::write_library(&out, &exported)?;
    let bounds: Vec<(String, Option<colt_report::Bound>)> =
        tasks.iter().map(|t| (t.name.clone(), colt_report::bound_of(limits.as_ref(), &t.program))).collect();
    let report = report(&args, &outcome, &bounds);
    colt_report::write_atomically(&out.join("report.md"), report.as_bytes())?;
    colt_report::write_atomically(&out.join("outcome.json"), serde_json::to_string_pretty(&outcome)?.as_bytes())?;
    eprint!("{report}");
    eprintln!("report: {}", out.join("report.md").display());
    let summary = serde_json::json!({
        "model": args.model,
        "phase": phase,
        "scheduler": outcome.allocation,
        "tasks": outcome.tasks.len(),
        "trials": outcome.rounds.last().map_or(0, |r| r.total_trials),
        "naive_pass_ms": outcome.naive_pass_ms,
        "tuned_pass_ms": outcome.tuned_pass_ms,
        "speedup": outcome.naive_pass_ms.zip(outcome.tuned_pass_ms).map(|(n, t)| n / t),
        "wall_s": outcome.wall_s,
        "out": out,
    });
    Ok(format!("{summary}\n"))
}

/// The per-task table (with each task's roofline bound and its best
/// kernel's share of it), the rounds, and the pass before and after.
fn report(args: &TuneModelArgs, o: &ModelOutcome, bounds: &[(String, Option<colt_report::Bound>)]) -> String {
    let mut text = String::new();
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    let _ = writeln!(
        text,
        "# `colt tune-model {}` ({} scheduler, {} trials)\n",
        args.model.display(),
        o.allocation,
        args.trials
    );
    let _ = writeln!(
        text,
        "| task | count | trials | naive ms | best ms | speedup | bound ms | % of bound | share of the tuned pass |"
    );
    let _ = writeln!(text, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    let tuned = o.tuned_pass_ms.unwrap_or(0.0).max(f64::MIN_POSITIVE);
    for t in &o.tasks {
        let best = t.best_ms.or(t.naive_ms);
        let bound = bounds.iter().find(|(name, _)| *name == t.name).and_then(|(_, b)| b.as_ref());
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1}% |",
            t.name,
            t.count,
            t.trials,
            ms(t.naive_ms),
            ms(t.best_ms),
            t.naive_ms.zip(t.best_ms).map_or("-".into(), |(n, b)| format!("{:.2}x", n / b)),
            bound.map_or("—".into(), |b| format!("{:.3}", b.milliseconds())),
            colt_report::share_cell(colt_report::share_of(bound, t.best_ms)),
            100.0 * best.unwrap_or(0.0) * t.count as f64 / tuned
        );
    }
    let _ = writeln!(
        text,
        "\nEstimated forward pass (Σ count × latency): naive {} ms, tuned {} ms ({}), in {:.0} s.\n",
        ms(o.naive_pass_ms),
        ms(o.tuned_pass_ms),
        o.naive_pass_ms.zip(o.tuned_pass_ms).map_or("-".into(), |(n, t)| format!("{:.2}x", n / t)),
        o.wall_s
    );
    let split: Vec<String> = o.tasks.iter().map(|t: &TaskReport| format!("{} {}", short(&t.name), t.trials)).collect();
    let _ = writeln!(text, "Trial split: {}.\n", split.join(", "));
    let order: Vec<String> = o.rounds.iter().map(|r| short(&o.tasks[r.task].name)).collect();
    let _ = writeln!(text, "Rounds, in order: {}.", order.join(" "));
    text
}

/// Each task's trials, naive and best latency, and share of the pass so far.
fn progress_table(tasks: &[TaskReport]) -> String {
    let latency = |t: &TaskReport| t.best_ms.or(t.naive_ms).map(|ms| ms * t.count as f64);
    let pass: f64 = tasks.iter().filter_map(latency).sum();
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    let mut text = String::from("  task                     trials   naive ms    best ms  share\n");
    for t in tasks {
        let share = latency(t).map_or("-".into(), |l| format!("{:.1}%", 100.0 * l / pass.max(f64::MIN_POSITIVE)));
        let _ = writeln!(
            text,
            "  {:<24} {:>6} {:>10} {:>10} {:>6}",
            short(&t.name),
            t.trials,
            ms(t.naive_ms),
            ms(t.best_ms),
            share
        );
    }
    text
}

/// The roles part of a task name (after the phase).
fn short(name: &str) -> String {
    name.split('.')
        .skip_while(|p| !(p.starts_with("prefill") || p.starts_with("decode")))
        .skip(1)
        .collect::<Vec<_>>()
        .join(".")
}
