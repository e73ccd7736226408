//! `colt serve`: the tuning daemon. An HTTP JSON API (actix-web) in front
//! of the same actors as `colt tune` ([`colt_actors::Colt`]), with jobs kept
//! in the tuning database so that they survive restarts.
//!
//! - Jobs run one at a time (one target, the CPU: measurements must not
//!   overlap on the measured cores), oldest first. A job's row is written
//!   when it is submitted (`queued`); the scheduler marks it `running`, and
//!   every measured trial and every round's tree snapshot are in the
//!   database before anything else hears of them. After a crash, a
//!   restarted daemon resumes `running` jobs from their last snapshot and
//!   their recorded trials (nothing is measured twice), then the queued
//!   ones. SIGTERM (or Ctrl-C) stops the running job after its current step,
//!   leaves it `running` so that the next start resumes it, and exits.
//! - The server must not steal the measured cores: its workers are few (2),
//!   run at nice +10 (a kernel's timed threads, at nice 0, win a contended
//!   core), and do little per request (database reads go through the
//!   database actor; every answer is small). See the README's `colt serve`
//!   section for the load test that checks it.
//! - Safety: loopback by default; any other address needs `--token-file`
//!   (a bearer token, compared in constant time); bodies over 64 KiB are
//!   refused (413); every error is `{"error": "..."}` with its status.

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use anyhow::{bail, Context, Result};
use colt_actors::db::{JobId, JobRow, JobState, NewJob, TrialRecord};
use colt_actors::search::StopReason;
use colt_actors::{Colt, ColtConfig, Event, JobSettings, Lineage, Progress, SearchParams, Strategy, TuneRequest};
use colt_measure::{Builder, CpuConfig, WorkerCommand};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;
/// Most trials one job may ask for.
const MAX_TRIALS: usize = 100_000;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but 127.0.0.1 or [::1] needs
    /// `--token-file`.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// The tuning database: jobs, trials and checkpoints.
    #[arg(long, default_value = "colt.db")]
    pub db: PathBuf,
    /// GGUF models, comma-separated; the default local models when present.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<PathBuf>,
    /// A file holding the bearer token every request must carry.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Most jobs queued or running at once; more are refused (429).
    #[arg(long, default_value_t = 64)]
    pub max_jobs: usize,
    /// Search threads of each job.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file `{}`", path.display()))?;
            let token = text.trim().to_string();
            if token.len() < 16 {
                bail!("the token in `{}` is shorter than 16 characters", path.display());
            }
            Some(token)
        }
        None if !is_default_loopback(args.listen.ip()) => bail!(
            "refusing to listen on {} without a token: an address other than loopback needs --token-file \
             (requests must then carry `Authorization: Bearer <token>`)",
            args.listen
        ),
        None => None,
    };
    let models =
        if !args.models.is_empty() { args.models.clone() } else { colt_llm::default_model_paths().unwrap_or_default() };
    let exe = std::env::current_exe().context("cannot find the colt executable to start its measure worker")?;
    let colt = Colt::start(ColtConfig {
        db: args.db.clone(),
        models,
        llm_threads: std::thread::available_parallelism().map_or(1, |n| n.get()) as u32,
        cpu: CpuConfig::default(),
        worker: WorkerCommand::colt(exe),
        builder: Arc::new(Builder::system()),
        // The daemon tunes for the CPU it runs on (see the module docs).
        opencl: None,
    })?;
    let daemon = Arc::new(Daemon {
        colt,
        db_path: args.db.clone(),
        wake: Condvar::new(),
        state: Mutex::new(DaemonState::default()),
        shutting_down: AtomicBool::new(false),
        max_jobs: args.max_jobs,
        threads: args.threads.max(1),
    });
    let scheduler = {
        let daemon = daemon.clone();
        std::thread::Builder::new().name("scheduler".into()).spawn(move || Daemon::schedule(&daemon))?
    };
    let state = web::Data::new(Api { daemon: daemon.clone(), token });
    let server = HttpServer::new(move || {
        // The factory runs on each worker thread: the HTTP workers give way
        // to the measured kernels' threads (nice 0) when both want a core.
        lower_this_threads_priority();
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|e, _| ApiError::from_json(e).into()))
            .route("/v1/health", web::get().to(health))
            .route("/metrics", web::get().to(metrics))
            .route("/v1/jobs", web::post().to(submit))
            .route("/v1/jobs", web::get().to(list))
            .route("/v1/jobs/{id}", web::get().to(status))
            .route("/v1/jobs/{id}", web::delete().to(cancel))
            .route("/v1/jobs/{id}/events", web::get().to(events))
            .route("/v1/jobs/{id}/kernel", web::get().to(kernel))
            .default_service(web::to(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") }))
    })
    // Two workers: status requests are cheap, and more threads would only
    // compete with the measured cores.
    .workers(2)
    .bind(args.listen)
    .with_context(|| format!("cannot listen on {}", args.listen))?
    .shutdown_timeout(5);
    eprintln!("colt serve: listening on http://{} (database `{}`)", args.listen, args.db.display());
    // actix-web stops on SIGTERM and SIGINT (gracefully: requests in flight
    // finish); then the running job is stopped and checkpointed.
    actix_web::rt::System::new().block_on(server.run()).context("the HTTP server failed")?;
    daemon.shutting_down.store(true, Ordering::SeqCst);
    if let Some(stop) = daemon.state.lock().running.as_ref().map(|r| r.stop.clone()) {
        stop.store(true, Ordering::SeqCst);
    }
    daemon.wake.notify_all();
    let _ = scheduler.join();
    eprintln!("colt serve: stopped");
    Ok(())
}

struct Daemon {
    colt: Colt,
    db_path: PathBuf,
    /// Wakes the scheduler when a job is submitted or the daemon stops.
    wake: Condvar,
    state: Mutex<DaemonState>,
    shutting_down: AtomicBool,
    max_jobs: usize,
    threads: usize,
}

#[derive(Default)]
struct DaemonState {
    running: Option<Running>,
    /// Jobs cancelled while queued or running.
    cancelled: Vec<JobId>,
    /// Event subscribers of jobs that have not started yet: they become the
    /// running job's listeners when it starts.
    waiting: HashMap<JobId, Vec<tokio::sync::mpsc::UnboundedSender<String>>>,
    /// Calls and tokens per model of the jobs this process finished.
    calls: BTreeMap<String, u64>,
    tokens: BTreeMap<String, u64>,
}

struct Running {
    job: JobId,
    stop: Arc<AtomicBool>,
    progress: Option<Progress>,
    naive_ms: Option<f64>,
    /// Subscribers of the job's server-sent events.
    listeners: Vec<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl Daemon {
    /// Runs jobs one at a time: interrupted (`running`) ones first, then
    /// queued ones, oldest first.
    fn schedule(self: &Arc<Self>) {
        while !self.shutting_down.load(Ordering::SeqCst) {
            let next = self.colt.db().call(|db| db.jobs()).ok().and_then(|r| r.ok()).and_then(|jobs| {
                let pick = |state| jobs.iter().find(|j| j.state == state).cloned();
                pick(JobState::Running).or_else(|| pick(JobState::Queued))
            });
            match next {
                Some(job) => self.run_job(job),
                None => {
                    let mut state = self.state.lock();
                    self.wake.wait_for(&mut state, Duration::from_secs(1));
                }
            }
        }
    }

    fn run_job(self: &Arc<Self>, row: JobRow) {
        let id = row.id;
        let request = match request_of(&row, self.threads) {
            Ok(r) => r,
            Err(e) => {
                let message = format!("{e:#}");
                let _ = self.colt.db().call(move |db| db.set_job_state(id, JobState::Failed, Some(&message)));
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut state = self.state.lock();
            if state.cancelled.contains(&id) {
                end_stream(state.waiting.remove(&id).unwrap_or_default(), id, "cancelled", None);
                drop(state);
                let _ = self.colt.db().call(move |db| db.set_job_state(id, JobState::Cancelled, None));
                return;
            }
            let listeners = state.waiting.remove(&id).unwrap_or_default();
            state.running = Some(Running { job: id, stop: stop.clone(), progress: None, naive_ms: None, listeners });
        }
        let (events, inbox) = crossbeam_channel::unbounded();
        let relay = self.relay(inbox);
        let result = self.colt.tune(request, events, stop, |_| Ok(()));
        let _ = relay.join();
        let mut state = self.state.lock();
        let running = state.running.take();
        let cancelled = state.cancelled.contains(&id);
        if let Ok(result) = &result {
            for m in &result.outcome.models {
                *state.calls.entry(m.name.clone()).or_default() += m.calls;
                *state.tokens.entry(m.name.clone()).or_default() += m.tokens;
            }
        }
        drop(state);
        let final_state = match &result {
            Ok(_) if cancelled => Some(JobState::Cancelled),
            // Stopped by the daemon's shutdown: left `running`, so that the
            // next start resumes it.
            Ok(r) if r.outcome.reason == StopReason::Stopped => Some(JobState::Running),
            Ok(_) => None,
            // `tune` marks a job whose search failed; this covers the
            // failures before it (so the job is not picked again forever).
            Err(_) => Some(JobState::Failed),
        };
        if let Some(s) = final_state {
            let error = result.as_ref().err().map(|e| e.to_string());
            let _ = self.colt.db().call(move |db| db.set_job_state(id, s, error.as_deref()));
        }
        if let Some(running) = running {
            let state = final_state.map_or_else(
                || if result.is_ok() { "done".to_string() } else { "failed".to_string() },
                |s| s.to_string(),
            );
            end_stream(running.listeners, id, &state, result.as_ref().err().map(|e| e.to_string()));
        }
    }

    /// Keeps the running job's progress for status requests and passes it
    /// on to event subscribers.
    fn relay(self: &Arc<Self>, inbox: crossbeam_channel::Receiver<Event>) -> std::thread::JoinHandle<()> {
        let daemon = self.clone();
        std::thread::spawn(move || {
            for event in inbox {
                let text = match &event {
                    Event::Progress(p) => format!("event: progress\ndata: {}\n\n", json(p)),
                    Event::Trial(t) => format!("event: trial\ndata: {}\n\n", json(t)),
                    Event::Baseline(ms) => format!("event: baseline\ndata: {{\"naive_ms\": {ms}}}\n\n"),
                    Event::Warning(w) => format!("event: warning\ndata: {}\n\n", json(w)),
                    Event::Checkpoint(_) => continue,
                };
                let mut s = daemon.state.lock();
                if let Some(r) = s.running.as_mut() {
                    match event {
                        Event::Progress(p) => r.progress = Some(p),
                        Event::Baseline(ms) => r.naive_ms = Some(ms),
                        _ => {}
                    }
                    r.listeners.retain(|l| l.send(text.clone()).is_ok());
                }
            }
        })
    }
}

/// Nice +10 for the calling thread (Linux gives each thread its own nice
/// value; `who = 0` names the caller). A failure only costs priority.
fn lower_this_threads_priority() {
    // SAFETY: setpriority reads no memory of ours; PRIO_PROCESS with 0 is
    // the calling thread on Linux.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
}

/// 127.0.0.1 and ::1 only: other addresses of 127.0.0.0/8 are reachable
/// from containers and namespaces that share the host's loopback, so they
/// need a token like any other address.
fn is_default_loopback(ip: std::net::IpAddr) -> bool {
    ip == std::net::Ipv4Addr::LOCALHOST || ip == std::net::Ipv6Addr::LOCALHOST
}

/// The last event of a job's stream; dropping the senders then ends it.
fn end_stream(
    listeners: Vec<tokio::sync::mpsc::UnboundedSender<String>>,
    job: JobId,
    state: &str,
    error: Option<String>,
) {
    let end = serde_json::json!({"job": job, "state": state, "error": error});
    for l in listeners {
        let _ = l.send(format!("event: end\ndata: {end}\n\n"));
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// What a job row asks for, as a tune request (resuming the row itself).
fn request_of(row: &JobRow, threads: usize) -> Result<TuneRequest> {
    let program = colt_ir::parse_workload(&row.job.workload_text, &row.job.workload, colt_ir::Size::Bench)
        .with_context(|| format!("job {}'s workload no longer parses", row.id))?;
    let options: JobOptions = serde_json::from_str(&row.job.options_json).unwrap_or_default();
    Ok(TuneRequest {
        workload: row.job.workload.clone(),
        program: Arc::new(program),
        target: row.job.target.clone(),
        settings: JobSettings {
            strategy: row.job.strategy.parse()?,
            trials: row.job.trials as usize,
            llm_calls: options.llm_calls,
            wall: options.wall_s.map(Duration::from_secs_f64),
            threads,
            seed: row.job.seed,
            params: options.params.unwrap_or_default(),
        },
        resume: Some(row.id),
        start_from_known: false,
        naive_ms: None,
    })
}

/// A job's options beyond its row's columns.
#[derive(Default, Serialize, Deserialize)]
struct JobOptions {
    llm_calls: Option<u64>,
    wall_s: Option<f64>,
    params: Option<SearchParams>,
}

// ---- the HTTP API --------------------------------------------------------

struct Api {
    daemon: Arc<Daemon>,
    token: Option<String>,
}

/// An API error: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }

    fn from_json(e: actix_web::error::JsonPayloadError) -> ApiError {
        use actix_web::error::JsonPayloadError as J;
        match e {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {BODY_LIMIT} bytes"))
            }
            J::ContentType => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json"),
            other => ApiError::bad(format!("the body is not a valid job: {other}")),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({ "error": self.message }))
    }
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

/// Equal in time whatever the first difference: a token is not guessed a
/// byte at a time from response times.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff));
    }
    diff == 0
}

impl Api {
    fn authorize(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(token) = &self.token else { return Ok(()) };
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if constant_time_eq(given.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"))
        }
    }

    /// Runs `f` on the database actor, off the server's threads.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut colt_actors::db::TuningDb) -> Result<T, colt_actors::db::DbError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.daemon.colt.db().clone();
        web::block(move || db.call(f))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    async fn job(&self, id: JobId) -> Result<JobRow, ApiError> {
        self.db(move |db| db.job(id)).await?.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no job {id}")))
    }

    /// A job as the API shows it: its row, and live progress when running.
    fn view(&self, row: &JobRow) -> serde_json::Value {
        let state = self.daemon.state.lock();
        let live = state.running.as_ref().filter(|r| r.job == row.id);
        let state_text = match (row.state, live) {
            (JobState::Running, None) => "queued".to_string(), // interrupted, waiting to resume
            (s, _) => s.to_string(),
        };
        let trials = live.and_then(|r| r.progress.as_ref()).map_or(row.trials_done as usize, |p| p.trials);
        let best = live.and_then(|r| r.progress.as_ref()).and_then(|p| p.best_ms).or(row.best_ms);
        let naive = live.and_then(|r| r.naive_ms);
        serde_json::json!({
            "id": row.id,
            "workload": row.job.workload,
            "target": row.job.target,
            "strategy": row.job.strategy,
            "state": state_text,
            "trials": trials,
            "trial_budget": row.job.trials,
            "best_ms": best,
            "naive_ms": naive,
            "speedup": naive.zip(best).map(|(n, b)| n / b),
            "llm_calls": live.and_then(|r| r.progress.as_ref()).map(|p| p.llm_calls.clone()),
            "error": row.error,
            "created_unix": row.created_unix,
            "updated_unix": row.updated_unix,
        })
    }
}

fn parse_id(req: &HttpRequest) -> Result<JobId, ApiError> {
    let text = req.match_info().get("id").unwrap_or("");
    text.parse().map_err(|_| ApiError::new(StatusCode::NOT_FOUND, format!("no job `{text}`")))
}

async fn health(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let running = api.daemon.state.lock().running.as_ref().map(|r| r.job);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "running_job": running,
        "models": api.daemon.colt.models(),
        "database": api.daemon.db_path,
    })))
}

/// A job to submit.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Submit {
    /// A built-in workload's name, or...
    workload: Option<String>,
    /// ...a workload in colt's text format.
    workload_text: Option<String>,
    target: Option<String>,
    strategy: Option<String>,
    trials: Option<usize>,
    seed: Option<u64>,
    llm_calls: Option<u64>,
    wall_s: Option<f64>,
}

async fn submit(req: HttpRequest, api: web::Data<Api>, body: web::Json<Submit>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let body = body.into_inner();
    let program = match (&body.workload, &body.workload_text) {
        (Some(name), None) => colt_ir::builtin(name)
            .map(|w| w.program(colt_ir::Size::Bench))
            .ok_or_else(|| ApiError::bad(format!("no built-in workload `{name}` (see `colt workloads`)")))?,
        (None, Some(text)) => colt_ir::parse_workload(text, "workload_text", colt_ir::Size::Bench)
            .map_err(|e| ApiError::bad(format!("workload_text does not parse: {e}")))?,
        _ => return Err(ApiError::bad("give exactly one of `workload` (a built-in name) and `workload_text`")),
    };
    let target = body.target.unwrap_or_else(|| "cpu".into());
    if target != "cpu" {
        return Err(ApiError::bad(format!(
            "target `{target}`: the daemon tunes for `cpu` only (colt has no OpenCL schedule space yet)"
        )));
    }
    let strategy: Strategy = body
        .strategy
        .as_deref()
        .unwrap_or("colt")
        .parse()
        .map_err(|e: colt_actors::search::StrategyParseError| ApiError::bad(e.to_string()))?;
    if strategy.uses_models() && api.daemon.colt.models().is_empty() {
        return Err(ApiError::bad(format!(
            "strategy `{strategy}` needs models and the daemon has none (start it with --models, or fetch the defaults)"
        )));
    }
    let trials = body.trials.unwrap_or(64);
    if !(1..=MAX_TRIALS).contains(&trials) {
        return Err(ApiError::bad(format!("trials must be in 1..={MAX_TRIALS}, not {trials}")));
    }
    let unfinished = api
        .db(|db| db.jobs())
        .await?
        .iter()
        .filter(|j| matches!(j.state, JobState::Queued | JobState::Running))
        .count();
    if unfinished >= api.daemon.max_jobs {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{unfinished} jobs are queued or running (--max-jobs {})", api.daemon.max_jobs),
        ));
    }
    let options = JobOptions { llm_calls: body.llm_calls, wall_s: body.wall_s, params: Some(SearchParams::default()) };
    let job = NewJob {
        workload: body.workload.clone().unwrap_or_else(|| program.name().to_string()),
        workload_text: colt_ir::print_program(&program),
        workload_fingerprint: colt_actors::search::workload_fingerprint(&program),
        target,
        strategy: strategy.to_string(),
        trials: trials as u64,
        seed: body.seed.unwrap_or(0),
        options_json: serde_json::to_string(&options).map_err(ApiError::internal)?,
    };
    let id = api.db(move |db| db.create_job(&job)).await?;
    api.daemon.wake.notify_all();
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/jobs/{id}")))
        .json(serde_json::json!({"id": id, "state": "queued"})))
}

async fn list(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let jobs = api.db(|db| db.jobs()).await?;
    let views: Vec<_> = jobs.iter().map(|j| api.view(j)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "jobs": views })))
}

async fn status(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let row = api.job(parse_id(&req)?).await?;
    Ok(HttpResponse::Ok().json(api.view(&row)))
}

async fn cancel(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    let row = api.job(id).await?;
    if !matches!(row.state, JobState::Queued | JobState::Running) {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("job {id} is already {}", row.state)));
    }
    let running_now = {
        let mut state = api.daemon.state.lock();
        state.cancelled.push(id);
        match state.running.as_ref().filter(|r| r.job == id) {
            Some(r) => {
                r.stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    };
    if !running_now {
        api.db(move |db| db.set_job_state(id, JobState::Cancelled, None)).await?;
        let waiting = api.daemon.state.lock().waiting.remove(&id).unwrap_or_default();
        end_stream(waiting, id, "cancelled", None);
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({"id": id, "state": "cancelled"})))
}

async fn events(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    let row = api.job(id).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let first = format!("event: state\ndata: {}\n\n", api.view(&row));
    let _ = tx.send(first);
    {
        let mut state = api.daemon.state.lock();
        match state.running.as_mut().filter(|r| r.job == id) {
            Some(r) => r.listeners.push(tx),
            // Queued (or interrupted, waiting to resume): the stream waits
            // for the job to start.
            None if matches!(row.state, JobState::Queued | JobState::Running) => {
                state.waiting.entry(id).or_default().push(tx)
            }
            // Finished: the stream ends after its state.
            None => drop(tx),
        }
    }
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|text| (Ok::<_, actix_web::Error>(web::Bytes::from(text)), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(stream))
}

async fn kernel(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    let row = api.job(id).await?;
    let trials: Vec<TrialRecord> = api.db(move |db| db.job_trials(id)).await?;
    let best = trials
        .into_iter()
        .filter(|t| t.verified && t.median_ms.is_some())
        .min_by(|a, b| a.median_ms.unwrap_or(f64::MAX).total_cmp(&b.median_ms.unwrap_or(f64::MAX)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("job {id} has no verified kernel yet")))?;
    let program = colt_ir::parse_workload(&row.job.workload_text, &row.job.workload, colt_ir::Size::Bench)
        .map_err(ApiError::internal)?;
    let lineage = Lineage { seed: best.seed, edits: best.edits.clone() };
    let candidate = lineage.rebuild(&Arc::new(program)).map_err(ApiError::internal)?;
    let nest = colt_ir::schedule::lower(&candidate);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "job": id,
        "workload": row.job.workload,
        "best_ms": best.median_ms,
        "fingerprint": format!("{:016x}", best.fingerprint),
        "model": best.model,
        "lineage": {"seed": lineage.seed, "edits": lineage.edits},
        "decisions": candidate.render(),
        "source": nest.to_c(),
        "scratch": nest.scratch,
    })))
}

async fn metrics(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    use std::fmt::Write;
    api.authorize(&req)?;
    let jobs = api.db(|db| db.jobs()).await?;
    let failures = api.db(|db| db.failure_counts()).await?;
    let mut by_state: HashMap<&str, u64> = JobState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for j in &jobs {
        *by_state.entry(j.state.as_str()).or_default() += 1;
    }
    let (mut calls, mut tokens) = {
        let s = api.daemon.state.lock();
        (s.calls.clone(), s.tokens.clone())
    };
    let trials: u64 = jobs.iter().map(|j| j.trials_done).sum();
    if let Some(p) = api.daemon.state.lock().running.as_ref().and_then(|r| r.progress.clone()) {
        for (m, n) in &p.llm_calls {
            *calls.entry(m.clone()).or_default() += n;
        }
        for (m, n) in &p.llm_tokens {
            *tokens.entry(m.clone()).or_default() += n;
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "# HELP colt_jobs Jobs in the tuning database, by state.\n# TYPE colt_jobs gauge");
    let mut states: Vec<_> = by_state.into_iter().collect();
    states.sort();
    for (state, n) in states {
        let _ = writeln!(out, "colt_jobs{{state=\"{state}\"}} {n}");
    }
    let _ =
        writeln!(out, "# HELP colt_trials_total Measured candidates of all jobs.\n# TYPE colt_trials_total counter");
    let _ = writeln!(out, "colt_trials_total {trials}");
    let _ = writeln!(
        out,
        "# HELP colt_llm_calls_total Model calls since the daemon started.\n# TYPE colt_llm_calls_total counter"
    );
    for (m, n) in &calls {
        let _ = writeln!(out, "colt_llm_calls_total{{model=\"{}\"}} {n}", label(m));
    }
    let _ = writeln!(out, "# HELP colt_llm_tokens_total Prompt and generated tokens since the daemon started.\n# TYPE colt_llm_tokens_total counter");
    for (m, n) in &tokens {
        let _ = writeln!(out, "colt_llm_tokens_total{{model=\"{}\"}} {n}", label(m));
    }
    let _ = writeln!(out, "# HELP colt_measurement_failures_total Failed trials of all jobs, by kind.\n# TYPE colt_measurement_failures_total counter");
    for (kind, n) in &failures {
        let _ = writeln!(out, "colt_measurement_failures_total{{kind=\"{}\"}} {n}", label(kind));
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(out))
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnoq"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmno"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(!constant_time_eq(b"abc\xff", b"abc"));
    }

    #[test]
    fn prometheus_labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
