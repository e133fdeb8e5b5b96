//! A small, forgiving type model: enough to know that `rx` came from
//! `std::sync::mpsc::channel()` or that `self.conn` is a `rusqlite::Connection`.
//! Anything it cannot tell is `Ty::Unknown`, and unknown never matches the catalog.

use syn::{Expr, Pat};

use super::knowledge::Unwrap;
use super::resolve::Resolver;

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
}

impl Ty {
    pub(crate) fn named(path: &str) -> Ty {
        Ty::Named(path.to_string(), Vec::new())
    }

    /// Parses the catalog's type notation: `a::B` or `(a::B, c::D)`.
    pub(crate) fn parse(s: &str) -> Ty {
        let s = s.trim();
        match s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(inner) => Ty::Tuple(inner.split(',').map(Ty::parse).collect()),
            None => Ty::named(s),
        }
    }

    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Ty::Named(p, _) => Some(p),
            _ => None,
        }
    }

    /// The type's own name (`Client` for `reqwest::Client`), for name-based judgements.
    pub(crate) fn last_segment(&self) -> Option<&str> {
        self.path().map(|p| p.rsplit("::").next().unwrap_or(p))
    }

    fn first_arg(&self) -> Ty {
        match self {
            Ty::Named(_, args) => args.first().cloned().unwrap_or_default(),
            _ => Ty::Unknown,
        }
    }
}

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
    "wrap_err",
    "into",
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
                    return self.var(&name).cloned().unwrap_or_default();
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
                    Ty::Named(path, _) => {
                        let name = path.rsplit("::").next().unwrap_or(&path);
                        self.structs
                            .get(name)
                            .and_then(|fields| fields.get(&member))
                            .map(|t| self.resolve_type(t))
                            .unwrap_or_default()
                    }
                    _ => Ty::Unknown,
                }
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) if p.qself.is_none() => match self.resolve_value(&p.path) {
                    Some(path) => self.call_type(&path, c.args.first()),
                    None => Ty::Unknown,
                },
                _ => Ty::Unknown,
            },
            Expr::MethodCall(m) => self.method_type(&self.infer(&m.receiver), &m.method.to_string()),
            Expr::Try(t) => self.infer(&t.expr),
            Expr::Await(a) => match self.infer(&a.base) {
                Ty::Future(inner) => *inner,
                _ => Ty::Unknown,
            },
            Expr::Paren(p) => self.infer(&p.expr),
            Expr::Group(g) => self.infer(&g.expr),
            Expr::Reference(r) => self.infer(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.deref_once(self.infer(&u.expr)),
            Expr::Tuple(t) => Ty::Tuple(t.elems.iter().map(|e| self.infer(e)).collect()),
            // `match open(p) { Ok(c) => c, Err(e) => return .. }`: the value of the `Ok` arm.
            Expr::Match(m) => {
                let passes_through = m.arms.iter().any(|arm| match (&arm.pat, &*arm.body) {
                    (Pat::TupleStruct(ts), Expr::Path(body)) => {
                        ts.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Some")
                            && matches!(ts.elems.first(), Some(Pat::Ident(b)) if body.path.is_ident(&b.ident))
                    }
                    _ => false,
                });
                if passes_through {
                    self.infer(&m.expr)
                } else {
                    Ty::Unknown
                }
            }
            _ => Ty::Unknown,
        }
    }

    /// The type a call to the function at `path` returns.
    fn call_type(&self, path: &str, first_arg: Option<&Expr>) -> Ty {
        let catalog = self.knowledge;
        if let Some(ret) = catalog.type_entry(path).and_then(|t| t.returns.get("")) {
            return Ty::parse(ret);
        }
        let Some((parent, last)) = path.rsplit_once("::") else {
            return Ty::Unknown;
        };
        if let Some(entry) = catalog.type_entry(parent) {
            if let Some(ret) = entry.returns.get(last) {
                return Ty::parse(ret);
            }
            let is_wrapper = entry.deref.as_deref() == Some("inner") || !entry.wraps.is_empty();
            return match (is_wrapper, last) {
                (true, "new" | "from") => {
                    Ty::Named(parent.to_string(), vec![first_arg.map(|a| self.infer(a)).unwrap_or_default()])
                }
                (_, "clone") => first_arg.map(|a| self.infer(a)).unwrap_or_default(),
                _ => Ty::named(parent),
            };
        }
        if catalog.has_methods(parent) {
            return Ty::named(parent);
        }
        // A constructor of the crates' own types (`Config::load()`, `Cli::parse()`): good enough
        // to resolve its methods. An associated fn of this file known not to return `Self`
        // is not one; one not seen here (another file, a derive) is taken for one.
        let type_name = parent.rsplit("::").next().unwrap_or(parent);
        let first = parent.split("::").next().unwrap_or("");
        let local_type = (first == "crate" || self.local_crates.is_some_and(|l| l.contains(first)))
            && type_name.starts_with(|c: char| c.is_ascii_uppercase());
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
        Ty::Unknown
    }

    /// The type `recv.method(..)` returns.
    pub(crate) fn method_type(&self, recv: &Ty, method: &str) -> Ty {
        let Ty::Named(path, _) = recv else {
            return Ty::Unknown;
        };
        let Some(entry) = self.knowledge.type_entry(path) else {
            return if TRANSPARENT.contains(&method) { recv.clone() } else { Ty::Unknown };
        };
        if entry.chain.iter().any(|m| m == method) {
            return recv.clone();
        }
        if let Some(ret) = entry.returns.get(method) {
            return Ty::parse(ret);
        }
        if let Some(how) = entry.wraps.get(method) {
            let inner = recv.first_arg();
            return match how {
                Unwrap::Direct | Unwrap::Result => inner,
                Unwrap::Await => Ty::Future(Box::new(inner)),
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
            return ty;
        };
        match entry.deref.as_deref() {
            Some("inner") => ty.first_arg(),
            Some(target) => Ty::named(target),
            None => ty,
        }
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
    fn variant_fields(
        &self,
        path: &syn::Path,
        matched: &Ty,
    ) -> Option<&std::collections::HashMap<String, syn::Type>> {
        let variant = path.segments.last()?.ident.to_string();
        let n = path.segments.len();
        let enum_name = if n >= 2 {
            let owner = path.segments[n - 2].ident.to_string();
            if owner == "Self" {
                self.self_type()?.rsplit("::").next()?.to_string()
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
                let ty = if declared == Ty::Unknown { ty } else { declared };
                self.bind_pattern(&p.pat, ty);
            }
            Pat::Reference(r) => self.bind_pattern(&r.pat, ty),
            Pat::Paren(p) => self.bind_pattern(&p.pat, ty),
            Pat::Tuple(t) => {
                let elems = match ty {
                    Ty::Tuple(e) if e.len() == t.elems.len() => e,
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
                    _ if name == "Ok" || name == "Some" => ty.clone(),
                    Ty::Named(p, args)
                        if ts.elems.len() == 1 && p.rsplit("::").next() == Some(name.as_str()) =>
                    {
                        args.first().cloned().unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::Knowledge;

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
