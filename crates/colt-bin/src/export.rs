//! The kernel library: tuned kernels as C a program links. In the output
//! folder:
//!
//! - `kernels/<function>.c`: one per task, the best verified kernel of its
//!   job with its entry renamed `<function>` (colt's kernel ABI, below),
//!   and `<function>_run`, the same with named, typed buffer arguments;
//! - `colt_kernels.h`: both declarations of every task, with its buffers'
//!   shapes and roles and the scratch it needs;
//! - `kernels.json`: the manifest (task, count per pass, shapes, file,
//!   function, latency, naive latency, speedup, and the lineage and
//!   fingerprint that rebuild it);
//! - `build.sh`: compiles them with the flags colt measured them with into
//!   `libcolt_kernels.a` (its objects in a fresh `obj/`, the library
//!   removed before `ar` makes it anew: a link planted at either name is
//!   removed, not written through).
//!
//! The ABI of every function: `ntasks` threads call it at once, each with
//! its `task` in `0..ntasks`, and `barrier(barrier_ctx)` must return in
//! each only once all `ntasks` have called it (one thread: `ntasks = 1`
//! and a barrier that returns). Inputs are read only; temporaries and
//! outputs are the caller's memory, and so is `scratch` (at least
//! `<FUNCTION>_SCRATCH_FLOATS` floats, 64-byte aligned; NULL when 0).

use anyhow::{Context, Result};
use colt_db::BestKernel;
use colt_ir::BufferRole;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// One task's kernel to export.
pub struct Exported<'a> {
    pub task: &'a str,
    pub count: u64,
    pub kernel: &'a BestKernel,
    pub naive_ms: Option<f64>,
}

#[derive(Serialize)]
struct ManifestBuffer {
    name: String,
    role: &'static str,
    shape: Vec<usize>,
}

#[derive(Serialize)]
struct ManifestEntry {
    task: String,
    count: u64,
    function: String,
    file: String,
    buffers: Vec<ManifestBuffer>,
    scratch_floats: usize,
    latency_ms: Option<f64>,
    naive_ms: Option<f64>,
    speedup: Option<f64>,
    target: String,
    workload_fingerprint: String,
    fingerprint: String,
    lineage: String,
    rebuild: String,
}

/// Scratch buffers are carved from one workspace at 64-byte (16-float)
/// offsets, as colt's measurement allocates them.
fn scratch_offsets(scratch: &[usize]) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(scratch.len());
    let mut total = 0;
    for &len in scratch {
        offsets.push(total);
        total += len.next_multiple_of(16);
    }
    (offsets, total)
}

/// `colt_<task>` with every character C does not allow made `_`.
pub fn function_name(task: &str) -> String {
    let ident: String = task.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("colt_{ident}")
}

/// A task or buffer name as the generated C's comments show it: letters,
/// digits, `-`, `_` and `.`, every other character `_`. Names come from
/// the database, where any text can be stored: a `*/` or a line break in
/// one closed the header's comment and put the rest of the name into the
/// code every user of the library compiles.
fn comment_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

fn role(r: BufferRole) -> &'static str {
    match r {
        BufferRole::Input => "input",
        BufferRole::Temp => "temp",
        BufferRole::Output => "output",
    }
}

/// `colt export`: the best kernels of single-layer workloads, or of a
/// daemon's model job (`POST /v1/model-jobs`).
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The tuning database.
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: std::path::PathBuf,
    /// Workload names (a built-in's, or the one a workload file declares),
    /// comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required_unless_present = "model_job", conflicts_with = "model_job")]
    pub workload: Vec<String>,
    /// A model job of `colt serve`: every task's best kernel, with its count.
    #[arg(long)]
    pub model_job: Option<colt_db::ModelJobId>,
    /// Kernels of this target label (`cpu`, this host's CPU, by default; as
    /// `colt show --target`).
    #[arg(long)]
    pub target: Option<String>,
    /// The library's folder.
    #[arg(long)]
    pub out: std::path::PathBuf,
}

pub fn run(args: &ExportArgs) -> Result<String> {
    let db = colt_db::TuningDb::open_read_only(&args.db)?;
    let mut found = Vec::new();
    if let Some(id) = args.model_job {
        let Some(row) = db.model_job(id)? else {
            anyhow::bail!("the tuning database `{}` has no model job {id}", colt_db::TuningDb::display(&args.db));
        };
        let progress: colt_actors::ModelProgress = match &row.progress_json {
            Some(json) => serde_json::from_str(json).with_context(|| format!("model job {id}'s progress"))?,
            None => anyhow::bail!("model job {id} ({}) has run no round yet", row.job.model),
        };
        for task in &progress.tasks {
            let Some(job) = task.job else { continue };
            if let Some(best) = db.best_kernel(colt_db::KernelQuery::Job(job))? {
                found.push((task.name.clone(), task.count, best, task.naive_ms));
            }
        }
        if found.is_empty() {
            anyhow::bail!("model job {id} ({}) has no verified kernel yet", row.job.model);
        }
    }
    for name in &args.workload {
        let label = crate::tune::target_label(args.target.as_deref());
        let query = colt_db::KernelQuery::Workload { name, target: &label };
        let Some(best) = db.best_kernel(query)? else {
            return Err(crate::tune::no_kernel_on(&db, &args.db, name, &label));
        };
        let naive = db.baseline(best.record.job)?;
        found.push((name.clone(), 1, best, naive));
    }
    let exported: Vec<Exported<'_>> = found
        .iter()
        .map(|(task, count, kernel, naive_ms)| Exported { task, count: *count, kernel, naive_ms: *naive_ms })
        .collect();
    write_library(&args.out, &exported)?;
    Ok(format!(
        "{} kernels exported into `{}` (build: {}/build.sh)\n",
        exported.len(),
        args.out.display(),
        args.out.display()
    ))
}

/// Writes the library of `kernels` into `out`.
pub fn write_library(out: &Path, kernels: &[Exported<'_>]) -> Result<()> {
    // Every file goes through colt_report's writer (a new file renamed over
    // the name), and `kernels/` is made a real folder: links planted in
    // `out` are replaced, never written through.
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    colt_report::create_folder(&out.join("kernels"))?;
    let mut header = String::from(
        "/* colt kernel library: the tuned kernels of colt's jobs (see kernels.json).\n\
         * ABI: ntasks threads call a function at once, each with its task in\n\
         * 0..ntasks; barrier(barrier_ctx) returns in each once all have called it.\n\
         * Inputs are read only; temporaries, outputs and scratch are the caller's\n\
         * (scratch: 64-byte aligned, NAME_SCRATCH_FLOATS floats, NULL when 0).\n\
         * Built with -march=native: for the machine the kernels were tuned on. */\n\
         #ifndef COLT_KERNELS_H\n#define COLT_KERNELS_H\n\n\
         typedef void (*colt_barrier_fn)(void *ctx);\n\n",
    );
    let mut manifest = Vec::new();
    for e in kernels {
        let function = function_name(e.task);
        let program = e.kernel.candidate.program();
        let (offsets, scratch_floats) = scratch_offsets(&e.kernel.scratch);
        // The entry renamed; colt's helpers are all `static`.
        let renamed = rename_entry(&e.kernel.source, &function);
        let params: Vec<String> = program
            .buffers()
            .iter()
            .map(|b| {
                let constness = if b.role == BufferRole::Input { "const " } else { "" };
                format!("{constness}float *{}", colt_ir::c::c_ident(&b.name))
            })
            .collect();
        let signature = format!(
            "void {function}_run({}, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx)",
            params.join(", ")
        );
        let mut wrapper =
            format!("\n/* {} with named buffers (colt_kernels.h). */\n{signature} {{\n", comment_name(e.task));
        let mut table: Vec<String> =
            program.buffers().iter().map(|b| format!("(float *){}", colt_ir::c::c_ident(&b.name))).collect();
        table.extend(offsets.iter().map(|o| format!("scratch + {o}")));
        if table.is_empty() {
            table.push("0".into());
        }
        let _ = writeln!(wrapper, "  float *const bufs[] = {{{}}};", table.join(", "));
        let _ = writeln!(wrapper, "  {function}(bufs, task, ntasks, barrier, barrier_ctx);\n}}");
        let file = format!("kernels/{function}.c");
        colt_report::write_atomically(&out.join(&file), format!("{renamed}{wrapper}").as_bytes())?;

        let upper = function.to_uppercase();
        let _ = writeln!(
            header,
            "/* {}: {} per forward pass; {:.4} ms tuned.",
            comment_name(e.task),
            e.count,
            e.kernel.record.median_ms.unwrap_or(f64::NAN)
        );
        for b in program.buffers() {
            let dims: Vec<String> = b.shape.iter().map(ToString::to_string).collect();
            let _ = writeln!(header, " *   {} [{}] {}", comment_name(&b.name), dims.join("]["), role(b.role));
        }
        let _ = writeln!(header, " */\n#define {upper}_SCRATCH_FLOATS {scratch_floats}");
        let _ = writeln!(
            header,
            "void {function}(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);"
        );
        let _ = writeln!(header, "{signature};\n");

        let latency = e.kernel.record.median_ms;
        manifest.push(ManifestEntry {
            task: e.task.to_string(),
            count: e.count,
            function,
            file,
            buffers: program
                .buffers()
                .iter()
                .map(|b| ManifestBuffer { name: b.name.clone(), role: role(b.role), shape: b.shape.clone() })
                .collect(),
            scratch_floats,
            latency_ms: latency,
            naive_ms: e.naive_ms,
            speedup: e.naive_ms.zip(latency).map(|(n, l)| n / l),
            target: e.kernel.record.target.clone(),
            workload_fingerprint: e.kernel.record.workload_fingerprint.clone(),
            fingerprint: format!("{:016x}", e.kernel.record.fingerprint),
            lineage: e.kernel.lineage.to_string(),
            rebuild: e.kernel.rebuild_command(),
        });
    }
    header.push_str("#endif\n");
    colt_report::write_atomically(&out.join("colt_kernels.h"), header.as_bytes())?;
    let manifest = serde_json::to_string_pretty(&manifest)? + "\n";
    colt_report::write_atomically(&out.join("kernels.json"), manifest.as_bytes())?;
    let flags = colt_measure::ABI_FLAGS.join(" ");
    let build = format!(
        "#!/bin/sh\n# Builds libcolt_kernels.a from kernels/*.c with the flags colt measured them with.\n\
         set -e\ncd \"$(dirname \"$0\")\"\nCC=${{CC:-cc}}\nrm -rf obj\nmkdir obj\nfor c in kernels/*.c; do\n  \
         $CC {flags} -fPIC -c \"$c\" -o \"obj/$(basename \"$c\" .c).o\"\ndone\n\
         rm -f libcolt_kernels.a\nar rcs libcolt_kernels.a obj/*.o\necho \"$(pwd)/libcolt_kernels.a\"\n"
    );
    // Executable from its creation: no chmod of a file colt did not make.
    colt_report::write_atomically_with_mode(&out.join("build.sh"), build.as_bytes(), colt_report::EXECUTABLE_MODE)?;
    Ok(())
}

/// `source` with its entry `colt_kernel` called `function`.
fn rename_entry(source: &str, function: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find("colt_kernel") {
        let after = &rest[at + "colt_kernel".len()..];
        let before_ok = rest[..at].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after_ok = after.chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { function } else { "colt_kernel" });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_entry_is_renamed() {
        let c = "/* colt_kernel */ void colt_kernel(float *const *bufs) { colt_kernel_helper(); }";
        assert_eq!(rename_entry(c, "colt_x"), "/* colt_x */ void colt_x(float *const *bufs) { colt_kernel_helper(); }");
        assert_eq!(function_name("gemma.prefill128.q-proj"), "colt_gemma_prefill128_q_proj");
        // A name that closed the comment and wrote code into the header.
        assert_eq!(comment_name("x */ int evil; /* y\nz"), "x____int_evil_____y_z");
        assert_eq!(comment_name("gemma.prefill128.q-proj"), "gemma.prefill128.q-proj");
        assert_eq!(scratch_offsets(&[5, 16, 1]), (vec![0, 16, 32], 48));
    }
}
