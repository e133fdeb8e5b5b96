//! `stall lsp`: a language server over stdio. With the CLI, the only part of stall that does
//! I/O besides the file walk.
//!
//! Threads: the message loop (this module's `serve`) never analyses anything. It keeps the
//! open documents' texts (for code actions) and hands every open, change and save to one
//! checker thread over a channel. The checker debounces changes (a document is checked
//! `DEBOUNCE` after its last change; opens and saves at once) and publishes diagnostics
//! itself. Analysis runs on the library's own big-stack pools (`engine::check_text`,
//! `engine::check_paths_overlaid`), or, for a buffer with no file path, on the checker thread,
//! which has `engine::ANALYSIS_STACK` of stack; syn trees never leave the thread that made them.
//!
//! What is checked: a document inside a cargo package (the nearest ancestor directory whose
//! Cargo.toml has a `[package]`) is checked with its whole package, the texts of all open
//! documents of that package standing in for the files on disk, so transitive findings (async
//! code calling a sync fn of the crate that blocks, in any file) and their chains are current
//! with unsaved edits. Diagnostics are then published for every open document of that package.
//! On open, the document alone is checked first and published at once (first diagnostics stay
//! fast on a large package); the package's findings follow when its run ends. A document
//! outside any package is checked alone. Calls into other members of a workspace are not
//! followed (the run covers one package).
//!
//! Diagnostics: range in UTF-16 code units, `code` = rule id (no `codeDescription`: stall has
//! no published home to link to; `stall explain RULE` prints the doc), `source` = "stall", the
//! help and notes as related information, and the fix (if any) as LSP text edits in `data`,
//! so a code action needs no state but the document's text.
//! Code actions: the fix (titled with what it changes), `// stall: allow(<rule>)` at the end
//! of the diagnostic's line, and `source.fixAll`: every safe fix of the document, from a check
//! of its current text.

use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, Exit,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, InitializeResult, Location, NumberOrString, PublishDiagnosticsParams, Range,
    SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Url, WorkspaceEdit,
};
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Applicability, Diagnostic, Exposure, Severity};
use crate::engine::{self, Overlay, RunOptions};
use crate::project::discover::package_dir;
use crate::registry::Rule;
use crate::source::{Position, SourceIndex};

/// Quiet time after the last change before a document is checked again.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// What every published diagnostic says it comes from.
pub const SOURCE: &str = "stall";

/// The options a document (or package directory) at `path` is checked with: the nearest
/// config (`stall.toml`, or stall metadata in a Cargo.toml), read again for every check, so an
/// edit to it applies from the next check on. A config that does not load is reported on
/// stderr (the client's log) and the defaults are used.
pub fn run_options_for(path: &Path) -> RunOptions {
    let mut run = RunOptions::default();
    let applied = match crate::project::config::discover(path) {
        Ok(Some(loaded)) => run.apply_config(&loaded).map_err(|e| e.to_string()),
        Ok(None) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = applied {
        eprintln!("stall lsp: {e}; checking with the default configuration");
        run = RunOptions::default();
    }
    run
}

/// Runs the server on stdin/stdout until the client says `exit`. `Ok` after a `shutdown`
/// request followed by `exit`; an error for an `exit` without `shutdown` or a broken stream.
pub fn serve() -> anyhow::Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let result = serve_on(&connection);
    drop(connection);
    io_threads.join()?;
    result
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::FULL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(true) })),
            ..Default::default()
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::SOURCE_FIX_ALL]),
            resolve_provider: Some(false),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn serve_on(connection: &Connection) -> anyhow::Result<()> {
    let (id, _params) = connection.initialize_start()?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "stall".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;

    let (jobs, queue) = mpsc::channel::<Job>();
    let sender = connection.sender.clone();
    let checker = std::thread::Builder::new()
        .name("stall-lsp-checker".into())
        .stack_size(engine::ANALYSIS_STACK)
        .spawn(move || Checker::new(sender).run(queue))?;

    let mut texts: HashMap<Url, Arc<str>> = HashMap::new();
    let outcome = loop {
        let Ok(msg) = connection.receiver.recv() else {
            break Err(anyhow::anyhow!("the client closed the connection without `exit`"));
        };
        match msg {
            Message::Request(req) => {
                if connection.handle_shutdown(&req)? {
                    break Ok(());
                }
                let resp = handle_request(req, &texts);
                connection.sender.send(Message::Response(resp))?;
            }
            Message::Notification(n) if n.method == Exit::METHOD => {
                break Err(anyhow::anyhow!("`exit` without `shutdown` first"));
            }
            Message::Notification(n) => {
                if let Some(job) = handle_notification(n, &mut texts) {
                    // The checker only stops when this loop drops `jobs`.
                    let _ = jobs.send(job);
                }
            }
            Message::Response(_) => {}
        }
    };
    drop(jobs);
    if checker.join().is_err() {
        eprintln!("stall lsp: the checker thread panicked");
    }
    outcome
}

fn handle_request(req: Request, texts: &HashMap<Url, Arc<str>>) -> Response {
    if req.method != CodeActionRequest::METHOD {
        return Response::new_err(req.id, ErrorCode::MethodNotFound as i32, format!("no {}", req.method));
    }
    match serde_json::from_value::<CodeActionParams>(req.params) {
        Ok(params) => {
            let text = texts.get(&params.text_document.uri).map(|t| &**t);
            let mut actions = code_actions(&params, text);
            if let Some(text) = text.filter(|_| asks_for_fix_all(&params)) {
                actions.extend(fix_all(&params.text_document.uri, text));
            }
            Response::new_ok(req.id, actions)
        }
        Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e.to_string()),
    }
}

fn handle_notification(n: Notification, texts: &mut HashMap<Url, Arc<str>>) -> Option<Job> {
    fn params<P: serde::de::DeserializeOwned>(n: Notification) -> Option<P> {
        serde_json::from_value(n.params).ok()
    }
    let (uri, text, version, delay) = match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: DidOpenTextDocumentParams = params(n)?;
            let doc = p.text_document;
            (doc.uri, Arc::from(doc.text), Some(doc.version), Duration::ZERO)
        }
        DidChangeTextDocument::METHOD => {
            let p: DidChangeTextDocumentParams = params(n)?;
            // Full sync: the last change holds the whole text.
            let change = p.content_changes.into_iter().last()?;
            (p.text_document.uri, Arc::from(change.text), Some(p.text_document.version), DEBOUNCE)
        }
        DidSaveTextDocument::METHOD => {
            let p: DidSaveTextDocumentParams = params(n)?;
            let uri = p.text_document.uri;
            let text = match p.text {
                Some(t) => Arc::from(t),
                None => texts.get(&uri)?.clone(),
            };
            (uri, text, None, Duration::ZERO)
        }
        DidCloseTextDocument::METHOD => {
            let p: DidCloseTextDocumentParams = params(n)?;
            texts.remove(&p.text_document.uri);
            return Some(Job::Close { uri: p.text_document.uri });
        }
        _ => return None,
    };
    texts.insert(uri.clone(), text.clone());
    Some(Job::Update { uri, text, version, delay })
}

/// Work for the checker thread.
enum Job {
    /// A document's text as of `version` (a save keeps the last version); check it after `delay`.
    Update {
        uri: Url,
        text: Arc<str>,
        version: Option<i32>,
        delay: Duration,
    },
    Close {
        uri: Url,
    },
}

struct Doc {
    path: Option<PathBuf>,
    /// The directory of the document's package, if it is in one.
    package: Option<PathBuf>,
    text: Arc<str>,
    version: Option<i32>,
    /// When the document is due for a check, if it is.
    due: Option<Instant>,
    /// Nothing published yet: check it alone first, for fast first diagnostics.
    fresh: bool,
}

struct Checker {
    out: Sender<Message>,
    docs: HashMap<Url, Doc>,
}

impl Checker {
    fn new(out: Sender<Message>) -> Self {
        Checker { out, docs: HashMap::new() }
    }

    fn run(mut self, queue: mpsc::Receiver<Job>) {
        loop {
            let next_due = self.docs.values().filter_map(|d| d.due).min();
            let job = match next_due {
                Some(due) => match queue.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match queue.recv() {
                    Ok(job) => Some(job),
                    Err(_) => return,
                },
            };
            if let Some(job) = job {
                self.take(job);
                // Take everything already queued before spending time on a check.
                while let Ok(job) = queue.try_recv() {
                    self.take(job);
                }
            }
            let now = Instant::now();
            let due: Vec<Url> = self
                .docs
                .iter()
                .filter(|(_, d)| d.due.is_some_and(|t| t <= now))
                .map(|(u, _)| u.clone())
                .collect();
            if due.is_empty() {
                continue;
            }
            let checked = panic::catch_unwind(AssertUnwindSafe(|| self.check(due)));
            if checked.is_err() {
                eprintln!("stall lsp: internal error while checking; please report it");
                for d in self.docs.values_mut() {
                    d.due = None;
                }
            }
        }
    }

    fn take(&mut self, job: Job) {
        match job {
            Job::Update { uri, text, version, delay } => {
                let due = Some(Instant::now() + delay);
                if let Some(doc) = self.docs.get_mut(&uri) {
                    doc.text = text;
                    doc.version = version.or(doc.version);
                    doc.due = due;
                    return;
                }
                let path = uri.to_file_path().ok();
                let package = path.as_deref().and_then(package_dir);
                self.docs.insert(uri, Doc { path, package, text, version, due, fresh: true });
            }
            Job::Close { uri } => {
                if let Some(doc) = self.docs.remove(&uri) {
                    self.publish(uri, Vec::new(), doc.version);
                }
            }
        }
    }

    /// Checks the due documents: each alone if it is fresh or in no package, then each
    /// package that holds one of them, once.
    fn check(&mut self, due: Vec<Url>) {
        let mut packages: Vec<PathBuf> = Vec::new();
        for uri in due {
            let Some(doc) = self.docs.get_mut(&uri) else { continue };
            doc.due = None;
            if doc.fresh || doc.package.is_none() {
                doc.fresh = false;
                let (text, version) = (doc.text.clone(), doc.version);
                let diagnostics = check_alone(doc.path.as_deref(), &text);
                self.publish_checked(uri.clone(), &text, &diagnostics, version);
            }
            if let Some(dir) = &self.docs[&uri].package {
                if !packages.contains(dir) {
                    packages.push(dir.clone());
                }
            }
        }
        for dir in packages {
            self.check_package(&dir);
        }
    }

    /// Checks a whole package with the open documents' texts, and publishes for each open
    /// document in it.
    fn check_package(&mut self, dir: &Path) {
        let open: Vec<(Url, PathBuf, Arc<str>, Option<i32>)> = self
            .docs
            .iter()
            .filter(|(_, d)| d.package.as_deref() == Some(dir))
            .filter_map(|(u, d)| Some((u.clone(), d.path.clone()?, d.text.clone(), d.version)))
            .collect();
        let overlay: Overlay = open.iter().map(|(_, p, t, _)| (p.clone(), t.clone())).collect();
        // The open files are named too: the walk skips ignored files and new unsaved ones.
        let mut roots = vec![dir.to_path_buf()];
        roots.extend(open.iter().map(|(_, p, _, _)| p.clone()));
        let report = engine::check_paths_overlaid(&roots, &run_options_for(dir), &overlay);
        let mut found: HashMap<&Path, &[Diagnostic]> =
            report.files.iter().map(|f| (f.path.as_path(), f.diagnostics.as_slice())).collect();
        let errors: HashSet<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
        for (uri, path, text, version) in &open {
            if errors.contains(path.to_string_lossy().as_ref()) {
                continue; // e.g. a buffer that is not UTF-8 on disk: keep what was shown
            }
            let diagnostics = found.remove(path.as_path()).unwrap_or_default();
            self.publish_checked(uri.clone(), text, diagnostics, *version);
        }
    }

    fn publish_checked(&self, uri: Url, text: &str, diagnostics: &[Diagnostic], version: Option<i32>) {
        let idx = SourceIndex::new(text);
        let mut diagnostics = diagnostics.to_vec();
        crate::fix::name_needed_features(&mut diagnostics);
        let converted = diagnostics.iter().map(|d| to_lsp(d, &uri, &idx)).collect();
        self.publish(uri, converted, version);
    }

    fn publish(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams { uri, diagnostics, version };
        // Fails only once the connection is gone, when the message loop is ending anyway.
        let _ = self
            .out
            .send(Message::Notification(Notification::new(PublishDiagnostics::METHOD.into(), params)));
    }
}

/// Checks one text alone: as the file at `path` (so its crate and module are known), or, for a
/// buffer with no file, as a crate of its own, on this (big-stack) thread.
fn check_alone(path: Option<&Path>, text: &str) -> Vec<Diagnostic> {
    let (name, place, options) = match path {
        Some(path) => (path.to_path_buf(), None, run_options_for(path)),
        None => {
            (PathBuf::from("untitled.rs"), Some(crate::Place::default()), run_options_for(Path::new(".")))
        }
    };
    let report = engine::check_text(&name, place, text.as_bytes().to_vec(), &options);
    report.files.into_iter().flat_map(|f| f.diagnostics).collect()
}

/// An LSP position (0-based line, UTF-16 code units) from a stall one (1-based line and
/// column, the column counting chars) in the text `idx` indexes.
pub fn lsp_position(idx: &SourceIndex, p: Position) -> lsp_types::Position {
    let line = idx.line_text(p.line);
    let character: usize = line.chars().take(p.column.saturating_sub(1)).map(char::len_utf16).sum();
    lsp_types::Position { line: p.line.saturating_sub(1) as u32, character: character as u32 }
}

fn lsp_range(idx: &SourceIndex, start: Position, end: Position) -> Range {
    Range { start: lsp_position(idx, start), end: lsp_position(idx, end) }
}

/// What a published diagnostic carries for its code actions.
#[derive(Debug, Serialize, Deserialize)]
struct FixData {
    edits: Vec<TextEdit>,
    machine_applicable: bool,
    /// What the fix changes, as the action's title says it.
    #[serde(default)]
    title: String,
}

/// What a fix changes, for a code action's title: "Replace `a` with `b`" for the text it
/// rewrites, or each edit in turn when that is too long to read.
pub fn fix_title(text: &str, fix: &crate::diagnostic::Fix) -> String {
    let quote = |s: &str| format!("`{}`", s.trim());
    let short = |s: &str| !s.contains('\n') && s.trim().chars().count() <= 80;
    let mut edits: Vec<&crate::diagnostic::Edit> = fix.edits.iter().collect();
    edits.sort_by_key(|e| e.start.offset);
    let (Some(first), Some(last)) = (edits.first(), edits.iter().map(|e| e.end.offset).max()) else {
        return "Apply stall's fix".into();
    };
    let (start, end) = (first.start.offset.min(text.len()), last.min(text.len()));
    if let (Some(old), Ok(new)) = (text.get(start..end), crate::fix::apply_edits(text, &edits)) {
        let new = &new[start..new.len() - (text.len() - end)];
        if short(old) && short(new) && !old.trim().is_empty() {
            return format!("Replace {} with {}", quote(old), quote(new));
        }
    }
    let parts: Vec<String> = edits
        .iter()
        .map(|e| {
            let old = text.get(e.start.offset..e.end.offset).unwrap_or("");
            match (old.is_empty(), e.replacement.is_empty()) {
                (true, _) => format!("add {}", quote(&e.replacement)),
                (false, true) => format!("remove {}", quote(old)),
                (false, false) => format!("replace {} with {}", quote(old), quote(&e.replacement)),
            }
        })
        .collect();
    let mut title = parts.join(", then ");
    if let Some(c) = title.get(..1) {
        title = c.to_uppercase() + &title[1..];
    }
    title
}

/// A stall diagnostic as LSP publishes it, in the text `idx` indexes.
pub fn to_lsp(d: &Diagnostic, uri: &Url, idx: &SourceIndex) -> lsp_types::Diagnostic {
    let range = lsp_range(idx, d.span.start, d.span.end);
    let related = |message: String| DiagnosticRelatedInformation {
        location: Location { uri: uri.clone(), range },
        message,
    };
    let mut related_information: Vec<_> = d.help.iter().map(|h| related(format!("help: {h}"))).collect();
    related_information.extend(d.notes.iter().map(|n| related(format!("note: {n}"))));
    let mut message = d.message.clone();
    if !d.label.is_empty() && d.label != d.message {
        message.push('\n');
        message.push_str(&d.label);
    }
    let data = d.fix.as_ref().map(|fix| {
        let edits = fix
            .edits
            .iter()
            .map(|e| TextEdit { range: lsp_range(idx, e.start, e.end), new_text: e.replacement.clone() })
            .collect();
        let data = FixData {
            edits,
            machine_applicable: fix.applicability == Applicability::MachineApplicable,
            title: fix_title(idx.text(), fix),
        };
        serde_json::to_value(data).unwrap_or_default()
    });
    lsp_types::Diagnostic {
        range,
        // Startup-only findings are hints, shown greyed: worth knowing, rarely worth a fix. A
        // brief metadata operation in hot code is a hint too, but the code does run hot.
        severity: Some(match (d.severity, d.exposure) {
            (
                _,
                Exposure::Startup | Exposure::Test | Exposure::Unreached | Exposure::Admin | Exposure::Brief,
            ) => DiagnosticSeverity::HINT,
            (Severity::Error, _) => DiagnosticSeverity::ERROR,
            (Severity::Warning, _) => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.rule.id().into())),
        // No link: stall has no published home; `stall explain RULE` prints the docs.
        code_description: None,
        source: Some(SOURCE.into()),
        message,
        related_information: Some(related_information).filter(|r| !r.is_empty()),
        tags: (!matches!(d.exposure, Exposure::Hot | Exposure::Brief))
            .then(|| vec![DiagnosticTag::UNNECESSARY]),
        data,
    }
}

/// The code actions for the stall diagnostics the client sent that touch the requested lines:
/// each one's fix, if it has one, and a comment that allows its rule on its first line (when
/// the document's `text` is known, to find the line's end).
fn code_actions(params: &CodeActionParams, text: Option<&str>) -> Vec<CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    let wanted = |kind: &CodeActionKind| {
        params
            .context
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|k| kind.as_str().starts_with(k.as_str())))
    };
    if !wanted(&CodeActionKind::QUICKFIX) {
        return Vec::new();
    }
    let idx = text.map(SourceIndex::new);
    // By lines: a client may send the cursor's position with the diagnostics of its line.
    let overlaps = |r: &Range| r.start.line <= params.range.end.line && params.range.start.line <= r.end.line;
    let action = |title: String, d: &lsp_types::Diagnostic, edits: Vec<TextEdit>, preferred: bool| {
        CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), edits)])),
                ..Default::default()
            }),
            is_preferred: Some(preferred),
            ..Default::default()
        })
    };
    let mut actions = Vec::new();
    for d in &params.context.diagnostics {
        if d.source.as_deref() != Some(SOURCE) || !overlaps(&d.range) {
            continue;
        }
        let Some(NumberOrString::String(rule)) = &d.code else { continue };
        let Some(rule) = Rule::from_id(rule) else { continue };
        let fix = d.data.clone().and_then(|v| serde_json::from_value::<FixData>(v).ok());
        if let Some(fix) = fix.filter(|f| !f.edits.is_empty()) {
            let title =
                if fix.title.is_empty() { format!("Apply stall's fix for {rule}") } else { fix.title };
            let title = if fix.machine_applicable { title } else { format!("{title} (may be incorrect)") };
            actions.push(action(title, d, fix.edits, fix.machine_applicable));
        }
        if let Some(idx) = &idx {
            // A parse error has no suppression, and a suppression's own warning cannot be
            // suppressed (it is found after suppressions apply).
            if !matches!(rule, Rule::ParseError | Rule::UnusedSuppression) {
                let (edit, title) =
                    allow_edit(idx.line_text(d.range.start.line as usize + 1), d.range.start.line, rule);
                actions.push(action(title, d, vec![edit], false));
            }
        }
    }
    actions
}

/// Whether a code action request asks for source actions that fix a whole file (`only` holds
/// `source` or `source.fixAll`, as editors ask on save).
fn asks_for_fix_all(params: &CodeActionParams) -> bool {
    let fix_all = CodeActionKind::SOURCE_FIX_ALL;
    params
        .context
        .only
        .as_ref()
        .is_some_and(|only| only.iter().any(|k| fix_all.as_str().starts_with(k.as_str())))
}

/// `source.fixAll`: every safe (machine-applicable) fix of the document in one edit, from a
/// check of the text the editor holds now.
fn fix_all(uri: &Url, text: &str) -> Option<CodeActionOrCommand> {
    let path = uri.to_file_path().ok();
    let owned = text.to_string();
    // Analysis needs a big stack; this is the message loop's thread.
    let diagnostics = std::thread::Builder::new()
        .stack_size(engine::ANALYSIS_STACK)
        .spawn(move || check_alone(path.as_deref(), &owned))
        .ok()?
        .join()
        .ok()?;
    let idx = SourceIndex::new(text);
    let mut edits: Vec<&crate::diagnostic::Edit> = diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.applicability == Applicability::MachineApplicable)
        .flat_map(|f| &f.edits)
        .collect();
    edits.sort_by_key(|e| (e.start.offset, e.end.offset));
    edits.dedup_by(|a, b| a == b);
    let mut kept: Vec<TextEdit> = Vec::new();
    let mut at = 0;
    for e in edits {
        if e.start.offset < at {
            continue; // overlaps the previous fix: the next run fixes it
        }
        at = e.end.offset;
        kept.push(TextEdit { range: lsp_range(&idx, e.start, e.end), new_text: e.replacement.clone() });
    }
    let fixes = diagnostics
        .iter()
        .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == Applicability::MachineApplicable))
        .count();
    if kept.is_empty() {
        return None;
    }
    let title =
        format!("Apply {} in this file", crate::output::count(fixes, "safe stall fix", "safe stall fixes"));
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::SOURCE_FIX_ALL),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), kept)])),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// The edit that allows `rule` on a line (0-based `line`, text `line_text`): the rule added to
/// the line's `// stall: allow(..)` comment if it has one, else such a comment at its end; and
/// the action's title, saying which.
fn allow_edit(line_text: &str, line: u32, rule: Rule) -> (TextEdit, String) {
    let utf16 = |s: &str| s.chars().map(char::len_utf16).sum::<usize>() as u32;
    let at = |byte: usize| lsp_types::Position { line, character: utf16(&line_text[..byte]) };
    let close = line_text.find("//").and_then(|c| {
        let marker = c + line_text[c..].find(MARKER)? + MARKER.len();
        Some(marker + line_text[marker..].find(')')?)
    });
    let (pos, new_text, title) = match close {
        Some(close) => {
            (at(close), format!(", {rule}"), format!("Add {rule} to this line's `stall: allow(..)`"))
        }
        None => {
            let gap = if line_text.is_empty() || line_text.ends_with(char::is_whitespace) { "" } else { " " };
            let comment = format!("// {MARKER}{rule})");
            let title = format!("Allow {rule} on this line: add `{comment}`");
            (at(line_text.len()), format!("{gap}{comment}"), title)
        }
    };
    (TextEdit { range: Range { start: pos, end: pos }, new_text }, title)
}

/// How an inline suppression starts (see `crate::engine::suppress`).
const MARKER: &str = "stall: allow(";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn positions_count_utf16_units() {
        // `é` is one UTF-16 unit, `𝄞` two; stall's columns count chars.
        let text = "ab\n\u{e9}\u{1d11e}x = 1;\n";
        let idx = SourceIndex::new(text);
        let at = |line, column| lsp_position(&idx, Position { line, column, offset: 0 });
        assert_eq!(at(1, 1), lsp_types::Position { line: 0, character: 0 });
        assert_eq!(at(2, 2), lsp_types::Position { line: 1, character: 1 });
        assert_eq!(at(2, 3), lsp_types::Position { line: 1, character: 3 });
        assert_eq!(at(2, 4), lsp_types::Position { line: 1, character: 4 });
        // Past the end of the line: clamped to it.
        assert_eq!(at(2, 40), lsp_types::Position { line: 1, character: 9 });
    }

    #[test]
    fn the_allow_action_goes_at_the_end_of_the_first_line() {
        let text = "async fn f() {\n    std::thread::sleep(d); // \u{1d11e}\n}\n";
        let uri = Url::parse("file:///tmp/a.rs").unwrap();
        let idx = SourceIndex::new(text);
        let p = |line, column| Position { line, column, offset: 0 };
        let d =
            Diagnostic::new(Rule::BlockingSleep, Span { start: p(2, 5), end: p(2, 27) }, "m").with_help("h");
        let lsp = to_lsp(&d, &uri, &idx);
        assert_eq!(lsp.related_information.as_ref().map(Vec::len), Some(1));
        let params: CodeActionParams = serde_json::from_value(serde_json::json!({
            "textDocument": {"uri": uri},
            "range": lsp.range,
            "context": {"diagnostics": [lsp]},
        }))
        .unwrap();
        let actions = code_actions(&params, Some(text));
        let [CodeActionOrCommand::CodeAction(a)] = actions.as_slice() else { panic!("{actions:?}") };
        assert_eq!(a.title, "Allow blocking-sleep on this line: add `// stall: allow(blocking-sleep)`");
        let edits = &a.edit.as_ref().unwrap().changes.as_ref().unwrap()[&uri];
        assert_eq!(edits[0].range.start, lsp_types::Position { line: 1, character: 32 });
        assert_eq!(edits[0].new_text, " // stall: allow(blocking-sleep)");
    }

    #[test]
    fn a_fix_becomes_the_preferred_action() {
        use crate::diagnostic::{Edit, Fix};
        let text = "async fn f(d: D) {\n    let s = \"\u{1d11e}\"; std::thread::sleep(d);\n}\n";
        let uri = Url::parse("file:///tmp/a.rs").unwrap();
        let idx = SourceIndex::new(text);
        let p = |line: usize, column: usize| idx.position(line, column - 1);
        let mut d = Diagnostic::new(Rule::BlockingSleep, Span { start: p(2, 18), end: p(2, 39) }, "m");
        d.fix = Some(Fix {
            applicability: Applicability::MachineApplicable,
            edits: vec![Edit {
                start: p(2, 18),
                end: p(2, 39),
                replacement: "tokio::time::sleep(d).await".into(),
            }],
        });
        let lsp = to_lsp(&d, &uri, &idx);
        let params: CodeActionParams = serde_json::from_value(serde_json::json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
            "context": {"diagnostics": [lsp]},
        }))
        .unwrap();
        let actions = code_actions(&params, Some(text));
        let [CodeActionOrCommand::CodeAction(fix), CodeActionOrCommand::CodeAction(allow)] =
            actions.as_slice()
        else {
            panic!("{actions:?}")
        };
        assert_eq!(fix.title, "Replace `std::thread::sleep(d)` with `tokio::time::sleep(d).await`");
        assert_eq!(fix.is_preferred, Some(true));
        let edit = &fix.edit.as_ref().unwrap().changes.as_ref().unwrap()[&uri][0];
        // 17 chars before the call, one of them (`𝄞`) two UTF-16 units.
        assert_eq!(edit.range.start, lsp_types::Position { line: 1, character: 18 });
        assert_eq!(edit.range.end, lsp_types::Position { line: 1, character: 39 });
        assert_eq!(allow.title, "Allow blocking-sleep on this line: add `// stall: allow(blocking-sleep)`");
        for title in [&fix.title, &allow.title] {
            assert_eq!(title.trim(), title.as_str(), "no padding in titles");
        }
        // `only` without quick fixes: nothing.
        let mut only = params.clone();
        only.context.only = Some(vec![CodeActionKind::REFACTOR]);
        assert!(code_actions(&only, Some(text)).is_empty());
    }

    #[test]
    fn a_suppression_warning_gets_no_allow_action() {
        let text = "fn f() {} // stall:allow(blocking-fs)\n";
        let uri = Url::parse("file:///tmp/a.rs").unwrap();
        let idx = SourceIndex::new(text);
        let span = Span { start: idx.position(1, 10), end: idx.position(1, 38) };
        let lsp = to_lsp(&Diagnostic::new(Rule::UnusedSuppression, span, "m"), &uri, &idx);
        let params: CodeActionParams = serde_json::from_value(serde_json::json!({
            "textDocument": {"uri": uri},
            "range": lsp.range,
            "context": {"diagnostics": [lsp]},
        }))
        .unwrap();
        assert!(code_actions(&params, Some(text)).is_empty());
    }

    #[test]
    fn an_existing_allow_comment_gets_the_rule_added() {
        let (e, title) = allow_edit("    f(); // stall: allow(blocking-fs) -- why", 3, Rule::BlockingSleep);
        assert_eq!(e.range.start, lsp_types::Position { line: 3, character: 36 });
        assert_eq!(e.new_text, ", blocking-sleep");
        assert_eq!(title, "Add blocking-sleep to this line's `stall: allow(..)`");
        let (e, _) = allow_edit("", 0, Rule::BlockingFs);
        assert_eq!(e.new_text, "// stall: allow(blocking-fs)");
    }
}
