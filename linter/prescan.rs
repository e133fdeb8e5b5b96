//! A byte scan run before parsing: how deeply the code nests, so that input deeper than the
//! parser and the analysis can walk on their stack is reported instead of overflowing it.
//! Strings, chars and comments are skipped so their brackets do not count.

/// Deepest bracket nesting we parse. Real code stays far below (generated code included);
/// syn needs roughly 2 KiB of stack per level in debug builds.
pub const MAX_DEPTH: usize = 256;
/// Most operator tokens in one run of code between `,`/`;`/brackets: long operator or method
/// chains nest as deeply as brackets in the syntax tree.
pub const MAX_CHAIN: usize = 2_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    pub max_depth: usize,
    pub max_chain: usize,
    /// Byte offset where the deepest or longest construct was found.
    pub worst_offset: usize,
}

impl Shape {
    /// Why the file is too deep to analyse, if it is.
    pub fn too_deep(&self) -> Option<String> {
        if self.max_depth > MAX_DEPTH {
            Some(format!(
                "brackets nest {} levels deep (more than {MAX_DEPTH}); the file was not analysed",
                self.max_depth
            ))
        } else if self.max_chain > MAX_CHAIN {
            Some(format!(
                "an expression chains {} operators (more than {MAX_CHAIN}); the file was not analysed",
                self.max_chain
            ))
        } else {
            None
        }
    }
}

pub fn scan(src: &[u8]) -> Shape {
    let mut shape = Shape::default();
    let mut depth = 0usize;
    // Operator count of the current run, one per open bracket level.
    let mut chains: Vec<usize> = vec![0];
    let mut i = 0;
    let n = src.len();
    while i < n {
        let b = src[i];
        match b {
            b'/' if src.get(i + 1) == Some(&b'/') => {
                while i < n && src[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if src.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(src, i);
                continue;
            }
            b'"' => {
                i = skip_string(src, i + 1);
                continue;
            }
            b'r' | b'b' if is_raw_string_start(src, i) => {
                i = skip_raw_string(src, i);
                continue;
            }
            b'\'' => {
                i = skip_char_or_lifetime(src, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                chains.push(0);
                if depth > shape.max_depth {
                    shape.max_depth = depth;
                    shape.worst_offset = i;
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if chains.len() > 1 {
                    chains.pop();
                }
                // A closing brace ends a block or an item: what follows is a new statement.
                if b == b'}' {
                    if let Some(c) = chains.last_mut() {
                        *c = 0;
                    }
                }
            }
            b',' | b';' => {
                if let Some(c) = chains.last_mut() {
                    *c = 0;
                }
            }
            b'.' | b'+' | b'-' | b'*' | b'&' | b'|' | b'!' | b'^' | b'%' | b'<' | b'>' | b'?' => {
                if let Some(c) = chains.last_mut() {
                    *c += 1;
                    if *c > shape.max_chain {
                        shape.max_chain = *c;
                        shape.worst_offset = i;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    shape
}

fn skip_block_comment(src: &[u8], mut i: usize) -> usize {
    let mut level = 0usize;
    while i < src.len() {
        if src[i] == b'/' && src.get(i + 1) == Some(&b'*') {
            level += 1;
            i += 2;
        } else if src[i] == b'*' && src.get(i + 1) == Some(&b'/') {
            level -= 1;
            i += 2;
            if level == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

fn skip_string(src: &[u8], mut i: usize) -> usize {
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn is_raw_string_start(src: &[u8], i: usize) -> bool {
    // Not part of an identifier, then `r"`, `r#`, `br"`, `br#`.
    if i > 0 && (src[i - 1].is_ascii_alphanumeric() || src[i - 1] == b'_') {
        return false;
    }
    let j = if src[i] == b'b' && src.get(i + 1) == Some(&b'r') {
        i + 2
    } else if src[i] == b'r' {
        i + 1
    } else {
        return false;
    };
    matches!(src.get(j), Some(b'"') | Some(b'#'))
        && src[j..].iter().take_while(|&&c| c == b'#').count() < 256
        && src[j..].iter().find(|&&c| c != b'#') == Some(&b'"')
}

fn skip_raw_string(src: &[u8], i: usize) -> usize {
    let mut j = i;
    while src[j] != b'r' {
        j += 1;
    }
    j += 1;
    let hashes = src[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes + 1; // past the opening quote
    while j < src.len() {
        if src[j] == b'"' && src[j + 1..].iter().take(hashes).filter(|&&c| c == b'#').count() == hashes {
            return j + 1 + hashes;
        }
        j += 1;
    }
    j
}

fn skip_char_or_lifetime(src: &[u8], i: usize) -> usize {
    // 'x' or '\n' or '\u{..}' is a char; 'a (no closing quote soon) is a lifetime or label.
    if src.get(i + 1) == Some(&b'\\') {
        let mut j = i + 2;
        while j < src.len() && j < i + 12 && src[j] != b'\'' {
            j += 1;
        }
        return j + 1;
    }
    // A char is one UTF-8 scalar then a quote.
    let mut j = i + 1;
    if j < src.len() {
        j += utf8_len(src[j]);
    }
    if src.get(j) == Some(&b'\'') {
        j + 1
    } else {
        i + 1
    }
}

fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_but_not_in_strings_comments_or_chars() {
        let s = scan(b"fn f() { let x = [(1)]; } // ((((((\n/* {{{{ */ \"(((\" '(' r#\"(((\"#");
        assert_eq!(s.max_depth, 3);
    }

    #[test]
    fn lifetimes_do_not_swallow_code() {
        let s = scan(b"fn f<'a>(x: &'a str) { ((x)) }");
        assert_eq!(s.max_depth, 3);
    }

    #[test]
    fn flags_deep_nesting_and_long_chains() {
        let deep = "(".repeat(1000) + &")".repeat(1000);
        assert!(scan(deep.as_bytes()).too_deep().is_some());
        let chain = format!("fn f() {{ x{} }}", ".a()".repeat(5000));
        assert!(scan(chain.as_bytes()).too_deep().is_some());
        let array = format!("const A: [u8; 5000] = [{}];", "1,".repeat(5000));
        assert!(scan(array.as_bytes()).too_deep().is_none());
        let items = "pub fn f(x: u64) -> u64 { x.wrapping_mul(2) }\n".repeat(5000);
        assert!(scan(items.as_bytes()).too_deep().is_none());
    }
}
