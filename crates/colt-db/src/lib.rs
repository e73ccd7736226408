//! colt-db: the tuning database. Every tuning job (what to tune, where, how,
//! its state), the daemon's whole-model jobs over them, and every candidate
//! a job measured, its tree snapshots and its naive baseline — in one
//! SQLite file (WAL) by default, or in a PostgreSQL server that many hosts
//! share (`postgres://…`), behind one trait ([`TuningStore`]); and the one
//! lookup of the best verified kernel, rebuilt and checked against its
//! record ([`TuningDb::best_kernel`]).
//!
//! Take it alone to read or feed what colt has tuned without running colt:
//! a build that fetches the fastest verified kernel of a layer for its
//! machine, a dashboard over jobs and trials, or another search that wants
//! its measurements durable, resumable and shared between hosts.
//!
//! # What it owns
//!
//! - the **schema** and its migrations ([`SCHEMA_VERSION`]), the same on
//!   SQLite and PostgreSQL, the backend chosen by the location
//!   [`TuningDb::open`] is given: a `postgres://` URL, else a file path (a
//!   libpq `key=value` string is refused, not taken for a file name);
//! - **jobs** ([`NewJob`], [`JobRow`], [`JobState`]) with the workload's
//!   text, so a job can be rerun without its file, and **trials**
//!   ([`TrialRecord`]): one per measured candidate, a candidate recorded
//!   once per job, so a resumed job measures nothing twice;
//! - **ownership** of a running job by one process, known alive by its pid
//!   on its own host and by a lease elsewhere, so that a job whose owner
//!   died is taken over, and one whose owners keep dying is failed
//!   ([`ownership`]);
//! - the **machine's limits** of each hardware label, as colt-measure's
//!   JSON with the time they were measured ([`MachineLimitsRecord`]);
//! - **upkeep**: checkpoint, integrity check, backup and copy between
//!   backends ([`copy_database`]).
//!
//! It knows no search, no actor and no command line: records are plain
//! types, a candidate is named by its lineage (colt-ir), a target by its
//! label. One [`TuningDb`] owns one connection and is used from one thread.
//!
//! # Example
//!
//! A job on a small matmul records three measured candidates (in colt the
//! times come from colt-measure; here they are made up), then the best is
//! looked up the way `colt show` does: rebuilt from its lineage and checked
//! against the recorded fingerprint.
//!
//! ```
//! use colt_db::{JobState, KernelQuery, NewJob, TrialRecord, TuningDb};
//! use colt_ir::schedule::{lower, Lineage, Target};
//! use std::sync::Arc;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let text = "workload tiny-mm\ninput A[64, 32]\ninput B[32, 48]\noutput C[64, 48]\nC[i, j] += A[i, k] * B[k, j]\n";
//! let program = Arc::new(colt_ir::parse_workload(text, "tiny-mm.colt", colt_ir::Size::Bench)?);
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("tuning.db");
//! let mut db = TuningDb::open(&path)?;
//! let job = db.create_job(&NewJob {
//!     workload: "tiny-mm".into(),
//!     workload_text: text.into(),
//!     workload_fingerprint: colt_ir::workload_fingerprint(&program),
//!     target: "cpu".into(),
//!     strategy: "random".into(),
//!     trials: 3,
//!     seed: 1,
//!     options_json: "{}".into(),
//! })?;
//! db.set_job_state(job, JobState::Running, None)?;
//!
//! let mut fastest = None;
//! for (index, (seed, median_ms)) in [(11, 0.9), (12, 0.4), (13, 0.7)].into_iter().enumerate() {
//!     let lineage = Lineage::sampled(seed);
//!     let candidate = lineage.rebuild_on(&program, Target::Cpu)?;
//!     let nest = lower(&candidate);
//!     let new = db.record_trial(&TrialRecord {
//!         job,
//!         workload_fingerprint: colt_ir::workload_fingerprint(&program),
//!         target: "cpu".into(),
//!         sampler: lineage.sampler,
//!         seed,
//!         edits: lineage.edits,
//!         decisions: candidate.render(),
//!         source_hash: format!("{:016x}", colt_ir::fnv1a(nest.source().as_bytes())),
//!         fingerprint: nest.fingerprint(),
//!         verified: true,
//!         median_ms: Some(median_ms),
//!         min_ms: Some(median_ms * 0.95),
//!         max_ms: Some(median_ms * 1.1),
//!         runs: 5,
//!         failure: None,
//!         strategy: "random".into(),
//!         model: None,
//!         trial_index: index as u64,
//!         created_unix: 1.7e9,
//!     })?;
//!     // Two seeds may sample one kernel: it is recorded once.
//!     if new && fastest.is_none_or(|(_, best)| median_ms < best) {
//!         fastest = Some((nest.fingerprint(), median_ms));
//!     }
//! }
//! db.set_job_state(job, JobState::Done, None)?;
//! drop(db);
//!
//! // Another process reads it back.
//! let db = TuningDb::open_read_only(&path)?;
//! let row = db.job(job)?.expect("the job is stored");
//! assert_eq!(row.state, JobState::Done);
//! let (fingerprint, median_ms) = fastest.unwrap();
//! assert_eq!(row.best_ms, Some(median_ms));
//! let best = db
//!     .best_kernel(KernelQuery::Workload { name: "tiny-mm", target: "cpu" })?
//!     .expect("a verified kernel");
//! assert_eq!(best.record.fingerprint, fingerprint);
//! assert!(best.source.contains("void colt_kernel("));
//! // A kernel measured on one machine is no answer for another.
//! assert!(db.best_kernel(KernelQuery::Workload { name: "tiny-mm", target: "opencl" })?.is_none());
//! # Ok(())
//! # }
//! ```

mod best_kernel;
mod copy;
mod error;
mod identity;
mod location;
mod machine_limits;
mod model_jobs;
pub mod ownership;
mod postgres;
mod probes;
mod records;
mod schema;
mod sqlite;
mod store;
pub mod test_server;
mod tuning_db;
mod upkeep;
mod wal;
mod workers;
mod workload_names;

pub use best_kernel::{BestKernel, KernelError, KernelQuery};
pub use copy::{copy_database, CopySummary};
pub use error::DbError;
pub use location::{DbLocation, HIDDEN};
pub use machine_limits::MachineLimitsRecord;
pub use model_jobs::{ModelJobId, ModelJobRow, NewModelJob};
pub use ownership::{Claim, ClaimRecord, Owner, LEASE, LEASE_RENEWAL, MAX_CRASHES};
pub use postgres::{PostgresDb, ServerProbe, CONNECT_TIMEOUT, RECONNECT_FOR, STATEMENT_DEADLINE};
pub use probes::ProbeRecord;
pub use records::{DbSummary, JobId, JobRow, JobState, NewJob, TrialRecord, UnknownJobState, WorkloadTrial};
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteDb;
pub use store::TuningStore;
pub use tuning_db::TuningDb;
pub use workers::WorkerRow;
