//! Human output: rustc's look (codespan-reporting, ASCII), colour only when asked for.

use std::io::{self, Write};

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::termcolor::{Ansi, NoColor, WriteColor};
use codespan_reporting::term::{self, Chars, Config};

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::diagnostic::{FileReport, Report};

use super::{count, Style};

pub fn write(report: &Report, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    if style.color {
        write_with(report, style, &mut Ansi::new(out))
    } else {
        write_with(report, style, &mut NoColor::new(out))
    }
}

fn write_with(report: &Report, style: &Style, w: &mut dyn WriteColor) -> io::Result<()> {
    let config = Config { chars: Chars::ascii(), ..Config::default() };
    for file in &report.files {
        let text = file.text.as_deref().unwrap_or("");
        let source = SimpleFile::new(file.display.as_str(), text);
        for d in &file.diagnostics {
            term::emit(w, &config, &source, &to_codespan(d, text.len()))
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
    }
    if !style.quiet {
        summary(report, w)?;
    }
    Ok(())
}

/// The closing lines: how many findings in how many files, and how many `--fix` can fix.
/// Nothing when there is no finding but an error (the errors, on stderr, are the news).
pub fn summary<W: Write + ?Sized>(report: &Report, w: &mut W) -> io::Result<()> {
    let n = report.diagnostics().count();
    let files = report.files.len();
    let checked = count(report.files_checked, "file", "files");
    if n == 0 && !report.errors.is_empty() {
        return Ok(());
    }
    if n == 0 {
        writeln!(w, "No problems found ({checked} checked).")?;
        return match hidden_line(report) {
            Some(hidden) => writeln!(w, "{hidden}"),
            None => Ok(()),
        };
    }
    let problems = count(n, "problem", "problems");
    writeln!(w, "Found {problems} in {} ({checked} checked).", count(files, "file", "files"))?;
    if let Some(hidden) = hidden_line(report) {
        writeln!(w, "{hidden}")?;
    }
    let fixes = |a: Applicability| {
        report.diagnostics().filter(|(_, d)| d.fix.as_ref().is_some_and(|f| f.applicability == a)).count()
    };
    let (safe, unsafe_) = (fixes(Applicability::MachineApplicable), fixes(Applicability::MaybeIncorrect));
    match (safe, unsafe_) {
        (0, 0) => Ok(()),
        (0, u) => writeln!(w, "{u} fixable with `--fix --unsafe-fixes`."),
        (s, 0) => writeln!(w, "{s} fixable with `--fix`."),
        (s, u) => writeln!(w, "{s} fixable with `--fix` ({u} more with `--fix --unsafe-fixes`)."),
    }
}

/// "14 more on startup-only paths, 3 in code no program reaches and 2 in test-support code;
/// `--all` shows them."
pub fn hidden_line(report: &Report) -> Option<String> {
    let h = report.hidden;
    let brief = if h.brief == 1 {
        "as a brief metadata operation on a hot path"
    } else {
        "as brief metadata operations on hot paths"
    };
    let parts: Vec<String> = [
        (h.startup, "on startup-only paths"),
        (h.admin, "in admin code"),
        (h.brief, brief),
        (h.unreached, "in code no program reaches"),
        (h.test, "in test-support code"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .enumerate()
    .map(|(i, (n, what))| if i == 0 { format!("{n} more {what}") } else { format!("{n} {what}") })
    .collect();
    let listed = match parts.split_last() {
        None => return None,
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    };
    Some(format!("{listed}; `--all` shows them."))
}

/// One diagnostic as the human output shows it, without colour (cargo's `rendered`).
pub fn render(file: &FileReport, d: &Diagnostic) -> String {
    let config = Config { chars: Chars::ascii(), ..Config::default() };
    let text = file.text.as_deref().unwrap_or("");
    let source = SimpleFile::new(file.display.as_str(), text);
    let mut out = NoColor::new(Vec::new());
    // Writing to memory cannot fail; a file error would only lose the snippet.
    let _ = term::emit(&mut out, &config, &source, &to_codespan(d, text.len()));
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

fn to_codespan(d: &Diagnostic, len: usize) -> CsDiagnostic<()> {
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let start = d.span.start.offset.min(len);
    let end = d.span.end.offset.clamp(start, len);
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    match d.fix.as_ref().map(|f| f.applicability) {
        Some(crate::diagnostic::Applicability::MachineApplicable) => {
            notes.push("help: fixable with `--fix`".into())
        }
        Some(_) => notes.push("help: fixable with `--fix --unsafe-fixes`".into()),
        None => {}
    }
    CsDiagnostic::new(severity)
        .with_code(d.rule.id())
        .with_message(&d.message)
        .with_labels(vec![Label::primary((), start..end).with_message(&d.label)])
        .with_notes(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Hidden;

    fn line(startup: usize, unreached: usize, test: usize) -> Option<String> {
        hidden_line(&Report {
            hidden: Hidden { startup, unreached, test, ..Hidden::default() },
            ..Report::default()
        })
    }

    #[test]
    fn the_hidden_line_lists_what_is_hidden() {
        assert_eq!(line(0, 0, 0), None);
        assert_eq!(line(0, 3, 0).unwrap(), "3 more in code no program reaches; `--all` shows them.");
        assert_eq!(
            line(14, 3, 2).unwrap(),
            "14 more on startup-only paths, 3 in code no program reaches and 2 in test-support code; \
             `--all` shows them."
        );
        let admin = Report { hidden: Hidden { admin: 2, test: 1, ..Hidden::default() }, ..Report::default() };
        assert_eq!(
            hidden_line(&admin).unwrap(),
            "2 more in admin code and 1 in test-support code; `--all` shows them."
        );
        let brief =
            Report { hidden: Hidden { brief: 4, startup: 1, ..Hidden::default() }, ..Report::default() };
        assert_eq!(
            hidden_line(&brief).unwrap(),
            "1 more on startup-only paths and 4 as brief metadata operations on hot paths; `--all` shows \
             them."
        );
    }
}
