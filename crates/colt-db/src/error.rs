//! Why a database operation failed: every variant names the file, or the
//! server by its URL without the password (a [`crate::DbLocation`]).

use crate::records::JobId;
use crate::schema::SCHEMA_VERSION;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("tuning database `{}`: cannot open: {source}", path.display())]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("tuning database `{}`: not a SQLite database", path.display())]
    NotADatabase { path: PathBuf, source: rusqlite::Error },
    #[error("tuning database `{}`: a SQLite file, but not a colt tuning database", path.display())]
    Foreign { path: PathBuf },
    #[error(
        "tuning database `{}`: schema version {found}, but this colt reads version {SCHEMA_VERSION}: \
         written by a newer colt (or another program)",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64 },
    /// Only inside colt-db: a read-only open of an older schema is
    /// retried for writing, which migrates it.
    #[error("tuning database `{}`: schema version {found}, older than this colt's {SCHEMA_VERSION}", path.display())]
    Outdated { path: PathBuf, found: i64 },
    #[error("tuning database `{}` is damaged: {reason} (restore a backup, or move it aside to start afresh)", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "tuning database `{}` is {bytes} bytes but holds no colt schema: its history may be in a `-wal` file \
         that was not copied with it. Not starting afresh over it (copy the `-wal` beside it, or remove the \
         file to start a new database)",
        path.display()
    )]
    NoSchema { path: PathBuf, bytes: u64 },
    #[error(
        "tuning database `{}`: its write-ahead log `{}` cannot be read consistently ({reason}); SQLite would \
         drop it and the rows it holds. Move it aside to open the main file alone",
        path.display(),
        wal.display()
    )]
    BadWal { path: PathBuf, wal: PathBuf, reason: String },
    #[error(
        "tuning database `{}`: the write-ahead log `{}` beside it is another database's ({reason}); opening \
         would replay that database's rows into this one. Move the log aside (or back beside its own file)",
        path.display(),
        wal.display()
    )]
    ForeignWal { path: PathBuf, wal: PathBuf, reason: String },
    #[error("no colt database at `{}`{detail}", path.display())]
    NoDatabase { path: PathBuf, detail: &'static str },
    #[error("tuning database `{}` is not a regular file ({kind}): colt keeps a database in a file of its own", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("tuning database `{}`: cannot back up into `{}`: {reason}", path.display(), dest.display())]
    Backup { path: PathBuf, dest: PathBuf, reason: String },
    #[error("tuning database `{}`: no job {job}", path.display())]
    NoSuchJob { path: PathBuf, job: JobId },
    /// A job's program differs from the one its workload name stands for in
    /// this database (see `workload_names`).
    #[error(
        "tuning database `{}` keeps the name `{workload}` for {known}; this program (fingerprint \
         {fingerprint}) cannot share it, one name being one workload there. Rename this one (the `workload` \
         line of its file), or tune it in another database (--db)",
        path.display()
    )]
    WorkloadNameTaken { path: PathBuf, workload: String, known: String, fingerprint: String },
    #[error("tuning database `{}`: no model job {job}", path.display())]
    NoSuchModelJob { path: PathBuf, job: crate::ModelJobId },
    #[error("tuning database `{}`: cannot {what}: {source}", path.display())]
    Sql { path: PathBuf, what: String, source: rusqlite::Error },
    /// `reason` is the driver's message, scrubbed of the URL's password
    /// (the driver's error itself is not kept: a caller printing the
    /// source chain would print it unscrubbed).
    #[error("tuning database `{}`: cannot connect to the PostgreSQL server: {reason}", path.display())]
    Connect { path: PathBuf, reason: String },
    #[error("tuning database `{}`: cannot {what}: {reason}", path.display())]
    Postgres { path: PathBuf, what: String, reason: String },
    #[error(
        "tuning database `{}`: cannot {what}: the server did not answer within {} s (it may be stopped, \
         overloaded or cut off)",
        path.display(),
        after.as_secs_f64()
    )]
    NoAnswer { path: PathBuf, what: String, after: std::time::Duration },
    #[error(
        "tuning database `{}`: a key=value connection string; colt names a PostgreSQL server by URL \
         (`postgres://user:password@host:port/db`)",
        path.display()
    )]
    KeyValueString { path: PathBuf },
    #[error("tuning database `{}`: a PostgreSQL database whose tables are not colt's (a `jobs` table without colt's schema record); give colt a database of its own", path.display())]
    ForeignServer { path: PathBuf },
    #[error("tuning database `{}`: cannot copy into it: {reason}", path.display())]
    CopyMismatch { path: PathBuf, reason: String },
    #[error("tuning database `{}`: {what} is not done on a PostgreSQL server ({instead})", path.display())]
    Unsupported { path: PathBuf, what: String, instead: String },
}
