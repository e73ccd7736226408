//! The register tile at the end of a stage's `S2` loops: the fast path
//! for full tiles (constant trip counts, vectors, accumulators in
//! registers) and the clamped path for the tiles at the edges (point by
//! point, by whole vectors where they fit), with the statements' costs and
//! accesses that the features read.

use super::{arith_count, AxisRange, Lowering};
use crate::c::{accumulate, c_f32, c_ident, ExprPrinter};
use crate::expr::{AxisId, Expr, IndexExpr, Load};
use crate::loopnest::{Access, Loop, LoopKind, Node, Statement};
use crate::program::{Combine, Stage};
use crate::schedule::analysis::{load_stride, tile_sizes, LoopLevel, Section};
use crate::schedule::{fusion, Accumulator, StageSchedule};
use crate::vector::VectorPrinter;

impl Lowering<'_> {
    /// The register tile at the end of the `S2` loops: a fast path for full
    /// tiles (constant trip counts, vectors, register accumulators) and a
    /// clamped path for the tiles at the edges.
    pub(super) fn tile(&mut self, s: usize, ranges: &[AxisRange]) -> Vec<Node> {
        if fusion::fused_set(self.c.stages(), s).len() > 1 {
            return self.fused_tile(s, ranges);
        }
        let stage = self.stage(s).clone();
        let sched = self.c.stages()[s].clone();
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let reduction: Vec<AxisId> = stage.reduction_axes().map(|(id, _)| id).collect();
        let (full, then_share) = self.full_tile_test(s, &spatial, ranges);
        let first = self.first_step(s, &reduction);
        let rfactor = sched.rfactor > 1;
        let fast = if rfactor {
            self.rfactor_fast_tile(s, &stage, &sched, &spatial, &reduction, &first)
        } else {
            self.fast_tile(s, &stage, &sched, &spatial, &reduction, &first)
        };
        if full.is_empty() {
            return fast;
        }
        let edge = if rfactor {
            self.rfactor_edge_tile(s, &stage, &sched, &spatial, &reduction, &first, ranges)
        } else {
            self.edge_tile(s, &stage, &spatial, &reduction, &first, ranges)
        };
        vec![Node::If { cond: full, then: fast, otherwise: edge, then_share }]
    }

    /// The C test that a tile of stage `s` is full (empty when every tile
    /// is) and the share of tiles that are, axis by axis.
    pub(super) fn full_tile_test(&self, s: usize, spatial: &[AxisId], ranges: &[AxisRange]) -> (String, f64) {
        let f3 = |a: AxisId| self.c.stages()[s].tiles[a.0][2];
        let full: Vec<String> = spatial
            .iter()
            .filter(|&&a| f3(a) > 1)
            .map(|&a| format!("{} + {} <= {}", self.var(s, a, 2), f3(a), ranges[a.0].hi))
            .collect();
        let then_share = spatial
            .iter()
            .map(|&a| {
                let len = ranges[a.0].len;
                (len / f3(a)) as f64 / len.div_ceil(f3(a)) as f64
            })
            .product();
        (full.join(" && "), then_share)
    }

    /// The C test that an `R0` step of stage `s` is the first of its
    /// reduction.
    pub(super) fn first_step(&self, s: usize, reduction: &[AxisId]) -> String {
        let first: Vec<String> = reduction.iter().map(|&k| format!("{} == 0", self.var(s, k, 0))).collect();
        if first.is_empty() {
            "1".to_string()
        } else {
            first.join(" && ")
        }
    }

    /// The share of stage `s`'s `R0` iterations that are the first, where
    /// a tile's accumulation starts.
    pub(super) fn first_share(&self, s: usize) -> f64 {
        let stage = self.stage(s);
        let tiles = &self.c.stages()[s].tiles;
        let r0_trips: f64 =
            stage.reduction_axes().map(|(k, a)| a.extent.div_ceil(tile_sizes(&tiles[k.0])[0]) as f64).product();
        1.0 / r0_trips
    }

    pub(super) fn printer(&self, stage: &Stage, axis_c: Vec<String>) -> ExprPrinter<'_> {
        ExprPrinter {
            program: self.program,
            axis_c,
            axis_range: stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect(),
            staged: &self.staged,
            held: &[],
        }
    }

    pub(super) fn out_offset(&self, stage: &Stage, printer: &ExprPrinter) -> String {
        let index: Vec<IndexExpr> = stage.spatial_axes().map(|(id, _)| IndexExpr::Axis(id)).collect();
        printer.offset(stage.output, &index)
    }

    pub(super) fn accesses(&self, s: usize, stage: &Stage, lanes: usize, accumulate_in_memory: bool) -> Vec<Access> {
        self.accesses_except(s, stage, lanes, accumulate_in_memory, &[])
    }

    /// The accesses of stage `s`'s statement, without the loads in `shared`
    /// (made by another statement at the same point: a fused sibling's).
    pub(super) fn accesses_except(
        &self,
        s: usize,
        stage: &Stage,
        lanes: usize,
        accumulate_in_memory: bool,
        shared: &[Load],
    ) -> Vec<Access> {
        let vaxis = stage.spatial_axes().last().map(|(id, _)| id);
        self.accesses_along_except(s, stage, lanes, vaxis, accumulate_in_memory, shared)
    }

    /// The accesses of one execution of stage `s`'s update with `lanes`
    /// lanes along `vaxis`: each load's stride along it, and the output.
    pub(super) fn accesses_along(
        &self,
        s: usize,
        stage: &Stage,
        lanes: usize,
        vaxis: Option<AxisId>,
        accumulate_in_memory: bool,
    ) -> Vec<Access> {
        self.accesses_along_except(s, stage, lanes, vaxis, accumulate_in_memory, &[])
    }

    /// [`accesses_along`](Self::accesses_along) without the loads in
    /// `shared`.
    fn accesses_along_except(
        &self,
        s: usize,
        stage: &Stage,
        lanes: usize,
        vaxis: Option<AxisId>,
        accumulate_in_memory: bool,
        shared: &[Load],
    ) -> Vec<Access> {
        let mut out = Vec::new();
        self.bodies[s].for_each_load(&mut |l| {
            if shared.contains(l) {
                return;
            }
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

    pub(super) fn statement(
        &self,
        s: usize,
        text: String,
        lanes: usize,
        extra_flops: usize,
        accesses: Vec<Access>,
    ) -> Node {
        let flops = (arith_count(&self.bodies[s]) + extra_flops) * lanes;
        Node::Stmt(Statement { text, stage: s, flops, lanes, accesses })
    }

    pub(super) fn init_statement(&self, s: usize, text: String, lanes: usize, output: usize) -> Node {
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
    pub(super) fn constant_s3(
        &self,
        s: usize,
        spatial: &[AxisId],
        lanes: usize,
        unroll: usize,
        inner: Vec<Node>,
    ) -> Vec<Node> {
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

    /// The `R1` loops around `inner`, the innermost with an unroll hint,
    /// with no mask: a fused register tile's (a stage that iterates its
    /// kept points is never fused, see `check`).
    pub(super) fn plain_r1_loops(&self, s: usize, reduction: &[AxisId], unroll: usize, inner: Vec<Node>) -> Vec<Node> {
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

    /// The `R1` loops around `inner(body)`, the innermost with an unroll
    /// hint. `inner` builds the statements of one point from the term to
    /// accumulate: the stage's body, or for the boundary points of a stage
    /// that iterates its kept points, the body guarded by its mask (see
    /// `masked`); `exact` when the spatial points are exactly the `S2`
    /// tiles (a full tile).
    fn r1_loops(
        &self,
        s: usize,
        reduction: &[AxisId],
        unroll: usize,
        exact: bool,
        inner: &dyn Fn(&Self, &Expr) -> Vec<Node>,
    ) -> Vec<Node> {
        self.r1_nest(s, reduction, unroll, exact, inner, false)
    }

    fn r1_nest(
        &self,
        s: usize,
        reduction: &[AxisId],
        unroll: usize,
        exact: bool,
        inner: &dyn Fn(&Self, &Expr) -> Vec<Node>,
        guard: bool,
    ) -> Vec<Node> {
        let Some((&k, rest)) = reduction.split_first() else {
            let body = if guard { self.guarded_body(s) } else { self.bodies[s].clone() };
            return inner(self, &body);
        };
        let hint = if rest.is_empty() && unroll > 0 { Some(unroll) } else { None };
        let l = LoopLevel { axis: k, level: 1, section: Section::R1 };
        if !guard && self.is_clamped(s, l) {
            let plain = self.r1_nest(s, rest, unroll, exact, inner, false);
            let guarded = self.r1_nest(s, rest, unroll, exact, inner, true);
            return self.masked_r1_loop(s, k, hint, exact, plain, guarded);
        }
        let stage = self.stage(s);
        let ranges: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        let body = self.r1_nest(s, rest, unroll, exact, inner, guard);
        self.loop_over(s, l, &ranges, body, hint)
    }

    pub(super) fn fast_tile(
        &mut self,
        s: usize,
        stage: &Stage,
        sched: &StageSchedule,
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
        let body_c = |this: &Self, axis_c: Vec<String>, body: &Expr| -> (String, String) {
            let printer = this.printer(stage, axis_c);
            let offset = this.out_offset(stage, &printer);
            let value = match vaxis {
                Some(v) if lanes > 1 => VectorPrinter { scalar: &printer, axis: v, lanes }.value(body),
                _ => printer.value(body),
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
            let (offset, value) = body_c(self, innermost_c(self), &self.bodies[s]);
            let stmt = self.statement(s, store(&offset, &value), lanes, 0, self.accesses(s, stage, lanes, false));
            return self.constant_s3(s, spatial, lanes, sched.unroll, vec![stmt]);
        }
        if sched.accumulator == Accumulator::Memory {
            let printer = self.printer(stage, innermost_c(self));
            let offset = self.out_offset(stage, &printer);
            let init_stmt = self.init_statement(s, store(&offset, &splat_init), lanes, stage.output.0);
            let init_loops = self.constant_s3(s, spatial, lanes, 0, vec![init_stmt]);
            let inner = |this: &Self, body: &Expr| {
                let (offset, value) = body_c(this, innermost_c(this), body);
                let update = store(&offset, &combine(&load(&offset), &value));
                let stmt = this.statement(s, update, lanes, 1, this.accesses(s, stage, lanes, true));
                this.constant_s3(s, spatial, lanes, sched.unroll, vec![stmt])
            };
            let mut nodes = vec![Node::If {
                cond: first.to_string(),
                then: init_loops,
                otherwise: Vec::new(),
                then_share: self.first_share(s),
            }];
            nodes.extend(self.r1_loops(s, reduction, 0, true, &inner));
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
        let mut after = Vec::new();
        // Named by stage: stages placed in one loop declare their tiles'
        // accumulators in one C scope.
        let acc = |n: usize| super::ident(&format!("{}_acc{n}", self.stage_name(s)));
        for (n, p) in points.iter().enumerate() {
            let (offset, _) = body_c(self, point_c(self, p), &self.bodies[s]);
            let acc = acc(n);
            before.push(Node::Let {
                var: String::new(),
                value: format!("{ty} {acc} = ({first}) ? {splat_init} : {};", load(&offset)),
            });
            after.push(Node::Let { var: String::new(), value: store(&offset, &acc) });
        }
        let updates = |this: &Self, body: &Expr| -> Vec<Node> {
            let mut updates = Vec::new();
            for (n, p) in points.iter().enumerate() {
                let (_, value) = body_c(this, point_c(this, p), body);
                let acc = acc(n);
                updates.push(this.statement(
                    s,
                    format!("{acc} = {};", combine(&acc, &value)),
                    lanes,
                    1,
                    this.accesses(s, stage, lanes, false),
                ));
            }
            updates
        };
        let unroll = if sched.unroll > 0 { (sched.unroll / points.len().max(1)).max(1) } else { 0 };
        let mut nodes = before;
        nodes.extend(self.r1_loops(s, reduction, unroll, true, &updates));
        nodes.extend(after);
        nodes
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn edge_tile(
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
        let printer = self.printer(stage, axis_c.clone());
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
        // A reduction's edge tile: point by point (the vector axis by
        // whole vectors while they fit, then by elements), each point's
        // whole `R1` range accumulated in a register. The old order (every
        // point updated in memory at every reduction step) made a tile
        // with one missing row or column run about ten times slower per
        // point than the full tiles; a point's terms are added in the
        // same order either way, so the results are bit for bit the same.
        let lanes = self.c.stages()[s].vector;
        let Some((&vaxis, outer)) = spatial.split_last() else {
            return self.point_accumulation(s, stage, reduction, first, &axis_c, 1, &target);
        };
        let f3 = self.c.stages()[s].tiles[vaxis.0][2];
        let range = &ranges[vaxis.0];
        let var = self.var(s, vaxis, 3);
        let parent = self.var(s, vaxis, 2);
        let mut body = if lanes > 1 && f3.min(range.len) >= lanes {
            let end_var = super::ident(&format!("{var}_edge_end"));
            let end =
                if f3 >= range.len { range.hi.clone() } else { format!("colt_minl({parent} + {f3}, {})", range.hi) };
            let vectors = Node::Loop(Loop {
                var: var.clone(),
                start: parent.clone(),
                end: format!("{end_var} - {}", lanes - 1),
                step: lanes,
                kind: LoopKind::Serial,
                trips: f3 / lanes,
                unroll: None,
                body: self.point_accumulation(s, stage, reduction, first, &axis_c, lanes, &target),
            });
            let mut nodes = vec![Node::Let { var: end_var.clone(), value: end }, vectors];
            // Over the whole axis, every tile's length is `f3` or the
            // axis's remainder: whole vectors when both are.
            let whole_axis = range.lo == "0" && range.hi == range.len.to_string();
            if !(whole_axis && f3.is_multiple_of(lanes) && (range.len % f3).is_multiple_of(lanes)) {
                nodes.push(Node::Loop(Loop {
                    var: var.clone(),
                    start: format!("{parent} + ({end_var} - {parent}) / {lanes} * {lanes}"),
                    end: end_var,
                    step: 1,
                    kind: LoopKind::Serial,
                    trips: ((range.len % f3) % lanes).max(1),
                    unroll: None,
                    body: self.point_accumulation(s, stage, reduction, first, &axis_c, 1, &target),
                }));
            }
            nodes
        } else {
            let point = self.point_accumulation(s, stage, reduction, first, &axis_c, 1, &target);
            let l = LoopLevel { axis: vaxis, level: 3, section: Section::S3 };
            self.loop_over(s, l, ranges, point, None)
        };
        for &a in outer.iter().rev() {
            let l = LoopLevel { axis: a, level: 3, section: Section::S3 };
            body = self.loop_over(s, l, ranges, body, None);
        }
        body
    }

    /// One point of a reduction's edge tile (`lanes` points along the
    /// vector axis when more than one), its `R1` range accumulated in a
    /// register and stored to `target` (the point's element, the first
    /// lane's with vectors).
    #[allow(clippy::too_many_arguments)]
    fn point_accumulation(
        &self,
        s: usize,
        stage: &Stage,
        reduction: &[AxisId],
        first: &str,
        axis_c: &[String],
        lanes: usize,
        target: &str,
    ) -> Vec<Node> {
        let acc = super::ident(&format!("{}_edge_acc", self.stage_name(s)));
        let init = c_f32(stage.combine.init());
        let vaxis = stage.spatial_axes().last().map(|(id, _)| id);
        let (ty, start, store) = if lanes > 1 {
            (
                format!("colt_v{lanes}"),
                format!("({first}) ? colt_splat{lanes}({init}) : colt_vload{lanes}(&{target})"),
                format!("colt_vstore{lanes}(&{target}, {acc});"),
            )
        } else {
            ("float".to_string(), format!("({first}) ? {init} : {target}"), format!("{target} = {acc};"))
        };
        let inner = |this: &Self, body: &Expr| {
            let printer = this.printer(stage, axis_c.to_vec());
            let value = match vaxis {
                Some(v) if lanes > 1 => VectorPrinter { scalar: &printer, axis: v, lanes }.value(body),
                _ => printer.value(body),
            };
            let update = format!("{acc} = {};", accumulate(stage.combine, &acc, &value, lanes));
            vec![this.statement(s, update, lanes, 1, this.accesses(s, stage, lanes, false))]
        };
        let mut nodes = vec![Node::Let { var: String::new(), value: format!("{ty} {acc} = {start};") }];
        nodes.extend(self.r1_loops(s, reduction, 0, false, &inner));
        nodes.push(Node::Let { var: String::new(), value: store });
        nodes
    }
}
