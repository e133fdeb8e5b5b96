//! What a check reports: plain data, free of syntax trees, so it can cross threads and be
//! stored in the cache.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::registry::Rule;
pub use crate::registry::Severity;
use crate::source::{Position, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    MachineApplicable,
    MaybeIncorrect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub start: Position,
    pub end: Position,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// Where a finding's code runs, which decides whether it is shown by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    /// While other tasks share the executor: request handlers, spawned tasks, event loops, a
    /// library's public API, and all they call. Also where stall cannot tell.
    #[default]
    Hot,
    /// Hot code of a program whose blocking call is one metadata operation per run
    /// (`path.exists()` or `create_dir_all` in a handler, not in a loop): microseconds on a
    /// local disk, rarely worth changing. (A library's callers are unknown: there it stays hot.)
    Brief,
    /// Only at a program's start, from `main` before it serves (config, certificates,
    /// one-shot subcommands).
    Startup,
    /// Test code and test-support code.
    Test,
    /// Hot code of an operator's admin interface (a package, module or fn with the word
    /// `admin` in its name): it shares the executor, but runs on an operator's rare requests.
    Admin,
    /// In a program's own libraries, reached from nothing in the run: dead code, or called in
    /// a way stall cannot follow (a macro, a table of function pointers).
    Unreached,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Hot => "hot",
            Exposure::Startup => "startup",
            Exposure::Test => "test",
            Exposure::Unreached => "unreached",
            Exposure::Admin => "admin",
            Exposure::Brief => "brief",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub rule: Rule,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    /// Short text under the underline.
    pub label: String,
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
    /// Where the code runs; the last note says why.
    pub exposure: Exposure,
    /// The blocking call is one metadata operation per run of the code (a stat or a rename
    /// outside loops and closures): in hot code its exposure is `Brief`.
    #[serde(default)]
    pub brief: bool,
    /// The blocking call waits for something else or drives a future (`Rank::waits`): rare
    /// code (an admin interface) still holds its thread that long.
    #[serde(default)]
    pub waits: bool,
    /// The files (as displayed) a transitive finding's chain passes through: a run focused on
    /// some files reports the findings elsewhere that they cause.
    #[serde(skip)]
    pub through: Vec<String>,
    /// For a transitive finding, the function of the crates it calls (an id within one join):
    /// the join reports each such function once, at its first call from async code.
    #[serde(skip)]
    pub callee: Option<(usize, usize)>,
    /// For a blocking write written in async code, the local value it is called on (`f` in
    /// `f.write_all(..)`): more writes to it in the same body are one finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// For a call ending a chain written over several lines, reported from the method's line,
    /// where the chain starts: a suppression on its first line covers it too, and calls in the
    /// chain are inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_start: Option<crate::source::Position>,
}

impl Diagnostic {
    pub fn new(rule: Rule, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            severity: rule.default_severity(),
            span,
            message: message.into(),
            label: String::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
            exposure: Exposure::Hot,
            brief: false,
            waits: false,
            through: Vec::new(),
            callee: None,
            receiver: None,
            chain_start: None,
        }
    }

    /// Records where the expression reported at `span` starts (`whole`), when that is on an
    /// earlier line: a chain over several lines reported from its last call or `.await`.
    pub(crate) fn with_chain_start(mut self, whole: Span) -> Self {
        self.chain_start = (whole.start.line != self.span.start.line).then_some(whole.start);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sort key: position first, then rule, so output is stable.
    pub fn sort_key(&self) -> (usize, usize, Rule) {
        (self.span.start.line, self.span.start.column, self.rule)
    }
}

/// Something that kept a path from being checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: String,
    pub message: String,
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

/// How many findings the reporting level left out, by where their code runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden {
    pub startup: usize,
    pub brief: usize,
    pub admin: usize,
    pub test: usize,
    pub unreached: usize,
}

/// The result of a run: what every output renders.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub errors: Vec<FileError>,
    pub files_checked: usize,
    /// Findings the reporting level left out, by exposure (`--all` shows them).
    pub hidden: Hidden,
    /// Things the user should know about the run (dependency sources missing).
    pub notes: Vec<String>,
}

impl Report {
    pub fn diagnostics(&self) -> impl Iterator<Item = (&FileReport, &Diagnostic)> {
        self.files.iter().flat_map(|f| f.diagnostics.iter().map(move |d| (f, d)))
    }
}
