//! Name resolution without types: turns paths written in the code into canonical paths
//! (`fs::read` -> `std::fs::read`) through the file's `use` items, local items and
//! variable bindings, scope by scope. Also the file's item index, read before the walk:
//! module items, struct fields, constructors, and which fns are not async.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use syn::{Item, Stmt};

use super::imports::{self, Import, UsePath};
use super::knowledge::Knowledge;
use super::types::Ty;
use crate::project::cfg::CfgEnv;
use crate::qualified::Qualified;

/// Names every Rust module sees without importing them.
const PRELUDE: &[(&str, &str)] = &[
    ("Box", "std::boxed::Box"),
    ("Option", "std::option::Option"),
    ("Result", "std::result::Result"),
    ("Vec", "std::vec::Vec"),
    ("String", "std::string::String"),
    ("AsRef", "std::convert::AsRef"),
    ("AsMut", "std::convert::AsMut"),
    ("Into", "std::convert::Into"),
    ("From", "std::convert::From"),
    ("Iterator", "std::iter::Iterator"),
    ("IntoIterator", "std::iter::IntoIterator"),
];

/// How deep `use` aliases may chain before we give up (guards against cycles).
const MAX_ALIAS_DEPTH: usize = 8;
/// Bounds the chains of this file's modules glob importing each other (they may form a cycle).
const MAX_GLOB_DEPTH: usize = 4;

#[derive(Debug, Default, Clone)]
struct Frame {
    /// Canonical path of the module the frame belongs to (`crate::a::b`).
    module: String,
    is_module: bool,
    imports: HashMap<String, UsePath>,
    globs: Vec<UsePath>,
    /// The globs that re-export (`pub use a::*`): names of this module for other modules too.
    pub_globs: Vec<UsePath>,
    items: HashSet<String>,
    /// The transcribers of the `macro_rules!` macros defined here, by name.
    macros: HashMap<String, Rc<[proc_macro2::TokenStream]>>,
}

/// Type parameters in scope, with their trait bounds.
type Generics = HashMap<String, Vec<syn::TraitBound>>;

/// Scopes of one file, pushed and popped as the analysis walks it.
pub(crate) struct Resolver<'c> {
    pub(crate) knowledge: &'c Knowledge,
    frames: Vec<Rc<Frame>>,
    vars: Vec<HashMap<String, Ty>>,
    /// Every module of the file (root and inline), for `use super::*` and re-exports.
    modules: HashMap<String, Rc<Frame>>,
    /// The `Self` type of each enclosing impl (canonical), innermost last.
    self_types: Vec<Option<String>>,
    /// The type parameters of each enclosing impl and fn with their trait bounds (inline and
    /// `where`), innermost last, with the canonical path of the impl's type for an impl.
    generics: Vec<(Generics, Option<String>)>,
    /// Field types of the structs of this file, by struct name.
    pub(crate) structs: HashMap<String, HashMap<String, syn::Type>>,
    /// Field types of the variants of this file's enums, by enum and variant name
    /// (`0`, `1`, .. for tuple variants).
    pub(crate) variants: HashMap<(String, String), HashMap<String, syn::Type>>,
    /// `Type::f` for every associated fn of this file's impls.
    pub(crate) assoc_fns: HashSet<String>,
    /// Names of the traits this file declares (`Store::get(&x, k)` calls `x`'s impl).
    pub(crate) traits: HashSet<String>,
    /// Package names of the run: their types are the crates' own, like `crate::` ones.
    pub(crate) local_crates: Option<&'c HashSet<String>>,
    /// The file's package and other files' aliases of other crates' types, by path with the
    /// package's name for `crate` (see `Options::foreign_aliases`).
    pub(crate) foreign_aliases: Option<(&'c str, &'c HashMap<String, String>)>,
    /// What `#[cfg]`s on `use` items are evaluated with (`#[cfg(feature = "io-uring")] use
    /// tokio_uring::fs::File;` beside `#[cfg(not(..))] use std::fs::File;`).
    pub(crate) cfg: CfgEnv<'c>,
    /// `Type::f` for associated functions of this file that return `Self` (or a `Result` or
    /// `Option` of it).
    pub(crate) constructors: HashSet<String>,
    /// Names of the file's fns that are not `async` and return no future: what they return
    /// may already be running.
    pub(crate) eager: HashSet<String>,
    /// Fns of the file that return a `JoinHandle` (`fn spawn_spinner(..) -> JoinHandle<()>`),
    /// with the type as written: calling one spawns a task if it resolves to a task's handle.
    task_spawners: HashMap<String, syn::Type>,
    /// The declared return types of the file's free sync fns, by name (`Ok` type of a
    /// `Result`), resolved where a call uses them; `None` for a name defined twice.
    free_fn_returns: HashMap<String, Option<syn::Type>>,
    /// What the associated fns of this file's impls return (through `Result`), by
    /// `module::Type::f`, whether they are async, and the module of the impl.
    method_returns: HashMap<String, Option<MethodReturn>>,
    /// What the file's methods hand the closures they take (`fn with<T>(&self, f: impl
    /// FnOnce(&Connection) -> T)`), by `module::Type::f`: per closure argument, its index
    /// among the call's arguments and the type of the closure's first parameter.
    closure_params: HashMap<String, Vec<(usize, syn::Type)>>,
    /// The same for the file's free fns (`fn with_db<T>(f: impl FnOnce(&Connection) -> T)`),
    /// by name.
    free_closure_params: HashMap<String, Vec<(usize, syn::Type)>>,
    /// Methods of the file's impls that borrow `self` shared (`&self`), by `Type::f`: calls
    /// to one can run together, even from a `&mut self` fn. A name some impl defines with
    /// another receiver is left out.
    shared_self_methods: HashMap<String, bool>,
    /// The values of the file's `const` items, by name (for constant timeouts).
    pub(crate) consts: HashMap<String, syn::Expr>,
    /// The declared types of the file's `const` and `static` items, by name.
    pub(crate) const_types: HashMap<String, syn::Type>,
    /// The file's type aliases, by canonical path: their type parameters and the type.
    type_aliases: HashMap<String, (Vec<String>, syn::Type)>,
    /// The items of the file's `impl Iterator for T` blocks, by `T`'s name (`None`: two
    /// impls of that name disagree).
    iterator_items: HashMap<String, Option<syn::Type>>,
    /// The same of its `impl IntoIterator for T` and `for &T` blocks (what `for x in &t`
    /// yields), second to an `Iterator` impl's.
    into_iter_items: HashMap<String, Option<syn::Type>>,
    /// The parameter of a closure `infer` is typing the body of, and what it is handed
    /// (`opt.map(|r| r.gate.clone())`: `r` is what the option holds). Innermost last.
    pub(crate) mapped_params: std::cell::RefCell<Vec<(String, Ty)>>,
}

impl<'c> Resolver<'c> {
    pub(crate) fn new(knowledge: &'c Knowledge) -> Self {
        Resolver {
            knowledge,
            frames: Vec::new(),
            vars: Vec::new(),
            modules: HashMap::default(),
            self_types: Vec::new(),
            generics: Vec::new(),
            structs: HashMap::default(),
            constructors: HashSet::default(),
            eager: HashSet::default(),
            task_spawners: HashMap::default(),
            free_fn_returns: HashMap::default(),
            method_returns: HashMap::default(),
            shared_self_methods: HashMap::default(),
            closure_params: HashMap::default(),
            free_closure_params: HashMap::default(),
            mapped_params: Default::default(),
            variants: HashMap::default(),
            assoc_fns: HashSet::default(),
            traits: HashSet::default(),
            local_crates: None,
            foreign_aliases: None,
            cfg: CfgEnv::default(),
            consts: HashMap::default(),
            const_types: HashMap::default(),
            type_aliases: HashMap::default(),
            iterator_items: HashMap::default(),
            into_iter_items: HashMap::default(),
        }
    }

    /// Reads the file's items (not fn bodies) before the walk: every module's names, struct
    /// fields, constructors, and the fns that are not async.
    pub(crate) fn index_file(&mut self, module: &str, items: &[Item]) {
        let mut future_aliases = HashSet::default();
        future_type_aliases(items, &mut future_aliases);
        self.index_items(module, items, &future_aliases);
    }

    fn index_items(&mut self, module: &str, items: &[Item], future_aliases: &HashSet<String>) {
        // Items written inside item macros (`pin_project! { struct S { .. } }`) are items of
        // the module too.
        let expanded = macro_items(items);
        let all: Vec<&Item> = items.iter().chain(&expanded).collect();
        self.index_item_list(module, &all, future_aliases);
    }

    fn index_item_list(&mut self, module: &str, items: &[&Item], future_aliases: &HashSet<String>) {
        for item in items.iter().copied() {
            if let Item::Fn(f) = item {
                if let (None, syn::ReturnType::Type(_, ty)) = (&f.sig.asyncness, &f.sig.output) {
                    let ok = ok_type(ty).clone();
                    let entry = self.free_fn_returns.entry(f.sig.ident.to_string());
                    entry.and_modify(|t| *t = None).or_insert(Some(ok));
                }
                // Two fns of one name (in two modules): unknown.
                let handed = closure_params(&f.sig, &f.block, &syn::Generics::default());
                let entry = self.free_closure_params.entry(f.sig.ident.to_string());
                entry.and_modify(Vec::clear).or_insert(handed);
            }
        }
        let mut eager = |sig: &syn::Signature| {
            if sig.asyncness.is_none() && !returns_future(&sig.output, future_aliases) {
                self.eager.insert(sig.ident.to_string());
            }
            if let Some(ty) = returned_join_handle(&sig.output) {
                self.task_spawners.insert(sig.ident.to_string(), ty.clone());
            }
        };
        for item in items.iter().copied() {
            match item {
                Item::Fn(f) => eager(&f.sig),
                Item::Impl(i) => i.items.iter().for_each(|it| {
                    if let syn::ImplItem::Fn(f) = it {
                        eager(&f.sig)
                    }
                }),
                Item::Trait(t) => t.items.iter().for_each(|it| {
                    if let syn::TraitItem::Fn(f) = it {
                        eager(&f.sig)
                    }
                }),
                _ => {}
            }
        }
        let mut frame = Frame { module: module.to_string(), is_module: true, ..Frame::default() };
        fill_frame(&mut frame, items.iter().copied(), &self.cfg);
        self.modules.insert(module.to_string(), Rc::new(frame));
        for item in items.iter().copied() {
            match item {
                Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.index_items(&format!("{module}::{}", m.ident), inner, future_aliases);
                    }
                }
                Item::Struct(s) => {
                    self.structs.insert(s.ident.to_string(), field_types(&s.fields));
                }
                Item::Const(c) => {
                    self.consts.insert(c.ident.to_string(), (*c.expr).clone());
                    self.const_types.insert(c.ident.to_string(), (*c.ty).clone());
                }
                Item::Static(s) => {
                    self.const_types.insert(s.ident.to_string(), (*s.ty).clone());
                }
                Item::Trait(t) => {
                    self.traits.insert(t.ident.to_string());
                }
                Item::Type(t) => {
                    let params = t.generics.type_params().map(|p| p.ident.to_string()).collect();
                    self.type_aliases.insert(format!("{module}::{}", t.ident), (params, (*t.ty).clone()));
                }
                Item::Enum(e) => {
                    for v in &e.variants {
                        self.variants
                            .insert((e.ident.to_string(), v.ident.to_string()), field_types(&v.fields));
                    }
                }
                Item::Impl(i) => {
                    let trait_name = i
                        .trait_
                        .as_ref()
                        .and_then(|(_, p, _)| p.segments.last())
                        .map(|s| s.ident.to_string());
                    // (`impl IntoIterator for &'a Registry`: what `for x in &registry` yields.)
                    let self_ty = match (&*i.self_ty, trait_name.as_deref()) {
                        (syn::Type::Reference(r), Some("IntoIterator")) => &*r.elem,
                        (t, _) => t,
                    };
                    let syn::Type::Path(tp) = self_ty else { continue };
                    let Some(ty) = tp.path.segments.last().map(|s| s.ident.to_string()) else { continue };
                    // `impl Iterator for Entries { type Item = io::Result<Entry>; .. }`: what a
                    // `for` loop over the type yields.
                    if matches!(trait_name.as_deref(), Some("Iterator" | "IntoIterator")) {
                        for item in &i.items {
                            if let syn::ImplItem::Type(t) = item {
                                if t.ident == "Item" {
                                    let items = match trait_name.as_deref() {
                                        Some("Iterator") => &mut self.iterator_items,
                                        _ => &mut self.into_iter_items,
                                    };
                                    // (Two impls yielding different items, references aside
                                    // (`Conn` for `Pool`, `&Conn` for `&Pool`): unknown.)
                                    let same = |known: &syn::Type| same_referent(known, &t.ty);
                                    items
                                        .entry(ty.clone())
                                        .and_modify(|known| *known = known.take().filter(|k| same(k)))
                                        .or_insert(Some(t.ty.clone()));
                                }
                            }
                        }
                    }
                    for item in &i.items {
                        if let syn::ImplItem::Fn(f) = item {
                            let name = format!("{ty}::{}", f.sig.ident);
                            if returns_self(&f.sig.output, &ty) {
                                self.constructors.insert(name.clone());
                            }
                            let output = match &f.sig.output {
                                syn::ReturnType::Type(_, t) => {
                                    Some((ok_type(t).clone(), f.sig.asyncness.is_some()))
                                }
                                syn::ReturnType::Default => None,
                            };
                            // Two impls defining it (`impl W<A>` and `impl W<B>`): unknown.
                            let entry = self.method_returns.entry(format!("{module}::{name}"));
                            entry.and_modify(|r| *r = None).or_insert(output.map(|(ty, is_async)| {
                                MethodReturn { ty, is_async, module: module.to_string() }
                            }));
                            // Two impls defining it (`impl S<Pg>`, `impl S<Lite>`): unknown.
                            let handed = closure_params(&f.sig, &f.block, &i.generics);
                            let entry = self.closure_params.entry(format!("{module}::{name}"));
                            entry.and_modify(Vec::clear).or_insert(handed);
                            let shared = matches!(f.sig.receiver(), Some(r) if r.reference.is_some() && r.mutability.is_none());
                            *self.shared_self_methods.entry(name.clone()).or_insert(shared) &= shared;
                            self.assoc_fns.insert(name);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The private glob imports of every module of the file (`use crate::bucket::*;`) as
    /// (module, the module it imports): a name the resolver left to them
    /// (`module::handle_bucket`) may be defined there.
    pub(crate) fn module_globs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (module, frame) in &self.modules {
            for glob in frame.globs.iter().filter(|g| !frame.pub_globs.contains(g)) {
                out.push((module.clone(), self.knowledge.normalize(self.import_target(frame, glob, 0))));
            }
        }
        out.sort();
        out
    }

    /// The `use` items of every module of the file as (alias path, target path), for
    /// re-exports across files (`pub use store::Store;` in `lib.rs`).
    pub(crate) fn module_aliases(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (module, frame) in &self.modules {
            for (alias, target) in &frame.imports {
                let to = self.knowledge.normalize(self.import_target(frame, target, 0));
                out.push((format!("{module}::{alias}"), to));
            }
            // `pub use self::platform::*;`: every name of that module, as `module::*`.
            for glob in &frame.pub_globs {
                let to = self.knowledge.normalize(self.import_target(frame, glob, 0));
                out.push((format!("{module}::*"), to));
            }
        }
        out.sort();
        out
    }

    pub(crate) fn push_module(&mut self, module: String, items: &[Item]) {
        let frame = match self.modules.get(&module) {
            Some(f) => f.clone(),
            None => {
                let mut frame = Frame { module, is_module: true, ..Frame::default() };
                fill_frame(&mut frame, items.iter(), &self.cfg);
                Rc::new(frame)
            }
        };
        self.frames.push(frame);
        self.vars.push(HashMap::default());
    }

    pub(crate) fn push_block(&mut self, stmts: &[Stmt]) {
        let module = self.current_module().to_string();
        let mut frame = Frame { module, is_module: false, ..Frame::default() };
        fill_frame(
            &mut frame,
            stmts.iter().filter_map(|s| match s {
                Stmt::Item(i) => Some(i),
                _ => None,
            }),
            &self.cfg,
        );
        self.frames.push(Rc::new(frame));
        self.vars.push(HashMap::default());
    }

    pub(crate) fn pop(&mut self) {
        self.frames.pop();
        self.vars.pop();
    }

    /// A scope for variables only (closure parameters, match arms).
    pub(crate) fn push_vars(&mut self) {
        self.vars.push(HashMap::default());
    }

    pub(crate) fn pop_vars(&mut self) {
        self.vars.pop();
    }

    pub(crate) fn push_self_type(&mut self, ty: Option<String>) {
        self.self_types.push(ty);
    }

    pub(crate) fn pop_self_type(&mut self) {
        self.self_types.pop();
    }

    /// Enters an item with type parameters (an impl, a fn).
    pub(crate) fn push_generics(&mut self, generics: &syn::Generics) {
        let mut params: HashMap<String, Vec<syn::TraitBound>> = HashMap::default();
        let traits = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
            bounds
                .iter()
                .filter_map(|b| match b {
                    syn::TypeParamBound::Trait(t) => Some(t.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        for p in generics.type_params() {
            params.entry(p.ident.to_string()).or_default().extend(traits(&p.bounds));
        }
        if let Some(w) = &generics.where_clause {
            for pred in &w.predicates {
                if let syn::WherePredicate::Type(t) = pred {
                    if let syn::Type::Path(tp) = &t.bounded_ty {
                        if let Some(id) = tp.path.get_ident().map(|i| i.to_string()) {
                            if let Some(bounds) = params.get_mut(&id) {
                                bounds.extend(traits(&t.bounds));
                            }
                        }
                    }
                }
            }
        }
        self.generics.push((params, None));
    }

    /// Says which type the innermost generics belong to (an impl's self type).
    pub(crate) fn set_generics_owner(&mut self, owner: Option<String>) {
        if let Some(top) = self.generics.last_mut() {
            top.1 = owner;
        }
    }

    /// The type whose impl declares the type parameter `name` (`crate::io::ReaderStream` for
    /// `R` in `impl<R: Read> Stream for ReaderStream<R>`); `None` for a fn's own parameters.
    pub(crate) fn generic_owner(&self, name: &str) -> Option<&str> {
        self.generics.iter().rev().find(|(g, _)| g.contains_key(name)).and_then(|(_, owner)| owner.as_deref())
    }

    pub(crate) fn pop_generics(&mut self) {
        self.generics.pop();
    }

    /// Is `name` a type parameter of an enclosing impl or fn?
    pub(crate) fn generic(&self, name: &str) -> bool {
        self.generic_bounds(name).is_some()
    }

    /// The trait bounds of a type parameter of an enclosing impl or fn, by resolved path
    /// (`std::io::Read` for `R: Read` under `use std::io::Read`).
    pub(crate) fn generic_bounds(&self, name: &str) -> Option<Vec<String>> {
        let bounds = self.generics.iter().rev().find_map(|(g, _)| g.get(name))?;
        Some(bounds.iter().map(|b| self.resolve_path(&b.path)).collect())
    }

    /// The type a value bounded by these traits is used as: `impl AsRef<Path>` is a `Path`
    /// once `as_ref()` is called (`std::convert::AsRef<Path>`, which the knowledge unwraps).
    /// `depth` bounds the nesting: a bound naming its own parameter (`T: AsRef<T>`) or a pair
    /// naming each other would recurse forever.
    fn bounded_type(&self, bounds: &[syn::TraitBound], depth: usize) -> Ty {
        if depth >= MAX_ALIAS_DEPTH {
            return Ty::Unknown;
        }
        // `impl Iterator<Item = &Arc<dyn Provider>>`: iterated for its items, as a `Vec` of
        // them is (the model's stand-in for any iterable of known items). (A trait of the
        // crates beside it says more: `impl Source + Iterator<Item = u8>` has its methods.)
        let mut iterable = Ty::Unknown;
        for b in bounds {
            let Some(last) = b.path.segments.last() else { continue };
            let path = self.resolve_path(&b.path);
            if ITERATORS.contains(&last.ident.to_string().as_str()) && !self.is_local(&path) {
                if let Some(item) = assoc_type(&last.arguments, "Item") {
                    let item = self.resolve_type_in(item, &HashMap::default(), depth + 1);
                    iterable = Ty::Named("std::vec::Vec".into(), vec![item]);
                }
                continue;
            }
            if !matches!(last.ident.to_string().as_str(), "AsRef" | "Into" | "Borrow" | "AsMut") {
                continue;
            }
            if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                    return Ty::Named(path, vec![self.resolve_type_in(t, &HashMap::default(), depth + 1)]);
                }
            }
        }
        // `dyn BlobStore`, `impl BlobStore` of a trait of the checked crates: its methods are
        // those of its impls (the join dispatches calls to them).
        bounds
            .iter()
            .map(|b| self.resolve_path(&b.path))
            .find(|path| self.is_local(path))
            .map_or(iterable, |path| Ty::Named(path, Vec::new()))
    }

    /// Is `path` in the checked crates (`crate::..`, or another crate of the run)?
    pub(crate) fn is_local(&self, path: &str) -> bool {
        let root = path.first_segment();
        root == "crate" || self.local_crates.is_some_and(|c| c.contains(root))
    }

    /// Is `path` a type of the checked crates (by its name: `crate::state::AppState`)?
    pub(crate) fn is_own_type(&self, path: &str) -> bool {
        let name = path.last_segment();
        self.is_local(path) && name.starts_with(|c: char| c.is_ascii_uppercase())
    }

    pub(crate) fn self_type(&self) -> Option<&str> {
        self.self_types.last().and_then(|t| t.as_deref())
    }

    /// The rules' transcribers of a `macro_rules!` macro of this file in scope.
    pub(crate) fn local_macro(&self, name: &str) -> Option<Rc<[proc_macro2::TokenStream]>> {
        self.frames.iter().rev().find_map(|f| f.macros.get(name)).cloned()
    }

    pub(crate) fn current_module(&self) -> &str {
        self.frames.last().map_or("crate", |f| f.module.as_str())
    }

    pub(crate) fn bind(&mut self, name: String, ty: Ty) {
        if let Some(scope) = self.vars.last_mut() {
            scope.insert(name, ty);
        }
    }

    /// The declared return type of a free fn of the file that `path` may name (`start(..)`,
    /// `crate::start(..)`, a module of the file), resolved here.
    pub(crate) fn free_fn_return(&self, path: &str) -> Option<Ty> {
        let (qualifier, name) = path.split_last_sep().unwrap_or(("", path));
        let local =
            matches!(qualifier, "" | "crate" | "self" | "super") || self.modules.contains_key(qualifier);
        let ty = self.free_fn_returns.get(name)?.as_ref().filter(|_| local)?;
        Some(self.resolve_type(ty)).filter(|t| *t != Ty::Unknown)
    }

    /// Does an impl of this file define `method` on `recv`'s type?
    pub(crate) fn defines_method(&self, recv: &Ty, method: &str) -> bool {
        recv.path().is_some_and(|p| self.method_returns.contains_key(&format!("{p}::{method}")))
    }

    /// What the method `method` of a type of this file (`recv`) returns, when the file
    /// declares it: `None` when it does not (another file may).
    pub(crate) fn local_method_return(&self, recv: &Ty, method: &str) -> Option<Ty> {
        let MethodReturn { ty, is_async, module } =
            match self.method_returns.get(&format!("{}::{method}", recv.path()?))? {
                Some(output) => output,
                None => return Some(Ty::Unknown),
            };
        // The return type is named in the impl's module; from another module, the join
        // resolves it (`Ty::Member`).
        if module != self.current_module() {
            return None;
        }
        let ty = match self.resolve_type(ty) {
            Ty::Named(p, _) if p == "Self" || p.ends_with("::Self") => recv.clone(),
            // A type parameter of the impl (`fn get_ref(&self) -> &T`): which type it is
            // depends on the value, which the model does not follow.
            Ty::Param(_) => Ty::Unknown,
            t => t,
        };
        Some(if *is_async { Ty::Future(Box::new(ty)) } else { ty })
    }

    /// The type a method of a type of this file (`recv`) hands the first parameter of the
    /// closure it takes as argument `arg`, resolved in the impl's module.
    pub(crate) fn closure_param(&self, recv: &Ty, method: &str, arg: usize) -> Option<Ty> {
        let key = format!("{}::{method}", recv.path()?);
        let (_, ty) = self.closure_params.get(&key)?.iter().find(|(i, _)| *i == arg)?;
        let module = key.rsplitn(3, "::").nth(2)?;
        (module == self.current_module()).then(|| self.resolve_type(ty)).filter(|t| *t != Ty::Unknown)
    }

    /// The type a free fn of this file that `path` may name hands the first parameter of the
    /// closure it takes as argument `arg`.
    pub(crate) fn free_closure_param(&self, path: &str, arg: usize) -> Option<Ty> {
        let (qualifier, name) = path.split_last_sep().unwrap_or(("", path));
        let local =
            matches!(qualifier, "" | "crate" | "self" | "super") || self.modules.contains_key(qualifier);
        let handed = self.free_closure_params.get(name).filter(|_| local)?;
        let (_, ty) = handed.iter().find(|(i, _)| *i == arg)?;
        Some(self.resolve_type(ty)).filter(|t| *t != Ty::Unknown)
    }

    /// Does method `method` of the file's type `ty` borrow `self` shared (`&self`)?
    pub(crate) fn borrows_self_shared(&self, ty: &str, method: &str) -> bool {
        self.shared_self_methods.get(&format!("{ty}::{method}")).copied().unwrap_or(false)
    }

    /// Does the file declare `ty::method` taking `&mut self` (or `self`)?
    pub(crate) fn borrows_self_mut(&self, ty: &str, method: &str) -> bool {
        self.shared_self_methods.get(&format!("{ty}::{method}")) == Some(&false)
    }

    /// Does a call of the fn or method `name` of the file spawn a task (it returns a task's
    /// `JoinHandle`)?
    pub(crate) fn spawns_task(&self, name: &str) -> bool {
        self.task_spawners.get(name).is_some_and(|ty| is_task_handle(&self.resolve_type(ty)))
    }

    pub(crate) fn var(&self, name: &str) -> Option<&Ty> {
        self.vars.iter().rev().find_map(|s| s.get(name))
    }

    /// Resolves a path used as a value or callee. `None` when it names a local variable.
    pub(crate) fn resolve_value(&self, path: &syn::Path) -> Option<String> {
        if path.leading_colon.is_none() && path.segments.len() == 1 {
            let name = path.segments[0].ident.to_string();
            if self.var(&name).is_some() {
                return None;
            }
        }
        let resolved = self.resolve_path(path);
        // (Through another file's re-export of std: `fs::read` with `fs` from a prelude.)
        let resolved = self.module_from_glob(path, &resolved).unwrap_or(resolved);
        if let Some(p) = self.through_std_reexport(&resolved) {
            return Some(p);
        }
        Some(self.through_alias(&resolved).unwrap_or(resolved))
    }

    /// A path through std's module or function another file of the run re-exports (`pub use
    /// std::fs;` in a prelude, then `fs::OpenOptions::new` or `read_to_string` here): std's
    /// path. Tried at each `::` from the longest prefix; a glob-imported name
    /// (`m::*::fs::read`) by the name the glob brought in.
    fn through_std_reexport(&self, path: &str) -> Option<String> {
        let (_, aliases) = self.foreign_aliases?;
        if aliases.is_empty() {
            return None;
        }
        let std_path = |prefix: &str| match self.foreign_alias(prefix)? {
            Ty::Named(p, args) if args.is_empty() && p.starts_with("std::") => Some(p),
            _ => None,
        };
        if let Some((module, rest)) = path.split_once("::*::") {
            let (name, tail) = rest.split_first_sep().map_or((rest, ""), |(n, t)| (n, t));
            let to = std_path(&format!("{module}::*::{name}"))?;
            return Some(if tail.is_empty() { to } else { format!("{to}::{tail}") });
        }
        let mut end = path.len();
        loop {
            let prefix = &path[..end];
            if let Some(to) = std_path(prefix) {
                return Some(format!("{to}{}", &path[end..]));
            }
            end = prefix.rfind_sep()?;
        }
    }

    /// `util::backoff(..)` where `util` is no crate the run or the catalogs know, but a glob
    /// import of the checked crates may bring in a module of that name (`use my_core::prelude::*;`
    /// whose prelude has `pub use crate::util;`): `module::*::util::backoff`, as a bare name
    /// from a glob is (the join finds which glob has it).
    fn module_from_glob(&self, path: &syn::Path, resolved: &str) -> Option<String> {
        if path.leading_colon.is_some() || path.segments.len() < 2 {
            return None;
        }
        let first = path.segments.first()?.ident.to_string();
        // (Cheap tests first: this runs for every path of a value.)
        let unknown_root = first.starts_with(|c: char| c.is_ascii_lowercase())
            && resolved.split("::").next() == Some(first.as_str())
            && !self.is_local(&first)
            && !self.knowledge.knows_crate(&first);
        if !unknown_root {
            return None;
        }
        let written = path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::");
        (resolved == written && self.globs_own_modules())
            .then(|| format!("{}::*::{written}", self.current_module()))
    }

    /// `Alias::f` for a type alias of another crate's type (`type Legacy =
    /// reqwest::blocking::Client`, then `Legacy::new()`) is that type's `f`.
    fn through_alias(&self, path: &str) -> Option<String> {
        let (qual, name) = path.split_last_sep()?;
        let aliased = match self.type_aliases.get(qual) {
            Some((params, ty)) if params.is_empty() => self.resolve_type(ty),
            Some(_) => return None,
            None => self.foreign_alias(qual)?,
        };
        match aliased {
            Ty::Named(p, _) if !self.is_local(&p) => Some(format!("{p}::{name}")),
            _ => None,
        }
    }

    pub(crate) fn resolve_path(&self, path: &syn::Path) -> String {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve_segments(path.leading_colon.is_some(), &segments)
    }

    pub(crate) fn resolve_segments(&self, extern_root: bool, segments: &[String]) -> String {
        let resolved = self.resolve_raw(extern_root, segments);
        self.knowledge.normalize(self.follow_reexports(resolved))
    }

    /// `crate::sys::fs::read` where module `crate::sys` of this file has `pub use std::fs;`
    /// is `std::fs::read`.
    fn follow_reexports(&self, mut path: String) -> String {
        for _ in 0..MAX_ALIAS_DEPTH {
            if !path.starts_with("crate") {
                return path;
            }
            let mut rewritten = None;
            let mut end = 0;
            while let Some(i) = path[end..].find_sep().map(|i| end + i) {
                let (module, rest) = (&path[..i], &path[i + 2..]);
                let (name, tail) = rest.split_first_sep().map_or((rest, ""), |(a, b)| (a, b));
                if let Some(frame) = self.modules.get(module) {
                    if let Some(target) = frame.imports.get(name) {
                        let base = self.import_target(frame, target, 0);
                        rewritten = Some(if tail.is_empty() { base } else { format!("{base}::{tail}") });
                        break;
                    }
                }
                end = i + 2;
            }
            match rewritten {
                Some(p) if p != path => path = p,
                _ => return path,
            }
        }
        path
    }

    fn resolve_raw(&self, extern_root: bool, segments: &[String]) -> String {
        let Some((first, rest)) = segments.split_first() else {
            return String::new();
        };
        if extern_root {
            return segments.join("::");
        }
        match first.as_str() {
            "crate" => return segments.join("::"),
            "self" | "super" => return join(&relative(self.current_module(), segments), &[]),
            "Self" => {
                if let Some(ty) = self.self_type() {
                    return join_str(ty, rest);
                }
            }
            _ => {}
        }
        let scope = self.scope_frames();
        for frame in scope.clone() {
            if frame.items.contains(first) {
                return join_str(&format!("{}::{first}", frame.module), rest);
            }
            if let Some(target) = frame.imports.get(first) {
                return join_str(&self.import_target(frame, target, 0), rest);
            }
        }
        for frame in scope {
            for glob in &frame.globs {
                let module = self.import_target(frame, glob, 0);
                match self.modules.get(&module) {
                    // `use super::*`: the parent's items and its own imports.
                    Some(m) if m.items.contains(first) => {
                        return join_str(&format!("{module}::{first}"), rest)
                    }
                    Some(m) => {
                        if let Some(target) = m.imports.get(first) {
                            return join_str(&self.import_target(m, target, 0), rest);
                        }
                    }
                    None => {
                        let module = self.knowledge.normalize(module);
                        if self.knowledge.has_member(&module, first) {
                            return join_str(&format!("{module}::{first}"), rest);
                        }
                    }
                }
            }
        }
        if let Some((_, full)) = PRELUDE.iter().find(|(n, _)| n == first) {
            return join_str(full, rest);
        }
        // `use crate::bucket::*;` names what another file defines: a bare name or a type
        // (`handle_bucket(..)`, `Bucket::open(..)`) comes from one of this module's glob
        // imports, written `module::*::name`; the run's globs say which. (`std::fs::read`
        // starts with a crate's name.)
        let from_glob = rest.is_empty() || first.starts_with(|c: char| c.is_ascii_uppercase());
        if from_glob && self.globs_own_modules() {
            return join_str(&format!("{}::*::{first}", self.current_module()), rest);
        }
        segments.join("::")
    }

    /// Does `path` name a fn of another crate: resolved outside the checked crates, through an
    /// import or a `::` root (`use tokio::fs;` then `fs::write`), or written from a crate's
    /// name where no glob import of the crates' own modules could bring in a module of that
    /// name (`reqwest::get`)?
    pub(crate) fn names_extern_fn(&self, path: &syn::Path) -> bool {
        let Some(resolved) = self.resolve_value(path) else { return false };
        if self.is_local(&resolved) || resolved.contains("::*::") {
            return false;
        }
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = written.first() else { return false };
        let scope_names_it = self.scope_frames().any(|f| f.items.contains(first));
        !scope_names_it
            && (resolved != written.join("::") || path.leading_colon.is_some() || !self.globs_own_modules())
    }

    /// Does a glob import in scope bring in a module of the checked crates defined in another
    /// file (`use crate::bucket::*`, `use super::*` from a module file, `use my_core::prelude::*`)?
    fn globs_own_modules(&self) -> bool {
        self.any_glob_target(&mut |module| self.is_local(module))
    }

    /// Does `f` hold for a module of another file the scope glob imports (`use
    /// crate::prelude::*`), directly or through a module of this file that glob imports one
    /// (`use super::*` in `mod admin` of a file with `use crate::prelude::*`)?
    fn any_glob_target(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
        self.scope_frames().any(|frame| self.frame_any_glob_target(frame, 0, f))
    }

    fn frame_any_glob_target(&self, frame: &Frame, depth: usize, f: &mut dyn FnMut(&str) -> bool) -> bool {
        frame.globs.iter().any(|glob| {
            let module = self.import_target(frame, glob, 0);
            match self.modules.get(&module) {
                Some(m) => depth < MAX_GLOB_DEPTH && self.frame_any_glob_target(m, depth + 1, f),
                None => f(&module),
            }
        })
    }

    /// The frames a name is looked up in: blocks out to (and including) the nearest module.
    fn scope_frames(&self) -> impl Iterator<Item = &Frame> + Clone {
        let start = self.frames.iter().rposition(|f| f.is_module).unwrap_or(0);
        self.frames[start..].iter().rev().map(|f| &**f)
    }

    /// Canonical form of a `use` target declared in `frame`.
    fn import_target(&self, frame: &Frame, target: &UsePath, depth: usize) -> String {
        let segs = &target.segments;
        let Some(first) = segs.first() else {
            return String::new();
        };
        if target.extern_root {
            return segs.join("::");
        }
        match first.as_str() {
            "crate" => segs.join("::"),
            "self" | "super" => join(&relative(&frame.module, segs), &[]),
            _ if frame.items.contains(first) => format!("{}::{}", frame.module, segs.join("::")),
            _ => match frame.imports.get(first) {
                // `use std::fs; use fs::File;`: a 2018 "uniform path" through another import.
                Some(inner) if depth < MAX_ALIAS_DEPTH && inner != target => {
                    join_str(&self.import_target(frame, inner, depth + 1), &segs[1..])
                }
                _ => segs.join("::"),
            },
        }
    }

    /// The canonical path of an `impl` block's self type. A name that resolves nowhere (a type
    /// made by a macro, `pin_project! { struct S .. }`, or one this file cannot see) is taken
    /// for a type of the current module: an inherent impl can only be of the crate's own types,
    /// and `self.f()` / `Self::f()` inside it must name its own fns.
    pub(crate) fn impl_self_type(&self, ty: &syn::Type) -> Option<String> {
        let path = self.resolve_type(ty).path()?.to_string();
        const PRIMITIVES: &[&str] = &[
            "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
            "i128", "isize", "f32", "f64",
        ];
        if path.has_sep() || PRIMITIVES.contains(&path.as_str()) || self.generic(&path) {
            return Some(path);
        }
        Some(format!("{}::{path}", self.current_module()))
    }

    /// Another file's alias of another crate's type, named here by `path` (`crate::db::DbPool`,
    /// `my_core::Pool`; a glob-imported `crate::api::*::DbPool` when the package has one alias
    /// of that name).
    fn foreign_alias(&self, path: &str) -> Option<Ty> {
        let (package, aliases) = self.foreign_aliases?;
        if aliases.is_empty() {
            return None;
        }
        let path = Ty::requalify(path, "crate", package);
        // (Written with the declaring package's name for its `crate`.)
        let parse = |t: &String| Ty::parse(&Ty::requalify(t, package, "crate"));
        if let Some(t) = aliases.get(&path) {
            return Some(parse(t));
        }
        let (_, name) = path.split_once("::*::").filter(|(_, name)| !name.has_sep())?;
        // A re-export of std's `Path` or `PathBuf` counts only from a module this file glob
        // imports: the name is a common one for a crate's own type (an in-memory file
        // system's), and such a type is no file-system query.
        let reachable = |p: &str, t: &str| {
            !t.starts_with("std::path::")
                || p.split_last_sep().is_some_and(|(m, _)| {
                    self.any_glob_target(&mut |g| Ty::requalify(g, "crate", package) == m)
                })
        };
        // The package's own first; else another's, through its prelude (`use my_core::prelude::*`).
        // (Several of one name are one when they name the same: `pub use std::fs;` in two.)
        let of = |own: bool| {
            let mut named = aliases.iter().filter(|(p, t)| {
                p.strip_prefix(package).and_then(|r| r.strip_prefix("::")).is_some() == own
                    && p.rsplit("::").next() == Some(name)
                    && reachable(p, t)
            });
            let (_, first) = named.next()?;
            named.all(|(_, t)| t == first).then_some(first)
        };
        of(true).or_else(|| of(false)).map(parse)
    }

    /// What iterating a value of the file's own type `path` yields, if the file implements
    /// `Iterator` for it (or else `IntoIterator`).
    pub(crate) fn iterator_item(&self, path: &str) -> Option<Ty> {
        self.item_of(path, &[&self.iterator_items, &self.into_iter_items])
    }

    /// What its `IntoIterator` impl says a `for` loop over it yields (over `&t` too).
    pub(crate) fn item_by_into_iterator(&self, path: &str) -> Option<Ty> {
        self.item_of(path, &[&self.into_iter_items])
    }

    /// The item the first of `impls` that has `path`'s type says.
    fn item_of(&self, path: &str, impls: &[&HashMap<String, Option<syn::Type>>]) -> Option<Ty> {
        if !self.is_local(path) {
            return None;
        }
        let name = path.last_segment();
        let item = impls.iter().find_map(|items| items.get(name))?.as_ref()?;
        // (The model looks through results: `io::Result<Entry>` yields entries.)
        Some(self.resolve_type(ok_type(item)))
    }

    /// Resolves a written type to a `Ty` (references and parentheses looked through).
    pub(crate) fn resolve_type(&self, ty: &syn::Type) -> Ty {
        self.resolve_type_in(ty, &HashMap::default(), 0)
    }

    /// `resolve_type` with the type parameters of a type alias being expanded bound to the
    /// alias's arguments.
    fn resolve_type_in(&self, ty: &syn::Type, subst: &HashMap<String, Ty>, depth: usize) -> Ty {
        let recurse = |t: &syn::Type| self.resolve_type_in(t, subst, depth);
        match ty {
            syn::Type::Path(tp) if tp.qself.is_none() => {
                if let Some(name) = tp.path.get_ident().map(|i| i.to_string()) {
                    if let Some(t) = subst.get(&name) {
                        return t.clone();
                    }
                    // A type parameter: what its bounds say it is used as, or the parameter.
                    if let Some(bounds) = self.generics.iter().rev().find_map(|(g, _)| g.get(&name)) {
                        return match self.bounded_type(bounds, depth) {
                            Ty::Unknown => Ty::Param(name),
                            t => t,
                        };
                    }
                }
                let path = self.resolve_path(&tp.path);
                let args: Vec<Ty> = match tp.path.segments.last().map(|s| &s.arguments) {
                    Some(syn::PathArguments::AngleBracketed(a)) => a
                        .args
                        .iter()
                        .filter_map(|arg| match arg {
                            syn::GenericArgument::Type(t) => Some(recurse(t)),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                // `type DbPool = r2d2::Pool<..>`, `type Handle<T> = Option<JoinHandle<T>>`.
                if let Some((params, aliased)) = self.type_aliases.get(&path) {
                    if depth < MAX_ALIAS_DEPTH {
                        let inner: HashMap<String, Ty> = params.iter().cloned().zip(args).collect();
                        return self.resolve_type_in(aliased, &inner, depth + 1);
                    }
                }
                if let Some(t) = self.foreign_alias(&path) {
                    return t;
                }
                Ty::Named(path, args)
            }
            syn::Type::Reference(r) => recurse(&r.elem),
            syn::Type::Paren(p) => recurse(&p.elem),
            syn::Type::Group(g) => recurse(&g.elem),
            syn::Type::Tuple(t) => Ty::Tuple(t.elems.iter().map(recurse).collect()),
            // `[T]` and `[T; N]` iterate like a `Vec<T>`.
            syn::Type::Slice(sl) => Ty::Named("std::vec::Vec".into(), vec![recurse(&sl.elem)]),
            syn::Type::Array(a) => Ty::Named("std::vec::Vec".into(), vec![recurse(&a.elem)]),
            // `impl AsRef<Path>`, `&dyn AsRef<Path>`.
            syn::Type::ImplTrait(i) => self.bounded_type(&trait_bounds(&i.bounds), depth),
            syn::Type::TraitObject(o) => self.bounded_type(&trait_bounds(&o.bounds), depth),
            _ => Ty::Unknown,
        }
    }
}

/// Do two types name the same type, references aside (`&'a Conn` and `Conn`)?
fn same_referent(a: &syn::Type, b: &syn::Type) -> bool {
    let strip = |mut t: &syn::Type| {
        while let syn::Type::Reference(r) = t {
            t = &r.elem;
        }
        quote::quote!(#t).to_string()
    };
    strip(a) == strip(b)
}

/// std's iterator traits, whose `Item` is what a value bounded by one yields.
const ITERATORS: [&str; 4] = ["Iterator", "IntoIterator", "DoubleEndedIterator", "ExactSizeIterator"];

/// The type bound to associated type `name` in `Trait<name = T>`.
fn assoc_type<'a>(args: &'a syn::PathArguments, name: &str) -> Option<&'a syn::Type> {
    let syn::PathArguments::AngleBracketed(a) = args else { return None };
    a.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::AssocType(t) if t.ident == name => Some(&t.ty),
        _ => None,
    })
}

fn trait_bounds(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> Vec<syn::TraitBound> {
    bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The declared types of a struct's or variant's fields, by name (`0`, `1`, .. when unnamed).
fn field_types(fields: &syn::Fields) -> HashMap<String, syn::Type> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.ident.as_ref().map_or_else(|| i.to_string(), |id| id.to_string()), f.ty.clone()))
        .collect()
}

/// The closures a fn calls in place and what it hands them: for each parameter typed `impl
/// Fn*(A, ..)` or with a type parameter bound by one (inline or in a `where`, of the fn or of
/// its impl) that the body calls as `f(..)` outside closures and async blocks, its index among
/// the arguments (the receiver aside) and `A` (through a reference). (One stored, boxed or sent
/// to a worker runs elsewhere, with who knows what.)
fn closure_params(
    sig: &syn::Signature,
    block: &syn::Block,
    impl_generics: &syn::Generics,
) -> Vec<(usize, syn::Type)> {
    let first_input = |b: &syn::TypeParamBound| match super::context::fn_bound_args(b)?.inputs.first()? {
        syn::Type::Reference(r) => Some((*r.elem).clone()),
        t => Some(t.clone()),
    };
    let bound = |name: &syn::Ident| {
        [&sig.generics, impl_generics].into_iter().find_map(|g| {
            super::context::fn_bounded_params(g)
                .into_iter()
                .filter(|(id, _)| *id == name)
                .find_map(|(_, b)| first_input(b))
        })
    };
    let args = sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(t) => Some(t),
        syn::FnArg::Receiver(_) => None,
    });
    let called = called_in_place(block);
    args.enumerate()
        .filter_map(|(i, arg)| {
            let syn::Pat::Ident(name) = &*arg.pat else { return None };
            if !called.contains(&name.ident.to_string()) {
                return None;
            }
            let input = match &*arg.ty {
                syn::Type::ImplTrait(t) => t.bounds.iter().find_map(first_input),
                syn::Type::Path(tp) => bound(tp.path.get_ident()?),
                _ => None,
            }?;
            Some((i, input))
        })
        .collect()
}

/// The names a body calls as `name(..)`, outside closures, async blocks and nested items.
fn called_in_place(block: &syn::Block) -> HashSet<String> {
    struct Calls(HashSet<String>);
    impl<'a> syn::visit::Visit<'a> for Calls {
        fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                if let Some(name) = p.path.get_ident() {
                    self.0.insert(name.to_string());
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'a Item) {}
    }
    let mut calls = Calls(HashSet::default());
    syn::visit::Visit::visit_block(&mut calls, block);
    calls.0
}

/// Type aliases of futures (`type HashFut<'a> = Pin<Box<dyn Future<..>>>`), in every module.
fn future_type_aliases(items: &[Item], out: &mut HashSet<String>) {
    for item in items {
        match item {
            Item::Type(t) if returns_future_type(&t.ty, out) => {
                out.insert(t.ident.to_string());
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    future_type_aliases(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// `-> BoxFuture<..>`, `-> Pin<Box<dyn Future<..>>>`, `-> impl Future<..>`, or an alias of one.
pub(crate) fn returns_future(output: &syn::ReturnType, aliases: &HashSet<String>) -> bool {
    match output {
        syn::ReturnType::Type(_, ty) => returns_future_type(ty, aliases),
        syn::ReturnType::Default => false,
    }
}

fn returns_future_type(ty: &syn::Type, aliases: &HashSet<String>) -> bool {
    fn any_ident(tokens: proc_macro2::TokenStream, f: &mut impl FnMut(&str) -> bool) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => f(&i.to_string()),
            proc_macro2::TokenTree::Group(g) => any_ident(g.stream(), f),
            _ => false,
        })
    }
    any_ident(quote::ToTokens::to_token_stream(ty), &mut |n| n.contains("Future") || aliases.contains(n))
}

/// What an associated fn of the file returns (through `Result`), in the module of its impl.
#[derive(Debug, Clone)]
struct MethodReturn {
    ty: syn::Type,
    is_async: bool,
    module: String,
}

/// What a `Result<T, E>` (any path ending in `Result`) holds when `Ok`; other types as they are.
fn ok_type(ty: &syn::Type) -> &syn::Type {
    if let syn::Type::Path(p) = ty {
        if let Some(last) = p.path.segments.last().filter(|s| s.ident == "Result") {
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(syn::GenericArgument::Type(t)) = args.args.first() {
                    return t;
                }
            }
        }
    }
    ty
}

/// The type a fn declares it returns, when its last segment is `JoinHandle` (a task's or a
/// thread's: told apart where it is resolved).
fn returned_join_handle(output: &syn::ReturnType) -> Option<&syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else { return None };
    let syn::Type::Path(p) = &**ty else { return None };
    p.path.segments.last().filter(|s| s.ident == "JoinHandle").map(|_| &**ty)
}

/// Is a resolved type a task's `JoinHandle`? A thread's (`std::thread::JoinHandle`) is not:
/// the thread does not share the executor.
pub(crate) fn is_task_handle(ty: &Ty) -> bool {
    matches!(ty, Ty::Named(t, _) if t.ends_with("JoinHandle") && !t.starts_with("std::"))
}

/// Does a signature return `Self` or `ty`, possibly inside a `Result` or `Option`?
fn returns_self(output: &syn::ReturnType, ty: &str) -> bool {
    let syn::ReturnType::Type(_, t) = output else { return false };
    let mut t = &**t;
    for _ in 0..3 {
        let syn::Type::Path(tp) = t else { return false };
        let Some(last) = tp.path.segments.last() else { return false };
        if last.ident == "Self" || last.ident == ty {
            return true;
        }
        let wrapper = last.ident == "Result" || last.ident == "Option";
        match (&last.arguments, wrapper) {
            (syn::PathArguments::AngleBracketed(a), true) => match a.args.first() {
                Some(syn::GenericArgument::Type(inner)) => t = inner,
                _ => return false,
            },
            _ => return false,
        }
    }
    false
}

/// The items written inside the item macros of a list whose tokens parse as items
/// (`pin_project! { pub struct S<R> { #[pin] inner: R } }`); `macro_rules!` and the like do
/// not parse and are skipped.
pub(crate) fn macro_items(items: &[Item]) -> Vec<Item> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Macro(m) if m.ident.is_none() => syn::parse2::<syn::File>(m.mac.tokens.clone()).ok(),
            _ => None,
        })
        .flat_map(|f| f.items)
        .collect()
}

fn fill_frame<'a>(frame: &mut Frame, items: impl Iterator<Item = &'a Item>, cfg: &CfgEnv) {
    for item in items {
        if let Item::Use(u) = item {
            if crate::project::cfg::compiled_out(&u.attrs, cfg) {
                continue;
            }
            let mut imports = Vec::new();
            imports::flatten(&u.tree, u.leading_colon.is_some(), &mut imports);
            let public = !matches!(u.vis, syn::Visibility::Inherited);
            for import in imports {
                match import {
                    Import::Name { alias, target } => {
                        frame.imports.insert(alias, target);
                    }
                    Import::Glob(p) => {
                        if public {
                            frame.pub_globs.push(p.clone());
                        }
                        frame.globs.push(p);
                    }
                }
            }
        } else if let Item::Macro(m) = item {
            if let (Some(name), true) = (&m.ident, m.mac.path.is_ident("macro_rules")) {
                // Defined twice (`#[cfg]` alternatives): which one is compiled is not known.
                let rules = match frame.macros.contains_key(&name.to_string()) {
                    true => Vec::new(),
                    false => super::macros::rule_bodies(&m.mac.tokens),
                };
                frame.macros.insert(name.to_string(), rules.into());
            }
            if m.ident.is_none() {
                if let Ok(inner) = syn::parse2::<syn::File>(m.mac.tokens.clone()) {
                    frame.items.extend(inner.items.iter().filter_map(item_name));
                }
            }
        } else if let Some(name) = item_name(item) {
            frame.items.insert(name);
        }
    }
}

fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Fn(i) => &i.sig.ident,
        Item::Mod(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Const(i) => &i.ident,
        Item::Static(i) => &i.ident,
        Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |r| &r.1),
        _ => return None,
    };
    Some(ident.to_string())
}

/// Applies leading `self`/`super` segments to `module`.
fn relative(module: &str, segments: &[String]) -> Vec<String> {
    let mut base: Vec<String> = module.split("::").map(str::to_string).collect();
    let mut rest = segments;
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "self" => {}
            "super" if base.len() > 1 => {
                base.pop();
            }
            "super" => {}
            _ => break,
        }
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    base
}

fn join(a: &[String], b: &[String]) -> String {
    a.iter().chain(b).map(String::as_str).collect::<Vec<_>>().join("::")
}

fn join_str(base: &str, rest: &[String]) -> String {
    let mut s = base.to_string();
    for r in rest {
        s.push_str("::");
        s.push_str(r);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_in(src: &str, path: &str) -> String {
        let mut knowledge = Knowledge::builtin();
        crate::rules::blocking::Catalog::builtin().teach(&mut knowledge);
        let file: syn::File = syn::parse_str(src).unwrap();
        let mut r = Resolver::new(&knowledge);
        r.index_file("crate", &file.items);
        r.push_module("crate".into(), &file.items);
        let p: syn::Path = syn::parse_str(path).unwrap();
        r.resolve_path(&p)
    }

    #[test]
    fn resolves_through_imports() {
        assert_eq!(resolve_in("use std::fs;", "fs::read"), "std::fs::read");
        assert_eq!(resolve_in("use std::fs as f;", "f::read"), "std::fs::read");
        assert_eq!(resolve_in("use std::{fs::{self, File}};", "File::open"), "std::fs::File::open");
        assert_eq!(resolve_in("use std::fs; use fs::File;", "File::open"), "std::fs::File::open");
        assert_eq!(resolve_in("use tokio::fs;", "fs::read"), "tokio::fs::read");
        assert_eq!(resolve_in("", "std::thread::sleep"), "std::thread::sleep");
        assert_eq!(resolve_in("use core::time;", "time::Duration"), "std::time::Duration");
    }

    #[test]
    fn globs_resolve_only_to_known_members() {
        assert_eq!(resolve_in("use std::thread::*;", "sleep"), "std::thread::sleep");
        assert_eq!(resolve_in("use std::fs::*;", "File::open"), "std::fs::File::open");
        assert_eq!(resolve_in("use std::fs::*;", "helper"), "helper");
    }

    #[test]
    fn items_made_by_item_macros_are_module_items() {
        let src = "pin_project_lite::pin_project! { pub struct S<R> { #[pin] inner: R } }";
        assert_eq!(resolve_in(src, "S"), "crate::S");
        let file: syn::File = syn::parse_str(src).unwrap();
        let knowledge = Knowledge::builtin();
        let mut r = Resolver::new(&knowledge);
        r.index_file("crate", &file.items);
        assert!(r.structs.get("S").is_some_and(|f| f.contains_key("inner")));
    }

    #[test]
    fn local_items_shadow_imports_and_globs() {
        assert_eq!(resolve_in("use std::thread::*; async fn sleep() {}", "sleep"), "crate::sleep");
        assert_eq!(resolve_in("mod fs { pub fn read() {} } use fs::read;", "read"), "crate::fs::read");
    }
}
