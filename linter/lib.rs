//! stall finds code that stalls an async Rust runtime: blocking calls made on an executor
//! thread, and futures awaited one after another when they could run together.
//!
//! The library checks a source text (`check_source`) and paths (`check_paths`); it never
//! prints. Data flows one way (see the README's architecture map):
//! project -> semantic model (one walk per file) -> rules -> facts -> graph -> engine -> output.

mod cli;
mod diagnostic;
mod engine;
mod facts;
mod fix;
mod graph;
mod lsp;
mod output;
mod project;
mod qualified;
mod registry;
mod rules;
mod semantic;
mod source;
#[cfg(test)]
mod testing;

pub use cli::cargo::main as cargo_main;
pub use cli::main;
pub use diagnostic::{Applicability, Diagnostic, Edit, FileError, FileReport, Fix, Report, Severity};
pub use engine::{check_paths, Options, RunOptions, ANALYSIS_STACK};
pub use project::Place;
pub use registry::{Family, Rule};
pub use source::{Position, Span};

/// Checks one source text on its own, as the file at `place`: every finding it has without
/// the rest of its crate, suppressions applied. Pure: no I/O. Must run on a thread with a
/// large stack (`ANALYSIS_STACK`).
pub fn check_source(text: &str, place: &Place, options: &Options) -> Vec<Diagnostic> {
    engine::check_alone(text, place, options)
}

/// The `.rs` files `check_paths` would read under `paths` (gitignore-aware), for tools that
/// measure against the same files.
pub fn discover_files(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let none: project::discover::Exclude = std::sync::Arc::new(|_| false);
    project::discover::discover(paths, &none).files.into_iter().map(|f| f.path).collect()
}
