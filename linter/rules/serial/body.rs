//! What a loop body or statement awaits, and the names its expressions read and write: the
//! shared groundwork of the serial rules. Each helper looks inside the node a rule was called
//! on; nested closures and async blocks are bodies of their own and are not looked into.

use rustc_hash::FxHashSet as HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Block, Expr, ExprAwait, Pat};

use super::names::names;
pub(crate) use crate::semantic::context::{bound_names, call_name, root_ident};

/// Awaited calls that go through a handle whose order matters: channels, locks, writers,
/// streams, transactions. A loop awaiting one of these is sequential by design.
pub(crate) fn is_sequential(name: &str) -> bool {
    names().sequential.matches(name)
}

/// Receivers that queue commands to run later, in order: a pipeline, a batch, a transaction.
pub(crate) fn is_queue_of_commands(receiver: &Expr) -> bool {
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
    last_name(receiver).is_some_and(|name| names().command_queues.matches_suffixed(&name))
}

/// `Manager::interfaces_added(&emitter, ..)`, `forward(item, &sender)`: a call handed a
/// long-lived channel end or writer, through which its effects go out in order.
pub(crate) fn passes_ordered_handle(e: &Expr) -> bool {
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
            names().ordered_handles.matches_suffixed(&i.to_string())
        }))
    })
}

/// Calls by name whose steps are local work or effects seen in order: `batch_sign` (signing
/// with a cached credential), `create_reaction`, `reply` (a chat shows them as sent).
pub(crate) fn is_local_or_ordered_effect(name: &str) -> bool {
    names().local_or_ordered.matches(name)
}

/// A named value (`tx`, `self.sink`, `*writer`, `&mut conn`), not a freshly built one.
pub(crate) fn is_handle(e: &Expr) -> bool {
    match e {
        Expr::Path(_) => true,
        Expr::Field(f) => is_handle(&f.base),
        Expr::Paren(p) => is_handle(&p.expr),
        Expr::Reference(r) => is_handle(&r.expr),
        Expr::Unary(u) => is_handle(&u.expr),
        Expr::Index(i) => is_handle(&i.expr),
        Expr::MethodCall(m) => {
            // `self.conn.lock().await.send(..)`-like chains through accessors stay handles.
            names().accessors.matches(&m.method.to_string()) && is_handle(&m.receiver)
        }
        _ => false,
    }
}

/// The future under adaptors that only wrap it: `fetch(x).instrument(span)`, `Box::pin(f)`.
pub(crate) fn peel_adaptors(e: &Expr) -> &Expr {
    match e {
        Expr::MethodCall(m) if names().adaptors.matches(&m.method.to_string()) => peel_adaptors(&m.receiver),
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

/// The awaits of an expression, in source order (not those in closures or async blocks).
pub(crate) fn direct_awaits_expr(expr: &Expr) -> Vec<&ExprAwait> {
    let mut c = Awaits::default();
    c.visit_expr(expr);
    c.out
}

/// Does a lock method of this name take an exclusive guard (a read guard's holders share it)?
pub(crate) fn is_exclusive_lock(method: &str) -> bool {
    matches!(method, "lock" | "lock_owned" | "write" | "write_owned")
}

/// The awaits of a block (not those in closures or async blocks).
pub(crate) fn direct_awaits_block(block: &Block) -> Vec<&ExprAwait> {
    let mut c = Awaits::default();
    c.visit_block(block);
    c.out
}

/// The awaits of a statement (not those in closures or async blocks).
pub(crate) fn direct_awaits_stmt(s: &syn::Stmt) -> Vec<&ExprAwait> {
    let mut c = Awaits::default();
    c.visit_stmt(s);
    c.out
}

/// The awaits of a loop body that belong to that loop: not those of loops nested in it,
/// which are theirs to report.
pub(crate) fn loop_awaits(block: &Block) -> Vec<&ExprAwait> {
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
pub(crate) fn idents(expr: &Expr) -> HashSet<String> {
    let mut c = Idents::default();
    c.visit_expr(expr);
    c.out
}

/// Every identifier in an expression's tokens: path segments and method names too.
pub(crate) fn all_names(expr: &Expr) -> HashSet<String> {
    let mut out = HashSet::default();
    token_idents(quote::ToTokens::to_token_stream(expr), &mut out);
    out
}

pub(crate) fn block_idents(block: &Block) -> HashSet<String> {
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

pub(crate) fn token_idents(tokens: TokenStream, out: &mut HashSet<String>) {
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

/// What a loop body does besides awaiting: names it declares, assigns and mutates, and
/// whether it can leave the loop early.
#[derive(Default, Debug)]
pub(crate) struct BodyFacts {
    /// Bound by `let` inside the body.
    pub declared: HashSet<String>,
    /// Targets of `=`, `+=`, .. (the root name of `a.b = ..` too).
    pub assigned: HashSet<String>,
    /// Receivers of calls that look like they change their receiver (`v.push(..)`).
    pub mutated: HashSet<String>,
    /// Places lent out as `&mut x` (`strike_off(&mut missing, key)`): changed there.
    pub lent_mut: HashSet<String>,
    /// `break` or `return` for this loop.
    pub exits: bool,
    /// `return Err(..)` outside an `Err` arm: the loop stops at a failed item, as with `?`.
    pub fails_fast: bool,
    /// A labelled `continue`: it may go on with an outer loop, leaving this one.
    pub labelled_continue: bool,
    /// Calls by name (last path segment or method), macros included.
    pub calls: HashSet<String>,
}

/// `path_like`: does a value's type make its `join` a path's, a URL's or a string's?
pub(crate) fn body_facts(block: &Block, path_like: &dyn Fn(&Expr) -> bool) -> BodyFacts {
    let mut f = Facts {
        facts: BodyFacts::default(),
        loop_depth: 0,
        in_err_arm: false,
        awaited_now: HashSet::default(),
        path_like,
        setters: Vec::new(),
        called_on: HashSet::default(),
    };
    f.visit_block(block);
    // An awaited setter whose receiver the body also reads (`cursor.set_position(next).await`
    // beside `cursor.position().await`): state the iterations hand on.
    for (path, place) in std::mem::take(&mut f.setters) {
        if f.called_on.contains(&path) {
            f.facts.mutated.insert(place);
        }
    }
    f.facts
}

struct Facts<'p> {
    facts: BodyFacts,
    /// Calls (by address) awaited right where they are made: `tokio::spawn(work(id)).await`
    /// starts a task and waits for it, which runs nothing concurrently.
    awaited_now: HashSet<usize>,
    /// Loops nested inside the body: an unlabeled `break`/`continue` there is theirs.
    loop_depth: usize,
    /// Inside a `match` arm for `Err(..)`: a `return` there hands the error up, like `?`.
    in_err_arm: bool,
    path_like: &'p dyn Fn(&Expr) -> bool,
    /// Receivers of awaited setters (`state.matrix` of `state.matrix.set_avatar_url(..)
    /// .await`), by their whole paths and as the place a mutating call changes; and of
    /// awaited calls without arguments (`cursor` of `cursor.position().await`), whole.
    setters: Vec<(String, String)>,
    called_on: HashSet<String>,
}

impl Facts<'_> {
    fn nested_loop(&mut self, f: impl FnOnce(&mut Self)) {
        self.loop_depth += 1;
        f(self);
        self.loop_depth -= 1;
    }
}

impl<'a> Visit<'a> for Facts<'_> {
    fn visit_expr_await(&mut self, a: &'a syn::ExprAwait) {
        let mut base = &*a.base;
        while let Expr::Paren(p) = base {
            base = &p.expr;
        }
        self.awaited_now.insert(base as *const Expr as usize);
        visit::visit_expr_await(self, a);
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        let now = self.awaited_now.remove(&(e as *const Expr as usize));
        // (`cursor.position().await`: an awaited read of a handle, which a setter may feed.)
        if let Expr::MethodCall(m) = e {
            if now && m.args.is_empty() {
                self.called_on.extend(field_path(&m.receiver));
            }
        }
        let spawn = |name: &str| names().spawned.matches(name);
        match e {
            // Only the arguments count: the spawn itself runs nothing beside this iteration.
            Expr::Call(c) if now && call_name(e).is_some_and(|n| spawn(&n)) => {
                c.args.iter().for_each(|a| self.visit_expr(a));
            }
            Expr::MethodCall(m) if now && spawn(&m.method.to_string()) => {
                self.visit_expr(&m.receiver);
                m.args.iter().for_each(|a| self.visit_expr(a));
            }
            // An awaited setter (`state.matrix.set_avatar_url(..).await`) asks a service or a
            // store to change something: a request or a write (see `writes`), not a change of
            // a value the next iteration reads, as `seen.insert(x)` or `cursor.set_offset(n)`.
            Expr::MethodCall(m) if now && m.method.to_string().starts_with("set_") => {
                self.facts.calls.insert(m.method.to_string());
                self.setters.extend(field_path(&m.receiver).zip(changed_place(&m.receiver)));
                self.visit_expr(&m.receiver);
                m.args.iter().for_each(|a| self.visit_expr(a));
            }
            // `self.out.join(&asset.name)`, `url.join("healthz")`: a path, a URL or a string, not
            // futures run together (a future's `a.join(b)` is awaited, maybe through a timeout).
            Expr::MethodCall(m)
                if !now
                    && names().awaited_joins.matches(&m.method.to_string())
                    && ((self.path_like)(&m.receiver)
                        || m.args.iter().any(|a| matches!(a, Expr::Lit(_) | Expr::Macro(_)))) =>
            {
                self.visit_expr(&m.receiver);
                m.args.iter().for_each(|a| self.visit_expr(a));
            }
            _ => visit::visit_expr(self, e),
        }
    }
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
        ) && !is_guarded_tally(b)
        {
            if let Some(root) = state_name(&b.left) {
                self.facts.assigned.insert(root);
            }
        }
        visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        let name = m.method.to_string();
        if names().mutators.matches(&name) && !takes_from_fresh_value(&name, &m.receiver) {
            if let Some(root) = changed_place(&m.receiver) {
                self.facts.mutated.insert(root);
            }
        }
        self.facts.calls.insert(name);
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
        // `resolve(&mut missing, k)`: whatever takes `&mut` may change it, as a mutating method
        // would (a fallback chain narrowing what is still missing). Not a temporary: `&mut
        // ctx.pool()` is a fresh handle each time.
        if r.mutability.is_some() && is_place(&r.expr) {
            if let Some(root) = mutated_place(&r.expr) {
                self.facts.lent_mut.insert(root);
            }
        }
        visit::visit_expr_reference(self, r);
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
        let mut inner = HashSet::default();
        token_idents(m.tokens.clone(), &mut inner);
        if inner.contains("return") || (self.loop_depth == 0 && inner.contains("break")) {
            self.facts.exits = true;
        }
        self.facts.calls.extend(inner);
    }
    fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
        // `Err(e) => return Err(e.into())` and `if bad { return Err(..) }` hand an error up
        // like `?`; a `return` elsewhere may be a first success.
        let err = r.expr.as_deref().is_some_and(is_err);
        self.facts.fails_fast |= err && !self.in_err_arm;
        if !self.in_err_arm && !err {
            self.facts.exits = true;
        }
        visit::visit_expr_return(self, r);
    }
    fn visit_arm(&mut self, a: &'a syn::Arm) {
        let outer = std::mem::replace(&mut self.in_err_arm, is_err_arm(a));
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

/// An arm for `Err(..)`: a `return` there hands the error up, like `?`.
pub(crate) fn is_err_arm(a: &syn::Arm) -> bool {
    matches!(&a.pat, Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Err"))
}

/// `Err(..)`, `Err(..).into()`: an error handed up.
fn is_err(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Err"))
        }
        Expr::MethodCall(m) if m.method == "into" => is_err(&m.receiver),
        Expr::Paren(p) => is_err(&p.expr),
        _ => false,
    }
}

/// A count kept behind a lock or cell for reports (`state.metrics.lock().unwrap().failed
/// += 1`, a field named as one: `tallies`): not a value the next iteration's calls are made
/// from, as a page or an offset behind a lock is (`cursor.lock().unwrap().page += 1`).
fn is_guarded_tally(b: &syn::ExprBinary) -> bool {
    use syn::BinOp::*;
    if !matches!(b.op, AddAssign(_) | SubAssign(_)) || !matches!(&*b.right, Expr::Lit(_)) {
        return false;
    }
    let (mut guarded, mut named) = (false, false);
    let mut e = &*b.left;
    loop {
        match e {
            Expr::Field(f) => {
                named |=
                    matches!(&f.member, syn::Member::Named(n) if names().tallies.matches(&n.to_string()));
                e = &f.base;
            }
            Expr::Unary(u) => e = &u.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m) => {
                guarded = true;
                e = &m.receiver;
            }
            _ => return guarded && named,
        }
    }
}

/// The state an assignment changes: its root name, or `self.field` for a field of `self`
/// (changing `self.cache` says nothing about `self.client`).
pub(crate) fn state_name(e: &Expr) -> Option<String> {
    state_place(e, false)
}

/// A variable or a chain of fields on one, as written (`self.state.matrix`).
fn field_path(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(format!("{}.{n}", field_path(&f.base)?)),
            syn::Member::Unnamed(i) => Some(format!("{}.{}", field_path(&f.base)?, i.index)),
        },
        Expr::Paren(p) => field_path(&p.expr),
        Expr::Reference(r) => field_path(&r.expr),
        _ => None,
    }
}

/// The state a mutating call changes: as `state_name`, and `x.field` for a field of any
/// variable (`state.metrics.set(..)` changes nothing `fetch(&state.http, ..)` reads; a read of
/// all of `state` still sees it: `reads_carried_field`).
fn mutated_place(e: &Expr) -> Option<String> {
    state_place(e, true)
}

/// `url.rsplit('/').next()`, `path.components().next()`: an item taken from an iterator made on
/// the spot over a place (`fresh_iterators`) changes nothing the next iteration sees. Not one
/// handed out by a lock, an accessor or another call (`self.ids.lock().unwrap().next()`,
/// `self.tokens().next()`, `rx.try_iter().next()`): those may be the iterator kept.
fn takes_from_fresh_value(method: &str, receiver: &Expr) -> bool {
    if !names().drains.matches(method) || !matches!(receiver, Expr::MethodCall(_)) {
        return false;
    }
    let mut e = receiver;
    while let Expr::MethodCall(m) = e {
        if !names().fresh_iterators.matches(&m.method.to_string()) {
            return false;
        }
        e = &m.receiver;
    }
    is_place(e)
}

/// What a call changing `receiver` changes: the field behind a guard it goes through, else
/// `mutated_place`.
fn changed_place(receiver: &Expr) -> Option<String> {
    guarded_field(receiver).or_else(|| mutated_place(receiver))
}

fn state_place(e: &Expr, any_field: bool) -> Option<String> {
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
        Some(f) if root == "self" || any_field => Some(format!("{root}.{f}")),
        _ => Some(root),
    }
}

/// `x.field` for a change made through a lock or cell that field holds
/// (`st.last_seen.lock().unwrap().insert(..)`, `self.cache.write().await.insert(..)`): shared
/// bookkeeping that changes only that field, not all of `x`.
fn guarded_field(e: &Expr) -> Option<String> {
    let mut e = e;
    let mut through_lock = false;
    loop {
        match e {
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                through_lock |=
                    matches!(name.as_str(), "lock" | "write" | "borrow_mut" | "get_mut" | "entry");
                e = &m.receiver;
            }
            Expr::Await(a) => e = &a.base,
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Field(f) if through_lock => {
                let (Expr::Path(base), syn::Member::Named(n)) = (&*f.base, &f.member) else { return None };
                return Some(format!("{}.{n}", base.path.get_ident()?));
            }
            _ => return None,
        }
    }
}

/// A place: a variable, a field, an element, or what one derefs or hands out through an
/// accessor (`*conn`, `self.db.lock().await`), not a value a call just made (`ctx.pool()`).
pub(crate) fn is_place(e: &Expr) -> bool {
    match e {
        Expr::Path(_) => true,
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr),
        Expr::Paren(p) => is_place(&p.expr),
        Expr::Unary(u) => is_place(&u.expr),
        Expr::Reference(r) => is_place(&r.expr),
        Expr::Await(a) => is_place(&a.base),
        Expr::Try(t) => is_place(&t.expr),
        Expr::MethodCall(m) => {
            (names().accessors.matches(&m.method.to_string())
                || names().mut_borrows.matches(&m.method.to_string()))
                && is_place(&m.receiver)
        }
        _ => false,
    }
}

/// The handles an awaited expression goes through: the receivers of its method calls and the
/// whole arguments of its calls that are places (`conn`, `&mut *tx`, `&self.db`), without the
/// references and derefs around them. Closures and async blocks are not looked into.
pub(crate) fn handles(e: &Expr) -> Vec<&Expr> {
    fn strip(mut e: &Expr) -> &Expr {
        loop {
            match e {
                Expr::Reference(r) => e = &r.expr,
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => e = &u.expr,
                Expr::Paren(p) => e = &p.expr,
                _ => return e,
            }
        }
    }
    struct Handles<'a>(Vec<&'a Expr>);
    impl<'a> Handles<'a> {
        fn take(&mut self, e: &'a Expr) {
            let e = strip(e);
            if is_place(e) {
                self.0.push(e);
            }
        }
    }
    impl<'a> Visit<'a> for Handles<'a> {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            c.args.iter().for_each(|a| self.take(a));
            visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            self.take(&m.receiver);
            m.args.iter().for_each(|a| self.take(a));
            visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
    }
    let mut h = Handles(Vec::new());
    h.visit_expr(e);
    h.0
}

/// The name a handle goes by: a variable's, or a field's (`db` for `self.db`), looking
/// through accessors (`self.conn.lock().await`).
pub(crate) fn handle_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            syn::Member::Unnamed(_) => handle_name(&f.base),
        },
        Expr::Paren(p) => handle_name(&p.expr),
        Expr::Unary(u) => handle_name(&u.expr),
        Expr::Reference(r) => handle_name(&r.expr),
        Expr::Await(a) => handle_name(&a.base),
        Expr::Try(t) => handle_name(&t.expr),
        Expr::MethodCall(m) => handle_name(&m.receiver),
        _ => None,
    }
}

/// Names passed as whole arguments (`f(req)`, `x.m(conn)`): a `&mut` parameter passed on.
pub(crate) fn bare_args(e: &Expr) -> HashSet<String> {
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
    let mut a = Args(HashSet::default());
    a.visit_expr(e);
    a.0
}

/// Does the expression pass `&mut x` (for an `x` the caller names) anywhere in its calls?
/// `&mut ctx.pool()` borrows a fresh value a call made, not `ctx`.
pub(crate) fn mut_borrows(e: &Expr) -> HashSet<String> {
    struct Borrows(HashSet<String>);
    impl<'a> Visit<'a> for Borrows {
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            if r.mutability.is_some() && is_place(&r.expr) {
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
            if names().mut_borrows.matches(&name) {
                if let Some(root) = root_ident(&m.receiver) {
                    self.0.insert(root);
                }
            }
        }
    }
    let mut b = Borrows(HashSet::default());
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
