//! The blocking-API catalog. The data lives in `blocking.toml` (embedded); this module only
//! loads it into lookup tables. Users extend it with the same schema in their config.

use std::collections::HashMap;

use serde::Deserialize;

use crate::rules::Rule;

const BUILTIN: &str = include_str!("blocking.toml");

/// One blocking API as written in the catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingEntry {
    #[serde(default)]
    pub paths: Vec<String>,
    /// Shorthand for a single path (the form users write in config).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    pub rule: Rule,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub instead: String,
    #[serde(default)]
    pub twin: Option<String>,
    /// `false` for calls that are brief enough to report only when written in async code,
    /// not when reached through a sync helper (binding a socket to an address).
    #[serde(default = "yes")]
    pub transitive: bool,
}

fn yes() -> bool {
    true
}

/// When an untyped method call counts as blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    Any,
    NotAwaited,
    ResultUsed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UntypedEntry {
    pub name: String,
    #[serde(default)]
    pub args: Option<usize>,
    pub when: When,
    /// When set, the call blocks only if one of its arguments has one of these types
    /// (`query.load(&mut conn)` with a sync diesel connection).
    #[serde(default)]
    pub arg_types: Vec<String>,
    pub rule: Rule,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub instead: String,
}

/// How a method of a wrapper type hands out what it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unwrap {
    /// The method returns the inner value itself.
    Direct,
    /// It returns a `Result` of it (looked through by `?`, `unwrap`, ..).
    Result,
    /// It returns a future of it.
    Await,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeEntry {
    pub path: String,
    #[serde(default)]
    pub chain: Vec<String>,
    #[serde(default)]
    pub returns: HashMap<String, String>,
    #[serde(default)]
    pub wraps: HashMap<String, Unwrap>,
    /// `"inner"` for smart pointers, or a type path the value derefs to.
    #[serde(default)]
    pub deref: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffloadEntry {
    pub names: Vec<String>,
    /// When set, a call resolved to another path is not an offload (a bare name still is
    /// when it resolves nowhere known, like a method call).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Whether a method call with this name and a closure argument counts.
    #[serde(default)]
    pub closure_methods: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default)]
    pub blocking: Vec<BlockingEntry>,
    #[serde(default)]
    pub untyped: Vec<UntypedEntry>,
    #[serde(default, rename = "type")]
    pub types: Vec<TypeEntry>,
    #[serde(default)]
    pub offload: Vec<OffloadEntry>,
    #[serde(default)]
    pub aliases: HashMap<String, String>,
}

/// What the catalog says about one blocking API.
#[derive(Debug, Clone)]
pub struct Api {
    pub rule: Rule,
    pub reason: String,
    pub instead: String,
    pub twin: Option<String>,
    pub transitive: bool,
}

/// The catalog as lookup tables.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    paths: HashMap<String, Api>,
    methods: HashMap<(String, String), Api>,
    untyped: HashMap<String, Vec<UntypedEntry>>,
    types: HashMap<String, TypeEntry>,
    offload_names: HashMap<String, OffloadEntry>,
    /// Last segments of every catalog path, for resolving glob imports.
    members: HashMap<String, Vec<String>>,
    /// Paths users declared non-blocking.
    allowed: Vec<String>,
    aliases: HashMap<String, String>,
    /// Types with blocking methods.
    typed: std::collections::HashSet<String>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        let file: CatalogFile = toml::from_str(BUILTIN).expect("the built-in catalog parses");
        let mut catalog = Catalog::default();
        catalog.extend(file);
        catalog
    }

    /// Adds entries; later entries override earlier ones with the same path.
    pub fn extend(&mut self, file: CatalogFile) {
        for entry in file.blocking {
            let api = Api {
                rule: entry.rule,
                reason: entry.reason.clone(),
                instead: entry.instead.clone(),
                twin: entry.twin.clone(),
                transitive: entry.transitive,
            };
            if let Some(ty) = &entry.ty {
                self.note_member(ty);
                self.typed.insert(ty.clone());
                for m in &entry.methods {
                    self.methods.insert((ty.clone(), m.clone()), api.clone());
                }
            }
            for p in entry.paths.iter().chain(entry.path.iter()) {
                self.note_member(p);
                self.paths.insert(p.clone(), api.clone());
            }
        }
        for entry in file.untyped {
            self.untyped.entry(entry.name.clone()).or_default().push(entry);
        }
        for entry in file.types {
            self.note_member(&entry.path);
            self.types.insert(entry.path.clone(), entry);
        }
        self.aliases.extend(file.aliases);
        for entry in file.offload {
            for n in &entry.names {
                self.offload_names.insert(n.clone(), entry.clone());
            }
        }
    }

    /// Declares APIs non-blocking (config `allow`): a path or a `Type::method`.
    pub fn allow(&mut self, paths: impl IntoIterator<Item = String>) {
        self.allowed.extend(paths);
    }

    /// Adds functions whose closure argument runs off the executor.
    pub fn add_offload(&mut self, paths: &[String]) {
        for p in paths {
            let name = p.rsplit("::").next().unwrap_or(p).to_string();
            let entry = self.offload_names.entry(name.clone()).or_insert(OffloadEntry {
                names: vec![name],
                paths: vec![],
                closure_methods: true,
            });
            if !entry.paths.is_empty() {
                entry.paths.push(p.clone());
            }
        }
    }

    fn note_member(&mut self, path: &str) {
        if let Some((parent, last)) = path.rsplit_once("::") {
            self.members.entry(last.to_string()).or_default().push(parent.to_string());
            // `std::fs::File::open`: `File` is a member of `std::fs` too.
            self.note_member(parent);
        }
    }

    /// Rewrites a resolved path to the spelling the catalog uses (`core::` -> `std::`).
    pub fn normalize(&self, path: String) -> String {
        let mut end = path.len();
        loop {
            let prefix = &path[..end];
            if let Some(to) = self.aliases.get(prefix) {
                return format!("{to}{}", &path[end..]);
            }
            match prefix.rfind("::") {
                Some(i) => end = i,
                None => return path,
            }
        }
    }

    fn is_allowed(&self, key: &str) -> bool {
        self.allowed.iter().any(|a| a == key)
    }

    /// A blocking function or associated function, by its resolved path.
    pub fn function(&self, path: &str) -> Option<&Api> {
        if self.is_allowed(path) {
            return None;
        }
        self.paths.get(path)
    }

    /// A blocking method of a known type.
    pub fn method(&self, ty: &str, method: &str) -> Option<&Api> {
        if self.is_allowed(&format!("{ty}::{method}")) {
            return None;
        }
        self.methods.get(&(ty.to_string(), method.to_string()))
    }

    /// Does the catalog know blocking methods of this type?
    pub fn has_methods(&self, ty: &str) -> bool {
        self.typed.contains(ty)
    }

    pub fn untyped(&self, method: &str) -> &[UntypedEntry] {
        if self.is_allowed(method) {
            return &[];
        }
        self.untyped.get(method).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn type_entry(&self, path: &str) -> Option<&TypeEntry> {
        self.types.get(path)
    }

    /// Is `module::name` something the catalog knows (for glob imports)?
    pub fn has_member(&self, module: &str, name: &str) -> bool {
        self.members.get(name).is_some_and(|parents| parents.iter().any(|p| p == module))
    }

    /// Does a call named `name` (resolved to `path` when known) run its closure off the
    /// executor?
    pub fn is_offload(&self, name: &str, path: Option<&str>, is_method: bool) -> bool {
        let Some(entry) = self.offload_names.get(name) else {
            return false;
        };
        if entry.paths.is_empty() {
            return true;
        }
        match path {
            Some(p) => entry.paths.iter().any(|q| q == p),
            None => is_method && entry.closure_methods,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_answers() {
        let c = Catalog::builtin();
        assert_eq!(c.function("std::fs::read").unwrap().rule, Rule::BlockingFs);
        assert!(c.function("tokio::fs::read").is_none());
        assert_eq!(c.method("std::process::Command", "output").unwrap().rule, Rule::BlockingProcess);
        assert!(c.has_member("std::fs", "File"));
        assert!(c.has_member("std::thread", "sleep"));
        assert!(c.is_offload("spawn_blocking", None, false));
        assert!(c.is_offload("spawn", Some("std::thread::spawn"), false));
        assert!(!c.is_offload("spawn", Some("tokio::spawn"), false));
        assert_eq!(c.normalize("core::time::Duration".into()), "std::time::Duration");
        assert_eq!(c.normalize("crossbeam::channel::Receiver".into()), "crossbeam_channel::Receiver");
        assert_eq!(c.normalize("corex::a".into()), "corex::a");
    }

    #[test]
    fn allow_list_silences_an_api() {
        let mut c = Catalog::builtin();
        c.allow(["std::fs::read".to_string()]);
        assert!(c.function("std::fs::read").is_none());
    }
}
