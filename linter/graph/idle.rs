//! Callees that make a serial await sequential by design, so its finding is dropped:
//! - idle async fns: those that only wait for other tasks (a lock, a notification, a timer) or
//!   work one ordered handle (a channel, a writer), directly or through other idle fns. Running
//!   calls to them together would gain nothing;
//! - recursive descent: a callee that leads back to the fn holding the loop (a resolver walking
//!   name servers, a type lookup walking composite types). Such walks share per-walk state
//!   (depth limits, in-flight guards, caches the earlier steps fill) that concurrent steps
//!   would race on.
//!
//! The callee often lives in another file, so each file summarises its async fns and keeps its
//! findings pending (`rules::serial`); `settle` decides once every file of the run is known.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{AsyncFnSummary, Callee, Finding, Pending};
use crate::semantic::types;

/// The idle async fns of one package. A fn counts only if every definition of it is idle
/// (a call that does not say its type stands for every method of that name). A fixed point,
/// as idle fns may await other idle fns.
pub(crate) struct IdleFns<'a> {
    idle: HashSet<&'a Callee>,
    by_name: HashMap<&'a str, Vec<&'a Callee>>,
    /// Methods of trait impls, with their trait: what a call through a trait object may run.
    implements: HashMap<&'a Callee, &'a str>,
    /// Methods holding a lock on a field of `self` across their awaits: calls on one object
    /// (`self.f(x)`) take turns on it.
    own_locked: HashSet<&'a Callee>,
}

impl<'a> IdleFns<'a> {
    pub(crate) fn new(summaries: impl Iterator<Item = &'a AsyncFnSummary>) -> Self {
        let mut defs: HashMap<&Callee, Vec<Option<&[Callee]>>> = HashMap::default();
        let mut implements = HashMap::default();
        let mut own_locked = HashSet::default();
        for s in summaries {
            if s.holds_own_lock {
                own_locked.insert(&s.callee);
            }
            defs.entry(&s.callee).or_default().push(s.waits_on.as_deref());
            if let Some(t) = &s.implements {
                implements.insert(&s.callee, t.as_str());
            }
        }
        let mut by_name: HashMap<&str, Vec<&Callee>> = HashMap::default();
        for c in defs.keys() {
            by_name.entry(c.name.as_str()).or_default().push(c);
        }
        defs.retain(|_, d| d.iter().all(Option::is_some));
        let mut fns = IdleFns { idle: HashSet::default(), by_name, implements, own_locked };
        loop {
            let newly: Vec<&Callee> = defs
                .iter()
                .filter(|(c, d)| {
                    !fns.idle.contains(*c)
                        && d.iter().flatten().all(|on| on.iter().all(|w| fns.is_idle_in(w, c)))
                })
                .map(|(c, _)| *c)
                .collect();
            if newly.is_empty() {
                return fns;
            }
            fns.idle.extend(newly);
        }
    }

    pub(crate) fn is_idle(&self, c: &Callee) -> bool {
        let all = self.by_name.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
        // Called on a variable named after a type that has the method: that one.
        let named = |d: &&&Callee| d.owner.is_some() && d.owner == c.named_after;
        match (&c.owner, all.iter().find(named)) {
            // Definitions are keyed as declared, not as called.
            // (A lock of its own object's only serialises calls on `self`, not `Type::f(other)`.)
            (Some(_), _) => {
                let declared = Callee { method: false, foreign: false, ..c.clone() };
                self.idle.contains(&declared) || c.method && self.own_locked.contains(&declared)
            }
            (None, Some(d)) => self.idle.contains(*d),
            // (`self.transport.send(email)` on an SMTP transport: not the package's `send`.)
            (None, None) if c.foreign => false,
            (None, None) => {
                let mut defs = self.untyped_defs(c).peekable();
                defs.peek().is_some() && defs.all(|d| self.idle.contains(d))
            }
        }
    }

    /// Does the package define a fn of `c`'s name?
    fn defines(&self, c: &Callee) -> bool {
        self.by_name.contains_key(c.name.as_str())
    }

    /// The package's definitions of `c` by the type its call names (`Self::f`, `Type::f`, or
    /// a method on a variable named after a type that has it: `collection.transfers()`). A
    /// call that names no type stands for no fn of another package.
    fn typed_defs<'c>(&'c self, c: &'c Callee) -> impl Iterator<Item = &'a Callee> + 'c {
        let all = self.by_name.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
        let ty = c.owner.as_ref().or(c.named_after.as_ref());
        all.iter().copied().filter(move |d| ty.is_some() && d.owner.as_ref() == ty)
    }

    /// The package's definitions of `c`'s name that `c` may call: a method call is none of
    /// the free fns, and a call by path naming no type (`tokio::fs::write(..)`, `save(..)`)
    /// none of the methods.
    fn untyped_defs<'c>(&'c self, c: &'c Callee) -> impl Iterator<Item = &'a Callee> + 'c {
        let all = self.by_name.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
        all.iter().copied().filter(move |d| c.method == d.owner.is_some())
    }

    /// Is `c`, awaited in the fn `within`, idle? A method awaiting its namesake on a field
    /// that holds a trait object (`self.db.state(id).await` in `Service::state`, `db: &dyn
    /// Data`) delegates to the implementations of that trait: idle if the package has some
    /// and every one is. (A client of another crate has none here.)
    fn is_idle_in(&self, c: &Callee, within: &Callee) -> bool {
        if c.owner.is_some() || c.name != within.name || within.owner.is_none() {
            return self.is_idle(c);
        }
        let all = self.by_name.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
        let held = c.named_after.as_deref();
        let mut impls =
            all.iter().filter(|d| held.is_some() && self.implements.get(**d) == held.as_ref()).peekable();
        match impls.peek() {
            Some(_) => impls.all(|d| self.idle.contains(d)),
            None => self.is_idle(c),
        }
    }
}

/// The pending findings that stand, as (file index, diagnostic). `files` pairs each file's
/// package with its summaries and pending findings; callees are looked up in the package (a
/// file outside any package is a crate of its own).
///
/// `is_client`: whether a member (by its tail, see `types::member_tail`) is known for a
/// client in a file.
pub(crate) fn settle(
    files: &[(Option<&str>, &[AsyncFnSummary], &[Pending])],
    is_client: &dyn Fn(&str, usize) -> bool,
) -> Vec<(usize, Finding)> {
    let unit = |f: usize| files[f].0.ok_or(f);
    let mut by_unit: HashMap<Result<&str, usize>, Vec<&AsyncFnSummary>> = HashMap::default();
    for (f, (_, summaries, _)) in files.iter().enumerate() {
        by_unit.entry(unit(f)).or_default().extend(summaries.iter());
    }
    let units: HashMap<Result<&str, usize>, (IdleFns, Calls)> = by_unit
        .into_iter()
        .map(|(u, s)| (u, (IdleFns::new(s.iter().copied()), Calls::new(s.iter().copied()))))
        .collect();
    // A fn the package does not define may be another package's of the run, a workspace
    // member it depends on (`collection.get_related_transfers(..)` in `storage`): idle if every
    // definition of the type the call names is, in the package that defines it.
    let is_idle = |idle: &IdleFns, c: &Callee| {
        if idle.defines(c) {
            return idle.is_idle(c);
        }
        let mut defs = units.values().flat_map(|(i, _)| i.typed_defs(c).map(move |d| (i, d))).peekable();
        if defs.peek().is_some() {
            return defs.all(|(i, d)| i.idle.contains(d));
        }
        // A method on a value whose type the call does not name (`services.users
        // .add_to_device_event(..)`), with a name of several words only other packages of the
        // run define: as idle as every definition of it. (A one-word name, `get`, `send`, may
        // as well be another crate's client.)
        if c.owner.is_some() || c.foreign || !c.name.contains('_') {
            return false;
        }
        let mut defs = units.values().flat_map(|(i, _)| i.untyped_defs(c).map(move |d| (i, d))).peekable();
        defs.peek().is_some() && defs.all(|(i, d)| i.idle.contains(d))
    };
    let mut out = Vec::new();
    for (f, (_, _, pending)) in files.iter().enumerate() {
        let (idle, calls) = &units[&unit(f)];
        for p in pending.iter() {
            let recursive = p.within.as_ref().is_some_and(|w| calls.reaches(&p.awaited, w));
            let requests = p.unless_client.iter().all(|m| is_client(types::member_tail(m), f));
            if !recursive && requests && !p.awaited.iter().any(|c| is_idle(idle, c)) {
                out.push((f, Finding { diagnostic: p.diagnostic.clone(), origin: p.origin }));
            }
        }
    }
    out
}

/// Which fns the async fns of one package await, by name.
struct Calls<'a> {
    by_name: HashMap<&'a str, Vec<&'a AsyncFnSummary>>,
}

impl<'a> Calls<'a> {
    fn new(summaries: impl Iterator<Item = &'a AsyncFnSummary>) -> Self {
        let mut by_name: HashMap<&str, Vec<&AsyncFnSummary>> = HashMap::default();
        for s in summaries {
            by_name.entry(&s.callee.name).or_default().push(s);
        }
        Calls { by_name }
    }

    /// Do calls to `from` lead, through the awaits of the package's fns, to `target`? A call
    /// reaches every fn of its name that it may be, but only a call that names the same type
    /// (or a free fn) counts as reaching `target`: common method names must not make cycles.
    fn reaches(&self, from: &[Callee], target: &Callee) -> bool {
        // A method call (`shard.search(q)`) is never the free fn of its name.
        let may_be = |call: &Callee, def: &Callee| {
            (call.owner.is_none() && !(call.method && def.owner.is_none())) || call.owner == def.owner
        };
        // (A call on a value of the fn's own type, `self.parent.resolve(name)`, or one named
        // like it, `node.walk()` in `impl Node`, is that fn: when unsure, a recursive walk.)
        let same = |a: &Callee, b: &Callee| {
            let typed_as = a.owner.is_none() && b.owner.is_some() && a.named_after == b.owner;
            let owner = a.owner == b.owner || typed_as;
            owner && a.name == b.name && !(a.method && b.owner.is_none())
        };
        let mut seen: HashSet<&Callee> = HashSet::default();
        let mut todo: Vec<&Callee> = from.iter().collect();
        while let Some(c) = todo.pop() {
            if same(c, target) {
                return true;
            }
            if !seen.insert(c) {
                continue;
            }
            let defs = self.by_name.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
            // Called on a value of a type that has the method (`self.asn.lookup(ip)`): that one.
            let typed = c.owner.is_none()
                && c.named_after.is_some()
                && defs.iter().any(|d| d.callee.owner == c.named_after);
            for def in defs {
                if may_be(c, &def.callee) && (!typed || def.callee.owner == c.named_after) {
                    todo.extend(def.calls.iter().filter(|n| !seen.contains(n)));
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callee(owner: Option<&str>, name: &str) -> Callee {
        Callee {
            owner: owner.map(str::to_string),
            name: name.into(),
            named_after: None,
            method: false,
            foreign: false,
        }
    }

    /// `x.name(..)` on a value of no known type.
    fn method(name: &str) -> Callee {
        Callee { method: true, ..callee(None, name) }
    }

    fn summary(owner: Option<&str>, name: &str, waits_on: Option<Vec<Callee>>) -> AsyncFnSummary {
        let calls = waits_on.clone().unwrap_or_default();
        AsyncFnSummary {
            callee: callee(owner, name),
            waits_on,
            calls,
            implements: None,
            holds_own_lock: false,
        }
    }

    #[test]
    fn waits_through_other_fns_are_idle_and_a_busy_namesake_or_a_cycle_is_not() {
        let summaries = [
            summary(Some("Pool"), "ready", Some(vec![])),
            summary(Some("Node"), "wait", Some(vec![method("ready")])),
            summary(Some("Pool"), "query", None),
            summary(Some("Cache"), "get", Some(vec![])),
            summary(Some("Remote"), "get", None),
            summary(None, "ping", Some(vec![callee(None, "pong")])),
            summary(None, "pong", Some(vec![callee(None, "ping")])),
        ];
        let fns = IdleFns::new(summaries.iter());
        assert!(fns.is_idle(&callee(Some("Node"), "wait")));
        assert!(fns.is_idle(&method("ready")));
        assert!(!fns.is_idle(&method("query")));
        // (A call by path naming no type, `fs::ready(..)`, is none of the methods.)
        assert!(!fns.is_idle(&callee(None, "ready")));
        assert!(fns.is_idle(&callee(Some("Cache"), "get")));
        assert!(!fns.is_idle(&callee(Some("Remote"), "get")));
        // `x.get(k)` could be either; `cache.get(k)` is `Cache`'s, `store.get(k)` either.
        assert!(!fns.is_idle(&method("get")));
        let named = |ty: &str| Callee { named_after: Some(ty.into()), ..method("get") };
        assert!(fns.is_idle(&named("Cache")));
        assert!(!fns.is_idle(&named("Remote")));
        assert!(!fns.is_idle(&named("Store")));
        assert!(!fns.is_idle(&callee(None, "ping")));
    }

    #[test]
    fn a_fn_delegating_to_a_namesake_is_as_idle_as_the_namesake() {
        // `Service::state` awaits `self.db.state(..)`: another type's `state`, not itself.
        let held = |ty: &str, name: &str| Callee { named_after: Some(ty.into()), ..method(name) };
        let summaries = [
            summary(Some("Service"), "state", Some(vec![held("Data", "state")])),
            AsyncFnSummary { implements: Some("Data".into()), ..summary(Some("Db"), "state", Some(vec![])) },
            summary(Some("Service"), "fetch", Some(vec![held("Remote", "fetch")])),
            // Neither an impl of another trait nor an inherent namesake is what the field runs.
            AsyncFnSummary {
                implements: Some("Cache".into()),
                ..summary(Some("Memory"), "fetch", Some(vec![]))
            },
            summary(Some("Cache"), "fetch", Some(vec![])),
        ];
        let fns = IdleFns::new(summaries.iter());
        assert!(fns.is_idle(&callee(Some("Service"), "state")));
        assert!(fns.is_idle(&method("state")));
        // The package does not implement `Remote`: the inner one is another crate's, maybe I/O.
        assert!(!fns.is_idle(&callee(Some("Service"), "fetch")));
        assert!(!fns.is_idle(&method("fetch")));
    }
}
