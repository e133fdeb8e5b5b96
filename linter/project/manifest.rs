//! What stall reads from a package manifest: its name, the crate roots it names explicitly,
//! and the async runtime it depends on (for fixes).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A crate root named by a manifest, and the target it starts (`None` for the library).
pub(crate) type Root = (PathBuf, Option<String>);

/// The async runtime a package depends on, from its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    pub kind: RuntimeKind,
    /// The features the manifest enables (`None`: not known, e.g. `workspace = true`).
    pub features: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuntimeKind {
    Tokio,
    AsyncStd,
    Smol,
}

impl Runtime {
    /// The runtime named in a manifest's `[dependencies]`.
    pub(crate) fn from_manifest(manifest: &toml::Table) -> Option<Runtime> {
        let deps = manifest.get("dependencies")?.as_table()?;
        for (name, kind) in
            [("tokio", RuntimeKind::Tokio), ("async-std", RuntimeKind::AsyncStd), ("smol", RuntimeKind::Smol)]
        {
            let Some(dep) = deps.get(name) else { continue };
            let features = match dep {
                toml::Value::String(_) => Some(Vec::new()),
                toml::Value::Table(t) if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) => None,
                toml::Value::Table(t) => Some(
                    t.get("features")
                        .and_then(|f| f.as_array())
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            return Some(Runtime { kind, features });
        }
        None
    }

    /// Whether the manifest enables tokio feature `f` (or `full`).
    pub(crate) fn has_feature(&self, f: &str) -> bool {
        self.features.as_ref().is_some_and(|fs| fs.iter().any(|x| x == f || x == "full"))
    }
}

/// What stall reads from a package manifest.
pub(crate) struct Manifest {
    /// The package name as Rust code spells it (`-` -> `_`).
    pub name: String,
    /// The explicit `[lib]` / `[[bin]]` roots.
    pub roots: Vec<Root>,
    pub runtime: Option<Runtime>,
    /// The packages it depends on by path or through its workspace (`path = ".."`,
    /// `workspace = true`), as Rust code spells them: a program's own libraries. Registry
    /// dependencies and dev-dependencies are left out.
    pub uses: Vec<String>,
    /// Every package it depends on (dev-dependencies too), as Rust code spells them: only
    /// its code and these packages' can call its functions.
    pub depends: Vec<String>,
    /// The package's version, when the manifest states it.
    pub version: Option<String>,
    /// The version requirement of each dependency that states one (`tungstenite = "0.24"`), by
    /// package name as Rust code spells it: which of two packages of one name it means.
    pub requires: Vec<(String, String)>,
}

/// The manifest's facts; `None` for a manifest without `[package]`.
pub(crate) fn read(manifest: &str) -> Option<Manifest> {
    let value: toml::Table = toml::from_str(manifest).ok()?;
    let name = value.get("package")?.get("name")?.as_str()?.replace('-', "_");
    let mut roots = Vec::new();
    if let Some(p) = value.get("lib").and_then(|l| l.get("path")).and_then(|p| p.as_str()) {
        roots.push((PathBuf::from(p), None));
    }
    for bin in value.get("bin").and_then(|b| b.as_array()).into_iter().flatten() {
        if let Some(p) = bin.get("path").and_then(|p| p.as_str()) {
            let target = bin.get("name").and_then(|n| n.as_str()).unwrap_or("bin");
            roots.push((PathBuf::from(p), Some(format!("bin/{target}"))));
        }
    }
    let targets: Vec<&toml::Value> =
        value.get("target").and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values()).collect();
    let top = toml::Value::Table(value.clone());
    let sections = || std::iter::once(&top).chain(targets.iter().copied());
    let tables = |kind: &'static str| sections().filter_map(move |t| t.get(kind)?.as_table());
    let mut uses = Vec::new();
    let mut depends = Vec::new();
    // Tests, examples and benches call their dev-dependencies too.
    for (key, dep) in tables("dev-dependencies").flat_map(|deps| deps.iter()) {
        let t = dep.as_table();
        depends
            .push(t.and_then(|t| t.get("package")).and_then(|p| p.as_str()).unwrap_or(key).replace('-', "_"));
    }
    let mut requires = Vec::new();
    for (key, dep) in tables("dependencies").flat_map(|deps| deps.iter()) {
        let t = dep.as_table();
        let name = t.and_then(|t| t.get("package")).and_then(|p| p.as_str()).unwrap_or(key).replace('-', "_");
        if let Some(req) = dep.as_str().or_else(|| t?.get("version")?.as_str()) {
            requires.push((name.clone(), req.to_string()));
        }
        let local = t.is_some_and(|t| {
            t.contains_key("path") || t.get("workspace").and_then(|w| w.as_bool()) == Some(true)
        });
        if local {
            uses.push(name.clone());
        }
        depends.push(name);
    }
    for list in [&mut uses, &mut depends] {
        list.sort();
        list.dedup();
    }
    let version = value.get("package")?.get("version").and_then(|v| v.as_str()).map(str::to_string);
    Some(Manifest { name, roots, runtime: Runtime::from_manifest(&value), uses, depends, version, requires })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_use_underscores_and_runtimes_carry_features() {
        let m =
            read("[package]\nname = \"my-crate\"\n[dependencies]\ntokio = { version = \"1\", features = [\"fs\"] }\n")
                .unwrap();
        assert_eq!(m.name, "my_crate");
        assert!(m.roots.is_empty() && m.uses.is_empty());
        let rt = m.runtime.unwrap();
        assert_eq!(rt.kind, RuntimeKind::Tokio);
        assert!(rt.has_feature("fs") && !rt.has_feature("time"));
        assert!(read("[workspace]\nmembers = []\n").is_none());
    }

    #[test]
    fn local_dependencies_are_those_by_path_or_workspace() {
        let m = read(
            "[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\nmy-core = { path = \"../core\" }\n\
             store = { workspace = true }\nnet = { package = \"app-net\", path = \"../net\" }\n\
             [target.'cfg(unix)'.dependencies]\nunix-bits = { path = \"../unix\" }\n\
             [dev-dependencies]\ntestkit = { path = \"../testkit\" }\n",
        )
        .unwrap();
        assert_eq!(m.uses, ["app_net", "my_core", "store", "unix_bits"]);
        assert_eq!(m.depends, ["app_net", "my_core", "serde", "store", "testkit", "unix_bits"]);
    }
}
