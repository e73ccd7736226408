//! Edits: the transformations the search applies, each changing one
//! decision of one stage. They print and parse as short calls, e.g.
//! `tile(stage="C", axis="j", factors=[4,8,16])`, which is what a model
//! reads, what a grammar enumerates and what a test names; their kinds,
//! names and arguments are [`EDIT_KINDS`]'.

use super::analysis::{loop_name, loop_order};
use super::candidate::Candidate;
use super::edit_kind::{EditKind, EDIT_KINDS};
use super::error::ScheduleError;
use super::sketch::StageRule;
use super::{Accumulator, Fusion, Iterate, PackLayout, Placement};
use std::fmt;

/// One change to one decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Edit {
    /// Inner tile factors of an axis: `[f1, f2, f3]` (spatial) or `[r1]`.
    Tile {
        stage: String,
        axis: String,
        factors: Vec<usize>,
    },
    Unroll {
        stage: String,
        depth: usize,
    },
    /// `at` is `root` or `STAGE.LOOP`, e.g. `O.i1`.
    ComputeAt {
        stage: String,
        at: String,
    },
    Parallel {
        stage: String,
        loops: usize,
    },
    Vectorize {
        stage: String,
        lanes: usize,
    },
    Accumulate {
        stage: String,
        into: Accumulator,
    },
    /// The layout an operand is read in (copied first unless original).
    Pack {
        stage: String,
        operand: String,
        layout: PackLayout,
    },
    /// Computes the stage as a sibling in the nest of the reduction `with`
    /// (see [`fusion`](super::fusion)), or on its own (`with="none"`).
    Fuse {
        stage: String,
        with: String,
    },
    /// Computes the stage on the finished accumulators of `at`'s register
    /// tile (see [`fusion`](super::fusion)), or on its own (`at="none"`).
    Epilogue {
        stage: String,
        at: String,
    },
    /// Lanes along the innermost reduction axis (see [`rfactor`](super::rfactor));
    /// more than 1 also makes the spatial axis scalar and unpacks the
    /// stage's operands.
    Rfactor {
        stage: String,
        lanes: usize,
    },
    /// Which points the stage iterates: all, or those its mask keeps.
    Iterate {
        stage: String,
        points: Iterate,
    },
}

/// Why an edit cannot be applied to a candidate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("`{edit}`: the program has no stage `{stage}`")]
    UnknownStage { edit: String, stage: String },
    #[error("`{edit}`: stage `{stage}` has no axis `{axis}`")]
    UnknownAxis { edit: String, stage: String, axis: String },
    #[error("`{edit}`: `{at}` is not `root` or a loop `STAGE.LOOP` of the program (e.g. `O.i1`)")]
    UnknownLoop { edit: String, at: String },
    #[error("`{edit}`: the program has no buffer `{operand}` for stage `{stage}` to pack")]
    UnknownOperand { edit: String, stage: String, operand: String },
    #[error("`{edit}`: stage `{stage}` is inlined into its consumers by this sketch, it has no loops")]
    StageInlined { edit: String, stage: String },
    #[error("`{edit}` is illegal: {reason}")]
    Illegal { edit: String, reason: ScheduleError },
}

/// Why a text is not an edit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read edit `{text}`: {reason}")]
pub struct EditParseError {
    pub text: String,
    pub reason: String,
}

/// The value of one argument of an edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Argument<'a> {
    /// A name: a stage, axis, operand, loop or choice (printed quoted).
    Text(&'a str),
    Int(usize),
    /// Tile factors.
    List(&'a [usize]),
}

impl Argument<'_> {
    /// The value without the quotes of a name: `C`, `16`, `[4,8,16]`.
    pub fn unquoted(&self) -> String {
        match self {
            Argument::Text(text) => text.to_string(),
            other => other.to_string(),
        }
    }
}

/// As an edit writes it: `"C"`, `16`, `[4,8,16]`.
impl fmt::Display for Argument<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Argument::Text(text) => write!(f, "\"{text}\""),
            Argument::Int(n) => write!(f, "{n}"),
            Argument::List(values) => {
                let list: Vec<String> = values.iter().map(|x| x.to_string()).collect();
                write!(f, "[{}]", list.join(","))
            }
        }
    }
}

impl Edit {
    pub fn kind(&self) -> EditKind {
        match self {
            Edit::Tile { .. } => EditKind::Tile,
            Edit::Unroll { .. } => EditKind::Unroll,
            Edit::ComputeAt { .. } => EditKind::ComputeAt,
            Edit::Parallel { .. } => EditKind::Parallel,
            Edit::Vectorize { .. } => EditKind::Vectorize,
            Edit::Accumulate { .. } => EditKind::Accumulate,
            Edit::Pack { .. } => EditKind::Pack,
            Edit::Fuse { .. } => EditKind::Fuse,
            Edit::Epilogue { .. } => EditKind::Epilogue,
            Edit::Rfactor { .. } => EditKind::Rfactor,
            Edit::Iterate { .. } => EditKind::Iterate,
        }
    }

    /// Its arguments, named and ordered as its kind's
    /// [`args`](super::EditKindSpec::args).
    pub fn arguments(&self) -> Vec<(&'static str, Argument<'_>)> {
        use Argument::{Int, List, Text};
        let values = match self {
            Edit::Tile { stage, axis, factors } => vec![Text(stage), Text(axis), List(factors)],
            Edit::Unroll { stage, depth } => vec![Text(stage), Int(*depth)],
            Edit::ComputeAt { stage, at } => vec![Text(stage), Text(at)],
            Edit::Parallel { stage, loops } => vec![Text(stage), Int(*loops)],
            Edit::Vectorize { stage, lanes } => vec![Text(stage), Int(*lanes)],
            Edit::Accumulate { stage, into } => vec![Text(stage), Text(into.name())],
            Edit::Pack { stage, operand, layout } => vec![Text(stage), Text(operand), Text(layout.name())],
            Edit::Fuse { stage, with } => vec![Text(stage), Text(with)],
            Edit::Epilogue { stage, at } => vec![Text(stage), Text(at)],
            Edit::Rfactor { stage, lanes } => vec![Text(stage), Int(*lanes)],
            Edit::Iterate { stage, points } => vec![Text(stage), Text(points.name())],
        };
        self.kind().spec().args.iter().copied().zip(values).collect()
    }

    pub fn stage(&self) -> &str {
        match self {
            Edit::Tile { stage, .. }
            | Edit::Unroll { stage, .. }
            | Edit::ComputeAt { stage, .. }
            | Edit::Parallel { stage, .. }
            | Edit::Vectorize { stage, .. }
            | Edit::Accumulate { stage, .. }
            | Edit::Pack { stage, .. }
            | Edit::Fuse { stage, .. }
            | Edit::Epilogue { stage, .. }
            | Edit::Rfactor { stage, .. }
            | Edit::Iterate { stage, .. } => stage,
        }
    }

    /// The candidate with this edit applied.
    pub fn apply(&self, c: &Candidate) -> Result<Candidate, EditError> {
        let text = self.to_string();
        let s = c
            .stage_index(self.stage())
            .ok_or_else(|| EditError::UnknownStage { edit: text.clone(), stage: self.stage().to_string() })?;
        if c.sketch.rules[s] == StageRule::Inlined {
            return Err(EditError::StageInlined { edit: text, stage: self.stage().to_string() });
        }
        let program = c.program();
        let mut stages = c.stages.clone();
        let sched = &mut stages[s];
        match self {
            Edit::Tile { axis, factors, .. } => {
                let stage = &program.stages()[s];
                let a = stage.axes.iter().position(|x| &x.name == axis).ok_or_else(|| EditError::UnknownAxis {
                    edit: text.clone(),
                    stage: self.stage().to_string(),
                    axis: axis.clone(),
                })?;
                sched.tiles[a] = factors.clone();
            }
            Edit::Unroll { depth, .. } => sched.unroll = *depth,
            Edit::Parallel { loops, .. } => sched.parallel = *loops,
            Edit::Vectorize { lanes, .. } => {
                // The lanes live on one axis: vectorising the spatial axis
                // takes them off the reduction axis.
                sched.vector = *lanes;
                if *lanes > 1 {
                    sched.rfactor = 1;
                }
            }
            Edit::Rfactor { lanes, .. } => {
                // The lanes move to the reduction axis: the spatial axis
                // becomes scalar, and the operands are read where they are
                // (packs lay them out for the spatial vector axis, which
                // makes the reduction axis strided), so that one edit
                // takes a vectorised stage to a vectorised reduction.
                sched.rfactor = *lanes;
                if *lanes > 1 {
                    sched.vector = 1;
                    sched.packed.clear();
                    sched.blocked.clear();
                }
            }
            Edit::Accumulate { into, .. } => sched.accumulator = *into,
            Edit::Iterate { points, .. } => sched.iterate = *points,
            Edit::ComputeAt { at, .. } => sched.placement = parse_placement(c, at, &text)?,
            Edit::Pack { operand, layout, .. } => {
                let b = program.buffer_id(operand).ok_or_else(|| EditError::UnknownOperand {
                    edit: text.clone(),
                    stage: self.stage().to_string(),
                    operand: operand.clone(),
                })?;
                sched.packed.retain(|&x| x != b.0);
                sched.blocked.retain(|&x| x != b.0);
                sched.local.retain(|&x| x != b.0);
                if *layout == PackLayout::Local {
                    sched.local.push(b.0);
                    sched.local.sort_unstable();
                } else if *layout != PackLayout::Original {
                    sched.packed.push(b.0);
                    sched.packed.sort_unstable();
                }
                if *layout == PackLayout::Blocked {
                    sched.blocked.push(b.0);
                    sched.blocked.sort_unstable();
                }
            }
            Edit::Fuse { with, .. } => match fusion_leader(c, with, &text)? {
                None => sched.fused = sched.fused.filter(|f| !matches!(f, Fusion::Sibling { .. })),
                Some(leader) => {
                    sched.fused = Some(Fusion::Sibling { leader });
                    super::fusion::copy_shared(&c.stages[leader], sched);
                }
            },
            Edit::Epilogue { at, .. } => match fusion_leader(c, at, &text)? {
                None => sched.fused = sched.fused.filter(|f| !matches!(f, Fusion::Epilogue { .. })),
                Some(leader) => {
                    // What runs is the leader's nest: the epilogue keeps the
                    // untransformed decisions.
                    *sched = super::candidate::default_schedule(program, &c.sketch, s);
                    sched.fused = Some(Fusion::Epilogue { leader });
                }
            },
        }
        // A leader's shared decisions are its siblings' too.
        if stages[s].fused.is_none() {
            super::fusion::propagate(&mut stages, s);
        }
        c.with_stages(stages).map_err(|reason| EditError::Illegal { edit: text, reason })
    }

    /// Reads an edit as [`Display`](fmt::Display) prints it.
    pub fn parse(text: &str) -> Result<Edit, EditParseError> {
        let err = |reason: &str| EditParseError { text: text.to_string(), reason: reason.to_string() };
        let trimmed = text.trim();
        let open = trimmed.find('(').ok_or_else(|| err("expected `name(...)`"))?;
        if !trimmed.ends_with(')') {
            return Err(err("expected `)` at the end"));
        }
        let name = trimmed[..open].trim();
        let args = parse_args(&trimmed[open + 1..trimmed.len() - 1]).map_err(|r| err(&r))?;
        let get = |key: &str| {
            args.iter().find(|(k, _)| k == key).map(|(_, v)| v).ok_or_else(|| err(&format!("missing `{key}=`")))
        };
        let string = |key: &str| match get(key)? {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(err(&format!("`{key}` takes a quoted string"))),
        };
        let int = |key: &str| match get(key)? {
            Value::Int(n) => Ok(*n),
            _ => Err(err(&format!("`{key}` takes an integer"))),
        };
        let stage = string("stage")?;
        let Some(kind) = EditKind::named(name) else {
            // In the order `Edit` declares them.
            let mut kinds: Vec<EditKind> = EDIT_KINDS.iter().map(|k| k.kind).collect();
            kinds.sort();
            let names: Vec<&str> = kinds.into_iter().map(EditKind::name).collect();
            return Err(err(&format!("unknown edit `{name}` ({})", names.join(", "))));
        };
        let edit = match kind {
            EditKind::Tile => {
                let factors = match get("factors")? {
                    Value::List(v) => v.clone(),
                    _ => return Err(err("`factors` takes a list of integers, e.g. [4,8,16]")),
                };
                Edit::Tile { stage, axis: string("axis")?, factors }
            }
            EditKind::Unroll => Edit::Unroll { stage, depth: int("depth")? },
            EditKind::ComputeAt => Edit::ComputeAt { stage, at: string("at")? },
            EditKind::Parallel => Edit::Parallel { stage, loops: int("loops")? },
            EditKind::Vectorize => Edit::Vectorize { stage, lanes: int("lanes")? },
            EditKind::Rfactor => Edit::Rfactor { stage, lanes: int("lanes")? },
            EditKind::Accumulate => {
                let into = match string("into")?.as_str() {
                    "memory" => Accumulator::Memory,
                    "registers" => Accumulator::Registers,
                    _ => return Err(err("`into` is \"memory\" or \"registers\"")),
                };
                Edit::Accumulate { stage, into }
            }
            EditKind::Pack => {
                let layout = match string("layout")?.as_str() {
                    "original" => PackLayout::Original,
                    "packed" => PackLayout::Packed,
                    "blocked" => PackLayout::Blocked,
                    "local" => PackLayout::Local,
                    _ => return Err(err("`layout` is \"original\", \"packed\", \"blocked\" or \"local\"")),
                };
                Edit::Pack { stage, operand: string("operand")?, layout }
            }
            EditKind::Fuse => Edit::Fuse { stage, with: string("with")? },
            EditKind::Epilogue => Edit::Epilogue { stage, at: string("at")? },
            EditKind::Iterate => {
                let points = match string("points")?.as_str() {
                    "all" => Iterate::All,
                    "kept" => Iterate::Kept,
                    _ => return Err(err("`points` is \"all\" or \"kept\"")),
                };
                Edit::Iterate { stage, points }
            }
        };
        Ok(edit)
    }
}

/// `name(arg=value, ...)`, with its kind's name and arguments.
impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.kind().name())?;
        for (i, (name, value)) in self.arguments().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value}")?;
        }
        f.write_str(")")
    }
}

enum Value {
    Str(String),
    Int(usize),
    List(Vec<usize>),
}

fn parse_args(text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or("expected `key=value`")?;
        let key = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let (value, after) = if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').ok_or("unterminated string")?;
            (Value::Str(r[..end].to_string()), &r[end + 1..])
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or("expected `]`")?;
            let items: Result<Vec<usize>, _> =
                r[..end].split(',').filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse::<usize>()).collect();
            (Value::List(items.map_err(|_| "a factor is not a non-negative integer")?), &r[end + 1..])
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let n =
                rest[..end].trim().parse::<usize>().map_err(|_| format!("`{key}` is not a non-negative integer"))?;
            (Value::Int(n), &rest[end..])
        };
        out.push((key, value));
        rest = after.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("unexpected `{rest}`"));
        }
    }
    Ok(out)
}

/// The leader a `fuse` or `epilogue` edit names: `None` for `none`.
fn fusion_leader(c: &Candidate, name: &str, edit: &str) -> Result<Option<usize>, EditError> {
    if name == "none" {
        return Ok(None);
    }
    c.stage_index(name)
        .map(Some)
        .ok_or_else(|| EditError::UnknownStage { edit: edit.to_string(), stage: name.to_string() })
}

fn parse_placement(c: &Candidate, at: &str, edit: &str) -> Result<Placement, EditError> {
    if at == "root" {
        return Ok(Placement::Root);
    }
    let unknown = || EditError::UnknownLoop { edit: edit.to_string(), at: at.to_string() };
    let (stage_name, loop_text) = at.split_once('.').ok_or_else(unknown)?;
    let r = c.stage_index(stage_name).ok_or_else(unknown)?;
    let stage = &c.program().stages()[r];
    let loop_index = loop_order(stage).iter().position(|l| loop_name(stage, l) == loop_text).ok_or_else(unknown)?;
    Ok(Placement::At { stage: r, loop_index })
}

/// The text of a placement: `root`, `inline`, or `STAGE.LOOP`.
pub fn placement_text(c: &Candidate, p: &Placement) -> String {
    match p {
        Placement::Root => "root".to_string(),
        Placement::Inlined => "inline".to_string(),
        Placement::At { stage, loop_index } => {
            let st = &c.program().stages()[*stage];
            let l = loop_order(st)[*loop_index];
            format!("{}.{}", c.program().stage_name(st), loop_name(st, &l))
        }
    }
}
