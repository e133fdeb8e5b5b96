//! Idle async fns: those that only wait for other tasks (a lock, a notification, a timer) or
//! work one ordered handle (a channel, a writer), directly or through other idle fns. A loop
//! awaiting one of them one call at a time is sequential by design: running the calls together
//! would gain nothing, so the serial-await finding is dropped.
//!
//! The callee often lives in another file, so each file summarises its async fns and keeps its
//! loop findings pending; `settle` decides once every file of the run is known.

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

/// What one async fn waits on.
#[derive(Debug, Clone)]
pub struct AsyncFnSummary {
    pub callee: Callee,
    /// `None` when some await may do I/O; otherwise the fns it awaits, which must be idle too
    /// for this one to be.
    pub waits_on: Option<Vec<Callee>>,
}

/// A finding that stands unless one of the calls its loop awaits is idle.
#[derive(Debug, Clone)]
pub struct Pending {
    pub diagnostic: Diagnostic,
    pub awaited: Vec<Callee>,
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
            if sig.asyncness.is_some() {
                let owner = self.self_type.clone();
                let waits_on = waits_on(body, owner.as_deref());
                let callee = Callee { owner, name: sig.ident.to_string() };
                self.out.push(AsyncFnSummary { callee, waits_on });
            }
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

fn waits_on(body: &Block, self_type: Option<&str>) -> Option<Vec<Callee>> {
    let lets = simple_lets(body);
    let mut calls = Vec::new();
    for a in awaits::direct_awaits(body) {
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
        || (on_handle && awaits::SEQUENTIAL.contains(&n))
    {
        Wait::Idle
    } else {
        Wait::Call(call)
    }
}

/// `let name = init;` bindings of a body (not of closures or async blocks in it).
fn simple_lets(body: &Block) -> HashMap<String, &Expr> {
    struct Lets<'a>(HashMap<String, &'a Expr>);
    impl<'a> Visit<'a> for Lets<'a> {
        fn visit_local(&mut self, l: &'a syn::Local) {
            if let (syn::Pat::Ident(p), Some(init)) = (&l.pat, &l.init) {
                self.0.insert(p.ident.to_string(), &init.expr);
            }
            visit::visit_local(self, l);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut lets = Lets(HashMap::new());
    lets.visit_block(body);
    lets.0
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
    let idle: HashMap<Result<&str, usize>, IdleFns> =
        by_unit.into_iter().map(|(u, s)| (u, IdleFns::new(s.into_iter()))).collect();
    let mut out = Vec::new();
    for (f, (_, _, pending)) in files.iter().enumerate() {
        let idle = &idle[&unit(f)];
        for p in pending.iter() {
            if !p.awaited.iter().any(|c| idle.is_idle(c)) {
                out.push((f, p.diagnostic.clone()));
            }
        }
    }
    out
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
