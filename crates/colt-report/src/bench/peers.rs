//! Peers measured on the same machine, read so that a bench's tables and
//! plots put them beside colt's strategies (`colt bench --peer-results
//! DIR`). A folder holds the result files of two scripts of
//! `shared/peers/`, told apart by their names:
//!
//! - `<workload>__t<trials>.json`, of `metaschedule.py`: Apache TVM
//!   MetaSchedule tuning the workload with a trial budget, and numpy
//!   (OpenBLAS) on the same math in the same run. One JSON object with
//!   (among others) `workload`, `trials`, `tune_wall_s`, and `tuned`,
//!   `tuned_recheck` and `numpy`, each an object with `median_ms`.
//!   MetaSchedule's latency is the better of its two timings of its best
//!   kernel (`tuned` and `tuned_recheck`, taken apart in the same quiet
//!   window), as the issues' tables count it.
//! - `<workload>__torch.json`, of `torch_peer.py`: PyTorch on the CPU,
//!   what a user calls instead of a tuner. `workload`, `torch` (its
//!   version), `threads`, `eager` with `median_ms`, and (with `--compile`)
//!   `inductor`: `median_ms` and `compile_s`, or `error` when
//!   torch.compile failed, which is the peer's result, not a broken file.
//!
//! A file gives one [`PeerResult`] per peer it timed: `MetaSchedule@N` and
//! `numpy`; `torch eager` and `torch.compile`. Tables, plots and columns
//! are built from that one list (see `BenchReport::peers_of`), so a peer
//! added here needs no code of its own there.

use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};

/// The peers' names, as [`PeerResult::peer`] holds them.
pub const METASCHEDULE: &str = "MetaSchedule";
pub const NUMPY: &str = "numpy";
pub const TORCH_EAGER: &str = "torch eager";
pub const TORCH_COMPILE: &str = "torch.compile";

/// One peer's result on one workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerResult {
    /// [`METASCHEDULE`], [`NUMPY`], [`TORCH_EAGER`] or [`TORCH_COMPILE`].
    pub peer: String,
    pub workload: String,
    /// MetaSchedule's trial budget (`max_trials_global`); numpy's is that
    /// of the MetaSchedule run it was timed in; 0 for torch.
    pub trials: usize,
    /// Its latency; None when it has none (MetaSchedule found no valid
    /// schedule, or `error` says why).
    pub best_ms: Option<f64>,
    /// Seconds its tuning (MetaSchedule) or compiling (torch.compile) took.
    pub tuning_wall_s: Option<f64>,
    /// Why it has no latency: torch.compile's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The library's version, where its file records it (torch's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The threads it ran on, where its file records them (torch's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The file it was read from.
    pub file: String,
}

impl PeerResult {
    /// `MetaSchedule@64`, `numpy`, `torch eager`, `torch.compile`: a tuner
    /// is named with its budget, a library by itself.
    pub fn label(&self) -> String {
        if self.peer == METASCHEDULE {
            format!("{}@{}", self.peer, self.trials)
        } else {
            self.peer.clone()
        }
    }

    /// Whether its latency was found by trials (a tuner's, at its budget)
    /// rather than given by a library, at any budget.
    pub fn is_tuner(&self) -> bool {
        self.peer == METASCHEDULE
    }

    /// How it was timed, where the tables' notes should say so: numpy in
    /// a MetaSchedule run, torch with its version and threads.
    pub fn provenance(&self) -> Option<String> {
        if self.peer == NUMPY {
            return Some(format!("(OpenBLAS) timed in {METASCHEDULE}@{}'s run", self.trials));
        }
        let version = self.version.as_deref()?;
        let threads =
            self.threads.map_or(String::new(), |t| format!(" on {t} thread{}", if t == 1 { "" } else { "s" }));
        Some(format!("timed by torch {version}{threads}"))
    }

    /// Where the peer's rows and columns go: the tuner, the largest budget
    /// first, then the libraries, the compiled one first.
    pub(crate) fn order(&self) -> (usize, std::cmp::Reverse<usize>) {
        let rank = [METASCHEDULE, TORCH_COMPILE, TORCH_EAGER, NUMPY].iter().position(|p| *p == self.peer);
        (rank.unwrap_or(usize::MAX), std::cmp::Reverse(self.trials))
    }
}

/// The peers of a `bench.json`. Those written before torch was read
/// (2026-12-07) kept numpy's timing inside MetaSchedule's entry, as
/// `numpy_ms`: it is read as a numpy entry of its own.
pub(crate) fn deserialize_peers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PeerResult>, D::Error> {
    #[derive(Deserialize)]
    struct Stored {
        #[serde(flatten)]
        result: PeerResult,
        #[serde(default)]
        numpy_ms: Option<f64>,
    }
    let mut peers = Vec::new();
    for Stored { result, numpy_ms } in Vec::<Stored>::deserialize(d)? {
        let numpy = numpy_ms.map(|ms| numpy_of(&result, ms));
        peers.push(result);
        peers.extend(numpy);
    }
    Ok(peers)
}

fn numpy_of(metaschedule: &PeerResult, ms: f64) -> PeerResult {
    PeerResult {
        peer: NUMPY.into(),
        best_ms: Some(ms),
        tuning_wall_s: None,
        error: None,
        version: None,
        threads: None,
        ..metaschedule.clone()
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
    #[error(
        "peer results `{}`: no result file in it (`<workload>__t<trials>.json` of metaschedule.py, \
         `<workload>__torch.json` of torch_peer.py)",
        path.display()
    )]
    Empty { path: PathBuf },
    #[error(
        "peer result `{}`: not a result file's name (metaschedule.py writes `<workload>__t<trials>.json`, \
         torch_peer.py `<workload>__torch.json`)",
        path.display()
    )]
    UnknownFile { path: PathBuf },
    #[error("peer result `{}`: cannot read it", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("peer result `{}`: not a {script} result: {reason}", path.display())]
    NotAResult { path: PathBuf, script: &'static str, reason: String },
}

/// Which script wrote a result file, by its name.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Script {
    MetaSchedule,
    Torch,
}

impl Script {
    fn of(path: &Path) -> Option<Script> {
        let stem = path.file_name()?.to_str()?.strip_suffix(".json")?;
        if stem.strip_suffix("__torch").is_some_and(|w| !w.is_empty()) {
            return Some(Script::Torch);
        }
        let (workload, trials) = stem.rsplit_once("__t")?;
        let digits = !trials.is_empty() && trials.bytes().all(|b| b.is_ascii_digit());
        (!workload.is_empty() && digits).then_some(Script::MetaSchedule)
    }

    fn name(self) -> &'static str {
        match self {
            Script::MetaSchedule => "metaschedule.py",
            Script::Torch => "torch_peer.py",
        }
    }
}

/// Every peer's result in the `*.json` files of `dir`, in file-name order.
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
    let mut results = Vec::new();
    for path in &paths {
        results.extend(read_peer_result(path)?);
    }
    Ok(results)
}

/// The peers' results in one file, which its name says the kind of.
pub fn read_peer_result(path: &Path) -> Result<Vec<PeerResult>, PeerError> {
    let script = Script::of(path).ok_or_else(|| PeerError::UnknownFile { path: path.to_path_buf() })?;
    let text = std::fs::read_to_string(path).map_err(|source| PeerError::Read { path: path.to_path_buf(), source })?;
    let bad = |reason: String| PeerError::NotAResult { path: path.to_path_buf(), script: script.name(), reason };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let workload =
        value.get("workload").and_then(|w| w.as_str()).ok_or_else(|| bad("no `workload` string".into()))?.to_string();
    let median = |key: &str| value.get(key).and_then(|t| t.get("median_ms")).and_then(|m| m.as_f64());
    let file = path.display().to_string();
    match script {
        Script::MetaSchedule => {
            let trials =
                value.get("trials").and_then(|t| t.as_u64()).ok_or_else(|| bad("no `trials` number".into()))?;
            let best_ms = [median("tuned"), median("tuned_recheck")].into_iter().flatten().reduce(f64::min);
            if trials > 0 && best_ms.is_none() && value.get("tuned").is_none() {
                return Err(bad("no `tuned` timing (a run that did not finish?)".into()));
            }
            let metaschedule = PeerResult {
                peer: METASCHEDULE.into(),
                workload,
                trials: trials as usize,
                best_ms,
                tuning_wall_s: value.get("tune_wall_s").and_then(|t| t.as_f64()),
                error: None,
                version: None,
                threads: None,
                file,
            };
            let numpy = median("numpy").map(|ms| numpy_of(&metaschedule, ms));
            Ok([Some(metaschedule), numpy].into_iter().flatten().collect())
        }
        Script::Torch => {
            let version =
                value.get("torch").and_then(|v| v.as_str()).ok_or_else(|| bad("no `torch` version".into()))?;
            let threads =
                value.get("threads").and_then(|t| t.as_u64()).ok_or_else(|| bad("no `threads` number".into()))?;
            let eager = median("eager").ok_or_else(|| bad("no `eager` timing (`eager.median_ms`)".into()))?;
            let torch = |peer: &str, best_ms, tuning_wall_s, error| PeerResult {
                peer: peer.into(),
                workload: workload.clone(),
                trials: 0,
                best_ms,
                tuning_wall_s,
                error,
                version: Some(version.to_string()),
                threads: Some(threads as usize),
                file: file.clone(),
            };
            let mut results = vec![torch(TORCH_EAGER, Some(eager), None, None)];
            // Without `--compile` the file has no `inductor`: torch.compile
            // was not asked for, and gets no row.
            if let Some(inductor) = value.get("inductor") {
                let compiled = match (median("inductor"), inductor.get("error")) {
                    (_, Some(error)) => {
                        let error = error.as_str().map_or_else(|| error.to_string(), str::to_string);
                        torch(TORCH_COMPILE, None, None, Some(error))
                    }
                    (Some(ms), None) => {
                        torch(TORCH_COMPILE, Some(ms), inductor.get("compile_s").and_then(|s| s.as_f64()), None)
                    }
                    (None, None) => {
                        return Err(bad("`inductor` has neither `median_ms` nor `error`".into()));
                    }
                };
                results.push(compiled);
            }
            Ok(results)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What metaschedule.py writes, abridged.
    pub(crate) const GEMM: &str = r#"{"workload": "gemm-512", "trials": 64, "seed": 0,
        "untuned": {"median_ms": 140.0}, "numpy": {"median_ms": 2.017},
        "tune_wall_s": 80.2, "tuned": {"median_ms": 1.301}, "tuned_recheck": {"median_ms": 1.278},
        "tuned_err": 1e-6}"#;

    /// What `torch_peer.py --threads 2 --compile --results-dir DIR` wrote
    /// on 2026-12-07 (a 2-core machine shared with two builds: the
    /// timings are not benchmark figures).
    pub(crate) const TORCH_GEMM: &str = r#"{
 "workload": "gemm-512",
 "torch": "2.15.0+cu132",
 "threads": 2,
 "eager": {
  "median_ms": 7.996101998287486,
  "gflops": 33.57078937430894
 },
 "inductor": {
  "median_ms": 1.0107699999934994,
  "gflops": 265.57521097947745,
  "compile_s": 13.773383855819702
 }
}"#;

    /// The same run's file with torch.compile failed, as torch_peer.py
    /// writes it when compiling raises.
    pub(crate) fn torch_failed(workload: &str) -> String {
        let mut value: serde_json::Value = serde_json::from_str(TORCH_GEMM).unwrap();
        value["workload"] = workload.into();
        value["inductor"] = serde_json::json!({"error": "InductorError: CppCompileError: C++ compile error"});
        value.to_string()
    }

    /// A peer's result on gemm-512, as read from a file of `folder`.
    pub(crate) fn peer(peer: &str, trials: usize, best_ms: Option<f64>) -> PeerResult {
        let torch = peer.starts_with("torch");
        PeerResult {
            peer: peer.into(),
            workload: "gemm-512".into(),
            trials,
            best_ms,
            tuning_wall_s: (peer != NUMPY && peer != TORCH_EAGER).then_some(80.4),
            error: None,
            version: torch.then(|| "2.15.0+cpu".into()),
            threads: torch.then_some(2),
            file: "peers/gemm-512.json".into(),
        }
    }

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn labels_and_ms(results: &[PeerResult]) -> Vec<(String, &str, Option<f64>)> {
        results.iter().map(|r| (r.label(), r.workload.as_str(), r.best_ms)).collect()
    }

    #[test]
    fn a_metaschedule_result_reads_its_best_timing_wall_time_and_numpy() {
        let dir = folder(&[("gemm-512__t64.json", GEMM), ("notes.txt", "not a result")]);
        let results = read_peer_results(dir.path()).unwrap();
        assert_eq!(
            labels_and_ms(&results),
            [("MetaSchedule@64".into(), "gemm-512", Some(1.278)), ("numpy".into(), "gemm-512", Some(2.017))]
        );
        assert_eq!(results[0].tuning_wall_s, Some(80.2));
        assert_eq!(results[1].tuning_wall_s, None, "numpy is not tuned");
        assert!(results.iter().all(|r| r.file.ends_with("gemm-512__t64.json") && r.threads.is_none()));
    }

    #[test]
    fn a_torch_result_reads_eager_and_compile_with_torchs_version_and_threads() {
        let dir = folder(&[("gemm-512__torch.json", TORCH_GEMM)]);
        let results = read_peer_results(dir.path()).unwrap();
        assert_eq!(
            labels_and_ms(&results),
            [
                ("torch eager".into(), "gemm-512", Some(7.996101998287486)),
                ("torch.compile".into(), "gemm-512", Some(1.0107699999934994))
            ]
        );
        assert_eq!((results[0].tuning_wall_s, results[1].tuning_wall_s), (None, Some(13.773383855819702)));
        for r in &results {
            assert_eq!((r.version.as_deref(), r.threads, r.error.as_deref()), (Some("2.15.0+cu132"), Some(2), None));
        }
    }

    #[test]
    fn a_failed_torch_compile_is_a_result_with_its_reason_and_no_compile_is_none() {
        let mut eager_only: serde_json::Value = serde_json::from_str(TORCH_GEMM).unwrap();
        eager_only.as_object_mut().unwrap().remove("inductor");
        let dir = folder(&[
            ("flux-conv__torch.json", &torch_failed("flux-conv")),
            ("gemm-512__torch.json", &eager_only.to_string()),
        ]);
        let results = read_peer_results(dir.path()).unwrap();
        assert_eq!(
            labels_and_ms(&results),
            [
                ("torch eager".into(), "flux-conv", Some(7.996101998287486)),
                ("torch.compile".into(), "flux-conv", None),
                ("torch eager".into(), "gemm-512", Some(7.996101998287486)),
            ],
            "a run without --compile has no torch.compile"
        );
        assert_eq!(results[1].error.as_deref(), Some("InductorError: CppCompileError: C++ compile error"));
    }

    #[test]
    fn a_folder_of_both_scripts_reads_every_peer_and_any_workload_name() {
        let mut mine: serde_json::Value = serde_json::from_str(TORCH_GEMM).unwrap();
        mine["workload"] = "my-own-gemm".into();
        let dir = folder(&[
            ("gemm-512__t64.json", GEMM),
            ("gemm-512__torch.json", TORCH_GEMM),
            ("my-own-gemm__torch.json", &mine.to_string()),
        ]);
        let results = read_peer_results(dir.path()).unwrap();
        let labels: Vec<(String, &str)> = results.iter().map(|r| (r.label(), r.workload.as_str())).collect();
        assert_eq!(
            labels,
            [
                ("MetaSchedule@64".into(), "gemm-512"),
                ("numpy".into(), "gemm-512"),
                ("torch eager".into(), "gemm-512"),
                ("torch.compile".into(), "gemm-512"),
                ("torch eager".into(), "my-own-gemm"),
                ("torch.compile".into(), "my-own-gemm"),
            ]
        );
    }

    #[test]
    fn bad_folders_and_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_peer_results(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no result file in it") && e.to_string().contains("__torch.json"), "{e}");
        let e = read_peer_results(&dir.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing") && e.to_string().contains("cannot read the folder"), "{e}");

        let error_of = |name: &str, text: &str| {
            let dir = folder(&[("gemm-512__t64.json", GEMM), (name, text)]);
            let e = read_peer_results(dir.path()).unwrap_err().to_string();
            assert!(e.contains(name), "the error names the file: {e}");
            e
        };
        let e = error_of("broken.json", GEMM);
        assert!(e.contains("not a result file's name"), "{e}");
        let e = error_of("gemm-512__tuned.json", GEMM);
        assert!(e.contains("not a result file's name"), "{e}");
        let e = error_of("gemm-512__t32.json", r#"{"trials": 32}"#);
        assert!(e.contains("not a metaschedule.py result: no `workload`"), "{e}");
        let e = error_of("gemm-512__t32.json", r#"{"workload": "gemm-512", "trials": 32}"#);
        assert!(e.contains("no `tuned` timing"), "{e}");
        let e = error_of("gemm-512__torch.json", &TORCH_GEMM[..TORCH_GEMM.len() / 2]);
        assert!(e.contains("not a torch_peer.py result: EOF"), "{e}");
        let e = error_of("gemm-512__torch.json", GEMM);
        assert!(e.contains("not a torch_peer.py result: no `torch` version"), "{e}");
        let mut no_eager: serde_json::Value = serde_json::from_str(TORCH_GEMM).unwrap();
        no_eager["eager"] = serde_json::json!({"gflops": 33.5});
        let e = error_of("gemm-512__torch.json", &no_eager.to_string());
        assert!(e.contains("no `eager` timing"), "{e}");
        let mut neither: serde_json::Value = serde_json::from_str(TORCH_GEMM).unwrap();
        neither["inductor"] = serde_json::json!({"compile_s": 3.0});
        let e = error_of("gemm-512__torch.json", &neither.to_string());
        assert!(e.contains("`inductor` has neither `median_ms` nor `error`"), "{e}");
    }
}
