//! The training report: `training.md` and `training.svg` in a folder.

use crate::error::TrainError;
use crate::examples::{DatabaseExamples, ScreenedExamples, Source};
use crate::training::{TrainSettings, Trained};
use std::fmt::Write;
use std::path::Path;

/// Everything the report says.
pub struct TrainReport<'a> {
    /// The databases, as their locations are shown.
    pub databases: &'a [String],
    pub label: Option<&'a str>,
    pub measured: &'a DatabaseExamples,
    pub screened: &'a ScreenedExamples,
    /// Examples per source in the training and held-out splits.
    pub split: [(Source, usize, usize); 3],
    pub settings: &'a TrainSettings,
    pub trained: &'a Trained,
    pub screening_seconds: f64,
    /// The GGUF written.
    pub output: &'a Path,
    /// The command that reproduces this run.
    pub command: &'a str,
}

/// Writes `training.md` and `training.svg` into `dir`.
pub fn write_report(dir: &Path, report: &TrainReport) -> Result<(), TrainError> {
    let unwritable = |path: &Path, e: &dyn std::fmt::Display| TrainError::Unwritable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
    let curve = &report.trained.curve;
    let series = |name: &str, value: &dyn Fn(&crate::CurvePoint) -> Option<f64>| colt_report::LossSeries {
        name: name.to_string(),
        points: curve.iter().filter_map(|p| Some((p.step as f64, value(p)?))).collect(),
    };
    let svg = colt_report::loss_curves_svg(
        &[
            series("training (mean since the last point)", &|p| Some(p.train_loss)),
            series("held-out screened", &|p| p.held_out_screened),
            series("held-out measured", &|p| p.held_out_measured),
        ],
        "colt's specialist: loss per answer token",
    )
    .map_err(|e| unwritable(dir, &e))?;
    let svg_path = dir.join("training.svg");
    std::fs::write(&svg_path, svg).map_err(|e| unwritable(&svg_path, &e))?;
    let md_path = dir.join("training.md");
    std::fs::write(&md_path, markdown(report)).map_err(|e| unwritable(&md_path, &e))?;
    Ok(())
}

fn markdown(r: &TrainReport) -> String {
    let mut out = String::new();
    let c = &r.settings.config;
    let t = r.trained;
    let m = r.measured;
    let s = r.screened;
    let _ = writeln!(out, "# colt's specialist: training report\n");
    let _ = writeln!(out, "Written to `{}`. Reproduce with:\n\n    {}\n", r.output.display(), r.command);
    let _ = writeln!(out, "## What it trained on\n");
    let _ = writeln!(
        out,
        "- **Measured**: {}{}: {} trials of {} jobs, on {}. Left out: {} stale records (their lineage no longer \
         rebuilds the kernel measured: another version of colt's schedule space), {} answers the legal-edit list \
         does not offer, {} sequences longer than the context, {} improvements less than the minimum gain.",
        r.databases.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(" and "),
        r.label.map_or(String::new(), |l| format!(" (label `{l}`)")),
        m.trials,
        m.jobs,
        if m.labels.is_empty() {
            "no label".to_string()
        } else {
            m.labels.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
        },
        m.stale,
        m.unlisted,
        m.too_long,
        m.below_gain,
    );
    let _ = writeln!(
        out,
        "- **Screened**: {} corpus programs, {} nodes, {} children ranked by the cost model's roofline prior in \
         {:.0} s; {} nodes had no edit ranked {:.0}% faster, {} were too long.",
        s.programs,
        s.nodes,
        s.children_scored,
        r.screening_seconds,
        s.no_better_edit,
        (crate::examples::SCREEN_MARGIN - 1.0) * 100.0,
        s.too_long
    );
    let _ = writeln!(out, "\n| examples | training | held out (whole workloads) |\n|---|--:|--:|");
    for (source, train, held) in r.split {
        let _ = writeln!(out, "| {} | {train} | {held} |", source.name());
    }
    let _ = writeln!(out, "\n## The model and the run\n");
    let _ = writeln!(
        out,
        "- llama architecture, {} blocks of width {}, {} heads, SwiGLU width {}, vocabulary {}, context {}: {} \
         parameters.",
        c.layers,
        c.dim,
        c.heads,
        c.ffn,
        c.vocab,
        c.context,
        c.parameters()
    );
    let st = r.settings;
    let _ = writeln!(
        out,
        "- {} pretraining steps (learning rate {}) then {} training steps ({}), {} sequences a step, AdamW, {} \
         threads, seed {}.",
        st.pretrain_steps,
        st.pretrain_learning_rate,
        st.finetune_steps,
        st.finetune_learning_rate,
        st.batch,
        st.threads,
        st.seed
    );
    let _ = writeln!(
        out,
        "- {:.0} s of training, {} tokens ({:.0} tokens/s).\n",
        t.seconds,
        t.tokens,
        t.tokens as f64 / t.seconds.max(1e-9)
    );
    let kept = t.kept_point();
    let _ = writeln!(
        out,
        "- The model written is step {}'s{}.\n",
        t.kept_step,
        match kept.and_then(|p| p.held_out_measured) {
            Some(loss) if kept.is_some_and(|p| p.phase == "training") =>
                format!(": the training phase's lowest held-out measured loss, {loss:.3}"),
            _ => ", the last (no training-phase point with a held-out measured loss to choose by)".to_string(),
        }
    );
    let _ = writeln!(out, "## Loss (nats per answer token)\n\n![loss curves](training.svg)\n");
    let _ = writeln!(out, "| step | phase | training | held-out screened | held-out measured |\n|--:|---|--:|--:|--:|");
    let cell = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or("–".to_string(), |v| format!("{v:.3}"));
    for p in &t.curve {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            p.step,
            p.phase,
            cell(Some(p.train_loss)),
            cell(p.held_out_screened),
            cell(p.held_out_measured)
        );
    }
    out
}
