//! Parsing the workload text format into a [`ProgramDef`].
//!
//! Expressions are first parsed into an untyped tree, then converted to an
//! index expression (inside `[...]` and in index comparisons) or a float
//! expression (everywhere else), so each context reports what it expected.

use super::lexer::{lex, Lexed, Token};
use super::WorkloadError;
use crate::builder::{NamedCond, NamedExpr, NamedIndex};
use crate::expr::{BinaryOp, CmpOp, Cond, Expr, IndexExpr, Load, UnaryOp};
use crate::program::{Buffer, BufferRole, Combine, DType, Name, Pos, ProgramDef, StageDef};
use crate::workloads::Size;
use std::collections::HashMap;

/// Parses workload text. `origin` names the text in errors (a path, or
/// `<builtin>`); `default_name` is used when there is no `workload` line.
pub fn parse_def(text: &str, origin: &str, default_name: &str, size: Size) -> Result<ProgramDef, WorkloadError> {
    let tokens =
        lex(text).map_err(|e| WorkloadError::Meaning { origin: origin.to_string(), pos: e.pos, message: e.message })?;
    let mut parser = Parser { tokens, at: 0, origin, size, sizes: HashMap::new() };
    parser.program(default_name)
}

#[derive(Clone, Debug)]
struct Ast {
    kind: AstKind,
    pos: Pos,
}

#[derive(Clone, Debug)]
enum AstKind {
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
enum CondAst {
    Cmp(Ast, CmpOp, Ast),
    And(Box<CondAst>, Box<CondAst>),
    Or(Box<CondAst>, Box<CondAst>),
}

struct Parser<'a> {
    tokens: Vec<Lexed>,
    at: usize,
    origin: &'a str,
    size: Size,
    /// Size parameters declared so far, at the chosen size.
    sizes: HashMap<String, i64>,
}

type Parsed<T> = Result<T, WorkloadError>;

impl Parser<'_> {
    fn peek(&self) -> &Lexed {
        // Invariant: the token list always ends with Eof and `at` never
        // moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Lexed {
        let t = self.peek().clone();
        if t.token != Token::Eof {
            self.at += 1;
        }
        t
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(&self.peek().token, Token::Sym(s) if *s == sym)
    }

    fn expected<T>(&self, what: &str) -> Parsed<T> {
        let t = self.peek();
        Err(WorkloadError::Syntax {
            origin: self.origin.to_string(),
            pos: t.pos,
            expected: what.to_string(),
            found: t.token.describe(),
        })
    }

    fn meaning<T>(&self, pos: Pos, message: String) -> Parsed<T> {
        Err(WorkloadError::Meaning { origin: self.origin.to_string(), pos, message })
    }

    fn expect_sym(&mut self, sym: &str) -> Parsed<Pos> {
        if self.is_sym(sym) {
            Ok(self.bump().pos)
        } else {
            self.expected(&format!("`{sym}`"))
        }
    }

    fn ident(&mut self, what: &str) -> Parsed<Name> {
        match &self.peek().token {
            Token::Ident(s) => {
                let name = Name::at(s.clone(), self.peek().pos);
                self.bump();
                Ok(name)
            }
            _ => self.expected(what),
        }
    }

    fn int(&mut self, what: &str) -> Parsed<i64> {
        match self.peek().token {
            Token::Int(i) => {
                self.bump();
                Ok(i)
            }
            _ => self.expected(what),
        }
    }

    fn end_of_statement(&mut self) -> Parsed<()> {
        match self.peek().token {
            Token::Newline => {
                self.bump();
                Ok(())
            }
            Token::Eof => Ok(()),
            _ => self.expected("end of line"),
        }
    }

    fn program(&mut self, default_name: &str) -> Parsed<ProgramDef> {
        let mut def = ProgramDef { name: default_name.to_string(), buffers: Vec::new(), stages: Vec::new() };
        loop {
            let start = self.peek().clone();
            match &start.token {
                Token::Eof => return Ok(def),
                Token::Newline => {
                    self.bump();
                }
                Token::Ident(word) => match word.as_str() {
                    "workload" => {
                        self.bump();
                        def.name = self.workload_name()?;
                        self.end_of_statement()?;
                    }
                    "size" => {
                        self.bump();
                        self.size_decl()?;
                    }
                    "input" | "temp" | "output" => {
                        self.bump();
                        let role = match word.as_str() {
                            "input" => BufferRole::Input,
                            "temp" => BufferRole::Temp,
                            _ => BufferRole::Output,
                        };
                        let buffer = self.buffer_decl(role)?;
                        if self.sizes.contains_key(&buffer.name) {
                            return self.meaning(start.pos, format!("`{}` is already a size name", buffer.name));
                        }
                        def.buffers.push(buffer);
                    }
                    _ => def.stages.push(self.stage()?),
                },
                _ => return self.expected("a declaration (`workload`, `size`, `input`, `temp`, `output`) or a stage"),
            }
        }
    }

    fn workload_name(&mut self) -> Parsed<String> {
        let t = self.bump();
        match t.token {
            Token::Raw(name)
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
            {
                Ok(name)
            }
            Token::Raw(name) => self.meaning(
                t.pos,
                format!("workload name `{name}` must be letters, digits, `-`, `_` or `.` and not empty"),
            ),
            _ => self.meaning(t.pos, "expected a workload name".to_string()),
        }
    }

    /// `size NAME = INT` or `size NAME = INT, full INT`.
    fn size_decl(&mut self) -> Parsed<()> {
        let name = self.ident("a size name")?;
        self.expect_sym("=")?;
        let bench = self.positive("the size's value")?;
        let mut full = bench;
        if self.is_sym(",") {
            self.bump();
            match &self.peek().token {
                Token::Ident(w) if w == "full" => {
                    self.bump();
                }
                _ => return self.expected("`full`"),
            }
            full = self.positive("the size's full value")?;
        }
        self.end_of_statement()?;
        let value = match self.size {
            Size::Bench => bench,
            Size::Full => full,
        };
        if self.sizes.insert(name.text.clone(), value).is_some() {
            return self.meaning(name.pos.unwrap_or_default(), format!("size `{}` is declared twice", name.text));
        }
        Ok(())
    }

    fn positive(&mut self, what: &str) -> Parsed<i64> {
        let pos = self.peek().pos;
        let value = self.int(what)?;
        if value <= 0 {
            return self.meaning(pos, format!("{what} must be positive, found {value}"));
        }
        Ok(value)
    }

    /// `NAME[dim, ...]` with an optional `f32`.
    fn buffer_decl(&mut self, role: BufferRole) -> Parsed<Buffer> {
        let name = self.ident("a buffer name")?;
        self.expect_sym("[")?;
        let mut shape = Vec::new();
        loop {
            let pos = self.peek().pos;
            let dim = match &self.peek().token {
                Token::Int(_) => self.positive("a dimension")?,
                Token::Ident(s) => {
                    let s = s.clone();
                    self.bump();
                    match self.sizes.get(&s) {
                        Some(v) => *v,
                        None => return self.meaning(pos, format!("unknown size `{s}`{}", self.known_sizes())),
                    }
                }
                _ => return self.expected("a dimension (a positive integer or a size name)"),
            };
            shape.push(dim as usize);
            if self.is_sym(",") {
                self.bump();
                continue;
            }
            self.expect_sym("]")?;
            break;
        }
        let dtype = match &self.peek().token {
            Token::Ident(t) if t == "f32" => {
                self.bump();
                DType::F32
            }
            Token::Ident(t) => {
                let pos = self.peek().pos;
                return self.meaning(pos, format!("unknown element type `{t}` (supported: f32)"));
            }
            _ => DType::F32,
        };
        self.end_of_statement()?;
        Ok(Buffer { name: name.text, shape, dtype, role })
    }

    fn known_sizes(&self) -> String {
        if self.sizes.is_empty() {
            " (no sizes are declared; declare one with `size N = 64`)".to_string()
        } else {
            let mut names: Vec<&str> = self.sizes.keys().map(String::as_str).collect();
            names.sort();
            format!(" (declared sizes: {})", names.join(", "))
        }
    }

    /// `OUT[i, j] (= | += | max=) expr`.
    fn stage(&mut self) -> Parsed<StageDef> {
        let output = self.ident("a stage")?;
        self.expect_sym("[")?;
        let mut index = Vec::new();
        if !self.is_sym("]") {
            loop {
                index.push(self.ident("an axis name")?);
                if self.is_sym(",") {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.expect_sym("]")?;
        let combine = match &self.peek().token {
            Token::Sym("=") => Combine::Assign,
            Token::Sym("+=") => Combine::Sum,
            Token::Ident(w) if w == "max" => {
                self.bump();
                if !self.is_sym("=") {
                    return self.expected("`=` after `max`");
                }
                Combine::Max
            }
            _ => return self.expected("`=`, `+=` or `max=`"),
        };
        self.bump();
        let body_ast = self.expr()?;
        let body = self.to_value(&body_ast)?;
        self.end_of_statement()?;
        Ok(StageDef { output, index, combine, body })
    }

    // ---- expressions -------------------------------------------------

    fn expr(&mut self) -> Parsed<Ast> {
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

    // ---- typing ------------------------------------------------------

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

    fn to_value(&self, ast: &Ast) -> Parsed<NamedExpr> {
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
