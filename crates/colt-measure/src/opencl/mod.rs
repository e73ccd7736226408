//! The OpenCL path: the same build → check → time flow for OpenCL C
//! sources, through the `ocl` crate, on a chosen platform and device.
//!
//! The OpenCL kernel convention (the OpenCL counterpart of colt-ir's C
//! ABI): a source defines one or more `__kernel` functions, each taking the
//! program's buffers then the scratch buffers as `__global float *`
//! arguments in `bufs[]` order; a kernel is run as a list of
//! [`Launch`]es (entry, global and optional local size) enqueued in order
//! on one in-order queue, so a launch boundary is the barrier between
//! dependent phases. A run's time is from the first launch's start to the
//! last one's end, read from profiling events.
//!
//! OpenCL programs are built by the platform's own compiler (pocl caches
//! them itself). [`OpenClMeasurer::new`] runs them in this process (a
//! crashing OpenCL kernel takes the process with it);
//! [`OpenClMeasurer::in_worker`] runs them in the measurement worker, as
//! the CPU path does, with a deadline — what colt's own jobs use.

mod device;
mod error;
mod kernel;
mod measurer;

pub use device::{list_devices, DeviceChoice, DeviceInfo, OpenClDevice, PlatformInfo};
pub use error::OpenClError;
pub use kernel::{Launch, OpenClKernel};
pub(crate) use measurer::Bound;
pub use measurer::{OpenClConfig, OpenClMeasurer};
