//! The register tile of a stage with a vectorised reduction (`rfactor`,
//! see `schedule::rfactor`): each point of the tile keeps a vector of
//! partial results over the `R1` loops, the innermost stepping by the
//! lanes (a scalar loop takes the leftover points of the last `R0` tile),
//! and reduces it across its lanes once at the end.

use super::{AxisRange, Lowering};
use crate::c::{accumulate, c_f32, c_ident};
use crate::expr::AxisId;
use crate::loopnest::{Loop, LoopKind, Node};
use crate::program::{AxisKind, Combine, Stage};
use crate::schedule::analysis::{LoopLevel, Section};
use crate::schedule::rfactor::rfactor_axis;
use crate::schedule::{Accumulator, StageSchedule};
use crate::vector::VectorPrinter;

/// The C of one register-tile point: its axis values, and the names of
/// its scalar and vector accumulators.
struct Point {
    axis_c: Vec<String>,
    acc: String,
    vacc: String,
}

impl Lowering<'_> {
    /// A full tile: with register accumulators every point's vector
    /// partials are live over the whole `R1` nest (loads shared by points
    /// are read once per step); in memory, the points one after another.
    pub(super) fn rfactor_fast_tile(
        &mut self,
        s: usize,
        stage: &Stage,
        sched: &StageSchedule,
        spatial: &[AxisId],
        reduction: &[AxisId],
        first: &str,
    ) -> Vec<Node> {
        self.lanes_used.insert(sched.rfactor);
        self.reductions_used.insert(sched.rfactor);
        if sched.accumulator == Accumulator::Memory {
            let point = self.point(s, stage, None, "");
            let body = self.point_by_point(s, stage, sched, reduction, first, &point);
            return self.constant_s3(s, spatial, 1, 0, body);
        }
        let mut offsets: Vec<Vec<usize>> = vec![Vec::new()];
        for &a in spatial {
            let f3 = sched.tiles[a.0][2];
            offsets = offsets.iter().flat_map(|p| (0..f3).map(move |o| [p.clone(), vec![o]].concat())).collect();
        }
        let points: Vec<Point> = offsets
            .iter()
            .enumerate()
            .map(|(n, offset)| self.point(s, stage, Some((spatial, offset)), &n.to_string()))
            .collect();
        let unroll = if sched.unroll > 0 { (sched.unroll / points.len().max(1)).max(1) } else { 0 };
        let mut nodes: Vec<Node> = points.iter().flat_map(|p| self.declare(s, stage, first, p)).collect();
        let guarded = self.masks_rfactor_axis(s, reduction);
        let vector: Vec<Node> =
            points.iter().map(|p| self.vector_update(s, stage, sched.rfactor, p, guarded)).collect();
        let tail: Vec<Node> = points.iter().map(|p| self.tail_update(s, stage, p, guarded)).collect();
        nodes.extend(self.rfactor_r1_loops(s, reduction, sched.rfactor, unroll, vector, tail));
        nodes.extend(points.iter().map(|p| self.finish(stage, sched.rfactor, p)));
        nodes
    }

    /// An edge tile: its points one after another in clamped `S3` loops.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rfactor_edge_tile(
        &mut self,
        s: usize,
        stage: &Stage,
        sched: &StageSchedule,
        spatial: &[AxisId],
        reduction: &[AxisId],
        first: &str,
        ranges: &[AxisRange],
    ) -> Vec<Node> {
        let point = self.point(s, stage, None, "");
        let mut body = self.point_by_point(s, stage, sched, reduction, first, &point);
        for &a in spatial.iter().rev() {
            let l = LoopLevel { axis: a, level: 3, section: Section::S3 };
            body = self.loop_over(s, l, ranges, body, None);
        }
        body
    }

    /// A point at `offset` from the `S2` tile's corner (`None`: at the `S3`
    /// loops' variables), its accumulators suffixed by `suffix`. Named by
    /// stage: stages placed in one loop share a C scope.
    fn point(&self, s: usize, stage: &Stage, offset: Option<(&[AxisId], &[usize])>, suffix: &str) -> Point {
        let axis_c = stage
            .axes
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if a.kind == AxisKind::Reduction {
                    return self.var(s, AxisId(i), 1);
                }
                let Some((spatial, offset)) = offset else { return self.var(s, AxisId(i), 3) };
                let q = spatial.iter().position(|&x| x.0 == i).map(|j| offset[j]).unwrap_or(0);
                let base = self.var(s, AxisId(i), 2);
                if q == 0 {
                    base
                } else {
                    format!("({base} + {q})")
                }
            })
            .collect();
        let name = self.stage_name(s);
        Point {
            axis_c,
            acc: super::ident(&format!("{name}_racc{suffix}")),
            vacc: super::ident(&format!("{name}_vacc{suffix}")),
        }
    }

    /// One point's declarations, `R1` loops and store.
    fn point_by_point(
        &self,
        s: usize,
        stage: &Stage,
        sched: &StageSchedule,
        reduction: &[AxisId],
        first: &str,
        point: &Point,
    ) -> Vec<Node> {
        let lanes = sched.rfactor;
        let mut nodes = self.declare(s, stage, first, point);
        let guarded = self.masks_rfactor_axis(s, reduction);
        let vector = vec![self.vector_update(s, stage, lanes, point, guarded)];
        let tail = vec![self.tail_update(s, stage, point, guarded)];
        nodes.extend(self.rfactor_r1_loops(s, reduction, lanes, sched.unroll, vector, tail));
        nodes.push(self.finish(stage, lanes, point));
        nodes
    }

    fn output_element(&self, stage: &Stage, point: &Point) -> String {
        let printer = self.printer(stage, point.axis_c.clone());
        format!("{}[{}]", c_ident(&self.program.buffer(stage.output).name), self.out_offset(stage, &printer))
    }

    /// The scalar accumulator (the output so far, or the combine's
    /// identity on the first `R0` step) and the vector of partials.
    fn declare(&self, s: usize, stage: &Stage, first: &str, point: &Point) -> Vec<Node> {
        let lanes = self.c.stages()[s].rfactor;
        let init = c_f32(stage.combine.init());
        let out = self.output_element(stage, point);
        vec![
            Node::Let { var: String::new(), value: format!("float {} = ({first}) ? {init} : {out};", point.acc) },
            Node::Let {
                var: String::new(),
                value: format!("colt_v{lanes} {} = colt_splat{lanes}({init});", point.vacc),
            },
        ]
    }

    /// The update of a point's vector of partials by `lanes` terms: the
    /// stage's body, or guarded by its mask where it iterates its kept
    /// points (`guarded`).
    fn vector_update(&self, s: usize, stage: &Stage, lanes: usize, point: &Point, guarded: bool) -> Node {
        // Legal only with a reduction axis (`check_rfactor`).
        let axis = rfactor_axis(stage).expect("an rfactor stage has a reduction axis");
        let printer = self.printer(stage, point.axis_c.clone());
        let body = if guarded { self.guarded_body(s) } else { self.bodies[s].clone() };
        let value = VectorPrinter { scalar: &printer, axis, lanes }.value(&body);
        let text = format!("{} = {};", point.vacc, accumulate(stage.combine, &point.vacc, &value, lanes));
        self.statement(s, text, lanes, 1, self.accesses_along(s, stage, lanes, Some(axis), false))
    }

    fn tail_update(&self, s: usize, stage: &Stage, point: &Point, guarded: bool) -> Node {
        let axis = rfactor_axis(stage);
        let body = if guarded { self.guarded_body(s) } else { self.bodies[s].clone() };
        let value = self.printer(stage, point.axis_c.clone()).value(&body);
        let text = format!("{} = {};", point.acc, accumulate(stage.combine, &point.acc, &value, 1));
        self.statement(s, text, 1, 1, self.accesses_along(s, stage, 1, axis, false))
    }

    /// The lanes reduced into the scalar accumulator, stored.
    fn finish(&self, stage: &Stage, lanes: usize, point: &Point) -> Node {
        let horizontal = match stage.combine {
            Combine::Max => format!("colt_hmax{lanes}({})", point.vacc),
            _ => format!("colt_hsum{lanes}({})", point.vacc),
        };
        let value = accumulate(stage.combine, &point.acc, &horizontal, 1);
        Node::Let { var: String::new(), value: format!("{} = {value};", self.output_element(stage, point)) }
    }

    /// The `R1` loops: the outer reduction axes' as usual, the innermost's
    /// split into a loop stepping by `lanes` around `vector` and, where the
    /// last `R0` tile leaves fewer than `lanes` points, a scalar loop
    /// around `tail`.
    fn rfactor_r1_loops(
        &self,
        s: usize,
        reduction: &[AxisId],
        lanes: usize,
        unroll: usize,
        vector: Vec<Node>,
        tail: Vec<Node>,
    ) -> Vec<Node> {
        let stage = self.stage(s);
        let ranges: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        // Legal only with a reduction axis (`check_rfactor`), the last one.
        let (&k, outer) = reduction.split_last().expect("an rfactor stage has a reduction axis");
        let mut body = if self.masks_rfactor_axis(s, reduction) {
            self.masked_split_r1(s, k, lanes, unroll, vector, tail)
        } else {
            self.split_r1(s, k, lanes, unroll, vector, tail)
        };
        for &a in outer.iter().rev() {
            body = self.loop_over(s, LoopLevel { axis: a, level: 1, section: Section::R1 }, &ranges, body, None);
        }
        body
    }

    fn split_r1(
        &self,
        s: usize,
        k: AxisId,
        lanes: usize,
        unroll: usize,
        vector: Vec<Node>,
        tail: Vec<Node>,
    ) -> Vec<Node> {
        let extent = self.stage(s).axis(k).extent;
        let r1 = self.c.stages()[s].tiles[k.0][0];
        let lo = self.var(s, k, 0);
        let var = self.var(s, k, 1);
        // A constant trip count where `r1` divides the extent, so that the
        // compiler can unroll and pipeline the vector loop.
        let hi = if r1 >= extent {
            extent.to_string()
        } else if extent.is_multiple_of(r1) {
            format!("{lo} + {r1}")
        } else {
            format!("colt_minl({lo} + {r1}, {extent})")
        };
        // `r1` is a multiple of the lanes (`check_rfactor`): only the last
        // `R0` tile, of `extent % r1` points, can leave a tail.
        let tail_len = extent % r1 % lanes;
        let trips = r1 / lanes;
        if tail_len == 0 && trips == 1 {
            let mut nodes = vec![Node::Let { var, value: lo }];
            nodes.extend(vector);
            return nodes;
        }
        let split = super::ident(&format!("{}_split", var));
        let vector_end = if tail_len == 0 { hi.clone() } else { split.clone() };
        let vector_loop = Node::Loop(Loop {
            var: var.clone(),
            start: lo.clone(),
            end: vector_end,
            step: lanes,
            kind: LoopKind::Serial,
            trips,
            unroll: Some(unroll.min(trips)).filter(|&u| u >= 2),
            body: vector,
        });
        if tail_len == 0 {
            return vec![vector_loop];
        }
        let tail_loop = Node::Loop(Loop {
            var,
            start: split.clone(),
            end: hi.clone(),
            step: 1,
            kind: LoopKind::Serial,
            trips: tail_len,
            unroll: None,
            body: tail,
        });
        vec![
            Node::Let { var: split.clone(), value: format!("{lo} + ({hi} - {lo}) / {lanes} * {lanes}") },
            vector_loop,
            // Taken on the last R0 step only.
            Node::If {
                cond: format!("{split} < {hi}"),
                then: vec![tail_loop],
                otherwise: Vec::new(),
                then_share: 1.0 / extent.div_ceil(r1) as f64,
            },
        ]
    }
    /// Whether stage `s` iterates its kept points with its vectorised
    /// reduction axis (the last) clamped by its mask: its `R1` loop then
    /// covers the kept points only, and every term is guarded.
    fn masks_rfactor_axis(&self, s: usize, reduction: &[AxisId]) -> bool {
        reduction.last().is_some_and(|&k| self.is_clamped(s, LoopLevel { axis: k, level: 1, section: Section::R1 }))
    }

    /// The `R1` loop over the vectorised axis `k` of a stage that iterates
    /// its kept points: clamped to the points some point of the register
    /// tile keeps (`masked::clamp`), in vectors from the lanes-aligned
    /// block where they start to the end rounded up to whole vectors, or
    /// where the `R0` tile ends, a scalar loop for the fewer than `lanes`
    /// points left. Every term is guarded by the mask (`guarded_body`), so the
    /// points of the first and last vectors that the mask drops, and the
    /// elements there that no stage wrote, add the reduction's identity.
    fn masked_split_r1(
        &self,
        s: usize,
        k: AxisId,
        lanes: usize,
        unroll: usize,
        vector: Vec<Node>,
        tail: Vec<Node>,
    ) -> Vec<Node> {
        let stage = self.stage(s);
        let extent = stage.axis(k).extent;
        let r1 = self.c.stages()[s].tiles[k.0][0];
        let lo = self.var(s, k, 0);
        let var = self.var(s, k, 1);
        let hi = if r1 >= extent { extent.to_string() } else { format!("colt_minl({lo} + {r1}, {extent})") };
        let full: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        let l = LoopLevel { axis: k, level: 1, section: Section::R1 };
        let trips = r1.min(extent) / lanes;
        let bounds = super::masked::Clamped { start: lo.clone(), end: hi.clone(), trips };
        let clamped = self.clamp(s, l, &full, bounds, 1);
        let start = super::ident(&format!("{var}_vstart"));
        let end = super::ident(&format!("{var}_end"));
        let split = super::ident(&format!("{var}_split"));
        let vector_loop = Node::Loop(Loop {
            var: var.clone(),
            start: start.clone(),
            end: split.clone(),
            step: lanes,
            kind: LoopKind::Serial,
            trips: clamped.trips.max(1),
            unroll: Some(unroll.min(trips)).filter(|&u| u >= 2),
            body: vector,
        });
        let tail_loop = Node::Loop(Loop {
            var,
            start: split.clone(),
            end: end.clone(),
            step: 1,
            kind: LoopKind::Serial,
            trips: lanes / 2,
            unroll: None,
            body: tail,
        });
        vec![
            Node::Let { var: start.clone(), value: format!("{lo} + (({}) - {lo}) / {lanes} * {lanes}", clamped.start) },
            Node::Let { var: end.clone(), value: clamped.end },
            // Whole vectors up to the end rounded up, where the tile's
            // points reach that far (the guard drops the rest).
            Node::Let {
                var: split,
                value: format!(
                    "{start} + colt_minl(colt_maxl(0, {end} - {start} + {up}) / {lanes}, ({hi} - {start}) / {lanes}) * {lanes}",
                    up = lanes - 1
                ),
            },
            vector_loop,
            tail_loop,
        ]
    }
}
