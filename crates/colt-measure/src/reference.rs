//! Reference outputs (colt-ir's interpreter on the seeded inputs), computed
//! once per program and seed, and the check of a kernel's outputs against
//! them.
//!
//! Where the interpreter runs is the cache's [`ReferenceSource`]: in this
//! process (the library default, for tests and one-shot commands), or in a
//! worker process ([`ReferenceCache::in_worker`]), which is what a
//! long-running process must use. The interpreter allocates every buffer of
//! the program at once (up to colt-ir's `MAX_PROGRAM_ELEMENTS`, 8 GiB), so
//! a workload a user submits can exhaust memory; in a worker that fails the
//! job that asked, not the daemon (issue 19, item 2).

use crate::client::{WorkerClient, WorkerCommand, WorkerFault};
use crate::protocol::{Request, Response};
use colt_ir::data::{max_rel_err, TOLERANCE};
use colt_ir::{BufferRole, Program};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The longest one reference computation may take in a worker before it is
/// killed and the job that asked fails: the interpreter runs the full-size
/// suite's layers in minutes, so an hour is a program no one can tune.
pub const REFERENCE_TIMEOUT: Duration = Duration::from_secs(3600);

/// One program's reference outputs.
#[derive(Debug)]
pub struct Reference {
    /// `(index in bufs[], name, values)` of each output.
    pub outputs: Vec<(usize, String, Vec<f32>)>,
}

/// An output that does not match.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub buffer: String,
    pub max_rel_err: f32,
}

/// Why a program has no reference: the worker computing it died (out of
/// memory, a panic), hung, or could not be started.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the reference interpreter on `{program}` failed: {message}")]
pub struct ReferenceError {
    pub program: String,
    pub message: String,
}

impl Reference {
    /// Runs the interpreter in this process (seconds for the bench-size
    /// suite).
    pub fn compute(program: &Program, seed: u64) -> Reference {
        Reference::from_buffers(program, colt_ir::interp::evaluate(program, seed))
    }

    /// The outputs among `all`, every buffer of `program` in declaration
    /// order.
    fn from_buffers(program: &Program, mut all: Vec<Vec<f32>>) -> Reference {
        let outputs = program
            .buffers_with_role(BufferRole::Output)
            .map(|(id, b)| (id.0, b.name.clone(), std::mem::take(&mut all[id.0])))
            .collect();
        Reference { outputs }
    }

    /// Runs the interpreter in a worker started by `command`; the worker
    /// is ended afterwards (its memory is the interpreter's, and freed).
    pub fn compute_in_worker(
        program: &Program,
        seed: u64,
        command: &WorkerCommand,
        limit: Duration,
    ) -> Result<Reference, ReferenceError> {
        let fail = |message: String| ReferenceError { program: program.name().to_string(), message };
        let request = Request::Reference {
            name: program.name().to_string(),
            text: colt_ir::print_program(program),
            seed,
            outputs: program.buffers_with_role(BufferRole::Output).map(|(id, _)| id.0).collect(),
        };
        let mut client = WorkerClient::new(command.clone());
        let answer = client.request(&request, limit);
        client.kill();
        match answer {
            Ok(Response::Referenced { outputs }) => {
                let expected: Vec<(usize, String)> =
                    program.buffers_with_role(BufferRole::Output).map(|(id, b)| (id.0, b.name.clone())).collect();
                if outputs.len() != expected.len() {
                    return Err(fail(format!("the worker returned {} outputs, not {}", outputs.len(), expected.len())));
                }
                let outputs = expected.into_iter().zip(outputs).map(|((index, name), values)| (index, name, values));
                Ok(Reference { outputs: outputs.collect() })
            }
            Ok(Response::Failed { message }) => Err(fail(message)),
            Ok(_) => Err(fail("the worker answered out of turn".into())),
            Err(WorkerFault::TimedOut { limit }) => Err(fail(format!("it did not finish within {limit:?}"))),
            Err(fault) => Err(fail(fault.to_string())),
        }
    }

    /// The `bufs[]` indices of the outputs, in the order `check` expects.
    pub fn indices(&self) -> Vec<usize> {
        self.outputs.iter().map(|(index, _, _)| *index).collect()
    }

    /// Compares `actual` (one per output, in [`indices`](Self::indices)
    /// order) with the suite's tolerance; the largest error, or the first
    /// output over the tolerance.
    pub fn check(&self, actual: &[Vec<f32>]) -> Result<f32, Mismatch> {
        let mut worst = 0.0f32;
        for (i, (_, name, expected)) in self.outputs.iter().enumerate() {
            let err = actual.get(i).map_or(f32::INFINITY, |a| max_rel_err(a, expected));
            if err.is_nan() || err > TOLERANCE {
                return Err(Mismatch { buffer: name.clone(), max_rel_err: err });
            }
            worst = worst.max(err);
        }
        Ok(worst)
    }
}

/// The worker's side of [`Request::Reference`]: parse the program back from
/// its text and run the interpreter. A panic or an allocation failure ends
/// the worker, which its parent reports.
pub(crate) fn answer_reference(name: &str, text: &str, seed: u64, outputs: &[usize]) -> Response {
    let program = match colt_ir::parse_workload(text, name, colt_ir::Size::Bench) {
        Ok(program) => program,
        Err(e) => return Response::Failed { message: format!("the program does not parse back: {e}") },
    };
    let mut all = colt_ir::interp::evaluate(&program, seed);
    let outputs = outputs.iter().map(|&i| all.get_mut(i).map(std::mem::take).unwrap_or_default()).collect();
    Response::Referenced { outputs }
}

/// Where a [`ReferenceCache`] runs the interpreter.
#[derive(Clone, Debug, Default)]
pub enum ReferenceSource {
    /// In this process: a program that exhausts memory takes the process.
    #[default]
    InProcess,
    /// In a worker process of its own, killed after `limit`.
    Worker { command: WorkerCommand, limit: Duration },
}

/// A reference being computed or computed (or failed), shared by everyone
/// who asks: a failure is kept too, so the candidates after it fail at once
/// instead of each running the interpreter into the same wall again.
type Slot = Arc<OnceLock<Result<Arc<Reference>, ReferenceError>>>;

/// References by program and seed; thread-safe, each computed once.
#[derive(Default)]
pub struct ReferenceCache {
    entries: Mutex<HashMap<(String, u64), Slot>>,
    source: ReferenceSource,
}

impl ReferenceCache {
    /// Computes references in this process.
    pub fn new() -> ReferenceCache {
        ReferenceCache::default()
    }

    /// Computes references in workers started by `command`, each allowed
    /// [`REFERENCE_TIMEOUT`].
    pub fn in_worker(command: WorkerCommand) -> ReferenceCache {
        ReferenceCache::with_source(ReferenceSource::Worker { command, limit: REFERENCE_TIMEOUT })
    }

    pub fn with_source(source: ReferenceSource) -> ReferenceCache {
        ReferenceCache { entries: Mutex::default(), source }
    }

    /// The reference of `program` on inputs of `seed`. Programs are keyed by
    /// name and printed text, so two loads of one workload share it.
    pub fn get(&self, program: &Program, seed: u64) -> Result<Arc<Reference>, ReferenceError> {
        let key = (format!("{}\n{}", program.name(), colt_ir::print_program(program)), seed);
        let slot = self.entries.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default().clone();
        slot.get_or_init(|| match &self.source {
            ReferenceSource::InProcess => Ok(Arc::new(Reference::compute(program, seed))),
            ReferenceSource::Worker { command, limit } => {
                Reference::compute_in_worker(program, seed, command, *limit).map(Arc::new)
            }
        })
        .clone()
    }

    /// How many references have been computed or are being computed.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
