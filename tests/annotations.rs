//! Every fixture says what it expects, clippy-style: a `//~ rule-id: message` comment on each
//! line where a finding starts (one `//~` per finding), nothing elsewhere; `//~ rule-id
//! [startup]: message` (or `[test]`) for a finding in code that runs only at startup (or
//! supports tests), which the default output hides. `//~ rule-id` alone (or several ids) checks
//! the rule only: held-out sets written without the messages use it. This runs the real binary
//! over all fixtures (`--all`) and compares.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;

/// (path, line, rule id, message, exposure).
type Finding = (String, usize, String, String, String);

/// What the annotations expect: a finding, whose message and exposure are checked when a
/// message is written.
type Expected = (String, usize, String, Option<(String, String)>);

fn expected(root: &Path) -> BTreeSet<Expected> {
    let mut out = BTreeSet::new();
    for entry in walk(root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let rel = entry.to_string_lossy().replace('\\', "/");
        for (i, line) in text.lines().enumerate() {
            let Some((_, annotations)) = line.split_once("//~") else { continue };
            for a in annotations.split("//~") {
                match a.split_once(": ") {
                    Some((head, message)) if !head.trim().contains(' ') || head.trim().ends_with(']') => {
                        let (id, exposure) = match head.trim().split_once(" [") {
                            Some((id, e)) => (id, e.trim_end_matches(']')),
                            None => (head.trim(), "hot"),
                        };
                        let message = message.trim().to_string();
                        out.insert((
                            rel.clone(),
                            i + 1,
                            id.to_string(),
                            Some((message, exposure.to_string())),
                        ));
                    }
                    _ => {
                        for id in a.split_whitespace() {
                            out.insert((rel.clone(), i + 1, id.to_string(), None));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Pairs each expectation with a finding; returns (expected but not found, found but not
/// expected).
fn compare(want: &BTreeSet<Expected>, got: &BTreeSet<Finding>) -> (Vec<Expected>, Vec<Finding>) {
    let mut extra: Vec<Finding> = got.iter().cloned().collect();
    let mut missed = Vec::new();
    for w in want {
        let hit = extra.iter().position(|g| {
            g.0 == w.0 && g.1 == w.1 && g.2 == w.2 && w.3.as_ref().is_none_or(|(m, e)| *m == g.3 && *e == g.4)
        });
        match hit {
            Some(i) => {
                extra.remove(i);
            }
            None => missed.push(w.clone()),
        }
    }
    (missed, extra)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    walk_all(dir).into_iter().filter(|p| p.extension().is_some_and(|x| x == "rs")).collect()
}

/// Recall and false positives on any annotated directory, e.g. a held-out evaluation set:
/// `STALL_EVAL_DIR=/path cargo test --test annotations -- --ignored --nocapture`; what the
/// default output shows, or with `STALL_EVAL_FLAGS=--all` everything.
#[test]
#[ignore = "needs STALL_EVAL_DIR"]
fn evaluate_an_annotated_directory() {
    let Ok(dir) = std::env::var("STALL_EVAL_DIR") else { return };
    let want = expected(Path::new(&dir));
    let flags = std::env::var("STALL_EVAL_FLAGS").unwrap_or_default();
    let got = actual(&dir, &flags.split_whitespace().collect::<Vec<_>>());
    let (missed, extra) = compare(&want, &got);
    for family in ["blocking", "serial"] {
        let serial = |rule: &str| rule.starts_with("serial") == (family == "serial");
        let annotated = want.iter().filter(|w| serial(&w.2)).count();
        let not_found = missed.iter().filter(|w| serial(&w.2)).count();
        let unexpected = extra.iter().filter(|g| serial(&g.2)).count();
        println!(
            "{family}: found {} of {annotated} annotated; {unexpected} unexpected",
            annotated - not_found
        );
    }
    for f in &missed {
        println!("missed: {f:?}");
    }
    for f in &extra {
        println!("unexpected: {f:?}");
    }
}

fn actual(root: &str, flags: &[&str]) -> BTreeSet<Finding> {
    actual_with(root, flags, &[])
}

fn actual_with(root: &str, flags: &[&str], env: &[(&str, &Path)]) -> BTreeSet<Finding> {
    let mut cmd = Command::cargo_bin("stall").unwrap();
    cmd.args(["check", "--output-format", "json", root]).args(flags);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
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
                d["message"].as_str().unwrap().to_string(),
                d["exposure"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn fixtures_report_exactly_their_annotations() {
    let root = "fixtures";
    // Dependency chains need their workspace's dependencies located: checked on their own below.
    let own = |path: &String| !path.starts_with("fixtures/deps/");
    let want: BTreeSet<Expected> = expected(Path::new(root)).into_iter().filter(|w| own(&w.0)).collect();
    let got: BTreeSet<Finding> = actual(root, &["--all"]).into_iter().filter(|g| own(&g.0)).collect();
    let (missed, extra) = compare(&want, &got);
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed (annotated, not reported): {missed:#?}\nunexpected (reported, not annotated): {extra:#?}"
    );
    assert!(want.len() >= 50, "the fixtures should carry many annotations, found {}", want.len());
    let with_message = want.iter().filter(|w| w.3.is_some()).count();
    assert!(with_message * 10 >= want.len() * 9, "most annotations check the message: {with_message}");
}

/// Chains into a workspace's vendored dependencies (a blocking fn, a method on a returned type,
/// `for` over an `IntoIterator`, a helper calling its closure, cfg(feature) on and off, a crate
/// that offloads, two versions of one crate): exactly the annotated findings, the same on a
/// cold cache, a warm one, and one whose every entry was damaged.
#[test]
fn dependency_chains_report_exactly_their_annotations_cold_warm_and_damaged() {
    let root = "fixtures/deps/chains";
    let cache = tempfile::tempdir().unwrap();
    let env = [("STALL_CACHE_DIR", cache.path())];
    let want = expected(Path::new(root));
    assert!(want.len() >= 6, "the fixture carries its annotations: {want:?}");
    let cold = actual_with(root, &["--all"], &env);
    let (missed, extra) = compare(&want, &cold);
    assert!(missed.is_empty() && extra.is_empty(), "missed: {missed:#?}\nunexpected: {extra:#?}");
    let entries: Vec<std::path::PathBuf> = walk_all(cache.path());
    assert!(!entries.is_empty(), "the cold run fills the cache");
    assert_eq!(actual_with(root, &["--all"], &env), cold, "a warm run reports the same");
    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        let mid = bytes.len() / 2;
        bytes.truncate(mid.max(1));
        bytes[0] ^= 0xff;
        std::fs::write(entry, bytes).unwrap();
    }
    assert_eq!(actual_with(root, &["--all"], &env), cold, "damaged entries are ignored and rewritten");
}

fn walk_all(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_all(&p));
        } else {
            out.push(p);
        }
    }
    out
}
