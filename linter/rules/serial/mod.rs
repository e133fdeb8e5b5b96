//! The serial rules: futures awaited one by one that could run together. The walk calls every
//! rule (`CHECKS`, one per rule file) at each loop and block of an async body; the rules share
//! the helpers of `body` and the name lists of `names.toml`. Findings stay pending until the
//! cross-file stage knows which awaited fns are idle (`idle`, `graph::idle`).

pub(crate) mod body;
mod idle;
pub(crate) mod names;
include!(concat!(env!("OUT_DIR"), "/rules_serial.rs"));

use syn::{Expr, Stmt};

pub(crate) use idle::IdleBuilder;

use crate::facts::Pending;
use crate::semantic::{AsyncBody, Model};

/// A finding of a serial rule, with the handle and method it awaits when that is a method
/// call (for rules that compare the loops of one body).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub pending: Pending,
    pub step: Option<(String, String)>,
    /// The branches it is in (`Model::arms`): loops in different arms of one `match` are no
    /// phases of one run.
    pub arms: Vec<(usize, usize)>,
}

/// A serial rule, run by the walk on every async body.
pub(crate) trait SerialRule: Sync {
    /// A `for`, `while` or `loop` directly in `body`.
    fn loop_expr(&self, _m: &Model, _body: &AsyncBody, _e: &Expr, _out: &mut Vec<Found>) {}
    /// The statements of a block directly in `body`.
    fn block(&self, _m: &Model, _body: &AsyncBody, _stmts: &[Stmt], _out: &mut Vec<Found>) {}
    /// What stands of the body's findings once the whole body was seen.
    fn body_done(&self, found: Vec<Found>) -> Vec<Pending> {
        found.into_iter().map(|f| f.pending).collect()
    }
}
