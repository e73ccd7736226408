//! Lowering an OpenCL candidate (see `schedule::opencl` for what its
//! decisions mean): one work-group loop per phase, each a kernel; inside,
//! the work-item loop, the members computed cooperatively, the `R0` loops
//! with the local-memory copies, and each work-item's `S2` loops and
//! register tile exactly as on the CPU.

use super::{arith_count, ident, AxisRange, Lowering};
use crate::c::{accumulate, c_f32, c_ident, StagedLoad};
use crate::expr::{AxisId, IndexExpr};
use crate::loopnest::{Access, Loop, LoopKind, LoopNest, Node, Statement};
use crate::program::Combine;
use crate::schedule::analysis::{loop_order, tile_sizes, Section};
use crate::schedule::opencl::{local_regions, work_group_size, work_groups, LocalRegion};
use crate::schedule::{Candidate, Group, Member, Target};
use crate::vector::opencl_vector_prelude;
use std::collections::BTreeSet;

const GROUP: &str = "colt_group";
const ITEM: &str = "colt_item";

pub(super) fn lower_opencl(c: &Candidate) -> LoopNest {
    let program = c.program();
    let mut lowering = Lowering {
        c,
        program,
        bodies: c.bodies().to_vec(),
        lanes_used: BTreeSet::new(),
        reductions_used: BTreeSet::new(),
        staged: Vec::new(),
    };
    let mut body = Vec::new();
    for (i, group) in c.groups().iter().enumerate() {
        if i > 0 {
            body.push(Node::Barrier);
        }
        let mut names: Vec<String> = group.members.iter().map(|m| lowering.stage_name(m.stage)).collect();
        names.push(lowering.stage_name(group.root));
        body.push(Node::Comment(format!("phase: {}", names.join(" -> "))));
        body.push(lowering.kernel(group));
    }
    let prelude: String = lowering.lanes_used.iter().map(|&l| opencl_vector_prelude(l)).collect();
    LoopNest {
        name: program.name().to_string(),
        prelude,
        bindings: crate::opencl::kernel_params(program),
        scratch: Vec::new(),
        body,
        target: Target::OpenCl,
    }
}

impl Lowering<'_> {
    /// One phase as a work-group loop (a kernel).
    fn kernel(&mut self, g: &Group) -> Node {
        let c = self.c;
        let r = g.root;
        let stage = self.stage(r).clone();
        let sched = c.stages()[r].clone();
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let items = work_group_size(&stage, &sched);
        let groups = work_groups(&stage, &sched);
        // `Candidate::check` ran `local_regions` on every root stage (a
        // candidate exists only once it passed), so this cannot fail.
        let regions = local_regions(c.program(), r, &c.bodies()[r], &sched).unwrap_or_default();

        let mut group_body = Vec::new();
        let arrays: Vec<String> = regions
            .iter()
            .map(|region| ident(&format!("{}_local_{}", self.stage_name(r), self.program.buffer(region.buffer).name)))
            .collect();
        for (array, region) in arrays.iter().zip(&regions) {
            group_body
                .push(Node::Let { var: String::new(), value: format!("__local float {array}[{}];", region.floats()) });
        }
        let mut lets = Vec::new();
        let mut inner = 1;
        for &a in spatial.iter().rev() {
            let size = tile_sizes(&sched.tiles[a.0])[0];
            let count = stage.axis(a).extent.div_ceil(size);
            lets.push(Node::Let { var: self.var(r, a, 0), value: format!("{GROUP} / {inner} % {count} * {size}") });
            inner *= count;
        }
        lets.reverse();
        group_body.extend(lets);

        let mut item_body = Vec::new();
        let mut lets = Vec::new();
        let mut inner = 1;
        for &a in spatial.iter().rev() {
            let sizes = tile_sizes(&sched.tiles[a.0]);
            let f1 = sched.tiles[a.0][0];
            let value = format!("{} + {ITEM} / {inner} % {f1} * {}", self.var(r, a, 0), sizes[1]);
            lets.push(Node::Let { var: self.var(r, a, 1), value });
            inner *= f1;
        }
        lets.reverse();
        item_body.extend(lets);
        for m in &g.members {
            item_body.extend(self.cooperative_member(m, r, items));
            item_body.push(Node::GroupBarrier);
        }

        // The work-item's own loops, reading the staged copies.
        let order = loop_order(&stage);
        let ranges: Vec<AxisRange> =
            stage.axes.iter().map(|a| AxisRange { lo: "0".into(), hi: a.extent.to_string(), len: a.extent }).collect();
        self.staged = arrays.iter().zip(&regions).map(|(array, region)| self.staged_load(r, array, region)).collect();
        let s2 = order.iter().position(|l| l.section == Section::S2).unwrap_or(order.len());
        let mut compute = self.s2_and_tile(r, &order, s2, &ranges);
        self.staged.clear();
        // Work-items past the end of an axis whose group tiles overhang it
        // still reach every barrier, but compute nothing.
        let mut guards = Vec::new();
        let mut share = 1.0;
        for &a in &spatial {
            let extent = stage.axis(a).extent;
            let size = tile_sizes(&sched.tiles[a.0])[0];
            if !extent.is_multiple_of(size) {
                guards.push(format!("{} < {extent}", self.var(r, a, 1)));
                share *= extent as f64 / (extent.div_ceil(size) * size) as f64;
            }
        }
        if !guards.is_empty() {
            compute =
                vec![Node::If { cond: guards.join(" && "), then: compute, otherwise: Vec::new(), then_share: share }];
        }
        let mut step = Vec::new();
        for (array, region) in arrays.iter().zip(&regions) {
            step.extend(self.copy_to_local(r, array, region, items));
        }
        let staging = !regions.is_empty();
        if staging {
            step.push(Node::GroupBarrier);
        }
        step.extend(compute);
        let r0: Vec<_> = order.iter().filter(|l| l.section == Section::R0).copied().collect();
        if staging && !r0.is_empty() {
            // The next step's copies overwrite what this one reads.
            step.push(Node::GroupBarrier);
        }
        for &l in r0.iter().rev() {
            step = self.loop_over(r, l, &ranges, step, None);
        }
        item_body.extend(step);

        group_body.push(Node::Loop(Loop {
            var: ITEM.into(),
            start: "0".into(),
            end: items.to_string(),
            step: 1,
            kind: LoopKind::Items,
            trips: items,
            unroll: None,
            body: item_body,
        }));
        Node::Loop(Loop {
            var: GROUP.into(),
            start: "0".into(),
            end: groups.to_string(),
            step: 1,
            kind: LoopKind::Groups,
            trips: groups,
            unroll: None,
            body: group_body,
        })
    }

    /// Each axis's base: the group tile's start (spatial) or the `R0`
    /// step's (reduction).
    fn staged_load(&self, r: usize, array: &str, region: &LocalRegion) -> StagedLoad {
        let stage = self.stage(r);
        let strides = region_strides(region);
        StagedLoad {
            buffer: region.buffer,
            array: array.to_string(),
            dims: region.dims.iter().zip(strides).map(|(d, stride)| (stride, d.terms.clone())).collect(),
            base: (0..stage.axes.len()).map(|a| self.var(r, AxisId(a), 0)).collect(),
        }
    }

    /// The group's work-items copy the region, padding included, element
    /// by element.
    fn copy_to_local(&self, r: usize, array: &str, region: &LocalRegion, items: usize) -> Vec<Node> {
        let source = self.program.buffer(region.buffer);
        let floats = region.floats();
        let strides = region_strides(region);
        let mut body = Vec::new();
        let mut index = Vec::new();
        let mut checks = Vec::new();
        for (d, (dim, stride)) in region.dims.iter().zip(&strides).enumerate() {
            let mut first = vec![format!("{}L", dim.constant)];
            first.extend(dim.terms.iter().map(|&(a, k)| format!("{} * {k}L", self.var(r, a, 0))));
            let var = format!("colt_g{d}");
            body.push(Node::Let {
                var: var.clone(),
                value: format!("{} + colt_p / {stride} % {}", first.join(" + "), dim.len),
            });
            checks.push(format!("{var} >= 0 && {var} < {}", source.shape[d]));
            index.push(var);
        }
        let offset: Vec<String> = index.iter().zip(source.strides()).map(|(v, s)| format!("{v} * {s}L")).collect();
        let offset = if offset.is_empty() { "0".to_string() } else { offset.join(" + ") };
        let read = format!("{}[{offset}]", c_ident(&source.name));
        let value = if checks.is_empty() {
            read
        } else {
            format!("({}) ? {read} : {}", checks.join(" && "), c_f32(region.pad))
        };
        body.push(Node::Stmt(Statement {
            text: format!("{array}[colt_p] = {value};"),
            stage: r,
            flops: 0,
            lanes: 1,
            accesses: vec![Access { buffer: region.buffer.0, write: false, elements: 1, stride: None }],
        }));
        vec![
            Node::Comment(format!("stage {} in local memory as {array}[{floats}]", source.name)),
            Node::Loop(Loop {
                var: "colt_p".into(),
                start: ITEM.into(),
                end: floats.to_string(),
                step: items,
                kind: LoopKind::Serial,
                trips: floats.div_ceil(items),
                unroll: None,
                body,
            }),
        ]
    }

    /// A member computed in its root's kernel on the region the work-group
    /// needs: its points spread over the work-items, each computed whole.
    fn cooperative_member(&self, m: &Member, root: usize, items: usize) -> Vec<Node> {
        let (mut nodes, ranges) = self.member_region(m, m.loop_index, root);
        let s = m.stage;
        let stage = self.stage(s).clone();
        let name = self.stage_name(s);
        let vars: Vec<String> = stage.axes.iter().map(|a| ident(&format!("{name}_{}", a.name))).collect();
        let spatial: Vec<AxisId> = stage.spatial_axes().map(|(id, _)| id).collect();
        let points: usize = spatial.iter().map(|a| ranges[a.0].len).product();
        let mut body = Vec::new();
        let mut guards = Vec::new();
        let mut inner = 1;
        let mut lets = Vec::new();
        for &a in spatial.iter().rev() {
            let range = &ranges[a.0];
            let lo = if range.lo == "0" { String::new() } else { format!("{} + ", range.lo) };
            lets.push(Node::Let { var: vars[a.0].clone(), value: format!("{lo}colt_q / {inner} % {}", range.len) });
            if range.hi != stage.axis(a).extent.to_string() || range.len != stage.axis(a).extent {
                guards.push(format!("{} < {}", vars[a.0], range.hi));
            }
            inner *= range.len;
        }
        lets.reverse();
        body.extend(lets);
        let printer = self.printer(&stage, vars.clone());
        let out_index: Vec<IndexExpr> = spatial.iter().map(|&a| IndexExpr::Axis(a)).collect();
        let target = format!(
            "{}[{}]",
            c_ident(&self.program.buffer(stage.output).name),
            printer.offset(stage.output, &out_index)
        );
        let value = printer.value(&self.bodies[s]);
        let mut accesses = Vec::new();
        self.bodies[s].for_each_load(&mut |l| {
            accesses.push(Access { buffer: l.buffer.0, write: false, elements: 1, stride: None });
        });
        accesses.push(Access { buffer: stage.output.0, write: true, elements: 1, stride: Some(1) });
        let point = if stage.combine == Combine::Assign {
            vec![Node::Stmt(Statement {
                text: format!("{target} = {value};"),
                stage: s,
                flops: arith_count(&self.bodies[s]),
                lanes: 1,
                accesses,
            })]
        } else {
            let mut update = vec![Node::Stmt(Statement {
                text: format!("colt_acc = {};", accumulate(stage.combine, "colt_acc", &value, 1)),
                stage: s,
                flops: arith_count(&self.bodies[s]) + 1,
                lanes: 1,
                accesses,
            })];
            for (k, axis) in stage.reduction_axes().collect::<Vec<_>>().into_iter().rev() {
                update = vec![Node::Loop(Loop {
                    var: vars[k.0].clone(),
                    start: "0".into(),
                    end: axis.extent.to_string(),
                    step: 1,
                    kind: LoopKind::Serial,
                    trips: axis.extent,
                    unroll: None,
                    body: update,
                })];
            }
            let mut point = vec![Node::Let {
                var: String::new(),
                value: format!("float colt_acc = {};", c_f32(stage.combine.init())),
            }];
            point.extend(update);
            point.push(Node::Let { var: String::new(), value: format!("{target} = colt_acc;") });
            point
        };
        if guards.is_empty() {
            body.extend(point);
        } else {
            body.push(Node::If { cond: guards.join(" && "), then: point, otherwise: Vec::new(), then_share: 1.0 });
        }
        nodes.push(Node::Loop(Loop {
            var: "colt_q".into(),
            start: ITEM.into(),
            end: points.to_string(),
            step: items,
            kind: LoopKind::Serial,
            trips: points.div_ceil(items),
            unroll: None,
            body,
        }));
        nodes
    }
}

/// Row-major strides of a region's copy.
fn region_strides(region: &LocalRegion) -> Vec<usize> {
    let mut strides = vec![1; region.dims.len()];
    for d in (0..region.dims.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * region.dims[d + 1].len;
    }
    strides
}
