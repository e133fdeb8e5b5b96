//! Inline suppressions: `// stall: allow(rule-id, ..) -- reason` at the end of the flagged
//! line, on the line before it, or before an item (fn, impl, mod, trait) to cover the whole
//! item; and `#[cfg_attr(stall, allow(stall::rule_id))]` on an item, which compiles everywhere.
//! Pure: works on the text and the parsed file.

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::diagnostic::Diagnostic;
use crate::rules::Rule;
use crate::source::Span;

/// One suppression and the lines it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Rule ids; `all` covers every rule.
    pub rules: Vec<String>,
    pub first_line: usize,
    pub last_line: usize,
    /// Where the suppression is written (for `--report-unused-suppressions`).
    pub at: Span,
    pub used: bool,
}

const MARKER: &str = "stall: allow(";

/// Finds the suppressions of a file.
pub fn collect(text: &str, ast: &syn::File, idx: &crate::source::SourceIndex) -> Vec<Suppression> {
    let mut items = ItemLines::default();
    items.visit_file(ast);
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
            match items.covering(next, attr_start) {
                Some((s, e)) => (s.min(next), e),
                None => (next, next),
            }
        } else {
            (line_no, line_no)
        };
        out.push(Suppression { rules, first_line, last_line, at, used: false });
    }
    for (rule, s, e, at) in items.cfg_attr {
        out.push(Suppression {
            rules: vec![rule],
            first_line: s,
            last_line: e,
            at: idx.span(at),
            used: false,
        });
    }
    out
}

/// Drops the diagnostics a suppression covers, marking those suppressions used.
pub fn apply(diagnostics: &mut Vec<Diagnostic>, suppressions: &mut [Suppression]) {
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
pub fn unused(suppressions: &[Suppression]) -> Vec<Diagnostic> {
    suppressions
        .iter()
        .filter(|s| !s.used)
        .map(|s| {
            Diagnostic::new(
                Rule::UnusedSuppression,
                s.at,
                format!("`allow({})` suppresses nothing", s.rules.join(", ")),
            )
            .with_label("no finding here to suppress")
            .with_help("remove the suppression, or fix its rule id")
        })
        .collect()
}

/// Line ranges of items (from their first attribute to their end), and the
/// `#[cfg_attr(stall, allow(stall::rule))]` suppressions on them.
#[derive(Default)]
struct ItemLines {
    ranges: Vec<(usize, usize)>,
    cfg_attr: Vec<(String, usize, usize, proc_macro2::Span)>,
}

impl ItemLines {
    fn add(&mut self, attrs: &[syn::Attribute], span: proc_macro2::Span) {
        let (s, e) = (span.start().line, span.end().line);
        self.ranges.push((s, e));
        for a in attrs {
            for rule in cfg_attr_rules(a) {
                self.cfg_attr.push((rule, s, e, a.span()));
            }
        }
    }

    /// The innermost item starting on `line` (or whose attributes start on `attr_line`).
    fn covering(&self, line: usize, attr_line: Option<usize>) -> Option<(usize, usize)> {
        self.ranges
            .iter()
            .filter(|(s, _)| *s == line || Some(*s) == attr_line)
            .max_by_key(|(s, e)| (*s, std::cmp::Reverse(*e)))
            .copied()
    }
}

impl<'a> Visit<'a> for ItemLines {
    fn visit_item(&mut self, i: &'a syn::Item) {
        let attrs = match i {
            syn::Item::Fn(x) => &x.attrs,
            syn::Item::Impl(x) => &x.attrs,
            syn::Item::Mod(x) => &x.attrs,
            syn::Item::Trait(x) => &x.attrs,
            syn::Item::Struct(x) => &x.attrs,
            _ => {
                visit::visit_item(self, i);
                return;
            }
        };
        self.add(attrs, i.span());
        visit::visit_item(self, i);
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.add(&f.attrs, f.span());
        visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        self.add(&f.attrs, f.span());
        visit::visit_trait_item_fn(self, f);
    }
}

/// `#[cfg_attr(stall, allow(stall::blocking_fs, stall::all))]` -> `["blocking-fs", "all"]`.
fn cfg_attr_rules(attr: &syn::Attribute) -> Vec<String> {
    if !attr.path().is_ident("cfg_attr") {
        return Vec::new();
    }
    let mut names = Vec::new();
    let tokens = match &attr.meta {
        syn::Meta::List(l) => l.tokens.to_string(),
        _ => return names,
    };
    let compact: String = tokens.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(rest) = compact.strip_prefix("stall,allow(") else { return names };
    for part in rest.trim_end_matches(')').split(',') {
        if let Some(rule) = part.strip_prefix("stall::") {
            names.push(rule.replace('_', "-"));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceIndex;

    fn lines_of(src: &str) -> Vec<(Vec<String>, usize, usize)> {
        let ast: syn::File = syn::parse_str(src).unwrap();
        let idx = SourceIndex::new(src);
        collect(src, &ast, &idx).into_iter().map(|s| (s.rules, s.first_line, s.last_line)).collect()
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
