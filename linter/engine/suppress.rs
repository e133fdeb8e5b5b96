//! Inline suppressions: `// stall: allow(rule-id, ..) -- reason` at the end of the flagged
//! line, on the line before it, or before an item (fn, impl, mod, trait) to cover the whole
//! item; and `#[cfg_attr(stall, allow(stall::rule_id))]` on an item, which compiles everywhere.
//! Rule ids may be spelled with underscores in both forms (`blocking_fs`).
//!
//! What looks like a suppression but is not one (an unknown rule id, `// stall:allow(..)`,
//! `/* stall: allow(..) */`, `allow(blocking_fs)` without `stall::` in `cfg_attr`) is reported
//! as an `unused-suppression` warning with what was meant, instead of being silently ignored.
//! Pure: works on the text and the items the walk saw.

use super::lexer::{self, Kind};
use crate::diagnostic::Diagnostic;
use crate::facts::{ItemLines, Problem, Suppression};
use crate::registry::names as rule_names;
use crate::registry::Rule;
use crate::rules::meta::unused_suppression::{self, RULE as UNUSED};
use crate::source::{SourceIndex, Span};

const MARKER: &str = "stall: allow(";

/// Finds the suppressions of a file.
pub(crate) fn collect(text: &str, items: &[ItemLines], idx: &SourceIndex) -> Vec<Suppression> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for piece in lexer::pieces(text) {
        let block = match piece.kind {
            Kind::LineComment { doc: false } => false,
            Kind::BlockComment { doc: false, .. } => true,
            _ => continue,
        };
        let comment = &text[piece.start..piece.end];
        let start = idx.position_of_offset(piece.start);
        let line_no = start.line;
        let line = lines.get(line_no - 1).copied().unwrap_or("");
        let end = if block {
            idx.position_of_offset(piece.end)
        } else {
            idx.position(line_no, line.chars().count())
        };
        let at = Span { start, end };
        let Some(found) = read_comment(comment, block) else { continue };
        let own_line = text[..piece.start].rsplit('\n').next().is_some_and(|before| before.trim().is_empty());
        let (first_line, last_line) = if own_line {
            // A comment line: it covers the next code line, or the item starting there.
            let i = line_no - 1;
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
        out.push(Suppression {
            rules: found.rules,
            first_line,
            last_line,
            at,
            used: false,
            problems: found.problems,
        });
    }
    for item in items {
        for allow in &item.allows {
            let mut rules = Vec::new();
            let mut problems = Vec::new();
            for written in &allow.names {
                match written.strip_prefix("stall::") {
                    Some(name) => match known(name) {
                        Ok(rule) => rules.push(rule),
                        Err(p) => problems.push(p),
                    },
                    // A name without `stall::`, which rustc would read as its own lint.
                    None => problems.push(Problem {
                        message: format!("`allow({written})` in `cfg_attr(stall, ..)` is not a suppression"),
                        label: "stall reads only `stall::` names here".into(),
                        help: format!("write `allow(stall::{})`", written.replace('-', "_")),
                    }),
                }
            }
            out.push(Suppression {
                rules,
                first_line: item.first,
                last_line: item.last,
                at: allow.span,
                used: false,
                problems,
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

/// The rule ids of a comment that is a suppression, and what is wrong with one that is meant
/// as one; `None` for an ordinary comment.
struct Found {
    rules: Vec<String>,
    problems: Vec<Problem>,
}

fn read_comment(comment: &str, block: bool) -> Option<Found> {
    let lower = comment.to_ascii_lowercase();
    let (start, len) = near_miss(&lower)?;
    let written = &comment[start..start + len];
    let after = &comment[start + len..];
    let closer = if written.ends_with('[') { ']' } else { ')' };
    let close = after.find(closer);
    let list = &after[..close.unwrap_or(after.len())];
    let names: Vec<String> =
        list.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
    let meant = format!(
        "// {MARKER}{})",
        names.iter().map(|n| rule_names::normalise(n)).collect::<Vec<_>>().join(", ")
    );
    let malformed = |message: String, label: &str| Found {
        rules: Vec::new(),
        problems: vec![Problem { message, label: label.into(), help: format!("write `{meant}`") }],
    };
    if block {
        return Some(malformed(
            "a block comment is not a suppression".into(),
            "stall reads suppressions only from `//` comments",
        ));
    }
    if written != MARKER {
        return Some(malformed(
            format!("`{}` is not a suppression", written.trim_end_matches(['(', '[']).trim_end()),
            "not read as a suppression",
        ));
    }
    if close.is_none() {
        return Some(malformed("a suppression without its closing `)`".into(), "not read as a suppression"));
    }
    if names.is_empty() {
        return Some(malformed("`stall: allow()` names no rule".into(), "suppresses nothing"));
    }
    let mut found = Found { rules: Vec::new(), problems: Vec::new() };
    for name in names {
        match known(&name) {
            Ok(rule) => found.rules.push(rule),
            Err(p) => found.problems.push(p),
        }
    }
    Some(found)
}

/// Where a comment says `stall: allow(` or something close to it (`stall:allow(`,
/// `stall allow(`, `Stall: Allow (`): the start and length of what was written, in `lower`.
fn near_miss(lower: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(at) = lower[from..].find("stall") {
        let start = from + at;
        let rest = &lower[start + "stall".len()..];
        let word_before = lower[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after_colon = rest.trim_start().strip_prefix(':').unwrap_or(rest.trim_start());
        let after_allow = after_colon.trim_start().strip_prefix("allow");
        if let (false, Some(tail)) = (word_before, after_allow) {
            let paren = tail.trim_start();
            if paren.starts_with('(') || paren.starts_with('[') {
                let len = lower.len() - start - paren.len() + 1;
                return Some((start, len));
            }
        }
        from = start + "stall".len();
    }
    None
}

/// A rule id of a suppression (`all`, or a rule however spelled), as its canonical id.
fn known(name: &str) -> Result<String, Problem> {
    let norm = rule_names::normalise(name);
    if norm == "all" {
        return Ok(norm);
    }
    if let Some(rule) = rule_names::rule(name) {
        return Ok(rule.id().to_string());
    }
    let candidates = Rule::ALL.iter().map(|r| r.id()).chain(["all"]);
    let help = match rule_names::closest(name, candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "`stall rules` lists the rule ids".to_string(),
    };
    Err(Problem {
        message: format!("unknown rule `{name}` in a suppression"),
        label: "not a rule id: this suppresses nothing".into(),
        help,
    })
}

/// Drops the diagnostics a suppression covers, marking those suppressions used, and adds a
/// warning for each suppression that is not what its writer meant.
pub(crate) fn apply(diagnostics: &mut Vec<Diagnostic>, suppressions: &mut [Suppression]) {
    diagnostics.retain(|d| {
        let lines = [Some(d.span.start.line), d.chain_start.map(|p| p.line)];
        let mut keep = true;
        for s in suppressions.iter_mut() {
            let covers = lines.iter().flatten().any(|&line| s.first_line <= line && line <= s.last_line);
            if covers && s.rules.iter().any(|r| r == d.rule.id() || r == "all") {
                s.used = true;
                keep = false;
            }
        }
        keep
    });
    let before = diagnostics.len();
    for s in suppressions.iter() {
        for p in &s.problems {
            diagnostics.push(
                Diagnostic::new(UNUSED, s.at, p.message.clone())
                    .with_label(p.label.clone())
                    .with_help(p.help.clone()),
            );
        }
    }
    if diagnostics.len() > before {
        diagnostics.sort_by_key(Diagnostic::sort_key);
    }
}

/// Findings for suppressions that matched nothing (those with a problem are reported by
/// `apply` already).
pub(crate) fn unused(suppressions: &[Suppression]) -> Vec<Diagnostic> {
    suppressions
        .iter()
        .filter(|s| !s.used && !s.rules.is_empty())
        .map(|s| unused_suppression::diagnostic(s.at, &s.rules))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suppressions(src: &str) -> Vec<Suppression> {
        let facts = crate::testing::facts(src);
        collect(src, &facts.items, &SourceIndex::new(src))
    }

    fn lines_of(src: &str) -> Vec<(Vec<String>, usize, usize)> {
        suppressions(src).into_iter().map(|s| (s.rules, s.first_line, s.last_line)).collect()
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

    fn problems_of(src: &str) -> Vec<(Vec<String>, Vec<String>)> {
        suppressions(src)
            .into_iter()
            .map(|s| {
                (s.rules, s.problems.into_iter().map(|p| format!("{} / {}", p.message, p.help)).collect())
            })
            .collect()
    }

    #[test]
    fn near_misses_are_problems_and_underscores_are_rule_ids() {
        let src = "\
fn a() {
    x(); // stall: allow(blocking_fs)
    x(); // stall:allow(blocking-fs)
    x(); /* stall: allow(blocking-fs) */
    x(); // stall: allow(blocking-fss, blocking-sleep)
    x(); // Stall : Allow (blocking-fs)
    let s = \"// stall: allow(nothing)\"; // a comment that mentions stall
    /// docs may show `// stall: allow(anything)`
    x();
}
#[cfg_attr(stall, allow(stall::blocking_fss, blocking_fs))]
fn c() {}
";
        let got = problems_of(src);
        assert_eq!(got.len(), 6, "{got:#?}");
        assert_eq!(got[0], (vec!["blocking-fs".to_string()], vec![]));
        assert_eq!(got[1].1, ["`stall:allow` is not a suppression / write `// stall: allow(blocking-fs)`"]);
        assert!(got[2].1[0].starts_with("a block comment is not a suppression"), "{got:?}");
        assert_eq!(got[3].0, ["blocking-sleep"]);
        assert_eq!(got[3].1, ["unknown rule `blocking-fss` in a suppression / did you mean `blocking-fs`?"]);
        assert_eq!(got[4].1, ["`Stall : Allow` is not a suppression / write `// stall: allow(blocking-fs)`"]);
        assert_eq!(
            got[5].1,
            [
                "unknown rule `blocking_fss` in a suppression / did you mean `blocking-fs`?",
                "`allow(blocking_fs)` in `cfg_attr(stall, ..)` is not a suppression / write `allow(stall::blocking_fs)`"
            ]
        );
    }
}
