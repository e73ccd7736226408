//! The candidates a population strategy (evolutionary, random, beam) has
//! made, in the order it made them: the job's first candidate, the known
//! records, then every generated one. Measured members are the population
//! a strategy breeds from; unmeasured ones are offered to every round's
//! pool until measured. The snapshot is the members' lineages.

use crate::context::SearchContext;
use crate::error::SearchError;
use crate::known::KnownCandidate;
use crate::node::NodeData;
use crate::pool::Pool;
use colt_ir::schedule::{Candidate, Lineage, Sampler};
use colt_tree::Tree;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub struct Member {
    pub candidate: Candidate,
    pub lineage: Lineage,
    pub fingerprint: u64,
}

#[derive(Default)]
pub struct Members {
    members: Vec<Member>,
    fingerprints: HashSet<u64>,
}

/// What a population strategy's snapshot holds.
#[derive(Serialize, Deserialize)]
struct MembersSnapshot {
    lineages: Vec<Lineage>,
}

/// The first bytes of a colt-tree snapshot: evolutionary and random jobs
/// of colt before colt-search kept their candidates under a tree's root,
/// and their snapshots still resume.
const TREE_MAGIC: &[u8] = b"COLTTREE";

impl Members {
    /// The job's first candidate (or the snapshot's members), then every
    /// known candidate not among them.
    pub fn start(
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<Members, SearchError> {
        Members::start_by(ctx, ctx.spec().sampler(), known, snapshot)
    }

    /// [`start`](Members::start) with the first candidate drawn by `sampler`.
    pub fn start_by(
        ctx: &SearchContext<'_>,
        sampler: Sampler,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<Members, SearchError> {
        let mut members = Members::default();
        match snapshot {
            None => {
                let (candidate, lineage, fingerprint) = ctx.first_candidate_by(sampler);
                members.push(candidate, lineage, fingerprint);
            }
            Some(bytes) => {
                for lineage in lineages_of(bytes)? {
                    match lineage.rebuild_on(ctx.program(), ctx.space()) {
                        Ok(candidate) => {
                            let fingerprint = colt_ir::schedule::lower(&candidate).fingerprint();
                            members.push(candidate, lineage, fingerprint);
                        }
                        Err(e) => ctx.warn(format!("a snapshot's candidate no longer builds: {e}; skipped")),
                    }
                }
            }
        }
        for k in known {
            members.push(k.candidate.clone(), k.lineage.clone(), k.fingerprint);
        }
        Ok(members)
    }

    /// Adds a member unless one has its fingerprint; whether it was added.
    pub fn push(&mut self, candidate: Candidate, lineage: Lineage, fingerprint: u64) -> bool {
        if !self.fingerprints.insert(fingerprint) {
            return false;
        }
        self.members.push(Member { candidate, lineage, fingerprint });
        true
    }

    pub fn contains(&self, fingerprint: u64) -> bool {
        self.fingerprints.contains(&fingerprint)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Offers every unmeasured member, in order (tagged by position).
    pub fn fill(&self, pool: &mut Pool<'_>) {
        for (i, m) in self.members.iter().enumerate() {
            pool.offer(m.fingerprint, &m.candidate, &m.lineage, None, i as u64);
        }
    }

    /// The verified members, fastest first (ties in the order they were
    /// made).
    pub fn fastest(&self, ctx: &SearchContext<'_>) -> Vec<&Member> {
        let mut measured: Vec<(f64, &Member)> = self
            .members
            .iter()
            .filter_map(|m| ctx.measured_latency(m.fingerprint).flatten().map(|ms| (ms, m)))
            .collect();
        measured.sort_by(|a, b| a.0.total_cmp(&b.0));
        measured.into_iter().map(|(_, m)| m).collect()
    }

    pub fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        let snapshot = MembersSnapshot { lineages: self.members.iter().map(|m| m.lineage.clone()).collect() };
        bincode::serde::encode_to_vec(&snapshot, bincode::config::standard())
            .map_err(|e| SearchError::TakeSnapshot { reason: e.to_string() })
    }
}

fn lineages_of(bytes: &[u8]) -> Result<Vec<Lineage>, SearchError> {
    let error = |e: &dyn std::fmt::Display| SearchError::Snapshot { reason: e.to_string() };
    if bytes.starts_with(TREE_MAGIC) {
        let tree: Tree<NodeData> = Tree::restore(bytes).map_err(|e| error(&e))?;
        return Ok(tree.nodes().map(|n| n.payload().lineage.clone()).collect());
    }
    let (snapshot, read): (MembersSnapshot, usize) =
        bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map_err(|e| error(&e))?;
    if read != bytes.len() {
        return Err(error(&format!("{} bytes after the members", bytes.len() - read)));
    }
    Ok(snapshot.lineages)
}
