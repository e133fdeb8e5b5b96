//! Where code runs: every function of the run gets an exposure from the call graph (calls and
//! functions handed over by name, across files), and every finding the exposure of the code
//! it sits in.
//! - `hot`: runs while other tasks share the executor. Roots: spawned tasks, request handlers,
//!   event loops, `poll_*` fns, async fns passed as callbacks, and functions nothing in the run
//!   calls (a library's API, trait impls called by a framework: when unsure, hot). Everything
//!   they call is hot too.
//! - `startup`: reached only from a program's entry (`main`, `#[tokio::main]`), outside spawns,
//!   handlers and event loops: configuration, certificates, one-shot subcommands.
//! - `test`: test code and test-support code, and what only they reach; examples and benches
//!   (demo code: whatever they block, no user's program runs it).
//! - `unreached`: in a program's own libraries (the packages a package with a binary uses by
//!   path or through its workspace, checked with it), functions nothing in the run calls, and
//!   what only they reach. Their callers are all in the run: such code is dead, or called in a
//!   way stall cannot follow. Trait impls stay hot: a framework or a trait object may call
//!   them. So does the program's own package: a small program's handlers that nothing wires up
//!   are still what it is for.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::keys::{FnId, KeyIndex};
use super::Unit;
use crate::diagnostic::Exposure;
use crate::facts::{key_package, key_parts, Origin};
use crate::qualified::Qualified;
use crate::semantic::{Hot, HotKind};

/// Why a function has its exposure.
#[derive(Debug, Clone, Copy)]
enum Why {
    /// In a hot region of a file (spawned, a handler, an event loop, passed as a callback).
    Region(usize, Hot),
    /// Hot by its own kind (a `poll_*` fn, a route handler).
    Root(Hot),
    /// Nothing in the run calls it.
    Uncalled,
    /// Nothing in the run calls it, and it builds a value programs build once, at setup.
    Constructor,
    /// A program's entry.
    Entry,
    /// Test or test-support code.
    Test,
    /// Reached from another function, which has the root reason.
    Via(FnId),
    /// Not reached from any root (a cycle of functions calling each other).
    Unreached,
    /// Nothing in the run calls it, and it is part of a program (`main` of the package named).
    Orphan(FnId),
}

/// The exposure of every function of the run.
pub(crate) struct Exposures {
    /// Per file, per function: its exposure and why.
    of: Vec<Vec<(Exposure, Why)>>,
    /// Per file, per function: who calls it (outside hot regions and test code).
    callers: Vec<Vec<Vec<FnId>>>,
    /// Per file, per function: the admin or migration fn it is part of, when it is reached
    /// only from such code (its package or module, or every caller's: see `Rare`).
    admin: Vec<Vec<Option<FnId>>>,
    /// Per file: part of a command, a program that serves nothing (see `commands`).
    command: Vec<bool>,
    /// Per file: part of a program (see `in_programs`).
    program: Vec<bool>,
}

/// A call or reference between two functions of the run. (Made by the hundred thousand on a
/// large run, hence the borrowed region.)
struct Link<'u> {
    from: Option<FnId>,
    to: FnId,
    hot: Option<(usize, &'u Hot)>,
    test: bool,
}

impl<'u> Link<'u> {
    /// A call from code at `origin` in file `u` (in the hot region `hot`) to `to`; none from an
    /// example, a bench or the `xtask` into the library: its users call the library from
    /// anywhere, so the example does not make those functions startup code.
    fn new(units: &[Unit], u: usize, origin: &Origin, hot: Option<&'u Hot>, to: FnId) -> Option<Link<'u>> {
        let unit = &units[u];
        if (unit.is_example() || unit.is_dev_tool()) && units[to.0].target != unit.target {
            return None;
        }
        let from = origin.caller.map(|c| (u, c));
        Some(Link { from, to, hot: hot.map(|h| (u, h)), test: origin.test || unit.is_test_support() })
    }
}

impl Exposures {
    /// `index`: every fn of `units` by key.
    pub(crate) fn compute(units: &[Unit], index: &KeyIndex) -> Exposures {
        let by_trait = own_trait_impls(units);
        let own_packages: HashSet<&str> =
            units.iter().filter(|u| !u.dependency).filter_map(|u| u.package).collect();
        let mut links = Vec::new();
        // Trait methods each fn calls (from which region): a method with many impls, called
        // many times, would otherwise link every call to every impl.
        let mut dispatched = HashSet::default();
        for (u, unit) in units.iter().enumerate() {
            for e in &unit.facts.edges {
                let mut to = index.lookup(&e.callee);
                // A call through a trait object of the crates' own trait (`self.repo.create(..)`
                // with `repo: Arc<dyn Repo>`) runs one of its impls. (Not another crate's type
                // that happens to share the trait's name.)
                if to.is_empty() {
                    let key = index.dealiased(&e.callee);
                    let own = key_package(&key, None).is_none_or(|p| own_packages.contains(p));
                    let method = key_parts(&key).filter(|_| own).map(|(tr, name)| format!("{tr}::{name}"));
                    let Some((method, impls)) = method.and_then(|m| by_trait.get_key_value(&m)) else {
                        continue;
                    };
                    let call = (u, e.origin.caller, e.origin.hot.as_ref(), e.origin.test, e.by_name);
                    if !dispatched.insert((method.as_str(), call)) {
                        continue;
                    }
                    to = impls;
                }
                for &to in to {
                    let callee = &units[to.0].facts.fns[to.1];
                    // A sync fn handed over by name runs wherever it is called, like a call.
                    let hot = e.origin.hot.as_ref().filter(|_| !e.by_name || callee.is_async);
                    links.extend(Link::new(units, u, &e.origin, hot, to));
                }
            }
        }
        links.extend(loose_links(units, &by_trait));
        let mut out: Vec<Vec<Option<(Exposure, Why)>>> =
            units.iter().map(|u| vec![None; u.facts.fns.len()]).collect();
        let mut called = out.iter().map(|f| vec![false; f.len()]).collect::<Vec<_>>();
        let mut from: Vec<Vec<Vec<FnId>>> =
            units.iter().map(|u| vec![Vec::new(); u.facts.fns.len()]).collect();
        let mut callers = from.clone();
        let is_entry = |(u, i): FnId| units[u].facts.fns[i].entry;
        // An entry (`#[tokio::main] fn serve()`) runs its body on a runtime of its own, driven
        // by the call: where its caller runs does not carry over.
        links.retain(|l| !is_entry(l.to));
        for l in &links {
            called[l.to.0][l.to.1] = true;
            if let (Some(f), None, false) = (l.from, l.hot, l.test) {
                from[f.0][f.1].push(l.to);
                callers[l.to.0][l.to.1].push(f);
            }
        }
        let is_test = |(u, i): FnId| units[u].facts.fns[i].test || units[u].is_test_support();
        let (entries, programs) = program_parts(units);
        // Nothing calls it, yet it is a program's: not a root of its own.
        let orphan = |(u, i): FnId| {
            let f = &units[u].facts.fns[i];
            let part = units[u].package.and_then(|p| programs.get(p)).copied();
            part.filter(|_| f.implements.is_none() && units[u].in_tree)
        };

        // Hot: roots, hot regions, and what nothing calls; then everything they call.
        let mut queue = VecDeque::new();
        for (u, unit) in units.iter().enumerate() {
            for (i, f) in unit.facts.fns.iter().enumerate() {
                if let Some(hot) = f.root {
                    mark(&mut out, &mut queue, (u, i), Exposure::Hot, Why::Root(hot));
                }
            }
        }
        for l in links.iter().filter(|l| !l.test) {
            if let Some((u, hot)) = l.hot.filter(|(_, h)| !h.kind.is_cold()) {
                mark(&mut out, &mut queue, l.to, Exposure::Hot, Why::Region(u, *hot));
            }
        }
        let mut orphans = Vec::new();
        let mut constructors = Vec::new();
        for (u, unit) in units.iter().enumerate() {
            for (i, f) in unit.facts.fns.iter().enumerate() {
                if !called[u][i] && !f.entry && !is_test((u, i)) {
                    match orphan((u, i)) {
                        Some(entry) => orphans.push(((u, i), entry)),
                        None if f.constructs => constructors.push((u, i)),
                        None => mark(&mut out, &mut queue, (u, i), Exposure::Hot, Why::Uncalled),
                    }
                }
            }
        }
        spread(&mut out, &from, &mut queue, Exposure::Hot);
        // Startup: entries of programs, cell initialisers, what runs on a thread of its own,
        // and what only they reach.
        for l in links.iter().filter(|l| !l.test) {
            if let Some((u, hot)) = l.hot.filter(|(_, h)| h.kind.is_cold()) {
                mark(&mut out, &mut queue, l.to, Exposure::Startup, Why::Region(u, *hot));
            }
        }
        for (u, unit) in units.iter().enumerate() {
            for (i, f) in unit.facts.fns.iter().enumerate() {
                if f.entry && !is_test((u, i)) {
                    mark(&mut out, &mut queue, (u, i), Exposure::Startup, Why::Entry);
                }
            }
        }
        for id in constructors {
            mark(&mut out, &mut queue, id, Exposure::Startup, Why::Constructor);
        }
        spread(&mut out, &from, &mut queue, Exposure::Startup);
        for (id, entry) in orphans {
            mark(&mut out, &mut queue, id, Exposure::Unreached, Why::Orphan(entry));
        }
        spread(&mut out, &from, &mut queue, Exposure::Unreached);
        // Test: test code, and what only tests reach (through test links too).
        for l in links.iter().filter(|l| l.test) {
            if let Some(f) = l.from {
                from[f.0][f.1].push(l.to);
            }
        }
        for (u, unit) in units.iter().enumerate() {
            for i in 0..unit.facts.fns.len() {
                if is_test((u, i)) {
                    mark(&mut out, &mut queue, (u, i), Exposure::Test, Why::Test);
                }
            }
        }
        spread(&mut out, &from, &mut queue, Exposure::Test);
        let of: Vec<Vec<(Exposure, Why)>> = out
            .into_iter()
            .map(|fns| fns.into_iter().map(|e| e.unwrap_or((Exposure::Hot, Why::Unreached))).collect())
            .collect();
        // Who calls each fn from a hot region of theirs (a handler's body): admin code too, if
        // the region's fn is. (`None`: a region outside any fn.)
        // (With whether the region is a spawned task's.)
        let mut region_callers: PerFn<Vec<RegionCaller>> =
            units.iter().map(|u| vec![Vec::new(); u.facts.fns.len()]).collect();
        for l in links.iter().filter(|l| !l.test && l.hot.is_some_and(|(_, h)| !h.kind.is_cold())) {
            let spawned = l.hot.is_some_and(|(_, h)| is_task(h.kind));
            region_callers[l.to.0][l.to.1].push((l.from, spawned));
        }
        let admin = admin_only(units, &of, &callers, &region_callers);
        let command = commands(units, &entries, &programs);
        let program = in_programs(units, &entries, &programs);
        Exposures { of, callers, admin, command, program }
    }

    /// The functions whose callers decide where the code at `origins` runs: those
    /// on the way up from it to a program's entry, a root, or nothing. A caller in a file not
    /// analysed yet (the prefilter left it waiting) could change the answer.
    pub(crate) fn callers_wanted(&self, units: &[Unit], origins: &[(usize, Origin)]) -> HashSet<Wanted> {
        let mut wanted = HashSet::default();
        let mut seen = HashSet::default();
        let mut todo: Vec<FnId> = origins
            .iter()
            .filter(|(_, o)| o.hot.is_none() && !o.test)
            .filter_map(|(u, o)| Some((*u, o.caller?)))
            .collect();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            let hot = match self.of[id.0][id.1].1 {
                Why::Region(_, h) => !h.kind.is_cold(),
                Why::Root(_) => true,
                _ => false,
            };
            if hot {
                continue; // hot whoever else calls it
            }
            let f = &units[id.0].facts.fns[id.1];
            // A method's type (`Store` of `pkg::store::Store::open`): its callers name it.
            let owner = qualifier(f).filter(|q| q.starts_with(char::is_uppercase));
            let package = units[id.0].package.map(str::to_string);
            wanted.insert(Wanted { package, owner: owner.map(str::to_string), name: f.name.clone() });
            todo.extend(self.callers[id.0][id.1].iter().copied());
        }
        wanted
    }

    /// Is `unit` part of a program, whose code runs only where the program calls it (a
    /// library's callers may be anything)?
    pub(crate) fn in_program(&self, unit: usize) -> bool {
        self.program[unit]
    }

    /// Is `unit` part of a command: a program none of whose code runs beside other tasks, so
    /// that its whole work is on its startup path?
    pub(crate) fn in_command(&self, unit: usize) -> bool {
        self.command[unit]
    }

    /// The exposure of code at `origin` in file `unit`, and a note that says why. `waits`: the
    /// finding is a call that waits for something else (`Rank::waits`).
    pub(crate) fn of(&self, units: &[Unit], unit: usize, origin: &Origin, waits: bool) -> (Exposure, String) {
        let (exposure, note) = self.where_runs(units, unit, origin);
        // Hot code of an admin interface runs on an operator's requests: rarely; migrations run
        // once. (A wait there, for input or a thread, holds a worker however rarely it starts.)
        // (Not in a task a reload spawns, which may run on for good: see `admin_only`.)
        let spawned = origin.hot.is_some_and(|h| is_task(h.kind));
        let Some(admin) = origin
            .caller
            .and_then(|c| self.admin[unit][c])
            .filter(|&a| exposure == Exposure::Hot && !(spawned && is_reload(units, a)))
        else {
            return (exposure, note);
        };
        let f = &units[admin.0].facts.fns[admin.1];
        let (part, rare) = rare_part(&units[admin.0], f).unwrap_or(("admin", Rare::Admin));
        if waits && matches!(rare, Rare::Admin) {
            return (exposure, note);
        }
        let via = match origin.caller {
            Some(c) if (unit, c) != admin => format!(", reached only from `{}`", f.name),
            _ => String::new(),
        };
        match rare {
            Rare::Admin => (
                Exposure::Admin,
                format!("in admin code (`{part}`{via}), which runs on an operator's rare requests; {note}"),
            ),
            Rare::Reload => (
                Exposure::Admin,
                format!(
                    "in a reload of settings (`{part}`{via}), which runs on an operator's signal or a change of \
                     configuration; {note}"
                ),
            ),
            Rare::Migration => (
                Exposure::Startup,
                format!(
                    "in schema migrations (`{part}`{via}), which run once, when the database is upgraded"
                ),
            ),
        }
    }

    /// Does code at `origin` run in a task nobody waits for (spawned and its handle dropped,
    /// `spawn_try_task(self.notify(..))`): written in the task, or in a fn only such a task
    /// calls (no caller outside tasks awaits it; what it calls in turn has one, itself)?
    pub(crate) fn in_detached_task(&self, unit: usize, origin: &Origin) -> bool {
        let detached = |hot: Hot| hot.kind == HotKind::Detached;
        if let Some(hot) = origin.hot {
            return detached(hot);
        }
        let Some(c) = origin.caller else { return false };
        self.callers[unit][c].is_empty() && matches!(self.of[unit][c].1, Why::Region(_, hot) if detached(hot))
    }

    fn where_runs(&self, units: &[Unit], unit: usize, origin: &Origin) -> (Exposure, String) {
        if units[unit].is_test_support() {
            return (Exposure::Test, "test-support code".into());
        }
        if units[unit].is_example() {
            return (Exposure::Test, "in an example or a bench: demo code, not part of the program".into());
        }
        if units[unit].is_dev_tool() {
            return (
                Exposure::Test,
                "in `xtask`, the workspace's developer tooling: not part of the program".into(),
            );
        }
        if let Some(hot) = origin.hot {
            let exposure = if hot.kind.is_cold() { Exposure::Startup } else { Exposure::Hot };
            return (exposure, region_note(units, unit, hot, origin.caller.map(|c| (unit, c))));
        }
        let Some(caller) = origin.caller else {
            return (Exposure::Hot, "runs where stall cannot tell: assumed to share the executor".into());
        };
        let (exposure, _) = self.of[unit][caller];
        let note = self.note(units, (unit, caller));
        if origin.test && exposure != Exposure::Test {
            return (Exposure::Test, "in test code".into());
        }
        (exposure, note)
    }

    /// Why `id` has its exposure: the root's reason, and the calls that lead from it.
    fn note(&self, units: &[Unit], id: FnId) -> String {
        let name = |id: FnId| units[id.0].facts.fns[id.1].name.as_str();
        let mut chain = vec![id];
        let mut root = id;
        while let (_, Why::Via(from)) = self.of[root.0][root.1] {
            if chain.len() > 16 || chain.contains(&from) {
                break;
            }
            chain.push(from);
            root = from;
        }
        let base = match self.of[root.0][root.1].1 {
            // Reached from a handler's or a `poll_*` fn's body: `root` is the callee, not it.
            Why::Region(u, hot) => match hot.kind {
                HotKind::HandlerAttribute | HotKind::Polled | HotKind::ServiceCall => {
                    region_note(units, u, hot, None)
                }
                _ => region_note(units, u, hot, Some(root)),
            },
            Why::Root(hot) => match hot.kind {
                HotKind::Polled | HotKind::ServiceCall => region_note(units, root.0, hot, Some(root)),
                _ => format!("`{}` is a request handler", name(root)),
            },
            Why::Uncalled => format!(
                "nothing in the checked code calls `{}`: a library's API, or called by a framework, so it may run \
                 beside other tasks",
                name(root)
            ),
            Why::Entry => format!("runs only at startup, from `{}`", name(root)),
            Why::Constructor => format!(
                "runs when a program builds its `{}` (`{}`), which it does once, at setup: nothing in the checked \
                 code calls it",
                qualifier(&units[root.0].facts.fns[root.1]).unwrap_or("value"),
                name(root)
            ),
            Why::Test => "test-support code".into(),
            Why::Orphan(entry) => format!(
                "nothing in the checked code calls `{}`, and it is part of a program (`{}` at {}): dead code, \
                 or called in a way stall cannot follow",
                name(root),
                name(entry),
                units[entry.0].display,
            ),
            Why::Via(_) | Why::Unreached => {
                format!("`{}` is not reached from a program's entry: assumed to share the executor", name(root))
            }
        };
        if chain.len() == 1 {
            return base;
        }
        let path: Vec<String> = chain.iter().rev().map(|&id| format!("`{}`", name(id))).collect();
        format!("{base}; through {}", path.join(" -> "))
    }
}

/// Per fn, the admin or migration fn it belongs to: an fn whose key names such a part, and an
/// fn reached only through calls from such fns (every caller is such code, none is a root of
/// its own).
fn admin_only(
    units: &[Unit],
    of: &[Vec<(Exposure, Why)>],
    callers: &[Vec<Vec<FnId>>],
    region_callers: &PerFn<Vec<RegionCaller>>,
) -> Vec<Vec<Option<FnId>>> {
    let mut admin: Vec<Vec<Option<FnId>>> = units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            (0..unit.facts.fns.len()).map(|i| rare_part(unit, &unit.facts.fns[i]).map(|_| (u, i))).collect()
        })
        .collect();
    loop {
        let mut changed = false;
        for (u, fns) in callers.iter().enumerate() {
            for (i, from) in fns.iter().enumerate() {
                let regions = &region_callers[u][i];
                let reached = matches!(of[u][i].1, Why::Via(_) | Why::Region(..));
                if admin[u][i].is_some() || !reached || (from.is_empty() && regions.is_empty()) {
                    continue;
                }
                // (A caller that runs only at startup does not make it hot: `parse` called by
                // `main` and by `reload_config` runs hot only on reloads.)
                let hot_callers = from.iter().copied().filter(|&(cu, ci)| of[cu][ci].0 == Exposure::Hot);
                // (A task a reload spawns, such as a refresher, may run on for good: it is not
                // part of the reload. One an admin request spawns is that request's job.)
                let in_region = |&(c, spawned): &RegionCaller| {
                    c.filter(|&(cu, ci)| !(spawned && admin[cu][ci].is_some_and(|a| is_reload(units, a))))
                };
                let every: Vec<Option<FnId>> =
                    hot_callers.map(Some).chain(regions.iter().map(in_region)).collect();
                if every.is_empty() {
                    continue;
                }
                if let Some(all) = every
                    .into_iter()
                    .map(|c| c.and_then(|(cu, ci)| admin[cu][ci]))
                    .collect::<Option<Vec<_>>>()
                {
                    admin[u][i] = all.first().copied();
                    changed = true;
                }
            }
        }
        if !changed {
            return admin;
        }
    }
}

/// Per file, per function.
type PerFn<T> = Vec<Vec<T>>;

/// The fn whose hot region calls a fn (`None`: a region outside any fn), and whether the
/// region is a spawned task's.
type RegionCaller = (Option<FnId>, bool);

/// A spawned task's body: it may outlive the code that spawned it.
fn is_task(kind: HotKind) -> bool {
    matches!(kind, HotKind::Spawned | HotKind::Detached)
}

/// Is the rare code `f` belongs to a reload of settings?
fn is_reload(units: &[Unit], f: FnId) -> bool {
    matches!(rare_part(&units[f.0], &units[f.0].facts.fns[f.1]), Some((_, Rare::Reload)))
}

/// Code that runs rarely, by what its package or module is named.
#[derive(Clone, Copy)]
enum Rare {
    /// A program's separate admin interface: an operator's rare requests.
    Admin,
    /// Schema migrations (`warpgate_db_migrations::m00044_tickets`, `sqlx_core::migrate`): run
    /// once, when the database is upgraded, before the program serves (startup).
    Migration,
    /// A reload of settings (`reload_config`, `reload_tls_acceptor`): on an operator's signal,
    /// a change of the file, or a slow timer.
    Reload,
}

/// Words that, beside `reload`, name what a fn reloads as settings an operator changes (not a
/// record refreshed per request, as an ORM's `user.reload()`).
const RELOADED_SETTINGS: &[&str] = &[
    "config",
    "configs",
    "conf",
    "cfg",
    "configuration",
    "settings",
    "tls",
    "cert",
    "certs",
    "certificate",
    "certificates",
    "acceptor",
    "signal",
    "sighup",
];

/// Words that make a reload one that may run per request or connection: when something
/// changed (`maybe_reload_config`, `reload_config_if_changed`, checked on every request), or
/// of a user's or a session's settings.
const RELOADED_PER_USE: &[&str] = &[
    "maybe",
    "if",
    "when",
    "needed",
    "changed",
    "check",
    "stale",
    "user",
    "users",
    "session",
    "sessions",
    "request",
    "conn",
    "connection",
    "tenant",
];

/// The part of a fn's path that names it admin or migration code: a package or module with
/// the word `admin` (`garage_api_admin`, `api::admin::diagnostics`) or `migration(s)`,
/// `migrate`, `migrator` in its name. A fn's own name (`async fn admin(..)`) is no such
/// evidence, nor is the name of a file outside any crate (`<p12_admin_task.rs>`).
///
/// A method's key names its type's module, not the impl's, and a method of a type the key
/// cannot name (`impl Source for &Path`) has none: the module files of the package's `src/`
/// (`src/migrate/source.rs`) count too.
///
/// A fn named as a reload of settings (`reload_config`, `launch_signal_reload_server_task`) is
/// such code by its own name.
fn rare_part<'u>(unit: &Unit<'u>, f: &'u crate::facts::FnFacts) -> Option<(&'u str, Rare)> {
    let words = || f.name.split('_').map(str::to_ascii_lowercase);
    if words().any(|w| w == "reload")
        && words().any(|w| RELOADED_SETTINGS.contains(&w.as_str()))
        && !words().any(|w| RELOADED_PER_USE.contains(&w.as_str()))
    {
        return Some((f.name.as_str(), Rare::Reload));
    }
    let in_key = f.key.as_deref().and_then(|k| k.split_last_sep()).map(|(m, _)| m.split("::"));
    let in_src = match unit.display.rsplit_once("/src/") {
        Some((_, p)) => Some(p),
        None => unit.display.strip_prefix("src/"),
    };
    let files = in_src.and_then(|p| p.strip_suffix(".rs")).map(|p| p.split('/'));
    let modules = in_key.into_iter().flatten().chain(files.into_iter().flatten());
    modules.filter(|s| !s.starts_with('<')).find_map(|s| {
        s.split(['_', '#']).find_map(|w| match w {
            "admin" => Some((s, Rare::Admin)),
            "migration" | "migrations" | "migrate" | "migrator" => Some((s, Rare::Migration)),
            _ => None,
        })
    })
}

/// What qualifies a fn's name in its key: the type a method belongs to (`Client` of
/// `kube::client::Client::try_default`), or its module.
fn qualifier(f: &crate::facts::FnFacts) -> Option<&str> {
    f.key.as_deref().and_then(key_parts).map(|(q, _)| q)
}

/// Calls the resolver could not name, linked to the one fn of the run they can name: a
/// method name (`x.rotate_logs()`) or `Type::method` that exactly one fn of the run has. A
/// wrong link can only make a fn look called from where it is not; with one candidate it is
/// rare, and names shared by several fns (`new`, `get`, `run`) link nowhere. A call through a
/// type parameter (`I::new()` with `I: Importer`) links to every impl of the trait's method.
fn loose_links<'u>(units: &'u [Unit], by_trait: &HashMap<String, Vec<FnId>>) -> Vec<Link<'u>> {
    let mut by_name: HashMap<&str, Vec<FnId>> = HashMap::default();
    for (u, unit) in units.iter().enumerate() {
        for (i, f) in unit.facts.fns.iter().enumerate() {
            let Some(key) = f.key.as_deref() else { continue };
            by_name.entry(f.name.as_str()).or_default().push((u, i));
            // `Type::method`: the key's last two segments.
            if let Some((head, _)) = key.split_last_sep() {
                let start = head.rfind_sep().map_or(0, |i| i + 2);
                by_name.entry(&key[start..]).or_default().push((u, i));
            }
        }
    }
    let mut links = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        for call in &unit.facts.loose_calls {
            let to: &[FnId] = match call.via_trait {
                true => by_trait.get(&call.name).map_or(&[], Vec::as_slice),
                false => match by_name.get(call.name.as_str()).map(Vec::as_slice) {
                    Some(one @ [_]) => one,
                    // The impls of one of the crates' own traits (`repo.create_account(..)` on a
                    // `dyn Repo`, with a SQLite and a Postgres impl): a call through the trait
                    // runs one of them.
                    Some(many) if one_own_trait(units, by_trait, many) => many,
                    _ => &[],
                },
            };
            // A fn's own name does not link it to itself.
            let own = call.origin.caller.map(|c| (u, c));
            let to = to.iter().filter(|&&to| own != Some(to));
            links
                .extend(to.filter_map(|&to| Link::new(units, u, &call.origin, call.origin.hot.as_ref(), to)));
        }
    }
    links
}

/// `Trait::method` -> its impls, for the crates' own traits: a foreign trait's impls may be
/// called by its crate (a framework), which the run does not see.
fn own_trait_impls(units: &[Unit]) -> HashMap<String, Vec<FnId>> {
    // Impls name their trait by its last segment: two traits of one name (`net::Handler`,
    // `maint::Handler`) cannot be told apart, so neither links.
    // (A file compiled into two targets declares its traits once.)
    let mut files = HashSet::default();
    let mut declared: HashMap<&str, usize> = HashMap::default();
    for u in units.iter().filter(|u| !u.dependency && files.insert(u.display)) {
        for t in &u.facts.traits {
            *declared.entry(t.as_str()).or_default() += 1;
        }
    }
    let own_traits: HashSet<&str> = declared.into_iter().filter(|&(_, n)| n == 1).map(|(t, _)| t).collect();
    let mut by_trait: HashMap<String, Vec<FnId>> = HashMap::default();
    for (u, unit) in units.iter().enumerate() {
        for (i, f) in unit.facts.fns.iter().enumerate() {
            if let Some(t) = f.implements.as_deref().filter(|t| own_traits.contains(t)) {
                by_trait.entry(format!("{t}::{}", f.name)).or_default().push((u, i));
            }
        }
    }
    by_trait
}

/// Are `fns` all the impls of one method of one of the crates' own traits?
fn one_own_trait(units: &[Unit], by_trait: &HashMap<String, Vec<FnId>>, fns: &[FnId]) -> bool {
    let (u, i) = fns[0];
    let f = &units[u].facts.fns[i];
    let impls = f.implements.as_deref().and_then(|t| by_trait.get(&format!("{t}::{}", f.name)));
    impls.is_some_and(|all| fns.iter().all(|id| all.contains(id)))
}

/// A function whose callers are wanted: its package (only it and the packages depending on it
/// can call it), the type of a method (its callers name it too), and its name.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Wanted {
    pub package: Option<String>,
    pub owner: Option<String>,
    pub name: String,
}

/// The packages that are a program's own libraries, each with the entry of one program it is
/// part of: what a package with a program entry (`main` of a binary) uses by path or through
/// its workspace, transitively, among the run's packages.
fn program_parts<'a>(units: &[Unit<'a>]) -> (HashMap<&'a str, FnId>, HashMap<&'a str, FnId>) {
    let mut uses: HashMap<&str, &[String]> = HashMap::default();
    let mut programs: HashMap<&str, FnId> = HashMap::default();
    let mut parts: HashMap<&str, FnId> = HashMap::default();
    let mut queue: VecDeque<(&str, FnId)> = VecDeque::new();
    for (u, unit) in units.iter().enumerate() {
        let Some(p) = unit.package else { continue };
        uses.insert(p, unit.uses);
        // A binary's entry: not a build script's `main` (cargo's), nor a `#[tokio::main]` helper
        // of a library (a sync fn running its own runtime). Developer tooling using a library
        // does not make the library a program's.
        if !unit.target.contains("@bin") || unit.is_test_support() || unit.is_dev_tool() || !unit.in_tree {
            continue;
        }
        if let Some(i) = unit.facts.fns.iter().position(|f| f.entry && !f.test) {
            if !programs.contains_key(p) {
                programs.insert(p, (u, i));
                queue.push_back((p, (u, i)));
            }
        }
    }
    while let Some((p, entry)) = queue.pop_front() {
        for used in uses.get(p).copied().unwrap_or_default() {
            if let Some((&name, _)) = uses.get_key_value(used.as_str()) {
                if !parts.contains_key(name) && !programs.contains_key(name) {
                    parts.insert(name, entry);
                    queue.push_back((name, entry));
                }
            }
        }
    }
    (programs, parts)
}

/// Per file, whether it is part of a command: a program package (see `program_parts`) or a
/// lone file with an entry, whose files and whose parts' files serve nothing (`serves`: no
/// handler, spawned task, event loop, joined futures or bound listener; tasks it spawns into a
/// `JoinSet` and collects are its own work). A library is never a command: its callers may be
/// anything.
fn commands(units: &[Unit], programs: &HashMap<&str, FnId>, parts: &HashMap<&str, FnId>) -> Vec<bool> {
    // The program each package runs in (its own, or the one using it as a part).
    let program_of = |u: usize| -> Option<&str> {
        let p = units[u].package?;
        match (programs.contains_key(p), parts.get(p)) {
            (true, _) => Some(p),
            (false, Some(&(eu, _))) => units[eu].package,
            _ => None,
        }
    };
    let mut serving: HashSet<&str> = HashSet::default();
    for (u, unit) in units.iter().enumerate() {
        if unit.facts.serves {
            serving.extend(program_of(u));
        }
    }
    (0..units.len())
        .map(|u| match units[u].package {
            Some(_) => program_of(u).is_some_and(|p| !serving.contains(p)),
            None => !units[u].facts.serves && units[u].facts.fns.iter().any(|f| f.entry && !f.test),
        })
        .collect()
}

/// Per file, whether it is part of a program: a package with a binary, one of its own
/// libraries (see `program_parts`), or a lone file with an entry.
fn in_programs(units: &[Unit], programs: &HashMap<&str, FnId>, parts: &HashMap<&str, FnId>) -> Vec<bool> {
    units
        .iter()
        .map(|unit| match unit.package {
            Some(p) => programs.contains_key(p) || parts.contains_key(p),
            None => unit.facts.fns.iter().any(|f| f.entry && !f.test),
        })
        .collect()
}

/// Gives `id` an exposure, unless it has one, and queues it to pass it on.
fn mark(
    out: &mut [Vec<Option<(Exposure, Why)>>],
    queue: &mut VecDeque<FnId>,
    id: FnId,
    e: Exposure,
    why: Why,
) {
    if out[id.0][id.1].is_none() {
        out[id.0][id.1] = Some((e, why));
        queue.push_back(id);
    }
}

/// Marks everything reachable from the queued functions with `exposure`, each with the
/// function it was reached from.
fn spread(
    out: &mut [Vec<Option<(Exposure, Why)>>],
    from: &[Vec<Vec<FnId>>],
    queue: &mut VecDeque<FnId>,
    exposure: Exposure,
) {
    while let Some(id) = queue.pop_front() {
        for &to in &from[id.0][id.1] {
            if out[to.0][to.1].is_none() {
                out[to.0][to.1] = Some((exposure, Why::Via(id)));
                queue.push_back(to);
            }
        }
    }
}

fn region_note(units: &[Unit], unit: usize, hot: Hot, within: Option<FnId>) -> String {
    let at = format!("{}:{}", units[unit].display, hot.at.start.line);
    let within = within.map(|(u, i)| units[u].facts.fns[i].name.as_str());
    match hot.kind {
        HotKind::Spawned | HotKind::Detached => format!("runs in the task spawned at {at}"),
        HotKind::Handler => format!("runs in the request handler registered at {at}"),
        HotKind::EventLoop => format!("runs in the event loop at {at}"),
        HotKind::Alongside => format!("runs while the task spawned at {at} does"),
        HotKind::Joined => format!("runs beside the futures joined with it at {at}"),
        HotKind::Polled => match within {
            Some(name) => format!("`{name}` is polled by the executor"),
            None => format!("runs in the `poll_*` fn at {at}, which the executor polls"),
        },
        HotKind::Callback => match within {
            Some(name) => {
                format!("`{name}` is passed as a callback at {at}, so it may run beside other tasks")
            }
            None => format!("passed as a callback at {at}"),
        },
        HotKind::ServiceCall => match within {
            Some(_) => "`call` of a `Service` runs on the executor for each request".to_string(),
            None => {
                format!("runs in the `Service::call` at {at}, which runs on the executor for each request")
            }
        },
        HotKind::HandlerAttribute => match within {
            Some(name) => format!("`{name}` is a request handler"),
            None => format!("runs in the request handler at {at}"),
        },
        HotKind::Once => {
            format!("runs once per process, when the cell or static at {at} is first initialised")
        }
        HotKind::Registered => format!("runs when the callback registered at {at} is called"),
        HotKind::CacheMiss => {
            format!("runs on a cache miss, once per key: the lookup at {at} stores what it computes")
        }
        HotKind::Setup => {
            format!("prepares the server whose listener is bound at {at}: runs once, when it starts")
        }
        HotKind::Thread => {
            format!("runs on a thread of its own (called at {at}), not on the shared executor")
        }
    }
}
