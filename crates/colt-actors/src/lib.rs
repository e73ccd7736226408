//! colt-actors: the actix system that runs a tuning job, and the search it
//! runs.
//!
//! It owns:
//! - the **actors** of DESIGN.md: one per loaded model ([`llm::LlmActor`],
//!   inference on the model's own thread), the CPU and OpenCL measurement
//!   actors ([`measure`], one request at a time, pausing the models'
//!   decoding while they time), the tuning-database actor ([`db_actor`]),
//!   and the job actor ([`job::JobActor`]) that runs a job's search on a
//!   coordinator thread which starts the search threads; threads and actors
//!   talk through messages carrying crossbeam reply channels
//!   ([`system::ask`]);
//! - the **search** ([`search`]): the strategies `colt`, `single`, `mcts`,
//!   `evolutionary` and `random` in one loop of generation and measurement
//!   rounds, over colt-tree, colt-policy and colt-ir;
//! - the **tuning database** ([`db`]): every job and measured candidate in
//!   SQLite (WAL), so jobs resume and later jobs start from what is known.
//!
//! [`Colt`] starts the whole system; [`Colt::tune`] runs one job. It knows
//! nothing of the command line: colt-bin parses arguments, shows progress
//! and writes reports.

pub mod db;
pub mod db_actor;
pub mod job;
pub mod llm;
pub mod measure;
pub mod node;
pub mod search;
pub mod system;

pub use job::{Colt, ColtConfig, ColtError, TuneRequest, TuneResult};
pub use node::Lineage;
pub use search::{Event, JobSettings, JobSpec, ModelEntry, Progress, SearchParams, Strategy};
