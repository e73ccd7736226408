//! One expansion of the tree search, on any search thread: select
//! (model-aware UCT with virtual loss, progressive widening), expand (the
//! acting model's joint action, or a random edit), roll out with the cost
//! model, back up.

use super::forest::Models;
use super::{PendingCandidate, TreeSearch};
use crate::context::SearchContext;
use crate::node::NodeData;
use crate::outcome::ProposalProbe;
use crate::strategy::ProbeDraft;
use colt_ir::schedule::{legal_edits, lower, Candidate, Edit, Lineage};
use colt_policy::protocol::{ExpansionView, Scores, SearchProgress, Shown};
use colt_tree::{ModelId, NewNode, NodeId, NodeRef, Tree};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A new child: the candidate, the edits from its parent, the model that
/// proposed them and the one to expand it next, and its score.
struct Child {
    candidate: Candidate,
    edits: Vec<Edit>,
    expanded_by: Option<ModelId>,
    next_model: Option<ModelId>,
    score: f64,
}

impl TreeSearch<'_> {
    /// `quota` expansions shared by the search threads: by random edits
    /// when `random`, else by the arm's models (random edits for `mcts`).
    /// No expansion starts after `deadline`; with one (a model phase under
    /// the model-time budget), one thread expands: on a machine the models
    /// already fill, a second call in flight makes both slower and only
    /// overruns the budget. Returns the expansions started.
    pub(super) fn expansion_phase(
        &self,
        ctx: &SearchContext<'_>,
        quota: usize,
        random: bool,
        deadline: Option<Instant>,
    ) -> usize {
        self.progress(ctx, "expanding");
        let done = AtomicUsize::new(0);
        let threads = if deadline.is_some() { 1 } else { ctx.threads() };
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let done = &done;
                scope.spawn(move || {
                    while !ctx.stopped()
                        && !self.llm_exhausted.load(Ordering::Relaxed)
                        && deadline.is_none_or(|d| Instant::now() < d)
                        && done.fetch_add(1, Ordering::Relaxed) < quota
                    {
                        if let Err(message) = self.expand_once(ctx, thread, random) {
                            ctx.warn(message);
                        }
                    }
                });
            }
        });
        done.into_inner().min(quota)
    }

    fn progress(&self, ctx: &SearchContext<'_>, phase: &str) {
        ctx.progress(phase, &super::forest::reports(&self.arms), self.course_alterations.load(Ordering::Relaxed));
    }

    fn expand_once(&self, ctx: &SearchContext<'_>, thread: usize, random: bool) -> Result<(), String> {
        // `arms` is never empty: `forest::arms` makes at least one.
        let arm_index = self.next_arm.fetch_add(1, Ordering::Relaxed) % self.arms.len();
        let arm = &self.arms[arm_index];
        let tree = &arm.tree;
        let root = tree.root();
        let mut path = tree
            .select_with(root, |parent, children| {
                // A node keeps gaining children as its visits grow: the
                // search goes deeper where it pays and wider where it is
                // visited most. The root's children are the sampled first
                // level.
                let widen = 1 + (parent.visits() as f64).sqrt() as usize / 2;
                if parent.id() != root && children.len() < widen {
                    None
                } else {
                    arm.uct.choose(parent, children)
                }
            })
            .map_err(|e| format!("selection failed: {e}"))?;
        let leaf = tree.node(path.leaf()).map_err(|e| e.to_string())?;
        let candidate = match leaf.payload().candidate(ctx.program(), ctx.space()) {
            Ok(c) => c.clone(),
            Err(e) => {
                let _ = tree.abandon(path);
                return Err(e.to_string());
            }
        };
        let models = arm.models.as_ref().filter(|_| !random);
        // A random expansion draws its edit without listing every legal one.
        let (legal, random_child) = match models {
            None => (Vec::new(), ctx.random_legal_edit(&candidate)),
            Some(_) => (legal_edits(&candidate), None),
        };
        if legal.is_empty() && random_child.is_none() {
            let value = leaf.measured().unwrap_or_else(|| ctx.predict(&candidate)).clamp(0.0, 1.0);
            let _ = tree.backup(path, value);
            return Ok(());
        }
        let child = match (models, random_child) {
            (_, Some((child, edit))) => {
                self.random_expansions.fetch_add(1, Ordering::Relaxed);
                let score = ctx.predict(&child);
                Some(Child { candidate: child, edits: vec![edit], expanded_by: None, next_model: None, score })
            }
            (None, None) => None,
            (Some(models), None) => {
                let over_budget = |budget: u64| self.llm_reserved.fetch_add(1, Ordering::SeqCst) >= budget;
                if ctx.llm_call_budget().is_some_and(over_budget) {
                    self.llm_exhausted.store(true, Ordering::Relaxed);
                    let _ = tree.abandon(path);
                    return Ok(());
                }
                let model = leaf.next_model().unwrap_or_else(|| models.stats.route(None));
                self.model_expansion(ctx, tree, models, model, leaf, &candidate, &legal, thread)
            }
        };
        let Some(child) = child else {
            let _ = tree.abandon(path);
            return Ok(());
        };
        let lineage = leaf.payload().lineage.then(&child.edits);
        let fingerprint = lower(&child.candidate).fingerprint();
        let node = NewNode {
            fingerprint,
            payload: NodeData::new(lineage.clone(), child.candidate.clone(), child.score),
            expanded_by: child.expanded_by,
            next_model: child.next_model,
        };
        let inserted = match tree.add_children(leaf.id(), [node]) {
            Ok(v) => v,
            Err(e) => {
                let _ = tree.abandon(path);
                return Err(format!("cannot add a child: {e}"));
            }
        };
        // One child asked, so `add_children` answered one insertion.
        let child_id = inserted[0].id;
        if let Err(e) = tree.extend(&mut path, child_id) {
            let _ = tree.abandon(path);
            return Err(e.to_string());
        }
        let mut value = child.score;
        let params = ctx.params();
        let rollouts = if models.is_some() { params.llm_rollouts } else { params.rollouts };
        for _ in 0..rollouts {
            if ctx.stopped() {
                break;
            }
            if let Some((s, pending)) = rollout(ctx, arm_index, child_id, child.expanded_by, &child.candidate, &lineage)
            {
                value = value.max(s);
                if s > child.score {
                    self.add_pending(s, pending);
                }
            }
        }
        self.stalled_since.fetch_add(1, Ordering::Relaxed);
        tree.backup(path, value.clamp(0.0, 1.0)).map_err(|e| e.to_string())?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn model_expansion(
        &self,
        ctx: &SearchContext<'_>,
        tree: &Tree<NodeData>,
        models: &Models,
        model: ModelId,
        leaf: NodeRef<'_, NodeData>,
        candidate: &Candidate,
        legal: &[Edit],
        thread: usize,
    ) -> Option<Child> {
        let ancestor = |id: Option<NodeId>| id.and_then(|id| tree.node(id).ok());
        let parent = ancestor(leaf.parent());
        let grandparent = ancestor(parent.and_then(|p| p.parent()));
        let shown_of = |node: NodeRef<'_, NodeData>| -> Option<(Candidate, Scores)> {
            let c = node.payload().candidate(ctx.program(), ctx.space()).ok()?.clone();
            Some((c, Scores { predicted: node.payload().predicted(), measured: node.measured() }))
        };
        let parent_shown = parent.and_then(shown_of);
        let grandparent_shown = grandparent.and_then(shown_of);
        let current_scores = Scores { predicted: leaf.payload().predicted(), measured: leaf.measured() };
        let reading = ctx.roofline_reading(candidate);
        let view = ExpansionView {
            current: Shown { candidate, scores: current_scores },
            parent: parent_shown.as_ref().map(|(c, s)| Shown { candidate: c, scores: *s }),
            grandparent: grandparent_shown.as_ref().map(|(c, s)| Shown { candidate: c, scores: *s }),
            legal,
            list_legal: self.settings.list_legal,
            stats: &models.stats,
            progress: SearchProgress {
                trials: ctx.trials(),
                trial_budget: ctx.trial_budget(),
                best_latency: ctx.best_ms().map(|ms| ms / 1000.0),
                stalled_expansions: self.stalled_since.load(Ordering::Relaxed),
            },
            history: &self.history,
            reading: Some(&reading),
        };
        let seed = (ctx.next_u64() as u32) ^ thread as u32;
        let mut score = |c: &Candidate| ctx.predict(c);
        let mut expansion = models.expander.expand(self.proposer, model, seed, &view, &mut score).ok()?;
        if expansion.correction.is_some() {
            self.course_alterations.fetch_add(1, Ordering::Relaxed);
        }
        let parent_fingerprint = leaf.fingerprint();
        let drafts = std::mem::take(&mut expansion.probes).into_iter().map(|probe| {
            let duplicate = probe.proposal.as_ref().is_some_and(|(c, _)| {
                let fingerprint = lower(c).fingerprint();
                fingerprint == parent_fingerprint || tree.find(fingerprint).is_some()
            });
            let name = models.entries.get(probe.model.0 as usize).map_or("?".to_string(), |m| m.name.clone());
            ProbeDraft {
                probe: ProposalProbe {
                    model: name,
                    parent_predicted: probe.parent_score,
                    proposal_predicted: probe.proposal.as_ref().map(|(_, s)| *s),
                    random_predicted: probe.random.1,
                    duplicate,
                    measured: false,
                    proposal_ms: None,
                    random_ms: None,
                },
                proposal: probe.proposal.map(|(c, _)| c),
                random: probe.random.0,
            }
        });
        self.probes.lock().extend(drafts);
        self.progress(ctx, "expanding");
        Some(Child {
            candidate: expansion.child,
            edits: expansion.edits,
            expanded_by: Some(expansion.expanded_by),
            next_model: Some(expansion.next_model),
            score: expansion.score,
        })
    }
}

/// A few random edits deep from `child`, scored by the cost model: the
/// best candidate seen and its score.
fn rollout(
    ctx: &SearchContext<'_>,
    arm: usize,
    parent: NodeId,
    model: Option<ModelId>,
    child: &Candidate,
    lineage: &Lineage,
) -> Option<(f64, PendingCandidate)> {
    let mut current = child.clone();
    let mut edits = Vec::new();
    let mut best: Option<(f64, Candidate, usize)> = None;
    for _ in 0..ctx.params().rollout_depth {
        let Some((next, edit)) = ctx.random_legal_edit(&current) else { break };
        edits.push(edit);
        let s = ctx.predict(&next);
        if best.as_ref().is_none_or(|(b, _, _)| s > *b) {
            best = Some((s, next.clone(), edits.len()));
        }
        current = next;
    }
    let (score, candidate, depth) = best?;
    let fingerprint = lower(&candidate).fingerprint();
    let lineage = lineage.then(&edits[..depth]);
    Some((score, PendingCandidate { arm, parent, model, candidate, lineage, fingerprint }))
}
