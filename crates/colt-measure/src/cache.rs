//! The content-addressed artifact cache: one file per built image, named by
//! the SHA-256 of everything that determines its bytes (source, compiler
//! identity, flags), so a kernel is compiled once per machine and compiler,
//! across runs.

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// Bumped when the image format or the way it is built changes.
const FORMAT: &str = "colt-measure image v1";

/// The hash that names an artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArtifactKey([u8; 32]);

impl ArtifactKey {
    /// Fields are separated by NUL, which none of them can contain where it
    /// would matter (flags and identities are text; the source comes last).
    pub fn new(compiler_identity: &str, flags: &[String], source: &str) -> ArtifactKey {
        let mut hash = Sha256::new();
        hash.update(FORMAT.as_bytes());
        hash.update([0]);
        hash.update(compiler_identity.as_bytes());
        for flag in flags {
            hash.update([0]);
            hash.update(flag.as_bytes());
        }
        hash.update([0, 0]);
        hash.update(source.as_bytes());
        ArtifactKey(hash.finalize().into())
    }
}

impl fmt::Display for ArtifactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A directory of artifacts: `<dir>/<2 hex>/<64 hex>.so`.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    pub fn new(dir: impl Into<PathBuf>) -> ArtifactCache {
        ArtifactCache { dir: dir.into() }
    }

    /// `$COLT_CACHE_DIR/kernels`, else `$XDG_CACHE_HOME/colt/kernels`, else
    /// `~/.cache/colt/kernels`, else `target/colt-kernels` (relative to the
    /// working directory) when no home is known.
    pub fn default_dir() -> PathBuf {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = env("COLT_CACHE_DIR") {
            return dir.join("kernels");
        }
        if let Some(dir) = env("XDG_CACHE_HOME") {
            return dir.join("colt").join("kernels");
        }
        match env("HOME") {
            Some(home) => home.join(".cache").join("colt").join("kernels"),
            None => PathBuf::from("target").join("colt-kernels"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact of `key` lives (whether or not it exists yet).
    pub fn path(&self, key: &ArtifactKey) -> PathBuf {
        let name = key.to_string();
        self.dir.join(&name[..2]).join(format!("{name}.so"))
    }

    /// A fresh path in the cache's scratch directory for a build in
    /// progress; renaming it to [`path`](Self::path) publishes the artifact
    /// atomically, so a reader never sees half an image.
    pub fn scratch_path(&self, key: &ArtifactKey, extension: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        self.dir.join("tmp").join(format!("{key}.{}.{unique}.{extension}", std::process::id()))
    }
}
