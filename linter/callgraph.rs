//! Crate-wide function summaries for transitive blocking: a sync function of the crate that
//! blocks, directly or through other functions of the crate, blocks the async code calling it.
//!
//! Each file yields plain summaries (no syntax trees); `transitive_diagnostics` joins them once:
//! a fixed point over the call graph, linear in the number of call edges.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::idle;
use crate::rules::Rule;
use crate::source::Span;

/// A blocking call made directly in a sync function.
#[derive(Debug, Clone)]
pub struct BlockSite {
    pub rule: Rule,
    pub callee: String,
    pub span: Span,
    pub reason: String,
    pub instead: String,
}

/// A call to a function that may belong to the crates being checked.
#[derive(Debug, Clone)]
pub struct CallSite {
    /// The callee's key: its canonical path with `crate` replaced by the crate's name.
    pub key: String,
    pub span: Span,
    /// The async context the call is made in (for calls from async code; empty otherwise).
    pub context: String,
    /// Made inside a closure handed to this function (a key): it counts only if that
    /// function is not an offload wrapper.
    pub defer: Option<String>,
}

/// What one sync function does that matters for blocking.
#[derive(Debug, Clone)]
pub struct FnSummary {
    pub key: String,
    pub name: String,
    pub span: Span,
    pub blocking: Vec<BlockSite>,
    pub calls: Vec<CallSite>,
}

/// The summaries of one file, tagged with the file they came from.
#[derive(Debug, Clone, Default)]
pub struct FileGraph {
    pub functions: Vec<FnSummary>,
    pub async_calls: Vec<CallSite>,
    /// Findings inside closures handed from async code to a function of the crates (by key):
    /// reported unless that function is an offload wrapper.
    pub deferred: Vec<(String, Diagnostic)>,
    /// Keys of functions that hand a parameter to `spawn_blocking` and the like.
    pub offload_wrappers: Vec<String>,
    /// `use` items of the file's modules: (path of the name it makes, path it names).
    pub aliases: Vec<(String, String)>,
    /// What the file's async fns wait on, to tell idle callees of serial loops.
    pub async_fns: Vec<idle::AsyncFnSummary>,
    /// Serial-await findings that stand unless the loop awaits an idle fn.
    pub serial: Vec<idle::Pending>,
}

/// A `mod name;` item whose body is in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDecl {
    /// The declared module's path (`crate::net::http`), as seen from the declaring file.
    pub module: String,
    /// Its `#[path = ".."]`, if any.
    pub path_attr: Option<String>,
}

impl FileGraph {
    /// Makes the keys of this file's own crate (`crate::a::f`) unique to its target
    /// (`my_crate::a::f`, `my_crate@bin/tool::a::f`).
    pub fn retarget(&mut self, target: &str) {
        let fix = |k: &mut String| {
            if let Some(rest) = k.strip_prefix("crate::") {
                *k = format!("{target}::{rest}");
            }
        };
        for f in &mut self.functions {
            fix(&mut f.key);
            f.calls.iter_mut().for_each(|c| fix(&mut c.key));
        }
        for c in &mut self.async_calls {
            fix(&mut c.key);
            if let Some(d) = &mut c.defer {
                fix(d);
            }
        }
        self.deferred.iter_mut().for_each(|(k, _)| fix(k));
        for (a, b) in &mut self.aliases {
            fix(a);
            fix(b);
        }
        self.offload_wrappers.iter_mut().for_each(fix);
    }
}

/// The deferred findings of every file that stand: those whose closure went to a function
/// that does not offload it. Pairs a file index with a diagnostic.
pub fn settle_deferred(files: &[(&str, &FileGraph)]) -> Vec<(usize, Diagnostic)> {
    let wrappers = offload_wrappers(files);
    let mut out = Vec::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for (key, d) in &graph.deferred {
            if !wrappers.contains(key.as_str()) {
                out.push((f, d.clone()));
            }
        }
    }
    out
}

/// The functions a key names, following `use` re-exports (`crate::Store::open` ->
/// `crate::store::Store::open`) a few steps.
fn resolve_key(key: &str, by_key: &HashMap<&str, Vec<FnId>>, aliases: &HashMap<&str, &str>) -> Vec<FnId> {
    let mut key = key.to_string();
    for _ in 0..8 {
        if let Some(ids) = by_key.get(key.as_str()) {
            return ids.clone();
        }
        // The longest prefix that is an alias.
        let mut end = key.len();
        let rewritten = loop {
            if let Some(to) = aliases.get(&key[..end]) {
                break Some(format!("{to}{}", &key[end..]));
            }
            match key[..end].rfind("::") {
                Some(i) => end = i,
                None => break None,
            }
        };
        match rewritten {
            Some(k) if k != key => key = k,
            _ => break,
        }
    }
    Vec::new()
}

fn offload_wrappers<'a>(files: &[(&str, &'a FileGraph)]) -> std::collections::HashSet<&'a str> {
    files.iter().flat_map(|(_, g)| g.offload_wrappers.iter().map(String::as_str)).collect()
}

/// Where a function's blocking comes from: a call it makes directly, or a call to another
/// function of the crates that blocks.
#[derive(Debug, Clone, Copy)]
enum Via {
    Direct(usize),
    Call { site: usize, callee: FnId },
}

/// A function: (file index, index in that file's summaries).
type FnId = (usize, usize);

/// Joins the per-file summaries and reports every call from async code to a sync function of
/// the checked crates that blocks, with the chain that leads to the blocking call.
/// `files` gives each file's display path and graph; the result pairs a file index with a
/// diagnostic for that file.
pub fn transitive_diagnostics(files: &[(&str, &FileGraph)]) -> Vec<(usize, Diagnostic)> {
    let wrappers = offload_wrappers(files);
    let mut by_key: HashMap<&str, Vec<FnId>> = HashMap::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for (i, func) in graph.functions.iter().enumerate() {
            by_key.entry(func.key.as_str()).or_default().push((f, i));
        }
    }
    let func = |(f, i): FnId| &files[f].1.functions[i];
    let aliases: HashMap<&str, &str> =
        files.iter().flat_map(|(_, g)| g.aliases.iter().map(|(a, b)| (a.as_str(), b.as_str()))).collect();
    let lookup = |key: &str| -> Vec<FnId> { resolve_key(key, &by_key, &aliases) };

    // Callers of each function, as (caller, call-site index in the caller).
    let mut callers: HashMap<FnId, Vec<(FnId, usize)>> = HashMap::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for (i, caller) in graph.functions.iter().enumerate() {
            for (s, call) in caller.calls.iter().enumerate() {
                for callee in lookup(&call.key) {
                    callers.entry(callee).or_default().push(((f, i), s));
                }
            }
        }
    }

    // Breadth-first from the functions that block directly: each function gets the shortest
    // chain, and is visited once, so the cost is linear in the call edges.
    let mut via: HashMap<FnId, (Via, usize)> = HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for (i, func) in graph.functions.iter().enumerate() {
            if !func.blocking.is_empty() {
                via.insert((f, i), (Via::Direct(0), 1));
                queue.push_back((f, i));
            }
        }
    }
    while let Some(id) = queue.pop_front() {
        let depth = via[&id].1;
        for &(caller, site) in callers.get(&id).into_iter().flatten() {
            via.entry(caller).or_insert_with(|| {
                queue.push_back(caller);
                (Via::Call { site, callee: id }, depth + 1)
            });
        }
    }

    let mut out = Vec::new();
    for (f, (_, graph)) in files.iter().enumerate() {
        for call in &graph.async_calls {
            if call.defer.as_deref().is_some_and(|k| wrappers.contains(k)) {
                continue;
            }
            let Some(start) =
                lookup(&call.key).into_iter().filter(|id| via.contains_key(id)).min_by_key(|id| via[id].1)
            else {
                continue;
            };
            let mut notes = Vec::new();
            let mut id = start;
            let end = loop {
                let here = func(id);
                let (file, _) = files[id.0];
                match via[&id].0 {
                    Via::Direct(b) => {
                        let site = &here.blocking[b];
                        notes.push(format!(
                            "`{}` calls `{}` at {file}:{}:{} ({})",
                            here.name, site.callee, site.span.start.line, site.span.start.column, site.reason
                        ));
                        break site;
                    }
                    Via::Call { site, callee } => {
                        let s = &here.calls[site];
                        notes.push(format!(
                            "`{}` calls `{}` at {file}:{}:{}",
                            here.name,
                            func(callee).name,
                            s.span.start.line,
                            s.span.start.column
                        ));
                        id = callee;
                    }
                }
            };
            let depth = via[&start].1;
            let callee = &func(start).name;
            let calls = if depth == 1 { "1 call".to_string() } else { format!("{depth} calls") };
            let d = Diagnostic::new(
                end.rule,
                call.span,
                format!("`{callee}` blocks in {}: it reaches `{}`", call.context, end.callee),
            )
            .with_label(format!("blocking call {calls} deep: {}", end.reason))
            .with_help(format!(
                "run `{callee}` in `tokio::task::spawn_blocking`, or make it async; instead of `{}`, use {}",
                end.callee, end.instead
            ));
            let mut d = d;
            d.notes = notes;
            out.push((f, d));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Position;

    fn span(line: usize) -> Span {
        let p = Position { line, column: 1, offset: 0 };
        Span { start: p, end: p }
    }

    fn call(key: &str, line: usize) -> CallSite {
        CallSite { key: key.into(), span: span(line), context: "async fn `h`".into(), defer: None }
    }

    fn func(key: &str, calls: Vec<CallSite>, blocks: bool) -> FnSummary {
        FnSummary {
            key: key.into(),
            name: key.rsplit("::").next().unwrap().into(),
            span: span(1),
            blocking: if blocks {
                vec![BlockSite {
                    rule: Rule::BlockingFs,
                    callee: "std::fs::read".into(),
                    span: span(9),
                    reason: "file".into(),
                    instead: "tokio".into(),
                }]
            } else {
                vec![]
            },
            calls,
        }
    }

    #[test]
    fn follows_chains_and_survives_cycles() {
        let graph = FileGraph {
            functions: vec![
                func("c::a", vec![call("c::b", 2)], false),
                func("c::b", vec![call("c::a", 3), call("c::leaf", 4)], false),
                func("c::leaf", vec![], true),
                func("c::loop1", vec![call("c::loop2", 5)], false),
                func("c::loop2", vec![call("c::loop1", 6)], false),
            ],
            async_calls: vec![call("c::a", 10), call("c::loop1", 11), call("other::x", 12)],
            ..FileGraph::default()
        };
        let out = transitive_diagnostics(&[("src/lib.rs", &graph)]);
        assert_eq!(out.len(), 1);
        let d = &out[0].1;
        assert_eq!(d.rule, Rule::BlockingFs);
        assert_eq!(d.span.start.line, 10);
        assert_eq!(d.notes.len(), 3, "{:?}", d.notes);
        assert!(d.label.contains("3 calls deep"));
    }
}
