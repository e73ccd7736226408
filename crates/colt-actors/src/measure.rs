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
use colt_measure::{Builder, CpuConfig, CpuMeasurer, Kernel, MeasureError, Measurement, WorkerCommand};
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
}

impl MeasureActor {
    pub fn new(
        builder: Arc<Builder>,
        worker: WorkerCommand,
        config: CpuConfig,
        opencl: Option<OpenClMeasurer>,
        pause: PauseGate,
    ) -> MeasureActor {
        MeasureActor { cpu: CpuMeasurer::new(builder, worker, config), opencl, pause }
    }
}

impl Actor for MeasureActor {
    type Context = SyncContext<Self>;
}

impl Handler<Measure> for MeasureActor {
    type Result = ();

    fn handle(&mut self, request: Measure, _: &mut SyncContext<Self>) {
        let result = match &request.kernel {
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
        };
        let _ = request.reply.send(result);
    }
}
