//! Config files, rule selection and inline suppressions, through the real binary.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn stall() -> Command {
    Command::cargo_bin("stall").unwrap()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// (file name, line, rule, severity) of every finding.
fn findings(cmd: &mut Command) -> Vec<(String, u64, String, String)> {
    let out = cmd.args(["--output-format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path = d["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            let rule = d["rule"].as_str().unwrap().to_string();
            (path, d["start"]["line"].as_u64().unwrap(), rule, d["severity"].as_str().unwrap().to_string())
        })
        .collect()
}

const TWO: &str = "async fn f() {\n    std::thread::sleep(d);\n    std::fs::read(p);\n}\n";

#[test]
fn stall_toml_selects_ignores_excludes_and_sets_severity() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/a.rs", TWO);
    write(root, "generated/b.rs", TWO);
    write(root, "examples/c.rs", TWO);
    write(
        root,
        "stall.toml",
        "ignore = [\"blocking-sleep\"]\nexclude = [\"generated\"]\n[severity]\nblocking-fs = \"error\"\n\
         [per-path-ignores]\n\"examples/**\" = [\"blocking-fs\"]\n",
    );
    let got = findings(stall().arg("check").arg(root));
    assert_eq!(got, [("a.rs".to_string(), 3, "blocking-fs".to_string(), "error".to_string())]);
    // Flags add to the config; --isolated ignores it.
    let got = findings(stall().args(["check", "--select", "blocking-sleep", "--isolated"]).arg(root));
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|f| f.2 == "blocking-sleep"));
}

#[test]
fn cargo_metadata_tables_and_catalog_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n[package.metadata.stall]\n\
         allow = [\"std::thread::sleep\"]\noffload = [\"pool::run\"]\n\
         [[package.metadata.stall.blocking]]\npath = \"vendor_sdk::slow_io\"\nrule = \"blocking-net\"\n\
         reason = \"talks to the vendor\"\ninstead = \"vendor_sdk::slow_io_async\"\n",
    );
    write(
        root,
        "src/lib.rs",
        "async fn f() {\n    std::thread::sleep(d);\n    vendor_sdk::slow_io();\n    \
         pool::run(|| std::fs::read(p));\n}\n",
    );
    let got = findings(stall().arg("check").arg(root));
    assert_eq!(got, [("lib.rs".to_string(), 3, "blocking-net".to_string(), "warning".to_string())]);
}

#[test]
fn config_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "stall.toml", "select = [\"blocking-fs\"]\nfrobnicate = true\n");
    write(dir.path(), "a.rs", TWO);
    stall()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stall.toml:2:1").and(predicate::str::contains("frobnicate")));
    write(dir.path(), "stall.toml", "ignore = [\"blocking-fss\"]\n");
    stall()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stall.toml:1:").and(predicate::str::contains("blocking-fss")));
    stall()
        .args(["check", "--select", "nope"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule `nope`"));
}

#[test]
fn inline_suppressions_cover_lines_and_items() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.rs",
        "async fn f() {
    std::thread::sleep(d); // stall: allow(blocking-sleep) -- startup only
    // stall: allow(blocking-fs)
    std::fs::read(p);
    std::fs::read(q);
}
// stall: allow(all) -- migration tool
async fn g() {
    std::fs::read(p);
}
#[cfg_attr(stall, allow(stall::blocking_fs))]
async fn h() {
    std::fs::read(p);
}
async fn k() {
    std::fs::read(p); // stall: allow(blocking-sleep)
}
",
    );
    let rules: Vec<(u64, String)> =
        findings(stall().arg("check").arg(dir.path())).into_iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(rules, [(5, "blocking-fs".to_string()), (16, "blocking-fs".to_string())]);
    let rules: Vec<(u64, String)> =
        findings(stall().args(["check", "--report-unused-suppressions"]).arg(dir.path()))
            .into_iter()
            .map(|f| (f.1, f.2))
            .collect();
    assert!(rules.contains(&(16, "unused-suppression".to_string())), "{rules:?}");
}

#[test]
fn stdin_uses_the_config_of_its_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "stall.toml", "ignore = [\"blocking-sleep\"]\n");
    let name = dir.path().join("src/x.rs");
    let got = findings(stall().args(["check", "--stdin-filename"]).arg(&name).arg("-").write_stdin(TWO));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, "blocking-fs");
}
