//! The per-file semantic model: the one walk over a parsed file fills it, and every rule asks
//! it where the code at hand runs (async, sync, offloaded), what a path or method resolves
//! to, what type a value has, and which async body and function it is in. Rules never keep
//! that state themselves; they are called from the walk through `Hooks`.

pub(crate) mod context;
mod imports;
pub(crate) mod knowledge;
pub(crate) mod macros;
mod memo;
mod resolve;
pub(crate) mod spans;
pub(crate) mod types;
mod walk;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use syn::Expr;

pub(crate) use context::{
    strip_try, AsyncBody, Ctx, FnFrame, Guard, Hot, HotKind, Kind, Lit, Use, RESULT_METHODS,
};
pub(crate) use imports::{std_reexports, BLOCKING_STD_MODULES};
pub use knowledge::Knowledge;
pub(crate) use resolve::Resolver;
pub(crate) use types::{hands_through, transparent, Ty};
pub(crate) use walk::{ident_of, strip_refs, walk, Hooks, MacroArena};

use crate::project::cfg::CfgEnv;
use crate::qualified::Qualified;
use crate::source::{SourceIndex, Span};

/// The prefix of a deferral key that names a method of any type (`*::exec_blocking`): a closure
/// handed to a method of a value the model cannot type. It stands unless the crates have an
/// offload wrapper method of that name.
pub(crate) const ANY_METHOD: &str = "*::";

/// What the model needs to know about the run.
pub(crate) struct Settings<'a> {
    pub include_tests: bool,
    /// The whole file is test code (`tests/`, `benches/`).
    pub test_file: bool,
    /// What `#[cfg(..)]` is evaluated against: the package's resolved features (unknown:
    /// every alternative is walked) and whether a build script may set custom `cfg`s.
    pub cfg: CfgEnv<'a>,
    /// Other crates of the run, whose functions the call graph follows.
    pub local_crates: &'a HashSet<String>,
    /// The file's package (its `crate::` paths are this package's).
    pub package: Option<&'a str>,
    /// Other files' aliases of other crates' types (see `Options::foreign_aliases`).
    pub foreign_aliases: &'a HashMap<String, String>,
}

/// The model of one file at the walk's current position.
pub(crate) struct Model<'a, 'ast> {
    pub idx: &'a SourceIndex<'a>,
    /// Names, scopes, variables and their types, and the file's item index.
    pub res: Resolver<'a>,
    settings: Settings<'a>,
    ctx: Vec<Ctx>,
    fns: Vec<FnFrame>,
    /// One entry per fn, closure and async block entered: `Some` for async bodies.
    bodies: Vec<Option<AsyncBody<'ast>>>,
    /// Expressions (by address) whose parent awaits them or uses them as a `Result`.
    awaited: HashSet<usize>,
    as_result: HashSet<usize>,
    /// Expressions (by address) whose value is dropped (`f(..);`, `let _ = f(..)`).
    discarded: HashSet<usize>,
    /// Closures (by address) bound to a name that is later handed to an offload call or a fn
    /// of the crates, and how they run.
    bound_closures: HashMap<usize, context::ClosureMode>,
    /// Keys of the fns that hand one of their parameters to an offload call.
    pub offload_wrappers: Vec<String>,
    /// Keys of the fns that only keep their closure parameters (`context::keeps_callables`).
    pub closure_keepers: Vec<String>,
    /// Code of the file serves (see `HotKind::serves`): a handler, a spawned task, an event
    /// loop, joined futures, a poll fn, a service, a callback, or a bound listener.
    pub serves: bool,
    /// (fn, fn of the crates): the first hands a closure parameter to the second, so it
    /// offloads it if the second does.
    pub offload_wrappers_via: Vec<(String, String)>,
    /// Per impl entered: the trait it implements (its last segment: `Importer`), if any.
    pub impl_traits: Vec<Option<String>>,
    /// The undecided `#[cfg(..)]`s of the items the walk is in (`cfg::undecided`): a fn in a
    /// `#[cfg(feature = "spin")] impl` or `mod` is under it too.
    pub item_cfgs: Vec<String>,
    /// The traits the file declares.
    pub declared_traits: Vec<String>,
    /// Test items (modules, impls) the walk is inside.
    test_items: usize,
    /// Conditions of the `if`s whose `then` branch the walk is in, outermost first.
    conditions: Vec<&'ast Expr>,
    /// The alternatives the walk is in, outermost first: (the `if` or `match`, by address;
    /// which branch or arm).
    pub(crate) arms: Vec<(usize, usize)>,
    /// Closures (by address) handed to an adaptor or combinator, with the adaptor's receiver.
    chain_receivers: HashMap<usize, &'ast Expr>,
    /// Per closure entered: the receiver of the adaptor it was handed to, if any.
    chained: Vec<Option<&'ast Expr>>,
    /// Explicit `into_iter()` calls (by address) that another method call consumes
    /// (`WalkDir::new(d).into_iter().filter_map(..)`): the iterator is walked there.
    iter_receivers: HashSet<usize>,
}

impl<'a, 'ast> Model<'a, 'ast> {
    pub(crate) fn new(idx: &'a SourceIndex<'a>, knowledge: &'a Knowledge, settings: Settings<'a>) -> Self {
        let mut res = Resolver::new(knowledge);
        res.local_crates = Some(settings.local_crates);
        res.foreign_aliases = Some((settings.package.unwrap_or_default(), settings.foreign_aliases));
        res.cfg = settings.cfg;
        Model {
            idx,
            res,
            settings,
            ctx: Vec::new(),
            fns: Vec::new(),
            bodies: Vec::new(),
            awaited: HashSet::default(),
            as_result: HashSet::default(),
            discarded: HashSet::default(),
            bound_closures: HashMap::default(),
            offload_wrappers: Vec::new(),
            closure_keepers: Vec::new(),
            serves: false,
            offload_wrappers_via: Vec::new(),
            impl_traits: Vec::new(),
            item_cfgs: Vec::new(),
            declared_traits: Vec::new(),
            test_items: 0,
            conditions: Vec::new(),
            arms: Vec::new(),
            chain_receivers: HashMap::default(),
            chained: Vec::new(),
            iter_receivers: HashSet::default(),
        }
    }

    /// Is `e` an explicit `into_iter()` whose iterator a method chained to it walks?
    pub(crate) fn is_consumed_iterator(&self, e: &Expr) -> bool {
        self.iter_receivers.contains(&(e as *const Expr as usize))
    }

    pub(crate) fn span(&self, span: proc_macro2::Span) -> Span {
        self.idx.span(span)
    }

    /// Where the code at hand runs; `None` outside any function (consts, statics).
    pub(crate) fn kind(&self) -> Option<Kind> {
        self.ctx.last().map(|c| c.kind)
    }

    pub(crate) fn ctx(&self) -> Option<&Ctx> {
        self.ctx.last()
    }

    /// Is the code at hand in a branch of an `if` or `match` of its fn: made on some runs only?
    pub(crate) fn branched(&self) -> bool {
        self.fns.last().is_some_and(|f| f.branches > 0)
    }

    /// The innermost parameter test the code at hand runs under, in its fn (`if overwrite`).
    pub(crate) fn guard(&self) -> Option<context::Guard> {
        self.fns.last().and_then(|f| f.guards.iter().rev().find_map(|g| *g))
    }

    /// May the code at hand run many times per run of its fn: in a loop over data, or in a
    /// closure (an iterator adaptor's, a callback)?
    pub(crate) fn repeated(&self) -> bool {
        self.fns.last().is_some_and(|f| f.repeats > 0 || f.closures > 0)
    }

    /// The fns of the crates the code at hand was handed to in closures, outermost first: what
    /// it does there counts only if none of them offloads it.
    pub(crate) fn defer(&self) -> Vec<String> {
        self.ctx().map(|c| c.defer.iter().map(|k| k.to_string()).collect()).unwrap_or_default()
    }

    /// The conditions of the `if`s whose `then` branch the code at hand is in (`if
    /// h.is_finished() { h.join() }`).
    pub(crate) fn conditions(&self) -> &[&'ast Expr] {
        &self.conditions
    }

    /// Can code walked under `a` and code walked under `b` (two `arms` paths) run in one run of
    /// the fn: not in different branches of one `if` or arms of one `match`?
    pub(crate) fn compatible(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
        a.iter().all(|(at, arm)| b.iter().all(|(bt, barm)| at != bt || arm == barm))
    }

    /// The receiver of the adaptor or combinator whose closure the code at hand is directly in
    /// (`File::open(p)` for `File::open(p).and_then(|f| ..)`): the closure continues its chain.
    pub(crate) fn chained_to(&self) -> Option<&'ast Expr> {
        self.chained.last().copied().flatten()
    }

    /// The innermost function being walked.
    pub(crate) fn current_fn(&self) -> Option<&FnFrame> {
        self.fns.last()
    }

    /// Is the walk in a `poll_*` fn whose I/O is on non-blocking handles (it handles
    /// `WouldBlock`)? Reads and writes there return instead of waiting.
    pub(crate) fn nonblocking_io(&self) -> bool {
        self.current_fn().is_some_and(|f| f.nonblocking_io)
    }

    /// The async body the walk is directly in (not in a closure or nested fn inside it).
    pub(crate) fn async_body(&self) -> Option<&AsyncBody<'ast>> {
        self.bodies.last().and_then(Option::as_ref)
    }

    /// Whether items with these attributes are test code.
    pub(crate) fn is_test(&self, attrs: &[syn::Attribute]) -> bool {
        context::is_test_code(attrs)
    }

    /// Whether items with these attributes are left out of the build (`#[cfg(windows)]`, a
    /// feature the package does not enable). Test code is judged as test code, not here.
    pub(crate) fn compiled_out(&self, attrs: &[syn::Attribute]) -> bool {
        crate::project::cfg::compiled_out(attrs, &self.settings.cfg)
    }

    /// The `#[cfg(..)]` of these that leave the item's build undecided (`cfg::undecided`).
    pub(crate) fn cfg_undecided(&self, attrs: &[syn::Attribute]) -> Option<String> {
        crate::project::cfg::undecided(attrs, &self.settings.cfg)
    }

    /// Whether test code is analysed in full (otherwise only where it calls `block_on`).
    pub(crate) fn include_tests(&self) -> bool {
        self.settings.include_tests
    }

    /// Whether the walk is in test code.
    pub(crate) fn in_test(&self) -> bool {
        self.settings.test_file || self.ctx.last().is_some_and(|c| c.test) || self.test_items > 0
    }

    /// A call-graph key: a path into this crate (`crate::a::f`, made unique per target when
    /// the graph is joined) or into another crate of the run.
    pub(crate) fn key(&self, path: &str) -> Option<String> {
        // (`crate` itself: the target of `use super::*` in a module of the crate's root.)
        if path == "crate" || path.starts_with("crate::") {
            return Some(path.to_string());
        }
        let first = path.first_segment();
        self.settings.local_crates.contains(first).then(|| path.to_string())
    }

    /// A value whose type only another file of the crates can tell (`state.store`, `AppState`
    /// declared elsewhere; `state.config()`): the key of the value it is a member of, and the
    /// member (`store`, `config()`). See `Ty::Member`.
    pub(crate) fn unseen_member(&self, e: &Expr) -> Option<(String, String)> {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        let ty = self.res.infer(e);
        let (owner, member) = ty.member_of()?;
        Some((self.key(owner)?, member.to_string()))
    }

    /// For a member of a type of the crates (a field, or `name()` for what a method returns)
    /// declared with a type of the crates: an alias naming that type (`crate::AppState::<db>` ->
    /// `crate::store::Db` for `db: Arc<Mutex<Db>>`), which calls on the member in other files
    /// are resolved through (see `Ty::Member`). Smart pointers, locks and results are looked
    /// through, as the model does.
    pub(crate) fn member_alias(&self, owner: &str, member: &str, ty: Ty) -> Option<(String, String)> {
        let mut ty = self.res.deref_all(ty);
        for _ in 0..6 {
            let Ty::Named(path, args) = &ty else { break };
            let entry = self.res.knowledge.type_entry(path);
            // `Mutex<Cache>` with `Mutex` from a glob import (`use crate::prelude::*`): the
            // model cannot see it is `std::sync::Mutex`; its name says so.
            // (An `Option` too: `if let Some(s) = &state.sink { s.send(..) }` calls the held
            // type's `send`; the walk keeps `Option`'s own methods off it, `OPTION_ONLY`.)
            let wrapper = types::glob_lock(path)
                || entry.is_some_and(|e| e.is_lock())
                || path == "std::result::Result"
                || path == "std::option::Option";
            match args.first() {
                Some(inner) if wrapper => ty = self.res.deref_all(inner.clone()),
                _ => break,
            }
        }
        let path = self.key(ty.path()?)?;
        // A primitive (`u64`) has no methods of the crates.
        let named_type = path.rsplit("::").next().is_some_and(|t| t.starts_with(char::is_uppercase));
        named_type.then(|| (types::member_path(owner, member), path))
    }

    /// For a struct of the crates: each field's `member_alias`, and its `item_alias`.
    pub(crate) fn field_aliases(&self, s: &syn::ItemStruct) -> Vec<(String, String)> {
        let Some(owner) = self.key(&format!("{}::{}", self.res.current_module(), s.ident)) else {
            return Vec::new();
        };
        let named = s.fields.iter().filter_map(|f| Some((f.ident.as_ref()?, &f.ty)));
        named
            .flat_map(|(name, ty)| {
                let (member, ty) = (name.to_string(), self.res.resolve_type(ty));
                let item = self.item_alias(&owner, &member, &ty);
                self.member_alias(&owner, &member, ty).into_iter().chain(item)
            })
            .collect()
    }

    /// For a field holding a collection of a type of the crates (`zones: Vec<ZoneConfig>`): an
    /// alias naming the type of its items (`crate::Config::<zones>::<item>` ->
    /// `crate::ZoneConfig`), which a `for` loop over the field in another file names.
    pub(crate) fn item_alias(&self, owner: &str, member: &str, ty: &Ty) -> Option<(String, String)> {
        self.items_alias(&types::member_path(owner, member), ty)
    }

    /// An alias naming the type of the items of a value of type `ty` (`value::<item>` ->
    /// the items' type), if it is a type of the crates.
    pub(crate) fn items_alias(&self, value: &str, ty: &Ty) -> Option<(String, String)> {
        self.item_named(value, self.res.item_type(&self.res.deref_all(ty.clone())))
    }

    /// An alias naming `item` as the type of the items of `value`, if it is a type of the
    /// crates.
    pub(crate) fn item_named(&self, value: &str, item: Ty) -> Option<(String, String)> {
        let item = self.res.deref_all(item);
        let path = self.key(item.path()?)?;
        let named_type = path.rsplit("::").next().is_some_and(|t| t.starts_with(char::is_uppercase));
        named_type.then(|| (types::member_path(value, types::ITEM), path))
    }

    /// For a struct of the crates: its fields of other crates' types, through references and
    /// smart pointers (`mailer: Arc<AsyncSmtpTransport<..>>`), as (member, type path): whether
    /// calls on one are requests is for the rules to say by the type's name.
    pub(crate) fn foreign_fields(&self, s: &syn::ItemStruct) -> Vec<(String, String)> {
        let Some(owner) = self.key(&format!("{}::{}", self.res.current_module(), s.ident)) else {
            return Vec::new();
        };
        let named = s.fields.iter().filter_map(|f| Some((f.ident.as_ref()?, &f.ty)));
        named
            .filter_map(|(name, ty)| match self.res.deref_all(self.res.resolve_type(ty)) {
                Ty::Named(path, _) if path.has_sep() && !self.res.is_local(&path) => {
                    Some((types::member_path(&owner, &name.to_string()), path))
                }
                _ => None,
            })
            .collect()
    }

    /// A non-generic alias of a type of the crates (`pub type Shared = Arc<AppState>;`), as
    /// an alias of that type, through references and smart pointers: another file's
    /// `st.jobs.history()` on a `Shared` is a call on a field of `AppState`.
    ///
    /// An alias of a wrapper the knowledge lists (`pub type State = web::Data<AppState>;`)
    /// also names what its unwrapping methods hand out (`State::<into_inner()>`, `AppState`):
    /// a value of the alias is typed as the alias, and the join follows these names.
    pub(crate) fn type_alias(&self, t: &syn::ItemType) -> Vec<(String, String)> {
        if !t.generics.params.is_empty() {
            return Vec::new();
        }
        let Some(owner) = self.key(&format!("{}::{}", self.res.current_module(), t.ident)) else {
            return Vec::new();
        };
        let aliased = self.res.resolve_type(&t.ty);
        let ty = self.res.deref_all(aliased.clone());
        let Some(path) = ty.path().and_then(|p| self.key(p)).filter(|p| *p != owner) else {
            return Vec::new();
        };
        let unwraps =
            aliased.path().and_then(|p| self.res.knowledge.type_entry(p)).into_iter().flat_map(|e| {
                e.wraps.iter().filter(|(_, how)| matches!(how, knowledge::Unwrap::Direct)).map(|(m, _)| m)
            });
        let mut out: Vec<(String, String)> =
            unwraps.map(|m| (format!("{owner}::<{m}()>"), path.clone())).collect();
        out.push((owner, path));
        out
    }

    /// A non-generic alias of another crate's type (`pub type DbPool = r2d2::Pool<..>;`, a
    /// dependency's or another member's): its
    /// path and the type in the catalog's notation, for the other files of the run.
    pub(crate) fn foreign_alias(&self, t: &syn::ItemType) -> Option<(String, String)> {
        if !t.generics.params.is_empty() {
            return None;
        }
        let ty = self.res.resolve_type(&t.ty);
        // (One of this crate's types, through pointers, is `type_alias`'s. Only a type with
        // blocking methods somewhere in it is worth reading other files again for.)
        if self.res.deref_all(ty.clone()).path()?.starts_with("crate::") || !self.blocking_inside(&ty) {
            return None;
        }
        Some((format!("{}::{}", self.res.current_module(), t.ident), ty.notation()?))
    }

    /// Does the catalog know methods of `ty`, of a type in its arguments
    /// (`Mutex<rusqlite::Connection>`) or of what it derefs to (a pooled connection's manager
    /// derefs to its driver's connection)?
    fn blocking_inside(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Named(path, args) => {
                // (A pointer derefs to its argument, which the arguments already asked.)
                let target = self.res.deref_once(ty.clone());
                self.res.knowledge.has_blocking_methods(&self.res.knowledge.normalize(path.clone()))
                    || args.iter().any(|a| self.blocking_inside(a))
                    || (target != *ty && !args.contains(&target) && self.blocking_inside(&target))
            }
            Ty::Tuple(elems) => elems.iter().any(|e| self.blocking_inside(e)),
            _ => false,
        }
    }

    /// The name of an expression's type (`Client` for a `&Arc<reqwest::Client>`), through
    /// references and smart pointers.
    pub(crate) fn type_name(&self, e: &Expr) -> Option<String> {
        self.res.deref_all(self.res.infer(e)).last_segment().map(str::to_string)
    }

    /// The innermost async body, even from inside a closure of it.
    pub(crate) fn enclosing_body(&self) -> Option<&AsyncBody<'ast>> {
        self.bodies.iter().rev().find_map(Option::as_ref)
    }

    /// Enters a loop: one written directly in an async body is recorded there.
    pub(crate) fn enter_loop(&mut self, e: &'ast Expr) {
        if let Some(Some(body)) = self.bodies.last_mut() {
            body.loops.push(e);
        }
    }

    pub(crate) fn leave_loop(&mut self) {
        if let Some(Some(body)) = self.bodies.last_mut() {
            body.loops.pop();
        }
    }

    /// The innermost async body, even from inside a closure of it (lets and sorts recorded
    /// there belong to the body, as they run in its order).
    fn enclosing_body_mut(&mut self) -> Option<&mut AsyncBody<'ast>> {
        self.bodies.iter_mut().rev().find_map(Option::as_mut)
    }
}
