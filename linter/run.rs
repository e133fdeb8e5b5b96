//! Checks many files in parallel: read each file once, analyse it on a big-stack worker, join
//! the call graph, and hand back plain results. This is the only place (with the CLI and the
//! language server) that does I/O.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::callgraph::ModDecl;
use crate::callgraph::{self, FileGraph};
use crate::config::Policy;
use crate::diagnostic::Diagnostic;
use crate::discover::{self, io_reason, FileError, SourceFile};
use crate::idle;
use crate::prescan;
use crate::resolve::modtree::{self, TreeFile};
use crate::suppress::{self, Suppression};
use crate::{check_source, Options};

/// Stack of each analysis thread. syn and the analysis recurse with the nesting of the code;
/// the prescan bounds the nesting, this leaves ample room for it in debug builds too.
pub const ANALYSIS_STACK: usize = 64 << 20;

#[derive(Clone)]
pub struct RunOptions {
    pub options: Options,
    /// Report blocking reached through sync functions of the checked crates.
    pub transitive: bool,
    /// Worker threads; all cores when `None`.
    pub jobs: Option<usize>,
    /// Skip parsing files that cannot hold findings until the call graph needs them.
    /// Findings are the same either way (a test holds this); off only to prove that.
    pub prefilter: bool,
    /// Paths excluded by config.
    pub exclude: discover::Exclude,
    /// Which findings to report, and how.
    pub policy: Policy,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            options: Options::default(),
            transitive: true,
            jobs: None,
            prefilter: true,
            exclude: Arc::new(|_| false),
            policy: Policy::default(),
        }
    }
}

/// The findings of one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub display: String,
    /// The file's text, kept only when the file has findings (for rendering snippets).
    pub text: Option<Arc<str>>,
    pub diagnostics: Vec<Diagnostic>,
    pub suppressions: Vec<Suppression>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub errors: Vec<FileError>,
    pub files_checked: usize,
}

impl Report {
    pub fn diagnostics(&self) -> impl Iterator<Item = (&FileReport, &Diagnostic)> {
        self.files.iter().flat_map(|f| f.diagnostics.iter().map(move |d| (f, d)))
    }
}

/// Texts that stand in for files on disk (an editor's unsaved buffers), by path as the walk
/// finds it (the walked root joined with the rest).
pub type Overlay = HashMap<PathBuf, Arc<str>>;

pub fn check_paths(paths: &[PathBuf], run: &RunOptions) -> Report {
    check_paths_overlaid(paths, run, &Overlay::new())
}

/// `check_paths`, reading the files in `overlay` from there instead of from disk.
pub fn check_paths_overlaid(paths: &[PathBuf], run: &RunOptions, overlay: &Overlay) -> Report {
    let found = discover::discover(paths, &run.exclude);
    check_files_overlaid(found.files, found.errors, run, overlay)
}

/// Checks already discovered files.
pub fn check_files(files: Vec<SourceFile>, errors: Vec<FileError>, run: &RunOptions) -> Report {
    check_files_overlaid(files, errors, run, &Overlay::new())
}

/// `check_files`, reading the files in `overlay` from there instead of from disk.
pub fn check_files_overlaid(
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
    let mut results: Vec<Result<(Scanned, Vec<ModDecl>), FileError>> =
        pool.install(|| files.par_iter().map(|f| scan_file(f, &options, run.prefilter, overlay)).collect());

    // Parse, round by round, the waiting files that define (or re-export) a function the call
    // graph needs. A callee `pkg::a::Type::f` is wanted as `Type::f` in an impl, or as a free
    // `f` in a module named `Type`; a re-export of any wanted name pulls its file in too.
    let mut needed: HashSet<u64> = HashSet::new();
    let mut needed_parts: HashSet<u64> = HashSet::new();
    let mut fresh: Vec<usize> = (0..results.len()).collect();
    loop {
        for &i in &fresh {
            if let Ok((Scanned::Checked(_, g), _)) = &results[i] {
                for (pkg, qual, name) in callees(g, files[i].place.package.as_deref()) {
                    needed.insert(name_hash(&[pkg, qual, name]));
                    needed_parts.insert(name_hash(&[pkg, qual]));
                    needed_parts.insert(name_hash(&[pkg, name]));
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
                }
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            break;
        }
        let parsed: Vec<Result<(Scanned, Vec<ModDecl>), FileError>> = pool
            .install(|| wanted.par_iter().map(|&i| scan_file(&files[i], &options, false, overlay)).collect());
        for (&i, r) in wanted.iter().zip(parsed) {
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

    let mut files_checked = 0;
    let mut reports = Vec::new();
    let mut graphs = Vec::new();
    let mut report_targets = Vec::new();
    let mut packages = Vec::new();
    for (r, f) in results.into_iter().zip(&files) {
        match r {
            Ok((Scanned::Checked(report, graph), _)) => {
                reports.push(report);
                graphs.push(*graph);
                report_targets.push(targets.next().unwrap_or_default());
                packages.push(f.place.package.as_deref());
            }
            Ok((Scanned::Waiting(_), _)) => {
                targets.next();
                files_checked += 1;
            }
            Err(e) => errors.push(e),
        }
    }
    join(&mut reports, &mut graphs, &report_targets, &packages, run.transitive);
    finish(&mut reports, &run.policy, overlay);
    let files_checked = files_checked + reports.len();
    reports.retain(|r| !r.diagnostics.is_empty());
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Report { files: reports, errors, files_checked }
}

/// Adds the findings that need every file: deferred ones settled by the offload wrappers of
/// the run, serial loops settled by the idle fns of their package, and (when `transitive`)
/// blocking reached through sync functions.
fn join(
    reports: &mut [FileReport],
    graphs: &mut [FileGraph],
    targets: &[String],
    packages: &[Option<&str>],
    transitive: bool,
) {
    for (g, t) in graphs.iter_mut().zip(targets) {
        g.retarget(t);
    }
    let joined: Vec<(&str, &FileGraph)> =
        reports.iter().zip(graphs.iter()).map(|(r, g)| (r.display.as_str(), g)).collect();
    let mut extra = callgraph::settle_deferred(&joined);
    let serial: Vec<_> =
        graphs.iter().zip(packages).map(|(g, p)| (*p, g.async_fns.as_slice(), g.serial.as_slice())).collect();
    extra.extend(idle::settle(&serial));
    if transitive {
        extra.extend(callgraph::transitive_diagnostics(&joined));
    }
    let mut touched = Vec::new();
    for (f, d) in extra {
        reports[f].diagnostics.push(d);
        touched.push(f);
    }
    for f in touched {
        reports[f].diagnostics.sort_by_key(Diagnostic::sort_key);
    }
}

/// Applies suppressions and the reporting policy to every file's findings.
fn finish(reports: &mut [FileReport], policy: &Policy, overlay: &Overlay) {
    for r in reports {
        suppress::apply(&mut r.diagnostics, &mut r.suppressions);
        if policy.report_unused_suppressions {
            r.diagnostics.extend(suppress::unused(&r.suppressions));
            r.diagnostics.sort_by_key(Diagnostic::sort_key);
        }
        policy.filter(&r.path, &mut r.diagnostics);
        // Rare: findings only from the call graph. Read the text again to show it with them.
        if !r.diagnostics.is_empty() && r.text.is_none() {
            r.text = match overlay.get(&r.path) {
                Some(text) => Some(text.clone()),
                None => std::fs::read_to_string(&r.path).ok().map(Arc::from),
            };
        }
    }
}

thread_local! {
    static IN_CHECK: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that stays quiet for panics caught while checking a file (they are
/// reported as that file's error) and keeps the default report for any other panic.
pub fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !IN_CHECK.with(Cell::get) {
            default(info);
        }
    }));
}

/// A file after the first pass: analysed, or waiting (with its outline: the functions it
/// defines and the names it re-exports) because nothing in it can be found unless the call
/// graph asks for one of them.
enum Scanned {
    Checked(FileReport, Box<FileGraph>),
    Waiting(Waiting),
}

/// What a waiting file offers the call graph, as hashes of (package, qualifier, name) for
/// its functions (`Type::f` in an impl, `module::f` for a free fn) and of (package, name) for
/// what it re-exports: small, as most files of a large run wait.
struct Waiting {
    fns: Vec<u64>,
    exports: Vec<u64>,
}

fn name_hash(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
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
            return Ok((Scanned::Waiting(Waiting { fns: Vec::new(), exports: Vec::new() }), mods));
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
        return Ok((Scanned::Waiting(Waiting { fns, exports }), mods));
    }
    let (report, graph) = check_bytes(file, bytes, options)?;
    Ok((Scanned::Checked(report, Box::new(graph)), mods))
}

/// (package, qualifier, name) of everything a file's graph may call, through its aliases
/// too: `crate::..` keys are in the file's own package, others name theirs first.
fn callees<'g>(
    g: &'g FileGraph,
    own: Option<&'g str>,
) -> impl Iterator<Item = (&'g str, &'g str, &'g str)> + 'g {
    let split = move |k: &'g str| {
        let mut parts = k.rsplit("::");
        let name = parts.next()?;
        let mut qual = parts.next()?;
        let first = k.split("::").next()?;
        if parts.next().is_none() {
            qual = "crate"; // `dotenvy::var`: a function at the crate root
        }
        let pkg = if first == "crate" { own? } else { first };
        Some((pkg, qual, name))
    };
    let calls = g.async_calls.iter().chain(g.functions.iter().flat_map(|f| &f.calls)).map(|c| c.key.as_str());
    calls.chain(g.aliases.iter().map(|(_, to)| to.as_str())).filter_map(split)
}

fn check_bytes(
    file: &SourceFile,
    bytes: Vec<u8>,
    options: &Options,
) -> Result<(FileReport, FileGraph), FileError> {
    let error = |message: String| FileError { path: file.display.clone(), message };
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        error(format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked"))
    })?;
    IN_CHECK.with(|c| c.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| check_source(&text, &file.place, options)));
    IN_CHECK.with(|c| c.set(false));
    let outcome = outcome.map_err(|payload| {
        proc_macro2::extra::invalidate_current_thread_spans();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error(format!("internal error while checking this file ({what}); please report it"))
    })?;
    // Keep the text of files with findings, to show it with them. (The few that get findings
    // only from the call graph read it again: keeping every text would cost more memory.)
    let g = &outcome.graph;
    let may_report = !outcome.diagnostics.is_empty() || !g.deferred.is_empty() || !g.serial.is_empty();
    let text = may_report.then(|| Arc::from(text));
    let report = FileReport {
        path: file.path.clone(),
        display: file.display.clone(),
        text,
        diagnostics: outcome.diagnostics,
        suppressions: outcome.suppressions,
    };
    Ok((report, outcome.graph))
}

/// Checks one text that did not come from the walk (stdin, an editor buffer).
pub fn check_text(name: &Path, bytes: Vec<u8>, run: &RunOptions) -> Report {
    let display = name.display().to_string();
    let file = SourceFile { path: name.to_path_buf(), display, place: discover::locate(name) };
    let mut options = run.options.clone();
    options.local_crates.extend(file.place.package.clone());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(ANALYSIS_STACK)
        .build()
        .expect("cannot start a worker thread");
    let result = pool.install(|| check_bytes(&file, bytes, &options));
    match result {
        Ok((r, g)) => {
            let mut files = vec![r];
            let package = [file.place.package.as_deref()];
            join(&mut files, &mut [g], std::slice::from_ref(&file.place.target), &package, run.transitive);
            finish(&mut files, &run.policy, &Overlay::new());
            files.retain(|r| !r.diagnostics.is_empty());
            Report { files, errors: Vec::new(), files_checked: 1 }
        }
        Err(e) => Report { files: Vec::new(), errors: vec![e], files_checked: 0 },
    }
}
