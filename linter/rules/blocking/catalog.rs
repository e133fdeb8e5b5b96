//! The blocking-API catalog. The data lives in `catalog.toml` (embedded); this module only
//! loads it into lookup tables. Users extend it with the same schema in their config.

use rustc_hash::FxHashMap as HashMap;

use serde::Deserialize;

pub(crate) use crate::facts::Rank;

use crate::registry::Rule;
use crate::semantic::Knowledge;

const BUILTIN: &str = include_str!("catalog.toml");

/// One blocking API as written in the catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockingEntry {
    #[serde(default)]
    pub paths: Vec<String>,
    /// Shorthand for a single path (the form users write in config).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// Several types with the same methods (a connection, and a client that runs each command
    /// on a connection of its own).
    #[serde(default)]
    pub types: Vec<String>,
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
    /// The crate this entry stands in for when its sources are not on the machine: with the
    /// sources, calls are followed into them instead (and reported with the chain).
    #[serde(default)]
    pub fallback: Option<String>,
    /// The argument that bounds the wait: a constant bound under a millisecond makes the call
    /// a poll, which does not block.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// A method of the same receiver that says the call returns at once: inside
    /// `if x.is_finished() { .. }` a `x.join()` does not wait.
    #[serde(default)]
    pub ready: Option<String>,
    /// The argument holding the address the call may resolve: a literal IP address (or a
    /// `SocketAddr`) means no lookup, and a call that only waits for the lookup returns at once.
    #[serde(default)]
    pub resolves: Option<usize>,
    /// The argument holding the path the call reads: a literal under `/proc/` or `/sys/` (a
    /// kernel pseudo-file, served from memory) does not block on a disk.
    #[serde(default)]
    pub path_arg: Option<usize>,
    /// How bad the call is when reached through sync helpers: the worst one reached is
    /// reported (see `Rank`).
    #[serde(default)]
    pub rank: Rank,
    /// A bridge from sync code into async code (tokio's `blocking_send`): it panics on an
    /// executor thread, so a closure in async code that makes the call is written to run on
    /// another thread (a watcher's callback); only calls outside closures are reported.
    #[serde(default)]
    pub sync_bridge: bool,
    /// The method goes on with what the call that made its receiver started (a `ReadDir`
    /// iterated, the listing `read_dir` opened): called on a value a variable holds, in async
    /// code, that call is the one reported, where it was made.
    #[serde(default)]
    pub continues: bool,
}

/// Which argument bounds a wait, and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Timeout {
    /// Its index among the arguments (of the method, not counting the receiver).
    pub arg: usize,
    pub kind: TimeoutKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TimeoutKind {
    /// A `Duration`.
    Duration,
    /// An integer number of milliseconds.
    Millis,
    /// An `Instant` to wait until: `Instant::now()` is a poll.
    Deadline,
}

fn yes() -> bool {
    true
}

/// When an untyped method call counts as blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum When {
    Any,
    NotAwaited,
    ResultUsed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UntypedEntry {
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
    #[serde(default)]
    pub timeout: Option<Timeout>,
    #[serde(default)]
    pub rank: Rank,
    /// As for `BlockingEntry::sync_bridge`.
    #[serde(default)]
    pub sync_bridge: bool,
    /// The receiver holds the address the call resolves: a literal IP address (or a
    /// `SocketAddr`) means no lookup (`("127.0.0.1", 80).to_socket_addrs()`).
    #[serde(default)]
    pub resolves_receiver: bool,
}

/// A function that does its work through a method of an argument: `std::io::read_to_string(r)`
/// reads `r` like `r.read_to_string(..)`, so it blocks when that method of `r`'s type does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForwardEntry {
    pub path: String,
    /// The argument (its index) and the method the function calls on it.
    pub arg: usize,
    pub method: String,
    /// What to use instead, when not the method's own advice (a format's reader cannot read
    /// asynchronously: read the bytes first).
    #[serde(default)]
    pub instead: Option<String>,
}

/// What a function does through one of its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    pub arg: usize,
    pub method: String,
    pub instead: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogFile {
    #[serde(default)]
    pub blocking: Vec<BlockingEntry>,
    #[serde(default)]
    pub untyped: Vec<UntypedEntry>,
    #[serde(default)]
    pub forwards: Vec<ForwardEntry>,
}

/// What the catalog says about one blocking API.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub rule: Rule,
    pub reason: String,
    pub instead: String,
    pub twin: Option<String>,
    pub transitive: bool,
    pub timeout: Option<Timeout>,
    pub ready: Option<String>,
    pub resolves: Option<usize>,
    pub path_arg: Option<usize>,
    pub rank: Rank,
    pub sync_bridge: bool,
    pub continues: bool,
}

/// The catalog as lookup tables.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    paths: HashMap<String, Api>,
    /// By type, then method: looked up without building keys (every method call asks).
    methods: HashMap<String, HashMap<String, Api>>,
    untyped: HashMap<String, Vec<UntypedEntry>>,
    /// Functions that call a method of an argument, by path: (argument, method).
    forwards: HashMap<String, Vec<Forward>>,
    /// Paths users declared non-blocking.
    allowed: Vec<String>,
    /// Every path and type the catalog names: the model resolves glob imports to them and
    /// knows the types' constructors.
    known: Vec<(String, bool)>,
    /// Types with a method that blocks an executor thread (not only a bridge from sync code,
    /// such as tokio's `blocking_send`).
    blocking_types: Vec<String>,
    /// Entries that stand in for a crate's sources: (crate, path or (type, method)).
    fallbacks: Vec<(String, FallbackKey)>,
    /// The name of every method `methods` lists, of any type: a call by another name never
    /// blocks through a member's declared type.
    method_names: std::collections::HashSet<String>,
}

#[derive(Debug, Clone)]
enum FallbackKey {
    Path(String),
    Method(String, String),
}

impl Catalog {
    pub fn builtin() -> Catalog {
        let file: CatalogFile = toml::from_str(BUILTIN).expect("the built-in catalog parses");
        let mut catalog = Catalog::default();
        catalog.extend(file);
        catalog
    }

    /// Adds entries; later entries override earlier ones with the same path.
    pub(crate) fn extend(&mut self, file: CatalogFile) {
        for entry in file.blocking {
            let api = Api {
                rule: entry.rule,
                reason: entry.reason.clone(),
                instead: entry.instead.clone(),
                twin: entry.twin.clone(),
                transitive: entry.transitive,
                timeout: entry.timeout,
                ready: entry.ready.clone(),
                resolves: entry.resolves,
                path_arg: entry.path_arg,
                rank: entry.rank,
                sync_bridge: entry.sync_bridge,
                continues: entry.continues,
            };
            for ty in entry.ty.iter().chain(&entry.types) {
                self.known.push((ty.clone(), true));
                if !entry.sync_bridge {
                    self.blocking_types.push(ty.clone());
                }
                for m in &entry.methods {
                    self.method_names.insert(m.clone());
                    self.methods.entry(ty.clone()).or_default().insert(m.clone(), api.clone());
                    if let Some(krate) = &entry.fallback {
                        self.fallbacks.push((krate.clone(), FallbackKey::Method(ty.clone(), m.clone())));
                    }
                }
            }
            for p in entry.paths.iter().chain(entry.path.iter()) {
                self.known.push((p.clone(), false));
                self.paths.insert(p.clone(), api.clone());
                if let Some(krate) = &entry.fallback {
                    self.fallbacks.push((krate.clone(), FallbackKey::Path(p.clone())));
                }
            }
        }
        for entry in file.untyped {
            self.untyped.entry(entry.name.clone()).or_default().push(entry);
        }
        for entry in file.forwards {
            self.known.push((entry.path.clone(), false));
            let forward = Forward { arg: entry.arg, method: entry.method, instead: entry.instead };
            self.forwards.entry(entry.path).or_default().push(forward);
        }
    }

    /// Tells the model every path and type this catalog names.
    pub(crate) fn teach(&self, knowledge: &mut Knowledge) {
        for (path, typed) in &self.known {
            knowledge.note_api(path, *typed);
        }
        for ty in &self.blocking_types {
            knowledge.note_blocking_type(ty);
        }
    }

    /// Drops the entries that stand in for crates whose sources are `present`: calls into
    /// those are followed instead. (Not a prompt's: its sources open and read a terminal, and
    /// only the entry says that this waits for a person. Nor a metadata operation's or a
    /// file creation's: its sources retry on a name clash or recurse up the parents, which a
    /// walk counts as repetition, and only the entry says that this is one entry made.)
    pub(crate) fn drop_fallbacks(&mut self, present: &std::collections::HashSet<String>) {
        let stands = |api: &Api| !matches!(api.rank, Rank::Io);
        for (krate, key) in &self.fallbacks {
            if !present.contains(krate) {
                continue;
            }
            match key {
                FallbackKey::Path(p) => {
                    if !self.paths.get(p).is_some_and(stands) {
                        self.paths.remove(p);
                    }
                }
                FallbackKey::Method(t, m) => {
                    if let Some(of_type) = self.methods.get_mut(t) {
                        if !of_type.get(m).is_some_and(stands) {
                            of_type.remove(m);
                        }
                    }
                }
            }
        }
    }

    /// Declares APIs non-blocking (config `allow`): a path or a `Type::method`.
    pub(crate) fn allow(&mut self, paths: impl IntoIterator<Item = String>) {
        self.allowed.extend(paths);
    }

    fn is_allowed(&self, key: &str) -> bool {
        self.allowed.iter().any(|a| a == key)
    }

    /// `is_allowed` for `Type::method`, without building the key when nothing is allowed.
    fn method_allowed(&self, ty: &str, method: &str) -> bool {
        !self.allowed.is_empty() && self.is_allowed(&format!("{ty}::{method}"))
    }

    /// A blocking function or associated function, by its resolved path.
    pub(crate) fn function(&self, path: &str) -> Option<&Api> {
        if self.is_allowed(path) {
            return None;
        }
        self.paths.get(path)
    }

    /// A blocking method of a known type.
    pub(crate) fn method(&self, ty: &str, method: &str) -> Option<&Api> {
        if self.method_allowed(ty, method) {
            return None;
        }
        self.methods.get(ty)?.get(method)
    }

    /// What a function does through its arguments: the argument and the method called on it.
    pub(crate) fn forwards(&self, path: &str) -> &[Forward] {
        if self.is_allowed(path) {
            return &[];
        }
        self.forwards.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Does some type of the catalog have a blocking method of this name?
    pub(crate) fn has_method_named(&self, name: &str) -> bool {
        self.method_names.contains(name)
    }

    /// The blocking methods of a type, by name.
    pub(crate) fn methods_of<'c>(&'c self, ty: &'c str) -> impl Iterator<Item = (&'c str, &'c Api)> + 'c {
        self.methods
            .get(ty)
            .into_iter()
            .flatten()
            .filter(move |(m, _)| !self.method_allowed(ty, m))
            .map(|(m, api)| (m.as_str(), api))
    }

    pub(crate) fn untyped(&self, method: &str) -> &[UntypedEntry] {
        if self.is_allowed(method) {
            return &[];
        }
        self.untyped.get(method).map(Vec::as_slice).unwrap_or(&[])
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
        let mut k = Knowledge::default();
        c.teach(&mut k);
        assert!(k.has_member("std::fs", "File"));
        assert!(k.has_member("std::thread", "sleep"));
        assert!(k.has_methods("std::fs::File") && !k.has_methods("std::fs::read"));
    }

    #[test]
    fn an_entry_of_several_types_gives_each_its_methods() {
        let c = Catalog::builtin();
        for ty in ["redis::Connection", "redis::Client"] {
            assert_eq!(c.method(ty, "get").unwrap().rule, Rule::BlockingDb, "{ty}");
            assert_eq!(c.method(ty, "blpop").unwrap().rank, Rank::Wait, "{ty}");
        }
        assert!(c.method("redis::Client", "get_multiplexed_async_connection").is_none());
    }

    /// `try_*` variants return at once: none is listed, except `Path::try_exists`, which
    /// queries the disk like `exists` (its "try" is about the `Result`). Every timed wait says
    /// which argument bounds it, so that a zero bound (a poll) is not reported.
    #[test]
    fn try_variants_are_not_listed_and_timed_waits_name_their_bound() {
        let c = Catalog::builtin();
        let names = c.paths.keys().map(|p| p.rsplit("::").next().unwrap().to_string());
        let names: Vec<String> = names.chain(c.methods.values().flat_map(|m| m.keys().cloned())).collect();
        for n in names.iter().chain(c.untyped.keys()) {
            assert!(!n.starts_with("try_") || n == "try_exists", "{n} does not block");
        }
        let timed = |n: &str| n.contains("timeout") || n.contains("deadline");
        for (path, api) in &c.paths {
            assert!(!timed(path) || api.timeout.is_some(), "{path} needs a `timeout`");
        }
        for (ty, methods) in &c.methods {
            for (m, api) in methods {
                assert!(!timed(m) || api.timeout.is_some(), "{ty}::{m} needs a `timeout`");
            }
        }
        for (name, entries) in &c.untyped {
            assert!(!timed(name) || entries.iter().all(|e| e.timeout.is_some()), "{name}");
        }
    }

    #[test]
    fn allow_list_silences_an_api() {
        let mut c = Catalog::builtin();
        c.allow(["std::fs::read".to_string()]);
        assert!(c.function("std::fs::read").is_none());
    }
}
