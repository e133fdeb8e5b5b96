//! Small facts for the cross-file stage's unit tests.

use super::Unit;
use crate::facts::{BlockSite, CallSite, FileFacts, FnSummary};
use crate::registry::Rule;
use crate::source::{Position, Span};

pub(crate) fn span(line: usize) -> Span {
    let p = Position { line, column: 1, offset: 0 };
    Span { start: p, end: p }
}

pub(crate) fn unit<'a>(display: &'a str, package: &'a str, opaque: bool, facts: &'a FileFacts) -> Unit<'a> {
    Unit {
        display,
        package: Some(package),
        opaque,
        focused: true,
        target: package,
        facts,
        dependency: false,
        uses: &[],
        in_tree: true,
    }
}

pub(crate) fn call(key: &str, line: usize) -> CallSite {
    CallSite {
        key: key.into(),
        span: span(line),
        context: "async fn `h`".into(),
        defer: Vec::new(),
        origin: Default::default(),
        then: None,
        branch: false,
        repeated: false,
        awaited: false,
        guard: None,
        literals: Vec::new(),
    }
}

pub(crate) fn func(key: &str, calls: Vec<CallSite>, blocks: bool) -> FnSummary {
    FnSummary {
        key: key.into(),
        name: key.rsplit("::").next().unwrap().into(),
        span: span(1),
        blocking: if blocks {
            vec![BlockSite {
                rule: Rule::BlockingFs,
                callee: "std::fs::read".into(),
                span: span(9),
                reason: "file".into(),
                instead: "tokio".into(),
                rank: Default::default(),
                defer: Vec::new(),
                branch: false,
                repeated: false,
                guard: None,
            }]
        } else {
            vec![]
        },
        calls,
        returns: None,
        method: false,
        unseen: Vec::new(),
    }
}
