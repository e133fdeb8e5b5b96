//! `--fix` and `--diff`: apply the fixes of a report to the files, atomically, or show them.
//! A rewrite to `tokio::fs` or `tokio::time` that needs a tokio feature the package does not
//! enable also enables it in the package's Cargo.toml (format-preserving), so the fixed crate
//! still builds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::diagnostic::Report;
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::engine::ANALYSIS_STACK;
use crate::fix::{add_tokio_features, apply_edits, tokio_feature};
use crate::output::count;

/// A manifest's text before and after enabling features, and the features added; `None`
/// when nothing changes; the error says why it cannot be edited.
type ManifestEdit = Result<Option<(String, String, Vec<String>)>, String>;

/// What applying the fixes did.
#[derive(Debug, Default)]
pub struct Applied {
    pub fixed: usize,
    pub files: usize,
    /// (path, why) of files left untouched.
    pub refused: Vec<(String, String)>,
    /// (manifest, features) of the tokio features enabled for the fixes.
    pub features: Vec<(String, Vec<String>)>,
}

impl Applied {
    /// "2 fixes in 1 file" (`one`/`many`: "fix"/"fixes"), for the summary.
    pub fn summary(&self, one: &str, many: &str) -> String {
        format!("{} in {}", count(self.fixed, one, many), count(self.files, "file", "files"))
    }
}

/// The fixes of a file's findings that may be applied.
fn chosen(diagnostics: &[Diagnostic], unsafe_fixes: bool) -> Vec<&Fix> {
    diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| unsafe_fixes || f.applicability == Applicability::MachineApplicable)
        .collect()
}

/// Applies the chosen fixes to a text; `None` when there are none. The result must parse.
pub fn fix_text(
    text: &str,
    diagnostics: &[Diagnostic],
    unsafe_fixes: bool,
) -> Result<Option<(String, usize)>, String> {
    let fixes = chosen(diagnostics, unsafe_fixes);
    if fixes.is_empty() {
        return Ok(None);
    }
    let edits: Vec<_> = fixes.iter().flat_map(|f| &f.edits).collect();
    let new = apply_edits(text, &edits)?;
    parses(&new).map_err(|e| format!("the fixed file would not parse ({e})"))?;
    Ok(Some((new, fixes.len())))
}

/// Applies (or with `diff`, prints) the fixes of every finding whose applicability is allowed.
pub fn apply(report: &Report, unsafe_fixes: bool, diff: bool, out: &mut dyn Write) -> io::Result<Applied> {
    let mut applied = Applied::default();
    // (file, display, old text, new text, fixes, tokio features the fixes need)
    let mut pending = Vec::new();
    for file in &report.files {
        let Some(text) = file.text.as_deref() else { continue };
        let new = match fix_text(text, &file.diagnostics, unsafe_fixes) {
            Ok(Some(new)) => new,
            Ok(None) => continue,
            Err(e) => {
                applied.refused.push((file.display.clone(), e));
                continue;
            }
        };
        let features: BTreeSet<&str> =
            chosen(&file.diagnostics, unsafe_fixes).into_iter().filter_map(tokio_feature).collect();
        pending.push((file, text, new, features));
    }

    // The manifests that need a feature, and the files that need them.
    let mut wanted: BTreeMap<PathBuf, BTreeSet<&str>> = BTreeMap::new();
    let mut manifest_of = Vec::new();
    for (file, _, _, features) in &pending {
        let manifest = if features.is_empty() { None } else { package_manifest(&file.path) };
        if let Some(m) = &manifest {
            wanted.entry(m.clone()).or_default().extend(features.iter().copied());
        }
        manifest_of.push(manifest);
    }
    let mut manifests: BTreeMap<PathBuf, ManifestEdit> = BTreeMap::new();
    for (manifest, features) in &wanted {
        let features: Vec<&str> = features.iter().copied().collect();
        manifests.insert(manifest.clone(), edit_manifest(manifest, &features));
    }

    for ((file, text, (new, fixed), _), manifest) in pending.into_iter().zip(manifest_of) {
        if let Some(Err(e)) = manifest.as_ref().and_then(|m| manifests.get(m)) {
            let why = format!("the fix needs a tokio feature that cannot be enabled: {e}");
            applied.refused.push((file.display.clone(), why));
            continue;
        }
        if diff {
            let d = similar::TextDiff::from_lines(text, &new);
            write!(out, "{}", d.unified_diff().header(&file.display, &file.display))?;
        } else if let Err(e) = write_atomically(&file.path, &new) {
            applied.refused.push((file.display.clone(), format!("cannot write: {e}")));
            continue;
        }
        applied.fixed += fixed;
        applied.files += 1;
    }
    for (manifest, edit) in manifests {
        let Ok(Some((old, new, added))) = edit else { continue };
        let shown = manifest.display().to_string();
        if diff {
            let d = similar::TextDiff::from_lines(&old, &new);
            write!(out, "{}", d.unified_diff().header(&shown, &shown))?;
        } else if let Err(e) = write_atomically(&manifest, &new) {
            applied.refused.push((shown, format!("cannot write: {e}")));
            continue;
        }
        applied.features.push((shown, added));
    }
    Ok(applied)
}

/// The manifest's text before and after enabling `features` of tokio, and the ones added;
/// `None` when they are all on already.
fn edit_manifest(
    manifest: &Path,
    features: &[&str],
) -> Result<Option<(String, String, Vec<String>)>, String> {
    let old =
        std::fs::read_to_string(manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let inherited = if inherits_tokio(&old) { workspace_tokio_features(manifest) } else { Vec::new() };
    let Some(new) = add_tokio_features(&old, features, &inherited)? else { return Ok(None) };
    let had: toml::Table = toml::from_str(&old).unwrap_or_default();
    let before = tokio_features(&had);
    let added = features.iter().filter(|f| !before.iter().any(|b| b == *f)).map(|f| f.to_string()).collect();
    Ok(Some((old, new, added)))
}

fn tokio_features(manifest: &toml::Table) -> Vec<String> {
    let tokio = manifest.get("dependencies").and_then(|d| d.get("tokio"));
    let features = tokio.and_then(|t| t.get("features")).and_then(|f| f.as_array());
    features.into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)).collect()
}

/// Whether the manifest's tokio is `{ workspace = true, .. }`.
fn inherits_tokio(manifest: &str) -> bool {
    let table: toml::Table = toml::from_str(manifest).unwrap_or_default();
    let tokio = table.get("dependencies").and_then(|d| d.get("tokio"));
    tokio.and_then(|t| t.get("workspace")).and_then(|w| w.as_bool()) == Some(true)
}

/// The tokio features of `[workspace.dependencies]` in the nearest workspace root above.
fn workspace_tokio_features(member: &Path) -> Vec<String> {
    let Some(dir) = member.parent() else { return Vec::new() };
    for d in dir.ancestors() {
        let Ok(text) = std::fs::read_to_string(d.join("Cargo.toml")) else { continue };
        let Ok(table) = toml::from_str::<toml::Table>(&text) else { continue };
        if let Some(ws) = table.get("workspace").and_then(|w| w.as_table()) {
            let mut as_manifest = toml::Table::new();
            if let Some(deps) = ws.get("dependencies") {
                as_manifest.insert("dependencies".into(), deps.clone());
            }
            return tokio_features(&as_manifest);
        }
    }
    Vec::new()
}

/// The Cargo.toml of the package a file belongs to: the nearest one above it with `[package]`.
fn package_manifest(file: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(file).ok()?;
    abs.ancestors().skip(1).find_map(|dir| {
        let manifest = dir.join("Cargo.toml");
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&manifest).ok()?).ok()?;
        table.contains_key("package").then_some(manifest)
    })
}

/// Parses on a big-stack thread (the prescan ran on the original text, not this one).
pub(super) fn parses(text: &str) -> Result<(), String> {
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
pub(super) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
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
