//! ## What it does
//! (pending)
//! ## Why is this bad?
//! ## Example
//! ## Use instead
//! ## Known limitations

use crate::context::Settings;
use crate::diagnostic::Diagnostic;
use crate::source::SourceIndex;

pub fn check(_file: &syn::File, _idx: &SourceIndex, _settings: &Settings) -> Vec<Diagnostic> {
    Vec::new()
}
