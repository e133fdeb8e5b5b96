//! Blocking through a type parameter: a method called in async code on a value of an impl's
//! type parameter (`self.inner.read(..)` in `impl<R: Read> Stream for ReaderStream<R>`) blocks
//! when some file of the crates builds that type with a value whose method of that name blocks
//! (`ReaderStream::new(std::fs::File::open(p)?)`). Likewise a method called on a field of a
//! struct declared in another file (`self.segment.file.write_all(..)`) blocks when the field is
//! declared with a type whose method of that name blocks; in a sync fn, such a call is one of
//! its blocking sites, which the transitive search follows.

use rustc_hash::FxHashMap as HashMap;

use super::keys::{FnId, KeyIndex};
use super::Unit;
use crate::facts::{BlockSite, Finding, GenericCall, Instance};
use crate::rules::blocking::generic_diagnostic;

/// How many levels of glob imports a fn's name may come through (a module's glob of a
/// prelude that glob re-exports the fn's module is two).
const GLOB_REACH: usize = 3;

/// The instances the run builds or declares, by owner.
struct Instances<'u> {
    units: &'u [Unit<'u>],
    index: KeyIndex<'u>,
}

impl<'u> Instances<'u> {
    fn new(units: &'u [Unit<'u>]) -> Self {
        let built = units.iter().enumerate().flat_map(|(f, u)| {
            u.facts.instances.iter().enumerate().map(move |(i, inst)| ((f, i), inst.owner.as_str()))
        });
        Instances { units, index: KeyIndex::new(built, units.iter().map(|u| u.facts)) }
    }

    /// The instance whose method `call` makes, with its unit and the catalog's site.
    fn resolve(&self, call: &GenericCall) -> Option<(usize, &'u Instance, &'u BlockSite)> {
        let in_group = |owner: &str, field: Option<&str>, method: &str, whole: bool| {
            self.index.lookup(owner).iter().find_map(|&(g, i)| {
                let inst = &self.units[g].facts.instances[i];
                if inst.field.as_deref() != field {
                    return None;
                }
                // `get.query`: the chain's first call may block already (`pool.get()?.query(..)`
                // on a field declared as an `r2d2::Pool`), unless it was made before.
                let first = method.split_once('.').map(|(m, _)| m).filter(|_| !whole);
                let site = inst
                    .methods
                    .iter()
                    .find(|(m, _)| *m == method)
                    .or_else(|| first.and_then(|first| inst.methods.iter().find(|(m, _)| m == first)))?;
                Some((g, inst, &site.1))
            })
        };
        // (The name a file uses may lead to instances of its own first: `State` through a
        // prelude, where `main` builds one with `State::build(..)`; the declaration's fields
        // are under the name the aliases lead to.)
        let find_in = |owner: &str, field: Option<&str>, method: &str, whole: bool| {
            in_group(owner, field, method, whole)
                .or_else(|| {
                    let declared = self.index.dealiased(owner);
                    (declared != owner).then(|| in_group(&declared, field, method, whole)).flatten()
                })
                .or_else(|| {
                    // (What a fn a glob import brings returns, `spool()` with `use
                    // crate::paths::*`: named by the importing module's glob, `m::*`; through
                    // a prelude's glob re-export too.)
                    let reach = self.index.glob_reach(owner.strip_suffix("::*")?, GLOB_REACH);
                    reach.iter().find_map(|t| in_group(t, field, method, whole))
                })
                .or_else(|| {
                    // (A fn re-exported under another name, `pub use paths::spool as
                    // spool_root`: what the fn it names returns.)
                    let written = format!("{owner}::{}", field?.strip_suffix("()")?);
                    let fn_key = self.index.dealiased(&written);
                    let (module, name) = fn_key.rsplit_once("::").filter(|_| fn_key != written)?;
                    in_group(module, Some(&format!("{name}()")), method, whole)
                })
        };
        let find = |owner: &str, field: Option<&str>, method: &str| find_in(owner, field, method, false);
        // (Else what a getter in the chain returns: `state.db.pool().get()`; else what was
        // taken from a field before.)
        find(&call.owner, call.field.as_deref(), &call.method)
            .or_else(|| {
                let (owner, getter, method) = call.returned.as_ref()?;
                find(owner, Some(getter), method)
            })
            .or_else(|| {
                // (`get.execute` of `conn.execute(..).unwrap_or(0)`, or `post.send` of
                // `req.body(b).send()` with `let req = state.http.post(url)`.)
                let (owner, field, chain) = call.taken.as_ref()?;
                let last = call.method.rsplit('.').next().filter(|l| !chain.ends_with(&format!(".{l}")));
                find_in(owner, Some(field), chain, true).or_else(|| {
                    let getter = chain.split('.').next()?;
                    find_in(owner, Some(field), &format!("{getter}.{}", last?), true)
                })
            })
    }
}

/// One finding per such call in async code whose type is built with a blocking value
/// somewhere in the run.
pub(crate) fn diagnostics(units: &[Unit]) -> Vec<(usize, Finding)> {
    let instances = Instances::new(units);
    let mut out = Vec::new();
    for (f, u) in units.iter().enumerate() {
        for call in &u.facts.generic_calls {
            let Some((g, inst, site)) = instances.resolve(call) else { continue };
            let at = format!("{}:{}:{}", units[g].display, inst.span.start.line, inst.span.start.column);
            let d = generic_diagnostic(call, site, inst, &at);
            out.push((f, Finding { diagnostic: d, origin: call.origin }));
        }
    }
    out
}

/// The sync fns with calls on members other files type that block: each fn's blocking sites,
/// its own followed by those calls (`conn.get(k)` with `let mut conn =
/// state.cache.lock().unwrap()`, `cache` declared as a `Mutex<redis::Connection>`).
pub(crate) fn sync_sites(units: &[Unit]) -> HashMap<FnId, Vec<BlockSite>> {
    let instances = Instances::new(units);
    let mut out: HashMap<FnId, Vec<BlockSite>> = HashMap::default();
    for (f, u) in units.iter().enumerate() {
        for (i, func) in u.facts.functions.iter().enumerate() {
            for unseen in &func.unseen {
                let Some((_, _, site)) = instances.resolve(&unseen.call) else { continue };
                let site = BlockSite {
                    span: unseen.call.span,
                    defer: unseen.defer.clone(),
                    branch: unseen.branch,
                    repeated: unseen.call.repeated,
                    guard: unseen.guard,
                    ..site.clone()
                };
                out.entry((f, i)).or_insert_with(|| func.blocking.clone()).push(site);
            }
        }
    }
    out
}
