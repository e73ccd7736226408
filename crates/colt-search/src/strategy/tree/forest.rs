//! The trees of a tree search and who expands each: one shared tree for
//! `colt` and `single`, one per model for `colt:separate-trees`, one with
//! random edits for `mcts`; their snapshot, their values against the best,
//! and their models' statistics.

use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::ModelEntry;
use crate::node::NodeData;
use crate::outcome::ModelReport;
use colt_policy::{CourseAlteration, Expander, ModelAwareUct, ModelSpec, ModelStats, ModelSummary, Roster};
use colt_tree::{NewNode, Tree};
use std::sync::Arc;

/// The model-driven part of an arm.
pub(super) struct Models {
    pub roster: Arc<Roster>,
    /// By `ModelId`: the roster's models as the job names them.
    pub entries: Vec<ModelEntry>,
    pub stats: Arc<ModelStats>,
    pub expander: Expander,
}

/// A search tree, the models that expand it (None: random edits) and how
/// its children are chosen.
pub(super) struct Arm {
    pub tree: Tree<NodeData>,
    pub uct: ModelAwareUct,
    pub models: Option<Models>,
}

/// How a tree search's arms are expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expanders {
    /// Every model of the job on one shared tree.
    AllModels,
    /// The largest model alone.
    Largest,
    /// A tree per model, expanded in turn.
    SeparateTrees,
    /// No model: random legal edits.
    RandomEdits,
}

/// What the arms are built from.
pub(super) struct ArmSettings {
    pub expanders: Expanders,
    pub lambda: f64,
    pub exploration: f64,
    /// K of course alteration (u32::MAX: never).
    pub course_k: u32,
    pub seed: u64,
    /// Answers per model call (see `SearchParams::answers`).
    pub answers: usize,
    /// Prompts list the legal edits (`colt:legal-list`; off by default).
    pub list_legal: bool,
    /// The specialist's sampling temperature (`colt:specialist-temperature=T`);
    /// None: its default.
    pub temperature: Option<f32>,
}

pub(super) fn roster_of(models: &[ModelEntry]) -> Result<Roster, SearchError> {
    Roster::new(models.iter().map(|m| ModelSpec::new(m.name.clone(), m.parameters)).collect())
        .map_err(SearchError::Models)
}

/// The models of each arm: one arm without models for random edits, one
/// arm per model for separate trees, one arm with the job's models (the
/// largest alone for `single`) otherwise.
fn model_sets(expanders: Expanders, models: &[ModelEntry]) -> Vec<Option<Vec<ModelEntry>>> {
    match expanders {
        Expanders::RandomEdits => vec![None],
        Expanders::Largest => vec![Some(models.iter().max_by_key(|m| m.parameters).cloned().into_iter().collect())],
        Expanders::SeparateTrees => models.iter().map(|m| Some(vec![m.clone()])).collect(),
        Expanders::AllModels => vec![Some(models.to_vec())],
    }
}

/// The arms, each with a tree holding only `root` (trees are restored from
/// a snapshot later, when the job is resumed).
pub(super) fn arms(
    settings: &ArmSettings,
    models: &[ModelEntry],
    root: impl Fn() -> NewNode<NodeData>,
) -> Result<Vec<Arm>, SearchError> {
    let mut arms = Vec::new();
    for entries in model_sets(settings.expanders, models) {
        let models = entries.map(|entries| models_of(settings, entries)).transpose()?;
        let roster = match &models {
            Some(m) => m.roster.clone(),
            // One pseudo-model: UCT then sees no model differences.
            None => Arc::new(roster_of(&[ModelEntry { name: "random-edits".into(), parameters: 1 }])?),
        };
        let uct = ModelAwareUct::new(roster, settings.lambda, settings.exploration)?;
        arms.push(Arm { tree: Tree::new(root()), uct, models });
    }
    Ok(arms)
}

fn models_of(settings: &ArmSettings, entries: Vec<ModelEntry>) -> Result<Models, SearchError> {
    let roster = Arc::new(roster_of(&entries)?);
    let course = Arc::new(CourseAlteration::new(roster.clone(), settings.course_k.max(1))?);
    let stats = Arc::new(ModelStats::new(roster.clone()));
    let expander = Expander::new(stats.clone(), course, settings.seed ^ 0x6578_7061)
        .answers(settings.answers)
        .temperature(settings.temperature);
    Ok(Models { roster, entries, stats, expander })
}

/// The trees as one snapshot: the tree's own bytes when there is one, the
/// list of every tree's bytes otherwise.
pub(super) fn snapshot(arms: &[Arm]) -> Result<Vec<u8>, SearchError> {
    let failed = |e: &dyn std::fmt::Display| SearchError::TakeSnapshot { reason: e.to_string() };
    let mut trees = Vec::with_capacity(arms.len());
    for arm in arms {
        trees.push(arm.tree.snapshot().map_err(|e| failed(&e))?);
    }
    if trees.len() == 1 {
        return Ok(trees.remove(0));
    }
    bincode::serde::encode_to_vec(&trees, bincode::config::standard()).map_err(|e| failed(&e))
}

/// Replaces the arms' trees with those of a snapshot `snapshot` took, if
/// every node still builds the kernel it was recorded as.
pub(super) fn restore(arms: &mut [Arm], bytes: &[u8], ctx: &SearchContext<'_>) -> Result<(), SearchError> {
    let error =
        |e: &dyn std::fmt::Display| SearchError::Snapshot { reason: format!("cannot restore the tree snapshot: {e}") };
    let trees: Vec<Tree<NodeData>> = if arms.len() == 1 {
        vec![Tree::restore(bytes).map_err(|e| error(&e))?]
    } else {
        let (trees, read): (Vec<Vec<u8>>, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map_err(|e| error(&e))?;
        if read != bytes.len() {
            return Err(error(&format!("{} bytes after the last tree", bytes.len() - read)));
        }
        if trees.len() != arms.len() {
            return Err(error(&format!("it holds {} trees, the job has {} models", trees.len(), arms.len())));
        }
        trees.iter().map(|t| Tree::restore(t).map_err(|e| error(&e))).collect::<Result<_, _>>()?
    };
    check_lineages(&trees, ctx)?;
    for (arm, tree) in arms.iter_mut().zip(trees) {
        arm.tree = tree;
    }
    Ok(())
}

/// A node keeps only its lineage and its kernel's fingerprint: after a
/// change to colt's samplers or lowering its lineage may build another
/// kernel, which the tree would then credit with the recorded one's value
/// and measure (and record) under the recorded one's fingerprint. Such a
/// snapshot is refused whole (the job starts its tree again from its
/// trials, which are checked one by one, see `known.rs`).
fn check_lineages(trees: &[Tree<NodeData>], ctx: &SearchContext<'_>) -> Result<(), SearchError> {
    let (mut nodes, mut stale) = (0, 0);
    for node in trees.iter().flat_map(Tree::nodes) {
        if node.transposition_of().is_some() {
            continue;
        }
        nodes += 1;
        let builds_it = node
            .payload()
            .candidate(ctx.program(), ctx.space())
            .is_ok_and(|c| colt_ir::schedule::lower(c).fingerprint() == node.fingerprint());
        stale += usize::from(!builds_it);
    }
    if stale > 0 {
        return Err(SearchError::Snapshot {
            reason: format!(
                "{stale} of its {nodes} tree nodes no longer build the kernel they were recorded as \
                 (colt's sampling or lowering changed since)"
            ),
        });
    }
    Ok(())
}

/// Rewrites every measured node's value against the current best.
pub(super) fn renormalise(arms: &[Arm], ctx: &SearchContext<'_>) {
    let Some(best) = ctx.best_ms() else { return };
    for arm in arms {
        for node in arm.tree.nodes() {
            if node.transposition_of().is_some() {
                continue;
            }
            if let Some(latency) = ctx.measured_latency(node.fingerprint()) {
                let value = latency.map_or(0.0, |ms| (best / ms).clamp(0.0, 1.0));
                if node.measured() != Some(value) {
                    let _ = arm.tree.set_measured(node.id(), value);
                }
            }
        }
    }
}

/// Every model of the job with its calls so far, over all arms.
pub(super) fn summaries(arms: &[Arm]) -> Vec<(&ModelEntry, ModelSummary)> {
    arms.iter()
        .filter_map(|arm| arm.models.as_ref())
        .flat_map(|models| models.roster.ids().map(|id| (&models.entries[id.0 as usize], models.stats.summary(id))))
        .collect()
}

pub(super) fn reports(arms: &[Arm]) -> Vec<ModelReport> {
    summaries(arms)
        .into_iter()
        .map(|(entry, s)| ModelReport {
            name: entry.name.clone(),
            parameters: entry.parameters,
            calls: s.calls,
            errors: s.errors(),
            hit_rate: s.hit_rate(),
            tokens: s.tokens,
            seconds: s.seconds,
        })
        .collect()
}
