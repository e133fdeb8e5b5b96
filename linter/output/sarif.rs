//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning accepts it. Every rule is listed in
//! `tool.driver.rules` (with its documentation as help), results point at them by id and
//! index, and locations are relative to `%SRCROOT%` (the directory stall ran in).

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::diagnostic::Report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::registry::Rule;

use super::{cargo::file_url, relative_path, Context};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write(report: &Report, context: &Context, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, context))?;
    writeln!(out)
}

pub fn document(report: &Report, context: &Context) -> Value {
    let rules: Vec<Value> = Rule::ALL.iter().map(|r| rule(*r)).collect();
    let results: Vec<Value> =
        report.diagnostics().map(|(file, d)| result(d, &location(&file.display, context, Some(d)))).collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [ location(&e.path, context, None) ],
            })
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "stall",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "invocations": [{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "columnKind": "unicodeCodePoints",
    });
    if !context.root.as_os_str().is_empty() {
        let mut root = file_url(&context.root);
        if !root.ends_with('/') {
            root.push('/');
        }
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule(r: Rule) -> Value {
    let default = if r == Rule::ParseError { Severity::Error } else { Severity::Warning };
    let doc = r.doc();
    json!({
        "id": r.id(),
        "name": r.id(),
        "shortDescription": { "text": r.summary() },
        "fullDescription": { "text": what_it_does(&doc).unwrap_or_else(|| r.summary().to_string()) },
        "help": { "text": doc, "markdown": doc },
        "defaultConfiguration": { "level": level(default) },
        "properties": { "tags": [ if r.is_blocking() { "blocking" } else { "concurrency" } ] },
    })
}

/// The text under `## What it does`, joined into one paragraph.
fn what_it_does(doc: &str) -> Option<String> {
    let rest = doc.split("## What it does").nth(1)?;
    let section = rest.split("\n## ").next()?;
    let text = section.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn result(d: &Diagnostic, location: &Value) -> Value {
    let index = Rule::ALL.iter().position(|r| *r == d.rule).unwrap_or(0);
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    json!({
        "ruleId": d.rule.id(),
        "ruleIndex": index,
        "level": level(d.severity),
        "message": { "text": text },
        "locations": [location],
        "properties": { "exposure": d.exposure.as_str() },
    })
}

fn location(display: &str, context: &Context, d: Option<&Diagnostic>) -> Value {
    let artifact = match relative_path(display, &context.root) {
        Some(uri) => json!({ "uri": uri, "uriBaseId": "%SRCROOT%" }),
        None => json!({ "uri": file_url(std::path::Path::new(display)) }),
    };
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(d) = d {
        let (start, end) = (d.span.start, d.span.end.max(d.span.start));
        physical["region"] = json!({
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column.max(if end.line == start.line { start.column } else { 1 }),
        });
    }
    json!({ "physicalLocation": physical })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_description_is_the_first_section_of_the_doc() {
        let doc = "## What it does\nChecks\nthings.\n\n## Why is this bad?\nBecause.\n";
        assert_eq!(what_it_does(doc).as_deref(), Some("Checks things."));
        assert!(what_it_does("nothing").is_none());
    }
}
