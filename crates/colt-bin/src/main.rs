//! `colt`: the command line of the colt autotuner. Thin by design: each
//! subcommand parses its arguments, calls a library crate, and prints.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use colt_ir::schedule::{Candidate, Edit};
use colt_ir::{load_workload, Size};

mod bench;
mod db;
mod export;
mod http_head;
mod machine;
mod measure_worker;
mod model_layers;
mod models;
mod roofline;
mod run;
mod serve;
mod serve_lock;
mod token;
mod train;
mod tune;
mod tune_model;

#[derive(Parser)]
#[command(name = "colt", version, about = "An offline autotuner for the layers of ML models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
pub struct WorkloadArg {
    /// A built-in workload (see `colt workloads`) or a workload file.
    pub workload: String,
    /// Use the full model shapes instead of the bench shapes.
    #[arg(long)]
    pub full: bool,
}

impl WorkloadArg {
    pub fn load(&self) -> Result<colt_ir::Program> {
        let size = if self.full { Size::Full } else { Size::Bench };
        load_workload(&self.workload, size).with_context(|| format!("cannot load workload `{}`", self.workload))
    }

    /// The workload as a later command loads it again, from any folder: a
    /// built-in by name, a file by its absolute path; with `--full` when
    /// given.
    pub fn rebuild_arg(&self) -> String {
        let named =
            colt_ir::builtin(&self.workload).is_some() || colt_ir::corpus::corpus_by_name(&self.workload).is_some();
        let workload = match named {
            true => self.workload.clone(),
            false => std::fs::canonicalize(&self.workload)
                .map_or_else(|_| self.workload.clone(), |p| p.display().to_string()),
        };
        if self.full {
            format!("{workload} --full")
        } else {
            workload
        }
    }
}

/// Where kernels run, and on OpenCL which device.
#[derive(clap::Args, Clone, Debug)]
pub struct TargetArg {
    /// `cpu`, or `opencl`: an OpenCL device (see `colt devices`), with
    /// OpenCL's schedule space.
    #[arg(long, value_enum, default_value_t = run::Target::Cpu)]
    pub target: run::Target,
    /// OpenCL platform: its index in `colt devices` or a part of its name;
    /// the first by default.
    #[arg(long)]
    pub platform: Option<String>,
    /// OpenCL device on that platform: its index or a part of its name; the
    /// first by default.
    #[arg(long)]
    pub device: Option<String>,
}

impl TargetArg {
    /// The OpenCL device to open, if the target is OpenCL.
    pub fn opencl(&self) -> Option<colt_measure::opencl::DeviceChoice> {
        (self.target == run::Target::Opencl).then(|| colt_measure::opencl::DeviceChoice {
            platform: self.platform.clone(),
            device: self.device.clone(),
        })
    }
}

#[derive(clap::Args)]
struct CandidateArg {
    /// Seed of the random candidate.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How the random candidate is drawn: `uniform`, or
    /// `informed(lanes=L, registers=R, cores=C)` (as a tuned kernel's
    /// lineage names it).
    #[arg(long, default_value = "uniform")]
    sampler: colt_ir::schedule::Sampler,
    /// Start from the untransformed candidate of this sketch (0 = every
    /// inlinable stage inlined; see `show-candidate`) instead of a random one.
    #[arg(long)]
    sketch: Option<usize>,
    /// Apply these edits first, in order (e.g. `--apply 'parallel(stage="C", loops=1)'`).
    #[arg(long)]
    apply: Vec<String>,
    /// The schedule space: `cpu`, or `opencl` (kernels in OpenCL C).
    #[arg(long = "space", value_enum, default_value_t = run::Target::Cpu)]
    space: run::Target,
}

impl CandidateArg {
    /// The chosen candidate, after the edits.
    fn candidate(&self, program: colt_ir::Program) -> Result<Candidate> {
        let program = std::sync::Arc::new(program);
        let space = self.space.space();
        let mut c = match self.sketch {
            None => self.sampler.sample(program, space, self.seed),
            Some(index) => {
                let all = colt_ir::schedule::sketches(&program);
                let sketch = all.get(index).cloned().with_context(|| {
                    format!(
                        "workload `{}` has {} sketches (0..={}), not {index}",
                        program.name(),
                        all.len(),
                        all.len() - 1
                    )
                })?;
                Candidate::initial_on(program, sketch, space)
            }
        };
        for (i, text) in self.apply.iter().enumerate() {
            let edit = Edit::parse(text)?;
            // The same edit twice is a typo more often than a wish (and
            // some edits undo themselves): which was meant is not guessed.
            let mut earlier = self.apply[..i].iter().filter_map(|t| Edit::parse(t).ok());
            if earlier.any(|e| e == edit) {
                anyhow::bail!("--apply: edit `{text}` is given more than once");
            }
            c = edit.apply(&c)?;
        }
        Ok(c)
    }
}

/// The naive kernel, or a candidate of the schedule space.
#[derive(clap::Args)]
struct KernelArg {
    #[command(flatten)]
    candidate: CandidateArg,
    /// A random scheduled candidate instead of the naive kernel.
    #[arg(long)]
    random: bool,
}

impl KernelArg {
    /// The candidate, or `None` for the naive kernel.
    fn candidate(&self, program: &colt_ir::Program) -> Result<Option<Candidate>> {
        if self.random || self.candidate.sketch.is_some() {
            self.candidate.candidate(program.clone()).map(Some)
        } else {
            Ok(None)
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Tune a workload: search its schedule space with the job's strategy
    /// (colt: several local models sharing one search tree) and measure the
    /// candidates on this machine; writes the best verified kernel and a
    /// report to `--out`, and every trial to the tuning database.
    Tune(Box<tune::TuneArgs>),
    /// Run strategies side by side on workloads with the same budgets and
    /// seeds: tables, plots and a JSON of every figure in `--out`.
    Bench(Box<bench::BenchArgs>),
    /// Run the tuning daemon: an HTTP JSON API to submit, watch, cancel and
    /// fetch tuning jobs, which survive restarts (docs/src/daemon.md).
    Serve(Box<serve::ServeArgs>),
    /// Print the best verified kernel a tuning database knows for a
    /// workload, with its latency and how to rebuild it.
    Show(tune::ShowArgs),
    /// List a GGUF model's distinct layer programs (norms, projections,
    /// attention, MLP or experts, head) for a prefill of `--seq` tokens or
    /// one `--decode` step, each with its count per forward pass.
    ModelLayers(model_layers::ModelLayersArgs),
    /// Tune every distinct layer of a GGUF model under one trial budget, a
    /// task scheduler giving rounds to the layers that lower the estimated
    /// forward-pass time most; a report in `--out`.
    TuneModel(Box<tune_model::TuneModelArgs>),
    /// Write the best kernels of workloads as a C library: kernel files, a
    /// header, a manifest and a build script (docs/src/whole-models.md).
    Export(export::ExportArgs),
    /// Train colt's specialist — a small model of colt's schedule language —
    /// from a tuning database's measured improvements and best kernels and
    /// from the corpus screened by the cost model; writes a GGUF that
    /// `--models` takes, and a training report beside it
    /// (docs/src/specialist.md).
    Train(Box<train::TrainArgs>),
    /// Look after a tuning database: `colt db backup DEST`, `colt db check`,
    /// `colt db copy --from A --to B`, `colt db relabel --from L --to M`.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Print this machine's limits — FP32 FMA peak, the cost of add, max,
    /// div, exp and sqrt in FMA slots, each cache level's and memory's read
    /// bandwidth — measured on the measured cores once per hardware label
    /// and kept in the tuning database (docs/src/measurement.md).
    Machine(machine::MachineArgs),
    /// List the built-in workloads: name, MACs, description (tab-separated).
    Workloads,
    /// Print a workload's program: its text and each stage's axes.
    ShowProgram(WorkloadArg),
    /// Print a workload's kernel as C: the naive one (the baseline of every
    /// speedup), or with `--random` (or `--sketch N`) a candidate of its
    /// schedule space, after the edits given with `--apply`; with `--space
    /// opencl`, as OpenCL C.
    EmitC {
        #[command(flatten)]
        workload: WorkloadArg,
        #[command(flatten)]
        kernel: KernelArg,
    },
    /// Build, verify and time one kernel of a workload on the CPU or an
    /// OpenCL device: the naive kernel, or with `--random`/`--sketch` a
    /// candidate of the target's schedule space.
    Run {
        #[command(flatten)]
        workload: WorkloadArg,
        #[command(flatten)]
        kernel: KernelArg,
        #[command(flatten)]
        target: TargetArg,
        /// Print one line of JSON.
        #[arg(long)]
        json: bool,
        /// Verify, then time a single run without warm-up (a check, not a
        /// measurement to compare).
        #[arg(long)]
        quick: bool,
    },
    /// Print a random candidate of a workload: its decisions and loop-nest
    /// outline (what a model's prompt shows) and its fingerprint.
    ShowCandidate {
        #[command(flatten)]
        workload: WorkloadArg,
        #[command(flatten)]
        candidate: CandidateArg,
    },
    /// List the legal edits of a random candidate of a workload, one per
    /// line (after the candidate itself, as `#` comments).
    Edits {
        #[command(flatten)]
        workload: WorkloadArg,
        #[command(flatten)]
        candidate: CandidateArg,
    },
    /// List the OpenCL platforms and devices, numbered as `--platform` and
    /// `--device` take them.
    Devices {
        /// One line of JSON per device.
        #[arg(long)]
        json: bool,
    },
    /// Describe GGUF models, one JSON line each: name, architecture,
    /// parameters, quantisation, context length, chat template and format.
    Models(models::ModelsArgs),
    /// Run the reference interpreter on the seeded inputs and summarise each
    /// output (the oracle kernels are checked against).
    Reference {
        #[command(flatten)]
        workload: WorkloadArg,
        /// Seed of the input generator.
        #[arg(long, default_value_t = colt_ir::data::DEFAULT_SEED)]
        seed: u64,
    },
    /// Serve colt-measure's kernel runs on stdin/stdout (started by colt
    /// itself, one process per measurer, so a crashing kernel kills only it).
    #[command(hide = true)]
    MeasureWorker,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("colt: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Tune(args) => tune::run(*args)?,
        Command::Bench(args) => emit(&bench::run(*args)?),
        Command::Serve(args) => serve::run(*args)?,
        Command::Show(args) => emit(&tune::show(args)?),
        Command::Db(command) => emit(&db::run(command)?),
        Command::ModelLayers(args) => emit(&model_layers::run(&args)?),
        Command::TuneModel(args) => emit(&tune_model::run(*args)?),
        Command::Export(args) => emit(&export::run(&args)?),
        Command::Train(args) => emit(&train::run(&args)?),
        Command::Machine(args) => emit(&machine::run(&args)?),
        Command::Models(args) => models::run(&args, emit)?,
        Command::MeasureWorker => measure_worker::run()?,
        Command::Workloads => {
            let lines: Vec<String> = colt_ir::SUITE
                .iter()
                .map(|w| format!("{}\t{}\t{}\n", w.name, w.program(Size::Bench).macs(), w.description))
                .collect();
            emit(&lines.concat());
        }
        Command::ShowProgram(arg) => emit(&show_program(&arg.load()?)),
        Command::EmitC { workload, kernel } => {
            let program = workload.load()?;
            match (kernel.candidate(&program)?, kernel.candidate.space) {
                (Some(c), _) => emit(&colt_ir::schedule::lower(&c).source()),
                (None, run::Target::Cpu) => emit(&colt_ir::c::naive_c(&program)),
                (None, run::Target::Opencl) => emit(&colt_ir::opencl::naive_opencl(&program).source),
            }
        }
        Command::Devices { json } => emit(&run::devices(json)?),
        Command::Run { workload, mut kernel, target, json, quick } => {
            let program = workload.load()?;
            // The candidate comes from the target's schedule space.
            kernel.candidate.space = target.target;
            let subject = match kernel.candidate(&program)? {
                Some(c) => run::Subject::Candidate(c),
                None => run::Subject::Naive,
            };
            let device = target.opencl().unwrap_or_default();
            let target = target.target;
            let plan = if quick { run::quick_plan() } else { colt_measure::RunPlan::default() };
            emit(&run::run(&program, run::RunRequest { target, subject, device, plan }, json)?);
        }
        Command::ShowCandidate { workload, candidate } => {
            let c = candidate.candidate(workload.load()?)?;
            let fingerprint = colt_ir::schedule::lower(&c).fingerprint();
            emit(&format!("{}fingerprint {fingerprint:016x}\n", c.render()));
        }
        Command::Edits { workload, candidate } => {
            let c = candidate.candidate(workload.load()?)?;
            let mut out: String = c.render().lines().map(|l| format!("# {l}\n")).collect();
            for edit in colt_ir::schedule::legal_edits(&c) {
                out.push_str(&format!("{edit}\n"));
            }
            emit(&out);
        }
        Command::Reference { workload, seed } => {
            let program = workload.load()?;
            let start = std::time::Instant::now();
            let buffers = colt_ir::interp::evaluate(&program, seed);
            let seconds = start.elapsed().as_secs_f64();
            let mut report = format!("{}: reference computed in {seconds:.3} s\n", program.name());
            for (id, b) in program.buffers_with_role(colt_ir::BufferRole::Output) {
                let data = &buffers[id.0];
                let sum: f64 = data.iter().map(|&x| x as f64).sum();
                let max = data.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
                report.push_str(&format!("  {}{:?}: sum {sum:.6e}, max |x| {max:.6e}\n", b.name, b.shape));
            }
            emit(&report);
        }
    }
    Ok(())
}

/// Writes to stdout; a closed pipe (`colt emit-c x | head`) ends the
/// program quietly instead of panicking.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("colt: error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// The program's text, then a table of every stage's iteration domain.
fn show_program(program: &colt_ir::Program) -> String {
    use std::fmt::Write;
    let mut out = colt_ir::print_program(program);
    let _ = writeln!(out, "\n# {} stages, {} MACs", program.stages().len(), program.macs());
    for stage in program.stages() {
        let axes: Vec<String> = stage
            .axes
            .iter()
            .map(|a| {
                let kind = if a.kind == colt_ir::AxisKind::Spatial { "" } else { "r:" };
                format!("{kind}{}={}", a.name, a.extent)
            })
            .collect();
        let _ =
            writeln!(out, "#   {:<4} {}  ({} points)", program.stage_name(stage), axes.join(" "), stage.domain_size());
    }
    out
}
