//! The formats other tools read (cargo's JSON messages, SARIF, GitHub annotations) and the
//! cargo subcommand, each from the real binaries on a small crate in a temporary directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const BAD_LIB: &str =
    "pub async fn fetch() {\n    std::thread::sleep(std::time::Duration::from_secs(1));\n}\n";

fn stall() -> Command {
    let mut c = Command::cargo_bin("stall").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CARGO_TERM_COLOR");
    c
}

fn cargo_stall() -> Command {
    let mut c = Command::cargo_bin("cargo-stall").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CARGO_TERM_COLOR");
    c
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A package `demo-app` 0.2.0 in a directory of another name, with one finding in its library.
fn demo_crate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"demo-app\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[workspace]\n",
            ),
            ("src/lib.rs", BAD_LIB),
        ],
    );
    dir
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap()
}

/// The fields rust-analyzer and cargo_metadata read from a compiler message.
fn assert_compiler_message(m: &Value) {
    assert_eq!(m["reason"], "compiler-message");
    assert!(m["package_id"].as_str().unwrap().starts_with("path+file:///"), "{m}");
    assert!(m["manifest_path"].as_str().unwrap().ends_with("Cargo.toml"));
    let t = &m["target"];
    for key in ["kind", "crate_types"] {
        assert!(!t[key].as_array().unwrap().is_empty(), "{key}: {m}");
    }
    for key in ["name", "src_path", "edition"] {
        assert!(t[key].is_string(), "{key}: {m}");
    }
    for key in ["doctest", "test"] {
        assert!(t[key].is_boolean(), "{key}: {m}");
    }
    let msg = &m["message"];
    assert_eq!(msg["$message_type"], "diagnostic");
    assert!(msg["message"].is_string());
    assert!(msg["code"]["code"].is_string());
    assert!(msg["code"]["explanation"].is_null());
    assert!(matches!(msg["level"].as_str(), Some("warning" | "error")));
    assert!(msg["rendered"].is_string());
    assert!(msg["children"].is_array(), "rust-analyzer drops messages without children");
    let spans = msg["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    for s in spans {
        for key in ["byte_start", "byte_end", "line_start", "line_end", "column_start", "column_end"] {
            assert!(s[key].is_u64(), "{key}: {s}");
        }
        assert!(s["file_name"].is_string());
        assert!(s["is_primary"].is_boolean());
        assert!(s["expansion"].is_null());
        assert!(s.get("suggested_replacement").is_some() && s.get("suggestion_applicability").is_some());
        let text = s["text"].as_array().unwrap();
        assert!(!text.is_empty(), "rust-analyzer drops spans without text");
        for line in text {
            assert!(
                line["text"].is_string()
                    && line["highlight_start"].is_u64()
                    && line["highlight_end"].is_u64()
            );
        }
    }
}

#[test]
fn cargo_format_is_cargo_check_messages() {
    let dir = demo_crate();
    let root = canonical(dir.path());
    let out = stall().args(["check", "--format", "cargo"]).arg(&root).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let m = &lines[0];
    assert_compiler_message(m);
    let dir_url = format!("file://{}", root.display());
    assert_eq!(m["package_id"], format!("path+{dir_url}#demo-app@0.2.0"));
    assert_eq!(m["manifest_path"], root.join("Cargo.toml").display().to_string());
    assert_eq!(m["target"]["kind"], serde_json::json!(["lib"]));
    assert_eq!(m["target"]["crate_types"], serde_json::json!(["lib"]));
    assert_eq!(m["target"]["name"], "demo_app");
    assert_eq!(m["target"]["src_path"], root.join("src/lib.rs").display().to_string());
    assert_eq!(m["target"]["edition"], "2021");
    let msg = &m["message"];
    assert_eq!(msg["code"]["code"], "blocking-sleep");
    assert_eq!(msg["level"], "warning");
    let span = &msg["spans"][0];
    assert_eq!(span["file_name"], root.join("src/lib.rs").display().to_string());
    assert_eq!((span["line_start"].as_u64(), span["column_start"].as_u64()), (Some(2), Some(5)));
    assert_eq!((span["line_end"].as_u64(), span["column_end"].as_u64()), (Some(2), Some(58)));
    let (b0, b1) =
        (span["byte_start"].as_u64().unwrap() as usize, span["byte_end"].as_u64().unwrap() as usize);
    assert_eq!(&BAD_LIB[b0..b1], "std::thread::sleep(std::time::Duration::from_secs(1))");
    assert_eq!(span["is_primary"], true);
    assert_eq!(span["text"][0]["text"], "    std::thread::sleep(std::time::Duration::from_secs(1));");
    assert_eq!(span["text"][0]["highlight_start"], 5);
    assert_eq!(span["text"][0]["highlight_end"], 58);
    assert!(span["label"].is_string());
    let children = msg["children"].as_array().unwrap();
    let note = children.iter().find(|c| c["level"] == "note").unwrap();
    assert!(note["message"].as_str().unwrap().contains("calls `fetch`"), "{note}");
    let help = children.iter().find(|c| c["level"] == "help").unwrap();
    assert!(help["message"].as_str().unwrap().contains("tokio::time::sleep"));
    assert_eq!(help["spans"], serde_json::json!([]));
    assert_eq!(help["children"], serde_json::json!([]));
    assert!(help["code"].is_null() && help["rendered"].is_null());
    let rendered = msg["rendered"].as_str().unwrap();
    assert!(rendered.starts_with("warning[blocking-sleep]: "), "{rendered}");
    assert!(rendered.contains("src/lib.rs:2:5") && rendered.contains("^^^"), "{rendered}");
}

#[test]
fn cargo_format_package_ids_match_cargo_metadata() {
    // A workspace whose member directories have and lack the package's name, and a binary.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"crates/x\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"1.4.0\"\nedition = \"2021\"\n",
            ),
            ("app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2018\"\n"),
            ("app/src/main.rs", "fn main() {}\nasync fn run() {\n    let _ = std::fs::read(\"x\");\n}\n"),
            ("crates/x/Cargo.toml", "[package]\nname = \"x-tools\"\nversion.workspace = true\nedition.workspace = true\n"),
            ("crates/x/src/lib.rs", BAD_LIB),
        ],
    );
    let root = canonical(dir.path());
    let meta = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(meta.status.success(), "{}", String::from_utf8_lossy(&meta.stderr));
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    let ids: HashSet<(String, String)> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["manifest_path"].as_str().unwrap().to_string()))
        .collect();

    // `stall check` reads the manifests itself; `cargo stall` asks cargo metadata. Same ids.
    let from_manifests = stall().args(["check", "--format", "cargo"]).arg(&root).output().unwrap();
    let from_cargo = cargo_stall().args(["stall", "--format", "cargo"]).current_dir(&root).output().unwrap();
    for out in [from_manifests, from_cargo] {
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 2, "{lines:?}");
        for m in &lines {
            assert_compiler_message(m);
            let id = (
                m["package_id"].as_str().unwrap().to_string(),
                m["manifest_path"].as_str().unwrap().to_string(),
            );
            assert!(ids.contains(&id), "{id:?} not in {ids:?}");
        }
        let app =
            lines.iter().find(|m| m["manifest_path"].as_str().unwrap().ends_with("app/Cargo.toml")).unwrap();
        assert_eq!(app["target"]["kind"], serde_json::json!(["bin"]));
        assert_eq!(app["target"]["name"], "app");
        assert_eq!(app["target"]["edition"], "2018");
        assert_eq!(app["message"]["code"]["code"], "blocking-fs");
        let x = lines.iter().find(|m| m["target"]["name"] == "x_tools").unwrap();
        assert_eq!(x["target"]["edition"], "2021");
    }
}

const SCHEMA_LINK: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Every `http(s)://` string in a JSON document.
fn collect_links(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_links(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_links(x, out)),
        _ => {}
    }
}

#[test]
fn sarif_is_what_code_scanning_accepts() {
    let dir = demo_crate();
    let out = stall().args(["check", "--format", "sarif", "."]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "stall");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // stall has no published home: no link but the schema's and the files' own.
    assert!(driver.get("informationUri").is_none(), "{driver}");
    let mut links = Vec::new();
    collect_links(&doc, &mut links);
    assert_eq!(links, [SCHEMA_LINK], "links that lead nowhere");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), stall::Rule::ALL.len());
    for (rule, r) in rules.iter().zip(stall::Rule::ALL) {
        assert_eq!(rule["id"], r.id());
        assert_eq!(rule["shortDescription"]["text"], r.summary());
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(rule["help"]["text"], r.doc());
        assert!(rule.get("helpUri").is_none(), "{rule}");
        assert!(matches!(rule["defaultConfiguration"]["level"].as_str(), Some("warning" | "error")));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let res = &results[0];
    assert_eq!(res["ruleId"], "blocking-sleep");
    let index = res["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "blocking-sleep");
    assert_eq!(res["level"], "warning");
    assert!(res["message"]["text"].as_str().unwrap().contains("std::thread::sleep"));
    let loc = &res["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let region = &loc["region"];
    for (key, want) in [("startLine", 2), ("startColumn", 5), ("endLine", 2), ("endColumn", 58)] {
        assert_eq!(region[key].as_u64(), Some(want), "{key}");
    }
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn github_annotations_escape_and_drop_columns_over_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("50%,odd.rs", BAD_LIB),
            ("multi.rs", "async fn f() {\n    std::thread::sleep(\n        std::time::Duration::from_secs(1),\n    );\n}\n"),
        ],
    );
    let out = stall().args(["check", "--format", "github", "."]).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // Property separators and `%` in the path are escaped; the help line break too.
    assert!(
        lines[0].starts_with(
            "::warning file=50%25%2Codd.rs,line=2,col=5,endLine=2,endColumn=58,title=blocking-sleep::blocking call"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("%0Ahelp: "), "{}", lines[0]);
    assert!(
        lines[1].starts_with("::warning file=multi.rs,line=2,endLine=4,title=blocking-sleep::"),
        "{}",
        lines[1]
    );
}

#[test]
fn cargo_stall_drops_the_subcommand_name_and_checks_the_workspace() {
    let dir = demo_crate();
    // As cargo runs it: `cargo-stall stall ARGS`.
    // Warnings exit 0, as with cargo check and cargo clippy.
    cargo_stall()
        .args(["stall", "check"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicates::str::contains("warning[blocking-sleep]"));
    // Without a subcommand it checks the members of the workspace it runs in.
    cargo_stall()
        .args(["stall", "--quiet"])
        .current_dir(dir.path().join("src"))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("lib.rs:2:5"));
    cargo_stall()
        .args(["stall", "rules"])
        .assert()
        .success()
        .stdout(predicates::str::contains("blocking-fs"));
    cargo_stall().args(["stall", "--frobnicate"]).assert().code(2);
    // Outside any cargo project it is an error, as for cargo clippy.
    let loose = tempfile::tempdir().unwrap();
    write(loose.path(), &[("x.rs", BAD_LIB)]);
    cargo_stall()
        .arg("stall")
        .current_dir(loose.path())
        .assert()
        .code(101)
        .stdout("")
        .stderr(predicates::str::contains("could not find `Cargo.toml`"));
}

/// A workspace of two members, each with one finding.
fn two_members() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let member =
        |name: &str| format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    write(
        dir.path(),
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"one\", \"two\"]\nresolver = \"2\"\n"),
            ("one/Cargo.toml", &member("one")),
            ("one/src/lib.rs", BAD_LIB),
            ("two/Cargo.toml", &member("two")),
            ("two/src/lib.rs", BAD_LIB),
        ],
    );
    dir
}

#[test]
fn cargo_stall_takes_cargo_flags_and_exits_as_cargo_clippy() {
    let dir = two_members();
    let root = dir.path();
    // -p/--package picks members, as for cargo.
    cargo_stall()
        .args(["stall", "--message-format=short", "-p", "two"])
        .current_dir(root)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("two/src/lib.rs:2:5: blocking-sleep "))
        .stdout(predicates::str::contains("one/").not());
    cargo_stall()
        .args(["stall", "--package", "nope"])
        .current_dir(root)
        .assert()
        .code(101)
        .stderr(predicates::str::contains("`nope` not found"));
    // human and short print what they say, not JSON.
    let human =
        cargo_stall().args(["stall", "--message-format", "human"]).current_dir(root).output().unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("warning[blocking-sleep]") && !text.contains("\"reason\""), "{text}");
    // `-- -D warnings` makes the findings errors, and the exit code cargo's failure.
    cargo_stall()
        .args(["stall", "--", "-D", "warnings"])
        .current_dir(root)
        .assert()
        .code(101)
        .stdout(predicates::str::contains("error[blocking-sleep]"));
    cargo_stall().args(["stall", "--", "-W", "nothing"]).current_dir(root).assert().code(2);
    // --help shows cargo's flags.
    let help = cargo_stall().args(["stall", "--help"]).current_dir(root).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in ["--message-format", "--package", "--manifest-path", "--output-format"] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

/// `cargo stall` through cargo itself: the binaries' directory first on PATH.
fn real_cargo(dir: &Path) -> std::process::Command {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cargo-stall"));
    let mut path = vec![bin.parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.current_dir(dir)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CARGO_TERM_COLOR");
    cmd
}

#[test]
fn cargo_stall_message_format_json_appends_to_cargo_check() {
    let dir = demo_crate();
    let root = canonical(dir.path());
    let out = real_cargo(&root).args(["stall", "--message-format=json", "--all-targets"]).output().unwrap();
    // A warning passes, as with cargo check.
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    let reasons: Vec<&str> = lines.iter().map(|l| l["reason"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"compiler-artifact"), "{reasons:?}");
    assert_eq!(reasons.last(), Some(&"build-finished"), "{reasons:?}");
    let artifact = lines.iter().find(|l| l["reason"] == "compiler-artifact").unwrap();
    let ours: Vec<&Value> =
        lines.iter().filter(|l| l["message"]["code"]["code"] == "blocking-sleep").collect();
    assert_eq!(ours.len(), 1, "{lines:?}");
    assert_compiler_message(ours[0]);
    assert_eq!(ours[0]["package_id"], artifact["package_id"]);
    assert_eq!(ours[0]["manifest_path"], artifact["manifest_path"]);

    // A compile error: cargo's message passes through, stall's still follow, cargo's exit wins.
    write(&root, &[("src/main.rs", "fn main() { let x: u32 = \"no\"; }\n")]);
    let out = real_cargo(&root).args(["stall", "--message-format=json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(101), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    let rustc_error = lines.iter().position(|l| l["message"]["code"]["code"] == "E0308");
    let ours = lines.iter().position(|l| l["message"]["code"]["code"] == "blocking-sleep");
    assert!(matches!((rustc_error, ours), (Some(a), Some(b)) if a < b), "{lines:?}");
}
