//! The runner: a loaded kernel (which it owns) executed in this process on a team of
//! threads pinned to the measured cores, once to check it and then
//! repeatedly to time it. [`crate::worker`] runs it inside the worker
//! process; calling it directly gives no isolation from a bad kernel.

use crate::affinity::{self, PinError};
use crate::barrier::{barrier_callback, SpinBarrier};
use crate::buffers::{BufferSpec, KernelBuffers};
use crate::loader::LoadedKernel;
use serde::{Deserialize, Serialize};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How many runs a timing makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    /// Untimed runs first (caches, page faults, branch predictors).
    pub warmup_runs: usize,
    /// Timed runs continue until both `min_runs` and `min_seconds` are met
    /// (the bench harness of colt-ir uses 10 runs and 0.3 s) ...
    pub min_runs: usize,
    pub min_seconds: f64,
    /// ... or `max_seconds` have passed (at least one timed run is made),
    /// which bounds the time a slow kernel takes.
    pub max_seconds: f64,
}

impl Default for RunPlan {
    fn default() -> RunPlan {
        RunPlan { warmup_runs: 2, min_runs: 10, min_seconds: 0.3, max_seconds: 3.0 }
    }
}

impl RunPlan {
    /// The most wall time the timed phase takes beyond its warm-up runs,
    /// given how long one run takes.
    pub fn bound_seconds(&self, run_seconds: f64) -> f64 {
        self.max_seconds.max(self.min_seconds) + run_seconds * (self.warmup_runs + 1) as f64
    }
}

/// A kernel, its buffers and the cores it runs on.
pub struct Runner {
    kernel: LoadedKernel,
    buffers: KernelBuffers,
    cores: Vec<usize>,
    seed: u64,
}

/// The kernel-table pointer, shared by the team. The buffers it points to
/// outlive the team (`Runner` owns them), and which task writes which
/// element is the kernel's business.
struct Table(*const *mut f32);
// SAFETY: see above; the table itself is only read.
unsafe impl Sync for Table {}

struct Team<'a> {
    kernel: &'a LoadedKernel,
    table: Table,
    ntasks: usize,
    start: SpinBarrier,
    end: SpinBarrier,
    phases: SpinBarrier,
    stop: AtomicBool,
}

impl Team<'_> {
    fn call(&self, task: usize) {
        let ctx = &self.phases as *const SpinBarrier as *mut c_void;
        // SAFETY: the table holds the buffers the kernel was generated for
        // (`Runner::new`'s contract), and all `ntasks` tasks call at once.
        unsafe { self.kernel.call(self.table.0, task, self.ntasks, barrier_callback, ctx) }
    }
}

impl Runner {
    /// `specs` must be the kernel's `bufs[]` layout ([`crate::buffers::layout`]);
    /// one task runs on each of `cores` (at least one). Fails when the
    /// buffers cannot be mapped.
    pub fn new(kernel: LoadedKernel, specs: Vec<BufferSpec>, seed: u64, cores: Vec<usize>) -> std::io::Result<Runner> {
        let cores = if cores.is_empty() { vec![0] } else { cores };
        Ok(Runner { kernel, buffers: KernelBuffers::new(specs, seed)?, cores, seed })
    }

    pub fn buffers(&self) -> &KernelBuffers {
        &self.buffers
    }

    /// Poisons every non-input buffer, runs the kernel once, and returns
    /// the run's seconds. Read the outputs with [`buffers`](Self::buffers).
    pub fn check_run(&mut self) -> Result<f64, PinError> {
        self.buffers.poison();
        self.with_team(|run| run())
    }

    /// The index of an input the kernel wrote, if any.
    pub fn modified_input(&self) -> Option<usize> {
        self.buffers.modified_input(self.seed)
    }

    /// Warm-up runs, then timed runs as `plan` says; milliseconds per run.
    pub fn time(&mut self, plan: &RunPlan) -> Result<Vec<f64>, PinError> {
        self.with_team(|run| {
            for _ in 0..plan.warmup_runs {
                run();
            }
            let mut samples = Vec::new();
            let mut total = 0.0;
            loop {
                let seconds = run();
                total += seconds;
                samples.push(seconds * 1e3);
                let enough = samples.len() >= plan.min_runs && total >= plan.min_seconds;
                if enough || total >= plan.max_seconds {
                    return samples;
                }
            }
        })
    }

    /// Runs `body` with a function that makes one run on every task and
    /// returns its seconds. Task 0 runs on the calling thread (pinned to
    /// the first core for the duration, then restored), tasks 1.. on scoped
    /// threads that wait between runs on a spinning barrier, so a run's
    /// time is the kernel's, not thread start-up's.
    fn with_team<R>(&mut self, body: impl FnOnce(&mut dyn FnMut() -> f64) -> R) -> Result<R, PinError> {
        let ntasks = self.cores.len();
        let team = Team {
            kernel: &self.kernel,
            table: Table(self.buffers.table()),
            ntasks,
            start: SpinBarrier::new(ntasks),
            end: SpinBarrier::new(ntasks),
            phases: SpinBarrier::new(ntasks),
            stop: AtomicBool::new(false),
        };
        let pin_failure: Mutex<Option<PinError>> = Mutex::new(None);
        let saved = affinity::current();
        affinity::pin_to(self.cores[0])?;
        let result = std::thread::scope(|scope| {
            for (task, &core) in self.cores.iter().enumerate().skip(1) {
                let (team, pin_failure) = (&team, &pin_failure);
                scope.spawn(move || {
                    if let Err(e) = affinity::pin_to(core) {
                        // Still take part, or the other tasks would wait forever.
                        *pin_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                    loop {
                        team.start.wait();
                        if team.stop.load(Ordering::Acquire) {
                            return;
                        }
                        team.call(task);
                        team.end.wait();
                    }
                });
            }
            let mut run = || {
                let begin = Instant::now();
                team.start.wait();
                team.call(0);
                team.end.wait();
                begin.elapsed().as_secs_f64()
            };
            let result = body(&mut run);
            team.stop.store(true, Ordering::Release);
            team.start.wait();
            result
        });
        if let Some(saved) = saved {
            // Failing to widen the thread's affinity again only makes later
            // work of this thread run on one core; not worth failing a run.
            let _ = affinity::restore(&saved);
        }
        match pin_failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }
}
