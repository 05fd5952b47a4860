//! Errors caused by what the user gave us (exit status 2), as opposed to internal failures.

use thiserror::Error;

/// Bad input: a config field out of range, a malformed file, a missing dataset.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    /// An invalid value for a named setting, with what is allowed.
    pub fn field(field: &str, value: &str, allowed: &str) -> InputError {
        InputError(format!("invalid value '{value}' for `{field}`: allowed {allowed}"))
    }

    /// Any other input problem, stated in full.
    pub fn msg(text: impl Into<String>) -> InputError {
        InputError(text.into())
    }
}

/// Process exit status for bad input.
pub const EXIT_INPUT: i32 = 2;
/// Process exit status for a failed check (e.g. a verification mismatch) or an internal error.
pub const EXIT_FAILURE: i32 = 1;

/// Maps an error chain to the exit status: 2 when any cause is an [`InputError`].
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.chain().any(|c| c.downcast_ref::<InputError>().is_some()) {
        EXIT_INPUT
    } else {
        EXIT_FAILURE
    }
}
