//! Why a database operation failed: every variant names the file.

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
    #[error("tuning database `{}` is damaged: {reason} (restore a backup, or move it aside to start afresh)", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("tuning database `{}`: no job {job}", path.display())]
    NoSuchJob { path: PathBuf, job: JobId },
    #[error("tuning database `{}`: cannot {what}: {source}", path.display())]
    Sql { path: PathBuf, what: String, source: rusqlite::Error },
}
