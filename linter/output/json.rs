//! `--format json`: one document, the contract in the design notes (version 1).

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::{Applicability, Diagnostic, Report, Severity};
use crate::registry::Rule;
use crate::source::Position;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: Rule,
    severity: &'static str,
    message: &'a str,
    path: &'a str,
    start: JsonPosition,
    end: JsonPosition,
    help: Option<&'a str>,
    notes: &'a [String],
    fix: Option<JsonFix<'a>>,
    /// Where the code runs: "hot", "startup" or "test".
    exposure: &'static str,
}

/// A position as the contract has it: 1-based line and column (chars), no byte offset.
#[derive(Serialize)]
struct JsonPosition {
    line: usize,
    column: usize,
}

impl From<Position> for JsonPosition {
    fn from(p: Position) -> Self {
        JsonPosition { line: p.line, column: p.column }
    }
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: Applicability,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    start: JsonPosition,
    end: JsonPosition,
    replacement: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files_checked: usize,
    diagnostics: usize,
    errors: usize,
    /// Findings the reporting level left out, by exposure (`--all` shows them).
    hidden: HiddenCounts,
}

#[derive(Serialize)]
struct HiddenCounts {
    startup: usize,
    admin: usize,
    brief: usize,
    unreached: usize,
    test: usize,
}

#[derive(Serialize)]
struct JsonError<'a> {
    path: &'a str,
    message: &'a str,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let diagnostics: Vec<JsonDiagnostic> =
        report.diagnostics().map(|(f, d)| json_diagnostic(&f.display, d)).collect();
    let doc = Document {
        version: 1,
        summary: Summary {
            files_checked: report.files_checked,
            diagnostics: diagnostics.len(),
            // Error-level findings (a file that does not parse, a rule set to "error") and
            // files that could not be read or checked.
            errors: report.errors.len()
                + report.diagnostics().filter(|(_, d)| d.severity == Severity::Error).count(),
            hidden: HiddenCounts {
                startup: report.hidden.startup,
                admin: report.hidden.admin,
                brief: report.hidden.brief,
                unreached: report.hidden.unreached,
                test: report.hidden.test,
            },
        },
        diagnostics,
        errors: report.errors.iter().map(|e| JsonError { path: &e.path, message: &e.message }).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn json_diagnostic<'a>(path: &'a str, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    JsonDiagnostic {
        rule: d.rule,
        severity: d.severity.as_str(),
        message: &d.message,
        path,
        start: d.span.start.into(),
        end: d.span.end.into(),
        help: d.help.as_deref(),
        notes: &d.notes,
        fix: d.fix.as_ref().map(|f| JsonFix {
            applicability: f.applicability,
            edits: f
                .edits
                .iter()
                .map(|e| JsonEdit { start: e.start.into(), end: e.end.into(), replacement: &e.replacement })
                .collect(),
        }),
        exposure: d.exposure.as_str(),
    }
}
