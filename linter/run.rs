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
use crate::{check_source, FileContext, Options};

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
        RunOptions {
            options: Options::default(),
            transitive: true,
            jobs: None,
            exclude: Arc::new(|_| false),
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
}

#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub errors: Vec<FileError>,
    pub files_checked: usize,
}

impl Report {
    pub fn diagnostics(&self) -> impl Iterator<Item = (&FileReport, &Diagnostic)> {
        self.files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(move |d| (f, d)))
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
    options
        .local_crates
        .extend(files.iter().map(|f| f.crate_name.clone()));
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(ANALYSIS_STACK);
    if let Some(j) = run.jobs {
        builder = builder.num_threads(j);
    }
    let pool = builder.build().expect("cannot start worker threads");
    let results: Vec<Result<(FileReport, FileGraph), FileError>> =
        pool.install(|| files.par_iter().map(|f| check_file(f, &options)).collect());

    let mut reports = Vec::new();
    let mut graphs = Vec::new();
    for r in results {
        match r {
            Ok((report, graph)) => {
                reports.push(report);
                graphs.push(graph);
            }
            Err(e) => errors.push(e),
        }
    }
    if run.transitive {
        let joined: Vec<(&str, &FileGraph)> = reports
            .iter()
            .zip(&graphs)
            .map(|(r, g)| (r.display.as_str(), g))
            .collect();
        let extra = callgraph::transitive_diagnostics(&joined);
        let mut needs_text = Vec::new();
        for (f, d) in extra {
            reports[f].diagnostics.push(d);
            needs_text.push(f);
        }
        for f in needs_text {
            let r = &mut reports[f];
            r.diagnostics.sort_by_key(Diagnostic::sort_key);
            if r.text.is_none() {
                // Rare: findings only from the call graph. Read the text again to show it.
                r.text = std::fs::read_to_string(&r.path).ok().map(Arc::from);
            }
        }
    }
    let files_checked = reports.len();
    reports.retain(|r| !r.diagnostics.is_empty());
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Report {
        files: reports,
        errors,
        files_checked,
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
    let error = |message: String| FileError {
        path: file.display.clone(),
        message,
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        error(format!(
            "not valid UTF-8 (first bad byte at offset {at}); the file was not checked"
        ))
    })?;
    let context = FileContext {
        module: file.module.clone(),
        crate_name: file.crate_name.clone(),
    };
    IN_CHECK.with(|c| c.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| check_source(&text, &context, options)));
    IN_CHECK.with(|c| c.set(false));
    let outcome = outcome.map_err(|payload| {
        proc_macro2::extra::invalidate_current_thread_spans();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error(format!(
            "internal error while checking this file ({what}); please report it"
        ))
    })?;
    let text = (!outcome.diagnostics.is_empty()).then(|| Arc::from(text));
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
    let (crate_name, module) = discover::locate(name);
    let file = SourceFile {
        path: name.to_path_buf(),
        display,
        crate_name,
        module,
    };
    let mut options = run.options.clone();
    options.local_crates.insert(file.crate_name.clone());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(ANALYSIS_STACK)
        .build()
        .expect("cannot start a worker thread");
    let result = pool.install(|| check_bytes(&file, bytes, &options));
    let mut report = Report {
        files_checked: 1,
        ..Report::default()
    };
    match result {
        Ok((r, _)) if !r.diagnostics.is_empty() => report.files.push(r),
        Ok(_) => {}
        Err(e) => {
            report.errors.push(e);
            report.files_checked = 0;
        }
    }
    report
}
