//! The project: which files to check (a gitignore-aware walk), the package, target and module
//! each belongs to (manifests, module trees), and the configuration. Everything here reads the
//! file system; nothing here knows about rules.

pub(crate) mod cfg;
pub(crate) mod config;
pub(crate) mod deps;
pub(crate) mod discover;
pub(crate) mod manifest;
pub(crate) mod modtree;

use std::path::PathBuf;

pub use manifest::{Runtime, RuntimeKind};

/// A file to check.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The path as shown to users: as given on the command line, joined with the rest.
    pub display: String,
    pub place: Place,
}

/// Where a file sits in its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The package name as Rust code spells it (`my_crate`), when the file is in a package.
    pub package: Option<String>,
    /// The compilation target the file belongs to, unique in the run: the package name for
    /// its library, `pkg@examples/demo` for an example, test, bench or binary.
    pub target: String,
    /// The file's module path in that target (`crate::net::http`).
    pub module: String,
    /// In the package's `tests/` or `benches/`.
    pub is_test: bool,
    /// A crate root (`src/lib.rs`, `src/main.rs`, a test, example or binary, or a path the
    /// manifest names): where the module tree starts.
    pub is_root: bool,
    /// The async runtime the package depends on (for fixes).
    pub runtime: Option<Runtime>,
    /// The features cargo resolved for the package (`None`: not known), for `#[cfg(feature)]`.
    pub features: Option<std::collections::BTreeSet<String>>,
    /// The package has a build script, which may set custom `cfg`s.
    pub build_script: bool,
    /// The packages it depends on by path or through its workspace (a program's own
    /// libraries, when they are checked with it).
    pub uses: std::sync::Arc<[String]>,
    /// Every package it depends on (registry ones too): which packages' functions it can call.
    pub depends: std::sync::Arc<[String]>,
    /// Dependencies that are a second package of their name in the run (`tungstenite#2`, a
    /// `cargo vendor` directory holding two versions): (name, the package its version
    /// requirement means), so that calls link to that version.
    pub renames: std::sync::Arc<[(String, String)]>,
    /// A crate root reaches it through `mod` declarations (set once the module tree is known):
    /// a file no target declares is not part of any program.
    pub in_tree: bool,
}

impl Place {
    /// Can the file's code call functions of `package` (`name#2` for a second package of a
    /// name): its own, or one it depends on?
    pub(crate) fn may_call(&self, package: &str) -> bool {
        let base = package.split('#').next().unwrap_or(package);
        self.package.as_deref() == Some(package) || self.depends.iter().any(|d| d == base)
    }
}

impl Default for Place {
    /// A file outside any package: a crate of its own.
    fn default() -> Self {
        Place {
            package: None,
            target: "crate".into(),
            module: "crate".into(),
            is_test: false,
            is_root: true,
            runtime: None,
            features: None,
            build_script: false,
            uses: std::sync::Arc::from([]),
            depends: std::sync::Arc::from([]),
            renames: std::sync::Arc::from([]),
            in_tree: false,
        }
    }
}
