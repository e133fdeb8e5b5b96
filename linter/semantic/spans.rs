//! Spans of syntax nodes from their first and last tokens. syn's `Spanned::span` prints the
//! whole node into a token stream to find them: for an `impl` block or a call chain that is a
//! copy of the subtree, paid for every item and call the walk records (about a tenth of a run).
//! The shapes the walk asks about most are taken from their tokens here; any other node falls
//! back to `Spanned`, which gives the same answer.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Signature, Visibility};

/// The span of an expression, as `Spanned::span` would give it (outer attributes aside).
pub(crate) fn expr(e: &Expr) -> Span {
    match last(e) {
        Some(end) => join(first(e), end),
        None => e.span(),
    }
}

/// The span of a call to report: for a method call ending a chain written over several lines
/// (`Command::new("git")` / `.args(..)` / `.output()?`), from the method's name, the line a
/// reader looks for; otherwise the whole expression.
pub(crate) fn called(e: &Expr) -> Span {
    let whole = expr(e);
    match e {
        Expr::MethodCall(m) if first(&m.receiver).start().line < m.method.span().start().line => {
            join(m.method.span(), m.paren_token.span.close())
        }
        _ => whole,
    }
}

/// The span of an await to report: for one ending a chain written over several lines
/// (`sqlx::query(..)` / `.bind(id)` / `.fetch_one(&pool)` / `.await?`), the `.await` itself, the
/// line where the code waits; otherwise the whole expression.
pub(crate) fn awaited(a: &syn::ExprAwait) -> Span {
    if first(&a.base).start().line < a.await_token.span.start().line {
        join(a.dot_token.span, a.await_token.span)
    } else {
        a.span()
    }
}

/// The span of a call expression.
pub(crate) fn call(c: &syn::ExprCall) -> Span {
    join(first(&c.func), c.paren_token.span.close())
}

fn join(a: Span, b: Span) -> Span {
    a.join(b).unwrap_or(a)
}

/// The first token's span of an expression.
fn first(e: &Expr) -> Span {
    match e {
        Expr::Call(c) => first(&c.func),
        Expr::MethodCall(m) => first(&m.receiver),
        Expr::Field(f) => first(&f.base),
        Expr::Await(a) => first(&a.base),
        Expr::Try(t) => first(&t.expr),
        Expr::Index(i) => first(&i.expr),
        Expr::Cast(c) => first(&c.expr),
        Expr::Binary(b) => first(&b.left),
        Expr::Path(p) if p.qself.is_none() => match &p.path.leading_colon {
            Some(c) => c.spans[0],
            None => p.path.segments.first().map_or_else(|| e.span(), |s| s.ident.span()),
        },
        Expr::Paren(p) => p.paren_token.span.open(),
        Expr::Reference(r) => r.and_token.span,
        Expr::Lit(l) => l.lit.span(),
        Expr::Macro(m) => match &m.mac.path.leading_colon {
            Some(c) => c.spans[0],
            None => m.mac.path.segments.first().map_or_else(|| e.span(), |s| s.ident.span()),
        },
        _ => e.span(),
    }
}

/// The last token's span of the shapes whose end is one token; `None` for the others.
fn last(e: &Expr) -> Option<Span> {
    Some(match e {
        Expr::Call(c) => c.paren_token.span.close(),
        Expr::MethodCall(m) => m.paren_token.span.close(),
        Expr::Await(a) => a.await_token.span,
        Expr::Try(t) => t.question_token.span,
        Expr::Paren(p) => p.paren_token.span.close(),
        Expr::Macro(m) => m.mac.delimiter.span().close(),
        Expr::Index(i) => i.bracket_token.span.close(),
        Expr::Lit(l) => l.lit.span(),
        Expr::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            match &seg.arguments {
                syn::PathArguments::None => seg.ident.span(),
                syn::PathArguments::AngleBracketed(a) => a.gt_token.span,
                syn::PathArguments::Parenthesized(_) => return None,
            }
        }
        Expr::Field(f) => match &f.member {
            syn::Member::Named(i) => i.span(),
            syn::Member::Unnamed(i) => i.span,
        },
        _ => return None,
    })
}

/// The span of an item from its first token (an attribute, the visibility, or `first`) to
/// `end`, its closing brace or semicolon.
pub(crate) fn item(attrs: &[Attribute], vis: Option<&Visibility>, first: Span, end: Span) -> Span {
    let start = attrs.first().map(|a| a.pound_token.span).or_else(|| match vis? {
        Visibility::Public(p) => Some(p.span),
        Visibility::Restricted(r) => Some(r.pub_token.span),
        Visibility::Inherited => None,
    });
    join(start.unwrap_or(first), end)
}

/// The span of a fn with a body: its attributes and visibility, to the closing brace.
pub(crate) fn function(attrs: &[Attribute], vis: &Visibility, sig: &Signature, body: &syn::Block) -> Span {
    item(attrs, Some(vis), signature(sig), body.brace_token.span.close())
}

/// The first token's span of a function signature.
pub(crate) fn signature(sig: &Signature) -> Span {
    let parts = [
        sig.constness.map(|t| t.span),
        sig.asyncness.map(|t| t.span),
        sig.unsafety.map(|t| t.span),
        sig.abi.as_ref().map(|a| a.extern_token.span),
    ];
    parts.into_iter().flatten().next().unwrap_or(sig.fn_token.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column of both ends, comparable across spans.
    fn ends(s: Span) -> ((usize, usize), (usize, usize)) {
        ((s.start().line, s.start().column), (s.end().line, s.end().column))
    }

    #[test]
    fn expression_spans_match_syn() {
        let src = "fn f() { \
            a::b(x, y)?; \
            ::std::fs::read(p).unwrap().len(); \
            client.get(url).send().await?.json::<T>().await; \
            (x + 1); v[0]; s.field.0; m!(a, b); &x; 1 as u8; - x; size_of::<T>; }";
        let file: syn::File = syn::parse_str(src).unwrap();
        let syn::Item::Fn(f) = &file.items[0] else { panic!() };
        let mut checked = 0;
        for stmt in &f.block.stmts {
            let e = match stmt {
                syn::Stmt::Expr(e, _) => e,
                syn::Stmt::Macro(_) => continue,
                _ => panic!("unexpected statement"),
            };
            assert_eq!(ends(expr(e)), ends(e.span()), "{}", quote::quote!(#e));
            checked += 1;
        }
        assert_eq!(checked, 10);
    }

    #[test]
    fn item_spans_match_syn() {
        let src = "#[inline]\npub(crate) async unsafe fn f() {\n}\nimpl T {\n    const fn g() {}\n}\n";
        let file: syn::File = syn::parse_str(src).unwrap();
        let syn::Item::Fn(f) = &file.items[0] else { panic!() };
        assert_eq!(ends(function(&f.attrs, &f.vis, &f.sig, &f.block)), ends(f.span()));
        let syn::Item::Impl(i) = &file.items[1] else { panic!() };
        let cheap = item(&i.attrs, None, i.impl_token.span, i.brace_token.span.close());
        assert_eq!(ends(cheap), ends(i.span()));
        let syn::ImplItem::Fn(g) = &i.items[0] else { panic!() };
        assert_eq!(ends(function(&g.attrs, &g.vis, &g.sig, &g.block)), ends(g.span()));
    }
}
