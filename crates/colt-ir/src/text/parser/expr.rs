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
    pub(super) fn expr(&mut self) -> Parsed<Ast> {
        let mut left = self.term()?;
        while let Token::Sym(op @ ("+" | "-")) = self.peek().token {
            let pos = self.bump().pos;
            let right = self.term()?;
            left = Ast { kind: AstKind::Binary(op, Box::new(left), Box::new(right)), pos };
        }
        Ok(left)
    }

    fn term(&mut self) -> Parsed<Ast> {
        let mut left = self.unary()?;
        while let Token::Sym(op @ ("*" | "/" | "%")) = self.peek().token {
            let pos = self.bump().pos;
            let right = self.unary()?;
            left = Ast { kind: AstKind::Binary(op, Box::new(left), Box::new(right)), pos };
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
                    return Ok(Ast { kind: AstKind::Int(-i), pos });
                }
                Token::Float(f) => {
                    self.bump();
                    return Ok(Ast { kind: AstKind::Float(-f), pos });
                }
                Token::Ident(w) if w == "inf" => {
                    self.bump();
                    return Ok(Ast { kind: AstKind::Float(f32::NEG_INFINITY), pos });
                }
                _ => {}
            }
            let inner = self.unary()?;
            return Ok(Ast { kind: AstKind::Neg(Box::new(inner)), pos });
        }
        self.atom()
    }

    fn atom(&mut self) -> Parsed<Ast> {
        let t = self.peek().clone();
        let pos = t.pos;
        match t.token {
            Token::Int(i) => {
                self.bump();
                Ok(Ast { kind: AstKind::Int(i), pos })
            }
            Token::Float(f) => {
                self.bump();
                Ok(Ast { kind: AstKind::Float(f), pos })
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
                    return Ok(Ast { kind: AstKind::Access(Name::at(word, pos), args), pos });
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
                        return Ok(Ast {
                            kind: AstKind::Select(Box::new(cond), Box::new(then), Box::new(otherwise)),
                            pos,
                        });
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
                    return Ok(Ast { kind: AstKind::Call(word, args), pos });
                }
                match word.as_str() {
                    "inf" => Ok(Ast { kind: AstKind::Float(f32::INFINITY), pos }),
                    "nan" => Ok(Ast { kind: AstKind::Float(f32::NAN), pos }),
                    _ => Ok(Ast { kind: AstKind::Ident(word), pos }),
                }
            }
            _ => self.expected("an expression"),
        }
    }

    fn cond(&mut self) -> Parsed<CondAst> {
        let mut left = self.conjunction()?;
        while self.is_sym("||") {
            self.bump();
            let right = self.conjunction()?;
            left = CondAst::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Parsed<CondAst> {
        let mut left = self.comparison()?;
        while self.is_sym("&&") {
            self.bump();
            let right = self.comparison()?;
            left = CondAst::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Parsed<CondAst> {
        // `(` may open a parenthesised condition or an arithmetic operand
        // (`(i + 1) < j`): try the condition first, and back off unless it
        // closes and is not followed by more arithmetic or a comparison.
        if self.is_sym("(") {
            let saved = self.at;
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
