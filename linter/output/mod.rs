//! Renders a report: human (rustc-like), JSON, and the formats other tools read.

pub mod human;
pub mod json;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::run::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-like messages with source snippets
    Human,
    /// one JSON document (the stable contract)
    Json,
}

pub struct Style {
    pub color: bool,
    pub quiet: bool,
    pub statistics: bool,
}

pub fn write(report: &Report, format: Format, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, style, out),
        Format::Json => json::write(report, out),
    }
}
