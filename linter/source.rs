//! File text with a line index: converts between byte offsets and 1-based line/column
//! (columns count chars, as rustc does).

use serde::{Deserialize, Serialize};

/// A position in a file. `line` and `column` are 1-based; `column` counts chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    /// Byte offset in the file (not part of the JSON output).
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

pub struct SourceIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceIndex { text, line_starts }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &'a str {
        self.text.get(span.start.offset..span.end.offset).unwrap_or("")
    }

    /// From proc-macro2's line (1-based) and column (0-based, in chars).
    pub fn position(&self, line: usize, column0: usize) -> Position {
        let line = line.clamp(1, self.line_starts.len());
        let start = self.line_starts[line - 1];
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        let offset = start + line_text.char_indices().nth(column0).map(|(i, _)| i).unwrap_or(line_text.len());
        Position { line, column: column0 + 1, offset }
    }

    /// The span of a syntax node, from proc-macro2 span locations.
    pub fn span(&self, span: proc_macro2::Span) -> Span {
        let (s, e) = (span.start(), span.end());
        Span { start: self.position(s.line, s.column), end: self.position(e.line, e.column) }
    }

    /// From a byte offset (clamped to a char boundary).
    pub fn position_of_offset(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        Position { line, column, offset }
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_map_back_to_bytes() {
        let idx = SourceIndex::new("ab\n\u{e9}x = 1;\n");
        let p = idx.position(2, 1);
        assert_eq!((p.line, p.column, p.offset), (2, 2, 5));
        assert_eq!(idx.position_of_offset(5), p);
        assert_eq!(idx.line_text(2), "\u{e9}x = 1;");
        assert_eq!(idx.line_text(9), "");
    }
}
