//! The tree search of DESIGN.md: `colt` (every model on one shared tree,
//! with the ablations `:separate-trees`, `:no-course-alteration` and
//! `:lambda=X`), `single` (the largest model alone) and `mcts` (random
//! legal edits instead of models) — one search, told apart by who expands.
//!
//! Each round the root widens with the best-predicted fresh samples, then
//! search threads select by model-aware UCT with virtual loss, expand (a
//! model's joint action or a random edit), roll out with the cost model
//! and back up. The pool is every unmeasured node, then the rollouts'
//! best candidates, which join the tree under their node when measured.
//! Values are throughput over the job's best (in [0, 1]); measured values
//! are rewritten when the best improves.

mod expand;
mod forest;

use crate::bounds::{parse_count, MAX_CHEAP_EXPANSIONS, MAX_MODEL_SHARE};
use crate::context::SearchContext;
use crate::error::SearchError;
use crate::job::JobSpec;
use crate::known::KnownCandidate;
use crate::node::NodeData;
use crate::outcome::ModelReport;
use crate::pool::{Fate, Pool, RoundResults};
use crate::registry::{no_options, OptionError, StrategyChoice, StrategyKind};
use crate::strategy::{Generated, ProbeDraft, Strategy};
use colt_ir::schedule::{Candidate, Lineage};
use colt_policy::Proposer;
use colt_tree::{ModelId, NewNode, NodeId};
use forest::{Arm, ArmSettings, Expanders};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const COLT: StrategyKind = StrategyKind {
    name: "colt",
    syntax: "colt[:separate-trees][:no-course-alteration][:legal-list|:no-legal-list][:lambda=X][:cheap=N][:model-share=S][:specialist-temperature=T] (X in [0, 1]; N, at most 4096, random-edit expansions a round beside the models'; S in (0, 100] the most model time per second of the rest of the job, or none; T in [0, 4] the specialist's sampling temperature, 0 its most likely answer)",
    uses_models: true,
    options: colt_options,
    build: |choice, job, proposer| {
        let has = |option: &str| choice.options().iter().any(|o| o == option);
        let expanders = if has("separate-trees") { Expanders::SeparateTrees } else { Expanders::AllModels };
        build_tree_search(expanders, choice, job, proposer)
    },
};

pub const SINGLE: StrategyKind = StrategyKind {
    name: "single",
    syntax: "single",
    uses_models: true,
    options: no_options,
    build: |choice, job, proposer| build_tree_search(Expanders::Largest, choice, job, proposer),
};

pub const MCTS: StrategyKind = StrategyKind {
    name: "mcts",
    syntax: "mcts",
    uses_models: false,
    options: no_options,
    build: |choice, job, proposer| build_tree_search(Expanders::RandomEdits, choice, job, proposer),
};

/// Rollout candidates waiting for a measurement round are capped: the best
/// predicted ones are kept.
const PENDING_CAP: usize = 256;

/// `colt`'s ablations, in the order they print. None is given twice (the
/// registry refuses that before).
fn colt_options(parts: &[&str]) -> Result<Vec<String>, OptionError> {
    let (mut separate, mut no_course, mut lambda, mut cheap) = (false, false, None, None);
    let (mut share, mut list, mut temperature) = (None, None, None);
    for part in parts {
        match *part {
            "separate-trees" => separate = true,
            "no-course-alteration" => no_course = true,
            // The default lists none; `no-legal-list` (the default's name
            // before 2026-12-04) still parses, and prints as given.
            "legal-list" | "no-legal-list" => {
                if list.replace(*part).is_some_and(|before| before != *part) {
                    return Err(OptionError::Unknown);
                }
            }
            _ => {
                if let Some(n) = part.strip_prefix("cheap=") {
                    let what = "the random-edit expansions a round (colt_search::MAX_CHEAP_EXPANSIONS)";
                    cheap = Some(parse_count("cheap", n, 0, MAX_CHEAP_EXPANSIONS, what)?);
                    continue;
                }
                if let Some(s) = part.strip_prefix("model-share=") {
                    share = Some(parse_model_share(s).ok_or_else(|| {
                        OptionError::Invalid(format!(
                            "model-share {s}: the model time per second of the rest of the job is a number \
                             above 0 and at most {MAX_MODEL_SHARE} (colt_search::MAX_MODEL_SHARE), or `none`"
                        ))
                    })?);
                    continue;
                }
                if let Some(t) = part.strip_prefix("specialist-temperature=") {
                    temperature = Some(parse_temperature(t).ok_or_else(|| {
                        OptionError::Invalid(format!(
                            "specialist-temperature {t}: the specialist's sampling temperature is a number from 0 \
                             to {MAX_SPECIALIST_TEMPERATURE}"
                        ))
                    })?);
                    continue;
                }
                let text = part.strip_prefix("lambda=").ok_or(OptionError::Unknown)?;
                let l: f64 = text.parse().ok().filter(|l| (0.0..=1.0).contains(l)).ok_or_else(|| {
                    OptionError::Invalid(format!("lambda {text}: λ of model-aware UCT is a number from 0 to 1"))
                })?;
                lambda = Some(l);
            }
        }
    }
    let mut options = Vec::new();
    options.extend(separate.then(|| "separate-trees".to_string()));
    options.extend(no_course.then(|| "no-course-alteration".to_string()));
    options.extend(list.map(str::to_string));
    options.extend(lambda.map(|l| format!("lambda={l}")));
    options.extend(cheap.map(|n| format!("cheap={n}")));
    options
        .extend(share.map(|s: Option<f64>| format!("model-share={}", s.map_or("none".to_string(), |s| s.to_string()))));
    options.extend(temperature.map(|t| format!("specialist-temperature={t}")));
    Ok(options)
}

/// The highest specialist temperature `colt:specialist-temperature=` takes:
/// beyond it the answers are as good as uniform draws of the legal tokens.
const MAX_SPECIALIST_TEMPERATURE: f32 = 4.0;

fn parse_temperature(text: &str) -> Option<f32> {
    let t: f32 = text.parse().ok()?;
    (0.0..=MAX_SPECIALIST_TEMPERATURE).contains(&t).then_some(t)
}

/// `model-share=`'s value: a positive finite number at most
/// [`MAX_MODEL_SHARE`], or `none`.
fn parse_model_share(text: &str) -> Option<Option<f64>> {
    if text == "none" {
        return Some(None);
    }
    let share: f64 = text.parse().ok()?;
    (share.is_finite() && share > 0.0 && share <= MAX_MODEL_SHARE).then_some(Some(share))
}

/// The tree search expanded by `expanders`, with `choice`'s ablations.
fn build_tree_search<'p>(
    expanders: Expanders,
    choice: &StrategyChoice,
    job: &JobSpec,
    proposer: &'p dyn Proposer,
) -> Result<Box<dyn Strategy + 'p>, SearchError> {
    let options = choice.options();
    let has = |option: &str| options.iter().any(|o| o == option);
    if expanders != Expanders::RandomEdits && job.models.is_empty() {
        return Err(SearchError::NoModels { strategy: choice.to_string() });
    }
    let params = &job.settings.params;
    let lambda = options.iter().find_map(|o| o.strip_prefix("lambda=")?.parse().ok()).unwrap_or(params.lambda);
    let cheap = options.iter().find_map(|o| o.strip_prefix("cheap=")?.parse().ok()).unwrap_or(params.cheap_expansions);
    let model_share = match expanders {
        // `single` is the baseline of the largest model at every expansion.
        Expanders::Largest | Expanders::RandomEdits => None,
        Expanders::AllModels | Expanders::SeparateTrees => options
            .iter()
            .find_map(|o| parse_model_share(o.strip_prefix("model-share=")?))
            .unwrap_or(params.model_share),
    };
    let settings = ArmSettings {
        expanders,
        lambda,
        exploration: params.exploration,
        course_k: if has("no-course-alteration") { u32::MAX } else { params.course_k },
        seed: job.settings.seed,
        answers: params.answers,
        list_legal: has("legal-list"),
        temperature: options.iter().find_map(|o| parse_temperature(o.strip_prefix("specialist-temperature=")?)),
    };
    Ok(Box::new(TreeSearch {
        settings,
        cheap: if expanders == Expanders::RandomEdits { 0 } else { cheap },
        model_share,
        model_seconds: 0.0,
        model_expansions: 0,
        random_expansions: AtomicU64::new(0),
        proposer,
        arms: Vec::new(),
        next_arm: AtomicUsize::new(0),
        pending: Mutex::new(Vec::new()),
        offered: Vec::new(),
        course_alterations: AtomicU64::new(0),
        llm_exhausted: AtomicBool::new(false),
        llm_reserved: AtomicU64::new(0),
        stalled_since: AtomicUsize::new(0),
        last_best: None,
        probes: Mutex::new(Vec::new()),
        history: String::new(),
    }))
}

/// The most edit kinds a prompt's history lists.
const HISTORY_EDITS: usize = 8;

/// What the job's measurements say of its edits, for the prompts (OPRO's
/// trajectory, compactly): per kind of edit on a stage, how often a
/// measured child made by it followed a measured parent and the mean
/// change of measured throughput (several edits at once share the
/// change). Empty before any such pair.
fn measured_history(arms: &[Arm]) -> String {
    let mut effects: Vec<(String, usize, f64)> = Vec::new();
    for arm in arms {
        for node in arm.tree.nodes() {
            if node.transposition_of().is_some() {
                continue;
            }
            let Some(value) = node.measured().filter(|v| *v > 0.0) else { continue };
            let Some(parent) = node.parent().and_then(|p| arm.tree.node(p).ok()) else { continue };
            let Some(parent_value) = parent.measured().filter(|v| *v > 0.0) else { continue };
            let (mine, theirs) = (&node.payload().lineage, &parent.payload().lineage);
            if mine.seed != theirs.seed || !mine.edits.starts_with(&theirs.edits) {
                continue;
            }
            let added = &mine.edits[theirs.edits.len()..];
            if added.is_empty() {
                continue;
            }
            let change = (value / parent_value).ln() / added.len() as f64;
            for edit in added {
                let label = edit_label(edit);
                match effects.iter_mut().find(|(l, _, _)| *l == label) {
                    Some((_, n, sum)) => {
                        *n += 1;
                        *sum += change;
                    }
                    None => effects.push((label, 1, change)),
                }
            }
        }
    }
    if effects.is_empty() {
        return String::new();
    }
    effects.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed: Vec<String> = effects
        .iter()
        .take(HISTORY_EDITS)
        .map(|(label, n, sum)| format!("{label} {n}x {:+.0}%", 100.0 * ((sum / *n as f64).exp() - 1.0)))
        .collect();
    format!(
        "measured effect of edits on this workload (edit on stage, times, mean throughput change): {}\n",
        listed.join("; ")
    )
}

/// `tile(stage="C", …)` → `tile C`: an edit's kind and stage.
fn edit_label(edit: &str) -> String {
    let kind = edit.split('(').next().unwrap_or(edit);
    let stage = edit.split("stage=\"").nth(1).and_then(|rest| rest.split('"').next());
    match stage {
        Some(stage) => format!("{kind} {stage}"),
        None => kind.to_string(),
    }
}

/// A candidate a rollout found, not yet in the tree: it joins the tree
/// under `parent` if it is measured.
struct PendingCandidate {
    parent: NodeId,
    /// The arm whose tree `parent` is in.
    arm: usize,
    /// The model whose proposal the rollout extends, None after a random
    /// expansion.
    model: Option<ModelId>,
    candidate: Candidate,
    lineage: Lineage,
    fingerprint: u64,
}

/// What a pool entry's tag stands for in this round.
enum Offered {
    Node { arm: usize, id: NodeId },
    Pending(PendingCandidate),
}

pub struct TreeSearch<'p> {
    settings: ArmSettings,
    /// Random-edit expansions a round beside the models' (0 for `mcts`,
    /// whose every expansion is one).
    cheap: usize,
    /// The most model time per second of the rest of the run (see
    /// `SearchParams::model_share`); None: no budget.
    model_share: Option<f64>,
    /// This run's model phases' wall time so far, and their expansions.
    model_seconds: f64,
    model_expansions: usize,
    /// Random-edit expansions made so far (this run's).
    random_expansions: AtomicU64,
    proposer: &'p dyn Proposer,
    arms: Vec<Arm>,
    /// Expansions go to the arms in turn.
    next_arm: AtomicUsize,
    pending: Mutex<Vec<(f64, PendingCandidate)>>,
    /// This round's pool entries, by tag.
    offered: Vec<Option<Offered>>,
    course_alterations: AtomicU64,
    llm_exhausted: AtomicBool,
    /// Model calls made or about to be made (a resumed job's included):
    /// each search thread reserves its call here before making it, so that
    /// threads racing at the budget cannot all pass the check.
    llm_reserved: AtomicU64,
    /// Expansions since the best last improved (a prompt shows it).
    stalled_since: AtomicUsize,
    last_best: Option<f64>,
    /// Proposal probes of this round's model calls.
    probes: Mutex<Vec<ProbeDraft>>,
    /// What the job measured so far, as this round's prompts show it.
    history: String,
}

impl TreeSearch<'_> {
    /// The name of the model `model` of arm `arm`, for records.
    fn model_name(&self, arm: usize, model: Option<ModelId>) -> Option<String> {
        let models = self.arms.get(arm)?.models.as_ref()?;
        models.entries.get(model?.0 as usize).map(|m| m.name.clone())
    }

    /// Every tree starts from the same screened samples of the design
    /// space.
    fn add_initial_level(&self, ctx: &SearchContext<'_>) {
        let samples = ctx.screened(ctx.params().initial);
        for arm in &self.arms {
            let nodes = samples.iter().map(|s| {
                NewNode::new(s.fingerprint, NodeData::new(s.lineage.clone(), s.candidate.clone(), s.predicted))
            });
            let _ = arm.tree.add_children(arm.tree.root(), nodes);
        }
    }

    /// Progressive widening of the root: the root's children are samples of
    /// the design space, and each round `root_widening` screened samples
    /// join them (every tree's root, for separate trees). Without it the
    /// tree only grows around its first samples, and a good region of the
    /// space that none of them is near is never reached: on 2026-11-25,
    /// with the best 8 of 48 uniform samples a round, `mcts` at 64 trials
    /// went from 7.37 to 3.58 ms on deepseek-r1-moe (7.43 to 5.06 with
    /// another seed), 6.68 to 4.84 ms on llama3-8b-attn, 16.96 to 15.03 on
    /// flux-attn, 1.41 to 1.18 on flux-conv, 6.60 to 6.76 on
    /// llama4-scout-mlp and 0.915 to 0.981 on gemm-512 (one seed each).
    fn widen_root(&self, ctx: &SearchContext<'_>) {
        let widening = ctx.params().root_widening;
        if widening == 0 {
            return;
        }
        let samples = ctx.screened(widening);
        for arm in &self.arms {
            let nodes = samples.iter().map(|s| {
                NewNode::new(s.fingerprint, NodeData::new(s.lineage.clone(), s.candidate.clone(), s.predicted))
            });
            let _ = arm.tree.add_children(arm.tree.root(), nodes);
        }
    }

    fn add_pending(&self, score: f64, candidate: PendingCandidate) {
        let mut pending = self.pending.lock();
        pending.push((score, candidate));
        if pending.len() > 2 * PENDING_CAP {
            pending.sort_by(|a, b| b.0.total_cmp(&a.0));
            pending.truncate(PENDING_CAP);
        }
    }

    /// The last moment this round's model phase may start an expansion:
    /// one that ends, by this run's mean model expansion so far, before the
    /// run's model time passes its share of the rest of the run's wall time
    /// (`SearchParams::model_share`). Before the first expansion there is
    /// no mean, and one starts if any budget is left. The model phase is
    /// the only time the models run, so the rest is the run's time outside
    /// it. None: no budget.
    fn model_phase_deadline(&self, ctx: &SearchContext<'_>, now: Instant) -> Option<Instant> {
        let share = self.model_share?;
        let rest = (ctx.elapsed_s() - self.model_seconds).max(0.0);
        let allowed = share * rest - self.model_seconds;
        if allowed <= 0.0 {
            return Some(now);
        }
        let mean = if self.model_expansions == 0 { 0.0 } else { self.model_seconds / self.model_expansions as f64 };
        Some(now + Duration::from_secs_f64((allowed - mean).max(0.0)))
    }

    fn total_calls(&self) -> u64 {
        forest::summaries(&self.arms).iter().map(|(_, s)| s.calls).sum()
    }
}

impl Strategy for TreeSearch<'_> {
    fn pre_tuning(
        &mut self,
        ctx: &SearchContext<'_>,
        known: &[KnownCandidate],
        snapshot: Option<&[u8]>,
    ) -> Result<(), SearchError> {
        let (root, lineage, fingerprint) = ctx.first_candidate();
        let root_node = || NewNode::new(fingerprint, NodeData::new(lineage.clone(), root.clone(), 0.0));
        self.arms = forest::arms(&self.settings, ctx.models(), root_node)?;
        if let Some(bytes) = snapshot {
            forest::restore(&mut self.arms, bytes, ctx)?;
        }
        // A trial recorded after the last snapshot is added under the root:
        // of every tree for an earlier job's record, of the tree of the
        // model that proposed it for this job's own.
        for k in known {
            let of_model = |arm: &Arm| {
                arm.models.as_ref().is_some_and(|m| m.entries.iter().any(|e| Some(&e.name) == k.model.as_ref()))
            };
            let owner = self.arms.iter().position(of_model);
            for (i, arm) in self.arms.iter().enumerate() {
                if owner.is_some_and(|o| o != i) || arm.tree.find(k.fingerprint).is_some() {
                    continue;
                }
                let node = NewNode::new(k.fingerprint, NodeData::new(k.lineage.clone(), k.candidate.clone(), 0.0));
                let _ = arm.tree.add_children(arm.tree.root(), [node]);
            }
        }
        if snapshot.is_none() {
            self.add_initial_level(ctx);
        }
        self.last_best = ctx.best_ms();
        self.llm_reserved.store(self.total_calls(), Ordering::SeqCst);
        Ok(())
    }

    fn generate(&mut self, ctx: &SearchContext<'_>) -> Generated {
        self.widen_root(ctx);
        if self.settings.expanders != Expanders::RandomEdits {
            self.history = measured_history(&self.arms);
        }
        let params = ctx.params();
        let quota = if self.settings.expanders == Expanders::RandomEdits {
            params.random_expansions
        } else {
            params.llm_expansions
        };
        if self.cheap > 0 {
            self.expansion_phase(ctx, self.cheap, true, None);
        }
        // An arm without models (`mcts`) expands by random edits anyway.
        let started = Instant::now();
        let expansions = match self.model_phase_deadline(ctx, started) {
            Some(deadline) if deadline <= started => 0,
            deadline => self.expansion_phase(ctx, quota, false, deadline),
        };
        if self.settings.expanders != Expanders::RandomEdits {
            self.model_seconds += started.elapsed().as_secs_f64();
            self.model_expansions += expansions;
        }
        if self.llm_exhausted.load(Ordering::Relaxed) {
            Generated::LlmBudgetSpent
        } else {
            Generated::Candidates
        }
    }

    fn fill(&mut self, ctx: &SearchContext<'_>, pool: &mut Pool<'_>) {
        self.offered.clear();
        for (arm_index, arm) in self.arms.iter().enumerate() {
            for node in arm.tree.nodes() {
                if node.transposition_of().is_some() {
                    continue;
                }
                let Ok(candidate) = node.payload().candidate(ctx.program(), ctx.space()) else { continue };
                let model = self.model_name(arm_index, node.expanded_by());
                let tag = self.offered.len() as u64;
                let lineage = &node.payload().lineage;
                if let Some(p) = pool.offer(node.fingerprint(), candidate, lineage, model.as_deref(), tag) {
                    node.payload().set_predicted(p);
                    self.offered.push(Some(Offered::Node { arm: arm_index, id: node.id() }));
                }
            }
        }
        let pending = std::mem::take(&mut *self.pending.lock());
        for (_, entry) in pending {
            let tag = self.offered.len() as u64;
            let model = self.model_name(entry.arm, entry.model);
            if pool.offer(entry.fingerprint, &entry.candidate, &entry.lineage, model.as_deref(), tag).is_some() {
                self.offered.push(Some(Offered::Pending(entry)));
            }
        }
    }

    fn notify(&mut self, ctx: &SearchContext<'_>, results: RoundResults) {
        let best = ctx.best_ms();
        for (entry, fate) in results.measured {
            let Some(offered) = self.offered.get_mut(entry.tag as usize).and_then(Option::take) else { continue };
            // A measured rollout candidate joins the tree under its node,
            // in the order the round measured them.
            let (arm, id) = match offered {
                Offered::Node { arm, id } => (arm, id),
                Offered::Pending(p) => {
                    let payload = NodeData::new(p.lineage, p.candidate, entry.predicted);
                    let node = NewNode { fingerprint: p.fingerprint, payload, expanded_by: p.model, next_model: None };
                    // One child asked, one insertion answered.
                    let Ok(inserted) = self.arms[p.arm].tree.add_children(p.parent, [node]) else { continue };
                    (p.arm, inserted[0].id)
                }
            };
            if let Fate::Measured(latency) = fate {
                let value = match (latency, best) {
                    (Some(ms), Some(best)) => (best / ms).clamp(0.0, 1.0),
                    _ => 0.0,
                };
                let _ = self.arms[arm].tree.set_measured(id, value);
            }
        }
        // Rollout candidates not measured this round wait for the next.
        let mut pending = self.pending.lock();
        for entry in results.left {
            if let Some(Some(Offered::Pending(p))) = self.offered.get_mut(entry.tag as usize).map(Option::take) {
                pending.push((0.0, p));
            }
        }
        pending.truncate(PENDING_CAP);
        drop(pending);
        self.offered.clear();
        if best != self.last_best {
            self.stalled_since.store(0, Ordering::Relaxed);
            self.last_best = best;
        }
    }

    fn post_round(&mut self, ctx: &SearchContext<'_>) {
        forest::renormalise(&self.arms, ctx);
    }

    fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        forest::snapshot(&self.arms)
    }

    fn models(&self) -> Vec<ModelReport> {
        forest::reports(&self.arms)
    }

    fn course_alterations(&self) -> u64 {
        self.course_alterations.load(Ordering::Relaxed)
    }

    fn size(&self) -> usize {
        self.arms.iter().map(|a| a.tree.len()).sum()
    }

    fn random_expansions(&self) -> u64 {
        self.random_expansions.load(Ordering::Relaxed)
    }

    fn take_probes(&mut self) -> Vec<ProbeDraft> {
        std::mem::take(&mut *self.probes.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::edit_label;

    #[test]
    fn an_edit_is_labelled_by_its_kind_and_stage() {
        assert_eq!(edit_label(r#"tile(stage="C", axis="i", factors=[4, 2, 16])"#), "tile C");
        assert_eq!(edit_label(r#"inline(stage="H")"#), "inline H");
        assert_eq!(edit_label("swizzle"), "swizzle");
    }
}
