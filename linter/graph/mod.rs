//! The cross-file stage: joins the facts of every file of a run into the findings that need
//! them all. One `join`, used by every entry point (paths, stdin, the language server):
//! - findings deferred to a crate fn stand unless that fn is an offload wrapper;
//! - serial findings stand unless they await an idle fn of their package (`idle`);
//! - async code calling sync fns of the crates that block gets transitive findings.

use crate::qualified::Qualified;

mod exposure;
mod generic;
mod idle;
pub(crate) mod keys;
#[cfg(test)]
mod test_support;
mod transitive;

use std::collections::HashSet;

use crate::diagnostic::{Diagnostic, Exposure};
use crate::facts::{key_parts, FileFacts, Finding};
use crate::semantic::types;
use keys::{FnId, KeyIndex};

/// One file as the join sees it.
pub(crate) struct Unit<'a> {
    /// The path shown in notes.
    pub display: &'a str,
    /// Its package, when it has one: serial callees are looked up there.
    pub package: Option<&'a str>,
    /// Its package is one whose internals are not followed (a runtime, a channel crate):
    /// checked for its own findings, but calls from other packages stop at its border.
    pub opaque: bool,
    /// A file the run is about (all of them, unless files were named): a finding merged with
    /// others is shown in one of these.
    pub focused: bool,
    /// Its compilation target (`pkg`, `pkg@bin`, `pkg@examples/demo`).
    pub target: &'a str,
    pub facts: &'a FileFacts,
    /// A dependency's file: it leads chains but never calls the crates' code.
    pub dependency: bool,
    /// The packages its package depends on by path or through its workspace.
    pub uses: &'a [String],
    /// A crate root of its package reaches it (it is compiled into a target).
    pub in_tree: bool,
}

impl Unit<'_> {
    /// In an example or a bench: a program of its own beside the library.
    fn is_example(&self) -> bool {
        self.target.contains("@examples/") || self.target.contains("@benches/")
    }

    /// In a workspace's developer tooling: a package named `xtask` (the `cargo xtask`
    /// convention: build, release and benchmark automation a developer runs by hand).
    fn is_dev_tool(&self) -> bool {
        self.package.is_some_and(|p| {
            let p = p.to_ascii_lowercase().replace('-', "_");
            p == "xtask" || p == "xtasks" || p.ends_with("_xtask") || p.starts_with("xtask_")
        })
    }

    /// In a test target, or in a package made to support tests (`*testkit*`, `*test_utils*`,
    /// `*_testing`, `tests_*`).
    fn is_test_support(&self) -> bool {
        self.target.contains("@tests/")
            || self.package.is_some_and(|p| {
                let p = p.to_ascii_lowercase();
                ["testkit", "test_util", "testutil", "test_helper", "test_support", "test_harness"]
                    .iter()
                    .any(|w| p.contains(w))
                    || p.ends_with("_testing")
                    || p.ends_with("_test_utils")
                    || p.starts_with("tests_")
                    || p.starts_with("test_")
            })
    }
}

/// The functions of the run that may run a closure handed to them off the executor.
pub(crate) struct Offloads<'a> {
    /// Keys of offload wrappers (and of aliases of offload functions).
    wrappers: HashSet<&'a str>,
    /// Keys of fns that only keep the closures handed to them.
    keepers: HashSet<&'a str>,
    /// Names of the wrappers that are methods (`exec_blocking` of `Pool::exec_blocking`).
    methods: HashSet<&'a str>,
    /// Every fn of the run, by key.
    defined: KeyIndex<'a>,
    /// Per file, per fn: its key.
    fns: Vec<Vec<Option<&'a str>>>,
}

/// Every fn of the run by key (through the files' `use` aliases): for offloads and exposure.
fn fn_index<'a>(units: &[Unit<'a>]) -> KeyIndex<'a> {
    let keys = units.iter().enumerate().flat_map(|(f, u)| {
        u.facts.fns.iter().enumerate().filter_map(move |(i, func)| Some(((f, i), func.key.as_deref()?)))
    });
    KeyIndex::new(keys, units.iter().map(|u| u.facts))
}

impl<'a> Offloads<'a> {
    fn new(units: &[Unit<'a>]) -> Self {
        let wrappers =
            units.iter().flat_map(|u| u.facts.offload_wrappers.iter().map(String::as_str)).collect();
        let fns = units.iter().map(|u| u.facts.fns.iter().map(|f| f.key.as_deref()).collect()).collect();
        let keepers = units.iter().flat_map(|u| u.facts.closure_keepers.iter().map(String::as_str)).collect();
        let mut offloads =
            Offloads { wrappers, keepers, methods: HashSet::new(), defined: fn_index(units), fns };
        // A fn handing its closure parameter to a wrapper is a wrapper, to a fixpoint.
        let via: Vec<(&str, &str)> = units
            .iter()
            .flat_map(|u| u.facts.offload_wrappers_via.iter().map(|(a, b)| (a.as_str(), b.as_str())))
            .collect();
        loop {
            let found: Vec<&str> = via
                .iter()
                .filter(|(f, to)| !offloads.wrappers.contains(f) && offloads.names_wrapper(to))
                .map(|(f, _)| *f)
                .collect();
            if found.is_empty() {
                break;
            }
            offloads.wrappers.extend(found);
        }
        offloads.methods = offloads
            .wrappers
            .iter()
            .filter_map(|k| key_parts(k))
            .filter(|(qual, _)| qual.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|(_, name)| name)
            .collect();
        offloads
    }

    /// Does `key` name an offload wrapper, as written or through the aliases it goes by?
    fn names_wrapper(&self, key: &str) -> bool {
        self.wrappers.contains(key) || self.any_wrapper(self.defined.lookup(key))
    }

    /// Is one of these fns an offload wrapper?
    fn any_wrapper(&self, ids: &[FnId]) -> bool {
        self.any_in(ids, &self.wrappers)
    }

    /// Is one of these fns, by its key, in `keys`?
    fn any_in(&self, ids: &[FnId], keys: &HashSet<&str>) -> bool {
        ids.iter().any(|&(f, i)| self.fns[f][i].is_some_and(|k| keys.contains(k)))
    }

    /// Code handed through these fns (each in a closure handed to the one before) runs off
    /// the executor if any of them may run it there.
    pub(crate) fn any_offloads(&self, keys: &[String]) -> bool {
        keys.iter().any(|k| self.may_offload(k))
    }

    /// May the fn a closure was handed to (by deferral key) run it off the executor? Yes for an
    /// offload wrapper; for a method of a value the model could not type (`*::exec_blocking`),
    /// or of one another file types that the declaration did not lead to (`state.pool.<run>`),
    /// when a wrapper method of the crates has that name; and for a method of the crates'
    /// types that no file defines (made by a macro or derive, like a pool's `conn.run(|c| ..)`),
    /// since the code cannot tell.
    pub(crate) fn may_offload(&self, key: &str) -> bool {
        // (A fn that only keeps the closure does not run it at all: not here either.)
        if self.wrappers.contains(key) || self.keepers.contains(key) {
            return true;
        }
        let defined = self.defined.lookup(key);
        if self.any_wrapper(defined) || self.any_in(defined, &self.keepers) {
            return true;
        }
        if let Some(method) = key.strip_prefix(crate::semantic::ANY_METHOD) {
            return self.methods.contains(method);
        }
        if !defined.is_empty() {
            return false;
        }
        if key.contains("::<") {
            let method = key.last_segment();
            return self.methods.contains(method);
        }
        key_parts(key).is_some_and(|(qual, _)| qual.starts_with(|c: char| c.is_ascii_uppercase()))
    }
}

/// What `join` makes of the units alone, before any finding is settled: the transitive
/// findings and where each fn runs. `callers_wanted` makes it; when no file is parsed after,
/// `join` takes it instead of making it again (the run's costliest step after parsing).
pub(crate) struct Prepared {
    transitive: Vec<(usize, Finding)>,
    exposures: exposure::Exposures,
    /// How many units it was made from.
    units: usize,
}

impl Prepared {
    /// (The two halves are independent: they run side by side on the run's thread pool, and
    /// one after the other outside one, as for a single text checked on the caller's thread.)
    fn new(units: &[Unit], offloads: &Offloads, transitive: bool) -> Prepared {
        let found = || if transitive { transitive::diagnostics(units, offloads) } else { Vec::new() };
        let exposures = || exposure::Exposures::compute(units, &offloads.defined);
        let (found, exposures) = match rayon::current_thread_index() {
            Some(_) => rayon::join(found, exposures),
            None => (found(), exposures()),
        };
        Prepared { transitive: found, exposures, units: units.len() }
    }
}

/// The functions (name, and type for a method) whose callers decide where some finding of the
/// run's files runs (see `Exposures::callers_wanted`): the engine parses the waiting files that
/// mention them before it settles. Dependencies' files lead chains but never call the crates'
/// code, so only the crates' own findings ask.
pub(crate) fn callers_wanted(
    units: &[Unit],
    transitive: bool,
) -> (rustc_hash::FxHashSet<exposure::Wanted>, Prepared) {
    let offloads = Offloads::new(units);
    let prepared = Prepared::new(units, &offloads, transitive);
    let mut origins = Vec::new();
    for (f, u) in units.iter().enumerate().filter(|(_, u)| !u.dependency) {
        origins.extend(u.facts.findings.iter().map(|x| (f, x.origin)));
        origins.extend(u.facts.deferred.iter().map(|(_, x)| (f, x.origin)));
        origins.extend(u.facts.serial.iter().map(|p| (f, p.origin)));
    }
    let own = prepared.transitive.iter().filter(|(f, _)| !units[*f].dependency);
    origins.extend(own.map(|(f, x)| (*f, x.origin)));
    let names = prepared.exposures.callers_wanted(units, &origins);
    (names, prepared)
}

/// Every file's findings, settled against the whole run: its own (`own`, one list per unit)
/// and those it gains from the others, each with its exposure and a note that says why. The
/// facts' keys must already be made unique per target (`FileFacts::retarget`).
/// `prepared`: what `callers_wanted` made of these same units, if it did.
pub(crate) fn join(
    units: &[Unit],
    own: Vec<Vec<Finding>>,
    transitive: bool,
    prepared: Option<Prepared>,
) -> Vec<Vec<Diagnostic>> {
    let offloads = Offloads::new(units);
    let mut all = own;
    for (f, u) in units.iter().enumerate() {
        for (keys, finding) in &u.facts.deferred {
            if !offloads.any_offloads(keys) {
                all[f].push(finding.clone());
            }
        }
    }
    let serial: Vec<_> =
        units.iter().map(|u| (u.package, u.facts.async_fns.as_slice(), u.facts.serial.as_slice())).collect();
    // (A member of a struct named like another's whose field of that name is no client, as
    // `web::Context::<api>` beside `ingest::Context::<api>`, is not known for one in the
    // package of that namesake or in the packages using it.)
    let mut others: rustc_hash::FxHashMap<u64, Vec<Option<&str>>> = Default::default();
    for u in units {
        for &h in &u.facts.other_members {
            let packages = others.entry(h).or_default();
            if !packages.contains(&u.package) {
                packages.push(u.package);
            }
        }
    }
    let anywhere = |m: &&String| !others.contains_key(&types::member_hash(m));
    let through_aliases = client_members_through_aliases(units, &anywhere);
    let client_members: HashSet<&str> = units
        .iter()
        .flat_map(|u| u.facts.client_members.iter().map(|m| types::member_tail(m)))
        .chain(through_aliases.iter().map(String::as_str))
        .collect();
    let is_client = |tail: &str, f: usize| {
        let unit = &units[f];
        let seen_here =
            |q: &Option<&str>| *q == unit.package || q.is_some_and(|q| unit.uses.iter().any(|d| d == q));
        client_members.contains(tail)
            && !others.get(&types::member_hash(tail)).is_some_and(|packages| packages.iter().any(seen_here))
    };
    let mut extra = idle::settle(&serial, &is_client);
    extra.extend(generic::diagnostics(units));
    let prepared = match prepared {
        Some(p) if p.units == units.len() => p,
        _ => Prepared::new(units, &offloads, transitive),
    };
    extra.extend(prepared.transitive);
    for (f, finding) in extra {
        all[f].push(finding);
    }
    let exposures = prepared.exposures;
    let mut out: Vec<Vec<Diagnostic>> = all
        .into_iter()
        .enumerate()
        .map(|(f, findings)| {
            findings
                .into_iter()
                // In a fire-and-forget task nobody waits for the awaits to finish: they gain
                // nothing from running together (as for those written in the task itself).
                .filter(|x| {
                    x.diagnostic.rule.family() != crate::registry::Family::Serial
                        || !exposures.in_detached_task(f, &x.origin)
                })
                .map(|Finding { mut diagnostic, origin }| {
                    let (exposure, note) = match diagnostic.rule {
                        // A file of a package no crate root's modules reach is not compiled (a
                        // template, a data file named `.rs`): its syntax stops nothing.
                        crate::registry::Rule::ParseError
                            if !units[f].in_tree && units[f].package.is_some() =>
                        {
                            (
                                Exposure::Unreached,
                                "no module of the package includes this file, so it is not compiled"
                                    .to_string(),
                            )
                        }
                        _ => match exposures.of(units, f, &origin, diagnostic.waits) {
                            // Startup blocking stalls nothing else; in a command that serves
                            // nothing (no handler, task or event loop), awaits one at a time on
                            // its startup path are its whole work, waiting for each in turn.
                            (Exposure::Startup, note)
                                if diagnostic.rule.family() == crate::registry::Family::Serial
                                    && exposures.in_command(f) =>
                            {
                                let why = "in a command that serves nothing else: it waits for each in turn";
                                (Exposure::Hot, format!("{note}, {why}"))
                            }
                            other => other,
                        },
                    };
                    // One metadata operation per request or event of a program: brief, unless its
                    // disk is slow. (A library's callers may run its code in a loop.)
                    let (exposure, note) = match exposure {
                        Exposure::Hot if diagnostic.brief && exposures.in_program(f) => (
                            Exposure::Brief,
                            format!("{note}; it is one metadata operation per run, brief on a local disk"),
                        ),
                        _ => (exposure, note),
                    };
                    diagnostic.exposure = exposure;
                    diagnostic.notes.push(note);
                    diagnostic
                })
                .collect()
        })
        .collect();
    once_per_callee(units, &mut out);
    for diagnostics in &mut out {
        one_finding_per_call(diagnostics);
        one_finding_per_line(diagnostics);
        one_finding_per_callee_in_body(diagnostics);
    }
    out
}

/// A call the catalog says blocks (`req.call()` of a blocking HTTP client) is reported as
/// such; the chain into the client's sources from the same call would say it twice. (By where
/// the call ends: one ending a chain over several lines is reported from its method's line.)
fn one_finding_per_call(diagnostics: &mut Vec<Diagnostic>) {
    let direct: HashSet<(usize, usize)> = diagnostics
        .iter()
        .filter(|d| d.callee.is_none() && d.rule.is_blocking())
        .map(|d| (d.span.end.line, d.span.end.column))
        .collect();
    diagnostics.retain(|d| d.callee.is_none() || !direct.contains(&(d.span.end.line, d.span.end.column)));
}

/// A blocking call made inside another reported one in the same async code, in a closure the
/// outer call runs (`with_lock(root, || append_line(root))`) or in an argument it is given,
/// moves off the executor with it: the outermost one is reported, naming the inner in a note
/// (and keeping the inner's list of other call sites). Run after suppressions and the
/// configuration's rule selection, so that neither hides a finding through another. (Kept
/// apart: an inner one with a fix of its own, or inside one with a fix, as `--fix` needs
/// them.)
pub(crate) fn one_finding_per_call_tree(diagnostics: &mut Vec<Diagnostic>) {
    // "async fn `load`" of "blocking call `x` in async fn `load`" and of "`h` blocks in async
    // fn `load`: it reaches `x`".
    let context = |d: &Diagnostic| {
        let rest = d.message.split_once(" in ").map(|x| x.1)?;
        Some(rest.split(':').next().unwrap_or(rest).to_string())
    };
    let within = |inner: &Diagnostic, outer: &Diagnostic| {
        let (i, mut o) = (inner.span, outer.span);
        // (A call ending a chain over several lines holds the whole chain.)
        o.start = outer.chain_start.unwrap_or(o.start);
        outer.rule.is_blocking()
            && outer.fix.is_none()
            // (A brief call inside a hot one moves off with it.)
            && (outer.exposure == inner.exposure
                || (outer.exposure, inner.exposure) == (Exposure::Hot, Exposure::Brief))
            && o.start <= i.start
            && i.end <= o.end
            && (o.start, o.end) != (i.start, i.end)
            && context(outer).is_some()
            && context(outer) == context(inner)
    };
    let mut drop = vec![false; diagnostics.len()];
    let mut notes: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if !d.rule.is_blocking() || d.fix.is_some() {
            continue;
        }
        let outermost = (0..diagnostics.len())
            .filter(|&o| o != i && within(d, &diagnostics[o]))
            .max_by_key(|&o| (std::cmp::Reverse(diagnostics[o].span.start), diagnostics[o].span.end));
        if let Some(outer) = outermost {
            let called = d.message.split('`').nth(1).unwrap_or("another call");
            let mut carried = vec![format!("`{called}` inside it blocks too")];
            carried.extend(d.notes.iter().filter(|n| n.contains(ALSO_CALLED)).cloned());
            notes.push((outer, carried));
            drop[i] = true;
        }
    }
    for (outer, carried) in notes.into_iter().rev() {
        for note in carried.into_iter().rev() {
            // (One note per callee: `append_line` called twice in the closure is one thing.)
            if !diagnostics[outer].notes.contains(&note) {
                diagnostics[outer].notes.insert(0, note);
            }
        }
    }
    drop_marked(diagnostics, &drop);
}

/// Calls of one blocking fn in one async body (`it.next()` to skip the root, then `while let
/// Some(e) = it.next()`), and writes to one value there (`f.write_all(..)`, then
/// `writeln!(f, ..)`, then `f.flush()`), are one thing to move off the executor: the first is
/// reported, naming the others in a note.
fn one_finding_per_callee_in_body(diagnostics: &mut Vec<Diagnostic>) {
    #[derive(PartialEq, Eq, Hash)]
    enum Same {
        Callee((usize, usize)),
        Receiver(String),
    }
    fn body(d: &Diagnostic) -> Option<String> {
        if d.receiver.is_some() {
            return d.message.split_once("` in ").map(|(_, rest)| rest.to_string());
        }
        let (_, rest) = d.message.split_once(" blocks in ")?;
        Some(rest.split(": it reaches").next().unwrap_or(rest).to_string())
    }
    let mut first: std::collections::HashMap<(Same, crate::registry::Rule, String), usize> =
        std::collections::HashMap::new();
    let mut notes: Vec<(usize, String)> = Vec::new();
    // Lines of more blocking calls on the value a kept finding's call is made on.
    let mut again: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    let mut drop = vec![false; diagnostics.len()];
    for (i, d) in diagnostics.iter().enumerate() {
        let same = match (d.callee, &d.receiver) {
            (Some(callee), _) => Same::Callee(callee),
            (None, Some(value)) => Same::Receiver(value.clone()),
            (None, None) => continue,
        };
        let Some(context) = body(d) else { continue };
        let key = (same, d.rule, context);
        match first.get(&key) {
            Some(&kept) if diagnostics[kept].exposure == d.exposure && d.fix.is_none() => {
                let line = d.span.start.line;
                match (&d.receiver, d.callee) {
                    (Some(_), None) => again.entry(kept).or_default().push(line),
                    _ => {
                        let called = d.message.split('`').nth(1).unwrap_or("it");
                        notes.push((
                            kept,
                            format!("`{called}` is called again at line {line}, in the same code"),
                        ));
                    }
                }
                drop[i] = true;
            }
            Some(_) => {}
            None => {
                first.insert(key, i);
            }
        }
    }
    for (kept, lines) in again {
        let value = diagnostics[kept].receiver.clone().unwrap_or_default();
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        let (s, list) = if lines.len() == 1 { ("", lines[0].clone()) } else { ("s", lines.join(", ")) };
        notes.push((kept, format!("more writes to `{value}` in the same code, at line{s} {list}")));
    }
    for (kept, note) in notes.into_iter().rev() {
        let last = diagnostics[kept].notes.len().saturating_sub(1);
        diagnostics[kept].notes.insert(last, note);
    }
    drop_marked(diagnostics, &drop);
}

/// Removes the findings `drop` marks (by index), keeping the order of the others.
fn drop_marked(diagnostics: &mut Vec<Diagnostic>, drop: &[bool]) {
    let mut marks = drop.iter();
    diagnostics.retain(|_| !marks.next().copied().unwrap_or(false));
}

/// Part of the note on the one call of a much-called blocking fn that is reported.
const ALSO_CALLED: &str = "is also called from async code at";

/// Two calls of one rule on a line (`.load(&mut pool.get()?)`, a pool checkout and the query
/// it serves) are one thing to move off the executor: the first is reported, naming the other
/// in a note; but a brief one gives way to one that is not (`File::open(p)?.read_to_string(..)`
/// is the read). (One with a fix of its own is kept: `--fix` needs it.)
fn one_finding_per_line(diagnostics: &mut Vec<Diagnostic>) {
    let mut first: std::collections::HashMap<(usize, crate::registry::Rule), usize> =
        std::collections::HashMap::new();
    let mut notes: Vec<(usize, String)> = Vec::new();
    let mut drop = vec![false; diagnostics.len()];
    for (i, d) in diagnostics.iter().enumerate() {
        if d.callee.is_some() || !d.rule.is_blocking() {
            continue;
        }
        // (Only within one body where it runs the same way: a handler's closure on the line
        // of a startup call is another finding.)
        let hot_or_brief = |e: Exposure| matches!(e, Exposure::Hot | Exposure::Brief);
        let same_place = |kept: usize| {
            let k: &Diagnostic = &diagnostics[kept];
            (k.exposure == d.exposure || hot_or_brief(k.exposure) && hot_or_brief(d.exposure))
                && k.message.split_once("` in ").map(|x| x.1) == d.message.split_once("` in ").map(|x| x.1)
        };
        let called = |d: &Diagnostic| d.message.split('`').nth(1).unwrap_or("another call").to_string();
        match first.get(&(d.span.start.line, d.rule)) {
            // (A brief one with a fix of its own stays, beside the hot one.)
            Some(&kept) if diagnostics[kept].exposure == Exposure::Brief && d.exposure == Exposure::Hot => {
                if diagnostics[kept].fix.is_none() && same_place(kept) {
                    notes.push((i, format!("`{}` on the same line blocks too", called(&diagnostics[kept]))));
                    drop[kept] = true;
                }
                first.insert((d.span.start.line, d.rule), i);
            }
            Some(&kept) if d.fix.is_none() && same_place(kept) => {
                // (The same call found twice, by its name and by its receiver's type, is one.)
                if diagnostics[kept].span != d.span {
                    notes.push((kept, format!("`{}` on the same line blocks too", called(d))));
                }
                drop[i] = true;
            }
            Some(_) => {}
            None => {
                first.insert((d.span.start.line, d.rule), i);
            }
        }
    }
    for (kept, note) in notes {
        diagnostics[kept].notes.insert(0, note);
    }
    drop_marked(diagnostics, &drop);
}

/// How many calls from async code to one blocking fn are reported one by one; from this many
/// on, they are one thing to fix (a helper every handler calls), reported once.
const CALLS_REPORTED_APART: usize = 4;

/// A sync fn that blocks and is called from async code in many places is one thing to fix:
/// it is reported at one call (the first where the code runs hottest, in file order) with a
/// note naming the others, which are dropped.
fn once_per_callee(units: &[Unit], out: &mut [Vec<Diagnostic>]) {
    use std::collections::HashMap;
    // (callee, rule) -> the calls: (file, index in its list).
    let mut calls: HashMap<(FnId, crate::registry::Rule), Vec<FnId>> = HashMap::new();
    for (f, diagnostics) in out.iter().enumerate() {
        for (i, d) in diagnostics.iter().enumerate() {
            if let Some(callee) = d.callee {
                calls.entry((callee, d.rule)).or_default().push((f, i));
            }
        }
    }
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    // A dependency's fn is not the user's to fix: each call is.
    let own = |(callee, _): &(FnId, _)| !units[callee.0].dependency;
    for ((callee, _), mut sites) in
        calls.into_iter().filter(|(c, s)| own(c) && s.len() >= CALLS_REPORTED_APART)
    {
        let at = |&(f, i): &(usize, usize)| {
            let d = &out[f][i];
            (!units[f].focused, d.exposure, units[f].display, d.span.start.line, d.span.start.column)
        };
        sites.sort_by(|a, b| at(a).cmp(&at(b)));
        let (keep, rest) = sites.split_first().expect("more than one");
        let name = &units[callee.0].facts.functions[callee.1].name;
        let listed: Vec<String> = rest
            .iter()
            .take(3)
            .map(|&(f, i)| format!("{}:{}", units[f].display, out[f][i].span.start.line))
            .collect();
        let more = match rest.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        let note =
            format!("`{name}` {ALSO_CALLED} {}{more}: fixing `{name}` fixes them all", listed.join(", "));
        let kept = &mut out[keep.0][keep.1];
        let last = kept.notes.len().saturating_sub(1);
        kept.notes.insert(last, note);
        dropped.extend_from_slice(rest);
    }
    dropped.sort_unstable_by(|a, b| b.cmp(a));
    for (f, i) in dropped {
        out[f].remove(i);
    }
}

/// The client members (`AppState::<mailer>`) as a type alias of their struct names them
/// (`pub type Shared = Arc<AppState>;`, then `state.mailer.send(..)` on a `Shared`):
/// `Shared::<mailer>`.
fn client_members_through_aliases(units: &[Unit], is_client: &dyn Fn(&&String) -> bool) -> Vec<String> {
    let mut by_owner: rustc_hash::FxHashMap<&str, Vec<&str>> = Default::default();
    for m in units.iter().flat_map(|u| &u.facts.client_members).filter(is_client) {
        // (By the type's name, as `types::member_tail` matches members.)
        if let Some((owner, member)) = m.split_once("::<") {
            by_owner.entry(owner.last_segment()).or_default().push(member);
        }
    }
    if by_owner.is_empty() {
        return Vec::new();
    }
    let aliases = units.iter().flat_map(|u| &u.facts.aliases);
    let named =
        aliases.filter_map(|(from, to)| Some((from.last_segment(), by_owner.get(to.last_segment())?)));
    named.flat_map(|(name, members)| members.iter().map(move |m| format!("{name}::<{m}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::test_support::{call, func, unit};
    use super::*;

    /// Four async calls of one blocking fn: three in one file, one in another.
    fn four_calls(callee_key: &str) -> (FileFacts, FileFacts) {
        let calls = |lines: &[usize]| lines.iter().map(|&l| call(callee_key, l)).collect();
        (
            FileFacts { async_calls: calls(&[10, 11, 12]), ..FileFacts::default() },
            FileFacts { async_calls: calls(&[5]), ..FileFacts::default() },
        )
    }

    fn lines(out: &[Vec<Diagnostic>]) -> Vec<(usize, usize)> {
        let mut v: Vec<_> = out
            .iter()
            .enumerate()
            .flat_map(|(f, ds)| ds.iter().map(move |d| (f, d.span.start.line)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn many_calls_of_one_crate_fn_are_reported_once_in_a_focused_file() {
        let helper = FileFacts { functions: vec![func("c::helper", vec![], true)], ..FileFacts::default() };
        let (a, b) = four_calls("c::helper");
        let mut units = [
            unit("src/z.rs", "c", false, &a),
            unit("src/b.rs", "c", false, &b),
            unit("src/h.rs", "c", false, &helper),
        ];
        let out = join(&units, vec![vec![]; 3], true, None);
        assert_eq!(lines(&out), [(1, 5)], "the first in file order");
        assert!(out[1][0].notes.iter().any(|n| n.contains("also called from async code at src/z.rs:10")));
        // Only `z.rs` was named: the finding is shown there.
        units[1].focused = false;
        units[2].focused = false;
        assert_eq!(lines(&join(&units, vec![vec![]; 3], true, None)), [(0, 10)]);
    }

    #[test]
    fn a_catalogued_call_is_not_reported_again_through_its_sources() {
        use crate::registry::Rule;
        let at = |line| crate::source::Span {
            start: crate::source::Position { line, column: 5, offset: 0 },
            end: crate::source::Position { line, column: 9, offset: 0 },
        };
        let direct = Diagnostic::new(Rule::BlockingHttp, at(3), "blocking call `Request::call`");
        let mut chain =
            Diagnostic::new(Rule::BlockingNet, at(3), "`call` blocks: it reaches `.to_socket_addrs()`");
        chain.callee = Some((1, 0));
        let mut elsewhere = chain.clone();
        elsewhere.span = at(7);
        let mut ds = vec![direct, chain, elsewhere];
        one_finding_per_call(&mut ds);
        let kept: Vec<(Rule, usize)> = ds.iter().map(|d| (d.rule, d.span.start.line)).collect();
        assert_eq!(kept, [(Rule::BlockingHttp, 3), (Rule::BlockingNet, 7)]);
    }

    #[test]
    fn calls_of_a_dependency_fn_are_reported_once_per_body() {
        let dep = FileFacts { functions: vec![func("walk::next", vec![], true)], ..FileFacts::default() };
        let (mut a, b) = four_calls("walk::next");
        // (Lines 10 and 11 are in `h`; 12 in another fn.)
        a.async_calls[2].context = "async fn `g`".into();
        let mut d = unit("walk/src/lib.rs", "walk", false, &dep);
        d.dependency = true;
        let units = [unit("src/a.rs", "c", false, &a), unit("src/b.rs", "c", false, &b), d];
        let out = join(&units, vec![vec![]; 3], true, None);
        assert_eq!(lines(&out), [(0, 10), (0, 12), (1, 5)]);
        assert!(
            out[0][0].notes.iter().any(|n| n == "`next` is called again at line 11, in the same code"),
            "{:?}",
            out[0][0].notes
        );
    }
}
