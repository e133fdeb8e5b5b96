//! Applying a finding's edits to a text. Pure: the CLI reads and writes the files.

use crate::diagnostic::Edit;

/// Applies non-overlapping edits (byte offsets) to a text.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> Result<String, String> {
    let mut edits: Vec<&Edit> = edits.to_vec();
    edits.sort_by_key(|e| (e.start.offset, e.end.offset));
    edits.dedup_by(|a, b| a == b);
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in edits {
        if e.start.offset < at || e.end.offset < e.start.offset || e.end.offset > text.len() {
            return Err("edits overlap".into());
        }
        out.push_str(&text[at..e.start.offset]);
        out.push_str(&e.replacement);
        at = e.end.offset;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceIndex;

    #[test]
    fn applies_edits_in_order_and_refuses_overlaps() {
        let text = "a(b); c(d);";
        let idx = SourceIndex::new(text);
        let edit = |s: usize, e: usize, r: &str| Edit {
            start: idx.position_of_offset(s),
            end: idx.position_of_offset(e),
            replacement: r.into(),
        };
        let (e1, e2) = (edit(10, 10, ".await"), edit(0, 1, "x"));
        assert_eq!(apply_edits(text, &[&e1, &e2]).unwrap(), "x(b); c(d).await;");
        let (o1, o2) = (edit(0, 3, ""), edit(2, 4, ""));
        assert!(apply_edits(text, &[&o1, &o2]).is_err());
    }
}
