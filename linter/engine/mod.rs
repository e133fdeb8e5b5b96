//! The engine: running the analysis over a project (being restructured; see design.md).

pub(crate) mod cache;
