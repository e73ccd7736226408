//! A GGUF model loaded into llama.cpp.

use crate::backend::{backend, capture_errors};
use crate::chat::{ChatFormat, ChatPrompt};
use crate::error::{GenerationError, ModelError};
use crate::grammar::Grammar;
use crate::info::ModelInfo;
use crate::session::{Session, SessionOptions};
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use std::path::Path;

/// How a model is loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Transformer layers llama.cpp offloads to the GPU (0: all on the CPU;
    /// more than the model has: all of them). Needs a build with a GPU
    /// backend (the `cuda` or `vulkan` feature) and a device it finds.
    pub gpu_layers: u32,
}

impl LoadOptions {
    pub fn gpu_layers(mut self, layers: u32) -> LoadOptions {
        self.gpu_layers = layers;
        self
    }
}

/// The GPU backend this build of llama.cpp has, if any (the crate's
/// `cuda` and `vulkan` features).
pub const GPU_BACKEND: Option<&str> = if cfg!(feature = "cuda") {
    Some("CUDA")
} else if cfg!(feature = "vulkan") {
    Some("Vulkan")
} else {
    None
};

/// A model's weights, memory-mapped from its GGUF file, and its metadata.
///
/// A `Model` is immutable and can be shared between threads; calls run in a
/// [`Session`], which borrows it.
pub struct Model {
    info: ModelInfo,
    llama: LlamaModel,
    chat_format: ChatFormat,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).field("chat_format", &self.chat_format).finish()
    }
}

impl Model {
    /// Validates the GGUF at `path` (header, metadata, that the tensor data
    /// is all there), then loads it into llama.cpp, memory-mapped, on the
    /// CPU.
    pub fn load(path: impl AsRef<Path>) -> Result<Model, ModelError> {
        Model::load_with(path, &LoadOptions::default())
    }

    /// [`load`](Model::load), with `options`' layers offloaded to a GPU.
    pub fn load_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Model, ModelError> {
        let info = ModelInfo::read(path)?;
        let backend = backend()?;
        if options.gpu_layers > 0 && !backend.supports_gpu_offload() {
            // llama.cpp would quietly run every layer on the CPU instead.
            let reason = match GPU_BACKEND {
                None => "this colt was built without a GPU backend (build it with `--features cuda` or \
                         `--features vulkan`, see docs/src/models.md, \"Models on a GPU\")"
                    .to_string(),
                Some(name) => format!("its {name} backend finds no GPU device on this machine"),
            };
            return Err(ModelError::NoGpu { path: info.path.clone(), gpu_layers: options.gpu_layers, reason });
        }
        let params = LlamaModelParams::default().with_use_mmap(true).with_n_gpu_layers(options.gpu_layers);
        let (loaded, errors) = capture_errors(|| LlamaModel::load_from_file(backend, &info.path, &params));
        let llama = loaded.map_err(|e| {
            let path = info.path.clone();
            if errors.contains("unknown model architecture") {
                ModelError::UnsupportedArchitecture { path, architecture: info.architecture.clone() }
            } else {
                let reason = if errors.is_empty() { e.to_string() } else { errors };
                ModelError::Rejected { path, reason }
            }
        })?;
        let chat_format = ChatFormat::for_model(&llama, info.chat_template.as_deref());
        Ok(Model { info, llama, chat_format })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// How prompts are formatted: the file's chat template when llama.cpp
    /// can apply it, else [`ChatFormat::Plain`].
    pub fn chat_format(&self) -> &ChatFormat {
        &self.chat_format
    }

    /// Formats prompts another way from now on (e.g. a built-in template
    /// such as `gemma` for a base model that has none).
    pub fn set_chat_format(&mut self, format: ChatFormat) {
        self.chat_format = format;
    }

    /// The text the model reads for `prompt`.
    pub fn format(&self, prompt: &ChatPrompt) -> Result<String, GenerationError> {
        self.chat_format.render(&self.llama, prompt)
    }

    /// How many tokens `text` takes as a prompt (for budgeting prompts
    /// against a session's context).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.llama.vocab().tokenize(text.as_bytes(), true, true).len()
    }

    /// Checks that llama.cpp accepts `grammar` (for callers that build
    /// grammars once and want errors early).
    pub fn check_grammar(&self, grammar: &Grammar) -> Result<(), GenerationError> {
        grammar.sampler(&self.llama).map(drop)
    }

    /// A new session: a llama.cpp context with its own KV cache.
    pub fn session(&self, options: SessionOptions) -> Result<Session<'_>, GenerationError> {
        Session::new(self, options)
    }

    pub(crate) fn llama(&self) -> &LlamaModel {
        &self.llama
    }
}
