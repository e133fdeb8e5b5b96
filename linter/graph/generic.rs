//! Blocking through a type parameter: a method called in async code on a value of an impl's
//! type parameter (`self.inner.read(..)` in `impl<R: Read> Stream for ReaderStream<R>`) blocks
//! when some file of the crates builds that type with a value whose method of that name blocks
//! (`ReaderStream::new(std::fs::File::open(p)?)`). Likewise a method called on a field of a
//! struct declared in another file (`self.segment.file.write_all(..)`) blocks when the field is
//! declared with a type whose method of that name blocks.

use super::keys::KeyIndex;
use super::Unit;
use crate::facts::Finding;
use crate::rules::blocking::generic_diagnostic;

/// One finding per such call whose type is built with a blocking value somewhere in the run.
pub(crate) fn diagnostics(units: &[Unit]) -> Vec<(usize, Finding)> {
    let built = units.iter().enumerate().flat_map(|(f, u)| {
        u.facts.instances.iter().enumerate().map(move |(i, inst)| ((f, i), inst.owner.as_str()))
    });
    let index = KeyIndex::new(built, units.iter().map(|u| u.facts));
    let mut out = Vec::new();
    for (f, u) in units.iter().enumerate() {
        for call in &u.facts.generic_calls {
            let find_in = |owner: &str, field: Option<&str>, method: &str, whole: bool| {
                index.lookup(owner).iter().find_map(|&(g, i)| {
                    let inst = &units[g].facts.instances[i];
                    if inst.field.as_deref() != field {
                        return None;
                    }
                    // `get.query`: the chain's first call may block already (`pool.get()?.query(..)`
                    // on a field declared as an `r2d2::Pool`), unless it was made before.
                    let first = method.split_once('.').map(|(m, _)| m).filter(|_| !whole);
                    let site =
                        inst.methods.iter().find(|(m, _)| *m == method).or_else(|| {
                            first.and_then(|first| inst.methods.iter().find(|(m, _)| m == first))
                        })?;
                    Some((g, inst, &site.1))
                })
            };
            let find = |owner: &str, field: Option<&str>, method: &str| find_in(owner, field, method, false);
            // (Else what a getter in the chain returns: `state.db.pool().get()`; else what was
            // taken from a field before.)
            let found = find(&call.owner, call.field.as_deref(), &call.method)
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
                });
            let Some((g, inst, site)) = found else { continue };
            let at = format!("{}:{}:{}", units[g].display, inst.span.start.line, inst.span.start.column);
            let d = generic_diagnostic(call, site, inst, &at);
            out.push((f, Finding { diagnostic: d, origin: call.origin }));
        }
    }
    out
}
