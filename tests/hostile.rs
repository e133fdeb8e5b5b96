//! Hostile input: nothing crashes, every bad file gets a message naming it, exit code 2 only
//! where an error happened, and every other file is still checked and reported.

use std::path::Path;

use assert_cmd::Command;

const BAD: &str = "async fn f() { std::thread::sleep(std::time::Duration::from_secs(1)); }\n";

fn check_json(path: &Path) -> (i32, serde_json::Value) {
    let out =
        Command::cargo_bin("stall").unwrap().args(["check", "--format", "json"]).arg(path).output().unwrap();
    assert!(out.status.code().is_some(), "killed by a signal: {}", String::from_utf8_lossy(&out.stderr));
    let doc = serde_json::from_slice(&out.stdout).expect("JSON output even for hostile input");
    (out.status.code().unwrap(), doc)
}

fn rules_in(doc: &serde_json::Value, file: &str) -> Vec<String> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["path"].as_str().unwrap().ends_with(file))
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

fn error_for<'a>(doc: &'a serde_json::Value, file: &str) -> Option<&'a str> {
    doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with(file))
        .map(|e| e["message"].as_str().unwrap())
}

#[test]
fn deep_nesting_is_refused_with_a_diagnostic_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    // Each is async code, so stall owes a word about it.
    let write = |name: &str, body: String| {
        std::fs::write(dir.path().join(name), format!("async fn f() {body}")).unwrap();
    };
    write("parens.rs", format!("{{ let x = {}1{}; }}", "(".repeat(n), ")".repeat(n)));
    write("blocks.rs", format!("{}{}", "{".repeat(n), "}".repeat(n)));
    write("chain.rs", format!("{{ x{}; }}", ".a()".repeat(n)));
    write("unary.rs", format!("{{ let x = {}1; }}", "-".repeat(n)));
    std::fs::write(dir.path().join("bad.rs"), BAD).unwrap();
    let (code, doc) = check_json(dir.path());
    assert_eq!(code, 1, "{doc}");
    for f in ["parens.rs", "blocks.rs", "chain.rs", "unary.rs"] {
        assert_eq!(rules_in(&doc, f), ["parse-error"], "{f}: {doc}");
    }
    assert_eq!(rules_in(&doc, "bad.rs"), ["blocking-sleep"]);
}

/// A file of `mb` MB of generated functions with one blocking call at its end is checked.
fn a_big_file_is_checked(mb: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity((mb + 1) << 20);
    let mut i = 0;
    while text.len() < mb << 20 {
        text.push_str(&format!("// generated\npub fn f{i}(x: u64) -> u64 {{ x.wrapping_mul({i}) }}\n"));
        i += 1;
    }
    text.push_str(BAD);
    std::fs::write(dir.path().join("huge.rs"), &text).unwrap();
    let (code, doc) = check_json(dir.path());
    assert_eq!(code, 1);
    assert_eq!(rules_in(&doc, "huge.rs"), ["blocking-sleep"]);
}

/// Bigger than the huge-sync-file bound (1 MB), so parsed whole for its async code.
#[test]
fn a_5_mb_file_is_checked() {
    a_big_file_is_checked(5);
}

#[test]
#[ignore = "a minute of a debug build: `.ci/run` runs it"]
fn a_50_mb_file_is_checked() {
    a_big_file_is_checked(50);
}

#[test]
fn bad_bytes_and_syntax_errors_name_the_file_and_others_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.rs"), b"fn caf\xe9() {}\n").unwrap();
    let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(dir.path().join("noise.rs"), noise).unwrap();
    std::fs::write(dir.path().join("broken.rs"), "async fn broken( {\n").unwrap();
    std::fs::write(dir.path().join("bad.rs"), BAD).unwrap();
    let (code, doc) = check_json(dir.path());
    assert_eq!(code, 2, "an unreadable file is an error: {doc}");
    assert!(error_for(&doc, "latin1.rs").unwrap().contains("UTF-8"), "{doc}");
    assert!(error_for(&doc, "noise.rs").is_some() || rules_in(&doc, "noise.rs") == ["parse-error"]);
    assert_eq!(rules_in(&doc, "broken.rs"), ["parse-error"]);
    assert_eq!(rules_in(&doc, "bad.rs"), ["blocking-sleep"]);
}

#[cfg(unix)]
#[test]
fn unreadable_rust_files_are_errors_naming_the_path() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    symlink("self.rs", root.join("self.rs")).unwrap();
    symlink("nowhere.rs", root.join("dangling.rs")).unwrap();
    std::fs::write(root.join("bad.rs"), BAD).unwrap();
    let (code, doc) = check_json(root);
    assert_eq!(code, 2, "{doc}");
    assert!(error_for(&doc, "self.rs").is_some(), "{doc}");
    assert!(error_for(&doc, "dangling.rs").is_some(), "{doc}");
    assert_eq!(rules_in(&doc, "bad.rs"), ["blocking-sleep"]);
}

/// Entries stall would never read (a dangling link to a data file or directory, a link back
/// to a directory already walked, an unreadable directory) are skipped: they must not break CI.
#[cfg(unix)]
#[test]
fn entries_stall_never_reads_are_skipped_silently() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    symlink(root, root.join("sub/back")).unwrap();
    symlink("nowhere.txt", root.join("notes.txt")).unwrap();
    symlink("nowhere", root.join("docs")).unwrap();
    std::fs::create_dir(root.join("locked")).unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::write(root.join("bad.rs"), BAD).unwrap();
    let (code, doc) = check_json(root);
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 1, "findings only: {doc}");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0, "{doc}");
    assert_eq!(rules_in(&doc, "bad.rs"), ["blocking-sleep"]);
    let out = Command::cargo_bin("stall").unwrap().args(["check", "--exit-zero"]).arg(root).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_file_named_but_missing_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone.rs");
    let kept = dir.path().join("kept.rs");
    std::fs::write(&kept, BAD).unwrap();
    let report = stall::check_paths(&[gone, kept], &stall::RunOptions::default());
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].path.ends_with("gone.rs"));
    assert!(report.errors[0].message.contains("cannot read"), "{}", report.errors[0].message);
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].diagnostics[0].rule.id(), "blocking-sleep");
}

/// A bound naming its own parameter (`T: AsRef<T>`) once sent the type model into endless
/// recursion: a stack overflow that aborted the whole run.
#[test]
fn a_self_referential_bound_is_checked_without_overflowing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bounds.rs");
    std::fs::write(
        &file,
        "pub async fn f<T: AsRef<T>, K: Borrow<Q>, Q: Borrow<K>>(t: T, k: K) {\n    let _ = (t.as_ref(), k);\n    std::thread::sleep(std::time::Duration::from_millis(1));\n}\n",
    )
    .unwrap();
    assert_cmd::Command::cargo_bin("stall")
        .unwrap()
        .args(["check", "--no-dependencies"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("blocking-sleep"));
}
