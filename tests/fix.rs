//! `--fix` and `--diff` on a real crate, then `cargo check` on the fixed crate.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

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
        .stdout(predicate::str::contains("+    tokio::time::sleep(Duration::from_millis(10)).await;"));
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
        );
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
        .args(["check", "--quiet"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .unwrap();
    assert!(status.success(), "the fixed crate does not compile");
}
