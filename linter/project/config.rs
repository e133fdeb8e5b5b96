//! Configuration: `stall.toml`, or `[package.metadata.stall]` / `[workspace.metadata.stall]`
//! in Cargo.toml, found by walking up from the checked path (the nearest wins). Unknown keys
//! and rule ids are errors that name the file, line and column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Exposure, Hidden, Severity};
use crate::registry::Rule;
use crate::source::SourceIndex;

/// The `stall` table, in `stall.toml` or a manifest's metadata.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Rules to report (default: all).
    pub select: Option<Vec<Rule>>,
    /// Rules not to report.
    #[serde(default)]
    pub ignore: Vec<Rule>,
    /// Severity per rule: "error" or "warning".
    #[serde(default)]
    pub severity: HashMap<Rule, Severity>,
    /// Globs (relative to the config's directory) of paths not to check.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Glob -> rules not to report in matching files.
    #[serde(default)]
    pub per_path_ignores: BTreeMap<String, Vec<Rule>>,
    /// Check test code too.
    pub include_tests: Option<bool>,
    /// Follow calls into sync functions of the checked crates.
    pub transitive: Option<bool>,
    /// Follow calls into the sources of dependencies (default: true).
    pub dependencies: Option<bool>,
    /// Which findings to show: "hot" (default: code that runs beside other tasks) or "all"
    /// (startup-only and test-support code too).
    pub report: Option<ReportLevel>,
    /// More blocking APIs, in the catalog's own schema (read by the rules' catalog, which
    /// reports errors at the entry's place).
    #[serde(default)]
    pub blocking: Vec<toml::Spanned<toml::Value>>,
    /// APIs to treat as non-blocking (`path` or `Type::method`).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Functions that run their closure argument off the executor, like `spawn_blocking`.
    #[serde(default)]
    pub offload: Vec<String>,
}

/// A config file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
    }
}

/// A config and where it was found.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// Paths in the config are relative to this directory.
    pub dir: PathBuf,
    pub file: PathBuf,
}

/// Finds the config for `start` (a file or directory): the nearest `stall.toml`, or Cargo.toml
/// with a `stall` metadata table, walking up.
pub(crate) fn discover(start: &Path) -> Result<Option<Loaded>, ConfigError> {
    let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = if abs.is_dir() { Some(abs.as_path()) } else { abs.parent() };
    while let Some(d) = dir {
        let stall_toml = d.join("stall.toml");
        if stall_toml.is_file() {
            return load_file(&stall_toml).map(Some);
        }
        let manifest = d.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if let Some(config) = parse_manifest(&text, &manifest)? {
                return Ok(Some(Loaded { config, dir: d.to_path_buf(), file: manifest }));
            }
        }
        dir = d.parent();
    }
    Ok(None)
}

/// Loads a config file named explicitly (`--config`): `stall.toml` syntax, or a Cargo.toml.
pub(crate) fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: format!("cannot read the config: {}", super::discover::io_reason(&e)),
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let config = if path.file_name().is_some_and(|n| n == "Cargo.toml") {
        parse_manifest(&text, path)?.unwrap_or_default()
    } else {
        parse_stall_toml(&text, path)?
    };
    Ok(Loaded { config, dir, file: path.to_path_buf() })
}

pub(crate) fn parse_stall_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| toml_error(text, path, &e))
}

/// The `stall` table of a manifest, `[package.metadata.stall]` first.
pub(crate) fn parse_manifest(text: &str, path: &Path) -> Result<Option<Config>, ConfigError> {
    #[derive(Deserialize)]
    struct Manifest {
        package: Option<Section>,
        workspace: Option<Section>,
    }
    #[derive(Deserialize)]
    struct Section {
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    struct Metadata {
        stall: Option<Config>,
    }
    // A manifest that is not valid TOML is cargo's business; only our table's errors are ours.
    if toml::from_str::<toml::Table>(text).is_err() {
        return Ok(None);
    }
    let m: Manifest = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let stall = |s: Option<Section>| s.and_then(|s| s.metadata).and_then(|m| m.stall);
    Ok(stall(m.package).or_else(|| stall(m.workspace)))
}

fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map(|s| s.start).unwrap_or(0);
    let pos = SourceIndex::new(text).position_of_offset(at);
    let message = e.message().trim().replace('\n', " ");
    ConfigError { path: path.to_path_buf(), line: pos.line, column: pos.column, message }
}

impl Loaded {
    /// An error about this config, at byte `offset` of its text (1:1 when unknown).
    pub(crate) fn error_at(&self, offset: Option<usize>, message: String) -> ConfigError {
        let (line, column) = offset
            .and_then(|at| {
                let text = std::fs::read_to_string(&self.file).ok()?;
                let pos = SourceIndex::new(&text).position_of_offset(at);
                Some((pos.line, pos.column))
            })
            .unwrap_or((1, 1));
        ConfigError { path: self.file.clone(), line, column, message }
    }

    /// The set of globs, relative to the config's directory.
    pub(crate) fn globs(&self, patterns: &[String]) -> Result<GlobSet, ConfigError> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let glob =
                Glob::new(p).map_err(|e| self.error_at(None, format!("invalid glob `{p}`: {}", e.kind())))?;
            b.add(glob);
        }
        b.build().map_err(|e| self.error_at(None, e.to_string()))
    }

    /// A function telling whether a path (as walked) is excluded by `exclude`.
    pub(crate) fn excluder(
        &self,
    ) -> Result<Option<impl Fn(&Path) -> bool + Send + Sync + 'static>, ConfigError> {
        if self.config.exclude.is_empty() {
            return Ok(None);
        }
        let set = self.globs(&self.config.exclude)?;
        let dir = self.dir.clone();
        Ok(Some(move |p: &Path| matches_under(&set, &dir, p)))
    }

    /// Applies the reporting parts of the config to a policy.
    pub(crate) fn apply_policy(&self, policy: &mut Policy) -> Result<(), ConfigError> {
        let c = &self.config;
        if let Some(select) = &c.select {
            policy.select = Some(select.iter().copied().collect());
        }
        if let Some(level) = c.report {
            policy.report = level;
        }
        policy.ignore.extend(c.ignore.iter().copied());
        policy.severity.extend(c.severity.iter().map(|(r, s)| (*r, *s)));
        for (pattern, rules) in &c.per_path_ignores {
            let set = self.globs(std::slice::from_ref(pattern))?;
            policy.per_path.push(PathIgnore { set, dir: self.dir.clone(), rules: rules.clone() });
        }
        Ok(())
    }
}

/// A function telling whether a path (as walked) matches `patterns`, globs relative to `dir`
/// (`--exclude` on the command line, relative to the working directory).
pub(crate) fn excluder(
    patterns: &[String],
    dir: &Path,
) -> Result<impl Fn(&Path) -> bool + Send + Sync + 'static, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| format!("invalid glob `{p}`: {}", e.kind()))?);
    }
    let set = b.build().map_err(|e| e.to_string())?;
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    Ok(move |p: &Path| matches_under(&set, &dir, p))
}

/// Does `path` (or a directory above it, below `dir`) match?
fn matches_under(set: &GlobSet, dir: &Path, path: &Path) -> bool {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Ok(rel) = abs.strip_prefix(dir) else { return false };
    rel.ancestors().filter(|a| !a.as_os_str().is_empty()).any(|a| set.is_match(a))
}

/// Rules ignored in files matching a glob.
#[derive(Debug, Clone)]
pub struct PathIgnore {
    set: GlobSet,
    dir: PathBuf,
    rules: Vec<Rule>,
}

/// Which findings are shown, by where their code runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportLevel {
    /// Findings in code that runs beside other tasks; the others are counted.
    #[default]
    Hot,
    /// Every finding.
    All,
}

/// Which findings a run reports, and how loudly.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub select: Option<HashSet<Rule>>,
    pub ignore: HashSet<Rule>,
    pub severity: HashMap<Rule, Severity>,
    pub per_path: Vec<PathIgnore>,
    pub report_unused_suppressions: bool,
    pub report: ReportLevel,
    /// Test code is checked: its findings are shown.
    pub include_tests: bool,
}

impl Policy {
    pub(crate) fn reports(&self, rule: Rule, path: &Path) -> bool {
        let selected = match &self.select {
            Some(s) => s.contains(&rule),
            None => true,
        };
        selected
            && !self.ignore.contains(&rule)
            && !self.per_path.iter().any(|p| p.rules.contains(&rule) && matches_under(&p.set, &p.dir, path))
    }

    /// Whether a finding's exposure is shown. `block-on-in-async` is a correctness bug
    /// (it panics or deadlocks) wherever it runs.
    fn shows(&self, d: &Diagnostic) -> bool {
        self.report == ReportLevel::All
            || d.rule == Rule::BlockOnInAsync
            || match d.exposure {
                Exposure::Hot => true,
                Exposure::Startup | Exposure::Unreached | Exposure::Admin | Exposure::Brief => false,
                Exposure::Test => self.include_tests,
            }
    }

    /// Keeps what the policy reports, at the severity it asks for; counts in `hidden` the
    /// findings of selected rules that only the reporting level leaves out.
    pub fn filter(&self, path: &Path, diagnostics: &mut Vec<Diagnostic>, hidden: &mut Hidden) {
        diagnostics.retain(|d| {
            if !self.reports(d.rule, path) {
                return false;
            }
            let shown = self.shows(d);
            if !shown {
                match d.exposure {
                    Exposure::Startup => hidden.startup += 1,
                    Exposure::Test => hidden.test += 1,
                    Exposure::Unreached => hidden.unreached += 1,
                    Exposure::Admin => hidden.admin += 1,
                    Exposure::Brief => hidden.brief += 1,
                    Exposure::Hot => {}
                }
            }
            shown
        });
        for d in diagnostics.iter_mut() {
            if let Some(s) = self.severity.get(&d.rule) {
                d.severity = *s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let c = parse_stall_toml(
            r#"
select = ["blocking-fs", "blocking-sleep"]
ignore = ["serial-await-sequence"]
exclude = ["generated/**"]
include-tests = true
transitive = false
allow = ["std::fs::metadata"]
offload = ["my_pool::run_blocking"]
[severity]
blocking-fs = "error"
[per-path-ignores]
"examples/**" = ["blocking-sleep"]
[[blocking]]
path = "vendor_sdk::slow_io"
rule = "blocking-fs"
reason = "reads a file"
instead = "vendor_sdk::slow_io_async"
"#,
            Path::new("stall.toml"),
        )
        .unwrap();
        assert_eq!(c.select.unwrap(), [Rule::BlockingFs, Rule::BlockingSleep]);
        assert_eq!(c.severity[&Rule::BlockingFs], Severity::Error);
        assert_eq!(c.blocking[0].get_ref()["path"].as_str(), Some("vendor_sdk::slow_io"));
        assert_eq!(c.transitive, Some(false));
    }

    #[test]
    fn errors_name_line_column_and_what_was_expected() {
        let e = parse_stall_toml("select = [\"blocking-fs\"]\nfrobnicate = 1\n", Path::new("stall.toml"))
            .unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("frobnicate"), "{e}");
        let e = parse_stall_toml("ignore = [\"no-such-rule\"]\n", Path::new("stall.toml")).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("no-such-rule") && e.message.contains("blocking-fs"), "{e}");
    }

    #[test]
    fn manifests_carry_the_table_in_package_or_workspace_metadata() {
        let m = "[package]\nname = \"x\"\n[package.metadata.stall]\nignore = [\"blocking-net\"]\n";
        assert_eq!(parse_manifest(m, Path::new("Cargo.toml")).unwrap().unwrap().ignore, [Rule::BlockingNet]);
        let w = "[workspace]\nmembers = []\n[workspace.metadata.stall]\ntransitive = false\n";
        assert_eq!(parse_manifest(w, Path::new("Cargo.toml")).unwrap().unwrap().transitive, Some(false));
        assert!(parse_manifest("[package]\nname = \"x\"\n", Path::new("Cargo.toml")).unwrap().is_none());
        let bad = "[package]\nname = \"x\"\n[package.metadata.stall]\nselct = []\n";
        assert_eq!(parse_manifest(bad, Path::new("Cargo.toml")).unwrap_err().line, 4);
    }
}
