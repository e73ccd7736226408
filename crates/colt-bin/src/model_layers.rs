//! `colt model-layers`: a GGUF model's distinct layer programs, with their
//! counts per forward pass (colt-ir's `model` module derives them from the
//! hyperparameters colt-llm reads).

use anyhow::{bail, Context, Result};
use colt_ir::model::{model_tasks, ModelShape, Phase, Task, MAX_SEQUENCE};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ModelLayersArgs {
    /// The GGUF model file.
    pub model: PathBuf,
    /// Prefill of this many tokens (or, with `--decode`, the cache length).
    #[arg(long, default_value_t = 128)]
    pub seq: usize,
    /// One decode step against a cache of `--seq` tokens (GEMV shapes).
    #[arg(long)]
    pub decode: bool,
    /// Write each task's program as `<task>.colt` into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// One JSON line per task (with its program text) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// The shape of the model at `path`, as colt-ir derives layers from it.
pub fn model_shape(path: &Path) -> Result<ModelShape> {
    let h = colt_llm::Hyperparameters::read(path)?;
    colt_actors::model_shape(&slug(path), &h).map_err(|e| anyhow::anyhow!("model file {}: {e}", path.display()))
}

/// The model's tasks for `--seq`/`--decode`.
pub fn tasks(path: &Path, seq: usize, decode: bool) -> Result<Vec<Task>> {
    if !(1..=MAX_SEQUENCE).contains(&seq) {
        bail!("--seq {seq}: a sequence is 1 to {MAX_SEQUENCE} tokens");
    }
    let shape = model_shape(path)?;
    let phase = if decode { Phase::Decode { context: seq } } else { Phase::Prefill { tokens: seq } };
    Ok(model_tasks(&shape, phase)?)
}

/// A workload name from the file's stem: lower case, other characters `-`.
fn slug(path: &Path) -> String {
    let stem = path.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().to_lowercase());
    let slug: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .collect();
    if slug.is_empty() {
        "model".into()
    } else {
        slug
    }
}

pub fn run(args: &ModelLayersArgs) -> Result<String> {
    let tasks = tasks(&args.model, args.seq, args.decode)?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
        for task in &tasks {
            let file = out.join(format!("{}.colt", task.name));
            // A new file renamed over the name: a link planted there is replaced.
            colt_report::write_atomically(&file, colt_ir::print_program(&task.program).as_bytes())?;
        }
    }
    let mut text = String::new();
    if args.json {
        for t in &tasks {
            let line = serde_json::json!({
                "task": t.name,
                "roles": t.roles,
                "count": t.count,
                "macs": t.program.macs(),
                "shapes": shapes(t),
                "program": colt_ir::print_program(&t.program),
            });
            let _ = writeln!(text, "{line}");
        }
        return Ok(text);
    }
    let total: u64 = tasks.iter().map(|t| t.count * t.program.macs()).sum();
    let _ = writeln!(
        text,
        "# {} tasks of `{}`, {:.2} GMAC a forward pass",
        tasks.len(),
        args.model.display(),
        total as f64 / 1e9
    );
    let _ = writeln!(text, "task\tcount\tMMAC\tshare\tshapes");
    for t in &tasks {
        let macs = t.count * t.program.macs();
        let _ = writeln!(
            text,
            "{}\t{}\t{:.2}\t{:.1}%\t{}",
            t.name,
            t.count,
            t.program.macs() as f64 / 1e6,
            100.0 * macs as f64 / total.max(1) as f64,
            shapes(t)
        );
    }
    Ok(text)
}

/// `X[128, 576] W[576, 1536] ...`: every buffer of the task's program.
fn shapes(task: &Task) -> String {
    let p = &task.program;
    let dims = |s: &[usize]| s.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    p.buffers().iter().map(|b| format!("{}[{}]", b.name, dims(&b.shape))).collect::<Vec<_>>().join(" ")
}
