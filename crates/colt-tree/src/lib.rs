//! colt-tree: a generic concurrent Monte Carlo tree search tree that
//! several search threads select, expand and back up at the same time: the
//! node arena, lock-striped child lists, atomic visit/value/virtual-loss
//! counters, the transposition table, and snapshot/restore. It never knows
//! about programs, schedules, models or actors: the payload is generic, a
//! fingerprint an opaque `u64`, a model a number, scoring a closure.
//!
//! Take it alone for any tree search that several threads run on one tree
//! and that must survive a restart: game or planning MCTS, or another
//! autotuner's search, with payloads of your own.
//!
//! # What it owns
//!
//! - an append-only **node arena** with stable [`NodeId`]s: concurrent
//!   appends, lock-free reads of existing nodes, no `unsafe`;
//! - **child lists** appended under a fixed array of `parking_lot` locks
//!   striped by node id, and read without locking;
//! - **atomic counters** per node: visits, value sum, virtual loss, terminal
//!   visits (backups that ended at the node) and an optional measured value;
//!   the model that expanded the node and the one that should expand it next
//!   (as small [`ModelId`]s);
//! - a **transposition table** (fingerprint → first node with it), so that a
//!   candidate reached by two paths has one measurement;
//! - **snapshot/restore** to bytes, so a job can be checkpointed and resumed.
//!
//! The payload `P` carries the domain data, and scoring (UCT, model-aware
//! or not) is a closure the caller passes to [`Tree::select`].
//!
//! # Invariants
//!
//! Once every selected [`Path`] has been backed up or abandoned (checked by
//! [`Tree::audit`]):
//!
//! - a node's visits = its terminal visits + the sum of its children's visits;
//! - a node's value sum = the values of the backups that ended at it + the
//!   sum of its children's value sums, exactly (values are stored as
//!   fixed-point integers, see `value.rs`);
//! - no node holds virtual loss;
//! - a measured candidate contributes its measurement, not a prediction, for
//!   every backup that ended at any node with its fingerprint.
//!
//! At all times: a node id, once returned, names the same node for the life of
//! the tree and across snapshot/restore; a child has a larger id than its
//! parent; values are in [0, 1].
//!
//! # Concurrency
//!
//! Selection and reads take no lock: child lists are intrusive links read
//! with acquire loads, counters are relaxed atomics (statistics, exact once
//! the threads that wrote them are joined). Backups take no lock either: to
//! keep a leaf's (terminal visits, own value) consistent with a concurrent
//! measurement or snapshot they pass the leaf's backup gate, which only
//! those close, briefly (`backup.rs`); an expansion takes its parent's
//! stripe and a transposition-table shard; a snapshot pauses expansions
//! only. The crate
//! has no `unsafe`. Concurrency is tested by property tests that run random
//! programs on several threads, stress tests, and exact invariant checks;
//! `loom` is not used because `parking_lot`, `dashmap` and `OnceLock` are
//! not loom-instrumented.
//!
//! Transpositions keep the tree a tree: a later node with an earlier node's
//! fingerprint is a node of its own that shares the earlier node's
//! measurement (see [`Insertion`] and `expand.rs` for why).
//!
//! # Example
//!
//! ```
//! use colt_tree::{ModelId, NewNode, Tree};
//!
//! // Payload: here just a name; in colt, a candidate's schedule decisions.
//! let tree = Tree::new(NewNode::new(0xA, "root"));
//! let small = ModelId(0);
//! let kids = tree.add_children(
//!     tree.root(),
//!     [0xB, 0xC].map(|fingerprint| NewNode {
//!         fingerprint,
//!         payload: "child",
//!         expanded_by: Some(small),
//!         next_model: Some(small),
//!     }),
//! )?;
//!
//! // UCT with unvisited children first; virtual loss counts as a visit
//! // that scored 0.
//! let uct = |parent: colt_tree::NodeRef<'_, &str>, child: colt_tree::NodeRef<'_, &str>| {
//!     let n = (child.visits() + u64::from(child.virtual_loss())) as f64;
//!     if n == 0.0 {
//!         return f64::INFINITY;
//!     }
//!     let n_parent = (parent.visits() + u64::from(parent.virtual_loss())) as f64;
//!     child.value_sum() / n + 1.41 * (n_parent.ln() / n).sqrt()
//! };
//! let path = tree.select(tree.root(), uct)?;
//! assert_eq!(path.leaf(), kids[0].id);
//! // Until that path is backed up, its virtual loss steers a second
//! // searcher (another thread, in colt) to the other child.
//! let second = tree.select(tree.root(), uct)?;
//! assert_eq!(second.leaf(), kids[1].id);
//! assert_eq!(tree.node(kids[0].id)?.virtual_loss(), 1);
//! tree.backup(path, 0.25)?; // a prediction
//! tree.backup(second, 0.5)?;
//! assert_eq!(tree.node(tree.root())?.visits(), 2);
//! assert_eq!(tree.node(kids[0].id)?.virtual_loss(), 0);
//!
//! // The measurement replaces the prediction everywhere it was counted.
//! tree.set_measured(kids[0].id, 0.75)?;
//! assert_eq!(tree.node(tree.root())?.value_sum(), 0.75 + 0.5);
//!
//! // Checkpoint and resume.
//! let bytes = tree.snapshot()?;
//! let resumed: Tree<String> = Tree::restore(&bytes)?;
//! assert_eq!(resumed.best_measured(), Some((kids[0].id, 0.75)));
//! resumed.audit()?;
//! # Ok::<(), colt_tree::TreeError>(())
//! ```

mod arena;
mod audit;
mod backup;
mod best;
mod error;
mod expand;
mod id;
mod measure;
mod node;
mod node_ref;
mod path;
mod select;
mod snapshot;
mod stripes;
mod tree;
mod value;

pub use error::TreeError;
pub use expand::{Insertion, InsertionKind};
pub use id::{ModelId, NodeId};
pub use node::NewNode;
pub use node_ref::{Children, NodeRef};
pub use path::Path;
pub use tree::Tree;
