//! `colt serve`: the HTTP JSON API (actix-web) in front of colt-actors'
//! [`Daemon`], which owns the job queue. Each route is one handler here,
//! one call of the daemon there.
//!
//! - The server must not steal the measured cores: its workers are few (2),
//!   run at nice +10 (a kernel's timed threads, at nice 0, win a contended
//!   core), and do little per request (the daemon's calls run off the
//!   server's threads, in `web::block`). docs/src/hardening.md names the
//!   load test that checks it.
//! - Safety: loopback by default; any other address needs `--token-file`
//!   (`token.rs`: a bearer token in a file only its owner can read,
//!   compared in constant time; the scheme case-insensitive); every
//!   request head is checked before actix-web's dispatcher sees it
//!   (`http_head.rs`); bodies over 64 KiB are refused (413); every error,
//!   the dispatcher's included, is `{"error": "..."}` with its status; one
//!   daemon per database file (`serve_lock.rs`).
//!
//! A new endpoint is a handler below and one `.route` line in `run`.

use actix_service::{IntoServiceFactory, ServiceFactoryExt};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, ResponseError};
use anyhow::{bail, Context, Result};
use colt_actors::daemon::views::JobEvent;
use colt_actors::daemon::{Daemon, JobError, ModelSubmit, Submit, SubmitError};
use colt_actors::{Colt, ColtConfig};
use colt_db::JobId;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// Longest a job's body may take to arrive once its head has (actix
/// bounds the head itself: 5 s by default).
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest the HTTP server waits for requests in flight when told to stop.
const HTTP_DRAIN_S: u64 = 5;

/// Longest `colt serve` takes to exit after SIGTERM or SIGINT, the
/// documented grace period: the running job is told to stop at the signal
/// (every loop of a search polls its stop flag, and a measurement or model
/// call in flight is given up), requests in flight get [`HTTP_DRAIN_S`],
/// and a job that has not ended by the grace's end is queued again by the
/// daemon itself before it exits. Either way the next start resumes it.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but 127.0.0.1 or `[::1]` needs
    /// `--token-file`.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// The tuning database: jobs, trials and checkpoints; a file, or a
    /// PostgreSQL server (`postgres://user@host:port/db`) several hosts share.
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: PathBuf,
    /// GGUF models, comma-separated; the default local models when present.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<PathBuf>,
    /// Layers of each model llama.cpp offloads to a GPU (0: the models run
    /// on the CPU). Needs colt built with `--features cuda` or `vulkan`.
    #[arg(long, default_value_t = 0)]
    pub gpu_layers: u32,
    /// The folder model jobs (`POST /v1/model-jobs`) read GGUF files from:
    /// their `model_path` names a file in it, and nothing else is opened.
    /// Default: the models folder (`models/` of the checkout).
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
    /// A file holding the bearer token every request must carry.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Most jobs queued or running at once; more are refused (429).
    #[arg(long, default_value_t = 64)]
    pub max_jobs: usize,
    /// Search threads of each job.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also tune for an OpenCL device (jobs with `"target": "opencl"`).
    #[command(flatten)]
    pub target: crate::TargetArg,
}

pub fn run(args: ServeArgs) -> Result<()> {
    // The daemon's log is its stderr: library warnings (a model that fails,
    // a record not written) and errors, each naming its job.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_ansi(false)
        .init();
    colt_search::check_count("--threads", args.threads, 1, colt_search::MAX_THREADS, "each job's search threads")?;
    let token = match &args.token_file {
        Some(path) => Some(crate::token::read_token(path)?),
        None if !is_default_loopback(args.listen.ip()) => bail!(
            "refusing to listen on {} without a token: an address other than loopback needs --token-file \
             (requests must then carry `Authorization: Bearer <token>`)",
            args.listen
        ),
        None => None,
    };
    // A file is one daemon's; a server is shared by every host's daemons,
    // which claim its jobs one at a time (colt-db's ownership).
    let _exclusive = match colt_db::TuningDb::is_server(&args.db) {
        true => None,
        false => Some(crate::serve_lock::lock_database(&args.db)?),
    };
    let models =
        if !args.models.is_empty() { args.models.clone() } else { colt_llm::default_model_paths().unwrap_or_default() };
    let exe = std::env::current_exe().context("cannot find the colt executable to start its measure worker")?;
    let config = ColtConfig::for_this_machine(args.db.clone(), models, args.target.opencl(), exe);
    let colt = Colt::start(ColtConfig { gpu_layers: args.gpu_layers, ..config })?;
    // The kernel views give the roofline bound from the limits the database
    // keeps: measured here (or copied from this machine's) before any job
    // runs, so the probes have the cores to themselves. The database opened
    // above, so a failure here is a warning, not a reason not to serve.
    let _ = crate::roofline::machine_limits(&colt, &colt_measure::Target::Cpu.label());
    let models_dir = args.models_dir.clone().unwrap_or_else(colt_llm::default_models_dir);
    let (daemon, scheduler) = Daemon::start_with_models_dir(colt, args.max_jobs, args.threads, models_dir)?;
    let heartbeat = daemon.announce(args.listen.to_string())?;
    let state = web::Data::new(Api { daemon: daemon.clone(), token });
    let listener =
        std::net::TcpListener::bind(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    // actix-web's `HttpServer`, but with every request head checked (and
    // refused with a JSON answer) before its dispatcher reads it, one
    // request per connection (see `http_head`).
    let builder = actix_web::dev::Server::build()
        // Two workers: status requests are cheap, and more threads would
        // only compete with the measured cores.
        .workers(2)
        .shutdown_timeout(HTTP_DRAIN_S)
        // The signals are this function's: the job must hear of them at
        // once, not after the HTTP server has drained.
        .disable_signals()
        .listen("colt-api", listener, move || {
            // The factory runs on each worker thread: the HTTP workers give
            // way to the measured kernels' threads (nice 0) when both want
            // a core.
            lower_this_threads_priority();
            let app = App::new()
                .app_data(state.clone())
                .route("/v1/health", web::get().to(health))
                .route("/metrics", web::get().to(metrics))
                .route("/v1/jobs", web::post().to(submit))
                .route("/v1/jobs", web::get().to(list))
                .route("/v1/jobs/{id}", web::get().to(status))
                .route("/v1/jobs/{id}", web::delete().to(cancel))
                .route("/v1/jobs/{id}/events", web::get().to(events))
                .route("/v1/jobs/{id}/kernel", web::get().to(kernel))
                .route("/v1/workers", web::get().to(workers))
                .route("/v1/model-jobs", web::post().to(submit_model))
                .route("/v1/model-jobs", web::get().to(list_models))
                .route("/v1/model-jobs/{id}", web::get().to(model_status))
                .route("/v1/model-jobs/{id}", web::delete().to(cancel_model))
                .default_service(web::to(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") }))
                .into_factory()
                .map_err(|e: actix_web::Error| e.error_response());
            let http = actix_http::HttpService::build()
                .keep_alive(actix_http::KeepAlive::Disabled)
                .h1(actix_service::map_config(app, |_| actix_web::dev::AppConfig::default()))
                .map_err(|_| ());
            actix_service::fn_service(|stream: tokio::net::TcpStream| async move {
                let connection = crate::http_head::guard(stream).await.ok_or(())?;
                let peer = connection.peer_addr();
                Ok::<_, ()>((connection, peer))
            })
            .and_then(http)
        })
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!("colt serve: listening on http://{} (database `{}`)", args.listen, colt_db::TuningDb::display(&args.db));
    let signalled = daemon.clone();
    let stopped_at = actix_web::rt::System::new()
        .block_on(async move {
            let server = builder.run();
            let handle = server.handle();
            let on_signal = actix_web::rt::spawn(async move {
                let signal = stop_signal().await;
                let at = std::time::Instant::now();
                eprintln!("colt serve: {signal}: stopping the running job and the server");
                signalled.shutdown();
                handle.stop(true).await;
                at
            });
            server.await?;
            // The server stops only on a signal (it has no other stop).
            Ok::<_, std::io::Error>(on_signal.await.ok())
        })
        .context("the HTTP server failed")?;
    daemon.shutdown();
    let deadline = stopped_at.unwrap_or_else(std::time::Instant::now) + SHUTDOWN_GRACE;
    while !scheduler.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if scheduler.is_finished() {
        let _ = scheduler.join();
    } else {
        eprintln!("colt serve: the running job did not stop within {SHUTDOWN_GRACE:?}: queued again, exiting");
        daemon.requeue_running();
    }
    let _ = heartbeat.join();
    // Everything into the main file: a backup of `colt.db` alone then holds
    // the whole history (the database actor's thread may outlive `main`'s
    // return without closing its connection).
    if let Ok(Err(e)) = daemon.colt().db().call(|db| db.checkpoint()) {
        eprintln!("colt serve: {e}");
    }
    eprintln!("colt serve: stopped");
    Ok(())
}

/// The first of SIGTERM and SIGINT (by name). A signal whose handler
/// cannot be installed is never awaited (the other one still is).
async fn stop_signal() -> &'static str {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let wait = |kind: SignalKind, name: &'static str| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
                name
            }
            Err(_) => std::future::pending().await,
        }
    };
    futures_util::future::select(
        Box::pin(wait(SignalKind::terminate(), "SIGTERM")),
        Box::pin(wait(SignalKind::interrupt(), "SIGINT")),
    )
    .await
    .factor_first()
    .0
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

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> ApiError {
        let status = match &e {
            JobError::NoSuchJob(_) | JobError::NoSuchModelJob(_) | JobError::NoKernel(_) => StatusCode::NOT_FOUND,
            // A program under a name the database keeps for another: the
            // client's to rename, as `colt tune` tells its user.
            JobError::Finished { .. }
            | JobError::ModelFinished { .. }
            | JobError::Db(colt_db::DbError::WorkloadNameTaken { .. }) => StatusCode::CONFLICT,
            JobError::NoAnswer { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::Invalid(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
            e @ SubmitError::TooMany { .. } => ApiError::new(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
            SubmitError::Internal(e) => e.into(),
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

impl Api {
    fn authorize(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(token) = &self.token else { return Ok(()) };
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110, section 11.1).
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, token)| token.trim_start_matches(' '));
        if crate::token::constant_time_eq(given.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"))
        }
    }

    /// Runs a daemon call off the server's threads (it waits on the
    /// database actor).
    async fn call<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Daemon) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError> {
        let daemon = self.daemon.clone();
        web::block(move || f(&daemon)).await.map_err(ApiError::internal)?.map_err(Into::into)
    }
}

fn parse_id(req: &HttpRequest) -> Result<JobId, ApiError> {
    let text = req.match_info().get("id").unwrap_or("");
    text.parse().map_err(|_| ApiError::new(StatusCode::NOT_FOUND, format!("no job `{text}`")))
}

fn ok(value: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

async fn workers(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let workers = api.call(|d| d.workers()).await?;
    Ok(ok(&serde_json::json!({ "workers": workers })))
}

async fn health(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    // Degraded (an actor down, the database server not answering) is 503:
    // what a load balancer or a probe acts on without reading the body.
    let health = api.daemon.health();
    let status = if health.status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Ok(HttpResponse::build(status).json(&health))
}

/// The request body of a job: read only once the token is checked (an
/// extractor would parse it before, and tell anyone the API's field
/// names), within [`BODY_LIMIT`] bytes and [`BODY_TIMEOUT`] (a client that
/// stalls mid-body held its connection open for ever).
async fn job_body<T: serde::de::DeserializeOwned>(req: &HttpRequest, mut payload: web::Payload) -> Result<T, ApiError> {
    use futures_util::StreamExt;
    let json =
        req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json"));
    }
    let too_large =
        || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {BODY_LIMIT} bytes"));
    let declared = req.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large());
    }
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}")))?;
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = actix_web::rt::time::timeout(BODY_TIMEOUT, read).await.map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {} s", BODY_TIMEOUT.as_secs()),
        )
    })??;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("the body is not a valid job: {e}")))
}

async fn submit(req: HttpRequest, api: web::Data<Api>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let body: Submit = job_body(&req, payload).await?;
    let id = api.call(move |d| d.submit(body)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/jobs/{id}")))
        .json(serde_json::json!({"id": id, "state": "queued"})))
}

async fn submit_model(req: HttpRequest, api: web::Data<Api>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let body: ModelSubmit = job_body(&req, payload).await?;
    let id = api.call(move |d| d.submit_model(body)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/model-jobs/{id}")))
        .json(serde_json::json!({"id": id, "state": "queued"})))
}

async fn list_models(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let jobs = api.call(|d| d.model_jobs()).await?;
    Ok(ok(&serde_json::json!({ "model_jobs": jobs })))
}

async fn model_status(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    Ok(ok(&api.call(move |d| d.model_job(id)).await?))
}

async fn cancel_model(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    api.call(move |d| d.cancel_model(id)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"id": id, "state": "cancelled"})))
}

async fn list(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let jobs = api.call(|d| d.jobs()).await?;
    Ok(ok(&serde_json::json!({ "jobs": jobs })))
}

async fn status(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    Ok(ok(&api.call(move |d| d.job(id)).await?))
}

async fn cancel(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    api.call(move |d| d.cancel(id)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"id": id, "state": "cancelled"})))
}

/// Server-sent events: `event: KIND` and `data: JSON` per job event.
async fn events(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let id = parse_id(&req)?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let listener = Box::new(move |e: &JobEvent| tx.send(format!("event: {}\ndata: {}\n\n", e.kind, e.data)).is_ok());
    api.call(move |d| d.subscribe(id, listener)).await?;
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
    Ok(ok(&api.call(move |d| d.kernel(id)).await?))
}

async fn metrics(req: HttpRequest, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    api.authorize(&req)?;
    let text = api.call(|d| d.metrics()).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text))
}
