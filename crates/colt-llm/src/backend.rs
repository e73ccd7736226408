//! The process's one llama.cpp backend, and where llama.cpp's log goes.
//!
//! llama.cpp logs to stderr by default, which would interleave with colt's
//! own output (a progress bar, JSON lines). colt silences it, but keeps the
//! error lines: when a load fails they are the only place llama.cpp says why
//! (`unknown model architecture: 'x'`, a missing tensor...).

use crate::error::ModelError;
use llama_cpp_2::llama_backend::LlamaBackend;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
/// Error lines logged by llama.cpp since the last [`capture_errors`] began.
static ERRORS: Mutex<String> = Mutex::new(String::new());
/// Serialises [`capture_errors`] so that captured lines belong to one load.
static CAPTURE: Mutex<()> = Mutex::new(());
/// A bound on the captured text: a failing load logs a few lines.
const MAX_CAPTURED_BYTES: usize = 4096;

/// The backend, initialised on first use. llama.cpp allows one per process
/// and it is never freed (freeing it while a model lives is undefined).
pub(crate) fn backend() -> Result<&'static LlamaBackend, ModelError> {
    BACKEND
        .get_or_init(|| {
            let backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // SAFETY: `capture_log` is a plain function that lives for the
            // whole process and ignores `user_data`.
            unsafe { llama_cpp_sys_2::llama_log_set(Some(capture_log), std::ptr::null_mut()) };
            Ok(backend)
        })
        .as_ref()
        .map_err(|reason| ModelError::Backend { reason: reason.clone() })
}

/// Runs `f` and returns what llama.cpp logged as errors meanwhile, one line
/// per message, without its function-name prefix.
pub(crate) fn capture_errors<T>(f: impl FnOnce() -> T) -> (T, String) {
    let _one_at_a_time = lock(&CAPTURE);
    lock(&ERRORS).clear();
    let result = f();
    let errors = std::mem::take(&mut *lock(&ERRORS));
    (result, errors)
}

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    // Nothing panics while holding these locks; a poisoned one holds a valid string.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

unsafe extern "C" fn capture_log(level: llama_cpp_sys_2::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if level != llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR || text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for this call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    // llama.cpp prefixes messages with `function_name: `.
    let text = text.trim().split_once(": ").map_or(&*text, |(_, rest)| rest).trim();
    let mut errors = lock(&ERRORS);
    if errors.len() + text.len() < MAX_CAPTURED_BYTES {
        if !errors.is_empty() {
            errors.push_str("; ");
        }
        errors.push_str(text);
    }
}
