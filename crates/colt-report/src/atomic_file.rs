//! Output files written whole or not at all.

use std::path::{Path, PathBuf};

/// A file that could not be written (its temporary twin, or the rename).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes through a temporary file and a rename, so a reader (or a job
/// killed mid-write) never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|source| WriteError { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| WriteError { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_the_whole_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.json");
        write_atomically(&path, b"{}").unwrap();
        write_atomically(&path, b"{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}");
        assert!(!dir.path().join("bench.tmp").exists());
    }

    #[test]
    fn error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/tables.md");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("missing/tables.tmp"), "{err}");
    }
}
