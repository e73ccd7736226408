//! The tuning database's records on PostgreSQL: [`TuningStore`] answered
//! by queries on the server (the connection, its redialling, the schema and
//! the row mapping are the parent module's; claims, leases and workers are
//! `cluster.rs`'s, which the cluster's operations here delegate to).

use super::*;
use crate::machine_limits::MachineLimitsRecord;

impl TuningStore for PostgresDb {
    fn path(&self) -> &Path {
        &self.path
    }

    fn create_job(&mut self, job: &NewJob) -> Result<JobId, DbError> {
        crate::workload_names::refuse_other_program(self, &job.workload, &job.workload_fingerprint)?;
        let now = now_unix();
        let what = format!("create a job for workload `{}`", job.workload);
        self.run(&what, |c| {
            let row = c.query_one(
                "INSERT INTO jobs (workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
                 options_json, state, created_unix, updated_unix) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
                 RETURNING id",
                &[
                    &job.workload,
                    &job.workload_text,
                    &job.workload_fingerprint,
                    &job.target,
                    &job.strategy,
                    &bits(job.trials),
                    &bits(job.seed),
                    &job.options_json,
                    &JobState::Queued.as_str(),
                    &now,
                ],
            )?;
            Ok(row.try_get(0)?)
        })
    }

    fn job(&self, id: JobId) -> Result<Option<JobRow>, DbError> {
        self.run(&format!("read job {id}"), |c| read_job(c, id))
    }

    fn jobs(&self) -> Result<Vec<JobRow>, DbError> {
        self.rows("list the jobs", &format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"), &[], job_from_row)
    }

    fn set_job_state(&mut self, id: JobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        let changed = self.execute(
            &format!("set job {id}'s state to {state}"),
            "UPDATE jobs SET state = $2, error = $3, updated_unix = $4 WHERE id = $1",
            &[&id, &state.as_str(), &error, &now_unix()],
        )?;
        self.changed_job(id, changed)
    }

    fn set_job_trials(&mut self, id: JobId, trials: u64) -> Result<(), DbError> {
        let changed = self.execute(
            &format!("set job {id}'s trial budget"),
            "UPDATE jobs SET trials = $2, updated_unix = $3 WHERE id = $1",
            &[&id, &bits(trials), &now_unix()],
        )?;
        self.changed_job(id, changed)
    }

    fn checkpoint(&mut self) -> Result<(), DbError> {
        // A committed transaction is durable on the server already.
        Ok(())
    }

    fn record_trial(&mut self, trial: &TrialRecord) -> Result<bool, DbError> {
        let job = trial.job;
        // A Vec<String> always serializes.
        let edits = serde_json::to_string(&trial.edits).expect("a list of strings always serializes");
        let (sampler, runs) = (trial.sampler.to_string(), i64::from(trial.runs));
        self.run(&format!("record a trial of job {job}"), |c| {
            let mut tx = c.transaction()?;
            if tx.query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job])?.is_none() {
                return Err(Fail::Db(self.no_such_job(job)));
            }
            let inserted = tx.execute(
                &format!(
                    "INSERT INTO trials ({TRIAL_COLUMNS}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                     ON CONFLICT (job, fingerprint) DO NOTHING"
                ),
                &[
                    &job,
                    &trial.workload_fingerprint,
                    &trial.target,
                    &bits(trial.seed),
                    &edits,
                    &trial.decisions,
                    &trial.source_hash,
                    &bits(trial.fingerprint),
                    &trial.verified,
                    &trial.median_ms,
                    &trial.min_ms,
                    &trial.max_ms,
                    &runs,
                    &trial.failure,
                    &trial.strategy,
                    &trial.model,
                    &bits(trial.trial_index),
                    &trial.created_unix,
                    &sampler,
                ],
            )? == 1;
            if inserted {
                tx.execute("UPDATE jobs SET updated_unix = $2 WHERE id = $1", &[&job, &now_unix()])?;
            }
            tx.commit()?;
            Ok(inserted)
        })
    }

    fn job_trials(&self, job: JobId) -> Result<Vec<TrialRecord>, DbError> {
        let sql = format!("SELECT {TRIAL_COLUMNS} FROM trials WHERE job = $1 ORDER BY trial_index, id");
        self.rows(&format!("read job {job}'s trials"), &sql, &[&job], trial_from_row)
    }

    fn best_trials(&self, fingerprint: &str, target: &str, limit: usize) -> Result<Vec<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM ( \
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY fingerprint ORDER BY median_ms, id) AS place FROM trials \
                 WHERE workload_fingerprint = $1 AND target = $2 AND verified AND median_ms IS NOT NULL) AS ranked \
             WHERE place = 1 ORDER BY median_ms, id LIMIT $3"
        );
        self.rows("read the best trials", &sql, &[&fingerprint, &target, &sql_limit(limit)], trial_from_row)
    }

    fn other_workloads_trials(&self, target: &str, except: &str, limit: usize) -> Result<Vec<WorkloadTrial>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS}, \
                 (SELECT workload FROM jobs WHERE jobs.id = job), \
                 (SELECT workload_text FROM jobs WHERE jobs.id = job) \
             FROM ( \
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY workload_fingerprint, fingerprint ORDER BY median_ms, id) \
                     AS place FROM trials \
                 WHERE target = $1 AND workload_fingerprint != $2 AND verified AND median_ms IS NOT NULL) AS ranked \
             WHERE place = 1 ORDER BY created_unix DESC, id DESC LIMIT $3"
        );
        let map = |row: &Row| -> Attempt<WorkloadTrial> {
            Ok(WorkloadTrial {
                trial: trial_from_row(row)?,
                workload: row.try_get(19)?,
                workload_text: row.try_get(20)?,
            })
        };
        self.rows("read other workloads' trials", &sql, &[&target, &except, &sql_limit(limit)], map)
    }

    fn best_for_workload_name(&self, workload: &str, target: &str) -> Result<Option<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM trials \
             WHERE job IN (SELECT id FROM jobs WHERE workload = $1) AND target = $2 \
             AND verified AND median_ms IS NOT NULL ORDER BY median_ms, id LIMIT 1"
        );
        self.row(&format!("read the best trial of workload `{workload}`"), &sql, &[&workload, &target], trial_from_row)
    }

    fn workload_targets(&self, workload: &str) -> Result<Vec<String>, DbError> {
        let sql = "SELECT DISTINCT target FROM trials WHERE job IN (SELECT id FROM jobs WHERE workload = $1) \
                   AND verified AND median_ms IS NOT NULL ORDER BY target";
        self.rows("read the targets of a workload", sql, &[&workload], |row| Ok(row.try_get(0)?))
    }

    fn workload_fingerprints(&self, workload: &str) -> Result<Vec<String>, DbError> {
        let sql = "SELECT DISTINCT workload_fingerprint FROM jobs WHERE workload = $1 ORDER BY workload_fingerprint";
        self.rows("read the programs of a workload name", sql, &[&workload], |row| Ok(row.try_get(0)?))
    }

    fn best_of_job(&self, job: JobId) -> Result<Option<TrialRecord>, DbError> {
        let sql = format!(
            "SELECT {TRIAL_COLUMNS} FROM trials WHERE job = $1 AND verified AND median_ms IS NOT NULL \
             ORDER BY median_ms, id LIMIT 1"
        );
        self.row(&format!("read job {job}'s best trial"), &sql, &[&job], trial_from_row)
    }

    fn foreign_keys_enforced(&self) -> Result<bool, DbError> {
        // A server always enforces its declared foreign keys.
        Ok(true)
    }

    fn latest_job(&self, fingerprint: &str, target: &str, strategy: &str) -> Result<Option<JobRow>, DbError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workload_fingerprint = $1 AND target = $2 AND strategy = $3 \
             ORDER BY id DESC LIMIT 1"
        );
        self.row("find the latest job", &sql, &[&fingerprint, &target, &strategy], job_from_row)
    }

    fn save_snapshot(&mut self, job: JobId, bytes: &[u8]) -> Result<(), DbError> {
        // Inserting from `jobs` makes an unknown job change no row rather than fail a foreign key.
        let changed = self.execute(
            &format!("save job {job}'s snapshot"),
            "INSERT INTO snapshots (job, bytes, saved_unix) SELECT id, $2, $3 FROM jobs WHERE id = $1 \
             ON CONFLICT (job) DO UPDATE SET bytes = excluded.bytes, saved_unix = excluded.saved_unix",
            &[&job, &bytes, &now_unix()],
        )?;
        self.changed_job(job, changed)
    }

    fn machine_limits(&self, label: &str) -> Result<Option<MachineLimitsRecord>, DbError> {
        self.row(
            &format!("read the machine limits of `{label}`"),
            "SELECT label, limits_json, measured_unix FROM machine_limits WHERE label = $1",
            &[&label],
            |r| {
                Ok(MachineLimitsRecord {
                    label: r.try_get(0)?,
                    limits_json: r.try_get(1)?,
                    measured_unix: unbits(r.try_get(2)?),
                })
            },
        )
    }

    fn save_machine_limits(&mut self, record: &MachineLimitsRecord) -> Result<(), DbError> {
        self.execute(
            &format!("save the machine limits of `{}`", record.label),
            &crate::machine_limits::save_sql('$'),
            &[&record.label, &record.limits_json, &bits(record.measured_unix)],
        )?;
        Ok(())
    }

    fn record_probe(&mut self, probe: &ProbeRecord) -> Result<(), DbError> {
        let job = probe.job;
        let changed = self.execute(
            &format!("record a proposal probe of job {job}"),
            &format!(
                "INSERT INTO proposal_probes ({PROBE_COLUMNS}) \
                 SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM jobs WHERE id = $1"
            ),
            &[
                &job,
                &probe.model,
                &probe.parent_predicted,
                &probe.proposal_predicted,
                &probe.random_predicted,
                &probe.duplicate,
                &probe.measured,
                &probe.proposal_ms,
                &probe.random_ms,
                &probe.created_unix,
            ],
        )?;
        self.changed_job(job, changed)
    }

    fn job_probes(&self, job: JobId) -> Result<Vec<ProbeRecord>, DbError> {
        self.rows(
            &format!("read job {job}'s proposal probes"),
            &format!("SELECT {PROBE_COLUMNS} FROM proposal_probes WHERE job = $1 ORDER BY id"),
            &[&job],
            |r| {
                Ok(ProbeRecord {
                    job: r.try_get(0)?,
                    model: r.try_get(1)?,
                    parent_predicted: r.try_get(2)?,
                    proposal_predicted: r.try_get(3)?,
                    random_predicted: r.try_get(4)?,
                    duplicate: r.try_get(5)?,
                    measured: r.try_get(6)?,
                    proposal_ms: r.try_get(7)?,
                    random_ms: r.try_get(8)?,
                    created_unix: r.try_get(9)?,
                })
            },
        )
    }

    fn snapshot(&self, job: JobId) -> Result<Option<Vec<u8>>, DbError> {
        if self.job(job)?.is_none() {
            return Err(self.no_such_job(job));
        }
        self.row(&format!("read job {job}'s snapshot"), "SELECT bytes FROM snapshots WHERE job = $1", &[&job], |r| {
            Ok(r.try_get(0)?)
        })
    }

    fn set_baseline(&mut self, job: JobId, ms: f64) -> Result<(), DbError> {
        let changed = self.execute(
            &format!("set job {job}'s baseline"),
            "UPDATE jobs SET baseline_ms = $2 WHERE id = $1",
            &[&job, &ms],
        )?;
        self.changed_job(job, changed)
    }

    fn baseline(&self, job: JobId) -> Result<Option<f64>, DbError> {
        self.row(&format!("read job {job}'s baseline"), "SELECT baseline_ms FROM jobs WHERE id = $1", &[&job], |r| {
            Ok(r.try_get(0)?)
        })?
        .ok_or_else(|| self.no_such_job(job))
    }

    fn failure_counts(&self) -> Result<Vec<(String, u64)>, DbError> {
        self.rows(
            "count the failed trials",
            "SELECT split_part(failure, ':', 1), count(*) FROM trials WHERE failure IS NOT NULL GROUP BY 1 ORDER BY 1",
            &[],
            |row| Ok((row.try_get(0)?, unbits(row.try_get::<_, i64>(1)?))),
        )
    }

    fn claim_job(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<Claim, DbError> {
        PostgresDb::claim_job(self, id, owner, lease)
    }

    fn renew_lease(&mut self, id: JobId, owner: &Owner, lease: Duration) -> Result<bool, DbError> {
        PostgresDb::renew_lease(self, id, owner, lease)
    }

    fn release_job(&mut self, id: JobId, owner: &Owner) -> Result<(), DbError> {
        PostgresDb::release_job(self, id, owner)
    }

    fn import_job(&mut self, row: &JobRow, baseline: Option<f64>) -> Result<bool, DbError> {
        let j = &row.job;
        let state = crate::copy::imported_state(row.state).as_str();
        self.run(&format!("import job {}", row.id), |c| {
            let mut tx = c.transaction()?;
            let inserted = tx.execute(
                "INSERT INTO jobs (id, workload, workload_text, workload_fingerprint, target, strategy, trials, seed, \
                 options_json, state, error, created_unix, updated_unix, baseline_ms, crashes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING",
                &[
                    &row.id,
                    &j.workload,
                    &j.workload_text,
                    &j.workload_fingerprint,
                    &j.target,
                    &j.strategy,
                    &bits(j.trials),
                    &bits(j.seed),
                    &j.options_json,
                    &state,
                    &row.error,
                    &row.created_unix,
                    &row.updated_unix,
                    &baseline,
                    &i64::from(row.crashes),
                ],
            )? == 1;
            // Ids given explicitly do not move the identity: new jobs must
            // start above every imported one.
            tx.execute("SELECT setval(pg_get_serial_sequence('jobs', 'id'), (SELECT MAX(id) FROM jobs))", &[])?;
            tx.commit()?;
            Ok(inserted)
        })
    }

    fn import_model_job(&mut self, row: &ModelJobRow) -> Result<bool, DbError> {
        let state = crate::copy::imported_state(row.state).as_str();
        self.run(&format!("import model job {}", row.id), |c| {
            let mut tx = c.transaction()?;
            let inserted = tx.execute(
                "INSERT INTO model_jobs (id, model, spec_json, progress_json, state, error, created_unix, updated_unix) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                &[
                    &row.id,
                    &row.job.model,
                    &row.job.spec_json,
                    &row.progress_json,
                    &state,
                    &row.error,
                    &row.created_unix,
                    &row.updated_unix,
                ],
            )? == 1;
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('model_jobs', 'id'), (SELECT MAX(id) FROM model_jobs))",
                &[],
            )?;
            tx.commit()?;
            Ok(inserted)
        })
    }

    fn worker_heartbeat(&mut self, worker: &Owner, listen: &str, labels: &[String]) -> Result<(), DbError> {
        PostgresDb::worker_heartbeat(self, worker, listen, labels)
    }

    fn worker_gone(&mut self, worker: &Owner) -> Result<(), DbError> {
        PostgresDb::worker_gone(self, worker)
    }

    fn live_workers(&self, within: Duration) -> Result<Vec<WorkerRow>, DbError> {
        PostgresDb::live_workers(self, within)
    }

    fn job_claims(&self, id: JobId) -> Result<Vec<ClaimRecord>, DbError> {
        PostgresDb::job_claims(self, id)
    }

    fn next_job_to_run(&self, targets: &[String]) -> Result<Option<JobRow>, DbError> {
        PostgresDb::next_job_to_run(self, targets)
    }

    fn claim_next_job(
        &mut self,
        owner: &Owner,
        targets: &[String],
        lease: Duration,
    ) -> Result<Option<JobRow>, DbError> {
        PostgresDb::claim_next_job(self, owner, targets, lease)
    }

    fn unfinished_jobs(&self) -> Result<u64, DbError> {
        self.count("count the unfinished jobs", "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
    }

    fn create_model_job(&mut self, job: &NewModelJob) -> Result<ModelJobId, DbError> {
        let now = now_unix();
        self.run(&format!("create a model job for `{}`", job.model), |c| {
            let row = c.query_one(
                "INSERT INTO model_jobs (model, spec_json, state, created_unix, updated_unix) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
                &[&job.model, &job.spec_json, &JobState::Queued.as_str(), &now],
            )?;
            Ok(row.try_get(0)?)
        })
    }

    fn model_job(&self, id: ModelJobId) -> Result<Option<ModelJobRow>, DbError> {
        let sql = format!("SELECT {MODEL_JOB_COLUMNS} FROM model_jobs WHERE id = $1");
        self.row(&format!("read model job {id}"), &sql, &[&id], model_job_from_row)
    }

    fn model_jobs(&self) -> Result<Vec<ModelJobRow>, DbError> {
        let sql = format!("SELECT {MODEL_JOB_COLUMNS} FROM model_jobs ORDER BY id");
        self.rows("list the model jobs", &sql, &[], model_job_from_row)
    }

    fn next_model_job_to_run(&self) -> Result<Option<ModelJobRow>, DbError> {
        let sql = format!(
            "SELECT {MODEL_JOB_COLUMNS} FROM model_jobs WHERE state IN ('running', 'queued') \
             ORDER BY state = 'queued', id LIMIT 1"
        );
        self.row("find the next model job to run", &sql, &[], model_job_from_row)
    }

    fn claim_next_model_job(&mut self) -> Result<Option<ModelJobRow>, DbError> {
        let sql = format!(
            "SELECT {MODEL_JOB_COLUMNS} FROM model_jobs WHERE state IN ('running', 'queued') \
             ORDER BY state = 'queued', id"
        );
        for row in self.rows("find model jobs to run", &sql, &[], model_job_from_row)? {
            let key = model_job_lock(row.id);
            let locked = self.run(&format!("lock model job {}", row.id), |c| {
                Ok(c.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&key.0, &key.1])?.try_get::<_, bool>(0)?)
            })?;
            if locked {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    fn release_model_job(&mut self, id: ModelJobId) -> Result<(), DbError> {
        let key = model_job_lock(id);
        self.run(&format!("unlock model job {id}"), |c| {
            c.query_one("SELECT pg_advisory_unlock($1, $2)", &[&key.0, &key.1])?;
            Ok(())
        })
    }

    fn unfinished_model_jobs(&self) -> Result<u64, DbError> {
        self.count(
            "count the unfinished model jobs",
            "SELECT COUNT(*) FROM model_jobs WHERE state IN ('queued', 'running')",
        )
    }

    fn set_model_job_state(&mut self, id: ModelJobId, state: JobState, error: Option<&str>) -> Result<(), DbError> {
        let changed = self.execute(
            &format!("set model job {id}'s state to {state}"),
            "UPDATE model_jobs SET state = $2, error = $3, updated_unix = $4 WHERE id = $1",
            &[&id, &state.as_str(), &error, &now_unix()],
        )?;
        self.changed_model_job(id, changed)
    }

    fn set_model_job_progress(&mut self, id: ModelJobId, progress_json: &str) -> Result<(), DbError> {
        let changed = self.execute(
            &format!("record model job {id}'s progress"),
            "UPDATE model_jobs SET progress_json = $2, updated_unix = $3 WHERE id = $1",
            &[&id, &progress_json, &now_unix()],
        )?;
        self.changed_model_job(id, changed)
    }

    fn summary(&self) -> Result<DbSummary, DbError> {
        let schema_version = self.run("read the schema version", |c| {
            Ok(c.query_one("SELECT version FROM colt_schema", &[])?.try_get::<_, i64>(0)?)
        })?;
        Ok(DbSummary {
            schema_version,
            jobs: self.count("count the jobs", "SELECT COUNT(*) FROM jobs")?,
            trials: self.count("count the trials", "SELECT COUNT(*) FROM trials")?,
            snapshots: self.count("count the snapshots", "SELECT COUNT(*) FROM snapshots")?,
        })
    }

    /// What colt can check of its rows (every job's state known, every
    /// trial's job present); the server checks its pages itself.
    fn integrity_check(&self) -> Result<Vec<String>, DbError> {
        let known: Vec<String> = JobState::ALL.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let mut problems = Vec::new();
        let unknown = self.count(
            "check the jobs' states",
            &format!("SELECT COUNT(*) FROM jobs WHERE state NOT IN ({})", known.join(", ")),
        )?;
        if unknown > 0 {
            problems.push(format!("{unknown} jobs have an unknown state"));
        }
        let orphans = self.count(
            "check the trials' jobs",
            "SELECT COUNT(*) FROM trials WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = trials.job)",
        )?;
        if orphans > 0 {
            problems.push(format!("{orphans} trials name no job"));
        }
        if problems.is_empty() {
            problems.push("ok".to_string());
        }
        Ok(problems)
    }

    fn backup_to(&self, _dest: &Path) -> Result<DbSummary, DbError> {
        Err(DbError::Unsupported {
            path: self.path.clone(),
            what: "a file backup".into(),
            instead: "back the server up with `pg_dump`".into(),
        })
    }

    fn relabel_target(&mut self, from: &str, to: &str) -> Result<(u64, u64), DbError> {
        self.run(&format!("relabel target `{from}` as `{to}`"), |c| {
            let mut tx = c.transaction()?;
            let jobs = tx.execute("UPDATE jobs SET target = $2 WHERE target = $1", &[&from, &to])?;
            let trials = tx.execute("UPDATE trials SET target = $2 WHERE target = $1", &[&from, &to])?;
            tx.commit()?;
            Ok((jobs, trials))
        })
    }
}
