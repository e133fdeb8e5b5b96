//! `--output-format concise`: one line per finding, `path:line:col: rule message`, as ruff's
//! concise output and compilers' short form print them (editors and `grep` read it), then the
//! summary unless `--quiet`.

use std::io::{self, Write};

use crate::diagnostic::Report;

use super::{human, Style};

pub fn write(report: &Report, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    for (file, d) in report.diagnostics() {
        let message = d.message.replace('\n', " ");
        writeln!(
            out,
            "{}:{}:{}: {} {message}",
            file.display, d.span.start.line, d.span.start.column, d.rule
        )?;
    }
    if !style.quiet {
        human::summary(report, out)?;
    }
    Ok(())
}
