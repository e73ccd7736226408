//! Peers measured on the same machine: the result files of
//! `shared/peers/metaschedule.py` (Apache TVM MetaSchedule tuning a
//! workload, and numpy on the same math), read so that a bench's tables and
//! plots put them beside colt's strategies (`colt bench --peer-results
//! DIR`).
//!
//! A result file is `<workload>__t<trials>.json`, one JSON object with
//! (among others) `workload`, `trials`, `tune_wall_s`, and `tuned`,
//! `tuned_recheck` and `numpy`, each an object with `median_ms`. The peer's
//! latency is the better of its two timings of its best kernel (`tuned`
//! and `tuned_recheck`, taken apart in the same quiet window), as the
//! issues' tables count it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One peer's result on one workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerResult {
    /// `MetaSchedule`.
    pub peer: String,
    pub workload: String,
    /// Its trial budget (`max_trials_global`).
    pub trials: usize,
    /// Its best kernel's latency; None when it found no valid schedule.
    pub best_ms: Option<f64>,
    /// Seconds its tuning took.
    pub tuning_wall_s: Option<f64>,
    /// numpy (OpenBLAS) on the same math, timed in the same run.
    pub numpy_ms: Option<f64>,
    /// The file it was read from.
    pub file: String,
}

impl PeerResult {
    /// `MetaSchedule@64`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.peer, self.trials)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("peer results `{}`: cannot read the folder", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("peer results `{}`: no `<workload>__t<trials>.json` file of metaschedule.py in it", path.display())]
    Empty { path: PathBuf },
    #[error("peer result `{}`: cannot read it", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("peer result `{}`: not a metaschedule.py result: {reason}", path.display())]
    NotAResult { path: PathBuf, reason: String },
}

/// Every `*.json` result in `dir`, in file-name order.
pub fn read_peer_results(dir: &Path) -> Result<Vec<PeerResult>, PeerError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PeerError::Folder { path: dir.to_path_buf(), source })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(PeerError::Empty { path: dir.to_path_buf() });
    }
    paths.iter().map(|p| read_peer_result(p)).collect()
}

/// One result file.
pub fn read_peer_result(path: &Path) -> Result<PeerResult, PeerError> {
    let text = std::fs::read_to_string(path).map_err(|source| PeerError::Read { path: path.to_path_buf(), source })?;
    let bad = |reason: String| PeerError::NotAResult { path: path.to_path_buf(), reason };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let workload =
        value.get("workload").and_then(|w| w.as_str()).ok_or_else(|| bad("no `workload` string".into()))?.to_string();
    let trials = value.get("trials").and_then(|t| t.as_u64()).ok_or_else(|| bad("no `trials` number".into()))?;
    let median = |key: &str| value.get(key).and_then(|t| t.get("median_ms")).and_then(|m| m.as_f64());
    let best_ms = [median("tuned"), median("tuned_recheck")].into_iter().flatten().reduce(f64::min);
    if trials > 0 && best_ms.is_none() && value.get("tuned").is_none() {
        return Err(bad("no `tuned` timing (a run that did not finish?)".into()));
    }
    Ok(PeerResult {
        peer: "MetaSchedule".into(),
        workload,
        trials: trials as usize,
        best_ms,
        tuning_wall_s: value.get("tune_wall_s").and_then(|t| t.as_f64()),
        numpy_ms: median("numpy"),
        file: path.display().to_string(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What metaschedule.py writes, abridged.
    pub(crate) const GEMM: &str = r#"{"workload": "gemm-512", "trials": 64, "seed": 0,
        "untuned": {"median_ms": 140.0}, "numpy": {"median_ms": 2.017},
        "tune_wall_s": 80.2, "tuned": {"median_ms": 1.301}, "tuned_recheck": {"median_ms": 1.278},
        "tuned_err": 1e-6}"#;

    #[test]
    fn a_result_reads_its_best_timing_wall_time_and_numpy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gemm-512__t64.json"), GEMM).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a result").unwrap();
        let results = read_peer_results(dir.path()).unwrap();
        assert_eq!(results.len(), 1);
        let r = &results[0];
        assert_eq!((r.label().as_str(), r.workload.as_str()), ("MetaSchedule@64", "gemm-512"));
        assert_eq!((r.best_ms, r.tuning_wall_s, r.numpy_ms), (Some(1.278), Some(80.2), Some(2.017)));
    }

    #[test]
    fn bad_folders_and_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_peer_results(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no `<workload>__t<trials>.json`"), "{e}");
        let e = read_peer_results(&dir.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing") && e.to_string().contains("cannot read the folder"), "{e}");
        let path = dir.path().join("broken.json");
        std::fs::write(&path, r#"{"trials": 64}"#).unwrap();
        let e = read_peer_results(dir.path()).unwrap_err();
        assert!(e.to_string().contains("broken.json") && e.to_string().contains("no `workload`"), "{e}");
        std::fs::write(&path, r#"{"workload": "gemm-512", "trials": 64}"#).unwrap();
        let e = read_peer_results(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no `tuned` timing"), "{e}");
    }
}
