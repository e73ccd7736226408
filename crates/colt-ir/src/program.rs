//! Programs: buffers and the stages that compute them.

use crate::expr::{AxisId, BufferId, Expr};
use std::fmt;

/// Element type of a buffer. Only `f32` exists today; it is kept in the type
/// so that f16 and i8 programs can follow without changing every signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DType {
    #[default]
    F32,
}

impl DType {
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
        }
    }
}

/// What a buffer is to the program's caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferRole {
    /// Given by the caller, never written.
    Input,
    /// Written and read inside the program only.
    Temp,
    /// Written by the program, read by the caller.
    Output,
}

impl BufferRole {
    pub fn keyword(self) -> &'static str {
        match self {
            BufferRole::Input => "input",
            BufferRole::Temp => "temp",
            BufferRole::Output => "output",
        }
    }
}

/// A named, dense, row-major tensor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Buffer {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub role: BufferRole,
}

impl Buffer {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row-major strides, in elements.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.shape.len()];
        for d in (0..self.shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * self.shape[d + 1];
        }
        strides
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AxisKind {
    /// Indexes the stage's output.
    Spatial,
    /// Summed or maxed over.
    Reduction,
}

/// A loop of a stage's iteration domain: `0 <= axis < extent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Axis {
    pub name: String,
    pub extent: usize,
    pub kind: AxisKind,
}

/// How a stage combines the body's values into its output element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Combine {
    /// `out[..] = body` (no reduction axes).
    Assign,
    /// `out[..] += body`: sum over the reduction axes, starting from 0.
    Sum,
    /// `out[..] max= body`: maximum over the reduction axes, from -inf.
    Max,
}

impl Combine {
    pub fn operator(self) -> &'static str {
        match self {
            Combine::Assign => "=",
            Combine::Sum => "+=",
            Combine::Max => "max=",
        }
    }

    /// The value a reduction starts from.
    pub fn init(self) -> f32 {
        match self {
            Combine::Assign | Combine::Sum => 0.0,
            Combine::Max => f32::NEG_INFINITY,
        }
    }
}

/// One stage: computes every element of `output` over the iteration domain
/// of `axes`. The first `output.rank` axes are spatial and index the output
/// in order (`C[i, j]`); the rest are reduction axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub output: BufferId,
    pub axes: Vec<Axis>,
    pub combine: Combine,
    pub body: Expr,
}

impl Stage {
    pub fn spatial_axes(&self) -> impl Iterator<Item = (AxisId, &Axis)> {
        self.axes.iter().enumerate().filter(|(_, a)| a.kind == AxisKind::Spatial).map(|(i, a)| (AxisId(i), a))
    }

    pub fn reduction_axes(&self) -> impl Iterator<Item = (AxisId, &Axis)> {
        self.axes.iter().enumerate().filter(|(_, a)| a.kind == AxisKind::Reduction).map(|(i, a)| (AxisId(i), a))
    }

    pub fn axis(&self, id: AxisId) -> &Axis {
        &self.axes[id.0]
    }

    /// Points in the iteration domain.
    pub fn domain_size(&self) -> u64 {
        self.axes.iter().map(|a| a.extent as u64).product()
    }

    /// Whether the stage is a multiply-accumulate: a sum whose body is a
    /// product. Such stages define a workload's MAC count.
    pub fn is_mac(&self) -> bool {
        self.combine == Combine::Sum && matches!(self.body, Expr::Binary(crate::expr::BinaryOp::Mul, _, _))
    }
}

/// A validated tensor program: buffers, and stages in execution order.
///
/// Invariants (established by [`Program::from_def`], the only constructor):
/// every stage writes a distinct temp or output buffer; reads only inputs and
/// buffers written by earlier stages; every unpadded load is in range; every
/// temp and output is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub(crate) name: String,
    pub(crate) buffers: Vec<Buffer>,
    pub(crate) stages: Vec<Stage>,
}

impl Program {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn buffers(&self) -> &[Buffer] {
        &self.buffers
    }

    pub fn buffer(&self, id: BufferId) -> &Buffer {
        &self.buffers[id.0]
    }

    pub fn buffer_id(&self, name: &str) -> Option<BufferId> {
        self.buffers.iter().position(|b| b.name == name).map(BufferId)
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage's name is its output buffer's name.
    pub fn stage_name(&self, stage: &Stage) -> &str {
        &self.buffers[stage.output.0].name
    }

    pub fn buffers_with_role(&self, role: BufferRole) -> impl Iterator<Item = (BufferId, &Buffer)> {
        self.buffers.iter().enumerate().filter(move |(_, b)| b.role == role).map(|(i, b)| (BufferId(i), b))
    }

    /// Multiply-accumulates of one run: the iteration volume of every
    /// multiply-accumulate stage (the figure workloads.md quotes).
    pub fn macs(&self) -> u64 {
        self.stages.iter().filter(|s| s.is_mac()).map(Stage::domain_size).sum()
    }

    /// Floating-point operations of one run, counting 2 per MAC (the usual
    /// convention for GFLOP/s figures).
    pub fn flops(&self) -> u64 {
        2 * self.macs()
    }

    /// Renamed for a new identity (e.g. a file's stem).
    pub fn with_name(mut self, name: impl Into<String>) -> Program {
        self.name = name.into();
        self
    }
}

/// A position in a workload text, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A name as written, with where it was written when it came from text.
/// Equality ignores the position.
#[derive(Clone, Debug)]
pub struct Name {
    pub text: String,
    pub pos: Option<Pos>,
}

impl Name {
    pub fn new(text: impl Into<String>) -> Name {
        Name { text: text.into(), pos: None }
    }

    pub fn at(text: impl Into<String>, pos: Pos) -> Name {
        Name { text: text.into(), pos: Some(pos) }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A stage as written: `OUT[i, j] += body`, names unresolved.
#[derive(Clone, Debug, PartialEq)]
pub struct StageDef {
    pub output: Name,
    pub index: Vec<Name>,
    pub combine: Combine,
    pub body: Expr<Name, Name>,
}

/// A program as written, before validation: what the text parser and the
/// Rust builder produce, and what the printer prints.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramDef {
    pub name: String,
    pub buffers: Vec<Buffer>,
    pub stages: Vec<StageDef>,
}
