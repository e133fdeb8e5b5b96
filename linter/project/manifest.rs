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

/// The package name (as Rust code spells it, `-` -> `_`), the explicit `[lib]` / `[[bin]]`
/// roots and the runtime of a manifest; `None` for a manifest without `[package]`.
pub(crate) fn read(manifest: &str) -> Option<(String, Vec<Root>, Option<Runtime>)> {
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
    Some((name, roots, Runtime::from_manifest(&value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_use_underscores_and_runtimes_carry_features() {
        let (name, roots, rt) =
            read("[package]\nname = \"my-crate\"\n[dependencies]\ntokio = { version = \"1\", features = [\"fs\"] }\n")
                .unwrap();
        assert_eq!(name, "my_crate");
        assert!(roots.is_empty());
        let rt = rt.unwrap();
        assert_eq!(rt.kind, RuntimeKind::Tokio);
        assert!(rt.has_feature("fs") && !rt.has_feature("time"));
        assert!(read("[workspace]\nmembers = []\n").is_none());
    }
}
