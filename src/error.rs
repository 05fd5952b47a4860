//! Errors caused by what the user gave us (exit status 2), as opposed to internal failures.

use thiserror::Error;

/// Bad input: a config field out of range, a malformed file, a missing dataset.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct InputError(pub String);

/// Characters of a rejected value shown in a message; the rest is summarised.
pub const SHOWN_VALUE_CHARS: usize = 80;

impl InputError {
    /// An invalid value for a named setting, with what is allowed (a long value is shortened).
    pub fn field(field: &str, value: &str, allowed: &str) -> InputError {
        InputError(format!("invalid value '{}' for `{field}`: allowed {allowed}", shorten(value, SHOWN_VALUE_CHARS)))
    }

    /// Any other input problem, stated in full.
    pub fn msg(text: impl Into<String>) -> InputError {
        InputError(text.into())
    }
}

/// `text` cut to at most `max` characters, saying how long it was: a 50 MB value in a
/// config file must not come back whole in the error.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes in all)", &text[..cut], text.len()),
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

/// The error as printed: every line cut to a readable length (a message quoting a huge
/// input line, e.g. from the TOML parser, stays short).
pub fn report(err: &anyhow::Error) -> String {
    format!("{err:#}").lines().map(|l| shorten(l, 400)).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten(&"x".repeat(100), 5), "xxxxx... (100 bytes in all)");
        assert_eq!(shorten("ééé", 2), "éé... (6 bytes in all)");
        let e = InputError::field("name", &"a".repeat(50_000_000), "an identifier");
        assert!(e.0.len() < 200, "{}", e.0);
    }
}
