//! Test helpers for the rules' unit tests: check a source text in process, and compare the
//! findings with caret-and-message markers written under the lines they point at, in the
//! spirit of rust-analyzer's `check_diagnostics`:
//!
//! ```text
//! async fn f() {
//!     std::thread::sleep(d);
//!  // ^^^^^^^^^^^^^^^^^^^^^ blocking-sleep: blocking call `std::thread::sleep` in async fn `f`
//! }
//! ```
//! A marker line is a comment whose `^`s start at the finding's first column and span its
//! first line; after them comes `rule-id: message` (the message may be a prefix). Every finding
//! of the text must have a marker and every marker a finding.

use crate::diagnostic::Diagnostic;
use crate::engine::{self, Options};
use crate::facts::FileFacts;
use crate::project::Place;

/// Runs `f` on a thread with the analysis stack.
fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(engine::ANALYSIS_STACK).spawn(f).unwrap().join().unwrap()
}

/// The facts of one text, checked as a file of its own.
pub(crate) fn facts(src: &str) -> FileFacts {
    let src = src.to_string();
    on_big_stack(move || engine::analyze(&src, &Place::default(), &Options::default()))
}

/// The findings of one text, checked on its own (joined and settled like a run).
pub(crate) fn findings(src: &str) -> Vec<Diagnostic> {
    let src = src.to_string();
    on_big_stack(move || engine::check_alone(&src, &Place::default(), &Options::default()))
}

/// A marker: the line it points at (1-based), the first column, the width, and the text after
/// the carets.
struct Marker {
    line: usize,
    column: usize,
    width: usize,
    text: String,
}

fn markers(src: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut code_line = 0;
    for (i, line) in src.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix("//") else {
            code_line = i + 1;
            continue;
        };
        let Some(caret) = line.find('^') else {
            code_line = i + 1;
            continue;
        };
        if !rest.trim_start().starts_with('^') {
            code_line = i + 1;
            continue;
        }
        let width = line[caret..].chars().take_while(|&c| c == '^').count();
        let text = line[caret + width..].trim().to_string();
        let column = line[..caret].chars().count() + 1;
        out.push(Marker { line: code_line, column, width, text });
    }
    out
}

/// Checks `src` and asserts that its findings (of every rule) are exactly its markers.
#[track_caller]
pub(crate) fn check(src: &str) {
    let found = findings(src);
    let wanted = markers(src);
    let describe = |d: &Diagnostic| {
        format!("{}:{} {}: {}", d.span.start.line, d.span.start.column, d.rule.id(), d.message)
    };
    let mut unmatched: Vec<&Diagnostic> = found.iter().collect();
    let mut missing = Vec::new();
    for m in &wanted {
        let (rule, message) =
            m.text.split_once(':').map_or((m.text.as_str(), ""), |(r, s)| (r.trim(), s.trim()));
        let hit = unmatched.iter().position(|d| {
            let width = if d.span.end.line == d.span.start.line {
                d.span.end.column - d.span.start.column
            } else {
                usize::MAX
            };
            d.span.start.line == m.line
                && d.span.start.column == m.column
                && (width == m.width || width == usize::MAX)
                && d.rule.id() == rule
                && d.message.starts_with(message)
        });
        match hit {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(format!("{}:{} (width {}) {}", m.line, m.column, m.width, m.text)),
        }
    }
    assert!(
        missing.is_empty() && unmatched.is_empty(),
        "missing (marked, not found): {missing:#?}\nunexpected (found, not marked): {:#?}",
        unmatched.iter().map(|d| describe(d)).collect::<Vec<_>>()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "unexpected (found, not marked)")]
    fn a_finding_without_a_marker_fails() {
        check("async fn f(d: std::time::Duration) {\n    std::thread::sleep(d);\n}\n");
    }

    #[test]
    #[should_panic(expected = "missing (marked, not found)")]
    fn a_marker_with_the_wrong_message_fails() {
        check(
            "async fn f(d: std::time::Duration) {\n    std::thread::sleep(d);\n//  ^^^^^^^^^^^^^^^^^^^^^ \
             blocking-sleep: blocking call `x`\n}\n",
        );
    }

    /// No top-level module of `linter/` (a file, or a folder taken as one unit) imports one
    /// that imports it back, directly or around a circle: data flows one way.
    #[test]
    fn top_level_modules_import_without_circles() {
        use std::collections::{BTreeMap, BTreeSet};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("linter");
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap();
                let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
                if top == "bin" || top == "testing" || path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Code only: leave out test modules and comments.
                let code = text.split("#[cfg(test)]").next().unwrap();
                for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for (i, _) in line.match_indices("crate::") {
                        let name: String = line[i + 7..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() && name != top && name.chars().next().unwrap().is_lowercase() {
                            deps.entry(top.clone()).or_default().insert(name);
                        }
                    }
                }
            }
        }
        assert!(deps.len() > 8, "{deps:?}");
        for (from, tos) in &deps {
            for to in tos {
                // Is `from` reachable from `to`?
                let mut seen = BTreeSet::new();
                let mut todo = vec![to.clone()];
                while let Some(m) = todo.pop() {
                    assert!(&m != from, "import circle: {from} -> {to} -> .. -> {from}\n{deps:#?}");
                    if seen.insert(m.clone()) {
                        todo.extend(deps.get(&m).into_iter().flatten().cloned());
                    }
                }
            }
        }
    }
}
