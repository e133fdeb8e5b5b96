//! The cross-file stage: joins the facts of every file of a run into the findings that need
//! them all. One `join`, used by every entry point (paths, stdin, the language server):
//! - findings deferred to a crate fn stand unless that fn is an offload wrapper;
//! - serial findings stand unless they await an idle fn of their package (`idle`);
//! - async code calling sync fns of the crates that block gets transitive findings.

mod exposure;
mod generic;
mod idle;
pub(crate) mod keys;
mod transitive;

use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::facts::{key_parts, FileFacts, Finding};
use keys::{FnId, KeyIndex};

/// One file as the join sees it.
pub(crate) struct Unit<'a> {
    /// The path shown in notes.
    pub display: &'a str,
    /// Its package, when it has one: serial callees are looked up there.
    pub package: Option<&'a str>,
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
        let mut offloads = Offloads { wrappers, methods: HashSet::new(), defined: fn_index(units), fns };
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
        self.wrappers.contains(key)
            || self
                .defined
                .lookup(key)
                .iter()
                .any(|&(f, i)| self.fns[f][i].is_some_and(|k| self.wrappers.contains(k)))
    }

    /// May the fn a closure was handed to (by deferral key) run it off the executor? Yes for an
    /// offload wrapper; for a method of a value the model could not type (`*::exec_blocking`),
    /// when a wrapper method of the crates has that name; and for a method of the crates'
    /// types that no file defines (made by a macro or derive, like a pool's `conn.run(|c| ..)`),
    /// since the code cannot tell.
    pub(crate) fn may_offload(&self, key: &str) -> bool {
        if self.names_wrapper(key) {
            return true;
        }
        if let Some(method) = key.strip_prefix(crate::semantic::ANY_METHOD) {
            return self.methods.contains(method);
        }
        let unseen_method =
            key_parts(key).is_some_and(|(qual, _)| qual.starts_with(|c: char| c.is_ascii_uppercase()));
        unseen_method && self.defined.lookup(key).is_empty()
    }
}

/// The names of the functions whose callers decide where some finding of the run's files
/// runs (see `Exposures::callers_wanted`): the engine parses the waiting files that mention
/// them before it settles. `units` pairs each file with whether it is a dependency's:
/// dependencies lead chains but never call the crates' code, so where the crates' code runs
/// is decided among their files.
pub(crate) fn callers_wanted(units: &[(Unit, bool)], transitive: bool) -> HashSet<String> {
    let all: Vec<Unit> = units.iter().map(|(u, _)| Unit { ..*u }).collect();
    let offloads = Offloads::new(&all);
    let mut origins = Vec::new();
    for (f, u) in all.iter().enumerate() {
        origins.extend(u.facts.findings.iter().map(|x| (f, x.origin)));
        origins.extend(u.facts.deferred.iter().map(|(_, x)| (f, x.origin)));
        origins.extend(u.facts.serial.iter().map(|p| (f, p.origin)));
    }
    if transitive {
        let files: Vec<(&str, &FileFacts)> = all.iter().map(|u| (u.display, u.facts)).collect();
        origins.extend(transitive::diagnostics(&files, &offloads).into_iter().map(|(f, x)| (f, x.origin)));
    }
    // The crates' own files only, renumbered.
    let mut own = Vec::new();
    let mut renumber = vec![None; units.len()];
    for (f, (u, dependency)) in units.iter().enumerate() {
        if !dependency {
            renumber[f] = Some(own.len());
            own.push(Unit { ..*u });
        }
    }
    let origins: Vec<_> = origins.into_iter().filter_map(|(f, o)| Some((renumber[f]?, o))).collect();
    exposure::Exposures::compute(&own, &fn_index(&own)).callers_wanted(&own, &origins)
}

/// Every file's findings, settled against the whole run: its own (`own`, one list per unit)
/// and those it gains from the others, each with its exposure and a note that says why. The
/// facts' keys must already be made unique per target (`FileFacts::retarget`).
pub(crate) fn join(units: &[Unit], own: Vec<Vec<Finding>>, transitive: bool) -> Vec<Vec<Diagnostic>> {
    let offloads = Offloads::new(units);
    let mut all = own;
    for (f, u) in units.iter().enumerate() {
        for (key, finding) in &u.facts.deferred {
            if !offloads.may_offload(key) {
                all[f].push(finding.clone());
            }
        }
    }
    let serial: Vec<_> =
        units.iter().map(|u| (u.package, u.facts.async_fns.as_slice(), u.facts.serial.as_slice())).collect();
    let mut extra = idle::settle(&serial);
    extra.extend(generic::diagnostics(units));
    if transitive {
        let files: Vec<(&str, &FileFacts)> = units.iter().map(|u| (u.display, u.facts)).collect();
        extra.extend(transitive::diagnostics(&files, &offloads));
    }
    for (f, finding) in extra {
        all[f].push(finding);
    }
    let exposures = exposure::Exposures::compute(units, &offloads.defined);
    let mut out: Vec<Vec<Diagnostic>> = all
        .into_iter()
        .enumerate()
        .map(|(f, findings)| {
            findings
                .into_iter()
                .map(|Finding { mut diagnostic, origin }| {
                    let (exposure, note) = exposures.of(units, f, &origin);
                    diagnostic.exposure = exposure;
                    diagnostic.notes.push(note);
                    diagnostic
                })
                .collect()
        })
        .collect();
    once_per_callee(units, &mut out);
    out
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
    for ((callee, _), mut sites) in calls.into_iter().filter(|(_, s)| s.len() >= CALLS_REPORTED_APART) {
        let at = |&(f, i): &(usize, usize)| {
            let d = &out[f][i];
            (d.exposure, units[f].display, d.span.start.line, d.span.start.column)
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
        let note = format!(
            "`{name}` is also called from async code at {}{more}: fixing `{name}` fixes them all",
            listed.join(", ")
        );
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
