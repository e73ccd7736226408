//! The report a tuning job leaves in its output folder: `report.md` for a person, `curve.svg` and `curve.png` (best
//! latency versus trials), `summary.json` for scripts, and the best kernel's `kernel.c` and `decisions.txt` when
//! there is one.

pub(crate) mod curve;
mod markdown;
pub(crate) mod summary;

pub use curve::{plot_curve_png, plot_curve_svg, TrialPoint};
pub use summary::{summary_line, StartedFrom, TuneSummary};

use colt_search::ModelReport;
use std::path::{Path, PathBuf};

/// Everything a job's report shows.
pub struct ReportInput<'a> {
    pub summary: &'a TuneSummary,
    pub curve: &'a [TrialPoint],
    /// Each model's calls in the job.
    pub models: &'a [ModelReport],
    /// C source of the best kernel.
    pub best_source: Option<&'a str>,
    pub best_decisions: Option<&'a str>,
    /// How the best kernel was reached, e.g. "seed 12, edits: ...".
    pub best_lineage: Option<&'a str>,
}

/// The files [`write_report`] wrote, named so that callers can print or archive them.
#[derive(Clone, Debug)]
pub struct ReportFiles {
    pub report_md: PathBuf,
    pub curve_svg: PathBuf,
    pub curve_png: PathBuf,
    pub kernel_c: Option<PathBuf>,
    pub decisions_txt: Option<PathBuf>,
    pub summary_json: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot draw the latency curve: {0}")]
    Plot(String),
    #[error("cannot serialize the summary for {}: {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },
}

/// Writes the report into `dir`, creating it (and its parents) if missing.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
    let s = input.summary;
    let title = format!("{}: {} on {}", s.workload, s.strategy, s.target);
    let svg = plot_curve_svg(input.curve, s.naive_ms, &title)?;
    let png = plot_curve_png(input.curve, s.naive_ms, &title)?;
    let json_path = dir.join("summary.json");
    let json =
        serde_json::to_string_pretty(s).map_err(|source| ReportError::Json { path: json_path.clone(), source })?;
    // Fields initialise in order: report.md goes last, so its presence means every file it links to is there.
    Ok(ReportFiles {
        curve_svg: write_file(&dir.join("curve.svg"), &svg)?,
        curve_png: write_file(&dir.join("curve.png"), &png)?,
        kernel_c: input.best_source.map(|src| write_file(&dir.join(kernel_file(input)), src)).transpose()?,
        decisions_txt: input.best_decisions.map(|d| write_file(&dir.join("decisions.txt"), d)).transpose()?,
        summary_json: write_file(&json_path, json + "\n")?,
        report_md: write_file(&dir.join("report.md"), markdown::report_markdown(input))?,
    })
}

/// `kernel.cl` for an OpenCL target's kernels, `kernel.c` for the CPU's.
fn kernel_file(input: &ReportInput) -> &'static str {
    if input.summary.target.starts_with("opencl") {
        "kernel.cl"
    } else {
        "kernel.c"
    }
}

/// Through a new file and a rename: a link planted at a report's name is
/// replaced, never written through.
fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<PathBuf, ReportError> {
    crate::atomic_file::write_atomically(path, contents.as_ref())
        .map_err(|e| ReportError::Io { path: e.path, source: e.source })?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::curve::tests::curve;
    use super::summary::tests::summary;
    use super::*;

    fn bare(summary: &TuneSummary) -> ReportInput<'_> {
        ReportInput { summary, curve: &[], models: &[], best_source: None, best_decisions: None, best_lineage: None }
    }

    #[test]
    fn report_lands_in_a_new_nested_dir_with_the_summary_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("runs/matmul/colt");
        let (s, points) = (summary(), curve(&[Some(40.0), Some(3.2), None]));
        let models = [ModelReport {
            name: "smollm-135m".into(),
            parameters: 135_000_000,
            calls: 21,
            errors: 1,
            hit_rate: 0.8,
            tokens: 9700,
            seconds: 12.0,
        }];
        let input = ReportInput {
            summary: &s,
            curve: &points,
            models: &models,
            best_source: Some("void kernel(void) {}\n"),
            best_decisions: Some("tile i 32\nvectorize j 8"),
            best_lineage: Some("seed 12, edits: tile, vectorize"),
        };
        let files = write_report(&dir, &input).unwrap();
        let md = std::fs::read_to_string(&files.report_md).unwrap();
        for figure in
            ["12.50x", "40.000 ms", "3.200 ms", "81.2 s", "25.0%", "135M", "80.0%", "seed 12", "vectorize j 8"]
        {
            assert!(md.contains(figure), "{figure} missing from\n{md}");
        }
        assert!(md.contains("![best latency versus trials](curve.svg)"));
        assert!(md.contains("| 3 | failed | 3.200 ms |"), "{md}");
        assert_eq!(std::fs::read_to_string(files.kernel_c.unwrap()).unwrap(), "void kernel(void) {}\n");
        assert!(files.decisions_txt.unwrap().exists() && files.curve_svg.exists() && files.curve_png.exists());
        let json: TuneSummary = serde_json::from_str(&std::fs::read_to_string(files.summary_json).unwrap()).unwrap();
        assert_eq!(json.speedup, Some(12.5));
    }

    #[test]
    fn report_without_llm_or_kernel_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let s = TuneSummary {
            strategy: "random".into(),
            best_ms: None,
            speedup: None,
            largest_model_share: None,
            ..summary()
        };
        let files = write_report(tmp.path(), &bare(&s)).unwrap();
        assert!(files.kernel_c.is_none() && files.decisions_txt.is_none());
        let md = std::fs::read_to_string(files.report_md).unwrap();
        assert!(md.contains("no LLM (strategy random)") && md.contains("no verified kernel"), "{md}");
        assert!(md.contains("| roofline bound | — (this machine's limits are not measured) |"), "{md}");
        assert!(md.contains("| share of the bound | — |"), "{md}");
    }

    #[test]
    fn report_gives_the_bound_and_the_best_kernels_share_of_it() {
        let tmp = tempfile::tempdir().unwrap();
        let program = colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench);
        let bound = crate::bound_of(Some(&crate::roofline::tests::limits()), &program);
        // 2.684 ms of bound; the best runs in 5.368 ms.
        let s = TuneSummary { best_ms: Some(5.36870912), ..summary() }.with_bound(bound);
        let files = write_report(tmp.path(), &bare(&s)).unwrap();
        let md = std::fs::read_to_string(files.report_md).unwrap();
        assert!(
            md.contains(
                "| roofline bound | 2.684 ms (compute 2.684 ms; memory 0.157 ms, the bytes fitting in memory) |"
            ),
            "{md}"
        );
        assert!(md.contains("| share of the bound | 50.0% |"), "{md}");
        let json: TuneSummary = serde_json::from_str(&std::fs::read_to_string(files.summary_json).unwrap()).unwrap();
        assert_eq!(json.bound.unwrap().level, "memory");
        assert!((json.share_of_bound.unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn an_opencl_kernel_is_a_cl_file() {
        let tmp = tempfile::tempdir().unwrap();
        let s = TuneSummary { target: "opencl:Portable Computing Language / cpu".into(), ..summary() };
        let input = ReportInput { best_source: Some("__kernel void k() {}\n"), ..bare(&s) };
        let files = write_report(tmp.path(), &input).unwrap();
        assert_eq!(files.kernel_c.unwrap(), tmp.path().join("kernel.cl"));
        assert!(std::fs::read_to_string(files.report_md).unwrap().contains("Source: [kernel.cl](kernel.cl)"));
    }

    #[test]
    fn unwritable_dir_error_names_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let dir = file.join("report");
        let s = summary();
        let err = write_report(&dir, &bare(&s)).unwrap_err();
        assert!(matches!(err, ReportError::Io { .. }));
        assert!(err.to_string().contains(&dir.display().to_string()), "{err}");
    }
}
