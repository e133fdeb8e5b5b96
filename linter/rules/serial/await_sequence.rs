//! ## What it does
//! Finds futures that are created up front and then awaited one after another:
//! `let a = fetch(1); let b = fetch(2); let x = a.await; let y = b.await;`.
//!
//! ## Why is this bad?
//! Creating a future does not start it: `a` runs only while `a.await` polls it, and `b` only
//! after that. Written this way the code looks concurrent but takes the sum of both
//! latencies instead of the longest.
//!
//! ## Example
//! ```rust,ignore
//! async fn dashboard(api: &Api) -> Result<Dashboard> {
//!     let user = api.user();
//!     let orders = api.orders();
//!     let user = user.await?;
//!     let orders = orders.await?;
//!     Ok(Dashboard { user, orders })
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn dashboard(api: &Api) -> Result<Dashboard> {
//!     let (user, orders) = tokio::try_join!(api.user(), api.orders())?;
//!     Ok(Dashboard { user, orders })
//! }
//! ```
//!
//! ## Known limitations
//! Only futures bound with `let name = call(..)` and awaited as `name.await` in the same block
//! are seen. Handles of spawned tasks (`tokio::spawn`), timers, and values from functions of
//! the same file that are not `async` (they may return an already running operation, such as
//! a oneshot receiver) are left alone, and so are waits on other tasks made ahead on purpose
//! (`let a = x.lock(); let b = y.lock();` in lock order, a `notified()` registered early). So are futures used before their await (pinned, raced in
//! `select!`, passed on), futures awaited in another order than created (the order is the
//! point), and calls to async fns of the package that only wait for other tasks or never
//! suspend (see `idle`).

crate::registry::declare_rule! {
    SerialAwaitSequence = "serial-await-sequence",
    summary: "futures created together but awaited one after another",
    severity: Warning,
    fixable: false,
}

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};

use super::body as awaits;
use super::idle;
use super::names::names;
use super::{Found, SerialRule};
use crate::diagnostic::Diagnostic;
use crate::facts::Pending;
use crate::semantic::{AsyncBody, Model};

/// The rule, as the shared walk runs it: every block of an async body.
pub(crate) struct Check;

impl SerialRule for Check {
    fn block(&self, m: &Model, body: &AsyncBody, stmts: &[Stmt], out: &mut Vec<Found>) {
        check_block(stmts, &m.res.eager, body, m, out);
    }
}

/// A future bound with `let` and not yet awaited.
struct Created<'a> {
    stmt: usize,
    init: &'a Expr,
}

fn check_block(stmts: &[Stmt], eager: &HashSet<String>, body: &AsyncBody, m: &Model, out: &mut Vec<Found>) {
    let mut pending: HashMap<String, Created> = HashMap::default();
    // Awaited pending futures: (name, statement index of the await, the await, the future).
    let mut awaited: Vec<Awaited> = Vec::new();
    for (i, stmt) in stmts.iter().enumerate() {
        let exprs: Vec<&Expr> = match stmt {
            Stmt::Local(l) => l.init.iter().map(|i| &*i.expr).collect(),
            Stmt::Expr(e, _) => vec![e],
            _ => vec![],
        };
        let mut awaited_here = HashSet::default();
        for e in &exprs {
            for a in awaits::direct_awaits_expr(e) {
                if let Some(name) = bare_name(&a.base) {
                    if let Some(p) = pending.remove(&name) {
                        awaited_here.insert(name.clone());
                        awaited.push((name, i, a, p));
                    }
                }
            }
        }
        // A future used otherwise before its await (`tokio::pin!(f)`, `select! { _ = &mut f
        // => .. }`, passed to a fn) may already have run: no longer a plain pending one.
        if !pending.is_empty() {
            let used = stmt_idents(stmt);
            pending.retain(|name, _| !used.contains(name) || awaited_here.contains(name));
        }
        if let Stmt::Local(l) = stmt {
            let Some(init) = l.init.as_ref().filter(|init| init.diverge.is_none()) else { continue };
            for (name, value) in bindings(&l.pat, &init.expr) {
                if is_future_candidate(value, eager) {
                    pending.insert(name, Created { stmt: i, init: value });
                } else {
                    pending.remove(&name);
                }
            }
        }
    }
    // Each group: the futures created before the first of them is awaited.
    while let Some(&(_, first_stmt, first, _)) = awaited.first() {
        let (group, rest): (Vec<_>, Vec<_>) = awaited.into_iter().partition(|(.., p)| p.stmt < first_stmt);
        awaited = rest;
        if group.len() >= 2 {
            report_group(&group, first, body, m, out);
        }
    }
}

type Awaited<'a> = (String, usize, &'a syn::ExprAwait, Created<'a>);

fn report_group(group: &[Awaited], first: &syn::ExprAwait, body: &AsyncBody, m: &Model, out: &mut Vec<Found>) {
    let names: Vec<&str> = group.iter().map(|(n, ..)| n.as_str()).collect();
    // Awaited in another order than created: the order is the point (a test of out-of-order
    // completion, a preferred result first).
    if group.windows(2).any(|w| w[0].3.stmt > w[1].3.stmt) {
        return;
    }
    // A later future built from an earlier one is not independent.
    let independent = group.iter().all(|(n, .., p)| {
        let inputs = awaits::idents(p.init);
        names.iter().all(|other| *other == n || !inputs.contains(*other))
    });
    if !independent {
        return;
    }
    let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let joined = names.join(", ");
    let span = m.span(crate::semantic::spans::awaited(first));
    let whole = m.span(first.span());
    let d = Diagnostic::new(
        RULE,
        span,
        format!("futures {list} are created together but awaited one after another"),
    )
    .with_label(format!("`{}` does not start until this await finishes", names[1]))
    .with_help(format!(
        "await them together: `let (..) = tokio::join!({joined});` (or `futures::join!`, \
         and `try_join!` when they return `Result`)"
    ))
    .with_chain_start(whole);
    let self_type = body.self_type.as_deref();
    let awaited = group.iter().filter_map(|(.., p)| idle::typed_callee(m, p.init, self_type)).collect();
    out.push(Found { pending: Pending { diagnostic: d, awaited, unless_client: Vec::new(), within: idle::within(body), origin: Default::default() }, step: None, arms: Vec::new() });
}

fn stmt_idents(stmt: &Stmt) -> HashSet<String> {
    match stmt {
        Stmt::Local(l) => l.init.as_ref().map(|i| awaits::idents(&i.expr)).unwrap_or_default(),
        Stmt::Expr(e, _) => awaits::idents(e),
        Stmt::Macro(m) => {
            let mut out = HashSet::default();
            awaits::token_idents(m.mac.tokens.clone(), &mut out);
            out
        }
        Stmt::Item(_) => HashSet::default(),
    }
}

fn bare_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Paren(p) => bare_name(&p.expr),
        _ => None,
    }
}

/// The names a `let` binds, each with its value: `let f = e`, and each element of
/// `let (a, b) = (e1, e2)`.
fn bindings<'e>(pat: &Pat, init: &'e Expr) -> Vec<(String, &'e Expr)> {
    match (pat, init) {
        (Pat::Tuple(p), Expr::Tuple(t)) if p.elems.len() == t.elems.len() => {
            p.elems.iter().zip(&t.elems).flat_map(|(p, e)| bindings(p, e)).collect()
        }
        (Pat::Type(t), _) => bindings(&t.pat, init),
        _ => binding_name(pat).map(|n| (n, init)).into_iter().collect(),
    }
}

fn binding_name(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        Pat::Type(t) => binding_name(&t.pat),
        _ => None,
    }
}

/// Could this initialiser be a lazy future: a call (or `Box::pin` of one, or an async block)
/// that is not a spawn, a timer, or a call to a known non-async function of this file?
fn is_future_candidate(e: &Expr, eager: &HashSet<String>) -> bool {
    match e {
        Expr::Async(_) => true,
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else { return false };
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let last = segs.last().map(String::as_str).unwrap_or("");
            if segs.len() >= 2 && segs[segs.len() - 2] == "Box" && last == "pin" {
                return c.args.first().is_some_and(|a| is_future_candidate(a, eager));
            }
            !is_excluded(last, eager)
        }
        // `acc.a.lock()`, `notify.notified()`: waiting for another task, created early on
        // purpose (lock ordering, a wake-up registered before it can fire), not work to overlap.
        Expr::MethodCall(m) if m.args.is_empty() && names().idle_waits.matches(&m.method.to_string()) => false,
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            // `.boxed()` is a future if what it boxes is.
            let boxed = name == "boxed";
            !is_excluded(&name, eager) && !boxed && !names().not_futures.matches(&name)
                || boxed && is_future_candidate(&m.receiver, eager)
        }
        _ => false,
    }
}

/// Spawns (already running), timers and timeouts, and the file's fns that are not async.
fn is_excluded(name: &str, eager: &HashSet<String>) -> bool {
    let n = names();
    n.spawned.matches(name) || n.timers.matches(name) || n.timeouts.matches(name) || eager.contains(name)
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn futures_made_together_awaited_apart_not_joined_or_dependent() {
        check(
            r#"
async fn dashboard(api: &Api) -> (User, Orders) {
    let user = api.user();
    let orders = api.orders();
    let user = user.await;
//             ^^^^^^^^^^ serial-await-sequence: futures `user`, `orders` are created together but awaited one after another
    let orders = orders.await;
    (user, orders)
}

async fn joined(api: &Api) -> (User, Orders) {
    tokio::join!(api.user(), api.orders())
}

async fn dependent(api: &Api) -> Orders {
    let user = api.user().await;
    api.orders_of(user).await
}
"#,
        );
    }
}
