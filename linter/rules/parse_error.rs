//! ## What it does
//! Reports a file that could not be parsed as Rust, or that stall declined to parse (nesting
//! deeper than it can analyse safely). A file that does not split into tokens is reported as
//! rustc reports it: an unclosed or mismatched delimiter at the delimiter ("this file contains
//! an unclosed delimiter"), an unterminated string or comment where it starts; otherwise the
//! message is the parser's, at its position.
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
