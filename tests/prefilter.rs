//! The prefilter (parse only files with async code, then what the call graph asks for) must
//! not change a single finding: compare with a run that parses every file.

use assert_cmd::Command;

fn json(args: &[&str]) -> String {
    let out = Command::cargo_bin("stall").unwrap().args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn shortcuts_lose_nothing_on_the_fixtures() {
    let fast = json(&["check", "--output-format", "json", "fixtures"]);
    let full = json(&["check", "--output-format", "json", "--no-prefilter", "fixtures"]);
    assert_eq!(fast, full);
    let doc: serde_json::Value = serde_json::from_str(&fast).unwrap();
    assert!(doc["summary"]["diagnostics"].as_u64().unwrap() > 100);
    // The transitive crates depend on files without async code being parsed on demand.
    assert!(fast.contains("blocks in async fn"));
}
