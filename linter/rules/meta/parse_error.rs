//! ## What it does
//! Reports a file that could not be parsed as Rust, or that stall declined to parse (nesting
//! deeper than it can analyse safely). A file that does not split into tokens is reported as
//! rustc reports it: an unclosed or mismatched delimiter at the delimiter ("this file contains
//! an unclosed delimiter"), an unterminated string or comment where it starts; otherwise the
//! message is the parser's, at its position. A file of a package that no module declaration
//! reaches (a template named `.rs`) is not compiled: its error is counted with the code no
//! program reaches and shown with `--all`.
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

#[cfg(test)]
mod tests {
    use crate::testing::findings;

    #[test]
    fn an_unclosed_parameter_list_is_one_error_naming_the_problem() {
        let found = findings("async fn broken( {\n}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, super::RULE);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Error);
        // As rustc says it, at the delimiter left open.
        assert_eq!(found[0].message, "this file contains an unclosed delimiter");
        assert_eq!((found[0].span.start.line, found[0].span.start.column), (1, 16));
        // A file without async code that does not parse is not stall's business.
        assert!(findings("fn broken( {\n}\n").is_empty());
    }
}
