//! The parent's side of the worker process: spawn it from a given
//! executable, send a request, wait for the answer with a deadline, and
//! tell a crash from a hang from a broken pipe. A dead or killed worker is
//! replaced by a fresh one on the next request.

use crate::protocol::{read_message, write_message, Request, Response};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufReader, BufWriter, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The last bytes of the worker's stderr kept for a crash report (a Rust
/// panic message or a sanitizer line fits; a flood does not grow memory).
const STDERR_TAIL: usize = 4096;

/// How to start a worker: an executable that calls
/// [`crate::worker::serve_stdio`] when given `args`.
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    pub fn new(program: impl Into<PathBuf>) -> WorkerCommand {
        WorkerCommand { program: program.into(), args: Vec::new() }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> WorkerCommand {
        self.args.push(arg.into());
        self
    }

    /// `<colt> measure-worker`: the `colt` binary at `colt`.
    pub fn colt(colt: impl Into<PathBuf>) -> WorkerCommand {
        WorkerCommand::new(colt).arg("measure-worker")
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum WorkerFault {
    #[error("cannot start the measurement worker `{}`: {source}", program.display())]
    Spawn { program: PathBuf, source: std::io::Error },
    #[error("the worker died ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Crashed {
        status: String,
        /// The signal that killed it (11 = SIGSEGV), if one did.
        signal: Option<i32>,
        stderr: String,
    },
    #[error("the worker did not answer within {limit:?} and was killed")]
    TimedOut { limit: Duration },
}

/// A live worker process.
struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    responses: Receiver<Result<Response, String>>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

/// A connection to a worker process, restarted as needed.
pub struct WorkerClient {
    command: WorkerCommand,
    live: Option<Worker>,
    spawned: usize,
}

impl WorkerClient {
    /// Starts nothing yet; the first request spawns the worker.
    pub fn new(command: WorkerCommand) -> WorkerClient {
        WorkerClient { command, live: None, spawned: 0 }
    }

    /// How many worker processes this client has started.
    pub fn spawned(&self) -> usize {
        self.spawned
    }

    /// Sends `request` and waits at most `limit` for the answer. On a
    /// crash or a timeout the worker is gone (killed, reaped) and the next
    /// request starts a fresh one.
    pub fn request(&mut self, request: &Request, limit: Duration) -> Result<Response, WorkerFault> {
        let worker = match self.live.as_mut() {
            Some(worker) => worker,
            None => {
                let worker = self.spawn()?;
                self.live.insert(worker)
            }
        };
        // A failed write means the worker is already dead: its exit status
        // (read below, once the reader thread sees the closed pipe) says why.
        let sent = write_message(&mut worker.stdin, request);
        let answer = match sent {
            Ok(()) => worker.responses.recv_timeout(limit),
            Err(_) => worker.responses.recv_timeout(limit.min(Duration::from_secs(5))),
        };
        match answer {
            Ok(Ok(response)) => Ok(response),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(WorkerFault::TimedOut { limit })
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => Err(self.reap()),
        }
    }

    /// Ends the worker (if any) now; the next request starts a fresh one.
    pub fn kill(&mut self) {
        if let Some(mut worker) = self.live.take() {
            let _ = worker.child.kill();
            let _ = worker.child.wait();
        }
    }

    fn spawn(&mut self) -> Result<Worker, WorkerFault> {
        let spawn_error = |source| WorkerFault::Spawn { program: self.command.program.clone(), source };
        let mut child = Command::new(&self.command.program)
            .args(&self.command.args)
            // A crash report is the stderr tail: the panic or allocation
            // failure's own line, not the backtrace after it.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        self.spawned += 1;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(spawn_error(std::io::Error::other("the worker's pipes were not created")));
        };
        let (sender, responses) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            // Ends at the first error: end of stream when the worker exits.
            while let Ok(response) = read_message::<Response>(&mut stdout) {
                if sender.send(Ok(response)).is_err() {
                    return;
                }
            }
            let _ = sender.send(Err("the worker's output ended".to_string()));
        });
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let writer_tail = tail.clone();
        std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut chunk = [0u8; 1024];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                let mut tail = writer_tail.lock().unwrap_or_else(|p| p.into_inner());
                tail.extend(&chunk[..n]);
                let excess = tail.len().saturating_sub(STDERR_TAIL);
                tail.drain(..excess);
            }
        });
        Ok(Worker { child, stdin: BufWriter::new(stdin), responses, stderr: tail })
    }

    /// The worker's output ended: wait for it to exit and say how it did.
    fn reap(&mut self) -> WorkerFault {
        let Some(mut worker) = self.live.take() else {
            return WorkerFault::Crashed { status: "not running".into(), signal: None, stderr: String::new() };
        };
        // The output closes when the process exits; kill it in case it only
        // closed its stdout and lives on.
        let status = match worker.child.try_wait() {
            Ok(Some(status)) => Ok(status),
            _ => {
                std::thread::sleep(Duration::from_millis(50));
                if let Ok(None) = worker.child.try_wait() {
                    let _ = worker.child.kill();
                }
                worker.child.wait()
            }
        };
        // Give the stderr reader a moment to drain what the dying process wrote.
        std::thread::sleep(Duration::from_millis(20));
        let stderr = {
            let tail = worker.stderr.lock().unwrap_or_else(|p| p.into_inner());
            String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<u8>>()).trim().to_string()
        };
        match status {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                WorkerFault::Crashed { status: status.to_string(), signal: status.signal(), stderr }
            }
            Err(e) => WorkerFault::Crashed { status: format!("unknown: {e}"), signal: None, stderr },
        }
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        if let Some(mut worker) = self.live.take() {
            // Closing stdin ends a healthy worker; kill covers a busy one.
            drop(worker.stdin);
            let _ = worker.child.kill();
            let _ = worker.child.wait();
        }
    }
}
