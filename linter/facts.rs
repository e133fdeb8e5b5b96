//! `FileFacts`: what one file's analysis hands to the cross-file stage, and the only thing that
//! crosses. Plain, serialisable data (the cache stores it): no syntax trees.
//!
//! Functions are named across files by their call-graph key: the canonical path the resolver
//! gives them (`crate::store::Store::open`), made unique per target when the graph is joined
//! (`my_crate::store::Store::open`, `my_crate@bin::cli::run`).

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::qualified::Qualified;
use crate::registry::Rule;
use crate::semantic::{Guard, Hot, Lit};
use crate::source::Span;

/// Everything a file contributes to the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FileFacts {
    /// Findings that stand on their own.
    pub findings: Vec<Finding>,
    /// Code of the file serves: requests, events or tasks beside its main path (see
    /// `Model::serves`).
    #[serde(default)]
    pub serves: bool,
    /// Sync functions of the checked crates that block or call into them.
    pub functions: Vec<FnSummary>,
    /// Calls from async code to functions of the checked crates.
    pub async_calls: Vec<CallSite>,
    /// Findings inside closures handed from async code to a function of the crates (by key):
    /// reported unless that function is an offload wrapper.
    pub deferred: Vec<(Vec<String>, Finding)>,
    /// Keys of functions that hand a parameter to `spawn_blocking` and the like.
    pub offload_wrappers: Vec<String>,
    /// Keys of functions that only keep the closures handed to them, to be called later
    /// (`Provider::new(move || ..)`): a closure handed to one does not run there.
    #[serde(default)]
    pub closure_keepers: Vec<String>,
    /// (fn, fn of the crates) pairs: the first hands a closure parameter to the second, so it
    /// is an offload wrapper if the second is (`asyncify(move || f(rx))`).
    #[serde(default)]
    pub offload_wrappers_via: Vec<(String, String)>,
    /// `use` items of the file's modules: (path of the name it makes, path it names).
    pub aliases: Vec<(String, String)>,
    /// The members among `aliases` (`crate::AppState::<feeds>`) whose type is a client (its
    /// name says so: `FeedClient`, `Mailer`): calls on them make requests.
    #[serde(default)]
    pub client_members: Vec<String>,
    /// The other fields of its structs, hashed by type and field name (`member_hash`): a
    /// client member of the same name elsewhere is ambiguous.
    #[serde(default)]
    pub other_members: Vec<u64>,
    /// The file's non-generic type aliases of other crates' types (`pub type DbPool =
    /// r2d2::Pool<..>`): (alias path, the type in the catalog's notation). Other files of the
    /// run that import one are read with it (`engine::foreign_aliases`).
    #[serde(default)]
    pub foreign_aliases: Vec<(String, String)>,
    /// Private glob imports of the file's modules: (module, module it imports).
    #[serde(default)]
    pub globs: Vec<(String, String)>,
    /// What the file's async fns wait on, to tell idle callees of serial findings.
    pub async_fns: Vec<AsyncFnSummary>,
    /// Serial-await findings that stand unless they await an idle fn.
    pub serial: Vec<Pending>,
    /// Items with their line ranges, for suppressions written before them.
    pub items: Vec<ItemLines>,
    /// The file's suppressions (from its text and items).
    pub suppressions: Vec<Suppression>,
    /// Every function of the file, for where code runs (exposure).
    pub fns: Vec<FnFacts>,
    /// Calls and references to functions of the checked crates, from any code.
    pub edges: Vec<Edge>,
    /// Calls the resolver could not name (`x.rotate_logs()` on a value of unknown type,
    /// `Unseen::open(..)`): by method name or `Type::method`, once per calling fn. Where code
    /// runs links them to the one fn of the run with that name, if there is exactly one.
    #[serde(default)]
    pub loose_calls: Vec<LooseCall>,
    /// The traits the file declares (by name): calls through a bound of one of the crates'
    /// own traits are linked to its impls, a foreign trait's impls may be called by its crate.
    #[serde(default)]
    pub traits: Vec<String>,
    /// Methods called in async code on values of an impl's type parameter.
    pub generic_calls: Vec<GenericCall>,
    /// The crates' types built with values whose methods block.
    pub instances: Vec<Instance>,
}

/// A method called in async code on a value whose type is a type parameter of the impl
/// (`self.inner.read(..)` in `impl<R: Read> Stream for ReaderStream<R>`): it blocks when the
/// crates build that type with a value whose method of that name blocks. Or one called on a
/// field of a struct the file does not declare (`self.segment.file.write_all(..)`, `Segment`
/// declared in another file): it blocks when the field's declared type has that method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GenericCall {
    /// The impl's (or the struct's) type, as a call-graph key (`crate::io::ReaderStream`).
    pub owner: String,
    /// The field called on, for a call on a field.
    #[serde(default)]
    pub field: Option<String>,
    /// The method, or for a chain on a field the first and last methods (`get.send` for
    /// `self.http.get(url).header(..).send()`).
    pub method: String,
    pub span: Span,
    /// The async context, for messages ("`poll_next`, which the executor polls").
    pub context: String,
    pub origin: Origin,
    /// Made in a loop over data or a closure: maybe many times per run of its fn.
    #[serde(default)]
    pub repeated: bool,
    /// The same call as one on what a getter of another file returns, (owner, `name()`,
    /// method): `state.db.pool().get()` is `get` on what `Db::pool` returns. Tried when the
    /// field leads nowhere.
    #[serde(default)]
    pub returned: Option<(String, String, String)>,
    /// A call on a value taken from a field earlier (`conn.query(..)` after `let conn =
    /// state.pool.get()?`), as (owner, field, `get.query`): tried last, and only that chain,
    /// since the taking call was checked where it was made.
    #[serde(default)]
    pub taken: Option<(String, String, String)>,
}

/// A type of the crates built with a value whose methods block (`ReaderStream::new(file)` with
/// a `std::fs::File`): the blocking methods of that value, at the place it is built.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Instance {
    pub owner: String,
    /// A field of `owner` declared with the type (`file: std::fs::File`), rather than a value
    /// the type is built with.
    #[serde(default)]
    pub field: Option<String>,
    /// The value's type (`std::fs::File`).
    pub ty: String,
    pub span: Span,
    /// Its blocking methods (`callee` is `File::read`), by name in `method`.
    pub methods: Vec<(String, BlockSite)>,
}

/// A finding and where its code runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Finding {
    pub diagnostic: Diagnostic,
    pub origin: Origin,
}

/// Where a finding or call sits: in which fn of the file (an index into `FileFacts::fns`), in
/// which hot region of it, and whether in test code.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Origin {
    pub caller: Option<usize>,
    pub hot: Option<Hot>,
    pub test: bool,
}

/// A function of the file, as the exposure of its findings needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FnFacts {
    /// Its call-graph key (`None` for methods of types outside the checked crates).
    pub key: Option<String>,
    pub name: String,
    pub is_async: bool,
    /// A program's entry (`main`, `#[tokio::main]`): runs at startup in a binary.
    pub entry: bool,
    /// Why it runs hot by itself (a `poll_*` fn, a route handler).
    pub root: Option<Hot>,
    pub test: bool,
    /// The trait whose impl declares it (`Importer` for `impl Importer for Zsh`): calls through
    /// a type parameter bounded by that trait may run it.
    #[serde(default)]
    pub implements: Option<String>,
    /// Its body only returns a constant: a null object, not one of the impls a call through
    /// its trait is judged by.
    #[serde(default)]
    pub stub: bool,
    /// Builds a value programs build once, at setup (`Client::try_default`; see knowledge's
    /// `[constructors]`).
    #[serde(default)]
    pub constructs: bool,
}

/// A call of a function of the checked crates, or a reference to one (`get(handler)`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Edge {
    pub callee: String,
    pub origin: Origin,
    /// Handed over by name rather than called here.
    pub by_name: bool,
}

/// A call by a name the resolver could not follow (see `FileFacts::loose_calls`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LooseCall {
    /// `method`, or `Type::method` for a path call, or `Trait::method` for a call through a
    /// type parameter bounded by `Trait` (`I::new()`, `importer.load(..)` with `I: Importer`).
    pub name: String,
    pub origin: Origin,
    /// Through a trait bound: every impl of the trait's method may run.
    #[serde(default)]
    pub via_trait: bool,
}

/// One suppression and the lines it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Suppression {
    /// Rule ids; `all` covers every rule.
    pub rules: Vec<String>,
    pub first_line: usize,
    pub last_line: usize,
    /// Where the suppression is written (for `--report-unused-suppressions`).
    pub at: Span,
    pub used: bool,
    /// What is wrong with it, if it is a near miss (reported whether or not it is used).
    pub problems: Vec<Problem>,
}

/// A suppression that does not do what its writer meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Problem {
    pub message: String,
    pub label: String,
    pub help: String,
}

/// How bad a blocking call is, worst last: when a sync helper reaches several, its async
/// callers are told about the worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Rank {
    /// A metadata operation: a query (`Path::exists`, `fs::metadata`) or one directory entry
    /// changed (`create_dir_all`, `rename`, `remove_file`). Brief on a local disk.
    Stat,
    /// A file opened or created (`File::open`, `tempfile::tempfile`): what is then read or
    /// written through it is worse, and reported when seen; when not seen (a generic reader,
    /// another crate's decoder), the open stands for it, so it is not brief.
    Open,
    /// Reads, writes, requests, queries, directory walks.
    #[default]
    Io,
    /// Waits for something else to happen: a thread, a message, a child process, input, time.
    Wait,
    /// Runs a future to completion on the thread: panics or deadlocks inside a runtime.
    Panic,
}

impl Rank {
    /// Is a call of this rank brief when made once per run of its code (`repeated`: in a loop
    /// or closure)? One metadata operation is; one per item is not, nor is anything else.
    pub(crate) fn brief(self, repeated: bool) -> bool {
        self == Rank::Stat && !repeated
    }

    /// Does a call of this rank wait for something else (input, a thread, a channel, a child)
    /// or drive a future on the thread? It can hold the thread however rarely it runs.
    pub(crate) fn waits(self) -> bool {
        self >= Rank::Wait
    }
}

/// Does a call passing `literals` (by position, `self` first for a method call) skip code
/// under `guard` in a fn (`method`: taking `self`)?
pub(crate) fn skips(guard: Option<Guard>, method: bool, literals: &[(u8, Lit)]) -> bool {
    let Some((param, needs)) = guard else { return false };
    let position = param as usize + usize::from(method);
    literals.iter().any(|&(at, lit)| at as usize == position && lit != needs)
}

/// A blocking call made directly in a sync function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlockSite {
    pub rule: Rule,
    pub callee: String,
    pub span: Span,
    pub reason: String,
    pub instead: String,
    /// How bad it is: the worst call a helper reaches is the one reported.
    #[serde(default)]
    pub rank: Rank,
    /// Made inside a closure handed to these functions (keys): it counts only if none of
    /// them is an offload wrapper.
    #[serde(default)]
    pub defer: Vec<String>,
    /// Made in a branch of an `if` or `match`: on some runs of its fn only.
    #[serde(default)]
    pub branch: bool,
    /// Made in a loop over data or a closure: maybe many times per run of its fn.
    #[serde(default)]
    pub repeated: bool,
    /// Made under a test of a parameter: calls passing the other value never make it.
    #[serde(default)]
    pub guard: Option<Guard>,
}

impl BlockSite {
    /// Where in its fn the call is made: in a branch (under a parameter test), in a loop or
    /// closure.
    pub(crate) fn placed(mut self, branch: bool, guard: Option<Guard>, repeated: bool) -> Self {
        self.branch = branch;
        self.guard = guard;
        self.repeated = repeated;
        self
    }
}

/// A call to a function that may belong to the crates being checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CallSite {
    /// The callee's key.
    pub key: String,
    pub span: Span,
    /// The async context the call is made in (for calls from async code; empty otherwise).
    pub context: String,
    /// Made inside a closure handed to these functions (keys): it counts only if none of
    /// them is an offload wrapper.
    pub defer: Vec<String>,
    /// Where the call is made.
    pub origin: Origin,
    /// A method called next on what the callee returns: `next` for `for x in it`, which
    /// calls `IntoIterator::into_iter` and then `Iterator::next` on its result.
    pub then: Option<String>,
    /// Made in a branch of an `if` or `match`: on some runs of its fn only.
    #[serde(default)]
    pub branch: bool,
    /// Made in a loop over data or a closure: maybe many times per run of its fn.
    #[serde(default)]
    pub repeated: bool,
    /// Its result is awaited: where an async fn and a sync one share the key (an inherent
    /// `async fn f` beside a trait's sync `fn f`), the async one runs.
    #[serde(default)]
    pub awaited: bool,
    /// Made under a test of a parameter of its fn.
    #[serde(default)]
    pub guard: Option<Guard>,
    /// The literal arguments it passes (`true`, `None`), by position: the receiver of a
    /// method call is 0, its first argument 1.
    #[serde(default)]
    pub literals: Vec<(u8, Lit)>,
}

/// What one sync function does that matters for blocking.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FnSummary {
    pub key: String,
    pub name: String,
    pub span: Span,
    /// The key of the type it returns, when that is a type of the checked crates (or of a
    /// followed dependency): where methods called on its result are found.
    pub returns: Option<String>,
    pub blocking: Vec<BlockSite>,
    pub calls: Vec<CallSite>,
    /// It takes `self`: a call's literal arguments are counted from the receiver.
    #[serde(default)]
    pub method: bool,
    /// Calls on members of structs other files declare (`state.cache.lock().unwrap().get(k)`):
    /// blocking sites of the fn when that file types the member with a blocking type.
    #[serde(default)]
    pub unseen: Vec<UnseenCall>,
}

/// A call in a sync fn on a member another file types, placed in the fn as a `BlockSite` is:
/// the join makes it one when the member's declared type blocks (`graph::generic`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UnseenCall {
    pub call: GenericCall,
    pub defer: Vec<String>,
    pub branch: bool,
    pub guard: Option<Guard>,
}

/// A called fn, by name, and by the type it belongs to when the call says (`Self::f`,
/// `self.f()`, `Type::f`); a method called on another value could be any type's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Callee {
    pub owner: Option<String>,
    pub name: String,
    /// For a method called on a variable named after a type (`attachment.to_json()`), that
    /// type (`Attachment`): the method of that name it is, when the package has one.
    #[serde(default)]
    pub named_after: Option<String>,
    /// Called as a method (`x.f()`): never a free fn of that name.
    #[serde(default)]
    pub method: bool,
    /// Called on a value of another crate's type (`named_after`, as the model types it): a
    /// method of that type, not a namesake of the package's (only an impl the package writes
    /// for that type).
    #[serde(default)]
    pub foreign: bool,
}

/// What one async fn (or sync fn returning a future) waits on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AsyncFnSummary {
    pub callee: Callee,
    /// `None` when some await may do I/O; otherwise the fns it awaits, which must be idle too
    /// for this one to be.
    pub waits_on: Option<Vec<Callee>>,
    /// Every fn it awaits (for a sync fn, every fn it calls): the edges of recursion.
    pub calls: Vec<Callee>,
    /// For a method of a trait impl, the trait (its last segment): what a call through a trait
    /// object may run.
    #[serde(default)]
    pub implements: Option<String>,
    /// It holds a lock on a field of `self` across later awaits: calls on one object take
    /// turns (`self.f(x)` in a loop), calls on different objects need not.
    #[serde(default)]
    pub holds_own_lock: bool,
}

/// A serial finding that stands unless one of the calls it awaits is idle or leads back to
/// `within`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub diagnostic: Diagnostic,
    pub awaited: Vec<Callee>,
    /// Values whose type another file declares (`crate::AppState::<feeds>`, see `Ty::Member`)
    /// on which a method named like an ordered handle call (`notify`, `send`) is awaited: the
    /// finding stands only if each is of a client type, whose calls are requests.
    #[serde(default)]
    pub unless_client: Vec<String>,
    /// The fn the awaits are written in.
    pub within: Option<Callee>,
    pub origin: Origin,
}

/// An item's lines (from its first attribute to its end) and its
/// `#[cfg_attr(stall, allow(..))]` attributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ItemLines {
    pub first: usize,
    pub last: usize,
    pub allows: Vec<AttrAllow>,
}

/// One `#[cfg_attr(stall, allow(stall::rule, ..))]`: the names it allows as written
/// (`stall::blocking_fs`), and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AttrAllow {
    pub names: Vec<String>,
    pub span: Span,
}

/// The qualifier and name of a call-graph key (`Store`, `open` for `crate::store::Store::open`;
/// `crate` for a fn at a crate root), as the prefilter's outline names functions.
pub(crate) fn key_parts(key: &str) -> Option<(&str, &str)> {
    let mut parts = key.rsplit("::");
    let name = parts.next()?;
    let qual = parts.next()?;
    // `dotenvy::var`: a function at the crate root.
    let qual = if parts.next().is_none() { "crate" } else { qual };
    Some((qual, name))
}

/// A function's (package, qualifier, name), as the prefilter's outline names it.
pub(crate) type Triple<'k> = (&'k str, &'k str, &'k str);

/// The (package, qualifier, name) of a key: `crate::..` keys (before they are made unique per
/// target) are in the package `own`, `pkg@bin::..` ones (after) in `pkg`.
fn key_triple_in<'k>(key: &'k str, own: Option<&'k str>) -> Option<Triple<'k>> {
    let (qual, name) = key_parts(key)?;
    Some((key_package(key, own)?, qual, name))
}

/// The name of the type a key is of, or its members hang off (`AppState` of
/// `crate::AppState::<config()>::reload`, `ReaderStream` of `crate::io::ReaderStream`).
fn owner_type(key: &str) -> Option<&str> {
    let owner = key.split_once("::<").map_or(key, |(t, _)| t);
    owner.rsplit("::").next()
}

/// The package of a key: `own` for a `crate::..` key (before keys are made unique per
/// target), `pkg` for `pkg@bin::..` or `pkg::..` (after).
pub(crate) fn key_package<'k>(key: &'k str, own: Option<&'k str>) -> Option<&'k str> {
    let first = key.first_segment();
    if first == "crate" {
        own
    } else {
        first.split('@').next()
    }
}

/// The (package, qualifier, name) of a key of another package (`fs_err::file::File::open` ->
/// `fs_err`, `File`, `open`).
pub(crate) fn key_triple(key: &str) -> Option<(&str, &str, &str)> {
    let (qual, name) = key_parts(key)?;
    Some((key.first_segment(), qual, name))
}

impl FileFacts {
    /// Makes the keys of this file's own crate (`crate::a::f`) unique to its target
    /// (`my_crate::a::f`, `my_crate@bin/tool::a::f`), and spells keys into other crates as
    /// `rename` says (a dependency by its package's name: `fs::read` -> `fs_err::read`).
    pub(crate) fn retarget(&mut self, target: &str, rename: &dyn Fn(&str) -> Option<String>) {
        let fix = |k: &mut String| {
            // The crate root itself (a glob imported at the root: `("crate", "crate::v")`).
            if k == "crate" {
                *k = target.to_string();
            } else if let Some(rest) = k.strip_prefix("crate::") {
                *k = format!("{target}::{rest}");
            } else if let Some(renamed) = rename(k) {
                *k = renamed;
            }
        };
        let fix_generic = |g: &mut GenericCall| {
            fix(&mut g.owner);
            for (owner, _, _) in g.returned.iter_mut().chain(g.taken.iter_mut()) {
                fix(owner);
            }
        };
        for f in &mut self.functions {
            fix(&mut f.key);
            if let Some(r) = &mut f.returns {
                fix(r);
            }
            for c in &mut f.calls {
                fix(&mut c.key);
                c.defer.iter_mut().for_each(fix);
            }
            f.blocking.iter_mut().flat_map(|b| b.defer.iter_mut()).for_each(fix);
            for u in &mut f.unseen {
                u.defer.iter_mut().for_each(fix);
                fix_generic(&mut u.call);
            }
        }
        for c in &mut self.async_calls {
            fix(&mut c.key);
            c.defer.iter_mut().for_each(fix);
        }
        self.deferred.iter_mut().for_each(|(keys, _)| keys.iter_mut().for_each(fix));
        for (a, b) in self.aliases.iter_mut().chain(&mut self.globs) {
            fix(a);
            fix(b);
        }
        self.offload_wrappers.iter_mut().for_each(fix);
        self.closure_keepers.iter_mut().for_each(fix);
        for (a, b) in &mut self.offload_wrappers_via {
            fix(a);
            fix(b);
        }
        self.fns.iter_mut().filter_map(|f| f.key.as_mut()).for_each(fix);
        self.edges.iter_mut().for_each(|e| fix(&mut e.callee));
        self.generic_calls.iter_mut().for_each(fix_generic);
        self.instances.iter_mut().for_each(|i| fix(&mut i.owner));
    }

    /// (package, qualifier, name) of the functions the file's async code calls, and of the
    /// names its `use` items bring in: where the call graph the prefilter follows starts.
    pub(crate) fn entry_callees<'f>(&'f self, own: Option<&'f str>) -> impl Iterator<Item = Triple<'f>> {
        let calls = self.async_calls.iter().map(|c| c.key.as_str());
        calls.chain(self.aliases.iter().map(|(_, to)| to.as_str())).filter_map(move |k| key_triple_in(k, own))
    }

    /// The other packages it glob imports a module of (`use my_core::prelude::*` in package
    /// `own`: `my_core`): their re-exports may name what its calls and types name.
    pub(crate) fn globbed_packages<'f>(&'f self, own: &'f str) -> impl Iterator<Item = &'f str> {
        self.globs
            .iter()
            .filter_map(|(_, m)| m.split("::").next())
            .filter(move |p| !matches!(*p, "crate" | "self" | "super") && *p != own)
    }

    /// The (qualifier, name) of its calls of a name a glob import brought in (`m::*::f`,
    /// `m::*::util::f`): the glob may be another package's prelude.
    pub(crate) fn glob_callees(&self) -> impl Iterator<Item = (&str, &str)> {
        self.call_keys().filter(|k| k.contains("::*::")).filter_map(key_parts)
    }

    /// Per sync fn of the file: its own (package, qualifier, name), and those of the functions
    /// it calls (followed once something calls it).
    pub(crate) fn summary_callees<'f>(
        &'f self,
        own: Option<&'f str>,
    ) -> impl Iterator<Item = (Triple<'f>, Vec<Triple<'f>>)> {
        self.functions.iter().filter_map(move |f| {
            let me = key_triple_in(&f.key, own)?;
            Some((me, f.calls.iter().filter_map(|c| key_triple_in(&c.key, own)).collect()))
        })
    }

    /// The keys of every call the file makes to functions of the run (async code and sync
    /// functions both).
    pub(crate) fn call_keys(&self) -> impl Iterator<Item = &str> {
        let calls = self.async_calls.iter().chain(self.functions.iter().flat_map(|f| &f.calls));
        calls.map(|c| c.key.as_str())
    }

    /// (package, type name) of the structs whose fields this file calls methods on without
    /// seeing their declaration (`state.store.load(k)`: `AppState`, keyed
    /// `crate::AppState::<store>::load`): the file declaring one says the field's type.
    pub(crate) fn field_owners<'f>(
        &'f self,
        own: Option<&'f str>,
    ) -> impl Iterator<Item = (&'f str, &'f str)> {
        self.call_keys()
            .filter(|k| k.contains("::<"))
            .filter_map(move |k| Some((key_package(k, own)?, owner_type(k)?)))
    }

    /// (package, type name) of the types whose type parameter's methods this file's async code
    /// calls (`ReaderStream` of `crate::io::ReaderStream`).
    pub(crate) fn generic_owners<'f>(
        &'f self,
        own: Option<&'f str>,
    ) -> impl Iterator<Item = (&'f str, &'f str)> {
        let unseen = self.functions.iter().flat_map(|f| f.unseen.iter().map(|u| &u.call));
        (self.generic_calls.iter().chain(unseen))
            .filter_map(move |g| Some((key_package(&g.owner, own)?, owner_type(&g.owner)?)))
    }

    /// Could the cross-file stage add findings to this file?
    pub(crate) fn may_report(&self) -> bool {
        !self.findings.is_empty()
            || !self.deferred.is_empty()
            || !self.serial.is_empty()
            || !self.generic_calls.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_qualifier_and_name() {
        assert_eq!(key_parts("crate::store::Store::open"), Some(("Store", "open")));
        assert_eq!(key_parts("dotenvy::var"), Some(("crate", "var")));
        assert_eq!(key_parts("f"), None);
    }

    /// A literal argument skips a branch under the other value of its parameter; positions
    /// count a method's receiver, guards do not.
    #[test]
    fn literal_arguments_skip_branches_under_the_other_value() {
        use crate::semantic::Lit;
        let overwrite_false = Some((1, Lit::False));
        assert!(skips(overwrite_false, false, &[(1, Lit::True)]), "persist(a, b, true)");
        assert!(!skips(overwrite_false, false, &[(1, Lit::False)]));
        assert!(!skips(overwrite_false, false, &[(0, Lit::True)]), "another parameter");
        assert!(!skips(overwrite_false, false, &[]), "not a literal: either branch");
        assert!(!skips(None, false, &[(1, Lit::True)]), "no test around the call");
        // `self.log(line, true)`: `quiet` is parameter 1, position 2 after the receiver.
        let loud = Some((1, Lit::False));
        assert!(skips(loud, true, &[(2, Lit::True)]));
        assert!(!skips(loud, true, &[(1, Lit::True)]));
        assert!(skips(Some((0, Lit::Some)), false, &[(0, Lit::None)]), "report(None, ..)");
    }
}
