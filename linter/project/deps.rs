//! Where the sources of a workspace's dependencies are, found offline and without building.
//!
//! The preferred way asks cargo: `cargo metadata --offline --locked --format-version 1` gives
//! every package, its manifest, its lib target, the features cargo resolved for it and the
//! names its code uses for its dependencies (renames included). `--locked` because a linter must
//! not rewrite the user's `Cargo.lock`; `--offline` because stall never downloads.
//!
//! When cargo is absent or fails (it fails as a whole when any dependency is not downloaded),
//! the fallback reads `Cargo.lock` and looks for each package where cargo would have put it:
//! directory sources from `.cargo/config.toml` source replacement (`vendor/`), the registry
//! source cache (`$CARGO_HOME/registry/src/*/NAME-VERSION`), git checkouts
//! (`$CARGO_HOME/git/checkouts/*/REV/`) and path dependencies from the manifests. The fallback
//! cannot resolve features: they are `None`, and `cfg(feature)` is unknown there.
//!
//! Packages are keyed by (name, version), so two versions of one crate stay apart. Nothing here
//! is an error: what cannot be found is missing, and [`Located::note`] tells the user once.

// Some of the graph (editions, `via`, the metadata error, package lookups) is read only by the
// tests, which check both ways of locating agree on it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cargo_metadata::semver::{Version, VersionReq};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, TargetKind};
use serde::{Deserialize, Serialize};

use super::cfg::{Cfg, CfgEnv};

/// The note shown once when dependency sources are missing.
pub(crate) const NOT_DOWNLOADED: &str =
    "dependency sources not downloaded: run `cargo fetch` to let stall follow calls into dependencies";

/// A package's identity in the graph: name and version, so two versions of a crate stay apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct PackageKey {
    pub name: String,
    pub version: String,
}

impl PackageKey {
    pub(crate) fn new(name: &str, version: &str) -> PackageKey {
        PackageKey { name: name.to_string(), version: version.to_string() }
    }
}

impl fmt::Display for PackageKey {
    /// `fs-err-3.1.0`, as cargo names the package's directory.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)
    }
}

/// Where a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SourceKind {
    /// A path dependency or a workspace member: its files may change between runs.
    Path,
    /// crates.io or another registry (also when vendored): immutable.
    Registry,
    /// A git dependency at a locked commit: immutable.
    Git,
}

/// A package's library target: what `use name::..` in a dependent refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LibTarget {
    /// The crate name (`fs_err`), as the package itself refers to it with `::name`.
    pub name: String,
    /// The crate root (`src/lib.rs`), absolute.
    pub root: PathBuf,
    /// A proc-macro crate: its functions run in the compiler, never in the program.
    pub proc_macro: bool,
}

/// One package of the dependency graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Package {
    pub key: PackageKey,
    /// The source string (`registry+https://github.com/rust-lang/crates.io-index`,
    /// `git+https://..?branch=main#<commit>`); `None` for path packages.
    pub source_id: Option<String>,
    pub source: SourceKind,
    /// A member of the checked workspace (not a dependency).
    pub member: bool,
    /// The directory holding the package's `Cargo.toml`; `None` when its sources are not on
    /// this machine.
    pub manifest_dir: Option<PathBuf>,
    pub lib: Option<LibTarget>,
    /// `2015`, `2018`, `2021`, `2024` (empty when the sources are missing).
    pub edition: String,
    /// The features cargo enabled; `None` when unknown (the fallback).
    pub features: Option<BTreeSet<String>>,
    /// The package has a build script (which may set `cfg`s stall cannot see).
    pub build_script: bool,
    /// Normal dependencies, by the name the package's code uses for them (`fs` for
    /// `fs = { package = "fs-err" }`, `ini` for `rust-ini`): which package that is.
    pub deps: BTreeMap<String, PackageKey>,
}

impl Package {
    /// Registry and git packages never change under one identity: their facts can be cached.
    pub(crate) fn immutable(&self) -> bool {
        matches!(self.source, SourceKind::Registry | SourceKind::Git)
    }

    /// The identity a cache keys this package's facts by: the source (with the locked commit
    /// for git) plus name and version. `None` for mutable (path) packages.
    pub(crate) fn cache_identity(&self) -> Option<String> {
        let source = self.source_id.as_ref().filter(|_| self.immutable())?;
        Some(format!("{source}#{}@{}", self.key.name, self.key.version))
    }

    /// The value of a `cfg` predicate in this package, built for the host, not as a test.
    pub(crate) fn cfg(&self, predicate: &Cfg) -> Option<bool> {
        predicate.eval(&self.cfg_env())
    }

    pub(crate) fn cfg_env(&self) -> CfgEnv<'_> {
        CfgEnv { features: self.features.as_ref(), build_script: self.build_script }
    }

    fn missing(key: PackageKey, source_id: Option<String>) -> Package {
        Package {
            source: source_kind(source_id.as_deref()),
            key,
            source_id,
            member: false,
            manifest_dir: None,
            lib: None,
            edition: String::new(),
            features: None,
            build_script: false,
            deps: BTreeMap::new(),
        }
    }
}

/// How the graph was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Via {
    /// `cargo metadata --offline`.
    Metadata,
    /// `Cargo.lock` and the source caches.
    Fallback,
}

/// The packages of a workspace and its dependencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DepGraph {
    pub workspace_root: PathBuf,
    pub packages: BTreeMap<PackageKey, Package>,
    pub via: Via,
}

impl DepGraph {
    pub(crate) fn get(&self, key: &PackageKey) -> Option<&Package> {
        self.packages.get(key)
    }

    pub(crate) fn members(&self) -> impl Iterator<Item = &Package> {
        self.packages.values().filter(|p| p.member)
    }

    /// The package a path like `fs_err::read` in package `from` names by its first segment.
    pub(crate) fn dependency(&self, from: &PackageKey, crate_name: &str) -> Option<&Package> {
        self.packages.get(self.packages.get(from)?.deps.get(crate_name)?)
    }

    /// Packages whose sources are not on this machine.
    pub(crate) fn missing(&self) -> impl Iterator<Item = &Package> {
        self.packages.values().filter(|p| p.manifest_dir.is_none())
    }

    /// The package a file belongs to: the one with the deepest manifest directory above it.
    pub(crate) fn package_of(&self, file: &Path) -> Option<&Package> {
        self.packages
            .values()
            .filter(|p| p.manifest_dir.as_ref().is_some_and(|d| file.starts_with(d)))
            .max_by_key(|p| p.manifest_dir.as_ref().map_or(0, |d| d.components().count()))
    }

    /// Packages reachable from the members through normal dependencies, members included.
    pub(crate) fn reachable(&self) -> BTreeSet<&PackageKey> {
        let mut seen: BTreeSet<&PackageKey> = BTreeSet::new();
        let mut queue: VecDeque<&PackageKey> = self.members().map(|p| &p.key).collect();
        while let Some(key) = queue.pop_front() {
            if seen.insert(key) {
                if let Some(p) = self.packages.get(key) {
                    queue.extend(p.deps.values());
                }
            }
        }
        seen
    }
}

/// What [`locate`] found.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// `None` when there is no cargo project here.
    pub graph: Option<DepGraph>,
    /// One line for the user when dependency sources are missing.
    pub note: Option<String>,
    /// Why `cargo metadata` was not used, when it was not (for `--verbose` output).
    pub metadata_error: Option<String>,
}

/// How to locate: whether cargo may run, and where its home is.
#[derive(Debug, Clone)]
pub(crate) struct LocateOptions {
    /// The cargo to run; `None`: never run cargo, use the fallback.
    pub cargo: Option<PathBuf>,
    /// `$CARGO_HOME` (default `~/.cargo`); also passed to the cargo that runs.
    pub cargo_home: Option<PathBuf>,
    /// How long `cargo metadata` may take before it is killed and the fallback used.
    pub timeout: Duration,
}

impl LocateOptions {
    /// `$CARGO` (set when run as `cargo stall`) or `cargo` on PATH, and `$CARGO_HOME`.
    pub(crate) fn from_env() -> LocateOptions {
        LocateOptions {
            cargo: Some(std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)),
            cargo_home: None,
            timeout: Duration::from_secs(60),
        }
    }

    /// The same, without ever running cargo.
    pub(crate) fn without_cargo(mut self) -> LocateOptions {
        self.cargo = None;
        self
    }

    /// Cargo's home as cargo finds it: the option, `$CARGO_HOME`, else `~/.cargo`.
    pub(crate) fn cargo_home(&self) -> Option<PathBuf> {
        self.cargo_home
            .clone()
            .or_else(|| std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()).map(PathBuf::from))
            .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
    }
}

/// The dependency graph of the cargo project at (or above) `workspace_root`.
pub(crate) fn locate(workspace_root: &Path) -> Located {
    locate_with(workspace_root, &LocateOptions::from_env())
}

pub(crate) fn locate_with(workspace_root: &Path, options: &LocateOptions) -> Located {
    let Some(manifest_dir) = workspace_root.ancestors().find(|d| d.join("Cargo.toml").is_file()) else {
        return Located { graph: None, note: None, metadata_error: None };
    };
    let metadata_error = match &options.cargo {
        None => "cargo was not to be run".to_string(),
        Some(cargo) => {
            // A project pinning a toolchain this machine lacks (`rust-toolchain.toml`) makes
            // rustup's cargo fail before reading anything; reading manifests needs no particular
            // toolchain, so the stable one is asked instead.
            let result = run_metadata(cargo, manifest_dir, options, None).or_else(|e| {
                match e.contains("is not installed") {
                    true => run_metadata(cargo, manifest_dir, options, Some("stable")),
                    false => Err(e),
                }
            });
            match result {
                Ok(meta) => {
                    return Located { graph: Some(from_metadata(&meta)), note: None, metadata_error: None }
                }
                Err(e) => e,
            }
        }
    };
    let (graph, complete) = fallback(manifest_dir, options.cargo_home().as_deref());
    let reachable = graph.reachable();
    let missing = !complete || graph.missing().any(|p| reachable.contains(&p.key));
    Located {
        graph: Some(graph),
        note: missing.then(|| NOT_DOWNLOADED.to_string()),
        metadata_error: Some(metadata_error),
    }
}

/// The files whose contents decide what `cargo metadata`, run from `start`, says: the lock file
/// and workspace manifest of `graph`, which it gave, and of its path packages (members and path
/// dependencies) the manifest and the files cargo infers targets from (`src/lib.rs`,
/// `src/main.rs`, `build.rs`); and above `start`, every manifest (a new one changes which
/// project `start` is in), cargo configuration (source replacement) and toolchain file. Absent
/// ones count too: one created later changes the answer. Cargo's home configuration as well.
pub(crate) fn metadata_inputs(start: &Path, graph: &DepGraph, options: &LocateOptions) -> Vec<PathBuf> {
    let root = &graph.workspace_root;
    let mut files: Vec<PathBuf> = vec![root.join("Cargo.lock"), root.join("Cargo.toml")];
    for p in graph.packages.values().filter(|p| p.source == SourceKind::Path) {
        let Some(dir) = &p.manifest_dir else { continue };
        files.extend(["Cargo.toml", "src/lib.rs", "src/main.rs", "build.rs"].map(|f| dir.join(f)));
    }
    for dir in start.ancestors() {
        for name in
            ["Cargo.toml", ".cargo/config.toml", ".cargo/config", "rust-toolchain.toml", "rust-toolchain"]
        {
            files.push(dir.join(name));
        }
    }
    if let Some(home) = options.cargo_home() {
        files.extend([home.join("config.toml"), home.join("config")]);
    }
    files.sort();
    files.dedup();
    files
}

// ---------------------------------------------------------------------------------------------
// cargo metadata

/// Runs `cargo metadata --offline --locked --filter-platform <host>`, killing it after the timeout.
fn run_metadata(
    cargo: &Path,
    dir: &Path,
    options: &LocateOptions,
    toolchain: Option<&str>,
) -> Result<Metadata, String> {
    let mut command = MetadataCommand::new();
    let mut flags = vec!["--offline".to_string(), "--locked".to_string()];
    // Only the dependencies of the platform stall runs on (a fifth less of cargo's time on a
    // large workspace).
    if !env!("STALL_TARGET").is_empty() {
        flags.extend(["--filter-platform".to_string(), env!("STALL_TARGET").to_string()]);
    }
    command.cargo_path(cargo).current_dir(dir).other_options(flags);
    if let Some(home) = &options.cargo_home {
        command.env("CARGO_HOME", home);
    }
    if let Some(toolchain) = toolchain {
        command.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    let mut command: Command = command.cargo_command();
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", cargo.display()))?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + options.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        None => Err(format!("cargo metadata took more than {}s", options.timeout.as_secs())),
        Some(s) if !s.success() => Err(format!("cargo metadata failed: {}", cargo_error(&stderr))),
        Some(_) => {
            let text = String::from_utf8_lossy(&stdout);
            let json = text.lines().find(|l| l.starts_with('{')).unwrap_or("");
            MetadataCommand::parse(json).map_err(|e| format!("cannot read cargo metadata's output: {e}"))
        }
    }
}

/// cargo's error and its causes on one line.
fn cargo_error(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut parts: Vec<&str> = Vec::new();
    let mut in_error = false;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("error:") {
            in_error = true;
            parts.push(rest.trim());
        } else if in_error && !line.is_empty() && line != "Caused by:" {
            parts.push(line);
        }
    }
    if parts.is_empty() {
        text.lines().last().unwrap_or("no output").trim().to_string()
    } else {
        parts.join(": ")
    }
}

fn from_metadata(meta: &Metadata) -> DepGraph {
    let members: BTreeSet<_> = meta.workspace_members.iter().collect();
    let key_of: HashMap<_, _> =
        meta.packages.iter().map(|p| (&p.id, PackageKey::new(&p.name, &p.version.to_string()))).collect();
    let nodes: HashMap<_, _> = meta.resolve.iter().flat_map(|r| &r.nodes).map(|n| (&n.id, n)).collect();
    let mut packages = BTreeMap::new();
    for p in &meta.packages {
        let key = key_of[&p.id].clone();
        let lib_kinds =
            [TargetKind::Lib, TargetKind::RLib, TargetKind::DyLib, TargetKind::ProcMacro, TargetKind::CDyLib];
        let lib = p.targets.iter().find(|t| t.kind.iter().any(|k| lib_kinds.contains(k)));
        let node = nodes.get(&p.id);
        let mut deps = BTreeMap::new();
        for d in node.iter().flat_map(|n| &n.deps) {
            // Old cargo (before 1.41) gives no kinds: those are normal dependencies too.
            let normal = d.dep_kinds.is_empty()
                || d.dep_kinds.iter().any(|k| {
                    k.kind == DependencyKind::Normal
                        && k.target
                            .as_ref()
                            .is_none_or(|t| Cfg::parse(&t.to_string()).eval(&HOST) != Some(false))
                });
            if let (true, Some(dep)) = (normal, key_of.get(&d.pkg)) {
                deps.insert(d.name.clone(), dep.clone());
            }
        }
        let package = Package {
            source_id: p.source.as_ref().map(|s| s.repr.clone()),
            source: source_kind(p.source.as_ref().map(|s| s.repr.as_str())),
            member: members.contains(&p.id),
            manifest_dir: p.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()),
            lib: lib.map(|t| LibTarget {
                name: t.name.replace('-', "_"),
                root: t.src_path.as_std_path().to_path_buf(),
                proc_macro: t.kind.contains(&TargetKind::ProcMacro),
            }),
            edition: lib.map_or(p.edition, |t| t.edition).as_str().to_string(),
            features: node.map(|n| n.features.iter().cloned().collect()),
            build_script: p.targets.iter().any(|t| t.kind.contains(&TargetKind::CustomBuild)),
            deps,
            key,
        };
        insert(&mut packages, package);
    }
    DepGraph { workspace_root: meta.workspace_root.as_std_path().to_path_buf(), packages, via: Via::Metadata }
}

/// Adds a package; when another source already gave the same name and version (a rare
/// `[patch]` or alternative registry), the member or the first one stays.
fn insert(packages: &mut BTreeMap<PackageKey, Package>, package: Package) {
    match packages.get(&package.key) {
        Some(old) if old.member || !package.member => {}
        _ => {
            packages.insert(package.key.clone(), package);
        }
    }
}

/// The host, for the platform of target-specific dependencies (`[target.'cfg(windows)'..]`).
const HOST: CfgEnv<'static> = CfgEnv { features: None, build_script: false };

fn source_kind(source: Option<&str>) -> SourceKind {
    match source {
        Some(s) if s.starts_with("git+") => SourceKind::Git,
        Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => SourceKind::Registry,
        // Path packages have no source; anything else is treated as mutable.
        _ => SourceKind::Path,
    }
}

// ---------------------------------------------------------------------------------------------
// Fallback: Cargo.lock and the source caches

/// A manifest, as much of it as locating needs.
#[derive(Debug, Clone)]
struct Manifest {
    dir: PathBuf,
    name: String,
    version: Option<String>,
    edition: String,
    lib: Option<LibTarget>,
    build_script: bool,
    deps: Vec<ManifestDep>,
    /// Every path dependency, of any kind and platform: where more path packages are.
    path_deps: Vec<PathBuf>,
}

/// One normal dependency of a manifest.
#[derive(Debug, Clone)]
struct ManifestDep {
    /// The key in `[dependencies]`.
    key: String,
    /// The package it names (`package = ".."`, else the key).
    package: String,
    renamed: bool,
    req: Option<String>,
    /// For path dependencies: the dependency's directory.
    path: Option<PathBuf>,
}

/// What members inherit from `[workspace.package]` and `[workspace.dependencies]`.
#[derive(Debug, Default)]
struct Inherited {
    root: PathBuf,
    version: Option<String>,
    edition: Option<String>,
    deps: toml::Table,
}

/// The `[workspace.package]` and `[workspace.dependencies]` of the workspace rooted at `root`.
fn inherited_from(root: &Path) -> Inherited {
    let doc = read_toml(&root.join("Cargo.toml")).unwrap_or_default();
    let ws = doc.get("workspace").and_then(|w| w.as_table());
    let ws_package = ws.and_then(|w| w.get("package")).and_then(|p| p.as_table());
    let ws_str = |f: &str| ws_package.and_then(|p| p.get(f)).and_then(|v| v.as_str()).map(str::to_string);
    Inherited {
        root: root.to_path_buf(),
        version: ws_str("version"),
        edition: ws_str("edition"),
        deps: ws.and_then(|w| w.get("dependencies")).and_then(|d| d.as_table()).cloned().unwrap_or_default(),
    }
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

fn read_manifest(dir: &Path, inherited: &Inherited) -> Option<Manifest> {
    let doc = read_toml(&dir.join("Cargo.toml"))?;
    let package = doc.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let field = |f: &str, from_ws: &Option<String>| match package.get(f) {
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Table(t)) if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) => {
            from_ws.clone()
        }
        _ => None,
    };
    let version = field("version", &inherited.version);
    let edition = field("edition", &inherited.edition).unwrap_or_else(|| "2015".into());
    let lib_table = doc.get("lib").and_then(|l| l.as_table());
    let lib_path = lib_table.and_then(|l| l.get("path")).and_then(|p| p.as_str()).map(|p| dir.join(p));
    let lib_root = lib_path.or_else(|| Some(dir.join("src/lib.rs")).filter(|p| p.is_file()));
    let lib = lib_root.map(|root| LibTarget {
        name: lib_table
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(&name)
            .replace('-', "_"),
        root,
        proc_macro: lib_table.is_some_and(|l| {
            ["proc-macro", "proc_macro"].iter().any(|k| l.get(*k).and_then(|v| v.as_bool()) == Some(true))
        }),
    });
    let build_script = match package.get("build") {
        Some(toml::Value::Boolean(b)) => *b,
        Some(toml::Value::String(_)) => true,
        _ => dir.join("build.rs").is_file(),
    };
    let mut deps = Vec::new();
    let mut tables: Vec<&toml::Table> =
        doc.get("dependencies").and_then(|d| d.as_table()).into_iter().collect();
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        for (platform, t) in targets {
            // A dependency for another platform (`cfg(windows)` on Linux) is not followed.
            if Cfg::parse(platform).eval(&HOST) == Some(false) {
                continue;
            }
            tables.extend(t.get("dependencies").and_then(|d| d.as_table()));
        }
    }
    for (key, spec) in tables.into_iter().flatten() {
        deps.push(manifest_dep(dir, key, spec, inherited));
    }
    let kinds =
        ["dependencies", "dev-dependencies", "dev_dependencies", "build-dependencies", "build_dependencies"];
    let tables_of = |doc: &toml::Table| -> Vec<toml::Table> {
        kinds.iter().filter_map(|k| doc.get(*k).and_then(|d| d.as_table()).cloned()).collect()
    };
    let mut all = tables_of(&doc);
    for t in doc.get("target").and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values()) {
        all.extend(t.as_table().map(tables_of).unwrap_or_default());
    }
    let path_deps =
        all.iter().flatten().filter_map(|(key, spec)| manifest_dep(dir, key, spec, inherited).path).collect();
    Some(Manifest { dir: dir.to_path_buf(), name, version, edition, lib, build_script, deps, path_deps })
}

fn manifest_dep(dir: &Path, key: &str, spec: &toml::Value, inherited: &Inherited) -> ManifestDep {
    let local = spec.as_table();
    let from_ws = local.and_then(|t| t.get("workspace")).and_then(|w| w.as_bool()) == Some(true);
    let ws_spec = if from_ws { inherited.deps.get(key) } else { None };
    let get = |field: &str| -> Option<(String, &Path)> {
        if let Some(v) = local.and_then(|t| t.get(field)).and_then(|v| v.as_str()) {
            return Some((v.to_string(), dir));
        }
        let v = ws_spec?.as_table()?.get(field)?.as_str()?;
        Some((v.to_string(), inherited.root.as_path()))
    };
    let package = get("package").map(|(p, _)| p);
    let req = match (spec, ws_spec) {
        (toml::Value::String(v), _) | (_, Some(toml::Value::String(v))) => Some(v.clone()),
        _ => get("version").map(|(v, _)| v),
    };
    ManifestDep {
        key: key.to_string(),
        renamed: package.is_some(),
        package: package.unwrap_or_else(|| key.to_string()),
        req,
        path: get("path").map(|(p, base)| normalize(&base.join(p))),
    }
}

/// `a/b/../c` -> `a/c`, without touching the file system (paths may not exist).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The workspace a manifest directory belongs to: the nearest ancestor (itself included)
/// whose manifest has a `[workspace]` table, or the directory itself.
fn workspace_root(manifest_dir: &Path) -> PathBuf {
    if let Some(doc) = read_toml(&manifest_dir.join("Cargo.toml")) {
        if doc.contains_key("workspace") {
            return manifest_dir.to_path_buf();
        }
        let explicit = doc.get("package").and_then(|p| p.get("workspace")).and_then(|w| w.as_str());
        if let Some(w) = explicit {
            return normalize(&manifest_dir.join(w));
        }
    }
    manifest_dir
        .ancestors()
        .skip(1)
        .find(|d| read_toml(&d.join("Cargo.toml")).is_some_and(|doc| doc.contains_key("workspace")))
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Is the package at `dir` a member its workspace keeps in the workspace's `tests/` directory
/// (`members = ["tests/integration-tests"]`)? It is then test support, like the test targets
/// there.
pub(crate) fn is_tests_member(dir: &Path) -> bool {
    let dir = normalize(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    let root = workspace_root(&dir);
    let in_tests = dir.strip_prefix(&root).is_ok_and(|rel| rel.iter().next().is_some_and(|c| c == "tests"));
    in_tests
        && read_toml(&root.join("Cargo.toml"))
            .is_some_and(|doc| member_dirs(&root, &doc).iter().any(|m| normalize(m) == dir))
}

/// The directories the workspace holding `dir` leaves out: those it `exclude`s, and the
/// crates that `[patch]` a registry crate with a fork kept in the tree, unless they are
/// members too. Third-party code and fuzz crates, not the workspace's own: a walk from above
/// does not check them (calls into them are followed as into any dependency).
pub(crate) fn workspace_excludes(dir: &Path) -> Vec<PathBuf> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let root = workspace_root(&dir);
    let Some(doc) = read_toml(&root.join("Cargo.toml")) else { return Vec::new() };
    let list = doc.get("workspace").and_then(|w| w.get("exclude")).and_then(|m| m.as_array());
    let excluded = list.into_iter().flatten().filter_map(|v| v.as_str()).map(|e| normalize(&root.join(e)));
    let members = member_dirs(&root, &doc);
    let forks = patch_dirs(&root, &doc).into_iter().filter(|d| !members.contains(d));
    // One named itself, or a directory in it, is checked.
    excluded.chain(forks).filter(|e| !normalize(&dir).starts_with(e)).collect()
}

/// The workspace's member directories, from `[workspace] members` (with `*` globs) and
/// `exclude`, plus the root package.
fn member_dirs(root: &Path, doc: &toml::Table) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if doc.contains_key("package") {
        out.push(root.to_path_buf());
    }
    let ws = doc.get("workspace").and_then(|w| w.as_table());
    let list = |field: &str| -> Vec<String> {
        ws.and_then(|w| w.get(field))
            .and_then(|m| m.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let excluded: Vec<PathBuf> = list("exclude").iter().map(|e| normalize(&root.join(e))).collect();
    for pattern in list("members") {
        for dir in expand_glob(root, &pattern) {
            if dir.join("Cargo.toml").is_file() && !excluded.iter().any(|e| dir.starts_with(e)) {
                out.push(dir);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The directories of `[patch.<source>]` entries with a `path`.
fn patch_dirs(root: &Path, doc: &toml::Table) -> Vec<PathBuf> {
    let Some(patch) = doc.get("patch").and_then(|p| p.as_table()) else { return Vec::new() };
    patch
        .values()
        .filter_map(|source| source.as_table())
        .flat_map(|entries| entries.values())
        .filter_map(|entry| entry.get("path")?.as_str())
        .map(|path| normalize(&root.join(path)))
        .collect()
}

/// Expands a members pattern component by component (`crates/*`, `tools/x-?`).
fn expand_glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if !part.contains(['*', '?', '[']) {
            dirs = dirs.into_iter().map(|d| normalize(&d.join(part))).collect();
            continue;
        }
        let Ok(glob) = globset::Glob::new(part) else { return Vec::new() };
        let matcher = glob.compile_matcher();
        let mut next = Vec::new();
        for d in dirs {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) && matcher.is_match(e.file_name()) {
                    next.push(e.path());
                }
            }
        }
        next.sort();
        dirs = next;
    }
    dirs
}

/// One `[[package]]` of `Cargo.lock`.
#[derive(Debug, Clone)]
struct LockEntry {
    key: PackageKey,
    source: Option<String>,
    /// `name`, `name version` or `name version (source)`.
    deps: Vec<String>,
}

fn read_lock(root: &Path) -> Option<Vec<LockEntry>> {
    let doc = read_toml(&root.join("Cargo.lock"))?;
    let entries = doc.get("package")?.as_array()?;
    Some(
        entries
            .iter()
            .filter_map(|p| {
                let p = p.as_table()?;
                let s = |f: &str| p.get(f).and_then(|v| v.as_str());
                Some(LockEntry {
                    key: PackageKey::new(s("name")?, s("version")?),
                    source: s("source").map(str::to_string),
                    deps: p
                        .get("dependencies")
                        .and_then(|d| d.as_array())
                        .map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                })
            })
            .collect(),
    )
}

/// Where cargo keeps sources on this machine.
#[derive(Debug, Default)]
struct SourceDirs {
    /// Directory sources that `.cargo/config.toml` replaces a source with (`vendor/`).
    vendor: Vec<PathBuf>,
    /// `$CARGO_HOME/registry/src/*`, crates.io's first.
    registry: Vec<PathBuf>,
    /// `$CARGO_HOME/git/checkouts`.
    git: Option<PathBuf>,
}

impl SourceDirs {
    fn find(root: &Path, cargo_home: Option<&Path>) -> SourceDirs {
        let mut configs: Vec<PathBuf> = Vec::new();
        for dir in root.ancestors() {
            configs.push(dir.join(".cargo/config.toml"));
            configs.push(dir.join(".cargo/config"));
        }
        if let Some(home) = cargo_home {
            configs.push(home.join("config.toml"));
            configs.push(home.join("config"));
        }
        let mut directories: Vec<(String, PathBuf)> = Vec::new();
        let mut replaced_with: BTreeSet<String> = BTreeSet::new();
        for path in configs {
            let Some(sources) =
                read_toml(&path).and_then(|d| d.get("source").and_then(|s| s.as_table()).cloned())
            else {
                continue;
            };
            // Paths in a config file are relative to the directory holding its `.cargo`.
            let base = path.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
            for (name, s) in &sources {
                if let Some(with) = s.get("replace-with").and_then(|w| w.as_str()) {
                    replaced_with.insert(with.to_string());
                }
                if let Some(dir) = s.get("directory").and_then(|d| d.as_str()) {
                    directories.push((name.clone(), normalize(&base.join(dir))));
                }
            }
        }
        let vendor =
            directories.into_iter().filter(|(n, _)| replaced_with.contains(n)).map(|(_, d)| d).collect();
        let mut registry: Vec<PathBuf> = cargo_home
            .and_then(|h| std::fs::read_dir(h.join("registry/src")).ok())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        let crates_io = |p: &PathBuf| {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            !(n.starts_with("index.crates.io-") || n.starts_with("github.com-"))
        };
        registry.sort_by_key(|p| (crates_io(p), p.clone()));
        SourceDirs { vendor, registry, git: cargo_home.map(|h| h.join("git/checkouts")) }
    }

    /// The directory of a registry or git package's sources.
    fn locate(&self, entry: &LockEntry) -> Option<PathBuf> {
        let key = &entry.key;
        for v in &self.vendor {
            let versioned = v.join(key.to_string());
            if versioned.join("Cargo.toml").is_file() {
                return Some(versioned);
            }
            let plain = v.join(&key.name);
            if manifest_version(&plain).as_deref() == Some(&key.version) {
                return Some(plain);
            }
        }
        let source = entry.source.as_deref().unwrap_or("");
        if source.starts_with("git+") {
            return self.git_checkout(source, key);
        }
        self.registry.iter().map(|r| r.join(key.to_string())).find(|d| d.join("Cargo.toml").is_file())
    }

    /// `$CARGO_HOME/git/checkouts/REPO-HASH/SHORTREV/..`: the directory in the checkout of the
    /// locked commit whose manifest names the package.
    fn git_checkout(&self, source: &str, key: &PackageKey) -> Option<PathBuf> {
        let (url, rev) = source.strip_prefix("git+")?.rsplit_once('#')?;
        let url = url.split('?').next()?.trim_end_matches('/');
        let repo = url.rsplit('/').next()?.trim_end_matches(".git");
        let checkouts = std::fs::read_dir(self.git.as_ref()?).ok()?;
        for repo_dir in checkouts.flatten() {
            let name = repo_dir.file_name().to_string_lossy().into_owned();
            if name.rsplit_once('-').map(|(r, _)| r) != Some(repo) {
                continue;
            }
            for rev_dir in std::fs::read_dir(repo_dir.path()).into_iter().flatten().flatten() {
                let short = rev_dir.file_name().to_string_lossy().into_owned();
                if short.len() >= 7 && rev.starts_with(&short) {
                    if let Some(dir) = find_package(&rev_dir.path(), key, 4) {
                        return Some(dir);
                    }
                }
            }
        }
        None
    }
}

/// The `package.version` of the manifest in `dir`, when it states one.
fn manifest_version(dir: &Path) -> Option<String> {
    let doc = read_toml(&dir.join("Cargo.toml"))?;
    Some(doc.get("package")?.get("version")?.as_str()?.to_string())
}

/// The directory under `dir` (depth-limited) whose manifest is the package `key`.
fn find_package(dir: &Path, key: &PackageKey, depth: usize) -> Option<PathBuf> {
    if let Some(doc) = read_toml(&dir.join("Cargo.toml")) {
        let name = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
        if name == Some(key.name.as_str()) {
            return Some(dir.to_path_buf());
        }
    }
    if depth == 0 {
        return None;
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !matches!(e.file_name().to_str(), Some("target" | ".git")))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    subdirs.into_iter().find_map(|d| find_package(&d, key, depth - 1))
}

/// The graph from `Cargo.lock` and the sources on disk; the flag says whether the lock file
/// could account for every dependency (false: no lock file while there are non-path deps).
fn fallback(manifest_dir: &Path, cargo_home: Option<&Path>) -> (DepGraph, bool) {
    let root = workspace_root(manifest_dir);
    let root_doc = read_toml(&root.join("Cargo.toml")).unwrap_or_default();
    let inherited = inherited_from(&root);

    // Path packages: the members, then every path dependency reachable from them.
    let auto_members = root_doc.contains_key("workspace");
    let mut members = member_dirs(&root, &root_doc);
    if members.is_empty() {
        members.push(manifest_dir.to_path_buf());
    }
    let mut path_packages: BTreeMap<PathBuf, (Manifest, bool)> = BTreeMap::new();
    let mut queue: VecDeque<(PathBuf, bool)> = members.iter().map(|m| (m.clone(), true)).collect();
    // `[patch.crates-io] x = { path = ".." }` replaces a registry package by a path one.
    queue.extend(patch_dirs(&root, &root_doc).into_iter().map(|d| (d, false)));
    while let Some((dir, member)) = queue.pop_front() {
        if path_packages.contains_key(&dir) {
            continue;
        }
        // A path package outside this workspace inherits from its own workspace, if any.
        let outside;
        let from = if dir.starts_with(&root) {
            &inherited
        } else {
            outside = inherited_from(&workspace_root(&dir));
            &outside
        };
        let Some(m) = read_manifest(&dir, from) else { continue };
        for p in &m.path_deps {
            // Path dependencies inside a `[workspace]` root's directory are members too, as
            // cargo makes them; a package without one is a workspace of itself alone.
            queue.push_back((p.clone(), auto_members && p.starts_with(&root)));
        }
        path_packages.insert(dir, (m, member));
    }

    let sources = SourceDirs::find(&root, cargo_home);
    let lock = read_lock(&root);
    let mut manifests: BTreeMap<PackageKey, Manifest> = BTreeMap::new();
    let mut packages: BTreeMap<PackageKey, Package> = BTreeMap::new();
    let path_package = |m: &Manifest, key: PackageKey, member: bool| Package {
        key,
        source_id: None,
        source: SourceKind::Path,
        member,
        manifest_dir: Some(m.dir.clone()),
        lib: m.lib.clone(),
        edition: m.edition.clone(),
        features: None,
        build_script: m.build_script,
        deps: BTreeMap::new(),
    };
    let complete =
        lock.is_some() || path_packages.values().all(|(m, _)| m.deps.iter().all(|d| d.path.is_some()));
    for entry in lock.iter().flatten() {
        let package = if entry.source.is_none() {
            // A path package: the one of that name (and version, when its manifest says).
            let found = path_packages.values().find(|(m, _)| {
                m.name == entry.key.name && m.version.as_deref().unwrap_or("0.0.0") == entry.key.version
            });
            match found {
                Some((m, member)) => {
                    manifests.insert(entry.key.clone(), m.clone());
                    path_package(m, entry.key.clone(), *member)
                }
                None => Package::missing(entry.key.clone(), None),
            }
        } else {
            let manifest = sources.locate(entry).and_then(|dir| read_manifest(&dir, &Inherited::default()));
            match manifest {
                Some(m) => {
                    let mut p = path_package(&m, entry.key.clone(), false);
                    p.source_id = entry.source.clone();
                    p.source = source_kind(entry.source.as_deref());
                    manifests.insert(entry.key.clone(), m);
                    p
                }
                None => Package::missing(entry.key.clone(), entry.source.clone()),
            }
        };
        insert(&mut packages, package);
    }
    if lock.is_none() {
        for (m, member) in path_packages.values() {
            let key = PackageKey::new(&m.name, m.version.as_deref().unwrap_or("0.0.0"));
            manifests.insert(key.clone(), m.clone());
            insert(&mut packages, path_package(m, key, *member));
        }
    }

    // Edges: each manifest dependency, matched to the lock entry's dependencies (or, with no
    // lock file, to the path package), named as the dependent's code names it.
    let lock_deps: HashMap<&PackageKey, &LockEntry> = lock.iter().flatten().map(|e| (&e.key, e)).collect();
    let by_name: HashMap<&str, Vec<&PackageKey>> = packages.keys().fold(HashMap::new(), |mut m, k| {
        m.entry(k.name.as_str()).or_insert_with(Vec::new).push(k);
        m
    });
    let mut edges: Vec<(PackageKey, String, PackageKey)> = Vec::new();
    for (key, manifest) in &manifests {
        for d in &manifest.deps {
            let target = match lock_deps.get(key) {
                Some(entry) => {
                    let candidates: Vec<&PackageKey> = entry
                        .deps
                        .iter()
                        .filter_map(|s| lock_dep_key(s, &by_name))
                        .filter(|k| k.name == d.package)
                        .collect();
                    pick(&candidates, d, &packages)
                }
                None => d
                    .path
                    .as_ref()
                    .and_then(|p| path_packages.get(p))
                    .map(|(m, _)| PackageKey::new(&m.name, m.version.as_deref().unwrap_or("0.0.0"))),
            };
            let Some(target) = target else { continue };
            let code_name = match packages.get(&target).and_then(|p| p.lib.as_ref()) {
                Some(lib) if !d.renamed => lib.name.clone(),
                _ => d.key.replace('-', "_"),
            };
            edges.push((key.clone(), code_name, target));
        }
    }
    for (from, name, to) in edges {
        if let Some(p) = packages.get_mut(&from) {
            p.deps.insert(name, to);
        }
    }
    (DepGraph { workspace_root: root, packages, via: Via::Fallback }, complete)
}

/// The package a lock file dependency string names: `name`, `name version`, or
/// `name version (source)`.
fn lock_dep_key<'a>(s: &str, by_name: &HashMap<&str, Vec<&'a PackageKey>>) -> Option<&'a PackageKey> {
    let mut parts = s.split_whitespace();
    let name = parts.next()?;
    let version = parts.next();
    let same_name = by_name.get(name)?;
    match version {
        Some(v) => same_name.iter().copied().find(|k| k.version == v),
        None => same_name.first().copied(),
    }
}

/// Among the locked packages a manifest dependency could be, the one it is: a path package for
/// a path dependency, else the one its version requirement matches.
fn pick(
    candidates: &[&PackageKey],
    d: &ManifestDep,
    packages: &BTreeMap<PackageKey, Package>,
) -> Option<PackageKey> {
    if candidates.len() <= 1 {
        return candidates.first().map(|k| (*k).clone());
    }
    let is_path = |k: &&&PackageKey| packages.get(**k).is_some_and(|p| p.source == SourceKind::Path);
    if d.path.is_some() {
        if let Some(k) = candidates.iter().find(is_path) {
            return Some((*k).clone());
        }
    }
    let req = d.req.as_deref().and_then(|r| VersionReq::parse(r).ok());
    candidates
        .iter()
        .find(|k| match (&req, Version::parse(&k.version)) {
            (Some(req), Ok(v)) => req.matches(&v),
            _ => false,
        })
        .or(candidates.first())
        .map(|k| (*k).clone())
}

#[cfg(test)]
mod tests;
