//! `--statistics`: the number of findings per rule, instead of the findings: a table
//! (`     3  blocking-fs  (2 fixable)`), or with `--output-format json` a list of
//! `{"rule", "count", "fixable"}`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Report;

#[derive(Serialize)]
struct Row {
    rule: &'static str,
    count: usize,
    /// Findings with a fix (safe or not).
    fixable: usize,
}

pub fn write(report: &Report, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut counts: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for (_, d) in report.diagnostics() {
        let c = counts.entry(d.rule.id()).or_default();
        c.0 += 1;
        c.1 += usize::from(d.fix.is_some());
    }
    let mut rows: Vec<Row> =
        counts.into_iter().map(|(rule, (count, fixable))| Row { rule, count, fixable }).collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(b.rule)));
    if json {
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        return writeln!(out);
    }
    for r in rows {
        match r.fixable {
            0 => writeln!(out, "{:>6}  {}", r.count, r.rule)?,
            n => writeln!(out, "{:>6}  {}  ({n} fixable)", r.count, r.rule)?,
        }
    }
    Ok(())
}
