//! colt-policy: how colt's search decides.
//!
//! TODO crate docs

pub mod cost;
mod course;
mod error;
mod expansion;
mod measure_pick;
pub mod protocol;
mod roster;
mod stats;
mod uct;

pub use course::{keep, Course, CourseAlteration, Kept, DEFAULT_STREAK};
pub use error::PolicyError;
pub use expansion::{Expander, Expansion, ExpansionError, Proposal, ProposalFailure, Proposer};
pub use measure_pick::{EpsilonGreedy, DEFAULT_EPSILON};
pub use roster::{ModelSpec, Roster};
pub use stats::{CallRecord, ModelStats, ModelSummary};
pub use uct::{ChildTerms, ModelAwareUct, DEFAULT_EXPLORATION, UNVISITED};
