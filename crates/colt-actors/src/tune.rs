//! [`Colt::tune`]: one tuning job on a running [`Colt`] — its database row
//! created or resumed, its search run by a job actor, its state written
//! when it ends.

use crate::colt::{Colt, ColtError};
use crate::job_actor::{JobActor, RunJob};
use crate::services::{past_trial_of, ActorProposer, ActorRunner, DbRecorder};
use crate::system::ask;
use colt_db::{Claim, JobId, JobState, NewJob, Owner, LEASE, LEASE_RENEWAL};
use colt_ir::Program;
use colt_measure::Target;
use colt_search::{Event, JobSettings, JobSpec, KnownRecord, Outcome, Resume, SearchError, StopReason, WarmRecord};
use crossbeam_channel::Sender;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Earlier jobs' best records a new job starts from.
const KNOWN_RECORDS: usize = 8;

/// Other workloads' records a job's cost model warms up on, at most: the
/// newest (a fit on 2,000 rows takes about 0.1 s, once per round).
const WARM_RECORDS: usize = 2000;

/// One tuning job to run.
#[derive(Clone)]
pub struct TuneRequest {
    /// The workload; the job is known in the database by the name it
    /// declares (`workload my-layer`), not by the file it came from.
    pub program: Arc<Program>,
    pub target: Target,
    pub settings: JobSettings,
    /// Continue this job of the database instead of starting one.
    pub resume: Option<JobId>,
    /// Start from the database's best records of this workload and target.
    pub start_from_known: bool,
    /// Warm the cost model up on the database's records of other workloads
    /// on this target.
    pub warm_start: bool,
    /// The naive kernel's latency when the caller measured it already (a
    /// bench runs many jobs on one workload): not measured again.
    pub naive_ms: Option<f64>,
}

pub struct TuneResult {
    pub job: JobId,
    /// The target label the job's records carry (this host's hardware).
    pub target: String,
    /// Earlier records of the workload on that label the job started
    /// from: how many, the fastest and its job.
    pub started_from: Option<(usize, f64, JobId)>,
    pub outcome: Outcome,
}

impl Colt {
    /// Runs one tuning job to its end (or until `stop` is set) and returns
    /// its outcome; `events` receives its progress. `on_job` learns the
    /// job's id once its database row exists, before anything is measured
    /// (to write down how to resume it); its error aborts the job.
    pub fn tune(
        &self,
        request: TuneRequest,
        events: Sender<Event>,
        stop: Arc<AtomicBool>,
        on_job: impl FnOnce(JobId) -> Result<(), String>,
    ) -> Result<TuneResult, ColtError> {
        let workload_fingerprint = colt_ir::workload_fingerprint(&request.program);
        // The opened device's target, driver named, labels the job.
        let target = match &request.target {
            Target::Cpu => Target::Cpu,
            asked => match &self.opencl {
                None => return Err(ColtError::NoOpenClDevice { target: asked.label() }),
                Some(opened) if !asked.is_served_by(opened) => {
                    return Err(ColtError::OtherDevice { target: asked.label(), serves: opened.label() })
                }
                Some(opened) => opened.clone(),
            },
        };
        let (job, resume, naive_ms) = match request.resume {
            Some(job) => self.resumed(job, &request, &target, &workload_fingerprint)?,
            None => {
                let new = NewJob {
                    workload: request.program.name().to_string(),
                    workload_text: colt_ir::print_program(&request.program),
                    workload_fingerprint: workload_fingerprint.clone(),
                    target: target.label(),
                    strategy: request.settings.strategy.to_string(),
                    trials: request.settings.trials as u64,
                    seed: request.settings.seed,
                    options_json: serde_json::json!({
                        "threads": request.settings.threads,
                        "llm_calls": request.settings.llm_calls,
                        "wall_s": request.settings.wall.map(|w| w.as_secs_f64()),
                        "params": request.settings.params,
                        "models": self.models(),
                    })
                    .to_string(),
                };
                (self.db.call(move |db| db.create_job(&new))??, None, None)
            }
        };
        // Nothing is measured before the job is this process's: a job a
        // live process runs is refused, not run twice at once.
        let _lease = self.claim(job, stop.clone())?;
        let mut started_from = None;
        let known = if request.start_from_known && resume.is_none() {
            let (fp, label) = (workload_fingerprint.clone(), target.label());
            let best = self.db.call(move |db| db.best_trials(&fp, &label, KNOWN_RECORDS))??;
            let best: Vec<_> = best.into_iter().filter(|t| t.job != job).collect();
            // best_trials is fastest first.
            started_from = best.first().and_then(|t| Some((best.len(), t.median_ms?, t.job)));
            best.into_iter()
                .filter_map(|t| {
                    let lineage = colt_ir::schedule::Lineage { sampler: t.sampler, seed: t.seed, edits: t.edits };
                    t.median_ms.map(|latency_ms| KnownRecord { lineage, fingerprint: t.fingerprint, latency_ms })
                })
                .collect()
        } else {
            Vec::new()
        };
        let warm = if request.warm_start {
            let (fp, label) = (workload_fingerprint.clone(), target.label());
            warm_records(self.db.call(move |db| db.other_workloads_trials(&label, &fp, WARM_RECORDS))??)
        } else {
            Vec::new()
        };
        if resume.is_some() {
            let trials = request.settings.trials as u64;
            self.db.call(move |db| db.set_job_trials(job, trials))??;
        }
        on_job(job).map_err(ColtError::OnJob)?;
        self.db.call(move |db| db.set_job_state(job, JobState::Running, None))??;
        let label = target.label();
        let roofline = self.job_roofline(&target)?;
        let spec = JobSpec {
            job,
            workload: request.program.name().to_string(),
            workload_fingerprint,
            target,
            program: request.program.clone(),
            models: self.models(),
            sampler: self.sampler,
            settings: request.settings.clone(),
            naive_ms: naive_ms.or(request.naive_ms),
            known,
            warm,
            resume,
            roofline,
        };
        let proposer = ActorProposer::new(
            self.models.iter().map(|(m, a)| (m.name.clone(), a.clone())).collect(),
            request.settings.params.answer_tokens,
            stop.clone(),
        );
        let proposer = match self.specialists.is_empty() {
            true => proposer,
            false => proposer.with_specialists(self.specialists.clone(), self.machine_view(&label)?),
        };
        let actor = JobActor {
            spec: Arc::new(spec),
            proposer: Arc::new(proposer),
            runner: Arc::new(ActorRunner { addr: self.measure.clone(), stop: stop.clone() }),
            recorder: Arc::new(DbRecorder { db: self.db.clone() }),
            stop,
            events,
            db: self.db.clone(),
        };
        let addr = self.system.run(move || actix::Actor::start(actor))?;
        let outcome = ask(&addr, "job", |reply| RunJob { reply })?;
        let (state, error) = match &outcome {
            Ok(o) if o.reason == StopReason::Stopped => (JobState::Stopped, None),
            // Stopped before its baseline: nothing of it to lose, resumable.
            Err(SearchError::Stopped { .. }) => (JobState::Stopped, None),
            Ok(_) => (JobState::Done, None),
            Err(e) => (JobState::Failed, Some(e.to_string())),
        };
        self.db.call(move |db| db.set_job_state(job, state, error.as_deref()))??;
        Ok(TuneResult { job, target: label, started_from, outcome: outcome? })
    }

    /// Claims `job` for this process and keeps the claim renewed until the
    /// returned lease is dropped (then released). Losing the claim (another
    /// process took the job over) sets `stop`.
    fn claim(&self, job: JobId, stop: Arc<AtomicBool>) -> Result<Lease, ColtError> {
        let owner = self.owner.clone();
        let db = self.db_path.display().to_string();
        match self.db.call(move |db| db.claim_job(job, &owner, LEASE))?? {
            Claim::Claimed => {}
            Claim::Held { owner, .. } => return Err(ColtError::JobHeld { job, db, owner: owner.to_string() }),
            Claim::GaveUp { reason } => return Err(ColtError::GaveUp { job, db, reason }),
        }
        let (done, renewals) = crossbeam_channel::bounded::<()>(0);
        let (database, owner) = (self.db.clone(), self.owner.clone());
        let renewer = std::thread::Builder::new()
            .name(format!("lease {job}"))
            .spawn(move || {
                while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = renewals.recv_timeout(LEASE_RENEWAL) {
                    let owner = owner.clone();
                    match database.call(move |db| db.renew_lease(job, &owner, LEASE)) {
                        Ok(Ok(true)) => {}
                        Ok(Ok(false)) => {
                            tracing::error!(job, "another process took this job over: stopping it here");
                            stop.store(true, std::sync::atomic::Ordering::SeqCst);
                            return;
                        }
                        // The database is busy or gone: try again at the next
                        // renewal (the lease outlasts three of them).
                        Ok(Err(e)) => tracing::warn!(job, "cannot renew the job's lease: {e}"),
                        Err(_) => return,
                    }
                }
            })
            .map_err(ColtError::System)?;
        Ok(Lease { job, db: self.db.clone(), owner: self.owner.clone(), done: Some(done), renewer: Some(renewer) })
    }

    /// A job of the database to resume: it must be the same workload and
    /// target; its trials, last snapshot and baseline come back.
    fn resumed(
        &self,
        job: JobId,
        request: &TuneRequest,
        target: &Target,
        workload_fingerprint: &str,
    ) -> Result<(JobId, Option<Resume>, Option<f64>), ColtError> {
        let db = self.db_path.display().to_string();
        let row = self.db.call(move |db| db.job(job))??;
        let row = row.ok_or_else(|| ColtError::NoSuchJob { job, db: db.clone() })?;
        if row.job.workload_fingerprint != workload_fingerprint {
            let (found, asked) = (row.job.workload.clone(), request.program.name().to_string());
            return Err(ColtError::ResumeMismatch { job, db, found, asked });
        }
        if row.job.target != target.label() {
            let (found, asked) = (row.job.target.clone(), target.label());
            return Err(ColtError::TargetMismatch { job, db, found, asked });
        }
        let trials = self.db.call(move |db| db.job_trials(job))??;
        let snapshot = self.db.call(move |db| db.snapshot(job))??;
        let naive = self.db.call(move |db| db.baseline(job))??;
        let trials = trials.iter().map(past_trial_of).collect();
        Ok((job, Some(Resume { trials, snapshot }), naive))
    }
}

/// A claimed job: renewed by a thread while it lives, released when
/// dropped (on every way out of [`Colt::tune`]).
struct Lease {
    job: JobId,
    db: crate::db_actor::Db,
    owner: Owner,
    done: Option<crossbeam_channel::Sender<()>>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        let (job, owner) = (self.job, self.owner.clone());
        // A release that fails leaves the claim to run out; the job is
        // then counted as crashed once, which is all that is lost.
        let _ = self.db.call(move |db| db.release_job(job, &owner));
    }
}

/// The database's trials of other workloads as a warm start: each
/// workload's program parsed once from its job's text; a workload whose
/// text no longer parses is left out with a warning.
fn warm_records(rows: Vec<colt_db::WorkloadTrial>) -> Vec<WarmRecord> {
    let mut programs: std::collections::HashMap<String, Option<Arc<Program>>> = std::collections::HashMap::new();
    let mut warm = Vec::with_capacity(rows.len());
    for row in rows {
        let program = programs
            .entry(row.workload_text.clone())
            .or_insert_with(|| match colt_ir::parse_workload(&row.workload_text, &row.workload, colt_ir::Size::Bench) {
                Ok(p) => Some(Arc::new(p)),
                Err(e) => {
                    tracing::warn!(workload = row.workload, "a stored workload no longer parses: {e}");
                    None
                }
            })
            .clone();
        let (Some(program), Some(latency_ms)) = (program, row.trial.median_ms) else { continue };
        let t = row.trial;
        let lineage = colt_ir::schedule::Lineage { sampler: t.sampler, seed: t.seed, edits: t.edits };
        warm.push(WarmRecord { program, lineage, fingerprint: t.fingerprint, latency_ms });
    }
    warm
}
