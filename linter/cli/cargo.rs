//! Cargo's side of the CLI: `cargo stall` (the `cargo-stall` binary), the workspace from
//! `cargo metadata`, `cargo stall --message-format=json` (cargo check's messages with stall's
//! appended), and the package and target of each file for `--format cargo`.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};
use serde_json::Value;

use crate::diagnostic::Report;
use crate::engine::{self, RunOptions};
use crate::output::cargo::{package_id, CargoTarget, TargetInfo};
use crate::output::{self, Context, Format, Style};

use super::{Cli, Command as Subcommand, Host, EXIT_ERROR};

/// A cargo workspace as `cargo metadata --no-deps` describes it.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// Every package of the workspace.
    pub packages: Vec<Package>,
    /// Ids of the workspace members.
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub manifest_path: PathBuf,
    pub targets: Vec<TargetInfo>,
}

impl Package {
    fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }
}

impl Workspace {
    /// Runs `cargo metadata --no-deps`; the error is cargo's own message (no manifest here or
    /// above, a broken manifest) or why cargo could not run.
    pub fn load(manifest_path: Option<&OsStr>) -> Result<Workspace, String> {
        let mut cmd = Command::new(cargo());
        cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
        if let Some(m) = manifest_path {
            cmd.arg("--manifest-path").arg(m);
        }
        let out =
            cmd.stderr(Stdio::piped()).output().map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            let said = said.trim();
            return Err(said.strip_prefix("error: ").unwrap_or(said).to_string());
        }
        serde_json::from_slice(&out.stdout)
            .ok()
            .and_then(|meta| Workspace::from_metadata(&meta))
            .ok_or_else(|| "cannot read the output of `cargo metadata`".to_string())
    }

    /// The packages of `specs` (names or ids) that are not members of the workspace.
    pub fn unknown_packages<'s>(&self, specs: &'s [String]) -> Vec<&'s str> {
        let members: Vec<&Package> = self.packages.iter().filter(|p| self.members.contains(&p.id)).collect();
        specs
            .iter()
            .filter(|s| !members.iter().any(|p| p.name == **s || p.id == **s))
            .map(String::as_str)
            .collect()
    }

    pub fn from_metadata(meta: &Value) -> Option<Workspace> {
        let packages = meta["packages"]
            .as_array()?
            .iter()
            .filter_map(|p| {
                let strs = |v: &Value| -> Vec<String> {
                    v.as_array().into_iter().flatten().filter_map(|s| Some(s.as_str()?.to_string())).collect()
                };
                let targets = p["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| {
                        Some(TargetInfo {
                            kind: strs(&t["kind"]),
                            crate_types: strs(&t["crate_types"]),
                            name: t["name"].as_str()?.to_string(),
                            src_path: t["src_path"].as_str()?.to_string(),
                            edition: t["edition"].as_str().unwrap_or("2015").to_string(),
                            doc: t["doc"].as_bool().unwrap_or(true),
                            doctest: t["doctest"].as_bool().unwrap_or(false),
                            test: t["test"].as_bool().unwrap_or(true),
                        })
                    })
                    .collect();
                Some(Package {
                    id: p["id"].as_str()?.to_string(),
                    name: p["name"].as_str()?.to_string(),
                    manifest_path: PathBuf::from(p["manifest_path"].as_str()?),
                    targets,
                })
            })
            .collect();
        let members = meta["workspace_members"]
            .as_array()?
            .iter()
            .filter_map(|m| Some(m.as_str()?.to_string()))
            .collect();
        Some(Workspace { packages, members })
    }

    /// The directories to check for the members (all, or those named), as short as they can
    /// be written from `cwd`, leaving out directories inside another one of the list.
    pub fn member_dirs(&self, only: &[String], cwd: &Path) -> Vec<PathBuf> {
        let mut dirs: Vec<&Path> = self
            .packages
            .iter()
            .filter(|p| self.members.contains(&p.id))
            .filter(|p| only.is_empty() || only.iter().any(|o| *o == p.name || *o == p.id))
            .map(Package::dir)
            .collect();
        dirs.sort();
        dirs.dedup();
        let outer: Vec<&Path> =
            dirs.iter().copied().filter(|d| !dirs.iter().any(|o| o != d && d.starts_with(o))).collect();
        outer
            .into_iter()
            .map(|d| match d.strip_prefix(cwd) {
                Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
                Ok(rel) => rel.to_path_buf(),
                Err(_) => d.to_path_buf(),
            })
            .collect()
    }
}

/// The cargo to run: the one that ran us, when it did.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Finds the package and target of files: from the workspace's metadata when there is one,
/// otherwise from the nearest `Cargo.toml` with a `[package]`.
#[derive(Default)]
pub struct Targets {
    /// Packages by directory (`None`: no package there).
    dirs: HashMap<PathBuf, Option<Package>>,
}

impl Targets {
    pub fn new(workspace: Option<&Workspace>) -> Targets {
        let mut dirs = HashMap::new();
        for p in workspace.map(|w| w.packages.as_slice()).unwrap_or_default() {
            dirs.insert(p.dir().to_path_buf(), Some(p.clone()));
        }
        Targets { dirs }
    }

    /// The targets of every file of a report, for `Context::targets`.
    pub fn of_report(&mut self, report: &Report) -> HashMap<PathBuf, CargoTarget> {
        report.files.iter().filter_map(|f| Some((f.path.clone(), self.target_of(&f.path)?))).collect()
    }

    pub fn target_of(&mut self, file: &Path) -> Option<CargoTarget> {
        let abs = std::path::absolute(file).ok()?;
        let package = abs.ancestors().skip(1).find_map(|dir| self.package_at(dir))?;
        let target = pick_target(&package, &abs);
        Some(CargoTarget {
            package_id: package.id.clone(),
            manifest_path: package.manifest_path.to_string_lossy().into_owned(),
            target,
        })
    }

    fn package_at(&mut self, dir: &Path) -> Option<Package> {
        if let Some(hit) = self.dirs.get(dir) {
            return hit.clone();
        }
        let package = read_package(&dir.join("Cargo.toml"));
        self.dirs.insert(dir.to_path_buf(), package.clone());
        package
    }
}

/// A package from its manifest alone (no cargo): name, version and edition (inherited from the
/// workspace when the manifest says so), and its targets by cargo's conventions.
fn read_package(manifest: &Path) -> Option<Package> {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(manifest).ok()?).ok()?;
    let package = table.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let dir = manifest.parent()?;
    let inherited = |key: &str| -> Option<String> {
        let value = package.get(key)?;
        if let Some(s) = value.as_str() {
            return Some(s.to_string());
        }
        value.get("workspace")?.as_bool()?.then_some(())?;
        dir.ancestors().find_map(|d| {
            let text = std::fs::read_to_string(d.join("Cargo.toml")).ok()?;
            let t: toml::Table = toml::from_str(&text).ok()?;
            Some(t.get("workspace")?.get("package")?.get(key)?.as_str()?.to_string())
        })
    };
    let version = inherited("version").unwrap_or_else(|| "0.0.0".into());
    let edition = inherited("edition").unwrap_or_else(|| "2015".into());
    let target = |kind: &str, name: &str, src: PathBuf| {
        let crate_type = if kind == "lib" { "lib" } else { "bin" };
        TargetInfo {
            kind: vec![kind.to_string()],
            crate_types: vec![crate_type.to_string()],
            name: name.to_string(),
            src_path: src.to_string_lossy().into_owned(),
            edition: edition.clone(),
            doc: matches!(kind, "lib" | "bin"),
            doctest: kind == "lib",
            test: matches!(kind, "lib" | "bin" | "test"),
        }
    };
    let mut targets = Vec::new();
    let lib = table.get("lib");
    let lib_path = lib.and_then(|l| l.get("path")).and_then(|p| p.as_str()).map(|p| dir.join(p));
    let lib_path = lib_path.or_else(|| Some(dir.join("src/lib.rs")).filter(|p| p.is_file()));
    if let Some(path) = lib_path {
        let lib_name = lib.and_then(|l| l.get("name")).and_then(|n| n.as_str());
        targets.push(target("lib", &lib_name.map_or_else(|| name.replace('-', "_"), str::to_string), path));
    }
    for bin in table.get("bin").and_then(|b| b.as_array()).into_iter().flatten() {
        let Some(bin_name) = bin.get("name").and_then(|n| n.as_str()) else { continue };
        let path = bin.get("path").and_then(|p| p.as_str()).map_or_else(
            || {
                let one = dir.join(format!("src/bin/{bin_name}.rs"));
                if one.is_file() {
                    one
                } else {
                    dir.join(format!("src/bin/{bin_name}/main.rs"))
                }
            },
            |p| dir.join(p),
        );
        targets.push(target("bin", bin_name, path));
    }
    let main = dir.join("src/main.rs");
    if main.is_file() && !targets.iter().any(|t| Path::new(&t.src_path) == main) {
        targets.push(target("bin", &name, main));
    }
    if dir.join("build.rs").is_file() {
        let mut build = target("custom-build", "build-script-build", dir.join("build.rs"));
        build.kind = vec!["custom-build".into()];
        targets.push(build);
    }
    Some(Package {
        id: package_id(dir, &name, &version),
        name,
        manifest_path: manifest.to_path_buf(),
        targets,
    })
}

/// The target a file belongs to: the one it is the root of; else by the directory it sits in
/// (`tests/x.rs` is test `x`, `src/bin/x/..` is binary `x`); else the library, else a binary.
fn pick_target(package: &Package, file: &Path) -> TargetInfo {
    if let Some(t) = package.targets.iter().find(|t| Path::new(&t.src_path) == file) {
        return t.clone();
    }
    let dir = package.dir();
    let rel = file.strip_prefix(dir).unwrap_or(file);
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let stem = |s: &str| s.strip_suffix(".rs").unwrap_or(s).to_string();
    let (kind, name, src) = match parts.as_slice() {
        [d @ ("tests" | "examples" | "benches"), x, ..] => {
            let kind = match *d {
                "tests" => "test",
                "examples" => "example",
                _ => "bench",
            };
            let src =
                if x.ends_with(".rs") { dir.join(d).join(x) } else { dir.join(d).join(x).join("main.rs") };
            (kind, stem(x), src)
        }
        ["src", "bin", x, ..] => {
            let src = if x.ends_with(".rs") {
                dir.join("src/bin").join(x)
            } else {
                dir.join("src/bin").join(x).join("main.rs")
            };
            ("bin", stem(x), src)
        }
        _ => {
            let fallback = package
                .targets
                .iter()
                .find(|t| t.kind.iter().any(|k| k == "lib" || k.ends_with("lib")))
                .or_else(|| package.targets.iter().find(|t| t.kind.iter().any(|k| k == "bin")));
            if let Some(t) = fallback {
                return t.clone();
            }
            ("lib", package.name.replace('-', "_"), dir.join("src/lib.rs"))
        }
    };
    if let Some(t) = package.targets.iter().find(|t| t.name == name && t.kind.iter().any(|k| k == kind)) {
        return t.clone();
    }
    let edition = package.targets.first().map_or_else(|| "2021".to_string(), |t| t.edition.clone());
    TargetInfo {
        kind: vec![kind.to_string()],
        crate_types: vec![if kind == "lib" { "lib" } else { "bin" }.to_string()],
        name,
        src_path: src.to_string_lossy().into_owned(),
        edition,
        doc: false,
        doctest: false,
        test: kind != "example",
    }
}

/// What cargo exits with when a command fails (`cargo clippy` too).
pub const EXIT_CARGO_FAILURE: u8 = 101;

/// The `cargo-stall` binary. Cargo runs it as `cargo-stall stall ARGS`; the leading `stall`
/// is dropped. `cargo stall [FLAGS]` checks the workspace members (or `-p NAME`) like `stall
/// check`, and exits as `cargo clippy` does: 0 with warnings, 101 for errors (`-- -D warnings`
/// makes every finding one); `cargo stall check|rules|explain ..` work as with `stall`;
/// `cargo stall --message-format=json [CARGO CHECK ARGS]` runs cargo check and appends stall's
/// findings to its messages.
pub fn main() -> ExitCode {
    engine::install_panic_hook();
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "stall") {
        args.remove(1);
    }
    if message_format_value(&args[1..]).is_some_and(|f| f.starts_with("json")) {
        return ExitCode::from(message_format(&args[1..]));
    }
    // `cargo stall -- -D warnings`, as for clippy.
    let lints = match args.iter().position(|a| a == "--") {
        Some(at) => args.split_off(at).split_off(1),
        None => Vec::new(),
    };
    let deny_warnings = match deny_warnings(&lints) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let subcommands = ["check", "rules", "explain", "lsp", "help", "-V", "--version"];
    if !subcommands.contains(&first) {
        args.insert(1, "check".into());
    }
    let matches = match command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => e.exit(),
    };
    let scope = matches.subcommand().filter(|(name, _)| *name == "check").map(|(_, m)| {
        let packages: Vec<String> = m.get_many("package").map(|p| p.cloned().collect()).unwrap_or_default();
        let manifest: Option<PathBuf> = m.get_one("manifest-path").cloned();
        let format: Option<String> = m.get_one("message-format").cloned();
        (packages, manifest, format)
    });
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let Some((packages, manifest, format)) = scope else {
        return ExitCode::from(super::dispatch(cli, &Host { cargo: true, ..Host::default() }));
    };
    let workspace = match Workspace::load(manifest.as_deref().map(Path::as_os_str)) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CARGO_FAILURE);
        }
    };
    let unknown = workspace.unknown_packages(&packages);
    if !unknown.is_empty() {
        eprintln!("error: package(s) `{}` not found in workspace", unknown.join("`, `"));
        return ExitCode::from(EXIT_CARGO_FAILURE);
    }
    if let (Subcommand::Check(args), Some(format)) = (&mut cli.command, format) {
        args.format = if format == "short" { Format::Concise } else { Format::Human };
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let host = Host {
        defaults: workspace.member_dirs(&packages, &cwd),
        workspace: Some(&workspace),
        cargo: true,
        deny_warnings,
    };
    ExitCode::from(super::dispatch(cli, &host))
}

/// `stall check`'s command line with cargo's flags added, as `cargo stall` takes it.
fn command() -> clap::Command {
    Cli::command().bin_name("cargo stall").mut_subcommand("check", |c| {
        c.arg(
            Arg::new("package")
                .short('p')
                .long("package")
                .value_name("SPEC")
                .action(ArgAction::Append)
                .help("Check only this member of the workspace (repeatable)"),
        )
        .arg(
            Arg::new("workspace")
                .long("workspace")
                .action(ArgAction::SetTrue)
                .help("Check every member of the workspace (the default)"),
        )
        .arg(
            Arg::new("manifest-path")
                .long("manifest-path")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The workspace's Cargo.toml (default: found from the working directory)"),
        )
        .arg(
            Arg::new("message-format")
                .long("message-format")
                .value_name("FMT")
                .value_parser([
                    "human",
                    "short",
                    "json",
                    "json-diagnostic-short",
                    "json-diagnostic-rendered-ansi",
                    "json-render-diagnostics",
                ])
                .help(
                    "As cargo: `human` (the default), `short` (one line per finding), or `json*`: run \
                     `cargo check` with the remaining arguments and add stall's findings to its messages",
                ),
        )
        .after_help(
            "Exit status as `cargo clippy`: 0 when there are only warnings, 101 for an error (a file \
             that does not parse, a rule set to \"error\", or any finding with `-- -D warnings`).\n\
             Also: `cargo stall rules`, `cargo stall explain RULE`.",
        )
    })
}

/// The value of `--message-format` in `args`, if given (`--message-format=X` or
/// `--message-format X`), before any `--`.
fn message_format_value(args: &[OsString]) -> Option<String> {
    let mut it = args.iter().map(|a| a.to_string_lossy()).take_while(|a| a != "--");
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--message-format=") {
            return Some(v.to_string());
        }
        if a == "--message-format" {
            return it.next().map(|v| v.to_string());
        }
    }
    None
}

/// Reads the lint flags after `--`: `-D warnings` (`-Dwarnings`, `--deny warnings`) makes every
/// finding an error; anything else is refused.
fn deny_warnings(lints: &[OsString]) -> Result<bool, String> {
    let mut deny = false;
    let mut it = lints.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        let value = match a.as_ref() {
            "-D" | "--deny" => it.next().map(|v| v.into_owned()),
            other => other.strip_prefix("-D").or_else(|| other.strip_prefix("--deny=")).map(str::to_string),
        };
        match value.as_deref() {
            Some("warnings") => deny = true,
            _ => {
                return Err(format!(
                    "`cargo stall -- {}`: only `-D warnings` can follow `--` (rule levels go in the config's [severity])",
                    lints.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
                ))
            }
        }
    }
    Ok(deny)
}

/// The cargo check arguments stall reads too: packages to check and the manifest.
#[derive(Debug, Default, PartialEq, Eq)]
struct CheckScope {
    packages: Vec<String>,
    manifest_path: Option<OsString>,
}

fn scope(args: &[OsString]) -> CheckScope {
    let mut scope = CheckScope::default();
    let mut it = args.iter();
    // `--flag value`, `--flag=value`, and for short flags `-pvalue`.
    let value = |s: &str, it: &mut std::slice::Iter<OsString>, flag: &str| -> Option<OsString> {
        let rest = s.strip_prefix(flag)?;
        if rest.is_empty() {
            it.next().cloned()
        } else if let Some(v) = rest.strip_prefix('=') {
            Some(v.into())
        } else {
            (!flag.starts_with("--")).then(|| rest.into())
        }
    };
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if let Some(p) = value(&s, &mut it, "--package").or_else(|| value(&s, &mut it, "-p")) {
            scope.packages.push(p.to_string_lossy().into_owned());
        } else if let Some(m) = value(&s, &mut it, "--manifest-path") {
            scope.manifest_path = Some(m);
        }
    }
    scope
}

/// Whether `line` holds `needle`.
fn contains(line: &[u8], needle: &[u8]) -> bool {
    line.windows(needle.len()).any(|w| w == needle)
}

/// `cargo stall --message-format=json ARGS`: runs `cargo check ARGS` (with the message format
/// as given), passes its messages through unchanged, then prints stall's findings in the same
/// form under the same package ids, and cargo's `build-finished` last. Exit status: cargo's
/// failure, else stall's.
fn message_format(args: &[OsString]) -> u8 {
    let scope = scope(args);
    let mut child = match Command::new(cargo()).arg("check").args(args).stdout(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot run `cargo check`: {e}; is cargo on PATH?");
            return EXIT_ERROR;
        }
    };
    let mut finished = Vec::new();
    let stdout = io::stdout();
    if let Some(pipe) = child.stdout.take() {
        for line in BufReader::new(pipe).split(b'\n') {
            let Ok(line) = line else { break };
            if contains(&line, br#""reason":"build-finished""#) {
                finished.push(line);
                continue;
            }
            let mut out = stdout.lock();
            let _ = out.write_all(&line).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush());
        }
    }
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot wait for `cargo check`: {e}");
            return EXIT_ERROR;
        }
    };
    let workspace = Workspace::load(scope.manifest_path.as_deref()).ok();
    let cwd = std::env::current_dir().unwrap_or_default();
    let paths = match &workspace {
        Some(w) => w.member_dirs(&scope.packages, &cwd),
        None => vec![PathBuf::from(".")],
    };
    // `-- -D warnings` goes to rustc through cargo check, and makes stall's findings errors too.
    let after: Vec<OsString> = args.iter().skip_while(|a| *a != "--").skip(1).cloned().collect();
    let deny = deny_warnings(&after).unwrap_or(false);
    // The workspace's config (stall.toml or Cargo metadata) applies as for `stall check`.
    let mut run = RunOptions::default();
    let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    match crate::project::config::discover(&start) {
        Ok(Some(loaded)) => {
            if let Err(e) = run.apply_config(&loaded) {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    let mut report = engine::check_paths(&paths, &run);
    for file in &mut report.files {
        crate::fix::name_needed_features(&mut file.diagnostics);
        if deny {
            for d in &mut file.diagnostics {
                d.severity = crate::diagnostic::Severity::Error;
            }
        }
    }
    let mut targets = Targets::new(workspace.as_ref());
    let style =
        Style { context: Context { targets: targets.of_report(&report), root: cwd }, ..Style::default() };
    let mut out = stdout.lock();
    let written = output::write(&report, Format::Cargo, &style, &mut out);
    for line in &finished {
        let _ = out.write_all(line).and_then(|_| out.write_all(b"\n"));
    }
    let _ = out.flush();
    for e in &report.errors {
        eprintln!("error: {}: {}", e.path, e.message);
    }
    if !status.success() {
        return status.code().map_or(101, |c| c.clamp(1, 255) as u8);
    }
    // As cargo check: warnings pass, errors fail.
    let errors = report.diagnostics().any(|(_, d)| d.severity == crate::diagnostic::Severity::Error);
    if written.is_err() || !report.errors.is_empty() || errors {
        EXIT_CARGO_FAILURE
    } else {
        super::EXIT_CLEAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn scope_reads_packages_and_manifest_from_cargo_args() {
        let s = scope(&os(&[
            "--message-format=json",
            "-p",
            "a",
            "--package=b",
            "-pc",
            "--manifest-path",
            "x/Cargo.toml",
        ]));
        assert_eq!(s.packages, ["a", "b", "c"]);
        assert_eq!(s.manifest_path.as_deref(), Some(OsStr::new("x/Cargo.toml")));
        assert_eq!(scope(&os(&["--all-targets", "--", "-p", "z"])), CheckScope::default());
    }

    #[test]
    fn member_dirs_are_relative_and_not_nested() {
        let pkg = |id: &str, dir: &str| Package {
            id: id.into(),
            name: id.into(),
            manifest_path: Path::new(dir).join("Cargo.toml"),
            targets: Vec::new(),
        };
        let w = Workspace {
            packages: vec![pkg("a", "/w"), pkg("b", "/w/crates/b"), pkg("c", "/other/c")],
            members: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(w.member_dirs(&[], Path::new("/w")), [PathBuf::from("/other/c"), PathBuf::from(".")]);
        assert_eq!(w.member_dirs(&["b".into()], Path::new("/w")), [PathBuf::from("crates/b")]);
    }
}
