//! The one walk over a parsed file. It keeps the model current (scopes, bindings, where the
//! code runs, the function and async body at hand) and calls the rules' `Hooks` at the nodes
//! they care about. Rules never walk the file themselves; a rule that judges a loop or a
//! statement list may look inside that node only.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use proc_macro2::Span as PmSpan;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, Expr, ExprAwait, ExprClosure, Macro, Pat, Signature, Stmt, Token};

use super::context::{self, AsyncBody, ClosureMode, Ctx, FnFrame, Hot, HotKind, Kind, Use, RESULT_METHODS};
use super::knowledge::RunsKind;
use super::macros::{self, SelectBranch, FUTURE_MACROS, QUOTING_MACROS};
use super::memo;
use super::spans;
use super::{Model, Ty};
use crate::qualified::Qualified;

/// What the rules see of the walk. Every hook runs before the walk enters the node's children,
/// with the model describing the node's position.
pub(crate) trait Hooks<'ast> {
    /// A call or method call in code that runs (fn bodies, closures, async blocks), or a
    /// function path handed to a call that runs it here (`.map(std::fs::read)`). `callee` is
    /// its call-graph key when it calls a function of the checked crates.
    fn call(&mut self, _m: &Model<'_, 'ast>, _expr: &'ast Expr, _usage: Use, _callee: Option<&str>) {}
    /// A path used as a value that names a function of the checked crates (`get(handler)`):
    /// it may run wherever it is handed, with `hot` saying why when that is known.
    fn fn_ref(&mut self, _m: &Model<'_, 'ast>, _callee: &str, _at: PmSpan, _hot: Option<Hot>) {}
    /// A function body was entered (`m.current_fn()` describes it), or is about to be left.
    fn enter_fn(&mut self, _m: &Model<'_, 'ast>) {}
    fn exit_fn(&mut self, _m: &Model<'_, 'ast>) {}
    /// An `.await` written in the source (not one inside a macro's tokens).
    fn await_expr(&mut self, _m: &Model<'_, 'ast>, _a: &'ast ExprAwait) {}
    /// A future awaited by a macro (an argument of `join!`/`try_join!`, a `select!` branch's),
    /// or by an `.await` inside a macro's arguments (`matches!(fetch(u).await, Ok(_))`).
    fn macro_awaits(&mut self, _m: &Model<'_, 'ast>, _future: &'ast Expr) {}
    /// The iterable of a `for` loop: it is iterated (`into_iter`, then `next` on the result).
    fn iterate(&mut self, _m: &Model<'_, 'ast>, _iterable: &'ast Expr) {}
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
    /// A struct literal (`ReaderStream { inner: file, .. }`) in code that runs.
    fn struct_expr(&mut self, _m: &Model<'_, 'ast>, _s: &'ast syn::ExprStruct) {}
    /// A struct declaration (outside test code).
    fn struct_item(&mut self, _m: &Model<'_, 'ast>, _s: &'ast syn::ItemStruct) {}
    /// A type alias (outside test code).
    fn type_item(&mut self, _m: &Model<'_, 'ast>, _t: &'ast syn::ItemType) {}
}

/// Parsed macro bodies live as long as the file's tree, so rules see them like any code.
pub(crate) type MacroArena = typed_arena::Arena<MacroBody>;

/// A macro of the file expanded: its name, the fn (its identifier's line and column), and
/// whether in async code.
type Expansion = (String, Option<(usize, usize)>, bool);

pub(crate) enum MacroBody {
    Select(Vec<SelectBranch>),
    Args(Punctuated<Expr, Token![,]>),
    Stmts(Vec<Stmt>),
    Repeat(Box<(Expr, Expr)>),
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
    let mut w = Walker {
        m: model,
        hooks,
        arena,
        in_macro: 0,
        expanding: false,
        expanded: HashSet::default(),
        rest: Vec::new(),
        spawn_seen: None,
        collected_spawn: false,
        closure_items: HashMap::default(),
        exported: false,
    };
    // `#![cfg(windows)]` at the top of a module's file: the whole module is compiled out here,
    // as with `#[cfg(windows)] mod x;`.
    if !w.m.compiled_out(&file.attrs) {
        for item in &file.items {
            w.visit_item(item);
        }
    }
    w.m.res.pop();
}

struct Walker<'w, 'a, 'ast, H> {
    m: &'w mut Model<'a, 'ast>,
    /// Closures (by address) about to be walked whose first parameter has a known type (an
    /// element of the collection an adaptor is called on).
    closure_items: HashMap<usize, Ty>,
    /// The method about to be entered is callable from other files (see `FnFrame::output`).
    exported: bool,
    hooks: &'w mut H,
    arena: &'ast MacroArena,
    /// Inside a macro's parsed tokens: blocking calls count, but the serial rules look only
    /// at code written out (a `select!` arm is not a loop body of the fn).
    in_macro: usize,
    /// Walking the expansion of a macro of the file.
    expanding: bool,
    /// The macros of the file expanded so far, with the fn (its identifier's position) and
    /// whether in async code: a macro used many times in one fn is one thing to fix, so only
    /// its first use there is expanded.
    expanded: HashSet<Expansion>,
    /// Per block being walked, the statements after the current one.
    rest: Vec<&'ast [Stmt]>,
    /// A spawn seen in the statement being walked (not in a block inside it).
    spawn_seen: Option<PmSpan>,
    /// Visiting what is spawned into a set the code collects (`JoinSet::spawn`): the program's
    /// own work, which does not make it serve.
    collected_spawn: bool,
}

fn addr<T>(node: &T) -> usize {
    node as *const T as usize
}

impl<'ast, H: Hooks<'ast>> Walker<'_, '_, 'ast, H> {
    /// Walks a fn body. `owner` is the canonical path of its `impl` or trait; in a trait, a
    /// default method's `self` is whichever type implements it, so it has no owner name.
    fn enter_fn(
        &mut self,
        attrs: &'ast [Attribute],
        sig: &'ast Signature,
        owner: Option<String>,
        body: &'ast Block,
        in_trait: bool,
    ) {
        let name = sig.ident.to_string();
        let is_async = sig.asyncness.is_some();
        let polled = context::is_poll_fn(sig);
        // The last expression of a fn returning nothing: its value is dropped too.
        if let (syn::ReturnType::Default, Some(Stmt::Expr(tail, None))) = (&sig.output, body.stmts.last()) {
            self.m.discarded.insert(addr(strip_parens(tail)));
        }
        // A tower `Service::call` runs on the executor for every request, before the future
        // it returns: its own body is as hot as a `poll_*` fn.
        let serves = !is_async
            && name == "call"
            && owner.is_some()
            && self.m.impl_traits.last().is_some_and(|t| t.as_deref() == Some("Service"));
        let (kind, what) = if is_async {
            (Kind::Async, format!("async fn `{name}`"))
        } else if polled {
            (Kind::Async, format!("`{name}`, which the executor polls"))
        } else if serves {
            (Kind::Async, "`call` of a `Service`, which runs on the executor for each request".to_string())
        } else {
            (Kind::Sync, format!("fn `{name}`"))
        };
        let at = self.m.span(sig.ident.span());
        let attr_named = |f: &dyn Fn(&str) -> bool| {
            attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| f(&s.ident.to_string())))
        };
        let root = if polled {
            Some(Hot { kind: HotKind::Polled, at })
        } else if serves {
            Some(Hot { kind: HotKind::ServiceCall, at })
        } else if attr_named(&|n| self.m.res.knowledge.is_handler_attribute(n)) {
            Some(Hot { kind: HotKind::HandlerAttribute, at })
        } else {
            None
        };
        let at_root = owner.is_none() && self.m.res.current_module() == "crate";
        let entry = (name == "main" && at_root) || attr_named(&|n| n == "main");
        let test = self.m.in_test() || self.m.is_test(attrs);
        let base = owner.clone().unwrap_or_else(|| self.m.res.current_module().to_string());
        let key = self.m.key(&format!("{base}::{name}"));
        let params = sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(pt) => Some(match &*pt.pat {
                    Pat::Ident(pi) => pi.ident.to_string(),
                    _ => String::new(),
                }),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let owner_name = owner.as_deref().filter(|_| !in_trait).map(|o| o.last_segment().to_string());
        let callable = context::callable_params(sig);
        if let Some(key) = key.as_ref().filter(|_| context::keeps_callables(&callable, body)) {
            self.m.closure_keepers.push(key.clone());
        }
        let frame = FnFrame {
            name: name.clone(),
            key,
            ident_span: self.m.span(sig.ident.span()),
            is_async,
            returns_future: !is_async && super::resolve::returns_future(&sig.output, &HashSet::default()),
            owner: owner_name.clone(),
            params,
            callable,
            closures: 0,
            entry,
            root,
            test,
            returns: match &sig.output {
                syn::ReturnType::Type(_, ty) => self.returned_type(ty, owner.as_deref()),
                syn::ReturnType::Default => None,
            },
            nonblocking_io: polled && mentions_would_block(body),
            stub: context::is_stub(sig, body),
            output: match (&sig.output, owner.as_deref(), std::mem::take(&mut self.exported)) {
                (syn::ReturnType::Type(_, ty), owner, true) => match (self.m.res.resolve_type(ty), owner) {
                    (Ty::Named(p, _), Some(owner)) if p == "Self" || p.ends_with("::Self") => {
                        Ty::named(owner)
                    }
                    (t, _) => t,
                },
                _ => Ty::Unknown,
            },
            branches: 0,
            repeats: 0,
            method: sig.receiver().is_some(),
            // (A fn nested in another's body shares its key with namesakes nested elsewhere:
            // never an alternative.)
            cfg: (self.m.fns.is_empty() && !self.m.item_cfgs.is_empty()).then(|| self.m.item_cfgs.join(" ")),
            guards: Vec::new(),
        };
        self.m.ctx.push(Ctx { hot: root, test, ..Ctx::new(kind, what) });
        self.m.fns.push(frame);
        let body_frame = is_async.then(|| AsyncBody {
            is_fn: true,
            fn_name: Some(name),
            self_type: owner_name,
            mutable: context::mutable_params(sig),
            futures: context::future_params(sig),
            ..AsyncBody::default()
        });
        self.m.bodies.push(body_frame);
        self.hooks.enter_fn(self.m);
        if is_async {
            self.hooks.enter_async_body(self.m);
        }
        self.m.res.push_vars();
        self.m.res.push_generics(&sig.generics);
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                let ty = self.m.res.resolve_type(&pt.ty);
                self.m.res.bind_pattern(&pt.pat, ty);
            }
        }
        self.fresh_block(|w| w.visit_block(body));
        self.m.res.pop_generics();
        self.m.res.pop_vars();
        if is_async {
            self.hooks.exit_async_body(self.m);
        }
        self.hooks.exit_fn(self.m);
        self.m.bodies.pop();
        self.m.fns.pop();
        self.m.ctx.pop();
    }

    /// Runs `f` in the context of code handed to the crate fn `mode` names (`Defer`): its
    /// findings and calls count unless that fn offloads what it is handed.
    fn in_deferred(&mut self, mode: ClosureMode, f: impl FnOnce(&mut Self)) {
        if !matches!(mode, ClosureMode::Defer(_)) {
            return f(self);
        }
        let ctx = self.handed_ctx(mode);
        self.m.ctx.push(ctx);
        f(self);
        self.m.ctx.pop();
    }

    /// The context of code handed to a call that runs it in place (`Inherit`) or to a crate
    /// fn (`Defer`): in async code its findings wait for the join; in sync code its calls
    /// and blocking count for the enclosing fn unless the callee offloads it.
    fn handed_ctx(&self, mode: ClosureMode) -> Ctx {
        let mut ctx = self.outer_ctx().out_of_setup();
        if let ClosureMode::Defer(key) = mode {
            if ctx.kind != Kind::Offload {
                ctx.defer.push(key);
            }
        }
        ctx
    }

    fn outer_ctx(&self) -> Ctx {
        self.m.ctx.last().cloned().unwrap_or_else(|| Ctx::new(Kind::Sync, "closure"))
    }

    /// `once`: an async closure handed to a spawn, which calls it once (not per item).
    fn visit_closure_as(&mut self, c: &'ast ExprClosure, mode: ClosureMode, once: bool) {
        let mode = self.m.bound_closures.remove(&addr(c)).unwrap_or(mode);
        let is_async = c.asyncness.is_some();
        let counted = !(once && is_async);
        let ctx = match mode {
            _ if is_async => self.outer_ctx().nested(Kind::Async, "async closure"),
            ClosureMode::Offload => self.outer_ctx().nested(Kind::Offload, "offloaded closure"),
            ClosureMode::Inherit | ClosureMode::Defer(_) => Ctx { closure: true, ..self.handed_ctx(mode) },
            ClosureMode::Stored => {
                Ctx { closure: true, stored: true, ..self.handed_ctx(ClosureMode::Inherit) }
            }
        };
        self.m.ctx.push(ctx);
        if let Some(f) = self.m.fns.last_mut().filter(|_| counted) {
            f.closures += 1;
        }
        let body_frame = is_async.then(|| self.nested_body());
        self.m.bodies.push(body_frame);
        if is_async {
            self.hooks.enter_async_body(self.m);
        }
        self.m.res.push_vars();
        let mut item = self.closure_items.remove(&addr(c));
        for input in &c.inputs {
            self.m.res.bind_pattern(input, item.take().unwrap_or_default());
        }
        let chained = self.m.chain_receivers.remove(&addr(c));
        self.m.chained.push(chained);
        self.fresh_block(|w| w.visit_expr(&c.body));
        self.m.chained.pop();
        self.m.res.pop_vars();
        if is_async {
            self.hooks.exit_async_body(self.m);
        }
        self.m.bodies.pop();
        if let Some(f) = self.m.fns.last_mut().filter(|_| counted) {
            f.closures -= 1;
        }
        self.m.ctx.pop();
    }

    /// The path of the type a fn returns, through `Result`/`Option` (`Self` is the `impl`'s).
    fn returned_type(&self, ty: &syn::Type, owner: Option<&str>) -> Option<String> {
        let mut t = self.m.res.resolve_type(ty);
        for _ in 0..3 {
            match t.path()? {
                "std::result::Result" | "std::option::Option" | "std::boxed::Box" => {
                    t = match t {
                        Ty::Named(_, args) => args.into_iter().next()?,
                        _ => return None,
                    };
                }
                p if p.ends_with("::Self") || p == "Self" => return owner.map(str::to_string),
                p => return Some(p.to_string()),
            }
        }
        None
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
        // An async block run by `block_on` from sync code runs on that (dedicated) thread; in
        // a closure handed to a fn of the crates, on whatever thread that fn runs it.
        let ctx = match (detached, self.m.ctx.last()) {
            (true, Some(c)) if c.kind != Kind::Async || !c.defer.is_empty() => c.clone().out_of_setup(),
            (_, Some(c)) => c.nested(Kind::Async, "async block"),
            (_, None) => Ctx::new(Kind::Async, "async block"),
        };
        self.m.ctx.push(ctx);
        let body = self.nested_body();
        self.m.bodies.push(Some(body));
        self.hooks.enter_async_body(self.m);
        self.fresh_block(|w| w.visit_block(block));
        self.hooks.exit_async_body(self.m);
        self.m.bodies.pop();
        self.m.ctx.pop();
    }

    /// Walks the body of a fn, closure or async block: code of its own, which runs after no
    /// spawn around it.
    fn fresh_block(&mut self, walk: impl FnOnce(&mut Self)) {
        let seen = self.spawn_seen.take();
        walk(self);
        self.spawn_seen = seen;
    }

    /// Runs `f` as code its fn may run many times per run (when `repeats`): a loop's body over
    /// data, a fn handed over by name.
    fn repeating(&mut self, repeats: bool, f: impl FnOnce(&mut Self)) {
        if let Some(frame) = self.m.fns.last_mut().filter(|_| repeats) {
            frame.repeats += 1;
        }
        f(self);
        if let Some(frame) = self.m.fns.last_mut().filter(|_| repeats) {
            frame.repeats -= 1;
        }
    }

    /// Runs `f` in one branch of an `if` or a `match` (when `branch`): code only some runs of
    /// the fn reach.
    /// `alt`: the `if` or `match` (by address) and which of its branches this is.
    fn in_branch(&mut self, branch: bool, alt: (usize, usize), f: impl FnOnce(&mut Self)) {
        self.in_guarded_branch(branch, None, alt, f)
    }

    /// `in_branch`, for a branch that runs only when a parameter has a value (`if overwrite`,
    /// `if let Some(s) = spinner`, its `else`): `guard` names the parameter and the value.
    fn in_guarded_branch(
        &mut self,
        branch: bool,
        guard: Option<(String, super::context::Lit)>,
        alt: (usize, usize),
        f: impl FnOnce(&mut Self),
    ) {
        if let Some(frame) = self.m.fns.last_mut().filter(|_| branch) {
            frame.branches += 1;
            // (In a closure the name may be the closure's own parameter.)
            let position = |name: &str| frame.params.iter().position(|p| p == name);
            let guard = guard
                .filter(|_| frame.closures == 0)
                .and_then(|(name, lit)| Some((u8::try_from(position(&name)?).ok()?, lit)));
            frame.guards.push(guard);
        }
        self.m.arms.push(alt);
        f(self);
        self.m.arms.pop();
        if let Some(frame) = self.m.fns.last_mut().filter(|_| branch) {
            frame.branches -= 1;
            frame.guards.pop();
        }
    }

    fn call_hook(&mut self, e: &'ast Expr, usage: Use, callee: Option<&str>) {
        if self.m.kind().is_some() {
            self.hooks.call(self.m, e, usage, callee);
        }
    }

    /// An offload call (`spawn_blocking(f)`) handed one of the enclosing fn's parameters:
    /// that fn is a wrapper that runs its argument off the executor. `callable_only`: only a
    /// parameter declared as a closure or fn counts (for offloads known by method name alone,
    /// like a thread pool's `execute`).
    fn note_offload_wrapper<'e>(&mut self, args: impl Iterator<Item = &'e Expr>, callable_only: bool) {
        let Some(frame) = self.m.fns.last() else { return };
        let Some(key) = &frame.key else { return };
        let params = if callable_only { &frame.callable } else { &frame.params.iter().cloned().collect() };
        if args.filter_map(ident_of).any(|a| params.contains(&a)) {
            let key = key.clone();
            self.m.offload_wrappers.push(key);
        }
    }

    /// Code running off the executor (in a closure handed to `block_in_place`, a thread, a
    /// pool) calls or passes on a closure parameter of the enclosing fn:
    /// `block_in_place(move || f(&mut conn))` makes that fn a wrapper that offloads `f`.
    /// In a closure handed to another fn of the crates (`asyncify(move || f(rx))`), the
    /// enclosing fn offloads its parameter if that fn does: the join decides.
    fn note_offloaded_param<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) {
        match self.m.ctx.last().map(|c| (c.kind, c.defer.clone())) {
            Some((Kind::Offload, _)) => self.note_offload_wrapper(exprs, true),
            Some((_, via)) if !via.is_empty() => self.note_offload_via(exprs, &via),
            _ => {}
        }
    }

    /// One of the enclosing fn's closure parameters is handed to `via`, a fn of the crates
    /// (directly, or called in a closure handed to it): the fn offloads it if `via` does.
    fn note_offload_via<'e>(&mut self, args: impl Iterator<Item = &'e Expr>, via: &[impl AsRef<str>]) {
        let Some(frame) = self.m.fns.last() else { return };
        let Some(key) = &frame.key else { return };
        if args.filter_map(ident_of).any(|a| frame.callable.contains(&a)) {
            // (Any of the enclosing handovers that offloads takes the parameter along.)
            let entries = via.iter().map(|v| (key.clone(), v.as_ref().to_string()));
            self.m.offload_wrappers_via.extend(entries);
        }
    }

    /// Is `e` a spawn whose handle is dropped (`tokio::spawn(..);`, `let _ = spawn(..)`, the
    /// last expression of a fn returning nothing), made by async code outside an event loop:
    /// side work a request or task fires off and does not wait for (an event loop's spawns
    /// serve its connections or messages; a sync fn's spawn starts a job of its own)?
    fn detached(&self, e: &Expr) -> bool {
        let in_event_loop = self.m.ctx.iter().any(|c| c.hot.is_some_and(|h| h.kind == HotKind::EventLoop));
        self.m.kind() == Some(Kind::Async) && self.m.discarded.contains(&addr(e)) && !in_event_loop
    }

    fn mark_awaited(&mut self, e: &Expr) {
        self.m.awaited.insert(addr(strip_parens(e)));
    }

    fn mark_result(&mut self, e: &Expr) {
        self.m.as_result.insert(addr(strip_parens(e)));
    }

    /// Visits call arguments: closures as `mode` says, async blocks on the calling thread
    /// when the call is a `block_on`, and in a hot region when the call spawns them or
    /// registers them as handlers (`runs`, with the call's span).
    fn visit_args(
        &mut self,
        args: impl Iterator<Item = &'ast Expr>,
        mode: ClosureMode,
        block_on: bool,
        runs: Option<(RunsKind, PmSpan)>,
        detached: bool,
    ) {
        let mut args = args.peekable();
        // A task: a future or closure handed over (`Command::spawn()` and `spawn_child(&cmd)`
        // start processes).
        if let Some((RunsKind::Spawn, at)) = runs {
            let task = args.peek().is_some_and(|a| {
                matches!(a, Expr::Async(_) | Expr::Closure(_) | Expr::Call(_) | Expr::MethodCall(_))
                    && !self.m.res.knowledge.waits_for_signal(&quote::quote!(#a).to_string())
            });
            if self.m.kind() == Some(Kind::Async) && task {
                self.spawn_seen = Some(at);
            }
        }
        for arg in args {
            let hot = runs.and_then(|(kind, at)| {
                let kind = match kind {
                    RunsKind::Spawn if detached => HotKind::Detached,
                    RunsKind::Spawn => HotKind::Spawned,
                    // A closure or block, or a fn handed over by name (`get(handler)`).
                    RunsKind::Handler if is_async_arg(arg) || matches!(strip_refs(arg), Expr::Path(_)) => {
                        HotKind::Handler
                    }
                    RunsKind::Handler => return None,
                    RunsKind::Once => HotKind::Once,
                };
                Some(Hot { kind, at: self.m.span(at) })
            });
            self.note_fn_ref(arg, hot);
            // A handler: a closure or async block, or a fn by name (not a local value).
            let handed = is_async_arg(arg) || self.names_item(arg);
            if hot.is_some_and(|h| h.kind == HotKind::Handler) && handed && !self.m.in_test() {
                self.m.serves = true;
            }
            if hot.is_some() {
                self.push_region(hot);
            }
            // `spawn_blocking({ let name = name.clone(); move || load(name) })`: the block's
            // value is the closure handed over.
            if let (Expr::Block(_), Some(c)) = (arg, handed_closure(arg)) {
                self.m.bound_closures.insert(addr(c), mode.clone());
            }
            // `Reopen::new(Box::new(move || open(&p)))`: a boxed closure handed to a fn of the
            // crates (or an offloader) is handed over as the bare one would be. (Handed to
            // another crate's method, `callbacks.insert(k, Box::new(..))`, it is kept.)
            if let (Expr::Call(boxed), false) = (arg, matches!(mode, ClosureMode::Inherit)) {
                if let (true, Some(Expr::Closure(c))) = (stores_value(&boxed.func), boxed.args.first()) {
                    self.m.bound_closures.insert(addr(c), mode.clone());
                }
            }
            match arg {
                Expr::Closure(c) => {
                    let spawned = matches!(runs, Some((RunsKind::Spawn, _)));
                    self.visit_closure_as(c, mode.clone(), spawned)
                }
                // `create_helper(dir, create_dir)`: a fn handed by name to a fn of the crates
                // runs where that fn calls it, as a closure handed over would.
                Expr::Path(_) if hot.is_none() && matches!(mode, ClosureMode::Defer(_)) => {
                    self.in_deferred(mode.clone(), |w| w.fn_value(arg));
                    self.visit_expr(arg)
                }
                // Run by `block_on` from sync code: on that thread, off the executor; except
                // in a program's sync `main`, where it is the program, as `#[tokio::main]` is.
                Expr::Async(a) if block_on => {
                    let in_main =
                        self.m.kind() == Some(Kind::Sync) && self.m.fns.last().is_some_and(|f| f.entry);
                    self.visit_async_block(&a.block, !in_main)
                }
                _ => self.visit_expr(arg),
            }
            if hot.is_some() {
                self.m.ctx.pop();
            }
        }
    }

    /// A function path passed as an argument to a call that runs it here: a call of it.
    fn fn_value(&mut self, arg: &'ast Expr) {
        let Expr::Path(p) = arg else { return };
        if p.qself.is_some() || self.m.kind().is_none() {
            return;
        }
        let Some(path) = self.m.res.resolve_value(&p.path) else { return };
        // A unit struct or enum variant (`.map(Some)`, `.unwrap_or(Level::Info)`) is no call
        // the model follows; only a known blocking path or a fn of the crates can matter.
        let callee = self.m.key(&path);
        // (`.map(fs::metadata)` calls it once per item, as a closure would be.)
        self.repeating(true, |w| w.call_hook(arg, Use::default(), callee.as_deref()));
    }

    /// A function of the crates handed over by name (`get(handler)`), or a future made
    /// earlier and spawned here (`let f = work(); spawn(f)`).
    fn note_fn_ref(&mut self, arg: &'ast Expr, hot: Option<Hot>) {
        let Expr::Path(p) = strip_refs(arg) else { return };
        if self.m.kind().is_none() {
            return;
        }
        let callee = match self.m.res.resolve_value(&p.path) {
            Some(path) => self.m.key(&path),
            // A local: `let fut = work(x); tokio::spawn(fut)` spawns `work`.
            None if hot.is_some() => {
                let name = p.path.get_ident().map(|i| i.to_string());
                let init = name.and_then(|n| self.m.enclosing_body().and_then(|b| b.lets.get(&n).copied()));
                match init.map(strip_refs) {
                    Some(Expr::Call(c)) => match &*c.func {
                        Expr::Path(f) => self.m.res.resolve_value(&f.path).and_then(|path| self.m.key(&path)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            None => None,
        };
        if let Some(key) = callee {
            let hot = hot.or(Some(Hot { kind: HotKind::Callback, at: self.m.span(p.span()) }));
            self.hooks.fn_ref(self.m, &key, p.span(), hot);
        }
    }

    fn visit_call(&mut self, e: &'ast Expr, call: &'ast syn::ExprCall, usage: Use) {
        let (mut mode, mut block_on, mut callee, mut runs) = (ClosureMode::Inherit, false, None, None);
        self.note_offloaded_param(std::iter::once(&*call.func).chain(&call.args));
        if let Expr::Path(p) = &*call.func {
            if let Some(path) = self.m.res.resolve_value(&p.path) {
                let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                // What the path names, not how it is spelled here: `use
                // tokio::task::spawn_blocking as run_blocking;` still offloads.
                let real = path.last_segment();
                block_on = name == "block_on";
                let knowledge = self.m.res.knowledge;
                if knowledge.is_offload(&name, Some(&path), false)
                    || knowledge.is_offload(real, Some(&path), false)
                {
                    mode = ClosureMode::Offload;
                    self.note_offload_wrapper(call.args.iter(), false);
                } else if self.m.kind().is_some() {
                    callee = self.trait_call(&p.path, &name, call.args.first()).or_else(|| self.m.key(&path));
                    runs = self.m.res.knowledge.runs(&name).map(|k| (k, spans::call(call)));
                }
                // `with_db(|conn| conn.execute(..))`: what the file's fn hands its closure.
                for (i, arg) in call.args.iter().enumerate() {
                    if let Expr::Closure(c) = arg {
                        if let Some(ty) = self.m.res.free_closure_param(&path, i) {
                            self.closure_items.insert(addr(c), ty);
                        }
                    }
                }
            }
        }
        self.call_hook(e, usage, callee.as_deref());
        if let Some(key) = callee {
            self.note_offload_via(call.args.iter(), std::slice::from_ref(&key));
            mode = ClosureMode::Defer(key.as_str().into());
        } else if stores_value(&call.func) && self.m.kind() == Some(Kind::Sync) {
            // `Some(|| rotate_logs())`, `Box::new(move || ..)` in a sync fn: the closure is kept
            // as a value, to run later (a job table, a callback slot), not when the fn runs.
            mode = ClosureMode::Stored;
        }
        self.visit_expr(&call.func);
        let detached = self.detached(e);
        self.visit_args(call.args.iter(), mode, block_on, runs, detached);
    }

    /// `Store::get(self, key)` with `Store` a trait of this file: the impl for the first
    /// argument's type (`Adapter::get`), when that type is known.
    fn trait_call(&self, path: &syn::Path, name: &str, first: Option<&Expr>) -> Option<String> {
        let qualifier = path.segments.iter().rev().nth(1)?.ident.to_string();
        if !self.m.res.traits.contains(&qualifier) {
            return None;
        }
        match self.m.res.deref_all(self.m.res.infer(first?)) {
            crate::semantic::Ty::Named(ty, _) => self.m.key(&format!("{ty}::{name}")),
            _ => None,
        }
    }

    fn visit_method_call(&mut self, e: &'ast Expr, m: &'ast syn::ExprMethodCall, usage: Use) {
        let method = m.method.to_string();
        // `WalkDir::new(d).into_iter().filter_map(..).count()`: a consumer walks the explicit
        // `into_iter()` under the lazy adaptors (not a chain bound to a name or returned).
        if ITER_CONSUMERS.contains(&method.as_str()) {
            let mut e: &Expr = &m.receiver;
            while let Expr::MethodCall(inner) = e {
                if inner.method == "into_iter" && inner.args.is_empty() {
                    self.m.iter_receivers.insert(addr(e));
                    break;
                }
                if !ITER_ADAPTORS.contains(&inner.method.to_string().as_str()) {
                    break;
                }
                e = &inner.receiver;
            }
        }
        if RESULT_METHODS.contains(&method.as_str()) {
            self.mark_result(&m.receiver);
        }
        // Sorted, the items are to be handled in order; sorted then truncated, the sort only
        // chose the top few (`sort_by(stake); truncate(limit)`), which may run together;
        // sorted then deduplicated, the sort was for `dedup` (which needs neighbours equal).
        if method.starts_with("sort") || method == "truncate" || method.starts_with("dedup") {
            if let (Some(root), Some(body)) = (context::root_ident(&m.receiver), self.m.enclosing_body_mut())
            {
                if method == "truncate" || method.starts_with("dedup") {
                    body.sorted.remove(&root);
                } else {
                    body.sorted.insert(root);
                }
            }
        }
        if matches!(method.as_str(), "push" | "push_back" | "push_front")
            && m.args.len() == 1
            && self.in_macro == 0
        {
            if let (Some(root), Some(body)) = (context::root_ident(&m.receiver), self.m.enclosing_body_mut())
            {
                body.pushed.entry(root).or_default().push(strip_refs(&m.args[0]));
            }
        }
        let (mut mode, mut callee) = (ClosureMode::Inherit, None);
        self.note_offloaded_param(m.args.iter());
        let mut runs = self.m.res.knowledge.runs(&method).map(|k| (k, m.method.span()));
        let receiver = self.m.res.infer(&m.receiver);
        let combinator = self.option_combinator(m, &receiver);
        // `pool.spawn(f)` offloads when `pool` is a rayon pool, not a tokio runtime.
        let resolved = self.m.res.deref_all(receiver.clone()).path().map(|t| format!("{t}::{method}"));
        let takes_closure = m.args.iter().any(|a| handed_closure(a).is_some());
        if self.m.res.knowledge.is_offload(&method, resolved.as_deref(), true) {
            self.note_offload_wrapper(m.args.iter(), true);
            if takes_closure {
                mode = ClosureMode::Offload;
                runs = None;
            }
        } else if let (Ty::Named(..), Some(_), false) = (&receiver, self.m.kind(), combinator) {
            // Through smart pointers to the crates' own type: `Arc<Store>` calls `Store::m`.
            callee = self.m.res.deref_chain(receiver.clone()).iter().find_map(|t| {
                let ty = t.path().filter(|p| !super::types::glob_pointer(p))?;
                self.m.key(&format!("{ty}::{method}"))
            });
        } else if let (Some(ty), false) = (self.followed_member(&receiver), combinator) {
            // A value another file types (`state.config().reload(..)`): the join resolves it.
            // (Not `Option`'s own methods: the model looks through a declared `Option`.)
            if !super::types::OPTION_ONLY.contains(&method.as_str()) {
                callee = self.m.key(&format!("{ty}::{method}"));
            }
        } else if matches!(receiver, Ty::Unknown | Ty::Member(_)) && takes_closure && runs.is_none() {
            // A closure handed to a method of a value the model cannot type: it may be a
            // wrapper of the crates that offloads it (`state.pool.exec_blocking(|| ..)`); the
            // join knows the crates' wrappers by method name.
            mode = ClosureMode::Defer(format!("{}{method}", crate::semantic::ANY_METHOD).into());
        }
        self.call_hook(e, usage, callee.as_deref());
        let crate_method = callee.is_some();
        if let Some(key) = callee {
            self.note_offload_via(m.args.iter(), std::slice::from_ref(&key));
            mode = ClosureMode::Defer(key.as_str().into());
        }
        self.note_closure_items(m, &receiver);
        self.visit_expr(&m.receiver);
        // `.map(std::fs::read)`, `.and_then(File::open)`: a function handed to an adaptor or
        // combinator runs where it is called (not one stored, registered or sent elsewhere).
        if !crate_method && mode != ClosureMode::Offload && self.m.res.knowledge.calls_argument(&method) {
            m.args.iter().for_each(|a| self.fn_value(a));
        }
        // A sync fn handing a `move` closure to another crate's method that is not known to
        // call it in place registers a callback: it runs later, not as part of this fn.
        let unknown_method =
            matches!(&mode, ClosureMode::Defer(k) if k.starts_with(crate::semantic::ANY_METHOD));
        let registers = !crate_method
            && (mode == ClosureMode::Inherit || unknown_method)
            && runs.is_none()
            && self.m.kind() == Some(Kind::Sync)
            && !self.m.res.knowledge.calls_argument(&method)
            && m.args.iter().any(|a| matches!(a, Expr::Closure(c) if c.capture.is_some()));
        let registered =
            registers.then(|| Hot { kind: HotKind::Registered, at: self.m.span(m.method.span()) });
        // (A method's spawn may keep its handle: `set.spawn(..)` of a `JoinSet`.)
        let set = receiver.last_segment().is_some_and(|t| t == "JoinSet");
        let collected = std::mem::replace(&mut self.collected_spawn, set && runs.is_some());
        self.region(registered, |w| w.visit_args(m.args.iter(), mode, method == "block_on", runs, false));
        self.collected_spawn = collected;
    }

    /// The name of a value another file types (`Ty::Member`) whose method calls are followed:
    /// from async code any; from sync code a field of a struct (`state.store`), not what a
    /// method returns nor a member of a member (those are many, and each costs the join
    /// lookups).
    fn followed_member<'t>(&self, receiver: &'t Ty) -> Option<&'t str> {
        let Ty::Member(member) = receiver else { return None };
        let one_field = member.matches("::<").count() == 1 && !member.ends_with("()>");
        match self.m.kind()? {
            Kind::Async => Some(member),
            Kind::Sync if one_field => Some(member),
            _ => None,
        }
    }

    /// `cache.as_ref().map(|c| c.get(k))`: a combinator of the `Option` or `Result` the model
    /// looks through, not a method of the crates' type inside, unless the file defines one.
    fn option_combinator(&self, m: &syn::ExprMethodCall, receiver: &Ty) -> bool {
        let method = m.method.to_string();
        let wrapped = self.m.res.knowledge.closure_item(&method).1;
        let defined = || {
            let name = receiver.last_segment().unwrap_or_default();
            self.m.res.assoc_fns.contains(&format!("{name}::{method}"))
        };
        // (A function handed by path is a closure too: `.and_then(File::open)`.)
        wrapped && m.args.iter().any(|a| matches!(a, Expr::Closure(_) | Expr::Path(_))) && !defined()
    }

    /// `v.iter().map(|x| ..)`, `opt.and_then(|p| ..)`: the closure's parameter is an item of
    /// the receiver.
    fn note_closure_items(&mut self, m: &'ast syn::ExprMethodCall, receiver: &Ty) {
        let (elements, wrapped) = self.m.res.knowledge.closure_item(&m.method.to_string());
        // (A member another file types may be an `Option` or a `Result` as well as a
        // collection: `and_then`'s closure takes it whole, unless it was iterated: `.iter()`.)
        let element = match receiver {
            Ty::Member(p) if wrapped && super::types::iterated_member(p).is_none() => Ty::Unknown,
            _ if elements => self.m.res.item_type(receiver),
            _ => Ty::Unknown,
        };
        // The model looks through options and results: a receiver typed `T` that is no
        // collection holds a `T`.
        let item = match element {
            Ty::Unknown
                if wrapped
                    && matches!(receiver, Ty::Named(..) | Ty::Member(_))
                    && !self.m.res.is_iterable(receiver) =>
            {
                receiver.clone()
            }
            t => t,
        };
        for (i, arg) in m.args.iter().enumerate() {
            if let Expr::Closure(c) = arg {
                // `File::open(p).and_then(|mut f| f.read_to_string(..))`: one chain.
                self.m.chain_receivers.insert(addr(c), &m.receiver);
                // `db.with(|conn| conn.execute(..))`: what the file's method hands it.
                let handed = || {
                    self.m.res.closure_param(
                        &self.m.res.deref_all(receiver.clone()),
                        &m.method.to_string(),
                        i,
                    )
                };
                match &item {
                    Ty::Unknown => {
                        if let Some(ty) = handed() {
                            self.closure_items.insert(addr(c), ty);
                        }
                    }
                    item => {
                        self.closure_items.insert(addr(c), item.clone());
                    }
                }
            }
        }
    }

    /// Closures bound with `let` in this block and later handed by name to an offload call
    /// (they run off the executor) or to a function of the crates (they run wherever it runs
    /// them).
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
        let mut finder = OffloadArgs { m: &*self.m, names: HashMap::default() };
        for s in stmts {
            finder.visit_stmt(s);
        }
        let names = finder.names;
        for (name, closure) in bound {
            if let Some(mode) = names.get(&name) {
                self.m.bound_closures.insert(closure, mode.clone());
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
        } else if name == "matches" {
            mac.parse_body_with(macros::parse_matches).ok().map(MacroBody::Args)
        } else if name == "json" {
            mac.parse_body_with(macros::parse_json).ok().map(MacroBody::Args)
        } else {
            None
        };
        let parsed = parsed
            .or_else(|| {
                let mut args = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated).ok()?;
                // `write!(f, ..)` / `writeln!(f, ..)` is `f.write_fmt(..)`: a file or socket's
                // write like any other.
                if matches!(name.as_str(), "write" | "writeln") {
                    if let Some(first) = args.first_mut() {
                        let ident = syn::Ident::new("write_fmt", mac.path.segments.last()?.ident.span());
                        *first = Expr::MethodCall(syn::ExprMethodCall {
                            attrs: Vec::new(),
                            receiver: Box::new(first.clone()),
                            dot_token: Default::default(),
                            method: ident,
                            turbofish: None,
                            paren_token: Default::default(),
                            args: Punctuated::new(),
                        });
                    }
                }
                Some(MacroBody::Args(args))
            })
            .or_else(|| mac.parse_body_with(Block::parse_within).ok().map(MacroBody::Stmts))
            .or_else(|| {
                mac.parse_body_with(macros::parse_repeat).ok().map(|pair| MacroBody::Repeat(Box::new(pair)))
            });
        self.expand_local_macro(mac, &name);
        let Some(parsed) = parsed else { return };
        let body: &'ast MacroBody = self.arena.alloc(parsed);
        self.in_macro += 1;
        match body {
            MacroBody::Select(branches) => {
                for b in branches {
                    if let Some(f) = &b.future {
                        self.mark_awaited(f);
                        self.hooks.macro_awaits(self.m, f);
                        self.visit_expr(f);
                    }
                    self.m.res.push_vars();
                    if let Some(p) = &b.pat {
                        self.m.res.bind_pattern(p, Ty::Unknown);
                    }
                    if let Some(g) = &b.guard {
                        self.visit_expr(g);
                    }
                    // A branch's handler is code written as is (an event loop's work per
                    // message): the serial rules see it as they see the code around the macro.
                    self.in_macro -= 1;
                    self.visit_expr(&b.handler);
                    self.in_macro += 1;
                    self.m.res.pop_vars();
                }
            }
            MacroBody::Args(args) => {
                let futures = FUTURE_MACROS.contains(&name.as_str());
                // Futures joined outside any hot region run beside each other: hot, when the
                // join is the last thing its block waits for (the program's serve-and-flush
                // pair), not a step before more awaited work (`try_join!(config(), certs())?`).
                let last_wait = self.rest.last().is_none_or(|rest| !rest.iter().any(awaits));
                let joined = (futures
                    && name.contains("join")
                    && args.len() > 1
                    && last_wait
                    && self.m.kind() == Some(Kind::Async))
                .then(|| self.m.ctx.last().filter(|c| c.hot.is_none()))
                .flatten()
                .map(|_| Hot { kind: HotKind::Joined, at: self.m.span(mac.path.span()) });
                for a in args {
                    if futures {
                        self.mark_awaited(a);
                    }
                    if futures && name.contains("join") {
                        self.hooks.macro_awaits(self.m, a);
                    }
                    self.region(joined, |w| w.visit_expr(a));
                }
            }
            MacroBody::Stmts(stmts) => self.visit_stmts(stmts),
            MacroBody::Repeat(pair) => {
                self.visit_expr(&pair.0);
                self.visit_expr(&pair.1);
            }
        }
        self.in_macro -= 1;
    }

    /// A `macro_rules!` macro of this file used in a fn: the code of the first rule whose
    /// transcriber parses as statements is walked as if written at the invocation (one level:
    /// not inside another expansion, so recursive macros stop; once per fn).
    fn expand_local_macro(&mut self, mac: &'ast Macro, name: &str) {
        if self.expanding {
            return;
        }
        let Some(rules) = self.m.res.local_macro(name) else { return };
        let within = self.m.current_fn().map(|f| (f.ident_span.start.line, f.ident_span.start.column));
        // (Per kind of code: a first use in an offloaded closure does not hide a later one.)
        if !self.expanded.insert((name.to_string(), within, self.m.kind() == Some(Kind::Async))) {
            return;
        }
        let at = mac.path.segments.last().map_or_else(proc_macro2::Span::call_site, |s| s.ident.span());
        let Some(stmts) = rules.iter().find_map(|body| {
            let code = macros::instantiate(body, at);
            syn::parse::Parser::parse2(Block::parse_within, code).ok()
        }) else {
            return;
        };
        let body: &'ast MacroBody = self.arena.alloc(MacroBody::Stmts(stmts));
        if let MacroBody::Stmts(stmts) = body {
            self.expanding = true;
            self.in_macro += 1;
            self.visit_stmts(stmts);
            self.in_macro -= 1;
            self.expanding = false;
        }
    }

    fn visit_stmts(&mut self, stmts: &'ast [Stmt]) {
        if self.in_macro == 0 {
            self.hooks.block(self.m, stmts);
        }
        let setup = self.setup_region(stmts);
        self.region(setup, |w| w.walk_stmts(stmts));
    }

    /// Enters the code of a region (`None`: of no region) where the walk is: a copy of the
    /// current context with that region, popped by the caller.
    fn push_region(&mut self, hot: Option<Hot>) {
        // A handler region stands for code handed over (a closure, an async block); a value
        // handed to a method of that name (`client.get(url)`) is no handler.
        // A bound listener (`Setup`) serves too, though its setup runs once.
        // (An event loop says whether it serves where it is entered.)
        let collected = self.collected_spawn;
        let serving = |h: Hot| {
            h.kind.serves()
                && !matches!(h.kind, HotKind::Handler | HotKind::EventLoop)
                && !(collected && matches!(h.kind, HotKind::Spawned | HotKind::Detached))
        };
        if hot.is_some_and(serving) && !self.m.in_test() {
            self.m.serves = true;
        }
        let ctx = self.m.ctx.last().map(|c| Ctx { hot, ..c.clone() });
        self.m.ctx.extend(ctx);
    }

    /// Is `e` a path to an item (`index`, `handlers::index`), not a local value (`url`)?
    fn names_item(&self, e: &Expr) -> bool {
        match strip_refs(e) {
            Expr::Path(p) => p.path.get_ident().is_none_or(|n| self.m.res.var(&n.to_string()).is_none()),
            _ => false,
        }
    }

    /// Walks with `walk` as code that runs only where no runtime is (the branch of a
    /// `Handle::try_current()` probe that found none): off any executor, like offloaded code.
    fn outside_runtime(&mut self, outside: bool, walk: impl FnOnce(&mut Self)) {
        let ctx = self
            .m
            .ctx
            .last()
            .filter(|_| outside)
            .map(|c| c.nested(Kind::Offload, "code run without a runtime"));
        let pushed = ctx.is_some();
        self.m.ctx.extend(ctx);
        walk(self);
        if pushed {
            self.m.ctx.pop();
        }
    }

    /// Walks with `walk` inside the region `hot`, if there is one.
    fn region(&mut self, hot: Option<Hot>, walk: impl FnOnce(&mut Self)) {
        if hot.is_some() {
            self.push_region(hot);
        }
        walk(self);
        if hot.is_some() {
            self.m.ctx.pop();
        }
    }

    /// A block of async code that binds a server's listener, outside handlers and event loops,
    /// prepares the server: what it runs (before and after the bind) runs once per start.
    fn setup_region(&self, stmts: &'ast [Stmt]) -> Option<Hot> {
        let ctx = self.m.ctx.last()?;
        let outside = matches!(ctx.hot, None | Some(Hot { kind: HotKind::Spawned | HotKind::Detached, .. }));
        // A program's entry is startup code as a whole, and says so.
        let entry = self.m.fns.last().is_some_and(|f| f.entry);
        if self.m.kind() != Some(Kind::Async) || !outside || entry {
            return None;
        }
        let bind = stmts.iter().find_map(|s| match s {
            Stmt::Local(l) => l.init.as_ref().and_then(|i| listener_bind(&i.expr, self.m.res.knowledge)),
            Stmt::Expr(e, _) => listener_bind(e, self.m.res.knowledge),
            _ => None,
        })?;
        Some(Hot { kind: HotKind::Setup, at: self.m.span(bind.span()) })
    }

    fn walk_stmts(&mut self, stmts: &'ast [Stmt]) {
        self.m.res.push_block(stmts);
        // `const ADDR: SocketAddr = ..;` in the body: typed as declared.
        for s in stmts {
            if let Stmt::Item(syn::Item::Const(c)) = s {
                let ty = self.m.res.resolve_type(&c.ty);
                self.m.res.bind(c.ident.to_string(), ty);
            }
        }
        self.find_offloaded_closures(stmts);
        let (mut miss, mut alongside, mut stopping) = (false, false, false);
        // The statement that awaits the spawned task's handle: the task is over after it.
        let mut joined_at = None;
        self.rest.push(&[]);
        for (i, s) in stmts.iter().enumerate() {
            if alongside && joined_at == Some(i) && self.alongside_on_top() {
                self.m.ctx.pop();
                alongside = false;
            }
            if let Stmt::Expr(e, Some(_)) = s {
                self.m.discarded.insert(addr(strip_parens(e)));
            }
            if let Some(rest) = self.rest.last_mut() {
                *rest = &stmts[i + 1..];
            }
            // `#[cfg(feature = "io-uring")] { .. }`: a statement compiled out here.
            let attrs = match s {
                Stmt::Expr(e, _) => expr_attrs(e),
                Stmt::Macro(m) => &m.attrs,
                _ => &[],
            };
            // `#[cfg(feature = "tests")] loop { .. }`: a statement only test builds run.
            if self.m.compiled_out(attrs) || (self.m.is_test(attrs) && !self.m.include_tests()) {
                continue;
            }
            let outer_spawn = self.spawn_seen.take();
            self.visit_stmt(s);
            // Async code after a spawn, outside any region (or in the block setting up a server,
            // which runs once the server's task is spawned), runs beside the spawned task: its
            // loops are hot (see `Ctx::beside`).
            let free = self.m.kind() == Some(Kind::Async)
                && self.m.ctx.last().is_some_and(|c| c.hot.is_none_or(|h| h.kind == HotKind::Setup))
                && !alongside
                && !stopping;
            if let Some((at, joined)) = self.spawned_task(s, &stmts[i + 1..]).filter(|_| free) {
                if joined != Some(0) {
                    let beside = Some(Hot { kind: HotKind::Alongside, at: self.m.span(at) });
                    let ctx = self.m.ctx.last().map(|c| Ctx { beside, ..c.clone() });
                    self.m.ctx.extend(ctx);
                    alongside = true;
                    joined_at = joined.map(|j| i + 1 + j);
                }
            }
            // After the program's event loop ends, it is stopping: cleanup runs once.
            let knowledge = self.m.res.knowledge;
            if matches!(s, Stmt::Expr(e, _) if is_event_loop(e, knowledge))
                && alongside
                && self.alongside_on_top()
            {
                self.m.ctx.pop();
                (alongside, stopping) = (false, true);
            }
            self.spawn_seen = outer_spawn;
            // `if let Some(v) = cache.get(k) { return v; }`: what follows is the miss.
            if let Some(lookup) = memo::early_return(s, knowledge).filter(|_| !miss) {
                if memo::stores(&stmts[i + 1..], knowledge) {
                    self.push_region(Some(Hot { kind: HotKind::CacheMiss, at: self.m.span(lookup.span()) }));
                    miss = true;
                }
            }
        }
        self.rest.pop();
        for _ in 0..usize::from(miss) + usize::from(alongside) {
            self.m.ctx.pop();
        }
        self.m.res.pop();
    }

    /// Is the innermost region the one beside a spawned task (so closing it closes that)?
    fn alongside_on_top(&self) -> bool {
        self.m.ctx.last().is_some_and(|c| c.beside.is_some())
    }

    /// Where statement `s` of a block spawns a task (`spawn(..)`, or a let of a task's
    /// `JoinHandle` a helper returned) that runs during the rest of the block, and which
    /// statement of the rest awaits its handle, if one does (the task is over after it).
    fn spawned_task(&self, s: &'ast Stmt, rest: &[Stmt]) -> Option<(PmSpan, Option<usize>)> {
        let (bound, init) = match s {
            Stmt::Local(syn::Local { pat: Pat::Ident(p), init: Some(init), .. }) => {
                (Some(p.ident.to_string()), Some(context::strip_try(&init.expr)))
            }
            _ => (None, None),
        };
        let typed =
            bound.as_ref().is_some_and(|n| self.m.res.var(n).is_some_and(super::resolve::is_task_handle));
        let called = init.and_then(context::call_name).is_some_and(|f| self.m.res.spawns_task(&f));
        let handle = bound.as_ref().filter(|_| typed || called);
        let joined = bound.as_ref().and_then(|n| rest.iter().position(|r| awaits_name(r, n)));
        // `let v = spawn(work).await?;`: the task is over when the statement is.
        let spawns = |f: String| {
            let last = f.last_segment();
            self.m.res.knowledge.runs(last) == Some(RunsKind::Spawn) || self.m.res.spawns_task(&f)
        };
        let awaited = |e: &Expr| matches!(context::strip_try(e), Expr::Await(a) if context::call_name(&a.base).is_some_and(spawns));
        let stmt_expr = match s {
            Stmt::Local(l) => l.init.as_ref().map(|i| &*i.expr),
            Stmt::Expr(e, _) => Some(e),
            _ => None,
        };
        if stmt_expr.is_some_and(awaited) {
            return None;
        }
        self.spawn_seen.or(handle.map(|_| s.span())).map(|at| (at, joined))
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
        // A `loop`/`while` in async code that waits for messages, connections or ticks runs once
        // per event while the program serves: the code in it is hot, even in `main`.
        let event_loop = match self.m.kind() {
            Some(Kind::Async) => event_loop(e, self.m.res.knowledge),
            _ => None,
        };
        // A loop in a server's setup may be its accept loop (`listener.accept()` of a std
        // listener is not awaited): it leaves the setup region.
        let in_setup = self.m.ctx.last().is_some_and(|c| c.hot.is_some_and(|h| h.kind == HotKind::Setup));
        // A `loop`/`while` after a spawn repeats while the task runs, and so does a `for` that
        // waits in each turn (polls); a `for` that only works through a list is one-shot work,
        // like the straight code around it.
        let repeats = match e {
            Expr::ForLoop(f) => f.body.stmts.iter().any(awaits),
            _ => true,
        };
        // (Inside a hot region, such as an event loop, the region says where the code runs.)
        let beside =
            self.m.ctx.last().filter(|c| c.hot.is_none_or(|h| h.kind.is_cold())).and_then(|c| c.beside);
        let beside = beside.filter(|_| repeats);
        if let Some(serves) = event_loop {
            self.push_region(Some(Hot { kind: HotKind::EventLoop, at: self.m.span(loop_header(e)) }));
            self.m.serves |= serves && !self.m.in_test();
        } else if beside.is_some() {
            self.push_region(beside);
        } else if in_setup {
            self.push_region(None);
        }
        self.m.enter_loop(e);
        self.walk_loop(e, event_loop.is_none());
        self.m.leave_loop();
        if event_loop.is_some() || beside.is_some() || in_setup {
            self.m.ctx.pop();
        }
    }

    /// Walks a loop; `repeats`: it runs its body over data (not once per event).
    fn walk_loop(&mut self, e: &'ast Expr, repeats: bool) {
        match e {
            Expr::While(wl) => {
                self.m.res.push_vars();
                self.repeating(repeats, |w| {
                    w.visit_expr(&wl.cond);
                    w.visit_block(&wl.body);
                });
                self.m.res.pop_vars();
            }
            Expr::ForLoop(f) => {
                // (The iterable is evaluated once.)
                self.visit_expr(&f.expr);
                if self.m.kind().is_some() {
                    self.hooks.iterate(self.m, &f.expr);
                }
                self.m.res.push_vars();
                let item = self.m.res.iterated_item_type(&self.m.res.infer(&f.expr));
                self.m.res.bind_pattern(&f.pat, item);
                self.repeating(repeats, |w| w.visit_block(&f.body));
                self.m.res.pop_vars();
            }
            Expr::Loop(l) => self.repeating(repeats, |w| w.visit_block(&l.body)),
            _ => {}
        }
    }
}

impl<'ast, H: Hooks<'ast>> Walker<'_, '_, 'ast, H> {
    /// Walks an item with `walk`: test code in full only when the run includes tests, and
    /// otherwise only when it calls `block_on` (which is a bug in async tests too).
    fn item(&mut self, attrs: &'ast [Attribute], span: PmSpan, walk: impl FnOnce(&mut Self)) {
        if self.m.compiled_out(attrs) {
            return;
        }
        let test = self.m.is_test(attrs);
        if test && !self.m.include_tests() && !self.m.idx.slice(self.m.span(span)).contains("block_on") {
            return;
        }
        self.hooks.item(self.m, attrs, span);
        self.m.test_items += usize::from(test);
        let cfg = self.m.cfg_undecided(attrs);
        let gated = cfg.is_some();
        self.m.item_cfgs.extend(cfg);
        walk(self);
        if gated {
            self.m.item_cfgs.pop();
        }
        self.m.test_items -= usize::from(test);
    }
}

impl<'ast, H: Hooks<'ast>> Visit<'ast> for Walker<'_, '_, 'ast, H> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let span = spans::function(&f.attrs, &f.vis, &f.sig, &f.block);
        self.item(&f.attrs, span, |w| {
            // (What a public fn returns is named for other modules too.)
            w.exported = !matches!(f.vis, syn::Visibility::Inherited);
            w.enter_fn(&f.attrs, &f.sig, None, &f.block, false);
        });
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let span = spans::function(&f.attrs, &f.vis, &f.sig, &f.block);
        self.item(&f.attrs, span, |w| {
            let owner = w.m.res.self_type().map(str::to_string);
            // Callable from other files: what it returns is named for them (`Ty::Member`).
            let in_trait_impl = w.m.impl_traits.last().is_some_and(Option::is_some);
            w.exported = in_trait_impl || !matches!(f.vis, syn::Visibility::Inherited);
            w.enter_fn(&f.attrs, &f.sig, owner, &f.block, false);
        });
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        let end = match (&f.default, &f.semi_token) {
            (Some(b), _) => b.brace_token.span.close(),
            (None, Some(semi)) => semi.span,
            (None, None) => f.sig.ident.span(),
        };
        self.item(&f.attrs, spans::item(&f.attrs, None, spans::signature(&f.sig), end), |w| {
            if let Some(body) = &f.default {
                let owner = w.m.res.self_type().map(str::to_string);
                w.enter_fn(&f.attrs, &f.sig, owner, body, true);
            }
        });
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let first = i.defaultness.map(|t| t.span).or(i.unsafety.map(|t| t.span)).unwrap_or(i.impl_token.span);
        self.item(&i.attrs, spans::item(&i.attrs, None, first, i.brace_token.span.close()), |w| {
            w.m.res.push_generics(&i.generics);
            let self_ty = w.m.res.impl_self_type(&i.self_ty);
            w.m.res.set_generics_owner(self_ty.clone());
            w.m.res.push_self_type(self_ty);
            let implements =
                i.trait_.as_ref().and_then(|(_, p, _)| p.segments.last()).map(|s| s.ident.to_string());
            w.m.impl_traits.push(implements);
            for item in &i.items {
                w.visit_impl_item(item);
            }
            w.m.impl_traits.pop();
            w.m.res.pop_self_type();
            w.m.res.pop_generics();
        });
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let first = t.unsafety.map(|u| u.span).or(t.auto_token.map(|a| a.span)).unwrap_or(t.trait_token.span);
        self.item(&t.attrs, spans::item(&t.attrs, Some(&t.vis), first, t.brace_token.span.close()), |w| {
            let path = format!("{}::{}", w.m.res.current_module(), t.ident);
            w.m.declared_traits.push(t.ident.to_string());
            w.m.res.push_self_type(Some(path));
            for item in &t.items {
                w.visit_trait_item(item);
            }
            w.m.res.pop_self_type();
        });
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let end = match (&m.content, &m.semi) {
            (Some((brace, _)), _) => brace.span.close(),
            (None, Some(semi)) => semi.span,
            (None, None) => m.ident.span(),
        };
        let first = m.unsafety.map(|u| u.span).unwrap_or(m.mod_token.span);
        self.item(&m.attrs, spans::item(&m.attrs, Some(&m.vis), first, end), |w| {
            let path = format!("{}::{}", w.m.res.current_module(), m.ident);
            if let Some((_, items)) = &m.content {
                w.m.res.push_module(path, items);
                for item in items {
                    w.visit_item(item);
                }
                w.m.res.pop();
            }
        });
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        let end = match (&s.fields, &s.semi_token) {
            (_, Some(semi)) => semi.span,
            (syn::Fields::Named(f), None) => f.brace_token.span.close(),
            _ => s.ident.span(),
        };
        self.hooks.item(self.m, &s.attrs, spans::item(&s.attrs, Some(&s.vis), s.struct_token.span, end));
        if !self.m.compiled_out(&s.attrs) && !self.m.is_test(&s.attrs) && !self.m.in_test() {
            self.hooks.struct_item(self.m, s);
        }
    }

    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        if !self.m.compiled_out(&t.attrs) && !self.m.is_test(&t.attrs) && !self.m.in_test() {
            self.hooks.type_item(self.m, t);
        }
    }

    fn visit_item_const(&mut self, _: &'ast syn::ItemConst) {}

    /// A module-level static's initialiser (`LazyLock::new(|| ..)`) runs once per process:
    /// what it calls is startup-like. (One inside a fn body is left alone: its calls would
    /// count as the fn's.)
    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        if !self.m.fns.is_empty() || self.m.compiled_out(&s.attrs) || self.m.is_test(&s.attrs) {
            return;
        }
        let at = self.m.span(spans::item(&s.attrs, Some(&s.vis), s.static_token.span, s.semi_token.span));
        let ctx =
            Ctx { hot: Some(Hot { kind: HotKind::Once, at }), ..Ctx::new(Kind::Sync, "static initializer") };
        self.m.ctx.push(ctx);
        self.visit_expr(&s.expr);
        self.m.ctx.pop();
    }

    fn visit_block(&mut self, b: &'ast Block) {
        self.visit_stmts(&b.stmts);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if self.m.compiled_out(&l.attrs) {
            return;
        }
        let mut ty = Ty::Unknown;
        if let Some(init) = &l.init {
            if matches!(l.pat, Pat::Wild(_)) {
                self.m.discarded.insert(addr(strip_parens(&init.expr)));
            }
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
                // (In a macro's arguments, `matches!(fetch(u).await, Ok(_))`, still a wait of
                // the fn's.)
                if self.in_macro == 0 {
                    self.hooks.await_expr(self.m, a);
                } else {
                    self.hooks.macro_awaits(self.m, &a.base);
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
            Expr::Closure(c) => self.visit_closure_as(c, ClosureMode::Inherit, false),
            Expr::Async(a) => self.visit_async_block(&a.block, false),
            Expr::Match(m) => {
                if m.arms.iter().any(|a| is_result_pattern(&a.pat)) {
                    self.mark_result(&m.expr);
                }
                self.visit_expr(&m.expr);
                let ty = self.m.res.infer(&m.expr);
                let knowledge = self.m.res.knowledge;
                let lookup = memo::match_lookup(&m.expr, knowledge);
                let probe = probes_runtime(&m.expr);
                for (n, arm) in m.arms.iter().enumerate() {
                    self.m.res.push_vars();
                    self.m.res.bind_pattern(&arm.pat, ty.clone());
                    if let Some((_, guard)) = &arm.guard {
                        self.visit_expr(guard);
                    }
                    // `None => { let v = load(k)?; cache.insert(k, v.clone()); v }`
                    let miss =
                        lookup && memo::is_miss_arm(&arm.pat) && memo::stores_expr(&arm.body, knowledge);
                    let outside = probe && matches_err(&arm.pat) == Some(true);
                    self.in_branch(m.arms.len() > 1, (addr(e), n), |w| {
                        w.outside_runtime(outside, |w| {
                            w.region(
                                miss.then(|| Hot { kind: HotKind::CacheMiss, at: w.m.span(m.expr.span()) }),
                                |w| w.visit_expr(&arm.body),
                            )
                        })
                    });
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
                // `if let Ok(h) = Handle::try_current() { .. } else { no runtime here }`.
                let (then_outside, else_outside) = match no_runtime_branch(&i.cond) {
                    Some(then) => (then, !then),
                    None => (false, false),
                };
                self.m.res.push_vars();
                self.visit_expr(&i.cond);
                self.m.conditions.push(&i.cond);
                let once = once_flag(&i.cond).map(|at| Hot { kind: HotKind::Once, at: self.m.span(at) });
                let test = param_test(&i.cond);
                self.in_guarded_branch(true, test.clone(), (addr(e), 0), |w| {
                    w.outside_runtime(then_outside, |w| w.region(once, |w| w.visit_block(&i.then_branch)))
                });
                self.m.conditions.pop();
                self.m.res.pop_vars();
                if let Some((_, els)) = &i.else_branch {
                    // `if let Some(v) = cache.get(k) { v } else { load and store }`
                    let knowledge = self.m.res.knowledge;
                    let miss = memo::lookup(&i.cond, knowledge).filter(|_| memo::stores_expr(els, knowledge));
                    let otherwise = test.map(|(name, lit)| (name, lit.negate()));
                    self.in_guarded_branch(true, otherwise, (addr(e), 1), |w| {
                        w.outside_runtime(else_outside, |w| {
                            w.region(
                                miss.map(|l| Hot { kind: HotKind::CacheMiss, at: w.m.span(l.span()) }),
                                |w| w.visit_expr(els),
                            )
                        })
                    });
                }
            }
            Expr::While(_) | Expr::ForLoop(_) | Expr::Loop(_) => self.visit_loop(e),
            Expr::Struct(st) => {
                if self.m.kind().is_some() {
                    self.hooks.struct_expr(self.m, st);
                }
                visit::visit_expr(self, e)
            }
            _ => visit::visit_expr(self, e),
        }
    }
}

/// Does the statement await (outside closures, async blocks and items, which run elsewhere)?
fn awaits(s: &Stmt) -> bool {
    struct Finder(bool);
    impl<'a> Visit<'a> for Finder {
        fn visit_expr_await(&mut self, _: &'a ExprAwait) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'a ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut f = Finder(false);
    f.visit_stmt(s);
    f.0
}

/// Iterator methods that walk the iterator they are called on.
const ITER_CONSUMERS: &[&str] = &[
    "collect",
    "count",
    "sum",
    "product",
    "fold",
    "try_fold",
    "for_each",
    "try_for_each",
    "find",
    "find_map",
    "any",
    "all",
    "last",
    "nth",
    "next",
    "max",
    "min",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "position",
    "reduce",
    "partition",
    "unzip",
];

/// Lazy iterator adaptors: they walk nothing until consumed.
const ITER_ADAPTORS: &[&str] = &[
    "map",
    "filter",
    "filter_map",
    "flat_map",
    "flatten",
    "peekable",
    "skip",
    "take",
    "skip_while",
    "take_while",
    "enumerate",
    "rev",
    "chain",
    "zip",
    "inspect",
    "fuse",
    "by_ref",
    "cloned",
    "copied",
    "step_by",
    "map_while",
    "scan",
];

/// Is `func` a constructor that keeps its argument: `Some`, or a pointer's `new` (`Box::new`,
/// `Arc::new`, `Rc::new`)? (Not any tuple struct: `AssertUnwindSafe(|| ..)` is run in place.)
fn stores_value(func: &Expr) -> bool {
    let Expr::Path(p) = func else { return false };
    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [only] => only == "Some",
        [.., ty, new] => new == "new" && matches!(ty.as_str(), "Box" | "Arc" | "Rc"),
        _ => false,
    }
}

/// Does `e` ask whether a runtime is running (`Handle::try_current()`)?
fn probes_runtime(e: &Expr) -> bool {
    let Expr::Call(c) = strip_parens(e) else { return false };
    let Expr::Path(p) = &*c.func else { return false };
    p.path.segments.last().is_some_and(|s| s.ident == "try_current")
}

/// Whether a pattern matches `Err` (`Some(true)`) or `Ok` (`Some(false)`) of a `Result`.
fn matches_err(p: &Pat) -> Option<bool> {
    let path = match p {
        Pat::TupleStruct(t) => &t.path,
        Pat::Path(p) => &p.path,
        _ => return None,
    };
    let last = &path.segments.last()?.ident;
    (last == "Err" || last == "Ok").then(|| last == "Err")
}

/// An `if` condition that lets its branch run once per process, the first time (`if
/// !INIT_DONE.swap(true, SeqCst)`, `if STARTED.compare_exchange(false, true, ..).is_ok()` on a
/// `static`): the call that sets the flag. (A flag in a field, `self.closed.swap(true, ..)`,
/// runs its branch once per value: per connection, per request.)
fn once_flag(cond: &Expr) -> Option<PmSpan> {
    let is_lit = |e: &Expr, v: bool| matches!(strip_parens(e), Expr::Lit(l) if matches!(&l.lit, syn::Lit::Bool(b) if b.value == v));
    let is_static = |e: &Expr| {
        matches!(strip_parens(e), Expr::Path(p) if p.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase())
        }))
    };
    match strip_parens(cond) {
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => match strip_parens(&u.expr) {
            Expr::MethodCall(m)
                if m.method == "swap"
                    && is_static(&m.receiver)
                    && m.args.first().is_some_and(|a| is_lit(a, true)) =>
            {
                Some(m.method.span())
            }
            _ => None,
        },
        Expr::MethodCall(ok) if ok.method == "is_ok" => match strip_parens(&ok.receiver) {
            Expr::MethodCall(m)
                if (m.method == "compare_exchange" || m.method == "compare_exchange_weak")
                    && is_static(&m.receiver)
                    && m.args.len() >= 2
                    && is_lit(&m.args[0], false)
                    && is_lit(&m.args[1], true) =>
            {
                Some(m.method.span())
            }
            _ => None,
        },
        _ => None,
    }
}

/// An `if` condition that tests a bare name for a value (`overwrite`, `!overwrite`, `let
/// Some(s) = spinner`, `spinner.is_some()`): the name and the value its `then` branch needs.
/// (Whether the name is a parameter is the walk's business.)
fn param_test(cond: &Expr) -> Option<(String, super::context::Lit)> {
    use super::context::Lit;
    let name = |e: &Expr| ident_of(strip_refs(e));
    match cond {
        Expr::Paren(p) => param_test(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            param_test(&u.expr).map(|(n, lit)| (n, lit.negate()))
        }
        Expr::MethodCall(m) if m.args.is_empty() => {
            let lit = match m.method.to_string().as_str() {
                "is_some" => Lit::Some,
                "is_none" => Lit::None,
                _ => return None,
            };
            Some((name(&m.receiver)?, lit))
        }
        Expr::Let(l) => {
            let lit = match &*l.pat {
                Pat::TupleStruct(ts) if ts.path.is_ident("Some") => Lit::Some,
                Pat::Ident(pi) if pi.ident == "None" => Lit::None,
                Pat::Path(pp) if pp.path.is_ident("None") => Lit::None,
                _ => return None,
            };
            Some((name(&l.expr)?, lit))
        }
        e => Some((name(e)?, Lit::True)),
    }
}

/// For an `if` condition that probes for a runtime, whether its `then` branch is the one that
/// runs without one (`if let Err(_) = Handle::try_current()`, `if Handle::try_current().is_err()`)
/// or its `else` branch is (`if let Ok(h) = Handle::try_current()`).
fn no_runtime_branch(cond: &Expr) -> Option<bool> {
    match strip_parens(cond) {
        Expr::Let(l) if probes_runtime(&l.expr) => matches_err(&l.pat),
        Expr::MethodCall(m) if probes_runtime(&m.receiver) => match m.method.to_string().as_str() {
            "is_err" => Some(true),
            "is_ok" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Collects names passed directly as arguments to offload calls (`spawn_blocking(work)`) or
/// to functions of the crates (`maybe_spawn_blocking(work)`), with how a closure bound to
/// them runs. A look inside one block's statements, before the walk enters them.
struct OffloadArgs<'m, 'a, 'ast> {
    m: &'m Model<'a, 'ast>,
    names: HashMap<String, ClosureMode>,
}

impl OffloadArgs<'_, '_, '_> {
    fn add<'e>(&mut self, args: impl Iterator<Item = &'e Expr>, mode: &ClosureMode) {
        for name in args.filter_map(ident_of) {
            self.names.entry(name).or_insert_with(|| mode.clone());
        }
    }
}

impl<'v> Visit<'v> for OffloadArgs<'_, '_, '_> {
    fn visit_expr_call(&mut self, c: &'v syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let path = self.m.res.resolve_path(&p.path);
            let real = path.last_segment();
            let knowledge = self.m.res.knowledge;
            if knowledge.is_offload(&name, Some(&path), false)
                || knowledge.is_offload(real, Some(&path), false)
            {
                self.add(c.args.iter(), &ClosureMode::Offload);
            } else if let Some(key) = self.m.key(&path) {
                self.add(c.args.iter(), &ClosureMode::Defer(key.into()));
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'v syn::ExprMethodCall) {
        if self.m.res.knowledge.is_offload(&m.method.to_string(), None, true) {
            self.add(m.args.iter(), &ClosureMode::Offload);
        }
        visit::visit_expr_method_call(self, m);
    }
}

/// The name of a plain variable (`f`), not a path or field.
pub(crate) fn ident_of(e: &Expr) -> Option<String> {
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

/// The expression under its `&`, `&mut` and parentheses.
pub(crate) fn strip_refs(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::Reference(r) => e = &r.expr,
            Expr::Paren(p) => e = &p.expr,
            _ => return e,
        }
    }
}

/// The closure an argument hands over: written in place, or the value of a block
/// (`spawn({ let s = s.clone(); move || run(&s) })`).
fn handed_closure(e: &Expr) -> Option<&ExprClosure> {
    match e {
        Expr::Closure(c) => Some(c),
        Expr::Block(b) => match b.block.stmts.last() {
            Some(Stmt::Expr(Expr::Closure(c), None)) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// An async block, an async closure, or a closure returning one: what a handler is.
fn is_async_arg(e: &Expr) -> bool {
    match strip_refs(e) {
        Expr::Async(_) => true,
        Expr::Closure(c) => {
            c.asyncness.is_some()
                || match &*c.body {
                    Expr::Async(_) => true,
                    Expr::Block(b) => matches!(b.block.stmts.last(), Some(Stmt::Expr(Expr::Async(_), None))),
                    _ => false,
                }
        }
        _ => false,
    }
}

/// The `loop`/`while` keyword and condition, where a loop's region is said to start.
fn loop_header(e: &Expr) -> PmSpan {
    match e {
        Expr::While(w) => w.while_token.span.join(w.cond.span()).unwrap_or(w.while_token.span),
        Expr::Loop(l) => l.loop_token.span,
        Expr::ForLoop(f) => f.for_token.span,
        _ => e.span(),
    }
}

/// The call binding a server's listener in `e` (`TcpListener::bind(addr).await?`), looking
/// through `?`, `.await` and calls on its result (`.map_err(..)`).
fn listener_bind<'a>(e: &'a Expr, knowledge: &super::Knowledge) -> Option<&'a Expr> {
    match e {
        Expr::Try(t) => listener_bind(&t.expr, knowledge),
        Expr::Await(a) => listener_bind(&a.base, knowledge),
        Expr::MethodCall(m) => listener_bind(&m.receiver, knowledge),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => {
                let n = p.path.segments.len();
                let seg = |i: usize| p.path.segments[i].ident.to_string();
                (n >= 2 && knowledge.binds_listener(&seg(n - 2), &seg(n - 1))).then_some(e)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The attributes of an expression written as a statement (those that take any).
fn expr_attrs(e: &Expr) -> &[syn::Attribute] {
    match e {
        Expr::Block(b) => &b.attrs,
        Expr::Unsafe(b) => &b.attrs,
        Expr::Call(c) => &c.attrs,
        Expr::MethodCall(m) => &m.attrs,
        Expr::Macro(m) => &m.attrs,
        Expr::If(i) => &i.attrs,
        Expr::Match(m) => &m.attrs,
        Expr::Assign(a) => &a.attrs,
        Expr::Return(r) => &r.attrs,
        Expr::ForLoop(f) => &f.attrs,
        Expr::While(w) => &w.attrs,
        Expr::Loop(l) => &l.attrs,
        Expr::Try(t) => &t.attrs,
        Expr::Await(a) => &a.attrs,
        _ => &[],
    }
}

/// Does statement `s` await the value named `name` (`handle.await`)?
fn awaits_name(s: &Stmt, name: &str) -> bool {
    struct Awaits<'n>(&'n str, bool);
    impl<'a> Visit<'a> for Awaits<'_> {
        fn visit_expr_await(&mut self, a: &'a ExprAwait) {
            self.1 |= matches!(strip_parens(&a.base), Expr::Path(p) if p.path.is_ident(self.0));
            visit::visit_expr_await(self, a);
        }
    }
    let mut awaits = Awaits(name, false);
    awaits.visit_stmt(s);
    awaits.1
}

/// Is `e` a `loop`/`while` that waits for messages, connections or ticks?
fn is_event_loop(e: &Expr, knowledge: &super::Knowledge) -> bool {
    event_loop(e, knowledge).is_some()
}

/// `Some` for a loop that waits for events, with whether it serves: waits for something
/// besides the results of the tasks it spawned (`join_next`).
fn event_loop(e: &Expr, knowledge: &super::Knowledge) -> Option<bool> {
    if !matches!(e, Expr::Loop(_) | Expr::While(_)) {
        return None;
    }
    let (waits, serves) = waits_for_events(e, knowledge);
    waits.then_some(serves)
}

/// Does the code wait for events (a message, a connection, a tick, a `select!` over several),
/// and for some other than its own tasks' results? A look inside the code only: closures and
/// async blocks are not its own.
fn waits_for_events(e: &Expr, knowledge: &super::Knowledge) -> (bool, bool) {
    struct Events<'k>(&'k super::Knowledge, bool, bool);
    impl<'a> Visit<'a> for Events<'_> {
        fn visit_expr_await(&mut self, a: &'a ExprAwait) {
            // `timeout(d, rx.next()).await` waits for what it wraps.
            let mut base = &*a.base;
            while let Expr::Call(c) = base {
                let last = match &*c.func {
                    Expr::Path(p) => p.path.segments.last(),
                    _ => None,
                };
                let timer = last.is_some_and(|s| self.0.is_event_wrapper(&s.ident.to_string()));
                match c.args.last() {
                    Some(inner) if timer => base = inner,
                    _ => break,
                }
            }
            let name = match base {
                Expr::MethodCall(m) => Some(m.method.to_string()),
                Expr::Call(c) => match &*c.func {
                    Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(n) = name.filter(|n| self.0.is_event_wait(n)) {
                self.1 = true;
                self.2 |= !self.0.is_event_drain(&n);
            }
            visit::visit_expr_await(self, a);
        }
        fn visit_macro(&mut self, m: &'a Macro) {
            if m.path.segments.last().is_some_and(|s| self.0.is_event_macro(&s.ident.to_string())) {
                (self.1, self.2) = (true, true);
            }
        }
        fn visit_expr_closure(&mut self, _: &'a ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut events = Events(knowledge, false, false);
    events.visit_expr(e);
    (events.1, events.2)
}

/// Does the body handle `io::ErrorKind::WouldBlock`? Then the I/O it does is on a
/// non-blocking handle (`poll_read` of an async wrapper over a socket set non-blocking).
fn mentions_would_block(body: &Block) -> bool {
    struct Finder(bool);
    impl<'a> Visit<'a> for Finder {
        fn visit_path(&mut self, p: &'a syn::Path) {
            self.0 |= p.segments.last().is_some_and(|s| s.ident == "WouldBlock");
        }
    }
    let mut f = Finder(false);
    f.visit_block(body);
    f.0
}
