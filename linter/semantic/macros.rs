//! Macro bodies are code: the tokens of `select!`, `join!`, `format!`-like and statement-like
//! macros are parsed again so the walk sees the calls inside them (spans map back to the file).

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Pat, Token};

/// Macros whose tokens are code templates, not code that runs here.
pub(crate) const QUOTING_MACROS: &[&str] =
    &["quote", "quote_spanned", "parse_quote", "parse_quote_spanned", "macro_rules", "format_ident"];

/// Macros whose arguments are futures polled by the macro: an argument is awaited.
pub(crate) const FUTURE_MACROS: &[&str] = &["join", "try_join", "pin", "pin_mut", "join_all"];

/// One branch of `select!`.
pub(crate) struct SelectBranch {
    pub pat: Option<Pat>,
    pub future: Option<Expr>,
    pub guard: Option<Expr>,
    pub handler: Expr,
}

/// Parses the branches of `tokio::select!` / `futures::select!`.
pub(crate) fn parse_select(input: ParseStream) -> syn::Result<Vec<SelectBranch>> {
    let mut branches = Vec::new();
    while !input.is_empty() {
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            input.parse::<syn::Ident>()?; // `biased;`
            input.parse::<Token![;]>()?;
            continue;
        }
        let (pat, future) = if input.peek(Token![else]) || (input.peek(syn::Ident) && input.peek2(Token![=>]))
        {
            if !input.peek(Token![else]) {
                input.parse::<syn::Ident>()?; // `complete` / `default`
            } else {
                input.parse::<Token![else]>()?;
            }
            (None, None)
        } else {
            let pat = Pat::parse_single(input)?;
            input.parse::<Token![=]>()?;
            let future: Expr = input.parse()?;
            (Some(pat), Some(future))
        };
        let mut guard = None;
        if input.peek(Token![,]) && input.peek2(Token![if]) {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            guard = Some(input.parse()?);
        }
        input.parse::<Token![=>]>()?;
        let handler: Expr = input.parse()?;
        // A comma ends a branch; after a block handler it is optional.
        let needs_comma = !input.is_empty() && !matches!(handler, Expr::Block(_));
        if needs_comma || input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        branches.push(SelectBranch { pat, future, guard, handler });
    }
    Ok(branches)
}

/// `matches!(scrutinee, pattern if guard)`: the scrutinee and the guard, the code that runs.
pub(crate) fn parse_matches(input: ParseStream) -> syn::Result<syn::punctuated::Punctuated<Expr, Token![,]>> {
    let mut out = syn::punctuated::Punctuated::new();
    out.push(input.parse::<Expr>()?);
    input.parse::<Token![,]>()?;
    Pat::parse_multi_with_leading_vert(input)?;
    if input.parse::<Option<Token![if]>>()?.is_some() {
        out.push(input.parse::<Expr>()?);
    }
    input.parse::<Option<Token![,]>>()?;
    Ok(out)
}

/// `json!({ "git": git_revision(), "tags": [a, b] })` (serde_json): the expressions of its
/// values (and of keys that are not literals), nested objects and arrays included.
pub(crate) fn parse_json(input: ParseStream) -> syn::Result<syn::punctuated::Punctuated<Expr, Token![,]>> {
    fn value(input: ParseStream, out: &mut syn::punctuated::Punctuated<Expr, Token![,]>) -> syn::Result<()> {
        if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            while !content.is_empty() {
                let key = content.parse::<Expr>()?;
                if !matches!(key, Expr::Lit(_)) {
                    out.push(key);
                }
                content.parse::<Token![:]>()?;
                value(&content, out)?;
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
        } else if input.peek(syn::token::Bracket) {
            let content;
            syn::bracketed!(content in input);
            while !content.is_empty() {
                value(&content, out)?;
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
        } else {
            out.push(input.parse::<Expr>()?);
        }
        Ok(())
    }
    let mut out = syn::punctuated::Punctuated::new();
    value(input, &mut out)?;
    Ok(out)
}

/// `vec![elem; n]`.
pub(crate) fn parse_repeat(input: ParseStream) -> syn::Result<(Expr, Expr)> {
    let a = Expr::parse(input)?;
    input.parse::<Token![;]>()?;
    let b = Expr::parse(input)?;
    Ok((a, b))
}

/// The transcribers of a `macro_rules!` definition's rules (`(matcher) => { transcriber };`),
/// for expanding the crate's own macros where they are used. None for a macro that returns
/// from the fn using it (`try_or_cleanup!`): an error-handling helper, whose code runs on the
/// failure path only; and none for a macro of several rules, as which rule an invocation
/// matches is not worked out.
pub(crate) fn rule_bodies(tokens: &proc_macro2::TokenStream) -> Vec<proc_macro2::TokenStream> {
    use proc_macro2::TokenTree;
    let mut out = Vec::new();
    let mut trees = tokens.clone().into_iter().peekable();
    while let Some(tree) = trees.next() {
        // `=>` then the transcriber group.
        if let TokenTree::Punct(p) = &tree {
            if p.as_char() == '=' && matches!(trees.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '>') {
                trees.next();
                if let Some(TokenTree::Group(g)) = trees.next() {
                    if returns(&g.stream()) {
                        return Vec::new();
                    }
                    out.push(g.stream());
                }
            }
        }
    }
    if out.len() > 1 {
        out.clear();
    }
    out
}

/// Do the tokens hold a `return`?
fn returns(tokens: &proc_macro2::TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "return",
        proc_macro2::TokenTree::Group(g) => returns(&g.stream()),
        _ => false,
    })
}

/// A rule's transcriber as code at the invocation: every token takes the invocation's span
/// (so findings point at it), and each metavariable (`$ms`) becomes one placeholder identifier
/// standing for an unknown expression. `$crate` is `crate`.
pub(crate) fn instantiate(
    body: &proc_macro2::TokenStream,
    at: proc_macro2::Span,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    let mut out = Vec::new();
    let mut trees = body.clone().into_iter().peekable();
    while let Some(tree) = trees.next() {
        match tree {
            TokenTree::Punct(p) if p.as_char() == '$' => match trees.peek() {
                Some(TokenTree::Ident(i)) => {
                    let name = if i == "crate" { "crate" } else { "__stall_macro_argument" };
                    out.push(TokenTree::Ident(Ident::new(name, at)));
                    trees.next();
                }
                _ => {
                    let mut p = p;
                    p.set_span(at);
                    out.push(TokenTree::Punct(p));
                }
            },
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), instantiate(&g.stream(), at));
                inner.set_span(at);
                out.push(TokenTree::Group(inner));
            }
            mut other => {
                other.set_span(at);
                out.push(other);
            }
        }
    }
    out.into_iter().collect()
}
