//! What the model knows about APIs it cannot see (`knowledge.toml`, embedded): how values flow
//! between types, which calls run a closure off the executor, which paths are spellings of
//! the same item, and which names exist in external modules (for glob imports). The rules'
//! catalogs add the paths they know with `note_api`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Deserialize;

use crate::qualified::Qualified;

const BUILTIN: &str = include_str!("knowledge.toml");

/// How a method of a wrapper type hands out what it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Unwrap {
    /// The method returns the inner value itself.
    Direct,
    /// It returns a `Result` of it (looked through by `?`, `unwrap`, ..).
    Result,
    /// It returns a future of it.
    Await,
    /// A map's: the value stored (its second type argument), not the key.
    Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TypeEntry {
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
    /// What iterating a value of the type yields (`for x in v`): `"inner"` (its first type
    /// argument), `"pair"` (a tuple of its two type arguments, for maps), or a type path.
    #[serde(default)]
    pub item: Option<String>,
}

impl TypeEntry {
    /// Is the type a lock (or a cell) handing out what it holds (`Mutex`, `RwLock`,
    /// `RefCell`)?
    pub(crate) fn is_lock(&self) -> bool {
        self.wraps.keys().any(|m| matches!(m.as_str(), "lock" | "read" | "write" | "borrow"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OffloadEntry {
    pub names: Vec<String>,
    /// When set, a call resolved to another path is not an offload (a bare name still is
    /// when it resolves nowhere known, like a method call).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Whether a method call with this name and a closure argument counts.
    #[serde(default)]
    pub closure_methods: bool,
}

/// Calls whose arguments run on the executor while other tasks share it, or only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RunsKind {
    /// A spawned task (`tokio::spawn(fut)`, `join_set.spawn(async { .. })`).
    Spawn,
    /// A request handler registered with a router (`get(|req| async { .. })`).
    Handler,
    /// A cell's initialiser (`CELL.get_or_try_init(|| async { .. })`): runs once per process.
    Once,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsEntry {
    kind: RunsKind,
    #[allow(dead_code)] // the data's documentation
    why: String,
    names: Vec<String>,
    /// Prefixes of names that run their arguments the same way (a crate's own helpers).
    #[serde(default)]
    prefixes: Vec<String>,
}

/// A list of names with the reason it exists.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    #[allow(dead_code)] // the data's documentation
    why: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    macros: Vec<String>,
}

/// Methods whose closure argument is handed an item of the receiver.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClosureItems {
    #[allow(dead_code)] // the data's documentation
    why: String,
    /// The closure gets an element of the collection or iterator (`v.iter().map(|x| ..)`).
    elements: Vec<String>,
    /// The closure gets what an `Option`/`Result` holds (`opt.and_then(|p| ..)`); the model
    /// looks through those, so a receiver of type `T` hands the closure a `T`.
    wrapped: Vec<String>,
    /// Other methods that call their function argument where they are called
    /// (`unwrap_or_else`, `get_or_init`).
    calls: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeFile {
    #[serde(default, rename = "type")]
    types: Vec<TypeEntry>,
    #[serde(default)]
    offload: Vec<OffloadEntry>,
    #[serde(default)]
    aliases: HashMap<String, String>,
    #[serde(default)]
    runs: Vec<RunsEntry>,
    #[serde(default)]
    event: Names,
    #[serde(default)]
    event_drains: Names,
    #[serde(default)]
    event_wrappers: Names,
    #[serde(default)]
    signal_tasks: Names,
    #[serde(default)]
    handler_attributes: Names,
    #[serde(default)]
    closure_items: ClosureItems,
    #[serde(default)]
    dependencies: Opaque,
    #[serde(default)]
    constructors: Constructors,
    #[serde(default)]
    listeners: Listeners,
    #[serde(default)]
    memo: Memo,
}

/// How code remembers what it computed (see `[memo]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Memo {
    #[allow(dead_code)] // the data's documentation
    why: String,
    /// Words of a cache's name (`cache` in `self.cache`, `cached_page`, `ICON_CACHE`).
    words: Vec<String>,
    /// Methods that store into one (`insert`, `put`).
    stores: Vec<String>,
    /// First or last words of fns that store (`cache_page`, `add_to_cache`).
    store_fns: Vec<String>,
}

/// How a server binds its listener (see `[listeners]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Listeners {
    #[allow(dead_code)] // the data's documentation
    why: String,
    /// Ends of type names (`TcpListener`, `UnixListener`, hyper's `Server`).
    types: Vec<String>,
    /// Starts of method names (`bind`, `bind_with_graceful_shutdown`).
    methods: Vec<String>,
}

/// Associated fns that build a long-lived value (see `[constructors]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Constructors {
    #[allow(dead_code)] // the data's documentation
    why: String,
    names: Vec<String>,
    prefixes: Vec<String>,
    /// Ends of type names (`Client` matches `HttpClient` and `Client`).
    owners: Vec<String>,
}

/// Dependencies whose code is not followed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Opaque {
    #[allow(dead_code)] // the data's documentation
    why: String,
    opaque: Vec<String>,
}

/// The knowledge as lookup tables.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    types: HashMap<String, TypeEntry>,
    offload_names: HashMap<String, OffloadEntry>,
    aliases: rustc_hash::FxHashMap<String, String>,
    /// Last segments of every known path, mapped to their parents (for glob imports).
    members: HashMap<String, Vec<String>>,
    /// The crates of the paths it knows (`reqwest` of `reqwest::blocking::get`).
    crates: HashSet<String>,
    /// Types whose methods a rule's catalog knows: a constructor call returns the type.
    typed: HashSet<String>,
    /// Those of them with a method that blocks an executor thread (not only a sync bridge).
    blocking_types: HashSet<String>,
    /// The last segments of `blocking_types` (`Pool` of `r2d2::Pool`): what a type alias
    /// another file reads must mention, as the byte scan sees it.
    blocking_type_names: HashSet<String>,
    /// The last segments of types that deref to what they wrap (`Arc`, `State`, `Data`): an
    /// alias another file reads through one (`type Shared = Arc<AppState>`) types values of
    /// the crates' own type, whose methods may block.
    wrapper_names: HashSet<String>,
    /// The steps of request and command builders (`header`, `arg`): methods their entries
    /// say hand back the value itself (`chain`), less any name another type's method hands
    /// out something else by (`get`, `read`).
    builder_steps: HashSet<String>,
    runs: HashMap<String, RunsKind>,
    runs_prefixes: Vec<(String, RunsKind)>,
    event_waits: HashSet<String>,
    event_macros: HashSet<String>,
    event_drains: HashSet<String>,
    event_wrappers: HashSet<String>,
    signal_words: Vec<String>,
    handler_attributes: HashSet<String>,
    opaque: HashSet<String>,
    closure_elements: HashSet<String>,
    closure_wrapped: HashSet<String>,
    calls_argument: HashSet<String>,
    constructors: Constructors,
    listeners: Listeners,
    memo: Memo,
}

impl Knowledge {
    pub fn builtin() -> Knowledge {
        let file: KnowledgeFile = toml::from_str(BUILTIN).expect("the built-in knowledge parses");
        let mut k = Knowledge {
            aliases: file.aliases.into_iter().collect(),
            event_waits: file.event.names.into_iter().collect(),
            event_macros: file.event.macros.into_iter().collect(),
            event_drains: file.event_drains.names.into_iter().collect(),
            event_wrappers: file.event_wrappers.names.into_iter().collect(),
            signal_words: file.signal_tasks.names,
            handler_attributes: file.handler_attributes.names.into_iter().collect(),
            opaque: file.dependencies.opaque.into_iter().collect(),
            calls_argument: (file.closure_items.elements.iter())
                .chain(&file.closure_items.wrapped)
                .chain(&file.closure_items.calls)
                .cloned()
                .collect(),
            closure_elements: file.closure_items.elements.into_iter().collect(),
            closure_wrapped: file.closure_items.wrapped.into_iter().collect(),
            constructors: file.constructors,
            listeners: file.listeners,
            memo: file.memo,
            ..Knowledge::default()
        };
        for entry in file.runs {
            for n in entry.names {
                k.runs.insert(n, entry.kind);
            }
            k.runs_prefixes.extend(entry.prefixes.into_iter().map(|p| (p, entry.kind)));
        }
        let converts: HashSet<&String> =
            file.types.iter().flat_map(|t| t.returns.keys().chain(t.wraps.keys())).collect();
        let builder = |path: &str| {
            let name = path.last_segment();
            name.ends_with("Request") || name.ends_with("RequestBuilder") || path == "std::process::Command"
        };
        let steps = file.types.iter().filter(|t| builder(&t.path)).flat_map(|t| &t.chain);
        k.builder_steps = steps.filter(|m| !converts.contains(m)).cloned().collect();
        for entry in file.types {
            if entry.deref.as_deref() == Some("inner") {
                k.wrapper_names.insert(entry.path.last_segment().to_string());
            }
            k.note_member(&entry.path);
            k.types.insert(entry.path.clone(), entry);
        }
        for entry in file.offload {
            for n in &entry.names {
                k.offload_names.insert(n.clone(), entry.clone());
            }
        }
        k
    }

    /// Declares a path a catalog knows (`std::fs::read`), and when `has_methods`, that the
    /// path is a type with known methods.
    pub(crate) fn note_api(&mut self, path: &str, has_methods: bool) {
        self.note_member(path);
        if has_methods {
            self.typed.insert(path.to_string());
        }
    }

    /// Adds functions whose closure argument runs off the executor (config `offload`).
    pub(crate) fn add_offload(&mut self, paths: &[String]) {
        for p in paths {
            let name = p.last_segment().to_string();
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
        if let Some((parent, last)) = path.split_last_sep() {
            let parents = self.members.entry(last.to_string()).or_default();
            if !parents.iter().any(|p| p == parent) {
                parents.push(parent.to_string());
            }
            // `std::fs::File::open`: `File` is a member of `std::fs` too.
            self.note_member(parent);
        } else {
            self.crates.insert(path.to_string());
        }
    }

    /// Is `name` a crate whose paths the knowledge or a catalog knows (or the standard
    /// library's)?
    pub(crate) fn knows_crate(&self, name: &str) -> bool {
        matches!(name, "std" | "core" | "alloc") || self.crates.contains(name)
    }

    /// Rewrites a resolved path to its canonical spelling (`core::` -> `std::`).
    pub(crate) fn normalize(&self, path: String) -> String {
        let mut end = path.len();
        loop {
            let prefix = &path[..end];
            if let Some(to) = self.aliases.get(prefix) {
                return format!("{to}{}", &path[end..]);
            }
            match prefix.rfind_sep() {
                Some(i) => end = i,
                None => return path,
            }
        }
    }

    pub(crate) fn note_blocking_type(&mut self, ty: &str) {
        self.blocking_types.insert(ty.to_string());
        self.blocking_type_names.insert(ty.last_segment().to_string());
    }

    /// May a type written with this name (its last segment) have methods that block?
    pub(crate) fn may_name_blocking_type(&self, name: &str) -> bool {
        self.blocking_type_names.contains(name)
    }

    /// Is a type written with this name (its last segment) a wrapper that derefs to what it
    /// wraps?
    pub(crate) fn may_name_wrapper(&self, name: &str) -> bool {
        self.wrapper_names.contains(name)
    }

    /// Does a catalog list a method of this type that blocks an executor thread?
    pub(crate) fn has_blocking_methods(&self, ty: &str) -> bool {
        self.blocking_types.contains(ty)
    }

    /// Does a catalog know methods of this type?
    pub(crate) fn has_methods(&self, ty: &str) -> bool {
        self.typed.contains(ty)
    }

    /// Is `method` a step of a request or command builder the knowledge knows (`header`)?
    pub(crate) fn is_builder_step(&self, method: &str) -> bool {
        self.builder_steps.contains(method)
    }

    pub(crate) fn type_entry(&self, path: &str) -> Option<&TypeEntry> {
        self.types.get(path)
    }

    /// Is `module::name` something the knowledge or a catalog knows (for glob imports)?
    pub(crate) fn has_member(&self, module: &str, name: &str) -> bool {
        self.members.get(name).is_some_and(|parents| parents.iter().any(|p| p == module))
    }

    /// Do the arguments of a call named `name` run as a spawned task or a request handler?
    pub(crate) fn runs(&self, name: &str) -> Option<RunsKind> {
        // (Never an offloader's name that the offload list missed: `spawn_blocking` of an
        // unresolved path must not make its closure look like async code.)
        self.runs.get(name).copied().or_else(|| {
            let prefixed = self.runs_prefixes.iter().find(|(p, _)| name.starts_with(p.as_str()));
            prefixed.filter(|_| !name.contains("blocking")).map(|(_, kind)| *kind)
        })
    }

    /// Is an awaited call or macro of this name something an event loop waits for?
    pub(crate) fn is_event_wait(&self, name: &str) -> bool {
        self.event_waits.contains(name)
    }

    /// An event wait that collects the results of the code's own tasks (`join_next`).
    pub(crate) fn is_event_drain(&self, name: &str) -> bool {
        self.event_drains.contains(name)
    }

    pub(crate) fn is_event_macro(&self, name: &str) -> bool {
        self.event_macros.contains(name)
    }

    /// Does a spawned task's code (as tokens) wait for a process signal (`ctrl_c()`)?
    pub(crate) fn waits_for_signal(&self, code: &str) -> bool {
        self.signal_words.iter().any(|w| code.contains(w.as_str()))
    }

    /// Does an awaited call of this name wait for the future it is handed (`timeout(d, f)`)?
    pub(crate) fn is_event_wrapper(&self, name: &str) -> bool {
        self.event_wrappers.contains(name)
    }

    /// Is a dependency of this crate name left unfollowed (its sync API does not block, or
    /// the catalog lists what does)?
    pub(crate) fn is_opaque(&self, crate_name: &str) -> bool {
        self.opaque.contains(crate_name)
    }

    /// Does a method of this name hand its closure an element of the receiver (`map`), or
    /// (`wrapped`) what an `Option`/`Result` receiver holds (`and_then`)?
    pub(crate) fn closure_item(&self, method: &str) -> (bool, bool) {
        (self.closure_elements.contains(method), self.closure_wrapped.contains(method))
    }

    /// Does a method of this name call its function argument where it is called (an
    /// iterator adaptor, an `Option`/`Result` combinator, `get_or_init`)?
    pub(crate) fn calls_argument(&self, method: &str) -> bool {
        self.calls_argument.contains(method)
    }

    /// Does `owner::name` build a value programs build once, when they set up
    /// (`Client::try_default`, `ClientBuilder::build`)?
    pub(crate) fn is_constructor(&self, owner: &str, name: &str) -> bool {
        let c = &self.constructors;
        (c.names.iter().any(|n| n == name) || c.prefixes.iter().any(|p| name.starts_with(p.as_str())))
            && c.owners.iter().any(|o| owner.ends_with(o.as_str()))
    }

    /// Does `ty::method(..)` bind a server's listener (`TcpListener::bind`)?
    pub(crate) fn binds_listener(&self, ty: &str, method: &str) -> bool {
        let l = &self.listeners;
        l.types.iter().any(|t| ty.ends_with(t.as_str()))
            && l.methods.iter().any(|m| method.starts_with(m.as_str()))
    }

    /// Does this name name a cache (`cache`, `cached_page`, `ICON_CACHE`, `memo`)?
    pub(crate) fn names_cache(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        name.split('_').any(|w| self.memo.words.iter().any(|m| m == w))
    }

    /// Does a method of this name store into a cache (`insert`, `put`)?
    pub(crate) fn stores_in_cache(&self, method: &str) -> bool {
        self.memo.stores.iter().any(|m| m == method)
    }

    /// Is a fn of this name one that stores into a cache (`cache_page`, `add_to_cache`)?
    pub(crate) fn is_cache_store_fn(&self, name: &str) -> bool {
        let ends = [name.split('_').next(), name.rsplit('_').next()];
        ends.into_iter().flatten().any(|w| self.memo.store_fns.iter().any(|f| f == w))
    }

    /// Does an attribute of this name (`#[get("/")]`) make a fn a request handler?
    pub(crate) fn is_handler_attribute(&self, name: &str) -> bool {
        self.handler_attributes.contains(name)
    }

    /// Does a call named `name` (resolved to `path` when known) run its closure off the
    /// executor?
    pub(crate) fn is_offload(&self, name: &str, path: Option<&str>, is_method: bool) -> bool {
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
    fn builtin_knowledge_loads_and_answers() {
        let mut k = Knowledge::builtin();
        k.note_api("std::thread::sleep", false);
        assert!(k.has_member("std::fs", "OpenOptions"));
        assert!(k.has_member("std::thread", "sleep"));
        assert!(k.is_offload("spawn_blocking", None, false));
        assert!(k.is_offload("spawn", Some("std::thread::spawn"), false));
        assert!(!k.is_offload("spawn", Some("tokio::spawn"), false));
        assert_eq!(k.normalize("core::time::Duration".into()), "std::time::Duration");
        assert_eq!(k.normalize("crossbeam::channel::Receiver".into()), "crossbeam_channel::Receiver");
        assert_eq!(k.normalize("corex::a".into()), "corex::a");
    }
}
