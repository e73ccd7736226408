//! colt-llm: local LLMs in-process through llama.cpp.
//!
//! Will own: loading a GGUF, reading its metadata, chat formatting,
//! grammar-constrained generation, prompt-prefix KV reuse, and token and
//! time accounting.
