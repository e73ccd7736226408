//! The system C compiler and the flags that turn one kernel source into a
//! self-contained code image.

use crate::build::BuildError;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The longest one compilation may take before it is killed and the
/// kernel counts as not building: the largest unrolled suite kernels
/// compile in seconds at -O3; a compiler that takes minutes is looping (or
/// the source is hostile), and must not hold a job forever.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// The kernel ABI's flags (colt-ir crate docs): optimisation, `sqrt` as an
/// instruction, and no compiler-inserted `memset`/`memcpy` calls.
pub const ABI_FLAGS: &[&str] =
    &["-O3", "-march=native", "-fno-math-errno", "-ffreestanding", "-fno-tree-loop-distribute-patterns"];

/// What makes the output a bare image the loader can map (see
/// [`crate::image`]): a position-independent shared object (so the linker
/// resolves every `.text` → `.rodata` reference PC-relatively and no
/// relocation is left for code), with no start files or libraries, and no
/// stack protector (its `__stack_chk_fail` would be an import nobody
/// provides). Undefined symbols survive `-shared` linking as imports, which
/// the loader then names in its error.
pub const IMAGE_FLAGS: &[&str] = &["-fPIC", "-shared", "-nostdlib", "-fno-stack-protector"];

/// One finished run of the compiler.
pub(crate) struct CompilerRun {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A C compiler command and its flags.
#[derive(Clone, Debug)]
pub struct Compiler {
    pub program: PathBuf,
    pub flags: Vec<String>,
    /// Each run of the compiler is killed after this long.
    pub timeout: Duration,
}

impl Compiler {
    /// `$CC` if set, else `cc`, with the ABI and image flags.
    pub fn system() -> Compiler {
        let program = std::env::var_os("CC").filter(|cc| !cc.is_empty()).map(PathBuf::from);
        Compiler::new(program.unwrap_or_else(|| PathBuf::from("cc")))
    }

    /// `program` with the ABI and image flags.
    pub fn new(program: impl Into<PathBuf>) -> Compiler {
        Compiler {
            program: program.into(),
            flags: ABI_FLAGS.iter().chain(IMAGE_FLAGS).map(|f| f.to_string()).collect(),
            timeout: COMPILE_TIMEOUT,
        }
    }

    /// The same compiler, each run killed after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Compiler {
        self.timeout = timeout;
        self
    }

    /// Runs the compiler with `args`; its exit status and stderr, or
    /// `None` when it ran past [`timeout`](Self::timeout) and was killed
    /// with every process it started (the driver runs `cc1` and `as` as
    /// children: killing the driver alone left them running).
    pub(crate) fn run(&self, args: &[&std::ffi::OsStr]) -> std::io::Result<Option<CompilerRun>> {
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                // SAFETY: a plain system call; the group is the child's own
                // (process_group(0) above), so nothing else is signalled.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
        Ok(status.map(|status| CompilerRun { status, stdout, stderr }))
    }

    /// The compiler's own description of itself (`--version` and
    /// `-dumpmachine`), part of every cache key: a compiler upgrade must
    /// not serve images built by the old one.
    pub fn identity(&self) -> Result<String, BuildError> {
        let mut identity = String::new();
        for arg in ["--version", "-dumpmachine"] {
            let unavailable = |source| BuildError::CompilerUnavailable { compiler: self.program.clone(), source };
            let CompilerRun { stdout, .. } = self.run(&[arg.as_ref()]).map_err(unavailable)?.ok_or_else(|| {
                unavailable(std::io::Error::other(format!("`{arg}` did not answer within {:?}", self.timeout)))
            })?;
            identity.push_str(&String::from_utf8_lossy(&stdout));
        }
        Ok(identity)
    }
}
