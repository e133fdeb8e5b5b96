//! The async-context tracker: walks one parsed file, knows at every expression whether it runs
//! on an executor thread, and hands each call to the blocking detector. It also records, for
//! the call graph, what every sync function blocks on and which crate functions it calls.

use std::collections::HashSet;
use std::rc::Rc;

use proc_macro2::Span as PmSpan;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Expr, ExprClosure, Macro, Pat, Signature, Stmt, Token};

use crate::blocking::{self, Hit, Use, RESULT_METHODS};
use crate::callgraph::{BlockSite, CallSite, FileGraph, FnSummary};
use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::resolve::{Resolver, Ty};
use crate::source::{SourceIndex, Span};

/// Where the code being walked runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// On an executor thread: blocking here stalls other tasks.
    Async,
    /// Ordinary sync code: blocking is fine, but recorded for the call graph.
    Sync,
    /// Handed to `spawn_blocking`, a thread, rayon: off the executor.
    Offload,
}

#[derive(Debug, Clone)]
struct Ctx {
    kind: Kind,
    /// "async fn `load`", for messages.
    what: Rc<str>,
    /// Inside a closure handed to this function of the crate: findings wait until the call
    /// graph says whether that function runs its argument off the executor.
    defer: Option<Rc<str>>,
    /// In a sync closure inside the async body: `.await` cannot be added here.
    closure: bool,
}

impl Ctx {
    fn new(kind: Kind, what: impl Into<Rc<str>>) -> Ctx {
        Ctx { kind, what: what.into(), defer: None, closure: false }
    }
}

/// The function being walked.
struct FnFrame {
    /// Index into `graph.functions` when it is a sync fn.
    summary: Option<usize>,
    key: Option<String>,
    /// Names of its parameters (to spot wrappers that hand a parameter to `spawn_blocking`).
    params: Vec<String>,
}

/// How a closure argument is treated.
#[derive(Clone, PartialEq, Eq)]
enum ClosureMode {
    Inherit,
    Offload,
    /// Handed to a function of the checked crates, which may or may not offload it.
    Defer(Rc<str>),
}

/// Macros whose tokens are code templates, not code that runs here.
const QUOTING_MACROS: &[&str] =
    &["quote", "quote_spanned", "parse_quote", "parse_quote_spanned", "macro_rules", "format_ident"];
/// Macros whose arguments are futures polled by the macro.
const FUTURE_MACROS: &[&str] = &["join", "try_join", "pin", "pin_mut", "join_all"];

pub struct Settings<'a> {
    pub include_tests: bool,
    /// The runtime of the crate, for fixes.
    pub runtime: Option<&'a crate::fix::Runtime>,
    /// Other crates of the run, whose functions the call graph follows.
    pub local_crates: &'a HashSet<String>,
}

pub struct Analyzer<'a> {
    idx: &'a SourceIndex<'a>,
    settings: &'a Settings<'a>,
    res: Resolver<'a>,
    ctx: Vec<Ctx>,
    /// Expressions (by address) whose parent awaits them or uses them as a `Result`.
    awaited: HashSet<usize>,
    as_result: HashSet<usize>,
    /// Closures (by address) bound to a name that is later handed to an offload call.
    offloaded_closures: HashSet<usize>,
    fn_stack: Vec<FnFrame>,
    pub diagnostics: Vec<Diagnostic>,
    pub graph: FileGraph,
}

fn addr<T>(node: &T) -> usize {
    node as *const T as usize
}

impl<'a> Analyzer<'a> {
    pub fn new(idx: &'a SourceIndex<'a>, res: Resolver<'a>, settings: &'a Settings<'a>) -> Self {
        Analyzer {
            idx,
            settings,
            res,
            ctx: Vec::new(),
            awaited: HashSet::new(),
            as_result: HashSet::new(),
            offloaded_closures: HashSet::new(),
            fn_stack: Vec::new(),
            diagnostics: Vec::new(),
            graph: FileGraph::default(),
        }
    }

    pub fn analyze_file(&mut self, module: &str, file: &syn::File) {
        self.res.index_file(module, &file.items);
        self.res.push_module(module.to_string(), &file.items);
        for item in &file.items {
            self.visit_item(item);
        }
        self.res.pop();
        // Only aliases into the checked crates can lead the call graph anywhere.
        let mut aliases = self.res.module_aliases();
        aliases.retain(|(_, to)| self.key(to).is_some());
        self.graph.aliases = aliases;
        // Functions that neither block nor call into the crates cannot make a chain.
        self.graph.functions.retain(|f| !f.blocking.is_empty() || !f.calls.is_empty());
    }

    fn span(&self, span: PmSpan) -> Span {
        self.idx.span(span)
    }

    fn kind(&self) -> Option<Kind> {
        self.ctx.last().map(|c| c.kind)
    }

    fn skipped(&self, attrs: &[Attribute]) -> bool {
        !self.settings.include_tests && is_test_code(attrs)
    }

    /// A call-graph key: a path into this crate (`crate::a::f`, made unique per target when
    /// the graph is joined) or into another crate of the run.
    fn key(&self, path: &str) -> Option<String> {
        if path.starts_with("crate::") {
            return Some(path.to_string());
        }
        let first = path.split("::").next()?;
        self.settings.local_crates.contains(first).then(|| path.to_string())
    }

    fn enter_fn(&mut self, sig: &Signature, owner: Option<String>, body: &Block) {
        let name = sig.ident.to_string();
        let (kind, what) = if sig.asyncness.is_some() {
            (Kind::Async, format!("async fn `{name}`"))
        } else if is_poll_fn(sig) {
            (Kind::Async, format!("`{name}`, which the executor polls"))
        } else {
            (Kind::Sync, format!("fn `{name}`"))
        };
        let base = owner.unwrap_or_else(|| self.res.current_module().to_string());
        let key = self.key(&format!("{base}::{name}"));
        let summary = match (&key, kind) {
            (Some(key), Kind::Sync) => {
                self.graph.functions.push(FnSummary {
                    key: key.clone(),
                    name: name.clone(),
                    span: self.span(sig.ident.span()),
                    blocking: Vec::new(),
                    calls: Vec::new(),
                });
                Some(self.graph.functions.len() - 1)
            }
            _ => None,
        };
        let params = sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    Pat::Ident(pi) => Some(pi.ident.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        self.ctx.push(Ctx::new(kind, what));
        self.fn_stack.push(FnFrame { summary, key, params });
        self.res.push_vars();
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                let ty = self.res.resolve_type(&pt.ty);
                self.res.bind_pattern(&pt.pat, ty);
            }
        }
        self.visit_block(body);
        self.res.pop_vars();
        self.fn_stack.pop();
        self.ctx.pop();
    }

    fn visit_closure_as(&mut self, c: &ExprClosure, mode: ClosureMode) {
        let mode = if self.offloaded_closures.remove(&addr(c)) { ClosureMode::Offload } else { mode };
        let ctx = match mode {
            _ if c.asyncness.is_some() => Ctx::new(Kind::Async, "async closure"),
            ClosureMode::Offload => Ctx::new(Kind::Offload, "offloaded closure"),
            ClosureMode::Inherit | ClosureMode::Defer(_) => {
                let mut ctx = self.ctx.last().cloned().unwrap_or_else(|| Ctx::new(Kind::Sync, "closure"));
                ctx.closure = true;
                if let ClosureMode::Defer(key) = mode {
                    if ctx.kind == Kind::Async {
                        ctx.defer = Some(key);
                    }
                }
                ctx
            }
        };
        self.ctx.push(ctx);
        self.res.push_vars();
        for input in &c.inputs {
            self.res.bind_pattern(input, Ty::Unknown);
        }
        self.visit_expr(&c.body);
        self.res.pop_vars();
        self.ctx.pop();
    }

    fn visit_async_block(&mut self, block: &Block, detached: bool) {
        // An async block run by `block_on` from sync code runs on that (dedicated) thread.
        let ctx = match (detached, self.ctx.last()) {
            (true, Some(c)) if c.kind != Kind::Async => c.clone(),
            _ => Ctx::new(Kind::Async, "async block"),
        };
        self.ctx.push(ctx);
        self.visit_block(block);
        self.ctx.pop();
    }

    /// Reports or records a call that blocks.
    fn check_call(&mut self, expr: &Expr, usage: Use) {
        let Some(kind) = self.kind() else { return };
        if kind == Kind::Offload {
            return;
        }
        let Some(hit) = blocking::classify(&self.res, expr, usage) else {
            return;
        };
        if let Expr::MethodCall(m) = expr {
            if self.chain_blocks(&m.receiver, hit.rule) {
                return; // `File::open(p)?.read_to_string(..)`: one finding for the chain
            }
        }
        let span = self.span(expr.span());
        match kind {
            Kind::Async => {
                let Some(ctx) = self.ctx.last() else { return };
                let mut d = blocking_diagnostic(&hit, span, &ctx.what);
                if !ctx.closure {
                    d.fix = self.twin_fix(expr, &hit);
                }
                match &ctx.defer {
                    Some(key) => self.graph.deferred.push((key.to_string(), d)),
                    None => self.diagnostics.push(d),
                }
            }
            Kind::Sync if !hit.transitive => {}
            Kind::Sync => {
                if let Some(i) = self.fn_stack.last().and_then(|f| f.summary) {
                    self.graph.functions[i].blocking.push(BlockSite {
                        rule: hit.rule,
                        callee: hit.callee,
                        span,
                        reason: hit.reason,
                        instead: hit.instead,
                    });
                }
            }
            Kind::Offload => {}
        }
    }

    /// `std::fs::read(p)` -> `tokio::fs::read(p).await`, for the crate's runtime.
    fn twin_fix(&self, expr: &Expr, hit: &Hit) -> Option<Fix> {
        let Expr::Call(call) = expr else { return None };
        let (path, applicability) = self.settings.runtime?.twin(hit.twin.as_deref()?)?;
        let func = self.span(call.func.span());
        let end = self.span(call.span()).end;
        let edits = vec![
            Edit { start: func.start, end: func.end, replacement: path },
            Edit { start: end, end, replacement: ".await".into() },
        ];
        Some(Fix { applicability, edits })
    }

    /// Does the receiver chain of a method call already block with the same rule?
    fn chain_blocks(&self, mut expr: &Expr, rule: crate::rules::Rule) -> bool {
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
                    if blocking::classify(&self.res, expr, usage).is_some_and(|h| h.rule == rule) {
                        return true;
                    }
                    as_result = RESULT_METHODS.contains(&m.method.to_string().as_str());
                    expr = &m.receiver;
                }
                Expr::Call(_) => {
                    let usage = Use { awaited: false, as_result };
                    return blocking::classify(&self.res, expr, usage).is_some_and(|h| h.rule == rule);
                }
                _ => return false,
            }
        }
    }

    /// Records a call to a function of the crates being checked, for the call graph, and
    /// returns its key.
    fn record_call(&mut self, path: &str, span: PmSpan) -> Option<Rc<str>> {
        let kind = self.kind()?;
        let key = self.key(path)?;
        let found: Rc<str> = key.as_str().into();
        let site = CallSite {
            key,
            span: self.span(span),
            context: match kind {
                Kind::Async => self.ctx.last().map(|c| c.what.to_string()).unwrap_or_default(),
                _ => String::new(),
            },
            defer: self.ctx.last().and_then(|c| c.defer.as_deref().map(str::to_string)),
        };
        match kind {
            Kind::Async => self.graph.async_calls.push(site),
            Kind::Sync => {
                if let Some(i) = self.fn_stack.last().and_then(|f| f.summary) {
                    self.graph.functions[i].calls.push(site);
                }
            }
            Kind::Offload => {}
        }
        Some(found)
    }

    /// An offload call (`spawn_blocking(f)`) handed one of the enclosing fn's parameters:
    /// that fn is a wrapper that runs its argument off the executor.
    fn note_offload_wrapper<'e>(&mut self, args: impl Iterator<Item = &'e Expr>) {
        let Some(frame) = self.fn_stack.last() else { return };
        let Some(key) = &frame.key else { return };
        if args.filter_map(ident_of).any(|a| frame.params.contains(&a)) {
            self.graph.offload_wrappers.push(key.clone());
        }
    }

    fn mark_awaited(&mut self, e: &Expr) {
        self.awaited.insert(addr(strip_parens(e)));
    }

    fn mark_result(&mut self, e: &Expr) {
        self.as_result.insert(addr(strip_parens(e)));
    }

    /// Visits call arguments: closures as `mode` says, and async blocks on the calling thread
    /// when the call is a `block_on`.
    fn visit_args<'e>(&mut self, args: impl Iterator<Item = &'e Expr>, mode: ClosureMode, block_on: bool) {
        for arg in args {
            match arg {
                Expr::Closure(c) => self.visit_closure_as(c, mode.clone()),
                Expr::Async(a) if block_on => self.visit_async_block(&a.block, true),
                _ => self.visit_expr(arg),
            }
        }
    }

    fn visit_call(&mut self, e: &Expr, call: &syn::ExprCall, usage: Use) {
        self.check_call(e, usage);
        let (mut mode, mut block_on) = (ClosureMode::Inherit, false);
        if let Expr::Path(p) = &*call.func {
            if let Some(path) = self.res.resolve_value(&p.path) {
                let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                block_on = name == "block_on";
                if self.res.catalog.is_offload(&name, Some(&path), false) {
                    mode = ClosureMode::Offload;
                    self.note_offload_wrapper(call.args.iter());
                } else if let Some(key) = self.record_call(&path, call.span()) {
                    mode = ClosureMode::Defer(key);
                }
            }
        }
        self.visit_expr(&call.func);
        self.visit_args(call.args.iter(), mode, block_on);
    }

    fn visit_method_call(&mut self, e: &Expr, m: &syn::ExprMethodCall, usage: Use) {
        let method = m.method.to_string();
        if RESULT_METHODS.contains(&method.as_str()) {
            self.mark_result(&m.receiver);
        }
        self.check_call(e, usage);
        let mut mode = ClosureMode::Inherit;
        if self.res.catalog.is_offload(&method, None, true) {
            self.note_offload_wrapper(m.args.iter());
            if m.args.iter().any(|a| matches!(a, Expr::Closure(_))) {
                mode = ClosureMode::Offload;
            }
        } else if let Ty::Named(ty, _) = self.res.infer(&m.receiver) {
            if let Some(key) = self.record_call(&format!("{ty}::{method}"), m.span()) {
                mode = ClosureMode::Defer(key);
            }
        }
        self.visit_expr(&m.receiver);
        self.visit_args(m.args.iter(), mode, method == "block_on");
    }

    /// Closures bound with `let` in this block and later handed by name to an offload call.
    fn find_offloaded_closures(&mut self, stmts: &[Stmt]) {
        let bound: Vec<(String, usize)> = stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Local(l) => match (&l.pat, l.init.as_ref().map(|i| &*i.expr)) {
                    (Pat::Ident(pi), Some(Expr::Closure(c))) => Some((pi.ident.to_string(), addr(c))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if bound.is_empty() {
            return;
        }
        let mut finder = OffloadArgs { res: &self.res, names: HashSet::new() };
        for s in stmts {
            finder.visit_stmt(s);
        }
        for (name, closure) in bound {
            if finder.names.contains(&name) {
                self.offloaded_closures.insert(closure);
            }
        }
    }

    fn visit_macro_body(&mut self, mac: &Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if QUOTING_MACROS.contains(&name.as_str()) {
            return;
        }
        if name.starts_with("select") {
            if let Ok(branches) = mac.parse_body_with(parse_select) {
                for b in &branches {
                    if let Some(f) = &b.future {
                        self.mark_awaited(f);
                        self.visit_expr(f);
                    }
                    self.res.push_vars();
                    if let Some(p) = &b.pat {
                        self.res.bind_pattern(p, Ty::Unknown);
                    }
                    if let Some(g) = &b.guard {
                        self.visit_expr(g);
                    }
                    self.visit_expr(&b.handler);
                    self.res.pop_vars();
                }
                return;
            }
        }
        if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            let futures = FUTURE_MACROS.contains(&name.as_str());
            for a in &args {
                if futures {
                    self.mark_awaited(a);
                }
                self.visit_expr(a);
            }
        } else if let Ok(stmts) = mac.parse_body_with(Block::parse_within) {
            self.visit_stmts(&stmts);
        } else if let Ok((a, b)) = mac.parse_body_with(parse_repeat) {
            self.visit_expr(&a);
            self.visit_expr(&b);
        }
    }

    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        self.res.push_block(stmts);
        self.find_offloaded_closures(stmts);
        for s in stmts {
            self.visit_stmt(s);
        }
        self.res.pop();
    }
}

impl<'ast> Visit<'ast> for Analyzer<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if self.skipped(&f.attrs) {
            return;
        }
        self.enter_fn(&f.sig, None, &f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.skipped(&f.attrs) {
            return;
        }
        let owner = self.res.self_type().map(str::to_string);
        self.enter_fn(&f.sig, owner, &f.block);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if self.skipped(&f.attrs) {
            return;
        }
        if let Some(body) = &f.default {
            let owner = self.res.self_type().map(str::to_string);
            self.enter_fn(&f.sig, owner, body);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if self.skipped(&i.attrs) {
            return;
        }
        let self_ty = self.res.resolve_type(&i.self_ty).path().map(str::to_string);
        self.res.push_self_type(self_ty);
        for item in &i.items {
            self.visit_impl_item(item);
        }
        self.res.pop_self_type();
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        if self.skipped(&t.attrs) {
            return;
        }
        let path = format!("{}::{}", self.res.current_module(), t.ident);
        self.res.push_self_type(Some(path));
        for item in &t.items {
            self.visit_trait_item(item);
        }
        self.res.pop_self_type();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if self.skipped(&m.attrs) {
            return;
        }
        let path = format!("{}::{}", self.res.current_module(), m.ident);
        if let Some((_, items)) = &m.content {
            self.res.push_module(path, items);
            for item in items {
                self.visit_item(item);
            }
            self.res.pop();
        }
    }

    fn visit_item_const(&mut self, _: &'ast syn::ItemConst) {}

    fn visit_item_static(&mut self, _: &'ast syn::ItemStatic) {}

    fn visit_block(&mut self, b: &'ast Block) {
        self.visit_stmts(&b.stmts);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        let mut ty = Ty::Unknown;
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            ty = self.res.infer(&init.expr);
        }
        self.res.bind_pattern(&l.pat, ty);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        if self.kind().is_some() {
            self.visit_macro_body(mac);
        }
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        let usage =
            Use { awaited: self.awaited.remove(&addr(e)), as_result: self.as_result.remove(&addr(e)) };
        match e {
            Expr::Await(a) => {
                self.mark_awaited(&a.base);
                self.visit_expr(&a.base);
            }
            Expr::Try(t) => {
                self.mark_result(&t.expr);
                self.visit_expr(&t.expr);
            }
            Expr::Call(c) => self.visit_call(e, c, usage),
            Expr::MethodCall(m) => self.visit_method_call(e, m, usage),
            Expr::Closure(c) => self.visit_closure_as(c, ClosureMode::Inherit),
            Expr::Async(a) => self.visit_async_block(&a.block, false),
            Expr::Match(m) => {
                if m.arms.iter().any(|a| is_result_pattern(&a.pat)) {
                    self.mark_result(&m.expr);
                }
                self.visit_expr(&m.expr);
                let ty = self.res.infer(&m.expr);
                for arm in &m.arms {
                    self.res.push_vars();
                    self.res.bind_pattern(&arm.pat, ty.clone());
                    if let Some((_, guard)) = &arm.guard {
                        self.visit_expr(guard);
                    }
                    self.visit_expr(&arm.body);
                    self.res.pop_vars();
                }
            }
            Expr::Let(l) => {
                if is_result_pattern(&l.pat) {
                    self.mark_result(&l.expr);
                }
                self.visit_expr(&l.expr);
                let ty = self.res.infer(&l.expr);
                self.res.bind_pattern(&l.pat, ty);
            }
            Expr::If(i) => {
                self.res.push_vars();
                self.visit_expr(&i.cond);
                self.visit_block(&i.then_branch);
                self.res.pop_vars();
                if let Some((_, els)) = &i.else_branch {
                    self.visit_expr(els);
                }
            }
            Expr::While(w) => {
                self.res.push_vars();
                self.visit_expr(&w.cond);
                self.visit_block(&w.body);
                self.res.pop_vars();
            }
            Expr::ForLoop(f) => {
                self.visit_expr(&f.expr);
                self.res.push_vars();
                self.res.bind_pattern(&f.pat, Ty::Unknown);
                self.visit_block(&f.body);
                self.res.pop_vars();
            }
            _ => visit::visit_expr(self, e),
        }
    }
}

/// Collects names passed directly as arguments to offload calls (`spawn_blocking(work)`).
struct OffloadArgs<'r, 'c> {
    res: &'r Resolver<'c>,
    names: HashSet<String>,
}

impl<'ast> Visit<'ast> for OffloadArgs<'_, '_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let path = self.res.resolve_path(&p.path);
            if self.res.catalog.is_offload(&name, Some(&path), false) {
                self.names.extend(c.args.iter().filter_map(ident_of));
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if self.res.catalog.is_offload(&m.method.to_string(), None, true) {
            self.names.extend(m.args.iter().filter_map(ident_of));
        }
        visit::visit_expr_method_call(self, m);
    }
}

fn ident_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

fn strip_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

fn is_result_pattern(p: &Pat) -> bool {
    match p {
        Pat::TupleStruct(ts) => ts.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Err"),
        Pat::Or(o) => o.cases.iter().any(is_result_pattern),
        _ => false,
    }
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`, `#[cfg(test)]` and the like.
pub fn is_test_code(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        let last = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if matches!(last.as_str(), "test" | "rstest" | "test_case" | "bench" | "quickcheck") {
            return true;
        }
        if path.is_ident("cfg") {
            if let syn::Meta::List(list) = &a.meta {
                let tokens = list.tokens.to_string();
                return tokens.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == "test")
                    && !tokens.contains("not");
            }
        }
        false
    })
}

/// A `poll_*` method taking a `&mut Context`: it runs on the executor like async code.
fn is_poll_fn(sig: &Signature) -> bool {
    sig.ident.to_string().starts_with("poll")
        && sig.inputs.iter().any(|arg| match arg {
            syn::FnArg::Typed(pt) => match &*pt.ty {
                syn::Type::Reference(r) => match &*r.elem {
                    syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Context"),
                    _ => false,
                },
                _ => false,
            },
            _ => false,
        })
}

fn blocking_diagnostic(hit: &Hit, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(hit.rule, span, format!("blocking call `{}` in {what}", hit.callee))
        .with_label(hit.reason.clone())
        .with_help(format!("instead, use {}", hit.instead))
}

/// One branch of `select!`.
struct SelectBranch {
    pat: Option<Pat>,
    future: Option<Expr>,
    guard: Option<Expr>,
    handler: Expr,
}

/// Parses the branches of `tokio::select!` / `futures::select!`.
fn parse_select(input: ParseStream) -> syn::Result<Vec<SelectBranch>> {
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

/// `vec![elem; n]`.
fn parse_repeat(input: ParseStream) -> syn::Result<(Expr, Expr)> {
    let a = Expr::parse(input)?;
    input.parse::<Token![;]>()?;
    let b = Expr::parse(input)?;
    Ok((a, b))
}
