use std::path::PathBuf;

/// What training or writing a specialist can refuse.
#[derive(Debug, thiserror::Error)]
pub enum SpecialistError {
    #[error("the model's shape cannot run: {reason}")]
    Config { reason: String },
    #[error("example {index}: {reason}")]
    Example { index: usize, reason: String },
    #[error("the vocabulary: {reason}")]
    Vocabulary { reason: String },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
