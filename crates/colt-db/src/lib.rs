//! colt-db: the tuning database. Every tuning job (what to tune, where, how,
//! its state), the daemon's whole-model jobs over them, and every candidate
//! a job measured, its tree snapshots and its naive baseline — in one
//! SQLite file (WAL) by default, or in a PostgreSQL server that many hosts
//! share (`postgres://…`), behind one trait ([`TuningStore`]); and the one
//! lookup of the best verified kernel, rebuilt and checked against its
//! record.
//!
//! It knows no search, no actor and no command line: records are plain
//! types, a candidate is named by its lineage (colt-ir), a target by its
//! label. One [`TuningDb`] owns one connection and is used from one thread.

mod best_kernel;
mod copy;
mod error;
mod identity;
mod location;
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
