//! Inline suppressions: `// stall: allow(rule-id, ..) -- reason` at the end of the flagged
//! line, on the line before it, or before an item (fn, impl, mod, trait) to cover the whole
//! item; and `#[cfg_attr(stall, allow(stall::rule_id))]` on an item, which compiles everywhere.
//! Pure: works on the text and the items the walk saw.

use crate::diagnostic::Diagnostic;
use crate::facts::{ItemLines, Suppression};
use crate::rules::meta::unused_suppression;
use crate::source::{SourceIndex, Span};

const MARKER: &str = "stall: allow(";

/// Finds the suppressions of a file.
pub(crate) fn collect(text: &str, items: &[ItemLines], idx: &SourceIndex) -> Vec<Suppression> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(pos) = line.find("//") else { continue };
        let comment = &line[pos..];
        let Some(start) = comment.find(MARKER) else { continue };
        let rest = &comment[start + MARKER.len()..];
        let Some(close) = rest.find(')') else { continue };
        let rules: Vec<String> =
            rest[..close].split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
        let line_no = i + 1;
        let col = line[..pos].chars().count();
        let at = Span { start: idx.position(line_no, col), end: idx.position(line_no, line.chars().count()) };
        let (first_line, last_line) = if line[..pos].trim().is_empty() {
            // A comment line: it covers the next code line, or the item starting there.
            let next = (i + 1..lines.len())
                .find(|&j| {
                    let t = lines[j].trim_start();
                    !(t.is_empty() || t.starts_with("//") || t.starts_with("#[") || t.starts_with("#!"))
                })
                .map_or(line_no + 1, |j| j + 1);
            let attr_start =
                (i + 1..next - 1).find(|&j| lines[j].trim_start().starts_with("#[")).map(|j| j + 1);
            match covering(items, next, attr_start) {
                Some((s, e)) => (s.min(next), e),
                None => (next, next),
            }
        } else {
            (line_no, line_no)
        };
        out.push(Suppression { rules, first_line, last_line, at, used: false });
    }
    for item in items {
        for allow in &item.allows {
            out.push(Suppression {
                rules: allow.rules.clone(),
                first_line: item.first,
                last_line: item.last,
                at: allow.span,
                used: false,
            });
        }
    }
    out
}

/// The innermost item starting on `line` (or whose attributes start on `attr_line`).
fn covering(items: &[ItemLines], line: usize, attr_line: Option<usize>) -> Option<(usize, usize)> {
    items
        .iter()
        .map(|i| (i.first, i.last))
        .filter(|(s, _)| *s == line || Some(*s) == attr_line)
        .max_by_key(|(s, e)| (*s, std::cmp::Reverse(*e)))
}

/// Drops the diagnostics a suppression covers, marking those suppressions used.
pub(crate) fn apply(diagnostics: &mut Vec<Diagnostic>, suppressions: &mut [Suppression]) {
    diagnostics.retain(|d| {
        let line = d.span.start.line;
        let mut keep = true;
        for s in suppressions.iter_mut() {
            let covers = s.first_line <= line && line <= s.last_line;
            if covers && s.rules.iter().any(|r| r == d.rule.id() || r == "all") {
                s.used = true;
                keep = false;
            }
        }
        keep
    });
}

/// Findings for suppressions that matched nothing.
pub(crate) fn unused(suppressions: &[Suppression]) -> Vec<Diagnostic> {
    suppressions.iter().filter(|s| !s.used).map(|s| unused_suppression::diagnostic(s.at, &s.rules)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(src: &str) -> Vec<(Vec<String>, usize, usize)> {
        let facts = crate::testing::facts(src);
        let idx = SourceIndex::new(src);
        collect(src, &facts.items, &idx).into_iter().map(|s| (s.rules, s.first_line, s.last_line)).collect()
    }

    #[test]
    fn end_of_line_next_line_and_item_suppressions() {
        let src = "\
async fn a() {
    x(); // stall: allow(blocking-fs) -- fine here
    // stall: allow(blocking-sleep, blocking-wait)
    y();
}
// stall: allow(all) -- a whole item
#[inline]
async fn b() {
    z();
}
#[cfg_attr(stall, allow(stall::blocking_fs))]
fn c() {}
";
        assert_eq!(
            lines_of(src),
            [
                (vec!["blocking-fs".to_string()], 2, 2),
                (vec!["blocking-sleep".to_string(), "blocking-wait".to_string()], 4, 4),
                (vec!["all".to_string()], 7, 10),
                (vec!["blocking-fs".to_string()], 11, 12),
            ]
        );
    }
}
