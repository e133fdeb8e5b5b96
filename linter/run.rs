//! Checks many files in parallel: read each file once, analyse it on a big-stack worker, join
//! the call graph, and hand back plain results. This is the only place (with the CLI and the
//! language server) that does I/O.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::callgraph::{self, FileGraph};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, io_reason, FileError, SourceFile};
use crate::resolve::modtree::{self, TreeFile};
use crate::{check_source, Options, Place};

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
    /// Whether a path (relative to the walked root) is excluded by config.
    pub exclude: Arc<dyn Fn(&Path) -> bool + Send + Sync>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { options: Options::default(), transitive: true, jobs: None, exclude: Arc::new(|_| false) }
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

pub fn check_paths(paths: &[PathBuf], run: &RunOptions) -> Report {
    let exclude = run.exclude.clone();
    let found = discover::discover(paths, &move |p: &Path| exclude(p));
    check_files(found.files, found.errors, run)
}

/// Checks already discovered files.
pub fn check_files(files: Vec<SourceFile>, mut errors: Vec<FileError>, run: &RunOptions) -> Report {
    let mut options = run.options.clone();
    options.local_crates.extend(files.iter().filter_map(|f| f.place.package.clone()));
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(ANALYSIS_STACK);
    if let Some(j) = run.jobs {
        builder = builder.num_threads(j);
    }
    let pool = builder.build().expect("cannot start worker threads");
    let results: Vec<Result<(FileReport, FileGraph), FileError>> =
        pool.install(|| files.par_iter().map(|f| check_file(f, &options)).collect());

    let mut reports = Vec::new();
    let mut graphs = Vec::new();
    let mut places = Vec::new();
    for (r, file) in results.into_iter().zip(&files) {
        match r {
            Ok((report, graph)) => {
                reports.push(report);
                graphs.push(graph);
                places.push(&file.place);
            }
            Err(e) => errors.push(e),
        }
    }
    join(&mut reports, &mut graphs, &places, run.transitive);
    let files_checked = reports.len();
    reports.retain(|r| !r.diagnostics.is_empty());
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Report { files: reports, errors, files_checked }
}

/// Adds the findings that need every file: deferred ones settled by the offload wrappers of
/// the run, and (when `transitive`) blocking reached through sync functions.
fn join(reports: &mut [FileReport], graphs: &mut [FileGraph], places: &[&Place], transitive: bool) {
    let tree: Vec<TreeFile> = reports
        .iter()
        .zip(graphs.iter())
        .zip(places)
        .map(|((r, g), p)| TreeFile {
            path: &r.path,
            module: &p.module,
            is_root: p.is_root,
            target: &p.target,
            mods: &g.mods,
        })
        .collect();
    let targets = modtree::assign_targets(&tree);
    for (g, t) in graphs.iter_mut().zip(&targets) {
        g.retarget(t);
    }
    let joined: Vec<(&str, &FileGraph)> =
        reports.iter().zip(graphs.iter()).map(|(r, g)| (r.display.as_str(), g)).collect();
    let mut extra = callgraph::settle_deferred(&joined);
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

fn check_file(file: &SourceFile, options: &Options) -> Result<(FileReport, FileGraph), FileError> {
    let bytes = std::fs::read(&file.path).map_err(|e| FileError {
        path: file.display.clone(),
        message: format!("cannot read this file: {}", io_reason(&e)),
    })?;
    check_bytes(file, bytes, options)
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
    // Keep the text of files that have, or may get, findings: it is shown with them.
    let g = &outcome.graph;
    let may_report = !outcome.diagnostics.is_empty() || !g.deferred.is_empty() || !g.async_calls.is_empty();
    let text = may_report.then(|| Arc::from(text));
    let report = FileReport {
        path: file.path.clone(),
        display: file.display.clone(),
        text,
        diagnostics: outcome.diagnostics,
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
            join(&mut files, &mut [g], &[&file.place], run.transitive);
            files.retain(|r| !r.diagnostics.is_empty());
            Report { files, errors: Vec::new(), files_checked: 1 }
        }
        Err(e) => Report { files: Vec::new(), errors: vec![e], files_checked: 0 },
    }
}
