//! The database's upkeep: online backups, what it holds, SQLite's full
//! integrity check, the check of a `-wal` before a file is opened, and
//! relabelling the records of one target label as another's.

use crate::error::DbError;
use crate::records::DbSummary;
use crate::sqlite::SqliteDb;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
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
        let schema_version = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.fail("read the schema version"))?;
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

/// The magic numbers a write-ahead log starts with (big-endian; the last
/// bit says which byte order its checksums use) and its format version.
const WAL_MAGIC: [u32; 2] = [0x377f_0682, 0x377f_0683];
const WAL_FORMAT: u32 = 3_007_000;
const WAL_HEADER_BYTES: usize = 32;

/// Refuses a non-empty `<path>-wal` that SQLite would discard as invalid:
/// one that is too short for its header, does not start with the magic,
/// or whose page size differs from the main file's (another database's).
pub(crate) fn check_wal(path: &Path) -> Result<(), DbError> {
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let wal_path = PathBuf::from(wal_path);
    let mut wal = Vec::with_capacity(WAL_HEADER_BYTES);
    let Ok(file) = std::fs::File::open(&wal_path) else { return Ok(()) };
    // Only the header: a log can be large.
    if std::io::Read::read_to_end(&mut std::io::Read::take(file, WAL_HEADER_BYTES as u64), &mut wal).is_err() {
        return Ok(());
    }
    let bad = |reason: String| DbError::BadWal { path: path.to_path_buf(), wal: wal_path.clone(), reason };
    if wal.is_empty() {
        return Ok(());
    }
    if wal.len() < WAL_HEADER_BYTES {
        return Err(bad(format!("{} bytes, shorter than a log's {WAL_HEADER_BYTES}-byte header", wal.len())));
    }
    let word = |at: usize| u32::from_be_bytes([wal[at], wal[at + 1], wal[at + 2], wal[at + 3]]);
    if !WAL_MAGIC.contains(&word(0)) {
        return Err(bad(format!("it does not start with a write-ahead log's magic number (found {:#010x})", word(0))));
    }
    if word(4) != WAL_FORMAT {
        return Err(bad(format!("log format {} where SQLite writes {WAL_FORMAT}", word(4))));
    }
    let mut header = [0u8; 100];
    let main_page_size = std::fs::File::open(path).ok().and_then(|mut f| {
        std::io::Read::read_exact(&mut f, &mut header).ok()?;
        // Bytes 16-17 of the database header; 1 means 65536.
        Some(match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65_536,
            n => u32::from(n),
        })
    });
    if let Some(main) = main_page_size.filter(|&main| main != word(8)) {
        return Err(bad(format!(
            "its pages are {} bytes and the database's {main}: it is another database's",
            word(8)
        )));
    }
    Ok(())
}
