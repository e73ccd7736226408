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

/// The answer's opening, its closing before the model, and its end.
const OPENING: &str = "{\"edits\": [";
const CLOSING: &str = "], \"next_model\": ";
const END: &str = "}";

/// The language [`answer_grammar`] admits, as data: the literals of the
/// edits and of the models, between the fixed opening, separators and
/// closing. It says what text an answer must go on with after any prefix,
/// so that a session decodes the forced part in one batch instead of a
/// token a step (most of a spelled-out edit is forced once its kind, stage
/// and axis are chosen). The grammar stays what constrains the answer;
/// this only saves steps.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerShape {
    /// `edit_json` of each legal edit.
    edits: Vec<String>,
    /// Each model's JSON string followed by the answer's end.
    models: Vec<String>,
}

impl AnswerShape {
    pub fn new(legal: &[Edit], roster: &Roster) -> AnswerShape {
        let models = roster
            .ids()
            .filter_map(|id| roster.get(id))
            .map(|m| format!("{}{END}", serde_json::Value::String(m.name.clone())))
            .collect();
        AnswerShape { edits: legal.iter().map(edit_json).collect(), models }
    }

    /// The text every answer the grammar admits shares after `answer`
    /// ("" where the answer has a choice to make, or `answer` is not the
    /// start of an admitted answer).
    pub fn forced(&self, answer: &str) -> String {
        let Some(mut rest) = answer.strip_prefix(OPENING) else {
            return match OPENING.strip_prefix(answer) {
                Some(opening) => format!("{opening}{}", shared_after(&self.edits, "")),
                None => String::new(),
            };
        };
        for k in 0..MAX_EDITS {
            let last = k + 1 == MAX_EDITS;
            // An edit literal is a JSON string: none is a prefix of another.
            match self.edits.iter().find(|e| rest.starts_with(e.as_str())) {
                Some(edit) => rest = &rest[edit.len()..],
                None => {
                    let open: Vec<&String> = self.edits.iter().filter(|e| e.starts_with(rest)).collect();
                    let shared = shared_after(&open, rest);
                    // One edit left, and it must be the last: the closing follows.
                    return match (open.len(), last) {
                        (1, true) => format!("{shared}{CLOSING}{}", shared_after(&self.models, "")),
                        _ => shared,
                    };
                }
            }
            if !last {
                match rest.strip_prefix(',') {
                    Some(after) => {
                        rest = after;
                        continue;
                    }
                    None if rest.is_empty() => return String::new(),
                    None => {}
                }
            }
            return self.after_edits(rest);
        }
        String::new()
    }

    /// What follows the last edit: the closing, a model, the end.
    fn after_edits(&self, rest: &str) -> String {
        let Some(model) = rest.strip_prefix(CLOSING) else {
            return match CLOSING.strip_prefix(rest) {
                Some(closing) => format!("{closing}{}", shared_after(&self.models, "")),
                None => String::new(),
            };
        };
        let open: Vec<&String> = self.models.iter().filter(|m| m.starts_with(model)).collect();
        shared_after(&open, model)
    }
}

/// The longest text all of `literals` share after their common `prefix`.
fn shared_after<S: AsRef<str>>(literals: &[S], prefix: &str) -> String {
    let mut tails = literals.iter().filter_map(|l| l.as_ref().strip_prefix(prefix));
    let Some(first) = tails.next() else { return String::new() };
    let mut shared = first;
    for tail in tails {
        let common = shared.char_indices().zip(tail.chars()).take_while(|((_, a), b)| a == b).count();
        let end = shared.char_indices().nth(common).map_or(shared.len(), |(i, _)| i);
        shared = &shared[..end];
    }
    shared.to_string()
}

/// The grammar for one call. Rule `root` is the answer; `edit-N` holds the
/// edits of the N-th stage that has any (rules stay short for a reader).
pub fn answer_grammar(legal: &[Edit], roster: &Roster) -> String {
    let mut out = String::new();
    out.push_str(&format!("root ::= {} edit", literal(OPENING)));
    for _ in 1..MAX_EDITS {
        out.push_str(" (\",\" edit)?");
    }
    out.push_str(&format!(" {} model {}\n", literal(CLOSING), literal(END)));
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
