//! The workload text format: how users bring their own layer without
//! writing Rust. The format is documented in the user's guide
//! (docs/src/workload-files.md); in short:
//!
//! ```text
//! workload gemm-512            # the name (optional: defaults to the file stem)
//! size N = 512, full 4096      # a size parameter, with its --full value
//! input  A[N, 512]             # buffers: input, temp, output; f32, row-major
//! input  B[512, 512]
//! output C[N, 512]
//! C[i, j] += A[i, k] * B[k, j] # one stage per line: =, += (sum), max= (max)
//! ```

mod lexer;
mod parser;
mod printer;

pub use printer::{print_def, print_expr, print_f32, print_index, print_program, print_stage};

use crate::program::{Pos, Program};
use crate::resolve::IrError;
use crate::workloads::{builtin, Size, SUITE};
use std::path::Path;

/// Why a workload could not be had: a syntax error, a meaningless
/// construct, an invalid program, an unreadable file or an unknown name.
/// Each names the text it came from and, where there is one, the line and
/// column.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("{origin}:{pos}: expected {expected}, found {found}")]
    Syntax { origin: String, pos: Pos, expected: String, found: String },
    #[error("{origin}:{pos}: {message}")]
    Meaning { origin: String, pos: Pos, message: String },
    // The field is not called `source`: the message already holds it, and
    // an error chain would print it twice.
    #[error("{origin}{}: {error}", pos.map(|p| format!(":{p}")).unwrap_or_default())]
    Invalid { origin: String, pos: Option<Pos>, error: IrError },
    #[error("cannot read workload file `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(
        "unknown workload `{name}`: no built-in workload has that name ({known}) and there is no file at that path"
    )]
    Unknown { name: String, known: String },
}

impl WorkloadError {
    /// Where in the text the error is, when it is in a text.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            WorkloadError::Syntax { pos, .. } | WorkloadError::Meaning { pos, .. } => Some(*pos),
            WorkloadError::Invalid { pos, .. } => *pos,
            WorkloadError::Read { .. } | WorkloadError::Unknown { .. } => None,
        }
    }
}

/// Parses and validates workload text. `origin` names it in errors, and
/// its file stem names the program when the text has no `workload` line.
pub fn parse_workload(text: &str, origin: &str, size: Size) -> Result<Program, WorkloadError> {
    let default_name = Path::new(origin).file_stem().and_then(|s| s.to_str()).unwrap_or("workload");
    parse_workload_as(text, origin, default_name, size)
}

/// As [`parse_workload`], with the name a text without a `workload` line
/// gets: an empty one tells such a text apart, as no `workload` line can
/// declare it.
pub fn parse_workload_as(text: &str, origin: &str, default_name: &str, size: Size) -> Result<Program, WorkloadError> {
    let def = parser::parse_def(text, origin, default_name, size)?;
    Program::from_def(&def).map_err(|error| WorkloadError::Invalid {
        origin: origin.to_string(),
        pos: error.pos,
        error,
    })
}

/// A built-in workload by name, or else a workload file by path.
pub fn load_workload(name_or_path: &str, size: Size) -> Result<Program, WorkloadError> {
    if let Some(w) = builtin(name_or_path) {
        return Ok(w.program(size));
    }
    if let Some(program) = crate::corpus::corpus_by_name(name_or_path) {
        return Ok(program);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        let known = SUITE.iter().map(|w| w.name).collect::<Vec<_>>().join(", ");
        return Err(WorkloadError::Unknown { name: name_or_path.to_string(), known });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|source| WorkloadError::Read { path: name_or_path.to_string(), source })?;
    parse_workload(&text, name_or_path, size)
}
