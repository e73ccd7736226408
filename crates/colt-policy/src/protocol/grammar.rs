//! The GBNF grammar that constrains a model's answer to a joint action.
//!
//! Generated per call from the legal edits and the roster, it admits exactly
//! `{"edits": [E1(,E2)?(,E3)?], "next_model": "M"}` with no free
//! whitespace, where each `E` is one legal edit in colt-ir's syntax as a
//! JSON string and `M` one model name. Every part is a finite set of
//! literals, so the answer's length is bounded (at most three of the longest
//! edits plus the longest name plus 35 characters) and a token limit can
//! always be met.
//!
//! Edits are strings in colt-ir's own syntax rather than a structured JSON
//! form: that is the syntax the system prompt teaches and colt-ir parses,
//! and it costs fewer tokens than `{"op": ..., "stage": ...}`.

use crate::roster::Roster;
use colt_ir::schedule::Edit;
use std::fmt::Write;

/// The most edits one answer may carry (DESIGN.md: a few; each extra edit
/// makes the child further from what the cost model has seen).
pub const MAX_EDITS: usize = 3;

/// An edit as it appears in the answer: a JSON string of its colt-ir text.
pub fn edit_json(edit: &Edit) -> String {
    serde_json::Value::String(edit.to_string()).to_string()
}

/// The grammar for one call. Rule `root` is the answer; `edit-N` holds the
/// edits of the N-th stage that has any (rules stay short for a reader).
pub fn answer_grammar(legal: &[Edit], roster: &Roster) -> String {
    let mut out = String::new();
    out.push_str("root ::= \"{\\\"edits\\\": [\" edit");
    for _ in 1..MAX_EDITS {
        out.push_str(" (\",\" edit)?");
    }
    out.push_str(" \"], \\\"next_model\\\": \" model \"}\"\n");
    let mut stages: Vec<&str> = Vec::new();
    for e in legal {
        if !stages.contains(&e.stage()) {
            stages.push(e.stage());
        }
    }
    if stages.is_empty() {
        // No legal edit: a rule with no alternative is not GBNF, so the
        // rule admits only the empty string, which the parser reports as
        // an unreadable edit. Callers should not ask (`Expander` does not).
        out.push_str("edit ::= \"\\\"\\\"\"\n");
    } else {
        let refs: Vec<String> = (0..stages.len()).map(|i| format!("edit-{i}")).collect();
        let _ = writeln!(out, "edit ::= {}", refs.join(" | "));
        for (i, stage) in stages.iter().enumerate() {
            let alternatives: Vec<String> =
                legal.iter().filter(|e| e.stage() == *stage).map(|e| literal(&edit_json(e))).collect();
            let _ = writeln!(out, "edit-{i} ::= {}", alternatives.join(" | "));
        }
    }
    let names: Vec<String> = roster
        .ids()
        .filter_map(|id| roster.get(id))
        .map(|m| literal(&serde_json::Value::String(m.name.clone()).to_string()))
        .collect();
    let _ = writeln!(out, "model ::= {}", names.join(" | "));
    out
}

/// A GBNF string literal matching `text` exactly.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
