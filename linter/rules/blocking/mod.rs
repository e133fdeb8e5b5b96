//! The blocking rules: one detector shared by every rule, driven by the catalog (data). It
//! decides whether a call blocks from the catalog and the model's view of its callee and
//! receiver, and words the finding: directly in async code, or (`transitive`) reached through
//! sync functions of the crates. Which rule reports is the catalog entry's `rule`; each rule's
//! file holds its documentation.

mod catalog;
mod twin;
include!(concat!(env!("OUT_DIR"), "/rules_blocking.rs"));

use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall};

pub use catalog::Catalog;
pub(crate) use catalog::CatalogFile;
use catalog::{Api, Rank, Timeout, TimeoutKind, When};

use crate::diagnostic::Diagnostic;
use crate::facts::{BlockSite, GenericCall, Instance};
use crate::project::Runtime;
use crate::qualified::Qualified;
use crate::registry::Rule;
use crate::semantic::knowledge::Unwrap;
use crate::semantic::{Kind, Model, Resolver, Ty, Use, RESULT_METHODS};
use crate::source::Span;

/// What a blocking call in the code at hand amounts to.
pub(crate) enum Verdict {
    /// A finding in async code.
    Direct(Diagnostic),
    /// A finding in a closure handed to a function of the crates (by key): it stands unless
    /// that function runs the closure off the executor.
    Deferred(Vec<String>, Diagnostic),
    /// A blocking call in a sync function, for the call graph.
    InSync(BlockSite),
}

/// Judges one call or method call at the model's position.
pub(crate) fn check_call(
    m: &Model,
    expr: &Expr,
    usage: Use,
    catalog: &Catalog,
    runtime: Option<&Runtime>,
) -> Option<Verdict> {
    let kind = m.kind()?;
    if kind == Kind::Offload || m.nonblocking_io() {
        return None;
    }
    let guards = m.conditions();
    let hit = classify(&m.res, catalog, expr, usage, guards)?;
    // `File::open(p)?.read_to_string(..)`: one finding for the chain, its worst call (the
    // read here; the open's own finding gives way to it on its line, see `graph`).
    if let Expr::MethodCall(mc) = expr {
        if chain_blocks(&m.res, catalog, &mc.receiver, &hit, guards) {
            return None;
        }
    }
    // `File::open(p).and_then(|mut f| f.read_to_string(..))`: the closure continues the chain.
    if m.chained_to().is_some_and(|recv| chain_blocks(&m.res, catalog, recv, &hit, guards)) {
        return None;
    }
    let span = m.span(crate::semantic::spans::called(expr));
    match kind {
        // `recommended_watcher(move |e| { tx.blocking_send(e); })`: a callback for a thread.
        Kind::Async if hit.sync_bridge && m.ctx()?.closure => None,
        // `let entries = std::fs::read_dir(dir)?;` then `entries.filter_map(..)`: one listing,
        // reported at its `read_dir`.
        Kind::Async if hit.continues && made_by_blocking_call(m, catalog, expr, guards) => None,
        Kind::Async => {
            let ctx = m.ctx()?;
            let whole = m.span(crate::semantic::spans::expr(expr));
            let mut d = direct_diagnostic(&hit, span, &ctx.what).with_chain_start(whole);
            // (Writes that build one file piece by piece are one finding: `writeln!(f, ..)`.)
            if matches!(hit.callee.last_segment(), "write" | "write_all" | "write_fmt" | "flush") {
                d.receiver = receiver_name(expr);
            }
            d.brief = hit.rank.brief(m.repeated());
            d.waits = hit.rank.waits();
            if !ctx.closure {
                d.fix = runtime.and_then(|rt| twin::fix(m, expr, &hit, rt));
            }
            Some(match ctx.defer.is_empty() {
                true => Verdict::Direct(d),
                false => Verdict::Deferred(m.defer(), d),
            })
        }
        Kind::Sync if hit.transitive => {
            Some(Verdict::InSync(hit.site(span, m.defer()).placed(m.branched(), m.guard(), m.repeated())))
        }
        Kind::Sync | Kind::Offload => None,
    }
}

/// Judges the iteration of a `for` loop's iterable: `for e in WalkDir::new(dir)` calls
/// `into_iter` on it, which the catalog may say blocks.
pub(crate) fn check_iteration(m: &Model, iterable: &Expr, catalog: &Catalog) -> Option<Verdict> {
    let kind = m.kind()?;
    if kind == Kind::Offload {
        return None;
    }
    let ty = m.res.deref_all(m.res.infer(iterable));
    let path = ty.path()?;
    let api = catalog.method(path, "into_iter")?;
    let hit = Hit::new(api, format!("{}::into_iter", short(path)));
    let span = m.span(crate::semantic::spans::expr(iterable));
    match kind {
        Kind::Async => {
            let ctx = m.ctx()?;
            let d = direct_diagnostic(&hit, span, &ctx.what);
            Some(match ctx.defer.is_empty() {
                true => Verdict::Direct(d),
                false => Verdict::Deferred(m.defer(), d),
            })
        }
        Kind::Sync if hit.transitive => {
            Some(Verdict::InSync(hit.site(span, m.defer()).placed(m.branched(), m.guard(), m.repeated())))
        }
        Kind::Sync | Kind::Offload => None,
    }
}

/// A method called in async code on a value of the impl's type parameter
/// (`self.inner.read(buf)` in `impl<R: Read> Stream for ReaderStream<R>`): whether it blocks
/// depends on what the crates build the type with, which the join knows.
pub(crate) fn generic_call(m: &Model, expr: &Expr) -> Option<GenericCall> {
    let ctx = m.ctx()?;
    if m.kind() != Some(Kind::Async) || !ctx.defer.is_empty() || m.nonblocking_io() {
        return None;
    }
    let Expr::MethodCall(mc) = expr else { return None };
    let Ty::Param(name) = m.res.deref_all(m.res.infer(&mc.receiver)) else { return None };
    let owner = m.key(m.res.generic_owner(&name)?)?;
    Some(GenericCall {
        owner,
        field: None,
        method: mc.method.to_string(),
        span: m.span(crate::semantic::spans::expr(expr)),
        context: ctx.what.to_string(),
        origin: Default::default(),
        repeated: m.repeated(),
        returned: None,
        taken: None,
    })
}

/// A method called in async code on a field of a struct of the crates that this file does not
/// declare (`self.segment.file.write_all(..)`, `state.upstream.http.get(url).send()`): whether
/// it blocks depends on the field's declared type, which the file declaring the struct knows.
pub(crate) fn field_call(m: &Model, expr: &Expr, usage: Use) -> Option<GenericCall> {
    let ctx = m.ctx()?;
    // (In a sync fn, a closure handed to another fn is placed with the site, as `InSync` ones.)
    let placed = match m.kind() {
        Some(Kind::Async) => ctx.defer.is_empty(),
        kind => kind == Some(Kind::Sync),
    };
    if usage.awaited || !placed || m.nonblocking_io() {
        return None;
    }
    let Expr::MethodCall(mc) = expr else { return None };
    let last = mc.method.to_string();
    // (`state.rx.recv().unwrap()`: the call inside is its own field call; `state.audit.write()`
    // takes a lock's guard, it is not the held file's `write(buf)`.)
    if crate::semantic::hands_through(&last) && (mc.args.is_empty() || crate::semantic::transparent(&last)) {
        return None;
    }
    // Down the receivers to the field: the chain's first method. (Not a lock or an unwrap:
    // `state.events.lock().unwrap().recv()` calls the held value's `recv`.)
    let mut first = last.clone();
    let mut receiver = &*mc.receiver;
    let chain = |first: &str| if first == last { last.clone() } else { format!("{first}.{last}") };
    // The innermost getter of another file the chain calls (`state.db.pool()`), and the
    // methods called on what it returns.
    let mut returned = None;
    loop {
        match receiver {
            Expr::MethodCall(inner) => {
                if let Some((owner, getter)) = m.unseen_member(receiver).filter(|(_, g)| g.ends_with("()")) {
                    returned = Some((owner, getter, chain(&first)));
                }
                let method = inner.method.to_string();
                if !crate::semantic::hands_through(&method) {
                    first = method;
                }
                receiver = &inner.receiver;
            }
            Expr::Try(t) => receiver = &t.expr,
            Expr::Paren(p) => receiver = &p.expr,
            _ => break,
        }
    }
    let (owner, field, method) = match m.unseen_member(strip(receiver)) {
        Some((owner, field)) => (owner, field, chain(&first)),
        // (`w.pool().get()` with `w` of a type another file declares.)
        None => returned.take()?,
    };
    // An element of a tuple field (`cvar.wait(g)` with `let (lock, cvar) = &*state.flush`):
    // the field's method `1.wait` (see `field_instance`).
    let (owner, field, method) = match owner.rsplit_once("::<") {
        Some((outer, of)) if field.bytes().all(|b| b.is_ascii_digit()) => {
            let first = method.split('.').next().unwrap_or(&method);
            (outer.to_string(), of.trim_end_matches('>').to_string(), format!("{field}.{first}"))
        }
        _ => (owner, field, method),
    };
    // `conn.query(..)` with `let conn = state.pool.get()?`: the chain `get.query` of field
    // `pool`, unless a getter of the crates' own type answers first.
    // (Past a builder's steps on what a getter returned: `let req = state.http.post(url)
    // .header(..)` is what `post` returned.)
    let knowledge = m.res.knowledge;
    let mut outer = Ty::Member(owner.clone());
    let mut field_of = field.clone();
    while let Some((o, f)) = field_of
        .strip_suffix("()")
        .filter(|step| knowledge.is_builder_step(step))
        .and_then(|_| outer.member_of())
        .filter(|(_, f)| f.ends_with("()"))
        .map(|(o, f)| (o.to_string(), f.to_string()))
    {
        (outer, field_of) = (Ty::Member(o), f);
    }
    let getter = field_of.strip_suffix("()").filter(|g| !g.contains(['<', '>']));
    let taken = match (getter, outer.member_of()) {
        (Some(getter), Some((o, f))) => {
            // (The chain's first method: `conn.execute(..).unwrap_or(0)` calls `execute`.)
            let first = method.split('.').next().unwrap_or(&method);
            Some((o.to_string(), f.to_string(), format!("{getter}.{first}")))
        }
        _ => None,
    };
    Some(GenericCall {
        owner,
        field: Some(field),
        method,
        span: m.span(crate::semantic::spans::expr(expr)),
        context: ctx.what.to_string(),
        origin: Default::default(),
        repeated: m.repeated(),
        returned,
        taken,
    })
}

/// Could `call` block through a member's declared type: does a method of its chains bear a
/// name the catalog lists? (Every blocking site of a member comes from the catalog; keeping
/// only these spares the facts the calls that never resolve, most of them.)
pub(crate) fn may_block(call: &GenericCall, catalog: &Catalog) -> bool {
    let chains = std::iter::once(&call.method)
        .chain(call.returned.iter().map(|(_, _, m)| m))
        .chain(call.taken.iter().map(|(_, _, m)| m));
    chains.flat_map(|c| c.split('.')).any(|m| catalog.has_method_named(m))
}

/// The fields of a struct of the crates declared with a type whose methods block
/// (`file: std::fs::File`, `http: reqwest::blocking::Client`), for calls on the field in files
/// that do not see the declaration (see `field_instance`).
pub(crate) fn field_types(m: &Model, s: &syn::ItemStruct, catalog: &Catalog) -> Vec<Instance> {
    let Some(owner) = m.key(&format!("{}::{}", m.res.current_module(), s.ident)) else { return Vec::new() };
    let fields = s.fields.iter().filter_map(|f| Some((f.ident.as_ref()?, f)));
    fields
        .filter_map(|(name, f)| {
            let ty = m.res.resolve_type(&f.ty);
            field_instance(m, &owner, &name.to_string(), ty, m.span(f.span()), catalog)
        })
        .collect()
}

/// A field of a type of the crates whose type has methods that block: those methods, and
/// chains of two (`get.send`: `get` returns a `RequestBuilder`, whose `send` blocks), for
/// calls on the field in files that do not see the declaration (`state.db_path.exists()`).
/// Likewise what a method of the type returns, as member `name()` (`fn pool(&self) ->
/// &PgPool`, then `state.db.pool().get()`; see `Ty::Member`).
/// The methods of every type the field derefs to count (`PathBuf` -> `Path::exists`); the
/// note names the declared type.
pub(crate) fn field_instance(
    m: &Model,
    owner: &str,
    field: &str,
    ty: Ty,
    span: Span,
    catalog: &Catalog,
) -> Option<Instance> {
    let knowledge = m.res.knowledge;
    // What a lock holds (`Mutex<mpsc::Receiver<_>>`): another file's `state.events.lock()
    // .unwrap().recv()` calls the held value's method, as the model hands locks through.
    // And what an `Option` holds, in the lock or not (`Mutex<Option<Child>>`): the model looks
    // through options (`state.child.lock().unwrap().take().unwrap().wait()`).
    // And what a `Result` holds (`fn checkout(&self) -> Result<PgConn>`, a crate's `Result<T>`
    // alias too): the caller's `?` or `unwrap` hands it on.
    let holds = |t: &Ty| {
        t.holds_one_value()
            || t.path().and_then(|p| knowledge.type_entry(p)).is_some_and(|e| e.is_lock())
            || t.path().is_some_and(crate::semantic::types::glob_lock)
    };
    // A type, the types it derefs to, and what they hold, `rounds` deep.
    let held_through = |ty: Ty, rounds: usize| {
        let mut chain = m.res.deref_chain(ty);
        for _ in 0..rounds {
            let held = chain.iter().rev().find(|t| holds(t)).map(Ty::first_arg);
            match held.filter(|t| *t != Ty::Unknown && !chain.contains(t)) {
                Some(inner) => chain.extend(m.res.deref_chain(inner)),
                None => break,
            }
        }
        chain
    };
    // The catalog's blocking methods of `path`, named `{prefix}{method}`.
    let sites = |path: &str, prefix: &str| -> Vec<(String, BlockSite)> {
        let site =
            |method: &str, api| Hit::new(api, format!("{}::{method}", short(path))).site(span, Vec::new());
        catalog
            .methods_of(path)
            .map(|(method, api)| (format!("{prefix}{method}"), site(method, api)))
            .collect()
    };
    let chain = held_through(ty, 2);
    let declared = chain.first().and_then(|t| t.path().map(str::to_string).or_else(|| t.notation()))?;
    let mut methods: Vec<(String, BlockSite)> = Vec::new();
    // A tuple's elements (`Arc<(Mutex<bool>, Condvar)>`): `1.wait` for its `Condvar`'s `wait`,
    // and through a lock or option an element holds.
    let elements = chain.iter().find_map(|t| match t {
        Ty::Tuple(elems) => Some(elems.clone()),
        _ => None,
    });
    for (i, elem) in elements.into_iter().flatten().enumerate() {
        for path in held_through(elem, 1).iter().filter_map(Ty::path) {
            methods.extend(sites(path, &format!("{i}.")));
        }
    }
    for ty in &chain {
        let Some(path) = ty.path() else { continue };
        methods.extend(sites(path, ""));
        if let Some(entry) = knowledge.type_entry(path) {
            // `get(..)` then, past any builder steps, `send()` of what it returns, or of what
            // that derefs to (a pool's `get` hands out a connection of its manager's driver).
            let args = match ty {
                Ty::Named(_, args) => args.as_slice(),
                _ => &[],
            };
            let steps = entry.returns.iter().map(|(m1, to)| (m1.as_str(), Ty::parse_with(to, args)));
            let chained = entry.chain.iter().map(|m1| (m1.as_str(), ty.clone()));
            for (m1, to) in steps.chain(chained) {
                for to in m.res.deref_chain(to) {
                    let Some(to) = to.path() else { continue };
                    methods.extend(sites(to, &format!("{m1}.")));
                }
            }
            // A collection's element taken out (`get(&id)`, `pop()`), and what it holds:
            // `state.ready_checks.lock().unwrap().get(&id).cloned()`, then `barrier.wait()`,
            // with `ready_checks: Mutex<HashMap<Id, Arc<Barrier>>>`.
            if entry.item.is_some() {
                for (m1, how) in &entry.wraps {
                    let element = match how {
                        Unwrap::Value => args.get(1),
                        Unwrap::Direct | Unwrap::Result => args.first(),
                        Unwrap::Await => None,
                    };
                    for to in element.into_iter().flat_map(|e| held_through(e.clone(), 1)) {
                        let Some(to) = to.path() else { continue };
                        methods.extend(sites(to, &format!("{m1}.")));
                    }
                }
            }
        }
    }
    (!methods.is_empty()).then(|| Instance {
        owner: owner.to_string(),
        field: Some(field.to_string()),
        ty: declared,
        span,
        methods,
    })
}

/// A type of the crates built with a value whose methods block: `ReaderStream::new(file)`
/// (any associated fn of the type) or `ReaderStream { inner: file, .. }` with a `File`.
pub(crate) fn instances<'e>(
    m: &Model,
    owner: &str,
    values: impl Iterator<Item = &'e Expr>,
    catalog: &Catalog,
) -> Vec<Instance> {
    let Some(key) = m.key(owner) else { return Vec::new() };
    if !short(owner).starts_with(|c: char| c.is_ascii_uppercase()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for value in values {
        for ty in m.res.deref_chain(m.res.infer(value)) {
            let Some(path) = ty.path() else { continue };
            let span = m.span(crate::semantic::spans::expr(value));
            let methods: Vec<(String, BlockSite)> = catalog
                .methods_of(path)
                .filter(|(_, api)| api.transitive)
                .map(|(method, api)| {
                    let hit = Hit::new(api, format!("{}::{method}", short(path)));
                    (method.to_string(), hit.site(span, Vec::new()))
                })
                .collect();
            if !methods.is_empty() {
                out.push(Instance { owner: key.clone(), field: None, ty: path.to_string(), span, methods });
                break;
            }
        }
    }
    out
}

/// A method called on a value of a type parameter (`call`) that blocks because the crates
/// build the type with `instance` (`site` is the instance's method of that name; `at` where it
/// is built, for the note).
pub(crate) fn generic_diagnostic(
    call: &GenericCall,
    site: &BlockSite,
    instance: &Instance,
    at: &str,
) -> Diagnostic {
    let owner = short(&instance.owner);
    let mut d =
        Diagnostic::new(site.rule, call.span, format!("blocking call `{}` in {}", site.callee, call.context))
            .with_label(site.reason.clone())
            .with_help(format!("instead, use {}", site.instead));
    d.brief = site.rank.brief(call.repeated);
    d.waits = site.rank.waits();
    d.notes.push(match &instance.field {
        Some(getter) if getter.ends_with("()") => {
            format!("`{owner}::{getter}` returns a `{}` ({at})", instance.ty)
        }
        Some(field) => format!("`{owner}::{field}` is declared as a `{}` at {at}", instance.ty),
        None => {
            format!("`{owner}` is built with a `{}` at {at}, so `{}` blocks here", instance.ty, call.method)
        }
    });
    d
}

/// Does the receiver chain of a method call already block with the same rule, and as badly?
fn chain_blocks(res: &Resolver, catalog: &Catalog, mut expr: &Expr, hit: &Hit, guards: &[&Expr]) -> bool {
    let covers = |h: Hit| h.rule == hit.rule && h.rank >= hit.rank;
    let mut as_result = false;
    loop {
        match expr {
            Expr::Try(t) => {
                expr = &t.expr;
                as_result = true;
            }
            Expr::Paren(p) => expr = &p.expr,
            Expr::Reference(r) => expr = &r.expr,
            Expr::MethodCall(m) => {
                let usage = Use { awaited: false, as_result };
                if classify(res, catalog, expr, usage, guards).is_some_and(covers) {
                    return true;
                }
                as_result = RESULT_METHODS.contains(&m.method.to_string().as_str());
                expr = &m.receiver;
            }
            Expr::Call(_) => {
                let usage = Use { awaited: false, as_result };
                return classify(res, catalog, expr, usage, guards).is_some_and(covers);
            }
            _ => return false,
        }
    }
}

/// A method call on a variable this async body bound to a blocking call's value (`let
/// entries = std::fs::read_dir(dir)?;`, then `entries.count()`): that call is reported where
/// it is made. (Not a parameter, a field, or a value awaited from a blocking pool.)
fn made_by_blocking_call(m: &Model, catalog: &Catalog, expr: &Expr, guards: &[&Expr]) -> bool {
    let Expr::MethodCall(mc) = expr else { return false };
    // (Through the adaptors before it: `entries.flatten().map(..)`.)
    let mut root = crate::semantic::strip_refs(&mc.receiver);
    while let Expr::MethodCall(inner) = root {
        root = crate::semantic::strip_refs(&inner.receiver);
    }
    let Expr::Path(p) = root else { return false };
    let Some(name) = p.path.get_ident() else { return false };
    let Some(mut init) = m.enclosing_body().and_then(|b| b.lets.get(&name.to_string()).copied()) else {
        return false;
    };
    loop {
        match init {
            Expr::Try(t) => init = &t.expr,
            Expr::Paren(p) => init = &p.expr,
            Expr::MethodCall(u) if matches!(u.method.to_string().as_str(), "unwrap" | "expect") => {
                init = &u.receiver
            }
            _ => break,
        }
    }
    let usage = Use { awaited: false, as_result: true };
    classify(&m.res, catalog, init, usage, guards).is_some()
}

/// The local value a method call is made on (`f` in `f.write_all(..)`, `(&mut f).flush()`).
fn receiver_name(expr: &Expr) -> Option<String> {
    let Expr::MethodCall(m) = expr else { return None };
    crate::semantic::ident_of(crate::semantic::strip_refs(&m.receiver))
}

/// A blocking call written in async code.
fn direct_diagnostic(hit: &Hit, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(hit.rule, span, format!("blocking call `{}` in {what}", hit.callee))
        .with_label(hit.reason.clone())
        .with_help(format!("instead, use {}", hit.instead))
}

/// One step of a transitive chain: `name` calls `callee` at `at` (a display path with line
/// and column), because of `why` when it is the blocking call itself.
pub(crate) fn chain_note(name: &str, callee: &str, at: &str, why: Option<&str>) -> String {
    match why {
        Some(why) => format!("`{name}` calls `{callee}` at {at} ({why})"),
        None => format!("`{name}` calls `{callee}` at {at}"),
    }
}

/// A call from async code (`context`) to the crate fn `callee`, which reaches the blocking
/// call `end` through `depth` calls; `notes` are the chain, one step each; `also` are the
/// lesser kinds of blocking call it reaches too (`end` is the worst).
pub(crate) fn transitive_diagnostic(
    span: Span,
    context: &str,
    callee: &str,
    end: &BlockSite,
    depth: usize,
    notes: Vec<String>,
    also: &[&BlockSite],
) -> Diagnostic {
    let calls = if depth == 1 { "1 call".to_string() } else { format!("{depth} calls") };
    let mut d = Diagnostic::new(
        end.rule,
        span,
        format!("`{callee}` blocks in {context}: it reaches `{}`", end.callee),
    )
    .with_label(format!("blocking call {calls} deep: {}", end.reason))
    .with_help(format!(
        "run `{callee}` in `tokio::task::spawn_blocking`, or make it async; instead of `{}`, use {}",
        end.callee, end.instead
    ));
    d.notes = notes;
    for other in also {
        d.notes.push(format!(
            "`{callee}` also reaches `{}` ({}: {}); the worst call reached is reported",
            other.callee,
            other.rule.id(),
            other.reason
        ));
    }
    d
}

/// A blocking call found by the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub rule: Rule,
    /// What was called, for messages: `std::fs::read` or `Receiver::recv`.
    pub callee: String,
    pub reason: String,
    pub instead: String,
    pub twin: Option<String>,
    /// Whether a sync function making this call counts as blocking for its async callers.
    pub transitive: bool,
    pub rank: Rank,
    /// See `BlockingEntry::sync_bridge`.
    pub sync_bridge: bool,
    /// See `BlockingEntry::continues`.
    pub continues: bool,
}

impl Hit {
    fn new(api: &Api, callee: String) -> Hit {
        let name = callee.last_segment().to_string();
        Hit {
            rule: api.rule,
            reason: api.reason.clone(),
            instead: api.instead.replace("{name}", &name),
            twin: api.twin.as_ref().map(|t| t.replace("{name}", &name)),
            transitive: api.transitive,
            rank: api.rank,
            sync_bridge: api.sync_bridge,
            continues: api.continues,
            callee,
        }
    }

    /// The blocking call as a sync fn's summary records it; `defer`: made in a closure handed
    /// to that fn of the crates.
    fn site(self, span: Span, defer: Vec<String>) -> BlockSite {
        BlockSite {
            rule: self.rule,
            callee: self.callee,
            span,
            reason: self.reason,
            instead: self.instead,
            rank: self.rank,
            defer,
            branch: false,
            repeated: false,
            guard: None,
        }
    }
}

/// Does `expr` (a call or method call) block?
/// `guards` are the conditions of the `if`s the call is in (their `then` branches).
fn classify(res: &Resolver, catalog: &Catalog, expr: &Expr, usage: Use, guards: &[&Expr]) -> Option<Hit> {
    if usage.awaited {
        return None;
    }
    match expr {
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            if p.qself.is_some() {
                return None;
            }
            let path = res.resolve_value(&p.path)?;
            let args: Vec<&Expr> = call.args.iter().collect();
            if let Some(api) = catalog.function(&path) {
                let at_once = polls(res, api.timeout, &args)
                    || api.resolves.is_some_and(|i| args.get(i).is_some_and(|a| ip_address(res, a)))
                    || api.path_arg.is_some_and(|i| args.get(i).is_some_and(|a| pseudo_file(res, a)));
                return (!at_once).then(|| Hit::new(api, path));
            }
            // `std::io::read_to_string(io::stdin())`: the work is a method of an argument.
            for forward in catalog.forwards(&path) {
                let Some(arg) = args.get(forward.arg) else { continue };
                if let Some((_, api)) = typed_method(res, catalog, res.infer(arg), &forward.method) {
                    let mut hit = Hit::new(api, path);
                    if let Some(instead) = &forward.instead {
                        hit.instead = instead.clone();
                    }
                    return Some(hit);
                }
            }
            // `Type::method(&mut value, ..)`, the method called as a function.
            let (ty, method) = path.split_last_sep()?;
            let (api, ty) = match catalog.method(ty, method) {
                Some(api) => (api, ty.to_string()),
                // Through a trait, named as a path (`io::Write::write_all(&mut stream, ..)`,
                // `redis::Commands::get(&mut conn, key)`): the method of the value's type.
                // (Not a module's function: `tokio::fs::read_dir(p)` is no `Path::read_dir`.)
                None if !res.is_local(ty)
                    && ty.last_segment().starts_with(|c: char| c.is_ascii_uppercase()) =>
                {
                    let (found, api) = typed_method(res, catalog, res.infer(args.first()?), method)?;
                    (api, found)
                }
                None => return None,
            };
            let polled = polls(res, api.timeout, args.get(1..).unwrap_or_default());
            (!polled).then(|| Hit::new(api, format!("{}::{method}", short(&ty))))
        }
        Expr::MethodCall(m) => classify_method(res, catalog, m, usage, guards),
        // `.map(std::fs::read)`: a blocking function handed to a call that runs it here.
        Expr::Path(p) if p.qself.is_none() => {
            let path = res.resolve_value(&p.path)?;
            if let Some(api) = catalog.function(&path) {
                return Some(Hit::new(api, path));
            }
            let (ty, method) = path.split_last_sep()?;
            let api = catalog.method(ty, method)?;
            Some(Hit::new(api, format!("{}::{method}", short(ty))))
        }
        _ => None,
    }
}

/// Is the call inside `if recv.<ready>() { .. }` on the same receiver (`if h.is_finished() {
/// h.join() }`), so that it returns at once?
fn ready(m: &ExprMethodCall, ready: Option<&str>, guards: &[&Expr]) -> bool {
    let Some(ready) = ready else { return false };
    let tokens = |e: &Expr| quote::ToTokens::to_token_stream(e).to_string();
    let receiver = tokens(strip(&m.receiver));
    fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                conjuncts(&b.left, out);
                conjuncts(&b.right, out);
            }
            Expr::Paren(p) => conjuncts(&p.expr, out),
            _ => out.push(e),
        }
    }
    guards.iter().any(|g| {
        let mut parts = Vec::new();
        conjuncts(g, &mut parts);
        parts.iter().any(|c| match c {
            Expr::MethodCall(c) => c.method == ready && tokens(strip(&c.receiver)) == receiver,
            _ => false,
        })
    })
}

/// Is a timed wait given a bound so short it only polls: a constant `Duration` under a
/// millisecond (`Duration::ZERO`, `from_millis(0)`, `from_micros(200)`, or a `const` of this
/// file holding one), `0` milliseconds, or a deadline of `Instant::now()`?
fn polls(res: &Resolver, timeout: Option<Timeout>, args: &[&Expr]) -> bool {
    let Some(t) = timeout else { return false };
    let Some(arg) = args.get(t.arg) else { return false };
    match t.kind {
        TimeoutKind::Duration => const_nanos(res, arg, 0).is_some_and(|n| n < 1_000_000),
        TimeoutKind::Millis => const_int(res, arg, 0) == Some(0),
        TimeoutKind::Deadline => is_call_to(strip(arg), &["Instant", "now"]),
    }
}

/// Is `receiver` what a call on a kernel pseudo-file returned (`fs::read_dir("/proc/self/fd")`,
/// through `?`, `unwrap` and the like)? Its methods read from memory too.
fn of_pseudo_file(res: &Resolver, catalog: &Catalog, receiver: &Expr) -> bool {
    let mut e = strip(receiver);
    loop {
        match e {
            Expr::MethodCall(m) if crate::semantic::hands_through(&m.method.to_string()) => {
                e = strip(&m.receiver)
            }
            Expr::Try(t) => e = strip(&t.expr),
            _ => break,
        }
    }
    let Expr::Call(call) = e else { return false };
    let Expr::Path(p) = &*call.func else { return false };
    let Some(api) = res.resolve_value(&p.path).and_then(|path| catalog.function(&path)) else { return false };
    api.path_arg.is_some_and(|i| call.args.iter().nth(i).is_some_and(|a| pseudo_file(res, a)))
}

/// Is this the path of a kernel pseudo-file: a literal (or a `format!`, `Path::new`,
/// `PathBuf::from` of one, or a `const` of this file) under `/proc/` or `/sys/`, or the
/// `/dev/fd` directory? The kernel answers reads of those from memory.
fn pseudo_file(res: &Resolver, arg: &Expr) -> bool {
    pseudo_file_in(res, arg, 0)
}

fn pseudo_file_in(res: &Resolver, arg: &Expr, depth: usize) -> bool {
    // (`/dev/fd` lists the open descriptors, as `/proc/self/fd` does; a file in it may be
    // stdin.)
    let pseudo =
        |s: &str| s.starts_with("/proc/") || s.starts_with("/sys/") || matches!(s, "/dev/fd" | "/dev/fd/");
    // (A `const` naming another: a few steps, never a cycle's.)
    if depth > 4 {
        return false;
    }
    let pseudo_file = |res: &Resolver, e: &Expr| pseudo_file_in(res, e, depth + 1);
    match strip(arg) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => pseudo(&s.value()),
        Expr::Macro(m) if m.mac.path.is_ident("format") => m
            .mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
            .ok()
            .and_then(|args| args.into_iter().next())
            .is_some_and(|first| pseudo_file(res, &first)),
        Expr::Call(c)
            if c.args.len() == 1
                && (is_call_to(strip(arg), &["Path", "new"])
                    || is_call_to(strip(arg), &["PathBuf", "from"])) =>
        {
            pseudo_file(res, &c.args[0])
        }
        Expr::Path(p) => p
            .path
            .get_ident()
            .and_then(|name| res.consts.get(&name.to_string()))
            .is_some_and(|value| pseudo_file(res, value)),
        _ => false,
    }
}

/// Is this a socket address with no host name to look up: a literal (`"0.0.0.0:8080"`,
/// `"[::1]:0"`), a tuple with a literal IP (`("127.0.0.1", port)`), or a value of a
/// `SocketAddr` type?
fn ip_address(res: &Resolver, arg: &Expr) -> bool {
    let literal_ip = |e: &Expr| match strip(e) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
            let v = s.value();
            v.parse::<std::net::SocketAddr>().is_ok() || v.parse::<std::net::IpAddr>().is_ok()
        }
        _ => false,
    };
    // A value named an IP (`peer_ip`, `(client_ip.as_str(), 0)`) holds an IP address, not a
    // host name to look up. (Not one named an address: `remote_addr` is often what a client
    // dials, a host name.)
    let named_ip = |e: &Expr| {
        let mut e = strip(e);
        // (`peer_ip.as_str()`, `client_ip.to_string()`.)
        while let Expr::MethodCall(m) = e {
            if !m.args.is_empty() {
                break;
            }
            e = strip(&m.receiver);
        }
        let name = match e {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => Some(n.to_string()),
                syn::Member::Unnamed(_) => None,
            },
            _ => None,
        };
        // (Not `host_or_ip`.)
        name.is_some_and(|n| {
            let words = || n.split('_');
            words().any(|w| w == "ip")
                && !words().any(|w| matches!(w, "or" | "host" | "hostname" | "name" | "domain"))
        })
    };
    match strip(arg) {
        Expr::Tuple(t) => t.elems.first().is_some_and(|e| literal_ip(e) || named_ip(e)),
        e if literal_ip(e) || named_ip(e) => true,
        e => res.deref_all(res.infer(e)).path().is_some_and(|p| {
            matches!(p.rsplit("::").next(), Some("SocketAddr" | "SocketAddrV4" | "SocketAddrV6"))
        }),
    }
}

fn strip(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::Paren(p) => e = &p.expr,
            Expr::Group(g) => e = &g.expr,
            Expr::Reference(r) => e = &r.expr,
            _ => return e,
        }
    }
}

/// Does `e` call a path ending in `tail` (`Duration::from_millis`)?
fn is_call_to(e: &Expr, tail: &[&str]) -> bool {
    let Expr::Call(c) = e else { return false };
    let Expr::Path(p) = &*c.func else { return false };
    path_ends_with(&p.path, tail)
}

fn path_ends_with(path: &syn::Path, tail: &[&str]) -> bool {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.len() >= tail.len() && segs[segs.len() - tail.len()..].iter().zip(tail).all(|(a, b)| a == b)
}

/// The value of a constant `Duration` expression in nanoseconds, when the code says it.
fn const_nanos(res: &Resolver, e: &Expr, depth: usize) -> Option<u128> {
    let e = strip(e);
    if depth > 4 {
        return None;
    }
    match e {
        Expr::Path(p) if path_ends_with(&p.path, &["Duration", "ZERO"]) => Some(0),
        // A `const` of this file.
        Expr::Path(p) => {
            let name = p.path.get_ident()?.to_string();
            res.consts.get(&name).and_then(|init| const_nanos(res, init, depth + 1))
        }
        Expr::Call(c) => {
            let Expr::Path(f) = &*c.func else { return None };
            let ctor = f.path.segments.last()?.ident.to_string();
            let owner = f.path.segments.iter().rev().nth(1).map(|s| s.ident.to_string());
            if owner.as_deref() != Some("Duration") {
                return None;
            }
            let arg = |i: usize| c.args.iter().nth(i).and_then(|a| const_int(res, a, depth + 1));
            let scale: u128 = match ctor.as_str() {
                "from_secs" => 1_000_000_000,
                "from_millis" => 1_000_000,
                "from_micros" => 1_000,
                "from_nanos" => 1,
                "default" => return Some(0),
                "new" => return Some(arg(0)? * 1_000_000_000 + arg(1)?),
                "from_secs_f64" | "from_secs_f32" => {
                    let Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) = strip(c.args.first()?)
                    else {
                        return const_int(res, c.args.first()?, depth + 1).map(|s| s * 1_000_000_000);
                    };
                    let secs: f64 = f.base10_parse().ok()?;
                    return Some((secs * 1e9) as u128);
                }
                _ => return None,
            };
            Some(arg(0)? * scale)
        }
        _ => None,
    }
}

/// The value of a constant integer expression: a literal, or a `const` of this file.
fn const_int(res: &Resolver, e: &Expr, depth: usize) -> Option<u128> {
    match strip(e) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse().ok(),
        Expr::Path(p) if depth < 4 => {
            let name = p.path.get_ident()?.to_string();
            res.consts.get(&name).and_then(|init| const_int(res, init, depth + 1))
        }
        _ => None,
    }
}

fn classify_method(
    res: &Resolver,
    catalog: &Catalog,
    m: &ExprMethodCall,
    usage: Use,
    guards: &[&Expr],
) -> Option<Hit> {
    let method = m.method.to_string();
    let args: Vec<&Expr> = m.args.iter().collect();
    let ty = res.infer(&m.receiver);
    if let Some((path, api)) = typed_method(res, catalog, ty.clone(), &method) {
        if polls(res, api.timeout, &args)
            || ready(m, api.ready.as_deref(), guards)
            || of_pseudo_file(res, catalog, &m.receiver)
        {
            return None;
        }
        return Some(Hit::new(api, format!("{}::{method}", short(&path))));
    }
    let ty = res.deref_all(ty);
    // A receiver of a known type the catalog does not list is not blocking; an unknown one
    // may be, and so may strings and tuples, whose methods come only from std's traits
    // (`(host, port).to_socket_addrs()`, `addr.to_socket_addrs()` with `addr: &str`).
    let receiver_unknown = match &ty {
        Ty::Named(p, _) => matches!(p.as_str(), "str" | "std::string::String"),
        _ => true,
    };
    catalog.untyped(&method).iter().find_map(|entry| {
        if entry.arg_types.is_empty() {
            // `block_on` and tokio's `blocking_*` block whatever they are called on.
            if !receiver_unknown && entry.when != When::Any {
                return None;
            }
        } else if !m.args.iter().any(|a| {
            // The argument's type or one it derefs to (`PooledConnection<ConnectionManager<PgConnection>>`).
            res.deref_chain(res.infer(a))
                .iter()
                .any(|ty| ty.path().is_some_and(|p| entry.arg_types.iter().any(|t| t == p)))
        }) {
            return None;
        }
        let args_match = entry.args.is_none_or(|n| n == m.args.len())
            && !polls(res, entry.timeout, &args)
            && !(entry.resolves_receiver && ip_address(res, &m.receiver));
        let used = match entry.when {
            When::Any => true,
            When::NotAwaited => !usage.awaited,
            When::ResultUsed => usage.as_result,
        };
        (args_match && used).then(|| {
            let api = Api {
                rule: entry.rule,
                reason: entry.reason.clone(),
                instead: entry.instead.clone(),
                twin: None,
                transitive: true,
                timeout: entry.timeout,
                ready: None,
                resolves: None,
                path_arg: None,
                rank: entry.rank,
                sync_bridge: entry.sync_bridge,
                continues: false,
            };
            Hit::new(&api, format!(".{method}()"))
        })
    })
}

/// The catalog entry of `method` on a value of type `ty`, looking through auto-deref (`Arc<Receiver>`,
/// `PathBuf` -> `Path`, `BufReader<File>` -> `File`), with the type that has it.
fn typed_method<'c>(
    res: &Resolver,
    catalog: &'c Catalog,
    mut ty: Ty,
    method: &str,
) -> Option<(String, &'c Api)> {
    for _ in 0..4 {
        let Ty::Named(path, _) = &ty else { return None };
        if let Some(api) = catalog.method(path, method) {
            return Some((path.clone(), api));
        }
        let next = res.deref_once(ty.clone());
        if next == ty {
            return None;
        }
        ty = next;
    }
    None
}

/// `std::sync::mpsc::Receiver` -> `Receiver`, for messages.
fn short(path: &str) -> &str {
    path.last_segment()
}
