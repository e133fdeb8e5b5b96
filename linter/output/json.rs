//! `--format json`: one document, the contract in the design notes (version 1).

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Fix, Severity};
use crate::rules::Rule;
use crate::run::Report;
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
    start: Position,
    end: Position,
    help: Option<&'a str>,
    notes: &'a [String],
    fix: Option<&'a Fix>,
}

#[derive(Serialize)]
struct Summary {
    files_checked: usize,
    diagnostics: usize,
    errors: usize,
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
        start: d.span.start,
        end: d.span.end,
        help: d.help.as_deref(),
        notes: &d.notes,
        fix: d.fix.as_ref(),
    }
}
