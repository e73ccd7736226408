//! colt-search: the tuning loop and the strategies behind one interface.
//! The loop ([`run_search`]) owns the baseline, rounds, candidate pool,
//! measurement, records, checkpoints and stop rules; a [`Strategy`] only
//! generates candidates, may pick which to measure, and is told the
//! results (`colt`/`single`/`mcts` are one tree search, [`strategy::tree`];
//! `evolutionary`, `random`, `beam` a file each). The world is three
//! interfaces: a [`Proposer`] (a model call), a [`Runner`] (a measurement),
//! a [`Recorder`]. It knows no actor, no database engine, no command line.
//!
//! # Example
//!
//! ```
//! use colt_search::{StrategyChoice, SearchParams};
//! let strategy: StrategyChoice = "colt:lambda=0.5".parse().unwrap();
//! assert!(strategy.uses_models());
//! assert_eq!(strategy.to_string(), "colt:lambda=0.5");
//! assert!("genetic".parse::<StrategyChoice>().is_err());
//! assert_eq!(SearchParams::default().batch, 8);
//! ```

mod bounds;
mod context;
mod engine;
mod error;
mod events;
mod interfaces;
mod job;
mod known;
mod node;
mod outcome;
mod params;
mod pool;
mod registry;
pub mod strategy;
pub mod task_scheduler;
mod transfer;

pub use bounds::{
    check_count, parse_count, BoundError, MAX_BATCH, MAX_CHEAP_EXPANSIONS, MAX_EXPANSIONS, MAX_MODEL_SHARE, MAX_SCREEN,
    MAX_THREADS, MAX_TRANSFER, MAX_TRIALS,
};
pub use context::{Screened, SearchContext};
pub use engine::run_search;
pub use error::SearchError;
pub use events::{Event, Progress, TrialEvent};
pub use interfaces::{NoModels, RecordError, Recorder, Runner, Trial};
pub use job::{wall_budget, JobSettings, JobSpec, KnownRecord, ModelEntry, PastTrial, Resume, WarmRecord, MAX_WALL_S};
pub use node::NodeData;
pub use outcome::{ModelReport, Outcome, ProposalProbe, SourceReport, StopReason};
pub use params::SearchParams;
pub use pool::{Fate, Pool, PoolEntry, RoundResults};
pub use registry::{OptionError, StrategyChoice, StrategyParseError, DEFAULT_STRATEGY, STRATEGIES};
pub use strategy::{ProbeDraft, Strategy};
pub use task_scheduler::{Allocation, TaskScheduler};

pub use colt_policy::protocol::AnswerShape;
pub use colt_policy::{ModelCall, Proposal, ProposalFailure, Proposer};
