//! ## What it does
//! Reports a file that could not be parsed as Rust, or that stall declined to parse (nesting
//! deeper than it can analyse safely). The message gives syn's error and its position.
//!
//! ## Why is this bad?
//! Nothing in the file was checked, so a blocking call in it would go unnoticed.
//!
//! ## Example
//! ```rust,ignore
//! async fn broken( {
//! ```
//!
//! ## Use instead
//! Fix the syntax error. Files that are invalid on purpose (test inputs) can be left out with
//! `exclude` in the config.
//!
//! ## Known limitations
//! syn follows stable Rust syntax; very new or unstable syntax may fail to parse although rustc
//! accepts it on nightly.

crate::registry::declare_rule! {
    ParseError = "parse-error",
    summary: "a file that could not be parsed",
    severity: Error,
    fixable: false,
}

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// A file that could not be parsed: `message` says why, `label` points at the place.
pub(crate) fn diagnostic(span: Span, message: String, label: String) -> Diagnostic {
    Diagnostic::new(RULE, span, message).with_label(label)
}
