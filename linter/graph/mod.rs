//! The cross-file stage: joins the facts of every file of a run into the findings that need
//! them all. One `join`, used by every entry point (paths, stdin, the language server):
//! - findings deferred to a crate fn stand unless that fn is an offload wrapper;
//! - serial findings stand unless they await an idle fn of their package (`idle`);
//! - async code calling sync fns of the crates that block gets transitive findings.

mod idle;
mod transitive;

use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::facts::FileFacts;

/// One file as the join sees it.
pub(crate) struct Unit<'a> {
    /// The path shown in chain notes.
    pub display: &'a str,
    /// Its package, when it has one: serial callees are looked up there.
    pub package: Option<&'a str>,
    pub facts: &'a FileFacts,
}

/// The findings every file gains from the others, as (file index, diagnostic). The facts'
/// keys must already be made unique per target (`FileFacts::retarget`).
pub(crate) fn join(units: &[Unit], transitive: bool) -> Vec<(usize, Diagnostic)> {
    let wrappers: HashSet<&str> =
        units.iter().flat_map(|u| u.facts.offload_wrappers.iter().map(String::as_str)).collect();
    let mut out = Vec::new();
    for (f, u) in units.iter().enumerate() {
        for (key, d) in &u.facts.deferred {
            if !wrappers.contains(key.as_str()) {
                out.push((f, d.clone()));
            }
        }
    }
    let serial: Vec<_> =
        units.iter().map(|u| (u.package, u.facts.async_fns.as_slice(), u.facts.serial.as_slice())).collect();
    out.extend(idle::settle(&serial));
    if transitive {
        let files: Vec<(&str, &FileFacts)> = units.iter().map(|u| (u.display, u.facts)).collect();
        out.extend(transitive::diagnostics(&files, &wrappers));
    }
    out
}
