//! The cluster's side of the tuning database on PostgreSQL: claiming a
//! job under a lease, renewing and releasing it, the next job to run and
//! its claim in one transaction, and the workers' heartbeats. The
//! [`TuningStore`] implementation (`store.rs`) delegates here.

use super::*;

impl PostgresDb {
    pub(super) fn claim_job(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<Claim, DbError> {
        self.run("claim a job", |c| {
            let mut tx = c.transaction()?;
            // The row lock holds every other claimer of this job until commit.
            if tx.query_opt("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", &[&id])?.is_none() {
                return Err(Fail::Db(self.no_such_job(id)));
            }
            let row = read_job(&mut tx, id)?.ok_or_else(|| Fail::Bad(format!("job {id} vanished while locked")))?;
            let now = now_unix();
            let claim = match decide_claim(&row, owner) {
                ClaimDecision::Held(held) => held,
                ClaimDecision::GiveUp { reason, crashes } => {
                    give_up(&mut tx, id, &reason, crashes, now)?;
                    Claim::GaveUp { reason }
                }
                ClaimDecision::Take { crashes } => {
                    take(&mut tx, id, &row, owner, now + lease.as_secs_f64(), crashes, now)?;
                    Claim::Claimed
                }
            };
            tx.commit()?;
            Ok(claim)
        })
    }

    pub(super) fn renew_lease(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<bool, DbError> {
        let changed = self.execute(
            &format!("renew the lease on job {id}"),
            "UPDATE jobs SET lease_until_unix = $5 \
             WHERE id = $1 AND owner_host = $2 AND owner_pid = $3 AND owner_started = $4",
            &[&id, &owner.host, &i64::from(owner.pid), &bits(owner.started), &(now_unix() + lease.as_secs_f64())],
        )?;
        Ok(changed == 1)
    }

    pub(super) fn release_job(&mut self, id: JobId, owner: &Owner) -> Result<(), DbError> {
        self.run(&format!("release job {id}"), |c| {
            let mut tx = c.transaction()?;
            let released = tx.execute(
                "UPDATE jobs SET owner_host = NULL, owner_pid = NULL, owner_started = NULL, owner_command = NULL, \
                 lease_until_unix = NULL WHERE id = $1 AND owner_host = $2 AND owner_pid = $3 AND owner_started = $4",
                &[&id, &owner.host, &i64::from(owner.pid), &bits(owner.started)],
            )?;
            if released == 1 {
                tx.execute(END_OPEN_CLAIMS, &[&id, &now_unix(), &"released"])?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub(super) fn worker_heartbeat(&mut self, worker: &Owner, listen: &str, labels: &[String]) -> Result<(), DbError> {
        let labels = serde_json::to_string(labels).expect("strings always serialize");
        let now = now_unix();
        self.execute(
            "record a worker's heartbeat",
            "INSERT INTO workers (host, pid, started, command, listen, labels_json, started_unix, heartbeat_unix) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (host, pid, started) DO UPDATE SET \
             listen = excluded.listen, labels_json = excluded.labels_json, heartbeat_unix = excluded.heartbeat_unix",
            &[&worker.host, &i64::from(worker.pid), &bits(worker.started), &worker.command, &listen, &labels, &now],
        )?;
        Ok(())
    }

    pub(super) fn worker_gone(&mut self, worker: &Owner) -> Result<(), DbError> {
        self.execute(
            "remove a worker",
            "DELETE FROM workers WHERE host = $1 AND pid = $2 AND started = $3",
            &[&worker.host, &i64::from(worker.pid), &bits(worker.started)],
        )?;
        Ok(())
    }

    pub(super) fn live_workers(&self, within: Duration) -> Result<Vec<WorkerRow>, DbError> {
        let since = now_unix() - within.as_secs_f64();
        self.rows(
            "list the workers",
            "SELECT host, pid, started, command, listen, labels_json, started_unix, heartbeat_unix FROM workers \
             WHERE heartbeat_unix >= $1 ORDER BY host, pid",
            &[&since],
            |row| {
                let pid =
                    u32::try_from(row.try_get::<_, i64>(1)?).map_err(|e| Fail::Bad(format!("worker pid: {e}")))?;
                let labels: String = row.try_get(5)?;
                Ok(WorkerRow {
                    worker: Owner {
                        host: row.try_get(0)?,
                        pid,
                        started: unbits(row.try_get(2)?),
                        command: row.try_get(3)?,
                    },
                    listen: row.try_get(4)?,
                    labels: serde_json::from_str(&labels).map_err(|e| Fail::Bad(format!("worker labels: {e}")))?,
                    started_unix: row.try_get(6)?,
                    heartbeat_unix: row.try_get(7)?,
                })
            },
        )
    }

    pub(super) fn job_claims(&self, id: JobId) -> Result<Vec<ClaimRecord>, DbError> {
        self.rows(
            &format!("read job {id}'s claims"),
            "SELECT owner_host, owner_pid, owner_started, owner_command, claimed_unix, ended_unix, ended \
             FROM claims WHERE job = $1 ORDER BY id",
            &[&id],
            |row| {
                let pid = u32::try_from(row.try_get::<_, i64>(1)?).map_err(|e| Fail::Bad(format!("claim pid: {e}")))?;
                Ok(ClaimRecord {
                    owner: Owner {
                        host: row.try_get(0)?,
                        pid,
                        started: unbits(row.try_get(2)?),
                        command: row.try_get(3)?,
                    },
                    claimed_unix: row.try_get(4)?,
                    ended_unix: row.try_get(5)?,
                    ended: row.try_get(6)?,
                })
            },
        )
    }

    pub(super) fn next_job_to_run(&self, targets: &[String]) -> Result<Option<JobRow>, DbError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('running', 'queued') AND target = ANY($1) \
             ORDER BY state = 'queued', id"
        );
        let unfinished = self.rows("find the next job to run", &sql, &[&targets], job_from_row)?;
        Ok(unfinished.into_iter().find(|row| !row.held_by_other(None)))
    }

    pub(super) fn claim_next_job(
        &mut self,
        owner: &Owner,
        targets: &[String],
        lease: Duration,
    ) -> Result<Option<JobRow>, DbError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ('running', 'queued') AND target = ANY($1) \
             ORDER BY state = 'queued', id"
        );
        let candidates = self.rows("find jobs to claim", &sql, &[&targets], job_from_row)?;
        // Held by anyone live, `owner` included: a job it holds already is
        // not the next one to take.
        for candidate in candidates.into_iter().filter(|row| !row.held_by_other(None)) {
            let id = candidate.id;
            let claimed = self.run("claim the next job", |c| {
                let mut tx = c.transaction()?;
                // A row another worker is claiming right now is skipped, not waited on.
                if tx.query_opt("SELECT id FROM jobs WHERE id = $1 FOR UPDATE SKIP LOCKED", &[&id])?.is_none() {
                    return Ok(None);
                }
                let Some(row) = read_job(&mut tx, id)? else { return Ok(None) };
                if !row.state.is_unfinished() || row.held_by_other(None) {
                    return Ok(None);
                }
                let now = now_unix();
                let claimed = match decide_claim(&row, owner) {
                    ClaimDecision::Held(_) => None,
                    ClaimDecision::GiveUp { reason, crashes } => {
                        give_up(&mut tx, id, &reason, crashes, now)?;
                        None
                    }
                    ClaimDecision::Take { crashes } => {
                        take(&mut tx, id, &row, owner, now + lease.as_secs_f64(), crashes, now)?;
                        read_job(&mut tx, id)?
                    }
                };
                tx.commit()?;
                Ok(claimed)
            })?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }
}
