//! Callees that make a serial await sequential by design, so its finding is dropped:
//! - idle async fns: those that only wait for other tasks (a lock, a notification, a timer) or
//!   work one ordered handle (a channel, a writer), directly or through other idle fns. Running
//!   calls to them together would gain nothing;
//! - recursive descent: a callee that leads back to the fn holding the loop (a resolver walking
//!   name servers, a type lookup walking composite types). Such walks share per-walk state
//!   (depth limits, in-flight guards, caches the earlier steps fill) that concurrent steps
//!   would race on.
//!
//! The callee often lives in another file, so each file summarises its async fns and keeps its
//! findings pending; `settle` decides once every file of the run is known.

use std::collections::{HashMap, HashSet};

use syn::visit::{self, Visit};
use syn::{Block, Expr};

use crate::awaits;
use crate::diagnostic::Diagnostic;

/// A called fn, by name, and by the type it belongs to when the call says (`Self::f`,
/// `self.f()`, `Type::f`); a method called on another value could be any type's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Callee {
    pub owner: Option<String>,
    pub name: String,
}

/// The fn an async body is written in, as a callee.
pub fn within(body: &awaits::AsyncBody) -> Option<Callee> {
    Some(Callee { owner: body.self_type.clone(), name: body.fn_name.clone()? })
}

/// The fn an awaited expression calls, in code whose `Self` is `self_type`.
pub fn callee(e: &Expr, self_type: Option<&str>) -> Option<Callee> {
    let e = awaits::peel_adaptors(e);
    let name = awaits::call_name(e)?;
    let owner = match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.path.segments.len() >= 2 => {
                let ty = p.path.segments[p.path.segments.len() - 2].ident.to_string();
                if ty == "Self" {
                    self_type.map(str::to_string)
                } else {
                    ty.starts_with(|c: char| c.is_ascii_uppercase()).then_some(ty)
                }
            }
            _ => None,
        },
        Expr::MethodCall(m) if matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self")) => {
            self_type.map(str::to_string)
        }
        _ => None,
    };
    Some(Callee { owner, name })
}

/// What one async fn (or sync fn returning a future) waits on.
#[derive(Debug, Clone)]
pub struct AsyncFnSummary {
    pub callee: Callee,
    /// `None` when some await may do I/O; otherwise the fns it awaits, which must be idle too
    /// for this one to be.
    pub waits_on: Option<Vec<Callee>>,
    /// Every fn it awaits (for a sync fn, every fn it calls): the edges of recursion.
    pub calls: Vec<Callee>,
}

/// A finding that stands unless one of the calls it awaits is idle or leads back to `within`.
#[derive(Debug, Clone)]
pub struct Pending {
    pub diagnostic: Diagnostic,
    pub awaited: Vec<Callee>,
    /// The fn the awaits are written in.
    pub within: Option<Callee>,
}

/// Summaries of every async fn and method of a file.
pub fn summarize(file: &syn::File) -> Vec<AsyncFnSummary> {
    #[derive(Default)]
    struct Fns {
        out: Vec<AsyncFnSummary>,
        self_type: Option<String>,
    }
    impl Fns {
        fn add(&mut self, sig: &syn::Signature, body: &Block) {
            let owner = self.self_type.clone();
            let self_type = owner.as_deref();
            let (waits_on, calls) = if sig.asyncness.is_some() {
                let found = awaits::direct_awaits(body);
                let awaited = found.iter().filter_map(|a| callee(&a.base, self_type)).collect();
                (waits_on(body, &found, self_type), awaited)
            } else if returns_future(&sig.output) {
                (None, calls_in(body, self_type))
            } else {
                return;
            };
            let callee = Callee { owner, name: sig.ident.to_string() };
            self.out.push(AsyncFnSummary { callee, waits_on, calls });
        }
    }
    impl<'a> Visit<'a> for Fns {
        fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
            let outer = std::mem::replace(&mut self.self_type, awaits::type_name(&i.self_ty));
            visit::visit_item_impl(self, i);
            self.self_type = outer;
        }
        fn visit_item_trait(&mut self, t: &'a syn::ItemTrait) {
            // A default method's `self` is whichever type implements the trait.
            let outer = self.self_type.take();
            visit::visit_item_trait(self, t);
            self.self_type = outer;
        }
        fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
            self.add(&f.sig, &f.block);
            visit::visit_item_fn(self, f);
        }
        fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
            self.add(&f.sig, &f.block);
            visit::visit_impl_item_fn(self, f);
        }
        fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
            if let Some(body) = &f.default {
                self.add(&f.sig, body);
            }
            visit::visit_trait_item_fn(self, f);
        }
    }
    let mut fns = Fns::default();
    fns.visit_file(file);
    fns.out
}

/// `-> BoxFuture<..>`, `-> Pin<Box<dyn Future<..>>>`, `-> impl Future<..>`.
fn returns_future(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, ty) = output else { return false };
    let mut names = HashSet::new();
    awaits::token_idents(quote::ToTokens::to_token_stream(ty), &mut names);
    names.iter().any(|n| n.contains("Future"))
}

/// Every fn a body calls (not in closures or nested items).
fn calls_in(body: &Block, self_type: Option<&str>) -> Vec<Callee> {
    struct Calls<'s>(Vec<Callee>, Option<&'s str>);
    impl<'a> Visit<'a> for Calls<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if matches!(e, Expr::Call(_) | Expr::MethodCall(_)) {
                self.0.extend(callee(e, self.1));
            }
            visit::visit_expr(self, e);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut calls = Calls(Vec::new(), self_type);
    calls.visit_block(body);
    calls.0
}

/// The fns a body's awaits (`found`) wait on, or `None` when one may do I/O.
fn waits_on(body: &Block, found: &[&syn::ExprAwait], self_type: Option<&str>) -> Option<Vec<Callee>> {
    // Only an await of a bare name (`notified.await`) looks at the lets.
    let awaits_name = found.iter().any(|a| matches!(awaits::peel_adaptors(&a.base), Expr::Path(_)));
    let lets = if awaits_name { awaits::let_inits(body) } else { HashMap::new() };
    let mut calls = Vec::new();
    for a in found {
        match classify(&a.base, &lets, self_type, 0) {
            Wait::Idle => {}
            Wait::Call(c) => calls.push(c),
            Wait::Busy => return None,
        }
    }
    Some(calls)
}

enum Wait {
    Idle,
    /// A call to a fn: idle if that fn is.
    Call(Callee),
    Busy,
}

fn classify(e: &Expr, lets: &HashMap<String, &Expr>, self_type: Option<&str>, depth: usize) -> Wait {
    let e = awaits::peel_adaptors(e);
    // `let notified = self.notify.notified(); .. notified.await`
    if let Expr::Path(p) = e {
        let init = p.path.get_ident().and_then(|i| lets.get(&i.to_string()));
        return match init {
            Some(init) if depth < 4 => classify(init, lets, self_type, depth + 1),
            _ => Wait::Busy,
        };
    }
    let Some(call) = callee(e, self_type) else { return Wait::Busy };
    let name = &call.name;
    let no_args = matches!(e, Expr::MethodCall(m) if m.args.is_empty());
    let on_handle = matches!(e, Expr::MethodCall(m) if awaits::is_handle(&m.receiver));
    let n = name.as_str();
    if (no_args && awaits::IDLE_WAITS.contains(&n))
        || awaits::TIMERS.contains(&n)
        || n == "yield_now"
        || (on_handle && awaits::is_sequential(n))
        || awaits::passes_ordered_handle(e)
    {
        Wait::Idle
    } else {
        Wait::Call(call)
    }
}

/// The idle async fns of one package. A fn counts only if every definition of it is idle
/// (a call that does not say its type stands for every method of that name). A fixed point,
/// as idle fns may await other idle fns.
pub struct IdleFns<'a> {
    idle: HashSet<&'a Callee>,
    by_name: HashMap<&'a str, Vec<&'a Callee>>,
}

impl<'a> IdleFns<'a> {
    pub fn new(summaries: impl Iterator<Item = &'a AsyncFnSummary>) -> Self {
        let mut defs: HashMap<&Callee, Vec<Option<&[Callee]>>> = HashMap::new();
        for s in summaries {
            defs.entry(&s.callee).or_default().push(s.waits_on.as_deref());
        }
        let mut by_name: HashMap<&str, Vec<&Callee>> = HashMap::new();
        for c in defs.keys() {
            by_name.entry(c.name.as_str()).or_default().push(c);
        }
        defs.retain(|_, d| d.iter().all(Option::is_some));
        let mut fns = IdleFns { idle: HashSet::new(), by_name };
        loop {
            let newly: Vec<&Callee> = defs
                .iter()
                .filter(|(c, d)| {
                    !fns.idle.contains(*c) && d.iter().flatten().all(|on| on.iter().all(|c| fns.is_idle(c)))
                })
                .map(|(c, _)| *c)
                .collect();
            if newly.is_empty() {
                return fns;
            }
            fns.idle.extend(newly);
        }
    }

    pub fn is_idle(&self, c: &Callee) -> bool {
        match c.owner {
            Some(_) => self.idle.contains(c),
            None => {
                self.by_name.get(c.name.as_str()).is_some_and(|all| all.iter().all(|d| self.idle.contains(d)))
            }
        }
    }
}

/// The pending findings that stand, as (file index, diagnostic). `files` pairs each file's
/// package with its summaries and pending findings; callees are looked up in the package (a
/// file outside any package is a crate of its own).
pub fn settle(files: &[(Option<&str>, &[AsyncFnSummary], &[Pending])]) -> Vec<(usize, Diagnostic)> {
    let unit = |f: usize| files[f].0.ok_or(f);
    let mut by_unit: HashMap<Result<&str, usize>, Vec<&AsyncFnSummary>> = HashMap::new();
    for (f, (_, summaries, _)) in files.iter().enumerate() {
        by_unit.entry(unit(f)).or_default().extend(summaries.iter());
    }
    let units: HashMap<Result<&str, usize>, (IdleFns, Calls)> = by_unit
        .into_iter()
        .map(|(u, s)| (u, (IdleFns::new(s.iter().copied()), Calls::new(s.iter().copied()))))
        .collect();
    let mut out = Vec::new();
    for (f, (_, _, pending)) in files.iter().enumerate() {
        let (idle, calls) = &units[&unit(f)];
        for p in pending.iter() {
            let recursive = p.within.as_ref().is_some_and(|w| calls.reaches(&p.awaited, w));
            if !recursive && !p.awaited.iter().any(|c| idle.is_idle(c)) {
                out.push((f, p.diagnostic.clone()));
            }
        }
    }
    out
}

/// Which fns the async fns of one package await, by name.
struct Calls<'a> {
    by_name: HashMap<&'a str, Vec<&'a AsyncFnSummary>>,
}

impl<'a> Calls<'a> {
    fn new(summaries: impl Iterator<Item = &'a AsyncFnSummary>) -> Self {
        let mut by_name: HashMap<&str, Vec<&AsyncFnSummary>> = HashMap::new();
        for s in summaries {
            by_name.entry(&s.callee.name).or_default().push(s);
        }
        Calls { by_name }
    }

    /// Do calls to `from` lead, through the awaits of the package's fns, to `target`? A call
    /// reaches every fn of its name that it may be, but only a call that names the same type
    /// (or a free fn) counts as reaching `target`: common method names must not make cycles.
    fn reaches(&self, from: &[Callee], target: &Callee) -> bool {
        let may_be = |call: &Callee, def: &Callee| call.owner.is_none() || call.owner == def.owner;
        let mut seen: HashSet<&Callee> = HashSet::new();
        let mut todo: Vec<&Callee> = from.iter().collect();
        while let Some(c) = todo.pop() {
            if c == target {
                return true;
            }
            if !seen.insert(c) {
                continue;
            }
            for def in self.by_name.get(c.name.as_str()).into_iter().flatten() {
                if may_be(c, &def.callee) {
                    todo.extend(def.calls.iter().filter(|n| !seen.contains(n)));
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle_fns(src: &str) -> Vec<(Option<String>, String)> {
        let file = syn::parse_file(src).unwrap();
        let summaries = summarize(&file);
        let fns = IdleFns::new(summaries.iter());
        let mut out: Vec<_> = summaries
            .iter()
            .filter(|s| fns.is_idle(&s.callee))
            .map(|s| (s.callee.owner.clone(), s.callee.name.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn waits_through_other_fns_and_lets_are_idle() {
        let src = r#"
            impl Pool {
                async fn ready(&self) { let n = self.notify.notified(); n.await; }
                async fn query(&self, q: &str) -> Row { self.conn.query(q).await }
            }
            impl Node {
                async fn wait(&self) { self.pool.ready().await; }
                async fn ping(&self) { self.pool.query("x").await; }
            }
            async fn pure(x: u32) -> u32 { x + 1 }
        "#;
        let idle = idle_fns(src);
        let mut names: Vec<&str> = idle.iter().map(|(_, n)| n.as_str()).collect();
        names.sort();
        assert_eq!(names, ["pure", "ready", "wait"]);
    }

    #[test]
    fn a_busy_namesake_or_a_cycle_keeps_a_fn_busy() {
        let src = r#"
            impl Cache { async fn get(&self, k: u32) -> u32 { *self.map.lock().await.get(&k).unwrap() } }
            impl Remote { async fn get(&self, k: u32) -> u32 { self.http.fetch(k).await } }
            async fn ping() { pong().await }
            async fn pong() { ping().await }
        "#;
        let file = syn::parse_file(src).unwrap();
        let summaries = summarize(&file);
        let fns = IdleFns::new(summaries.iter());
        let get = |owner: Option<&str>| Callee { owner: owner.map(str::to_string), name: "get".into() };
        assert!(fns.is_idle(&get(Some("Cache"))));
        assert!(!fns.is_idle(&get(Some("Remote"))));
        // `x.get(k)` could be either.
        assert!(!fns.is_idle(&get(None)));
        assert!(!fns.is_idle(&Callee { owner: None, name: "ping".into() }));
    }
}
