//! `colt`: the command line of the colt autotuner. Thin by design: each
//! subcommand parses its arguments, calls a library crate, and prints.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use colt_ir::{load_workload, Size};

#[derive(Parser)]
#[command(name = "colt", version, about = "An offline autotuner for the layers of ML models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct WorkloadArg {
    /// A built-in workload (see `colt workloads`) or a workload file.
    workload: String,
    /// Use the full model shapes instead of the bench shapes.
    #[arg(long)]
    full: bool,
}

impl WorkloadArg {
    fn load(&self) -> Result<colt_ir::Program> {
        let size = if self.full { Size::Full } else { Size::Bench };
        load_workload(&self.workload, size).with_context(|| format!("cannot load workload `{}`", self.workload))
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the built-in workloads: name, MACs, description (tab-separated).
    Workloads,
    /// Print a workload's program: its text and each stage's axes.
    ShowProgram(WorkloadArg),
    /// Print a workload's naive kernel as C (the baseline of every speedup).
    EmitC(WorkloadArg),
    /// Run the reference interpreter on the seeded inputs and summarise each
    /// output (the oracle kernels are checked against).
    Reference {
        #[command(flatten)]
        workload: WorkloadArg,
        /// Seed of the input generator.
        #[arg(long, default_value_t = colt_ir::data::DEFAULT_SEED)]
        seed: u64,
    },
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
        Command::Workloads => {
            let lines: Vec<String> = colt_ir::SUITE
                .iter()
                .map(|w| format!("{}\t{}\t{}\n", w.name, w.program(Size::Bench).macs(), w.description))
                .collect();
            emit(&lines.concat());
        }
        Command::ShowProgram(arg) => emit(&show_program(&arg.load()?)),
        Command::EmitC(arg) => emit(&colt_ir::c::naive_c(&arg.load()?)),
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
