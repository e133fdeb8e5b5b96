//! Renders a report: human (rustc-like), JSON, and the formats other tools read: cargo's
//! compiler messages, SARIF and GitHub workflow commands.

pub mod cargo;
pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod statistics;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use clap::ValueEnum;

use crate::diagnostic::Report;

pub use cargo::CargoTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-like messages with source snippets
    Human,
    /// one line per finding: `path:line:col: rule message`
    Concise,
    /// one JSON document (the stable contract)
    Json,
    /// one JSON object per line, as `cargo check --message-format=json` prints (rust-analyzer)
    Cargo,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// GitHub Actions workflow commands (annotations on pull requests)
    Github,
}

#[derive(Default)]
pub struct Style {
    pub color: bool,
    pub quiet: bool,
    pub statistics: bool,
    pub context: Context,
}

/// What some formats need beyond the report, gathered by the caller (the CLI reads
/// manifests; output does no I/O).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The directory SARIF and GitHub paths are relative to (the working directory);
    /// empty: paths stay as displayed.
    pub root: PathBuf,
    /// The cargo package and target of each reported file, keyed by `FileReport::path`
    /// (`--format cargo`). A file missing here gets a stand-in package of its own.
    pub targets: HashMap<PathBuf, CargoTarget>,
}

/// Writes a report in a format (with `style.statistics`: the counts per rule instead, as a
/// table, or a JSON list for `Format::Json`).
pub fn write(report: &Report, format: Format, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    if style.statistics {
        return statistics::write(report, format == Format::Json, out);
    }
    match format {
        Format::Human => human::write(report, style, out),
        Format::Concise => concise::write(report, style, out),
        Format::Json => json::write(report, out),
        Format::Cargo => cargo::write(report, &style.context, out),
        Format::Sarif => sarif::write(report, &style.context, out),
        Format::Github => github::write(report, &style.context, out),
    }
}

/// `n` and the noun for it: "1 file", "2 files", "0 fixes".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A displayed path relative to `root` with forward slashes, for tools that resolve paths
/// against the repository (SARIF, GitHub). `None` for an absolute path outside `root`.
pub fn relative_path(display: &str, root: &Path) -> Option<String> {
    let path = Path::new(display);
    let rel = if path.is_absolute() {
        if root.as_os_str().is_empty() {
            return None;
        }
        path.strip_prefix(root).ok()?
    } else {
        path
    };
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_forward_slashes_under_the_root() {
        let root = Path::new("/repo");
        assert_eq!(relative_path("src/a.rs", root).as_deref(), Some("src/a.rs"));
        assert_eq!(relative_path("./src/a.rs", root).as_deref(), Some("src/a.rs"));
        assert_eq!(relative_path("/repo/src/a.rs", root).as_deref(), Some("src/a.rs"));
        assert_eq!(relative_path("/elsewhere/a.rs", root), None);
    }
}
