//! The two ways colt-llm fails: a model file that cannot be loaded
//! ([`ModelError`], always naming the file) and a call that cannot run
//! ([`GenerationError`]).

use std::path::PathBuf;

/// A model file could not be read, validated or loaded. Every variant names
/// the file, so a caller can print it as is.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error(
        "the default models are missing from {}: {}; fetch them with `bash scripts/fetch-models.sh`",
        dir.display(),
        missing.join(", ")
    )]
    DefaultModelsMissing { dir: PathBuf, missing: Vec<String> },
    #[error("cannot read model file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {} is empty", path.display())]
    Empty { path: PathBuf },
    /// The file's own bytes are not quoted: a daemon reads files a client
    /// names, and a message must not show what one of them holds.
    #[error("model file {} is not a GGUF file: it does not begin with the GGUF magic number", path.display())]
    NotGguf { path: PathBuf },
    #[error("model file {} has GGUF version {version}; llama.cpp reads versions 2 and 3", path.display())]
    UnsupportedVersion { path: PathBuf, version: u32 },
    #[error("model file {} is truncated: {what} needs {needed} bytes but the file has {actual}", path.display())]
    Truncated { path: PathBuf, what: String, needed: u64, actual: u64 },
    #[error("model file {} is a malformed GGUF: {reason} (at byte {offset})", path.display())]
    Malformed { path: PathBuf, offset: u64, reason: String },
    #[error("model file {}: `{key}` {reason}: llama.cpp asserts on it (and would abort the process)", path.display())]
    Hyperparameter { path: PathBuf, key: String, reason: String },
    #[error("model file {}: cannot derive its layers: {reason}", path.display())]
    Layers { path: PathBuf, reason: String },
    #[error("model file {}: architecture `{architecture}` is not supported by this build of llama.cpp", path.display())]
    UnsupportedArchitecture { path: PathBuf, architecture: String },
    #[error("llama.cpp cannot load model file {}: {reason}", path.display())]
    Rejected { path: PathBuf, reason: String },
    #[error("cannot start llama.cpp: {reason}")]
    Backend { reason: String },
    #[error(
        "model file {}: --gpu-layers {gpu_layers} asks for layers on a GPU, but {reason}; \
         use --gpu-layers 0 to run it on the CPU",
        path.display()
    )]
    NoGpu { path: PathBuf, gpu_layers: u32, reason: String },
}

/// A call on a loaded model could not run. The session stays usable: its
/// cached prefix is dropped whenever its state may be inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    #[error("invalid grammar: llama.cpp rejected it (undefined rule, left recursion or syntax error){}", root_hint(.root))]
    Grammar { root: String },
    #[error("the grammar allows no token here (not even the end of the answer)")]
    GrammarDeadEnd,
    #[error("grammar contains a NUL byte")]
    GrammarNul,
    #[error(
        "prompt of {prompt_tokens} tokens plus up to {max_tokens} generated tokens does not fit the context of {context_tokens} tokens"
    )]
    ContextOverflow { prompt_tokens: usize, max_tokens: u32, context_tokens: u32 },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("cannot format the chat with the model's template: {reason}")]
    ChatTemplate { reason: String },
    #[error("cannot create a llama.cpp context: {reason}")]
    Context { reason: String },
    #[error("llama.cpp failed to decode: {reason}")]
    Decode { reason: String },
}

fn root_hint(root: &str) -> String {
    format!(" (root rule `{root}`)")
}
