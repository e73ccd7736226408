//! Printing programs in the workload text format. The printer inserts
//! exactly the parentheses the parser needs to rebuild the same tree, so
//! `parse(print(p)) == p` for every valid program (a property test checks).

use crate::expr::{BinaryOp, Cond, Expr, IndexExpr, UnaryOp};
use crate::program::{Name, Program, ProgramDef, StageDef};
use std::fmt::Write;

/// The whole program as workload text.
pub fn print_program(program: &Program) -> String {
    print_def(&program.to_def())
}

/// A program as written, as workload text.
pub fn print_def(def: &ProgramDef) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "workload {}", def.name);
    // Declaration order is the kernel ABI's buffer order: keep it.
    for b in &def.buffers {
        let dims: Vec<String> = b.shape.iter().map(usize::to_string).collect();
        let _ = writeln!(out, "{:<6} {}[{}]", b.role.keyword(), b.name, dims.join(", "));
    }
    for stage in &def.stages {
        let _ = writeln!(out, "{}", print_stage(stage));
    }
    out
}

/// One stage line, e.g. `C[i, j] += A[i, k] * B[k, j]`.
pub fn print_stage(stage: &StageDef) -> String {
    let index: Vec<&str> = stage.index.iter().map(|n| n.text.as_str()).collect();
    format!("{}[{}] {} {}", stage.output, index.join(", "), stage.combine.operator(), print_expr(&stage.body))
}

pub fn print_expr(e: &Expr<Name, Name>) -> String {
    let mut out = String::new();
    expr(&mut out, e, 0);
    out
}

pub fn print_index(e: &IndexExpr<Name>) -> String {
    let mut out = String::new();
    index(&mut out, e, 0);
    out
}

/// A float literal that lexes back to the same f32.
pub fn print_f32(value: f32) -> String {
    if value.is_nan() {
        "nan".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        // `{:?}` prints the shortest text that parses back to the same f32
        // and always marks it as a float ("4.0", "1e-6").
        format!("{value:?}")
    }
}

fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Add | BinaryOp::Sub => 1,
        BinaryOp::Mul | BinaryOp::Div => 2,
        BinaryOp::Max | BinaryOp::Min => 3,
    }
}

/// Writes `e`; `min_prec` is the precedence its context binds with, so a
/// looser operator gets parentheses.
fn expr(out: &mut String, e: &Expr<Name, Name>, min_prec: u8) {
    match e {
        Expr::Const(c) => {
            // A negative literal is a unary minus to the parser: wrap it
            // where a binary operator binds tighter than that minus would.
            let text = print_f32(*c);
            if text.starts_with('-') && min_prec > 2 {
                let _ = write!(out, "({text})");
            } else {
                out.push_str(&text);
            }
        }
        Expr::Load(l) => {
            let indices: Vec<String> = l.index.iter().map(print_index).collect();
            let load = format!("{}[{}]", l.buffer, indices.join(", "));
            match l.pad {
                Some(pad) => {
                    let _ = write!(out, "padded({load}, {})", print_f32(pad));
                }
                None => out.push_str(&load),
            }
        }
        Expr::Unary(op, a) => {
            match op {
                UnaryOp::Neg => out.push_str("-("),
                UnaryOp::Exp | UnaryOp::Sqrt => {
                    out.push_str(op.name());
                    out.push('(');
                }
            }
            expr(out, a, 0);
            out.push(')');
        }
        Expr::Binary(op @ (BinaryOp::Max | BinaryOp::Min), a, b) => {
            out.push_str(if *op == BinaryOp::Max { "max(" } else { "min(" });
            expr(out, a, 0);
            out.push_str(", ");
            expr(out, b, 0);
            out.push(')');
        }
        Expr::Binary(op, a, b) => {
            let prec = precedence(*op);
            let paren = prec < min_prec;
            if paren {
                out.push('(');
            }
            expr(out, a, prec);
            out.push_str(match op {
                BinaryOp::Add => " + ",
                BinaryOp::Sub => " - ",
                BinaryOp::Mul => " * ",
                _ => " / ",
            });
            // Left-associative: an equal-precedence right operand needs
            // parentheses to stay on the right.
            expr(out, b, prec + 1);
            if paren {
                out.push(')');
            }
        }
        Expr::Select(c, a, b) => {
            out.push_str("select(");
            cond(out, c, 0);
            out.push_str(", ");
            expr(out, a, 0);
            out.push_str(", ");
            expr(out, b, 0);
            out.push(')');
        }
    }
}

fn cond(out: &mut String, c: &Cond<Name, Name>, min_prec: u8) {
    match c {
        Cond::Index(a, op, b) => {
            index(out, a, 0);
            let _ = write!(out, " {op} ");
            index(out, b, 0);
        }
        Cond::Value(a, op, b) => {
            expr(out, a, 0);
            let _ = write!(out, " {op} ");
            expr(out, b, 0);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            let (prec, symbol) = if matches!(c, Cond::Or(..)) { (1, " || ") } else { (2, " && ") };
            let paren = prec < min_prec;
            if paren {
                out.push('(');
            }
            cond(out, a, prec);
            out.push_str(symbol);
            cond(out, b, prec + 1);
            if paren {
                out.push(')');
            }
        }
    }
}

fn index(out: &mut String, e: &IndexExpr<Name>, min_prec: u8) {
    let (prec, symbol, a, b): (u8, &str, &IndexExpr<Name>, Option<&IndexExpr<Name>>) = match e {
        IndexExpr::Axis(n) => {
            out.push_str(&n.text);
            return;
        }
        IndexExpr::Const(c) => {
            if *c < 0 && min_prec > 2 {
                let _ = write!(out, "({c})");
            } else {
                let _ = write!(out, "{c}");
            }
            return;
        }
        IndexExpr::Add(a, b) => (1, " + ", a, Some(b)),
        IndexExpr::Sub(a, b) => (1, " - ", a, Some(b)),
        IndexExpr::Mul(a, _) => (2, " * ", a, None),
        IndexExpr::Div(a, _) => (2, " / ", a, None),
        IndexExpr::Mod(a, _) => (2, " % ", a, None),
    };
    let paren = prec < min_prec;
    if paren {
        out.push('(');
    }
    index(out, a, prec);
    out.push_str(symbol);
    match (e, b) {
        (_, Some(b)) => index(out, b, prec + 1),
        (IndexExpr::Mul(_, c) | IndexExpr::Div(_, c) | IndexExpr::Mod(_, c), None) => {
            if *c < 0 {
                let _ = write!(out, "({c})");
            } else {
                let _ = write!(out, "{c}");
            }
        }
        _ => {}
    }
    if paren {
        out.push(')');
    }
}
