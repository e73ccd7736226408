//! `colt db`: the tuning database's upkeep — an online backup, and a full
//! check.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use colt_db::TuningDb;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Copy the database, while jobs run, into a new file (SQLite's online
    /// backup: a consistent snapshot, write-ahead log included), then
    /// check that the copy opens and holds every job and trial.
    Backup {
        /// The tuning database.
        #[arg(long, default_value = "colt.db")]
        db: PathBuf,
        /// The backup file to create (never overwritten).
        dest: PathBuf,
    },
    /// Check the database: SQLite's full integrity_check, the schema
    /// version, what it holds; exits 1 on any problem.
    Check {
        /// The tuning database.
        #[arg(long, default_value = "colt.db")]
        db: PathBuf,
    },
}

pub fn run(command: DbCommand) -> Result<String> {
    match command {
        DbCommand::Backup { db, dest } => {
            let summary = open_existing(&db)?.backup_to(&dest)?;
            Ok(format!(
                "backed up `{}` into `{}`: schema {}, {} jobs, {} trials, {} snapshots\n",
                db.display(),
                dest.display(),
                summary.schema_version,
                summary.jobs,
                summary.trials,
                summary.snapshots
            ))
        }
        DbCommand::Check { db } => {
            let database = open_existing(&db)?;
            let report = database.integrity_check()?;
            if report != ["ok"] {
                bail!(
                    "tuning database `{}` is damaged: SQLite's integrity_check says: {}",
                    db.display(),
                    report.join("; ")
                );
            }
            let s = database.summary()?;
            Ok(format!(
                "`{}`: ok (integrity_check), schema {} (this colt reads {}), {} jobs, {} trials, {} snapshots\n",
                db.display(),
                s.schema_version,
                colt_db::SCHEMA_VERSION,
                s.jobs,
                s.trials,
                s.snapshots
            ))
        }
    }
}

/// Opens a database that must exist: `colt db` never creates one.
fn open_existing(db: &std::path::Path) -> Result<TuningDb> {
    if !db.exists() {
        bail!("tuning database `{}` does not exist", db.display());
    }
    TuningDb::open(db).with_context(|| format!("cannot open `{}`", db.display()))
}
