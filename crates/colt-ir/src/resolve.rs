//! Validation: a [`ProgramDef`] (names) becomes a [`Program`] (ids), or a
//! typed error that names the stage, the buffer or axis, and where it was
//! written.

use crate::expr::{AxisId, BufferId, IndexExpr, Load, Renamer};
use crate::program::{Axis, AxisKind, BufferRole, Name, Pos, Program, ProgramDef, Stage, StageDef};
use std::collections::HashMap;
use std::fmt;

/// Why a program is not valid.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IrErrorKind {
    #[error("buffer `{0}` is declared twice")]
    DuplicateBuffer(String),
    #[error("buffer `{buffer}` has a zero or missing extent in its shape {shape:?}")]
    EmptyShape { buffer: String, shape: Vec<usize> },
    #[error("undefined buffer `{name}` (declared: {declared})")]
    UndefinedBuffer { name: String, declared: String },
    #[error("`{0}` is an input: stages may not write it")]
    WriteToInput(String),
    #[error("buffer `{buffer}` is already written by an earlier stage; each buffer has one stage")]
    WrittenTwice { buffer: String },
    #[error("{role} buffer `{buffer}` is never written by any stage")]
    NeverWritten { buffer: String, role: &'static str },
    #[error(
        "the program computes nothing: it has no stage (declare an `output` buffer and a line that computes it, \
         e.g. `C[i] = A[i] * 2.0`)"
    )]
    NoStage,
    #[error("the program has no `output` buffer: nothing it computes would be returned (declared: {declared})")]
    NoOutput { declared: String },
    #[error("axis `{axis}` appears twice on the left-hand side")]
    DuplicateAxis { axis: String },
    #[error("shape mismatch: `{buffer}` has {expected} dimensions but is indexed with {found}")]
    RankMismatch { buffer: String, expected: usize, found: usize },
    #[error(
        "shape mismatch: axis `{axis}` indexes `{first_buffer}` dimension {first_dim} (extent {first_extent}) \
         and `{second_buffer}` dimension {second_dim} (extent {second_extent})"
    )]
    ExtentMismatch {
        axis: String,
        first_buffer: String,
        first_dim: usize,
        first_extent: usize,
        second_buffer: String,
        second_dim: usize,
        second_extent: usize,
    },
    #[error("cannot infer the extent of axis `{axis}`: use it alone as an index of some buffer dimension")]
    UnknownExtent { axis: String },
    #[error("axis `{axis}` is not on the left-hand side of `=`; use `+=` or `max=` to reduce over it")]
    ReductionWithoutCombine { axis: String },
    #[error(
        "index out of range: `{buffer}` dimension {dim} has extent {extent} but index `{index}` ranges over {lo}..={hi}"
    )]
    IndexOutOfRange { buffer: String, dim: usize, extent: usize, index: String, lo: i64, hi: i64 },
    #[error("stage `{stage}` reads `{buffer}` before any stage writes it ({when})")]
    ReadBeforeWrite { stage: String, buffer: String, when: String },
    #[error("axis `{axis}` has the name of a buffer; rename one of them")]
    AxisNamedLikeBuffer { axis: String },
    #[error("division or modulo by {0}: divisors must be positive constants")]
    BadDivisor(i64),
    #[error(
        "buffer `{buffer}` of shape {shape:?} holds more than {limit} elements, the most one buffer may hold \
         (MAX_BUFFER_ELEMENTS: 4 GiB of f32)"
    )]
    BufferTooLarge { buffer: String, shape: Vec<usize>, limit: u64 },
    #[error(
        "the program's buffers hold {elements} elements together, more than {limit} \
         (MAX_PROGRAM_ELEMENTS: 8 GiB of f32)"
    )]
    ProgramTooLarge { elements: u64, limit: u64 },
    #[error(
        "index `{index}` of `{buffer}` dimension {dim} reaches values beyond ±{limit} (MAX_INDEX_MAGNITUDE): \
         index arithmetic must stay well inside 64 bits"
    )]
    IndexTooLarge { buffer: String, dim: usize, index: String, limit: i64 },
}

/// Most elements one buffer may hold: 2^30, 4 GiB of f32. The suite's
/// largest (`flux-attn`'s full-size scores) holds 0.51 G; a buffer past
/// this is a typo or an attack, and would be allocated by the reference
/// interpreter and every measurement.
pub const MAX_BUFFER_ELEMENTS: u64 = 1 << 30;

/// Most elements all of a program's buffers may hold together: 2^31, 8
/// GiB of f32, a third of the 24 GiB machines colt is built for.
pub const MAX_PROGRAM_ELEMENTS: u64 = 1 << 31;

/// The largest magnitude an index expression, or any part of it, may
/// reach over its axes: 2^40. Within it no index arithmetic of the
/// interpreter or of the generated C (`long`) can overflow.
pub const MAX_INDEX_MAGNITUDE: i64 = 1 << 40;

/// A validation error: what is wrong, in which stage, and where it was
/// written when the program came from text.
#[derive(Clone, Debug, PartialEq)]
pub struct IrError {
    /// Boxed: errors are rare and `Result<Program, IrError>` stays small.
    pub kind: Box<IrErrorKind>,
    /// The stage's output buffer, when the error is inside a stage.
    pub stage: Option<String>,
    pub pos: Option<Pos>,
}

impl fmt::Display for IrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stage {
            Some(stage) => write!(f, "in stage `{stage}`: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for IrError {}

impl Program {
    /// Validates a program as written and resolves its names.
    pub fn from_def(def: &ProgramDef) -> Result<Program, IrError> {
        let program_error = |kind| IrError { kind: Box::new(kind), stage: None, pos: None };
        let mut ids: HashMap<&str, BufferId> = HashMap::new();
        let mut total = 0u64;
        for (i, b) in def.buffers.iter().enumerate() {
            if ids.insert(b.name.as_str(), BufferId(i)).is_some() {
                return Err(program_error(IrErrorKind::DuplicateBuffer(b.name.clone())));
            }
            if b.shape.contains(&0) {
                return Err(program_error(IrErrorKind::EmptyShape { buffer: b.name.clone(), shape: b.shape.clone() }));
            }
            // Checked: a shape's product can wrap to anything, 0 included.
            let elements = b
                .shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
                .filter(|&n| n <= MAX_BUFFER_ELEMENTS)
                .ok_or_else(|| {
                    program_error(IrErrorKind::BufferTooLarge {
                        buffer: b.name.clone(),
                        shape: b.shape.clone(),
                        limit: MAX_BUFFER_ELEMENTS,
                    })
                })?;
            total += elements;
        }
        if total > MAX_PROGRAM_ELEMENTS {
            return Err(program_error(IrErrorKind::ProgramTooLarge { elements: total, limit: MAX_PROGRAM_ELEMENTS }));
        }
        let mut resolver = StageResolver { def, ids, written_by: HashMap::new() };
        let mut stages = Vec::with_capacity(def.stages.len());
        for (index, stage) in def.stages.iter().enumerate() {
            let resolved = resolver.stage(index, stage).map_err(|(kind, pos)| IrError {
                kind: Box::new(kind),
                stage: Some(stage.output.text.clone()),
                pos: pos.or(stage.output.pos),
            })?;
            stages.push(resolved);
        }
        for b in &def.buffers {
            if b.role != BufferRole::Input && !resolver.written_by.contains_key(b.name.as_str()) {
                return Err(program_error(IrErrorKind::NeverWritten {
                    buffer: b.name.clone(),
                    role: b.role.keyword(),
                }));
            }
        }
        // A program of inputs alone (or nothing) would be "tuned": every
        // candidate the same empty kernel, a baseline of 0 ms and a speedup
        // of NaN.
        if def.stages.is_empty() {
            return Err(program_error(IrErrorKind::NoStage));
        }
        if !def.buffers.iter().any(|b| b.role == BufferRole::Output) {
            let declared: Vec<&str> = def.buffers.iter().map(|b| b.name.as_str()).collect();
            return Err(program_error(IrErrorKind::NoOutput { declared: declared.join(", ") }));
        }
        Ok(Program { name: def.name.clone(), buffers: def.buffers.clone(), stages })
    }

    /// The program as written, with names: what the printer prints.
    pub fn to_def(&self) -> ProgramDef {
        let stages = self
            .stages
            .iter()
            .map(|s| {
                let mut namer = Namer { program: self, stage: s };
                let Ok(body) = s.body.try_rename(&mut namer);
                StageDef {
                    output: Name::new(self.buffer(s.output).name.clone()),
                    index: s.spatial_axes().map(|(_, a)| Name::new(a.name.clone())).collect(),
                    combine: s.combine,
                    body,
                }
            })
            .collect();
        ProgramDef { name: self.name.clone(), buffers: self.buffers.clone(), stages }
    }
}

struct Namer<'a> {
    program: &'a Program,
    stage: &'a Stage,
}

impl Renamer<BufferId, AxisId, Name, Name> for Namer<'_> {
    type Error = std::convert::Infallible;
    fn buffer(&mut self, b: &BufferId) -> Result<Name, Self::Error> {
        Ok(Name::new(self.program.buffer(*b).name.clone()))
    }
    fn axis(&mut self, a: &AxisId) -> Result<Name, Self::Error> {
        Ok(Name::new(self.stage.axis(*a).name.clone()))
    }
}

type StageError = (IrErrorKind, Option<Pos>);

struct StageResolver<'a> {
    def: &'a ProgramDef,
    ids: HashMap<&'a str, BufferId>,
    /// Buffer name → index of the stage that writes it.
    written_by: HashMap<&'a str, usize>,
}

/// Where an axis's extent was learned, for mismatch messages.
struct ExtentSource {
    extent: usize,
    buffer: String,
    dim: usize,
}

impl<'a> StageResolver<'a> {
    fn lookup(&self, name: &Name) -> Result<BufferId, StageError> {
        self.ids.get(name.text.as_str()).copied().ok_or_else(|| {
            let declared = self.def.buffers.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ");
            (IrErrorKind::UndefinedBuffer { name: name.text.clone(), declared }, name.pos)
        })
    }

    fn stage(&mut self, index: usize, stage: &'a StageDef) -> Result<Stage, StageError> {
        let output = self.lookup(&stage.output)?;
        let out_buf = &self.def.buffers[output.0];
        match out_buf.role {
            BufferRole::Input => return Err((IrErrorKind::WriteToInput(out_buf.name.clone()), stage.output.pos)),
            _ if self.written_by.contains_key(out_buf.name.as_str()) => {
                return Err((IrErrorKind::WrittenTwice { buffer: out_buf.name.clone() }, stage.output.pos))
            }
            _ => {}
        }
        if stage.index.len() != out_buf.shape.len() {
            return Err((
                IrErrorKind::RankMismatch {
                    buffer: out_buf.name.clone(),
                    expected: out_buf.shape.len(),
                    found: stage.index.len(),
                },
                stage.output.pos,
            ));
        }

        // Spatial axes: the left-hand side, in order, sized by the output.
        let mut axes: Vec<Axis> = Vec::new();
        let mut sources: Vec<ExtentSource> = Vec::new();
        let mut axis_ids: HashMap<&str, AxisId> = HashMap::new();
        for (dim, name) in stage.index.iter().enumerate() {
            if axis_ids.insert(name.text.as_str(), AxisId(axes.len())).is_some() {
                return Err((IrErrorKind::DuplicateAxis { axis: name.text.clone() }, name.pos));
            }
            axes.push(Axis { name: name.text.clone(), extent: out_buf.shape[dim], kind: AxisKind::Spatial });
            sources.push(ExtentSource { extent: out_buf.shape[dim], buffer: out_buf.name.clone(), dim });
        }

        // Reduction axes: every other axis of the body, in order of first use.
        let mut reduction_names: Vec<&Name> = Vec::new();
        let mut collect = |e: &'a IndexExpr<Name>| collect_axes(e, &mut reduction_names);
        stage.body.for_each_index(&mut collect);
        let mut pending: Vec<&Name> = Vec::new();
        for name in reduction_names {
            if !axis_ids.contains_key(name.text.as_str()) && !pending.iter().any(|p| p.text == name.text) {
                pending.push(name);
            }
        }
        if stage.combine == crate::program::Combine::Assign {
            if let Some(name) = pending.first() {
                return Err((IrErrorKind::ReductionWithoutCombine { axis: name.text.clone() }, name.pos));
            }
        }
        let mut reduction_extents: Vec<Option<ExtentSource>> = pending.iter().map(|_| None).collect();

        // Every plain use of an axis as a whole dimension fixes (or must
        // agree with) its extent: this is what catches transposed shapes.
        let mut loads: Vec<&'a Load<Name, Name>> = Vec::new();
        stage.body.for_each_load(&mut |l| loads.push(l));
        for load in &loads {
            let id = self.lookup(&load.buffer)?;
            let buf = &self.def.buffers[id.0];
            if load.index.len() != buf.shape.len() {
                return Err((
                    IrErrorKind::RankMismatch {
                        buffer: buf.name.clone(),
                        expected: buf.shape.len(),
                        found: load.index.len(),
                    },
                    load.buffer.pos,
                ));
            }
            for (dim, e) in load.index.iter().enumerate() {
                let IndexExpr::Axis(name) = e else { continue };
                let seen = ExtentSource { extent: buf.shape[dim], buffer: buf.name.clone(), dim };
                let known = match axis_ids.get(name.text.as_str()) {
                    Some(id) => Some(&sources[id.0]),
                    None => {
                        // Invariant: `pending` holds every axis name of the
                        // body that is not spatial, so this always finds it.
                        let slot = pending.iter().position(|p| p.text == name.text).unwrap_or(0);
                        match &reduction_extents[slot] {
                            Some(s) => Some(s),
                            None => {
                                reduction_extents[slot] = Some(seen);
                                continue;
                            }
                        }
                    }
                };
                if let Some(known) = known {
                    if known.extent != seen.extent {
                        return Err((
                            IrErrorKind::ExtentMismatch {
                                axis: name.text.clone(),
                                first_buffer: known.buffer.clone(),
                                first_dim: known.dim,
                                first_extent: known.extent,
                                second_buffer: seen.buffer,
                                second_dim: seen.dim,
                                second_extent: seen.extent,
                            },
                            name.pos,
                        ));
                    }
                }
            }
        }
        for name in stage.index.iter().chain(pending.iter().copied()) {
            if self.ids.contains_key(name.text.as_str()) {
                return Err((IrErrorKind::AxisNamedLikeBuffer { axis: name.text.clone() }, name.pos));
            }
        }
        for (name, source) in pending.iter().zip(reduction_extents) {
            let Some(source) = source else {
                return Err((IrErrorKind::UnknownExtent { axis: name.text.clone() }, name.pos));
            };
            axis_ids.insert(name.text.as_str(), AxisId(axes.len()));
            axes.push(Axis { name: name.text.clone(), extent: source.extent, kind: AxisKind::Reduction });
        }

        // Reads: only inputs and buffers written by earlier stages.
        for load in &loads {
            let id = self.lookup(&load.buffer)?;
            let buf = &self.def.buffers[id.0];
            if buf.role != BufferRole::Input && !self.written_by.contains_key(buf.name.as_str()) {
                let when = if buf.name == out_buf.name {
                    "a stage may not read its own output".to_string()
                } else {
                    match self.def.stages.iter().skip(index + 1).find(|s| s.output.text == buf.name) {
                        Some(_) => "it is written by a later stage".to_string(),
                        None => "no stage writes it".to_string(),
                    }
                };
                return Err((
                    IrErrorKind::ReadBeforeWrite { stage: out_buf.name.clone(), buffer: buf.name.clone(), when },
                    load.buffer.pos,
                ));
            }
        }

        let mut renamer = AxisResolver { resolver: self, axis_ids: &axis_ids };
        let body = stage.body.try_rename(&mut renamer)?;
        let resolved = Stage { output, axes, combine: stage.combine, body };
        check_ranges(self.def, &resolved, stage)?;
        self.written_by.insert(out_buf.name.as_str(), index);
        Ok(resolved)
    }
}

fn collect_axes<'a>(e: &'a IndexExpr<Name>, out: &mut Vec<&'a Name>) {
    match e {
        IndexExpr::Axis(n) => out.push(n),
        IndexExpr::Const(_) => {}
        IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => {
            collect_axes(a, out);
            collect_axes(b, out);
        }
        IndexExpr::Mul(a, _) | IndexExpr::Div(a, _) | IndexExpr::Mod(a, _) => collect_axes(a, out),
    }
}

struct AxisResolver<'r, 'a> {
    resolver: &'r StageResolver<'a>,
    axis_ids: &'r HashMap<&'a str, AxisId>,
}

impl Renamer<Name, Name, BufferId, AxisId> for AxisResolver<'_, '_> {
    type Error = StageError;
    fn buffer(&mut self, b: &Name) -> Result<BufferId, StageError> {
        self.resolver.lookup(b)
    }
    fn axis(&mut self, a: &Name) -> Result<AxisId, StageError> {
        // Invariant: every axis name of the body was given an id above.
        self.axis_ids
            .get(a.text.as_str())
            .copied()
            .ok_or_else(|| (IrErrorKind::UnknownExtent { axis: a.text.clone() }, a.pos))
    }
}

/// Every unpadded load must stay inside its buffer for every point of the
/// iteration domain; divisors must be positive.
fn check_ranges(def: &ProgramDef, stage: &Stage, written: &StageDef) -> Result<(), StageError> {
    let axis_range = |a: &AxisId| (0, stage.axes[a.0].extent as i64 - 1);
    let mut divisor_error = None;
    stage.body.for_each_index(&mut |e| {
        if divisor_error.is_none() {
            divisor_error = bad_divisor(e);
        }
    });
    if let Some(d) = divisor_error {
        return Err((IrErrorKind::BadDivisor(d), written.output.pos));
    }
    let mut named_loads: Vec<&Load<Name, Name>> = Vec::new();
    written.body.for_each_load(&mut |l| named_loads.push(l));
    let mut loads: Vec<&Load> = Vec::new();
    stage.body.for_each_load(&mut |l| loads.push(l));
    for (load, named) in loads.iter().zip(named_loads) {
        let buf = &def.buffers[load.buffer.0];
        for (dim, e) in load.index.iter().enumerate() {
            if e.widest(&axis_range) > MAX_INDEX_MAGNITUDE {
                let index = crate::text::print_index(&named.index[dim]);
                return Err((
                    IrErrorKind::IndexTooLarge { buffer: buf.name.clone(), dim, index, limit: MAX_INDEX_MAGNITUDE },
                    named.buffer.pos,
                ));
            }
        }
        if load.pad.is_some() {
            continue;
        }
        for (dim, e) in load.index.iter().enumerate() {
            let (lo, hi) = e.range(&axis_range);
            if lo < 0 || hi >= buf.shape[dim] as i64 {
                let index = crate::text::print_index(&named.index[dim]);
                return Err((
                    IrErrorKind::IndexOutOfRange {
                        buffer: buf.name.clone(),
                        dim,
                        extent: buf.shape[dim],
                        index,
                        lo,
                        hi,
                    },
                    named.buffer.pos,
                ));
            }
        }
    }
    Ok(())
}

fn bad_divisor(e: &IndexExpr) -> Option<i64> {
    match e {
        IndexExpr::Axis(_) | IndexExpr::Const(_) => None,
        IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => bad_divisor(a).or_else(|| bad_divisor(b)),
        IndexExpr::Mul(a, _) => bad_divisor(a),
        IndexExpr::Div(a, d) | IndexExpr::Mod(a, d) => {
            if *d <= 0 {
                Some(*d)
            } else {
                bad_divisor(a)
            }
        }
    }
}
