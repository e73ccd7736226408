//! A measurement round's candidate pool: what a strategy offers to measure,
//! in its order, each unmeasured candidate once, with its fresh prediction.
//! The loop picks from it (through the strategy, ε-greedy by default),
//! measures the picks and hands every entry back with its fate.

use crate::context::SearchContext;
use colt_ir::schedule::{Candidate, Lineage};
use std::collections::HashSet;

/// A candidate offered for measurement.
#[derive(Clone, Debug)]
pub struct PoolEntry {
    pub fingerprint: u64,
    pub candidate: Candidate,
    pub lineage: Lineage,
    /// The model whose proposal it is or extends (what its trial names).
    pub model: Option<String>,
    /// The strategy's own key for the entry (a tree node, a member).
    pub tag: u64,
    /// The cost model's prediction when it was offered.
    pub predicted: f64,
    /// Its position in the pool.
    pub position: usize,
}

pub struct Pool<'c> {
    ctx: &'c SearchContext<'c>,
    entries: Vec<PoolEntry>,
    seen: HashSet<u64>,
}

impl<'c> Pool<'c> {
    pub(crate) fn new(ctx: &'c SearchContext<'c>) -> Pool<'c> {
        Pool { ctx, entries: Vec::new(), seen: HashSet::new() }
    }

    /// Offers a candidate: taken, with its prediction returned, unless it
    /// was measured before or is already in the pool (the first offer of a
    /// fingerprint wins).
    pub fn offer(
        &mut self,
        fingerprint: u64,
        candidate: &Candidate,
        lineage: &Lineage,
        model: Option<&str>,
        tag: u64,
    ) -> Option<f64> {
        if self.ctx.is_measured(fingerprint) || !self.seen.insert(fingerprint) {
            return None;
        }
        let predicted = self.ctx.predict(candidate);
        self.entries.push(PoolEntry {
            fingerprint,
            candidate: candidate.clone(),
            lineage: lineage.clone(),
            model: model.map(str::to_string),
            tag,
            predicted,
            position: self.entries.len(),
        });
        Some(predicted)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[PoolEntry] {
        &self.entries
    }

    /// Every entry's prediction, in pool order.
    pub fn predicted(&self) -> Vec<f64> {
        self.entries.iter().map(|e| e.predicted).collect()
    }

    pub(crate) fn into_entries(self) -> Vec<PoolEntry> {
        self.entries
    }
}

/// What a measurement round did with a picked entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate {
    /// Measured: its latency, or None when the candidate failed.
    Measured(Option<f64>),
    /// The measurement machinery failed (not the candidate's fault): not
    /// a trial, and the candidate is still unmeasured.
    MachineryFailed,
}

/// A round's outcome for every entry of its pool.
pub struct RoundResults {
    /// The entries the round tried to measure, in measurement order.
    pub measured: Vec<(PoolEntry, Fate)>,
    /// The others, in pool order: not picked, or left when the job stopped.
    pub left: Vec<PoolEntry>,
}
