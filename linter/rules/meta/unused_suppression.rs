//! ## What it does
//! Reports a suppression that is not what its writer meant, always: an unknown rule id (with
//! the closest one: "did you mean `blocking-fs`?"), a marker spelled otherwise than
//! `// stall: allow(` (`// stall:allow(..)`), a block comment (`/* stall: allow(..) */`), a
//! name without `stall::` in `#[cfg_attr(stall, allow(..))]`. With
//! `--report-unused-suppressions`, also a `// stall: allow(..)` comment or `#[cfg_attr(stall,
//! allow(stall::..))]` attribute that suppressed nothing.
//!
//! ## Why is this bad?
//! A stale suppression hides the next real finding on that line, and misleads readers into
//! thinking the code blocks.
//!
//! ## Example
//! ```rust,ignore
//! async fn load() -> String {
//!     tokio::fs::read_to_string("a").await.unwrap() // stall: allow(blocking-fs)
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn load() -> String {
//!     tokio::fs::read_to_string("a").await.unwrap()
//! }
//! ```
//!
//! ## Known limitations
//! A suppression of a rule that is not selected in this run counts as unused.

crate::registry::declare_rule! {
    UnusedSuppression = "unused-suppression",
    summary: "a suppression comment that suppresses nothing",
    severity: Warning,
    fixable: false,
}

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// A suppression written at `at` for `rules` that matched no finding.
pub(crate) fn diagnostic(at: Span, rules: &[String]) -> Diagnostic {
    Diagnostic::new(RULE, at, format!("`allow({})` suppresses nothing", rules.join(", ")))
        .with_label("no finding here to suppress")
        .with_help("remove the suppression, or fix its rule id")
}
