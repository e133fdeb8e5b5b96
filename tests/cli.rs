//! The command line as users meet it: exit codes, errors, subcommands, stdin, flags.

use assert_cmd::Command;
use predicates::prelude::*;

mod common;

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
fn a_missing_path_is_an_error_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.rs");
    stall()
        .arg("check")
        .arg(&missing)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("missing.rs").and(predicate::str::contains("no such file")));
    // With a good file beside it, still no "No problems found": the run did not pass.
    let good = dir.path().join("good.rs");
    std::fs::write(&good, GOOD).unwrap();
    stall().arg("check").arg(&good).arg(&missing).assert().code(2).stdout("");
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
    assert_eq!(
        doc["summary"]["hidden"],
        serde_json::json!({"startup": 0, "admin": 0, "brief": 0, "unreached": 0, "test": 0})
    );
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
    if std::path::Path::new("maintenance").exists() {
        return;
    }
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
    assert_eq!(
        default["summary"]["hidden"],
        serde_json::json!({"startup": 1, "admin": 0, "brief": 1, "unreached": 0, "test": 0})
    );
    let all = json(&["--all"]);
    let fs: Vec<_> =
        all["diagnostics"].as_array().unwrap().iter().filter(|d| d["rule"] == "blocking-fs").collect();
    assert_eq!(fs.len(), 2, "{all}");
    assert_eq!(fs[0]["exposure"], "startup");
    assert_eq!(fs[0]["notes"][0], "runs only at startup, from `main`");
    // One stat per request: hot code, but brief.
    assert_eq!(fs[1]["exposure"], "brief");
    assert_eq!(fs[1]["message"], "blocking call `Path::exists` in async fn `handle`");
    assert!(fs[1]["notes"][0]
        .as_str()
        .unwrap()
        .ends_with("it is one metadata operation per run, brief on a local disk"));
    stall()
        .args(["check", "--color", "never"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
        "1 more on startup-only paths and 1 as a brief metadata operation on a hot path; `--all` shows them.",
    ));
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

#[test]
fn no_links_to_hosts_that_do_not_exist() {
    // stall has no public host: no `repository` key, no invented URLs in what users read.
    let manifest = std::fs::read_to_string("Cargo.toml").unwrap();
    let table: toml::Table = toml::from_str(&manifest).unwrap();
    assert!(table["package"].get("repository").is_none(), "Cargo.toml names a repository");
    for file in ["Cargo.toml", "README.md", ".pre-commit-hooks.yaml"] {
        let text = std::fs::read_to_string(file).unwrap();
        for fake in ["stall-rs", "example.invalid", "github.com/stall"] {
            assert!(!text.contains(fake), "{file} links to {fake}");
        }
    }
    // The rule docs are printed, not linked.
    let out = stall().args(["check", "--format", "sarif", "-"]).write_stdin(BAD).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("helpUri") && !text.contains("informationUri"), "{text}");
}

/// JSON of `stall check ARGS PATH`.
fn json_of(args: &[&str], path: &std::path::Path) -> (i32, serde_json::Value) {
    let out = stall().args(["check", "--output-format", "json"]).args(args).arg(path).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

fn rules_of(doc: &serde_json::Value) -> Vec<(String, u64)> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap().to_string(), d["start"]["line"].as_u64().unwrap()))
        .collect()
}

#[test]
fn suppressions_with_a_typo_are_reported_with_what_was_meant() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.rs");
    std::fs::write(
        &file,
        "\
async fn f(d: std::time::Duration) {
    std::thread::sleep(d); // stall: allow(blocking_sleep)
    std::thread::sleep(d); // stall:allow(blocking-sleep)
    std::thread::sleep(d); /* stall: allow(blocking-sleep) */
    std::thread::sleep(d); // stall: allow(blocking-slep)
}
#[cfg_attr(stall, allow(stall::blocking_sleep))]
async fn g(d: std::time::Duration) {
    std::thread::sleep(d);
}
",
    )
    .unwrap();
    let (code, doc) = json_of(&[], &file);
    assert_eq!(code, 1, "{doc}");
    let found = rules_of(&doc);
    // Line 2 and fn g are suppressed (underscores accepted); each near miss is a warning
    // beside the finding it failed to suppress.
    assert_eq!(
        found,
        [
            ("blocking-sleep".to_string(), 3),
            ("unused-suppression".to_string(), 3),
            ("blocking-sleep".to_string(), 4),
            ("unused-suppression".to_string(), 4),
            ("blocking-sleep".to_string(), 5),
            ("unused-suppression".to_string(), 5),
        ],
        "{doc}"
    );
    let said: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "unused-suppression")
        .map(|d| format!("{} | {}", d["message"].as_str().unwrap(), d["help"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            "`stall:allow` is not a suppression | write `// stall: allow(blocking-sleep)`",
            "a block comment is not a suppression | write `// stall: allow(blocking-sleep)`",
            "unknown rule `blocking-slep` in a suppression | did you mean `blocking-sleep`?",
        ]
    );
    assert!(doc["diagnostics"].as_array().unwrap().iter().all(|d| d["severity"] == "warning"));
}

#[test]
fn cfg_attr_suppressions_compile_under_deny_warnings_with_the_documented_lints() {
    // The README's `[lints.rust]` lines make `cfg(stall)` known to rustc's check-cfg.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lints = "[lints.rust]\nunexpected_cfgs = { level = \"warn\", check-cfg = ['cfg(stall)'] }\n";
    let manifest = |lints: &str| {
        format!(
            "[package]\nname = \"quiet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{lints}\n[workspace]\n"
        )
    };
    std::fs::create_dir(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "#[cfg_attr(stall, allow(stall::blocking_fs))]\npub async fn load() -> String {\n    std::fs::read_to_string(\"x\").unwrap_or_default()\n}\n",
    )
    .unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(readme.contains(lints.trim_end()), "the README must show the lints table");
    let check = || {
        std::process::Command::new(env!("CARGO"))
            .args(["check", "--quiet", "--offline"])
            .current_dir(root)
            .env("RUSTFLAGS", "-D warnings")
            .env("CARGO_TARGET_DIR", root.join("target"))
            .output()
            .unwrap()
    };
    // Without the lines, rustc rejects the unknown cfg under -D warnings: the test can fail.
    std::fs::write(root.join("Cargo.toml"), manifest("")).unwrap();
    let without = check();
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("unexpected `cfg` condition name: `stall`"));
    std::fs::write(root.join("Cargo.toml"), manifest(lints)).unwrap();
    let with = check();
    assert!(with.status.success(), "{}", String::from_utf8_lossy(&with.stderr));
    // And stall reads the attribute.
    stall().arg("check").arg(root).assert().code(0);
}

#[test]
fn rule_selection_takes_all_families_underscores_and_suggests() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.rs");
    std::fs::write(
        &file,
        "async fn f(d: std::time::Duration) {\n    std::thread::sleep(d);\n    let _ = std::fs::read(\"x\");\n    let a = g(1);\n    let b = g(2);\n    a.await;\n    b.await;\n}\nasync fn g(_: u8) { tokio::net::TcpStream::connect(\"x\").await.ok(); }\n",
    )
    .unwrap();
    let rules = |args: &[&str]| -> Vec<String> {
        let (_, doc) = json_of(args, &file);
        let mut r: Vec<String> = rules_of(&doc).into_iter().map(|(r, _)| r).collect();
        r.dedup();
        r
    };
    assert_eq!(rules(&[]), ["blocking-sleep", "blocking-fs", "serial-await-sequence"]);
    assert_eq!(rules(&["--select", "ALL"]), rules(&[]));
    assert_eq!(rules(&["--select", "serial"]), ["serial-await-sequence"]);
    assert_eq!(rules(&["--select", "blocking"]), ["blocking-sleep", "blocking-fs"]);
    assert_eq!(rules(&["--select", "blocking_fs"]), ["blocking-fs"]);
    assert_eq!(
        rules(&["--select", "blocking_fs", "--extend-select", "serial"]),
        ["blocking-fs", "serial-await-sequence"]
    );
    assert_eq!(rules(&["--ignore", "blocking"]), ["serial-await-sequence"]);
    stall()
        .args(["check", "--select", "blocking-fss"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `blocking-fs`?"));
    stall()
        .args(["explain", "blocking_fs"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# blocking-fs"));
    stall()
        .args(["explain", "blokcing-fs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `blocking-fs`?"));
    let serial = stall().args(["explain", "serial"]).output().unwrap();
    let text = String::from_utf8(serial.stdout).unwrap();
    assert!(text.contains("# serial-await-loop") && text.contains("# serial-await-sequence"), "{text}");
}

#[test]
fn parse_errors_read_like_rustc_and_count_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.rs");
    // An unclosed `(` on line 3; the file ends on line 4.
    std::fs::write(&file, "use std::fs;\n\nasync fn f() { fs::read(\"x\"\n}\n").unwrap();
    stall()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[parse-error]: mismatched closing delimiter: `}`"))
        .stdout(predicate::str::contains("broken.rs:3:24"))
        .stdout(predicate::str::contains("^ unclosed delimiter"))
        .stdout(predicate::str::contains("cannot parse string").not());
    std::fs::write(&file, "async fn f() {\n    g(1,\n").unwrap();
    let (code, doc) = json_of(&[], &file);
    assert_eq!(code, 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["message"], "this file contains an unclosed delimiter", "{doc}");
    assert_eq!(d["start"], serde_json::json!({"line": 2, "column": 6}));
    assert_eq!(d["severity"], "error");
    assert_eq!(doc["summary"]["errors"], 1, "an error-level finding is an error: {doc}");
    // A parser (not lexer) error keeps the parser's message and place.
    std::fs::write(&file, "async fn f() { let x = 1 }\n").unwrap();
    let (_, doc) = json_of(&[], &file);
    assert_eq!(doc["diagnostics"][0]["message"], "expected `;`", "{doc}");
}

#[test]
fn concise_output_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rs");
    std::fs::write(&bad, BAD).unwrap();
    let shown = bad.display().to_string();
    stall().args(["check", "--output-format", "concise"]).arg(&bad).assert().code(1).stdout(
        predicate::str::starts_with(format!(
            "{shown}:1:16: blocking-sleep blocking call `std::thread::sleep` in async fn `f`\n"
        )),
    );
    let report = dir.path().join("report.json");
    stall()
        .args(["check", "--output-format", "json", "-o"])
        .arg(&report)
        .arg(&bad)
        .assert()
        .code(1)
        .stdout("");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(doc["summary"]["diagnostics"], 1);
    // Colour never goes to a file.
    let text = dir.path().join("report.txt");
    stall().args(["check", "--color", "always", "--output-file"]).arg(&text).arg(&bad).assert().code(1);
    let written = std::fs::read_to_string(&text).unwrap();
    assert!(written.contains("warning[blocking-sleep]") && !written.contains('\u{1b}'), "{written}");
}

#[test]
fn exclude_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for p in ["src/a.rs", "generated/b.rs", "src/gen_c.rs"] {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, BAD).unwrap();
    }
    let out = stall()
        .args(["check", "--output-format", "json", "--exclude", "generated,src/gen_*", "."])
        .current_dir(root)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["files_checked"], 1, "{doc}");
    assert_eq!(doc["diagnostics"][0]["path"], "src/a.rs");
    // A file named on the command line is checked anyway.
    stall().args(["check", "--exclude", "generated", "generated/b.rs"]).current_dir(root).assert().code(1);
    stall().args(["check", "--exclude", "a[", "."]).current_dir(root).assert().code(2);
}

#[test]
fn statistics_print_only_the_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rs"), format!("{BAD}{}", BAD.replace("fn f", "fn g"))).unwrap();
    let out = stall().args(["check", "--statistics"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "     2  blocking-sleep\n");
    let (_, doc) = json_of(&["--statistics"], dir.path());
    assert_eq!(doc, serde_json::json!([{"rule": "blocking-sleep", "count": 2, "fixable": 0}]));
    stall().args(["check", "--statistics", "--output-format", "sarif"]).arg(dir.path()).assert().code(2);
}

#[test]
fn add_allow_suppresses_every_current_finding() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("legacy.rs");
    let text = "\
async fn f(d: std::time::Duration) {
    std::thread::sleep(d); let _ = std::fs::read(\"x\");
    let _ = std::fs::read(\"y\"); // stall: allow(blocking-net) -- old
}
";
    std::fs::write(&file, text).unwrap();
    stall()
        .args(["check", "--add-allow"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No problems found"))
        .stderr(predicate::str::contains("Added 2 suppressions in 1 file."));
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        after,
        "\
async fn f(d: std::time::Duration) {
    std::thread::sleep(d); let _ = std::fs::read(\"x\"); // stall: allow(blocking-sleep, blocking-fs) -- TODO
    let _ = std::fs::read(\"y\"); // stall: allow(blocking-net, blocking-fs) -- old
}
"
    );
    // With a reason, and nothing left to add the second time.
    std::fs::write(&file, BAD).unwrap();
    stall().args(["check", "--add-allow=legacy, see #12"]).arg(&file).assert().code(0);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("// stall: allow(blocking-sleep) -- legacy, see #12"));
    stall()
        .args(["check", "--add-allow"])
        .arg(&file)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("Added 0 suppressions"));
}

/// The progress line shows on a terminal (a pseudo-terminal from `script`), never on a pipe.
#[cfg(target_os = "linux")]
#[test]
fn progress_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rs"), BAD).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("stall");
    let piped = stall().args(["check"]).arg(dir.path()).env("STALL_PROGRESS_DELAY_MS", "0").output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("stall: checking"));
    let Ok(out) = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!("{} check {} >/dev/null", bin.display(), dir.path().display()))
        .arg("/dev/null")
        .env("STALL_PROGRESS_DELAY_MS", "0")
        .output()
    else {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    };
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("stall: checking 1 file"), "{shown:?}");
    assert!(shown.contains("\u{1b}[2K"), "the line is cleared at the end: {shown:?}");
}

/// Vendored crates inside a checked project are dependencies, not its code; a vendor
/// directory named on the command line is checked like any other.
#[test]
fn vendored_crates_are_skipped_unless_their_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("vendor/slowdep-1.0.0");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join(".cargo-checksum.json"), r#"{"files":{},"package":null}"#).unwrap();
    std::fs::write(
        krate.join("src/lib.rs"),
        "pub async fn nap() { std::thread::sleep(std::time::Duration::from_secs(1)); }\n",
    )
    .unwrap();
    let findings = |path: &std::path::Path| paths_with_findings(path).len();
    assert_eq!(findings(dir.path()), 0, "a project's vendored crates are not its code");
    assert_eq!(findings(&dir.path().join("vendor")), 1, "a vendor directory named itself is checked");
}

/// The paths of the findings of `stall check PATH` (one per finding, `/`-separated).
fn paths_with_findings(path: &std::path::Path) -> Vec<String> {
    let out = Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--no-dependencies", "--output-format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = doc["diagnostics"].as_array().unwrap().iter();
    found.map(|d| d["path"].as_str().unwrap().replace('\\', "/")).collect()
}

/// A directory the workspace excludes (a third-party fork vendored as a path dependency), or a
/// fork that patches a registry crate, is not the workspace's code: a walk from the
/// workspace, or from a directory of it above the fork, leaves it out; the directory named
/// itself is checked. A patch that is also a member is the workspace's.
#[test]
fn directories_the_workspace_excludes_are_skipped_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let manifest =
        "[workspace]\nmembers = [\"app\", \"third_party/own\"]\nexclude = [\"third_party/fork\"]\n\n\
                    [patch.crates-io]\npatched = { path = \"third_party/patched\" }\n\
                    own = { path = \"third_party/own\" }\n";
    std::fs::write(p.join("Cargo.toml"), manifest).unwrap();
    let napping = "pub async fn nap() { std::thread::sleep(std::time::Duration::from_secs(1)); }\n";
    let crates = [
        ("app", "app"),
        ("third_party/fork", "fork"),
        ("third_party/kept", "kept"),
        ("third_party/patched", "patched"),
        ("third_party/own", "own"),
    ];
    for (krate, name) in crates {
        std::fs::create_dir_all(p.join(krate).join("src")).unwrap();
        let package = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        std::fs::write(p.join(krate).join("Cargo.toml"), package).unwrap();
        std::fs::write(p.join(krate).join("src/lib.rs"), napping).unwrap();
    }
    let paths = |path: &std::path::Path| {
        let mut found: Vec<String> = paths_with_findings(path)
            .into_iter()
            .map(|d| d.rsplit_once("third_party/").map_or(d.clone(), |(_, rest)| rest.to_string()))
            .map(|d| d.rsplit_once("/app/").map_or(d.clone(), |(_, rest)| format!("app/{rest}")))
            .collect();
        found.sort();
        found
    };
    assert_eq!(paths(p), ["app/src/lib.rs", "kept/src/lib.rs", "own/src/lib.rs"]);
    assert_eq!(
        paths(&p.join("third_party")),
        ["kept/src/lib.rs", "own/src/lib.rs"],
        "walked from above the forks"
    );
    assert_eq!(paths(&p.join("third_party/fork")), ["fork/src/lib.rs"], "named itself");
    assert_eq!(paths(&p.join("third_party/patched")), ["patched/src/lib.rs"], "named itself");
}

/// A package whose spawned task calls a helper in another file that reads a file, and a third
/// file with a finding of its own.
fn package_with_a_helper() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("src")).unwrap();
    std::fs::write(
        p.join("Cargo.toml"),
        "[package]\nname = \"relay\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = \"1\"\n",
    )
    .unwrap();
    let main = "mod other;\nmod store;\n\n#[tokio::main]\nasync fn main() {\n    loop {\n        \
                tokio::spawn(async move {\n            let data = store::load(\"data.txt\");\n            \
                drop(data);\n        });\n    }\n}\n";
    std::fs::write(p.join("src/main.rs"), main).unwrap();
    let store =
        "pub fn load(path: &str) -> String {\n    std::fs::read_to_string(path).unwrap_or_default()\n}\n";
    std::fs::write(p.join("src/store.rs"), store).unwrap();
    let other = "pub async fn tick() {\n    std::thread::sleep(std::time::Duration::from_millis(5));\n}\n";
    std::fs::write(p.join("src/other.rs"), other).unwrap();
    dir
}

/// (file, line, rule, message) of each finding of `stall check --output-format json` in `dir`.
fn findings_in(
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Vec<(String, u64, String, String)> {
    let mut cmd = stall();
    cmd.current_dir(dir)
        .args(["check", "--no-dependencies", "--no-cache", "--output-format", "json"])
        .args(args);
    if let Some(text) = stdin {
        cmd.write_stdin(text);
    }
    let out = cmd.output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().replace('\\', "/"),
                d["start"]["line"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_file_named_alone_is_checked_with_its_package() {
    let dir = package_with_a_helper();
    let through_store = (
        "src/main.rs".to_string(),
        8,
        "blocking-fs".to_string(),
        "`load` blocks in async block: it reaches `std::fs::read_to_string`".to_string(),
    );
    // The helper's file: the finding it causes in another file is reported, the package's
    // unrelated finding is not.
    assert_eq!(findings_in(dir.path(), &["src/store.rs"], None), vec![through_store.clone()]);
    // The caller's file: its finding through the helper in another file is found.
    assert_eq!(findings_in(dir.path(), &["src/main.rs"], None), vec![through_store.clone()]);
    let other = findings_in(dir.path(), &["src/other.rs"], None);
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!((other[0].0.as_str(), other[0].1, other[0].2.as_str()), ("src/other.rs", 2, "blocking-sleep"));
    // Stdin stands in for the file: the edited helper no longer blocks, so nothing is left.
    let fixed = "pub fn load(path: &str) -> String {\n    path.to_string()\n}\n";
    assert_eq!(findings_in(dir.path(), &["--stdin-filename", "src/store.rs", "-"], Some(fixed)), vec![]);
    let unchanged = std::fs::read_to_string(dir.path().join("src/store.rs")).unwrap();
    assert_eq!(
        findings_in(dir.path(), &["--stdin-filename", "src/store.rs", "-"], Some(&unchanged)),
        vec![through_store]
    );
}

#[test]
fn packages_of_the_same_name_checked_together_keep_their_functions_apart() {
    // A project and its fixed copy: the same package name, a helper of the same path that
    // blocks in one and not in the other.
    let dir = tempfile::tempdir().unwrap();
    let project = |name: &str, call: &str, helper: &str| {
        let root = dir.path().join(name);
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"agent\"\nversion = \"0.1.0\"\n")
            .unwrap();
        std::fs::write(
            root.join("src/lib.rs"),
            format!("mod pause;\npub async fn serve() {{\n    {call}\n}}\n"),
        )
        .unwrap();
        std::fs::write(root.join("src/pause.rs"), helper).unwrap();
    };
    project(
        "after",
        "pause::wait(5).await;",
        "pub async fn wait(ms: u64) {\n    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;\n}\n",
    );
    project(
        "before",
        "pause::wait(5);",
        "pub fn wait(ms: u64) {\n    std::thread::sleep(std::time::Duration::from_millis(ms));\n}\n",
    );
    let (_, doc) = json_of(&[], dir.path());
    let found: Vec<(String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap().replace('\\', "/"), d["message"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.ends_with("before/src/lib.rs"), "{found:?}");
    assert_eq!(found[0].1, "`wait` blocks in async fn `serve`: it reaches `std::thread::sleep`");
}

#[test]
fn a_file_no_module_includes_does_not_fail_the_run_when_it_does_not_parse() {
    // A template named `.rs` beside the sources: not compiled, so its syntax stops nothing. A
    // declared module that does not parse is still an error.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"gen\"\nversion = \"0.1.0\"\n").unwrap();
    std::fs::write(root.join("src/lib.rs"), "pub mod api;\n").unwrap();
    std::fs::write(root.join("src/api.rs"), "pub async fn serve() {}\n").unwrap();
    std::fs::write(root.join("templates/client.rs"), "impl {{ name }} {\n    async fn call( {\n}\n").unwrap();
    let (code, doc) = json_of(&[], root);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["hidden"]["unreached"], 1);
    let (_, all) = json_of(&["--all"], root);
    let d = &all["diagnostics"][0];
    assert_eq!(d["rule"], "parse-error");
    assert_eq!(d["exposure"], "unreached");
    assert_eq!(d["notes"][0], "no module of the package includes this file, so it is not compiled");
    std::fs::write(root.join("src/api.rs"), "pub async fn serve( {\n").unwrap();
    let (code, doc) = json_of(&[], root);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["diagnostics"][0]["rule"], "parse-error");
    assert!(
        doc["diagnostics"][0]["path"].as_str().unwrap().replace('\\', "/").ends_with("src/api.rs"),
        "{doc}"
    );
}

/// A `cargo vendor` directory checked as a whole: its crates are the checked code, so a call
/// from one into another is followed into the checked files (the chain names them), not into a
/// second copy of the same crate listed as a dependency of the project around it.
#[test]
fn a_checked_vendor_directory_is_not_followed_again_as_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(std::path::Path::new("fixtures/deps/vendored"), dir.path());
    let vendor = dir.path().join("vendor");
    std::fs::write(
        vendor.join("twin/src/lib.rs"),
        "pub async fn load() -> String {\n    leftpad::pad(\"x\")\n}\n",
    )
    .unwrap();
    for v in ["0.1.0", "0.2.0"] {
        std::fs::write(
            vendor.join(format!("leftpad-{v}/src/lib.rs")),
            "pub fn pad(s: &str) -> String {\n    std::fs::read_to_string(s).unwrap_or_default()\n}\n",
        )
        .unwrap();
    }
    let out = stall()
        .current_dir(dir.path())
        .args(["check", "--no-cache", "--all", "--output-format", "json", "vendor"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = doc["diagnostics"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{doc:#}");
    assert_eq!(found[0]["rule"], "blocking-fs");
    assert_eq!(found[0]["message"], "`pad` blocks in async fn `load`: it reaches `std::fs::read_to_string`");
    let chain = found[0]["notes"][0].as_str().unwrap();
    assert!(chain.starts_with("`pad` calls `std::fs::read_to_string` at vendor/leftpad-0."), "{chain}");
}

/// The checked crate's `#[cfg(feature)]`s follow the features cargo resolves (its defaults): a
/// module behind a feature that is off is not compiled, so its blocking is not reported, and
/// an item-level `#[cfg]` likewise.
#[test]
fn modules_and_items_behind_features_that_are_off_are_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("src")).unwrap();
    let manifest = "[package]\nname = \"featured\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [features]\ndefault = [\"fast\"]\nfast = []\nslow = []\n";
    std::fs::write(p.join("Cargo.toml"), manifest).unwrap();
    let lock = "version = 3\n\n[[package]]\nname = \"featured\"\nversion = \"0.1.0\"\n";
    std::fs::write(p.join("Cargo.lock"), lock).unwrap();
    std::fs::write(
        p.join("src/lib.rs"),
        "#[cfg(feature = \"fast\")]\nmod fast;\n#[cfg(feature = \"slow\")]\nmod slow;\n\n\
         #[cfg(feature = \"slow\")]\npub async fn nap() {\n    std::thread::sleep(std::time::Duration::from_secs(1));\n}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("src/fast.rs"),
        "pub async fn load() -> Vec<u8> {\n    std::fs::read(\"a\").unwrap()\n}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("src/slow.rs"),
        "pub async fn wait() {\n    std::thread::sleep(std::time::Duration::from_secs(1));\n}\n",
    )
    .unwrap();
    let out = stall()
        .current_dir(p)
        .args(["check", "--no-cache", "--all", "--output-format", "json", "."])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap().to_string(), d["message"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        found,
        [("src/fast.rs".to_string(), "blocking call `std::fs::read` in async fn `load`".to_string())],
        "{doc:#}"
    );
}

/// One file of a package named: the package is read to see its calls, but the file is what
/// was checked, and the summary counts it alone.
#[test]
fn one_file_of_a_package_counts_as_one_file_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(root.join("src/a.rs"), BAD).unwrap();
    std::fs::write(root.join("src/b.rs"), BAD).unwrap();
    let json = |path: &str| -> serde_json::Value {
        let out = stall()
            .args(["check", "--no-cache", "--output-format", "json", path])
            .current_dir(root)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let one = json("src/a.rs");
    assert_eq!(one["summary"]["files_checked"], 1, "{one}");
    assert_eq!(one["summary"]["diagnostics"], 1, "{one}");
    let all = json(".");
    assert_eq!(all["summary"]["files_checked"], 3, "{all}");
    assert_eq!(all["summary"]["diagnostics"], 2, "{all}");
}
