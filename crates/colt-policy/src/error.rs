//! The crate's errors.

/// What can be wrong with the policy's configuration.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("a roster needs at least one model")]
    NoModels,
    #[error("a roster holds at most 65535 models, not {0}")]
    TooManyModels(usize),
    #[error("model `{0}` is listed twice")]
    DuplicateModel(String),
    #[error("model name `{0}` is empty or holds a quote, backslash or control character (answers name models in JSON strings)")]
    BadModelName(String),
    #[error("model `{0}` has 0 parameters (φ takes the logarithm of the parameter count)")]
    ZeroParameters(String),
    #[error("{name} = {value} is out of range: {range}")]
    OutOfRange { name: &'static str, value: f64, range: &'static str },
}

/// Checks a parameter lies in `[lo, hi]` (and is not NaN).
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: &'static str,
) -> Result<f64, PolicyError> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(PolicyError::OutOfRange { name, value, range })
    }
}
