//! The async-twin fix: `std::fs::read(p)` -> `tokio::fs::read(p).await`, for the runtime the
//! crate depends on. The catalog names the tokio twin; other runtimes map from it.

use syn::spanned::Spanned;
use syn::Expr;

use super::Hit;
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::project::{Runtime, RuntimeKind};
use crate::semantic::Model;

/// The fix for a blocking call written directly in an async body, when it has a twin.
pub(super) fn fix(m: &Model, expr: &Expr, hit: &Hit, runtime: &Runtime) -> Option<Fix> {
    let Expr::Call(call) = expr else { return None };
    let (path, applicability) = twin(runtime, hit.twin.as_deref()?)?;
    let func = m.span(call.func.span());
    let end = m.span(call.span()).end;
    let edits = vec![
        Edit { start: func.start, end: func.end, replacement: path },
        Edit { start: end, end, replacement: ".await".into() },
    ];
    Some(Fix { applicability, edits })
}

/// The async twin of a call for a runtime, from the catalog's tokio twin (`tokio::fs::read`,
/// `tokio::time::sleep`), and how sure the swap is to compile.
fn twin(runtime: &Runtime, tokio_twin: &str) -> Option<(String, Applicability)> {
    let sure = |ok: bool| if ok { Applicability::MachineApplicable } else { Applicability::MaybeIncorrect };
    match runtime.kind {
        RuntimeKind::Tokio => {
            let feature = if tokio_twin.starts_with("tokio::fs::") { "fs" } else { "time" };
            Some((tokio_twin.to_string(), sure(runtime.has_feature(feature))))
        }
        RuntimeKind::AsyncStd => {
            let path = match tokio_twin {
                "tokio::time::sleep" => "async_std::task::sleep".to_string(),
                p => p.strip_prefix("tokio::fs::").map(|f| format!("async_std::fs::{f}"))?,
            };
            // async-std's fs takes its own `Path` type: a `std::path::Path` argument may not fit.
            Some((path, Applicability::MaybeIncorrect))
        }
        RuntimeKind::Smol => {
            let f = tokio_twin.strip_prefix("tokio::fs::")?;
            Some((format!("smol::fs::{f}"), Applicability::MaybeIncorrect))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_follow_the_runtime_and_its_features() {
        let tokio = |f: &[&str]| Runtime {
            kind: RuntimeKind::Tokio,
            features: Some(f.iter().map(|s| s.to_string()).collect()),
        };
        assert_eq!(
            twin(&tokio(&["full"]), "tokio::fs::read").unwrap(),
            ("tokio::fs::read".to_string(), Applicability::MachineApplicable)
        );
        assert_eq!(twin(&tokio(&["rt"]), "tokio::time::sleep").unwrap().1, Applicability::MaybeIncorrect);
        let async_std = Runtime { kind: RuntimeKind::AsyncStd, features: None };
        assert_eq!(twin(&async_std, "tokio::time::sleep").unwrap().0, "async_std::task::sleep");
        let smol = Runtime { kind: RuntimeKind::Smol, features: None };
        assert!(twin(&smol, "tokio::time::sleep").is_none());
    }
}
