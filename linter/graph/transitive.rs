//! Transitive blocking: a sync function of the checked crates that blocks, directly or through
//! other functions of the crates, blocks the async code calling it. A shortest-path search over
//! the call graph of every file's summaries, near linear in the number of call edges.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::keys::{FnId, KeyIndex};
use super::{Offloads, Unit};
use crate::facts::{
    key_package, key_parts, key_triple, skips, BlockSite, CallSite, FileFacts, Finding, Rank, Triple,
};
use crate::qualified::Qualified;
use crate::rules::blocking::{chain_note, transitive_diagnostic};

/// A trait's method, by (package, trait, method).
type TraitMethod<'k> = (Option<&'k str>, &'k str, &'k str);

/// An impl of a trait's method: its summary (`None` when it makes no call), its type, and
/// whether it is demo code (an example's, a bench's, a test's).
struct Impl<'k> {
    id: Option<FnId>,
    owner: &'k str,
    demo: bool,
}

/// A call site seen from one of the functions it may run: the caller, the site's index in
/// it, and the group of alternatives the function is one of (its index and size).
#[derive(Debug, Clone, Copy)]
struct Edge {
    caller: FnId,
    site: usize,
    group: usize,
    size: usize,
}

/// Per function, how it reaches a blocking call of one rank, and at what cost.
type Chains = HashMap<FnId, (Via, Cost)>;

/// The most branches (calls made in an `if`/`else` or a `match` arm) a chain may take and
/// still be reported. Each is a condition the async caller may never meet (a domain renamed,
/// a file missing, a spinner shown): on samples of chains read on real applications, those
/// through two or more branches were mostly paths the caller cannot take (16 of 24), those
/// through one or none rarely (4 of 54).
const MAX_BRANCHES: usize = 1;

/// What a chain costs: the branches it takes (calls made in an `if` or a `match` arm), then
/// its calls. Fewer branches first: a chain most runs take is the one to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Cost {
    branches: usize,
    depth: usize,
}

/// Where a function's blocking comes from: a call it makes directly, or a call to another
/// function of the crates that blocks.
#[derive(Debug, Clone, Copy)]
enum Via {
    Direct(usize),
    Call { site: usize, callee: FnId },
}

/// Joins the per-file summaries and reports every call from async code to a sync function of
/// the checked crates that blocks, with the chain that leads to the blocking call.
/// The result pairs an index into `units` with a finding for that file.
pub(crate) fn diagnostics(units: &[Unit], offloads: &Offloads) -> Vec<(usize, Finding)> {
    let files: Vec<(&str, &FileFacts)> = units.iter().map(|u| (u.display, u.facts)).collect();
    let keys = files.iter().enumerate().flat_map(|(f, (_, g))| {
        g.functions.iter().enumerate().map(move |(i, func)| ((f, i), func.key.as_str()))
    });
    let index = KeyIndex::new(keys, files.iter().map(|(_, g)| *g));
    let func = |(f, i): FnId| &files[f].1.functions[i];
    // Its blocking sites: its own, and its calls on members another file types that block.
    let unseen = super::generic::sync_sites(units);
    let sites = |id: FnId| unseen.get(&id).unwrap_or(&func(id).blocking).as_slice();
    // Made in a closure handed to a fn that runs it off the executor.
    let offloaded = |defer: &[String]| offloads.any_offloads(defer);
    // Test support a dependency ships in its code (`testserver::test_agent()`, chosen at run
    // time by a test flag) is no path production code takes. (In the crates checked, a
    // `test_connection` is as likely production code: their test support has its exposure.)
    let test_support: HashSet<FnId> = files
        .iter()
        .enumerate()
        .filter(|(f, _)| units[*f].dependency)
        .flat_map(|(f, (_, g))| g.functions.iter().enumerate().map(move |(i, func)| ((f, i), func)))
        .filter(|(_, func)| is_test_support(&func.key))
        .map(|(id, _)| id)
        .collect();
    let lookup = |key: &str| -> Vec<FnId> {
        let mut found = index.lookup(key).to_vec();
        found.retain(|id| !test_support.contains(id));
        found
    };
    // What a call site reaches: its callee, and for `then` (`for x in it`: `into_iter`, then
    // `next`) the method of that name on the type the callee returns.
    // A call from another package into an opaque one (a runtime, a channel crate) stops at
    // its border: what the catalog says of it is all there is.
    let walled = |caller: usize, (f, _): FnId| units[f].opaque && units[f].package != units[caller].package;
    // A method of one of the crates' traits (`store.get(k)` on an `Arc<dyn BlobStore>`) runs
    // one of its impls: (trait, method) -> the impls' summaries.
    let declared: HashSet<&str> =
        units.iter().flat_map(|u| u.facts.traits.iter().map(String::as_str)).collect();
    // An impl without a summary neither blocks nor calls the crates: `None`.
    // Keyed by package too (`pkg` of `pkg@bin::a::T::f`): another package's trait of the same
    // name is another trait.
    let mut impls: HashMap<TraitMethod, Vec<Impl>> = HashMap::default();
    // A null object (`impl Policy for AllowAll`, every method of it returning a constant) runs
    // only when the work is switched off. (package, trait, type) -> every method a stub.
    let mut null_objects: HashMap<(Option<&str>, &str, &str), bool> = HashMap::default();
    for u in units {
        // (An example's or a bench's impl is demo code beside the library's.)
        let demo = ["@examples/", "@benches/", "@tests/"].iter().any(|d| u.target.contains(d));
        for f in &u.facts.fns {
            if let (Some(tr), Some(key)) = (f.implements.as_deref(), f.key.as_deref()) {
                if declared.contains(tr) {
                    let pkg = key_package(key, None);
                    let owner = key_parts(key).map_or("", |(owner, _)| owner);
                    *null_objects.entry((pkg, tr, owner)).or_insert(true) &= f.stub;
                    // (An async impl has no summary: its namesake under the key is another
                    // trait's, `BlockingWrite::close` beside an async `PositionWrite::close`.)
                    let id = if f.is_async { None } else { lookup(key).first().copied() };
                    impls.entry((pkg, tr, f.name.as_str())).or_default().push(Impl { id, owner, demo });
                }
            }
        }
    }
    // A trait's default methods, and the crates' traits each type implements: a method the
    // type's impl does not define (`session.save()` with `impl Persist for Session`) is the
    // trait's default. Keyed by package, as the impls are.
    let mut defaults: HashMap<TraitMethod, FnId> = HashMap::default();
    for (f, (_, facts)) in files.iter().enumerate() {
        for (i, func) in facts.functions.iter().enumerate() {
            if let Some((tr, method)) = key_parts(&func.key).filter(|(tr, _)| declared.contains(tr)) {
                defaults.insert((key_package(&func.key, None), tr, method), (f, i));
            }
        }
    }
    let mut traits_of: HashMap<(Option<&str>, &str), HashSet<&str>> = HashMap::default();
    for u in units {
        for f in &u.facts.fns {
            if let (Some(tr), Some(key)) = (f.implements.as_deref(), f.key.as_deref()) {
                if let Some((ty, _)) = key_parts(key) {
                    traits_of.entry((key_package(key, None), ty)).or_default().insert(tr);
                }
            }
        }
    }
    let default_method = |call: &CallSite| -> Vec<FnId> {
        let Some((ty, method)) = key_parts(&call.key) else { return Vec::new() };
        let pkg = key_package(&call.key, None);
        let traits = traits_of.get(&(pkg, ty)).into_iter().flatten();
        traits.filter_map(|tr| defaults.get(&(pkg, *tr, method)).copied()).collect()
    };
    // The impls a call of a trait's method may run, when the crates declare the trait; none
    // when one of them makes no call that could block.
    // (A call on a member another file types, through its alias: a field declared `Arc<dyn
    // Verifier>` names the trait; and one on a trait a glob import brought, through that glob.)
    fn trait_key<'c>(index: &KeyIndex, call: &'c CallSite) -> std::borrow::Cow<'c, str> {
        match call.key.contains("::<") || call.key.contains("::*::") {
            true => index.dealiased(&call.key),
            false => std::borrow::Cow::Borrowed(call.key.as_str()),
        }
    }
    fn found<'i, 'k>(impls: &'i HashMap<TraitMethod<'k>, Vec<Impl<'k>>>, key: &'k str) -> &'i [Impl<'k>] {
        let Some((tr, method)) = key_parts(key) else { return &[] };
        impls.get(&(key_package(key, None), tr, method)).map(Vec::as_slice).unwrap_or_default()
    }
    let dispatch_key = |key: &str| -> Vec<FnId> {
        found(&impls, key).iter().map(|i| i.id).collect::<Option<Vec<FnId>>>().unwrap_or_default()
    };
    let dispatch = |call: &CallSite| dispatch_key(&trait_key(&index, call));
    // From async code: those doing work, when the others are null objects (and the working ones
    // are no demo code); with the null objects' types.
    let working = |call: &CallSite| -> (Vec<FnId>, Vec<String>) {
        let key = trait_key(&index, call);
        let all = found(&impls, &key);
        let tr = key_parts(&key).map_or("", |(tr, _)| tr);
        let null = |i: &&Impl| null_objects.get(&(key_package(&key, None), tr, i.owner)) == Some(&true);
        let (nulls, rest): (Vec<&Impl>, Vec<&Impl>) = all.iter().partition(null);
        if nulls.is_empty() || rest.is_empty() || rest.iter().any(|i| i.demo) {
            return (dispatch_key(&key), Vec::new());
        }
        let ids = rest.iter().map(|i| i.id).collect::<Option<Vec<FnId>>>().unwrap_or_default();
        (ids, nulls.iter().map(|i| format!("`{}`", i.owner)).collect())
    };
    // What a call site may run, as groups of alternatives: the call reaches a blocking call
    // only through a group whose every member does. Several fns under one key are impls of
    // one generic trait (`impl From<io::Error> for E`, `impl From<String> for E`) or inherent
    // impls of one generic type: `E::from(x)` runs the one for `x`'s type, which is unknown.
    let targets = |caller: usize, call: &CallSite| -> Vec<Vec<FnId>> {
        let mut out = lookup(&call.key);
        // From sync code, only a trait with one impl: the chain must name the call it takes.
        if out.is_empty() {
            out = dispatch(call);
            if out.len() > 1 {
                out.clear();
            }
        }
        // (Only when the type's impl does not define it: a defined fn may just have no summary.)
        if out.is_empty() && offloads.defined.lookup(&call.key).is_empty() {
            out = default_method(call);
        }
        // `for x in it`: `into_iter`, then `next` of the type it returns (one of them).
        let returned: Vec<FnId> = match &call.then {
            Some(then) => out
                .iter()
                .filter_map(|&id| func(id).returns.as_deref())
                .flat_map(|r| lookup(&format!("{r}::{then}")))
                .collect(),
            None => Vec::new(),
        };
        [out, returned]
            .into_iter()
            .map(|mut group| {
                group.retain(|&id| !walled(caller, id));
                group.sort_unstable();
                group.dedup();
                group
            })
            .filter(|group| !group.is_empty())
            .collect()
    };

    // Callers of each function: the caller, the call site's index in it, and the group of
    // alternatives the function belongs to there (its index and size).
    let mut callers: HashMap<FnId, Vec<Edge>> = HashMap::default();
    for (f, (_, graph)) in files.iter().enumerate() {
        for (i, caller) in graph.functions.iter().enumerate() {
            for (s, call) in caller.calls.iter().enumerate().filter(|(_, c)| !offloaded(&c.defer)) {
                for (g, group) in targets(f, call).into_iter().enumerate() {
                    for &callee in &group {
                        let edge = Edge { caller: (f, i), site: s, group: g, size: group.len() };
                        callers.entry(callee).or_default().push(edge);
                    }
                }
            }
        }
    }

    // From the functions that block directly, once per rank of blocking call (stat, io, wait,
    // panic): each function gets, per rank, the chain to a call of that rank that takes the
    // fewest branches (`if`s, `match` arms: calls made on some runs only), then the fewest
    // calls, so the chain shown is the one most runs take. Each function is settled once per
    // rank (Dijkstra's order), so the cost stays near linear in the call edges.
    // The parameter test the chain `via` found for `id` starts under, in `id`.
    let guard = |via: &Chains, id: FnId| match via.get(&id)?.0 {
        Via::Direct(b) => sites(id)[b].guard,
        Via::Call { site, .. } => func(id).calls[site].guard,
    };
    let ranks = [Rank::Panic, Rank::Wait, Rank::Io, Rank::Open, Rank::Stat];
    let vias: Vec<Chains> = ranks
        .iter()
        .map(|&rank| {
            let mut via: Chains = HashMap::default();
            let mut heap = BinaryHeap::new();
            for (f, (_, graph)) in files.iter().enumerate() {
                for i in 0..graph.functions.len() {
                    let counts = |(_, b): &(usize, &BlockSite)| b.rank == rank && !offloaded(&b.defer);
                    // (A call repeated over data first: one stat per item is not brief, where
                    // the fn's single `create_dir_all` before its loop of unlinks would be.)
                    let first = sites((f, i))
                        .iter()
                        .enumerate()
                        .filter(counts)
                        .min_by_key(|(_, b)| (rank == Rank::Stat && !b.repeated, b.branch));
                    if let Some((at, b)) = first {
                        let cost = Cost { branches: usize::from(b.branch), depth: 1 };
                        via.insert((f, i), (Via::Direct(at), cost));
                        heap.push(Reverse((cost, (f, i))));
                    }
                }
            }
            let mut settled: HashSet<FnId> = HashSet::default();
            // Members of each group of alternatives not settled yet.
            let mut pending: HashMap<(FnId, usize, usize), usize> = HashMap::default();
            while let Some(Reverse((cost, id))) = heap.pop() {
                if !settled.insert(id) {
                    continue;
                }
                for e in callers.get(&id).into_iter().flatten() {
                    // A call passing the value that skips the chain's branch (`persist(.., true)`
                    // never runs `if !overwrite { hard_link(..) }`).
                    if skips(guard(&via, id), func(id).method, &func(e.caller).calls[e.site].literals) {
                        continue;
                    }
                    let left = pending.entry((e.caller, e.site, e.group)).or_insert(e.size);
                    *left -= 1;
                    if *left > 0 || settled.contains(&e.caller) {
                        continue;
                    }
                    let branch = func(e.caller).calls[e.site].branch;
                    let next = Cost { branches: cost.branches + usize::from(branch), depth: cost.depth + 1 };
                    if via.get(&e.caller).is_some_and(|(_, known)| *known <= next) {
                        continue;
                    }
                    via.insert(e.caller, (Via::Call { site: e.site, callee: id }, next));
                    heap.push(Reverse((next, e.caller)));
                }
            }
            via
        })
        .collect();

    // Functions that may make a metadata operation many times per run: one written in a loop
    // over data or a closure, or a call so placed of a function that makes one, or a call of
    // such a function. One stat per run is brief; these are not, whichever chain is shown
    // (the shortest may be the one stat made before a loop: `tar`'s unpack checks its
    // destination once, then creates each entry's file).
    let stats = &vias[ranks.len() - 1];
    let mut many: HashSet<FnId> = HashSet::default();
    for (f, (_, graph)) in files.iter().enumerate() {
        for i in 0..graph.functions.len() {
            if sites((f, i)).iter().any(|b| b.rank == Rank::Stat && b.repeated && !offloaded(&b.defer)) {
                many.insert((f, i));
            }
        }
    }
    for (_, edges) in callers.iter().filter(|(id, _)| stats.contains_key(*id)) {
        many.extend(edges.iter().filter(|e| func(e.caller).calls[e.site].repeated).map(|e| e.caller));
    }
    let mut queue: Vec<FnId> = many.iter().copied().collect();
    while let Some(id) = queue.pop() {
        for e in callers.get(&id).into_iter().flatten() {
            if many.insert(e.caller) {
                queue.push(e.caller);
            }
        }
    }

    // The chain from `start` to its blocking call of the rank `via` was computed for.
    let chain = |via: &Chains, start: FnId| {
        let mut notes = Vec::new();
        let mut through: Vec<String> = Vec::new();
        let mut repeated = false;
        let mut id = start;
        let end = loop {
            let here = func(id);
            let (file, _) = files[id.0];
            if !through.iter().any(|t| t == file) {
                through.push(file.to_string());
            }
            match via[&id].0 {
                Via::Direct(b) => {
                    let site = &sites(id)[b];
                    let at = format!("{file}:{}:{}", site.span.start.line, site.span.start.column);
                    notes.push(chain_note(&here.name, &site.callee, &at, Some(&site.reason)));
                    repeated |= site.repeated;
                    break site;
                }
                Via::Call { site, callee } => {
                    let s = &here.calls[site];
                    let at = format!("{file}:{}:{}", s.span.start.line, s.span.start.column);
                    notes.push(chain_note(&here.name, &func(callee).name, &at, None));
                    repeated |= s.repeated;
                    id = callee;
                }
            }
        };
        (end, notes, through, repeated)
    };

    // Async methods, as (package, type, name): an awaited call of one runs it, not a sync
    // namesake of the type (qdrant's inherent `async fn perform_collection_meta_op` beside a
    // trait's sync one). (By triple: a call may name the type through a re-export.)
    let async_methods: HashSet<Triple> = units
        .iter()
        .flat_map(|u| u.facts.fns.iter())
        .filter(|f| f.is_async)
        .filter_map(|f| key_triple(f.key.as_deref()?))
        .collect();
    let runs_async =
        |call: &CallSite| call.awaited && key_triple(&call.key).is_some_and(|t| async_methods.contains(&t));
    let mut out = Vec::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for call in &graph.async_calls {
            if offloaded(&call.defer) || runs_async(call) {
                continue;
            }
            let mut groups = targets(f, call);
            // A trait's method with several impls blocks only if every impl does.
            let (impls, nulls) =
                if lookup(&call.key).is_empty() { working(call) } else { Default::default() };
            if !impls.is_empty() {
                if !impls.iter().all(|id| vias.iter().any(|via| via.contains_key(id))) {
                    continue;
                }
                // (Each impl on its own: the worst kind any of them reaches is reported.)
                groups = impls.iter().map(|&id| vec![id]).collect();
            }
            // Per rank, worst first: the callee reaching a call of that rank soonest, in a group
            // of alternatives that all reach one, through few enough branches.
            let reached: Vec<(&Chains, FnId)> = vias
                .iter()
                .filter_map(|via| {
                    let reaches = |id: &FnId| {
                        via.contains_key(id) && !skips(guard(via, *id), func(*id).method, &call.literals)
                    };
                    let start = groups
                        .iter()
                        .filter(|group| group.iter().all(reaches))
                        .flatten()
                        .copied()
                        .min_by_key(|id| via[id].1)?;
                    (via[&start].1.branches <= MAX_BRANCHES).then_some((via, start))
                })
                .collect();
            // The worst kind reached is reported, with its chain; the others are mentioned.
            let Some(&(via, start)) = reached.first() else { continue };
            let (end, notes, through, repeated) = chain(via, start);
            let also: Vec<&BlockSite> = reached[1..].iter().map(|&(v, s)| chain(v, s).0).collect();
            let mut d = transitive_diagnostic(
                call.span,
                &call.context,
                &func(start).name,
                end,
                via[&start].1.depth,
                notes,
                &also,
            );
            if !impls.is_empty() {
                // (Through a field, the key names the member: `crate::State::<store>::get`.)
                let key = trait_key(&index, call);
                let (tr, method) = key_parts(&key).unwrap_or_default();
                let owners: Vec<String> = impls
                    .iter()
                    .filter_map(|&id| key_parts(&func(id).key).map(|(owner, _)| format!("`{owner}`")))
                    .collect();
                let mut note = match owners.as_slice() {
                    [one] if nulls.is_empty() => {
                        format!("`{tr}::{method}` runs the impl for {one}, the only one in the checked code")
                    }
                    [one] => format!("`{tr}::{method}` runs the impl for {one}, the only one doing work"),
                    many => format!(
                        "`{tr}::{method}` blocks in every impl in the checked code ({})",
                        many.join(", ")
                    ),
                };
                if !nulls.is_empty() {
                    let (impl_, returns) =
                        if nulls.len() == 1 { ("impl", "returns") } else { ("impls", "return") };
                    note.push_str(&format!(
                        "; the {impl_} for {} only {returns} a constant or its input (a null object)",
                        nulls.join(", ")
                    ));
                }
                d.notes.insert(0, note);
            }
            d.brief = end.rank.brief(repeated || call.repeated);
            if d.brief && many.contains(&start) {
                d.brief = false;
                let name = &func(start).name;
                d.notes.push(format!("`{name}` also makes such calls once per item of a loop"));
            }
            d.waits = end.rank.waits();
            d.through = through;
            d.callee = Some(start);
            out.push((f, Finding { diagnostic: d, origin: call.origin }));
        }
    }
    out
}

/// A fn of test support by its name or its module's (`test_agent`, `mock_for_tests`,
/// `testserver::new`, `test_utils::spawn`): support for tests that is not behind `cfg(test)`.
fn is_test_support(key: &str) -> bool {
    let Some((path, name)) = key.split_last_sep() else { return false };
    let mut segments = path.split("::").skip(1);
    let module_like = |s: &str| {
        let s = s.to_ascii_lowercase();
        s == "tests"
            || s == "testing"
            || s.starts_with("testserver")
            || s.starts_with("test_")
            || s == "mock"
            || s == "mocks"
    };
    name.starts_with("test_")
        || name.ends_with("_for_test")
        || name.ends_with("_for_tests")
        || segments.any(module_like)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::test_support::{call, func, unit};
    use crate::registry::Rule;

    #[test]
    fn test_support_by_name_or_module_is_no_path() {
        assert!(is_test_support("ureq::testserver::test_agent"));
        assert!(is_test_support("ureq::testserver::TestServer::new"));
        assert!(is_test_support("app::db::pool_for_tests"));
        assert!(is_test_support("app::test_utils::spawn_server"));
        assert!(!is_test_support("ureq::agent"));
        assert!(!is_test_support("app::attestation::verify"));
        assert!(!is_test_support("app::contest::latest"));
    }

    #[test]
    fn reports_the_worst_call_reached_and_mentions_the_others() {
        let mut stat = func("c::stat", vec![], true);
        stat.blocking[0].rank = Rank::Stat;
        stat.blocking[0].callee = "Path::exists".into();
        let mut waits = func("c::waits", vec![], true);
        waits.blocking[0].rank = Rank::Wait;
        waits.blocking[0].rule = Rule::BlockingWait;
        let mut panics = func("c::panics", vec![], true);
        panics.blocking[0].rank = Rank::Panic;
        panics.blocking[0].rule = Rule::BlockOnInAsync;
        let graph = FileFacts {
            functions: vec![
                func("c::top", vec![call("c::stat", 2), call("c::waits", 3), call("c::mid", 4)], false),
                func("c::mid", vec![call("c::panics", 5)], false),
                stat,
                waits,
                panics,
            ],
            async_calls: vec![call("c::top", 10)],
            ..FileFacts::default()
        };
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        assert_eq!(out.len(), 1);
        let d = &out[0].1.diagnostic;
        assert_eq!(d.rule, Rule::BlockOnInAsync, "{d:?}");
        assert!(d.label.contains("3 calls deep"), "{}", d.label);
        assert_eq!(d.notes.iter().filter(|n| n.contains("also reaches")).count(), 2, "{:?}", d.notes);
    }

    #[test]
    fn a_key_several_fns_share_blocks_only_if_each_does() {
        // `E::from(x)`: two `impl From<_> for E`, one of which blocks. Which runs depends on
        // `x`'s type: not reported. `F::from(x)`, both impls blocking: reported, also from a
        // sync fn calling it.
        let graph = FileFacts {
            functions: vec![
                func("c::E::from", vec![], true),
                func("c::E::from", vec![], false),
                func("c::F::from", vec![], true),
                func("c::F::from", vec![call("c::leaf", 3)], false),
                func("c::leaf", vec![], true),
                func("c::convert", vec![call("c::E::from", 4)], false),
                func("c::convert_f", vec![call("c::F::from", 5)], false),
            ],
            async_calls: vec![call("c::E::from", 10), call("c::convert", 11), call("c::convert_f", 12)],
            ..FileFacts::default()
        };
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        let lines: Vec<usize> = out.iter().map(|(_, f)| f.diagnostic.span.start.line).collect();
        assert_eq!(lines, vec![12], "{out:?}");
    }

    #[test]
    fn the_chain_shown_takes_the_fewest_branches_then_the_fewest_calls() {
        // `top` removes a file in an `if` (1 call away) and reads one on every run (2 away):
        // the read is shown.
        let mut top = func("c::top", vec![call("c::read_entry", 3)], true);
        top.blocking[0].branch = true;
        top.blocking[0].callee = "std::fs::remove_file".into();
        let graph = FileFacts {
            functions: vec![top, func("c::read_entry", vec![], true)],
            async_calls: vec![call("c::top", 10)],
            ..FileFacts::default()
        };
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        assert_eq!(out.len(), 1);
        let d = &out[0].1.diagnostic;
        assert!(d.message.contains("reaches `std::fs::read`"), "{}", d.message);
        assert!(d.label.contains("2 calls deep"), "{}", d.label);
        // With the read behind a branch too, the nearer call is shown.
        let mut graph = graph;
        graph.functions[0].calls[0].branch = true;
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        assert!(out[0].1.diagnostic.message.contains("`std::fs::remove_file`"), "{:?}", out[0].1.diagnostic);
        // Behind two branches (the read inside an `if` of `read_entry` too), neither is.
        graph.functions[0].blocking.clear();
        graph.functions[1].blocking[0].branch = true;
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn follows_chains_and_survives_cycles() {
        let graph = FileFacts {
            functions: vec![
                func("c::a", vec![call("c::b", 2)], false),
                func("c::b", vec![call("c::a", 3), call("c::leaf", 4)], false),
                func("c::leaf", vec![], true),
                func("c::loop1", vec![call("c::loop2", 5)], false),
                func("c::loop2", vec![call("c::loop1", 6)], false),
            ],
            async_calls: vec![call("c::a", 10), call("c::loop1", 11), call("other::x", 12)],
            ..FileFacts::default()
        };
        let out = diagnostics(&[unit("src/lib.rs", "c", false, &graph)], &Offloads::new(&[]));
        assert_eq!(out.len(), 1);
        let d = &out[0].1.diagnostic;
        assert_eq!(d.rule, Rule::BlockingFs);
        assert_eq!(d.span.start.line, 10);
        assert_eq!(d.notes.len(), 3, "{:?}", d.notes);
        assert!(d.label.contains("3 calls deep"));
    }

    #[test]
    fn calls_into_an_opaque_package_stop_at_its_border() {
        // `app` calls `chan::send`, which spins with `thread::sleep`: a channel crate checked
        // beside it. Its own async code calling it is still reported.
        let chan = FileFacts {
            functions: vec![func("chan::send", vec![], true)],
            async_calls: vec![call("chan::send", 20)],
            ..FileFacts::default()
        };
        let app = FileFacts { async_calls: vec![call("chan::send", 10)], ..FileFacts::default() };
        let units =
            [unit("chan/src/lib.rs", "chan", true, &chan), unit("app/src/main.rs", "app", false, &app)];
        let out = diagnostics(&units, &Offloads::new(&[]));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].0, out[0].1.diagnostic.span.start.line), (0, 20));
        let units =
            [unit("chan/src/lib.rs", "chan", false, &chan), unit("app/src/main.rs", "app", false, &app)];
        assert_eq!(diagnostics(&units, &Offloads::new(&[])).len(), 2);
    }
}
