//! colt-policy: how colt's search decides — the rules of DESIGN.md ("The
//! search, precisely") as plain types over colt-ir's candidates and
//! colt-tree's nodes: model-aware UCT and φ ([`ModelAwareUct`],
//! [`Roster`]), per-model statistics and routing ([`ModelStats`]), course
//! alteration, the joint-action [`protocol`] (prompts, grammar, answer
//! parser), one expansion end to end ([`Expander`]), the choice of what to
//! measure ([`EpsilonGreedy`]) and the [`cost`] model. It knows nothing of
//! LLM runtimes, actors, measurement or the command line: a model is a
//! [`ModelId`](colt_tree::ModelId) and a name, a score a number in [0, 1].
//!
//! # Example
//!
//! ```
//! use colt_policy::{ModelAwareUct, ModelSpec, ModelStats, Roster, DEFAULT_EXPLORATION};
//! use colt_policy::protocol::{answer_grammar, parse_answer, edit_json};
//! use colt_ir::schedule::{legal_edits, Candidate};
//! use colt_tree::{ModelId, NewNode, Tree};
//! use std::sync::Arc;
//!
//! let roster = Arc::new(Roster::new(vec![
//!     ModelSpec::new("gemma-3-1b", 1_000_000_000),
//!     ModelSpec::new("qwen3-8b", 8_000_000_000),
//! ])?);
//! assert_eq!((roster.phi(ModelId(0)), roster.phi(ModelId(1))), (1.0, 0.0));
//!
//! // Selection on colt-tree's tree.
//! let uct = ModelAwareUct::new(roster.clone(), 0.2, DEFAULT_EXPLORATION)?;
//! let tree = Tree::new(NewNode::new(1, ()));
//! let child = |fingerprint, model| NewNode { fingerprint, payload: (), expanded_by: Some(ModelId(model)), next_model: None };
//! let kids = tree.add_children(tree.root(), [child(2, 1), child(3, 0)]).unwrap();
//! let path = tree.select_with(tree.root(), |p, c| uct.choose(p, c)).unwrap();
//! assert_eq!(path.leaf(), kids[1].id); // unvisited, and the smaller model's
//! tree.abandon(path).unwrap();
//!
//! // A joint action: the grammar admits it, the parser reads it.
//! let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
//! let candidate = Candidate::sample(program, 3);
//! let legal = legal_edits(&candidate);
//! let grammar = answer_grammar(&legal, &roster);
//! assert!(grammar.contains(&edit_json(&legal[0]).replace('\\', "\\\\").replace('"', "\\\"")));
//! let answer = format!("{{\"edits\": [{}], \"next_model\": \"gemma-3-1b\"}}", edit_json(&legal[0]));
//! let action = parse_answer(&answer, &legal, &roster);
//! assert_eq!((action.edits.len(), action.next_model, action.problems.len()), (1, Some(ModelId(0)), 0));
//!
//! // Routing when an answer names no model: the best hit rate, ties to the smallest.
//! let stats = ModelStats::new(roster.clone());
//! assert_eq!(stats.route(None), ModelId(0));
//! # Ok::<(), colt_policy::PolicyError>(())
//! ```
//!
//! # The parts
//!
//! - [`Roster`] — the job's models (name, parameter count) and φ, the
//!   preference for small models: `φ(m) = (ln Pmax − ln Pm)/(ln Pmax − ln
//!   Pmin)`, 1 for the smallest, 0 for the largest, 1 for all when sizes
//!   are equal.
//! - [`ModelAwareUct`] — `score = (1-λ)·Q + λ·φ(model) + C·sqrt(ln N(p) /
//!   N(c))`, unvisited children first by φ, λ dropped when all siblings
//!   share a model; as the closure of `Tree::select_with`
//!   ([`ModelAwareUct::choose`]) or `Tree::select`
//!   ([`ModelAwareUct::score_child`]).
//! - [`ModelStats`] — per-model calls, errors, hit rate, tokens, seconds
//!   (atomics, shared by the search threads) and the routing fallback: the
//!   best hit rate, ties to the smallest model.
//! - [`CourseAlteration`] — the streak of small-model regressions and the
//!   escalation to the largest model every K-th one; [`keep`] decides
//!   between the proposal and the correction.
//! - [`protocol`] — the joint action's fixed system prompt, per-call user
//!   prompt, GBNF grammar (1 to 3 legal edits as JSON strings in colt-ir's
//!   edit syntax, and a model name) and the answer parser that turns any
//!   text into typed edits, a next model and counted problems.
//! - [`Expander`] — one expansion end to end over a [`Proposer`] (the
//!   model, behind a trait: colt-actors' LLM actor in a job, a script in
//!   tests): prompt, answer, edits or a random legal edit, statistics,
//!   routing, course alteration.
//! - [`EpsilonGreedy`] — which unmeasured candidates to measure next.
//! - [`cost`] — the cost model: a roofline prior from colt-ir's features,
//!   corrected online by gradient-boosted trees.
//!
//! A score is a candidate's throughput over the best known's, so 1 is the
//! best yet.
//!
//! # The cost model's library
//!
//! `gbdt` (gbdt-rs, Apache-2.0): pure Rust, its dependencies are serde,
//! serde_json and rand only (with default features off, no regex), so it
//! builds in under a minute on two cores; deterministic with sampling
//! ratios of 1; its trees fit 64 rows in about a millisecond. The
//! alternatives were heavier for what a 64-trial job needs: `perpetual`
//! (actively maintained, but pulls rayon and sysinfo, and its
//! self-generalising budget holds out part of the data, which hurts at 8
//! to 64 samples), `linfa-trees`/`smartcore` (single trees or random
//! forests, no boosting; or a large dependency tree). gbdt's last release
//! is old; it is a small, stable, self-contained crate, and the cost model
//! touches it in one file (`cost/model.rs`), so replacing it is cheap.
//! It has no incremental fit: the model is refitted from scratch after
//! each measurement round.

pub mod cost;
mod course;
mod error;
mod expansion;
mod measure_pick;
pub mod protocol;
mod roster;
pub mod specialist;
mod stats;
mod uct;

pub use course::{keep, Course, CourseAlteration, Kept, DEFAULT_STREAK};
pub use error::PolicyError;
pub use expansion::{
    random_edit_set, Expander, Expansion, ExpansionError, ModelCall, Probe, Proposal, ProposalFailure, Proposer,
};
pub use measure_pick::{EpsilonGreedy, DEFAULT_EPSILON};
pub use roster::{ModelSpec, Roster};
pub use stats::{CallRecord, ModelStats, ModelSummary};
pub use uct::{ChildTerms, ModelAwareUct, DEFAULT_EXPLORATION, UNVISITED};
