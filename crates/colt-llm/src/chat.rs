//! Turning a system and a user message into the text a model reads.

use crate::error::GenerationError;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

/// One exchange: the fixed instructions of a job and the request of a call.
///
/// Within a job the system message never changes, so its tokens form a
/// prefix that a [`crate::Session`] keeps in its KV cache across calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPrompt {
    pub system: String,
    pub user: String,
}

impl ChatPrompt {
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> ChatPrompt {
        ChatPrompt { system: system.into(), user: user.into() }
    }
}

/// How a [`ChatPrompt`] becomes text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatFormat {
    /// A chat template that llama.cpp's `llama_chat_apply_template`
    /// recognises: a model's own Jinja template (llama.cpp matches it to one
    /// of its built-in formats) or a built-in name such as `chatml` or
    /// `gemma`. The assistant's turn is opened at the end.
    Template(String),
    /// The fallback for files without a (recognised) template, such as base
    /// models like the default Gemma-3-270M:
    ///
    /// ```text
    /// {system}
    ///
    /// User: {user}
    /// Assistant:
    /// ```
    ///
    /// Plain text works with any tokenizer and puts the system message
    /// first, so its prefix is reusable like a template's.
    Plain,
}

impl ChatFormat {
    /// The model's own template if it has one that llama.cpp can apply, else
    /// [`ChatFormat::Plain`].
    pub(crate) fn for_model(model: &LlamaModel, template: Option<&str>) -> ChatFormat {
        match template {
            Some(t) => {
                let format = ChatFormat::Template(t.to_string());
                let probe = ChatPrompt::new("s", "u");
                if format.render(model, &probe).is_ok() {
                    format
                } else {
                    ChatFormat::Plain
                }
            }
            None => ChatFormat::Plain,
        }
    }

    /// The text of `prompt`, ending where the assistant's answer begins.
    pub(crate) fn render(&self, model: &LlamaModel, prompt: &ChatPrompt) -> Result<String, GenerationError> {
        match self {
            ChatFormat::Plain => Ok(format!("{}\n\nUser: {}\nAssistant:", prompt.system, prompt.user)),
            ChatFormat::Template(template) => {
                let error = |reason: String| GenerationError::ChatTemplate { reason };
                let template = LlamaChatTemplate::new(template).map_err(|e| error(e.to_string()))?;
                let messages = [("system", &prompt.system), ("user", &prompt.user)]
                    .into_iter()
                    .map(|(role, content)| LlamaChatMessage::new(role.into(), content.clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| error(e.to_string()))?;
                model.apply_chat_template(&template, &messages, true).map_err(|e| error(e.to_string()))
            }
        }
    }
}
