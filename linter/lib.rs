//! stall finds code that stalls an async Rust runtime: blocking calls made on an executor
//! thread, and futures awaited one after another when they could run together.
//!
//! The library checks source text (`check_source`) and paths (`check_paths`); it never prints.
//! Data flows one way: discover -> read -> parse -> resolve -> rules -> diagnostics.

pub mod awaits;
pub mod blocking;
pub mod callgraph;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod idle;
mod lexer;
pub mod lsp;
pub mod output;
pub mod prescan;
pub mod resolve;
mod rule_names;
pub mod rules;
pub mod run;
pub mod source;
pub mod suppress;

use std::collections::HashSet;

use catalog::Catalog;
use context::{Analyzer, Settings};
use diagnostic::Diagnostic;
use resolve::Resolver;
use rules::Rule;
use source::SourceIndex;

pub use callgraph::FileGraph;
pub use run::{check_paths, FileReport, Report};

pub use discover::Place;

impl Default for Place {
    fn default() -> Self {
        Place {
            package: None,
            target: "crate".into(),
            module: "crate".into(),
            is_test: false,
            is_root: true,
            runtime: None,
        }
    }
}

/// Options that change what the analysis reports.
#[derive(Debug, Clone)]
pub struct Options {
    pub catalog: Catalog,
    pub include_tests: bool,
    /// Package names of the run (calls between workspace members are followed).
    pub local_crates: HashSet<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { catalog: Catalog::builtin(), include_tests: false, local_crates: HashSet::new() }
    }
}

/// The findings of one file, and what the call graph needs from it.
#[derive(Debug, Default)]
pub struct SourceOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub graph: FileGraph,
    /// The file's suppressions: applied once every finding of the file is known.
    pub suppressions: Vec<suppress::Suppression>,
}

impl SourceOutcome {
    /// Every finding of a file checked on its own, pending ones settled within the file.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        let g = &self.graph;
        let settled = idle::settle(&[(None, &g.async_fns, &g.serial)]);
        let mut all = self.diagnostics;
        all.extend(settled.into_iter().map(|(_, d)| d));
        all.sort_by_key(Diagnostic::sort_key);
        all
    }
}

/// Checks one source text. Pure: no I/O, no printing. Must run on a thread with a large
/// stack (see `run::ANALYSIS_STACK`): deep input is refused by the prescan, but the walk
/// of legitimately nested code still recurses.
pub fn check_source(text: &str, file: &Place, options: &Options) -> SourceOutcome {
    if file.is_test && !options.include_tests {
        return SourceOutcome::default();
    }
    // A file stall cannot read is worth a word only if it could hold async code.
    let relevant = || prescan::outline(text.as_bytes()).has_async;
    // Huge files without async code are generated bindings: parsing them for the call graph
    // costs hundreds of MB and finds nothing the catalog knows.
    if text.len() > prescan::LARGE_SYNC_FILE && !relevant() {
        return SourceOutcome::default();
    }
    let idx = SourceIndex::new(text);
    let shape = prescan::scan(text.as_bytes());
    if let Some(why) = shape.too_deep() {
        if !relevant() {
            return SourceOutcome::default();
        }
        let at = idx.position_of_offset(shape.worst_offset);
        let span = source::Span { start: at, end: at };
        return SourceOutcome {
            diagnostics: vec![Diagnostic::new(Rule::ParseError, span, why)],
            ..Default::default()
        };
    }
    let outcome = match syn::parse_file(text) {
        Ok(ast) => analyze(&ast, &idx, file, options),
        Err(_) if !relevant() => SourceOutcome::default(),
        Err(e) => {
            let d = lexer::parse_error(text, &idx, &e);
            SourceOutcome { diagnostics: vec![d], ..Default::default() }
        }
    };
    // proc-macro2 keeps every parsed source in a per-thread map until told to forget it.
    proc_macro2::extra::invalidate_current_thread_spans();
    outcome
}

fn analyze(ast: &syn::File, idx: &SourceIndex, file: &Place, options: &Options) -> SourceOutcome {
    let settings = Settings {
        include_tests: options.include_tests,
        local_crates: &options.local_crates,
        runtime: file.runtime.as_ref(),
    };
    let resolver = Resolver::new(&options.catalog);
    let mut analyzer = Analyzer::new(idx, resolver, &settings);
    analyzer.analyze_file(&file.module, ast);
    let mut diagnostics = analyzer.diagnostics;
    diagnostics.sort_by_key(Diagnostic::sort_key);
    let mut graph = analyzer.graph;
    let bodies = awaits::async_bodies(ast, settings.include_tests);
    graph.serial = rules::serial_await_loop::check(ast, &bodies, idx);
    graph.serial.extend(rules::serial_await_sequence::check(ast, &bodies, idx));
    graph.async_fns = idle::summarize(ast);
    let suppressions = suppress::collect(idx.text(), ast, idx);
    SourceOutcome { diagnostics, graph, suppressions }
}
