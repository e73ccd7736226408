//! A bench's files in its output folder: `bench.json` (every figure and
//! every run's curve, to read back with [`read_report`]), `tables.md` and
//! per workload `<workload>.svg` and `.png`.

use crate::atomic_file::{write_atomically, WriteError};
use crate::bench::tables::plot_file_stem;
use crate::bench::{speedup_plot_png, speedup_plot_svg, tables_markdown, BenchReport};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a colt bench.json", path.display())]
    NotABench {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot serialize the bench report")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("cannot draw the bench plot of `{workload}`: {message}")]
    Plot { workload: String, message: String },
}

/// What [`write_outputs`] wrote to `bench.json` and `tables.md`, to print.
pub struct BenchOutputs {
    pub json: String,
    pub tables: String,
}

/// Writes `bench.json`, `tables.md` and the plots into `out` (which must
/// exist), each file whole or not at all; `earlier` adds its best latencies
/// to the tables.
pub fn write_outputs(
    out: &Path,
    report: &BenchReport,
    earlier: Option<&BenchReport>,
) -> Result<BenchOutputs, BenchError> {
    let mut report = report.clone();
    report.refresh_shares();
    let report = &report;
    let json = serde_json::to_string_pretty(report).map_err(BenchError::Json)?;
    write_atomically(&out.join("bench.json"), json.as_bytes())?;
    let tables = tables_markdown(report, earlier);
    write_atomically(&out.join("tables.md"), tables.as_bytes())?;
    let max_trials = report.budgets.last().copied().unwrap_or(1).max(1);
    for w in &report.workloads {
        let name = plot_file_stem(&w.workload);
        let plot_error = |message| BenchError::Plot { workload: w.workload.clone(), message };
        let peers = report.peers_of(&w.workload);
        let svg = speedup_plot_svg(w, &peers, max_trials).map_err(plot_error)?;
        write_atomically(&out.join(format!("{name}.svg")), svg.as_bytes())?;
        let png = speedup_plot_png(w, &peers, max_trials).map_err(plot_error)?;
        write_atomically(&out.join(format!("{name}.png")), &png)?;
    }
    Ok(BenchOutputs { json, tables })
}

/// A `bench.json` written by [`write_outputs`] (or by an earlier colt: the
/// fields added since have defaults).
pub fn read_report(path: &Path) -> Result<BenchReport, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| BenchError::NotABench { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tables::tests::report;

    #[test]
    fn outputs_read_back_to_the_same_figures() {
        let dir = tempfile::tempdir().unwrap();
        let mut report = report();
        report.workloads[0].workload = "models/my gemm".into();
        let written = write_outputs(dir.path(), &report, None).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("tables.md")).unwrap(), written.tables);
        assert!(dir.path().join("models_my_gemm.svg").is_file() && dir.path().join("models_my_gemm.png").is_file());
        let back = read_report(&dir.path().join("bench.json")).unwrap();
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), written.json, "bench.json round-trips exactly");
    }

    #[test]
    fn an_old_bench_json_without_target_or_flops_reads_as_the_cpus() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        let old = r#"{"budgets": [4], "target_speedup": 50.0, "repeats": 1, "wall_s": 1.0,
            "workloads": [{"workload": "gemm-512", "naive_ms": 10.0, "strategies": []}]}"#;
        std::fs::write(&path, old).unwrap();
        let report = read_report(&path).unwrap();
        assert_eq!((report.target.as_str(), report.full, report.workloads[0].flops), ("cpu", false, 0));
    }

    #[test]
    fn an_old_bench_jsons_numpy_inside_metaschedules_entry_reads_as_a_peer_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        let old = r#"{"budgets": [64], "target_speedup": 50.0, "repeats": 1, "wall_s": 1.0, "workloads": [],
            "peers": [{"peer": "MetaSchedule", "workload": "gemm-512", "trials": 64, "best_ms": 1.2,
                       "tuning_wall_s": 80.0, "numpy_ms": 2.0, "file": "peers/gemm-512__t64.json"}]}"#;
        std::fs::write(&path, old).unwrap();
        let report = read_report(&path).unwrap();
        let peers: Vec<(String, Option<f64>, Option<f64>)> =
            report.peers.iter().map(|p| (p.label(), p.best_ms, p.tuning_wall_s)).collect();
        assert_eq!(peers, [("MetaSchedule@64".into(), Some(1.2), Some(80.0)), ("numpy".into(), Some(2.0), None)]);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("numpy_ms") && !json.contains("cores"), "written anew: {json}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        assert!(read_report(&missing).unwrap_err().to_string().contains("missing.json"));
        let not_json = dir.path().join("tables.md");
        std::fs::write(&not_json, "# colt bench").unwrap();
        let err = read_report(&not_json).unwrap_err();
        assert_eq!(err.to_string(), format!("`{}` is not a colt bench.json", not_json.display()));
        let err = write_outputs(&dir.path().join("nowhere"), &report(), None).err().unwrap();
        assert!(err.to_string().contains("nowhere/bench.json"), "{err}");
    }
}
