//! Expressions of a stage body.
//!
//! The same enums serve two forms of a program: the *named* form that the
//! text parser and the Rust builder produce (buffers and axes referred to by
//! name, `Expr<String, String>`), and the *resolved* form of a validated
//! [`Program`](crate::Program) (`Expr<BufferId, AxisId>`). Sharing them keeps
//! the parser, the builder, the printer and the interpreter in step.

use std::fmt;

/// Index of a buffer in its program's buffer list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferId(pub usize);

/// Index of an axis in its stage's axis list (spatial axes first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AxisId(pub usize);

/// An integer index expression: affine in the axes, plus floor division and
/// modulo by positive constants (enough for grouped-query attention's
/// `K[h/4, j, d]`, padding offsets, and blocked layouts).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndexExpr<A = AxisId> {
    Axis(A),
    Const(i64),
    Add(Box<IndexExpr<A>>, Box<IndexExpr<A>>),
    Sub(Box<IndexExpr<A>>, Box<IndexExpr<A>>),
    /// Multiplication by a constant: index expressions stay affine.
    Mul(Box<IndexExpr<A>>, i64),
    /// Floor division by a positive constant.
    Div(Box<IndexExpr<A>>, i64),
    /// Non-negative remainder of division by a positive constant.
    Mod(Box<IndexExpr<A>>, i64),
}

/// A read of a buffer element. With `pad`, an index outside the buffer's
/// shape reads `pad` instead (zero padding of convolutions); without it, every
/// index must be provably in range, which validation checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Load<B = BufferId, A = AxisId> {
    pub buffer: B,
    pub index: Vec<IndexExpr<A>>,
    pub pad: Option<f32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Exp,
    Sqrt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A float expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr<B = BufferId, A = AxisId> {
    Const(f32),
    Load(Load<B, A>),
    Unary(UnaryOp, Box<Expr<B, A>>),
    Binary(BinaryOp, Box<Expr<B, A>>, Box<Expr<B, A>>),
    /// `select(cond, then, else)`: only the chosen branch is evaluated.
    Select(Box<Cond<B, A>>, Box<Expr<B, A>>, Box<Expr<B, A>>),
}

/// A condition of a `select`: comparisons of index expressions (masks such as
/// causal attention's `j <= i`) or of float expressions, combined with `&&`
/// and `||`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond<B = BufferId, A = AxisId> {
    Index(IndexExpr<A>, CmpOp, IndexExpr<A>),
    Value(Expr<B, A>, CmpOp, Expr<B, A>),
    And(Box<Cond<B, A>>, Box<Cond<B, A>>),
    Or(Box<Cond<B, A>>, Box<Cond<B, A>>),
}

impl CmpOp {
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

impl BinaryOp {
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Max => a.max(b),
            BinaryOp::Min => a.min(b),
        }
    }
}

impl UnaryOp {
    pub fn apply(self, a: f32) -> f32 {
        match self {
            UnaryOp::Neg => -a,
            UnaryOp::Exp => a.exp(),
            UnaryOp::Sqrt => a.sqrt(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Exp => "exp",
            UnaryOp::Sqrt => "sqrt",
        }
    }
}

/// Floor division, as `IndexExpr::Div` means (C's `/` truncates instead).
pub fn floor_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

/// Non-negative modulo, as `IndexExpr::Mod` means.
pub fn floor_mod(a: i64, b: i64) -> i64 {
    a.rem_euclid(b)
}

impl<A> IndexExpr<A> {
    /// Evaluates with `axis_value` giving each axis's value.
    pub fn eval(&self, axis_value: &impl Fn(&A) -> i64) -> i64 {
        match self {
            IndexExpr::Axis(a) => axis_value(a),
            IndexExpr::Const(c) => *c,
            IndexExpr::Add(a, b) => a.eval(axis_value) + b.eval(axis_value),
            IndexExpr::Sub(a, b) => a.eval(axis_value) - b.eval(axis_value),
            IndexExpr::Mul(a, c) => a.eval(axis_value) * c,
            IndexExpr::Div(a, c) => floor_div(a.eval(axis_value), *c),
            IndexExpr::Mod(a, c) => floor_mod(a.eval(axis_value), *c),
        }
    }

    /// The inclusive range of values over the given inclusive axis ranges.
    /// Exact for affine expressions in distinct axes; a safe over-estimate
    /// otherwise (interval arithmetic). Saturating: a range past `i64`
    /// ends at `i64::MIN` or `i64::MAX` rather than wrapping, so it is
    /// never narrower than the truth (validation then refuses it, see
    /// [`widest`](IndexExpr::widest)).
    pub fn range(&self, axis_range: &impl Fn(&A) -> (i64, i64)) -> (i64, i64) {
        match self {
            IndexExpr::Axis(a) => axis_range(a),
            IndexExpr::Const(c) => (*c, *c),
            IndexExpr::Add(a, b) => {
                let (a0, a1) = a.range(axis_range);
                let (b0, b1) = b.range(axis_range);
                (a0.saturating_add(b0), a1.saturating_add(b1))
            }
            IndexExpr::Sub(a, b) => {
                let (a0, a1) = a.range(axis_range);
                let (b0, b1) = b.range(axis_range);
                (a0.saturating_sub(b1), a1.saturating_sub(b0))
            }
            IndexExpr::Mul(a, c) => {
                let (a0, a1) = a.range(axis_range);
                let (x, y) = (a0.saturating_mul(*c), a1.saturating_mul(*c));
                (x.min(y), x.max(y))
            }
            IndexExpr::Div(a, c) => {
                let (a0, a1) = a.range(axis_range);
                (floor_div(a0, *c), floor_div(a1, *c))
            }
            IndexExpr::Mod(a, c) => {
                let (a0, a1) = a.range(axis_range);
                if floor_div(a0, *c) == floor_div(a1, *c) {
                    (floor_mod(a0, *c), floor_mod(a1, *c))
                } else {
                    (0, c - 1)
                }
            }
        }
    }

    /// The largest magnitude the expression or any part of it takes over
    /// the axis ranges (saturating at `i64::MAX`). A division or modulo
    /// can bring a part that overflows back into range, so validation
    /// bounds this, not just the whole index's range.
    pub fn widest(&self, axis_range: &impl Fn(&A) -> (i64, i64)) -> i64 {
        let (lo, hi) = self.range(axis_range);
        let own = lo.saturating_abs().max(hi.saturating_abs());
        let parts = match self {
            IndexExpr::Axis(_) | IndexExpr::Const(_) => 0,
            IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => a.widest(axis_range).max(b.widest(axis_range)),
            IndexExpr::Mul(a, c) | IndexExpr::Div(a, c) | IndexExpr::Mod(a, c) => {
                a.widest(axis_range).max(c.saturating_abs())
            }
        };
        own.max(parts)
    }

    /// Whether `axis` occurs in the expression.
    pub fn mentions(&self, axis: &A) -> bool
    where
        A: PartialEq,
    {
        match self {
            IndexExpr::Axis(a) => a == axis,
            IndexExpr::Const(_) => false,
            IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => a.mentions(axis) || b.mentions(axis),
            IndexExpr::Mul(a, _) | IndexExpr::Div(a, _) | IndexExpr::Mod(a, _) => a.mentions(axis),
        }
    }

    /// Whether the expression is linear in `axis` (it occurs outside any
    /// division or modulo), so that it changes by a fixed stride per step of
    /// that axis.
    pub fn is_linear_in(&self, axis: &A) -> bool
    where
        A: PartialEq,
    {
        match self {
            IndexExpr::Axis(_) | IndexExpr::Const(_) => true,
            IndexExpr::Add(a, b) | IndexExpr::Sub(a, b) => a.is_linear_in(axis) && b.is_linear_in(axis),
            IndexExpr::Mul(a, _) => a.is_linear_in(axis),
            IndexExpr::Div(a, _) | IndexExpr::Mod(a, _) => !a.mentions(axis),
        }
    }

    /// The same expression with axes renamed by `f`.
    pub fn map_axes<A2>(&self, f: &impl Fn(&A) -> A2) -> IndexExpr<A2> {
        match self {
            IndexExpr::Axis(a) => IndexExpr::Axis(f(a)),
            IndexExpr::Const(c) => IndexExpr::Const(*c),
            IndexExpr::Add(a, b) => IndexExpr::Add(Box::new(a.map_axes(f)), Box::new(b.map_axes(f))),
            IndexExpr::Sub(a, b) => IndexExpr::Sub(Box::new(a.map_axes(f)), Box::new(b.map_axes(f))),
            IndexExpr::Mul(a, c) => IndexExpr::Mul(Box::new(a.map_axes(f)), *c),
            IndexExpr::Div(a, c) => IndexExpr::Div(Box::new(a.map_axes(f)), *c),
            IndexExpr::Mod(a, c) => IndexExpr::Mod(Box::new(a.map_axes(f)), *c),
        }
    }

    /// Fallible renaming, for name resolution.
    pub fn try_map_axes<A2, E>(&self, f: &mut impl FnMut(&A) -> Result<A2, E>) -> Result<IndexExpr<A2>, E> {
        Ok(match self {
            IndexExpr::Axis(a) => IndexExpr::Axis(f(a)?),
            IndexExpr::Const(c) => IndexExpr::Const(*c),
            IndexExpr::Add(a, b) => IndexExpr::Add(Box::new(a.try_map_axes(f)?), Box::new(b.try_map_axes(f)?)),
            IndexExpr::Sub(a, b) => IndexExpr::Sub(Box::new(a.try_map_axes(f)?), Box::new(b.try_map_axes(f)?)),
            IndexExpr::Mul(a, c) => IndexExpr::Mul(Box::new(a.try_map_axes(f)?), *c),
            IndexExpr::Div(a, c) => IndexExpr::Div(Box::new(a.try_map_axes(f)?), *c),
            IndexExpr::Mod(a, c) => IndexExpr::Mod(Box::new(a.try_map_axes(f)?), *c),
        })
    }
}

/// Renames buffers and axes of expressions; implemented for the resolved →
/// named direction (printing) and the named → resolved one (resolution).
pub trait Renamer<B, A, B2, A2> {
    type Error;
    fn buffer(&mut self, b: &B) -> Result<B2, Self::Error>;
    fn axis(&mut self, a: &A) -> Result<A2, Self::Error>;
}

impl<B, A> Expr<B, A> {
    pub fn try_rename<B2, A2, R: Renamer<B, A, B2, A2>>(&self, r: &mut R) -> Result<Expr<B2, A2>, R::Error> {
        Ok(match self {
            Expr::Const(c) => Expr::Const(*c),
            Expr::Load(l) => Expr::Load(l.try_rename(r)?),
            Expr::Unary(op, a) => Expr::Unary(*op, Box::new(a.try_rename(r)?)),
            Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(a.try_rename(r)?), Box::new(b.try_rename(r)?)),
            Expr::Select(c, a, b) => {
                Expr::Select(Box::new(c.try_rename(r)?), Box::new(a.try_rename(r)?), Box::new(b.try_rename(r)?))
            }
        })
    }

    /// Visits every load, in evaluation order.
    pub fn for_each_load<'a>(&'a self, f: &mut impl FnMut(&'a Load<B, A>)) {
        match self {
            Expr::Const(_) => {}
            Expr::Load(l) => f(l),
            Expr::Unary(_, a) => a.for_each_load(f),
            Expr::Binary(_, a, b) => {
                a.for_each_load(f);
                b.for_each_load(f);
            }
            Expr::Select(c, a, b) => {
                c.for_each_load(f);
                a.for_each_load(f);
                b.for_each_load(f);
            }
        }
    }

    /// Visits every index expression (in loads and in conditions).
    pub fn for_each_index<'a>(&'a self, f: &mut impl FnMut(&'a IndexExpr<A>)) {
        match self {
            Expr::Const(_) => {}
            Expr::Load(l) => l.index.iter().for_each(&mut *f),
            Expr::Unary(_, a) => a.for_each_index(f),
            Expr::Binary(_, a, b) => {
                a.for_each_index(f);
                b.for_each_index(f);
            }
            Expr::Select(c, a, b) => {
                c.for_each_index(f);
                a.for_each_index(f);
                b.for_each_index(f);
            }
        }
    }

    /// Number of nodes, a measure of the work per evaluation.
    pub fn node_count(&self) -> usize {
        match self {
            Expr::Const(_) | Expr::Load(_) => 1,
            Expr::Unary(_, a) => 1 + a.node_count(),
            Expr::Binary(_, a, b) => 1 + a.node_count() + b.node_count(),
            Expr::Select(c, a, b) => 1 + c.node_count() + a.node_count() + b.node_count(),
        }
    }
}

impl<B, A> Load<B, A> {
    pub fn try_rename<B2, A2, R: Renamer<B, A, B2, A2>>(&self, r: &mut R) -> Result<Load<B2, A2>, R::Error> {
        let mut index = Vec::with_capacity(self.index.len());
        for e in &self.index {
            index.push(e.try_map_axes(&mut |a| r.axis(a))?);
        }
        Ok(Load { buffer: r.buffer(&self.buffer)?, index, pad: self.pad })
    }
}

impl<B, A> Cond<B, A> {
    pub fn try_rename<B2, A2, R: Renamer<B, A, B2, A2>>(&self, r: &mut R) -> Result<Cond<B2, A2>, R::Error> {
        Ok(match self {
            Cond::Index(a, op, b) => {
                Cond::Index(a.try_map_axes(&mut |x| r.axis(x))?, *op, b.try_map_axes(&mut |x| r.axis(x))?)
            }
            Cond::Value(a, op, b) => Cond::Value(a.try_rename(r)?, *op, b.try_rename(r)?),
            Cond::And(a, b) => Cond::And(Box::new(a.try_rename(r)?), Box::new(b.try_rename(r)?)),
            Cond::Or(a, b) => Cond::Or(Box::new(a.try_rename(r)?), Box::new(b.try_rename(r)?)),
        })
    }

    pub fn for_each_load<'a>(&'a self, f: &mut impl FnMut(&'a Load<B, A>)) {
        match self {
            Cond::Index(..) => {}
            Cond::Value(a, _, b) => {
                a.for_each_load(f);
                b.for_each_load(f);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.for_each_load(f);
                b.for_each_load(f);
            }
        }
    }

    pub fn for_each_index<'a>(&'a self, f: &mut impl FnMut(&'a IndexExpr<A>)) {
        match self {
            Cond::Index(a, _, b) => {
                f(a);
                f(b);
            }
            Cond::Value(a, _, b) => {
                a.for_each_index(f);
                b.for_each_index(f);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.for_each_index(f);
                b.for_each_index(f);
            }
        }
    }

    pub fn node_count(&self) -> usize {
        match self {
            Cond::Index(..) => 1,
            Cond::Value(a, _, b) => 1 + a.node_count() + b.node_count(),
            Cond::And(a, b) | Cond::Or(a, b) => 1 + a.node_count() + b.node_count(),
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}
