//! The measurement actors: each owns its measurer and serves one request
//! at a time on a thread of its own, so that no two timings overlap on the
//! measured cores. While the CPU actor times a kernel, the models' decoding
//! is paused (their sessions share the job's `PauseGate`); the build runs
//! before the pause, so only the timed part stops the models.

use actix::{Actor, Handler, Message, SyncContext};
use colt_ir::Program;
use colt_llm::PauseGate;
use colt_measure::opencl::{OpenClKernel, OpenClMeasurer};
use colt_measure::{Builder, CpuConfig, CpuMeasurer, KernelSource, MeasureError, Measurement, WorkerCommand};
use crossbeam_channel::Sender;
use std::sync::Arc;

/// Build, check and time a kernel on the CPU.
pub struct MeasureCpu {
    pub program: Arc<Program>,
    pub kernel: KernelSource,
    pub reply: Sender<Result<Measurement, MeasureError>>,
}

impl Message for MeasureCpu {
    type Result = ();
}

pub struct CpuMeasureActor {
    measurer: CpuMeasurer,
    pause: PauseGate,
}

impl CpuMeasureActor {
    pub fn new(builder: Arc<Builder>, worker: WorkerCommand, config: CpuConfig, pause: PauseGate) -> CpuMeasureActor {
        CpuMeasureActor { measurer: CpuMeasurer::new(builder, worker, config), pause }
    }
}

impl Actor for CpuMeasureActor {
    type Context = SyncContext<Self>;
}

impl Handler<MeasureCpu> for CpuMeasureActor {
    type Result = ();

    fn handle(&mut self, request: MeasureCpu, _: &mut SyncContext<Self>) {
        // Compile first, with the models running: the measurement then
        // finds the image in the cache. A build error is reported by the
        // measurement itself.
        let _ = self.measurer.builder().build(&request.kernel.name, &request.kernel.c);
        let result = {
            let _paused = self.pause.pause();
            self.measurer.measure(&request.program, &request.kernel)
        };
        let _ = request.reply.send(result);
    }
}

/// Build, check and time an OpenCL kernel on the actor's device.
pub struct MeasureOpenCl {
    pub program: Arc<Program>,
    pub kernel: OpenClKernel,
    pub reply: Sender<Result<Measurement, MeasureError>>,
}

impl Message for MeasureOpenCl {
    type Result = ();
}

pub struct OpenClMeasureActor {
    measurer: OpenClMeasurer,
    pause: PauseGate,
}

impl OpenClMeasureActor {
    pub fn new(measurer: OpenClMeasurer, pause: PauseGate) -> OpenClMeasureActor {
        OpenClMeasureActor { measurer, pause }
    }
}

impl Actor for OpenClMeasureActor {
    type Context = SyncContext<Self>;
}

impl Handler<MeasureOpenCl> for OpenClMeasureActor {
    type Result = ();

    fn handle(&mut self, request: MeasureOpenCl, _: &mut SyncContext<Self>) {
        let result = {
            let _paused = self.pause.pause();
            self.measurer.measure(&request.program, &request.kernel)
        };
        let _ = request.reply.send(result);
    }
}
