//! The worker process's side: read a request, run it, answer, until stdin
//! closes. A kernel that crashes or hangs takes only this process down; the
//! parent ([`WorkerClient`](crate::WorkerClient)) sees it die or time out and starts another.
//!
//! A binary makes itself a worker by calling [`serve_stdio`] (`colt
//! measure-worker` does; so does this crate's `colt-measure-worker`, which
//! the tests use).

use crate::loader::LoadedKernel;
use crate::opencl::{Bound, DeviceChoice, OpenClDevice, OpenClKernel, OpenClMeasurer};
use crate::protocol::{read_message, write_message, Request, Response};
use crate::runner::Runner;
use std::io::{BufReader, BufWriter, Read, Write};
use std::time::{Duration, Instant};

/// Serves requests on stdin/stdout; returns when the parent closes stdin.
/// Also makes the process fit to crash: no core dumps (a crashing kernel is
/// routine here), and it exits when its parent dies, so a hung kernel
/// cannot outlive the process that would have killed it.
pub fn serve_stdio() -> std::io::Result<()> {
    disable_core_dumps();
    exit_with_parent();
    serve(BufReader::new(std::io::stdin().lock()), BufWriter::new(std::io::stdout().lock()))
}

/// Serves requests from `input`, answering on `output`.
pub fn serve(mut input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let mut loaded: Option<Runner> = None;
    // The OpenCL device, opened at the first OpenCL request (once: opening
    // a platform costs tenths of a second), and the kernel bound on it.
    let mut opencl: Option<(DeviceChoice, OpenClMeasurer)> = None;
    let mut bound: Option<(OpenClKernel, Bound)> = None;
    loop {
        let request: Request = match read_message(&mut input) {
            Ok(request) => request,
            // End of input: the parent is done with this worker.
            Err(bincode::error::DecodeError::Io { inner, .. }) if inner.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(())
            }
            Err(e) => return Err(std::io::Error::other(e)),
        };
        let response = match request {
            Request::Check { image, buffers, seed, cores, outputs } => {
                loaded = None;
                bound = None;
                let start = Instant::now();
                match LoadedKernel::load(&image) {
                    Err(e) => Response::Failed { message: e.to_string() },
                    Ok(kernel) => {
                        let load_seconds = start.elapsed().as_secs_f64();
                        let runner = match Runner::new(kernel, buffers, seed, cores) {
                            Ok(runner) => loaded.insert(runner),
                            Err(e) => {
                                let message = format!("cannot map the kernel's buffers: {e}");
                                write_message(&mut output, &Response::Failed { message })?;
                                continue;
                            }
                        };
                        match runner.check_run() {
                            Err(e) => Response::Failed { message: e.to_string() },
                            Ok(run_seconds) => Response::Checked {
                                outputs: outputs
                                    .iter()
                                    .map(|&i| runner.buffers().buffer(i).map(<[f32]>::to_vec).unwrap_or_default())
                                    .collect(),
                                modified_input: runner.modified_input(),
                                load_seconds,
                                run_seconds,
                            },
                        }
                    }
                }
            }
            Request::Reference { name, text, seed, outputs } => {
                crate::reference::answer_reference(&name, &text, seed, &outputs)
            }
            Request::OpenClCheck { device, kernel, buffers, seed, outputs } => {
                (loaded, bound) = (None, None);
                let start = Instant::now();
                let measurer = match opencl.take() {
                    Some((choice, measurer)) if choice == device => Ok((choice, measurer)),
                    _ => OpenClDevice::open(&device)
                        .map(|d| (device.clone(), OpenClMeasurer::new(d, crate::opencl::OpenClConfig::default()))),
                };
                match measurer {
                    Err(error) => Response::OpenClFailed { error },
                    Ok(opened) => {
                        let measurer = &opencl.insert(opened).1;
                        match measurer.bind(&kernel, &buffers, seed) {
                            Err(error) => Response::OpenClFailed { error },
                            Ok(b) => {
                                let load_seconds = start.elapsed().as_secs_f64();
                                match measurer.check_run(&kernel, &b, &outputs) {
                                    Err(error) => Response::OpenClFailed { error },
                                    Ok((outputs, run_seconds)) => {
                                        bound = Some((kernel, b));
                                        Response::Checked { outputs, modified_input: None, load_seconds, run_seconds }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Request::Time { plan } if bound.is_some() => {
                let (Some((_, measurer)), Some((kernel, b))) = (opencl.as_ref(), bound.as_ref()) else {
                    unreachable!("a kernel is bound only on an opened device")
                };
                match measurer.time(kernel, b, &plan) {
                    Ok(samples_ms) => Response::Timed { samples_ms },
                    Err(error) => Response::OpenClFailed { error },
                }
            }
            Request::Time { plan } => match loaded.as_mut() {
                None => Response::Failed { message: "no kernel is loaded to time".into() },
                Some(runner) => match runner.time(&plan) {
                    Ok(samples_ms) => Response::Timed { samples_ms },
                    Err(e) => Response::Failed { message: e.to_string() },
                },
            },
        };
        write_message(&mut output, &response)?;
    }
}

fn disable_core_dumps() {
    let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system call on a valid struct; failure only means cores
    // may be dumped.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
    }
}

/// A watchdog thread that ends the process once it is orphaned (its parent
/// id changes). Polling `getppid` rather than `PR_SET_PDEATHSIG`, which
/// fires when the *thread* that spawned the worker exits, not the process.
fn exit_with_parent() {
    // SAFETY: `getppid` cannot fail.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            // SAFETY: `_exit` ends the process without running anything of it,
            // which is what a worker whose kernel may be spinning needs.
            unsafe { libc::_exit(1) }
        }
    });
}
