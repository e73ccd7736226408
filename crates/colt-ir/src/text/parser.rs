//! Parsing the workload text format into a [`ProgramDef`].
//!
//! Here the lines: declarations and stages. Expressions are first parsed
//! into an untyped tree ([`expr`]), then typed as an index expression
//! (inside `[...]` and in index comparisons) or a float expression
//! (everywhere else, [`typing`]), so each context reports what it expected.

use super::lexer::{lex, Lexed, Token};
use super::WorkloadError;
use crate::program::{Buffer, BufferRole, Combine, DType, Name, Pos, ProgramDef, StageDef};
use crate::workloads::Size;
use std::collections::HashMap;

mod expr;
mod typing;

/// Parses workload text. `origin` names the text in errors (a path, or
/// `<builtin>`); `default_name` is used when there is no `workload` line.
pub fn parse_def(text: &str, origin: &str, default_name: &str, size: Size) -> Result<ProgramDef, WorkloadError> {
    if text.len() > MAX_WORKLOAD_BYTES {
        return Err(WorkloadError::Meaning {
            origin: origin.to_string(),
            pos: Pos { line: 1, column: 1 },
            message: format!(
                "the workload text is {} bytes, more than {MAX_WORKLOAD_BYTES} (MAX_WORKLOAD_BYTES); \
                 the suite's longest is under 1 KB",
                text.len()
            ),
        });
    }
    let tokens =
        lex(text).map_err(|e| WorkloadError::Meaning { origin: origin.to_string(), pos: e.pos, message: e.message })?;
    let mut parser = Parser { tokens, at: 0, origin, size, sizes: HashMap::new(), nesting: 0 };
    parser.program(default_name)
}

struct Parser<'a> {
    tokens: Vec<Lexed>,
    at: usize,
    origin: &'a str,
    size: Size,
    /// Size parameters declared so far, at the chosen size.
    sizes: HashMap<String, i64>,
    /// Levels of expression nesting open now (see [`expr::MAX_NESTING`]).
    nesting: usize,
}

/// Longest workload text colt reads: 1 MiB. Tokens and trees take tens
/// of times the text's size; a 50 MB line took seconds and 1.5 GB.
pub const MAX_WORKLOAD_BYTES: usize = 1 << 20;

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
}
