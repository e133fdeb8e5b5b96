//! `--fix` and `--diff`: apply the fixes of a report to the files, atomically, or show them.

use std::io::{self, Write};
use std::path::Path;

use crate::diagnostic::Applicability;
use crate::diagnostic::Report;
use crate::engine::ANALYSIS_STACK;
use crate::fix::apply_edits;

/// What applying the fixes did.
#[derive(Debug, Default)]
pub struct Applied {
    pub fixed: usize,
    pub files: usize,
    /// (path, why) of files left untouched.
    pub refused: Vec<(String, String)>,
}

/// Applies (or with `diff`, prints) the fixes of every finding whose applicability is allowed.
pub fn apply(report: &Report, unsafe_fixes: bool, diff: bool, out: &mut dyn Write) -> io::Result<Applied> {
    let mut applied = Applied::default();
    for file in &report.files {
        let fixes: Vec<_> = file
            .diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| unsafe_fixes || f.applicability == Applicability::MachineApplicable)
            .collect();
        let Some(text) = file.text.as_deref() else { continue };
        if fixes.is_empty() {
            continue;
        }
        let edits: Vec<_> = fixes.iter().flat_map(|f| &f.edits).collect();
        let new = match apply_edits(text, &edits) {
            Ok(new) => new,
            Err(e) => {
                applied.refused.push((file.display.clone(), e));
                continue;
            }
        };
        if let Err(e) = parses(&new) {
            applied.refused.push((file.display.clone(), format!("the fixed file would not parse ({e})")));
            continue;
        }
        if diff {
            let d = similar::TextDiff::from_lines(text, &new);
            write!(out, "{}", d.unified_diff().header(&file.display, &file.display))?;
        } else if let Err(e) = write_atomically(&file.path, &new) {
            applied.refused.push((file.display.clone(), format!("cannot write: {e}")));
            continue;
        }
        applied.fixed += fixes.len();
        applied.files += 1;
    }
    Ok(applied)
}

/// Parses on a big-stack thread (the prescan ran on the original text, not this one).
fn parses(text: &str) -> Result<(), String> {
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(ANALYSIS_STACK)
        .spawn(move || {
            let r = syn::parse_file(&text).map(|_| ()).map_err(|e| e.to_string());
            proc_macro2::extra::invalidate_current_thread_spans();
            r
        })
        .map_err(|e| e.to_string())?
        .join()
        .unwrap_or_else(|_| Err("the parser failed".into()))
}

/// Writes a temp file beside the target and renames it over: readers never see half a file.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.stall-fix.tmp"));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
