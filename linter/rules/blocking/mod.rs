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
use catalog::{Api, When};

use crate::diagnostic::Diagnostic;
use crate::facts::BlockSite;
use crate::project::Runtime;
use crate::registry::Rule;
use crate::semantic::{Kind, Model, Resolver, Ty, Use, RESULT_METHODS};
use crate::source::Span;

/// What a blocking call in the code at hand amounts to.
pub(crate) enum Verdict {
    /// A finding in async code.
    Direct(Diagnostic),
    /// A finding in a closure handed to a function of the crates (by key): it stands unless
    /// that function runs the closure off the executor.
    Deferred(String, Diagnostic),
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
    if kind == Kind::Offload {
        return None;
    }
    let hit = classify(&m.res, catalog, expr, usage)?;
    if let Expr::MethodCall(mc) = expr {
        if chain_blocks(&m.res, catalog, &mc.receiver, hit.rule) {
            return None; // `File::open(p)?.read_to_string(..)`: one finding for the chain
        }
    }
    let span = m.span(expr.span());
    match kind {
        Kind::Async => {
            let ctx = m.ctx()?;
            let mut d = direct_diagnostic(&hit, span, &ctx.what);
            if !ctx.closure {
                d.fix = runtime.and_then(|rt| twin::fix(m, expr, &hit, rt));
            }
            Some(match &ctx.defer {
                Some(key) => Verdict::Deferred(key.to_string(), d),
                None => Verdict::Direct(d),
            })
        }
        Kind::Sync if hit.transitive => Some(Verdict::InSync(BlockSite {
            rule: hit.rule,
            callee: hit.callee,
            span,
            reason: hit.reason,
            instead: hit.instead,
        })),
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
    let span = m.span(iterable.span());
    match kind {
        Kind::Async => {
            let ctx = m.ctx()?;
            let d = direct_diagnostic(&hit, span, &ctx.what);
            Some(match &ctx.defer {
                Some(key) => Verdict::Deferred(key.to_string(), d),
                None => Verdict::Direct(d),
            })
        }
        Kind::Sync if hit.transitive => Some(Verdict::InSync(BlockSite {
            rule: hit.rule,
            callee: hit.callee,
            span,
            reason: hit.reason,
            instead: hit.instead,
        })),
        Kind::Sync | Kind::Offload => None,
    }
}

/// Does the receiver chain of a method call already block with the same rule?
fn chain_blocks(res: &Resolver, catalog: &Catalog, mut expr: &Expr, rule: Rule) -> bool {
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
                if classify(res, catalog, expr, usage).is_some_and(|h| h.rule == rule) {
                    return true;
                }
                as_result = RESULT_METHODS.contains(&m.method.to_string().as_str());
                expr = &m.receiver;
            }
            Expr::Call(_) => {
                let usage = Use { awaited: false, as_result };
                return classify(res, catalog, expr, usage).is_some_and(|h| h.rule == rule);
            }
            _ => return false,
        }
    }
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
/// call `end` through `depth` calls; `notes` are the chain, one step each.
pub(crate) fn transitive_diagnostic(
    span: Span,
    context: &str,
    callee: &str,
    end: &BlockSite,
    depth: usize,
    notes: Vec<String>,
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
}

impl Hit {
    fn new(api: &Api, callee: String) -> Hit {
        let name = callee.rsplit("::").next().unwrap_or(&callee).to_string();
        Hit {
            rule: api.rule,
            reason: api.reason.clone(),
            instead: api.instead.replace("{name}", &name),
            twin: api.twin.as_ref().map(|t| t.replace("{name}", &name)),
            transitive: api.transitive,
            callee,
        }
    }
}

/// Does `expr` (a call or method call) block?
fn classify(res: &Resolver, catalog: &Catalog, expr: &Expr, usage: Use) -> Option<Hit> {
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
            if let Some(api) = catalog.function(&path) {
                return Some(Hit::new(api, path));
            }
            // `Type::method(&mut value, ..)`, the method called as a function.
            let (ty, method) = path.rsplit_once("::")?;
            let api = catalog.method(ty, method)?;
            Some(Hit::new(api, format!("{}::{method}", short(ty))))
        }
        Expr::MethodCall(m) => classify_method(res, catalog, m, usage),
        _ => None,
    }
}

fn classify_method(res: &Resolver, catalog: &Catalog, m: &ExprMethodCall, usage: Use) -> Option<Hit> {
    let method = m.method.to_string();
    let mut ty = res.infer(&m.receiver);
    // Look through auto-deref: `Arc<Receiver>`, `PathBuf` -> `Path`.
    for _ in 0..4 {
        let Ty::Named(path, _) = &ty else { break };
        if let Some(api) = catalog.method(path, &method) {
            return Some(Hit::new(api, format!("{}::{method}", short(path))));
        }
        let next = res.deref_once(ty.clone());
        if next == ty {
            break;
        }
        ty = next;
    }
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
            let ty = res.deref_all(res.infer(a));
            ty.path().is_some_and(|p| entry.arg_types.iter().any(|t| t == p))
        }) {
            return None;
        }
        let args_match = entry.args.is_none_or(|n| n == m.args.len());
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
            };
            Hit::new(&api, format!(".{method}()"))
        })
    })
}

/// `std::sync::mpsc::Receiver` -> `Receiver`, for messages.
fn short(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}
