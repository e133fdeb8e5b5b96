//! `--format github`: GitHub Actions workflow commands, one per finding, which the runner turns
//! into annotations on the pull request:
//! `::warning file=src/a.rs,line=3,col=5,endLine=3,endColumn=34,title=blocking-fs::message`.

use std::io::{self, Write};

use crate::diagnostic::Report;
use crate::diagnostic::Severity;

use super::{relative_path, Context};

pub fn write(report: &Report, context: &Context, out: &mut dyn Write) -> io::Result<()> {
    for (file, d) in report.diagnostics() {
        let path = relative_path(&file.display, &context.root).unwrap_or_else(|| file.display.clone());
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let (start, end) = (d.span.start, d.span.end.max(d.span.start));
        let mut props = format!("file={},line={}", property(&path), start.line);
        // Columns mean something only on one line: GitHub rejects them across several.
        if start.line == end.line {
            props.push_str(&format!(",col={},endLine={},endColumn={}", start.column, end.line, end.column));
        } else {
            props.push_str(&format!(",endLine={}", end.line));
        }
        props.push_str(&format!(",title={}", property(d.rule.id())));
        let mut text = d.message.clone();
        if let Some(help) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(help);
        }
        writeln!(out, "::{command} {props}::{}", data(&text))?;
    }
    for e in &report.errors {
        let path = relative_path(&e.path, &context.root).unwrap_or_else(|| e.path.clone());
        writeln!(out, "::error file={},title=stall::{}", property(&path), data(&e.message))?;
    }
    Ok(())
}

/// Escapes a command's message: `%`, CR and LF.
pub fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: what `data` escapes, and the separators `:` and `,`.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_toolkit() {
        assert_eq!(data("100% done\r\nnext: a,b"), "100%25 done%0D%0Anext: a,b");
        assert_eq!(property("C:\\x,y%\n"), "C%3A\\x%2Cy%25%0A");
    }
}
