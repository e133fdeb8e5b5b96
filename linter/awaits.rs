//! What an async body awaits, and the names its expressions read and write: the shared
//! groundwork of the serial-await rules. Nested closures and async blocks are separate
//! bodies and are not looked into.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Block, Expr, ExprAwait, Pat, Stmt};

use crate::context::is_test_code;

/// Calls an async body awaits to wait for time to pass (pacing, polling).
pub const TIMERS: &[&str] =
    &["sleep", "sleep_until", "delay_for", "delay_until", "tick", "after", "interval", "sleep_ms"];

/// Names of calls that already run futures concurrently.
pub const CONCURRENT: &[&str] = &[
    "join",
    "try_join",
    "join_all",
    "try_join_all",
    "join3",
    "join4",
    "join5",
    "select",
    "select_all",
    "select_ok",
    "buffer_unordered",
    "buffered",
    "for_each_concurrent",
    "try_for_each_concurrent",
    "FuturesUnordered",
    "FuturesOrdered",
    "JoinSet",
    "spawn",
    "spawn_local",
    "race",
];

/// Awaited calls that go through a handle whose order matters: channels, locks, writers,
/// streams, transactions. A loop awaiting one of these is sequential by design.
pub fn is_sequential(name: &str) -> bool {
    SEQUENTIAL.contains(&name) || SEQUENTIAL_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Calls that change state step by step, each step needing the one before: directories made
/// parent first, subscriptions and binds set up in turn. Matched anywhere in the name
/// (`create_dir_all`, `webdav_mkcol`, `ssubscribe`, `queue_bind`).
pub const STEPWISE: &[&str] = &["mkdir", "mkcol", "create_dir", "make_dir", "subscribe", "bind", "listen"];

/// Receivers that queue commands to run later, in order: a pipeline, a batch, a transaction.
pub fn is_queue_of_commands(receiver: &Expr) -> bool {
    const NAMES: &[&str] = &["pipeline", "pipe", "batch", "txn", "tx", "transaction", "multi"];
    fn last_name(e: &Expr) -> Option<String> {
        match e {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(i) => Some(i.to_string()),
                syn::Member::Unnamed(_) => None,
            },
            Expr::Paren(p) => last_name(&p.expr),
            Expr::Reference(r) => last_name(&r.expr),
            Expr::Unary(u) => last_name(&u.expr),
            _ => None,
        }
    }
    let Some(name) = last_name(receiver) else { return false };
    NAMES.iter().any(|n| name == *n || name.ends_with(&format!("_{n}")))
}

/// `Manager::interfaces_added(&emitter, ..)`, `forward(item, &sender)`: a call handed a
/// long-lived channel end or writer, through which its effects go out in order.
pub fn passes_ordered_handle(e: &Expr) -> bool {
    const HANDLES: &[&str] = &["emitter", "sender", "writer", "sink", "publisher"];
    let args: Vec<&Expr> = match e {
        Expr::Call(c) => c.args.iter().collect(),
        Expr::MethodCall(m) => m.args.iter().collect(),
        _ => return false,
    };
    args.into_iter().any(|mut a| {
        while let Expr::Reference(r) = a {
            a = &r.expr;
        }
        matches!(a, Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
            let i = i.to_string();
            HANDLES.iter().any(|h| i == *h || i.ends_with(&format!("_{h}")))
        }))
    })
}

/// Calls by name whose steps are local work or effects seen in order: `batch_sign` (signing
/// with a cached credential), `create_reaction`, `reply` (a chat shows them as sent).
pub fn is_local_or_ordered_effect(name: &str) -> bool {
    name.split('_').any(|w| matches!(w, "sign" | "reaction" | "react" | "reply" | "say"))
}

/// Families of the calls in `SEQUENTIAL`: `write_i32`, `broadcast_direct`, `publish_event`.
const SEQUENTIAL_PREFIXES: &[&str] = &["write_", "broadcast", "publish_", "emit_", "notify_"];

const SEQUENTIAL: &[&str] = &[
    "send",
    "send_all",
    "feed",
    "write",
    "write_all",
    "write_buf",
    "write_u8",
    "write_u32",
    "write_u64",
    "flush",
    "shutdown",
    "close",
    "lock",
    "read",
    "read_exact",
    "read_to_end",
    "read_to_string",
    "read_line",
    "read_buf",
    "acquire",
    "acquire_owned",
    "acquire_many",
    "wait",
    "notified",
    "recv",
    "recv_from",
    "send_to",
    "next",
    "try_next",
    "next_line",
    "accept",
    "readable",
    "writable",
    "ready",
    "changed",
    "commit",
    "rollback",
    "begin",
    "reserve",
    "poll_fn",
    "yield_now",
    "sleep",
    "tick",
    "broadcast",
    "emit",
    "publish",
    "dispatch",
    "notify",
    "send_message",
    "send_event",
];

/// Awaits that wait for another task rather than for I/O.
pub const IDLE_WAITS: &[&str] = &[
    "lock",
    "read",
    "write",
    "lock_owned",
    "read_owned",
    "write_owned",
    "acquire",
    "acquire_owned",
    "acquire_many",
    "notified",
    "changed",
    "wait",
    "wait_for",
    "yield_now",
];

/// A named value (`tx`, `self.sink`, `*writer`, `&mut conn`), not a freshly built one.
pub fn is_handle(e: &Expr) -> bool {
    match e {
        Expr::Path(_) => true,
        Expr::Field(f) => is_handle(&f.base),
        Expr::Paren(p) => is_handle(&p.expr),
        Expr::Reference(r) => is_handle(&r.expr),
        Expr::Unary(u) => is_handle(&u.expr),
        Expr::Index(i) => is_handle(&i.expr),
        Expr::MethodCall(m) => {
            // `self.conn.lock().await.send(..)`-like chains through accessors stay handles.
            matches!(m.method.to_string().as_str(), "as_mut" | "as_ref" | "borrow_mut" | "get_mut" | "lock")
                && is_handle(&m.receiver)
        }
        _ => false,
    }
}

/// The future under adaptors that only wrap it: `fetch(x).instrument(span)`, `Box::pin(f)`.
pub fn peel_adaptors(e: &Expr) -> &Expr {
    match e {
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "instrument" | "in_current_span" | "boxed" | "fuse"
            ) =>
        {
            peel_adaptors(&m.receiver)
        }
        Expr::Call(c)
            if c.args.len() == 1
                && matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "pin")) =>
        {
            peel_adaptors(&c.args[0])
        }
        Expr::Paren(p) => peel_adaptors(&p.expr),
        _ => e,
    }
}

/// The direct awaits of a block, in source order.
pub fn direct_awaits(block: &Block) -> Vec<&ExprAwait> {
    let mut c = Awaits::default();
    c.visit_block(block);
    c.out
}

pub fn direct_awaits_expr(expr: &Expr) -> Vec<&ExprAwait> {
    let mut c = Awaits::default();
    c.visit_expr(expr);
    c.out
}

/// The awaits of a loop body that belong to that loop: not those of loops nested in it,
/// which are theirs to report.
pub fn loop_awaits(block: &Block) -> Vec<&ExprAwait> {
    let mut c = Awaits { out: Vec::new(), skip_loops: true };
    c.visit_block(block);
    c.out
}

#[derive(Default)]
struct Awaits<'a> {
    out: Vec<&'a ExprAwait>,
    skip_loops: bool,
}

impl<'a> Visit<'a> for Awaits<'a> {
    fn visit_expr_await(&mut self, a: &'a ExprAwait) {
        self.out.push(a);
        visit::visit_expr_await(self, a);
    }
    fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'a syn::Item) {}
    fn visit_expr_for_loop(&mut self, l: &'a syn::ExprForLoop) {
        self.visit_expr(&l.expr);
        if !self.skip_loops {
            self.visit_block(&l.body);
        }
    }
    fn visit_expr_while(&mut self, l: &'a syn::ExprWhile) {
        self.visit_expr(&l.cond);
        if !self.skip_loops {
            self.visit_block(&l.body);
        }
    }
    fn visit_expr_loop(&mut self, l: &'a syn::ExprLoop) {
        if !self.skip_loops {
            self.visit_block(&l.body);
        }
    }
}

/// Every plain identifier an expression mentions, macro arguments included.
pub fn idents(expr: &Expr) -> HashSet<String> {
    let mut c = Idents::default();
    c.visit_expr(expr);
    c.out
}

/// Every identifier in an expression's tokens: path segments and method names too.
pub fn all_names(expr: &Expr) -> HashSet<String> {
    let mut out = HashSet::new();
    token_idents(quote::ToTokens::to_token_stream(expr), &mut out);
    out
}

pub fn block_idents(block: &Block) -> HashSet<String> {
    let mut c = Idents::default();
    c.visit_block(block);
    c.out
}

#[derive(Default)]
struct Idents {
    out: HashSet<String>,
}

impl<'a> Visit<'a> for Idents {
    fn visit_path(&mut self, p: &'a syn::Path) {
        if let Some(first) = p.segments.first() {
            if p.leading_colon.is_none() {
                self.out.insert(first.ident.to_string());
            }
        }
        visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        token_idents(m.tokens.clone(), &mut self.out);
    }
}

pub fn token_idents(tokens: TokenStream, out: &mut HashSet<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => token_idents(g.stream(), out),
            TokenTree::Literal(l) => format_captures(&l.to_string(), out),
            TokenTree::Punct(_) => {}
        }
    }
}

/// Names a format string captures inline: `"{base_url}/health"`, `"{id:>8}"`.
fn format_captures(literal: &str, out: &mut HashSet<String>) {
    if !literal.ends_with('"') {
        return;
    }
    let mut rest = literal;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let name = &rest[..end];
        if name.starts_with(|c: char| c.is_alphabetic() || c == '_') && name != "_" {
            out.insert(name.to_string());
        }
    }
}

/// Names a pattern binds.
pub fn bound_names(pat: &Pat, out: &mut HashSet<String>) {
    struct Names<'o>(&'o mut HashSet<String>);
    impl<'a> Visit<'a> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

/// What a loop body does besides awaiting: names it declares, assigns and mutates, and
/// whether it can leave the loop early.
#[derive(Default, Debug)]
pub struct BodyFacts {
    /// Bound by `let` inside the body.
    pub declared: HashSet<String>,
    /// Targets of `=`, `+=`, .. (the root name of `a.b = ..` too).
    pub assigned: HashSet<String>,
    /// Receivers of calls that look like they change their receiver (`v.push(..)`).
    pub mutated: HashSet<String>,
    /// `break` or `return` for this loop.
    pub exits: bool,
    /// A labelled `continue`: it may go on with an outer loop, leaving this one.
    pub labelled_continue: bool,
    /// Calls by name (last path segment or method), macros included.
    pub calls: HashSet<String>,
}

const MUTATORS: &[&str] = &[
    "push",
    "push_back",
    "push_front",
    "insert",
    "extend",
    "append",
    "clear",
    "remove",
    "pop",
    "pop_front",
    "pop_back",
    "truncate",
    "retain",
    "drain",
    "take",
    "next",
    "advance",
    "set",
    "replace",
    "swap",
    "sort",
    "dedup",
    "split_off",
];

pub fn body_facts(block: &Block) -> BodyFacts {
    let mut f = Facts { facts: BodyFacts::default(), loop_depth: 0, in_err_arm: false };
    f.visit_block(block);
    f.facts
}

struct Facts {
    facts: BodyFacts,
    /// Loops nested inside the body: an unlabeled `break`/`continue` there is theirs.
    loop_depth: usize,
    /// Inside a `match` arm for `Err(..)`: a `return` there hands the error up, like `?`.
    in_err_arm: bool,
}

impl Facts {
    fn nested_loop(&mut self, f: impl FnOnce(&mut Self)) {
        self.loop_depth += 1;
        f(self);
        self.loop_depth -= 1;
    }
}

impl<'a> Visit<'a> for Facts {
    fn visit_local(&mut self, l: &'a syn::Local) {
        bound_names(&l.pat, &mut self.facts.declared);
        visit::visit_local(self, l);
    }
    fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
        if let Some(root) = state_name(&a.left) {
            self.facts.assigned.insert(root);
        }
        visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'a syn::ExprBinary) {
        use syn::BinOp::*;
        if matches!(
            b.op,
            AddAssign(_)
                | SubAssign(_)
                | MulAssign(_)
                | DivAssign(_)
                | RemAssign(_)
                | BitAndAssign(_)
                | BitOrAssign(_)
                | BitXorAssign(_)
                | ShlAssign(_)
                | ShrAssign(_)
        ) {
            if let Some(root) = state_name(&b.left) {
                self.facts.assigned.insert(root);
            }
        }
        visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        let name = m.method.to_string();
        if MUTATORS.contains(&name.as_str()) || name.starts_with("set_") {
            if let Some(root) = state_name(&m.receiver) {
                self.facts.mutated.insert(root);
            }
        }
        self.facts.calls.insert(name);
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            if let Some(last) = p.path.segments.last() {
                self.facts.calls.insert(last.ident.to_string());
            }
            // `Type::new` as in `FuturesUnordered::new()`, `JoinSet::new()`.
            for s in &p.path.segments {
                self.facts.calls.insert(s.ident.to_string());
            }
        }
        visit::visit_expr_call(self, c);
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        if let Some(last) = m.path.segments.last() {
            self.facts.calls.insert(last.ident.to_string());
        }
        let mut inner = HashSet::new();
        token_idents(m.tokens.clone(), &mut inner);
        if inner.contains("return") || (self.loop_depth == 0 && inner.contains("break")) {
            self.facts.exits = true;
        }
        self.facts.calls.extend(inner);
    }
    fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
        // `Err(e) => return Err(e.into())` propagates the error like `?`; a `return` elsewhere
        // may be a first success.
        if !self.in_err_arm {
            self.facts.exits = true;
        }
        visit::visit_expr_return(self, r);
    }
    fn visit_arm(&mut self, a: &'a syn::Arm) {
        let err =
            matches!(&a.pat, Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Err"));
        let outer = std::mem::replace(&mut self.in_err_arm, err);
        visit::visit_arm(self, a);
        self.in_err_arm = outer;
    }
    fn visit_expr_break(&mut self, b: &'a syn::ExprBreak) {
        if self.loop_depth == 0 || b.label.is_some() {
            self.facts.exits = true;
        }
        visit::visit_expr_break(self, b);
    }
    fn visit_expr_continue(&mut self, c: &'a syn::ExprContinue) {
        if self.loop_depth == 0 || c.label.is_some() {
            self.facts.labelled_continue |= c.label.is_some();
        }
    }
    fn visit_expr_for_loop(&mut self, l: &'a syn::ExprForLoop) {
        self.visit_expr(&l.expr);
        self.nested_loop(|f| f.visit_block(&l.body));
    }
    fn visit_expr_while(&mut self, l: &'a syn::ExprWhile) {
        self.visit_expr(&l.cond);
        self.nested_loop(|f| f.visit_block(&l.body));
    }
    fn visit_expr_loop(&mut self, l: &'a syn::ExprLoop) {
        self.nested_loop(|f| f.visit_block(&l.body));
    }
    fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

/// `a` for `a`, `a.b.c`, `a[i]`, `*a`, `(a)`.
pub fn root_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Field(f) => root_ident(&f.base),
        Expr::Index(i) => root_ident(&i.expr),
        Expr::Unary(u) => root_ident(&u.expr),
        Expr::Paren(p) => root_ident(&p.expr),
        Expr::Reference(r) => root_ident(&r.expr),
        Expr::MethodCall(m) => root_ident(&m.receiver),
        Expr::Try(t) => root_ident(&t.expr),
        _ => None,
    }
}

/// The state an assignment or mutating call changes: its root name, or `self.field` for a
/// field of `self` (changing `self.cache` says nothing about `self.client`).
pub fn state_name(e: &Expr) -> Option<String> {
    let mut e = e;
    let mut field = None;
    loop {
        match e {
            Expr::Field(f) => {
                if let syn::Member::Named(n) = &f.member {
                    field = Some(n.to_string());
                }
                e = &f.base;
            }
            Expr::Index(i) => e = &i.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Unary(u) => e = &u.expr,
            Expr::MethodCall(m) => e = &m.receiver,
            _ => break,
        }
    }
    let root = root_ident(e)?;
    match field {
        Some(f) if root == "self" => Some(format!("self.{f}")),
        _ => Some(root),
    }
}

/// The name of the call at the head of an awaited expression: `fetch` for `fetch(x)` or
/// `client.get(x).send()` -> `send`.
pub fn call_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
        Expr::MethodCall(m) => Some(m.method.to_string()),
        Expr::Paren(p) => call_name(&p.expr),
        _ => None,
    }
}

/// Names passed as whole arguments (`f(req)`, `x.m(conn)`): a `&mut` parameter passed on.
pub fn bare_args(e: &Expr) -> HashSet<String> {
    struct Args(HashSet<String>);
    impl Args {
        fn take<'a>(&mut self, args: impl Iterator<Item = &'a Expr>) {
            for a in args {
                if let Expr::Path(p) = a {
                    if let Some(i) = p.path.get_ident() {
                        self.0.insert(i.to_string());
                    }
                }
            }
        }
    }
    impl<'a> Visit<'a> for Args {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            self.take(c.args.iter());
            visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            self.take(m.args.iter());
            visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut a = Args(HashSet::new());
    a.visit_expr(e);
    a.0
}

/// Does the expression pass `&mut x` (for an `x` the caller names) anywhere in its calls?
pub fn mut_borrows(e: &Expr) -> HashSet<String> {
    struct Borrows(HashSet<String>);
    impl<'a> Visit<'a> for Borrows {
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            if r.mutability.is_some() {
                if let Some(root) = root_ident(&r.expr) {
                    self.0.insert(root);
                }
            }
            visit::visit_expr_reference(self, r);
        }
    }
    impl Borrows {
        fn method(&mut self, m: &syn::ExprMethodCall) {
            let name = m.method.to_string();
            if matches!(name.as_str(), "as_mut" | "as_deref_mut" | "get_mut" | "borrow_mut" | "by_ref") {
                if let Some(root) = root_ident(&m.receiver) {
                    self.0.insert(root);
                }
            }
        }
    }
    let mut b = Borrows(HashSet::new());
    b.visit_expr(e);
    // `session.as_deref_mut()` borrows `session` mutably too.
    struct Methods<'b>(&'b mut Borrows);
    impl<'a> Visit<'a> for Methods<'_> {
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            self.0.method(m);
            visit::visit_expr_method_call(self, m);
        }
    }
    Methods(&mut b).visit_expr(e);
    b.0
}

/// Every async body of a file (async fn, async block, async closure), with what its function
/// says about it: the names it declares mutable (`let mut x`, `x: &mut T`, `&mut self`), its
/// `impl` type, name and parameter types. Test code is skipped unless `include_tests`.
pub fn async_bodies(file: &syn::File, include_tests: bool) -> Vec<AsyncBody<'_>> {
    let mut w = Bodies {
        include_tests,
        self_type: None,
        fn_name: None,
        param_types: Default::default(),
        out: Vec::new(),
    };
    w.visit_file(file);
    w.out
}

pub struct AsyncBody<'a> {
    pub block: &'a Block,
    /// Names declared mutable in the enclosing function (including `self` for `&mut self`).
    pub mutable: HashSet<String>,
    /// `let` initialisers of the enclosing function, by name (last one wins).
    pub lets: std::collections::HashMap<String, &'a Expr>,
    /// The type of the enclosing `impl` (its last path segment): what `Self` and `self` are.
    pub self_type: Option<String>,
    /// The enclosing fn (for an async block, the fn it is written in).
    pub fn_name: Option<String>,
    /// The declared types of the enclosing fn's parameters (see `type_name`).
    pub param_types: std::collections::HashMap<String, String>,
}

struct Bodies<'a> {
    include_tests: bool,
    self_type: Option<String>,
    fn_name: Option<String>,
    param_types: std::collections::HashMap<String, String>,
    out: Vec<AsyncBody<'a>>,
}

impl<'a> Bodies<'a> {
    fn body(&mut self, block: &'a Block, sig: Option<&'a syn::Signature>, is_async: bool) {
        // A fn sets the name and parameters that the async blocks written in it see.
        let outer = sig.map(|sig| {
            let fn_name = self.fn_name.replace(sig.ident.to_string());
            (fn_name, std::mem::replace(&mut self.param_types, param_types(sig)))
        });
        if is_async {
            let mut lets = Lets::default();
            lets.visit_block(block);
            let mut mutable = sig.map(mutable_params).unwrap_or_default();
            mutable.extend(lets.mutable);
            self.out.push(AsyncBody {
                block,
                mutable,
                lets: lets.inits,
                self_type: self.self_type.clone(),
                fn_name: self.fn_name.clone(),
                param_types: self.param_types.clone(),
            });
        }
        self.visit_block(block);
        if let Some((fn_name, params)) = outer {
            self.fn_name = fn_name;
            self.param_types = params;
        }
    }
}

/// Parameters a signature declares mutable: `&mut self`, `x: &mut T`, `mut x: T`.
fn mutable_params(sig: &syn::Signature) -> HashSet<String> {
    let mut mutable = HashSet::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) if r.mutability.is_some() => {
                mutable.insert("self".to_string());
            }
            syn::FnArg::Typed(pt) => {
                let is_mut_ref = matches!(&*pt.ty, syn::Type::Reference(r) if r.mutability.is_some());
                if is_mut_ref || matches!(&*pt.pat, Pat::Ident(p) if p.mutability.is_some()) {
                    bound_names(&pt.pat, &mut mutable);
                }
            }
            syn::FnArg::Receiver(_) => {}
        }
    }
    mutable
}

/// The declared type (see `type_name`) of each plainly named parameter.
fn param_types(sig: &syn::Signature) -> std::collections::HashMap<String, String> {
    sig.inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(pt) => match (&*pt.pat, type_name(&pt.ty)) {
                (Pat::Ident(p), Some(t)) => Some((p.ident.to_string(), t)),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

#[derive(Default)]
struct Lets<'a> {
    inits: std::collections::HashMap<String, &'a Expr>,
    mutable: HashSet<String>,
}

/// The `let name = init` bindings of a block, by name (the last one wins).
pub fn let_inits(block: &Block) -> std::collections::HashMap<String, &Expr> {
    let mut lets = Lets::default();
    lets.visit_block(block);
    lets.inits
}

impl<'a> Visit<'a> for Lets<'a> {
    fn visit_local(&mut self, l: &'a syn::Local) {
        let mut pat = &l.pat;
        if let Pat::Type(t) = pat {
            pat = &t.pat;
        }
        if let (Pat::Ident(p), Some(init)) = (pat, &l.init) {
            self.inits.insert(p.ident.to_string(), &init.expr);
            let mut_ref = matches!(&*init.expr, Expr::Reference(r) if r.mutability.is_some());
            if p.mutability.is_some() || mut_ref {
                self.mutable.insert(p.ident.to_string());
            }
        }
        visit::visit_local(self, l);
    }
    fn visit_item(&mut self, _: &'a syn::Item) {}
}

impl<'a> Visit<'a> for Bodies<'a> {
    fn visit_item_fn(&mut self, i: &'a syn::ItemFn) {
        if self.include_tests || !is_test_code(&i.attrs) {
            self.body(&i.block, Some(&i.sig), i.sig.asyncness.is_some());
        }
    }
    fn visit_impl_item_fn(&mut self, i: &'a syn::ImplItemFn) {
        if self.include_tests || !is_test_code(&i.attrs) {
            self.body(&i.block, Some(&i.sig), i.sig.asyncness.is_some());
        }
    }
    fn visit_trait_item_fn(&mut self, i: &'a syn::TraitItemFn) {
        if let Some(b) = &i.default {
            if self.include_tests || !is_test_code(&i.attrs) {
                self.body(b, Some(&i.sig), i.sig.asyncness.is_some());
            }
        }
    }
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if self.include_tests || !is_test_code(&m.attrs) {
            visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        if self.include_tests || !is_test_code(&i.attrs) {
            let outer = std::mem::replace(&mut self.self_type, type_name(&i.self_ty));
            visit::visit_item_impl(self, i);
            self.self_type = outer;
        }
    }
    fn visit_expr_async(&mut self, a: &'a syn::ExprAsync) {
        self.body(&a.block, None, true);
    }
    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        if c.asyncness.is_some() {
            match &*c.body {
                Expr::Block(b) => self.body(&b.block, None, true),
                other => visit::visit_expr(self, other),
            }
        } else {
            visit::visit_expr_closure(self, c);
        }
    }
}

/// The last path segment of a type (`Invalidator` for `crate::x::Invalidator<K, V>`), looking
/// through references and smart pointers (`&Arc<Client>` is `Client`).
pub fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => {
            let last = p.path.segments.last()?;
            if matches!(last.ident.to_string().as_str(), "Arc" | "Rc" | "Box") {
                if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                    if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                        return type_name(inner);
                    }
                }
            }
            Some(last.ident.to_string())
        }
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        _ => None,
    }
}

/// The statements of a block and of every block nested in it (not in closures or async
/// blocks), for rules that look at statement sequences.
pub fn nested_blocks(block: &Block) -> Vec<&[Stmt]> {
    struct Blocks<'a>(Vec<&'a [Stmt]>);
    impl<'a> Visit<'a> for Blocks<'a> {
        fn visit_block(&mut self, b: &'a Block) {
            self.0.push(&b.stmts);
            visit::visit_block(self, b);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut b = Blocks(Vec::new());
    b.visit_block(block);
    b.0
}
