//! Who runs a job: a job row carries its owner (the process running it:
//! host, pid, the pid's start time, the command) and a lease, renewed while
//! the owner runs it. A job is claimed before anything of it is measured,
//! so a daemon never resumes a job that a live `colt tune` (or another
//! daemon) is running, and a job whose owner died is taken over.
//!
//! An owner is dead when its lease has run out, or, on this host, when its
//! pid no longer names a process started at the recorded time (a reused
//! pid is another process). A live owner on this host keeps its job even
//! past the lease: running a job twice at once is the failure to avoid,
//! and a process that is merely stopped (SIGSTOP, a debugger) may go on.
//!
//! A job whose owner died while running it [`MAX_CRASHES`] times is marked
//! failed instead of being taken again: a job that kills every process that
//! runs it would otherwise be resumed, and kill, forever.

use crate::error::DbError;
use crate::records::{JobId, JobRow};
use crate::schema::{bits, job_from_row, now_unix, JOB_COLUMNS};
use crate::sqlite::SqliteDb;
use crate::store::ClaimDecision;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a claim holds without renewal; owners renew every
/// [`LEASE_RENEWAL`].
pub const LEASE: Duration = Duration::from_secs(60);

/// How often an owner renews its lease.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(15);

/// How many times a job's owner may die while running it before the job is
/// failed rather than resumed.
pub const MAX_CRASHES: u32 = 2;

/// A process that runs jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// The process's start time (clock ticks after boot, `/proc/PID/stat`
    /// field 22): with the pid, it names one process across pid reuse.
    pub started: u64,
    /// What it is, for messages: `colt serve`, `colt tune`.
    pub command: String,
}

impl Owner {
    /// This process, described as `command`.
    pub fn this_process(command: &str) -> Owner {
        let pid = std::process::id();
        Owner { host: hostname(), pid, started: start_time(pid).unwrap_or(0), command: command.to_string() }
    }

    /// Whether this owner's process still runs: `Some` on this host, `None`
    /// on another (only its lease tells).
    pub fn alive_here(&self) -> Option<bool> {
        if self.host != hostname() {
            return None;
        }
        Some(start_time(self.pid) == Some(self.started))
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (pid {} on {})", self.command, self.pid, self.host)
    }
}

/// One hold of a job, as the claim history keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub owner: Owner,
    pub claimed_unix: f64,
    /// When the hold ended, and how: `released` by its owner, or `died`
    /// (found dead when the job was taken over or given up); `None` while
    /// it holds.
    pub ended_unix: Option<f64>,
    pub ended: Option<String>,
}

/// What [`crate::TuningStore::claim_job`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The job is this owner's now (its lease runs from now).
    Claimed,
    /// Another live owner runs it.
    Held { owner: Owner, lease_until_unix: f64 },
    /// Its owners died [`MAX_CRASHES`] times while running it: the job is
    /// marked failed with `reason`, and not claimed.
    GaveUp { reason: String },
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "localhost".into(), |h| h.trim().to_string())
}

/// Field 22 of `/proc/PID/stat`; the command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its `)`.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Ends job ?1's open hold at ?2, as ?3 (`released`, `died`).
const END_OPEN_CLAIMS: &str = "UPDATE claims SET ended_unix = ?2, ended = ?3 WHERE job = ?1 AND ended_unix IS NULL";

impl SqliteDb {
    /// Claims job `id` for `owner` with a lease of `lease` from now (see
    /// [`crate::ownership`]): taken when no live owner holds it; a job
    /// whose owner died while running it counts a crash, and at
    /// [`MAX_CRASHES`] it is failed instead. Claiming a stopped or failed
    /// job (an explicit resume) starts its crash count afresh.
    pub fn claim_job(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<Claim, DbError> {
        let path = self.path.clone();
        let sql = |what: &str| {
            let (path, what) = (path.clone(), what.to_string());
            move |source| DbError::Sql { path, what, source }
        };
        let no_such_job = self.no_such_job(id);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("claim a job"))?;
        let row = tx
            .query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], job_from_row)
            .optional()
            .map_err(sql("read a job to claim"))?;
        let row = row.ok_or(no_such_job)?;
        let now = now_unix();
        let crashes = match crate::store::decide_claim(&row, owner) {
            ClaimDecision::Held(held) => return Ok(held),
            ClaimDecision::GiveUp { reason, crashes } => {
                tx.execute(
                    "UPDATE jobs SET state = 'failed', error = ?2, updated_unix = ?3, crashes = ?4, \
                     owner_host = NULL, owner_pid = NULL, owner_started = NULL, owner_command = NULL, \
                     lease_until_unix = NULL WHERE id = ?1",
                    params![id, reason, now, crashes],
                )
                .map_err(sql("fail a job that crashed its owners"))?;
                tx.execute(END_OPEN_CLAIMS, params![id, now, "died"]).map_err(sql("end the dead owner's claim"))?;
                tx.commit().map_err(sql("fail a job that crashed its owners"))?;
                return Ok(Claim::GaveUp { reason });
            }
            ClaimDecision::Take { crashes } => crashes,
        };
        tx.execute(
            "UPDATE jobs SET owner_host = ?2, owner_pid = ?3, owner_started = ?4, owner_command = ?5, \
             lease_until_unix = ?6, crashes = ?7 WHERE id = ?1",
            params![id, owner.host, owner.pid, bits(owner.started), owner.command, now + lease.as_secs_f64(), crashes],
        )
        .map_err(sql("claim a job"))?;
        if row.owner.as_ref() != Some(owner) {
            // A hold left open is a dead owner's (a live one is never taken over).
            tx.execute(END_OPEN_CLAIMS, params![id, now, "died"]).map_err(sql("end the dead owner's claim"))?;
            tx.execute(
                "INSERT INTO claims (job, owner_host, owner_pid, owner_started, owner_command, claimed_unix) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, owner.host, owner.pid, bits(owner.started), owner.command, now],
            )
            .map_err(sql("record the claim"))?;
        }
        tx.commit().map_err(sql("claim a job"))?;
        Ok(Claim::Claimed)
    }

    /// Extends `owner`'s lease on job `id` to `lease` from now; false when
    /// the job is no longer `owner`'s (another process took it over).
    pub fn renew_lease(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<bool, DbError> {
        let changed = self
            .conn
            .execute(
                "UPDATE jobs SET lease_until_unix = ?5 \
                 WHERE id = ?1 AND owner_host = ?2 AND owner_pid = ?3 AND owner_started = ?4",
                params![id, owner.host, owner.pid, bits(owner.started), now_unix() + lease.as_secs_f64()],
            )
            .map_err(self.fail(format!("renew the lease on job {id}")))?;
        Ok(changed == 1)
    }

    /// Gives job `id` up, if `owner` holds it: the clean end of a run (a
    /// job given up is not counted as a crash when it is taken again).
    pub fn release_job(&mut self, id: JobId, owner: &Owner) -> Result<(), DbError> {
        let fail = self.fail(format!("release job {id}"));
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            let released = tx.execute(
                "UPDATE jobs SET owner_host = NULL, owner_pid = NULL, owner_started = NULL, owner_command = NULL, \
                 lease_until_unix = NULL WHERE id = ?1 AND owner_host = ?2 AND owner_pid = ?3 AND owner_started = ?4",
                params![id, owner.host, owner.pid, bits(owner.started)],
            )?;
            if released == 1 {
                tx.execute(END_OPEN_CLAIMS, params![id, now_unix(), "released"])?;
            }
            tx.commit()
        };
        run(&mut self.conn).map_err(fail)
    }

    /// Who held job `id`, in the order they took it.
    pub fn job_claims(&self, id: JobId) -> Result<Vec<ClaimRecord>, DbError> {
        self.query(
            "SELECT owner_host, owner_pid, owner_started, owner_command, claimed_unix, ended_unix, ended \
             FROM claims WHERE job = ?1 ORDER BY id",
            [id],
            |row| {
                Ok(ClaimRecord {
                    owner: Owner {
                        host: row.get(0)?,
                        pid: row.get(1)?,
                        started: crate::schema::unbits(row.get(2)?),
                        command: row.get(3)?,
                    },
                    claimed_unix: row.get(4)?,
                    ended_unix: row.get(5)?,
                    ended: row.get(6)?,
                })
            },
            &format!("read job {id}'s claims"),
        )
    }

    /// The job a scheduler should run next: an interrupted (`running`) job
    /// no live owner holds, else the oldest queued one. Reads only the
    /// unfinished jobs (an index by state), so an idle daemon polling it
    /// costs nothing however long its history.
    pub fn next_job_to_run(&self, targets: &[String]) -> Result<Option<JobRow>, DbError> {
        let unfinished = self.query(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('running', 'queued') ORDER BY state = 'queued', id"
            ),
            [],
            job_from_row,
            "find the next job to run",
        )?;
        Ok(unfinished.into_iter().find(|row| targets.contains(&row.job.target) && !row.held_by_other(None)))
    }

    /// How many jobs are queued or running.
    pub fn unfinished_jobs(&self) -> Result<u64, DbError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.fail("count the unfinished jobs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = Owner::this_process("test");
        assert!(me.started > 0, "no start time read from /proc");
        assert_eq!(me.alive_here(), Some(true));
        let reused_pid = Owner { started: me.started + 1, ..me.clone() };
        assert_eq!(reused_pid.alive_here(), Some(false));
        let elsewhere = Owner { host: "another-host".into(), ..me };
        assert_eq!(elsewhere.alive_here(), None);
    }
}
