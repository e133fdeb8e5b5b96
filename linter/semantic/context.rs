//! Where code runs, and which code is test code: the parts of the model the walk keeps per
//! position (context, function, async body) and the attribute policies.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use syn::visit::Visit;
use syn::{Attribute, Block, Expr, Signature};

use super::Ty;
use crate::source::Span;

/// Why code runs while other tasks share the executor ("hot"), and where that starts: the
/// spawn call, the handler registration, the loop, the fn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Hot {
    pub kind: HotKind,
    pub at: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum HotKind {
    /// The body or future of a spawned task.
    Spawned,
    /// A spawned task whose handle is dropped, spawned outside an event loop: work nobody
    /// waits for (notifications, repairs). Hot; serial findings in it are not reported.
    Detached,
    /// An async closure or block registered as a request handler.
    Handler,
    /// The body of a loop that waits for messages, connections or ticks.
    EventLoop,
    /// A `loop` or `while` after a spawn in the same block (`spawn(server); loop { read_line() }`):
    /// it runs, again and again, while the spawned task does, on the same executor. (Straight
    /// code after a spawn runs once: it keeps the fn's exposure; see `Ctx::beside`.)
    Alongside,
    /// A future joined with others (`join!(serve(db), flush_loop(db))`): they share one task,
    /// so blocking in one stalls the others, even in `main`.
    Joined,
    /// A `poll_*` fn: the executor calls it.
    Polled,
    /// A sync `Service::call`: the server calls it on the executor for each request.
    ServiceCall,
    /// A fn passed by name as a callback (`get(handler)`, `service_fn(serve)`).
    Callback,
    /// A fn with a route attribute (`#[get("/")]`).
    HandlerAttribute,
    /// A cell's initialiser: runs once per process (not hot: startup-like).
    Once,
    /// Called from a closure run off the executor (`std::thread::spawn`, `spawn_blocking`),
    /// typically through a `block_on` there: on a thread of its own (not hot).
    Thread,
    /// A block that binds a server's listener (`TcpListener::bind`), outside any handler or
    /// event loop: it prepares the server, once per start (not hot).
    Setup,
    /// The branch of a cache lookup that computes a missing value and stores it (see
    /// `memo`): runs once per key (not hot).
    CacheMiss,
    /// A `move` closure a sync fn hands to a method of another crate that is not known to call
    /// it in place (`b.method("OpenUri", .., move |..| ..)`, `on_event(move |e| ..)`): kept and
    /// called later, by whoever calls it. Its calls are not the sync fn's (not hot).
    Registered,
}

impl HotKind {
    /// Regions that make a program a server or a daemon: it answers requests, events or
    /// polls, binds a listener, or runs tasks or joined futures beside its main path (a worker
    /// polling in a loop). Work it spawns into a set and collects (`JoinSet`) does not: see
    /// the walk.
    pub(crate) fn serves(self) -> bool {
        matches!(
            self,
            HotKind::Handler
                | HotKind::Spawned
                | HotKind::Detached
                | HotKind::Joined
                | HotKind::EventLoop
                | HotKind::Polled
                | HotKind::ServiceCall
                | HotKind::Callback
                | HotKind::HandlerAttribute
                | HotKind::Setup
        )
    }

    /// Regions whose code does not share the executor with other tasks, or runs once.
    pub(crate) fn is_cold(self) -> bool {
        matches!(
            self,
            HotKind::Once | HotKind::Thread | HotKind::Setup | HotKind::CacheMiss | HotKind::Registered
        )
    }
}

/// Where the code being walked runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// On an executor thread: blocking here stalls other tasks.
    Async,
    /// Ordinary sync code: blocking is fine, but recorded for the call graph.
    Sync,
    /// Handed to `spawn_blocking`, a thread, rayon: off the executor.
    Offload,
}

#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub kind: Kind,
    /// "async fn `load`", for messages.
    pub what: Rc<str>,
    /// Inside a closure handed to these functions of the crate (innermost last, each call made
    /// in the closure handed to the one before): findings wait until the call graph says
    /// whether any of them runs its argument off the executor.
    pub defer: Vec<Rc<str>>,
    /// In a sync closure inside the async body: `.await` cannot be added here.
    pub closure: bool,
    /// Runs while other tasks share the executor, and why (spawned, a handler, an event loop).
    pub hot: Option<Hot>,
    /// Test code (walked for what is reported there too, like `block_on` in async tests).
    pub test: bool,
    /// In a closure a sync fn keeps as a value (`Some(|| ..)`, `Box::new(move || ..)`): its
    /// calls run when the value is called, not as part of the fn.
    pub stored: bool,
    /// After a spawn in this block, while the task runs: a loop here is hot (`Alongside`).
    pub beside: Option<Hot>,
}

impl Ctx {
    pub fn new(kind: Kind, what: impl Into<Rc<str>>) -> Ctx {
        Ctx {
            kind,
            what: what.into(),
            defer: Vec::new(),
            closure: false,
            hot: None,
            test: false,
            stored: false,
            beside: None,
        }
    }

    /// A context for code nested in this one (a block, a closure): where it runs may differ,
    /// but it stays in the same region and the same test code.
    pub fn nested(&self, kind: Kind, what: impl Into<Rc<str>>) -> Ctx {
        Ctx { hot: self.hot, test: self.test, beside: self.beside, ..Ctx::new(kind, what) }.out_of_setup()
    }

    /// A closure or async block in a server's setup is handed to the server (a handler, a
    /// connection task) more often than run there: it leaves the setup region.
    pub fn out_of_setup(mut self) -> Ctx {
        self.hot = self.hot.filter(|h| h.kind != HotKind::Setup);
        self
    }
}

/// How a closure argument is treated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ClosureMode {
    Inherit,
    Offload,
    /// Handed to a function of the checked crates, which may or may not offload it.
    Defer(Rc<str>),
    /// Kept as a value by a sync fn (see `Ctx::stored`).
    Stored,
}

/// The function being walked.
#[derive(Debug)]
pub(crate) struct FnFrame {
    pub name: String,
    /// Its call-graph key, when it belongs to the checked crates.
    pub key: Option<String>,
    pub ident_span: Span,
    pub is_async: bool,
    /// A sync fn returning a future (`-> BoxFuture<..>`, `-> impl Future`).
    pub returns_future: bool,
    /// The name of the `impl` type it belongs to (`Client` for `impl Client`).
    pub owner: Option<String>,
    /// Names of its parameters by position, not `self` (a pattern is ""): wrappers hand one
    /// to `spawn_blocking`, branches test one (`if overwrite`).
    pub params: Vec<String>,
    /// Those of its parameters that are closures or fns (`f: F` with `F: FnOnce()`, `impl Fn`,
    /// `Box<dyn FnOnce>`): what a wrapper runs.
    pub callable: HashSet<String>,
    /// Closures entered inside it and not yet left.
    pub closures: usize,
    /// A program's entry: `main` at a crate root, or a `#[tokio::main]`-like fn.
    pub entry: bool,
    /// Why the fn itself runs hot, when its kind says so (a `poll_*` fn, a route handler).
    pub root: Option<Hot>,
    /// Test code.
    pub test: bool,
    /// The type it returns (through `Result`/`Option`), as a resolved path.
    pub returns: Option<String>,
    /// A `poll_*` fn handling `WouldBlock`: its I/O is on non-blocking handles.
    pub nonblocking_io: bool,
    /// Its body only returns a constant (`is_stub`).
    pub stub: bool,
    /// For a method other files can call (`Self` resolved): the type it returns, or its
    /// future's output.
    pub output: Ty,
    /// `if`/`else` branches and arms of a `match` (of more than one arm) the walk is in.
    pub branches: usize,
    /// Loops the walk is in that repeat their body over data (all but event loops, which run
    /// it once per event, as a handler runs once per request), and fns handed over by name
    /// (`.map(fs::metadata)`).
    pub repeats: usize,
    /// It takes `self`.
    pub method: bool,
    /// The `#[cfg(..)]`s it is under (its own, its impl's or module's) that the run cannot decide
    /// (a feature it does not know), as written: one of several alternatives, maybe.
    pub cfg: Option<String>,
    /// For each branch the walk is in, the parameter test it runs under, if it is one.
    pub guards: Vec<Option<Guard>>,
}

/// An async body (async fn, async block, async closure) the walk is directly in, with what the
/// walk has seen of it so far: the serial rules ask for it.
#[derive(Debug, Default)]
pub(crate) struct AsyncBody<'ast> {
    /// The body of an `async fn` (not a block or closure inside a fn).
    pub is_fn: bool,
    /// The enclosing fn (for an async block, the fn it is written in).
    pub fn_name: Option<String>,
    /// The name of the enclosing `impl` type: what `Self` and `self` are.
    pub self_type: Option<String>,
    /// Names declared mutable (`let mut x`, `x: &mut T`, `&mut self`, `let r = &mut ..`).
    pub mutable: HashSet<String>,
    /// `let name = init` bindings seen so far, by name (the last one wins).
    pub lets: HashMap<String, &'ast Expr>,
    /// Names a `.sort*()` call was seen on, and no `.truncate(..)` since.
    pub sorted: HashSet<String>,
    /// Parameters whose declared type says they hold futures (`Vec<BoxFuture<..>>`, `futs: I`
    /// with `I::Item: Future`).
    pub futures: HashSet<String>,
    /// What was pushed into each collection seen so far (`pending.push(client.user(id))`).
    pub pushed: HashMap<String, Vec<&'ast Expr>>,
    /// The loops of this body the walk is in, outermost first.
    pub loops: Vec<&'ast Expr>,
}

/// How a call's value is used by its parent expression.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Use {
    /// `.await`ed (or handed to `join!`/`select!`): a future, not a blocking call.
    pub awaited: bool,
    /// Consumed as a `Result` right away (`?`, `.unwrap()`, `match { Ok(..) }`).
    pub as_result: bool,
}

/// Methods that take a `Result` apart: their receiver is used as a result.
pub(crate) const RESULT_METHODS: &[&str] = &[
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

/// `#[test]`, `#[tokio::test]`, `#[rstest]`, `#[cfg(test)]` and the like.
pub(crate) fn is_test_code(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        let last = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if matches!(last.as_str(), "test" | "rstest" | "test_case" | "bench" | "quickcheck") {
            return true;
        }
        if path.is_ident("cfg") {
            if let syn::Meta::List(list) = &a.meta {
                // `cfg(test)`, and features that build test support (`feature = "tests"`,
                // `"test-utils"`, `"testing"`).
                let tokens = list.tokens.to_string();
                return tokens
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| matches!(w, "test" | "tests" | "testing"))
                    && !tokens.contains("not");
            }
        }
        false
    })
}

/// A body that only returns a constant (`true`, `Ok(())`, `None`, `Vec::new()`,
/// `Default::default()`, `todo!()`) or a text or bytes argument handed back (`Ok(text)`,
/// `Ok(text.to_owned())` with `text: &str`, a translator that translates nothing): a null
/// object (a disabled mode, a test double), which a call through its trait runs only when the
/// real work is switched off.
pub(crate) fn is_stub(sig: &syn::Signature, body: &syn::Block) -> bool {
    // Arguments of text and byte types: copying one (`to_owned`, `clone`) runs no code of the
    // crates, unlike `clone` or `to_string` of a type with its own `Clone` or `Display`.
    let texts: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(t) => match (&*t.pat, is_text_type(&t.ty)) {
                (syn::Pat::Ident(i), true) => Some(i.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let is_text = |e: &Expr| matches!(e, Expr::Path(p) if p.path.get_ident().is_some_and(|i| texts.iter().any(|t| i == t)));
    let constant = |e: &Expr| stub_value(e, &is_text);
    fn stub_value(e: &Expr, is_text: &dyn Fn(&Expr) -> bool) -> bool {
        match e {
            // (Any other bare argument, `{ flag }`, may be the answer a policy computes.)
            _ if is_text(e) => true,
            Expr::MethodCall(m) => {
                m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "to_owned" | "to_string" | "to_vec" | "clone")
                    && is_text(&m.receiver)
            }
            Expr::Lit(_) => true,
            Expr::Tuple(t) => t.elems.is_empty(),
            Expr::Path(p) => {
                p.qself.is_none() && p.path.segments.len() == 1 && {
                    let n = p.path.segments[0].ident.to_string();
                    n == "None" || n.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                }
            }
            Expr::Call(c) => {
                let Expr::Path(f) = &*c.func else { return false };
                let last = f.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                match last.as_str() {
                    "Ok" | "Some" | "Err" => {
                        c.args.len() == 1 && c.args.iter().all(|a| stub_value(a, is_text))
                    }
                    "new" | "default" => c.args.is_empty(),
                    _ => false,
                }
            }
            Expr::Macro(m) => m.mac.path.segments.last().is_some_and(|s| {
                matches!(s.ident.to_string().as_str(), "todo" | "unimplemented" | "unreachable" | "vec")
                    && (s.ident != "vec" || m.mac.tokens.is_empty())
            }),
            Expr::Paren(p) => stub_value(&p.expr, is_text),
            _ => false,
        }
    }
    match body.stmts.as_slice() {
        [] => true,
        [syn::Stmt::Expr(e, _)] => constant(e),
        [syn::Stmt::Macro(m)] => m.mac.path.segments.last().is_some_and(|s| {
            matches!(s.ident.to_string().as_str(), "todo" | "unimplemented" | "unreachable")
        }),
        _ => false,
    }
}

/// `&str`, `String`, `Cow<str>`, `&[u8]`, `Vec<u8>`, `&Path`, `PathBuf` (behind `&`, `&mut`).
fn is_text_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => is_text_type(&r.elem),
        syn::Type::Slice(s) => matches!(&*s.elem, syn::Type::Path(p) if p.path.is_ident("u8")),
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            match name.as_str() {
                "str" | "String" | "Path" | "PathBuf" | "OsStr" | "OsString" | "Bytes" => true,
                "Cow" | "Vec" => match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| {
                        matches!(g, syn::GenericArgument::Type(syn::Type::Path(t))
                            if t.path.is_ident("str") || t.path.is_ident("u8"))
                    }),
                    _ => false,
                },
                _ => false,
            }
        }),
        _ => false,
    }
}

/// A `poll_*` method taking a `&mut Context`: it runs on the executor like async code.
pub(crate) fn is_poll_fn(sig: &Signature) -> bool {
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

/// Parameters a signature declares mutable: `&mut self`, `x: &mut T`, `mut x: T`.
pub(crate) fn mutable_params(sig: &Signature) -> HashSet<String> {
    let mut mutable = HashSet::default();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) if r.mutability.is_some() => {
                mutable.insert("self".to_string());
            }
            syn::FnArg::Typed(pt) => {
                let is_mut_ref = matches!(&*pt.ty, syn::Type::Reference(r) if r.mutability.is_some());
                if is_mut_ref || matches!(&*pt.pat, syn::Pat::Ident(p) if p.mutability.is_some()) {
                    bound_names(&pt.pat, &mut mutable);
                }
            }
            syn::FnArg::Receiver(_) => {}
        }
    }
    mutable
}

/// Is this bound an `Fn`, `FnMut` or `FnOnce` trait?
fn is_fn_bound(b: &syn::TypeParamBound) -> bool {
    matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| {
        matches!(s.ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce")
    }))
}

/// The arguments of an `Fn*(..)` bound (`(&Connection)` of `FnOnce(&Connection) -> T`).
pub(crate) fn fn_bound_args(b: &syn::TypeParamBound) -> Option<&syn::ParenthesizedGenericArguments> {
    let syn::TypeParamBound::Trait(t) = b else { return None };
    match &t.path.segments.last()?.arguments {
        syn::PathArguments::Parenthesized(args) if is_fn_bound(b) => Some(args),
        _ => None,
    }
}

/// The type parameters of `generics` bounded by an `Fn*(..)` trait, each with that bound:
/// inline bounds first, then the `where` clause's, in the order written.
pub(crate) fn fn_bounded_params(generics: &syn::Generics) -> Vec<(&syn::Ident, &syn::TypeParamBound)> {
    let inline = generics.type_params().flat_map(|p| p.bounds.iter().map(move |b| (&p.ident, b)));
    let clause = generics.where_clause.iter().flat_map(|w| &w.predicates).filter_map(|pred| match pred {
        syn::WherePredicate::Type(t) => match &t.bounded_ty {
            syn::Type::Path(tp) => Some((tp.path.get_ident()?, &t.bounds)),
            _ => None,
        },
        _ => None,
    });
    let clause = clause.flat_map(|(id, bounds)| bounds.iter().map(move |b| (id, b)));
    inline.chain(clause).filter(|(_, b)| is_fn_bound(b)).collect()
}

/// Parameters a signature declares callable: `f: F` where `F: FnOnce(..)` (inline or in the
/// `where` clause), `f: impl Fn(..)`, `f: Box<dyn FnOnce(..)>`, `f: &mut dyn FnMut(..)`.
/// Does a fn only keep its closure parameters (`fn new(f: F) -> Self { Self { f: Box::new(f) } }`):
/// none is called in its body or handed to a call other than a wrapper that stores it?
/// Then a closure handed to it does not run when it is called, but later, by whoever calls
/// what it was stored in. (A name used in a macro might be called there: not a keeper.)
pub(crate) fn keeps_callables(callable: &HashSet<String>, body: &Block) -> bool {
    /// Calls that wrap a value to store it, not run it. (Wider than the walk's `stores_value`,
    /// which asks of a closure written in place: here any type's `new`, since a constructor
    /// keeping a closure commonly hands it to its own type's or a wrapper's `new`.)
    const STORES: &[&str] = &["new", "Some", "Ok", "from", "pin"];
    struct Uses<'c> {
        callable: &'c HashSet<String>,
        runs: bool,
    }
    impl Uses<'_> {
        fn is_param(&self, e: &Expr) -> bool {
            matches!(e, Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.callable.contains(&i.to_string())))
        }
    }
    impl<'a> Visit<'a> for Uses<'_> {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            let stores = matches!(&*c.func, Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| STORES.contains(&s.ident.to_string().as_str())));
            if self.is_param(&c.func) || (!stores && c.args.iter().any(|a| self.is_param(a))) {
                self.runs = true;
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if self.is_param(&m.receiver) || m.args.iter().any(|a| self.is_param(a)) {
                self.runs = true;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            let tokens = m.tokens.to_string();
            if self
                .callable
                .iter()
                .any(|c| tokens.split(|ch: char| !ch.is_alphanumeric() && ch != '_').any(|t| t == c))
            {
                self.runs = true;
            }
        }
    }
    if callable.is_empty() {
        return false;
    }
    let mut uses = Uses { callable, runs: false };
    uses.visit_block(body);
    !uses.runs
}

pub(crate) fn callable_params(sig: &Signature) -> HashSet<String> {
    let generic: HashSet<String> =
        fn_bounded_params(&sig.generics).into_iter().map(|(id, _)| id.to_string()).collect();
    fn callable(ty: &syn::Type, generic: &HashSet<String>) -> bool {
        match ty {
            syn::Type::ImplTrait(i) => i.bounds.iter().any(is_fn_bound),
            syn::Type::TraitObject(o) => o.bounds.iter().any(is_fn_bound),
            syn::Type::Reference(r) => callable(&r.elem, generic),
            syn::Type::Paren(p) => callable(&p.elem, generic),
            syn::Type::Path(tp) => {
                if let Some(id) = tp.path.get_ident() {
                    return generic.contains(&id.to_string());
                }
                // `Box<dyn FnOnce() + Send>`, `Arc<dyn Fn(..)>`.
                match tp.path.segments.last().map(|s| &s.arguments) {
                    Some(syn::PathArguments::AngleBracketed(a)) => a
                        .args
                        .iter()
                        .any(|arg| matches!(arg, syn::GenericArgument::Type(t) if callable(t, generic))),
                    _ => false,
                }
            }
            _ => false,
        }
    }
    let mut out = HashSet::default();
    for input in &sig.inputs {
        if let syn::FnArg::Typed(pt) = input {
            if callable(&pt.ty, &generic) {
                bound_names(&pt.pat, &mut out);
            }
        }
    }
    out
}

/// Parameters whose declared type holds futures: a type naming a `Future` (`Vec<BoxFuture<..>>`,
/// `impl IntoIterator<Item = impl Future>`), or a type parameter bounded by one, directly or
/// through its `Item` (`I: IntoIterator, I::Item: Future`; `I: IntoIterator<Item = F>, F: Future`).
pub(crate) fn future_params(sig: &Signature) -> HashSet<String> {
    fn names_in(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
                proc_macro2::TokenTree::Group(g) => names_in(g.stream(), out),
                _ => {}
            }
        }
    }
    let words = |t: &dyn quote::ToTokens| {
        let mut out = Vec::new();
        names_in(t.to_token_stream(), &mut out);
        out
    };
    // Each type parameter with the words of its bounds (and of bounds on `P::Item`).
    let mut bounds: HashMap<String, Vec<String>> = HashMap::default();
    for p in sig.generics.type_params() {
        bounds.entry(p.ident.to_string()).or_default().extend(words(&p.bounds));
    }
    if let Some(w) = &sig.generics.where_clause {
        for pred in &w.predicates {
            if let syn::WherePredicate::Type(t) = pred {
                let bounded = words(&t.bounded_ty);
                if let Some(first) = bounded.first() {
                    if let Some(b) = bounds.get_mut(first) {
                        b.extend(words(&t.bounds));
                    }
                }
            }
        }
    }
    let is_future = |w: &String| w.contains("Future");
    let mut futureish: HashSet<String> = HashSet::default();
    // A fixed point: `I: IntoIterator<Item = F>` is futureish once `F` is.
    loop {
        let before = futureish.len();
        for (name, words) in &bounds {
            if words.iter().any(|w| is_future(w) || futureish.contains(w)) {
                futureish.insert(name.clone());
            }
        }
        if futureish.len() == before {
            break;
        }
    }
    let mut out = HashSet::default();
    for input in &sig.inputs {
        if let syn::FnArg::Typed(pt) = input {
            if words(&pt.ty).iter().any(|w| is_future(w) || futureish.contains(w)) {
                bound_names(&pt.pat, &mut out);
            }
        }
    }
    out
}

/// Names a pattern binds.
pub(crate) fn bound_names(pat: &syn::Pat, out: &mut HashSet<String>) {
    use syn::visit::Visit;
    struct Names<'o>(&'o mut HashSet<String>);
    impl<'a> Visit<'a> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

/// The names an attribute allows for stall, as written:
/// `#[cfg_attr(stall, allow(stall::blocking_fs, all))]` -> `["stall::blocking_fs", "all"]`.
pub(crate) fn stall_allows(attr: &Attribute) -> Vec<String> {
    if !attr.path().is_ident("cfg_attr") {
        return Vec::new();
    }
    let mut names = Vec::new();
    let tokens = match &attr.meta {
        syn::Meta::List(l) => l.tokens.to_string(),
        _ => return names,
    };
    let compact: String = tokens.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(rest) = compact.strip_prefix("stall,allow(") else { return names };
    names.extend(rest.trim_end_matches(')').split(',').filter(|p| !p.is_empty()).map(str::to_string));
    names
}

/// The name of the fn or method a call calls: `fetch` for `fetch(x)`, `send` for
/// `client.get(x).send()` (the serial rules' awaited calls, the walker's spawn helpers).
pub(crate) fn call_name(e: &Expr) -> Option<String> {
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

/// `e` without a trailing `?`.
pub(crate) fn strip_try(e: &Expr) -> &Expr {
    match e {
        Expr::Try(t) => strip_try(&t.expr),
        _ => e,
    }
}

/// `a` for `a`, `a.b.c`, `a[i]`, `*a`, `(a)`, `&a`, `a.m()`, `a?`: the variable an
/// expression starts from.
pub(crate) fn root_ident(e: &Expr) -> Option<String> {
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

/// A literal value a call passes, or a parameter test a branch runs under (`if overwrite`,
/// `if let Some(s) = spinner`): a call passing `true` never runs the `else` branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Lit {
    True,
    False,
    Some,
    None,
}

impl Lit {
    /// The value the other branch of a test for this one runs under.
    pub(crate) fn negate(self) -> Lit {
        match self {
            Lit::True => Lit::False,
            Lit::False => Lit::True,
            Lit::Some => Lit::None,
            Lit::None => Lit::Some,
        }
    }
}

/// The parameter test a site runs under: (parameter position, not counting `self`; the value
/// the branch needs).
pub(crate) type Guard = (u8, Lit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stub_only_returns_a_constant() {
        let stub = |src: &str| {
            let f: syn::ItemFn = syn::parse_str(&format!(
                "fn f(&self, text: &str, owned: String, report: &Report, flag: bool) -> T {src}"
            ))
            .unwrap();
            is_stub(&f.sig, &f.block)
        };
        for yes in [
            "{}",
            "{ true }",
            "{ Ok(()) }",
            "{ None }",
            "{ Vec::new() }",
            "{ Default::default() }",
            "{ todo!() }",
            "{ unimplemented!(); }",
            "{ Ok(MAX_SIZE) }",
            "{ vec![] }",
            "{ Ok(text.to_owned()) }",
            "{ owned.clone() }",
            "{ Ok(owned) }",
        ] {
            assert!(stub(yes), "{yes}");
        }
        for no in [
            "{ self.allowed }",
            "{ read(p) }",
            "{ Ok(load()?) }",
            "{ let x = 1; x }",
            "{ vec![1] }",
            "{ Client::new(url) }",
            "{ flag }",
            "{ Ok(self.name.to_owned()) }",
            "{ self.clone() }",
            "{ Ok(text.to_uppercase()) }",
            // (A type of the crates may clone or format itself with work: `impl Clone`, `Display`.)
            "{ report.clone() }",
            "{ report.to_string() }",
            "{ SETTINGS.clone() }",
            // (`into` runs the crate's `From`, which may do work.)
            "{ text.into() }",
        ] {
            assert!(!stub(no), "{no}");
        }
    }

    #[test]
    fn a_fn_keeps_its_closure_unless_it_calls_or_hands_it_on() {
        let keeps = |src: &str| {
            let f: syn::ItemFn = syn::parse_str(src).unwrap();
            keeps_callables(&callable_params(&f.sig), &f.block)
        };
        assert!(keeps("fn new(f: impl Fn()) -> P { P { f: Box::new(f) } }"));
        assert!(keeps("fn new<F: Fn() + 'static>(f: F) -> P { P { f: Arc::new(f), n: 0 } }"));
        assert!(keeps("fn new<F: Fn()>(f: F) -> P<F> { P { f } }"));
        assert!(!keeps("fn timed<T>(f: impl FnOnce() -> T) -> T { let t = now(); let v = f(); v }"));
        assert!(!keeps("fn run(f: impl FnOnce()) { std::thread::spawn(f); }"));
        assert!(!keeps("fn run(f: impl FnOnce() + Send) { pool.execute(f) }"));
        assert!(!keeps("fn run(f: impl Fn()) { log!(\"{}\", f()) }"));
        assert!(!keeps("fn plain(n: usize) -> usize { n }"));
    }

    #[test]
    fn callable_params_by_bound_impl_and_trait_object() {
        let sig: Signature = syn::parse_str(
            "fn w<F: FnOnce() -> u8, G, H>(a: F, b: G, c: impl FnMut(u8), d: Box<dyn Fn() + Send>, \
             e: &mut dyn FnMut(), n: usize, h: H) where G: Fn(u8) + Send",
        )
        .unwrap();
        let got = callable_params(&sig);
        let want: HashSet<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want);
    }
}
