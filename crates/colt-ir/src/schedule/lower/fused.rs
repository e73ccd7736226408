//! The register tile of a leader with fused siblings and an epilogue (see
//! `schedule::fusion` for the rules): the accumulators of every fused
//! reduction side by side, one `R1` loop updating them all from one read of
//! the shared operands, the epilogue computed on them after the last `R0`
//! step, and only the outputs that something else reads stored. Edge tiles
//! and memory accumulators compute the fused stages one after another in
//! memory and the epilogue from memory.

use super::{AxisRange, Lowering};
use crate::c::{accumulate, c_f32, c_ident, ExprPrinter};
use crate::expr::{AxisId, BufferId, Load};
use crate::loopnest::{Node, Statement};
use crate::program::AxisKind;
use crate::schedule::analysis::{tile_sizes, LoopLevel, Section};
use crate::schedule::sketch::loads;
use crate::schedule::{fusion, Accumulator};
use crate::vector::VectorPrinter;

/// What the loops around an epilogue's statement are: the constant `S3`
/// loops of a full tile (with its lanes) or the clamped scalar ones of an
/// edge tile.
#[derive(Clone, Copy)]
enum TileKind {
    Full { lanes: usize },
    Edge,
}

/// `nodes` in a C scope of their own: the fused stages' loops that iterate
/// once bind the same names (the leader's) one after another.
fn scope(nodes: Vec<Node>) -> Node {
    Node::If { cond: "1".to_string(), then: nodes, otherwise: Vec::new(), then_share: 1.0 }
}

impl Lowering<'_> {
    /// The tile of leader `s` and the stages fused with it.
    pub(super) fn fused_tile(&mut self, s: usize, ranges: &[AxisRange]) -> Vec<Node> {
        let stages = self.c.stages();
        let reducing: Vec<usize> = std::iter::once(s).chain(fusion::siblings(stages, s)).collect();
        let epilogue = fusion::epilogue(stages, s);
        let sched = stages[s].clone();
        let stage = self.stage(s).clone();
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let reduction: Vec<AxisId> = stage.reduction_axes().map(|(id, _)| id).collect();
        let (full, then_share) = self.full_tile_test(s, &spatial, ranges);
        let first = self.first_step(s, &reduction);
        let last = self.last_step(s, &reduction);
        let fast = if sched.accumulator == Accumulator::Registers {
            self.fused_register_tile(&reducing, epilogue, &spatial, &reduction, &first, &last)
        } else {
            let mut nodes = Vec::new();
            for &x in &reducing {
                let (stage_x, sched_x) = (self.stage(x).clone(), self.c.stages()[x].clone());
                nodes.push(scope(self.fast_tile(x, &stage_x, &sched_x, &spatial, &reduction, &first)));
            }
            let kind = TileKind::Full { lanes: sched.vector };
            nodes.push(scope(self.epilogue_from_memory(s, epilogue, &last, kind, ranges)));
            nodes
        };
        if full.is_empty() {
            return fast;
        }
        let mut edge = Vec::new();
        for &x in &reducing {
            let stage_x = self.stage(x).clone();
            edge.push(scope(self.edge_tile(x, &stage_x, &spatial, &reduction, &first, ranges)));
        }
        edge.push(scope(self.epilogue_from_memory(s, epilogue, &last, TileKind::Edge, ranges)));
        vec![Node::If { cond: full, then: fast, otherwise: edge, then_share }]
    }

    /// The C test that an `R0` step of stage `s` is the last of its
    /// reduction (`1` when there is one step).
    fn last_step(&self, s: usize, reduction: &[AxisId]) -> String {
        let stage = self.stage(s);
        let tiles = &self.c.stages()[s].tiles;
        let tests: Vec<String> = reduction
            .iter()
            .filter_map(|&k| {
                let step = tile_sizes(&tiles[k.0])[0];
                let extent = stage.axis(k).extent;
                (step < extent).then(|| format!("{} + {step} >= {extent}", self.var(s, k, 0)))
            })
            .collect();
        if tests.is_empty() {
            "1".to_string()
        } else {
            tests.join(" && ")
        }
    }

    /// The register tile of the fused reductions `reducing` (leader first).
    fn fused_register_tile(
        &mut self,
        reducing: &[usize],
        epilogue: Option<usize>,
        spatial: &[AxisId],
        reduction: &[AxisId],
        first: &str,
        last: &str,
    ) -> Vec<Node> {
        let s = reducing[0];
        let sched = self.c.stages()[s].clone();
        let lanes = sched.vector;
        if lanes > 1 {
            self.lanes_used.insert(lanes);
        }
        let points = self.register_points(s, spatial, lanes);
        let ty = if lanes > 1 { format!("colt_v{lanes}") } else { "float".to_string() };
        let acc = |this: &Self, x: usize, n: usize| super::ident(&format!("{}_acc{n}", this.stage_name(x)));
        let leader_loads: Vec<Load> = loads(&self.bodies[s]).into_iter().cloned().collect();
        let mut before = Vec::new();
        let mut updates = Vec::new();
        let mut stores: Vec<(usize, Node)> = Vec::new();
        for (n, p) in points.iter().enumerate() {
            let axis_c = self.point_c(s, spatial, p);
            for &x in reducing {
                let stage = self.stage(x).clone();
                let printer = self.printer(&stage, axis_c.clone());
                let offset = self.out_offset(&stage, &printer);
                let value = match spatial.last() {
                    Some(&v) if lanes > 1 => VectorPrinter { scalar: &printer, axis: v, lanes }.value(&self.bodies[x]),
                    _ => printer.value(&self.bodies[x]),
                };
                let out = c_ident(&self.program.buffer(stage.output).name);
                let (load, store) = if lanes > 1 {
                    (format!("colt_vload{lanes}(&{out}[{offset}])"), format!("colt_vstore{lanes}(&{out}[{offset}], "))
                } else {
                    (format!("{out}[{offset}]"), format!("{out}[{offset}] = ("))
                };
                let init = c_f32(stage.combine.init());
                let init = if lanes > 1 { format!("colt_splat{lanes}({init})") } else { init };
                let a = acc(self, x, n);
                before
                    .push(Node::Let { var: String::new(), value: format!("{ty} {a} = ({first}) ? {init} : {load};") });
                // The shared operands (X) are read once per step: the
                // leader's statement counts them, a sibling's does not.
                let shared: &[Load] = if x == s { &[] } else { &leader_loads };
                let accesses = self.accesses_except(x, &stage, lanes, false, shared);
                let update = format!("{a} = {};", accumulate(stage.combine, &a, &value, lanes));
                updates.push(self.statement(x, update, lanes, 1, accesses));
                stores.push((x, Node::Let { var: String::new(), value: format!("{store}{a});") }));
            }
        }
        let copies = points.len() * reducing.len();
        let unroll = if sched.unroll > 0 { (sched.unroll / copies.max(1)).max(1) } else { 0 };
        let mut nodes = before;
        nodes.extend(self.plain_r1_loops(s, reduction, unroll, updates));
        let Some(e) = epilogue else {
            nodes.extend(stores.into_iter().map(|(_, n)| n));
            return nodes;
        };
        let mut finished = Vec::new();
        for (n, p) in points.iter().enumerate() {
            let held: Vec<(BufferId, String)> =
                reducing.iter().map(|&x| (self.stage(x).output, acc(self, x, n))).collect();
            let axis_c = self.point_c(s, spatial, p);
            finished.push(self.epilogue_statement(s, e, axis_c, lanes, &held));
        }
        let kept = |x: usize| fusion::keeps_store(self.program, self.c.sketch(), self.c.bodies(), self.c.stages(), x);
        let (kept_stores, _): (Vec<_>, Vec<_>) = stores.iter().cloned().partition(|(x, _)| kept(*x));
        finished.extend(kept_stores.into_iter().map(|(_, n)| n));
        if last == "1" {
            nodes.extend(finished);
        } else {
            let partial: Vec<Node> = stores.into_iter().map(|(_, n)| n).collect();
            nodes.push(Node::If {
                cond: last.to_string(),
                then: finished,
                otherwise: partial,
                then_share: self.first_share(s),
            });
        }
        nodes
    }

    /// The offsets of a register tile's points from the tile's corner, one
    /// per accumulator: every `S3` point, the last axis stepping by `lanes`.
    fn register_points(&self, s: usize, spatial: &[AxisId], lanes: usize) -> Vec<Vec<usize>> {
        let tiles = &self.c.stages()[s].tiles;
        let mut points: Vec<Vec<usize>> = vec![Vec::new()];
        for (i, &a) in spatial.iter().enumerate() {
            let step = if i + 1 == spatial.len() { lanes } else { 1 };
            let offsets: Vec<usize> = (0..tiles[a.0][2]).step_by(step).collect();
            points = points.iter().flat_map(|p| offsets.iter().map(move |&o| [p.clone(), vec![o]].concat())).collect();
        }
        points
    }

    /// Every axis of stage `s` in C at a register-tile point `p`: the `S2`
    /// corner plus the point's offset, `k1` for reduction axes.
    fn point_c(&self, s: usize, spatial: &[AxisId], p: &[usize]) -> Vec<String> {
        let stage = self.stage(s);
        (0..stage.axes.len())
            .map(|i| {
                if stage.axes[i].kind == AxisKind::Reduction {
                    return self.var(s, AxisId(i), 1);
                }
                let q = spatial.iter().position(|&x| x.0 == i).map(|j| p[j]).unwrap_or(0);
                let base = self.var(s, AxisId(i), 2);
                if q == 0 {
                    base
                } else {
                    format!("({base} + {q})")
                }
            })
            .collect()
    }

    /// The epilogue `e`'s store at one point, given the leader's axes in C
    /// there (`e`'s axis `j` is the leader's spatial axis `j`) and the
    /// buffers held in variables.
    fn epilogue_statement(
        &self,
        leader: usize,
        e: usize,
        leader_axis_c: Vec<String>,
        lanes: usize,
        held: &[(BufferId, String)],
    ) -> Node {
        let spatial: Vec<AxisId> = self.stage(leader).spatial_axes().map(|(id, _)| id).collect();
        let stage = self.stage(e).clone();
        let axis_c: Vec<String> = spatial.iter().map(|a| leader_axis_c[a.0].clone()).collect();
        let printer = ExprPrinter {
            program: self.program,
            axis_c,
            axis_range: stage.axes.iter().map(|a| (0, a.extent as i64 - 1)).collect(),
            staged: &self.staged,
            held,
        };
        let offset = self.out_offset(&stage, &printer);
        let out = c_ident(&self.program.buffer(stage.output).name);
        let text = match stage.axes.len().checked_sub(1) {
            Some(v) if lanes > 1 => {
                let value = VectorPrinter { scalar: &printer, axis: AxisId(v), lanes }.value(&self.bodies[e]);
                format!("colt_vstore{lanes}(&{out}[{offset}], {value});")
            }
            _ => format!("{out}[{offset}] = {};", printer.value(&self.bodies[e])),
        };
        let accesses = if held.is_empty() {
            self.accesses(e, &stage, lanes, false)
        } else {
            // The epilogue reads registers: only its store touches memory.
            self.accesses(e, &stage, lanes, false).into_iter().filter(|a| a.write).collect()
        };
        let flops = super::arith_count(&self.bodies[e]) * lanes;
        Node::Stmt(Statement { text, stage: e, flops, lanes, accesses })
    }

    /// The epilogue of leader `s` read from the fused stages' outputs in
    /// memory, over a full or an edge tile, after the last `R0` step.
    fn epilogue_from_memory(
        &self,
        s: usize,
        epilogue: Option<usize>,
        last: &str,
        kind: TileKind,
        ranges: &[AxisRange],
    ) -> Vec<Node> {
        let Some(e) = epilogue else { return Vec::new() };
        let stage = self.stage(s);
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let axis_c: Vec<String> = (0..stage.axes.len()).map(|i| self.var(s, AxisId(i), 3)).collect();
        let body = match kind {
            TileKind::Full { lanes } => {
                let stmt = self.epilogue_statement(s, e, axis_c, lanes, &[]);
                self.constant_s3(s, &spatial, lanes, 0, vec![stmt])
            }
            TileKind::Edge => {
                let mut body = vec![self.epilogue_statement(s, e, axis_c, 1, &[])];
                for &a in spatial.iter().rev() {
                    let l = LoopLevel { axis: a, level: 3, section: Section::S3 };
                    body = self.loop_over(s, l, ranges, body, None);
                }
                body
            }
        };
        if last == "1" {
            return body;
        }
        vec![Node::If { cond: last.to_string(), then: body, otherwise: Vec::new(), then_share: self.first_share(s) }]
    }
}
