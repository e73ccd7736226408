//! The builder: kernel C source → code image in the artifact cache.

use crate::cache::{ArtifactCache, ArtifactKey};
use crate::compiler::Compiler;
use crate::gate::TimingGate;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Why a kernel could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run the C compiler `{}`: {source}", compiler.display())]
    CompilerUnavailable { compiler: PathBuf, source: std::io::Error },
    #[error("kernel `{kernel}` does not compile with `{}` ({status}):\n{message}", compiler.display())]
    Compile { kernel: String, compiler: PathBuf, status: String, message: String },
    #[error("kernel `{kernel}` did not compile within {limit:?} with `{}`: the compiler was killed", compiler.display())]
    CompileTimedOut { kernel: String, compiler: PathBuf, limit: std::time::Duration },
    #[error("artifact cache `{}`: {source}", path.display())]
    Cache { path: PathBuf, source: std::io::Error },
}

/// A built image in the cache.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub key: ArtifactKey,
    pub path: PathBuf,
    /// True when the image was already in the cache (nothing compiled).
    pub cached: bool,
    /// Wall time of this build call, compiling or not.
    pub seconds: f64,
}

impl Artifact {
    /// The image's bytes.
    pub fn read(&self) -> Result<Vec<u8>, BuildError> {
        std::fs::read(&self.path).map_err(|source| BuildError::Cache { path: self.path.clone(), source })
    }
}

/// How many builds compiled and how many found their image cached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildStats {
    pub compiled: usize,
    pub cache_hits: usize,
}

/// Builds kernels. Shared by reference between threads: builds of
/// different sources run in parallel, two builds of one source compile it
/// once, and every compilation holds the [`TimingGate`]'s build permit.
pub struct Builder {
    compiler: Compiler,
    cache: ArtifactCache,
    gate: TimingGate,
    identity: OnceLock<String>,
    /// One lock per key being built, so a concurrent second build of the
    /// same source waits and then hits the cache instead of compiling.
    in_flight: Mutex<HashMap<ArtifactKey, Arc<Mutex<()>>>>,
    compiled: AtomicUsize,
    cache_hits: AtomicUsize,
}

impl Builder {
    pub fn new(compiler: Compiler, cache: ArtifactCache, gate: TimingGate) -> Builder {
        Builder {
            compiler,
            cache,
            gate,
            identity: OnceLock::new(),
            in_flight: Mutex::new(HashMap::new()),
            compiled: AtomicUsize::new(0),
            cache_hits: AtomicUsize::new(0),
        }
    }

    /// The system compiler, the default cache directory, a fresh gate.
    pub fn system() -> Builder {
        Builder::new(Compiler::system(), ArtifactCache::new(ArtifactCache::default_dir()), TimingGate::new())
    }

    pub fn gate(&self) -> &TimingGate {
        &self.gate
    }

    pub fn cache(&self) -> &ArtifactCache {
        &self.cache
    }

    pub fn compiler(&self) -> &Compiler {
        &self.compiler
    }

    pub fn stats(&self) -> BuildStats {
        BuildStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// The cache key of `source` under this builder's compiler and flags.
    pub fn key(&self, source: &str) -> Result<ArtifactKey, BuildError> {
        let identity = match self.identity.get() {
            Some(identity) => identity,
            None => {
                let identity = self.compiler.identity()?;
                self.identity.get_or_init(|| identity)
            }
        };
        Ok(ArtifactKey::new(identity, &self.compiler.flags, source))
    }

    /// The image of `source` (`kernel` names it in errors): from the cache,
    /// or compiled into it.
    pub fn build(&self, kernel: &str, source: &str) -> Result<Artifact, BuildError> {
        let start = Instant::now();
        let key = self.key(source)?;
        let path = self.cache.path(&key);
        let key_lock = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            in_flight.entry(key).or_default().clone()
        };
        let result = {
            let _same_key = key_lock.lock().unwrap_or_else(|p| p.into_inner());
            if path.is_file() {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            } else {
                let _permit = self.gate.building();
                self.compile(kernel, source, &key, &path).map(|()| {
                    self.compiled.fetch_add(1, Ordering::Relaxed);
                    false
                })
            }
        };
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        let cached = result?;
        Ok(Artifact { key, path, cached, seconds: start.elapsed().as_secs_f64() })
    }

    fn compile(&self, kernel: &str, source: &str, key: &ArtifactKey, path: &Path) -> Result<(), BuildError> {
        let cache_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BuildError::Cache { path, source }
        };
        let c_file = self.cache.scratch_path(key, "c");
        let image = self.cache.scratch_path(key, "so");
        for dir in [c_file.parent(), path.parent()].into_iter().flatten() {
            std::fs::create_dir_all(dir).map_err(cache_error(dir))?;
        }
        std::fs::write(&c_file, source).map_err(cache_error(&c_file))?;
        let mut args: Vec<&std::ffi::OsStr> = self.compiler.flags.iter().map(|f| f.as_ref()).collect();
        args.extend([std::ffi::OsStr::new("-o"), image.as_os_str(), c_file.as_os_str()]);
        let output = self.compiler.run(&args);
        let _ = std::fs::remove_file(&c_file);
        let compiler = self.compiler.program.clone();
        let output = output.map_err(|source| BuildError::CompilerUnavailable { compiler: compiler.clone(), source })?;
        let Some(crate::compiler::CompilerRun { status, stderr, .. }) = output else {
            let _ = std::fs::remove_file(&image);
            return Err(BuildError::CompileTimedOut {
                kernel: kernel.to_string(),
                compiler,
                limit: self.compiler.timeout,
            });
        };
        if !status.success() {
            let _ = std::fs::remove_file(&image);
            return Err(BuildError::Compile {
                kernel: kernel.to_string(),
                compiler,
                status: status.to_string(),
                message: String::from_utf8_lossy(&stderr).trim_end().to_string(),
            });
        }
        std::fs::rename(&image, path).map_err(cache_error(path))
    }
}
