//! Every fixture says what it expects: a `//~ rule-id` comment on each line where a finding
//! starts, nothing elsewhere. This runs the real binary over all fixtures and compares.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;

type Finding = (String, usize, String);

fn expected(root: &Path) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for entry in walk(root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let rel = entry.to_string_lossy().replace('\\', "/");
        for (i, line) in text.lines().enumerate() {
            if let Some((_, ids)) = line.split_once("//~") {
                for id in ids.split_whitespace() {
                    out.insert((rel.clone(), i + 1, id.to_string()));
                }
            }
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
    files
}

/// Recall and false positives on any annotated directory, e.g. a held-out evaluation set:
/// `STALL_EVAL_DIR=/path cargo test --test annotations -- --ignored --nocapture`.
#[test]
#[ignore = "needs STALL_EVAL_DIR"]
fn evaluate_an_annotated_directory() {
    let Ok(dir) = std::env::var("STALL_EVAL_DIR") else { return };
    let want = expected(Path::new(&dir));
    let got = actual(&dir);
    for family in ["blocking", "serial"] {
        let is = |f: &&Finding| f.2.starts_with("serial") == (family == "serial");
        let w: BTreeSet<_> = want.iter().filter(is).collect();
        let g: BTreeSet<_> = got.iter().filter(is).collect();
        let found = w.intersection(&g).count();
        println!("{family}: found {found} of {} annotated; {} unexpected", w.len(), g.difference(&w).count());
    }
    for f in want.difference(&got) {
        println!("missed: {f:?}");
    }
    for f in got.difference(&want) {
        println!("unexpected: {f:?}");
    }
}

fn actual(root: &str) -> BTreeSet<Finding> {
    let out = Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--output-format", "json", root])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0, "errors: {}", doc["errors"]);
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["start"]["line"].as_u64().unwrap() as usize,
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn fixtures_report_exactly_their_annotations() {
    let root = "fixtures";
    let want = expected(Path::new(root));
    let got = actual(root);
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed (annotated, not reported): {missed:#?}\nunexpected (reported, not annotated): {extra:#?}"
    );
    assert!(want.len() >= 50, "the fixtures should carry many annotations, found {}", want.len());
}
