//! Runs a check: reads each file once, analyses it on a big-stack worker (a panic in one file
//! becomes that file's error), parses the files the prefilter left waiting only when the call
//! graph asks for them, joins the facts, and settles suppressions and the reporting policy.
//! Every entry point (paths, stdin, an editor's buffers, a bare text) goes through `settle`.
//! With the CLI and the language server, the only place that does I/O.

pub(crate) mod cache;
pub(crate) mod lexer;
mod options;
pub(crate) mod prescan;
pub(crate) mod suppress;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, FileError, FileReport, Hidden, Report};
use crate::facts::{FileFacts, Finding, Origin};
use crate::graph::{self, Unit};
use crate::project::config::{Policy, ReportLevel};
use crate::project::discover::{self, io_reason};
use crate::project::modtree::{self, ModDecl, TreeFile};
use crate::project::{Place, SourceFile};
use crate::rules::meta::parse_error;
use crate::rules::{self, RuleOptions};
use crate::source::{SourceIndex, Span};
pub use options::{Options, RunOptions};

/// Stack of each analysis thread. syn and the analysis recurse with the nesting of the code;
/// the prescan bounds the nesting, this leaves ample room for it in debug builds too.
pub const ANALYSIS_STACK: usize = 64 << 20;

/// Texts that stand in for files on disk (an editor's unsaved buffers), by path as the walk
/// finds it (the walked root joined with the rest).
pub(crate) type Overlay = HashMap<PathBuf, Arc<str>>;

/// Checks files and directories.
pub fn check_paths(paths: &[PathBuf], run: &RunOptions) -> Report {
    check_paths_overlaid(paths, run, &Overlay::new())
}

/// `check_paths`, reading the files in `overlay` from there instead of from disk.
pub(crate) fn check_paths_overlaid(paths: &[PathBuf], run: &RunOptions, overlay: &Overlay) -> Report {
    let found = discover::discover(paths, &run.exclude);
    check_files(found.files, found.errors, run, overlay)
}

/// Checks one text that did not come from the walk (stdin, an editor buffer), as the file
/// `name` at `place` (where `name` sits on disk when `None`).
pub(crate) fn check_text(name: &Path, place: Option<Place>, bytes: Vec<u8>, run: &RunOptions) -> Report {
    let display = name.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let message =
                format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked");
            return Report { errors: vec![FileError { path: display, message }], ..Report::default() };
        }
    };
    let place = place.unwrap_or_else(|| discover::locate(name));
    let file = SourceFile { path: name.to_path_buf(), display, place };
    let overlay = Overlay::from([(name.to_path_buf(), Arc::from(text))]);
    check_files(vec![file], Vec::new(), run, &overlay)
}

/// One file's analysis, plain data.
struct Analyzed {
    facts: FileFacts,
    /// The text, kept when the file may get findings (to render them).
    text: Option<Arc<str>>,
}

/// A file after the first pass: analysed, or waiting (with its outline: the functions it
/// defines and the names it re-exports) because nothing in it can be found unless the call
/// graph asks for one of them.
enum Scanned {
    Checked(Box<Analyzed>),
    Waiting(Waiting),
}

/// What a waiting file offers the call graph, as hashes of (package, qualifier, name) for
/// its functions (`Type::f` in an impl, `module::f` for a free fn) and of (package, name) for
/// what it re-exports: small, as most files of a large run wait.
struct Waiting {
    fns: Vec<u64>,
    exports: Vec<u64>,
    /// Types it builds values of (`Name::f(..)`, `Name { .. }`).
    built: Vec<u64>,
}

fn name_hash(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Checks already discovered files.
pub(crate) fn check_files(
    files: Vec<SourceFile>,
    mut errors: Vec<FileError>,
    run: &RunOptions,
    overlay: &Overlay,
) -> Report {
    let mut options = run.options.clone();
    options.local_crates.extend(files.iter().filter_map(|f| f.place.package.clone()));
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(ANALYSIS_STACK);
    if let Some(j) = run.jobs {
        builder = builder.num_threads(j);
    }
    let pool = builder.build().expect("cannot start worker threads");
    let scan = |indices: &[usize], prefilter: bool| -> Vec<Result<(Scanned, Vec<ModDecl>), FileError>> {
        pool.install(|| {
            indices.par_iter().map(|&i| scan_file(&files[i], &options, prefilter, overlay)).collect()
        })
    };
    let all: Vec<usize> = (0..files.len()).collect();
    let mut results = scan(&all, run.prefilter);

    // Parse, round by round, the waiting files that define (or re-export) a function the call
    // graph needs. A callee `pkg::a::Type::f` is wanted as `Type::f` in an impl, or as a free
    // `f` in a module named `Type`; a re-export of any wanted name pulls its file in too.
    let mut needed: HashSet<u64> = HashSet::new();
    let mut needed_parts: HashSet<u64> = HashSet::new();
    // Types whose async code calls methods of their type parameter: the files building them
    // say with what.
    let mut needed_types: HashSet<u64> = HashSet::new();
    let mut fresh = all;
    loop {
        for &i in &fresh {
            if let Ok((Scanned::Checked(a), _)) = &results[i] {
                for (pkg, qual, name) in a.facts.callees(files[i].place.package.as_deref()) {
                    needed.insert(name_hash(&[pkg, qual, name]));
                    needed_parts.insert(name_hash(&[pkg, qual]));
                    needed_parts.insert(name_hash(&[pkg, name]));
                }
                for (pkg, ty) in a.facts.generic_owners(files[i].place.package.as_deref()) {
                    needed_types.insert(name_hash(&[pkg, ty]));
                }
            }
        }
        let wanted: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| match r {
                Ok((Scanned::Waiting(w), _)) => {
                    w.fns.iter().any(|h| needed.contains(h))
                        || w.exports.iter().any(|h| needed_parts.contains(h))
                        || w.built.iter().any(|h| needed_types.contains(h))
                }
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            break;
        }
        for (&i, r) in wanted.iter().zip(scan(&wanted, false)) {
            results[i] = r;
        }
        fresh = wanted;
    }

    // The module tree spans every file read, parsed or not: a file that only declares
    // modules still says which crate target they belong to.
    let tree: Vec<TreeFile> = results
        .iter()
        .zip(&files)
        .filter_map(|(r, f)| {
            let (_, mods) = r.as_ref().ok()?;
            let p = &f.place;
            Some(TreeFile { path: &f.path, module: &p.module, is_root: p.is_root, target: &p.target, mods })
        })
        .collect();
    let mut targets = modtree::assign_targets(&tree).into_iter();
    drop(tree);

    let mut waiting = 0;
    let mut checked = Vec::new();
    for (r, f) in results.into_iter().zip(files) {
        match r {
            Ok((Scanned::Checked(a), _)) => {
                let target = targets.next().unwrap_or_default();
                checked.push((f, target, *a));
            }
            Ok((Scanned::Waiting(_), _)) => {
                targets.next();
                waiting += 1;
            }
            Err(e) => errors.push(e),
        }
    }
    let files_checked = waiting + checked.len();
    let mut hidden = Hidden::default();
    let mut reports = settle(checked, run.transitive, &run.policy, &mut hidden);
    // Rare: findings only from the call graph. Read the text again to show it with them.
    for r in &mut reports {
        if r.text.is_none() {
            r.text = match overlay.get(&r.path) {
                Some(text) => Some(text.clone()),
                None => std::fs::read_to_string(&r.path).ok().map(Arc::from),
            };
        }
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Report { files: reports, errors, files_checked, hidden }
}

/// The one join and finish: makes keys unique per target, adds the findings that need every
/// file, applies suppressions and the reporting policy. Returns the files with findings.
fn settle(
    mut checked: Vec<(SourceFile, String, Analyzed)>,
    transitive: bool,
    policy: &Policy,
    hidden: &mut Hidden,
) -> Vec<FileReport> {
    for (_, target, a) in &mut checked {
        a.facts.retarget(target);
    }
    let own: Vec<_> = checked.iter_mut().map(|(_, _, a)| std::mem::take(&mut a.facts.findings)).collect();
    let diagnostics = {
        let units: Vec<Unit> = checked
            .iter()
            .map(|(f, target, a)| Unit {
                display: &f.display,
                package: f.place.package.as_deref(),
                target,
                facts: &a.facts,
            })
            .collect();
        graph::join(&units, own, transitive)
    };
    let mut reports = Vec::new();
    for ((file, _, a), mut diagnostics) in checked.into_iter().zip(diagnostics) {
        let mut suppressions = a.facts.suppressions;
        suppress::apply(&mut diagnostics, &mut suppressions);
        if policy.report_unused_suppressions {
            diagnostics.extend(suppress::unused(&suppressions));
        }
        policy.filter(&file.path, &mut diagnostics, hidden);
        if diagnostics.is_empty() {
            continue;
        }
        diagnostics.sort_by_key(Diagnostic::sort_key);
        reports.push(FileReport { path: file.path, display: file.display, text: a.text, diagnostics });
    }
    reports
}

thread_local! {
    static IN_CHECK: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that stays quiet for panics caught while checking a file (they are
/// reported as that file's error) and keeps the default report for any other panic.
pub(crate) fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !IN_CHECK.with(Cell::get) {
            default(info);
        }
    }));
}

/// Reads a file, outlines it, and analyses it unless `prefilter` says it can wait; also
/// returns its `mod` declarations for the module tree.
fn scan_file(
    file: &SourceFile,
    options: &Options,
    prefilter: bool,
    overlay: &Overlay,
) -> Result<(Scanned, Vec<ModDecl>), FileError> {
    let bytes = match overlay.get(&file.path) {
        Some(text) => text.as_bytes().to_vec(),
        None => std::fs::read(&file.path).map_err(|e| FileError {
            path: file.display.clone(),
            message: format!("cannot read this file: {}", io_reason(&e)),
        })?,
    };
    let outline = prescan::outline(&bytes);
    let module = &file.place.module;
    let mods = outline
        .mods
        .iter()
        .map(|m| ModDecl {
            module: format!("{module}::{}", m.path.join("::")),
            path_attr: m.path_attr.clone(),
        })
        .collect();
    if prefilter && !outline.has_async && std::str::from_utf8(&bytes).is_ok() {
        let Some(pkg) = file.place.package.as_deref().filter(|_| bytes.len() <= prescan::LARGE_SYNC_FILE)
        else {
            return Ok((
                Scanned::Waiting(Waiting { fns: Vec::new(), exports: Vec::new(), built: Vec::new() }),
                mods,
            ));
        };
        let module_name = module.rsplit("::").next().unwrap_or("crate");
        let fns = outline
            .fns
            .iter()
            .map(|f| match f.split_once("::") {
                Some((ty, name)) => name_hash(&[pkg, ty, name]),
                None => name_hash(&[pkg, module_name, f]),
            })
            .collect();
        let exports = outline.exports.iter().map(|e| name_hash(&[pkg, e])).collect();
        let built = outline.built.iter().map(|t| name_hash(&[pkg, t])).collect();
        return Ok((Scanned::Waiting(Waiting { fns, exports, built }), mods));
    }
    let error = |message: String| FileError { path: file.display.clone(), message };
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        error(format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked"))
    })?;
    IN_CHECK.with(|c| c.set(true));
    let facts = panic::catch_unwind(AssertUnwindSafe(|| analyze(&text, &file.place, options)));
    IN_CHECK.with(|c| c.set(false));
    let facts = facts.map_err(|payload| {
        proc_macro2::extra::invalidate_current_thread_spans();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error(format!("internal error while checking this file ({what}); please report it"))
    })?;
    // Keep the text of files that may get findings, to show it with them. (The few that get
    // findings only from the call graph read it again: keeping every text costs memory.)
    let text = facts.may_report().then(|| Arc::from(text));
    Ok((Scanned::Checked(Box::new(Analyzed { facts, text })), mods))
}

/// Analyses one text: pure, no I/O. Must run on a thread with a large stack
/// (`ANALYSIS_STACK`): deep input is refused by the prescan, but the walk of legitimately
/// nested code still recurses.
pub(crate) fn analyze(text: &str, place: &Place, options: &Options) -> FileFacts {
    if place.is_test && !options.include_tests {
        return FileFacts::default();
    }
    // A file stall cannot read is worth a word only if it could hold async code.
    let relevant = || prescan::outline(text.as_bytes()).has_async;
    // Huge files without async code are generated bindings: parsing them for the call graph
    // costs hundreds of MB and finds nothing the catalog knows.
    if text.len() > prescan::LARGE_SYNC_FILE && !relevant() {
        return FileFacts::default();
    }
    let idx = SourceIndex::new(text);
    let shape = prescan::scan(text.as_bytes());
    if let Some(why) = shape.too_deep() {
        if !relevant() {
            return FileFacts::default();
        }
        let at = idx.position_of_offset(shape.worst_offset);
        let d = parse_error::diagnostic(Span { start: at, end: at }, why, String::new());
        return FileFacts {
            findings: vec![Finding { diagnostic: d, origin: Origin::default() }],
            ..FileFacts::default()
        };
    }
    let facts = match syn::parse_file(text) {
        Ok(ast) => {
            let rule_options = RuleOptions {
                catalog: &options.catalog,
                knowledge: &options.knowledge,
                include_tests: options.include_tests,
                local_crates: &options.local_crates,
                runtime: place.runtime.as_ref(),
            };
            let mut facts = rules::check(&ast, &idx, place, &rule_options);
            facts.suppressions = suppress::collect(text, &facts.items, &idx);
            facts
        }
        Err(_) if !relevant() => FileFacts::default(),
        Err(e) => {
            let d = lexer::parse_error(text, &idx, &e);
            FileFacts {
                findings: vec![Finding { diagnostic: d, origin: Origin::default() }],
                ..FileFacts::default()
            }
        }
    };
    // proc-macro2 keeps every parsed source in a per-thread map until told to forget it.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

/// Checks one text on the calling thread, with no I/O: the findings it has on its own, settled
/// like a run's (suppressions included).
pub(crate) fn check_alone(text: &str, place: &Place, options: &Options) -> Vec<Diagnostic> {
    let facts = analyze(text, place, options);
    let file = SourceFile { path: PathBuf::new(), display: String::new(), place: place.clone() };
    let target = place.target.clone();
    let analyzed = Analyzed { facts, text: None };
    let every =
        Policy { report: ReportLevel::All, include_tests: options.include_tests, ..Policy::default() };
    settle(vec![(file, target, analyzed)], true, &every, &mut Hidden::default())
        .into_iter()
        .flat_map(|r| r.diagnostics)
        .collect()
}
