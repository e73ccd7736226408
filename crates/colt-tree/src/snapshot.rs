//! Snapshot to bytes and restore, so that a job can be checkpointed and
//! resumed.
//!
//! Format: the 8 bytes `COLTTREE`, a little-endian `u32` format version, then
//! the nodes in id order encoded with bincode 2 (serde mode, standard
//! config: little-endian, variable-length integers).
//!
//! A node is stored with what cannot be recomputed: its parent, fingerprint,
//! payload, models, terminal visits, own value sum and measurement. Child
//! lists, visits, value sums, transposition links and depths are rebuilt on
//! restore: children are their parent's in id order (ids of one parent's
//! children are allocated in the order they are linked, see `expand.rs`), a
//! transposition is any later node with an earlier node's fingerprint, and
//! visits and value sums are sums of terminal contributions over subtrees.
//!
//! Rebuilding the sums is what makes a snapshot consistent even while search
//! threads run: a backup is in the snapshot exactly when its terminal update
//! is, whatever part of its path it had reached; a measurement being applied
//! is applied in full. Virtual loss is not stored (the paths it belongs to do
//! not survive a restart). Only expansion is paused while a snapshot is
//! taken.

use crate::error::TreeError;
use crate::id::{ModelId, NodeId};
use crate::node::{Node, NOT_MEASURED};
use crate::tree::Tree;
use crate::value::ONE;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

const MAGIC: &[u8; 8] = b"COLTTREE";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = MAGIC.len() + 4;

#[derive(Serialize)]
struct NodeRecordOut<'a, P> {
    parent: Option<NodeId>,
    fingerprint: u64,
    payload: &'a P,
    expanded_by: Option<ModelId>,
    next_model: Option<ModelId>,
    terminal_visits: u64,
    /// Fixed-point units, so that a restored tree's sums are bit-exact.
    own_value_sum: i64,
    measured: Option<f64>,
}

/// The same layout as `NodeRecordOut`, owning its payload.
#[derive(Deserialize)]
struct NodeRecordIn<P> {
    parent: Option<NodeId>,
    fingerprint: u64,
    payload: P,
    expanded_by: Option<ModelId>,
    next_model: Option<ModelId>,
    terminal_visits: u64,
    own_value_sum: i64,
    measured: Option<f64>,
}

impl<P: Serialize> Tree<P> {
    /// Encodes the tree. Safe while other threads select, back up and
    /// measure (see the module notes); expansions wait until it is done.
    pub fn snapshot(&self) -> Result<Vec<u8>, TreeError> {
        let _growth = self.growth.write();
        let len = self.len();
        let mut records = Vec::with_capacity(len);
        for index in 0..len {
            // With `growth` held exclusively no push is in progress, so every
            // index below `len` is a complete node.
            let id = NodeId::new(u32::try_from(index).map_err(|_| TreeError::Full { len })?);
            let node = self.get(id)?;
            let (terminal_visits, own_value_sum) = self.with_backups_held(id, node, || {
                (node.terminal_visits.load(Ordering::Relaxed), node.own_value_sum.load(Ordering::Relaxed))
            });
            let measured = node.measured.load(Ordering::SeqCst);
            let measured = (measured != NOT_MEASURED).then(|| f64::from_bits(measured));
            records.push(NodeRecordOut {
                parent: NodeId::from_link(node.parent),
                fingerprint: node.fingerprint,
                payload: &node.payload,
                expanded_by: node.expanded_by,
                next_model: ModelId::from_slot(node.next_model.load(Ordering::Relaxed)),
                terminal_visits,
                own_value_sum,
                measured,
            });
        }
        let mut bytes = Vec::with_capacity(HEADER_LEN + 64 * len);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bincode::serde::encode_into_std_write(&records, &mut bytes, bincode::config::standard())
            .map_err(|error| TreeError::Encode { reason: error.to_string() })?;
        Ok(bytes)
    }
}

impl<P: DeserializeOwned> Tree<P> {
    /// Rebuilds a tree from [`snapshot`](Tree::snapshot)'s bytes. Node ids
    /// are the same as in the snapshotted tree; paths selected on it are not
    /// valid here.
    pub fn restore(bytes: &[u8]) -> Result<Self, TreeError> {
        let body = check_header(bytes)?;
        let (records, read): (Vec<NodeRecordIn<P>>, usize) =
            bincode::serde::decode_from_slice(body, bincode::config::standard())
                .map_err(|error| corrupt(format!("cannot decode nodes: {error}")))?;
        if read != body.len() {
            return Err(corrupt(format!("{} bytes after the last node", body.len() - read)));
        }
        if records.is_empty() {
            return Err(corrupt("no root".into()));
        }
        let tree = Tree::empty();
        for (index, record) in records.into_iter().enumerate() {
            tree.restore_node(index, record)?;
        }
        tree.apply_measurements();
        tree.sum_subtrees();
        Ok(tree)
    }

    fn restore_node(&self, index: usize, record: NodeRecordIn<P>) -> Result<(), TreeError> {
        let id = NodeId::new(u32::try_from(index).map_err(|_| corrupt("too many nodes".into()))?);
        let depth = match record.parent {
            None if index == 0 => 0,
            None => return Err(corrupt(format!("{id} has no parent but is not the root"))),
            Some(parent) if parent.index() < id.index() => self.get(parent)?.depth + 1,
            Some(parent) => return Err(corrupt(format!("{id} has parent {parent}, which is not an earlier node"))),
        };
        let max_own = i64::try_from(record.terminal_visits)
            .ok()
            .and_then(|terminal| terminal.checked_mul(ONE))
            .ok_or_else(|| corrupt(format!("{id}: {} terminal visits", record.terminal_visits)))?;
        if !(0..=max_own).contains(&record.own_value_sum) {
            return Err(corrupt(format!("{id}: own value sum out of range")));
        }
        let first = self.find(record.fingerprint);
        match (first, record.measured) {
            (_, Some(measured)) if !(0.0..=1.0).contains(&measured) => {
                return Err(corrupt(format!("{id}: measurement out of range")))
            }
            (Some(first), Some(_)) => {
                return Err(corrupt(format!("{id} is a transposition of {first} but holds a measurement")))
            }
            _ => {}
        }
        let newest = match first {
            Some(first) => NodeId::from_link(self.get(first)?.next_transposition.load(Ordering::Relaxed)),
            None => None,
        };
        let spec = crate::NewNode {
            fingerprint: record.fingerprint,
            payload: record.payload,
            expanded_by: record.expanded_by,
            next_model: record.next_model,
        };
        let node = Node::new(spec, record.parent, depth, first, newest);
        node.terminal_visits.store(record.terminal_visits, Ordering::Relaxed);
        node.own_value_sum.store(record.own_value_sum, Ordering::Relaxed);
        node.measured.store(record.measured.map_or(NOT_MEASURED, f64::to_bits), Ordering::Relaxed);
        let pushed = self.arena.push(node).map_err(|_| corrupt("too many nodes".into()))?;
        debug_assert_eq!(pushed, id.index(), "restore pushes in id order");
        match first {
            Some(first) => self.get(first)?.next_transposition.store(id.index(), Ordering::Relaxed),
            None => {
                self.transpositions.insert(record.fingerprint, id);
            }
        }
        if let Some(parent) = record.parent {
            self.link_child(self.get(parent)?, id);
        }
        Ok(())
    }

    /// A snapshot taken while a measurement was being applied may hold it on
    /// its first node but not yet in every transposition's own sum: finish
    /// what `set_measured` was doing.
    fn apply_measurements(&self) {
        for node in self.nodes() {
            let raw = node.raw();
            if let Some(measured) = self.measurement(raw) {
                let terminal = raw.terminal_visits.load(Ordering::Relaxed);
                raw.own_value_sum.store(measured.0.saturating_mul(terminal as i64), Ordering::Relaxed);
            }
        }
    }

    /// Visits and value sums from terminal contributions, children first
    /// (every child has a larger id than its parent).
    fn sum_subtrees(&self) {
        let nodes: Vec<_> = self.nodes().collect();
        for node in nodes.iter().rev() {
            let raw = node.raw();
            // Children (larger ids) have already added their totals here.
            raw.add_visits(raw.terminal_visits.load(Ordering::Relaxed));
            raw.value_sum.fetch_add(raw.own_value_sum.load(Ordering::Relaxed), Ordering::Relaxed);
            if let Some((_, parent)) = self.linked(raw.parent) {
                parent.add_visits(raw.visits());
                parent.value_sum.fetch_add(raw.value_sum.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        }
    }
}

fn check_header(bytes: &[u8]) -> Result<&[u8], TreeError> {
    let Some((header, body)) = bytes.split_at_checked(HEADER_LEN) else {
        return Err(corrupt(format!("{} bytes, shorter than the header", bytes.len())));
    };
    if &header[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not a colt-tree snapshot (bad magic)".into()));
    }
    let mut version = [0; 4];
    version.copy_from_slice(&header[MAGIC.len()..]);
    let version = u32::from_le_bytes(version);
    if version != FORMAT_VERSION {
        return Err(corrupt(format!("format version {version}, this build reads {FORMAT_VERSION}")));
    }
    Ok(body)
}

fn corrupt(reason: String) -> TreeError {
    TreeError::CorruptSnapshot { reason }
}
