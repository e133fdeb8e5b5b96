//! `--add-allow[=REASON]`: adopt stall on a codebase with findings, as ruff's `--add-noqa`
//! does: every current finding gets a `// stall: allow(rule) -- REASON` comment (`TODO` unless
//! a reason is given), so that only new code is held to the rules. Fix them later by grepping
//! for the reason.
//!
//! The comment goes at the end of the finding's first line, or into the `stall: allow(..)`
//! comment already there. A line that ends inside a string or block comment gets the comment
//! on a line of its own above it instead (which covers the next line).

use std::collections::BTreeMap;

use crate::diagnostic::Edit;
use crate::diagnostic::Report;
use crate::engine::lexer::{self, Kind};
use crate::fix::apply_edits;
use crate::registry::Rule;
use crate::source::SourceIndex;

use super::fixing::{parses, write_atomically};

const MARKER: &str = "stall: allow(";

/// What `--add-allow` did.
#[derive(Debug, Default)]
pub struct Added {
    /// Lines that got a suppression (or more rules in theirs).
    pub lines: usize,
    pub files: usize,
    /// (path, why) of files or lines left as they were.
    pub refused: Vec<(String, String)>,
}

/// Adds a suppression for every finding of the report to the files.
pub fn add(report: &Report, reason: &str) -> Added {
    let mut added = Added::default();
    for file in &report.files {
        let Some(text) = file.text.as_deref() else { continue };
        let mut lines: BTreeMap<usize, Vec<Rule>> = BTreeMap::new();
        for d in &file.diagnostics {
            // A file that does not parse has no suppressions; a suppression is not suppressed.
            if matches!(d.rule, Rule::ParseError | Rule::UnusedSuppression) {
                continue;
            }
            let rules = lines.entry(d.span.start.line).or_default();
            if !rules.contains(&d.rule) {
                rules.push(d.rule);
            }
        }
        if lines.is_empty() {
            continue;
        }
        let (edits, refused) = edits_for(text, &lines, reason);
        for line in refused {
            let why = format!(
                "line {line} ends and starts inside a string or comment: add the suppression by hand"
            );
            added.refused.push((file.display.clone(), why));
        }
        if edits.is_empty() {
            continue;
        }
        let edit_refs: Vec<&Edit> = edits.iter().collect();
        let new = match apply_edits(text, &edit_refs) {
            Ok(new) => new,
            Err(e) => {
                added.refused.push((file.display.clone(), e));
                continue;
            }
        };
        if let Err(e) = parses(&new) {
            added.refused.push((file.display.clone(), format!("the file would not parse ({e})")));
            continue;
        }
        if let Err(e) = write_atomically(&file.path, &new) {
            added.refused.push((file.display.clone(), format!("cannot write: {e}")));
            continue;
        }
        added.lines += edits.len();
        added.files += 1;
    }
    added
}

/// The edits that suppress `lines` (1-based line -> rules) of a text, and the lines that
/// cannot take a comment.
fn edits_for(text: &str, lines: &BTreeMap<usize, Vec<Rule>>, reason: &str) -> (Vec<Edit>, Vec<usize>) {
    let idx = SourceIndex::new(text);
    let pieces = lexer::pieces(text);
    let mut edits = Vec::new();
    let mut refused = Vec::new();
    let at = |offset: usize, replacement: String| Edit {
        start: idx.position_of_offset(offset),
        end: idx.position_of_offset(offset),
        replacement,
    };
    for (&line, rules) in lines {
        let start = idx.position(line, 0).offset;
        let line_text = idx.line_text(line);
        let end = start + line_text.len();
        let ids: Vec<&str> = rules.iter().map(|r| r.id()).collect();
        // A suppression comment on the line already: add the rules to it.
        let existing = pieces.iter().find(|p| {
            p.kind == Kind::LineComment { doc: false } && p.start >= start && p.start < end.max(start + 1)
        });
        if let Some(close) = existing.and_then(|p| {
            let comment = &text[p.start..p.end];
            let open = comment.find(MARKER)? + MARKER.len();
            Some(p.start + open + comment[open..].find(')')?)
        }) {
            edits.push(at(close, format!(", {}", ids.join(", "))));
            continue;
        }
        let comment = format!("// {MARKER}{}) -- {reason}", ids.join(", "));
        if !lexer::inside_literal_or_block_comment(&pieces, end) {
            let gap = if line_text.is_empty() || line_text.ends_with(char::is_whitespace) { "" } else { " " };
            edits.push(at(end, format!("{gap}{comment}")));
        } else if !lexer::inside_literal_or_block_comment(&pieces, start) {
            let indent: String = line_text.chars().take_while(|c| c.is_whitespace()).collect();
            edits.push(at(start, format!("{indent}{comment}\n")));
        } else {
            refused.push(line);
        }
    }
    (edits, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(text: &str, lines: &[(usize, &[Rule])]) -> String {
        let lines: BTreeMap<usize, Vec<Rule>> = lines.iter().map(|(l, r)| (*l, r.to_vec())).collect();
        let (edits, refused) = edits_for(text, &lines, "TODO");
        assert!(refused.is_empty());
        apply_edits(text, &edits.iter().collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn comments_go_at_the_line_end_into_an_existing_one_or_above_a_string() {
        let text = "async fn f() {\n    a(); b();\n    c(); // stall: allow(blocking-fs) -- why\n    let s = format!(\"{}\n\", d());\n}\n";
        let got = added(
            text,
            &[
                (2, &[Rule::BlockingFs, Rule::BlockingSleep]),
                (3, &[Rule::BlockingNet]),
                (4, &[Rule::BlockingDb]),
            ],
        );
        assert_eq!(
            got,
            "async fn f() {\n    a(); b(); // stall: allow(blocking-fs, blocking-sleep) -- TODO\n    c(); // stall: allow(blocking-fs, blocking-net) -- why\n    // stall: allow(blocking-db) -- TODO\n    let s = format!(\"{}\n\", d());\n}\n"
        );
    }
}
