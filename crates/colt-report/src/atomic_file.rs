//! Output files written whole or not at all, and never through a link.
//!
//! Every file colt writes into an output folder (a job's report, a bench's
//! figures, the kernel library, `model-layers --out`) goes through
//! [`write_atomically`]: the bytes go into a new file created beside the
//! target (`O_CREAT|O_EXCL`, which fails rather than follow a link planted
//! at its name), which is then renamed over the target. A rename replaces
//! whatever was at the name — a symbolic link included — and never writes
//! through it, so a link planted in the output folder cannot make colt
//! overwrite, truncate or chmod a file elsewhere. The mode is the new
//! file's own, given when it is created: colt changes the mode of no file
//! it did not create. Subfolders colt writes into are made by
//! [`create_folder`], which replaces a link at the folder's name with a
//! real folder.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file or folder that could not be written, named (the output's own
/// name, not its temporary twin's).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The mode of an ordinary output file before the umask (0644 under the
/// usual umask 022), as `std::fs::write` gives a new file.
pub const FILE_MODE: u32 = 0o666;

/// The mode of an output script (`build.sh`) before the umask (0755 under
/// the usual umask 022).
pub const EXECUTABLE_MODE: u32 = 0o777;

/// How many temporary names are tried before giving up: each try fails
/// only when a file (or a link) already holds its random name, which no
/// concurrent writer of colt's makes twice in a row.
pub const MAX_TEMP_ATTEMPTS: u32 = 16;

/// Writes `bytes` to `path` through a new file beside it and a rename (see
/// the module docs), with [`FILE_MODE`]: a reader (or a job killed
/// mid-write) never sees half a file, and a link at `path` is replaced,
/// not followed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomically_with_mode(path, bytes, FILE_MODE)
}

/// [`write_atomically`] with the new file's `mode` (before the umask),
/// e.g. [`EXECUTABLE_MODE`] for a script.
pub fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let (tmp, mut file) = create_temporary(path, mode).map_err(fail(path))?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(path)(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(path)(e)
    })
}

/// A new file `.<name>.<random>.tmp` in `path`'s folder, created
/// exclusively: never an existing file, never through a link.
fn create_temporary(path: &Path, mode: u32) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut last = None;
    for attempt in 0..MAX_TEMP_ATTEMPTS {
        let tmp = folder.join(format!(".{name}.{:016x}.tmp", random_word(attempt)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    // MAX_TEMP_ATTEMPTS > 0, so the loop ran and every try set `last`.
    Err(last.unwrap_or_else(|| std::io::ErrorKind::AlreadyExists.into()))
}

/// A word no other process or call predicts: std's per-process random
/// hash keys over the time, the process and a counter.
fn random_word(attempt: u32) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u32(attempt);
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.finish()
}

/// Makes `path` a real folder that colt writes into: created if missing
/// (its parents too), kept if it is a folder, and a symbolic link at its
/// name replaced by a new empty folder (the link is removed, its target
/// left as it was). A file at its name is an error naming it.
pub fn create_folder(path: &Path) -> Result<(), WriteError> {
    let fail = |source| WriteError { path: path.to_path_buf(), source };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(path).map_err(fail)?,
        Ok(_) => {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file is there, where colt writes a folder",
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| WriteError { path: parent.to_path_buf(), source })?;
    }
    match std::fs::create_dir(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other.map_err(fail),
    }
}

/// Removes a symbolic link at `path` (not its target); anything else is
/// left. For the files of a database colt creates in an output folder
/// (`bench.db` and its `-wal`, `-shm`, `-journal`), which SQLite opens
/// through links: a link planted there would have SQLite write elsewhere.
pub fn remove_link(path: &Path) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(path).map_err(|source| WriteError { path: path.to_path_buf(), source })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn leaves_the_whole_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.json");
        write_atomically(&path, b"{}").unwrap();
        write_atomically(&path, b"{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}");
        assert_eq!(listing(dir.path()), ["bench.json"]);
    }

    #[test]
    fn error_names_the_folder_it_could_not_write_into() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/tables.md");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("missing/tables.md"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_name_is_replaced_and_its_target_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        let script = dir.path().join("build.sh");
        std::os::unix::fs::symlink(&victim, &script).unwrap();
        write_atomically_with_mode(&script, b"#!/bin/sh\n", EXECUTABLE_MODE).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o600);
        let written = std::fs::symlink_metadata(&script).unwrap();
        assert!(written.is_file(), "build.sh is still a link");
        assert_ne!(written.permissions().mode() & 0o100, 0, "build.sh is not executable");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_a_folder_name_becomes_a_real_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let kernels = dir.path().join("kernels");
        std::os::unix::fs::symlink(outside.path(), &kernels).unwrap();
        create_folder(&kernels).unwrap();
        assert!(std::fs::symlink_metadata(&kernels).unwrap().is_dir());
        write_atomically(&kernels.join("k.c"), b"x").unwrap();
        assert!(listing(outside.path()).is_empty());
        std::fs::write(dir.path().join("file"), "x").unwrap();
        assert!(create_folder(&dir.path().join("file")).is_err());
    }
}
