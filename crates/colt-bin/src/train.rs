//! `colt train`: trains colt's specialist from a tuning database (a
//! user's own hardware and history) and the corpus, and writes it as a
//! GGUF with a training report beside it (docs/src/specialist.md).

use anyhow::{bail, Context, Result};
use colt_db::TuningDb;
use colt_measure::{CpuConfig, Target};
use colt_policy::specialist::{MachineView, Vocabulary};
use colt_specialist::Config;
use colt_train::{
    database_examples, default_config, screened_examples, split_by_workload, train, write_report, write_specialist,
    Source, TrainReport, TrainSettings,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct TrainArgs {
    /// The tuning database to learn from: a SQLite file or a PostgreSQL
    /// server (`postgres://user@host:port/db`). Read only. Given more than
    /// once, the databases' records are pooled (a corpus tuned on several
    /// machines or at several times), each one required to give some.
    #[arg(long, env = "COLT_DB", required = true)]
    pub db: Vec<PathBuf>,
    /// Train only on trials measured on this hardware label (as `colt
    /// machine` and the database name it); all labels by default.
    #[arg(long)]
    pub target: Option<String>,
    /// The GGUF to write; the report goes beside it (`<out>.report/`).
    #[arg(long)]
    pub out: PathBuf,
    /// Corpus programs screened for pretraining (colt-ir's corpus seeds 0..N).
    #[arg(long, default_value_t = 240)]
    pub corpus: u64,
    /// The least gain a measured improvement must show to be trained on:
    /// 0.03 keeps a child whose ancestor measured 1.03 times its latency or
    /// more (smaller gains are within the measurement's noise).
    #[arg(long, default_value_t = 0.0)]
    pub min_gain: f64,
    /// Nodes screened per corpus program.
    #[arg(long, default_value_t = 8)]
    pub nodes: usize,
    #[arg(long, default_value_t = 600)]
    pub pretrain_steps: usize,
    #[arg(long, default_value_t = 600)]
    pub steps: usize,
    /// Sequences per training step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// The model's width, blocks and heads (4 blocks of 128 with 4 heads:
    /// about a million parameters).
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress bar (a line at the end only).
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: &TrainArgs) -> Result<String> {
    let shown_each: Vec<String> = args.db.iter().map(|d| TuningDb::display(d)).collect();
    let shown = shown_each.join(" --db ");
    for (path, shown) in args.db.iter().zip(&shown_each) {
        if !TuningDb::is_server(path) && !TuningDb::exists(path) {
            bail!("the tuning database `{shown}` does not exist (tune some workloads into it first)");
        }
    }
    if !(args.min_gain.is_finite() && args.min_gain >= 0.0) {
        bail!("--min-gain {}: the least gain of a measured improvement is a number, 0 or above", args.min_gain);
    }
    check_writable(&args.out)?;
    let vocabulary = Vocabulary::new();
    let mut config = default_config(&vocabulary);
    config = Config::new(config.vocab, args.dim, args.layers, args.heads, config.context);
    config.check()?;
    let mut measured = colt_train::DatabaseExamples::default();
    // The corpus is screened for this host, as its jobs would be prompted,
    // with the cache sizes of the first database that measured this host.
    let mut limits = None;
    for path in &args.db {
        let db = TuningDb::open_read_only(path)?;
        measured.absorb(database_examples(&db, args.target.as_deref(), &vocabulary, config.context, args.min_gain)?);
        if limits.is_none() {
            limits = db.machine_limits(&Target::Cpu.label())?;
        }
    }
    let machine = CpuConfig::default().machine();
    let caches = limits.map(|r| colt_policy::specialist::cache_bytes(&r.limits_json)).unwrap_or_default();
    let view = MachineView::of(machine, &caches);
    let started = std::time::Instant::now();
    let screened = screened_examples(0..args.corpus, args.nodes, &view, &vocabulary, config.context, args.threads);
    let screening_seconds = started.elapsed().as_secs_f64();
    let samples: Vec<colt_train::Sample> = measured.samples.iter().chain(&screened.samples).cloned().collect();
    if samples.is_empty() {
        bail!(
            "nothing to train on: {} gave no measured example ({} trials, {} stale) and the corpus none",
            shown_each.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(" and "),
            measured.trials,
            measured.stale
        );
    }
    let (training, held_out) = split_by_workload(samples, 10);
    let count = |set: &[colt_train::Sample], source| set.iter().filter(|s| s.source == source).count();
    let split = [Source::Screened, Source::Improvement, Source::Demonstration]
        .map(|s| (s, count(&training, s), count(&held_out, s)));
    let settings = TrainSettings {
        config,
        pretrain_steps: args.pretrain_steps,
        finetune_steps: args.steps,
        batch: args.batch,
        pretrain_learning_rate: 3e-3,
        finetune_learning_rate: 1e-3,
        threads: args.threads,
        seed: args.seed,
        eval_every: ((args.pretrain_steps + args.steps) / 20).max(1),
    };
    let bar = progress_bar(args.quiet, (args.pretrain_steps + args.steps) as u64);
    let trained = train(&training, &held_out, &settings, &mut |p| {
        bar.set_position(p.step as u64);
        if let Some(point) = p.last {
            let held = point.held_out_measured.or(point.held_out_screened).map_or("–".into(), |v| format!("{v:.3}"));
            bar.set_message(format!("{} · training loss {:.3} · held-out {held}", p.phase, point.train_loss));
        }
    })?;
    bar.finish_and_clear();
    write_specialist(&args.out, &trained.model, &vocabulary)?;
    let report_dir = report_dir(&args.out);
    let command = format!(
        "colt train --db {shown}{} --out {} --min-gain {} --corpus {} --nodes {} --pretrain-steps {} --steps {} --batch {} \
         --dim {} --layers {} --heads {} --threads {} --seed {}",
        args.target.as_ref().map_or(String::new(), |t| format!(" --target '{t}'")),
        args.out.display(),
        args.min_gain,
        args.corpus,
        args.nodes,
        args.pretrain_steps,
        args.steps,
        args.batch,
        args.dim,
        args.layers,
        args.heads,
        args.threads,
        args.seed
    );
    write_report(
        &report_dir,
        &TrainReport {
            databases: &shown_each,
            label: args.target.as_deref(),
            measured: &measured,
            screened: &screened,
            split,
            settings: &settings,
            trained: &trained,
            screening_seconds,
            output: &args.out,
            command: &command,
        },
    )?;
    let last = trained.kept_point().or(trained.curve.last());
    let held = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or("–".to_string(), |v| format!("{v:.3}"));
    let first = trained.curve.first();
    Ok(format!(
        "specialist: {} parameters, trained on {} examples ({} measured, {} screened) in {:.0} s; held-out loss \
         measured {} -> {}, screened {} -> {} (step {} kept)\n  model {}, report {}\n",
        settings.config.parameters(),
        training.len(),
        split[1].1 + split[2].1,
        split[0].1,
        trained.seconds + screening_seconds,
        held(first.and_then(|p| p.held_out_measured)),
        held(last.and_then(|p| p.held_out_measured)),
        held(first.and_then(|p| p.held_out_screened)),
        held(last.and_then(|p| p.held_out_screened)),
        trained.kept_step,
        args.out.display(),
        report_dir.join("training.md").display()
    ))
}

/// `<out>.report/` beside the GGUF.
fn report_dir(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".report");
    out.with_file_name(name)
}

/// Fails now, not after training, when `out` cannot be written.
fn check_writable(out: &Path) -> Result<()> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.is_dir() {
        bail!("cannot write the specialist to `{}`: it is a folder", out.display());
    }
    let probe = dir.join(format!(".colt-train-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write the specialist to `{}`: its folder is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn progress_bar(quiet: bool, steps: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} steps · {elapsed} · {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
