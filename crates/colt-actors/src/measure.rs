//! The measurement actor: it owns the CPU measurer and, when the process
//! opened one, the OpenCL device's, and serves one request at a time on a
//! thread of its own, so no two timings overlap on the measured cores.
//! While it times a kernel the models' decoding is paused (their sessions
//! share the process's `PauseGate`); a CPU kernel is built before the
//! pause, so only the timed part stops the models.

use actix::{Actor, Handler, Message, SyncContext};
use colt_ir::Program;
use colt_llm::PauseGate;
use colt_measure::opencl::{OpenClError, OpenClMeasurer};
use colt_measure::{Builder, CpuConfig, CpuMeasurer, Kernel, MeasureError, Measurement, ReferenceCache, WorkerCommand};
use crossbeam_channel::Sender;
use std::sync::Arc;

/// Build, check and time a kernel on its target.
pub struct Measure {
    pub program: Arc<Program>,
    pub kernel: Kernel,
    pub reply: Sender<Result<Measurement, MeasureError>>,
}

impl Message for Measure {
    type Result = ();
}

pub struct MeasureActor {
    cpu: CpuMeasurer,
    opencl: Option<OpenClMeasurer>,
    pause: PauseGate,
    /// Measurements that panicked (each failed alone).
    panics: u64,
}

impl MeasureActor {
    pub fn new(
        builder: Arc<Builder>,
        worker: WorkerCommand,
        config: CpuConfig,
        opencl: Option<OpenClMeasurer>,
        pause: PauseGate,
    ) -> MeasureActor {
        // A workload a user submits can exhaust memory in the reference
        // interpreter: it runs in a worker, failing that job, not this
        // process. Both targets check against the same references.
        let references = Arc::new(ReferenceCache::in_worker(worker.clone()));
        let cpu = CpuMeasurer::new(builder, worker, config).with_references(references.clone());
        let opencl = opencl.map(|m| m.with_references(references));
        MeasureActor { cpu, opencl, pause, panics: 0 }
    }
}

impl Actor for MeasureActor {
    type Context = SyncContext<Self>;
}

impl Handler<Measure> for MeasureActor {
    type Result = ();

    fn handle(&mut self, request: Measure, _: &mut SyncContext<Self>) {
        // A panic in colt's own code on one job's program (the lowering, the
        // buffer layout) fails that measurement, not the actor: without
        // this, every later job of a daemon failed with "the measurement
        // actor is not running" while health said ok. The worker is ended,
        // in case the panic left a request half-answered.
        let name = request.kernel.name().to_string();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.measure(&request))).unwrap_or_else(|panic| {
                self.cpu.end_worker();
                self.panics += 1;
                Err(MeasureError::Worker {
                    kernel: name,
                    message: format!("colt panicked: {}", panic_message(&*panic)),
                })
            });
        let _ = request.reply.send(result);
    }
}

impl MeasureActor {
    fn measure(&mut self, request: &Measure) -> Result<Measurement, MeasureError> {
        match &request.kernel {
            Kernel::Cpu(kernel) => {
                // Compile first, with the models running: the measurement
                // then finds the image in the cache. A build error is
                // reported by the measurement itself.
                let _ = self.cpu.builder().build(&kernel.name, &kernel.c);
                let _paused = self.pause.pause();
                self.cpu.measure(&request.program, kernel)
            }
            Kernel::OpenCl(kernel) => match &self.opencl {
                Some(measurer) => {
                    let _paused = self.pause.pause();
                    measurer.measure(&request.program, kernel)
                }
                None => Err(MeasureError::OpenCl(OpenClError::NoPlatform {
                    message: format!("`{}`: this colt process opened no OpenCL device", kernel.name),
                })),
            },
        }
    }
}

/// The text of a panic's payload (a `&str` or a `String`, as `panic!`
/// makes them).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}
