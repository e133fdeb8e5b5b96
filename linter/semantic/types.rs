//! A small, forgiving type model: enough to know that `rx` came from
//! `std::sync::mpsc::channel()` or that `self.conn` is a `rusqlite::Connection`.
//! Anything it cannot tell is `Ty::Unknown`, and unknown never matches the catalog.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Pat, Token};

use super::knowledge::Unwrap;
use super::resolve::Resolver;
use crate::qualified::Qualified;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Ty {
    #[default]
    Unknown,
    /// A canonical type path with its type arguments.
    Named(String, Vec<Ty>),
    Tuple(Vec<Ty>),
    /// A future resolving to the inner type.
    Future(Box<Ty>),
    /// A type parameter of the enclosing impl or fn (`R` in `impl<R: Read> Stream for S<R>`),
    /// by name; the resolver knows its bounds.
    Param(String),
    /// A value of the crates' own types that only another file can type: a field or a
    /// method's return of a type declared elsewhere, named by where it comes from
    /// (`crate::AppState::<db>`, `crate::AppState::<config()>`; see `member`). The file
    /// declaring the type makes such names aliases of the types they stand for, so the join
    /// resolves calls on them (`crate::AppState::<config()>::reload` -> `crate::Config::reload`).
    Member(String),
}

impl Ty {
    pub(crate) fn named(path: &str) -> Ty {
        Ty::Named(path.to_string(), Vec::new())
    }

    /// Parses the catalog's type notation: `a::B`, `(a::B, c::D)`, `a::B<c::D>`.
    pub(crate) fn parse(s: &str) -> Ty {
        Ty::parse_with(s, &[])
    }

    /// `parse`, where `{0}`, `{1}`, .. stand for the type arguments `args` (of the value a
    /// method is called on: `r2d2::Pool<M>::get` returns `r2d2::PooledConnection<{0}>`).
    pub(crate) fn parse_with(s: &str, args: &[Ty]) -> Ty {
        let s = s.trim();
        if let Some(i) =
            s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).and_then(|n| n.parse::<usize>().ok())
        {
            return args.get(i).cloned().unwrap_or_default();
        }
        if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            return Ty::Tuple(split_top(inner).into_iter().map(|p| Ty::parse_with(p, args)).collect());
        }
        match s.split_once('<') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix('>').unwrap_or(rest);
                Ty::Named(
                    name.trim().to_string(),
                    split_top(inner).into_iter().map(|p| Ty::parse_with(p, args)).collect(),
                )
            }
            None => Ty::named(s),
        }
    }

    /// The type in the catalog's notation (`parse` reads it back), if it is all named types.
    pub(crate) fn notation(&self) -> Option<String> {
        let list =
            |tys: &[Ty]| tys.iter().map(Ty::notation).collect::<Option<Vec<_>>>().map(|v| v.join(", "));
        match self {
            Ty::Named(p, args) if args.is_empty() => Some(p.clone()),
            Ty::Named(p, args) => Some(format!("{p}<{}>", list(args)?)),
            Ty::Tuple(elems) => Some(format!("({})", list(elems)?)),
            _ => None,
        }
    }

    /// `notation` with the paths that start with `from::` starting with `to::` instead
    /// (`crate::db::Pool` of package `app` as another package names it: `app::db::Pool`).
    pub(crate) fn requalify(notation: &str, from: &str, to: &str) -> String {
        let prefix = format!("{from}::");
        let mut out = String::with_capacity(notation.len());
        let mut rest = notation;
        let mut at_start = true;
        while !rest.is_empty() {
            if at_start && rest.starts_with(&prefix) {
                out.push_str(to);
                out.push_str("::");
                rest = &rest[prefix.len()..];
            }
            let Some(c) = rest.chars().next() else { break };
            out.push(c);
            rest = &rest[c.len_utf8()..];
            at_start = matches!(c, '<' | '(' | ',' | ' ');
        }
        out
    }

    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Ty::Named(p, _) => Some(p),
            _ => None,
        }
    }

    /// The type's own name (`Client` for `reqwest::Client`), for name-based judgements.
    pub(crate) fn last_segment(&self) -> Option<&str> {
        self.path().map(|p| p.last_segment())
    }

    /// The type of member `member` (a field, or `name()` for what a method returns) of a
    /// value of this type, when only another file can tell it: a `Member` of the crates' own
    /// types (`crate::AppState::<config()>`).
    fn member(&self, member: &str) -> Ty {
        match self {
            Ty::Named(path, _) => Ty::Member(member_path(path, member)),
            // Three steps at most (`state.index.pool().get()`): long builder chains would
            // otherwise name ever longer types, and the join follows a few aliases only.
            Ty::Member(path) if path.matches("::<").count() < MEMBER_STEPS => {
                Ty::Member(member_path(path, member))
            }
            _ => Ty::Unknown,
        }
    }

    /// The value and the member a `Member` type is named by (`crate::AppState`, `config()`).
    pub(crate) fn member_of(&self) -> Option<(&str, &str)> {
        let Ty::Member(path) = self else { return None };
        let (owner, member) = path.rsplit_once("::<")?;
        Some((owner, member.strip_suffix('>')?))
    }

    /// Is it an `Option` or a `Result` (std's, or a crate's `Result<T>` alias) holding a
    /// value, which the model looks through?
    pub(crate) fn holds_one_value(&self) -> bool {
        self.path() == Some("std::option::Option")
            || matches!(self, Ty::Named(_, args) if self.last_segment() == Some("Result") && !args.is_empty())
    }

    pub(crate) fn first_arg(&self) -> Ty {
        match self {
            Ty::Named(_, args) => args.first().cloned().unwrap_or_default(),
            _ => Ty::Unknown,
        }
    }
}

/// `m::*::Arc`: a smart pointer named through a glob import (`use crate::prelude::*`), which
/// the model cannot follow to `std::sync::Arc`; its name says what it is.
pub(crate) fn glob_pointer(path: &str) -> bool {
    path.split_once("::*::").is_some_and(|(_, name)| matches!(name, "Arc" | "Rc" | "Box"))
}

/// `m::*::Mutex`: a lock named through a glob import (a prelude's `pub use std::sync::Mutex`),
/// looked through by its name as the model does a lock's known type.
pub(crate) fn glob_lock(path: &str) -> bool {
    path.contains("::*::") && matches!(path.last_segment(), "Mutex" | "RwLock" | "RefCell")
}

/// The name of member `member` (a field, or `name()` for a method's return) of a value of the
/// type `owner` (see `Ty::Member`).
pub(crate) fn member_path(owner: &str, member: &str) -> String {
    format!("{owner}::<{member}>")
}

/// A member named by its type and itself (`AppState::<feeds>` of `crate::AppState::<feeds>`):
/// how the file using it and the file declaring it both name it, whatever path (a glob
/// import, a re-export) each took to the type.
pub(crate) fn member_tail(member: &str) -> &str {
    match member.rfind_sep().and_then(|last| member[..last].rfind_sep()) {
        Some(i) => &member[i + 2..],
        None => member,
    }
}

/// A member by its type's name and its own, as the join matches members (`member_tail`),
/// hashed.
pub(crate) fn member_hash(member: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(member_tail(member).as_bytes())
}

/// The member naming the items of a collection member (`crate::Config::<zones>::<item>`).
pub(crate) const ITEM: &str = "item";

/// The collection member an iterator member iterates (`crate::Config::<zones>` of
/// `crate::Config::<zones>::<iter()>`, for `config.zones.iter()`).
pub(crate) fn iterated_member(path: &str) -> Option<&str> {
    ["::<iter()>", "::<into_iter()>", "::<iter_mut()>"].iter().find_map(|s| path.strip_suffix(s))
}

/// `iterated_member`, of a member only (`Config::<zones>::<iter()>`: the field's items): a
/// type's own `iter()` (`Pool::<iter()>`) has its items named by its file as that method's
/// (see `rules::item_aliases`), which may not be what `for x in &pool` yields.
pub(crate) fn iterated_field(path: &str) -> Option<&str> {
    iterated_member(path).filter(|p| p.ends_with('>'))
}

/// How many members a `Ty::Member` chains at most.
const MEMBER_STEPS: usize = 3;

/// Methods that hand out a value of the type their turbofish names, from a type map or an
/// `Any` (options and results are looked through), when the receiver's type says nothing:
/// `depot.obtain::<Arc<Store>>()` is an `Arc<Store>`.
const TYPED_GETTERS: &[(&str, &str)] = &[
    ("obtain", "salvo `Depot`: the value a handler or hoop injected"),
    ("app_data", "actix-web `HttpRequest`: the application data registered with the app"),
    ("data", "async-graphql `Context`: the schema's data"),
    ("data_unchecked", "async-graphql `Context`: the schema's data"),
    ("data_opt", "async-graphql `Context`: the schema's data"),
    ("get", "`http::Extensions` and type maps: the value stored for the type"),
    ("state", "tauri `Manager`: the managed state"),
    ("try_state", "tauri `Manager`: the managed state"),
    ("downcast_ref", "`dyn Any`: the value as that type"),
    ("downcast", "`Box<dyn Any>` / `Arc<dyn Any>`: the value as that type"),
];

/// Methods of a lock, which hand out (a guard of) the value it holds.
const LOCKS: &[&str] = &["lock", "read", "write", "try_lock", "blocking_lock", "lock_owned"];

/// Does `value.method()` hand back the value itself (`unwrap`, `clone`, `map_err`)?
pub(crate) fn transparent(method: &str) -> bool {
    TRANSPARENT.contains(&method)
}

/// Does `value.method()` hand out `value` itself, or what it holds (a lock, an unwrap)? The
/// model looks through options, so `Option::take`, which hands out the same `Option`, does too
/// (see `OPTION_ONLY`).
pub(crate) fn hands_through(method: &str) -> bool {
    LOCKS.contains(&method) || TRANSPARENT.contains(&method) || method == "take"
}

/// Methods of `Option` itself (`state.child.take()`, `self.conn.is_some()`): on a member
/// another file types, whose declared `Option` the model looks through, they are no call of
/// the held type's method of that name. (`take` hands out the same `Option`.)
pub(crate) const OPTION_ONLY: &[&str] = &[
    "take",
    "replace",
    "insert",
    "get_or_insert",
    "get_or_insert_with",
    "is_some",
    "is_none",
    "is_some_and",
    "is_none_or",
];

/// Methods that hand back the value they are called on, or the `Ok`/`Some` inside it
/// (results are looked through by the model).
const TRANSPARENT: &[&str] = &[
    "unwrap",
    "expect",
    "ok",
    "clone",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "to_owned",
    "by_ref",
    "context",
    "with_context",
    "map_err",
    "unwrap_or_else",
    // An `Option` made a `Result` (`map.get(k).ok_or_else(..)?`), or of a copy of what it holds.
    "ok_or",
    "ok_or_else",
    "cloned",
    "copied",
    "wrap_err",
    "into",
    // pin-project's projections keep the fields' names; `Pin::get_mut` hands out the value.
    "project",
    "project_ref",
    "get_mut",
];

impl Resolver<'_> {
    /// The type of an expression, as far as the model can tell.
    pub(crate) fn infer(&self, expr: &Expr) -> Ty {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                let path = &p.path;
                if path.segments.len() == 1 && path.leading_colon.is_none() {
                    let name = path.segments[0].ident.to_string();
                    if name == "self" {
                        return self.self_type().map(Ty::named).unwrap_or_default();
                    }
                    let mapped = self.mapped_params.borrow().iter().rev().find(|(n, _)| *n == name).map(|(_, t)| t.clone());
                    if let Some(ty) = mapped {
                        return ty;
                    }
                    return match self.var(&name) {
                        Some(ty) => ty.clone(),
                        None => self.const_types.get(&name).map(|t| self.resolve_type(t)).unwrap_or_default(),
                    };
                }
                Ty::Unknown
            }
            Expr::Field(f) => {
                let base = self.deref_all(self.infer(&f.base));
                let member = match &f.member {
                    syn::Member::Named(id) => id.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                match base {
                    Ty::Tuple(elems) => {
                        member.parse::<usize>().ok().and_then(|i| elems.get(i).cloned()).unwrap_or_default()
                    }
                    Ty::Named(ref path, _) => {
                        let name = path.last_segment();
                        match self.structs.get(name) {
                            Some(fields) => fields.get(&member).map(|t| self.resolve_type(t)).unwrap_or_default(),
                            None if self.is_own_type(path) => base.member(&member),
                            None => Ty::Unknown,
                        }
                    }
                    Ty::Member(_) => base.member(&member),
                    _ => Ty::Unknown,
                }
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) if p.qself.is_none() => match self.resolve_value(&p.path) {
                    // (`BufReader::with_capacity(n, file)` wraps its last argument.)
                    Some(path) if path.ends_with("::with_capacity") && c.args.len() == 2 => {
                        self.call_type(&path, c.args.last())
                    }
                    Some(path) => self.call_type(&path, c.args.first()),
                    None => Ty::Unknown,
                },
                _ => Ty::Unknown,
            },
            Expr::MethodCall(m) => {
                let args: Vec<&Expr> = m.args.iter().collect();
                let method = m.method.to_string();
                let receiver = self.infer(&m.receiver);
                // `m.lock().unwrap()` unwraps the lock's (looked through) result, not the
                // `Option` it may guard: `legacy.lock().unwrap().take()` is that `Option`'s.
                let lock_result = matches!(&*m.receiver, Expr::MethodCall(r)
                    if LOCKS.contains(&r.method.to_string().as_str()) && r.args.is_empty());
                if lock_result && matches!(method.as_str(), "unwrap" | "expect") && receiver != Ty::Unknown {
                    return receiver;
                }
                // (Not on a std type: a map's `get::<Q>(key)` is not one; a type map's
                // getters take no key.)
                let std_type = |t: &Ty| t.path().is_some_and(|p| p.starts_with("std::") || p.starts_with("core::"));
                let getter = || {
                    !std_type(&self.deref_all(receiver.clone()))
                        && TYPED_GETTERS.iter().any(|(g, _)| *g == method)
                        && (args.is_empty() || !matches!(method.as_str(), "get" | "data" | "state"))
                };
                match self.method_call_type(&receiver, &method, &args) {
                    Ty::Unknown if getter() => {
                        match m.turbofish.as_ref().map(|t| t.args.iter().collect::<Vec<_>>()).as_deref() {
                            Some([syn::GenericArgument::Type(t)]) => self.resolve_type(t),
                            _ => Ty::Unknown,
                        }
                    }
                    t => t,
                }
            }
            // `gate?` with `gate: Option<Arc<Gate>>`: what the option or result holds.
            Expr::Try(t) => match self.infer(&t.expr) {
                held if held.holds_one_value() => held.first_arg(),
                // `File::create(p).await.with_path(p)?`: a method the model does not know, on an
                // awaited result and then `?`'d, is an error adapter of an extension trait; the
                // value is the awaited one.
                Ty::Unknown => match &*t.expr {
                    Expr::MethodCall(m) if matches!(&*m.receiver, Expr::Await(_)) => self.infer(&m.receiver),
                    _ => Ty::Unknown,
                },
                ty => ty,
            },
            // `Janitor { dir }`: a value of the struct named.
            Expr::Struct(st) if st.qself.is_none() => {
                self.resolve_type(&syn::Type::Path(syn::TypePath { qself: None, path: st.path.clone() }))
            }
            Expr::Await(a) => match self.infer(&a.base) {
                Ty::Future(inner) => *inner,
                // What an async method of another file returns, awaited: its output.
                member @ Ty::Member(_) => member,
                // `tokio::fs::File::create(p).await?`: a constructor of another crate's `T`
                // awaited is an async one, giving a `T`. (Not a free fn returning a handle to
                // await, `spawn_blocking(..)`'s `JoinHandle`; nor the crates' own `T::new()`,
                // which may build something else, as a builder's does.)
                // The crates' own `T::build(..).await`, declared in another file: what that
                // async fn is declared to return (`crate::AppState::<build().await>`).
                Ty::Named(path, args) => match assoc_fn_called(&a.base, &path) {
                    Some(_) if !self.is_local(&path) => Ty::Named(path, args),
                    Some(name) => Ty::Member(member_path(&path, &format!("{name}().await"))),
                    None => Ty::Unknown,
                },
                _ => Ty::Unknown,
            },
            Expr::Paren(p) => self.infer(&p.expr),
            Expr::Group(g) => self.infer(&g.expr),
            Expr::Reference(r) => self.infer(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.deref_once(self.infer(&u.expr)),
            Expr::Tuple(t) => Ty::Tuple(t.elems.iter().map(|e| self.infer(e)).collect()),
            // `match open(p) { Ok(c) => c, Err(e) => return .. }`: the value of the `Ok` arm;
            // `match x { A => (File::open(a)?, 1), B => .. }`: the first arm whose value the
            // model can type without the arm's own bindings.
            Expr::Match(m) => m
                .arms
                .iter()
                .map(|arm| {
                    let passes_through = match (&arm.pat, tail(&arm.body)) {
                        (Pat::TupleStruct(ts), Some(Expr::Path(body))) => {
                            ts.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Some")
                                && matches!(ts.elems.first(), Some(Pat::Ident(b)) if body.path.is_ident(&b.ident))
                        }
                        _ => false,
                    };
                    if passes_through {
                        self.infer(&m.expr)
                    } else {
                        self.infer_without(&arm.body, &arm.pat)
                    }
                })
                .find(|t| *t != Ty::Unknown)
                .unwrap_or_default(),
            Expr::Block(b) => match b.block.stmts.last() {
                Some(syn::Stmt::Expr(e, None)) if b.block.stmts.len() == 1 => self.infer(e),
                _ => Ty::Unknown,
            },
            Expr::If(i) => {
                let then = match &*i.cond {
                    Expr::Let(l) => {
                        let body = Expr::Block(syn::ExprBlock {
                            attrs: Vec::new(),
                            label: None,
                            block: i.then_branch.clone(),
                        });
                        self.infer_without(&body, &l.pat)
                    }
                    _ => tail(&Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block: i.then_branch.clone(),
                    }))
                    .map(|e| self.infer(e))
                    .unwrap_or_default(),
                };
                match (then, &i.else_branch) {
                    (Ty::Unknown, Some((_, els))) => tail(els).map(|e| self.infer(e)).unwrap_or_default(),
                    (t, _) => t,
                }
            }
            // `vec![a, b]`, `[a, b]`: a `Vec` of the first element's type.
            Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "vec") => {
                let elems = m.mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated).ok();
                let first = elems.as_ref().and_then(|e| e.first()).map(|e| self.infer(e)).unwrap_or_default();
                Ty::Named("std::vec::Vec".into(), vec![first])
            }
            Expr::Array(a) => {
                let first = a.elems.first().map(|e| self.infer(e)).unwrap_or_default();
                Ty::Named("std::vec::Vec".into(), vec![first])
            }
            _ => Ty::Unknown,
        }
    }

    /// The type of a value (an arm's or branch's) when it does not use the names `pat`
    /// binds: those are not in scope here, and an outer variable of the same name would mislead.
    fn infer_without(&self, value: &Expr, pat: &Pat) -> Ty {
        let Some(value) = tail(value) else { return Ty::Unknown };
        let mut bound = HashSet::default();
        super::context::bound_names(pat, &mut bound);
        if !bound.is_empty() && mentions(value, &bound) {
            // `Some(cmd) => Command::new(cmd)`: what a path's call returns does not hang on the
            // arguments, except a wrapper's content (then unknown).
            return match value {
                Expr::Call(c) => match &*c.func {
                    Expr::Path(p) if p.qself.is_none() && !mentions(&c.func, &bound) => self
                        .resolve_value(&p.path)
                        .map(|path| self.call_type(&path, None))
                        .unwrap_or_default(),
                    _ => Ty::Unknown,
                },
                _ => Ty::Unknown,
            };
        }
        self.infer(value)
    }

    /// Is a value of this type iterated for items (a collection, an `Option`, a directory),
    /// whether or not the model knows the items' type?
    pub(crate) fn is_iterable(&self, ty: &Ty) -> bool {
        self.deref_chain(ty.clone())
            .iter()
            .any(|t| t.path().and_then(|p| self.knowledge.type_entry(p)).is_some_and(|e| e.item.is_some()))
    }

    /// What a `for` loop over a value of this type yields: the element of a collection or an
    /// `Option`, a map's (key, value) pair, a directory's entries.
    pub(crate) fn item_type(&self, iterable: &Ty) -> Ty {
        let mut ty = iterable.clone();
        // A field another file declares (`for zone in &config.zones`, `config.zones.iter()`):
        // its items, as that file names them (see `Model::item_alias`).
        if let Ty::Member(path) = self.deref_all(ty.clone()) {
            let path = iterated_field(&path).unwrap_or(&path);
            return match path.matches("::<").count() < MEMBER_STEPS {
                true => Ty::Member(member_path(path, ITEM)),
                false => Ty::Unknown,
            };
        }
        for _ in 0..4 {
            let Ty::Named(path, args) = &ty else { return Ty::Unknown };
            // The file's own iterator (`impl Iterator for Entries { type Item = .. }`).
            if let Some(item) = self.iterator_item(path) {
                return item;
            }
            if let Some(item) = self.knowledge.type_entry(path).and_then(|e| e.item.as_deref()) {
                return match item {
                    "inner" => args.first().cloned().unwrap_or_default(),
                    "pair" => Ty::Tuple(vec![
                        args.first().cloned().unwrap_or_default(),
                        args.get(1).cloned().unwrap_or_default(),
                    ]),
                    path => Ty::parse(path),
                };
            }
            let next = self.deref_once(ty.clone());
            if next == ty {
                return Ty::Unknown;
            }
            ty = next;
        }
        Ty::Unknown
    }

    /// What a `for` loop over a value of this type yields: `item_type`, or for a type of the
    /// crates another file declares (`for p in &registry`, a `Registry` with `impl IntoIterator
    /// for &Registry` or `fn iter(&self) -> impl Iterator<Item = ..>` there), its items as that
    /// file names them (see `Model::items_alias`). (Only where the value is iterated for sure: a
    /// closure handed to `and_then` takes the value itself, results being looked through.)
    pub(crate) fn iterated_item_type(&self, iterable: &Ty) -> Ty {
        match (self.item_type(iterable), self.deref_all(iterable.clone())) {
            (Ty::Unknown, Ty::Named(path, _))
                if self.knowledge.type_entry(&path).is_none() && self.is_own_type(&path) =>
            {
                Ty::Member(member_path(&path, ITEM))
            }
            (item, _) => item,
        }
    }

    /// The type a call to the function at `path` returns.
    fn call_type(&self, path: &str, first_arg: Option<&Expr>) -> Ty {
        self.call_type_with(path, || first_arg.map(|a| self.infer(a)).unwrap_or_default())
    }

    /// The type a call to the function at `path` returns, given (lazily) its first argument's
    /// type: `opt.map(BufReader::new)` calls the constructor with what the option holds.
    fn call_type_with(&self, path: &str, first_arg: impl Fn() -> Ty) -> Ty {
        if let Some(ty) = self.free_fn_return(path) {
            return ty;
        }
        // `std::mem::take(&mut *self.pending.lock()?)` hands back what was in the place.
        if matches!(path, "std::mem::take" | "std::mem::replace" | "core::mem::take" | "core::mem::replace") {
            return first_arg();
        }
        let catalog = self.knowledge;
        if let Some(ret) = catalog.type_entry(path).and_then(|t| t.returns.get("")) {
            return Ty::parse(ret);
        }
        let Some((parent, last)) = path.split_last_sep() else {
            return Ty::Unknown;
        };
        if let Some(entry) = catalog.type_entry(parent) {
            if let Some(ret) = entry.returns.get(last) {
                return Ty::parse(ret);
            }
            // (A map is no wrapper of its first argument: `HashMap::from([..])` holds pairs.)
            let wraps_inner = entry.wraps.values().any(|w| *w != Unwrap::Value);
            let is_wrapper = entry.deref.as_deref() == Some("inner") || wraps_inner;
            return match (is_wrapper, last) {
                (true, "new" | "from" | "with_capacity") => Ty::Named(parent.to_string(), vec![first_arg()]),
                (_, "clone") => first_arg(),
                _ => Ty::named(parent),
            };
        }
        // `Arc::new(barrier)` with `Arc` from a glob import: a pointer to the argument.
        if glob_pointer(parent) && matches!(last, "new" | "from" | "clone") {
            let inner = first_arg();
            return if last == "clone" { inner } else { Ty::Named(parent.to_string(), vec![inner]) };
        }
        if catalog.has_methods(parent) {
            return Ty::named(parent);
        }
        // A constructor of the crates' own types (`Config::load()`, `Cli::parse()`): good enough
        // to resolve its methods. An associated fn of this file known not to return `Self`
        // is not one; one not seen here (another file, a derive) is taken for one.
        let type_name = parent.last_segment();
        let first = parent.first_segment();
        let local_type = self.is_local(parent) && type_name.starts_with(|c: char| c.is_ascii_uppercase());
        let assoc = format!("{type_name}::{last}");
        let looks_like_constructor = matches!(
            last,
            "new"
                | "default"
                | "open"
                | "connect"
                | "create"
                | "builder"
                | "build"
                | "start"
                | "init"
                | "load"
                | "bind"
                | "launch"
        ) || last.starts_with("from_")
            || last.starts_with("with_")
            || last.starts_with("new_")
            || last.starts_with("open_");
        if local_type
            && (looks_like_constructor
                || self.constructors.contains(&assoc)
                || !self.assoc_fns.contains(&assoc))
        {
            return Ty::named(parent);
        }
        // `T::new(..)` of a type the model knows nothing else about (another crate's): the
        // constructors named so return the type (or a `Result`/`Option` of it).
        let external_constructor = matches!(last, "new" | "default" | "open" | "connect" | "create")
            || last.starts_with("new_")
            || last.starts_with("with_")
            || last.starts_with("from_")
            || last.starts_with("open_");
        if external_constructor && type_name.starts_with(|c: char| c.is_ascii_uppercase()) && parent.has_sep()
        {
            return Ty::named(parent);
        }
        // A free fn of the crates another module declares (`let state = app(depot)`): what it
        // returns is named for the join, as a method's is (`crate::state::<app()>`).
        let module = parent.last_segment();
        let crates_fn = first == "crate" || self.local_crates.is_some_and(|l| l.contains(first));
        if crates_fn
            && !module.starts_with(|c: char| c.is_ascii_uppercase())
            && !last.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return Ty::Member(member_path(parent, &format!("{last}()")));
        }
        Ty::Unknown
    }

    /// The type `recv.method(args)` returns: `method_type`, and for `opt.map(PathBuf::from)` /
    /// `.and_then(|p| File::open(p).ok())` on an `Option`, a `Result` or an untyped value,
    /// what the function or closure returns (options and results are looked through).
    pub(crate) fn method_call_type(&self, recv: &Ty, method: &str, args: &[&Expr]) -> Ty {
        if !matches!(method, "map" | "and_then") || args.len() != 1 {
            return self.method_type(recv, method);
        }
        let option = matches!(recv, Ty::Named(p, _) if matches!(p.as_str(), "std::option::Option" | "std::result::Result"));
        // (A value of the crates' own type the model took out of an option already:
        // `rooms.get(&id).map(|r| r.gate.clone())` types `get` as the map's value.)
        let looked_through = matches!(recv, Ty::Named(p, _) if self.is_own_type(p)
            && self.knowledge.type_entry(p).is_none()
            && !self.defines_method(recv, method));
        // (A known type that is no iterator, as the model gives `File::open(p)`, looking
        // through its `Result`: its `map` is the result's.)
        let collapsed = matches!(recv, Ty::Named(p, _) if self.knowledge.type_entry(p)
            .is_some_and(|e| e.item.is_none() && !e.returns.contains_key(method) && !e.chain.iter().any(|m| m == method)));
        let wrapper = option || looked_through || collapsed || matches!(recv, Ty::Unknown | Ty::Member(_));
        if wrapper {
            // What the option or result holds.
            let held = match recv {
                _ if option => recv.first_arg(),
                _ if looked_through || collapsed => recv.clone(),
                _ => Ty::Unknown,
            };
            let mapped = match args[0] {
                // (`File::open(p).map(BufReader::new)`: the constructor gets the file.)
                Expr::Path(p) if p.qself.is_none() => match self.resolve_value(&p.path) {
                    Some(path) => self.call_type_with(&path, || held.clone()),
                    None => Ty::Unknown,
                },
                Expr::Closure(c) => {
                    // (`opt.map(|r| r.gate.clone())`: `r` is what an option or result of a
                    // known type holds.)
                    // (Not through a block of statements: a `let` there may shadow it.)
                    let single = !matches!(&*c.body, Expr::Block(b) if b.block.stmts.len() > 1);
                    let param = match c.inputs.iter().collect::<Vec<_>>().as_slice() {
                        _ if !single => None,
                        [Pat::Ident(p)] if p.subpat.is_none() && held != Ty::Unknown => {
                            Some((p.ident.to_string(), held))
                        }
                        [Pat::Type(t)] => match &*t.pat {
                            Pat::Ident(p) if p.subpat.is_none() => {
                                Some((p.ident.to_string(), self.resolve_type(&t.ty)))
                                    .filter(|(_, t)| *t != Ty::Unknown)
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    let mut bound = HashSet::default();
                    for input in &c.inputs {
                        super::context::bound_names(input, &mut bound);
                    }
                    if let Some((name, _)) = &param {
                        bound.remove(name);
                    }
                    match tail(&c.body) {
                        Some(body) if !mentions_shadowed(body, &bound, self) => {
                            let pushed = param.map(|p| self.mapped_params.borrow_mut().push(p)).is_some();
                            let ty = self.infer(body);
                            if pushed {
                                self.mapped_params.borrow_mut().pop();
                            }
                            ty
                        }
                        _ => Ty::Unknown,
                    }
                }
                _ => Ty::Unknown,
            };
            if mapped != Ty::Unknown {
                return mapped;
            }
        }
        self.method_type(recv, method)
    }

    /// The type `recv.method(..)` returns.
    pub(crate) fn method_type(&self, recv: &Ty, method: &str) -> Ty {
        if let Ty::Member(_) = recv {
            // Locking a value of another file's type (`state.db.lock()`) hands out what the
            // lock holds: the file declaring it names the member by the held type.
            return if hands_through(method) { recv.clone() } else { recv.member(&format!("{method}()")) };
        }
        let Ty::Named(path, _) = recv else {
            // A tuple or a future: `unwrap`, `clone` and the like hand it back.
            return if *recv != Ty::Unknown && TRANSPARENT.contains(&method) {
                recv.clone()
            } else {
                Ty::Unknown
            };
        };
        let Some(entry) = self.knowledge.type_entry(path) else {
            return if TRANSPARENT.contains(&method) {
                recv.clone()
            } else if glob_pointer(path) {
                self.method_type(&recv.first_arg(), method)
            } else if self.is_own_type(path) {
                self.local_method_return(recv, method).unwrap_or_else(|| recv.member(&format!("{method}()")))
            } else {
                Ty::Unknown
            };
        };
        if entry.chain.iter().any(|m| m == method) {
            return recv.clone();
        }
        if let Some(ret) = entry.returns.get(method) {
            let args = match recv {
                Ty::Named(_, args) => args.as_slice(),
                _ => &[],
            };
            return Ty::parse_with(ret, args);
        }
        if let Some(how) = entry.wraps.get(method) {
            let inner = recv.first_arg();
            return match how {
                Unwrap::Direct | Unwrap::Result => inner,
                Unwrap::Await => Ty::Future(Box::new(inner)),
                Unwrap::Value => match recv {
                    Ty::Named(_, args) => args.get(1).cloned().unwrap_or_default(),
                    _ => Ty::Unknown,
                },
            };
        }
        if TRANSPARENT.contains(&method) {
            return recv.clone();
        }
        match self.deref_once(recv.clone()) {
            t if &t == recv || t == Ty::Unknown => Ty::Unknown,
            t => self.method_type(&t, method),
        }
    }

    /// One step of auto-deref (`Arc<T>` -> `T`, `PathBuf` -> `Path`); the type itself when
    /// it does not deref.
    pub(crate) fn deref_once(&self, ty: Ty) -> Ty {
        let Some(entry) = ty.path().and_then(|p| self.knowledge.type_entry(p)) else {
            // `Arc<Loader>` with `Arc` from a glob import (`use crate::prelude::*`): the model
            // cannot see it is `std::sync::Arc`; its name says so.
            return if ty.path().is_some_and(glob_pointer) { ty.first_arg() } else { ty };
        };
        match entry.deref.as_deref() {
            Some("inner") => ty.first_arg(),
            Some(target) => Ty::named(target),
            None => ty,
        }
    }

    /// Is the type at `path` a wrapper that derefs to its type argument (`axum::extract::State`,
    /// `web::Data`)? (Not a name a glob import brings, `m::*::State`: the crate's own `State`
    /// or an enum's variant `Data` may be it.)
    fn derefs_to_inner(&self, path: &str) -> bool {
        self.knowledge.type_entry(path).is_some_and(|e| e.deref.as_deref() == Some("inner"))
    }

    /// A type and every type it derefs to, in order.
    pub(crate) fn deref_chain(&self, mut ty: Ty) -> Vec<Ty> {
        let mut out = vec![ty.clone()];
        for _ in 0..8 {
            let next = self.deref_once(ty.clone());
            if next == ty || next == Ty::Unknown {
                break;
            }
            out.push(next.clone());
            ty = next;
        }
        out
    }

    pub(crate) fn deref_all(&self, mut ty: Ty) -> Ty {
        for _ in 0..8 {
            let next = self.deref_once(ty.clone());
            if next == ty {
                break;
            }
            ty = next;
        }
        ty
    }

    /// The fields of the enum variant a pattern path names (`Cmd::Run`, `Self::Run`, or `Run`
    /// when matching a value of the enum's type), if the enum is of this file.
    fn variant_fields(&self, path: &syn::Path, matched: &Ty) -> Option<&HashMap<String, syn::Type>> {
        let variant = path.segments.last()?.ident.to_string();
        let n = path.segments.len();
        let enum_name = if n >= 2 {
            let owner = path.segments[n - 2].ident.to_string();
            if owner == "Self" {
                self.self_type()?.last_segment().to_string()
            } else {
                owner
            }
        } else {
            matched.last_segment()?.to_string()
        };
        self.variants.get(&(enum_name, variant))
    }

    /// Binds the variables of a pattern, giving them the parts of `ty` they match.
    pub(crate) fn bind_pattern(&mut self, pat: &Pat, ty: Ty) {
        match pat {
            Pat::Ident(p) => {
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pattern(sub, ty.clone());
                }
                self.bind(p.ident.to_string(), ty);
            }
            Pat::Type(p) => {
                let declared = self.resolve_type(&p.ty);
                // (`let workers: Vec<_> = ..`: the value's type, where it fills the holes.)
                // (Or a value another file types: a field declared there.)
                let holes = matches!(&declared, Ty::Named(d, args) if args.contains(&Ty::Unknown)
                    && (matches!(&ty, Ty::Named(t, _) if t == d) || matches!(ty, Ty::Member(_))));
                let ty = if declared == Ty::Unknown || holes { ty } else { declared };
                self.bind_pattern(&p.pat, ty);
            }
            Pat::Reference(r) => self.bind_pattern(&r.pat, ty),
            Pat::Paren(p) => self.bind_pattern(&p.pat, ty),
            Pat::Tuple(t) => {
                let elems = match ty {
                    Ty::Tuple(e) if e.len() == t.elems.len() => e,
                    // `let (lock, cvar) = &*state.flush;` with the field declared in another
                    // file: its elements, as that file names them (`..::<flush>::<1>`).
                    // (Those after a `..` count from an end the model does not know.)
                    member @ Ty::Member(_) => {
                        let rest =
                            t.elems.iter().position(|p| matches!(p, Pat::Rest(_))).unwrap_or(t.elems.len());
                        (0..t.elems.len())
                            .map(|i| if i < rest { member.member(&i.to_string()) } else { Ty::Unknown })
                            .collect()
                    }
                    _ => vec![Ty::Unknown; t.elems.len()],
                };
                for (p, ty) in t.elems.iter().zip(elems) {
                    self.bind_pattern(p, ty);
                }
            }
            Pat::TupleStruct(ts) => {
                let name = ts.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                // A variant of an enum of this file: `Cmd::Run(args)`, `Self::Run(args)`.
                if let Some(fields) = self.variant_fields(&ts.path, &ty) {
                    let types: Vec<Ty> = (0..ts.elems.len())
                        .map(|i| fields.get(&i.to_string()).map(|t| self.resolve_type(t)).unwrap_or_default())
                        .collect();
                    for (p, t) in ts.elems.iter().zip(types) {
                        self.bind_pattern(p, t);
                    }
                    return;
                }
                // `Ok(x)` / `Some(x)`: results and options are looked through. `State(s):
                // State<App>`: a one-field wrapper (web extractors) holds its type argument.
                let inner = match &ty {
                    // An `Option`/`Result` the code declared; others are looked through already.
                    Ty::Named(p, args)
                        if (name == "Some" && p == "std::option::Option")
                            || (name == "Ok" && p == "std::result::Result") =>
                    {
                        args.first().cloned().unwrap_or_default()
                    }
                    _ if name == "Ok" || name == "Some" => ty.clone(),
                    Ty::Named(p, args)
                        if ts.elems.len() == 1 && p.rsplit("::").next() == Some(name.as_str()) =>
                    {
                        args.first().cloned().unwrap_or_default()
                    }
                    // `State(s): Shared` with `type Shared = State<Arc<App>>` in another file:
                    // `s` is what the alias derefs to, as the join names it through the alias.
                    Ty::Named(p, args)
                        if ts.elems.len() == 1
                            && args.is_empty()
                            && self.is_local(p)
                            && self.derefs_to_inner(&self.resolve_path(&ts.path)) =>
                    {
                        ty.clone()
                    }
                    _ => Ty::Unknown,
                };
                for p in &ts.elems {
                    self.bind_pattern(p, inner.clone());
                }
            }
            Pat::Struct(s) => {
                // A struct of this file, or a variant of one of its enums, by field name.
                let fields = self.variant_fields(&s.path, &ty).cloned().or_else(|| {
                    let name = s.path.segments.last()?.ident.to_string();
                    self.structs.get(&name).cloned()
                });
                for f in &s.fields {
                    let member = match &f.member {
                        syn::Member::Named(n) => n.to_string(),
                        syn::Member::Unnamed(i) => i.index.to_string(),
                    };
                    let t = fields.as_ref().and_then(|fs| fs.get(&member)).map(|t| self.resolve_type(t));
                    // A struct another file declares: its field, as that file names it.
                    let t = t.or_else(|| {
                        let path = self.resolve_path(&s.path);
                        (fields.is_none() && self.is_local(&path)).then(|| Ty::named(&path).member(&member))
                    });
                    self.bind_pattern(&f.pat, t.unwrap_or_default());
                }
            }
            Pat::Slice(s) => {
                for p in &s.elems {
                    self.bind_pattern(p, Ty::Unknown);
                }
            }
            Pat::Or(o) => {
                for p in &o.cases {
                    self.bind_pattern(p, Ty::Unknown);
                }
            }
            _ => {}
        }
    }
}

/// Splits a list on the commas outside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

/// The value an expression ends in: itself, or the last expression of a block; `None` when it
/// diverges (`return`, `continue`, `break`, `panic!`-like macros).
fn tail(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Block(b) => match b.block.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => tail(e),
            _ => None,
        },
        Expr::Return(_) | Expr::Continue(_) | Expr::Break(_) => None,
        Expr::Macro(m)
            if m.mac.path.segments.last().is_some_and(|s| {
                matches!(
                    s.ident.to_string().as_str(),
                    "panic" | "unreachable" | "bail" | "todo" | "unimplemented"
                )
            }) =>
        {
            None
        }
        _ => Some(e),
    }
}

/// Does `e` mention one of `names` (as a path's first segment)?
fn mentions(e: &Expr, names: &HashSet<String>) -> bool {
    struct Finder<'n>(&'n HashSet<String>, bool);
    impl<'a> Visit<'a> for Finder<'_> {
        fn visit_path(&mut self, p: &'a syn::Path) {
            if p.leading_colon.is_none()
                && p.segments.first().is_some_and(|s| self.0.contains(&s.ident.to_string()))
            {
                self.1 = true;
            }
            syn::visit::visit_path(self, p);
        }
    }
    let mut f = Finder(names, false);
    f.visit_expr(e);
    f.1
}

/// Does a closure body use one of its parameters where an outer variable of the same name
/// would be read instead (`|p| p.join("x")` with an outer `p`)?
fn mentions_shadowed(e: &Expr, params: &HashSet<String>, res: &Resolver) -> bool {
    let shadowing: HashSet<String> = params.iter().filter(|n| res.var(n).is_some()).cloned().collect();
    !shadowing.is_empty() && mentions(e, &shadowing)
}

/// If `e` calls an associated fn of the type `ty` names (`tokio::fs::File::create(p)` for
/// `tokio::fs::File`), that fn's name (`create`).
fn assoc_fn_called(e: &Expr, ty: &str) -> Option<String> {
    let Expr::Call(c) = e else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    let n = p.path.segments.len();
    (n >= 2 && p.path.segments[n - 2].ident == ty.last_segment())
        .then(|| p.path.segments[n - 1].ident.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::Knowledge;

    #[test]
    fn a_member_is_matched_by_its_type_and_its_own_name() {
        let cases = [
            ("crate::state::AppState::<feeds>", "AppState::<feeds>"),
            ("AppState::<feeds>", "AppState::<feeds>"),
            ("pkg::Shared::<mailer>::<item>", "<mailer>::<item>"),
            ("feeds", "feeds"),
            ("a::::b", "::b"),
            (":::", ":::"),
        ];
        for (member, tail) in cases {
            assert_eq!(member_tail(member), tail, "{member}");
        }
        assert_eq!(member_hash("crate::web::Context::<api>"), member_hash("app::Context::<api>"));
        assert_ne!(member_hash("crate::web::Context::<api>"), member_hash("crate::web::Context::<db>"));
    }

    fn infer_last(src: &str) -> Ty {
        let mut knowledge = Knowledge::builtin();
        crate::rules::blocking::Catalog::builtin().teach(&mut knowledge);
        let block: syn::Block = syn::parse_str(&format!("{{ {src} }}")).unwrap();
        let mut r = Resolver::new(&knowledge);
        r.push_module("crate".into(), &[]);
        r.push_block(&block.stmts);
        let mut last = Ty::Unknown;
        for stmt in &block.stmts {
            match stmt {
                syn::Stmt::Local(l) => {
                    let ty = l.init.as_ref().map(|i| r.infer(&i.expr)).unwrap_or_default();
                    r.bind_pattern(&l.pat, ty);
                }
                syn::Stmt::Expr(e, _) => last = r.infer(e),
                _ => {}
            }
        }
        last
    }

    #[test]
    fn follows_constructors_tuples_and_results() {
        assert_eq!(
            infer_last("let (tx, rx) = std::sync::mpsc::channel(); rx"),
            Ty::named("std::sync::mpsc::Receiver")
        );
        assert_eq!(infer_last("let f = std::fs::File::open(p)?; f"), Ty::named("std::fs::File"));
        assert_eq!(
            infer_last("std::process::Command::new(\"ls\").arg(\"-l\")"),
            Ty::named("std::process::Command")
        );
        assert_eq!(infer_last("let h = std::thread::spawn(f); h"), Ty::named("std::thread::JoinHandle"));
        assert_eq!(infer_last("let x = other(); x"), Ty::Unknown);
    }

    #[test]
    fn follows_aliases_matches_collections_and_conversions() {
        let path = Ty::named("std::path::PathBuf");
        // A match whose first typable arm builds a tuple.
        let t = infer_last("let (f, n) = match k { 0 => (std::fs::File::open(p)?, 1), _ => return }; f");
        assert_eq!(t, Ty::named("std::fs::File"));
        // An element taken out of a `vec!` of tuples.
        assert_eq!(
            infer_last("let mut s = vec![(std::path::PathBuf::new(), 0)]; let (d, _) = s.pop().unwrap(); d"),
            path
        );
        // `Option::map` with a constructor path or a closure.
        assert_eq!(infer_last("let d = dir.map(std::path::PathBuf::from); d"), path);
        assert_eq!(infer_last("let d = dir.map(|s| std::path::PathBuf::from(s)); d"), path);
        // std return types: a directory entry's path.
        let t = infer_last("let e = std::fs::read_dir(p)?; let x = e.next().unwrap()?; x");
        assert_eq!(t, Ty::Unknown, "`next` of a ReadDir is not modelled; `for` loops are");
        // A constructor of another crate's type returns the type.
        assert_eq!(infer_last("sdk::Client::new(\"k\")"), Ty::named("sdk::Client"));
        assert_eq!(infer_last("sdk::client(\"k\")"), Ty::Unknown);
        // Parsing the knowledge's notation with type arguments of the receiver.
        let pool = Ty::Named("r2d2::Pool".into(), vec![Ty::named("m::Manager")]);
        assert_eq!(
            Ty::parse_with(
                "r2d2::PooledConnection<{0}>",
                match &pool {
                    Ty::Named(_, a) => a,
                    _ => unreachable!(),
                }
            ),
            Ty::Named("r2d2::PooledConnection".into(), vec![Ty::named("m::Manager")])
        );
    }

    #[test]
    fn for_loops_yield_elements_pairs_and_entries() {
        let mut knowledge = Knowledge::builtin();
        crate::rules::blocking::Catalog::builtin().teach(&mut knowledge);
        let r = Resolver::new(&knowledge);
        let vec_of = |t: Ty| Ty::Named("std::vec::Vec".into(), vec![t]);
        assert_eq!(r.item_type(&vec_of(Ty::named("a::B"))), Ty::named("a::B"));
        let map = Ty::Named("std::collections::HashMap".into(), vec![Ty::named("K"), Ty::named("V")]);
        assert_eq!(r.item_type(&map), Ty::Tuple(vec![Ty::named("K"), Ty::named("V")]));
        assert_eq!(r.item_type(&Ty::named("std::fs::ReadDir")), Ty::named("std::fs::DirEntry"));
        assert_eq!(r.method_type(&Ty::named("std::fs::DirEntry"), "path"), Ty::named("std::path::PathBuf"));
        let arc = Ty::Named("std::sync::Arc".into(), vec![vec_of(Ty::named("a::B"))]);
        assert_eq!(r.item_type(&arc), Ty::named("a::B"));
    }

    #[test]
    fn type_aliases_expand_with_their_arguments() {
        let mut knowledge = Knowledge::builtin();
        crate::rules::blocking::Catalog::builtin().teach(&mut knowledge);
        let file: syn::File = syn::parse_str(
            "type Worker<T> = Option<std::thread::JoinHandle<T>>; type Pool = r2d2::Pool<Mgr>;",
        )
        .unwrap();
        let mut r = Resolver::new(&knowledge);
        r.index_file("crate", &file.items);
        r.push_module("crate".into(), &file.items);
        let ty: syn::Type = syn::parse_str("Worker<u8>").unwrap();
        let handle = Ty::Named("std::thread::JoinHandle".into(), vec![Ty::named("u8")]);
        assert_eq!(r.resolve_type(&ty), Ty::Named("std::option::Option".into(), vec![handle]));
        let ty: syn::Type = syn::parse_str("Pool").unwrap();
        assert_eq!(r.resolve_type(&ty).path(), Some("r2d2::Pool"));
    }

    #[test]
    fn looks_through_arc_and_mutex() {
        let ty = infer_last(
            "let db: std::sync::Arc<std::sync::Mutex<rusqlite::Connection>> = make(); db.lock().unwrap()",
        );
        assert_eq!(ty, Ty::named("rusqlite::Connection"));
        let ty = infer_last(
            "let pair = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new())); \
             let (lock, cvar) = &*pair; cvar",
        );
        assert_eq!(ty, Ty::named("std::sync::Condvar"));
    }
}
