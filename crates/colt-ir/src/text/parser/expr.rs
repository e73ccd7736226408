//! The expression grammar: `+ -`, then `* / %`, unary `-`, atoms (numbers,
//! loads `X[...]`, calls, `select(cond, a, b)`), and conditions (`||`,
//! `&&`, comparisons), parsed into an untyped tree; [`typing`](super::typing)
//! then reads it as an index or a value.

use super::{Parsed, Parser};
use crate::expr::CmpOp;
use crate::program::{Name, Pos};
use crate::text::lexer::Token;

/// An expression as written, before its context says whether it is an
/// index or a value.
#[derive(Clone, Debug)]
pub(super) struct Ast {
    pub kind: AstKind,
    pub pos: Pos,
    /// Levels of the tree from here down (a leaf is 1).
    pub depth: u32,
}

/// Deepest nesting of parentheses, brackets, call arguments and unary
/// minus signs in one expression. The parser recurses once per level (and
/// every later pass over the tree too): unbounded, 5,000 parentheses
/// overflowed the stack and killed the daemon.
pub const MAX_NESTING: usize = 64;

/// Deepest expression tree a stage may have, chained operators included
/// (`a + b + c` is three levels: the chain is left-deep), and longest chain
/// of `&&` / `||`. The suite's deepest is under 20; every pass over a
/// stage's body (typing, resolving, printing, lowering, dropping) recurses
/// once per level.
pub const MAX_EXPRESSION_DEPTH: u32 = 256;

fn leaf(kind: AstKind, pos: Pos) -> Ast {
    Ast { kind, pos, depth: 1 }
}

fn cond_depth(c: &CondAst) -> u32 {
    match c {
        CondAst::Cmp(a, _, b) => 1 + a.depth.max(b.depth),
        CondAst::And(a, b) | CondAst::Or(a, b) => 1 + cond_depth(a).max(cond_depth(b)),
    }
}

#[derive(Clone, Debug)]
pub(super) enum AstKind {
    Int(i64),
    Float(f32),
    Ident(String),
    Access(Name, Vec<Ast>),
    Call(String, Vec<Ast>),
    Select(Box<CondAst>, Box<Ast>, Box<Ast>),
    Neg(Box<Ast>),
    Binary(&'static str, Box<Ast>, Box<Ast>),
}

#[derive(Clone, Debug)]
pub(super) enum CondAst {
    Cmp(Ast, CmpOp, Ast),
    And(Box<CondAst>, Box<CondAst>),
    Or(Box<CondAst>, Box<CondAst>),
}

impl Parser<'_> {
    /// An inner node at `pos`, refused past [`MAX_EXPRESSION_DEPTH`].
    fn node(&self, kind: AstKind, pos: Pos) -> Parsed<Ast> {
        let below = match &kind {
            AstKind::Int(_) | AstKind::Float(_) | AstKind::Ident(_) => 0,
            AstKind::Access(_, args) | AstKind::Call(_, args) => args.iter().map(|a| a.depth).max().unwrap_or(0),
            AstKind::Select(c, a, b) => cond_depth(c).max(a.depth).max(b.depth),
            AstKind::Neg(a) => a.depth,
            AstKind::Binary(_, a, b) => a.depth.max(b.depth),
        };
        if below >= MAX_EXPRESSION_DEPTH {
            return self.meaning(
                pos,
                format!("the expression is deeper than {MAX_EXPRESSION_DEPTH} levels (MAX_EXPRESSION_DEPTH); split it into stages"),
            );
        }
        Ok(Ast { kind, pos, depth: below + 1 })
    }

    /// Enters one level of nesting, refused past [`MAX_NESTING`]; every
    /// `enter` is matched by a `leave` on success (a failed parse is
    /// abandoned, or rewound with `nesting` restored).
    fn enter(&mut self) -> Parsed<()> {
        if self.nesting >= MAX_NESTING {
            let pos = self.peek().pos;
            return self.meaning(
                pos,
                format!("the expression nests deeper than {MAX_NESTING} levels (MAX_NESTING); split it into stages"),
            );
        }
        self.nesting += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    pub(super) fn expr(&mut self) -> Parsed<Ast> {
        self.enter()?;
        let mut left = self.term()?;
        while let Token::Sym(op @ ("+" | "-")) = self.peek().token {
            let pos = self.bump().pos;
            let right = self.term()?;
            left = self.node(AstKind::Binary(op, Box::new(left), Box::new(right)), pos)?;
        }
        self.leave();
        Ok(left)
    }

    fn term(&mut self) -> Parsed<Ast> {
        let mut left = self.unary()?;
        while let Token::Sym(op @ ("*" | "/" | "%")) = self.peek().token {
            let pos = self.bump().pos;
            let right = self.unary()?;
            left = self.node(AstKind::Binary(op, Box::new(left), Box::new(right)), pos)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Parsed<Ast> {
        if self.is_sym("-") {
            let pos = self.bump().pos;
            // `-` right before a number is part of the literal, so `-1.5`
            // and `-inf` are constants, not negations.
            match self.peek().token.clone() {
                Token::Int(i) => {
                    self.bump();
                    return Ok(leaf(AstKind::Int(-i), pos));
                }
                Token::Float(f) => {
                    self.bump();
                    return Ok(leaf(AstKind::Float(-f), pos));
                }
                Token::Ident(w) if w == "inf" => {
                    self.bump();
                    return Ok(leaf(AstKind::Float(f32::NEG_INFINITY), pos));
                }
                _ => {}
            }
            self.enter()?;
            let inner = self.unary()?;
            self.leave();
            return self.node(AstKind::Neg(Box::new(inner)), pos);
        }
        self.atom()
    }

    fn atom(&mut self) -> Parsed<Ast> {
        let t = self.peek().clone();
        let pos = t.pos;
        match t.token {
            Token::Int(i) => {
                self.bump();
                Ok(leaf(AstKind::Int(i), pos))
            }
            Token::Float(f) => {
                self.bump();
                Ok(leaf(AstKind::Float(f), pos))
            }
            Token::Sym("(") => {
                self.bump();
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Token::Ident(word) => {
                self.bump();
                if self.is_sym("[") {
                    self.bump();
                    let mut args = Vec::new();
                    loop {
                        args.push(self.expr()?);
                        if self.is_sym(",") {
                            self.bump();
                            continue;
                        }
                        break;
                    }
                    self.expect_sym("]")?;
                    return self.node(AstKind::Access(Name::at(word, pos), args), pos);
                }
                if self.is_sym("(") {
                    self.bump();
                    if word == "select" {
                        let cond = self.cond()?;
                        self.expect_sym(",")?;
                        let then = self.expr()?;
                        self.expect_sym(",")?;
                        let otherwise = self.expr()?;
                        self.expect_sym(")")?;
                        return self.node(AstKind::Select(Box::new(cond), Box::new(then), Box::new(otherwise)), pos);
                    }
                    let mut args = Vec::new();
                    if !self.is_sym(")") {
                        loop {
                            args.push(self.expr()?);
                            if self.is_sym(",") {
                                self.bump();
                                continue;
                            }
                            break;
                        }
                    }
                    self.expect_sym(")")?;
                    return self.node(AstKind::Call(word, args), pos);
                }
                match word.as_str() {
                    "inf" => Ok(leaf(AstKind::Float(f32::INFINITY), pos)),
                    "nan" => Ok(leaf(AstKind::Float(f32::NAN), pos)),
                    _ => Ok(leaf(AstKind::Ident(word), pos)),
                }
            }
            _ => self.expected("an expression"),
        }
    }

    fn cond(&mut self) -> Parsed<CondAst> {
        self.enter()?;
        let mut left = self.conjunction()?;
        let mut chain = 0;
        while self.is_sym("||") {
            let pos = self.bump().pos;
            self.chain(&mut chain, pos)?;
            let right = self.conjunction()?;
            left = CondAst::Or(Box::new(left), Box::new(right));
        }
        self.leave();
        Ok(left)
    }

    fn conjunction(&mut self) -> Parsed<CondAst> {
        let mut left = self.comparison()?;
        let mut chain = 0;
        while self.is_sym("&&") {
            let pos = self.bump().pos;
            self.chain(&mut chain, pos)?;
            let right = self.comparison()?;
            left = CondAst::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// One more `&&` or `||` in a chain, refused past [`MAX_EXPRESSION_DEPTH`].
    fn chain(&self, chain: &mut u32, pos: Pos) -> Parsed<()> {
        *chain += 1;
        if *chain >= MAX_EXPRESSION_DEPTH {
            return self.meaning(
                pos,
                format!("the condition chains more than {MAX_EXPRESSION_DEPTH} `&&`/`||` (MAX_EXPRESSION_DEPTH)"),
            );
        }
        Ok(())
    }

    fn comparison(&mut self) -> Parsed<CondAst> {
        // `(` may open a parenthesised condition or an arithmetic operand
        // (`(i + 1) < j`): try the condition first, and back off unless it
        // closes and is not followed by more arithmetic or a comparison.
        if self.is_sym("(") {
            let (saved, nesting) = (self.at, self.nesting);
            self.bump();
            if let Ok(inner) = self.cond() {
                if self.is_sym(")") {
                    self.bump();
                    if !matches!(
                        self.peek().token,
                        Token::Sym("<" | "<=" | ">" | ">=" | "==" | "!=" | "+" | "-" | "*" | "/" | "%")
                    ) {
                        return Ok(inner);
                    }
                }
            }
            self.at = saved;
            self.nesting = nesting;
        }
        let left = self.expr()?;
        let op = match self.peek().token {
            Token::Sym("<") => CmpOp::Lt,
            Token::Sym("<=") => CmpOp::Le,
            Token::Sym(">") => CmpOp::Gt,
            Token::Sym(">=") => CmpOp::Ge,
            Token::Sym("==") => CmpOp::Eq,
            Token::Sym("!=") => CmpOp::Ne,
            _ => return self.expected("a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`)"),
        };
        self.bump();
        let right = self.expr()?;
        Ok(CondAst::Cmp(left, op, right))
    }
}
