//! The specialist's training examples: a node's prompt and the answer it
//! should give there.
//!
//! - **Screened** (pretraining, unmeasured): at nodes of corpus programs
//!   (colt-ir's `corpus`), the legal edit whose child the cost model's
//!   roofline prior ranks fastest, where it ranks it faster than the node by
//!   at least [`SCREEN_MARGIN`]. Cheap: no kernel is compiled.
//! - **Improvements** (measured): a trial and the nearest recorded ancestor
//!   of its lineage at most [`MAX_EDITS`] edits back, when the trial
//!   measured faster by at least the minimum gain asked for: the
//!   ancestor's prompt, those edits as the answer.
//! - **Demonstrations** (measured): along each job's best kernel's lineage,
//!   each node and the edit it took next.
//!
//! Every answer names the asker as the next model (`<model0>`). A record
//! whose lineage no longer rebuilds the kernel it was measured as (another
//! version of colt's schedule space) is counted as stale and left out.

use crate::error::TrainError;
use colt_db::{TrialRecord, TuningDb};
use colt_ir::schedule::{legal_edits, lower, Candidate, Edit, Lineage, Machine, Rng, Sampler, Target};
use colt_ir::{Program, Size};
use colt_policy::cost::Roofline;
use colt_policy::protocol::MAX_EDITS;
use colt_policy::specialist::{cache_bytes, prompt, AnswerConstraint, MachineView, Vocabulary};
use colt_policy::{ModelSpec, Roster};
use colt_specialist::Example;
use colt_tree::ModelId;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A screened answer's child must be predicted this much faster than its node.
pub const SCREEN_MARGIN: f64 = 1.05;
/// Demonstrations taken along one best kernel's lineage, at most.
const MAX_DEMONSTRATION_STEPS: usize = 40;

/// Where an example comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Screened,
    Improvement,
    Demonstration,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Screened => "screened",
            Source::Improvement => "improvement",
            Source::Demonstration => "demonstration",
        }
    }
}

/// One example and the workload it was drawn from (the held-out split is by workload).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub workload: String,
    pub source: Source,
    pub example: Example,
}

/// The roster an example is written for: the specialist alone, so that
/// `<model0>` (the asker) is the only next model.
fn lone_roster() -> Roster {
    // A roster fails only empty or with two models of one name.
    Roster::new(vec![ModelSpec::new("colt-specialist", 1)]).expect("a roster of one model")
}

/// `prompt(node)` followed by the answer choosing `edits` (which must be
/// among the node's legal edits); `None` when one is not, or when the
/// sequence is longer than `context` tokens.
pub fn example_at(
    vocabulary: &Vocabulary,
    machine: &MachineView,
    node: &Candidate,
    edits: &[Edit],
    context: usize,
) -> Result<Example, Skipped> {
    let legal = legal_edits(node);
    let constraint = AnswerConstraint::new(vocabulary, &legal, &lone_roster(), ModelId(0));
    let indices: Option<Vec<usize>> = edits.iter().map(|e| constraint.edits().iter().position(|l| l == e)).collect();
    let indices = indices.ok_or(Skipped::Unlisted)?;
    let answer = constraint.encode(&indices, ModelId(0)).ok_or(Skipped::Unlisted)?;
    let mut tokens = prompt(vocabulary, machine, node);
    let answer_start = tokens.len();
    tokens.extend(answer);
    if tokens.len() > context {
        return Err(Skipped::TooLong);
    }
    Ok(Example { tokens, answer_start })
}

/// Why a would-be example was left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// An answer edit that the node's legal-edit list does not offer (the
    /// edit table changed, or a search applied an edit the list omits).
    Unlisted,
    /// Prompt and answer exceed the model's context.
    TooLong,
}

/// The measured examples of a tuning database, and what was left out.
#[derive(Clone, Debug, Default)]
pub struct DatabaseExamples {
    pub samples: Vec<Sample>,
    pub jobs: usize,
    pub trials: usize,
    /// Trials whose lineage rebuilds another kernel than the one measured.
    pub stale: usize,
    pub unlisted: usize,
    pub too_long: usize,
    /// Faster children left out as less faster than the minimum gain.
    pub below_gain: usize,
    /// The hardware labels the used trials were measured on.
    pub labels: BTreeSet<String>,
}

impl DatabaseExamples {
    /// Adds another database's examples and counts to these.
    pub fn absorb(&mut self, other: DatabaseExamples) {
        self.samples.extend(other.samples);
        self.jobs += other.jobs;
        self.trials += other.trials;
        self.stale += other.stale;
        self.unlisted += other.unlisted;
        self.too_long += other.too_long;
        self.below_gain += other.below_gain;
        self.labels.extend(other.labels);
    }
}

/// What the specialist is told of the machine a record was measured on:
/// the informed sampler's machine (lanes, registers, cores) and the cache
/// sizes of the label's measured limits, where the database has them.
fn machine_of(db: &TuningDb, record: &TrialRecord) -> MachineView {
    let machine = match record.sampler {
        Sampler::Informed(m) | Sampler::Styled(m, _) => m,
        Sampler::Uniform => Machine { lanes: 0, registers: 0, cores: 0 },
    };
    let limits = db.machine_limits(&record.target).ok().flatten();
    MachineView::of(machine, &limits.map(|r| cache_bytes(&r.limits_json)).unwrap_or_default())
}

/// The measured examples of `db` (trials on `label` only, when given); an
/// improvement's child must be faster than its ancestor by `min_gain` at
/// least (0.03: the ancestor's latency is 1.03 times the child's or more).
pub fn database_examples(
    db: &TuningDb,
    label: Option<&str>,
    vocabulary: &Vocabulary,
    context: usize,
    min_gain: f64,
) -> Result<DatabaseExamples, TrainError> {
    let path = TuningDb::display(db.path());
    let mut out = DatabaseExamples::default();
    let mut all_labels = BTreeSet::new();
    for row in db.jobs()? {
        let trials = db.job_trials(row.id)?;
        all_labels.extend(trials.iter().map(|t| t.target.clone()));
        let trials: Vec<TrialRecord> =
            trials.into_iter().filter(|t| label.is_none_or(|l| t.target == l) && t.median_ms.is_some()).collect();
        if trials.is_empty() {
            continue;
        }
        let program = colt_ir::parse_workload(&row.job.workload_text, &row.job.workload, Size::Bench).map_err(|e| {
            TrainError::Workload {
                path: path.clone(),
                job: row.id,
                workload: row.job.workload.clone(),
                message: e.to_string(),
            }
        })?;
        out.jobs += 1;
        out.trials += trials.len();
        let job = JobTrials { workload: &row.job.workload, trials: &trials, min_gain };
        job_examples(db, &Arc::new(program), &job, vocabulary, context, &mut out);
    }
    if out.trials == 0 {
        return Err(match label {
            Some(label) if !all_labels.is_empty() => TrainError::NoRecordsForLabel {
                path,
                label: label.to_string(),
                labels: all_labels.into_iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "),
            },
            _ => TrainError::EmptyDatabase { path },
        });
    }
    Ok(out)
}

/// A record's candidate, rebuilt and checked against the kernel it was
/// measured as; `None` when it is stale.
fn rebuild(program: &Arc<Program>, record: &TrialRecord) -> Option<Candidate> {
    let lineage = Lineage { sampler: record.sampler, seed: record.seed, edits: record.edits.clone() };
    let candidate = lineage.rebuild_on(program, Target::of_label(&record.target)).ok()?;
    (lower(&candidate).fingerprint() == record.fingerprint).then_some(candidate)
}

/// One job's measured trials, and the least gain an improvement must show.
struct JobTrials<'a> {
    workload: &'a str,
    trials: &'a [TrialRecord],
    min_gain: f64,
}

fn job_examples(
    db: &TuningDb,
    program: &Arc<Program>,
    job: &JobTrials<'_>,
    vocabulary: &Vocabulary,
    context: usize,
    out: &mut DatabaseExamples,
) {
    let (workload, trials) = (job.workload, job.trials);
    let key = |t: &TrialRecord, edits: usize| (t.sampler.to_string(), t.seed, t.edits[..edits].to_vec());
    let by_lineage: HashMap<_, &TrialRecord> = trials.iter().map(|t| (key(t, t.edits.len()), t)).collect();
    let mut rebuilt: HashMap<u64, Option<Candidate>> = HashMap::new();
    let mut candidate = |t: &TrialRecord| rebuilt.entry(t.fingerprint).or_insert_with(|| rebuild(program, t)).clone();
    let push = |out: &mut DatabaseExamples, source, result: Result<Example, Skipped>| match result {
        Ok(example) => out.samples.push(Sample { workload: workload.to_string(), source, example }),
        Err(Skipped::Unlisted) => out.unlisted += 1,
        Err(Skipped::TooLong) => out.too_long += 1,
    };
    let parse = |texts: &[String]| texts.iter().map(|t| Edit::parse(t)).collect::<Result<Vec<Edit>, _>>().ok();
    // Improvements: the nearest recorded ancestor within MAX_EDITS edits.
    for child in trials {
        let n = child.edits.len();
        let ancestor = (1..=MAX_EDITS.min(n)).find_map(|k| by_lineage.get(&key(child, n - k)).map(|p| (k, *p)));
        let Some((k, parent)) = ancestor else { continue };
        let (Some(child_ms), Some(parent_ms)) = (child.median_ms, parent.median_ms) else { continue };
        if !child.verified || child_ms >= parent_ms {
            continue;
        }
        if parent_ms < child_ms * (1.0 + job.min_gain) {
            out.below_gain += 1;
            continue;
        }
        let (Some(node), Some(_)) = (candidate(parent), candidate(child)) else {
            out.stale += 1;
            continue;
        };
        let Some(edits) = parse(&child.edits[n - k..]) else {
            out.unlisted += 1;
            continue;
        };
        let machine = machine_of(db, child);
        push(out, Source::Improvement, example_at(vocabulary, &machine, &node, &edits, context));
        out.labels.insert(child.target.clone());
    }
    // Demonstrations: the best kernel's lineage, node by node.
    let latency = |t: &&TrialRecord| t.median_ms.unwrap_or(f64::INFINITY);
    let Some(best) = trials.iter().filter(|t| t.verified).min_by(|a, b| latency(a).total_cmp(&latency(b))) else {
        return;
    };
    if candidate(best).is_none() {
        out.stale += 1;
        return;
    }
    let Some(edits) = parse(&best.edits) else { return };
    let machine = machine_of(db, best);
    let mut node = best.sampler.sample(program.clone(), Target::of_label(&best.target), best.seed);
    for edit in edits.iter().take(MAX_DEMONSTRATION_STEPS) {
        push(out, Source::Demonstration, example_at(vocabulary, &machine, &node, std::slice::from_ref(edit), context));
        match edit.apply(&node) {
            Ok(next) => node = next,
            Err(_) => break,
        }
    }
    out.labels.insert(best.target.clone());
}

/// What screening the corpus produced and cost.
#[derive(Clone, Debug, Default)]
pub struct ScreenedExamples {
    pub samples: Vec<Sample>,
    pub programs: usize,
    pub nodes: usize,
    /// Nodes where no legal edit's child was ranked faster by the margin.
    pub no_better_edit: usize,
    pub too_long: usize,
    /// Children scored by the cost model.
    pub children_scored: usize,
}

/// Screened examples at `nodes_per_program` nodes of each corpus program
/// `seeds`: informed samples of the machine, walked 0–2 random legal edits
/// further. Programs are split between `threads` threads.
pub fn screened_examples(
    seeds: std::ops::Range<u64>,
    nodes_per_program: usize,
    machine: &MachineView,
    vocabulary: &Vocabulary,
    context: usize,
    threads: usize,
) -> ScreenedExamples {
    let seeds: Vec<u64> = seeds.collect();
    let chunk = seeds.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<ScreenedExamples> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .chunks(chunk)
            .map(|part| s.spawn(move || screen(part, nodes_per_program, machine, vocabulary, context)))
            .collect();
        // A thread's panic is a bug of the screening: it is passed on, not hidden.
        handles.into_iter().map(|h| h.join().expect("a screening thread panicked")).collect()
    });
    let mut out = ScreenedExamples::default();
    for p in parts {
        out.samples.extend(p.samples);
        out.programs += p.programs;
        out.nodes += p.nodes;
        out.no_better_edit += p.no_better_edit;
        out.too_long += p.too_long;
        out.children_scored += p.children_scored;
    }
    out
}

fn screen(
    seeds: &[u64],
    nodes_per_program: usize,
    machine: &MachineView,
    vocabulary: &Vocabulary,
    context: usize,
) -> ScreenedExamples {
    let mut out = ScreenedExamples::default();
    let sampler = Sampler::Informed(Machine {
        lanes: machine.lanes.max(1),
        registers: machine.registers.max(1),
        cores: machine.cores.max(1),
    });
    let prior = Roofline { cores: machine.cores.max(1), ..Roofline::default() };
    let predicted = |c: &Candidate| prior.throughput(&colt_ir::features::features(c));
    for &seed in seeds {
        let program = Arc::new(colt_ir::corpus::corpus_program(seed));
        out.programs += 1;
        let mut rng = Rng::new(seed ^ 0x5c4e_e4ed);
        for node_index in 0..nodes_per_program {
            let mut node = sampler.sample(program.clone(), Target::Cpu, seed.wrapping_mul(1000) + node_index as u64);
            for _ in 0..rng.below(3) {
                let legal = legal_edits(&node);
                if legal.is_empty() {
                    break;
                }
                if let Ok(next) = legal[rng.below(legal.len())].apply(&node) {
                    node = next;
                }
            }
            out.nodes += 1;
            let here = predicted(&node);
            let mut best: Option<(f64, Edit)> = None;
            for edit in legal_edits(&node) {
                let Ok(child) = edit.apply(&node) else { continue };
                out.children_scored += 1;
                let score = predicted(&child);
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, edit));
                }
            }
            match best {
                Some((score, edit)) if score >= here * SCREEN_MARGIN => {
                    match example_at(vocabulary, machine, &node, &[edit], context) {
                        Ok(example) => out.samples.push(Sample {
                            workload: program.name().to_string(),
                            source: Source::Screened,
                            example,
                        }),
                        Err(_) => out.too_long += 1,
                    }
                }
                _ => out.no_better_edit += 1,
            }
        }
    }
    out
}
