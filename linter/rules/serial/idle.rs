//! Per file, what each async fn waits on, so the cross-file stage (`graph::idle`) can tell the
//! awaited fns that only wait for other tasks (a lock, a notification, a timer) or work one
//! ordered handle: running calls to them together would gain nothing.

use syn::Expr;

use super::body;
use super::names::names;
use crate::facts::{AsyncFnSummary, Callee};
use crate::semantic::{strip_try, AsyncBody, FnFrame, Model, Ty};

/// The fn an async body is written in, as a callee.
pub(crate) fn within(body: &AsyncBody) -> Option<Callee> {
    Some(Callee {
        owner: body.self_type.clone(),
        name: body.fn_name.clone()?,
        named_after: None,
        method: false,
        foreign: false,
    })
}

/// The fn an awaited expression calls, in code whose `Self` is `self_type`.
pub(crate) fn callee(e: &Expr, self_type: Option<&str>) -> Option<Callee> {
    let e = body::peel_adaptors(e);
    let name = body::call_name(e)?;
    // What a call by path names before the fn (`Type` of `Type::f`, `Self`).
    let qualifier = match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.path.segments.len() >= 2 => {
                Some(p.path.segments[p.path.segments.len() - 2].ident.to_string())
            }
            _ => None,
        },
        _ => None,
    };
    let by_self = qualifier.as_deref() == Some("Self");
    let owner = match e {
        Expr::Call(_) if by_self => self_type.map(str::to_string),
        Expr::Call(_) => qualifier.filter(|ty| ty.starts_with(|c: char| c.is_ascii_uppercase())),
        Expr::MethodCall(m) if matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self")) => {
            self_type.map(str::to_string)
        }
        _ => None,
    };
    let named_after = match e {
        Expr::MethodCall(m) if owner.is_none() => body::root_ident(&m.receiver)
            .filter(|r| r != "self" && body::is_place(&m.receiver))
            .map(|r| type_name_of(&r)),
        _ => None,
    };
    // (`Self::record(self, ..)` in a trait's default method, with no `Self` type known: a
    // method of the impl, called by path.)
    let method = matches!(e, Expr::MethodCall(_)) || by_self;
    Some(Callee { owner, name, named_after, method, foreign: false })
}

/// `callee`, with the receiver's type where the model knows it (`self.asn.lookup(ip)` with
/// `asn: AsnClient` is `AsnClient`'s `lookup`, not a namesake of the fn it is written in).
pub(crate) fn typed_callee(m: &Model, e: &Expr, self_type: Option<&str>) -> Option<Callee> {
    let mut c = callee(e, self_type)?;
    // `reqwest::get(url)`, `tokio::fs::write(..)`: another crate's fn, none of the package's.
    if let Expr::Call(call) = body::peel_adaptors(e) {
        if let Expr::Path(p) = &*call.func {
            c.foreign = p.path.segments.len() >= 2 && m.res.names_extern_fn(&p.path);
        }
    }
    if let (None, Expr::MethodCall(call)) = (&c.owner, body::peel_adaptors(e)) {
        let ty = m.res.deref_all(m.res.infer(&call.receiver));
        if let Some(name) = ty.last_segment() {
            c.named_after = Some(name.to_string());
            c.foreign = matches!(&ty, Ty::Named(path, _) if path.contains("::") && !m.res.is_local(path));
        }
    }
    Some(c)
}

/// The type a variable's name names: `attachment` -> `Attachment`, `user_key` -> `UserKey`.
fn type_name_of(var: &str) -> String {
    var.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
        .collect()
}

/// The summary of one async fn (or sync fn returning a future) as the walk goes through it.
pub(crate) struct IdleBuilder {
    callee: Callee,
    is_async: bool,
    /// `None` once an await may do I/O.
    waits_on: Option<Vec<Callee>>,
    calls: Vec<Callee>,
    /// It awaits a timer directly.
    timed: bool,
    /// It awaits while holding an exclusive lock it took (`let g = m.lock().await;` then
    /// `work(..).await`): its calls take turns on that lock, so running them together gains
    /// nothing, as for an idle fn.
    holds_lock: bool,
    /// The same, with a lock on a field of `self`: calls on one object take turns on it.
    holds_own_lock: bool,
    implements: Option<String>,
}

impl IdleBuilder {
    /// A builder for the fn the walk just entered, if it is async or returns a future.
    pub(crate) fn new(f: &FnFrame, implements: Option<String>) -> Option<IdleBuilder> {
        (f.is_async || f.returns_future).then(|| IdleBuilder {
            callee: Callee {
                owner: f.owner.clone(),
                name: f.name.clone(),
                named_after: None,
                method: false,
                foreign: false,
            },
            is_async: f.is_async,
            waits_on: if f.is_async { Some(Vec::new()) } else { None },
            calls: Vec::new(),
            timed: false,
            holds_lock: false,
            holds_own_lock: false,
            implements,
        })
    }

    /// A future awaited (`base.await`, or joined by `join!`); it counts when written directly
    /// in the async fn's body.
    pub(crate) fn awaited(&mut self, m: &Model, base: &Expr) {
        let Some(body) = m.async_body().filter(|b| b.is_fn) else { return };
        let owner = self.callee.owner.as_deref();
        self.calls.extend(typed_callee(m, base, owner));
        // A handle the caller gave it (`join_handle.await` on a `JoinHandle` parameter): the
        // task already runs, so waiting for it runs nothing of this fn's own. (A handle it makes
        // itself, `spawn_blocking(..).await`, is its work.)
        let given = match body::peel_adaptors(base) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| m.current_fn().is_some_and(|f| f.params.iter().any(|n| i == n.as_str()))),
            _ => false,
        };
        let wait = match m.type_name(body::peel_adaptors(base)).as_deref() {
            Some("JoinHandle") if given => Wait::Idle,
            _ => classify(base, body, owner, 0),
        };
        match wait {
            Wait::Idle => {}
            Wait::Timer => self.timed = true,
            Wait::Call(mut c) => {
                // Its namesake on a field (`self.db.state(id)` in `Service::state`): delegation,
                // to the type the field holds (a trait object).
                if let Expr::MethodCall(call) = body::peel_adaptors(base) {
                    if c.owner.is_none() && c.name == self.callee.name && self.callee.owner.is_some() {
                        c.named_after = m.type_name(&call.receiver).or(c.named_after.take());
                    }
                }
                if let Some(w) = &mut self.waits_on {
                    w.push(c);
                }
            }
            Wait::Busy => self.waits_on = None,
        }
    }

    /// A block written in the async fn's body: does it take an exclusive async lock in a
    /// statement of its own (`let _held = room.lock().await;`) and await in a later statement,
    /// the guard not dropped before? (The guard lives to the end of its block.) A lock on a
    /// field of `self` is the object's own, not shared by calls on other objects: it does not
    /// count.
    pub(crate) fn block(&mut self, m: &Model, stmts: &[syn::Stmt]) {
        if self.holds_lock || !m.async_body().is_some_and(|b| b.is_fn) {
            return;
        }
        for (i, s) in stmts.iter().enumerate() {
            let syn::Stmt::Local(l) = s else { continue };
            let syn::Pat::Ident(p) = &l.pat else { continue };
            let Some(init) = &l.init else { continue };
            let Some(own) = exclusive_guard(&init.expr) else { continue };
            let name = p.ident.to_string();
            let rest = &stmts[i + 1..];
            let dropped = rest.iter().position(|s| drops(s, &name)).unwrap_or(rest.len());
            if rest[..dropped].iter().any(|s| !body::direct_awaits_stmt(s).is_empty()) {
                match own {
                    true => self.holds_own_lock = true,
                    false => {
                        self.holds_lock = true;
                        return;
                    }
                }
            }
        }
    }

    /// A call; for a fn returning a future, every call outside its closures is an edge.
    pub(crate) fn call(&mut self, m: &Model, e: &Expr) {
        if self.is_async || m.current_fn().is_none_or(|f| f.closures > 0) {
            return;
        }
        self.calls.extend(typed_callee(m, e, self.callee.owner.as_deref()));
    }

    pub(crate) fn finish(self) -> AsyncFnSummary {
        // A fn named for work that only sleeps stands in for that work: not idle.
        let stands_in = self.timed && !names().pacing.matches(&self.callee.name);
        let waits_on = match self.holds_lock {
            true => Some(Vec::new()),
            false => self.waits_on.filter(|_| !stands_in),
        };
        AsyncFnSummary {
            callee: self.callee,
            waits_on,
            calls: self.calls,
            implements: self.implements,
            holds_own_lock: self.holds_own_lock && !self.holds_lock,
        }
    }
}

/// Is `init` an exclusive guard of an async lock (`m.lock().await`, `rw.write().await?`,
/// `locks.lock(&key).await`)? `Some(true)` for a lock on a field of `self`, which calls on
/// other objects do not share. (A read guard's holders may share it; a `std` lock is not held
/// across awaits.)
fn exclusive_guard(init: &Expr) -> Option<bool> {
    let Expr::Await(a) = strip_try(init) else { return None };
    let Expr::MethodCall(m) = body::peel_adaptors(&a.base) else { return None };
    let own_field = matches!(&*m.receiver, Expr::Field(f) if matches!(&*f.base, Expr::Path(p) if p.path.is_ident("self")));
    // (A map of locks takes the key: `self.mutex_federation.lock(&room_id).await`.)
    let method = m.method.to_string();
    let keyed = method == "lock" && m.args.len() == 1;
    ((m.args.is_empty() || keyed) && body::is_exclusive_lock(&method)).then_some(own_field)
}

/// Is `s` `drop(name);`?
fn drops(s: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Expr(Expr::Call(c), _) = s else { return false };
    matches!(&*c.func, Expr::Path(p) if p.path.is_ident("drop"))
        && matches!(c.args.first(), Some(Expr::Path(p)) if p.path.is_ident(name))
}

enum Wait {
    Idle,
    /// Lets time pass: idle when the fn is named for pacing.
    Timer,
    /// A call to a fn: idle if that fn is.
    Call(Callee),
    Busy,
}

/// Is the receiver a local the body bound to a value built by calls (a request builder, a
/// fresh connection), rather than to an outer handle or a clone of one?
fn built_here(receiver: &Expr, body: &AsyncBody) -> bool {
    let Some(root) = body::root_ident(receiver) else { return false };
    let Some(mut init) = body.lets.get(&root).copied() else { return false };
    loop {
        match init {
            Expr::Await(a) => init = &a.base,
            Expr::Try(t) => init = &t.expr,
            Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "clone" | "unwrap" | "expect") => {
                init = &m.receiver
            }
            _ => break,
        }
    }
    !body::is_place(init)
}

fn classify(e: &Expr, body: &AsyncBody, self_type: Option<&str>, depth: usize) -> Wait {
    let e = body::peel_adaptors(e);
    // `let notified = self.notify.notified(); .. notified.await`
    if let Expr::Path(p) = e {
        let init = p.path.get_ident().and_then(|i| body.lets.get(&i.to_string()));
        return match init {
            Some(init) if depth < 4 => classify(init, body, self_type, depth + 1),
            _ => Wait::Busy,
        };
    }
    // `back_off(id).await` with `let back_off = |id| async { limiter.write().await.. }`: the
    // closure's own awaits say what the call waits on.
    if let Expr::Call(c) = e {
        let bound = match &*c.func {
            Expr::Path(p) => p.path.get_ident().and_then(|i| body.lets.get(&i.to_string())).copied(),
            _ => None,
        };
        if let Some(Expr::Closure(closure)) = bound {
            let Expr::Async(block) = &*closure.body else { return Wait::Busy };
            let idle = depth < 4
                && body::direct_awaits_block(&block.block)
                    .iter()
                    .all(|a| matches!(classify(&a.base, body, self_type, depth + 1), Wait::Idle));
            return if idle { Wait::Idle } else { Wait::Busy };
        }
    }
    let Some(call) = callee(e, self_type) else { return Wait::Busy };
    let n = call.name.as_str();
    let no_args = matches!(e, Expr::MethodCall(m) if m.args.is_empty());
    // A long-lived handle (a channel end, a lock, a writer), not a value this fn just built
    // (`let req = self.http.get(url); req.send().await` sends a request).
    let on_handle =
        matches!(e, Expr::MethodCall(m) if body::is_handle(&m.receiver) && !built_here(&m.receiver, body));
    let names = names();
    if names.timers.matches(n) {
        Wait::Timer
    } else if (no_args && names.idle_waits.matches(n))
        || names.yields.matches(n)
        || (on_handle && body::is_sequential(n))
        || body::is_local_or_ordered_effect(n)
        || body::passes_ordered_handle(e)
    {
        Wait::Idle
    } else if checked_out(e) {
        // `self.checkout().await.command(..)`: a method of a value each call awaits afresh (a
        // pooled connection): calls on different values do not take turns, whatever the
        // method does with that value's own stream.
        Wait::Busy
    } else {
        Wait::Call(call)
    }
}

/// Is `e` a method call on a value awaited right there from a call (`pool.get().await?
/// .query(..)`, `self.checkout().await.command(..)`)? Not through a lock of one handle
/// (`self.conn.lock().await.command(..)`): that one is shared.
pub(crate) fn checked_out(e: &Expr) -> bool {
    let Expr::MethodCall(m) = e else { return false };
    let Expr::Await(a) = strip_try(&m.receiver) else { return false };
    match body::peel_adaptors(&a.base) {
        Expr::MethodCall(call) => {
            let method = call.method.to_string();
            !names().guards.matches(&method) && !names().accessors.matches(&method)
        }
        Expr::Call(_) => true,
        _ => false,
    }
}
