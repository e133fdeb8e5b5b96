//! The project: its packages, their dependencies and where their sources are (being
//! restructured; see design.md).

pub(crate) mod cfg;
pub(crate) mod deps;
