//! Applying fixes: a finding's edits to a text, and the tokio features a rewrite needs in
//! Cargo.toml. Pure: the CLI reads and writes the files.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};

/// Applies non-overlapping edits (byte offsets) to a text.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> Result<String, String> {
    let mut edits: Vec<&Edit> = edits.to_vec();
    edits.sort_by_key(|e| (e.start.offset, e.end.offset));
    edits.dedup_by(|a, b| a == b);
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in edits {
        if e.start.offset < at || e.end.offset < e.start.offset || e.end.offset > text.len() {
            return Err("edits overlap".into());
        }
        out.push_str(&text[at..e.start.offset]);
        out.push_str(&e.replacement);
        at = e.end.offset;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The tokio feature a rewrite needs: `fs` for `tokio::fs::..`, `time` for `tokio::time::..`.
pub fn tokio_feature(fix: &Fix) -> Option<&'static str> {
    fix.edits.iter().find_map(|e| {
        if e.replacement.starts_with("tokio::fs::") {
            Some("fs")
        } else if e.replacement.starts_with("tokio::time::") {
            Some("time")
        } else {
            None
        }
    })
}

/// Says in the help of a tokio fix that may not compile which feature it needs: a tokio fix
/// is maybe-incorrect exactly when the manifest does not show that feature enabled.
pub fn name_needed_features(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        let Some(fix) = &d.fix else { continue };
        if fix.applicability != Applicability::MaybeIncorrect {
            continue;
        }
        let Some(feature) = tokio_feature(fix) else { continue };
        let note = format!(
            "the rewrite needs tokio's `{feature}` feature (`--fix --unsafe-fixes` enables it in Cargo.toml)"
        );
        d.help = Some(match d.help.take() {
            Some(help) => format!("{help}; {note}"),
            None => note,
        });
    }
}

/// Enables tokio `features` in a manifest's `[dependencies]`, keeping its formatting and
/// comments: `tokio = "1"` becomes `tokio = { version = "1", features = [..] }`, a table gets
/// the names added to its `features`. `inherited`: the features a `workspace = true` entry
/// gets from the workspace. `Ok(None)` when every feature is on already (or `full` is).
pub fn add_tokio_features(
    manifest: &str,
    features: &[&str],
    inherited: &[String],
) -> Result<Option<String>, String> {
    use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};
    let mut doc: DocumentMut = manifest.parse().map_err(|e| format!("Cargo.toml does not parse: {e}"))?;
    let Some(dep) = doc.get_mut("dependencies").and_then(|d| d.get_mut("tokio")) else {
        return Err("Cargo.toml has no `tokio` in [dependencies]".into());
    };
    let enabled = |list: Option<&Array>| -> Vec<String> {
        list.into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
    };
    let mut have: Vec<String> = inherited.to_vec();
    match &*dep {
        Item::Value(Value::InlineTable(t)) => {
            have.extend(enabled(t.get("features").and_then(Value::as_array)))
        }
        Item::Table(t) => have.extend(enabled(t.get("features").and_then(Item::as_array))),
        _ => {}
    }
    let missing: Vec<&str> =
        features.iter().copied().filter(|f| !have.iter().any(|h| h == f || h == "full")).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let push = |array: &mut Array| {
        for f in &missing {
            array.push(*f);
        }
    };
    match dep {
        Item::Value(Value::String(version)) => {
            let mut table = InlineTable::new();
            table.insert("version", Value::from(version.value().as_str()));
            let mut array = Array::new();
            push(&mut array);
            table.insert("features", Value::Array(array));
            // Keep the comment after the entry (`tokio = "1" # pinned`).
            let mut value = Value::InlineTable(table);
            *value.decor_mut() = version.decor().clone();
            *dep = Item::Value(value);
        }
        Item::Value(Value::InlineTable(t)) => match t.get_mut("features").and_then(Value::as_array_mut) {
            Some(array) => push(array),
            None => {
                let mut array = Array::new();
                push(&mut array);
                t.insert("features", Value::Array(array));
            }
        },
        Item::Table(t) => match t.get_mut("features").and_then(Item::as_array_mut) {
            Some(array) => push(array),
            None => {
                let mut array = Array::new();
                push(&mut array);
                t.insert("features", toml_edit::value(array));
            }
        },
        _ => return Err("the `tokio` entry of Cargo.toml has an unexpected form".into()),
    }
    Ok(Some(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceIndex;

    #[test]
    fn applies_edits_in_order_and_refuses_overlaps() {
        let text = "a(b); c(d);";
        let idx = SourceIndex::new(text);
        let edit = |s: usize, e: usize, r: &str| Edit {
            start: idx.position_of_offset(s),
            end: idx.position_of_offset(e),
            replacement: r.into(),
        };
        let (e1, e2) = (edit(10, 10, ".await"), edit(0, 1, "x"));
        assert_eq!(apply_edits(text, &[&e1, &e2]).unwrap(), "x(b); c(d).await;");
        let (o1, o2) = (edit(0, 3, ""), edit(2, 4, ""));
        assert!(apply_edits(text, &[&o1, &o2]).is_err());
    }

    #[test]
    fn tokio_features_are_added_keeping_the_manifest_as_written() {
        let plain = "[package]\nname = \"a\"\n\n[dependencies]\n# the runtime\ntokio = \"1\" # pinned\n";
        let got = add_tokio_features(plain, &["fs"], &[]).unwrap().unwrap();
        assert!(
            got.contains("# the runtime\ntokio = { version = \"1\", features = [\"fs\"] } # pinned\n"),
            "{got}"
        );
        let inline = "[dependencies]\ntokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";
        let got = add_tokio_features(inline, &["fs", "time", "rt"], &[]).unwrap().unwrap();
        assert!(got.contains("features = [\"rt\", \"macros\", \"fs\", \"time\"]"), "{got}");
        let table = "[dependencies.tokio]\nversion = \"1\"\n";
        let got = add_tokio_features(table, &["time"], &[]).unwrap().unwrap();
        assert!(got.contains("version = \"1\"\nfeatures = [\"time\"]"), "{got}");
        let full = "[dependencies]\ntokio = { version = \"1\", features = [\"full\"] }\n";
        assert_eq!(add_tokio_features(full, &["fs"], &[]).unwrap(), None);
        let ws = "[dependencies]\ntokio = { workspace = true }\n";
        assert_eq!(add_tokio_features(ws, &["fs"], &["fs".to_string()]).unwrap(), None);
        assert!(add_tokio_features("[dependencies]\n", &["fs"], &[]).is_err());
    }
}
