//! A small Rust lexer over the raw text, for what the parser does not give: where comments are
//! (suppressions live in them), whether a line ends inside a string (where a comment may be
//! added), and why a file does not lex (an unclosed delimiter, told at the delimiter, as rustc
//! does). It never fails: odd input gives odd pieces, never a panic.

use crate::diagnostic::Diagnostic;
use crate::registry::Rule;
use crate::source::{SourceIndex, Span};

/// A piece of the text the lexer tells apart. Everything else (identifiers, numbers,
/// punctuation) is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `// ..` (`doc`: `///` or `//!`), up to the line break.
    LineComment { doc: bool },
    /// `/* .. */`, nested (`doc`: `/**` or `/*!`).
    BlockComment { doc: bool, terminated: bool },
    /// `".."`, `b".."`, `c".."`.
    Str { terminated: bool },
    /// `r#".."#` and its `b`/`c` forms.
    RawStr { terminated: bool },
    /// `'x'`, `b'x'`, `'\n'`.
    Char,
    /// `(`, `[`, `{`.
    Open(u8),
    /// `)`, `]`, `}`.
    Close(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    pub kind: Kind,
    /// Byte offsets.
    pub start: usize,
    pub end: usize,
}

/// The comments, literals and delimiters of a text, in order.
pub(crate) fn pieces(text: &str) -> Vec<Piece> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let kind = match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let doc = (b.get(i + 2) == Some(&b'/') && b.get(i + 3) != Some(&b'/'))
                    || b.get(i + 2) == Some(&b'!');
                i = b[i..].iter().position(|&x| x == b'\n').map_or(b.len(), |n| i + n);
                Kind::LineComment { doc }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let doc = (b.get(i + 2) == Some(&b'*') && !matches!(b.get(i + 3), Some(b'*' | b'/')))
                    || b.get(i + 2) == Some(&b'!');
                let (end, terminated) = block_comment_end(b, i);
                i = end;
                Kind::BlockComment { doc, terminated }
            }
            b'"' => {
                let (end, terminated) = string_end(b, i + 1);
                i = end;
                Kind::Str { terminated }
            }
            b'r' | b'b' | b'c' if is_ident_start(b, i) => {
                // A literal prefix (`r"`, `br#"`, `b"`, `c"`, `b'`), or an identifier.
                let mut j = i;
                if matches!(b[j], b'b' | b'c') {
                    j += 1;
                }
                if b.get(j) == Some(&b'r') && matches!(b.get(j + 1), Some(b'"' | b'#')) {
                    let hashes = b[j + 1..].iter().take_while(|&&x| x == b'#').count();
                    if b.get(j + 1 + hashes) == Some(&b'"') {
                        let (end, terminated) = raw_string_end(b, j + 2 + hashes, hashes);
                        i = end;
                        out.push(Piece { kind: Kind::RawStr { terminated }, start, end });
                        continue;
                    }
                }
                if j > i && b.get(j) == Some(&b'"') {
                    let (end, terminated) = string_end(b, j + 1);
                    i = end;
                    out.push(Piece { kind: Kind::Str { terminated }, start, end });
                    continue;
                }
                if b[i] == b'b' && b.get(i + 1) == Some(&b'\'') {
                    if let Some(end) = char_end(text, i + 1) {
                        i = end;
                        out.push(Piece { kind: Kind::Char, start, end });
                        continue;
                    }
                }
                i = ident_end(b, i);
                continue;
            }
            b'\'' => match char_end(text, i) {
                Some(end) => {
                    i = end;
                    Kind::Char
                }
                None => {
                    // A lifetime or label: `'a`, `'static`.
                    i += 1;
                    continue;
                }
            },
            b'(' | b'[' | b'{' => {
                i += 1;
                Kind::Open(c)
            }
            b')' | b']' | b'}' => {
                i += 1;
                Kind::Close(c)
            }
            _ if c == b'_' || c.is_ascii_alphabetic() => {
                i = ident_end(b, i);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push(Piece { kind, start, end: i });
    }
    out
}

fn is_ident_start(b: &[u8], i: usize) -> bool {
    i == 0 || !(b[i - 1] == b'_' || b[i - 1].is_ascii_alphanumeric() || b[i - 1] >= 0x80)
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] >= 0x80) {
        i += 1;
    }
    i
}

fn block_comment_end(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return (i, true);
            }
        } else {
            i += 1;
        }
    }
    (b.len(), false)
}

/// Past the closing quote of a string whose body starts at `i`.
fn string_end(b: &[u8], mut i: usize) -> (usize, bool) {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return (i + 1, true),
            _ => i += 1,
        }
    }
    (b.len(), false)
}

fn raw_string_end(b: &[u8], mut i: usize, hashes: usize) -> (usize, bool) {
    while i < b.len() {
        if b[i] == b'"' && b.len() >= i + 1 + hashes && b[i + 1..i + 1 + hashes].iter().all(|&x| x == b'#') {
            return (i + 1 + hashes, true);
        }
        i += 1;
    }
    (b.len(), false)
}

/// Past a char literal whose quote is at `i`; `None` for a lifetime or label.
fn char_end(text: &str, i: usize) -> Option<usize> {
    let rest = text.get(i + 1..)?;
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    if first == '\\' {
        // An escape: up to the next quote on this line.
        let close = rest.get(2..)?.find(['\'', '\n'])? + 2;
        return (rest.as_bytes()[close] == b'\'').then_some(i + 1 + close + 1);
    }
    if first == '\n' {
        return None;
    }
    let (at, second) = chars.next()?;
    (second == '\'').then_some(i + 1 + at + 1)
}

/// Why a text does not split into tokens, told as rustc tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexProblem {
    /// Byte offsets of what the message points at.
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub label: String,
    /// Where else to look, as a byte offset and what is there.
    pub other: Option<(usize, String)>,
}

/// The first delimiter, string or comment problem of a text, if there is one.
pub(crate) fn problem(text: &str) -> Option<LexProblem> {
    let mut open: Vec<Piece> = Vec::new();
    let at = |p: &Piece, message: &str, label: &str| LexProblem {
        start: p.start,
        end: (p.start + 1).min(p.end.max(p.start + 1)),
        message: message.into(),
        label: label.into(),
        other: None,
    };
    for p in pieces(text) {
        match p.kind {
            Kind::Open(_) => open.push(p),
            Kind::Close(c) => match open.pop() {
                None => {
                    let d = c as char;
                    return Some(at(
                        &p,
                        &format!("unexpected closing delimiter: `{d}`"),
                        "unexpected closing delimiter",
                    ));
                }
                Some(o) if !pairs(o.kind, c) => {
                    let d = c as char;
                    let mut problem =
                        at(&o, &format!("mismatched closing delimiter: `{d}`"), "unclosed delimiter");
                    problem.other = Some((p.start, format!("mismatched closing delimiter `{d}`")));
                    return Some(problem);
                }
                Some(_) => {}
            },
            Kind::BlockComment { terminated: false, .. } => {
                return Some(at(&p, "unterminated block comment", "unterminated block comment"));
            }
            Kind::Str { terminated: false } => {
                return Some(at(&p, "unterminated double quote string", "unterminated double quote string"));
            }
            Kind::RawStr { terminated: false } => {
                return Some(at(&p, "unterminated raw string", "unterminated raw string"));
            }
            _ => {}
        }
    }
    open.last().map(|o| at(o, "this file contains an unclosed delimiter", "unclosed delimiter"))
}

fn pairs(open: Kind, close: u8) -> bool {
    matches!((open, close), (Kind::Open(b'('), b')') | (Kind::Open(b'['), b']') | (Kind::Open(b'{'), b'}'))
}

/// Whether byte `offset` lies inside a string literal or a block comment (where a line break
/// belongs to the token, so a `//` comment cannot be added there).
pub(crate) fn inside_literal_or_block_comment(pieces: &[Piece], offset: usize) -> bool {
    let i = pieces.partition_point(|p| p.end <= offset);
    pieces.get(i).is_some_and(|p| {
        p.start < offset
            && matches!(p.kind, Kind::Str { .. } | Kind::RawStr { .. } | Kind::BlockComment { .. })
    })
}

/// The `parse-error` finding for a text syn could not parse: the lexer's own words and place
/// when the text does not split into tokens (rustc's "unclosed delimiter", at the delimiter),
/// else the parser's message at its span.
pub(crate) fn parse_error(text: &str, idx: &SourceIndex, error: &syn::Error) -> Diagnostic {
    let lexes = text.parse::<proc_macro2::TokenStream>().is_ok();
    let at = |start: usize, end: usize| Span {
        start: idx.position_of_offset(start),
        end: idx.position_of_offset(end),
    };
    if !lexes {
        if let Some(p) = problem(text) {
            let mut d = Diagnostic::new(Rule::ParseError, at(p.start, p.end), p.message).with_label(p.label);
            if let Some((offset, what)) = p.other {
                let pos = idx.position_of_offset(offset);
                d = d.with_note(format!("{what} at {}:{}", pos.line, pos.column));
            }
            return d;
        }
        let span = idx.span(error.span());
        let what = text[span.start.offset..].chars().next().filter(|c| !c.is_ascii_graphic());
        let message = match what {
            Some(c) => format!("unknown start of token: {}", c.escape_unicode()),
            None => "invalid token".to_string(),
        };
        return Diagnostic::new(Rule::ParseError, span, message).with_label("the lexer stops here");
    }
    let message = error.to_string();
    Diagnostic::new(Rule::ParseError, idx.span(error.span()), message.clone()).with_label(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        pieces(text).into_iter().map(|p| (p.kind, &text[p.start..p.end])).collect()
    }

    #[test]
    fn comments_strings_chars_and_lifetimes() {
        let text = "fn f<'a>(x: &'a str) { let s = \"// no\"; let c = '\"'; /* a /* b */ c */ } // end\n";
        let got = kinds(text);
        assert!(got.contains(&(Kind::Str { terminated: true }, "\"// no\"")), "{got:?}");
        assert!(got.contains(&(Kind::Char, "'\"'")), "{got:?}");
        assert!(got.contains(&(Kind::BlockComment { doc: false, terminated: true }, "/* a /* b */ c */")));
        assert!(got.contains(&(Kind::LineComment { doc: false }, "// end")));
        assert_eq!(got.iter().filter(|(k, _)| matches!(k, Kind::Open(_))).count(), 2);
        let raw = kinds("let r = r#\"a \" b\"#; let b = br\"x\"; let i = r#type; let e = b'\\'';");
        assert_eq!(raw[0], (Kind::RawStr { terminated: true }, "r#\"a \" b\"#"));
        assert_eq!(raw[1], (Kind::RawStr { terminated: true }, "br\"x\""));
        assert_eq!(raw[2], (Kind::Char, "b'\\''"));
        assert_eq!(kinds("/// doc\n//! inner\n//// not")[2].0, Kind::LineComment { doc: false });
        assert_eq!(kinds("'\u{e9}'")[0], (Kind::Char, "'\u{e9}'"));
    }

    #[test]
    fn problems_point_at_the_delimiter() {
        let text = "fn a() {}\n\nfn f() { foo(\n}\n";
        let p = problem(text).unwrap();
        assert_eq!(p.message, "mismatched closing delimiter: `}`");
        assert_eq!(p.start, text.find("(\n").unwrap());
        assert_eq!(p.other.unwrap().0, text.rfind('}').unwrap());
        let p = problem("fn f() { g(1);\n").unwrap();
        assert_eq!((p.message.as_str(), p.start), ("this file contains an unclosed delimiter", 7));
        assert_eq!(problem("fn f() {} )").unwrap().message, "unexpected closing delimiter: `)`");
        assert_eq!(problem("fn f() { \"abc }").unwrap().message, "unterminated double quote string");
        assert_eq!(problem("/* /* */").unwrap().message, "unterminated block comment");
        assert_eq!(problem("fn f() { let x = ')'; }"), None);
    }

    #[test]
    fn line_ends_inside_strings_are_found() {
        let text = "let s = \"a\nb\"; // c\n";
        let p = pieces(text);
        assert!(inside_literal_or_block_comment(&p, text.find('\n').unwrap()));
        assert!(!inside_literal_or_block_comment(&p, text.rfind('\n').unwrap()));
    }
}
