//! The job loop: baseline, first level, then rounds of candidate
//! generation and measurement until a budget is spent or the job is told
//! to stop.
//!
//! Values in the tree are throughput over the best measured throughput of
//! the job (so in [0, 1]); when the best improves, every measured node's
//! value is rewritten with the new best (`Tree::set_measured` replaces the
//! backups it contributed), and every unmeasured candidate's prediction is
//! refreshed after each retraining. Predicted values already backed up
//! through interior nodes are not rewritten: they were the best estimate
//! when backed up and are outweighed as visits accumulate.

use super::{Event, JobSpec, ModelEntry, Progress, Services, Strategy, TrialEvent};
use crate::db::TrialRecord;
use crate::node::{Lineage, NodeData};
use colt_ir::features::{features, features_of};
use colt_ir::schedule::{legal_edits, lower, Candidate, Edit, Rng, Target};
use colt_measure::opencl::OpenClKernel;
use colt_measure::KernelSource;
use colt_policy::cost::{CostModel, Roofline};
use colt_policy::protocol::{ExpansionView, Scores, SearchProgress, Shown};
use colt_policy::{
    CourseAlteration, EpsilonGreedy, Expander, ModelAwareUct, ModelSpec, ModelStats, ModelSummary, Proposal,
    ProposalFailure, Proposer, Roster,
};
use colt_tree::{ModelId, NewNode, NodeId, NodeRef, Tree};
use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Rollout candidates waiting for a measurement round are capped: the best
/// predicted ones are kept.
const PENDING_CAP: usize = 256;

/// Why a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    TrialBudget,
    LlmBudget,
    WallClock,
    /// Told to stop (Ctrl-C, a cancelled daemon job).
    Stopped,
    /// Nothing left to measure: every candidate the strategy can reach has
    /// been measured.
    Exhausted,
}

/// What a finished (or stopped) job found.
pub struct Outcome {
    pub reason: StopReason,
    pub naive_ms: f64,
    /// The best verified candidate: latency, lineage, candidate.
    pub best: Option<(f64, Lineage, Candidate)>,
    /// One entry per trial of this job: its latency (None = failed).
    pub curve: Vec<Option<f64>>,
    pub models: Vec<ModelReport>,
    pub course_alterations: u64,
    pub tree_nodes: usize,
    pub snapshot: Option<Vec<u8>>,
    pub wall_s: f64,
}

/// A model's calls in a job.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelReport {
    pub name: String,
    pub parameters: u64,
    pub calls: u64,
    pub errors: u64,
    /// Share (0 to 1) of its calls whose child beat its parent.
    pub hit_rate: f64,
    /// Prompt plus generated tokens.
    pub tokens: u64,
    pub seconds: f64,
}

/// The search failed before it could run (nothing to search, a broken
/// snapshot): a message naming what.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SearchError(pub String);

/// Runs the job to its end. `stop` is polled between expansions and
/// measurements; `events` receives progress (a closed receiver is fine).
pub fn run_search(
    spec: &JobSpec,
    services: &dyn Services,
    stop: &AtomicBool,
    events: &Sender<Event>,
) -> Result<Outcome, SearchError> {
    let started = Instant::now();
    let search = Search::new(spec, services, stop, events)?;
    let naive_ms = search.baseline()?;
    let reason = search.run(started);
    if let Some(fatal) = search.fatal.lock().take() {
        return Err(SearchError(fatal));
    }
    let best = search.best.lock().clone().map(|b| (b.latency, b.lineage, b.candidate));
    let snapshot = search.snapshot().ok();
    let curve = search.curve.lock().clone();
    let outcome = Outcome {
        reason,
        naive_ms,
        best,
        curve,
        models: search.model_reports(),
        course_alterations: search.course_alterations.load(Ordering::Relaxed),
        tree_nodes: search.arms.iter().map(|a| a.tree.len()).sum(),
        snapshot,
        wall_s: started.elapsed().as_secs_f64(),
    };
    Ok(outcome)
}

#[derive(Clone)]
struct Best {
    latency: f64,
    lineage: Lineage,
    candidate: Candidate,
}

/// A candidate a rollout found, not yet in the tree: it joins the tree
/// under `parent` if it is measured.
struct PendingCandidate {
    parent: NodeId,
    /// The arm whose tree `parent` is in.
    arm: usize,
    /// The model whose proposal the rollout extends (what the trial's
    /// record names), None after a random expansion.
    model: Option<ModelId>,
    candidate: Candidate,
    lineage: Lineage,
    fingerprint: u64,
}

/// The model-driven part of a job.
struct Models {
    roster: Arc<Roster>,
    /// Roster index → index in `JobSpec::models` (for `single`, the roster
    /// holds only the largest model).
    entries: Vec<ModelEntry>,
    stats: Arc<ModelStats>,
    expander: Expander,
}

/// A search tree, the models that expand it and how its children are
/// chosen. Every strategy grows one, but `colt:separate-trees` grows one
/// per model.
struct Arm {
    tree: Tree<NodeData>,
    uct: ModelAwareUct,
    models: Option<Models>,
}

struct Search<'a> {
    spec: &'a JobSpec,
    services: &'a dyn Services,
    stop: &'a AtomicBool,
    events: &'a Sender<Event>,
    arms: Vec<Arm>,
    /// Expansions go to the arms in turn.
    next_arm: AtomicUsize,
    cost: RwLock<CostModel>,
    /// Fingerprint → latency (None = failed) of every candidate measured in
    /// this job or known from earlier ones: never measured again.
    measured: Mutex<HashMap<u64, Option<f64>>>,
    trials: AtomicUsize,
    best: Mutex<Option<Best>>,
    curve: Mutex<Vec<Option<f64>>>,
    pending: Mutex<Vec<(f64, PendingCandidate)>>,
    rng: Mutex<Rng>,
    picker: Mutex<EpsilonGreedy>,
    naive_ms: Mutex<Option<f64>>,
    course_alterations: AtomicU64,
    llm_exhausted: AtomicBool,
    expansions: AtomicUsize,
    stalled_since: AtomicUsize,
    machinery_failures: AtomicUsize,
    /// Why the job cannot go on, when it cannot.
    fatal: Mutex<Option<String>>,
    /// Seeds of sampled candidates: a counter, so that no seed is used twice.
    next_seed: AtomicU64,
}

impl<'a> Search<'a> {
    fn new(
        spec: &'a JobSpec,
        services: &'a dyn Services,
        stop: &'a AtomicBool,
        events: &'a Sender<Event>,
    ) -> Result<Search<'a>, SearchError> {
        let program = &spec.program;
        let lambda = match &spec.settings.strategy {
            Strategy::Colt(v) => v.lambda.unwrap_or(spec.settings.params.lambda),
            _ => spec.settings.params.lambda,
        };
        let model_sets = Search::model_sets(spec)?;
        let trees = match spec.resume.as_ref().and_then(|r| r.snapshot.as_ref()) {
            Some(bytes) => restore_forest(bytes, model_sets.len())?,
            None => {
                let root = Candidate::sample_on(program.clone(), spec.space(), spec.settings.seed);
                let fingerprint = lower(&root).fingerprint();
                let root_node = || {
                    NewNode::new(fingerprint, NodeData::new(Lineage::sampled(spec.settings.seed), root.clone(), 0.0))
                };
                model_sets.iter().map(|_| Tree::new(root_node())).collect()
            }
        };
        let mut arms = Vec::with_capacity(model_sets.len());
        for (entries, tree) in model_sets.into_iter().zip(trees) {
            let models = match entries {
                Some(entries) => Some(Search::models(spec, entries)?),
                None => None,
            };
            let roster = match &models {
                Some(m) => m.roster.clone(),
                // One pseudo-model: UCT then sees no model differences.
                None => Arc::new(roster_of(&[ModelEntry { name: "random-edits".into(), parameters: 1 }])?),
            };
            let uct = ModelAwareUct::new(roster, lambda, spec.settings.params.exploration)
                .map_err(|e| SearchError(e.to_string()))?;
            arms.push(Arm { tree, uct, models });
        }
        let mut rng = Rng::new(spec.settings.seed ^ 0x636f_6c74);
        let picker =
            EpsilonGreedy::new(spec.settings.params.epsilon, rng.next_u64()).map_err(|e| SearchError(e.to_string()))?;
        let trials_done = spec.resume.as_ref().map_or(0, |r| r.trials.len());
        let search = Search {
            spec,
            services,
            stop,
            events,
            arms,
            next_arm: AtomicUsize::new(0),
            cost: RwLock::new(CostModel::new(Roofline::default())),
            measured: Mutex::new(HashMap::new()),
            trials: AtomicUsize::new(trials_done),
            best: Mutex::new(None),
            curve: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            // A resumed job continues with other random choices than the
            // ones it already made.
            rng: Mutex::new(Rng::new(rng.next_u64() ^ trials_done as u64)),
            picker: Mutex::new(picker),
            naive_ms: Mutex::new(spec.naive_ms),
            course_alterations: AtomicU64::new(0),
            llm_exhausted: AtomicBool::new(false),
            expansions: AtomicUsize::new(0),
            stalled_since: AtomicUsize::new(0),
            machinery_failures: AtomicUsize::new(0),
            fatal: Mutex::new(None),
            next_seed: AtomicU64::new(
                spec.settings.seed.wrapping_mul(0x9e37_79b9).wrapping_add(1 + trials_done as u64 * 4096),
            ),
        };
        search.load_known();
        Ok(search)
    }

    /// The models of each arm: one arm without models for the model-free
    /// strategies, one arm per model for `colt:separate-trees`, one arm
    /// with the job's models (the largest alone for `single`) otherwise.
    fn model_sets(spec: &JobSpec) -> Result<Vec<Option<Vec<ModelEntry>>>, SearchError> {
        let strategy = &spec.settings.strategy;
        if !strategy.uses_models() {
            return Ok(vec![None]);
        }
        if spec.models.is_empty() {
            return Err(SearchError(format!("strategy `{strategy}` needs at least one model (--models)")));
        }
        Ok(match strategy {
            Strategy::Single => {
                vec![Some(spec.models.iter().max_by_key(|m| m.parameters).cloned().into_iter().collect())]
            }
            _ if strategy.separate_trees() => spec.models.iter().map(|m| Some(vec![m.clone()])).collect(),
            _ => vec![Some(spec.models.clone())],
        })
    }

    fn models(spec: &JobSpec, entries: Vec<ModelEntry>) -> Result<Models, SearchError> {
        let roster = Arc::new(roster_of(&entries)?);
        let k = match &spec.settings.strategy {
            Strategy::Colt(v) if v.no_course_alteration => u32::MAX,
            _ => spec.settings.params.course_k,
        };
        let course = Arc::new(CourseAlteration::new(roster.clone(), k.max(1)).map_err(|e| SearchError(e.to_string()))?);
        let stats = Arc::new(ModelStats::new(roster.clone()));
        let expander = Expander::new(stats.clone(), course, spec.settings.seed ^ 0x6578_7061);
        Ok(Models { roster, entries, stats, expander })
    }

    /// Earlier jobs' records and this job's own trials (when resumed):
    /// known measurements, the cost model's first samples, and nodes of the
    /// tree (a trial recorded after the last snapshot is added under the
    /// root: of every tree for an earlier job's record, of the tree of the
    /// model that proposed it for this job's own).
    fn load_known(&self) {
        let program = &self.spec.program;
        let mut rows: Vec<(Lineage, Option<f64>, bool, Option<&str>)> =
            self.spec.known.iter().map(|(l, ms)| (l.clone(), Some(*ms), false, None)).collect();
        if let Some(resume) = &self.spec.resume {
            for t in &resume.trials {
                let latency = if t.verified { t.median_ms } else { None };
                rows.push((Lineage { seed: t.seed, edits: t.edits.clone() }, latency, true, t.model.as_deref()));
            }
        }
        for (lineage, latency, own, model) in rows {
            let Ok(candidate) = lineage.rebuild_on(program, self.spec.space()) else {
                self.warn(format!("a stored candidate no longer builds ({lineage}); skipped"));
                continue;
            };
            let nest = lower(&candidate);
            let fingerprint = nest.fingerprint();
            if own {
                self.curve.lock().push(latency);
            }
            if let Some(ms) = latency {
                self.cost.write().add_measurement(&features_of(&candidate, &nest), 1.0 / ms);
            }
            self.measured.lock().insert(fingerprint, latency);
            if let Some(ms) = latency {
                let mut best = self.best.lock();
                if best.as_ref().is_none_or(|b| ms < b.latency) {
                    *best = Some(Best { latency: ms, lineage: lineage.clone(), candidate: candidate.clone() });
                }
            }
            let of_model = |arm: &Arm| {
                arm.models.as_ref().is_some_and(|m| m.entries.iter().any(|e| Some(e.name.as_str()) == model))
            };
            let owner = self.arms.iter().position(of_model);
            for (i, arm) in self.arms.iter().enumerate() {
                if owner.is_some_and(|o| o != i) || arm.tree.find(fingerprint).is_some() {
                    continue;
                }
                let node = NewNode::new(fingerprint, NodeData::new(lineage.clone(), candidate.clone(), 0.0));
                let _ = arm.tree.add_children(arm.tree.root(), [node]);
            }
        }
        self.cost.write().retrain();
        self.renormalise();
    }

    fn baseline(&self) -> Result<f64, SearchError> {
        if let Some(ms) = *self.naive_ms.lock() {
            self.emit(Event::Baseline(ms));
            return Ok(ms);
        }
        self.progress("measuring the naive kernel");
        let measured = match self.spec.space() {
            Target::Cpu => self.services.measure(&KernelSource::naive(&self.spec.program)),
            Target::OpenCl => self.services.measure_opencl(&OpenClKernel::naive(&self.spec.program)),
        };
        let m =
            measured.map_err(|e| SearchError(format!("the naive kernel of `{}` failed: {e}", self.spec.workload)))?;
        let ms = m.timing.median_ms;
        *self.naive_ms.lock() = Some(ms);
        self.emit(Event::Baseline(ms));
        Ok(ms)
    }

    fn run(&self, started: Instant) -> StopReason {
        if self.spec.resume.as_ref().is_none_or(|r| r.snapshot.is_none()) {
            self.add_initial_level();
        }
        let mut first = true;
        let mut idle_rounds = 0;
        loop {
            if let Some(reason) = self.should_stop(started) {
                return reason;
            }
            if !first || self.unmeasured_in_tree() == 0 {
                self.generate();
            }
            first = false;
            if let Some(reason) = self.should_stop(started) {
                if reason != StopReason::LlmBudget {
                    return reason;
                }
            }
            let before = self.trials.load(Ordering::Relaxed);
            self.measurement_round(started);
            self.cost.write().retrain();
            self.renormalise();
            if let Ok(bytes) = self.snapshot() {
                self.emit(Event::Checkpoint(Arc::new(bytes)));
            }
            if self.llm_exhausted.load(Ordering::Relaxed) {
                return StopReason::LlmBudget;
            }
            // Rounds that measure nothing new: the strategy keeps reaching
            // known candidates (a small design space).
            idle_rounds = if self.trials.load(Ordering::Relaxed) == before { idle_rounds + 1 } else { 0 };
            if idle_rounds >= 3 {
                return StopReason::Exhausted;
            }
        }
    }

    fn should_stop(&self, started: Instant) -> Option<StopReason> {
        if self.stop.load(Ordering::Relaxed) {
            Some(StopReason::Stopped)
        } else if self.trials.load(Ordering::Relaxed) >= self.spec.settings.trials {
            Some(StopReason::TrialBudget)
        } else if self.spec.settings.wall.is_some_and(|w| started.elapsed() >= w) {
            Some(StopReason::WallClock)
        } else if self.llm_exhausted.load(Ordering::Relaxed) {
            Some(StopReason::LlmBudget)
        } else {
            None
        }
    }

    fn add_initial_level(&self) {
        if !self.spec.settings.strategy.is_tree_search() {
            return;
        }
        // Every tree starts from the same samples of the design space.
        let samples: Vec<_> = (0..self.spec.settings.params.initial).map(|_| self.sample()).collect();
        for arm in &self.arms {
            let nodes = samples.iter().map(|(candidate, lineage, fingerprint)| {
                NewNode::new(*fingerprint, NodeData::new(lineage.clone(), candidate.clone(), 0.0))
            });
            let _ = arm.tree.add_children(arm.tree.root(), nodes);
        }
    }

    /// A fresh sample of the design space (a seed never used before in
    /// this job), its lineage and its fingerprint.
    fn sample(&self) -> (Candidate, Lineage, u64) {
        let seed = self.next_seed.fetch_add(1, Ordering::Relaxed);
        let candidate = Candidate::sample_on(self.spec.program.clone(), self.spec.space(), seed);
        let fingerprint = lower(&candidate).fingerprint();
        (candidate, Lineage::sampled(seed), fingerprint)
    }

    fn sampled_node(&self) -> NewNode<NodeData> {
        let (candidate, lineage, fingerprint) = self.sample();
        NewNode::new(fingerprint, NodeData::new(lineage, candidate, 0.0))
    }

    /// One generation round of the job's strategy.
    fn generate(&self) {
        if self.spec.settings.strategy.is_tree_search() {
            self.widen_root();
        }
        match self.spec.settings.strategy {
            Strategy::Colt(_) | Strategy::Single => self.expansion_phase(self.spec.settings.params.llm_expansions),
            Strategy::Mcts => self.expansion_phase(self.spec.settings.params.random_expansions),
            Strategy::Evolutionary => self.evolve(),
            Strategy::Random => {
                let nodes: Vec<_> = (0..self.spec.settings.params.batch).map(|_| self.sampled_node()).collect();
                let tree = &self.arms[0].tree;
                let _ = tree.add_children(tree.root(), nodes);
            }
        }
    }

    // ---- tree search -------------------------------------------------

    /// Progressive widening of the root: the root's children are samples of
    /// the design space, and each round the best-predicted
    /// `root_widening` of `root_samples` fresh samples join them (every
    /// tree's root, for separate trees). Without it the tree only grows
    /// around its first 16 samples, and a good region of the space that
    /// none of them is near is never reached: on 2026-11-25, with 48
    /// samples and 8 kept, `mcts` at 64 trials went from 7.37 to 3.58 ms on
    /// deepseek-r1-moe (7.43 to 5.06 with another seed), 6.68 to 4.84 ms on
    /// llama3-8b-attn, 16.96 to 15.03 on flux-attn, 1.41 to 1.18 on
    /// flux-conv, 6.60 to 6.76 on llama4-scout-mlp and 0.915 to 0.981 on
    /// gemm-512 (one seed each).
    fn widen_root(&self) {
        let params = &self.spec.settings.params;
        if params.root_samples == 0 || params.root_widening == 0 {
            return;
        }
        let mut samples: Vec<_> = (0..params.root_samples)
            .map(|_| self.sample())
            .map(|(candidate, lineage, fingerprint)| (self.predict(&candidate), candidate, lineage, fingerprint))
            .collect();
        samples.sort_by(|a, b| b.0.total_cmp(&a.0));
        samples.truncate(params.root_widening);
        for arm in &self.arms {
            let nodes = samples.iter().map(|(predicted, candidate, lineage, fingerprint)| {
                NewNode::new(*fingerprint, NodeData::new(lineage.clone(), candidate.clone(), *predicted))
            });
            let _ = arm.tree.add_children(arm.tree.root(), nodes);
        }
    }

    /// `quota` expansions shared by the search threads.
    fn expansion_phase(&self, quota: usize) {
        self.progress("expanding");
        let done = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for thread in 0..self.spec.settings.threads.max(1) {
                let done = &done;
                scope.spawn(move || {
                    while !self.stop.load(Ordering::Relaxed)
                        && !self.llm_exhausted.load(Ordering::Relaxed)
                        && done.fetch_add(1, Ordering::Relaxed) < quota
                    {
                        if let Err(message) = self.expand_once(thread) {
                            self.warn(message);
                        }
                    }
                });
            }
        });
    }

    /// Select (model-aware UCT with virtual loss, progressive widening),
    /// expand (the acting model's joint action, or a random edit), roll out
    /// with the cost model, back up.
    fn expand_once(&self, thread: usize) -> Result<(), String> {
        // `arms` is never empty: `model_sets` answers at least one.
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
        let candidate = match leaf.payload().candidate(&self.spec.program, self.spec.space()) {
            Ok(c) => c.clone(),
            Err(e) => {
                let _ = tree.abandon(path);
                return Err(e.to_string());
            }
        };
        let legal = legal_edits(&candidate);
        if legal.is_empty() {
            let value = self.value_of(leaf, &candidate);
            let _ = tree.backup(path, value);
            return Ok(());
        }
        let expansion = match &arm.models {
            None => {
                let (child, edit) = self.random_edit(&candidate, &legal);
                let score = self.predict(&child);
                Some((child, vec![edit], None, None, score))
            }
            Some(models) => {
                if self.spec.settings.llm_calls.is_some_and(|budget| self.total_calls() >= budget) {
                    self.llm_exhausted.store(true, Ordering::Relaxed);
                    let _ = tree.abandon(path);
                    return Ok(());
                }
                let model = leaf.next_model().unwrap_or_else(|| models.stats.route(None));
                self.model_expansion(tree, models, model, leaf, &candidate, &legal, thread)?
            }
        };
        let Some((child, edits, expanded_by, next_model, score)) = expansion else {
            let _ = tree.abandon(path);
            return Ok(());
        };
        let lineage = leaf.payload().lineage.then(&edits);
        let fingerprint = lower(&child).fingerprint();
        let node = NewNode {
            fingerprint,
            payload: NodeData::new(lineage.clone(), child.clone(), score),
            expanded_by,
            next_model,
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
        let mut value = score;
        let rollouts = if arm.models.is_some() {
            self.spec.settings.params.llm_rollouts
        } else {
            self.spec.settings.params.rollouts
        };
        for _ in 0..rollouts {
            if let Some((s, pending)) = self.rollout(arm_index, child_id, expanded_by, &child, &lineage) {
                value = value.max(s);
                if s > score {
                    self.add_pending(s, pending);
                }
            }
        }
        self.expansions.fetch_add(1, Ordering::Relaxed);
        self.stalled_since.fetch_add(1, Ordering::Relaxed);
        tree.backup(path, value.clamp(0.0, 1.0)).map_err(|e| e.to_string())?;
        Ok(())
    }

    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn model_expansion(
        &self,
        tree: &Tree<NodeData>,
        models: &Models,
        model: ModelId,
        leaf: NodeRef<'_, NodeData>,
        candidate: &Candidate,
        legal: &[Edit],
        thread: usize,
    ) -> Result<Option<(Candidate, Vec<Edit>, Option<ModelId>, Option<ModelId>, f64)>, String> {
        let program = &self.spec.program;
        let ancestor = |id: Option<NodeId>| id.and_then(|id| tree.node(id).ok());
        let parent = ancestor(leaf.parent());
        let grandparent = ancestor(parent.and_then(|p| p.parent()));
        let shown_of = |node: NodeRef<'_, NodeData>| -> Option<(Candidate, Scores)> {
            let c = node.payload().candidate(program, self.spec.space()).ok()?.clone();
            Some((c, Scores { predicted: node.payload().predicted(), measured: node.measured() }))
        };
        let parent_shown = parent.and_then(shown_of);
        let grandparent_shown = grandparent.and_then(shown_of);
        let current_scores = Scores { predicted: leaf.payload().predicted(), measured: leaf.measured() };
        let view = ExpansionView {
            current: Shown { candidate, scores: current_scores },
            parent: parent_shown.as_ref().map(|(c, s)| Shown { candidate: c, scores: *s }),
            grandparent: grandparent_shown.as_ref().map(|(c, s)| Shown { candidate: c, scores: *s }),
            legal,
            stats: &models.stats,
            progress: SearchProgress {
                trials: self.trials.load(Ordering::Relaxed),
                trial_budget: self.spec.settings.trials,
                best_latency: self.best.lock().as_ref().map(|b| b.latency / 1000.0),
                stalled_expansions: self.stalled_since.load(Ordering::Relaxed),
            },
        };
        let seed = {
            let mut rng = self.rng.lock();
            (rng.next_u64() as u32) ^ thread as u32
        };
        let mut proposer = ServiceProposer { services: self.services, seed, models: &models.entries };
        let mut score = |c: &Candidate| self.predict(c);
        let expansion = match models.expander.expand(&mut proposer, model, &view, &mut score) {
            Ok(e) => e,
            Err(_) => return Ok(None),
        };
        if expansion.correction.is_some() {
            self.course_alterations.fetch_add(1, Ordering::Relaxed);
        }
        self.progress("expanding");
        Ok(Some((
            expansion.child,
            expansion.edits,
            Some(expansion.expanded_by),
            Some(expansion.next_model),
            expansion.score,
        )))
    }

    fn random_edit(&self, candidate: &Candidate, legal: &[Edit]) -> (Candidate, Edit) {
        let mut rng = self.rng.lock();
        let start = rng.below(legal.len());
        for i in 0..legal.len() {
            let edit = &legal[(start + i) % legal.len()];
            if let Ok(child) = edit.apply(candidate) {
                return (child, edit.clone());
            }
        }
        // legal_edits lists edits that apply; keep the candidate if not.
        // `start < legal.len()`: callers pass a non-empty list (checked
        // before every call).
        (candidate.clone(), legal[start].clone())
    }

    /// A few random edits deep from `child`, scored by the cost model: the
    /// best candidate seen and its score.
    fn rollout(
        &self,
        arm: usize,
        parent: NodeId,
        model: Option<ModelId>,
        child: &Candidate,
        lineage: &Lineage,
    ) -> Option<(f64, PendingCandidate)> {
        let mut current = child.clone();
        let mut edits = Vec::new();
        let mut best: Option<(f64, Candidate, usize)> = None;
        for _ in 0..self.spec.settings.params.rollout_depth {
            let legal = legal_edits(&current);
            if legal.is_empty() {
                break;
            }
            let (next, edit) = self.random_edit(&current, &legal);
            edits.push(edit);
            let s = self.predict(&next);
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

    fn add_pending(&self, score: f64, candidate: PendingCandidate) {
        let mut pending = self.pending.lock();
        pending.push((score, candidate));
        if pending.len() > 2 * PENDING_CAP {
            pending.sort_by(|a, b| b.0.total_cmp(&a.0));
            pending.truncate(PENDING_CAP);
        }
    }

    fn value_of(&self, node: NodeRef<'_, NodeData>, candidate: &Candidate) -> f64 {
        node.measured().unwrap_or_else(|| self.predict(candidate)).clamp(0.0, 1.0)
    }

    fn predict(&self, candidate: &Candidate) -> f64 {
        self.cost.read().predict(&features(candidate))
    }

    // ---- evolutionary ------------------------------------------------

    /// MetaSchedule's evolutionary search: a population of the best
    /// measured candidates and fresh samples, mutated by random legal
    /// edits for a few generations, selected by the cost model; its best
    /// unmeasured members become candidates under the root.
    fn evolve(&self) {
        self.progress("evolving");
        let p = self.spec.settings.params.population.max(2);
        let program = &self.spec.program;
        let mut population: Vec<(f64, Candidate, Lineage, u64)> = Vec::new();
        let mut seen = HashSet::new();
        let tree = &self.arms[0].tree;
        let mut measured: Vec<(f64, NodeId)> = tree
            .nodes()
            .filter(|n| n.transposition_of().is_none())
            .filter_map(|n| n.measured().filter(|v| *v > 0.0).map(|v| (v, n.id())))
            .collect();
        measured.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, id) in measured.into_iter().take(p / 4) {
            let Ok(node) = tree.node(id) else { continue };
            let Ok(c) = node.payload().candidate(program, self.spec.space()) else { continue };
            if seen.insert(node.fingerprint()) {
                population.push((self.predict(c), c.clone(), node.payload().lineage.clone(), node.fingerprint()));
            }
        }
        while population.len() < p {
            let (c, lineage, fingerprint) = self.sample();
            if seen.insert(fingerprint) {
                population.push((self.predict(&c), c, lineage, fingerprint));
            }
        }
        for _ in 0..self.spec.settings.params.generations {
            let mut children = Vec::with_capacity(p);
            for _ in 0..p {
                let parent = self.tournament(&population);
                let (_, c, lineage, _) = &population[parent];
                let legal = legal_edits(c);
                if legal.is_empty() {
                    continue;
                }
                let (child, edit) = self.random_edit(c, &legal);
                let fingerprint = lower(&child).fingerprint();
                if seen.insert(fingerprint) {
                    children.push((self.predict(&child), child, lineage.then(&[edit]), fingerprint));
                }
            }
            population.extend(children);
            population.sort_by(|a, b| b.0.total_cmp(&a.0));
            population.truncate(p);
        }
        let measured = self.measured.lock();
        let nodes: Vec<_> = population
            .into_iter()
            .filter(|(_, _, _, f)| !measured.contains_key(f) && tree.find(*f).is_none())
            .map(|(s, c, lineage, fingerprint)| NewNode::new(fingerprint, NodeData::new(lineage, c, s)))
            .collect();
        drop(measured);
        let _ = tree.add_children(tree.root(), nodes);
    }

    /// A parent by a tournament of two on predicted score.
    fn tournament(&self, population: &[(f64, Candidate, Lineage, u64)]) -> usize {
        let mut rng = self.rng.lock();
        let a = rng.below(population.len());
        let b = rng.below(population.len());
        if population[a].0 >= population[b].0 {
            a
        } else {
            b
        }
    }

    // ---- measurement -------------------------------------------------

    fn unmeasured_in_tree(&self) -> usize {
        let measured = self.measured.lock();
        let fingerprints: HashSet<u64> = self
            .arms
            .iter()
            .flat_map(|a| a.tree.nodes())
            .filter(|n| n.transposition_of().is_none() && !measured.contains_key(&n.fingerprint()))
            .map(|n| n.fingerprint())
            .collect();
        fingerprints.len()
    }

    /// Refreshes every unmeasured candidate's prediction, picks the batch
    /// ε-greedily (random candidates for `random`), measures it, and
    /// writes the latencies into the tree and the cost model.
    fn measurement_round(&self, started: Instant) {
        self.progress("measuring");
        enum Item {
            /// A node of the tree of an arm.
            Node(usize, NodeId),
            Pending(PendingCandidate),
        }
        let program = &self.spec.program;
        let mut items = Vec::new();
        let mut predicted = Vec::new();
        {
            let measured = self.measured.lock();
            let mut seen = HashSet::new();
            for (arm, node) in self.arms.iter().enumerate().flat_map(|(i, a)| a.tree.nodes().map(move |n| (i, n))) {
                let fingerprint = node.fingerprint();
                if node.transposition_of().is_some() || measured.contains_key(&fingerprint) || !seen.insert(fingerprint)
                {
                    continue;
                }
                let Ok(c) = node.payload().candidate(program, self.spec.space()) else { continue };
                let p = self.predict(c);
                node.payload().set_predicted(p);
                items.push(Item::Node(arm, node.id()));
                predicted.push(p);
            }
            let mut pending = std::mem::take(&mut *self.pending.lock());
            for (_, entry) in pending.drain(..) {
                if measured.contains_key(&entry.fingerprint) || !seen.insert(entry.fingerprint) {
                    continue;
                }
                predicted.push(self.predict(&entry.candidate));
                items.push(Item::Pending(entry));
            }
        }
        let batch = self
            .spec
            .settings
            .params
            .batch
            .min(self.spec.settings.trials.saturating_sub(self.trials.load(Ordering::Relaxed)));
        let picks = match self.spec.settings.strategy {
            // Random search measures what it sampled, in order.
            Strategy::Random => (0..items.len().min(batch)).collect(),
            _ => self.picker.lock().pick(&predicted, batch),
        };
        let mut items: Vec<Option<Item>> = items.into_iter().map(Some).collect();
        for index in &picks {
            if self.stop.load(Ordering::Relaxed) || self.spec.settings.wall.is_some_and(|w| started.elapsed() >= w) {
                break;
            }
            let item = items[*index].take();
            match item {
                Some(Item::Node(arm, id)) => {
                    let Ok(node) = self.arms[arm].tree.node(id) else { continue };
                    let Ok(c) = node.payload().candidate(program, self.spec.space()) else { continue };
                    let model = node.expanded_by();
                    let lineage = node.payload().lineage.clone();
                    self.measure(arm, id, c.clone(), lineage, model);
                }
                Some(Item::Pending(entry)) => {
                    let node = NewNode::new(
                        entry.fingerprint,
                        NodeData::new(entry.lineage.clone(), entry.candidate.clone(), predicted[*index]),
                    );
                    let Ok(inserted) = self.arms[entry.arm].tree.add_children(entry.parent, [node]) else { continue };
                    // One child asked, one insertion answered.
                    self.measure(entry.arm, inserted[0].id, entry.candidate, entry.lineage, entry.model);
                }
                None => {}
            }
        }
        // Rollout candidates not measured this round wait for the next.
        let mut pending = self.pending.lock();
        for item in items.into_iter().flatten() {
            if let Item::Pending(entry) = item {
                pending.push((0.0, entry));
            }
        }
        pending.truncate(PENDING_CAP);
    }

    /// Measures one candidate (unless known), records the trial, and puts
    /// its latency into the tree and the cost model.
    fn measure(&self, arm: usize, id: NodeId, candidate: Candidate, lineage: Lineage, model: Option<ModelId>) {
        let nest = lower(&candidate);
        let fingerprint = nest.fingerprint();
        if self.measured.lock().contains_key(&fingerprint) {
            return;
        }
        // The source is printed once: for the measurement and its hash.
        let name = format!("{} {fingerprint:016x}", self.spec.program.name());
        let (source, result) = match self.spec.space() {
            Target::Cpu => {
                let source = nest.to_c();
                let kernel = KernelSource { name, c: source.clone(), scratch: nest.scratch.clone() };
                (source, self.services.measure(&kernel))
            }
            Target::OpenCl => {
                let program = nest.to_opencl();
                let source = program.source.clone();
                (source, self.services.measure_opencl(&OpenClKernel::from_program(name, program)))
            }
        };
        if let Err(e) = &result {
            if !e.is_candidate_fault() {
                // Not the candidate's fault: no trial. A machinery that
                // keeps failing ends the job rather than spin.
                let failures = self.machinery_failures.fetch_add(1, Ordering::Relaxed) + 1;
                self.warn(format!("measurement machinery failed ({failures} in a row): {e}"));
                if failures >= 3 {
                    *self.fatal.lock() = Some(format!("the measurement machinery keeps failing: {e}"));
                    self.stop.store(true, Ordering::Relaxed);
                }
                return;
            }
        }
        self.machinery_failures.store(0, Ordering::Relaxed);
        let index = self.trials.fetch_add(1, Ordering::Relaxed);
        let (latency, failure, timing) = match &result {
            Ok(m) => (Some(m.timing.median_ms), None, Some(m.timing)),
            Err(e) => (None, Some(format!("{:?}: {e}", e.kind())), None),
        };
        self.measured.lock().insert(fingerprint, latency);
        let arm = &self.arms[arm];
        let model_name = model.and_then(|m| arm.models.as_ref().and_then(|ms| ms.entries.get(m.0 as usize)));
        let record = TrialRecord {
            job: self.spec.job,
            workload_fingerprint: self.spec.workload_fingerprint.clone(),
            target: self.spec.target.clone(),
            seed: lineage.seed,
            edits: lineage.edits.clone(),
            decisions: candidate.render(),
            source_hash: source_hash(&source),
            fingerprint,
            verified: latency.is_some(),
            median_ms: latency,
            min_ms: timing.as_ref().map(|t| t.min_ms),
            max_ms: timing.as_ref().map(|t| t.max_ms),
            runs: timing.as_ref().map_or(0, |t| t.runs as u32),
            failure: failure.clone(),
            strategy: self.spec.settings.strategy.to_string(),
            model: model_name.map(|m| m.name.clone()),
            trial_index: index as u64,
            created_unix: now_unix(),
        };
        if let Err(e) = self.services.record(&record) {
            self.warn(format!("trial {index} was measured but not recorded: {e}"));
        }
        if let Some(ms) = latency {
            let mut best = self.best.lock();
            if best.as_ref().is_none_or(|b| ms < b.latency) {
                *best = Some(Best { latency: ms, lineage, candidate: candidate.clone() });
                self.stalled_since.store(0, Ordering::Relaxed);
            }
            self.cost.write().add_measurement(&features_of(&candidate, &nest), 1.0 / ms);
        }
        let best_ms = self.best.lock().as_ref().map(|b| b.latency);
        let value = match (latency, best_ms) {
            (Some(ms), Some(best)) => (best / ms).clamp(0.0, 1.0),
            _ => 0.0,
        };
        let _ = arm.tree.set_measured(id, value);
        self.curve.lock().push(latency);
        self.emit(Event::Trial(TrialEvent { index, latency_ms: latency, best_ms, failure }));
        self.progress("measuring");
    }

    /// Rewrites every measured node's value against the current best.
    fn renormalise(&self) {
        let Some(best) = self.best.lock().as_ref().map(|b| b.latency) else { return };
        let measured = self.measured.lock();
        for arm in &self.arms {
            for node in arm.tree.nodes() {
                if node.transposition_of().is_some() {
                    continue;
                }
                if let Some(latency) = measured.get(&node.fingerprint()) {
                    let value = latency.map_or(0.0, |ms| (best / ms).clamp(0.0, 1.0));
                    if node.measured() != Some(value) {
                        let _ = arm.tree.set_measured(node.id(), value);
                    }
                }
            }
        }
    }

    // ---- reporting ---------------------------------------------------

    /// Every model of the job with its calls so far, over all arms.
    fn model_summaries(&self) -> Vec<(&ModelEntry, ModelSummary)> {
        self.arms
            .iter()
            .filter_map(|arm| arm.models.as_ref())
            .flat_map(|models| models.roster.ids().map(|id| (&models.entries[id.0 as usize], models.stats.summary(id))))
            .collect()
    }

    fn total_calls(&self) -> u64 {
        self.model_summaries().iter().map(|(_, s)| s.calls).sum()
    }

    fn model_reports(&self) -> Vec<ModelReport> {
        self.model_summaries()
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

    /// The trees as one snapshot: the tree's own bytes when there is one
    /// (what jobs before `colt:separate-trees` stored), the list of every
    /// tree's bytes otherwise.
    fn snapshot(&self) -> Result<Vec<u8>, String> {
        let mut trees = Vec::with_capacity(self.arms.len());
        for arm in &self.arms {
            trees.push(arm.tree.snapshot().map_err(|e| e.to_string())?);
        }
        if trees.len() == 1 {
            return Ok(trees.remove(0));
        }
        bincode::serde::encode_to_vec(&trees, bincode::config::standard()).map_err(|e| e.to_string())
    }

    fn progress(&self, phase: &str) {
        let summaries = self.model_summaries();
        let (llm_calls, llm_tokens, largest_model_share) = if summaries.is_empty() {
            (BTreeMap::new(), BTreeMap::new(), None)
        } else {
            let calls: BTreeMap<String, u64> = summaries.iter().map(|(e, s)| (e.name.clone(), s.calls)).collect();
            let tokens = summaries.iter().map(|(e, s)| (e.name.clone(), s.tokens)).collect();
            let total: u64 = calls.values().sum();
            // The first of the largest, as `Roster::largest` chooses.
            let largest = summaries.iter().rev().max_by_key(|(e, _)| e.parameters).map_or(0, |(_, s)| s.calls);
            (calls, tokens, (total > 0).then(|| largest as f64 / total as f64))
        };
        self.emit(Event::Progress(Progress {
            phase: phase.to_string(),
            trials: self.trials.load(Ordering::Relaxed),
            trial_budget: self.spec.settings.trials,
            naive_ms: *self.naive_ms.lock(),
            best_ms: self.best.lock().as_ref().map(|b| b.latency),
            llm_calls,
            llm_tokens,
            largest_model_share,
            course_alterations: self.course_alterations.load(Ordering::Relaxed),
        }));
    }

    fn warn(&self, message: String) {
        self.emit(Event::Warning(message));
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }
}

/// The search's calls, as colt-policy's `Proposer`.
struct ServiceProposer<'s> {
    services: &'s dyn Services,
    seed: u32,
    /// The roster's models, by `ModelId`.
    models: &'s [ModelEntry],
}

impl Proposer for ServiceProposer<'_> {
    fn propose(
        &mut self,
        model: ModelId,
        system: &str,
        user: &str,
        grammar: &str,
    ) -> Result<Proposal, ProposalFailure> {
        self.seed = self.seed.wrapping_add(1);
        let entry =
            self.models.get(model.0 as usize).ok_or_else(|| ProposalFailure(format!("no model {}", model.0)))?;
        self.services.propose(&entry.name, system, user, grammar, self.seed)
    }
}

/// The trees of a snapshot `Search::snapshot` took: `arms` of them.
fn restore_forest(bytes: &[u8], arms: usize) -> Result<Vec<Tree<NodeData>>, SearchError> {
    let error = |e: &dyn std::fmt::Display| SearchError(format!("cannot restore the tree snapshot: {e}"));
    if arms == 1 {
        return Ok(vec![Tree::restore(bytes).map_err(|e| error(&e))?]);
    }
    let (trees, read): (Vec<Vec<u8>>, usize) =
        bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map_err(|e| error(&e))?;
    if read != bytes.len() {
        return Err(error(&format!("{} bytes after the last tree", bytes.len() - read)));
    }
    if trees.len() != arms {
        return Err(error(&format!("it holds {} trees, the job has {arms} models", trees.len())));
    }
    trees.iter().map(|t| Tree::restore(t).map_err(|e| error(&e))).collect()
}

fn roster_of(models: &[ModelEntry]) -> Result<Roster, SearchError> {
    Roster::new(models.iter().map(|m| ModelSpec::new(m.name.clone(), m.parameters)).collect())
        .map_err(|e| SearchError(format!("the job's models: {e}")))
}

/// FNV-1a of the kernel source, as 16 hex digits.
pub(crate) fn source_hash(source: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub(crate) fn now_unix() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
