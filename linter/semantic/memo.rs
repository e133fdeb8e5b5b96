//! Memoised values: the branch of a cache lookup that computes a missing value and stores it
//! runs once per key, not on every call (knowledge `[memo]`). Three shapes:
//! `if let Some(v) = cache.get(k) { .. } else { miss }`, `match cached(k) { Some(v) => .., None
//! => miss }`, and `if let Some(v) = cache.get(k) { return v; }` followed by the miss.

use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};

use super::Knowledge;

/// Is `cond` a lookup in a cache that finds a value (`let Some(v) = cache.get(k)`)? Its
/// scrutinee.
pub(crate) fn lookup<'e>(cond: &'e Expr, k: &Knowledge) -> Option<&'e Expr> {
    let Expr::Let(l) = cond else { return None };
    (is_some(&l.pat) && names_cache(&l.expr, k)).then_some(&*l.expr)
}

/// Does the scrutinee of a `match` read a cache?
pub(crate) fn match_lookup(scrutinee: &Expr, k: &Knowledge) -> bool {
    names_cache(scrutinee, k)
}

/// Is this the arm of a lookup that found nothing (`None`)?
pub(crate) fn is_miss_arm(pat: &Pat) -> bool {
    matches!(pat, Pat::Ident(p) if p.ident == "None")
        || matches!(pat, Pat::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "None"))
}

/// `if let Some(v) = cache.get(k) { return v; }` (no `else`): the lookup's scrutinee, when the
/// code after the statement is the miss.
pub(crate) fn early_return<'e>(stmt: &'e Stmt, k: &Knowledge) -> Option<&'e Expr> {
    let Stmt::Expr(Expr::If(i), _) = stmt else { return None };
    if i.else_branch.is_some() {
        return None;
    }
    let returns = matches!(i.then_branch.stmts.last(), Some(Stmt::Expr(Expr::Return(_), _)));
    returns.then(|| lookup(&i.cond, k)).flatten()
}

/// Does the code store into a cache: `cache.insert(k, v)`, `self.cache.lock().put(..)`,
/// `cache_page(p)`?
pub(crate) fn stores<'e>(code: impl IntoIterator<Item = &'e Stmt>, k: &Knowledge) -> bool {
    let mut s = Stores { k, found: false };
    code.into_iter().for_each(|stmt| s.visit_stmt(stmt));
    s.found
}

/// [`stores`] for one expression.
pub(crate) fn stores_expr(e: &Expr, k: &Knowledge) -> bool {
    let mut s = Stores { k, found: false };
    s.visit_expr(e);
    s.found
}

fn is_some(pat: &Pat) -> bool {
    matches!(pat, Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Some"))
}

/// Does any identifier of the expression name a cache?
fn names_cache(e: &Expr, k: &Knowledge) -> bool {
    struct Names<'k> {
        k: &'k Knowledge,
        found: bool,
    }
    impl Visit<'_> for Names<'_> {
        fn visit_ident(&mut self, i: &proc_macro2::Ident) {
            self.found |= self.k.names_cache(&i.to_string());
        }
    }
    let mut n = Names { k, found: false };
    n.visit_expr(e);
    n.found
}

struct Stores<'k> {
    k: &'k Knowledge,
    found: bool,
}

impl<'a> Visit<'a> for Stores<'_> {
    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        let method = m.method.to_string();
        self.found |= self.k.stores_in_cache(&method) && names_cache(&m.receiver, self.k)
            || self.k.is_cache_store_fn(&method);
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            self.found |= self.k.is_cache_store_fn(&name);
        }
        visit::visit_expr_call(self, c);
    }
}
