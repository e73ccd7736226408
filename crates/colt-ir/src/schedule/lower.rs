//! Lowering a candidate to its loop nest (see the `schedule` module docs
//! for the loop structure, and `analysis` for compute-at).

use super::analysis::{load_stride, loop_order, tile_sizes, LoopLevel, Section};
use super::pack::{packed_view, PackPlan, SourceIndex};
use super::{Accumulator, Candidate, Group, Member, Placement, Target};
use crate::c::{accumulate, buffer_bindings, c_f32, c_ident, ExprPrinter, StagedLoad};
use crate::expr::{AxisId, Cond, Expr, IndexExpr};
use crate::loopnest::{Access, Loop, LoopKind, LoopNest, Node, Statement};
use crate::program::{Combine, Program, Stage};
use crate::vector::{vector_prelude, VectorPrinter};
use std::collections::{BTreeMap, BTreeSet};

mod opencl;

/// The range a stage's axis covers where the stage is computed: C
/// expressions for its bounds and the most points it can hold.
#[derive(Clone, Debug)]
struct AxisRange {
    lo: String,
    hi: String,
    len: usize,
}

struct Lowering<'a> {
    c: &'a Candidate,
    program: &'a Program,
    bodies: Vec<Expr>,
    lanes_used: BTreeSet<usize>,
    /// OpenCL: the operands the stage being lowered reads from local memory.
    staged: Vec<StagedLoad>,
}

/// The loop nest of a candidate, on its target.
pub fn lower(c: &Candidate) -> LoopNest {
    if c.target() == Target::OpenCl {
        return opencl::lower_opencl(c);
    }
    let source = c.program();
    // Every constructor of a Candidate runs `Candidate::check`, which
    // builds this same view and refuses the candidate if it fails.
    let view = packed_view(source, c.bodies(), c.stages()).expect("a valid candidate's packings are legal");
    let program = &view.program;
    let mut lowering =
        Lowering { c, program, bodies: view.bodies.clone(), lanes_used: BTreeSet::new(), staged: Vec::new() };
    let mut body = Vec::new();
    for (i, group) in c.groups().iter().enumerate() {
        if i > 0 {
            body.push(Node::Barrier);
        }
        let stages: Vec<usize> = group.members.iter().map(|m| m.stage).chain([group.root]).collect();
        let plans: Vec<&PackPlan> = view.plans.iter().filter(|p| stages.contains(&p.stage)).collect();
        if !plans.is_empty() {
            for plan in plans {
                body.extend(lowering.pack(plan));
            }
            body.push(Node::Barrier);
        }
        body.extend(lowering.group(group));
    }
    let prelude: String = lowering.lanes_used.iter().map(|&l| vector_prelude(l)).collect();
    let scratch = program.buffers()[source.buffers().len()..].iter().map(|b| b.len()).collect();
    LoopNest {
        name: source.name().to_string(),
        prelude,
        bindings: buffer_bindings(program),
        body,
        scratch,
        target: Target::Cpu,
    }
}

fn ident(text: &str) -> String {
    c_ident(&text.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' }).collect::<String>())
}

fn arith_count(e: &Expr) -> usize {
    match e {
        Expr::Const(_) | Expr::Load(_) => 0,
        Expr::Unary(crate::expr::UnaryOp::Exp, a) => 12 + arith_count(a),
        Expr::Unary(_, a) => 1 + arith_count(a),
        Expr::Binary(_, a, b) => 1 + arith_count(a) + arith_count(b),
        Expr::Select(c, a, b) => 1 + cond_count(c) + arith_count(a) + arith_count(b),
    }
}

fn cond_count(c: &Cond) -> usize {
    match c {
        Cond::Index(..) => 1,
        Cond::Value(a, _, b) => 1 + arith_count(a) + arith_count(b),
        Cond::And(a, b) | Cond::Or(a, b) => 1 + cond_count(a) + cond_count(b),
    }
}

impl Lowering<'_> {
    fn stage(&self, s: usize) -> &Stage {
        &self.program.stages()[s]
    }

    fn stage_name(&self, s: usize) -> String {
        self.program.stage_name(self.stage(s)).to_string()
    }

    fn var(&self, s: usize, axis: AxisId, level: usize) -> String {
        ident(&format!("{}_{}{}", self.stage_name(s), self.stage(s).axis(axis).name, level))
    }

    /// The copy of an operand into its packed layout, split over the
    /// tasks along the packed buffer's first dimension.
    fn pack(&self, plan: &PackPlan) -> Vec<Node> {
        let source = self.program.buffer(plan.source);
        let scratch = self.program.buffer(plan.scratch);
        let vars: Vec<String> = (0..plan.shape.len()).map(|j| ident(&format!("{}_p{j}", scratch.name))).collect();
        let mut index = Vec::new();
        let mut checks = Vec::new();
        for (k, &extent) in source.shape.iter().enumerate() {
            let (e, covers) = match plan.index[k] {
                SourceIndex::Dim { packed, low } => {
                    let e = if low == 0 { vars[packed].clone() } else { format!("({} - {})", vars[packed], -low) };
                    if low < 0 {
                        checks.push(format!("{e} >= 0"));
                    }
                    (e, plan.shape[packed] as i64 + low)
                }
                SourceIndex::Blocked { outer, inner, width } => {
                    (format!("({} * {width} + {})", vars[outer], vars[inner]), (plan.shape[outer] * width) as i64)
                }
            };
            if covers > extent as i64 {
                checks.push(format!("{e} < {extent}"));
            }
            index.push(e);
        }
        let strides = source.strides();
        let offset: Vec<String> = index.iter().zip(&strides).map(|(e, s)| format!("{e} * {s}L")).collect();
        let offset = if offset.is_empty() { "0".to_string() } else { offset.join(" + ") };
        let read = format!("{}[{offset}]", c_ident(&source.name));
        // Outside the source: its padding, or zeros in the last panel of a
        // blocked dimension (never read).
        let value = if checks.is_empty() {
            read
        } else {
            format!("({}) ? {read} : {}", checks.join(" && "), c_f32(plan.pad.unwrap_or(0.0)))
        };
        let out: Vec<String> = vars.iter().zip(scratch.strides()).map(|(v, s)| format!("{v} * {s}L")).collect();
        let out = if out.is_empty() { "0".to_string() } else { out.join(" + ") };
        let text = format!("{}[{out}] = {value};", c_ident(&scratch.name));
        let stmt = Node::Stmt(Statement {
            text,
            stage: plan.stage,
            flops: 0,
            lanes: 1,
            accesses: vec![
                Access { buffer: plan.source.0, write: false, elements: 1, stride: None },
                Access { buffer: plan.scratch.0, write: true, elements: 1, stride: Some(1) },
            ],
        });
        let mut body = vec![stmt];
        for (j, &extent) in plan.shape.iter().enumerate().rev() {
            let (start, end, kind) = if j == 0 {
                (format!("{extent}L * task / ntasks"), format!("{extent}L * (task + 1) / ntasks"), LoopKind::Parallel)
            } else {
                ("0".to_string(), extent.to_string(), LoopKind::Serial)
            };
            body = vec![Node::Loop(Loop {
                var: vars[j].clone(),
                start,
                end,
                step: 1,
                kind,
                trips: extent,
                unroll: None,
                body,
            })];
        }
        let mut nodes = vec![Node::Comment(format!(
            "pack {} for {} as {}{:?}",
            source.name,
            self.stage_name(plan.stage),
            scratch.name,
            plan.shape
        ))];
        nodes.extend(body);
        nodes
    }

    fn group(&mut self, g: &Group) -> Vec<Node> {
        let r = g.root;
        let stage = self.stage(r);
        let ranges: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        let mut members: BTreeMap<usize, Vec<&Member>> = BTreeMap::new();
        for m in &g.members {
            members.entry(m.loop_index).or_default().push(m);
        }
        let mut names: Vec<String> = g.members.iter().map(|m| self.stage_name(m.stage)).collect();
        names.push(self.stage_name(r));
        let mut nodes = vec![Node::Comment(format!("phase: {}", names.join(" -> ")))];
        let nest = self.nest(r, &ranges, &members);
        if self.c.stages()[r].parallel == 0 {
            nodes.push(Node::If { cond: "task == 0".into(), then: nest, otherwise: Vec::new(), then_share: 1.0 });
        } else {
            nodes.extend(nest);
        }
        nodes
    }

    /// The loops of stage `s` over `ranges`, with `members` computed at the
    /// start of the bodies of the loops they are placed at.
    fn nest(&mut self, s: usize, ranges: &[AxisRange], members: &BTreeMap<usize, Vec<&Member>>) -> Vec<Node> {
        let order = loop_order(self.stage(s));
        let parallel = match self.c.stages()[s].placement {
            Placement::Root => self.c.stages()[s].parallel,
            _ => 0,
        };
        if parallel > 0 {
            let fused = self.fused_parallel_loop(s, &order[..parallel], ranges, members, &order);
            return vec![fused];
        }
        self.outer(s, &order, 0, ranges, members)
    }

    fn fused_parallel_loop(
        &mut self,
        s: usize,
        fused: &[LoopLevel],
        ranges: &[AxisRange],
        members: &BTreeMap<usize, Vec<&Member>>,
        order: &[LoopLevel],
    ) -> Node {
        let sched = &self.c.stages()[s];
        let trips: Vec<usize> =
            fused.iter().map(|l| ranges[l.axis.0].len.div_ceil(tile_sizes(&sched.tiles[l.axis.0])[0])).collect();
        let total: usize = trips.iter().product();
        let var = ident(&format!("{}_fused", self.stage_name(s)));
        let mut body = Vec::new();
        let mut inner = 1;
        let mut lets = Vec::new();
        for (l, &t) in fused.iter().zip(&trips).rev() {
            let size = tile_sizes(&sched.tiles[l.axis.0])[0];
            lets.push(Node::Let { var: self.var(s, l.axis, 0), value: format!("{var} / {inner} % {t} * {size}") });
            inner *= t;
        }
        lets.reverse();
        body.extend(lets);
        body.extend(self.members_at(fused.len() - 1, members, s));
        body.extend(self.outer(s, order, fused.len(), ranges, members));
        Node::Loop(Loop {
            var: var.clone(),
            start: format!("{total}L * task / ntasks"),
            end: format!("{total}L * (task + 1) / ntasks"),
            step: 1,
            kind: LoopKind::Parallel,
            trips: total,
            unroll: None,
            body,
        })
    }

    fn members_at(&mut self, pos: usize, members: &BTreeMap<usize, Vec<&Member>>, root: usize) -> Vec<Node> {
        let Some(list) = members.get(&pos) else { return Vec::new() };
        let mut nodes = Vec::new();
        for m in list {
            nodes.extend(self.member(m, pos, root));
        }
        nodes
    }

    /// A member's region at loop `pos` of its root, then its own nest.
    fn member(&mut self, m: &Member, pos: usize, root: usize) -> Vec<Node> {
        let (mut nodes, ranges) = self.member_region(m, pos, root);
        nodes.extend(self.nest(m.stage, &ranges, &BTreeMap::new()));
        nodes
    }

    /// The bounds of the region of a member's output that loop `pos` of its
    /// root needs: the bindings that compute them, and each axis's range.
    fn member_region(&self, m: &Member, pos: usize, root: usize) -> (Vec<Node>, Vec<AxisRange>) {
        let order = loop_order(self.stage(root));
        let root_stage = self.stage(root);
        let stage = self.stage(m.stage);
        let mut nodes = vec![Node::Comment(format!("{} computed here", self.stage_name(m.stage)))];
        let mut ranges = Vec::new();
        for (k, axis) in stage.axes.iter().enumerate() {
            let full = AxisRange { lo: "0".into(), hi: axis.extent.to_string(), len: axis.extent };
            let bound = m.binding.dims.get(k).copied().flatten();
            let Some(a) = bound else {
                ranges.push(full);
                continue;
            };
            let innermost = order[..=pos].iter().rev().find(|l| l.axis == a);
            let Some(l) = innermost else {
                ranges.push(full);
                continue;
            };
            let size = tile_sizes(&self.c.stages()[root].tiles[a.0])[l.level];
            let extent = root_stage.axis(a).extent;
            if size >= extent {
                ranges.push(full);
                continue;
            }
            let lo = ident(&format!("{}_{}_lo", self.stage_name(m.stage), axis.name));
            let hi = ident(&format!("{}_{}_hi", self.stage_name(m.stage), axis.name));
            nodes.push(Node::Let { var: lo.clone(), value: self.var(root, a, l.level) });
            nodes.push(Node::Let { var: hi.clone(), value: format!("colt_minl({lo} + {size}, {extent})") });
            ranges.push(AxisRange { lo, hi, len: size });
        }
        (nodes, ranges)
    }

    /// Loops from `pos` of the order down to the start of `S2`, then the
    /// `S2` loops and the tile.
    fn outer(
        &mut self,
        s: usize,
        order: &[LoopLevel],
        pos: usize,
        ranges: &[AxisRange],
        members: &BTreeMap<usize, Vec<&Member>>,
    ) -> Vec<Node> {
        if pos == order.len() || order[pos].section >= Section::S2 {
            return self.s2_and_tile(s, order, pos, ranges);
        }
        let l = order[pos];
        let mut body = self.members_at(pos, members, s);
        body.extend(self.outer(s, order, pos + 1, ranges, members));
        self.loop_over(s, l, ranges, body, None)
    }

    /// One loop of an axis at a level, or a plain binding when it iterates
    /// once.
    fn loop_over(
        &self,
        s: usize,
        l: LoopLevel,
        ranges: &[AxisRange],
        body: Vec<Node>,
        unroll: Option<usize>,
    ) -> Vec<Node> {
        let factors = &self.c.stages()[s].tiles[l.axis.0];
        let sizes = tile_sizes(factors);
        let range = &ranges[l.axis.0];
        let var = self.var(s, l.axis, l.level);
        let (parent, parent_size) = if l.level == 0 {
            (range.lo.clone(), range.len)
        } else {
            (self.var(s, l.axis, l.level - 1), sizes[l.level - 1])
        };
        let trips = parent_size.min(range.len).div_ceil(sizes[l.level]);
        if trips <= 1 {
            let mut nodes = vec![Node::Let { var, value: parent }];
            nodes.extend(body);
            return nodes;
        }
        let end = if l.level == 0 || parent_size >= range.len {
            range.hi.clone()
        } else {
            format!("colt_minl({parent} + {parent_size}, {})", range.hi)
        };
        vec![Node::Loop(Loop {
            var,
            start: parent,
            end,
            step: sizes[l.level],
            kind: LoopKind::Serial,
            trips,
            unroll: unroll.filter(|&u| u >= 2),
            body,
        })]
    }

    fn s2_and_tile(&mut self, s: usize, order: &[LoopLevel], pos: usize, ranges: &[AxisRange]) -> Vec<Node> {
        if pos < order.len() && order[pos].section == Section::S2 {
            let l = order[pos];
            let body = self.s2_and_tile(s, order, pos + 1, ranges);
            return self.loop_over(s, l, ranges, body, None);
        }
        self.tile(s, ranges)
    }

    /// The register tile at the end of the `S2` loops: a fast path for full
    /// tiles (constant trip counts, vectors, register accumulators) and a
    /// clamped scalar path for the tiles at the edges.
    fn tile(&mut self, s: usize, ranges: &[AxisRange]) -> Vec<Node> {
        let stage = self.stage(s).clone();
        let sched = self.c.stages()[s].clone();
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let reduction: Vec<AxisId> = stage.reduction_axes().map(|(id, _)| id).collect();
        let f3 = |a: AxisId| sched.tiles[a.0][2];
        let full: Vec<String> = spatial
            .iter()
            .filter(|&&a| f3(a) > 1)
            .map(|&a| format!("{} + {} <= {}", self.var(s, a, 2), f3(a), ranges[a.0].hi))
            .collect();
        let first: Vec<String> = reduction.iter().map(|&k| format!("{} == 0", self.var(s, k, 0))).collect();
        let first = if first.is_empty() { "1".to_string() } else { first.join(" && ") };
        let fast = self.fast_tile(s, &stage, &sched, &spatial, &reduction, &first);
        if full.is_empty() {
            return fast;
        }
        let edge = self.edge_tile(s, &stage, &spatial, &reduction, &first, ranges);
        // The share of tiles that are full, axis by axis.
        let then_share = spatial
            .iter()
            .map(|&a| {
                let len = ranges[a.0].len;
                (len / f3(a)) as f64 / len.div_ceil(f3(a)) as f64
            })
            .product();
        vec![Node::If { cond: full.join(" && "), then: fast, otherwise: edge, then_share }]
    }

    /// The share of stage `s`'s `R0` iterations that are the first, where
    /// a tile's accumulation starts.
    fn first_share(&self, s: usize) -> f64 {
        let stage = self.stage(s);
        let tiles = &self.c.stages()[s].tiles;
        let r0_trips: f64 =
            stage.reduction_axes().map(|(k, a)| a.extent.div_ceil(tile_sizes(&tiles[k.0])[0]) as f64).product();
        1.0 / r0_trips
    }

    fn printer(&self, stage: &Stage, axis_c: Vec<String>) -> ExprPrinter<'_> {
        ExprPrinter {
            program: self.program,
            axis_c,
            axis_range: stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect(),
            staged: &self.staged,
        }
    }

    fn out_offset(&self, stage: &Stage, printer: &ExprPrinter) -> String {
        let index: Vec<IndexExpr> = stage.spatial_axes().map(|(id, _)| IndexExpr::Axis(id)).collect();
        printer.offset(stage.output, &index)
    }

    fn accesses(&self, s: usize, stage: &Stage, lanes: usize, accumulate_in_memory: bool) -> Vec<Access> {
        let vaxis = stage.spatial_axes().last().map(|(id, _)| id);
        let mut out = Vec::new();
        self.bodies[s].for_each_load(&mut |l| {
            let stride = vaxis.and_then(|a| load_stride(self.program, l, a));
            let elements = if lanes > 1 && stride != Some(0) { lanes } else { 1 };
            out.push(Access { buffer: l.buffer.0, write: false, elements, stride });
        });
        let output = Access { buffer: stage.output.0, write: true, elements: lanes, stride: Some(1) };
        if accumulate_in_memory {
            out.push(Access { write: false, ..output.clone() });
        }
        out.push(output);
        out
    }

    fn statement(&self, s: usize, text: String, lanes: usize, extra_flops: usize, accesses: Vec<Access>) -> Node {
        let flops = (arith_count(&self.bodies[s]) + extra_flops) * lanes;
        Node::Stmt(Statement { text, stage: s, flops, lanes, accesses })
    }

    fn init_statement(&self, s: usize, text: String, lanes: usize, output: usize) -> Node {
        Node::Stmt(Statement {
            text,
            stage: s,
            flops: 0,
            lanes,
            accesses: vec![Access { buffer: output, write: true, elements: lanes, stride: Some(1) }],
        })
    }

    /// The `S3` loops of a full tile with constant trip counts, the last
    /// one stepping by `lanes`, around `inner`.
    fn constant_s3(&self, s: usize, spatial: &[AxisId], lanes: usize, unroll: usize, inner: Vec<Node>) -> Vec<Node> {
        let sched = &self.c.stages()[s];
        let mut body = inner;
        for (i, &a) in spatial.iter().enumerate().rev() {
            let f3 = sched.tiles[a.0][2];
            let step = if i + 1 == spatial.len() { lanes } else { 1 };
            let var = self.var(s, a, 3);
            let parent = self.var(s, a, 2);
            if f3 == step {
                let mut nodes = vec![Node::Let { var, value: parent }];
                nodes.extend(body);
                body = nodes;
                continue;
            }
            let trips = f3 / step;
            let innermost = i + 1 == spatial.len();
            body = vec![Node::Loop(Loop {
                var,
                start: parent.clone(),
                end: format!("{parent} + {f3}"),
                step,
                kind: LoopKind::Serial,
                trips,
                unroll: if innermost && unroll > 0 { Some(unroll.min(trips)).filter(|&u| u >= 2) } else { None },
                body,
            })];
        }
        body
    }

    /// The `R1` loops around `inner`, the innermost with an unroll hint.
    fn r1_loops(&self, s: usize, reduction: &[AxisId], unroll: usize, inner: Vec<Node>) -> Vec<Node> {
        let stage = self.stage(s);
        let ranges: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        let mut body = inner;
        for (i, &k) in reduction.iter().enumerate().rev() {
            let hint = if i + 1 == reduction.len() && unroll > 0 { Some(unroll) } else { None };
            body = self.loop_over(s, LoopLevel { axis: k, level: 1, section: Section::R1 }, &ranges, body, hint);
        }
        body
    }

    fn fast_tile(
        &mut self,
        s: usize,
        stage: &Stage,
        sched: &super::StageSchedule,
        spatial: &[AxisId],
        reduction: &[AxisId],
        first: &str,
    ) -> Vec<Node> {
        let lanes = sched.vector;
        if lanes > 1 {
            self.lanes_used.insert(lanes);
        }
        let out_name = c_ident(&self.program.buffer(stage.output).name);
        let init = c_f32(stage.combine.init());
        let vaxis = spatial.last().copied();
        // Axis values at the innermost point: x3 for spatial, k1 for
        // reduction axes.
        let innermost_c = |this: &Self| -> Vec<String> {
            stage
                .axes
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let level = if a.kind == crate::program::AxisKind::Spatial { 3 } else { 1 };
                    this.var(s, AxisId(i), level)
                })
                .collect()
        };
        let body_c = |this: &Self, axis_c: Vec<String>| -> (String, String) {
            let printer = this.printer(stage, axis_c);
            let offset = this.out_offset(stage, &printer);
            let value = match vaxis {
                Some(v) if lanes > 1 => VectorPrinter { scalar: &printer, axis: v, lanes }.value(&this.bodies[s]),
                _ => printer.value(&this.bodies[s]),
            };
            (offset, value)
        };
        let load = |offset: &str| {
            if lanes > 1 {
                format!("colt_vload{lanes}(&{out_name}[{offset}])")
            } else {
                format!("{out_name}[{offset}]")
            }
        };
        let store = |offset: &str, value: &str| {
            if lanes > 1 {
                format!("colt_vstore{lanes}(&{out_name}[{offset}], {value});")
            } else {
                format!("{out_name}[{offset}] = {value};")
            }
        };
        let splat_init = if lanes > 1 { format!("colt_splat{lanes}({init})") } else { init.clone() };
        let combine = |acc: &str, value: &str| accumulate(stage.combine, acc, value, lanes);

        if stage.combine == Combine::Assign {
            let (offset, value) = body_c(self, innermost_c(self));
            let stmt = self.statement(s, store(&offset, &value), lanes, 0, self.accesses(s, stage, lanes, false));
            return self.constant_s3(s, spatial, lanes, sched.unroll, vec![stmt]);
        }
        if sched.accumulator == Accumulator::Memory {
            let printer = self.printer(stage, innermost_c(self));
            let offset = self.out_offset(stage, &printer);
            let init_stmt = self.init_statement(s, store(&offset, &splat_init), lanes, stage.output.0);
            let init_loops = self.constant_s3(s, spatial, lanes, 0, vec![init_stmt]);
            let (offset, value) = body_c(self, innermost_c(self));
            let update = store(&offset, &combine(&load(&offset), &value));
            let stmt = self.statement(s, update, lanes, 1, self.accesses(s, stage, lanes, true));
            let inner = self.constant_s3(s, spatial, lanes, sched.unroll, vec![stmt]);
            let mut nodes = vec![Node::If {
                cond: first.to_string(),
                then: init_loops,
                otherwise: Vec::new(),
                then_share: self.first_share(s),
            }];
            nodes.extend(self.r1_loops(s, reduction, 0, inner));
            return nodes;
        }
        // Registers: one accumulator per point of the tile.
        let mut points: Vec<Vec<usize>> = vec![Vec::new()];
        for (i, &a) in spatial.iter().enumerate() {
            let step = if i + 1 == spatial.len() { lanes } else { 1 };
            let offsets: Vec<usize> = (0..sched.tiles[a.0][2]).step_by(step).collect();
            points = points.iter().flat_map(|p| offsets.iter().map(move |&o| [p.clone(), vec![o]].concat())).collect();
        }
        let ty = if lanes > 1 { format!("colt_v{lanes}") } else { "float".to_string() };
        let point_c = |this: &Self, p: &[usize]| -> Vec<String> {
            stage
                .axes
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if a.kind == crate::program::AxisKind::Reduction {
                        return this.var(s, AxisId(i), 1);
                    }
                    let q = spatial.iter().position(|&x| x.0 == i).map(|j| p[j]).unwrap_or(0);
                    let base = this.var(s, AxisId(i), 2);
                    if q == 0 {
                        base
                    } else {
                        format!("({base} + {q})")
                    }
                })
                .collect()
        };
        let mut before = Vec::new();
        let mut updates = Vec::new();
        let mut after = Vec::new();
        for (n, p) in points.iter().enumerate() {
            let (offset, value) = body_c(self, point_c(self, p));
            let acc = format!("acc{n}");
            before.push(Node::Let {
                var: String::new(),
                value: format!("{ty} {acc} = ({first}) ? {splat_init} : {};", load(&offset)),
            });
            updates.push(self.statement(
                s,
                format!("{acc} = {};", combine(&acc, &value)),
                lanes,
                1,
                self.accesses(s, stage, lanes, false),
            ));
            after.push(Node::Let { var: String::new(), value: store(&offset, &acc) });
        }
        let unroll = if sched.unroll > 0 { (sched.unroll / points.len().max(1)).max(1) } else { 0 };
        let mut nodes = before;
        nodes.extend(self.r1_loops(s, reduction, unroll, updates));
        nodes.extend(after);
        nodes
    }

    #[allow(clippy::too_many_arguments)]
    fn edge_tile(
        &self,
        s: usize,
        stage: &Stage,
        spatial: &[AxisId],
        reduction: &[AxisId],
        first: &str,
        ranges: &[AxisRange],
    ) -> Vec<Node> {
        let axis_c: Vec<String> = stage
            .axes
            .iter()
            .enumerate()
            .map(|(i, a)| self.var(s, AxisId(i), if a.kind == crate::program::AxisKind::Spatial { 3 } else { 1 }))
            .collect();
        let printer = self.printer(stage, axis_c);
        let out_name = c_ident(&self.program.buffer(stage.output).name);
        let target = format!("{out_name}[{}]", self.out_offset(stage, &printer));
        let value = printer.value(&self.bodies[s]);
        let clamped = |this: &Self, inner: Vec<Node>| -> Vec<Node> {
            let mut body = inner;
            for &a in spatial.iter().rev() {
                let l = LoopLevel { axis: a, level: 3, section: Section::S3 };
                body = this.loop_over(s, l, ranges, body, None);
            }
            body
        };
        if stage.combine == Combine::Assign {
            let stmt = self.statement(s, format!("{target} = {value};"), 1, 0, self.accesses(s, stage, 1, false));
            return clamped(self, vec![stmt]);
        }
        let init = self.init_statement(s, format!("{target} = {};", c_f32(stage.combine.init())), 1, stage.output.0);
        let update = format!("{target} = {};", accumulate(stage.combine, &target, &value, 1));
        let stmt = self.statement(s, update, 1, 1, self.accesses(s, stage, 1, true));
        let mut nodes = vec![Node::If {
            cond: first.to_string(),
            then: clamped(self, vec![init]),
            otherwise: Vec::new(),
            then_share: self.first_share(s),
        }];
        let inner = clamped(self, vec![stmt]);
        nodes.extend(self.r1_loops(s, reduction, 0, inner));
        nodes
    }
}
