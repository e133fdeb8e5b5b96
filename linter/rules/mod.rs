//! The rules, and the checker that runs them all from the one walk of a file. Each rule lives in
//! one file with its `//!` doc (what `stall explain` prints) and its `declare_rule!`:
//! - `blocking/`: one detector driven by the catalog (data); the rule files hold the docs;
//! - `serial/`: one shared set of loop and body helpers; each rule file is a `SerialRule`;
//! - `meta/`: findings about the run (parse errors, unused suppressions).
//!
//! The checker turns the walk's hooks into `FileFacts`: findings, and what the call graph
//! needs (sync fn summaries, calls into the crates, idle async fns, pending serial findings).

pub(crate) mod blocking;
pub(crate) mod meta;
pub(crate) mod serial;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprAwait, Stmt};

use crate::facts::{
    AttrAllow, CallSite, Edge, FileFacts, Finding, FnFacts, FnSummary, ItemLines, LooseCall, Origin, Pending,
    UnseenCall,
};
use crate::project::cfg::CfgEnv;
use crate::project::{Place, Runtime};
use crate::qualified::Qualified;
use crate::registry::Rule;
use crate::semantic::{self, Hooks, Hot, HotKind, Kind, Knowledge, Model, Settings, Use};
use crate::source::SourceIndex;
use blocking::{Catalog, Verdict};
use serial::{Found, IdleBuilder};

/// What the rules need to know about the run.
pub(crate) struct RuleOptions<'a> {
    pub catalog: &'a Catalog,
    pub knowledge: &'a Knowledge,
    pub include_tests: bool,
    pub local_crates: &'a HashSet<String>,
    /// See `Options::foreign_aliases`.
    pub foreign_aliases: &'a rustc_hash::FxHashMap<String, String>,
    /// The async runtime of the file's package, for fixes.
    pub runtime: Option<&'a Runtime>,
}

/// Runs every rule over one parsed file.
pub(crate) fn check(ast: &syn::File, idx: &SourceIndex, place: &Place, options: &RuleOptions) -> FileFacts {
    let settings = Settings {
        include_tests: options.include_tests,
        test_file: place.is_test,
        cfg: CfgEnv { features: place.features.as_ref(), build_script: place.build_script },
        local_crates: options.local_crates,
        package: place.package.as_deref(),
        foreign_aliases: options.foreign_aliases,
    };
    let arena = semantic::MacroArena::new();
    let mut model = Model::new(idx, options.knowledge, settings);
    let mut checker = Checker {
        options,
        facts: FileFacts::default(),
        fns: Vec::new(),
        summaries: Vec::new(),
        idle: Vec::new(),
        serial: Vec::new(),
        loose_seen: HashSet::default(),
        field_aliases: Vec::new(),
        item_aliases: Vec::new(),
        cfg_gated: HashMap::default(),
    };
    semantic::walk(ast, &place.module, &arena, &mut model, &mut checker);
    let item_aliases = item_aliases(std::mem::take(&mut checker.item_aliases));
    checker.field_aliases.extend(item_aliases);
    let mut facts = std::mem::take(&mut checker.facts);
    let mut aliases = model.res.module_aliases();
    facts.offload_wrappers = std::mem::take(&mut model.offload_wrappers);
    facts.closure_keepers = std::mem::take(&mut model.closure_keepers);
    facts.serves =
        model.serves || facts.fns.iter().any(|f| f.root.is_some_and(|h| h.kind.serves()) && !f.test);
    facts.offload_wrappers_via = std::mem::take(&mut model.offload_wrappers_via);
    facts.traits = std::mem::take(&mut model.declared_traits);
    // `pub use tokio::task::spawn_blocking as run_blocking;`: the alias offloads too.
    for (alias, to) in &aliases {
        let name = to.last_segment();
        if options.knowledge.is_offload(name, Some(to), false) {
            facts.offload_wrappers.push(alias.clone());
        }
    }
    // Only aliases into the checked crates can lead the call graph anywhere.
    aliases.retain(|(_, to)| model.key(to).is_some());
    let own_clients = checker.field_aliases.iter().filter(|(_, to)| is_client_type(to));
    let own_clients: Vec<String> = own_clients.map(|(member, _)| member.clone()).collect();
    facts.client_members.extend(own_clients);
    aliases.append(&mut checker.field_aliases);
    facts.aliases = aliases;
    facts.foreign_aliases.extend(semantic::std_reexports(&ast.items, &place.module));
    facts.globs = model.res.module_globs();
    facts.globs.retain(|(_, to)| model.key(to).is_some());
    // Functions that neither block nor call into the crates cannot make a chain.
    // (One that returns a type of the crates leads to the methods called on its result. One
    // under an undecided `#[cfg(..)]` beside another such of its key stays: they are
    // alternatives whose features the run does not know, `#[cfg(feature = "spin")]` and
    // `#[cfg(not(..))]`, and a call to that key blocks only if every one of them does. Fns
    // sharing a key otherwise, nested fns of one name or an inherent method beside a trait's,
    // are not alternatives, nor are fns under one cfg: they are built together.)
    let gated = std::mem::take(&mut checker.cfg_gated);
    let mut cfgs: HashMap<&str, HashSet<&str>> = HashMap::default();
    for (i, cfg) in &gated {
        cfgs.entry(facts.functions[*i].key.as_str()).or_default().insert(cfg.as_str());
    }
    let alternatives: HashSet<String> =
        cfgs.into_iter().filter(|(_, c)| c.len() > 1).map(|(k, _)| k.to_string()).collect();
    let mut index = 0;
    facts.functions.retain(|f| {
        let alternative = gated.contains_key(&index) && alternatives.contains(&f.key);
        index += 1;
        !f.blocking.is_empty()
            || !f.calls.is_empty()
            || !f.unseen.is_empty()
            || f.returns.is_some()
            || alternative
    });
    facts.findings.sort_by_key(|f| f.diagnostic.sort_key());
    facts
}

/// Is the type at `path` named like a client or an object store, whose calls make requests
/// (`FeedClient`, `AsyncSmtpTransport`, `AsyncObjectStore`)?
fn is_client_type(path: &str) -> bool {
    let names = serial::names::names();
    let name = path.last_segment();
    (names.clients.matches(name) || names.object_stores.matches(name))
        && !names.one_connection_clients.matches(path)
}

struct Checker<'o, 'a> {
    options: &'o RuleOptions<'a>,
    facts: FileFacts,
    /// Per fn entered: its index in `facts.fns`.
    fns: Vec<usize>,
    /// Per fn entered: its index in `facts.functions` when it is a sync fn of the crates.
    summaries: Vec<Option<usize>>,
    /// Per fn entered: the idle summary being built, for async fns and fns returning futures.
    idle: Vec<Option<IdleBuilder>>,
    /// Per async body entered: what each serial rule found in it so far.
    serial: Vec<Vec<Vec<Found>>>,
    /// Loose calls recorded: (fn, hot region, test code, name).
    loose_seen: HashSet<(Option<usize>, Option<crate::source::Position>, bool, String)>,
    /// The types of the fields of the file's structs, as aliases (see `Model::field_aliases`).
    field_aliases: Vec<(String, String)>,
    /// The items of what methods return (`Type::<m()>::<item>`) and of what iterating each
    /// type yields (`Type::<item>`, as its `iter()`-like methods say): (the method's name, the
    /// alias's key, the type it names if known). See `item_aliases`.
    item_aliases: Vec<(String, String, Option<String>)>,
    /// The indices in `facts.functions` of fns under a `#[cfg(..)]` the run cannot decide,
    /// with that cfg as written.
    cfg_gated: HashMap<usize, String>,
}

/// What an item alias names when the items are of no one type: no function has a key under it,
/// and the longer alias keeps the join from a shorter one's guess.
const NO_ONE_TYPE: &str = "<no one type>";

/// The item aliases a file's methods publish, one per key: generic impls (`impl Set<Conn>` and
/// `impl Set<Config>`, each with an `iter()`) name no one type. A method whose items are not
/// known names none. An `into_iter()` (`impl IntoIterator for &Pool`) says what `for x in
/// &pool` yields, whatever `iter()` says.
fn item_aliases(found: Vec<(String, String, Option<String>)>) -> Vec<(String, String)> {
    let mut by_key: std::collections::BTreeMap<String, Vec<(String, Option<String>)>> = Default::default();
    for (method, key, to) in found {
        by_key.entry(key).or_default().push((method, to));
    }
    by_key
        .into_iter()
        .filter_map(|(key, mut named)| {
            if named.iter().any(|(m, _)| m == "into_iter") {
                named.retain(|(m, _)| m == "into_iter");
            }
            let to = named.first()?.1.clone()?;
            match named.iter().all(|(_, t)| t.as_ref() == Some(&to)) {
                true => Some((key, to)),
                false => Some((key, NO_ONE_TYPE.to_string())),
            }
        })
        .collect()
}

/// What a `for` loop iterates: its iterable, seen through an explicit `into_iter()` and the
/// iterator adaptors after it (their `next` calls the inner iterator's).
/// The explicit `into_iter()` call of a `for` loop's iterable (`it.into_iter().flatten()`),
/// under its adaptors.
fn iterated_through(iterable: &syn::Expr) -> Option<&syn::Expr> {
    let mut e = iterable;
    while let syn::Expr::MethodCall(mc) = e {
        if mc.method == "into_iter" && mc.args.is_empty() {
            return Some(e);
        }
        e = &mc.receiver;
    }
    None
}

fn iterated(iterable: &syn::Expr) -> &syn::Expr {
    const ADAPTORS: [&str; 12] = [
        "filter_map",
        "flatten",
        "filter",
        "map",
        "take",
        "skip",
        "enumerate",
        "take_while",
        "skip_while",
        "peekable",
        "fuse",
        "inspect",
    ];
    let mut e = iterable;
    while let syn::Expr::MethodCall(mc) = e {
        let name = mc.method.to_string();
        if name == "into_iter" && mc.args.is_empty() {
            return &mc.receiver;
        }
        if !ADAPTORS.contains(&name.as_str()) {
            break;
        }
        e = &mc.receiver;
    }
    // Adaptors over anything else (`v.iter().map(..)`): the loop iterates what they return.
    iterable
}

/// The literal arguments of a call (`true`, `false`, `None`, `Some(..)`) by position: a method
/// call's receiver is 0.
fn literals(call: &syn::Expr) -> Vec<(u8, crate::semantic::Lit)> {
    use crate::semantic::Lit;
    let (args, first) = match call {
        syn::Expr::Call(c) => (&c.args, 0),
        syn::Expr::MethodCall(m) => (&m.args, 1),
        _ => return Vec::new(),
    };
    let lit = |e: &syn::Expr| match e {
        syn::Expr::Lit(l) => match &l.lit {
            syn::Lit::Bool(b) if b.value => Some(Lit::True),
            syn::Lit::Bool(_) => Some(Lit::False),
            _ => None,
        },
        syn::Expr::Path(p) if p.path.is_ident("None") => Some(Lit::None),
        syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some")) => {
            Some(Lit::Some)
        }
        _ => None,
    };
    args.iter().enumerate().filter_map(|(i, a)| Some((u8::try_from(i + first).ok()?, lit(a)?))).collect()
}

impl Checker<'_, '_> {
    /// Records a call of a function of the checked crates (`callee`, a key), and `then` a
    /// method called on its result, for the call graph.
    fn record_call(
        &mut self,
        m: &Model,
        callee: &str,
        span: proc_macro2::Span,
        then: Option<&str>,
        awaited: bool,
        literals: Vec<(u8, crate::semantic::Lit)>,
    ) {
        let Some(kind) = m.kind() else { return };
        let origin = self.origin(m);
        // From a closure run off the executor (`thread::spawn(|| rt.block_on(load()))`): the
        // callee runs on that thread.
        let edge_origin = match kind {
            Kind::Offload => {
                let at = m.span(span);
                Origin { hot: Some(semantic::Hot { kind: semantic::HotKind::Thread, at }), ..origin }
            }
            _ => origin,
        };
        self.facts.edges.push(Edge { callee: callee.to_string(), origin: edge_origin, by_name: false });
        let ctx = m.ctx();
        let site = CallSite {
            key: callee.to_string(),
            span: m.span(span),
            context: match kind {
                Kind::Async => ctx.map(|c| c.what.to_string()).unwrap_or_default(),
                _ => String::new(),
            },
            defer: m.defer(),
            origin,
            then: then.map(str::to_string),
            branch: m.branched(),
            repeated: m.repeated(),
            awaited,
            guard: m.guard(),
            literals,
        };
        match kind {
            Kind::Async => self.facts.async_calls.push(site),
            Kind::Sync => self.summarize(m, |f| f.calls.push(site)),
            Kind::Offload => {}
        }
    }

    /// A call the resolver could not name, kept by name for where code runs (once per fn and
    /// region).
    fn loose_call(&mut self, m: &Model, expr: &Expr) {
        // A bare name links only when it is distinctive (`rebuild_index`, not `drain`), and a
        // method only when the receiver's type is unknown: `self.workers.drain(..)` on a `Vec`
        // is no call of the crates' `drain`.
        let distinctive = |name: &str| name.contains('_');
        // Calls through a type parameter (`I::new()`, `x.load(..)` with `x: I`, `I: Importer`)
        // may run any impl of the bound traits' method.
        let through_bounds = |param: &str, method: &str| -> Vec<String> {
            let bounds = m.res.generic_bounds(param).unwrap_or_default();
            bounds.iter().filter_map(|b| b.rsplit("::").next()).map(|t| format!("{t}::{method}")).collect()
        };
        let (names, via_trait) = match expr {
            Expr::MethodCall(mc) => {
                let name = mc.method.to_string();
                match m.res.deref_all(m.res.infer(&mc.receiver)) {
                    semantic::Ty::Param(p) => (through_bounds(&p, &name), true),
                    semantic::Ty::Unknown | semantic::Ty::Member(_) if distinctive(&name) => {
                        (vec![name], false)
                    }
                    _ => return,
                }
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) if p.qself.is_none() => {
                    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                    match segs.as_slice() {
                        [param, method] if m.res.generic(param) => (through_bounds(param, method), true),
                        [name] if !distinctive(name) => return,
                        _ => (vec![segs[segs.len().saturating_sub(2)..].join("::")], false),
                    }
                }
                _ => return,
            },
            _ => return,
        };
        let origin = self.origin(m);
        for name in names {
            let seen = (origin.caller, origin.hot.map(|h| h.at.start), origin.test, name);
            if self.loose_seen.insert(seen.clone()) {
                self.facts.loose_calls.push(LooseCall { name: seen.3, origin, via_trait });
            }
        }
    }

    /// Adds to the summary of the sync fn at hand, unless the code runs once (a cell's
    /// initialiser, a cache miss) or later (a registered callback): not on every call.
    fn summarize(&mut self, m: &Model, add: impl FnOnce(&mut FnSummary)) {
        let once = m
            .ctx()
            .and_then(|c| c.hot)
            .is_some_and(|h| matches!(h.kind, HotKind::Once | HotKind::CacheMiss | HotKind::Registered));
        let stored = m.ctx().is_some_and(|c| c.stored);
        if let (Some(Some(i)), false) = (self.summaries.last(), once || stored) {
            add(&mut self.facts.functions[*i]);
        }
    }

    /// Where the walk is: the fn, its hot region, test code.
    fn origin(&self, m: &Model) -> Origin {
        let ctx = m.ctx();
        Origin { caller: self.fns.last().copied(), hot: ctx.and_then(|c| c.hot), test: m.in_test() }
    }

    /// A finding of the code at hand; in test code only `block_on` is reported unless the run
    /// includes tests (it panics or deadlocks there too), and not in a closure: one a test
    /// hands to a mock server runs where the server calls it, on a thread of its own.
    fn finding(&self, m: &Model, diagnostic: crate::diagnostic::Diagnostic) -> Option<Finding> {
        let origin = self.origin(m);
        let in_closure = m.ctx().is_some_and(|c| c.closure);
        let shown = !origin.test
            || self.options.include_tests
            || diagnostic.rule == Rule::BlockOnInAsync && !in_closure;
        shown.then_some(Finding { diagnostic, origin })
    }
}

impl<'ast> Hooks<'ast> for Checker<'_, '_> {
    fn call(&mut self, m: &Model<'_, 'ast>, expr: &'ast Expr, usage: Use, callee: Option<&str>) {
        if m.kind().is_none() {
            return;
        }
        match blocking::check_call(m, expr, usage, self.options.catalog, self.options.runtime) {
            Some(Verdict::Direct(d)) => {
                if let Some(f) = self.finding(m, d) {
                    self.facts.findings.push(f);
                }
            }
            Some(Verdict::Deferred(key, d)) => {
                if let Some(f) = self.finding(m, d) {
                    self.facts.deferred.push((key, f));
                }
            }
            Some(Verdict::InSync(site)) => self.summarize(m, |f| f.blocking.push(site)),
            None => {}
        }
        if let Some(Some(b)) = self.idle.last_mut() {
            b.call(m, expr);
        }
        let member_call =
            || blocking::field_call(m, expr, usage).filter(|g| blocking::may_block(g, self.options.catalog));
        if let Some(mut g) = blocking::generic_call(m, expr).or_else(member_call) {
            g.origin = self.origin(m);
            if m.kind() == Some(Kind::Sync) {
                let (defer, branch, guard) = (m.defer(), m.branched(), m.guard());
                self.summarize(m, |f| f.unseen.push(UnseenCall { call: g, defer, branch, guard }));
            } else if !g.origin.test || self.options.include_tests {
                self.facts.generic_calls.push(g);
            }
        }
        if let Expr::Call(c) = expr {
            if let (Expr::Path(p), false) = (&*c.func, c.args.is_empty()) {
                if let Some((owner, _)) =
                    m.res.resolve_value(&p.path).as_deref().and_then(|p| p.split_last_sep())
                {
                    let found = blocking::instances(m, owner, c.args.iter(), self.options.catalog);
                    self.facts.instances.extend(found);
                }
            }
        }
        if let Some(key) = callee {
            // An explicit `into_iter()` walked by the chain on it (`WalkDir::new(d).into_iter()
            // .filter_map(..)`) is iterated, as `for x in it` is: the `next` of what it returns
            // runs too. (Bound to a name, it may be walked elsewhere, on a blocking pool.)
            let then = m.is_consumed_iterator(expr).then_some("next");
            self.record_call(m, key, semantic::spans::expr(expr), then, usage.awaited, literals(expr));
        }
        // On a value another file types (`state.store.load(k)`): also by name, for where code
        // runs, should the declaration not lead anywhere.
        if callee.is_none_or(|k| k.contains("::<")) {
            self.loose_call(m, expr);
        }
    }

    fn iterate(&mut self, m: &Model<'_, 'ast>, iterable: &'ast Expr) {
        match blocking::check_iteration(m, iterable, self.options.catalog) {
            Some(Verdict::Direct(d)) => {
                if let Some(f) = self.finding(m, d) {
                    self.facts.findings.push(f);
                }
            }
            Some(Verdict::Deferred(key, d)) => {
                if let Some(f) = self.finding(m, d) {
                    self.facts.deferred.push((key, f));
                }
            }
            Some(Verdict::InSync(site)) => self.summarize(m, |f| f.blocking.push(site)),
            None => {}
        }
        // `for x in it` calls `into_iter` on `it`, then `next` on what that returns; so does
        // `for x in it.into_iter().flatten()`, whose adaptors call the same `next` (recorded
        // with that explicit `into_iter()`, when a chain consumes it).
        let explicit = matches!(iterated_through(iterable), Some(e) if m.is_consumed_iterator(e));
        if let (semantic::Ty::Named(ty, _), false) =
            (m.res.deref_all(m.res.infer(iterated(iterable))), explicit)
        {
            if let Some(key) = m.key(&format!("{ty}::into_iter")) {
                self.record_call(m, &key, semantic::spans::expr(iterable), Some("next"), false, Vec::new());
            }
        }
    }

    fn fn_ref(&mut self, m: &Model<'_, 'ast>, callee: &str, _at: proc_macro2::Span, hot: Option<Hot>) {
        let origin = Origin { hot, ..self.origin(m) };
        self.facts.edges.push(Edge { callee: callee.to_string(), origin, by_name: true });
    }

    fn enter_fn(&mut self, m: &Model<'_, 'ast>) {
        let Some(f) = m.current_fn() else { return };
        // Only a fn directly in the impl (not one nested in its bodies) implements it.
        let implements = m.impl_traits.last().cloned().flatten().filter(|_| f.owner.is_some());
        self.facts.fns.push(FnFacts {
            key: f.key.clone(),
            name: f.name.clone(),
            is_async: f.is_async,
            entry: f.entry,
            root: f.root,
            test: f.test,
            implements: implements.clone(),
            stub: f.stub,
            constructs: f.owner.as_deref().is_some_and(|o| m.res.knowledge.is_constructor(o, &f.name)),
        });
        self.fns.push(self.facts.fns.len() - 1);
        let summary = match (&f.key, m.kind()) {
            (Some(key), Some(Kind::Sync)) => {
                self.facts.functions.push(FnSummary {
                    key: key.clone(),
                    name: f.name.clone(),
                    span: f.ident_span,
                    returns: f.returns.as_deref().and_then(|r| m.key(r)),
                    blocking: Vec::new(),
                    calls: Vec::new(),
                    method: f.method,
                    unseen: Vec::new(),
                });
                if let Some(cfg) = &f.cfg {
                    self.cfg_gated.insert(self.facts.functions.len() - 1, cfg.clone());
                }
                Some(self.facts.functions.len() - 1)
            }
            _ => None,
        };
        self.summaries.push(summary);
        self.idle.push(IdleBuilder::new(f, implements));
        // What a method returns, for calls on it in files that do not see the method
        // (`state.config().reload(..)`; see `Ty::Member`).
        // (And what a free fn returns, for calls in other modules: `crate::state::<app()>`.)
        let owner = f.key.as_deref().and_then(|k| k.split_last_sep()).filter(|_| !f.test);
        if let Some((owner, name)) = owner {
            let member = format!("{name}()");
            let returned = m.member_alias(owner, &member, f.output.clone());
            self.field_aliases.extend(returned.clone());
            // (An async fn's output, as `T::build(..).await` names it: not a sync fn's, whose
            // value awaited is some `IntoFuture`'s output.)
            if f.is_async {
                let awaited = m.member_alias(owner, &format!("{name}().await"), f.output.clone());
                self.field_aliases.extend(awaited);
            }
            // (And the items of what it returns: `for p in registry.snapshot()` with `fn
            // snapshot(&self) -> Vec<Arc<dyn Provider>>`.)
            let method_items = semantic::types::member_path(
                &semantic::types::member_path(owner, &member),
                semantic::types::ITEM,
            );
            // (Not through an `Option` or a `Result`: a caller iterating it whole gets what it
            // holds, one looking through it with `?` or `unwrap()` that value's items, and the
            // member names both alike. Nor, then, through the member alias of a type of the
            // crates it holds, which looks through them: the items are named as no one type.)
            let to = match m.res.deref_all(f.output.clone()).holds_one_value() {
                true => returned.map(|_| NO_ONE_TYPE.to_string()),
                false => m.item_alias(owner, &member, &f.output).map(|(_, to)| to),
            };
            self.item_aliases.push((name.to_string(), method_items, to));
            // (An `iter()` says what the type itself yields: `for p in registry.iter()`, `for p
            // in &registry`.)
            if semantic::types::iterated_member(&semantic::types::member_path(owner, &member)).is_some() {
                // (An `into_iter()` returning `Self::IntoIter`: its impl's `type Item`.)
                let to = m
                    .items_alias(owner, &f.output)
                    .or_else(|| {
                        (name == "into_iter")
                            .then(|| m.item_named(owner, m.res.item_by_into_iterator(owner)?))?
                    })
                    .map(|(_, to)| to);
                self.item_aliases.push((
                    name.to_string(),
                    semantic::types::member_path(owner, semantic::types::ITEM),
                    to,
                ));
            }
            // (It may be another crate's type whose methods block: `fn pool(&self) -> &PgPool`,
            // `fn spawn_exporter() -> JoinHandle<()>`.)
            let returned = blocking::field_instance(
                m,
                owner,
                &member,
                f.output.clone(),
                f.ident_span,
                self.options.catalog,
            );
            self.facts.instances.extend(returned);
        }
    }

    fn exit_fn(&mut self, _m: &Model<'_, 'ast>) {
        self.fns.pop();
        self.summaries.pop();
        if let Some(Some(b)) = self.idle.pop() {
            self.facts.async_fns.push(b.finish());
        }
    }

    fn await_expr(&mut self, m: &Model<'_, 'ast>, a: &'ast ExprAwait) {
        if let Some(Some(b)) = self.idle.last_mut() {
            b.awaited(m, &a.base);
        }
    }

    fn macro_awaits(&mut self, m: &Model<'_, 'ast>, future: &'ast Expr) {
        if let Some(Some(b)) = self.idle.last_mut() {
            b.awaited(m, future);
        }
    }

    fn loop_expr(&mut self, m: &Model<'_, 'ast>, e: &'ast Expr) {
        let Some(body) = m.async_body() else { return };
        let origin = self.origin(m);
        let Some(found) = self.serial.last_mut() else { return };
        for (rule, out) in serial::CHECKS.iter().zip(found.iter_mut()) {
            let before = out.len();
            rule.loop_expr(m, body, e, out);
            out[before..].iter_mut().for_each(|f| f.pending.origin = origin);
        }
    }

    fn block(&mut self, m: &Model<'_, 'ast>, stmts: &'ast [Stmt]) {
        if let Some(Some(b)) = self.idle.last_mut() {
            b.block(m, stmts);
        }
        let Some(body) = m.async_body() else { return };
        let origin = self.origin(m);
        let Some(found) = self.serial.last_mut() else { return };
        for (rule, out) in serial::CHECKS.iter().zip(found.iter_mut()) {
            let before = out.len();
            rule.block(m, body, stmts, out);
            out[before..].iter_mut().for_each(|f| f.pending.origin = origin);
        }
    }

    fn enter_async_body(&mut self, _m: &Model<'_, 'ast>) {
        self.serial.push(vec![Vec::new(); serial::CHECKS.len()]);
    }

    fn exit_async_body(&mut self, _m: &Model<'_, 'ast>) {
        let Some(found) = self.serial.pop() else { return };
        let include_tests = self.options.include_tests;
        for (rule, found) in serial::CHECKS.iter().zip(found) {
            // In a fire-and-forget task nobody waits for the awaits to finish: they gain nothing
            // from running together.
            let detached = |p: &Pending| p.origin.hot.is_some_and(|h| h.kind == HotKind::Detached);
            let pending = rule
                .body_done(found)
                .into_iter()
                .filter(|p| (include_tests || !p.origin.test) && !detached(p));
            self.facts.serial.extend(pending);
        }
    }

    fn struct_item(&mut self, m: &Model<'_, 'ast>, s: &'ast syn::ItemStruct) {
        self.facts.instances.extend(blocking::field_types(m, s, self.options.catalog));
        self.field_aliases.extend(m.field_aliases(s));
        // (Another crate's client in a field, `mailer: AsyncSmtpTransport<..>`: its calls are
        // requests, which another file's serial loop asks the join about.)
        let clients = m.foreign_fields(s).into_iter().filter(|(_, ty)| is_client_type(ty));
        self.facts.client_members.extend(clients.map(|(member, _)| member));
        // (Its other fields: a namesake struct's client field of the same name is then no
        // evidence either way, as the join matches members by type and field name.)
        let Some(owner) = m.key(&format!("{}::{}", m.res.current_module(), s.ident)) else { return };
        for f in &s.fields {
            let Some(name) = &f.ident else { continue };
            let ty = m.res.deref_all(m.res.resolve_type(&f.ty));
            if !ty.path().is_some_and(is_client_type) {
                let member = semantic::types::member_path(&owner, &name.to_string());
                self.facts.other_members.push(semantic::types::member_hash(&member));
            }
        }
    }

    fn type_item(&mut self, m: &Model<'_, 'ast>, t: &'ast syn::ItemType) {
        self.field_aliases.extend(m.type_alias(t));
        self.facts.foreign_aliases.extend(m.foreign_alias(t));
    }

    fn struct_expr(&mut self, m: &Model<'_, 'ast>, s: &'ast syn::ExprStruct) {
        let owner = m.res.resolve_path(&s.path);
        let found = blocking::instances(m, &owner, s.fields.iter().map(|f| &f.expr), self.options.catalog);
        self.facts.instances.extend(found);
    }

    fn item(&mut self, m: &Model<'_, 'ast>, attrs: &'ast [Attribute], span: PmSpan) {
        let allows = attrs
            .iter()
            .filter_map(|a| {
                let names = semantic::context::stall_allows(a);
                (!names.is_empty()).then(|| AttrAllow { names, span: m.span(a.span()) })
            })
            .collect();
        self.facts.items.push(ItemLines { first: span.start().line, last: span.end().line, allows });
    }
}
