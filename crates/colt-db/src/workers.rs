//! The workers that serve a database: every `colt serve` records itself
//! (host, pid and start time, the address it listens on, the target labels
//! it runs jobs of) and renews a heartbeat every [`crate::LEASE_RENEWAL`];
//! one whose heartbeat is older than a [`crate::LEASE`] is gone. In a
//! database several hosts share, this is how any worker's API lists the
//! cluster's workers.

use crate::error::DbError;
use crate::ownership::Owner;
use crate::schema::{bits, now_unix, unbits};
use crate::sqlite::SqliteDb;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A worker as its last heartbeat left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    pub worker: Owner,
    /// The address its API listens on.
    pub listen: String,
    /// The target labels it runs jobs of.
    pub labels: Vec<String>,
    pub started_unix: f64,
    pub heartbeat_unix: f64,
}

impl SqliteDb {
    pub fn worker_heartbeat(&mut self, worker: &Owner, listen: &str, labels: &[String]) -> Result<(), DbError> {
        let labels = serde_json::to_string(labels).expect("strings always serialize");
        self.conn
            .execute(
                "INSERT INTO workers (host, pid, started, command, listen, labels_json, started_unix, heartbeat_unix) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (host, pid, started) DO UPDATE SET \
                 listen = excluded.listen, labels_json = excluded.labels_json, heartbeat_unix = excluded.heartbeat_unix",
                params![worker.host, worker.pid, bits(worker.started), worker.command, listen, labels, now_unix()],
            )
            .map_err(self.fail("record a worker's heartbeat"))?;
        // A daemon with nothing to tune writes only heartbeats: they too
        // keep the log bounded.
        self.bound_wal();
        Ok(())
    }

    pub fn worker_gone(&mut self, worker: &Owner) -> Result<(), DbError> {
        self.conn
            .execute(
                "DELETE FROM workers WHERE host = ?1 AND pid = ?2 AND started = ?3",
                params![worker.host, worker.pid, bits(worker.started)],
            )
            .map_err(self.fail("remove a worker"))?;
        Ok(())
    }

    pub fn live_workers(&self, within: Duration) -> Result<Vec<WorkerRow>, DbError> {
        let since = now_unix() - within.as_secs_f64();
        self.query(
            "SELECT host, pid, started, command, listen, labels_json, started_unix, heartbeat_unix FROM workers \
             WHERE heartbeat_unix >= ?1 ORDER BY host, pid",
            [since],
            |row| {
                let labels: String = row.get(5)?;
                Ok(WorkerRow {
                    worker: Owner {
                        host: row.get(0)?,
                        pid: row.get(1)?,
                        started: unbits(row.get(2)?),
                        command: row.get(3)?,
                    },
                    listen: row.get(4)?,
                    labels: serde_json::from_str(&labels).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
                    })?,
                    started_unix: row.get(6)?,
                    heartbeat_unix: row.get(7)?,
                })
            },
            "list the workers",
        )
    }
}
