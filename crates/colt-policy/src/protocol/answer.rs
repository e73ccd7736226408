//! Reading a model's answer into a joint action.
//!
//! Never panics and never fails as a whole: whatever part of the answer is
//! unusable becomes an [`AnswerProblem`] (counted as the model's error) and
//! the rest is kept. Grammar-constrained answers always parse; the tolerance
//! is for calls made without a grammar and for edits that are legal alone
//! but not after an earlier edit of the same answer.

use super::grammar::MAX_EDITS;
use crate::roster::Roster;
use crate::stats::CallRecord;
use colt_ir::schedule::{Candidate, Edit};
use colt_tree::ModelId;

/// The edits and the next model of an answer, and what was wrong with it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JointAction {
    /// Legal on the candidate, each on its own, in the answer's order.
    pub edits: Vec<Edit>,
    /// `None` when the answer named no model of the roster: route with
    /// [`ModelStats::route`](crate::ModelStats::route).
    pub next_model: Option<ModelId>,
    pub problems: Vec<AnswerProblem>,
}

/// A part of an answer that could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AnswerProblem {
    #[error("the answer is not a JSON object: {0}")]
    NotJson(String),
    #[error("the answer has no `edits` list of strings")]
    NoEdits,
    #[error("the answer has {0} edits; only the first {MAX_EDITS} are used")]
    TooManyEdits(usize),
    #[error("`{text}` is not an edit: {reason}")]
    UnreadableEdit { text: String, reason: String },
    #[error("`{0}` is not a legal edit of the candidate")]
    NotLegal(String),
    #[error("`{0}` is repeated")]
    Repeated(String),
    #[error("`{edit}` no longer applies after the answer's earlier edits: {reason}")]
    Inapplicable { edit: String, reason: String },
    #[error("the answer names no next model")]
    MissingNextModel,
    #[error("the answer's next model `{0}` is not one of this search's models")]
    UnknownModel(String),
}

impl AnswerProblem {
    /// Counted under a model's illegal edits (the rest are about the
    /// answer's form or its next model).
    pub fn is_edit_error(&self) -> bool {
        matches!(
            self,
            AnswerProblem::UnreadableEdit { .. }
                | AnswerProblem::NotLegal(_)
                | AnswerProblem::Repeated(_)
                | AnswerProblem::Inapplicable { .. }
                | AnswerProblem::TooManyEdits(_)
        )
    }

    pub fn is_routing_error(&self) -> bool {
        matches!(self, AnswerProblem::MissingNextModel | AnswerProblem::UnknownModel(_))
    }
}

/// Reads `answer` (the model's text) against the candidate's legal edits
/// and the roster.
pub fn parse_answer(answer: &str, legal: &[Edit], roster: &Roster) -> JointAction {
    let mut action = JointAction::default();
    // Without a grammar a model may wrap the object in prose or a code
    // fence: read from the first `{` to the last `}`.
    let object = match (answer.find('{'), answer.rfind('}')) {
        (Some(start), Some(end)) if start < end => &answer[start..=end],
        _ => answer,
    };
    let value: serde_json::Value = match serde_json::from_str(object) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(_) => {
            action.problems.push(AnswerProblem::NotJson("not an object".into()));
            action.problems.push(AnswerProblem::MissingNextModel);
            return action;
        }
        Err(e) => {
            action.problems.push(AnswerProblem::NotJson(e.to_string()));
            action.problems.push(AnswerProblem::MissingNextModel);
            return action;
        }
    };
    match value.get("edits").and_then(|e| e.as_array()) {
        Some(list) => {
            if list.len() > MAX_EDITS {
                action.problems.push(AnswerProblem::TooManyEdits(list.len()));
            }
            for item in list.iter().take(MAX_EDITS) {
                let Some(text) = item.as_str() else {
                    action
                        .problems
                        .push(AnswerProblem::UnreadableEdit { text: item.to_string(), reason: "not a string".into() });
                    continue;
                };
                match Edit::parse(text) {
                    Err(e) => {
                        action.problems.push(AnswerProblem::UnreadableEdit { text: text.into(), reason: e.reason })
                    }
                    Ok(edit) if !legal.contains(&edit) => action.problems.push(AnswerProblem::NotLegal(text.into())),
                    Ok(edit) if action.edits.contains(&edit) => {
                        action.problems.push(AnswerProblem::Repeated(text.into()))
                    }
                    Ok(edit) => action.edits.push(edit),
                }
            }
        }
        None => action.problems.push(AnswerProblem::NoEdits),
    }
    match value.get("next_model").and_then(|m| m.as_str()) {
        Some(name) => match roster.by_name(name) {
            Some(id) => action.next_model = Some(id),
            None => action.problems.push(AnswerProblem::UnknownModel(name.into())),
        },
        None => action.problems.push(AnswerProblem::MissingNextModel),
    }
    action
}

/// A joint action's edits applied to its candidate.
#[derive(Clone, Debug)]
pub struct Applied {
    pub candidate: Candidate,
    /// The edits that took effect, in order.
    pub edits: Vec<Edit>,
}

impl JointAction {
    /// Applies the edits in order, skipping (and recording as a problem)
    /// any that an earlier edit made illegal. `None` when no edit applied:
    /// the caller falls back to a random legal edit (DESIGN.md).
    pub fn apply(&mut self, candidate: &Candidate) -> Option<Applied> {
        let mut current = candidate.clone();
        let mut applied = Vec::new();
        for edit in &self.edits {
            match edit.apply(&current) {
                Ok(next) => {
                    current = next;
                    applied.push(edit.clone());
                }
                Err(e) => {
                    self.problems.push(AnswerProblem::Inapplicable { edit: edit.to_string(), reason: e.to_string() })
                }
            }
        }
        (!applied.is_empty()).then_some(Applied { candidate: current, edits: applied })
    }

    /// The statistics of the call that produced this answer; `failed` when
    /// nothing of it could be applied.
    pub fn call_record(&self, tokens: u64, seconds: f64, failed: bool) -> CallRecord {
        CallRecord {
            tokens,
            seconds,
            illegal_edits: self.problems.iter().filter(|p| p.is_edit_error()).count() as u64,
            missing_next_model: self.problems.iter().any(AnswerProblem::is_routing_error),
            failed,
        }
    }
}
