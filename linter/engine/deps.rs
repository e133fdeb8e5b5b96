//! Dependencies in a run: the packages whose sources cargo downloaded, by the names the checked
//! code calls them, and their files, listed only when a call needs one of their functions.
//! Their functions join the call graph like the crates' own; findings inside them are never
//! reported, only the chains from the checked code into them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::cache::{Cache, Key};
use crate::project::deps::{self, DepGraph, LocateOptions, Located, Package, PackageKey, Via};
use crate::project::discover::module_path;
use crate::project::{Place, SourceFile};
use crate::qualified::Qualified;

/// A dependency package stall may follow calls into.
#[derive(Debug, Clone)]
pub(crate) struct DepPackage {
    /// Its crate name (`fs_err`), with its version for a second version of a crate
    /// (`fs_err#2.11.0`): the target its keys are made unique to.
    pub name: String,
    /// `fs-err-3.1.0`: how its files are shown in chain notes.
    pub label: String,
    pub dir: PathBuf,
    lib_root: PathBuf,
    /// What its facts depend on besides the files' text: identity and features.
    pub fingerprint: String,
    /// Where it comes from, for a registry or git package (which never changes under one
    /// identity): its files' outlines and its listing are cached by this, without reading them.
    pub identity: Option<String>,
    features: Option<std::collections::BTreeSet<String>>,
    build_script: bool,
}

/// A package of the cargo workspace the run is in.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub dir: Option<PathBuf>,
    pub features: Option<std::collections::BTreeSet<String>>,
    pub build_script: bool,
}

/// The followable dependencies of a run.
#[derive(Debug, Default)]
pub(crate) struct Deps {
    /// By crate name.
    packages: HashMap<String, DepPackage>,
    /// Names code uses for a dependency that differ from its crate name (`fs` for
    /// `fs = { package = "fs-err" }`), to the crate name.
    pub aliases: HashMap<String, String>,
    /// Crates whose sources are on this machine (the catalog's fallback entries for them are
    /// not needed).
    pub present: HashSet<String>,
    /// One line for the user when sources are missing.
    pub note: Option<String>,
    /// The workspace members: by package name (`my_crate`), their directory, the features
    /// cargo resolved for them, and whether they have a build script.
    pub members: HashMap<String, Member>,
    /// Expanded packages, and how many packages away from the checked crates each is.
    expanded: HashMap<String, u8>,
}

impl Deps {
    /// The dependencies of the cargo project above `root`, except `opaque` crates (whose sync
    /// API is known not to block, or whose blocking calls the catalog lists).
    pub(crate) fn locate(root: &Path, opaque: &dyn Fn(&str) -> bool, cache: &Cache) -> Deps {
        let located = located(root, &LocateOptions::from_env(), cache);
        let mut out = Deps { note: located.note, ..Deps::default() };
        let Some(graph) = located.graph else { return out };
        let reachable = graph.reachable();
        // Each package's name in keys: its crate name, or with its version for a second
        // version of a crate (`fsx#0.9.0`), so chains never cross versions.
        let mut unique: HashMap<&PackageKey, String> = HashMap::new();
        for key in &reachable {
            let Some(p) = graph.get(key) else { continue };
            let (Some(dir), Some(lib)) = (&p.manifest_dir, &p.lib) else { continue };
            out.present.insert(lib.name.clone());
            if p.member || lib.proc_macro || opaque(&lib.name) {
                continue;
            }
            let name = match out.packages.contains_key(&lib.name) {
                false => lib.name.clone(),
                true => format!("{}#{}", lib.name, key.version),
            };
            unique.insert(key, name.clone());
            let fingerprint = fingerprint(p);
            out.packages.insert(
                name.clone(),
                DepPackage {
                    name,
                    label: key.to_string(),
                    dir: dir.clone(),
                    lib_root: lib.root.clone(),
                    fingerprint,
                    identity: p.cache_identity(),
                    features: p.features.clone(),
                    build_script: p.build_script,
                },
            );
        }
        // The names code uses for them: the checked crates' names win, then the first
        // dependency's (one map for the run: a dependency naming another version of a crate the
        // checked crates use by the same name is followed into theirs).
        let mut ordered: Vec<&&PackageKey> = reachable.iter().collect();
        ordered.sort_by_key(|k| graph.get(k).is_none_or(|p| !p.member));
        for key in ordered {
            let Some(p) = graph.get(key) else { continue };
            for (code_name, dep) in &p.deps {
                let Some(name) = unique.get(dep) else { continue };
                if *code_name != *name {
                    out.aliases.entry(code_name.clone()).or_insert_with(|| name.clone());
                }
            }
        }
        out.members(&graph);
        out
    }

    fn members(&mut self, graph: &DepGraph) {
        for m in graph.members() {
            // A member's own name is never a dependency's alias.
            if let Some(lib) = &m.lib {
                self.aliases.remove(&lib.name);
            }
            let member = Member {
                dir: m.manifest_dir.clone(),
                features: m.features.clone(),
                build_script: m.build_script,
            };
            self.members.insert(m.key.name.replace('-', "_"), member);
        }
    }

    /// Forgets the packages that are checked as the user's own crates although they are not
    /// workspace members (a vendor directory checked as a whole), by crate name, any version:
    /// two versions of a checked crate share their keys anyway. (A member may share its name
    /// with a registry dependency: that one is followed.)
    pub(crate) fn drop_checked<'a>(&mut self, checked: impl Iterator<Item = &'a str>) {
        let checked: HashSet<&str> = checked.filter(|name| !self.members.contains_key(*name)).collect();
        self.packages.retain(|name, _| !checked.contains(name.split('#').next().unwrap_or(name)));
        let packages = &self.packages;
        self.aliases.retain(|_, name| packages.contains_key(name));
    }

    /// Every name code may use for a followable dependency.
    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.packages.keys().chain(self.aliases.keys())
    }

    /// The crate a name used in code stands for, when it is a followable dependency.
    pub(crate) fn canonical<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.packages.contains_key(name).then_some(name)
    }

    /// A key into a followable dependency, with the crate's own name first (`fs::read` ->
    /// `fs_err::read` for a renamed dependency).
    pub(crate) fn canonical_key(&self, key: &str) -> Option<String> {
        let (first, rest) = key.split_first_sep()?;
        let name = self.canonical(first)?;
        Some(format!("{name}::{rest}"))
    }

    /// The files of dependency `name`, `hops` packages away from the checked crates, the first
    /// time it is asked for: `None` after that.
    pub(crate) fn expand(
        &mut self,
        name: &str,
        hops: u8,
        cache: &Cache,
    ) -> Option<(DepPackage, Vec<SourceFile>)> {
        let p = self.packages.get(name)?.clone();
        if self.expanded.contains_key(name) {
            return None;
        }
        self.expanded.insert(name.to_string(), hops);
        // A registry or git package's listing never changes where it is: kept, it costs one
        // read. (Where it is is part of the key: a vendored copy of the same package lists
        // other paths.)
        let key = p.identity.as_ref().map(|id| Key::package_file(id, &p.dir, "listing"));
        let paths = match key.and_then(|key| cache.get::<Vec<PathBuf>>(key)) {
            Some(paths) => paths,
            None => {
                let paths = rust_files(p.lib_root.parent().unwrap_or(&p.dir));
                if let Some(key) = key {
                    let _ = cache.put(key, &paths);
                }
                paths
            }
        };
        let files = paths.into_iter().map(|path| self.source_file(&p, path)).collect();
        Some((p, files))
    }

    fn source_file(&self, p: &DepPackage, path: PathBuf) -> SourceFile {
        let rel = path.strip_prefix(&p.dir).unwrap_or(&path).to_path_buf();
        let display = format!("{}/{}", p.label, rel.display());
        let place = Place {
            package: Some(p.name.clone()),
            target: p.name.clone(),
            module: if path == p.lib_root { "crate".into() } else { module_path(&rel) },
            is_test: false,
            is_root: path == p.lib_root,
            runtime: None,
            features: p.features.clone(),
            build_script: p.build_script,
            uses: std::sync::Arc::from([]),
            depends: std::sync::Arc::from([]),
            renames: std::sync::Arc::from([]),
            in_tree: false,
        };
        SourceFile { path, display, place }
    }
}

/// The `.rs` files under a package's source directory, sorted: tests, examples and benches are
/// not part of the library.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if !matches!(e.file_name().to_str(), Some("tests" | "examples" | "benches" | "target")) {
                    stack.push(path);
                }
            } else if kind.is_file() && path.extension().is_some_and(|x| x == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A dependency graph `cargo metadata` gave, with the files it was computed from.
#[derive(Serialize, Deserialize)]
struct CachedGraph {
    /// Each file cargo's answer depends on, and a hash of its contents (`None`: absent).
    inputs: Vec<(PathBuf, Option<u64>)>,
    graph: DepGraph,
}

/// The dependency graph of the project above `root`. Running `cargo metadata` takes a third of
/// a second on a large workspace, more than a warm run's analysis: its answer is kept in the
/// cache and reused while no file it was computed from changed. Only cargo's complete answers
/// are kept; the fallback's depends on which sources are downloaded, and is cheap.
/// (A workspace member added under a glob without touching any manifest or the lock file is
/// not noticed; cargo's `--locked` answer would be an error then anyway.)
fn located(root: &Path, options: &LocateOptions, cache: &Cache) -> Located {
    let env = |name: &str| std::env::var_os(name).unwrap_or_default();
    let context = format!(
        "{}\0{:?}\0{:?}\0{:?}\0{:?}",
        root.display(),
        options.cargo,
        options.cargo_home(),
        env("RUSTUP_TOOLCHAIN"),
        env("RUSTUP_HOME"),
    );
    let key = Key::project(&context);
    let digest = |file: &PathBuf| std::fs::read(file).ok().map(|bytes| xxh3_64(&bytes));
    if let Some(cached) = cache.get::<CachedGraph>(key) {
        // Sources deleted since (a cleaned registry cache) make cargo fail: ask it again.
        let present = || {
            let on_disk = |p: &deps::Package| p.lib.as_ref().is_none_or(|l| l.root.is_file());
            cached.graph.packages.values().filter(|p| p.manifest_dir.is_some()).all(on_disk)
        };
        if cached.inputs.iter().all(|(file, hash)| digest(file) == *hash) && present() {
            return Located { graph: Some(cached.graph), note: None, metadata_error: None };
        }
    }
    let located = deps::locate_with(root, options);
    if let Some(graph) = located.graph.as_ref().filter(|g| g.via == Via::Metadata && located.note.is_none()) {
        let inputs = deps::metadata_inputs(root, graph, options)
            .into_iter()
            .map(|file| {
                let hash = digest(&file);
                (file, hash)
            })
            .collect();
        // Best effort: a cache that cannot be written costs the next run the same time again.
        let _ = cache.put(key, &CachedGraph { inputs, graph: graph.clone() });
    }
    located
}

/// What a package's facts depend on besides its files: its identity and resolved features.
fn fingerprint(p: &Package) -> String {
    let features: Vec<&str> = p.features.iter().flatten().map(String::as_str).collect();
    format!("{}@{} [{}]", p.key.name, p.key.version, features.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str) -> DepPackage {
        DepPackage {
            name: name.into(),
            label: format!("{name}-1.0.0"),
            dir: PathBuf::from(format!("/registry/{name}-1.0.0")),
            lib_root: PathBuf::from(format!("/registry/{name}-1.0.0/src/lib.rs")),
            fingerprint: String::new(),
            identity: None,
            features: None,
            build_script: false,
        }
    }

    #[test]
    fn checked_crates_are_not_followed_again_unless_a_member_only_shares_the_name() {
        let mut deps = Deps::default();
        for name in ["leftpad", "leftpad#0.1.0", "util", "serde_x"] {
            deps.packages.insert(name.into(), package(name));
        }
        deps.aliases.insert("old_pad".into(), "leftpad#0.1.0".into());
        // `util` is a workspace member with the name of a registry crate it depends on.
        deps.members.insert("util".into(), Member { dir: None, features: None, build_script: false });
        deps.drop_checked(["leftpad", "util", "app"].into_iter());
        assert_eq!(deps.canonical("leftpad"), None);
        assert_eq!(deps.canonical("old_pad"), None, "an alias of a dropped version goes too");
        assert_eq!(deps.canonical("util"), Some("util"));
        assert_eq!(deps.canonical("serde_x"), Some("serde_x"));
    }

    /// Copies a directory tree (the fixtures a test changes).
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            match entry.file_type().unwrap().is_dir() {
                true => copy_tree(&entry.path(), &target),
                false => drop(std::fs::copy(entry.path(), &target).unwrap()),
            }
        }
    }

    /// `cargo metadata` runs once; its answer is reused until a manifest changes or a cargo
    /// configuration file appears, and the reused graph is the one cargo gave.
    #[cfg(unix)]
    #[test]
    fn cargo_metadata_is_asked_again_only_when_what_it_read_changed() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps");
        for name in ["path-workspace", "shared"] {
            copy_tree(&fixtures.join(name), &tmp.path().join(name));
        }
        let (calls, cargo) = (tmp.path().join("calls"), tmp.path().join("cargo"));
        let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        std::fs::write(
            &cargo,
            format!("#!/bin/sh\necho run >> '{}'\nexec '{real}' \"$@\"\n", calls.display()),
        )
        .unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = tmp.path().join("cargo-home");
        std::fs::create_dir_all(&home).unwrap();
        let options = LocateOptions {
            cargo: Some(cargo),
            cargo_home: Some(home),
            timeout: std::time::Duration::from_secs(300),
        };
        let cache = Cache::in_dir(&tmp.path().join("cache"));
        let workspace = tmp.path().join("path-workspace");
        let root = workspace.join("app/src");
        let runs = || std::fs::read_to_string(&calls).map_or(0, |s| s.lines().count());
        let shape = |l: Located| format!("{:?}", l.graph.unwrap().packages);

        let first = located(&root, &options, &cache);
        assert_eq!(first.graph.as_ref().map(|g| g.via), Some(Via::Metadata), "{:?}", first.metadata_error);
        let first = shape(first);
        assert_eq!(runs(), 1);
        assert_eq!(shape(located(&root, &options, &cache)), first);
        assert_eq!(runs(), 1, "nothing changed: the cached graph is used");
        assert_eq!(shape(located(&root, &options, &Cache::disabled())), first);
        assert_eq!(runs(), 2, "no cache, no reuse");

        let manifest = workspace.join("helper/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, text.replace("edition = \"2018\"", "edition = \"2021\"")).unwrap();
        let changed = shape(located(&root, &options, &cache));
        assert_eq!(runs(), 3, "a path package's manifest changed");
        assert_ne!(changed, first);
        located(&root, &options, &cache);
        assert_eq!(runs(), 3);

        std::fs::create_dir_all(workspace.join(".cargo")).unwrap();
        std::fs::write(workspace.join(".cargo/config.toml"), "[net]\noffline = true\n").unwrap();
        located(&root, &options, &cache);
        assert_eq!(runs(), 4, "a cargo configuration file appeared");
    }
}
