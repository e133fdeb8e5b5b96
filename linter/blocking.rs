//! Decides whether one call expression blocks, from the catalog and the resolver's view of
//! its callee and receiver. Shared by every blocking rule; which rule reports is data.

use syn::{Expr, ExprMethodCall};

use crate::catalog::{Api, When};
use crate::resolve::{Resolver, Ty};
use crate::rules::Rule;

/// How the call's value is used by its parent expression.
#[derive(Debug, Clone, Copy, Default)]
pub struct Use {
    /// `.await`ed (or handed to `join!`/`select!`): a future, not a blocking call.
    pub awaited: bool,
    /// Consumed as a `Result` right away (`?`, `.unwrap()`, `match { Ok(..) }`).
    pub as_result: bool,
}

/// A blocking call found by the catalog.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: Rule,
    /// What was called, for messages: `std::fs::read` or `Receiver::recv`.
    pub callee: String,
    /// The resolved path when the callee is a free or associated function.
    pub path: Option<String>,
    pub reason: String,
    pub instead: String,
    pub twin: Option<String>,
    /// Whether a sync function making this call counts as blocking for its async callers.
    pub transitive: bool,
}

impl Hit {
    fn new(api: &Api, callee: String, path: Option<String>) -> Hit {
        let name = callee.rsplit("::").next().unwrap_or(&callee).to_string();
        Hit {
            rule: api.rule,
            reason: api.reason.clone(),
            instead: api.instead.replace("{name}", &name),
            twin: api.twin.as_ref().map(|t| t.replace("{name}", &name)),
            transitive: api.transitive,
            callee,
            path,
        }
    }
}

/// Methods that take a `Result` apart: their receiver is used as a result.
pub const RESULT_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "is_ok",
    "is_err",
    "ok",
    "err",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "map_err",
    "context",
    "with_context",
    "expect_err",
    "unwrap_err",
];

/// Does `expr` (a call or method call) block?
pub fn classify(res: &Resolver, expr: &Expr, usage: Use) -> Option<Hit> {
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
            if let Some(api) = res.catalog.function(&path) {
                return Some(Hit::new(api, path.clone(), Some(path)));
            }
            // `Type::method(&mut value, ..)`, the method called as a function.
            let (ty, method) = path.rsplit_once("::")?;
            let api = res.catalog.method(ty, method)?;
            Some(Hit::new(api, format!("{}::{method}", short(ty)), Some(path.clone())))
        }
        Expr::MethodCall(m) => classify_method(res, m, usage),
        _ => None,
    }
}

fn classify_method(res: &Resolver, m: &ExprMethodCall, usage: Use) -> Option<Hit> {
    let method = m.method.to_string();
    let mut ty = res.infer(&m.receiver);
    // Look through auto-deref: `Arc<Receiver>`, `PathBuf` -> `Path`.
    for _ in 0..4 {
        let Ty::Named(path, _) = &ty else { break };
        if let Some(api) = res.catalog.method(path, &method) {
            return Some(Hit::new(api, format!("{}::{method}", short(path)), None));
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
    res.catalog.untyped(&method).iter().find_map(|entry| {
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
            Hit::new(&api, format!(".{method}()"), None)
        })
    })
}

/// `std::sync::mpsc::Receiver` -> `Receiver`, for messages.
fn short(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}
