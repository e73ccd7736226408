//! Lowering a candidate to its loop nest (see the `schedule` module docs
//! for the loop structure, and `analysis` for compute-at): here the phases
//! and their loops down to each stage's `S2` loops (fused parallel loops,
//! the regions of stages computed at a loop); `tile` the register tile
//! inside them; `pack` the phases that copy operands into packed layouts;
//! `opencl` the same for OpenCL, one kernel per phase.

use super::analysis::{loop_order, tile_sizes, LoopLevel, Section};
use super::pack::{packed_view, PackPlan};
use super::{Candidate, Group, Member, Placement, Target};
use crate::c::{buffer_bindings, c_ident, StagedLoad};
use crate::expr::{AxisId, Cond, Expr};
use crate::loopnest::{Loop, LoopKind, LoopNest, Node};
use crate::program::{Program, Stage};
use crate::vector::{reduction_prelude, vector_prelude};
use std::collections::{BTreeMap, BTreeSet};

mod fused;
mod masked;
mod opencl;
mod pack;
mod rfactor;
mod tile;

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
    /// The lanes of vectorised reductions, whose horizontal reductions the
    /// prelude declares.
    reductions_used: BTreeSet<usize>,
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
    let mut lowering = Lowering {
        c,
        program,
        bodies: view.bodies.clone(),
        lanes_used: BTreeSet::new(),
        reductions_used: BTreeSet::new(),
        staged: Vec::new(),
    };
    let mut body = Vec::new();
    for (i, group) in c.groups().iter().enumerate() {
        if i > 0 {
            body.push(Node::Barrier);
        }
        let stages: Vec<usize> = group
            .members
            .iter()
            .map(|m| m.stage)
            .chain([group.root])
            .flat_map(|s| super::fusion::fused_set(c.stages(), s))
            .collect();
        let plans: Vec<&PackPlan> = view.plans.iter().filter(|p| stages.contains(&p.stage)).collect();
        if !plans.is_empty() {
            for plan in plans {
                body.extend(lowering.pack(plan));
            }
            body.push(Node::Barrier);
        }
        body.extend(lowering.group(group));
    }
    let mut prelude: String = lowering.lanes_used.iter().map(|&l| vector_prelude(l)).collect();
    prelude.extend(lowering.reductions_used.iter().map(|&l| reduction_prelude(l)));
    if c.stages().iter().any(|s| s.iterate == super::Iterate::Kept) {
        prelude.push_str(masked::MAXL_PRELUDE);
    }
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

/// The flops a program does when every stage is computed once: what the
/// lowered statements count (`arith_count` of each stage's own body, plus
/// the combine of a reduction) over each stage's iteration domain. Lowered
/// nests count more where a stage is inlined or computed at another and so
/// recomputed; the ratio is the cost model's recomputation feature.
pub(crate) fn intrinsic_flops(program: &Program) -> f64 {
    program
        .stages()
        .iter()
        .map(|stage| {
            let combine = usize::from(stage.reduction_axes().next().is_some());
            (arith_count(&stage.body) + combine) as f64 * stage.domain_size() as f64
        })
        .sum()
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

    /// The C variable of stage `s`'s loop over `axis` at `level`; a fused
    /// sibling's loops are its leader's (its axes are the leader's).
    fn var(&self, s: usize, axis: AxisId, level: usize) -> String {
        let s = match self.c.stages()[s].fused {
            Some(super::Fusion::Sibling { leader }) => leader,
            _ => s,
        };
        ident(&format!("{}_{}{}", self.stage_name(s), self.stage(s).axis(axis).name, level))
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
        let (start, end, trips) = if self.is_clamped(s, l) {
            let bounds = masked::Clamped { start: parent, end, trips };
            let clamped = self.clamp(s, l, ranges, bounds, sizes[l.level]);
            (clamped.start, clamped.end, clamped.trips)
        } else {
            (parent, end, trips)
        };
        vec![Node::Loop(Loop {
            var,
            start,
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
}
