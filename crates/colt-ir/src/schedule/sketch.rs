//! Sketches: the structural choices made by rules before any decision.
//!
//! Two rules, after MetaSchedule's `AutoInline` and `MultiLevelTiling`:
//! - an elementwise temporary whose every read is unpadded may be inlined
//!   into its consumers (the sketch enumerates the subsets, up to 16 of
//!   them; beyond that only "all" and "none");
//! - a reduction whose body multiplies loads, one of which does not depend
//!   on every spatial axis (so tiles reuse data), gets multi-level tiling;
//!   every other stage gets the simple rule.

use crate::expr::{Cond, Expr, IndexExpr, Load};
use crate::program::{BufferRole, Combine, Program, Stage};

/// The structure rules chose for one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageRule {
    /// `S S R S R S` with every tile level free.
    MultiLevelTiling,
    /// Only the register tile (`f3`) and the inner reduction factor (`r1`)
    /// are free; the middle levels are 1.
    Simple,
    /// Substituted into its consumers: no loops of its own.
    Inlined,
}

/// One structural schedule of a program: a rule per stage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sketch {
    pub rules: Vec<StageRule>,
}

impl Sketch {
    /// A short name: `inline(S,E)` or `inline()`.
    pub fn name(&self, program: &Program) -> String {
        let inlined: Vec<&str> = program
            .stages()
            .iter()
            .zip(&self.rules)
            .filter(|(_, r)| **r == StageRule::Inlined)
            .map(|(s, _)| program.stage_name(s))
            .collect();
        format!("inline({})", inlined.join(","))
    }

    pub fn is_inlined(&self, stage: usize) -> bool {
        self.rules[stage] == StageRule::Inlined
    }
}

/// Whether stage `s` may be inlined: an elementwise temporary that some
/// later stage reads, never through a padded load (padding would need a
/// bounds check around the substituted body, which vector code cannot
/// evaluate lazily).
pub fn inlinable(program: &Program, s: usize) -> bool {
    let stage = &program.stages()[s];
    if stage.combine != Combine::Assign || program.buffer(stage.output).role != BufferRole::Temp {
        return false;
    }
    let mut read = false;
    let mut padded = false;
    for consumer in &program.stages()[s + 1..] {
        consumer.body.for_each_load(&mut |l| {
            if l.buffer == stage.output {
                read = true;
                padded |= l.pad.is_some();
            }
        });
    }
    read && !padded
}

fn tiling_rule(stage: &Stage) -> StageRule {
    if stage.combine == Combine::Assign || stage.reduction_axes().next().is_none() {
        return StageRule::Simple;
    }
    let Expr::Binary(crate::expr::BinaryOp::Mul, _, _) = &stage.body else { return StageRule::Simple };
    let spatial: Vec<_> = stage.spatial_axes().map(|(id, _)| id).collect();
    let mut reuse = false;
    stage.body.for_each_load(&mut |l| {
        reuse |= spatial.iter().any(|a| !l.index.iter().any(|e| e.mentions(a)));
    });
    if reuse {
        StageRule::MultiLevelTiling
    } else {
        StageRule::Simple
    }
}

fn has_transcendental(e: &Expr) -> bool {
    use crate::expr::{BinaryOp, UnaryOp};
    match e {
        Expr::Const(_) | Expr::Load(_) => false,
        Expr::Unary(op, a) => matches!(op, UnaryOp::Exp | UnaryOp::Sqrt) || has_transcendental(a),
        Expr::Binary(op, a, b) => *op == BinaryOp::Div || has_transcendental(a) || has_transcendental(b),
        Expr::Select(_, a, b) => has_transcendental(a) || has_transcendental(b),
    }
}

/// Whether `sketch` inlines a stage with an `exp`, `sqrt` or division into
/// a consumer that reads each of its elements many times (the load leaves
/// out one of the consumer's axes): the consumer then recomputes the
/// expensive body once per reuse — `silu(G)·U` once per output column of
/// the down projection, 1792 times in `deepseek-r1-moe` — which a register
/// tile does not amortise. The informed sampler draws such sketches less
/// often; they stay in the space.
pub fn recomputes_expensive(program: &Program, sketch: &Sketch) -> bool {
    let bodies = effective_bodies(program, sketch);
    program.stages().iter().enumerate().any(|(s, stage)| {
        if !sketch.is_inlined(s) || !has_transcendental(&bodies[s]) {
            return false;
        }
        program.stages()[s + 1..].iter().any(|consumer| {
            let mut reused = false;
            consumer.body.for_each_load(&mut |l| {
                if l.buffer == stage.output {
                    reused |=
                        (0..consumer.axes.len()).any(|n| !l.index.iter().any(|e| e.mentions(&crate::expr::AxisId(n))));
                }
            });
            reused
        })
    })
}

/// Every sketch of the program, the all-inlined one first.
pub fn sketches(program: &Program) -> Vec<Sketch> {
    let inlinable: Vec<usize> = (0..program.stages().len()).filter(|&s| inlinable(program, s)).collect();
    let base: Vec<StageRule> = program.stages().iter().map(tiling_rule).collect();
    let subsets: Vec<u32> =
        if inlinable.len() <= 4 { (0..1u32 << inlinable.len()).rev().collect() } else { vec![u32::MAX, 0] };
    subsets
        .into_iter()
        .map(|mask| {
            let mut rules = base.clone();
            for (bit, &s) in inlinable.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    rules[s] = StageRule::Inlined;
                }
            }
            Sketch { rules }
        })
        .collect()
}

/// The stage bodies after inlining: every load of an inlined stage replaced
/// by its (already substituted) body, with its axes bound to the load's
/// index expressions. Inlined stages keep their own body (unused).
pub fn effective_bodies(program: &Program, sketch: &Sketch) -> Vec<Expr> {
    let mut bodies: Vec<Expr> = Vec::with_capacity(program.stages().len());
    for stage in program.stages() {
        let body = substitute_inlined(&stage.body, program, sketch, &bodies);
        bodies.push(body);
    }
    bodies
}

fn producer_of(program: &Program, buffer: crate::expr::BufferId) -> Option<usize> {
    program.stages().iter().position(|s| s.output == buffer)
}

fn substitute_inlined(e: &Expr, program: &Program, sketch: &Sketch, done: &[Expr]) -> Expr {
    let recurse = |x: &Expr| Box::new(substitute_inlined(x, program, sketch, done));
    match e {
        Expr::Const(c) => Expr::Const(*c),
        Expr::Load(l) => match producer_of(program, l.buffer) {
            Some(p) if sketch.is_inlined(p) => bind_axes(&done[p], &l.index),
            _ => Expr::Load(l.clone()),
        },
        Expr::Unary(op, a) => Expr::Unary(*op, recurse(a)),
        Expr::Binary(op, a, b) => Expr::Binary(*op, recurse(a), recurse(b)),
        Expr::Select(c, a, b) => {
            Expr::Select(Box::new(substitute_cond(c, program, sketch, done)), recurse(a), recurse(b))
        }
    }
}

fn substitute_cond(c: &Cond, program: &Program, sketch: &Sketch, done: &[Expr]) -> Cond {
    match c {
        Cond::Index(a, op, b) => Cond::Index(a.clone(), *op, b.clone()),
        Cond::Value(a, op, b) => {
            Cond::Value(substitute_inlined(a, program, sketch, done), *op, substitute_inlined(b, program, sketch, done))
        }
        Cond::And(a, b) => Cond::And(
            Box::new(substitute_cond(a, program, sketch, done)),
            Box::new(substitute_cond(b, program, sketch, done)),
        ),
        Cond::Or(a, b) => Cond::Or(
            Box::new(substitute_cond(a, program, sketch, done)),
            Box::new(substitute_cond(b, program, sketch, done)),
        ),
    }
}

/// `body` with axis `n` replaced by `args[n]` everywhere.
pub fn bind_axes(body: &Expr, args: &[IndexExpr]) -> Expr {
    match body {
        Expr::Const(c) => Expr::Const(*c),
        Expr::Load(l) => Expr::Load(Load {
            buffer: l.buffer,
            index: l.index.iter().map(|e| bind_index(e, args)).collect(),
            pad: l.pad,
        }),
        Expr::Unary(op, a) => Expr::Unary(*op, Box::new(bind_axes(a, args))),
        Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(bind_axes(a, args)), Box::new(bind_axes(b, args))),
        Expr::Select(c, a, b) => {
            Expr::Select(Box::new(bind_cond(c, args)), Box::new(bind_axes(a, args)), Box::new(bind_axes(b, args)))
        }
    }
}

fn bind_cond(c: &Cond, args: &[IndexExpr]) -> Cond {
    match c {
        Cond::Index(a, op, b) => Cond::Index(bind_index(a, args), *op, bind_index(b, args)),
        Cond::Value(a, op, b) => Cond::Value(bind_axes(a, args), *op, bind_axes(b, args)),
        Cond::And(a, b) => Cond::And(Box::new(bind_cond(a, args)), Box::new(bind_cond(b, args))),
        Cond::Or(a, b) => Cond::Or(Box::new(bind_cond(a, args)), Box::new(bind_cond(b, args))),
    }
}

fn bind_index(e: &IndexExpr, args: &[IndexExpr]) -> IndexExpr {
    match e {
        IndexExpr::Axis(a) => args[a.0].clone(),
        IndexExpr::Const(c) => IndexExpr::Const(*c),
        IndexExpr::Add(a, b) => IndexExpr::Add(Box::new(bind_index(a, args)), Box::new(bind_index(b, args))),
        IndexExpr::Sub(a, b) => IndexExpr::Sub(Box::new(bind_index(a, args)), Box::new(bind_index(b, args))),
        IndexExpr::Mul(a, c) => IndexExpr::Mul(Box::new(bind_index(a, args)), *c),
        IndexExpr::Div(a, c) => IndexExpr::Div(Box::new(bind_index(a, args)), *c),
        IndexExpr::Mod(a, c) => IndexExpr::Mod(Box::new(bind_index(a, args)), *c),
    }
}

/// Every load of the expression (including those inside conditions).
pub fn loads(e: &Expr) -> Vec<&Load> {
    let mut out = Vec::new();
    e.for_each_load(&mut |l| out.push(l));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(name: &str) -> Program {
        crate::builtin(name).unwrap().program(crate::Size::Bench)
    }

    #[test]
    fn inlining_silu_into_the_down_projection_recomputes_it_and_keeping_it_does_not() {
        let mlp = program("deepseek-r1-moe");
        let all = sketches(&mlp);
        let h = mlp.stages().iter().position(|s| mlp.stage_name(s) == "H").unwrap();
        let inlined: Vec<bool> = all.iter().map(|k| k.is_inlined(h)).collect();
        assert_eq!(inlined, vec![true, false], "sketches: {all:?}");
        assert!(recomputes_expensive(&mlp, &all[0]));
        assert!(!recomputes_expensive(&mlp, &all[1]));
        // Nothing to inline in a plain matmul.
        let gemm = program("gemm-512");
        assert!(sketches(&gemm).iter().all(|k| !recomputes_expensive(&gemm, k)));
    }
}
