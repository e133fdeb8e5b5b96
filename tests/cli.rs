//! The command line as users meet it: exit codes, errors, subcommands, stdin, flags.

use assert_cmd::Command;
use predicates::prelude::*;

fn stall() -> Command {
    let mut c = Command::cargo_bin("stall").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CARGO_TERM_COLOR");
    c
}

const BAD: &str = "async fn f() { std::thread::sleep(std::time::Duration::from_secs(1)); }\n";
const GOOD: &str = "async fn f() { tokio::time::sleep(std::time::Duration::from_secs(1)).await; }\n";

#[test]
fn exit_codes_say_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.rs");
    let bad = dir.path().join("bad.rs");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();
    stall().arg("check").arg(&good).assert().code(0).stdout(predicate::str::contains("No problems found"));
    stall()
        .arg("check")
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("warning[blocking-sleep]"));
    stall().args(["check", "--exit-zero"]).arg(&bad).assert().code(0);
    // An error (a missing path) exits 2, and the findings of other paths are still printed.
    stall()
        .arg("check")
        .arg(&bad)
        .arg(dir.path().join("missing.rs"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("blocking-sleep"))
        .stderr(predicate::str::contains("missing.rs").and(predicate::str::contains("no such file")));
}

#[test]
fn json_output_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rs"), BAD).unwrap();
    let out = stall().args(["check", "--format", "json"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["files_checked"], 1);
    assert_eq!(doc["summary"]["diagnostics"], 1);
    assert_eq!(doc["summary"]["errors"], 0);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["rule"], "blocking-sleep");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["start"], serde_json::json!({"line": 1, "column": 16}));
    assert_eq!(d["end"], serde_json::json!({"line": 1, "column": 69}));
    assert!(d["path"].as_str().unwrap().ends_with("bad.rs"));
    assert!(d["help"].as_str().unwrap().contains("tokio::time::sleep"));
    // The one note says where the code runs: nothing calls `f`, so it may run anywhere.
    let notes = d["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].as_str().unwrap().contains("nothing in the checked code calls `f`"), "{notes:?}");
    assert_eq!(d["exposure"], "hot");
    assert_eq!(doc["summary"]["hidden"], serde_json::json!({"startup": 0, "test": 0}));
    assert!(d["fix"].is_null());
}

const STARTUP_AND_SERVE: &str = r#"
#[tokio::main]
async fn main() {
    let config = std::fs::read_to_string("app.toml").unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:80").await.unwrap();
    loop {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::spawn(handle(socket));
    }
}

async fn handle(socket: tokio::net::TcpStream) {
    std::thread::sleep(std::time::Duration::from_millis(5));
}
"#;

#[test]
fn startup_findings_are_counted_by_default_and_shown_with_all() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.rs"), STARTUP_AND_SERVE).unwrap();
    let json = |extra: &[&str]| -> serde_json::Value {
        let out = stall().args(["check", "--format", "json"]).args(extra).arg(dir.path()).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let default = json(&[]);
    let rules: Vec<&str> =
        default["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["blocking-sleep"], "{default}");
    let sleep = &default["diagnostics"][0];
    assert_eq!(sleep["exposure"], "hot");
    assert!(sleep["notes"][0].as_str().unwrap().contains("runs in the task spawned at"), "{sleep}");
    assert_eq!(default["summary"]["hidden"], serde_json::json!({"startup": 1, "test": 0}));
    let all = json(&["--all"]);
    let read = all["diagnostics"].as_array().unwrap().iter().find(|d| d["rule"] == "blocking-fs").unwrap();
    assert_eq!(read["exposure"], "startup");
    assert_eq!(read["notes"][0], "runs only at startup, from `main`");
    stall()
        .args(["check", "--color", "never"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1 more on startup-only paths; `--all` shows them."));
}

#[test]
fn stdin_is_checked_under_the_given_name() {
    stall()
        .args(["check", "--stdin-filename", "src/handler.rs", "-"])
        .write_stdin(BAD)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("src/handler.rs:1:16"));
    stall().args(["check", "-"]).write_stdin(GOOD).assert().code(0);
}

#[test]
fn rules_and_explain() {
    stall()
        .arg("rules")
        .assert()
        .success()
        .stdout(predicate::str::contains("blocking-fs").and(predicate::str::contains("serial-await-loop")));
    stall().args(["explain", "blocking-sleep"]).assert().success().stdout(
        predicate::str::contains("## Why is this bad?").and(predicate::str::contains("tokio::time::sleep")),
    );
    stall()
        .args(["explain", "no-such-rule"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stall rules"));
}

#[test]
fn a_wrong_flag_is_a_usage_error() {
    stall().args(["check", "--frobnicate"]).assert().code(2).stderr(predicate::str::contains("--frobnicate"));
}

#[test]
fn colour_follows_flags_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rs");
    std::fs::write(&bad, BAD).unwrap();
    let esc = predicate::str::contains("\u{1b}[");
    stall().args(["check", "--color", "always"]).arg(&bad).assert().stdout(esc.clone());
    stall().args(["check"]).arg(&bad).assert().stdout(esc.clone().not());
    stall().args(["check"]).arg(&bad).env("CLICOLOR_FORCE", "1").assert().stdout(esc.clone());
    stall().args(["check"]).arg(&bad).env("CARGO_TERM_COLOR", "always").assert().stdout(esc.clone());
    stall().args(["check", "--color", "always"]).arg(&bad).env("NO_COLOR", "1").assert().stdout(esc.clone());
    stall()
        .args(["check"])
        .arg(&bad)
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .assert()
        .stdout(esc.not());
}

#[test]
fn quiet_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rs"), BAD).unwrap();
    stall()
        .args(["check", "--quiet"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("blocking-sleep").and(predicate::str::contains("Found").not()));
    stall()
        .args(["check", "--statistics"])
        .arg(dir.path())
        .assert()
        .stdout(predicate::str::is_match(r"(?m)^\s+1\s+blocking-sleep$").unwrap());
}

#[test]
fn walks_directories_honouring_gitignore_and_skipping_target() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for p in ["src/a.rs", "target/debug/gen.rs", "ignored/x.rs", ".hidden/y.rs"] {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, BAD).unwrap();
    }
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    let out = stall().args(["check", "--format", "json"]).arg(root).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["files_checked"], 1, "{doc}");
    assert!(doc["diagnostics"][0]["path"].as_str().unwrap().ends_with("src/a.rs"));
}
