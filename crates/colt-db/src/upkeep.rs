//! The database's upkeep: online backups, what it holds, SQLite's full
//! integrity check, and relabelling the records of one target label as
//! another's. (The check of a `-wal` before a file is opened is
//! [`crate::wal`].)

use crate::error::DbError;
use crate::records::DbSummary;
use crate::sqlite::SqliteDb;
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

impl SqliteDb {
    /// Gives every job and trial of the target label `from` the label `to`,
    /// in one transaction: the records of a database written before labels
    /// named the hardware (`cpu`), claimed for the hardware they were
    /// measured on by someone who knows it. Returns the jobs and trials
    /// changed.
    pub fn relabel_target(&mut self, from: &str, to: &str) -> Result<(u64, u64), DbError> {
        let fail = self.fail(format!("relabel target `{from}` as `{to}`"));
        let run = |conn: &mut Connection| -> rusqlite::Result<(u64, u64)> {
            let tx = conn.transaction()?;
            let jobs = tx.execute("UPDATE jobs SET target = ?2 WHERE target = ?1", rusqlite::params![from, to])?;
            let trials = tx.execute("UPDATE trials SET target = ?2 WHERE target = ?1", rusqlite::params![from, to])?;
            tx.commit()?;
            Ok((jobs as u64, trials as u64))
        };
        run(&mut self.conn).map_err(fail)
    }

    /// Copies the database, while it is in use, into a new file `dest`
    /// (SQLite's online backup API: a consistent snapshot, with whatever
    /// the write-ahead log holds), then opens the copy as a tuning
    /// database and checks it holds as many jobs and trials as this one.
    /// `dest` must not exist: a backup never overwrites.
    pub fn backup_to(&self, dest: &Path) -> Result<DbSummary, DbError> {
        let fail = |what: &str| {
            let (path, what) = (dest.to_path_buf(), what.to_string());
            move |source| DbError::Sql { path, what, source }
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(dest).map_err(|e| DbError::Backup {
            path: self.path.clone(),
            dest: dest.to_path_buf(),
            reason: if e.kind() == std::io::ErrorKind::AlreadyExists {
                "it exists already (a backup never overwrites a file)".to_string()
            } else {
                e.to_string()
            },
        })?;
        let summary = self.summary()?;
        {
            let mut copy = Connection::open(dest).map_err(fail("open the backup file"))?;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut copy).map_err(fail("start the backup"))?;
            backup.run_to_completion(256, Duration::from_millis(1), None).map_err(fail("copy the database"))?;
            drop(backup);
            // The copy is a database of its own: with this one's identity,
            // each would take the other's log for its own (crate::wal).
            let found: i64 =
                copy.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(fail("read the copy"))?;
            let fresh = crate::identity::user_version(found, crate::identity::new_identity());
            copy.pragma_update(None, "user_version", fresh).map_err(fail("give the copy its identity"))?;
        }
        let copied = SqliteDb::open(dest)?.summary()?;
        if copied.jobs != summary.jobs || copied.trials != summary.trials {
            return Err(DbError::Backup {
                path: self.path.clone(),
                dest: dest.to_path_buf(),
                reason: format!(
                    "the copy holds {} jobs and {} trials, the database {} and {}",
                    copied.jobs, copied.trials, summary.jobs, summary.trials
                ),
            });
        }
        Ok(copied)
    }

    /// What the database holds: its schema version and its rows.
    pub fn summary(&self) -> Result<DbSummary, DbError> {
        let count = |table: &str| -> Result<u64, DbError> {
            self.conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(self.fail(format!("count the {table}")))
        };
        let user_version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.fail("read the schema version"))?;
        let schema_version = crate::identity::schema_version(user_version);
        Ok(DbSummary { schema_version, jobs: count("jobs")?, trials: count("trials")?, snapshots: count("snapshots")? })
    }

    /// SQLite's full `integrity_check` (every page, every index entry
    /// against its row, every constraint) on top of the `quick_check` done
    /// at open; its report, `["ok"]` when sound.
    pub fn integrity_check(&self) -> Result<Vec<String>, DbError> {
        self.conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get::<_, String>(0))?.collect())
            .map_err(self.fail("run SQLite's integrity_check"))
    }
}
