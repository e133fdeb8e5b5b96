//! ## What it does
//! Finds loops in async code that await one independent future per iteration:
//! `for url in urls { out.push(fetch(url).await?); }`, `for page in 1..=pages { .. }` once the
//! page count is known, a chain of steps per item (`let d = fetch(&link).await?;
//! save(d).await?;`), a task spawned and awaited in the same iteration, or futures collected
//! first (mapped, pushed, or handed over as `Vec<BoxFuture>` / `I::Item: Future`) and then
//! awaited one by one. The awaited call must take the loop item (or something computed from
//! it) and its result must not feed the next iteration.
//!
//! ## Why is this bad?
//! A future only runs while it is awaited, so the loop runs its requests one after another:
//! ten 100 ms requests take a second instead of 100 ms. The work is independent, so it can
//! run concurrently.
//!
//! ## Example
//! ```rust,ignore
//! async fn fetch_all(client: &Client, urls: &[Url]) -> Result<Vec<Body>> {
//!     let mut bodies = Vec::new();
//!     for url in urls {
//!         bodies.push(client.get(url.clone()).send().await?.bytes().await?);
//!     }
//!     Ok(bodies)
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn fetch_all(client: &Client, urls: &[Url]) -> Result<Vec<Body>> {
//!     futures::future::try_join_all(urls.iter().map(|url| async move {
//!         client.get(url.clone()).send().await?.bytes().await
//!     }))
//!     .await
//! }
//! ```
//! For large or unbounded inputs, bound the concurrency:
//! `futures::stream::iter(urls).map(fetch).buffer_unordered(8)`. For spawned work use
//! `tokio::task::JoinSet`.
//!
//! ## Known limitations
//! To stay quiet when order matters, loops are not reported when they:
//! - can leave early (`break`, `return`, `continue 'outer`); a plain `continue` only skips an
//!   item, and `Err(e) => return ..` hands the error up like `?`, as does `return Err(..)`
//!   under a check of what the iteration's first await gave (`if actual != chunk.hash`) with
//!   only ordered outputs after it: those are reported. (A check gating more work, a health
//!   probe after a restart or a lookup before an insert, still leaves early.)
//! - pace themselves (a sleep or interval tick), use `select!`, or already run futures together
//!   (await the `JoinHandle`s of spawned tasks, also through a helper that takes the handle,
//!   or from a collection filled with them: `let task = tokio::spawn(..);
//!   in_flight.push_back((task, part))`);
//! - run in a fire-and-forget task (spawned from async code, its handle dropped), written in
//!   it or in an async fn only such a task runs: nobody waits for those awaits;
//! - carry a value from one iteration to the next (a cursor, a counter, a page token, a set
//!   of what is still missing that a helper narrows through `&mut missing`); a tally kept
//!   behind a lock (`state.metrics.lock().unwrap().failed += 1`) is bookkeeping, not one;
//! - await through state whose order matters: a `&mut` borrow (connection, transaction), one
//!   connection or transaction passed or called on (`&conn`, `&mut *tx`, a `DbConn`; a pool is
//!   not one, nor a handle a call makes per item such as `&mut ctx.pool()`; nor a client
//!   reached through a mutable borrow, `self.state.api.profile(id)` in a `&mut self` fn,
//!   unless the file declares the method `&mut self` or the client's calls take it, as
//!   tonic's generated clients' do), a channel,
//!   writer, lock or emitter (as receiver or argument) that outlives the iteration, a pipeline
//!   or batch that only queues commands (the results written to a file in turn do not count:
//!   no reader paces a file, and `buffered(n)` keeps the writes in order);
//! - change each item in place and then save it (`for u in users.iter_mut()`);
//! - only write stored state (`store.save(e)`, `Post::update(..)`): in turn on purpose, and
//!   the fix is a batch. Writes through an object store or a client are requests of their
//!   own and are reported: also through a field another file declares as one (unless a
//!   namesake struct of the package, or of one it uses, declares that field otherwise), and
//!   an awaited setter on one (`state.matrix.set_avatar_url(..)`, unless the loop also awaits
//!   a read of what it sets);
//! - do stepwise setup (directories parent first, subscribe, bind, listen), local work (request
//!   signing) or effects a user sees in order (chat replies and reactions), by call name;
//! - walk items the code sorted first (not sorted to keep the top few: sorted, then truncated),
//!   or migrations;
//! - walk two items written out in the code (`for pool in [&primary, &replica]`);
//! - call a method of each member of a collection the struct holds (`for level in
//!   &self.levels { level.check().await }`): a composite of a few parts fixed at construction;
//! - run as phases: several loops of one fn awaiting different methods of one handle
//!   (declare every queue, then bind them, then consume); loops in different arms of one
//!   `match` (or branches of one `if`) never run in one turn, so they are no phases;
//! - await a fn of the package (or, called on a value named after its type, of another
//!   package of the run that defines it; or a method named with several words, on a value of
//!   a type the call does not name, that only other packages of the run define, each
//!   definition so) that only waits for other tasks or never suspends, that holds a lock
//!   it takes (a key's lock of a map of locks too, `mutexes.lock(&room).await`; one of its own
//!   object's fields only when the loop calls it on that one object, `self.push(change)`)
//!   across its later awaits, so the calls take
//!   turns on it, or that leads back to the fn holding the loop (recursive descent; see `idle`);
//!   a method called on a value each call checks out (`pool.get().await?.query(..)`, a
//!   hand-rolled pool's `self.checkout().await.command(..)`) is not idle for its own stream's
//!   sake, as each call has another one;
//! - call a method named like an ordered handle call (`send`, `notify`) on a field of a
//!   struct another file declares, unless that file types the field as a client.
//!
//! A lock taken per key (a room's, a peer's) counts as shared even when the loop walks
//! different keys, so loops whose items would not contend are left alone too.
//!
//! `while` and `loop` are reported only when they drain a queue or iterator the body leaves
//! alone (`while let Some(x) = queue.pop()`, `loop { let Some(x) = it.next() else { break }; .. }`)
//! or count (`while i < jobs.len() { ..; i += 1 }`). Counting loops with constant bounds
//! (`for attempt in 0..3`) and those whose iterations hold a session of their own (a loop
//! awaiting inside, like a numbered test case talking to a server) are left alone: they run in
//! turn on purpose. Callees are matched by name within the package, so a same-named fn
//! elsewhere can hide or keep a finding.

crate::registry::declare_rule! {
    SerialAwaitLoop = "serial-await-loop",
    summary: "independent futures awaited one per loop iteration",
    severity: Warning,
    fixable: false,
}

use rustc_hash::FxHashSet as HashSet;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, Expr, ExprAwait};

use super::body::{self as awaits, BodyFacts};
use super::idle;
use super::names::names;
use super::{Found, SerialRule};
use crate::diagnostic::Diagnostic;
use crate::facts::Pending;
use crate::qualified::Qualified;
use crate::semantic::{AsyncBody, Model, Ty};

/// The rule, as the shared walk runs it.
pub(crate) struct Check;

impl SerialRule for Check {
    fn loop_expr(&self, m: &Model, body: &AsyncBody, e: &Expr, out: &mut Vec<Found>) {
        let loops = Loops { m, body, unless_client: Default::default() };
        let found = match e {
            Expr::ForLoop(l) => {
                let mut items = HashSet::default();
                awaits::bound_names(&l.pat, &mut items);
                // `for page in 1..=pages`: a counting loop over data (pages, shards) counts; one
                // with constant bounds, or one whose iterations hold a session of their own
                // (a loop awaiting inside), is a driver that runs cases in turn on purpose.
                if let Expr::Range(r) = &*l.expr {
                    if !counts_data(r) || awaits_in_nested_loop(&l.body) {
                        return;
                    }
                }
                // (`for ns in api.list(..).await?`: the list is awaited once, before the loop.)
                loops.check_loop(&items, Some(&l.pat), &l.expr, &l.body, Shape::For)
            }
            Expr::While(l) if counter(&l.cond, &l.body).is_some() => {
                // `while i < jobs.len() { .. jobs[i] ..; i += 1 }`: a counting loop spelled out.
                let Some(index) = counter(&l.cond, &l.body) else { return };
                if awaits_in_nested_loop(&l.body) {
                    return;
                }
                let items = HashSet::from_iter([index]);
                loops.check_loop(&items, None, &l.cond, &l.body, Shape::Counter)
            }
            Expr::While(l) => {
                // `while let Some(x) = queue.pop()`: a worklist drained synchronously.
                let Expr::Let(cond) = &*l.cond else { return };
                let queue = drained(&cond.expr);
                if queue.is_none_or(|q| awaits::block_idents(&l.body).contains(&q)) {
                    return;
                }
                let mut items = HashSet::default();
                awaits::bound_names(&cond.pat, &mut items);
                loops.check_loop(&items, Some(&cond.pat), &cond.expr, &l.body, Shape::WhileLet)
            }
            Expr::Loop(l) => {
                // `loop { let x = match iter.next() { Some(x) => x, None => break }; .. }`, or
                // with `let Some(x) = iter.next() else { break };`: the `while let` spelled out.
                let Some((items, source, rest)) = pulled_item(&l.body) else { return };
                let queue = awaits::root_ident(source);
                if queue.is_none_or(|q| awaits::block_idents(&rest).contains(&q)) {
                    return;
                }
                loops.check_loop(&items, None, source, &rest, Shape::Loop)
            }
            _ => None,
        };
        out.extend(found);
    }

    /// Drops loops that run in turn as phases of one protocol: several loops of a body
    /// awaiting different methods of one handle (declare every queue, then bind them, then
    /// consume).
    fn body_done(&self, found: Vec<Found>) -> Vec<Pending> {
        // (Loops in different arms of one `match` are alternatives, not phases of one run.)
        let phase = |f: &Found| {
            let Some((handle, method)) = &f.step else { return false };
            found.iter().any(|g| {
                g.step.as_ref().is_some_and(|(h, m)| h == handle && m != method)
                    && Model::compatible(&f.arms, &g.arms)
            })
        };
        let phases: Vec<bool> = found.iter().map(phase).collect();
        found.into_iter().zip(phases).filter(|(_, p)| !p).map(|(f, _)| f.pending).collect()
    }
}

/// How a loop walks its items.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    For,
    /// `while i < n { ..; i += 1 }`.
    Counter,
    /// `while let Some(x) = queue.pop()`.
    WhileLet,
    /// `loop { let Some(x) = it.next() else { break }; .. }`.
    Loop,
}

impl Shape {
    fn keyword(self) -> &'static str {
        match self {
            Shape::For => "for",
            Shape::Counter => "while",
            Shape::WhileLet => "while let",
            Shape::Loop => "loop",
        }
    }
}

/// One loop's judgement, in the body and at the model's position.
struct Loops<'m, 'a, 'ast> {
    m: &'m Model<'a, 'ast>,
    body: &'m AsyncBody<'ast>,
    /// Awaits taken for ordered handle calls by name alone (`state.feeds.notify(..)`), on
    /// values whose type another file declares, with those values' names: the join tells
    /// whether they are clients, whose calls are requests (`Pending::unless_client`).
    unless_client: std::cell::RefCell<Vec<(*const ExprAwait, String)>>,
}

/// The collection or iterator `e` takes the next item from synchronously (`queue.pop()`,
/// `iter.next()`), if it does.
fn drained(e: &Expr) -> Option<String> {
    let Expr::MethodCall(m) = e else { return None };
    let pulls = names().drains.matches(&m.method.to_string());
    (pulls && m.args.is_empty()).then(|| awaits::root_ident(&m.receiver)).flatten()
}

/// A `loop` body that starts by taking the next item or leaving: the names it binds, the
/// expression it takes them from, and the rest of the body.
fn pulled_item(body: &Block) -> Option<(HashSet<String>, &Expr, Block)> {
    let syn::Stmt::Local(first) = body.stmts.first()? else { return None };
    let init = first.init.as_ref()?;
    let source = match (&*init.expr, &init.diverge) {
        // `let Some(x) = iter.next() else { break };`
        (source, Some((_, diverge))) if is_break(diverge) => source,
        // `let x = match iter.next() { Some(x) => x, None => break };`
        (Expr::Match(m), None) if m.arms.len() == 2 && m.arms.iter().any(|a| is_break(&a.body)) => &*m.expr,
        _ => return None,
    };
    drained(source)?;
    let mut items = HashSet::default();
    awaits::bound_names(&first.pat, &mut items);
    let rest = Block { brace_token: body.brace_token, stmts: body.stmts[1..].to_vec() };
    Some((items, source, rest))
}

/// Does the block pause its thread between steps (`std::thread::sleep(d);` among its
/// statements)? A blocking call, reported as one, but it paces the loop all the same.
fn thread_sleeps(body: &Block) -> bool {
    body.stmts.iter().any(|s| match s {
        syn::Stmt::Expr(Expr::Call(c), _) => matches!(&*c.func, Expr::Path(p)
            if p.path.segments.len() >= 2
                && p.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "thread")
                && p.path.segments.last().is_some_and(|s| s.ident == "sleep")),
        _ => false,
    })
}

/// The field of `self` a loop walks (`self.levels`, `&self.levels`, `self.levels.iter()`).
fn own_field(iterable: &Expr) -> Option<String> {
    let mut e = iterable;
    loop {
        match e {
            Expr::Reference(r) => e = &r.expr,
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "iter" | "iter_mut" | "values" | "into_iter" | "enumerate") =>
            {
                e = &m.receiver
            }
            Expr::Field(f) if matches!(&*f.base, Expr::Path(p) if p.path.is_ident("self")) => {
                return match &f.member {
                    syn::Member::Named(n) => Some(n.to_string()),
                    syn::Member::Unnamed(i) => Some(i.index.to_string()),
                };
            }
            _ => return None,
        }
    }
}

/// Is the awaited call a method of the loop's item (`level.check()`)?
fn called_on(base: &Expr, items: &HashSet<String>) -> bool {
    match awaits::peel_adaptors(base) {
        Expr::MethodCall(m) => awaits::root_ident(&m.receiver).is_some_and(|r| items.contains(&r)),
        _ => false,
    }
}

/// `break` or `{ break }` (without a label or value).
fn is_break(e: &Expr) -> bool {
    match e {
        Expr::Break(b) => b.label.is_none() && b.expr.is_none(),
        Expr::Block(b) => matches!(b.block.stmts.as_slice(), [syn::Stmt::Expr(e, _)] if is_break(e)),
        _ => false,
    }
}

/// Does `e` read a field named in `state` (`self.field`, `st.field`)?
fn reads_carried_field(e: &Expr, state: &HashSet<String>) -> bool {
    // `x.field` the loop changes, read as such or with all of `x` (`fetch(&x)`); `self` is
    // only ever read through its fields here (its methods are its own business).
    struct Fields<'s>(&'s HashSet<String>, bool);
    impl<'a> Visit<'a> for Fields<'_> {
        fn visit_expr_field(&mut self, f: &'a syn::ExprField) {
            if let (Expr::Path(p), syn::Member::Named(n)) = (&*f.base, &f.member) {
                if let Some(root) = p.path.get_ident() {
                    self.1 |= self.0.contains(&format!("{root}.{n}"));
                    return;
                }
            }
            visit::visit_expr_field(self, f);
        }
        fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
            if let Some(root) = p.path.get_ident().filter(|r| *r != "self") {
                let prefix = format!("{root}.");
                self.1 |= self.0.iter().any(|s| s.starts_with(&prefix));
            }
        }
    }
    let mut fields = Fields(state, false);
    fields.visit_expr(e);
    fields.1
}

/// `a..b` with a bound that is not a constant: it counts something the data says (pages,
/// shards), not a fixed number of attempts or cases.
fn counts_data(r: &syn::ExprRange) -> bool {
    let constant = |e: &Option<Box<Expr>>| e.as_deref().is_none_or(|e| matches!(e, Expr::Lit(_)));
    !(constant(&r.start) && constant(&r.end))
}

/// Does the body hold a loop that awaits (a session with each item: read until the peer is
/// done)? Its iterations are exchanges of their own, run in turn on purpose.
fn awaits_in_nested_loop(body: &Block) -> bool {
    awaits::direct_awaits_block(body).len() != awaits::loop_awaits(body).len()
}

/// `while i < n` (or `<=`) whose body changes `i` only by `i += 1` at its end: a counting
/// loop over data (the bound is not a constant). The index's name.
fn counter(cond: &Expr, body: &Block) -> Option<String> {
    let Expr::Binary(b) = cond else { return None };
    if !matches!(b.op, syn::BinOp::Lt(_) | syn::BinOp::Le(_)) || matches!(&*b.right, Expr::Lit(_)) {
        return None;
    }
    let index = awaits::root_ident(&b.left).filter(|_| matches!(&*b.left, Expr::Path(_)))?;
    let step = |s: &syn::Stmt| match s {
        syn::Stmt::Expr(Expr::Binary(b), _) => {
            matches!(b.op, syn::BinOp::AddAssign(_))
                && matches!(&*b.left, Expr::Path(p) if p.path.is_ident(&index))
                && matches!(&*b.right, Expr::Lit(_))
        }
        _ => false,
    };
    let (last, rest) = body.stmts.split_last()?;
    if !step(last) {
        return None;
    }
    let facts = awaits::body_facts(&Block { brace_token: body.brace_token, stmts: rest.to_vec() }, &|_| false);
    (!facts.assigned.contains(&index) && !facts.mutated.contains(&index)).then_some(index)
}

impl Loops<'_, '_, '_> {
    fn check_loop(
        &self,
        items: &HashSet<String>,
        pat: Option<&syn::Pat>,
        iterable: &Expr,
        body: &Block,
        shape: Shape,
    ) -> Option<Found> {
        let keyword = shape.keyword();
        // (`js.publish(..).await?.await?`: the second await takes what the call awaited
        // gave, its ack; the call is what the loop awaits.)
        let mut found = awaits::loop_awaits(body);
        found.retain(|a| !matches!(crate::semantic::strip_try(&a.base), Expr::Await(_)));
        if found.is_empty() {
            return None;
        }
        let path_like = |e: &Expr| {
            let ty = self.m.res.deref_all(self.m.res.infer(e));
            let name = ty.path().and_then(|p| p.rsplit("::").next());
            names().joined_values.matches(name.unwrap_or_default())
        };
        let facts = awaits::body_facts(body, &path_like);
        if facts.exits || facts.calls.iter().any(|c| names().concurrent.matches(c)) || thread_sleeps(body) {
            return None;
        }
        // `if actual != chunk.hash { return Err(..) }` after the fetch: a check of what this
        // item's await gave, failing like `?`. (An error returned on other grounds, `None =>
        // return Err(..)` on the item, may end a batch whose order matters.)
        if facts.fails_fast && !errors_only_on_results(body) {
            return None;
        }
        // Every loop checked here walks items (a `for`, or a `while`/`loop` draining a queue
        // the body leaves alone), so a `continue` only skips an item: the iterations stay
        // independent. One to an outer loop leaves this one.
        if facts.labelled_continue || self.in_order(iterable, items) {
            return None;
        }
        // Two items written out (`for pool in [&primary, &replica]`): a pair fixed in the
        // code, where running both at once would save one round trip at most.
        if written_pair(iterable) {
            return None;
        }
        // Each member of the struct's own collection of trait objects called in turn (`for
        // level in &self.levels { level.check().await }`, `levels: Vec<Arc<dyn Storage>>`): a
        // composite (cache levels, plugins, components) whose parts are few, fixed when it was
        // built, and often tried in order. (A collection of one concrete type, such as cluster
        // nodes, is data: those are reported.)
        if self.composite_parts(iterable) && found.iter().all(|a| called_on(&a.base, items)) {
            return None;
        }
        // A counting loop's index steps by itself: it is the item, not a carried value. (An
        // item the body changes in place, `for u in users.iter_mut() { u.score += 1; .. }`,
        // is carried: the saves follow the changes.)
        let mut carried = carried_names(&facts, body, items);
        if shape == Shape::Counter {
            carried.retain(|n| !items.contains(n));
        }
        let (mut derived, mut pattern_bound) = derived_names(items, body);
        // (A pattern binding named like a variable of the fn, `if let Redirect { url } = &ev`
        // beside a `url` parameter: the name elsewhere is that variable's.)
        pattern_bound.retain(|n| {
            let outer = self.m.res.var(n).is_some();
            if outer {
                derived.remove(n);
            }
            !outer
        });
        let scope = Scope { facts: &facts, carried: &carried, derived: &derived, body };
        // A send or write of something other than the awaited results (`progress.send(file)`
        // after `upload(file).await`) is incidental: the uploads may overlap. Any other
        // ordered await makes the loop sequential, and so does an output of the results
        // (`tx.send(block).await` after `let block = get_block(h).await`): a stream fed in
        // order, at the pace its reader takes them.
        let results = awaited_results(body);
        // (`self.remotes.write().await`, no argument: a lock taken, not a write.)
        let lock = |a: &ExprAwait| {
            matches!(awaits::peel_adaptors(&a.base), Expr::MethodCall(m) if m.args.is_empty() && names().guards.matches(&m.method.to_string()))
        };
        let output = |a: &&ExprAwait| {
            awaits::call_name(&a.base).is_some_and(|n| names().outputs.matches(&n))
                && !lock(a)
                && !awaits::idents(&a.base).iter().any(|n| results.contains(n))
        };
        let sequential: Vec<&&ExprAwait> = found.iter().filter(|a| self.sequential_await(a, &scope)).collect();
        let other_work = found.iter().any(|a| !sequential.contains(&a));
        // The results written to a file in turn (`out.write_all(&data)`, `write_rows(&mut
        // file, &rows)`): no reader paces a file, so the requests before can overlap while
        // `buffered(n)` keeps the writes in order.
        let to_file = |a: &&ExprAwait| self.writes_to_file(&a.base);
        let incidental = other_work && sequential.iter().all(|a| output(a) || to_file(a));
        let into_file = incidental && sequential.iter().any(|a| to_file(a));
        // Ordered only if a value of another file's type is not a client: the join decides.
        let members = self.unless_client.take();
        let member_of = |a: &ExprAwait| members.iter().find(|(p, _)| std::ptr::eq(*p, a)).map(|(_, m)| m.clone());
        let deferred = !incidental && !sequential.is_empty() && sequential.iter().all(|a| member_of(a).is_some());
        if !sequential.is_empty() && !incidental && !deferred {
            return None;
        }
        let unless_client: Vec<String> = match deferred {
            true => sequential.iter().filter_map(|a| member_of(a)).collect(),
            false => Vec::new(),
        };
        let sequential = if deferred { Vec::new() } else { sequential };
        // Only writes (`Post::update(..)`, `delete_alias(..)`, `store.save(e)`): stored state
        // changed in turn on purpose. A loop that also fetches (`download(..)` then `save(..)`)
        // still overlaps, and so do uploads or deletes of objects through an object store, a
        // CDN or an API client (`cdn.put(key, bytes)`), each a request of its own.
        // Appends to a queue or a log keep their order through any receiver.
        let writes = |a: &&ExprAwait| {
            let base = awaits::peel_adaptors(&a.base);
            let name = awaits::call_name(base);
            let write = name.as_deref().is_some_and(|n| names().writes.matches(n) && !names().fetches.matches(n));
            name.as_deref().is_some_and(|n| names().appends.matches(n))
                || write && !matches!(base, Expr::MethodCall(m) if self.is_object_store(&m.receiver))
        };
        // Only checks that fail fast (`x.check_strict_mode(..).await?`, or `if !ok { return
        // Err(..) }` after it): each runs while the ones before passed.
        let propagated = propagated_awaits(body);
        let check = |a: &&ExprAwait| {
            let name = awaits::call_name(awaits::peel_adaptors(&a.base));
            name.is_some_and(|n| names().checks.matches(&n))
                && (facts.fails_fast || propagated.contains(&(*a as *const ExprAwait)))
        };
        if found.iter().all(check) {
            return None;
        }
        // Writes through a field another file declares (`state.matrix.set_avatar_url(..)`):
        // requests if that file types it as a client, which the join decides.
        let mut unless_client = unless_client;
        if found.iter().all(writes) {
            let members: Option<Vec<String>> = found.iter().map(|a| self.written_through_member(a)).collect();
            match members {
                Some(members) => unless_client.extend(members),
                _ => return None,
            }
        }
        let uses_try = body_uses_try(body);
        // (`for (handle, buf) in in_flight { join(handle).await? }` over the handles of tasks
        // spawned earlier: each already runs.)
        let handles = self.spawned_handles(iterable, pat, items);
        let per_item = found.iter().filter(|a| !sequential.contains(a)).find(|a| {
            let inputs = awaits::idents(&a.base);
            let mut of_item = inputs.iter().filter(|n| items.contains(*n)).peekable();
            if of_item.peek().is_some() && of_item.all(|n| handles.contains(n)) {
                return false;
            }
            match awaited_item(&a.base) {
                // `for fut in futs { fut.await }`: fine for spawned handles, serial for futures.
                Some(i) if items.contains(&i) => self.holds_lazy_futures(iterable),
                // (`if let Some(h) = worker.stop() { h.await? }`: a value taken out of what the
                // item gave may be a running task's handle.)
                Some(i) if pattern_bound.contains(&i) => false,
                _ => inputs.iter().any(|n| derived.contains(n)),
            }
        });
        let a = per_item?;
        let awaited = compact(awaits::peel_adaptors(&a.base));
        // At the await that waits for each item in turn: the call to run together (where its
        // expression starts; at the `.await` of a chain over several lines, where it waits).
        let span = self.m.span(crate::semantic::spans::awaited(a));
        let whole = self.m.span(a.span());
        let join = if uses_try { "futures::future::try_join_all" } else { "futures::future::join_all" };
        // `for fut in futs { fut.await }`: the futures exist already; otherwise they are built
        // from the items.
        let prebuilt = awaited_item(&a.base).is_some_and(|i| items.contains(&i));
        let help = if into_file {
            "overlap the requests and keep the writes in order: \
             `futures::stream::iter(..).map(|item| async move { .. }).buffered(n)` runs the \
             requests, then write each result as it comes"
                .to_string()
        } else if prebuilt {
            let futs = compact(iterable);
            format!(
                "await them together: `{join}({futs}).await`, or collect them into a \
                 `futures::stream::FuturesUnordered` to handle each result as it completes; \
                 many at once may need a limit: `futures::stream::iter({futs}).buffer_unordered(n)`"
            )
        } else if found.len() >= 2 {
            // `let d = fetch(&link).await?; save(d).await?;`: a chain of steps per item.
            format!(
                "run each item's steps in one async block and the blocks concurrently: \
                 `futures::stream::iter(..).map(|item| async move {{ .. }}).buffer_unordered(n)`, \
                 or `{join}` over the blocks; unbounded concurrency may need a limit"
            )
        } else {
            format!(
                "run the iterations concurrently: `{join}(..)` over the items, \
                 `futures::stream::iter(..).buffer_unordered(n)` to bound how many run at once, \
                 a `FuturesUnordered` to handle results as they complete, or \
                 `tokio::task::JoinSet` for spawned work; unbounded concurrency may need a limit"
            )
        };
        let d = Diagnostic::new(
            RULE,
            span,
            format!("`{keyword}` loop awaits `{awaited}` one iteration at a time"),
        )
        .with_label("each iteration waits for the previous one to finish")
        .with_help(help)
        .with_chain_start(whole);
        // Awaiting a fn that only takes locks, waits for a notification, or never suspends
        // gains nothing from running together: the join drops those (see `idle`).
        let self_type = self.body.self_type.as_deref();
        // (`for result in items.iter().map(|p| validate(p)) { result.await }`: the item is a
        // future of the mapped call.)
        let mapped = mapped_call(iterable);
        let awaited = found
            .iter()
            // (A helper writing to the file only writes in turn: the requests decide.)
            .filter(|a| !(into_file && self.writes_to_file(&a.base)))
            .filter_map(|a| match (awaits::peel_adaptors(&a.base), mapped) {
                (Expr::Path(p), Some(call)) if p.path.get_ident().is_some_and(|i| items.contains(&i.to_string())) => {
                    idle::typed_callee(self.m, call, self_type)
                }
                // (On a value each iteration checks out, the method's own idleness is not
                // the loop's: see `idle::checked_out`.)
                (base, _) if idle::checked_out(base) => None,
                (base, _) => idle::typed_callee(self.m, base, self_type),
            })
            .collect();
        let step = match awaits::peel_adaptors(&a.base) {
            Expr::MethodCall(m) => Some((compact(&m.receiver), m.method.to_string())),
            _ => None,
        };
        let within = idle::within(self.body);
        let pending = Pending { diagnostic: d, awaited, unless_client, within, origin: Default::default() };
        Some(Found { pending, step, arms: self.m.arms.clone() })
    }

    /// The field another file declares that an awaited write is called on (`state.matrix` of
    /// `state.matrix.set_avatar_url(..)`), as the model names it.
    fn written_through_member(&self, a: &ExprAwait) -> Option<String> {
        let Expr::MethodCall(m) = awaits::peel_adaptors(&a.base) else { return None };
        if names().appends.matches(&m.method.to_string()) {
            return None;
        }
        match self.m.res.deref_all(self.m.res.infer(&m.receiver)) {
            Ty::Member(member) => Some(member),
            _ => None,
        }
    }

    /// Is this handle of a client type (as the model types it: a parameter, a field, a local),
    /// whose `send` makes a request rather than queueing in order?
    fn is_client(&self, handle: &Expr) -> bool {
        // (tonic's generated clients, `GreeterClient<Channel>`, take `&mut self` per call.)
        let over_channel = |args: &[Ty]| {
            args.iter().any(|a| a.path().is_some_and(|p| matches!(p.last_segment(), "Channel" | "InterceptedService")))
        };
        let one_connection = match self.m.res.deref_all(self.m.res.infer(handle)) {
            Ty::Named(path, args) => names().one_connection_clients.matches(&path) || over_channel(&args),
            _ => false,
        };
        !one_connection && self.m.type_name(handle).is_some_and(|t| names().clients.matches(&t))
    }

    /// Is this handle an object store's, a CDN's or an API client's (by its name or its type)?
    /// Each write through it is a request of its own.
    fn is_object_store(&self, handle: &Expr) -> bool {
        let stores = &names().object_stores;
        awaits::handle_name(handle).is_some_and(|h| stores.matches(&h))
            || self.m.type_name(handle).is_some_and(|t| stores.matches(&t) || names().clients.matches(&t))
    }

    /// Is this handle one connection or transaction (by its name or its type), which runs
    /// one statement at a time, rather than a pool?
    fn is_connection(&self, handle: &Expr) -> bool {
        let name = awaits::handle_name(handle);
        let ty = self.m.type_name(handle);
        let pool = name.as_deref().is_some_and(|n| names().pools.matches(n))
            || ty.as_deref().is_some_and(|t| names().pools.matches(t));
        let conn = name.as_deref().is_some_and(|n| names().connections.matches(n))
            || ty.as_deref().is_some_and(|t| names().connections.matches(t));
        conn && !pool
    }

    /// Does this await write to a file the loop shares: a write method on it, or a call
    /// lending it (`write_rows(&mut file, &rows)`), every place lent being a file?
    fn writes_to_file(&self, base: &Expr) -> bool {
        let file = |ty: Ty| {
            let ty = self.m.res.deref_all(ty);
            match ty.last_segment() {
                Some("File") => true,
                Some("BufWriter") => ty.first_arg().path().is_some_and(|p| p.ends_with("File")),
                _ => false,
            }
        };
        let lent = awaits::mut_borrows(base);
        match awaits::peel_adaptors(base) {
            Expr::MethodCall(m) if names().outputs.matches(&m.method.to_string()) => file(self.m.res.infer(&m.receiver)),
            Expr::Call(_) if !lent.is_empty() => lent.iter().all(|n| self.m.res.var(n).is_some_and(|t| file(t.clone()))),
            _ => false,
        }
    }

    /// Is this handle an exclusive lock guard the fn took (`let guard = state.lock().await`,
    /// `let g = rw.write().unwrap()`)?
    fn is_guard(&self, handle: &Expr) -> bool {
        let Some(name) = awaits::root_ident(handle) else { return false };
        let Some(mut init) = self.body.lets.get(&name).copied() else { return false };
        loop {
            init = match init {
                Expr::Await(a) => &a.base,
                Expr::Try(t) => &t.expr,
                Expr::Paren(p) => &p.expr,
                // An exclusive guard: a read guard's holders may share it.
                Expr::MethodCall(m) if awaits::is_exclusive_lock(&m.method.to_string()) => {
                    return true;
                }
                // `.lock().unwrap()`, `.write().expect(..)`: the guard under the result.
                Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => &m.receiver,
                _ => return false,
            }
        }
    }

    /// Why an awaited expression makes the loop sequential by design, if it does.
    fn sequential_await(&self, a: &ExprAwait, s: &Scope) -> bool {
        self.ordered_await(a, s, true)
    }

    /// `sequential_await`; with `defer`, a call ordered only by its name on a value another file
    /// types is recorded for the join to decide (`unless_client`), unless something else orders
    /// it; without, such a call's name does not order it.
    fn ordered_await(&self, a: &ExprAwait, s: &Scope, defer: bool) -> bool {
        let base = &*a.base;
        let name = awaits::call_name(base).unwrap_or_default();
        if names().timers.matches(&name) || names().yields.matches(&name) {
            return true;
        }
        // Taking a lock or a permit in each iteration (`let state = room.lock().await`, then
        // work under it): the iterations take turns, and the wait is not work to overlap.
        if matches!(base, Expr::MethodCall(_)) && names().guards.matches(&name) {
            return true;
        }
        // A handle made in this iteration (`let mut f = File::create(p).await?`) is the item's
        // own, not a long-lived one whose order matters; an alias of an outer one still is.
        let per_iteration = |h: &Expr| {
            awaits::root_ident(h).is_some_and(|r| s.facts.declared.contains(&r) && !aliases_outer(s.body, &r))
        };
        // `tx.send(..)`, `self.writer.write_all(..)`, `rx.recv()`: a call on a long-lived handle.
        // (`client.get(url).send()` sends a request built for this item: not sequential.)
        if let Expr::MethodCall(m) = base {
            // (`mailer.send(message)` on an SMTP transport or an API client is a request.)
            let ordered = awaits::is_sequential(&name)
                && awaits::is_handle(&m.receiver)
                && !self.is_client(&m.receiver)
                && !per_iteration(&m.receiver);
            // (`state.feeds.notify(hook, ..)` with `feeds` declared in another file: a client's
            // request if that file's type is one; the join decides.)
            let member = match self.m.res.deref_all(self.m.res.infer(&m.receiver)) {
                Ty::Member(member) if ordered => Some(member),
                _ => None,
            };
            if let Some(member) = member {
                if defer && !self.ordered_await(a, s, false) {
                    self.unless_client.borrow_mut().push((a as *const ExprAwait, member));
                }
                if defer || awaits::is_queue_of_commands(&m.receiver) {
                    return true;
                }
            } else if ordered || awaits::is_queue_of_commands(&m.receiver) {
                return true;
            }
        }
        if names().stepwise.matches(&name) || awaits::passes_ordered_handle(base) {
            return true;
        }
        if awaits::is_local_or_ordered_effect(&name) {
            return true;
        }
        let inputs = awaits::idents(base);
        let local = |n: &String| s.facts.declared.contains(n);
        // A value the loop changes feeds this await: a cursor, a counter, a page token (directly
        // or through a `let` computed from it).
        if inputs.iter().any(|n| s.carried.contains(n)) || reads_carried_field(base, s.carried) {
            return true;
        }
        // `fetch(&conn, id)`, `insert(&mut *tx, row)`, `db.load(id)` with `db: &DbConn`: one
        // connection or transaction shared by the iterations runs their statements in turn.
        let shared = |h: &Expr| {
            awaits::root_ident(h).is_some_and(|r| !local(&r) && !s.derived.contains(&r))
        };
        if awaits::handles(base).into_iter().any(|h| shared(h) && self.is_connection(h)) {
            return true;
        }
        // `append(pdu, &state_lock)` with `let state_lock = mutex.lock().await` before the loop:
        // every iteration works under the one guard, so they run in turn however they are joined.
        if awaits::handles(base).into_iter().any(|h| shared(h) && self.is_guard(h)) {
            return true;
        }
        // `execute(&mut conn)`, `tx.query(..)` on a `let mut tx`, `self.x(..)` in a `&mut self`
        // fn, `f(req)` with `req: &mut Request`: one mutable borrow, used by one call at a time.
        let outer_mutable = &self.body.mutable;
        let outer_mut = |n: &String| !local(n) && outer_mutable.contains(n);
        // (`self.upload(p)` with `fn upload(&self, ..)` declared here borrows it shared.)
        let shared_self = match base {
            Expr::MethodCall(m) if matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self")) => {
                let ty = self.body.self_type.as_deref();
                ty.is_some_and(|ty| self.m.res.borrows_self_shared(ty, &m.method.to_string()))
            }
            _ => false,
        };
        if awaits::mut_borrows(base).iter().any(|n| !local(n)) || awaits::bare_args(base).iter().any(outer_mut) {
            return true;
        }
        let Expr::MethodCall(m) = base else { return false };
        if shared_self || !awaits::root_ident(base).is_some_and(|r| outer_mut(&r)) {
            return false;
        }
        // A client's method called through the mutable borrow (`self.state.platform
        // .profile(id)` in a `&mut self` fn) borrows the client shared: a request per call.
        // Whether a field another file declares is a client, the join decides.
        if !matches!(&*m.receiver, Expr::Path(_)) {
            // (`self.client.get(url).send()`: a request built from the client, by `get`.)
            let (mut built_from, mut first) = (&*m.receiver, &m.method);
            while let Expr::MethodCall(inner) = built_from {
                (built_from, first) = (&inner.receiver, &inner.method);
            }
            // (Unless the file declares that method taking `&mut self`: one call at a time.)
            let first = first.to_string();
            let exclusive = self.m.type_name(built_from).is_some_and(|t| self.m.res.borrows_self_mut(&t, &first));
            if !exclusive && (self.is_client(&m.receiver) || self.is_client(built_from)) {
                return false;
            }
            if let Ty::Member(member) = self.m.res.deref_all(self.m.res.infer(&m.receiver)) {
                if defer {
                    self.unless_client.borrow_mut().push((a as *const ExprAwait, member));
                }
                return defer;
            }
        }
        true
    }

    /// Does the loop walk a field of `self` declared as a collection of trait objects
    /// (`Vec<Arc<dyn Storage>>`)?
    fn composite_parts(&self, iterable: &Expr) -> bool {
        let Some(field) = own_field(iterable) else { return false };
        let Some(owner) = self.body.self_type.as_deref() else { return false };
        let Some(ty) = self.m.res.structs.get(owner).and_then(|fields| fields.get(&field)) else { return false };
        let text = quote::quote!(#ty).to_string();
        text.split_whitespace().any(|w| w == "dyn")
    }

    /// Does the code say the items must be handled in order: a collection sorted before the
    /// loop (`pending.sort_by_key(|m| m.version)`, `.sorted()`; not one truncated since), or
    /// migrations?
    fn in_order(&self, iterable: &Expr, items: &HashSet<String>) -> bool {
        let Some(name) = awaits::root_ident(iterable) else { return false };
        let ordered = |n: &str| names().ordered_collections.matches(&n.to_lowercase());
        if ordered(&name) || items.iter().any(|i| ordered(i)) {
            return true;
        }
        let sorted = |e: &Expr| awaits::all_names(e).iter().any(|n| n.starts_with("sort"));
        sorted(iterable) || self.body.lets.get(&name).is_some_and(|init| sorted(init)) || self.body.sorted.contains(&name)
    }

    /// The names the loop binds to handles of tasks spawned before it: every item's, when each
    /// value pushed into the collection is a spawn or a name bound to one (`handles.push(tokio::
    /// spawn(..))`), or the collection was made as one of handles (`VecDeque::<(JoinHandle<_>,
    /// Bytes)>::new()`); the tuple elements holding them when pushed as tuples (`let task =
    /// tokio::spawn(..); in_flight.push_back((task, part))`). Not what a spawned task returned
    /// (`spawn_blocking(move || walk(dir)).await?`): values.
    fn spawned_handles(&self, iterable: &Expr, pat: Option<&syn::Pat>, items: &HashSet<String>) -> HashSet<String> {
        let spawned = |e: &Expr| !is_awaited(e) && mentions_spawn(e);
        let handle = |e: &Expr| match e {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.body.lets.get(&i.to_string()))
                .is_some_and(|init| spawned(init)),
            Expr::Call(_) | Expr::MethodCall(_) => spawned(e),
            _ => false,
        };
        // (`Some((task, key))` binds the tuple inside.)
        let pat = match pat {
            Some(syn::Pat::TupleStruct(t)) if t.elems.len() == 1 => t.elems.first(),
            other => other,
        };
        // `for (i, h) in handles.into_iter().enumerate()`: the handle is the second element.
        let enumerated = matches!(iterable, Expr::MethodCall(m) if m.method == "enumerate");
        for name in awaits::idents(iterable) {
            if let Some(pushed) = self.body.pushed.get(&name) {
                if pushed.iter().all(|e| handle(e)) {
                    return match pat {
                        Some(syn::Pat::Tuple(t)) if enumerated && t.elems.len() == 2 => {
                            let mut out = HashSet::default();
                            awaits::bound_names(&t.elems[1], &mut out);
                            out
                        }
                        _ => items.clone(),
                    };
                }
                // Tuple positions holding a handle in every push.
                let positions = |e: &&Expr| match e {
                    Expr::Tuple(t) => Some(t.elems.iter().map(&handle).collect::<Vec<bool>>()),
                    _ => None,
                };
                let Some(first) = pushed.first().and_then(positions) else { continue };
                let all = pushed.iter().filter_map(positions).collect::<Vec<_>>();
                let held = |i: usize| all.iter().all(|p| p.get(i) == Some(&true));
                if all.len() != pushed.len() || all.iter().any(|p| p.len() != first.len()) || !(0..first.len()).any(held) {
                    continue;
                }
                // (A name for the whole tuple, `entry.0.await`: which element an await uses is
                // not followed, so all count.)
                let Some(syn::Pat::Tuple(t)) = pat else { return items.clone() };
                let mut out = HashSet::default();
                for (_, elem) in t.elems.iter().enumerate().filter(|(i, _)| held(*i)) {
                    awaits::bound_names(elem, &mut out);
                }
                return out;
            }
            if self.body.lets.get(&name).is_some_and(|init| spawned(init)) {
                return items.clone();
            }
        }
        HashSet::default()
    }

    /// Is the iterated collection made of futures not yet started, rather than handles of
    /// spawned tasks (which already run)? Futures built by mapping a call, pushed as calls
    /// (`pending.push(client.user(id))`), or a parameter whose declared type says futures
    /// (`Vec<BoxFuture<..>>`, `I: IntoIterator` with `I::Item: Future`). Any collection the
    /// iterable names counts (`ids.iter().zip(futs)`).
    fn holds_lazy_futures(&self, iterable: &Expr) -> bool {
        let spawned = mentions_spawn;
        // Written in the loop's head (`for page in urls.iter().map(|u| fetch(client, u))`): a
        // fn called by its plain name on the item, not a method of it (`p.ack()`, `h.map(..)`
        // of a running task's handle) nor a wrapper of it (`timeout(d, h)`).
        let fresh_call = match mapped_call(iterable) {
            Some(Expr::Call(c)) => match &*c.func {
                Expr::Path(p) => p.path.get_ident().is_some_and(|name| {
                    let name = name.to_string();
                    let n = names();
                    !n.timers.matches(&name) && !n.adaptors.matches(&name) && !n.timeouts.matches(&name)
                }),
                _ => false,
            },
            _ => false,
        };
        if fresh_call && !spawned(iterable) {
            return true;
        }
        awaits::idents(iterable).iter().any(|name| {
            if self.body.futures.contains(name) {
                return true;
            }
            if names().spawned.matches(name) {
                return false;
            }
            if let Some(pushed) = self.body.pushed.get(name) {
                return !pushed.iter().any(|e| spawned(e))
                    && pushed.iter().all(|e| matches!(e, Expr::Call(_) | Expr::MethodCall(_) | Expr::Async(_)));
            }
            let Some(init) = self.body.lets.get(name) else { return false };
            if spawned(init) {
                return false;
            }
            let mut finder = MapsToCall(false);
            finder.visit_expr(init);
            finder.0
        })
    }
}

/// Does `e` name a spawn or running tasks' handles (`tokio::spawn(..)`, `handles`)?
fn mentions_spawn(e: &Expr) -> bool {
    awaits::all_names(e).iter().any(|n| names().spawned.matches(n))
}

/// Is `e` a value a future gave, down a chain of `?` and methods (`spawn_blocking(..).await
/// .map_err(..)??`)?
fn is_awaited(e: &Expr) -> bool {
    let mut e = e;
    loop {
        match e {
            Expr::Try(t) => e = &t.expr,
            Expr::MethodCall(m) => e = &m.receiver,
            Expr::Paren(p) => e = &p.expr,
            Expr::Await(_) => return true,
            _ => return false,
        }
    }
}

/// What one iteration's judgement needs of the body.
struct Scope<'s> {
    facts: &'s BodyFacts,
    /// Names one iteration can hand to the next.
    carried: &'s HashSet<String>,
    /// The loop item's names and what the body computes from them.
    derived: &'s HashSet<String>,
    body: &'s Block,
}

/// Is `name` bound in the body to an outer handle (`let conn = &self.conn;`, `let w =
/// writer.clone();`) rather than to a value made for this iteration?
fn aliases_outer(body: &Block, name: &str) -> bool {
    body.stmts.iter().any(|s| match s {
        syn::Stmt::Local(l) => {
            let mut bound = HashSet::default();
            awaits::bound_names(&l.pat, &mut bound);
            bound.contains(name)
                && l.init.as_ref().is_some_and(|i| {
                    let mut e = &*i.expr;
                    while let Expr::MethodCall(m) = e {
                        if !matches!(m.method.to_string().as_str(), "clone" | "as_ref" | "as_mut") {
                            break;
                        }
                        e = &m.receiver;
                    }
                    awaits::is_place(e)
                })
        }
        _ => false,
    })
}

/// The name of a loop item awaited as a whole (`fut.await`, `pin!(fut).await`, `(&mut
/// fut).await`, `Box::pin(fut).await`, `fut.as_mut().await`).
fn awaited_item(base: &Expr) -> Option<String> {
    match awaits::peel_adaptors(base) {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Reference(r) => awaited_item(&r.expr),
        Expr::Paren(p) => awaited_item(&p.expr),
        Expr::MethodCall(m) if m.method == "as_mut" && m.args.is_empty() => awaited_item(&m.receiver),
        Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "pin") => {
            let e: Expr = m.mac.parse_body().ok()?;
            awaited_item(&e)
        }
        _ => None,
    }
}

/// A closure whose body is a call or an async block: `.map(|id| fetch(id))`.
struct MapsToCall(bool);

impl<'a> Visit<'a> for MapsToCall {
    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        let mut body = &*c.body;
        if let Expr::Block(b) = body {
            if let Some(syn::Stmt::Expr(last, None)) = b.block.stmts.last() {
                body = last;
            }
        }
        if matches!(body, Expr::Call(_) | Expr::MethodCall(_) | Expr::Async(_)) {
            self.0 = true;
        }
    }
}

/// Names whose value one iteration can hand to the next: outer variables the body assigns or
/// mutates, and every `let` in the body computed from them. (An item lent as `&mut req` is the
/// iteration's own: `for mut req in reqs { sign(&mut req); .. }`.)
fn carried_names(facts: &BodyFacts, body: &Block, items: &HashSet<String>) -> HashSet<String> {
    // (`req.tags` of a `req` the body declares is the iteration's own.)
    let root = |n: &String| n.split('.').next().unwrap_or(n).to_string();
    let outer = |n: &&String| !facts.declared.contains(&root(n));
    let lent = facts.lent_mut.iter().filter(|n| !items.contains(&root(n)));
    let changed: HashSet<String> =
        facts.assigned.iter().chain(&facts.mutated).chain(lent).filter(outer).cloned().collect();
    // A `let` reading a changed field (`let n = st.queue.lock().len()`, `let q = &st.queue`)
    // carries it too.
    let mut seeds = changed.clone();
    for stmt in &body.stmts {
        if let syn::Stmt::Local(syn::Local { pat, init: Some(init), .. }) = stmt {
            if reads_carried_field(&init.expr, &changed) {
                awaits::bound_names(pat, &mut seeds);
            }
        }
    }
    through_lets(seeds, body)
}

/// The call an iterable's last `.map(|x| call(..))` makes per item, if its closure is that call.
fn mapped_call(iterable: &Expr) -> Option<&Expr> {
    let Expr::MethodCall(m) = iterable else { return None };
    if m.method != "map" {
        return None;
    }
    let Some(Expr::Closure(c)) = m.args.first() else { return None };
    match &*c.body {
        call @ (Expr::Call(_) | Expr::MethodCall(_)) => Some(call),
        _ => None,
    }
}

/// Is the iterable an array or tuple of at most two items written in the code (`[a, b]`,
/// `[a, b].iter()`, `&[a, b]`)?
fn written_pair(iterable: &Expr) -> bool {
    let mut e = iterable;
    loop {
        match e {
            Expr::Reference(r) => e = &r.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "iter" | "into_iter") => e = &m.receiver,
            Expr::Array(a) => return a.elems.len() <= 2,
            _ => return false,
        }
    }
}

/// The names the body's `let`s bind to awaited values (`let block = get(h).await?`), and the
/// `let`s computed from them.
fn awaited_results(body: &Block) -> HashSet<String> {
    let mut names = HashSet::default();
    for stmt in &body.stmts {
        if let syn::Stmt::Local(syn::Local { pat, init: Some(init), .. }) = stmt {
            if !awaits::direct_awaits_expr(&init.expr).is_empty() {
                awaits::bound_names(pat, &mut names);
            }
        }
    }
    through_lets(names, body)
}

/// The loop item's names and every `let` in the body computed from them.
fn derived_names(items: &HashSet<String>, body: &Block) -> (HashSet<String>, HashSet<String>) {
    through_lets_and_patterns(items.clone(), body)
}

/// `names`, plus the names of every `let` of the body whose value is computed from them, and
/// those a `match` or `if let` on such a value binds at any depth (`match source {
/// Src::Map { name, .. } => cms.get(name).await }`), in the order written.
fn through_lets(names: HashSet<String>, body: &Block) -> HashSet<String> {
    through_lets_and_patterns(names, body).0
}

/// `through_lets`, and apart the names only a pattern bound.
fn through_lets_and_patterns(names: HashSet<String>, body: &Block) -> (HashSet<String>, HashSet<String>) {
    #[derive(Default)]
    struct Binds {
        names: HashSet<String>,
        patterns: HashSet<String>,
    }
    impl Binds {
        fn from(&self, value: &Expr) -> bool {
            awaits::idents(value).iter().any(|n| self.names.contains(n))
        }
        fn bind_patterns<'p>(&mut self, value: &Expr, pats: impl Iterator<Item = &'p syn::Pat>) {
            if self.from(value) {
                let mut bound = HashSet::default();
                pats.for_each(|p| awaits::bound_names(p, &mut bound));
                self.patterns.extend(bound.iter().filter(|n| !self.names.contains(*n)).cloned());
                self.names.extend(bound);
            }
        }
    }
    impl<'a> Visit<'a> for Binds {
        fn visit_expr_match(&mut self, m: &'a syn::ExprMatch) {
            // (Arms of which two or more await dispatch the items by kind, `Created { .. } =>
            // insert, Deleted { .. } => delete`: in the order they came, on purpose.)
            let awaiting = m.arms.iter().filter(|a| !awaits::direct_awaits_expr(&a.body).is_empty()).count();
            if awaiting >= 2 {
                self.visit_expr(&m.expr);
                return;
            }
            self.bind_patterns(&m.expr, m.arms.iter().map(|a| &a.pat));
            visit::visit_expr_match(self, m);
        }
        fn visit_expr_let(&mut self, l: &'a syn::ExprLet) {
            self.bind_patterns(&l.expr, std::iter::once(&*l.pat));
            visit::visit_expr_let(self, l);
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut binds = Binds { names, ..Default::default() };
    // (Only the body's own `let`s: one in a nested block or loop may hold a stream the
    // iteration drains, `while let Some(d) = devices.next().await`.)
    for stmt in &body.stmts {
        if let syn::Stmt::Local(l) = stmt {
            if l.init.as_ref().is_some_and(|i| binds.from(&i.expr)) {
                awaits::bound_names(&l.pat, &mut binds.names);
            }
        }
        binds.visit_stmt(stmt);
    }
    (binds.names, binds.patterns)
}

/// The awaits of `body` whose error is propagated with `?`, directly or through methods on
/// the awaited result (`verify(otp).await?`, `check(x).await.map_err(..)?`).
fn propagated_awaits(body: &Block) -> HashSet<*const ExprAwait> {
    struct Tries(HashSet<*const ExprAwait>);
    impl<'a> Visit<'a> for Tries {
        fn visit_expr_try(&mut self, t: &'a syn::ExprTry) {
            let mut e = &*t.expr;
            loop {
                match e {
                    Expr::MethodCall(m) => e = &m.receiver,
                    Expr::Paren(p) => e = &p.expr,
                    Expr::Await(a) => {
                        self.0.insert(a as *const ExprAwait);
                        break;
                    }
                    _ => break,
                }
            }
            visit::visit_expr_try(self, t);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut t = Tries(HashSet::default());
    t.visit_block(body);
    t.0
}

/// Does every `return Err(..)` of `body` (outside an `Err` arm) check what the iteration's
/// first await gave, and only ordered outputs follow it (`let data = store.get(k).await?;
/// if hash(&data) != want { return Err(..) } out.write_all(&data).await?`)? Then the error
/// fails the loop as `?` would. Not a gate before more work (a health probe after a restart,
/// a check before an insert or a debit: the next step waits on purpose), nor an error raised
/// on other grounds (the item itself) however it is nested.
fn errors_only_on_results(body: &Block) -> bool {
    struct Returns<'r> {
        results: &'r HashSet<String>,
        /// In the statement of the first await, where an await in a condition is that one.
        first: bool,
        /// Whether each enclosing condition reads the first await's result.
        on_result: Vec<bool>,
        returns: usize,
        all: bool,
    }
    impl Returns<'_> {
        fn reads_result(&self, cond: &Expr) -> bool {
            (self.first && !awaits::direct_awaits_expr(cond).is_empty())
                || awaits::idents(cond).iter().any(|n| self.results.contains(n))
        }
    }
    impl<'a> Visit<'a> for Returns<'_> {
        fn visit_expr_if(&mut self, i: &'a syn::ExprIf) {
            self.visit_expr(&i.cond);
            self.on_result.push(self.reads_result(&i.cond));
            self.visit_block(&i.then_branch);
            if let Some((_, e)) = &i.else_branch {
                self.visit_expr(e);
            }
            self.on_result.pop();
        }
        fn visit_expr_match(&mut self, m: &'a syn::ExprMatch) {
            self.visit_expr(&m.expr);
            self.on_result.push(self.reads_result(&m.expr));
            for arm in &m.arms {
                // (`Err(e) => return Err(..)` hands the error up: not one of these.)
                if !awaits::is_err_arm(arm) {
                    self.visit_arm(arm);
                }
            }
            self.on_result.pop();
        }
        // `let Some(v) = fetch(id).await? else { return Err(..) }`: a check of the await too.
        fn visit_local(&mut self, l: &'a syn::Local) {
            let Some(init) = &l.init else { return };
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.on_result.push(self.reads_result(&init.expr));
                self.visit_expr(diverge);
                self.on_result.pop();
            }
        }
        fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
            self.returns += 1;
            self.all &= self.on_result.last() == Some(&true);
            visit::visit_expr_return(self, r);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let stmts = &body.stmts;
    let Some(first) = stmts.iter().position(|s| !awaits::direct_awaits_stmt(s).is_empty()) else { return false };
    let mut bound = HashSet::default();
    if let syn::Stmt::Local(l) = &stmts[first] {
        awaits::bound_names(&l.pat, &mut bound);
    }
    let results = through_lets(bound, body);
    for (i, stmt) in stmts.iter().enumerate() {
        let mut r = Returns { results: &results, first: i == first, on_result: Vec::new(), returns: 0, all: true };
        r.visit_stmt(stmt);
        if r.returns == 0 {
            continue;
        }
        let outputs_after = stmts[i + 1..]
            .iter()
            .flat_map(awaits::direct_awaits_stmt)
            .all(|a| awaits::call_name(&a.base).is_some_and(|n| names().outputs.matches(&n)));
        if i < first || !r.all || !outputs_after {
            return false;
        }
    }
    true
}

fn body_uses_try(body: &Block) -> bool {
    struct Try(bool);
    impl<'a> Visit<'a> for Try {
        fn visit_expr_try(&mut self, _: &'a syn::ExprTry) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut t = Try(false);
    t.visit_block(body);
    t.0
}

/// A short rendering of an expression for messages.
pub fn compact(e: &Expr) -> String {
    let text = quote::ToTokens::to_token_stream(e).to_string();
    let text = text.replace(" . ", ".").replace(" (", "(").replace("( ", "(").replace(" )", ")");
    let text = text.replace(" ,", ",").replace(" :: ", "::").replace("& ", "&").replace(" ?", "?");
    let text = text.replace("(* ", "(*").replace(" ! (", "!(").replace(" !(", "!(").replace(" . await", ".await");
    let text = text.replace(" [", "[").replace("[ ", "[").replace(" ]", "]").replace(", * ", ", *");
    if text.chars().count() > 60 {
        let short: String = text.chars().take(57).collect();
        format!("{short}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn independent_awaits_per_item_not_ordered_sends_or_cursors() {
        check(
            r#"
async fn fetch_all(client: &Client, urls: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for url in urls {
        out.push(client.get(url).await);
//               ^^^^^^^^^^^^^^^^^^^^^ serial-await-loop: `for` loop awaits `client.get(url)` one iteration at a time
    }
    out
}

async fn send_all(tx: &tokio::sync::mpsc::Sender<String>, items: Vec<String>) {
    for item in items {
        tx.send(item).await.unwrap();
    }
}

async fn paginate(client: &Client) {
    let mut cursor = None;
    loop {
        let page = client.page(cursor).await;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
}
"#,
        );
    }

    #[test]
    fn shared_connections_serialise_pools_and_counting_loops_do_not() {
        check(
            r#"
async fn with_conn(conn: &PgConnection, ids: &[i64]) {
    for id in ids {
        row(&conn, *id).await;
    }
}

async fn with_pool(pool: &PgPool, ids: &[i64]) {
    for id in ids {
        row(&pool, *id).await;
//      ^^^^^^^^^^^^^^^^^^^^^ serial-await-loop: `for` loop awaits `row(&pool, *id)` one iteration at a time
    }
}

async fn pages(client: &Client, total: u32) {
    for page in 1..=total {
        client.page(page).await;
//      ^^^^^^^^^^^^^^^^^^^^^^^ serial-await-loop: `for` loop awaits `client.page(page)` one iteration at a time
    }
    for attempt in 0..3 {
        client.page(attempt).await;
    }
}

async fn spawned(ids: Vec<u64>) {
    for id in ids {
        tokio::spawn(work(id)).await.unwrap();
//      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ serial-await-loop: `for` loop awaits `tokio::spawn(work(id))` one iteration at a time
    }
}
"#,
        );
    }
}
