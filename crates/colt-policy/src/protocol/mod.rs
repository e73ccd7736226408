//! The joint-action protocol: what a model is shown (a fixed system part
//! and a per-call user part), the grammar its answer is decoded under, and
//! the reading of that answer into typed edits and a next model.

mod answer;
mod grammar;
mod legal_list;
mod prompt;
mod system;

pub use answer::{parse_answer, AnswerProblem, Applied, JointAction};
pub use grammar::{answer_grammar, edit_json, AnswerShape, MAX_EDITS};
pub use legal_list::legal_edits_text;
pub use prompt::{correction_prompt, expansion_prompt, ExpansionView, Scores, SearchProgress, Shown};
pub use system::system_prompt;

#[cfg(test)]
mod tests;
