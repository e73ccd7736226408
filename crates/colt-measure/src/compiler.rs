//! The system C compiler and the flags that turn one kernel source into a
//! self-contained code image.

use crate::build::BuildError;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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

/// A C compiler command and its flags.
#[derive(Clone, Debug)]
pub struct Compiler {
    pub program: PathBuf,
    pub flags: Vec<String>,
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
        }
    }

    /// The compiler's own description of itself (`--version` and
    /// `-dumpmachine`), part of every cache key: a compiler upgrade must
    /// not serve images built by the old one.
    pub fn identity(&self) -> Result<String, BuildError> {
        let mut identity = String::new();
        for arg in ["--version", "-dumpmachine"] {
            let out = Command::new(&self.program)
                .arg(arg)
                .stdin(Stdio::null())
                .output()
                .map_err(|source| BuildError::CompilerUnavailable { compiler: self.program.clone(), source })?;
            identity.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        Ok(identity)
    }
}
