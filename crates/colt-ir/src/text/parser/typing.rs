//! Typing the untyped tree by its context: inside `[...]` and in index
//! comparisons an index expression (affine, with integer `/` and `%`),
//! everywhere else a float expression, so each context reports what it
//! expected.

use super::expr::{Ast, AstKind, CondAst};
use super::{Parsed, Parser};
use crate::builder::{NamedCond, NamedExpr, NamedIndex};
use crate::expr::{BinaryOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::program::{Name, Pos};

impl Parser<'_> {
    fn to_index(&self, ast: &Ast) -> Parsed<NamedIndex> {
        let not_index = |what: &str| {
            self.meaning(
                ast.pos,
                format!(
                    "{what} cannot appear in an index; indices are axes, integers, sizes, + - and * / % by integers"
                ),
            )
        };
        match &ast.kind {
            AstKind::Int(i) => Ok(IndexExpr::Const(*i)),
            AstKind::Ident(name) => Ok(match self.sizes.get(name) {
                Some(v) => IndexExpr::Const(*v),
                None => IndexExpr::Axis(Name::at(name.clone(), ast.pos)),
            }),
            AstKind::Float(_) => not_index("a float constant"),
            AstKind::Access(name, _) => not_index(&format!("a load of `{}`", name.text)),
            AstKind::Call(f, _) => not_index(&format!("`{f}(...)`")),
            AstKind::Select(..) => not_index("`select(...)`"),
            AstKind::Neg(a) => Ok(IndexExpr::Mul(Box::new(self.to_index(a)?), -1)),
            AstKind::Binary(op, a, b) => {
                let a = self.to_index(a)?;
                let b_index = self.to_index(b)?;
                let constant = |e: &NamedIndex| if let IndexExpr::Const(c) = e { Some(*c) } else { None };
                match *op {
                    "+" => Ok(IndexExpr::Add(Box::new(a), Box::new(b_index))),
                    "-" => Ok(IndexExpr::Sub(Box::new(a), Box::new(b_index))),
                    "*" => match (constant(&b_index), constant(&a)) {
                        (Some(c), _) => Ok(IndexExpr::Mul(Box::new(a), c)),
                        (None, Some(c)) => Ok(IndexExpr::Mul(Box::new(b_index), c)),
                        (None, None) => self.meaning(
                            ast.pos,
                            "index expressions must be affine: one side of `*` must be an integer".to_string(),
                        ),
                    },
                    _ => match constant(&b_index) {
                        Some(c) if c > 0 => {
                            Ok(if *op == "/" { IndexExpr::Div(Box::new(a), c) } else { IndexExpr::Mod(Box::new(a), c) })
                        }
                        _ => self.meaning(ast.pos, format!("`{op}` in an index needs a positive integer divisor")),
                    },
                }
            }
        }
    }

    pub(super) fn to_value(&self, ast: &Ast) -> Parsed<NamedExpr> {
        match &ast.kind {
            AstKind::Int(i) => Ok(Expr::Const(*i as f32)),
            AstKind::Float(f) => Ok(Expr::Const(*f)),
            AstKind::Ident(name) => match self.sizes.get(name) {
                Some(v) => Ok(Expr::Const(*v as f32)),
                None => self.meaning(
                    ast.pos,
                    format!(
                        "`{name}` used as a value: axes may index buffers and be compared in `select`, \
                         but not be values (and no size is called `{name}`)"
                    ),
                ),
            },
            AstKind::Access(name, args) => Ok(Expr::Load(self.load(name, args, None)?)),
            AstKind::Neg(a) => Ok(Expr::Unary(UnaryOp::Neg, Box::new(self.to_value(a)?))),
            AstKind::Binary(op, a, b) => {
                let op = match *op {
                    "+" => BinaryOp::Add,
                    "-" => BinaryOp::Sub,
                    "*" => BinaryOp::Mul,
                    "/" => BinaryOp::Div,
                    _ => return self.meaning(ast.pos, "`%` applies to indices, not values".to_string()),
                };
                Ok(Expr::Binary(op, Box::new(self.to_value(a)?), Box::new(self.to_value(b)?)))
            }
            AstKind::Select(c, a, b) => {
                Ok(Expr::Select(Box::new(self.to_cond(c)?), Box::new(self.to_value(a)?), Box::new(self.to_value(b)?)))
            }
            AstKind::Call(f, args) => self.call(f, args, ast.pos),
        }
    }

    fn call(&self, f: &str, args: &[Ast], pos: Pos) -> Parsed<NamedExpr> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                self.meaning(
                    pos,
                    format!("`{f}` takes {n} argument{}, found {}", if n == 1 { "" } else { "s" }, args.len()),
                )
            }
        };
        match f {
            "exp" | "sqrt" => {
                arity(1)?;
                let op = if f == "exp" { UnaryOp::Exp } else { UnaryOp::Sqrt };
                Ok(Expr::Unary(op, Box::new(self.to_value(&args[0])?)))
            }
            "max" | "min" => {
                arity(2)?;
                let op = if f == "max" { BinaryOp::Max } else { BinaryOp::Min };
                Ok(Expr::Binary(op, Box::new(self.to_value(&args[0])?), Box::new(self.to_value(&args[1])?)))
            }
            "padded" => {
                arity(2)?;
                let AstKind::Access(name, index) = &args[0].kind else {
                    return self.meaning(args[0].pos, "`padded` takes a load such as `X[i - 1]` first".to_string());
                };
                let pad = match args[1].kind {
                    AstKind::Int(i) => i as f32,
                    AstKind::Float(v) => v,
                    _ => return self.meaning(args[1].pos, "`padded` takes a constant padding value".to_string()),
                };
                Ok(Expr::Load(self.load(name, index, Some(pad))?))
            }
            "select" => self.meaning(pos, "`select` takes (condition, value, value)".to_string()),
            _ => self.meaning(pos, format!("unknown function `{f}` (functions: exp, sqrt, max, min, select, padded)")),
        }
    }

    fn load(&self, name: &Name, args: &[Ast], pad: Option<f32>) -> Parsed<Load<Name, Name>> {
        let index = args.iter().map(|a| self.to_index(a)).collect::<Parsed<Vec<_>>>()?;
        Ok(Load { buffer: name.clone(), index, pad })
    }

    fn to_cond(&self, c: &CondAst) -> Parsed<NamedCond> {
        match c {
            CondAst::Cmp(a, op, b) => match (self.to_index(a), self.to_index(b)) {
                (Ok(a), Ok(b)) => Ok(Cond::Index(a, *op, b)),
                _ => Ok(Cond::Value(self.to_value(a)?, *op, self.to_value(b)?)),
            },
            CondAst::And(a, b) => Ok(Cond::And(Box::new(self.to_cond(a)?), Box::new(self.to_cond(b)?))),
            CondAst::Or(a, b) => Ok(Cond::Or(Box::new(self.to_cond(a)?), Box::new(self.to_cond(b)?))),
        }
    }
}
