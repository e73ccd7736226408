//! colt-actors: the actix runtime of a colt process. It owns the actors of
//! DESIGN.md — one per model (inference on the model's own thread), the
//! measurement actor (CPU and OpenCL, one request at a time, pausing the
//! models while it times), the database actor and a job actor per job —
//! and [`Colt`], the façade that implements colt-search's proposer, runner
//! and recorder with them; [`daemon`] is the daemon's job queue on top.
//! Threads and actors talk through messages carrying crossbeam reply
//! channels ([`system::ask`]). It knows nothing of the command line or
//! HTTP.

mod bench;
mod colt;
pub mod daemon;
pub mod db_actor;
mod job_actor;
pub mod llm;
pub mod measure;
pub mod services;
pub mod system;
mod tune;
mod tune_model;

pub use bench::{BenchPlan, BenchProgress};
pub use colt::{Colt, ColtConfig, ColtError};
pub use tune::{TuneRequest, TuneResult};
pub use tune_model::{model_shape, ModelOutcome, ModelProgress, ModelRequest, ModelTask, RoundReport, TaskReport};
