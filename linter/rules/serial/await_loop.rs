//! ## What it does
//! Finds loops in async code that await one independent future per iteration:
//! `for url in urls { out.push(fetch(url).await?); }`, or futures collected first and then
//! awaited one by one in a `for` loop. The awaited call must take the loop item (or something
//! computed from it) and its result must not feed the next iteration.
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
//!   item, and `Err(e) => return ..` hands the error up like `?`: those are reported;
//! - pace themselves (a sleep or interval tick), use `select!`, or already run futures together;
//! - carry a value from one iteration to the next (a cursor, a counter, a page token);
//! - await through state whose order matters: a `&mut` borrow (connection, transaction), a
//!   channel, writer, lock or emitter (as receiver or argument), a pipeline or batch that only
//!   queues commands;
//! - do stepwise setup (directories parent first, subscribe, bind, listen), local work (request
//!   signing) or effects a user sees in order (chat replies and reactions), by call name;
//! - walk items the code sorted first, or migrations;
//! - run as phases: several loops of one fn awaiting different methods of one handle
//!   (declare every queue, then bind them, then consume);
//! - await a fn of the package that only waits for other tasks, or that leads back to the fn
//!   holding the loop (recursive descent; see `idle`).
//!
//! `while` and `loop` are reported only when they drain a queue or iterator the body leaves
//! alone (`while let Some(x) = queue.pop()`, `loop { let Some(x) = it.next() else { break }; .. }`),
//! and `for` loops over a range (`for case in 1..=total`) are left alone: they are mostly
//! drivers that run cases in turn on purpose. Callees are matched by name within the package,
//! so a same-named fn elsewhere can hide or keep a finding.

crate::registry::declare_rule! {
    SerialAwaitLoop = "serial-await-loop",
    summary: "independent futures awaited one per loop iteration",
    severity: Warning,
    fixable: false,
}

use std::collections::{HashMap, HashSet};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, Expr, ExprAwait};

use super::body::{self as awaits, BodyFacts};
use super::idle;
use super::names::names;
use super::{Found, SerialRule};
use crate::diagnostic::Diagnostic;
use crate::facts::Pending;
use crate::semantic::{AsyncBody, Model};

/// The rule, as the shared walk runs it.
pub(crate) struct Check;

impl SerialRule for Check {
    fn loop_expr(&self, m: &Model, body: &AsyncBody, e: &Expr, out: &mut Vec<Found>) {
        let loops = Loops { m, body };
        let found = match e {
            Expr::ForLoop(l) => {
                let mut items = HashSet::new();
                awaits::bound_names(&l.pat, &mut items);
                // `for case in 1..=total`: counting loops are mostly drivers (test cases,
                // retries, benchmarks) that run in turn on purpose; only loops over data count.
                let counting = matches!(&*l.expr, Expr::Range(_));
                if counting || !awaits::direct_awaits_expr(&l.expr).is_empty() {
                    return;
                }
                let header = l.for_token.span.join(l.expr.span()).unwrap_or(l.for_token.span);
                loops.check_loop(&items, &l.expr, &l.body, header, "for")
            }
            Expr::While(l) => {
                // `while let Some(x) = queue.pop()`: a worklist drained synchronously.
                let Expr::Let(cond) = &*l.cond else { return };
                let queue = drained(&cond.expr);
                if queue.is_none_or(|q| awaits::block_idents(&l.body).contains(&q)) {
                    return;
                }
                let mut items = HashSet::new();
                awaits::bound_names(&cond.pat, &mut items);
                let header = l.while_token.span.join(l.cond.span()).unwrap_or(l.while_token.span);
                loops.check_loop(&items, &cond.expr, &l.body, header, "while let")
            }
            Expr::Loop(l) => {
                // `loop { let x = match iter.next() { Some(x) => x, None => break }; .. }`, or
                // with `let Some(x) = iter.next() else { break };`: the `while let` spelled out.
                let Some((items, source, rest)) = pulled_item(&l.body) else { return };
                let queue = awaits::root_ident(source);
                if queue.is_none_or(|q| awaits::block_idents(&rest).contains(&q)) {
                    return;
                }
                loops.check_loop(&items, source, &rest, l.loop_token.span, "loop")
            }
            _ => None,
        };
        out.extend(found);
    }

    /// Drops loops that run in turn as phases of one protocol: several loops of a body
    /// awaiting different methods of one handle (declare every queue, then bind them, then
    /// consume).
    fn body_done(&self, found: Vec<Found>) -> Vec<Pending> {
        let mut methods: HashMap<String, HashSet<String>> = HashMap::new();
        for f in &found {
            if let Some((handle, method)) = &f.step {
                methods.entry(handle.clone()).or_default().insert(method.clone());
            }
        }
        found
            .into_iter()
            .filter_map(|f| match &f.step {
                Some((handle, _)) if methods[handle].len() >= 2 => None,
                _ => Some(f.pending),
            })
            .collect()
    }
}

/// One loop's judgement, in the body and at the model's position.
struct Loops<'m, 'a, 'ast> {
    m: &'m Model<'a, 'ast>,
    body: &'m AsyncBody<'ast>,
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
    let mut items = HashSet::new();
    awaits::bound_names(&first.pat, &mut items);
    let rest = Block { brace_token: body.brace_token, stmts: body.stmts[1..].to_vec() };
    Some((items, source, rest))
}

/// `break` or `{ break }` (without a label or value).
fn is_break(e: &Expr) -> bool {
    match e {
        Expr::Break(b) => b.label.is_none() && b.expr.is_none(),
        Expr::Block(b) => matches!(b.block.stmts.as_slice(), [syn::Stmt::Expr(e, _)] if is_break(e)),
        _ => false,
    }
}

/// Does `e` read a field of `self` named in `state` (as `self.field`)?
fn reads_self_field(e: &Expr, state: &HashSet<String>) -> bool {
    struct Fields<'s>(&'s HashSet<String>, bool);
    impl<'a> Visit<'a> for Fields<'_> {
        fn visit_expr_field(&mut self, f: &'a syn::ExprField) {
            if let (Expr::Path(p), syn::Member::Named(n)) = (&*f.base, &f.member) {
                if p.path.is_ident("self") && self.0.contains(&format!("self.{n}")) {
                    self.1 = true;
                }
            }
            visit::visit_expr_field(self, f);
        }
    }
    let mut fields = Fields(state, false);
    fields.visit_expr(e);
    fields.1
}

/// Why an awaited expression makes the loop sequential by design, if it does.
fn sequential_await(
    a: &ExprAwait,
    facts: &BodyFacts,
    carried: &HashSet<String>,
    outer_mutable: &HashSet<String>,
    is_client: &dyn Fn(&Expr) -> bool,
) -> bool {
    let base = &*a.base;
    let name = awaits::call_name(base).unwrap_or_default();
    if names().timers.matches(&name) || names().yields.matches(&name) {
        return true;
    }
    // `tx.send(..)`, `self.writer.write_all(..)`, `rx.recv()`: a call on a long-lived handle.
    // (`client.get(url).send()` sends a request built for this item: not sequential.)
    if let Expr::MethodCall(m) = base {
        // (`mailer.send(message)` on an SMTP transport or an API client is a request.)
        let ordered =
            awaits::is_sequential(&name) && awaits::is_handle(&m.receiver) && !is_client(&m.receiver);
        if ordered || awaits::is_queue_of_commands(&m.receiver) {
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
    let local = |n: &String| facts.declared.contains(n);
    // A value the loop changes feeds this await: a cursor, a counter, a page token (directly
    // or through a `let` computed from it).
    if inputs.iter().any(|n| carried.contains(n)) || reads_self_field(base, carried) {
        return true;
    }
    // `execute(&mut conn)`, `tx.query(..)` on a `let mut tx`, `self.x(..)` in a `&mut self`
    // fn, `f(req)` with `req: &mut Request`: one mutable borrow, used by one call at a time.
    let outer_mut = |n: &String| !local(n) && outer_mutable.contains(n);
    awaits::mut_borrows(base).iter().any(|n| !local(n))
        || matches!(base, Expr::MethodCall(_)) && awaits::root_ident(base).is_some_and(|r| outer_mut(&r))
        || awaits::bare_args(base).iter().any(outer_mut)
}

impl Loops<'_, '_, '_> {
    fn check_loop(
        &self,
        items: &HashSet<String>,
        iterable: &Expr,
        body: &Block,
        header: proc_macro2::Span,
        keyword: &str,
    ) -> Option<Found> {
        let found = awaits::loop_awaits(body);
        if found.is_empty() {
            return None;
        }
        let facts = awaits::body_facts(body);
        if facts.exits || facts.calls.iter().any(|c| names().concurrent.matches(c)) {
            return None;
        }
        // Every loop checked here walks items (a `for`, or a `while`/`loop` draining a queue
        // the body leaves alone), so a `continue` only skips an item: the iterations stay
        // independent. One to an outer loop leaves this one.
        if facts.labelled_continue || self.in_order(iterable, items) {
            return None;
        }
        let carried = carried_names(&facts, body);
        let is_client = |e: &Expr| self.is_client(e);
        if found.iter().any(|a| sequential_await(a, &facts, &carried, &self.body.mutable, &is_client)) {
            return None;
        }
        let derived = derived_names(items, body);
        let per_item = found.iter().find(|a| {
            let inputs = awaits::idents(&a.base);
            match &*a.base {
                // `for fut in futs { fut.await }`: fine for spawned handles, serial for futures.
                Expr::Path(p) if p.path.get_ident().is_some_and(|i| items.contains(&i.to_string())) => {
                    self.holds_lazy_futures(iterable)
                }
                _ => inputs.iter().any(|n| derived.contains(n)),
            }
        });
        let a = per_item?;
        let uses_try = body_uses_try(body);
        let awaited = compact(awaits::peel_adaptors(&a.base));
        let span = self.m.span(header);
        let join = if uses_try { "futures::future::try_join_all" } else { "futures::future::join_all" };
        // `for fut in futs { fut.await }`: the futures exist already; otherwise they are built
        // from the items.
        let prebuilt = matches!(&*a.base, Expr::Path(p) if p.path.get_ident().is_some_and(|i| items.contains(&i.to_string())));
        let help = if prebuilt {
            let futs = compact(iterable);
            format!(
                "await them together: `{join}({futs}).await`, or collect them into a \
                 `futures::stream::FuturesUnordered` to handle each result as it completes; \
                 many at once may need a limit: `futures::stream::iter({futs}).buffer_unordered(n)`"
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
        .with_help(help);
        // Awaiting a fn that only takes locks, waits for a notification, or never suspends
        // gains nothing from running together: the join drops those (see `idle`).
        let self_type = self.body.self_type.as_deref();
        let awaited = found.iter().filter_map(|a| idle::callee(&a.base, self_type)).collect();
        let step = match awaits::peel_adaptors(&a.base) {
            Expr::MethodCall(m) => Some((compact(&m.receiver), m.method.to_string())),
            _ => None,
        };
        let within = idle::within(self.body);
        Some(Found { pending: Pending { diagnostic: d, awaited, within, origin: Default::default() }, step })
    }

    /// Is this handle of a client type (as the model types it: a parameter, a field, a local),
    /// whose `send` makes a request rather than queueing in order?
    fn is_client(&self, handle: &Expr) -> bool {
        self.m.type_name(handle).is_some_and(|t| names().clients.matches(&t))
    }

    /// Does the code say the items must be handled in order: a collection sorted before the
    /// loop (`pending.sort_by_key(|m| m.version)`, `.sorted()`), or migrations?
    fn in_order(&self, iterable: &Expr, items: &HashSet<String>) -> bool {
        let Some(name) = awaits::root_ident(iterable) else { return false };
        let ordered = |n: &str| names().ordered_collections.matches(&n.to_lowercase());
        if ordered(&name) || items.iter().any(|i| ordered(i)) {
            return true;
        }
        let sorted = |e: &Expr| awaits::all_names(e).iter().any(|n| n.starts_with("sort"));
        sorted(iterable) || self.body.lets.get(&name).is_some_and(|init| sorted(init)) || self.body.sorted.contains(&name)
    }

    /// Is the iterated collection made of futures built by mapping a call, rather than
    /// handles of spawned tasks (which already run)?
    fn holds_lazy_futures(&self, iterable: &Expr) -> bool {
        let Some(name) = awaits::root_ident(iterable) else { return false };
        let Some(init) = self.body.lets.get(&name) else { return false };
        if awaits::all_names(init).iter().any(|n| names().spawned.matches(n)) {
            return false;
        }
        let mut finder = MapsToCall(false);
        finder.visit_expr(init);
        finder.0
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
/// mutates, and every `let` in the body computed from them.
fn carried_names(facts: &BodyFacts, body: &Block) -> HashSet<String> {
    let changed = facts.assigned.iter().chain(&facts.mutated).filter(|n| !facts.declared.contains(*n));
    through_lets(changed.cloned().collect(), body)
}

/// The loop item's names and every `let` in the body computed from them.
fn derived_names(items: &HashSet<String>, body: &Block) -> HashSet<String> {
    through_lets(items.clone(), body)
}

/// `names`, plus the names of every `let` in the body whose value is computed from them.
fn through_lets(mut names: HashSet<String>, body: &Block) -> HashSet<String> {
    for stmt in &body.stmts {
        if let syn::Stmt::Local(l) = stmt {
            if let Some(init) = &l.init {
                if awaits::idents(&init.expr).iter().any(|n| names.contains(n)) {
                    awaits::bound_names(&l.pat, &mut names);
                }
            }
        }
    }
    names
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
    let text = text.replace("(* ", "(*").replace(" ! (", "!(").replace(" . await", ".await");
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
//  ^^^^^^^^^^^^^^^ serial-await-loop: `for` loop awaits `client.get(url)` one iteration at a time
        out.push(client.get(url).await);
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
}
