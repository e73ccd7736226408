//! colt-search's three interfaces, answered by the actors: a model call
//! goes to that model's actor, a measurement to the measurement actor, a
//! trial to the database actor.

use crate::db_actor::Db;
use crate::llm::{Generate, LlmActor, SpecialistQuery};
use crate::measure::{Measure, MeasureActor};
use crate::system::ask_until;
use actix::Addr;
use colt_db::TrialRecord;
use colt_ir::Program;
use colt_llm::Continuation;
use colt_measure::{Kernel, MeasureError, Measurement};
use colt_policy::specialist::{prompt, AnswerConstraint, MachineView, Vocabulary};
use colt_search::{AnswerShape, ModelCall, Proposal, ProposalFailure, Proposer, RecordError, Recorder, Runner, Trial};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Model calls, by model name, to the models' actors.
pub struct ActorProposer {
    pub models: HashMap<String, Addr<LlmActor>>,
    /// The job's stop flag: a call in flight is given up when it is set.
    pub stop: Arc<AtomicBool>,
    /// Most tokens of one answer.
    pub answer_tokens: u32,
    /// Decode the text the answer grammar forces without sampling it (on
    /// by default; `COLT_FORCED_TEXT=0` turns it off, to measure what it
    /// saves).
    pub forced_text: bool,
    /// The models that are colt specialists, and what their prompts say of
    /// the machine.
    pub specialists: HashSet<String>,
    pub machine: MachineView,
    vocabulary: Vocabulary,
}

impl ActorProposer {
    pub fn new(models: HashMap<String, Addr<LlmActor>>, answer_tokens: u32, stop: Arc<AtomicBool>) -> ActorProposer {
        let forced_text = std::env::var("COLT_FORCED_TEXT").map_or(true, |v| v != "0");
        let machine = MachineView { lanes: 0, registers: 0, cores: 0, caches_kib: Vec::new() };
        ActorProposer {
            models,
            stop,
            answer_tokens,
            forced_text,
            specialists: HashSet::new(),
            machine,
            vocabulary: Vocabulary::new(),
        }
    }

    /// The same, with `specialists` prompted in the schedule language and
    /// told of `machine`.
    pub fn with_specialists(mut self, specialists: HashSet<String>, machine: MachineView) -> ActorProposer {
        self.specialists = specialists;
        self.machine = machine;
        self
    }

    fn specialist_query(&self, call: &ModelCall<'_>) -> Option<SpecialistQuery> {
        self.specialists.contains(call.model).then(|| SpecialistQuery {
            prompt: prompt(&self.vocabulary, &self.machine, call.node),
            constraint: Arc::new(AnswerConstraint::new(&self.vocabulary, call.legal, call.roster, call.asking)),
            temperature: call.temperature.unwrap_or(crate::llm::SPECIALIST_TEMPERATURE),
        })
    }
}

impl Proposer for ActorProposer {
    fn propose(&self, call: &ModelCall<'_>) -> Result<Proposal, ProposalFailure> {
        let model = call.model;
        let addr = self.models.get(model).ok_or_else(|| ProposalFailure(format!("no model named `{model}`")))?;
        let specialist = self.specialist_query(call).map(Arc::new);
        let generate = |reply| Generate {
            specialist: specialist.clone(),
            system: call.system.to_string(),
            user: call.user.to_string(),
            grammar: Some(call.grammar.to_string()),
            forced: self.forced_text.then(|| Arc::new(ForcedByShape(call.shape.clone())) as Arc<dyn Continuation>),
            max_tokens: self.answer_tokens,
            seed: call.seed,
            answers: call.answers.clamp(1, crate::llm::MAX_ANSWERS as usize) as u32,
            reply,
        };
        let completions = ask_until(addr, "model", &self.stop, generate)
            .map_err(|e| ProposalFailure(e.to_string()))?
            .ok_or_else(|| {
                ProposalFailure(format!("model `{model}`: the call was given up (the job was told to stop)"))
            })?
            .map_err(|e| ProposalFailure(format!("model `{model}`: {e}")))?;
        let mut texts = completions.iter().map(|c| c.text.clone());
        let answer = texts.next().ok_or_else(|| ProposalFailure(format!("model `{model}` gave no answer")))?;
        // The prompt was processed once, for every answer.
        let prompt = completions.first().map_or((0, 0.0), |c| (c.stats.prompt_tokens, c.stats.prompt_seconds));
        let generated: usize = completions.iter().map(|c| c.stats.generated_tokens).sum();
        // Answers decoded side by side: the call took as long as its longest.
        let generating = completions.iter().map(|c| c.stats.generation_seconds).fold(0.0, f64::max);
        Ok(Proposal {
            answer,
            more_answers: texts.collect(),
            tokens: (prompt.0 + generated) as u64,
            seconds: prompt.1 + generating,
        })
    }
}

/// The answer grammar's forced text, for colt-llm.
struct ForcedByShape(Arc<AnswerShape>);

impl Continuation for ForcedByShape {
    fn forced(&self, answer: &str) -> String {
        self.0.forced(answer)
    }
}

/// Measurements, to the measurement actor.
pub struct ActorRunner {
    pub addr: Addr<MeasureActor>,
    /// The job's stop flag: a measurement in flight is given up when it is
    /// set (the measurement actor finishes it, and its answer is dropped).
    pub stop: Arc<AtomicBool>,
}

impl Runner for ActorRunner {
    fn run(&self, program: &Arc<Program>, kernel: &Kernel) -> Result<Measurement, MeasureError> {
        let request = |reply| Measure { program: program.clone(), kernel: kernel.clone(), reply };
        let worker = |message: String| MeasureError::Worker { kernel: kernel.name().to_string(), message };
        match ask_until(&self.addr, "measurement", &self.stop, request) {
            Ok(Some(measured)) => measured,
            Ok(None) => Err(worker("given up: the job was told to stop".into())),
            Err(e) => Err(worker(e.to_string())),
        }
    }
}

/// Trials, to the tuning database.
pub struct DbRecorder {
    pub db: Db,
}

impl Recorder for DbRecorder {
    fn record(&self, trial: &Trial) -> Result<(), RecordError> {
        let record = record_of(trial);
        match self.db.call(move |db| db.record_trial(&record)) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(RecordError(Box::new(e))),
            Err(e) => Err(RecordError(Box::new(e))),
        }
    }

    fn record_probe(&self, job: i64, probe: &colt_search::ProposalProbe) -> Result<(), RecordError> {
        let record = colt_db::ProbeRecord {
            job,
            model: probe.model.clone(),
            parent_predicted: probe.parent_predicted,
            proposal_predicted: probe.proposal_predicted,
            random_predicted: probe.random_predicted,
            duplicate: probe.duplicate,
            measured: probe.measured,
            proposal_ms: probe.proposal_ms,
            random_ms: probe.random_ms,
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        };
        match self.db.call(move |db| db.record_probe(&record)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(RecordError(Box::new(e))),
            Err(e) => Err(RecordError(Box::new(e))),
        }
    }
}

/// A search's trial as the database stores it.
pub fn record_of(trial: &Trial) -> TrialRecord {
    let timing = trial.timing.as_ref();
    TrialRecord {
        job: trial.job,
        workload_fingerprint: trial.workload_fingerprint.clone(),
        target: trial.target.label(),
        sampler: trial.lineage.sampler,
        seed: trial.lineage.seed,
        edits: trial.lineage.edits.clone(),
        decisions: trial.decisions.clone(),
        source_hash: trial.source_hash.clone(),
        fingerprint: trial.fingerprint,
        verified: timing.is_some(),
        median_ms: timing.map(|t| t.median_ms),
        min_ms: timing.map(|t| t.min_ms),
        max_ms: timing.map(|t| t.max_ms),
        runs: timing.map_or(0, |t| t.runs as u32),
        failure: trial.failure.clone(),
        strategy: trial.strategy.clone(),
        model: trial.model.clone(),
        trial_index: trial.index,
        created_unix: trial.created_unix,
    }
}

/// A recorded trial, as a resumed search takes it back.
pub fn past_trial_of(record: &TrialRecord) -> colt_search::PastTrial {
    colt_search::PastTrial {
        lineage: colt_ir::schedule::Lineage { sampler: record.sampler, seed: record.seed, edits: record.edits.clone() },
        fingerprint: record.fingerprint,
        latency_ms: if record.verified { record.median_ms } else { None },
        model: record.model.clone(),
    }
}
