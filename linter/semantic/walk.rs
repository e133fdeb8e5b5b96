//! The one walk over a parsed file. It keeps the model current (scopes, bindings, where the
//! code runs, the function and async body at hand) and calls the rules' `Hooks` at the nodes
//! they care about. Rules never walk the file themselves; a rule that judges a loop or a
//! statement list may look inside that node only.

use std::collections::HashSet;

use proc_macro2::Span as PmSpan;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Expr, ExprAwait, ExprClosure, Macro, Pat, Signature, Stmt, Token};

use super::context::{self, AsyncBody, ClosureMode, Ctx, FnFrame, Kind, Use, RESULT_METHODS};
use super::macros::{self, SelectBranch, FUTURE_MACROS, QUOTING_MACROS};
use super::{Model, Ty};

/// What the rules see of the walk. Every hook runs before the walk enters the node's children,
/// with the model describing the node's position.
pub(crate) trait Hooks<'ast> {
    /// A call or method call in code that runs (fn bodies, closures, async blocks). `callee`
    /// is its call-graph key when it calls a function of the checked crates.
    fn call(&mut self, _m: &Model<'_, 'ast>, _expr: &'ast Expr, _usage: Use, _callee: Option<&str>) {}
    /// A function body was entered (`m.current_fn()` describes it), or is about to be left.
    fn enter_fn(&mut self, _m: &Model<'_, 'ast>) {}
    fn exit_fn(&mut self, _m: &Model<'_, 'ast>) {}
    /// An `.await` written in the source (not one inside a macro's tokens).
    fn await_expr(&mut self, _m: &Model<'_, 'ast>, _a: &'ast ExprAwait) {}
    /// A `for`, `while` or `loop` written in the source.
    fn loop_expr(&mut self, _m: &Model<'_, 'ast>, _e: &'ast Expr) {}
    /// The statements of a block written in the source.
    fn block(&mut self, _m: &Model<'_, 'ast>, _stmts: &'ast [Stmt]) {}
    /// An async body (async fn, block or closure; `m.async_body()`) was entered, or is about
    /// to be left.
    fn enter_async_body(&mut self, _m: &Model<'_, 'ast>) {}
    fn exit_async_body(&mut self, _m: &Model<'_, 'ast>) {}
    /// An item (fn, impl, mod, trait, struct, method) and its attributes.
    fn item(&mut self, _m: &Model<'_, 'ast>, _attrs: &'ast [Attribute], _span: PmSpan) {}
}

/// Parsed macro bodies live as long as the file's tree, so rules see them like any code.
pub(crate) type MacroArena = typed_arena::Arena<MacroBody>;

pub(crate) enum MacroBody {
    Select(Vec<SelectBranch>),
    Args(Punctuated<Expr, Token![,]>),
    Stmts(Vec<Stmt>),
    Repeat(Expr, Expr),
}

/// Walks `file` (the module `module` of its crate) once, calling `hooks` along the way.
pub(crate) fn walk<'ast>(
    file: &'ast syn::File,
    module: &str,
    arena: &'ast MacroArena,
    model: &mut Model<'_, 'ast>,
    hooks: &mut impl Hooks<'ast>,
) {
    model.res.index_file(module, &file.items);
    model.res.push_module(module.to_string(), &file.items);
    let mut w = Walker { m: model, hooks, arena, in_macro: 0 };
    for item in &file.items {
        w.visit_item(item);
    }
    w.m.res.pop();
}

struct Walker<'w, 'a, 'ast, H> {
    m: &'w mut Model<'a, 'ast>,
    hooks: &'w mut H,
    arena: &'ast MacroArena,
    /// Inside a macro's parsed tokens: blocking calls count, but the serial rules look only
    /// at code written out (a `select!` arm is not a loop body of the fn).
    in_macro: usize,
}

fn addr<T>(node: &T) -> usize {
    node as *const T as usize
}

impl<'ast, H: Hooks<'ast>> Walker<'_, '_, 'ast, H> {
    /// Walks a fn body. `owner` is the canonical path of its `impl` or trait; in a trait, a
    /// default method's `self` is whichever type implements it, so it has no owner name.
    fn enter_fn(&mut self, sig: &'ast Signature, owner: Option<String>, body: &'ast Block, in_trait: bool) {
        let name = sig.ident.to_string();
        let is_async = sig.asyncness.is_some();
        let (kind, what) = if is_async {
            (Kind::Async, format!("async fn `{name}`"))
        } else if context::is_poll_fn(sig) {
            (Kind::Async, format!("`{name}`, which the executor polls"))
        } else {
            (Kind::Sync, format!("fn `{name}`"))
        };
        let base = owner.clone().unwrap_or_else(|| self.m.res.current_module().to_string());
        let key = self.m.key(&format!("{base}::{name}"));
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
        let owner_name =
            owner.as_deref().filter(|_| !in_trait).map(|o| o.rsplit("::").next().unwrap_or(o).to_string());
        let frame = FnFrame {
            name: name.clone(),
            key,
            ident_span: self.m.span(sig.ident.span()),
            is_async,
            returns_future: !is_async && super::resolve::returns_future(&sig.output, &HashSet::new()),
            owner: owner_name.clone(),
            params,
            closures: 0,
        };
        self.m.ctx.push(Ctx::new(kind, what));
        self.m.fns.push(frame);
        let body_frame = is_async.then(|| AsyncBody {
            is_fn: true,
            fn_name: Some(name),
            self_type: owner_name,
            mutable: context::mutable_params(sig),
            ..AsyncBody::default()
        });
        self.m.bodies.push(body_frame);
        self.hooks.enter_fn(self.m);
        if is_async {
            self.hooks.enter_async_body(self.m);
        }
        self.m.res.push_vars();
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                let ty = self.m.res.resolve_type(&pt.ty);
                self.m.res.bind_pattern(&pt.pat, ty);
            }
        }
        self.visit_block(body);
        self.m.res.pop_vars();
        if is_async {
            self.hooks.exit_async_body(self.m);
        }
        self.hooks.exit_fn(self.m);
        self.m.bodies.pop();
        self.m.fns.pop();
        self.m.ctx.pop();
    }

    fn visit_closure_as(&mut self, c: &'ast ExprClosure, mode: ClosureMode) {
        let mode = if self.m.offloaded_closures.remove(&addr(c)) { ClosureMode::Offload } else { mode };
        let is_async = c.asyncness.is_some();
        let ctx = match mode {
            _ if is_async => Ctx::new(Kind::Async, "async closure"),
            ClosureMode::Offload => Ctx::new(Kind::Offload, "offloaded closure"),
            ClosureMode::Inherit | ClosureMode::Defer(_) => {
                let mut ctx = self.m.ctx.last().cloned().unwrap_or_else(|| Ctx::new(Kind::Sync, "closure"));
                ctx.closure = true;
                if let ClosureMode::Defer(key) = mode {
                    if ctx.kind == Kind::Async {
                        ctx.defer = Some(key);
                    }
                }
                ctx
            }
        };
        self.m.ctx.push(ctx);
        if let Some(f) = self.m.fns.last_mut() {
            f.closures += 1;
        }
        let body_frame = is_async.then(|| self.nested_body());
        self.m.bodies.push(body_frame);
        if is_async {
            self.hooks.enter_async_body(self.m);
        }
        self.m.res.push_vars();
        for input in &c.inputs {
            self.m.res.bind_pattern(input, Ty::Unknown);
        }
        self.visit_expr(&c.body);
        self.m.res.pop_vars();
        if is_async {
            self.hooks.exit_async_body(self.m);
        }
        self.m.bodies.pop();
        if let Some(f) = self.m.fns.last_mut() {
            f.closures -= 1;
        }
        self.m.ctx.pop();
    }

    /// The async body of a block or closure written inside a fn.
    fn nested_body(&self) -> AsyncBody<'ast> {
        let f = self.m.fns.last();
        AsyncBody {
            is_fn: false,
            fn_name: f.map(|f| f.name.clone()),
            self_type: f.and_then(|f| f.owner.clone()),
            ..AsyncBody::default()
        }
    }

    fn visit_async_block(&mut self, block: &'ast Block, detached: bool) {
        // An async block run by `block_on` from sync code runs on that (dedicated) thread.
        let ctx = match (detached, self.m.ctx.last()) {
            (true, Some(c)) if c.kind != Kind::Async => c.clone(),
            _ => Ctx::new(Kind::Async, "async block"),
        };
        self.m.ctx.push(ctx);
        let body = self.nested_body();
        self.m.bodies.push(Some(body));
        self.hooks.enter_async_body(self.m);
        self.visit_block(block);
        self.hooks.exit_async_body(self.m);
        self.m.bodies.pop();
        self.m.ctx.pop();
    }

    fn call_hook(&mut self, e: &'ast Expr, usage: Use, callee: Option<&str>) {
        if self.m.kind().is_some() {
            self.hooks.call(self.m, e, usage, callee);
        }
    }

    /// An offload call (`spawn_blocking(f)`) handed one of the enclosing fn's parameters:
    /// that fn is a wrapper that runs its argument off the executor.
    fn note_offload_wrapper<'e>(&mut self, args: impl Iterator<Item = &'e Expr>) {
        let Some(frame) = self.m.fns.last() else { return };
        let Some(key) = &frame.key else { return };
        if args.filter_map(ident_of).any(|a| frame.params.contains(&a)) {
            let key = key.clone();
            self.m.offload_wrappers.push(key);
        }
    }

    fn mark_awaited(&mut self, e: &Expr) {
        self.m.awaited.insert(addr(strip_parens(e)));
    }

    fn mark_result(&mut self, e: &Expr) {
        self.m.as_result.insert(addr(strip_parens(e)));
    }

    /// Visits call arguments: closures as `mode` says, and async blocks on the calling thread
    /// when the call is a `block_on`.
    fn visit_args(&mut self, args: impl Iterator<Item = &'ast Expr>, mode: ClosureMode, block_on: bool) {
        for arg in args {
            match arg {
                Expr::Closure(c) => self.visit_closure_as(c, mode.clone()),
                Expr::Async(a) if block_on => self.visit_async_block(&a.block, true),
                _ => self.visit_expr(arg),
            }
        }
    }

    fn visit_call(&mut self, e: &'ast Expr, call: &'ast syn::ExprCall, usage: Use) {
        let (mut mode, mut block_on, mut callee) = (ClosureMode::Inherit, false, None);
        if let Expr::Path(p) = &*call.func {
            if let Some(path) = self.m.res.resolve_value(&p.path) {
                let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                block_on = name == "block_on";
                if self.m.res.knowledge.is_offload(&name, Some(&path), false) {
                    mode = ClosureMode::Offload;
                    self.note_offload_wrapper(call.args.iter());
                } else if self.m.kind().is_some() {
                    callee = self.m.key(&path);
                }
            }
        }
        self.call_hook(e, usage, callee.as_deref());
        if let Some(key) = callee {
            mode = ClosureMode::Defer(key.as_str().into());
        }
        self.visit_expr(&call.func);
        self.visit_args(call.args.iter(), mode, block_on);
    }

    fn visit_method_call(&mut self, e: &'ast Expr, m: &'ast syn::ExprMethodCall, usage: Use) {
        let method = m.method.to_string();
        if RESULT_METHODS.contains(&method.as_str()) {
            self.mark_result(&m.receiver);
        }
        if method.starts_with("sort") {
            if let (Some(root), Some(body)) = (context::root_ident(&m.receiver), self.m.enclosing_body_mut())
            {
                body.sorted.insert(root);
            }
        }
        let (mut mode, mut callee) = (ClosureMode::Inherit, None);
        if self.m.res.knowledge.is_offload(&method, None, true) {
            self.note_offload_wrapper(m.args.iter());
            if m.args.iter().any(|a| matches!(a, Expr::Closure(_))) {
                mode = ClosureMode::Offload;
            }
        } else if let (Ty::Named(ty, _), Some(_)) = (self.m.res.infer(&m.receiver), self.m.kind()) {
            callee = self.m.key(&format!("{ty}::{method}"));
        }
        self.call_hook(e, usage, callee.as_deref());
        if let Some(key) = callee {
            mode = ClosureMode::Defer(key.as_str().into());
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
        let mut finder = OffloadArgs { m: &*self.m, names: HashSet::new() };
        for s in stmts {
            finder.visit_stmt(s);
        }
        let names = finder.names;
        for (name, closure) in bound {
            if names.contains(&name) {
                self.m.offloaded_closures.insert(closure);
            }
        }
    }

    fn visit_macro_body(&mut self, mac: &'ast Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if QUOTING_MACROS.contains(&name.as_str()) {
            return;
        }
        let parsed = if name.starts_with("select") {
            mac.parse_body_with(macros::parse_select).ok().map(MacroBody::Select)
        } else {
            None
        };
        let parsed = parsed
            .or_else(|| {
                mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated).ok().map(MacroBody::Args)
            })
            .or_else(|| mac.parse_body_with(Block::parse_within).ok().map(MacroBody::Stmts))
            .or_else(|| mac.parse_body_with(macros::parse_repeat).ok().map(|(a, b)| MacroBody::Repeat(a, b)));
        let Some(parsed) = parsed else { return };
        let body: &'ast MacroBody = self.arena.alloc(parsed);
        self.in_macro += 1;
        match body {
            MacroBody::Select(branches) => {
                for b in branches {
                    if let Some(f) = &b.future {
                        self.mark_awaited(f);
                        self.visit_expr(f);
                    }
                    self.m.res.push_vars();
                    if let Some(p) = &b.pat {
                        self.m.res.bind_pattern(p, Ty::Unknown);
                    }
                    if let Some(g) = &b.guard {
                        self.visit_expr(g);
                    }
                    self.visit_expr(&b.handler);
                    self.m.res.pop_vars();
                }
            }
            MacroBody::Args(args) => {
                let futures = FUTURE_MACROS.contains(&name.as_str());
                for a in args {
                    if futures {
                        self.mark_awaited(a);
                    }
                    self.visit_expr(a);
                }
            }
            MacroBody::Stmts(stmts) => self.visit_stmts(stmts),
            MacroBody::Repeat(a, b) => {
                self.visit_expr(a);
                self.visit_expr(b);
            }
        }
        self.in_macro -= 1;
    }

    fn visit_stmts(&mut self, stmts: &'ast [Stmt]) {
        if self.in_macro == 0 {
            self.hooks.block(self.m, stmts);
        }
        self.m.res.push_block(stmts);
        self.find_offloaded_closures(stmts);
        for s in stmts {
            self.visit_stmt(s);
        }
        self.m.res.pop();
    }

    /// Records `let name = init` in the enclosing async body, for the serial rules.
    fn note_let(&mut self, l: &'ast syn::Local) {
        if self.in_macro > 0 {
            return;
        }
        let mut pat = &l.pat;
        if let Pat::Type(t) = pat {
            pat = &t.pat;
        }
        let (Pat::Ident(p), Some(init)) = (pat, &l.init) else { return };
        let Some(body) = self.m.enclosing_body_mut() else { return };
        let name = p.ident.to_string();
        let mut_ref = matches!(&*init.expr, Expr::Reference(r) if r.mutability.is_some());
        if p.mutability.is_some() || mut_ref {
            body.mutable.insert(name.clone());
        }
        body.lets.insert(name, &init.expr);
    }

    fn visit_loop(&mut self, e: &'ast Expr) {
        if self.in_macro == 0 {
            self.hooks.loop_expr(self.m, e);
        }
        match e {
            Expr::While(w) => {
                self.m.res.push_vars();
                self.visit_expr(&w.cond);
                self.visit_block(&w.body);
                self.m.res.pop_vars();
            }
            Expr::ForLoop(f) => {
                self.visit_expr(&f.expr);
                self.m.res.push_vars();
                self.m.res.bind_pattern(&f.pat, Ty::Unknown);
                self.visit_block(&f.body);
                self.m.res.pop_vars();
            }
            Expr::Loop(l) => self.visit_block(&l.body),
            _ => {}
        }
    }
}

impl<'ast, H: Hooks<'ast>> Visit<'ast> for Walker<'_, '_, 'ast, H> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if self.m.skips(&f.attrs) {
            return;
        }
        self.hooks.item(self.m, &f.attrs, f.span());
        self.enter_fn(&f.sig, None, &f.block, false);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.m.skips(&f.attrs) {
            return;
        }
        self.hooks.item(self.m, &f.attrs, f.span());
        let owner = self.m.res.self_type().map(str::to_string);
        self.enter_fn(&f.sig, owner, &f.block, false);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if self.m.skips(&f.attrs) {
            return;
        }
        self.hooks.item(self.m, &f.attrs, f.span());
        if let Some(body) = &f.default {
            let owner = self.m.res.self_type().map(str::to_string);
            self.enter_fn(&f.sig, owner, body, true);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if self.m.skips(&i.attrs) {
            return;
        }
        self.hooks.item(self.m, &i.attrs, i.span());
        let self_ty = self.m.res.resolve_type(&i.self_ty).path().map(str::to_string);
        self.m.res.push_self_type(self_ty);
        for item in &i.items {
            self.visit_impl_item(item);
        }
        self.m.res.pop_self_type();
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        if self.m.skips(&t.attrs) {
            return;
        }
        self.hooks.item(self.m, &t.attrs, t.span());
        let path = format!("{}::{}", self.m.res.current_module(), t.ident);
        self.m.res.push_self_type(Some(path));
        for item in &t.items {
            self.visit_trait_item(item);
        }
        self.m.res.pop_self_type();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if self.m.skips(&m.attrs) {
            return;
        }
        self.hooks.item(self.m, &m.attrs, m.span());
        let path = format!("{}::{}", self.m.res.current_module(), m.ident);
        if let Some((_, items)) = &m.content {
            self.m.res.push_module(path, items);
            for item in items {
                self.visit_item(item);
            }
            self.m.res.pop();
        }
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        self.hooks.item(self.m, &s.attrs, s.span());
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
            ty = self.m.res.infer(&init.expr);
        }
        self.m.res.bind_pattern(&l.pat, ty);
        self.note_let(l);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        if self.m.kind().is_some() {
            self.visit_macro_body(mac);
        }
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        let usage =
            Use { awaited: self.m.awaited.remove(&addr(e)), as_result: self.m.as_result.remove(&addr(e)) };
        match e {
            Expr::Await(a) => {
                if self.in_macro == 0 {
                    self.hooks.await_expr(self.m, a);
                }
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
                let ty = self.m.res.infer(&m.expr);
                for arm in &m.arms {
                    self.m.res.push_vars();
                    self.m.res.bind_pattern(&arm.pat, ty.clone());
                    if let Some((_, guard)) = &arm.guard {
                        self.visit_expr(guard);
                    }
                    self.visit_expr(&arm.body);
                    self.m.res.pop_vars();
                }
            }
            Expr::Let(l) => {
                if is_result_pattern(&l.pat) {
                    self.mark_result(&l.expr);
                }
                self.visit_expr(&l.expr);
                let ty = self.m.res.infer(&l.expr);
                self.m.res.bind_pattern(&l.pat, ty);
            }
            Expr::If(i) => {
                self.m.res.push_vars();
                self.visit_expr(&i.cond);
                self.visit_block(&i.then_branch);
                self.m.res.pop_vars();
                if let Some((_, els)) = &i.else_branch {
                    self.visit_expr(els);
                }
            }
            Expr::While(_) | Expr::ForLoop(_) | Expr::Loop(_) => self.visit_loop(e),
            _ => visit::visit_expr(self, e),
        }
    }
}

/// Collects names passed directly as arguments to offload calls (`spawn_blocking(work)`). A
/// look inside one block's statements, before the walk enters them.
struct OffloadArgs<'m, 'a, 'ast> {
    m: &'m Model<'a, 'ast>,
    names: HashSet<String>,
}

impl<'v> Visit<'v> for OffloadArgs<'_, '_, '_> {
    fn visit_expr_call(&mut self, c: &'v syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let path = self.m.res.resolve_path(&p.path);
            if self.m.res.knowledge.is_offload(&name, Some(&path), false) {
                self.names.extend(c.args.iter().filter_map(ident_of));
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'v syn::ExprMethodCall) {
        if self.m.res.knowledge.is_offload(&m.method.to_string(), None, true) {
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
