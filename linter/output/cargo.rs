//! `--format cargo`: one JSON object per line in the shape of the compiler messages of
//! `cargo check --message-format=json`, so tools that read those (rust-analyzer's
//! `check.overrideCommand`, cargo_metadata) show stall's findings like rustc's.
//!
//! rust-analyzer drops a message without `children` and a span without `text`, so every
//! message carries both, even when empty of content.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::{Applicability, Diagnostic, Edit};
use crate::diagnostic::{FileReport, Report};
use crate::source::{Position, SourceIndex};

use super::{human, Context};

/// A file's package and compilation target, as cargo names them in its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CargoTarget {
    /// Cargo's package id, e.g. `path+file:///home/me/app#0.1.0`.
    pub package_id: String,
    /// Absolute path of the package's Cargo.toml.
    pub manifest_path: String,
    pub target: TargetInfo,
}

/// The `target` of a cargo message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetInfo {
    pub kind: Vec<String>,
    pub crate_types: Vec<String>,
    pub name: String,
    pub src_path: String,
    pub edition: String,
    pub doc: bool,
    pub doctest: bool,
    pub test: bool,
}

#[derive(Serialize)]
struct CompilerMessage<'a> {
    reason: &'static str,
    package_id: &'a str,
    manifest_path: &'a str,
    target: &'a TargetInfo,
    message: Message,
}

#[derive(Serialize)]
struct Message {
    #[serde(rename = "$message_type", skip_serializing_if = "Option::is_none")]
    message_type: Option<&'static str>,
    message: String,
    code: Option<Code>,
    level: &'static str,
    spans: Vec<Span>,
    children: Vec<Message>,
    rendered: Option<String>,
}

#[derive(Serialize)]
struct Code {
    code: &'static str,
    explanation: Option<String>,
}

#[derive(Serialize)]
struct Span {
    file_name: String,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    line_end: usize,
    column_start: usize,
    column_end: usize,
    is_primary: bool,
    text: Vec<SpanLine>,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<&'static str>,
    expansion: Option<()>,
}

#[derive(Serialize)]
struct SpanLine {
    text: String,
    highlight_start: usize,
    highlight_end: usize,
}

pub fn write(report: &Report, context: &Context, out: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        let file_name = file_name(&file.path, &context.root);
        let stand_in;
        let target = match context.targets.get(&file.path) {
            Some(t) => t,
            None => {
                stand_in = stand_in_target(Path::new(&file_name));
                &stand_in
            }
        };
        let text = file.text.as_deref().unwrap_or("");
        let index = SourceIndex::new(text);
        for d in &file.diagnostics {
            let line = CompilerMessage {
                reason: "compiler-message",
                package_id: &target.package_id,
                manifest_path: &target.manifest_path,
                target: &target.target,
                message: message(file, d, &file_name, &index),
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// The file as rustc would name it to rust-analyzer: absolute (it joins relative names to the
/// workspace root, which need not be where stall ran).
fn file_name(path: &Path, root: &Path) -> String {
    let joined =
        if path.is_absolute() || root.as_os_str().is_empty() { path.to_path_buf() } else { root.join(path) };
    let clean: PathBuf = joined.components().filter(|c| !matches!(c, Component::CurDir)).collect();
    clean.to_string_lossy().into_owned()
}

fn message(file: &FileReport, d: &Diagnostic, file_name: &str, index: &SourceIndex) -> Message {
    let label = (!d.label.is_empty()).then(|| d.label.clone());
    let primary = span(file_name, index, d.span.start, d.span.end, label, None);
    let mut children: Vec<Message> = d.notes.iter().map(|n| child("note", n.clone(), Vec::new())).collect();
    match (&d.help, &d.fix) {
        (Some(help), None) => children.push(child("help", help.clone(), Vec::new())),
        (help, Some(fix)) => {
            let applicability = match fix.applicability {
                Applicability::MachineApplicable => "MachineApplicable",
                Applicability::MaybeIncorrect => "MaybeIncorrect",
            };
            let spans = fix.edits.iter().map(|e| suggestion(file_name, index, e, applicability)).collect();
            let text = help.clone().unwrap_or_else(|| "apply the suggested change".to_string());
            children.push(child("help", text, spans));
        }
        (None, None) => {}
    }
    Message {
        message_type: Some("diagnostic"),
        message: d.message.clone(),
        code: Some(Code { code: d.rule.id(), explanation: None }),
        level: d.severity.as_str(),
        spans: vec![primary],
        children,
        rendered: Some(human::render(file, d)),
    }
}

fn child(level: &'static str, message: String, spans: Vec<Span>) -> Message {
    Message { message_type: None, message, code: None, level, spans, children: Vec::new(), rendered: None }
}

fn suggestion(file_name: &str, index: &SourceIndex, edit: &Edit, applicability: &'static str) -> Span {
    let mut s = span(file_name, index, edit.start, edit.end, None, Some(edit.replacement.clone()));
    s.suggestion_applicability = Some(applicability);
    s
}

fn span(
    file_name: &str,
    index: &SourceIndex,
    start: Position,
    end: Position,
    label: Option<String>,
    suggested_replacement: Option<String>,
) -> Span {
    let end = if end < start { start } else { end };
    Span {
        file_name: file_name.to_string(),
        byte_start: start.offset,
        byte_end: end.offset,
        line_start: start.line,
        line_end: end.line,
        column_start: start.column,
        column_end: end.column,
        is_primary: true,
        text: span_lines(index, start, end),
        label,
        suggested_replacement,
        suggestion_applicability: None,
        expansion: None,
    }
}

/// The source lines a span covers, with the highlighted columns of each (as rustc gives them).
fn span_lines(index: &SourceIndex, start: Position, end: Position) -> Vec<SpanLine> {
    (start.line..=end.line.max(start.line))
        .map(|line| {
            let text = index.line_text(line);
            let highlight_start = if line == start.line { start.column } else { 1 };
            let highlight_end = if line == end.line { end.column } else { text.chars().count() + 1 };
            SpanLine {
                text: text.to_string(),
                highlight_start,
                highlight_end: highlight_end.max(highlight_start),
            }
        })
        .collect()
}

/// For a file outside any package: a package and binary target of its own, named after it.
fn stand_in_target(file: &Path) -> CargoTarget {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "main".into());
    CargoTarget {
        package_id: package_id(dir, &name, "0.0.0"),
        manifest_path: dir.join("Cargo.toml").to_string_lossy().into_owned(),
        target: TargetInfo {
            kind: vec!["bin".into()],
            crate_types: vec!["bin".into()],
            name,
            src_path: file.to_string_lossy().into_owned(),
            edition: "2021".into(),
            doc: false,
            doctest: false,
            test: true,
        },
    }
}

/// Cargo's id of a path package: `path+file:///dir#name@version`, or `path+file:///dir#version`
/// when the directory has the package's name (cargo leaves the name out then).
pub fn package_id(dir: &Path, name: &str, version: &str) -> String {
    let url = file_url(dir);
    let last = url.rsplit('/').next().unwrap_or("");
    if last == name {
        format!("path+{url}#{version}")
    } else {
        format!("path+{url}#{name}@{version}")
    }
}

/// A `file://` URL of an absolute path, percent-encoded as cargo does.
pub fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    let s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        url.push('/');
    }
    for b in s.bytes() {
        // The `url` crate's path-segment set, as cargo uses it.
        let encode = !(0x20..0x7f).contains(&b) || b" \"#<>?`{}%".contains(&b);
        if encode {
            url.push_str(&format!("%{b:02X}"));
        } else {
            url.push(b as char);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_leave_out_a_name_the_directory_already_says() {
        assert_eq!(package_id(Path::new("/w/app"), "app", "0.1.0"), "path+file:///w/app#0.1.0");
        assert_eq!(
            package_id(Path::new("/w/crates/x"), "my-x", "1.2.3"),
            "path+file:///w/crates/x#my-x@1.2.3"
        );
        assert_eq!(file_url(Path::new("/a b/c#d")), "file:///a%20b/c%23d");
    }

    #[test]
    fn span_lines_highlight_each_covered_line() {
        let index = SourceIndex::new("fn f() {\n    g(\n    );\n}\n");
        let start = index.position(2, 4);
        let end = index.position(3, 5);
        let lines = span_lines(&index, start, end);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].highlight_start, lines[0].highlight_end), (5, 7));
        assert_eq!(lines[0].text, "    g(");
        assert_eq!((lines[1].highlight_start, lines[1].highlight_end), (1, 6));
    }
}
