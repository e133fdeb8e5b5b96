//! Which files to read: a gitignore-aware parallel walk of the given paths, and for each file
//! the crate it belongs to and its module path (from its place under the crate's directory).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};

use super::manifest::{self, Runtime};
use super::{Place, SourceFile};
use crate::diagnostic::FileError;

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<SourceFile>,
    pub errors: Vec<FileError>,
    /// When set, only findings that concern these paths are reported.
    pub focus: Option<Focus>,
}

/// Whether a path (as walked: the root joined with the rest) is left out.
pub type Exclude = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// Walks `paths`; excluded directories are not entered.
pub fn discover(paths: &[PathBuf], excluded: &Exclude) -> Discovery {
    let found: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<FileError>> = Mutex::new(Vec::new());
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.lock().unwrap().push(FileError {
                    path: display(root),
                    message: format!("cannot read this path: {}; check the path you passed", io_reason(&e)),
                });
                continue;
            }
        };
        if meta.is_file() {
            // A file named explicitly is checked whatever its name.
            found.lock().unwrap().push((root.clone(), display(root)));
            continue;
        }
        let base = super::deps::normalize(&std::path::absolute(root).unwrap_or_else(|_| root.clone()));
        let left_out = super::deps::workspace_excludes(root);
        let walker = WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .follow_links(true)
            .filter_entry({
                let excluded = excluded.clone();
                let root_dir = root.clone();
                move |e| {
                    let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                    // `target/`, excluded directories and vendored crates (`cargo vendor` marks
                    // each with a checksum file: dependencies, followed only where called) are
                    // not entered; a directory of vendored crates named itself is checked
                    // (`stall check vendor/`).
                    let vendored = || e.depth() >= 2 && e.path().join(".cargo-checksum.json").exists();
                    // So are the directories the workspace excludes (forks vendored as path
                    // dependencies).
                    let outside = || {
                        let rel = e.path().strip_prefix(&root_dir).unwrap_or(e.path());
                        let at = base.join(rel);
                        left_out.iter().any(|x| at.starts_with(x))
                    };
                    !is_dir
                        || (e.file_name() != "target"
                            && (e.depth() == 0 || !(excluded(e.path()) || vendored() || outside())))
                }
            })
            .build_parallel();
        walker.run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(e) => {
                        let is_rs = e.path().extension().is_some_and(|x| x == "rs");
                        let is_file = e.file_type().is_some_and(|t| !t.is_dir());
                        if is_rs && is_file && !excluded(e.path()) {
                            found.lock().unwrap().push((e.path().to_path_buf(), display(e.path())));
                        }
                    }
                    // Only entries stall would read are worth an error: a `.rs` file, or the
                    // path given. A dangling link, an unreadable directory or data file, or a
                    // link back to a directory already walked is skipped silently.
                    Err(err) if read_anyway(&err, root) => {
                        let path = walk_error_path(&err).unwrap_or_else(|| display(root));
                        errors.lock().unwrap().push(FileError { path, message: walk_error_message(&err) });
                    }
                    Err(_) => {}
                }
                WalkState::Continue
            })
        });
    }
    let mut found = found.into_inner().unwrap();
    found.sort();
    found.dedup();
    let mut crates = CrateCache::default();
    let roots: Vec<PathBuf> = paths.iter().filter_map(|r| std::path::absolute(r).ok()).collect();
    let mut under_tests: HashMap<PathBuf, bool> = HashMap::new();
    let mut files: Vec<SourceFile> = found
        .into_iter()
        .map(|(path, display)| {
            let mut place = crates.locate(&path);
            if let Some(dir) = crates.package_dir(&path).filter(|_| !place.is_test) {
                let test = *under_tests
                    .entry(dir)
                    .or_insert_with_key(|dir| in_tests_dir(dir, &roots) || super::deps::is_tests_member(dir));
                place.is_test |= test;
            }
            SourceFile { path, display, place }
        })
        .collect();
    let renames = crates.version_renames();
    if !renames.is_empty() {
        for f in &mut files {
            if let Some(r) = f.place.package.as_ref().and_then(|p| renames.get(p)) {
                f.place.renames = r.clone();
            }
        }
    }
    let mut errors = errors.into_inner().unwrap();
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Discovery { files, errors, focus: None }
}

/// The files a run was asked about, when it checks more than them: a file named on the
/// command line (or read from stdin) is checked with the rest of its package, so that calls
/// into it from other files are followed, and only what concerns it is reported.
#[derive(Debug, Default)]
pub struct Focus {
    /// Canonical paths of the files and directories named.
    given: Vec<PathBuf>,
}

impl Focus {
    /// Is `path` one of the files named, or under a directory named?
    pub fn covers(&self, path: &Path) -> bool {
        let key = same_file(path);
        self.given.iter().any(|g| key.starts_with(g))
    }
}

/// A key that is the same for every spelling of a path (`./src/a.rs`, `src/a.rs`, a link):
/// canonical where the file exists, absolute where it does not (a new editor buffer).
pub fn same_file(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.into()))
}

/// Walks `paths`, widening each file named among them to its whole package; `texts` are
/// files whose text comes from elsewhere (stdin), named whether or not they exist on disk.
/// The discovery's focus is set when a file was widened (otherwise every finding is reported).
pub fn discover_packages(paths: &[PathBuf], texts: &[PathBuf], excluded: &Exclude) -> Discovery {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut crates = CrateCache::default();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in paths.iter().filter(|p| p.is_file()).chain(texts) {
        if let Some(dir) = crates.package_dir(path).map(|d| relative_to(&d, &cwd)) {
            if !roots.contains(&dir) {
                roots.push(dir);
            }
        }
    }
    if roots.is_empty() && texts.is_empty() {
        return discover(paths, excluded);
    }
    // One spelling per file, the walk's: the module tree matches `mod` declarations to paths
    // as the walk spells them. A file named that the walk did not find (ignored, or a text
    // not on disk) is added as named.
    let mut named = discover(paths, excluded);
    for t in texts {
        let place = crates.locate(t);
        named.files.push(SourceFile { path: t.clone(), display: display(t), place });
    }
    let walked = discover(&roots, excluded);
    let mut seen: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut files = Vec::new();
    for f in walked.files.into_iter().chain(named.files) {
        if seen.insert(same_file(&f.path)) {
            files.push(f);
        }
    }
    let mut errors = named.errors;
    errors.extend(walked.errors);
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    errors.dedup_by(|a, b| a.path == b.path);
    let focus = Focus { given: paths.iter().chain(texts).map(|p| same_file(p)).collect() };
    Discovery { files, errors, focus: (!roots.is_empty()).then_some(focus) }
}

/// `dir` as a path relative to `cwd` where it is under it (`.` for `cwd` itself), so that the
/// files found under it are shown as the user would write them.
fn relative_to(dir: &Path, cwd: &Path) -> PathBuf {
    match dir.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => dir.to_path_buf(),
    }
}

/// The directory of the package a file belongs to: the nearest ancestor whose Cargo.toml has a
/// `[package]` (a workspace root alone is not one).
pub fn package_dir(file: &Path) -> Option<PathBuf> {
    CrateCache::default().package_dir(file)
}

fn display(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").map(str::to_string).unwrap_or_else(|| s.into_owned())
}

pub fn io_reason(e: &std::io::Error) -> String {
    let mut s = e.to_string();
    if let Some(i) = s.find(" (os error") {
        s.truncate(i);
    }
    s.to_lowercase()
}

/// Would stall have read the entry a walk error is about? A `.rs` file (not a link loop to a
/// directory), or the walked root itself.
fn read_anyway(err: &ignore::Error, root: &Path) -> bool {
    match error_path(err) {
        Some(path) => {
            let is_rs = path.extension().is_some_and(|x| x == "rs");
            (is_rs && !is_loop(err)) || path == root
        }
        None => false,
    }
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

fn walk_error_path(err: &ignore::Error) -> Option<String> {
    error_path(err).map(display)
}

fn walk_error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}; not followed", display(ancestor))
        }
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => walk_error_message(err),
        ignore::Error::Io(e) => format!("cannot read this path: {}", io_reason(e)),
        other => other.to_string(),
    }
}

/// Where one file sits in its package.
pub fn locate(file: &Path) -> Place {
    CrateCache::default().locate(file)
}

/// Finds the crate of a file (nearest `Cargo.toml` with a `[package]`), caching per directory.
#[derive(Default)]
struct CrateCache {
    dirs: HashMap<PathBuf, Option<Package>>,
    /// How many packages of each name were found: two unrelated projects checked together
    /// (an example next to its fixed version) may share a name, but not their functions.
    names: HashMap<String, usize>,
}

/// A package: its directory, name, and the crate roots its manifest names explicitly.
#[derive(Debug, Clone)]
struct Package {
    dir: PathBuf,
    name: String,
    /// `[lib] path` and `[[bin]] path`, relative to `dir`.
    roots: Vec<Root>,
    runtime: Option<Runtime>,
    uses: Arc<[String]>,
    depends: Arc<[String]>,
    version: Option<String>,
    requires: Arc<[(String, String)]>,
}

/// A crate root named by a manifest, and the target it starts (`None` for the library).
use manifest::Root;

impl CrateCache {
    fn locate(&mut self, file: &Path) -> Place {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        // Outside any package a file is a crate of its own: its functions link to no other file.
        let alone = || Place {
            package: None,
            target: format!("<{}>", abs.display()),
            module: "crate".to_string(),
            is_test: false,
            is_root: true,
            runtime: None,
            features: None,
            build_script: false,
            uses: Arc::from([]),
            depends: Arc::from([]),
            renames: Arc::from([]),
            in_tree: true,
        };
        let Some(dir) = abs.parent() else {
            return alone();
        };
        let Some(pkg) = self.crate_of(dir) else {
            return alone();
        };
        let rel = abs.strip_prefix(&pkg.dir).unwrap_or(&abs);
        let first = rel.iter().next().and_then(|c| c.to_str()).unwrap_or("");
        let is_test = matches!(first, "tests" | "benches") || is_test_module(rel);
        let name = pkg.name.clone();
        let named = |t: Option<String>| t.map_or_else(|| name.clone(), |t| format!("{name}@{t}"));
        if let Some((_, t)) = pkg.roots.iter().find(|(p, _)| p == rel) {
            let target = named(t.clone());
            let runtime = pkg.runtime.clone();
            return Place {
                package: Some(name),
                target,
                module: "crate".into(),
                is_test,
                is_root: true,
                runtime,
                features: None,
                build_script: false,
                uses: pkg.uses.clone(),
                depends: pkg.depends.clone(),
                renames: Arc::from([]),
                in_tree: false,
            };
        }
        Place {
            module: module_path(rel),
            target: named(target_suffix(rel)),
            package: Some(name.clone()),
            is_test,
            is_root: is_conventional_root(rel),
            runtime: pkg.runtime.clone(),
            features: None,
            build_script: false,
            uses: pkg.uses.clone(),
            depends: pkg.depends.clone(),
            renames: Arc::from([]),
            in_tree: false,
        }
    }

    /// `name`, or for a second package of that name in the run `name#2`, like a second
    /// version of a dependency: its functions get keys of their own.
    fn unique_name(&mut self, name: String) -> String {
        let seen = self.names.entry(name.clone()).or_insert(0);
        *seen += 1;
        match *seen {
            1 => name,
            n => format!("{name}#{n}"),
        }
    }

    /// For each package found that depends on a name two packages of the run share (two
    /// versions in a `cargo vendor` directory): (name, the package of the version it requires),
    /// or a name no package has when none matches (its calls then link to neither).
    fn version_renames(&self) -> HashMap<String, Arc<[(String, String)]>> {
        use cargo_metadata::semver::{Version, VersionReq};
        let mut packages: Vec<&Package> = self.dirs.values().flatten().collect();
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        packages.dedup_by(|a, b| a.name == b.name);
        let mut by_base: HashMap<&str, Vec<(&str, Option<Version>)>> = HashMap::new();
        for p in &packages {
            let base = p.name.split('#').next().unwrap_or(&p.name);
            let version = p.version.as_deref().and_then(|v| Version::parse(v).ok());
            by_base.entry(base).or_default().push((&p.name, version));
        }
        let mut out = HashMap::new();
        for p in &packages {
            let mut renames = Vec::new();
            // Its examples, tests and binaries name its library by the base name.
            let base = p.name.split('#').next().unwrap_or(&p.name);
            if base != p.name {
                renames.push((base.to_string(), p.name.clone()));
            }
            for (dep, req) in p.requires.iter() {
                let Some(all) = by_base.get(dep.as_str()).filter(|all| all.len() > 1) else { continue };
                let Ok(req) = VersionReq::parse(req) else { continue };
                let best = all
                    .iter()
                    .filter(|(_, v)| v.as_ref().is_some_and(|v| req.matches(v)))
                    .max_by_key(|(_, v)| v);
                match best {
                    Some((name, _)) if *name == dep.as_str() => {}
                    Some((name, _)) => renames.push((dep.clone(), name.to_string())),
                    None => renames.push((dep.clone(), format!("{dep}#unmatched"))),
                }
            }
            if !renames.is_empty() {
                out.insert(p.name.clone(), Arc::from(renames));
            }
        }
        out
    }

    fn package_dir(&mut self, file: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        self.crate_of(abs.parent()?).map(|p| p.dir)
    }

    fn crate_of(&mut self, dir: &Path) -> Option<Package> {
        if let Some(hit) = self.dirs.get(dir) {
            return hit.clone();
        }
        let manifest = dir.join("Cargo.toml");
        let here = std::fs::read_to_string(&manifest).ok().and_then(|text| manifest::read(&text));
        let result = match here {
            Some(m) => Some(Package {
                dir: dir.to_path_buf(),
                name: self.unique_name(m.name),
                roots: m.roots,
                runtime: m.runtime,
                uses: m.uses.into(),
                depends: m.depends.into(),
                version: m.version,
                requires: m.requires.into(),
            }),
            None => dir.parent().and_then(|p| self.crate_of(p)),
        };
        self.dirs.insert(dir.to_path_buf(), result.clone());
        result
    }
}

/// Is the package at `dir` kept in the `tests/` directory of a package or workspace below a
/// walked root (a harness `tests/harness` beside `Cargo.toml`, a fixture crate
/// `tests/fixtures/demo`)? It is then test support, like the test targets there. (A package
/// checked by itself is what the user asked about; a workspace member listed under `tests/`
/// is test support either way, as `cargo stall` walks each member by itself.)
fn in_tests_dir(dir: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| {
        let Ok(rel) = dir.strip_prefix(root) else { return false };
        let parts: Vec<_> = rel.iter().collect();
        // (The last part is the package's own directory: `tests` must hold it, not be it.)
        (0..parts.len().saturating_sub(1)).any(|k| {
            parts[k] == "tests"
                && parts[..k].iter().fold(root.clone(), |p, c| p.join(c)).join("Cargo.toml").is_file()
        })
    })
}

/// `src/lib.rs`, `src/main.rs`, `src/bin/x.rs`, `tests/x.rs`, `build.rs` and the like.
fn is_conventional_root(rel: &Path) -> bool {
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    matches!(
        parts.as_slice(),
        ["src", "lib.rs" | "main.rs"]
            | ["src", "bin", _]
            | ["src", "bin", _, "main.rs"]
            | ["tests" | "examples" | "benches", _]
            | ["examples" | "benches", _, "main.rs"]
            | ["build.rs"]
    )
}

/// `src/net/tests.rs`, `src/net/tests/mod.rs`: by convention a `#[cfg(test)] mod tests;`.
/// Also the modules named for test support (`src/testing.rs`, `src/test_utils/`): harnesses
/// behind a feature (sqlx's `#[sqlx::test]` support), not code a program runs.
fn is_test_module(rel: &Path) -> bool {
    rel.iter().skip(1).any(|c| {
        let c = c.to_str().unwrap_or("");
        let stem = c.strip_suffix(".rs").unwrap_or(c);
        matches!(
            stem,
            "tests"
                | "test"
                | "testing"
                | "test_utils"
                | "test_util"
                | "testutil"
                | "testutils"
                | "test_helpers"
                | "test_support"
        ) || stem.ends_with("_test")
            || stem.ends_with("_tests")
    })
}

/// For files outside the library target: which target (`examples/demo`, `bin/tool`).
fn target_suffix(rel: &Path) -> Option<String> {
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let name = |s: &str| s.strip_suffix(".rs").unwrap_or(s).to_string();
    match parts.as_slice() {
        ["src", "main.rs"] => Some("bin".into()),
        ["src", "bin", x, ..] => Some(format!("bin/{}", name(x))),
        [dir @ ("tests" | "examples" | "benches"), x, ..] => Some(format!("{dir}/{}", name(x))),
        [_] => Some("build".into()),
        _ => None,
    }
}

/// The module path of a file from its path relative to the crate directory:
/// `src/lib.rs` -> `crate`, `src/net/http.rs` -> `crate::net::http`, `src/net/mod.rs` ->
/// `crate::net`; binaries, tests, examples and benches are crate roots of their own.
pub fn module_path(rel: &Path) -> String {
    let parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let mut parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    if let Some(last) = parts.last_mut() {
        *last = last.strip_suffix(".rs").unwrap_or(last);
    }
    let root_dirs = ["src", "tests", "examples", "benches"];
    if parts.first().is_some_and(|p| root_dirs.contains(p)) {
        parts.remove(0);
    }
    if parts.first() == Some(&"bin") {
        parts.remove(0);
        if !parts.is_empty() {
            parts.remove(0); // the binary's own file or directory
        }
    }
    if matches!(parts.last(), Some(&"mod") | Some(&"main")) || parts.len() == 1 && parts[0] == "lib" {
        parts.pop();
    }
    // `tests/it.rs`, `examples/demo.rs`, `build.rs`: crate roots.
    if parts.len() == 1 && rel.iter().count() <= 2 && rel.iter().next().is_some_and(|c| c != "src") {
        parts.pop();
    }
    let mut module = String::from("crate");
    for p in parts {
        module.push_str("::");
        module.push_str(p);
    }
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_follow_cargo_layout() {
        let m = |p: &str| module_path(Path::new(p));
        assert_eq!(m("src/lib.rs"), "crate");
        assert_eq!(m("src/main.rs"), "crate");
        assert_eq!(m("src/net/http.rs"), "crate::net::http");
        assert_eq!(m("src/net/mod.rs"), "crate::net");
        assert_eq!(m("src/bin/tool.rs"), "crate");
        assert_eq!(m("src/bin/tool/main.rs"), "crate");
        assert_eq!(m("src/bin/tool/cli.rs"), "crate::cli");
        assert_eq!(m("tests/it.rs"), "crate");
        assert_eq!(m("tests/common/mod.rs"), "crate::common");
        assert_eq!(m("examples/demo.rs"), "crate");
        assert_eq!(m("build.rs"), "crate");
    }

    #[test]
    fn targets_separate_examples_tests_and_binaries() {
        let t = |p: &str| target_suffix(Path::new(p));
        assert_eq!(t("src/lib.rs"), None);
        assert_eq!(t("src/a/b.rs"), None);
        assert_eq!(t("src/main.rs").as_deref(), Some("bin"));
        assert_eq!(t("src/bin/tool/cli.rs").as_deref(), Some("bin/tool"));
        assert_eq!(t("examples/demo.rs").as_deref(), Some("examples/demo"));
        assert_eq!(t("tests/common/mod.rs").as_deref(), Some("tests/common"));
    }

    #[test]
    fn test_modules_by_name() {
        let t = |p: &str| is_test_module(Path::new(p));
        assert!(t("src/net/tests.rs") && t("src/net/tests/mod.rs") && t("src/store_test.rs"));
        assert!(t("src/testing/mod.rs") && t("src/test_utils.rs") && t("src/db/test_helpers.rs"));
        assert!(!t("src/testimony.rs") && !t("src/latest.rs") && !t("src/attest/mod.rs"));
    }
}
