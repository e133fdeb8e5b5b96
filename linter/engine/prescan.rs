//! A byte scan run before parsing: how deeply the code nests, so that input deeper than the
//! parser and the analysis can walk on their stack is reported instead of overflowing it.
//! Strings, chars and comments are skipped so their brackets do not count.

/// Deepest bracket nesting we parse. Real code stays far below (generated code included);
/// syn needs roughly 2 KiB of stack per level in debug builds.
pub const MAX_DEPTH: usize = 256;
/// Most operator tokens in one run of code between `,`/`;`/brackets: long operator or method
/// chains nest as deeply as brackets in the syntax tree.
pub const MAX_CHAIN: usize = 2_000;
/// Files without async code larger than this are left out of the call graph.
pub const LARGE_SYNC_FILE: usize = 1 << 20;

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
        if let Some(next) = skip_trivia(src, i) {
            i = next;
            continue;
        }
        match b {
            b'"' => {
                i = skip_string(src, i + 1);
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

/// Past a comment, raw string, char literal or lifetime starting at `i`, if one does.
/// (Plain strings are left to the callers: the outline reads `#[path = ".."]` ones.)
fn skip_trivia(src: &[u8], i: usize) -> Option<usize> {
    match src[i] {
        // (Doc comments are a good part of every file: memchr finds their ends fastest.)
        b'/' if src.get(i + 1) == Some(&b'/') => {
            Some(memchr::memchr(b'\n', &src[i..]).map_or(src.len(), |p| i + p))
        }
        b'/' if src.get(i + 1) == Some(&b'*') => Some(skip_block_comment(src, i)),
        b'r' | b'b' if is_raw_string_start(src, i) => Some(skip_raw_string(src, i)),
        b'\'' => Some(skip_char_or_lifetime(src, i)),
        _ => None,
    }
}

fn skip_block_comment(src: &[u8], mut i: usize) -> usize {
    let mut level = 0usize;
    while i < src.len() {
        // (Only a `/` or a `*` can open or close one.)
        match memchr::memchr2(b'/', b'*', &src[i..]) {
            Some(p) => i += p,
            None => return src.len(),
        }
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
    fn quiet_generators_are_known_by_the_header_they_write() {
        let yes: [&[u8]; 6] = [
            b"// Code generated by software.amazon.smithy.rust.codegen.smithy-rs. DO NOT EDIT.\npub mod x;",
            b"/* automatically generated by rust-bindgen 0.69.4 */\n\npub const A: u32 = 1;",
            b"#![allow(dead_code)]\n// This file is @generated by prost-build.\npub struct A;",
            b"//! This file has been automatically generated by `objc2`'s `header-translator`.",
            b"// Bindings generated by `windows-bindgen` 0.52.0\n\n#![allow(non_snake_case)]",
            b"/*\n * Copyright\n *\n * automatically generated by rust-bindgen\n */\nfn f() {}",
        ];
        for src in yes {
            assert!(generated(src), "{}", String::from_utf8_lossy(src));
        }
        let no: [&[u8]; 10] = [
            // A generator of synchronous clients: calls into its output block.
            b"// This file was generated with `cornucopia`. Do not modify.\npub fn q() {}",
            b"// @generated\n// DO NOT EDIT\npub fn q() {}",
            b"//! The key names are part of the file format: do not edit them without a migration.",
            b"// This file is generated from WHATWG's encodings.json\nfn f() {}",
            b"//! To expand the Rust code generated by the proc macro when debugging\nfn f() {}",
            b"/// Bindings generated by rust-bindgen are wrapped here\nfn f() {}",
            b"fn f() {}\n// automatically generated by rust-bindgen\n",
            b"use std::fs;\n// Code generated by smithy-rs\n",
            b"// Message store: persists the types prost-build generates from messages.proto.\nfn f() {}",
            b"//! Runtime support for smithy-rs generated code.\npub mod client;",
        ];
        for src in no {
            assert!(!generated(src), "{}", String::from_utf8_lossy(src));
        }
    }

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

/// What a byte scan can tell about a file without parsing it: whether it can hold async code,
/// its `mod x;` declarations (for the module tree), and the names it defines or re-exports
/// (for the call graph to find callees in files it has not parsed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    /// The file mentions `async` or defines a `poll*` fn: it may hold async code.
    pub has_async: bool,
    /// `mod x;` declarations: the inline modules around them, the name, and any `#[path]`.
    pub mods: Vec<OutlineMod>,
    /// The functions it defines, as `name` or `Type::name` inside `impl Type`.
    pub fns: Vec<String>,
    /// The names its `pub use` items mention.
    pub exports: Vec<String>,
    /// It glob imports a module (`use super::*;`, `use crate::prelude::*;`).
    pub glob_use: bool,
    /// It re-exports a blocking module of the standard library or an item of one (`pub use
    /// std::fs;` in a prelude): files importing it may call std's blocking functions through it.
    pub std_exports: bool,
    /// Type names it builds values of: `Name::f(..)`, `Name { .. }` (the call graph wants the
    /// files that build a type whose async methods call its type parameter's methods).
    pub built: Vec<String>,
    /// Non-generic type aliases it declares (`type DbPool = ..;`), each with the type names
    /// its type mentions (`Pool`, `SqliteConnectionManager`): other files importing one read
    /// it to type their values (`engine::foreign_aliases`).
    pub aliases: Vec<(String, Vec<String>)>,
    /// Every identifier it mentions, as a Bloom filter: which files may call a function.
    pub idents: Idents,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// One byte of FNV-1a: `Idents::hash` and the outline's `ident_end` must hash alike, or the
/// filter would miss names it holds.
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

/// A Bloom filter of identifiers: two hashes, 16 bits per distinct identifier (at least 2048),
/// so a large file's filter does not fill up and match every name. No false negatives; a false
/// positive only costs parsing a file that turns out not to call the function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Idents {
    bits: Box<[u64]>,
}

impl Default for Idents {
    fn default() -> Self {
        Idents::from_hashes(Vec::new())
    }
}

impl Idents {
    /// FNV-1a: fast, and good enough to spread short identifiers.
    fn hash(word: &[u8]) -> u64 {
        word.iter().fold(FNV_OFFSET, |h, &b| fnv_step(h, b))
    }

    /// The filter of `hashes` (one per mention, repeats and all: sorting them out is cheaper
    /// than hashing each mention into a set).
    fn from_hashes(mut hashes: Vec<u64>) -> Idents {
        hashes.sort_unstable();
        hashes.dedup();
        let len = (hashes.len() * 16).max(2048).next_power_of_two();
        let mut out = Idents { bits: vec![0u64; len / 64].into_boxed_slice() };
        for h in hashes {
            for b in out.positions(h) {
                out.bits[b / 64] |= 1 << (b % 64);
            }
        }
        out
    }

    fn positions(&self, h: u64) -> [usize; 2] {
        let mask = (self.bits.len() * 64 - 1) as u64;
        [(h & mask) as usize, ((h >> 32) & mask) as usize]
    }

    /// Might the file mention `word`?
    #[cfg(test)]
    pub fn may_contain(&self, word: &str) -> bool {
        self.may_contain_probe(Self::probe(word))
    }

    /// What `may_contain_probe` looks up for `word`: made once to test many files.
    pub fn probe(word: &str) -> u64 {
        Self::hash(word.as_bytes())
    }

    pub fn may_contain_probe(&self, probe: u64) -> bool {
        self.positions(probe).iter().all(|&b| self.bits[b / 64] & (1 << (b % 64)) != 0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineMod {
    /// Inline modules (`mod a { .. }`) around the declaration, then its name.
    pub path: Vec<String>,
    pub path_attr: Option<String>,
    /// Declared under `#[cfg(test)]`: the module is test code.
    pub test: bool,
    /// The `cfg(..)` of its `#[cfg(..)]` attributes, as written.
    pub cfgs: Vec<String>,
}

/// The first position from `j` that is not whitespace.
fn skip_ws(src: &[u8], mut j: usize) -> usize {
    while j < src.len() && src[j].is_ascii_whitespace() {
        j += 1;
    }
    j
}

/// The `cfg(..)` of a `#[cfg(..)]` attribute starting at `src[at]` (`#`, or the `!` of `#!`),
/// if it is one, and where it ends.
fn cfg_attr_at(src: &[u8], at: usize) -> Option<(String, usize)> {
    let skip_ws = |j: usize| skip_ws(src, j);
    let j = skip_ws(at + 1);
    if src.get(j) != Some(&b'[') {
        return None;
    }
    let start = skip_ws(j + 1);
    let open = skip_ws(start + 3);
    if !src[start..].starts_with(b"cfg") || src.get(open) != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut k = open;
    while k < src.len() {
        match src[k] {
            b'"' => {
                k = skip_string(src, k + 1);
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((String::from_utf8_lossy(&src[start..=k]).into_owned(), k));
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// How well a `#[path]` attribute (its text up to the path) fits the host: a plain `#[path]`
/// or one for this host's family beats one for other platforms.
fn path_fit_of(attr: &[u8]) -> u8 {
    let text = String::from_utf8_lossy(attr);
    if !text.contains("cfg_attr") {
        return 2;
    }
    let host = if cfg!(windows) { "windows" } else { "unix" };
    let predicate = text.split("path").next().unwrap_or("");
    match (predicate.contains(host), predicate.contains("not(")) {
        (true, false) => 3,
        (false, _) if !predicate.contains("not(") => 0,
        _ => 1,
    }
}

/// The capitalised identifiers of `src` up to the first `;` (an alias's type).
fn type_names_until_semicolon(src: &[u8]) -> Vec<String> {
    let end = src.iter().position(|&c| c == b';').unwrap_or(src.len());
    let text = &src[..end];
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let start = i;
        while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
            i += 1;
        }
        if i == start {
            i += 1;
        } else if text[start].is_ascii_uppercase() {
            out.push(String::from_utf8_lossy(&text[start..i]).into_owned());
        }
    }
    out
}

/// Code generators whose output does no blocking work, as the headers they write say (a
/// mention of the tool in a hand-written file's docs is not one): (the header's words, in
/// lower case; why their files need not be read). A generator of synchronous
/// clients (a sync SQL or RPC client) is not one: calls into its output block.
const QUIET_GENERATORS: &[(&str, &str)] = &[
    (
        "automatically generated by rust-bindgen",
        "FFI declarations and layout tests: no function body does I/O",
    ),
    ("bindings generated by `windows-bindgen`", "Windows API declarations and COM vtables"),
    (
        "code generated by software.amazon.smithy.rust.codegen.smithy-rs",
        "AWS SDK clients: their requests are async, through the smithy runtime",
    ),
    ("generated by `objc2`'s `header-translator`", "objc2's Objective-C framework bindings"),
    ("@generated by syn-internal-codegen", "syn's syntax-tree visitors and trait impls"),
    ("@generated by prost-build", "protobuf message types and their encoding"),
];

/// Does the file say, in the comments that open it, that one of the `QUIET_GENERATORS` wrote
/// it (`/* automatically generated by rust-bindgen */`, `// Code generated by
/// software.amazon.smithy.rust.codegen.smithy-rs. DO NOT EDIT.`)? The call graph does not read
/// such a file for the functions it defines: in a tree of dependencies they are a sixth of all
/// it would parse, and none blocks.
pub fn generated(src: &[u8]) -> bool {
    let head = &src[..src.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_lowercase();
    let names_generator = |line: &str| QUIET_GENERATORS.iter().any(|(m, _)| line.contains(m));
    let mut in_block = false;
    for line in head.lines().take(40) {
        let line = line.trim();
        if in_block {
            if names_generator(line) {
                return true;
            }
            in_block = !line.contains("*/");
        } else if line.starts_with("///") {
            // An item's documentation: the code has begun.
            return false;
        } else if line.starts_with("//") || line.starts_with("/*") {
            if names_generator(line) {
                return true;
            }
            in_block = line.starts_with("/*") && !line.contains("*/");
        } else if !(line.is_empty() || line.starts_with("#!") || line.starts_with("#[")) {
            return false;
        }
    }
    false
}

/// Bytes that may continue an identifier (ASCII letters, digits, `_`).
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

/// Bytes that may start one (no digits).
static IDENT_START: [bool; 256] = {
    let mut t = IDENT;
    let mut b = b'0' as usize;
    while b <= b'9' as usize {
        t[b] = false;
        b += 1;
    }
    t
};

/// Where the identifier starting at `src[i]` ends, and its `Idents::hash`, in one pass: the
/// outline reads every identifier of every file, most of the bytes it sees.
fn ident_end(src: &[u8], mut i: usize) -> (usize, u64) {
    let mut h = FNV_OFFSET;
    while let Some(&b) = src.get(i).filter(|&&b| IDENT[b as usize]) {
        h = fnv_step(h, b);
        i += 1;
    }
    (i, h)
}

/// Scans identifiers, skipping comments, strings and chars.
pub fn outline(src: &[u8]) -> Outline {
    let mut out = Outline::default();
    let mut idents: Vec<u64> = Vec::new();
    let mut prev: &[u8] = b"";
    // Punctuation seen since the last identifier (`=` of `path = ".."`).
    let mut last_punct = 0u8;
    let mut depth = 0usize;
    // Open inline modules: (name, depth inside their braces).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut inline_pending: Option<String> = None;
    let mut path_attr: Option<String> = None;
    // The item being read is under `#[cfg(test)]`, and its `#[cfg(..)]`s.
    let mut cfg_test = false;
    let mut cfgs: Vec<String> = Vec::new();
    // The file's own `#![cfg(..)]`s.
    let mut file_cfgs: Vec<String> = Vec::new();
    // Where the last `#[cfg(..)]` read ends: its own commas end nothing.
    let mut cfg_end = 0usize;
    // How well the `#[path]` found so far fits this host (see `path_fit`).
    let mut path_fit = 0u8;
    // Where the attribute being read starts (`#[`).
    let mut attr_start = 0usize;
    let mut in_pub_use = false;
    // The first word of a `pub use` path is still to come; the path is std's.
    let mut pub_use_root = false;
    let mut pub_use_std = false;
    let mut in_use = false;
    // Open `impl` blocks: (type name, trait name, depth inside their braces).
    let mut impls: Vec<(String, Option<String>, usize)> = Vec::new();
    let mut impl_pending: Option<String> = None;
    let mut impl_trait: Option<String> = None;
    let mut in_impl_header = false;
    let mut angle = 0usize;
    let mut i = 0;
    let n = src.len();
    while i < n {
        let b = src[i];
        // (Whitespace changes no state, and is a fifth of the bytes.)
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if let Some(next) = skip_trivia(src, i) {
            i = next;
            continue;
        }
        match b {
            b'"' => {
                let end = skip_string(src, i + 1);
                if prev == b"path" && last_punct == b'=' {
                    let body = &src[i + 1..end.saturating_sub(1).max(i + 1)];
                    // `#[cfg_attr(unix, path = "unix.rs")] #[cfg_attr(windows, path = ..)]`:
                    // the one for this host wins.
                    let fit = path_fit_of(&src[attr_start.min(i)..i]);
                    if path_attr.is_none() || fit > path_fit {
                        path_attr = Some(String::from_utf8_lossy(body).into_owned());
                        path_fit = fit;
                    }
                }
                i = end;
            }
            _ if IDENT_START[b as usize] => {
                let mut start = i;
                let (mut end, mut hash) = ident_end(src, i);
                // A raw identifier, `r#name`.
                if end == i + 1
                    && b == b'r'
                    && src.get(end) == Some(&b'#')
                    && src.get(end + 1).is_some_and(|&c| IDENT[c as usize])
                {
                    start = end + 1;
                    (end, hash) = ident_end(src, start);
                }
                i = end;
                let word = &src[start..i];
                idents.push(hash);
                let text = || String::from_utf8_lossy(word).into_owned();
                match (prev, word) {
                    (_, b"async") => out.has_async = true,
                    (b"cfg", b"test") => cfg_test = true,
                    (b"fn", name) => {
                        if name.starts_with(b"poll") {
                            out.has_async = true;
                        }
                        match impls.last() {
                            Some((ty, tr, _)) => {
                                out.fns.push(format!("{ty}::{}", text()));
                                // A trait's method: calls through `dyn Trait` want it too.
                                if let Some(tr) = tr {
                                    out.fns.push(format!("{tr}::{}", text()));
                                }
                            }
                            None => out.fns.push(text()),
                        }
                    }
                    // A type alias names its type for other files (`pub type Shared =
                    // Arc<AppState>`): a field called through it wants this file, as its struct.
                    (b"type", w) if w.first().is_some_and(u8::is_ascii_uppercase) => {
                        if !out.built.iter().any(|b| b.as_bytes() == w) {
                            out.built.push(text());
                        }
                        if src[i..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'=') {
                            out.aliases.push((text(), type_names_until_semicolon(&src[i..])));
                        }
                    }
                    (_, b"impl") => {
                        in_impl_header = true;
                        impl_pending = None;
                        impl_trait = None;
                        angle = 0;
                    }
                    // In `impl<T> a::Type<T> for b::Other where ..`, the type is the last
                    // path segment before `<`, `for`, `where` or `{`, after any `for`.
                    (_, b"for") if in_impl_header && angle == 0 => impl_trait = impl_pending.take(),
                    (_, b"where") if in_impl_header => in_impl_header = false,
                    (_, w) if in_impl_header && angle == 0 && w != b"dyn" && w != b"mut" => {
                        impl_pending = Some(text());
                    }
                    (b"pub", b"use") => {
                        in_pub_use = true;
                        pub_use_root = true;
                        pub_use_std = false;
                    }
                    (_, b"use") => in_use = true,
                    (b"mod", _) => match src[i..].iter().find(|c| !c.is_ascii_whitespace()) {
                        Some(b';') => {
                            let mut path: Vec<String> = inline.iter().map(|(m, _)| m.clone()).collect();
                            path.push(text());
                            let cfgs = std::mem::take(&mut cfgs);
                            out.mods.push(OutlineMod {
                                path,
                                path_attr: path_attr.take(),
                                test: cfg_test,
                                cfgs,
                            });
                            path_fit = 0;
                        }
                        Some(b'{') => inline_pending = Some(text()),
                        _ => {}
                    },
                    _ if in_pub_use => {
                        // (By the last segment: `mpsc` of `sync::mpsc`.)
                        let blocking_module = || {
                            crate::semantic::BLOCKING_STD_MODULES
                                .iter()
                                .any(|m| m.rsplit("::").next().is_some_and(|last| last.as_bytes() == word))
                        };
                        out.std_exports |= pub_use_std && blocking_module();
                        pub_use_std |= pub_use_root && word == b"std";
                        pub_use_root = false;
                        out.exports.push(text());
                    }
                    (_, w) if w.first().is_some_and(u8::is_ascii_uppercase) => {
                        let next = src[i..].iter().position(|c| !c.is_ascii_whitespace()).map(|k| i + k);
                        let builds = match next {
                            Some(k) => src[k] == b'{' || src[k..].starts_with(b"::"),
                            None => false,
                        };
                        if builds && !out.built.iter().any(|b| b.as_bytes() == w) {
                            out.built.push(text());
                        }
                    }
                    _ => {}
                }
                prev = word;
                last_punct = 0;
            }
            b')' if matches!(prev, b"crate" | b"super" | b"self") && last_punct == 0 => {
                // `pub(crate) use`: let `use` see `pub` before the parenthesis.
                prev = b"pub";
                i += 1;
            }
            _ => {
                match b {
                    b'{' => {
                        depth += 1;
                        cfg_test = false;
                        cfgs.clear();
                        if let Some(name) = inline_pending.take() {
                            inline.push((name, depth));
                        }
                        if in_impl_header || impl_pending.is_some() {
                            in_impl_header = false;
                            impls.push((impl_pending.take().unwrap_or_default(), impl_trait.take(), depth));
                        }
                    }
                    b'}' => {
                        cfgs.clear();
                        if inline.last().is_some_and(|(_, d)| *d == depth) {
                            inline.pop();
                        }
                        if impls.last().is_some_and(|(_, _, d)| *d == depth) {
                            impls.pop();
                        }
                        depth = depth.saturating_sub(1);
                    }
                    b',' if i > cfg_end => cfgs.clear(),
                    b'<' if in_impl_header => angle += 1,
                    b'>' if in_impl_header => angle = angle.saturating_sub(1),
                    b';' => {
                        in_pub_use = false;
                        in_use = false;
                        cfg_test = false;
                        cfgs.clear();
                        path_attr = None;
                        path_fit = 0;
                    }
                    // `#![cfg(windows)]` at the top: the whole file, and the modules it
                    // declares, are under it.
                    b'#' if depth == 0 && src.get(skip_ws(src, i + 1)) == Some(&b'!') => {
                        if let Some((cfg, end)) = cfg_attr_at(src, skip_ws(src, i + 1)) {
                            file_cfgs.push(cfg);
                            cfg_end = end;
                        }
                    }
                    b'#' => {
                        attr_start = i;
                        if let Some((cfg, end)) = cfg_attr_at(src, i) {
                            cfgs.push(cfg);
                            cfg_end = end;
                        }
                    }
                    b'*' if in_pub_use => out.exports.push("*".into()),
                    b'*' if in_use => out.glob_use = true,
                    _ => {}
                }
                if !b.is_ascii_whitespace() {
                    if b != b'(' {
                        last_punct = b;
                    }
                    if b != b'(' && b != b'=' && b != b']' {
                        prev = b"";
                    }
                }
                i += 1;
            }
        }
    }
    for m in &mut out.mods {
        m.cfgs.extend(file_cfgs.iter().cloned());
    }
    out.idents = Idents::from_hashes(idents);
    out
}

#[cfg(test)]
mod outline_tests {
    use super::*;

    #[test]
    fn remembers_raw_identifiers_by_their_name() {
        let o = outline(b"fn r#match() { r#type(x9_y, r) }");
        assert_eq!(o.fns, ["match"]);
        for word in ["match", "type", "x9_y", "r"] {
            assert!(o.idents.may_contain(word), "{word}");
        }
    }

    #[test]
    fn remembers_the_identifiers_it_saw() {
        let o = outline(b"fn main() { config::load_settings(path); } // mention_in_comment");
        assert!(o.idents.may_contain("load_settings") && o.idents.may_contain("main"));
        assert!(!o.idents.may_contain("mention_in_comment"));
        let absent =
            ["serve", "handle_request", "run_forever", "x9"].iter().filter(|w| o.idents.may_contain(w));
        assert!(absent.count() <= 1);
    }

    #[test]
    fn aliases_keep_the_type_names_they_mention() {
        let o = outline(
            b"pub type DbPool = r2d2::Pool<SqliteConnectionManager>;\n\
              type Cache<K> = HashMap<K, u8>;\ntype Id = u64; fn f() {}\n",
        );
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            o.aliases,
            [
                ("DbPool".to_string(), names(&["Pool", "SqliteConnectionManager"])),
                ("Id".to_string(), names(&[]))
            ]
        );
    }

    #[test]
    fn finds_async_and_names() {
        let o = outline(b"// async in a comment\nfn load() {}\npub(crate) fn r#read() {}\n");
        assert!(!o.has_async);
        assert_eq!(o.fns, ["load", "read"]);
        assert!(outline(b"impl Future for F { fn poll(self) {} }").has_async);
        assert!(!outline(b"fn f() { let s = \"async fn\"; }").has_async);
        let o = outline(b"pub use crate::store::{Store, open as open_store};\nuse x::y;");
        assert_eq!(o.exports, ["crate", "store", "Store", "open", "as", "open_store"]);
        assert_eq!(outline(b"pub(crate) use a::b;").exports, ["a", "b"]);
        assert_eq!(outline(b"pub use self::platform::*;").exports, ["self", "platform", "*"]);
        assert!(
            outline(b"pub use std::fs;").std_exports
                && outline(b"pub(crate) use ::std::{io, thread};").std_exports
        );
        assert!(!outline(b"use std::fs;").std_exports && !outline(b"pub use crate::std::fs;").std_exports);
        assert!(!outline(b"pub use std::sync::Arc;").std_exports);
        let o = outline(
            b"impl<T: Clone> a::Store<T> { fn open() {} }\nimpl fmt::Display for Store { fn fmt(&self) {} }\n\
              impl<T> Trait for Vec<T> where T: Copy { fn m() {} }\nfn free() {}",
        );
        // A trait impl's methods are named by the trait too: calls through `dyn Trait` want them.
        assert_eq!(o.fns, ["Store::open", "Store::fmt", "Display::fmt", "Vec::m", "Trait::m", "free"]);
        let o = outline(b"fn f() -> Chunks<File> { let c = Chunks::new(x); Tee { j } }\nstruct S;");
        assert_eq!(o.built, ["Chunks", "Tee"]);
        // An alias stands for its type in other files.
        assert_eq!(outline(b"pub type Shared = Arc<AppState>;").built, ["Shared"]);
    }

    #[test]
    fn a_path_for_this_host_wins_over_other_platforms() {
        let o = outline(
            b"#[cfg_attr(any(unix, target_os = \"wasi\"), path = \"unix.rs\")]\n\
              #[cfg_attr(windows, path = \"windows.rs\")]\n\
              #[cfg_attr(not(any(unix, windows)), path = \"other.rs\")]\nmod platform;\n",
        );
        let want = if cfg!(windows) { "windows.rs" } else { "unix.rs" };
        assert_eq!(o.mods[0].path_attr.as_deref(), Some(want));
    }

    #[test]
    fn finds_module_declarations_inline_modules_and_paths() {
        let o = outline(
            b"mod config;\nmod inline { fn x() {} mod deep; }\n#[path = \"sys/unix.rs\"]\nmod sys;\n\
              #[cfg(test)]\nmod tests { }\nmod last;",
        );
        let got: Vec<(String, Option<String>)> =
            o.mods.iter().map(|m| (m.path.join("::"), m.path_attr.clone())).collect();
        assert_eq!(
            got,
            [
                ("config".into(), None),
                ("inline::deep".into(), None),
                ("sys".into(), Some("sys/unix.rs".into())),
                ("last".into(), None)
            ]
        );
    }

    #[test]
    fn a_module_declared_under_cfg_test_is_marked() {
        let o = outline(
            b"#[cfg(test)]\nmod test_case;\n#[cfg(test)]\nfn helper() {}\nmod net;\n\
              #[cfg(any(test, feature = \"x\"))]\nmod shared;\n#[cfg(test)] use a::b;\nmod last;",
        );
        let got: Vec<(String, bool)> = o.mods.iter().map(|m| (m.path.join("::"), m.test)).collect();
        let want = [("test_case", true), ("net", false), ("shared", false), ("last", false)];
        assert_eq!(got, want.map(|(m, t)| (m.to_string(), t)));
    }

    #[test]
    fn the_cfgs_of_a_module_declaration_are_kept_as_written() {
        let o = outline(
            b"#[cfg(feature = \"use-dev-tty\")]\npub(crate) mod tty;\n\
              #[cfg(not(feature = \"use-dev-tty\"))] #[allow(dead_code)]\nmod mio;\n\
              struct S { #[cfg(unix)] fd: i32 }\nmod after_struct;\n\
              #[cfg(windows)]\nfn f() {}\nmod after_fn;\n#[cfg_attr(unix, path = \"u.rs\")]\nmod sys;\n\
              #[cfg(all(unix, not(target_os = \"macos\")))]\nmod linux;",
        );
        let got: Vec<(String, Vec<String>)> =
            o.mods.iter().map(|m| (m.path.join("::"), m.cfgs.clone())).collect();
        let want = [
            ("tty", vec!["cfg(feature = \"use-dev-tty\")"]),
            ("mio", vec!["cfg(not(feature = \"use-dev-tty\"))"]),
            ("after_struct", vec![]),
            ("after_fn", vec![]),
            ("sys", vec![]),
            ("linux", vec!["cfg(all(unix, not(target_os = \"macos\")))"]),
        ];
        assert_eq!(got, want.map(|(m, c)| (m.to_string(), c.into_iter().map(String::from).collect())));
    }

    #[test]
    fn a_files_own_cfg_applies_to_every_module_it_declares() {
        let o = outline(b"//! Docs.\n#![cfg(windows)]\n#![cfg_attr(docsrs, feature(doc_cfg))]\nmod a;\n#[cfg(unix)] mod b;");
        let got: Vec<(String, Vec<String>)> =
            o.mods.iter().map(|m| (m.path.join("::"), m.cfgs.clone())).collect();
        let want = [("a", vec!["cfg(windows)"]), ("b", vec!["cfg(unix)", "cfg(windows)"])];
        assert_eq!(got, want.map(|(m, c)| (m.to_string(), c.into_iter().map(String::from).collect())));
    }

    #[test]
    fn a_large_file_does_not_match_every_name() {
        // A generated file with thousands of identifiers: its filter grows with them.
        let src: String = (0..5000).map(|i| format!("fn item_{i}() {{}}\n")).collect();
        let o = outline(src.as_bytes());
        assert!(o.idents.may_contain("item_4999") && o.idents.may_contain("item_0"));
        let absent = (0..1000).filter(|i| o.idents.may_contain(&format!("other_{i}"))).count();
        assert!(absent < 50, "{absent} of 1000 absent names match");
    }
}
