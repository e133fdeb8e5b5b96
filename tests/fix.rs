//! `--fix` and `--diff` on a real crate, then `cargo check` on the fixed crate.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

mod common;
use common::copy_dir;

#[test]
fn fix_rewrites_to_the_async_twin_once_and_the_crate_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("tokio-app");
    copy_dir(Path::new("fixtures/fix/tokio-app"), &app);
    let main = app.join("src/main.rs");
    let before = std::fs::read_to_string(&main).unwrap();

    // --diff shows the edits and writes nothing.
    Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--diff"])
        .arg(&app)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("+    tokio::time::sleep(Duration::from_millis(10)).await;"))
        .stderr(predicate::str::contains("3 fixes in 1 file would be applied."));
    assert_eq!(std::fs::read_to_string(&main).unwrap(), before);

    // --fix applies them; what cannot be fixed is still reported.
    Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--fix", "--output-format", "json"])
        .arg(&app)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("std::fs::metadata").and(predicate::str::contains("\"diagnostics\": 1")),
        )
        .stderr(predicate::str::contains("Fixed 3 problems in 1 file."));
    let after = std::fs::read_to_string(&main).unwrap();
    assert!(after.contains("let text = tokio::fs::read_to_string(path).await?;"), "{after}");
    assert!(after.contains("tokio::fs::write(path, body).await"), "{after}");
    assert!(after.contains("std::fs::metadata(p)"), "closures are not rewritten: {after}");

    // A second --fix changes nothing.
    Command::cargo_bin("stall").unwrap().args(["check", "--fix", "--quiet"]).arg(&app).assert().code(1);
    assert_eq!(std::fs::read_to_string(&main).unwrap(), after);

    // The fixed crate compiles.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fix-check");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .unwrap();
    assert!(status.success(), "the fixed crate does not compile");
}

#[test]
fn unsafe_fixes_enable_the_tokio_features_they_need_and_the_crate_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("tokio-app");
    copy_dir(Path::new("fixtures/fix/tokio-app"), &app);
    let manifest = app.join("Cargo.toml");
    let lean = std::fs::read_to_string(&manifest).unwrap().replace(
        "tokio = { version = \"1\", features = [\"full\"] }",
        "tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\"] } # the runtime",
    );
    std::fs::write(&manifest, &lean).unwrap();
    let main = app.join("src/main.rs");
    let before = std::fs::read_to_string(&main).unwrap();

    // Safe fixes only: the calls stay, and the help names the missing feature.
    let out = Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--fix", "--output-format", "json"])
        .arg(&app)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&main).unwrap(), before);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let helps: Vec<&str> =
        doc["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["help"].as_str()).collect();
    assert!(helps.iter().any(|h| h.contains("needs tokio's `fs` feature")), "{helps:?}");
    assert!(helps.iter().any(|h| h.contains("needs tokio's `time` feature")), "{helps:?}");

    // --diff --unsafe-fixes shows the manifest's edit too, and writes nothing.
    Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--diff", "--unsafe-fixes"])
        .arg(&app)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("+tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\", \"fs\", \"time\"] } # the runtime"));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), lean);

    // --fix --unsafe-fixes rewrites the calls and enables the features, keeping the comment.
    Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--fix", "--unsafe-fixes", "--quiet"])
        .arg(&app)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("enabled tokio's `fs` and `time` for the fixes"));
    let fixed = std::fs::read_to_string(&manifest).unwrap();
    assert_eq!(
        fixed,
        lean.replace("\"macros\"] }", "\"macros\", \"fs\", \"time\"] }"),
        "only the features change"
    );
    assert!(std::fs::read_to_string(&main).unwrap().contains("tokio::fs::read_to_string(path).await?"));

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fix-check");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the fixed crate does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stdin_fix_prints_the_fixed_source_for_editors() {
    let main = Path::new("fixtures/fix/tokio-app/src/main.rs");
    let text = std::fs::read_to_string(main).unwrap();
    let out = Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--fix", "--stdin-filename"])
        .arg(main)
        .arg("-")
        .write_stdin(text.clone())
        .output()
        .unwrap();
    // What is left (the closure) is reported on stderr; stdout is the whole fixed file.
    assert_eq!(out.status.code(), Some(1));
    let fixed = String::from_utf8(out.stdout).unwrap();
    assert!(fixed.starts_with("//! `stall check --fix`"), "{fixed}");
    assert!(fixed.contains("let text = tokio::fs::read_to_string(path).await?;"), "{fixed}");
    assert_eq!(fixed.lines().count(), text.lines().count());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("std::fs::metadata") && !stderr.contains("std::thread::sleep"), "{stderr}");
    // Nothing to fix: the text comes back as it was.
    let clean = "fn main() {}\n";
    Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--fix", "--stdin-filename"])
        .arg(main)
        .arg("-")
        .write_stdin(clean)
        .assert()
        .code(0)
        .stdout(clean);
}
