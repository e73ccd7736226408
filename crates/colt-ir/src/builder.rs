//! Building programs in Rust: the named form with operators, so a workload
//! reads almost like its text (`load("A", [ax("i"), ax("k")]) * load(...)`).

use crate::expr::{BinaryOp, CmpOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::program::{Buffer, BufferRole, Combine, DType, Name, Program, ProgramDef, StageDef};
use crate::resolve::IrError;
use std::ops;

/// A named float expression, as the builder and the parser produce it.
pub type NamedExpr = Expr<Name, Name>;
/// A named index expression.
pub type NamedIndex = IndexExpr<Name>;
/// A named condition.
pub type NamedCond = Cond<Name, Name>;

/// The axis called `name`.
pub fn ax(name: &str) -> NamedIndex {
    IndexExpr::Axis(Name::new(name))
}

/// `buffer[index...]`.
pub fn load<const N: usize>(buffer: &str, index: [NamedIndex; N]) -> NamedExpr {
    Expr::Load(Load { buffer: Name::new(buffer), index: index.to_vec(), pad: None })
}

/// `padded(buffer[index...], pad)`: out-of-range indices read `pad`.
pub fn padded<const N: usize>(buffer: &str, index: [NamedIndex; N], pad: f32) -> NamedExpr {
    Expr::Load(Load { buffer: Name::new(buffer), index: index.to_vec(), pad: Some(pad) })
}

pub fn cst(value: f32) -> NamedExpr {
    Expr::Const(value)
}

pub fn exp(e: NamedExpr) -> NamedExpr {
    Expr::Unary(UnaryOp::Exp, Box::new(e))
}

pub fn sqrt(e: NamedExpr) -> NamedExpr {
    Expr::Unary(UnaryOp::Sqrt, Box::new(e))
}

pub fn max(a: NamedExpr, b: NamedExpr) -> NamedExpr {
    Expr::Binary(BinaryOp::Max, Box::new(a), Box::new(b))
}

pub fn min(a: NamedExpr, b: NamedExpr) -> NamedExpr {
    Expr::Binary(BinaryOp::Min, Box::new(a), Box::new(b))
}

pub fn select(cond: NamedCond, then: NamedExpr, otherwise: NamedExpr) -> NamedExpr {
    Expr::Select(Box::new(cond), Box::new(then), Box::new(otherwise))
}

/// An index comparison, e.g. `index_cmp(ax("j"), CmpOp::Le, ax("i"))`.
pub fn index_cmp(a: NamedIndex, op: CmpOp, b: NamedIndex) -> NamedCond {
    Cond::Index(a, op, b)
}

/// `x / (1 + exp(-x))`, the SwiGLU gate.
pub fn silu(x: NamedExpr) -> NamedExpr {
    x.clone() / (cst(1.0) + exp(-x))
}

impl<B, A> ops::Add for Expr<B, A> {
    type Output = Expr<B, A>;
    fn add(self, rhs: Self) -> Self {
        Expr::Binary(BinaryOp::Add, Box::new(self), Box::new(rhs))
    }
}

impl<B, A> ops::Sub for Expr<B, A> {
    type Output = Expr<B, A>;
    fn sub(self, rhs: Self) -> Self {
        Expr::Binary(BinaryOp::Sub, Box::new(self), Box::new(rhs))
    }
}

impl<B, A> ops::Mul for Expr<B, A> {
    type Output = Expr<B, A>;
    fn mul(self, rhs: Self) -> Self {
        Expr::Binary(BinaryOp::Mul, Box::new(self), Box::new(rhs))
    }
}

impl<B, A> ops::Div for Expr<B, A> {
    type Output = Expr<B, A>;
    fn div(self, rhs: Self) -> Self {
        Expr::Binary(BinaryOp::Div, Box::new(self), Box::new(rhs))
    }
}

impl<B, A> ops::Neg for Expr<B, A> {
    type Output = Expr<B, A>;
    fn neg(self) -> Self {
        Expr::Unary(UnaryOp::Neg, Box::new(self))
    }
}

impl<A> ops::Add for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn add(self, rhs: Self) -> Self {
        IndexExpr::Add(Box::new(self), Box::new(rhs))
    }
}

impl<A> ops::Add<i64> for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn add(self, rhs: i64) -> Self {
        IndexExpr::Add(Box::new(self), Box::new(IndexExpr::Const(rhs)))
    }
}

impl<A> ops::Sub<i64> for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn sub(self, rhs: i64) -> Self {
        IndexExpr::Sub(Box::new(self), Box::new(IndexExpr::Const(rhs)))
    }
}

impl<A> ops::Mul<i64> for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn mul(self, rhs: i64) -> Self {
        IndexExpr::Mul(Box::new(self), rhs)
    }
}

impl<A> ops::Div<i64> for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn div(self, rhs: i64) -> Self {
        IndexExpr::Div(Box::new(self), rhs)
    }
}

impl<A> ops::Rem<i64> for IndexExpr<A> {
    type Output = IndexExpr<A>;
    fn rem(self, rhs: i64) -> Self {
        IndexExpr::Mod(Box::new(self), rhs)
    }
}

/// Collects buffers and stages, then validates them into a [`Program`].
#[derive(Clone, Debug)]
pub struct ProgramBuilder {
    def: ProgramDef,
}

impl ProgramBuilder {
    pub fn new(name: &str) -> ProgramBuilder {
        ProgramBuilder { def: ProgramDef { name: name.to_string(), buffers: Vec::new(), stages: Vec::new() } }
    }

    fn buffer(mut self, name: &str, shape: &[usize], role: BufferRole) -> Self {
        self.def.buffers.push(Buffer { name: name.to_string(), shape: shape.to_vec(), dtype: DType::F32, role });
        self
    }

    pub fn input(self, name: &str, shape: &[usize]) -> Self {
        self.buffer(name, shape, BufferRole::Input)
    }

    pub fn temp(self, name: &str, shape: &[usize]) -> Self {
        self.buffer(name, shape, BufferRole::Temp)
    }

    pub fn output(self, name: &str, shape: &[usize]) -> Self {
        self.buffer(name, shape, BufferRole::Output)
    }

    /// `output[index...] <combine> body`; `index` names the spatial axes.
    pub fn stage(mut self, output: &str, index: &[&str], combine: Combine, body: NamedExpr) -> Self {
        self.def.stages.push(StageDef {
            output: Name::new(output),
            index: index.iter().map(|n| Name::new(*n)).collect(),
            combine,
            body,
        });
        self
    }

    pub fn def(&self) -> &ProgramDef {
        &self.def
    }

    pub fn build(self) -> Result<Program, IrError> {
        Program::from_def(&self.def)
    }
}
