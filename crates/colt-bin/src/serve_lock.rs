//! One `colt serve` per database file (see [`lock_database`]).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One daemon per database file, whatever the path names it by: two
/// daemons on one file both resumed its running job and measured it twice
/// at once. Held while the returned lock lives (the kernel drops both locks
/// when the process dies, SIGKILL included):
///
/// - an exclusive `flock` on `<db>.serve.lock` beside the database's
///   canonical path (symbolic links and `..` resolved, so every path to
///   the file finds the same lock), with the holder's pid inside for the
///   message. The lock file is opened with `O_NOFOLLOW`: a link planted at
///   its name is refused, never followed (truncating its target);
/// - an exclusive `flock` on the database file itself, which catches a
///   second name of the same file (a hard link). `flock` and SQLite's
///   POSIX (`fcntl`) locks are separate on Linux's local file systems, so
///   it does not block SQLite's own locking; the descriptor is never
///   closed (see [`DatabaseLock`]).
///
/// The database file is created empty (0600) if missing, as the SQLite
/// backend would: a file is known by its identity only once it exists.
pub(crate) fn lock_database(db: &Path) -> Result<DatabaseLock> {
    use std::io::{Read, Seek, Write};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    use std::os::unix::io::AsRawFd;
    let shown = db.display();
    // O_NONBLOCK: opening a FIFO named as the database must not hang; it
    // is refused just below.
    let database = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(db)
        .with_context(|| format!("cannot open the database `{shown}`"))?;
    let identity = database.metadata().with_context(|| format!("cannot read the database `{shown}`"))?;
    if !identity.is_file() {
        bail!("the database `{shown}` is not a regular file");
    }
    let canonical = std::fs::canonicalize(db).with_context(|| format!("cannot resolve the database path `{shown}`"))?;
    let mut name = canonical.into_os_string();
    name.push(".serve.lock");
    let path = PathBuf::from(name);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => anyhow::anyhow!(
                "the daemon lock `{}` is a symbolic link: colt does not write through it; remove it",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("cannot open the daemon lock `{}`", path.display())),
        })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        bail!("the daemon lock `{}` is not a regular file; remove it", path.display());
    }
    // SAFETY: flock takes a file descriptor that `file` keeps open.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        bail!(
            "another `colt serve` (pid {}) serves the database `{shown}` (the lock `{}`): stop it, or give this one \
             another --db",
            holder.trim(),
            path.display()
        );
    }
    // SAFETY: as above, `database` is open.
    if unsafe { libc::flock(database.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder =
            flock_holder(identity.ino()).map_or_else(|| "its pid unknown".to_string(), |pid| format!("pid {pid}"));
        bail!(
            "another `colt serve` ({holder}) serves the database `{shown}` under another name (a hard link to the \
             same file): stop it, or give this one another --db"
        );
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(DatabaseLock { _lock_file: file, _database: std::mem::ManuallyDrop::new(database) })
}

/// The locks [`lock_database`] took, held while this lives.
pub(crate) struct DatabaseLock {
    _lock_file: std::fs::File,
    /// Never closed, so never dropped: closing any descriptor of a file
    /// releases every POSIX lock this process holds on it, SQLite's
    /// included. The process's exit closes it.
    _database: std::mem::ManuallyDrop<std::fs::File>,
}

/// The pid holding an exclusive `flock` on the file with inode `ino`, from
/// Linux's `/proc/locks` (`1: FLOCK  ADVISORY  WRITE <pid> <maj>:<min>:<ino> 0 EOF`).
fn flock_holder(ino: u64) -> Option<u32> {
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "FLOCK", _, "WRITE", pid, file, ..] if file.rsplit(':').next() == Some(&ino.to_string()) => {
                pid.parse().ok()
            }
            _ => None,
        }
    })
}
