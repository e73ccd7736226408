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
        #[arg(long, default_value = "colt.db", env = "COLT_DB")]
        db: PathBuf,
        /// The backup file to create (never overwritten).
        dest: PathBuf,
    },
    /// Check the database: SQLite's full integrity_check, the schema
    /// version, what it holds; exits 1 on any problem.
    Check {
        /// The tuning database.
        #[arg(long, default_value = "colt.db", env = "COLT_DB")]
        db: PathBuf,
    },
    /// Copy one database's whole history into another — a file into a
    /// PostgreSQL server (`postgres://…`) or back, or file to file — keeping
    /// job ids; idempotent (run it again to finish an interrupted copy), and
    /// checked (every source job is there with its trials). A running job
    /// arrives stopped.
    Copy {
        /// The database to read.
        #[arg(long)]
        from: PathBuf,
        /// The database to write (created if missing).
        #[arg(long)]
        to: PathBuf,
    },
    /// Give the records of one target label another label: for a database
    /// written before labels named the hardware (its CPU records are
    /// labelled `cpu`), on the host that measured them. `--to cpu` is this
    /// host's CPU label.
    Relabel {
        /// The tuning database.
        #[arg(long, default_value = "colt.db", env = "COLT_DB")]
        db: PathBuf,
        /// The label the records carry now.
        #[arg(long)]
        from: String,
        /// The label to give them (`cpu`: this host's CPU).
        #[arg(long)]
        to: String,
    },
}

pub fn run(command: DbCommand) -> Result<String> {
    match command {
        DbCommand::Backup { db, dest } => {
            let summary = open_reading(&db)?.backup_to(&dest)?;
            Ok(format!(
                "backed up `{}` into `{}`: schema {}, {} jobs, {} trials, {} snapshots\n",
                TuningDb::display(&db),
                dest.display(),
                summary.schema_version,
                summary.jobs,
                summary.trials,
                summary.snapshots
            ))
        }
        DbCommand::Relabel { db, from, to } => relabel(&db, &from, &to),
        DbCommand::Copy { from, to } => {
            let source = open_reading(&from)?;
            let mut dest = TuningDb::open(&to).with_context(|| format!("cannot open `{}`", TuningDb::display(&to)))?;
            let c = colt_db::copy_database(&source, &mut dest)?;
            Ok(format!(
                "copied `{}` into `{}`: {} jobs copied ({} there already), {} of {} trials copied, {} snapshots, {} model jobs copied ({} there already); every job checked\n",
                TuningDb::display(&from),
                TuningDb::display(&to),
                c.jobs_copied,
                c.jobs_present,
                c.trials_copied,
                c.trials,
                c.snapshots,
                c.model_jobs_copied,
                c.model_jobs_present
            ))
        }
        DbCommand::Check { db } => {
            let database = open_reading(&db)?;
            let report = database.integrity_check()?;
            if report != ["ok"] {
                bail!(
                    "tuning database `{}` is damaged: SQLite's integrity_check says: {}",
                    TuningDb::display(&db),
                    report.join("; ")
                );
            }
            let s = database.summary()?;
            Ok(format!(
                "`{}`: ok (integrity_check), schema {} (this colt reads {}), {} jobs, {} trials, {} snapshots\n",
                TuningDb::display(&db),
                s.schema_version,
                colt_db::SCHEMA_VERSION,
                s.jobs,
                s.trials,
                s.snapshots
            ))
        }
    }
}

/// Longest target label `db relabel` gives. The labels colt writes name
/// the hardware — `cpu:MODEL [ISA FEATURES]`, `opencl:PLATFORM / DEVICE /
/// DRIVER` — in well under 256 bytes; every record carries its label, and
/// every report and table prints it.
const MAX_LABEL_BYTES: usize = 512;

/// A label `db relabel --to` may give: one line of printable characters, 1
/// to [`MAX_LABEL_BYTES`] bytes, without spaces at its ends (a label that
/// only looks like another never matches it).
fn check_label(label: &str) -> Result<()> {
    if label.trim().is_empty() {
        bail!("`--to` is empty: a target label names the hardware (`cpu` is this host's CPU)");
    }
    if label.len() > MAX_LABEL_BYTES {
        bail!("`--to` is {} bytes long: a target label is at most {MAX_LABEL_BYTES} bytes", label.len());
    }
    if let Some(c) = label.chars().find(|c| c.is_control()) {
        bail!("`--to` holds {c:?}: a target label is one line of printable characters");
    }
    if label.trim() != label {
        bail!("`--to` `{label}` starts or ends with a space: a label that only looks like another never matches it");
    }
    Ok(())
}

fn relabel(db: &std::path::Path, from: &str, to: &str) -> Result<String> {
    check_label(to)?;
    let to = crate::tune::target_label(Some(to));
    if from == to {
        bail!("`--from` and `--to` are the same label `{to}`");
    }
    let (jobs, trials) = open_existing(db)?.relabel_target(from, &to)?;
    if jobs == 0 && trials == 0 {
        bail!("tuning database `{}` holds no job or trial of target `{from}`", TuningDb::display(db));
    }
    Ok(format!("`{}`: {jobs} jobs and {trials} trials of `{from}` are now `{to}`\n", TuningDb::display(db)))
}

/// Opens a database that must exist: `colt db` never creates one.
fn open_existing(db: &std::path::Path) -> Result<TuningDb> {
    if !TuningDb::exists(db) {
        bail!("tuning database `{}` does not exist", TuningDb::display(db));
    }
    TuningDb::open(db).with_context(|| format!("cannot open `{}`", TuningDb::display(db)))
}

/// Opens a database that must exist, for reading only (read-only: nothing
/// is created or written, an empty file included).
fn open_reading(db: &std::path::Path) -> Result<TuningDb> {
    if !TuningDb::exists(db) {
        bail!("tuning database `{}` does not exist", TuningDb::display(db));
    }
    TuningDb::open_read_only(db).with_context(|| format!("cannot open `{}`", TuningDb::display(db)))
}
