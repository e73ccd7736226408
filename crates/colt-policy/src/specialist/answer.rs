//! The specialist's answer: what may follow any prefix of it (the mask on
//! its logits), and the joint action a complete answer names.
//!
//! An answer is `<edit> e₁ [<edit> e₂ [<edit> e₃]] <next> <modelK> </s>`:
//! one to [`MAX_EDITS`] distinct legal edits, each spelled in the
//! vocabulary's tokens, then the next model to act. `<model0>` is the
//! asking model itself and `<model1>`, ... the roster's others in roster
//! order, so that what a specialist learns ("ask me again") does not depend
//! on where a job lists it.

use super::vocabulary::{TokenId, Vocabulary, MAX_MODELS};
use crate::protocol::{edit_json, MAX_EDITS};
use crate::roster::Roster;
use colt_ir::schedule::Edit;
use colt_tree::ModelId;

/// The legal answers at one node, for one asking model.
#[derive(Debug, Clone)]
pub struct AnswerConstraint {
    legal: Vec<Edit>,
    /// Each legal edit's tokens.
    spelled: Vec<Vec<TokenId>>,
    /// The models `<model0>`, `<model1>`, ... name: the asker first.
    models: Vec<ModelId>,
    names: Vec<String>,
    model_tokens: Vec<TokenId>,
    edit: TokenId,
    next: TokenId,
    end: TokenId,
}

/// Where a prefix of an answer stands.
enum State {
    ExpectEdit,
    InEdit { open: Vec<usize>, pos: usize },
    AfterEdit,
    ExpectModel,
    ExpectEnd,
    Done,
}

impl AnswerConstraint {
    /// The answers to `legal` (the node's legal edits) that `asking`, a
    /// model of `roster`, may give. Edits that spell alike (none in the
    /// built-in workloads; the tests check) are kept once, the first.
    pub fn new(vocabulary: &Vocabulary, legal: &[Edit], roster: &Roster, asking: ModelId) -> AnswerConstraint {
        let mut kept: Vec<Edit> = Vec::with_capacity(legal.len());
        let mut spelled: Vec<Vec<TokenId>> = Vec::with_capacity(legal.len());
        for edit in legal {
            let tokens = vocabulary.encode(&edit.to_string());
            if !spelled.contains(&tokens) {
                spelled.push(tokens);
                kept.push(edit.clone());
            }
        }
        let models: Vec<ModelId> =
            std::iter::once(asking).chain(roster.ids().filter(|&id| id != asking)).take(MAX_MODELS).collect();
        let names = models.iter().map(|&id| roster.get(id).map_or_else(String::new, |m| m.name.clone())).collect();
        let model_tokens = (0..models.len()).filter_map(|i| vocabulary.model(i)).collect();
        AnswerConstraint {
            legal: kept,
            spelled,
            models,
            names,
            model_tokens,
            edit: vocabulary.marker("<edit>"),
            next: vocabulary.marker("<next>"),
            end: vocabulary.marker("</s>"),
        }
    }

    /// The legal edits an answer chooses from, in the order of their indices.
    pub fn edits(&self) -> &[Edit] {
        &self.legal
    }

    /// Replays `answer`; `None` where it leaves the legal answers, else its
    /// state and the edits it chose.
    fn replay(&self, answer: &[TokenId]) -> Option<(State, Vec<usize>, Option<usize>)> {
        let mut state = State::ExpectEdit;
        let mut chosen: Vec<usize> = Vec::new();
        let mut model = None;
        for &token in answer {
            state = match state {
                State::ExpectEdit if token == self.edit => {
                    let open: Vec<usize> = (0..self.spelled.len()).filter(|k| !chosen.contains(k)).collect();
                    if open.is_empty() {
                        return None;
                    }
                    State::InEdit { open, pos: 0 }
                }
                State::InEdit { open, pos } => {
                    let open: Vec<usize> =
                        open.into_iter().filter(|&k| self.spelled[k].get(pos) == Some(&token)).collect();
                    match open.iter().find(|&&k| self.spelled[k].len() == pos + 1) {
                        Some(&done) => {
                            chosen.push(done);
                            State::AfterEdit
                        }
                        None if open.is_empty() => return None,
                        None => State::InEdit { open, pos: pos + 1 },
                    }
                }
                State::AfterEdit if token == self.edit && chosen.len() < MAX_EDITS => {
                    let open: Vec<usize> = (0..self.spelled.len()).filter(|k| !chosen.contains(k)).collect();
                    if open.is_empty() {
                        return None;
                    }
                    State::InEdit { open, pos: 0 }
                }
                State::AfterEdit if token == self.next => State::ExpectModel,
                State::ExpectModel => {
                    model = Some(self.model_tokens.iter().position(|&t| t == token)?);
                    State::ExpectEnd
                }
                State::ExpectEnd if token == self.end => State::Done,
                _ => return None,
            };
        }
        Some((state, chosen, model))
    }

    /// The tokens that may follow `answer` (a prefix of a legal answer),
    /// sorted; empty when `answer` is complete or not a legal prefix.
    pub fn allowed(&self, answer: &[TokenId]) -> Vec<TokenId> {
        let Some((state, chosen, _)) = self.replay(answer) else { return Vec::new() };
        let mut next: Vec<TokenId> = match state {
            State::ExpectEdit => vec![self.edit],
            State::InEdit { open, pos } => open.iter().filter_map(|&k| self.spelled[k].get(pos).copied()).collect(),
            State::AfterEdit => {
                let more = chosen.len() < MAX_EDITS && chosen.len() < self.spelled.len();
                if more {
                    vec![self.edit, self.next]
                } else {
                    vec![self.next]
                }
            }
            State::ExpectModel => self.model_tokens.clone(),
            State::ExpectEnd => vec![self.end],
            State::Done => Vec::new(),
        };
        next.sort_unstable();
        next.dedup();
        next
    }

    /// The edits (indices into [`edits`](Self::edits)) and the next model
    /// of a complete answer; `None` for anything else.
    pub fn read(&self, answer: &[TokenId]) -> Option<(Vec<usize>, ModelId)> {
        match self.replay(answer)? {
            (State::Done, chosen, Some(model)) => Some((chosen, self.models[model])),
            _ => None,
        }
    }

    /// A complete answer as the JSON text every model's answer is read
    /// from (`protocol::parse_answer`), so that the specialist's answers
    /// take the same path as the others'.
    pub fn answer_json(&self, answer: &[TokenId]) -> Option<String> {
        let (chosen, model) = self.read(answer)?;
        let edits: Vec<String> = chosen.iter().map(|&k| edit_json(&self.legal[k])).collect();
        let position = self.models.iter().position(|&m| m == model)?;
        let name = serde_json::Value::String(self.names[position].clone());
        Some(format!("{{\"edits\": [{}], \"next_model\": {name}}}", edits.join(",")))
    }

    /// The answer choosing `edits` (indices into [`edits`](Self::edits),
    /// at most [`MAX_EDITS`], distinct) and `next`: a training target.
    pub fn encode(&self, edits: &[usize], next: ModelId) -> Option<Vec<TokenId>> {
        let distinct = edits.iter().enumerate().all(|(i, k)| !edits[..i].contains(k));
        if edits.is_empty() || edits.len() > MAX_EDITS || !distinct {
            return None;
        }
        let mut out = Vec::new();
        for &k in edits {
            out.push(self.edit);
            out.extend(self.spelled.get(k)?);
        }
        out.push(self.next);
        out.push(self.model_tokens[self.models.iter().position(|&m| m == next)?]);
        out.push(self.end);
        Some(out)
    }
}
