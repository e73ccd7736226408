//! `colt tune`: one tuning job from the command line — a progress bar while
//! it runs, the report in `--out` when it ends, and one JSON line with
//! `--json` — and `colt show`, the best kernel a database knows.

use anyhow::{bail, Context, Result};
use colt_actors::{Colt, ColtConfig, TuneRequest};
use colt_db::{DbLocation, JobId, KernelQuery, TuningDb};
use colt_measure::opencl::DeviceChoice;
use colt_report::{ReportInput, TrialPoint, TuneSummary};
use colt_search::{check_count, Event, JobSettings, SearchParams, StopReason, StrategyChoice};
use crossbeam_channel::unbounded;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub workload: crate::WorkloadArg,
    /// Measured candidates to stop at.
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// evolutionary (the default: measured the fastest honest choice with
    /// the default models, see docs/src/strategies.md), colt
    /// (the local models share one tree), colt:separate-trees,
    /// colt:no-course-alteration, colt:legal-list, colt:lambda=X,
    /// colt:model-share=S, single, mcts, random or beam.
    #[arg(long, default_value = colt_search::DEFAULT_STRATEGY)]
    pub strategy: String,
    /// GGUF models, comma-separated; the default local models by default.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<PathBuf>,
    /// Layers of each model llama.cpp offloads to a GPU (0: the models run
    /// on the CPU). Needs colt built with `--features cuda` or `vulkan`.
    #[arg(long, default_value_t = 0)]
    pub gpu_layers: u32,
    /// Search threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub target: crate::TargetArg,
    /// The tuning database: a SQLite file (created if missing) or a
    /// PostgreSQL server (`postgres://user@host:port/db`).
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: PathBuf,
    /// Where the report, the best kernel and the job's resume file go;
    /// `colt-out/<workload>-<strategy>` by default, `<workload>` the name
    /// the workload declares (its file's `workload` line).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one line of JSON at the end.
    #[arg(long)]
    pub json: bool,
    /// Continue the job recorded in `--out` (its `job.json`): nothing
    /// measured is measured again.
    #[arg(long)]
    pub resume: bool,
    /// Stop after this many model calls (all models together).
    #[arg(long)]
    pub llm_calls: Option<u64>,
    /// Stop after this many seconds (above 0, at most 30 days).
    #[arg(long, value_parser = wall_seconds)]
    pub wall_s: Option<Duration>,
    /// Do not learn from the database: neither start from its best records
    /// of this workload nor warm the cost model up on other workloads' records.
    #[arg(long)]
    pub fresh: bool,
    /// λ of model-aware UCT.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Candidates measured per round.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Model expansions between measurement rounds.
    #[arg(long)]
    pub expansions: Option<usize>,
    /// Measure both sides of every proposal probe (each model call's child
    /// and a random edit set at the same node), outside the trial budget:
    /// the report's proposal-quality table then has measured win rates.
    #[arg(long)]
    pub measure_probes: bool,
    /// Answers each model call decodes side by side from its one prompt
    /// (the child is the usable one the cost model ranks first).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub answers: u32,
}

/// What `--out DIR/job.json` holds: enough to resume the job.
///
/// The database is kept as it is shown (a server's URL without its
/// password, see `colt_db::DbLocation`): `--resume` takes the password
/// from `--db` (or `COLT_DB`) again and checks that it names the same
/// database. The file is also its owner's alone (mode 0600), as files of a
/// job's setup should be.
#[derive(Serialize, Deserialize)]
struct JobFile {
    job: JobId,
    /// The database as shown (written by colt before 2026-12 in full: it is
    /// compared as shown, so such a file still resumes).
    db: PathBuf,
    /// The name the workload declares, as the database knows it.
    workload: String,
    strategy: String,
}

pub fn run(args: TuneArgs) -> Result<()> {
    let program = Arc::new(args.workload.load()?);
    let strategy: StrategyChoice = args.strategy.parse()?;
    let out = args.out.clone().unwrap_or_else(|| {
        let name = program.name().replace(['/', ' '], "_");
        PathBuf::from("colt-out").join(format!("{name}-{}", strategy.to_string().replace([':', '='], "_")))
    });
    let resume = if args.resume {
        let path = out.join("job.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("--resume: cannot read `{}` (written by the job to resume)", path.display()))?;
        let file: JobFile =
            serde_json::from_str(&text).with_context(|| format!("--resume: `{}` is not a job file", path.display()))?;
        let (recorded, given) = (DbLocation::new(&file.db), DbLocation::new(&args.db));
        if recorded.to_string() != given.to_string() {
            bail!(
                "--resume: job {} of `{}` was recorded in the database `{recorded}`, not `{given}` (pass that \
                 database as --db, with its password if it has one)",
                file.job,
                path.display(),
            );
        }
        Some(file.job)
    } else {
        None
    };
    let mut params = SearchParams::default();
    check_count("--trials", args.trials, 1, colt_search::MAX_TRIALS, "a job's trial budget")?;
    check_count("--threads", args.threads, 1, colt_search::MAX_THREADS, "a job's search threads")?;
    if let Some(l) = args.lambda {
        if !(0.0..=1.0).contains(&l) {
            bail!("--lambda {l}: λ of model-aware UCT is a number from 0 to 1");
        }
        params.lambda = l;
    }
    if let Some(b) = args.batch {
        params.batch = check_count("--batch", b, 1, colt_search::MAX_BATCH, "the candidates measured a round")?;
    }
    if let Some(e) = args.expansions {
        let what = "the model expansions a round";
        params.llm_expansions = check_count("--expansions", e, 1, colt_search::MAX_EXPANSIONS, what)?;
    }
    let models = model_paths(strategy.uses_models(), &args.models)?;
    let colt = start_colt(args.db.clone(), models, args.gpu_layers, args.target.opencl())?;
    let target = colt.target();
    params.measure_probes = args.measure_probes;
    params.answers = args.answers as usize;
    // Before the output folder or the job exists.
    refuse_a_taken_name(&colt, &program)?;
    // Before the job too: its cost model's prior runs on them (colt-actors'
    // `job_roofline`), and its report gives the best kernel's share of
    // their bound.
    let limits = crate::roofline::machine_limits(&colt, &target.label());
    let request = TuneRequest {
        program: program.clone(),
        target: target.clone(),
        settings: JobSettings {
            strategy: strategy.clone(),
            trials: args.trials,
            llm_calls: args.llm_calls,
            wall: args.wall_s,
            threads: args.threads,
            seed: args.seed,
            params,
        },
        resume,
        start_from_known: !args.fresh,
        warm_start: !args.fresh,
        naive_ms: None,
    };

    let stop = stop_on_ctrl_c()?;

    std::fs::create_dir_all(&out).with_context(|| format!("cannot create the output folder `{}`", out.display()))?;
    let (events, inbox) = unbounded();
    let bar = progress_bar(args.trials, args.json);
    let job_file_written = Arc::new(AtomicBool::new(resume.is_some()));
    let watcher = {
        let bar = bar.clone();
        let trials = args.trials;
        std::thread::spawn(move || {
            let mut naive = None;
            for event in inbox {
                match event {
                    Event::Baseline(ms) => naive = Some(ms),
                    Event::Progress(p) => {
                        bar.set_position(p.trials.min(trials) as u64);
                        bar.set_message(progress_text(&p, naive));
                    }
                    Event::Warning(w) => bar.println(format!("warning: {w}")),
                    _ => {}
                }
            }
        })
    };
    // The job row exists once `tune` has started; the job file must be on
    // disk before the first trial, so that a killed job can be resumed.
    let job_file = {
        let db = PathBuf::from(TuningDb::display(&args.db));
        let (out, workload, strategy) = (out.clone(), program.name().to_string(), strategy.to_string());
        let written = job_file_written.clone();
        move |job: JobId| -> Result<()> {
            if written.swap(true, Ordering::Relaxed) {
                return Ok(());
            }
            let path = out.join("job.json");
            let text = serde_json::to_string_pretty(&JobFile { job, db, workload, strategy })?;
            colt_report::write_atomically(&path, text.as_bytes())?;
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .with_context(|| format!("cannot make `{}` its owner's alone", path.display()))
        }
    };
    let result = colt.tune(request, events, stop.clone(), |job| job_file(job).map_err(|e| format!("{e:#}")));
    let _ = watcher.join();
    bar.finish_and_clear();
    let result = result?;
    let outcome = result.outcome;

    let curve = TrialPoint::curve(&outcome.curve);
    let mut summary = TuneSummary::of(program.name(), &strategy.to_string(), &result.target, &outcome)
        .with_bound(colt_report::bound_of(limits.as_ref(), &program));
    summary.started_from =
        result.started_from.map(|(records, best_ms, best_job)| colt_report::StartedFrom { records, best_ms, best_job });

    let (source, decisions, lineage) = match &outcome.best {
        Some((_, lineage, candidate)) => (
            Some(colt_ir::schedule::lower(candidate).source()),
            Some(candidate.render()),
            Some(format!(
                "colt emit-c {} --space {} {lineage}",
                args.workload.rebuild_arg(),
                candidate.target().name()
            )),
        ),
        None => (None, None, None),
    };
    let files = colt_report::write_report(
        &out,
        &ReportInput {
            summary: &summary,
            curve: &curve,
            models: &outcome.models,
            best_source: source.as_deref(),
            best_decisions: decisions.as_deref(),
            best_lineage: lineage.as_deref(),
        },
    )?;
    if args.json {
        println!("{}", colt_report::summary_line(&summary));
    } else {
        let reason = match outcome.reason {
            StopReason::TrialBudget => "trial budget reached",
            StopReason::LlmBudget => "model-call budget reached",
            StopReason::WallClock => "wall-clock limit reached",
            StopReason::Stopped => "stopped (resume with --resume)",
            StopReason::Exhausted => "nothing left to measure",
        };
        println!(
            "{}: {} trials ({reason}), naive {:.3} ms, best {}{}, job {} in `{}`\n  report \
             {}, plot {}, kernel {}",
            summary.workload,
            summary.trials,
            summary.naive_ms,
            match (summary.best_ms, summary.speedup) {
                (Some(b), Some(s)) => format!("{b:.3} ms ({s:.2}x)"),
                _ => "none verified".into(),
            },
            // Only a measured figure: report.md says when there is none.
            summary.share_of_bound.map_or(String::new(), |share| format!(
                ", {:.1}% of its roofline bound{}",
                share * 100.0,
                colt_report::above_the_bound(Some(share))
            )),
            result.job,
            TuningDb::display(&args.db),
            files.report_md.display(),
            files.curve_svg.display(),
            files.kernel_c.as_ref().map_or("none".into(), |p| p.display().to_string())
        );
    }
    Ok(())
}

/// The models a job needs: those given, else the default local models;
/// none when the strategy calls no model.
pub fn model_paths(needed: bool, given: &[PathBuf]) -> Result<Vec<PathBuf>> {
    Ok(match (needed, given.is_empty()) {
        (false, _) => Vec::new(),
        (true, true) => colt_llm::default_model_paths()?,
        (true, false) => given.to_vec(),
    })
}

/// Refuses `program` when its name stands for another program in `colt`'s
/// database (`create_job` refuses it too, but only once the caller has
/// made its output folder and started its clock).
pub fn refuse_a_taken_name(colt: &Colt, program: &colt_ir::Program) -> Result<()> {
    let (name, fingerprint) = (program.name().to_string(), colt_ir::workload_fingerprint(program));
    colt.db().call(move |db| db.check_workload_name(&name, &fingerprint))??;
    Ok(())
}

/// The actor system of a `tune` or `bench` process, with the OpenCL device
/// to tune for if any.
pub fn start_colt(db: PathBuf, models: Vec<PathBuf>, gpu_layers: u32, opencl: Option<DeviceChoice>) -> Result<Colt> {
    let exe = std::env::current_exe().context("cannot find the colt executable to start its measure worker")?;
    let config = ColtConfig { gpu_layers, ..ColtConfig::for_this_machine(db, models, opencl, exe) };
    Ok(Colt::start(config)?)
}

/// A flag Ctrl-C (SIGINT), SIGTERM or SIGHUP sets: the job stops at once
/// (its search polls the flag; a measurement or model call in flight is
/// given up, and measured again on `--resume`); a second signal quits at
/// once.
pub fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    ctrlc::set_handler(move || {
        if on_signal.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("colt: stopping (Ctrl-C again to quit now)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// `--wall-s`: seconds that make a wall-clock budget (clap names the flag).
fn wall_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    colt_search::wall_budget(seconds)
}

fn progress_bar(trials: usize, hidden: bool) -> ProgressBar {
    let bar = if hidden { ProgressBar::hidden() } else { ProgressBar::new(trials as u64) };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} trials  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn progress_text(p: &colt_search::Progress, naive: Option<f64>) -> String {
    let mut text = match (p.best_ms, naive.or(p.naive_ms)) {
        (Some(b), Some(n)) => format!("best {b:.3} ms ({:.1}x)", n / b),
        (Some(b), None) => format!("best {b:.3} ms"),
        _ => "no verified kernel yet".into(),
    };
    if !p.llm_calls.is_empty() {
        let calls: Vec<String> = p.llm_calls.iter().map(|(m, n)| format!("{m} {n}")).collect();
        text.push_str(&format!("  calls: {}", calls.join(", ")));
        if let Some(share) = p.largest_model_share {
            text.push_str(&format!(" (largest {:.0}%)", share * 100.0));
        }
    }
    text.push_str(&format!("  [{}]", p.phase));
    text
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The tuning database.
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: PathBuf,
    /// The workload's name: a built-in's, or the one its file declares
    /// (its `workload` line; the file's stem when it has none).
    #[arg(long)]
    pub workload: String,
    /// Kernels of this target label: `cpu` (this host's CPU, the default)
    /// or a label as the database stores it (`cpu:MODEL [FEATURES]`,
    /// `opencl:PLATFORM / DEVICE / DRIVER`). Kernels measured on other
    /// hardware are never shown in place of this one's.
    #[arg(long)]
    pub target: Option<String>,
    /// Print one line of JSON instead of the kernel.
    #[arg(long)]
    pub json: bool,
}

/// The target label a `--target` names: `cpu` (or none) is this host's CPU.
pub(crate) fn target_label(arg: Option<&str>) -> String {
    match arg {
        None | Some("cpu") => colt_measure::Target::Cpu.label(),
        Some(label) => label.to_string(),
    }
}

/// Why a lookup on `label` found no kernel of `workload`, naming the labels
/// that hold one.
pub(crate) fn no_kernel_on(db: &TuningDb, path: &std::path::Path, workload: &str, label: &str) -> anyhow::Error {
    let others = db.workload_targets(workload).unwrap_or_default();
    let mut message = format!(
        "the tuning database `{}` has no verified kernel of workload `{workload}` on `{label}`",
        TuningDb::display(path)
    );
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(|l| format!("`{l}`")).collect();
        message.push_str(&format!(
            "; it has kernels of it measured on other hardware, which are not reused here: {} (name one with --target)",
            names.join(", ")
        ));
    }
    anyhow::anyhow!(message)
}

/// `colt show`: the best verified kernel the database knows for a workload.
pub fn show(args: ShowArgs) -> Result<String> {
    // Read-only: `show` never creates or writes a database (an empty file
    // is "no colt database", not given a schema).
    let db = TuningDb::open_read_only(&args.db)?;
    let label = target_label(args.target.as_deref());
    let query = KernelQuery::Workload { name: &args.workload, target: &label };
    let Some(best) = db.best_kernel(query)? else {
        return Err(no_kernel_on(&db, &args.db, &args.workload, &label));
    };
    let record = &best.record;
    let median = record.median_ms.unwrap_or(f64::NAN);
    let limits = crate::roofline::stored_machine_limits(&args.db, &label);
    let bound = colt_report::bound_of(limits.as_ref(), best.candidate.program());
    let share = colt_report::share_of(bound.as_ref(), record.median_ms);
    if args.json {
        return Ok(format!(
            "{}\n",
            serde_json::json!({
                "workload": args.workload, "target": record.target, "best_ms": median,
                "bound_ms": bound.as_ref().map(colt_report::Bound::milliseconds), "share_of_bound": share,
                "fingerprint": format!("{:016x}", record.fingerprint), "strategy": record.strategy,
                "model": record.model, "job": record.job, "sampler": record.sampler.to_string(), "seed": record.seed, "edits": record.edits,
            })
        ));
    }
    // After the rebuild line, which examples cut at the second line show.
    let roofline = match share {
        Some(share) => {
            format!(
                "{}; this kernel runs at {:.1}% of it{}",
                colt_report::describe_bound(bound.as_ref()),
                share * 100.0,
                colt_report::above_the_bound(Some(share))
            )
        }
        None => colt_report::describe_bound(bound.as_ref()),
    };
    Ok(format!(
        "// {}: {median:.3} ms on {} (job {}, {}, fingerprint {:016x})\n// rebuild: {}\n// roofline bound: {roofline}\n{}\n{}",
        args.workload,
        record.target,
        record.job,
        record.strategy,
        record.fingerprint,
        best.rebuild_command(),
        best.candidate.render().lines().map(|l| format!("// {l}\n")).collect::<String>(),
        best.source
    ))
}
