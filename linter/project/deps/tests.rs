//! `locate` on the fixture workspaces under `fixtures/deps/` (no network needed), through
//! `cargo metadata` and through the fallback, and the fallback's lookups in a fake cargo home.

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps").join(name)
}

/// Runs cargo, with an empty cargo home so nothing of this machine's caches or config leaks in.
fn with_cargo(home: &Path) -> LocateOptions {
    LocateOptions {
        cargo_home: Some(home.to_path_buf()),
        timeout: Duration::from_secs(300),
        ..LocateOptions::from_env()
    }
}

fn without_cargo(home: &Path) -> LocateOptions {
    with_cargo(home).without_cargo()
}

fn key(name: &str, version: &str) -> PackageKey {
    PackageKey::new(name, version)
}

fn deps(g: &DepGraph, name: &str, version: &str) -> Vec<(String, String)> {
    g.get(&key(name, version))
        .unwrap_or_else(|| panic!("{name} {version} in {:?}", g.packages.keys()))
        .deps
        .iter()
        .map(|(code, k)| (code.clone(), k.to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn features(g: &DepGraph, name: &str, version: &str) -> Option<Vec<String>> {
    g.get(&key(name, version)).unwrap().features.as_ref().map(|f| f.iter().cloned().collect())
}

/// Everything both ways of locating must agree on (features and `via` aside).
fn shape(g: &DepGraph) -> Vec<String> {
    g.packages
        .values()
        .map(|p| {
            format!(
                "{} member={} source={:?} id={:?} dir={:?} lib={:?} edition={} build={} deps={:?}",
                p.key,
                p.member,
                p.source,
                p.cache_identity(),
                p.manifest_dir,
                p.lib,
                p.edition,
                p.build_script,
                p.deps
            )
        })
        .collect()
}

fn graph(located: Located) -> DepGraph {
    located.graph.expect("a graph")
}

fn check_path_workspace(g: &DepGraph) {
    let root = fixture("path-workspace");
    assert_eq!(g.workspace_root, root);
    let members: Vec<String> = g.members().map(|p| p.key.to_string()).collect();
    assert_eq!(
        members,
        ["app-0.3.0", "devonly-0.1.0", "fs-shim-0.3.0", "helper-0.3.0", "text-utils-1.0.0", "winonly-0.1.0"],
        "listed members, and path dependencies inside the workspace"
    );
    let mut want = vec![
        ("fs", "fs-shim-0.3.0"),
        ("helper", "helper-0.3.0"),
        ("shared", "shared-2.1.0"),
        ("textutils", "text-utils-1.0.0"),
    ];
    if cfg!(windows) {
        want.push(("winonly", "winonly-0.1.0"));
    }
    assert_eq!(deps(g, "app", "0.3.0"), pairs(&want), "renamed, lib-named, outside; no dev-dependency");
    assert_eq!(g.dependency(&key("app", "0.3.0"), "fs").unwrap().key, key("fs-shim", "0.3.0"));
    assert!(g.dependency(&key("app", "0.3.0"), "fs_shim").is_none(), "code names it fs");

    let helper = g.get(&key("helper", "0.3.0")).unwrap();
    assert_eq!(helper.edition, "2018");
    assert_eq!(helper.lib.as_ref().unwrap().root, root.join("helper/src/lib.rs"));
    let text = g.get(&key("text-utils", "1.0.0")).unwrap();
    assert_eq!(
        text.lib,
        Some(LibTarget {
            name: "textutils".into(),
            root: root.join("text-utils/src/text.rs"),
            proc_macro: false
        })
    );
    let shim = g.get(&key("fs-shim", "0.3.0")).unwrap();
    assert_eq!(
        (shim.lib.as_ref().unwrap().name.as_str(), shim.edition.as_str(), shim.build_script),
        ("fs_shim", "2021", true)
    );
    let shared = g.get(&key("shared", "2.1.0")).unwrap();
    assert!(!shared.member && !shared.immutable() && shared.cache_identity().is_none());
    assert_eq!(shared.manifest_dir.as_deref(), Some(fixture("shared").as_path()));
    assert_eq!(g.package_of(&root.join("app/src/lib.rs")).unwrap().key, key("app", "0.3.0"));
    assert!(g.missing().next().is_none());
}

#[test]
fn path_workspace_through_cargo_metadata() {
    let home = tempfile::tempdir().unwrap();
    let located = locate_with(&fixture("path-workspace").join("app/src"), &with_cargo(home.path()));
    assert_eq!((&located.note, &located.metadata_error), (&None, &None));
    let g = graph(located);
    assert_eq!(g.via, Via::Metadata);
    check_path_workspace(&g);
    assert_eq!(features(&g, "helper", "0.3.0").unwrap(), ["default", "extra", "std"]);
    let helper = g.get(&key("helper", "0.3.0")).unwrap();
    assert_eq!(helper.cfg(&Cfg::parse(r#"feature = "extra""#)), Some(true));
    assert_eq!(helper.cfg(&Cfg::parse(r#"feature = "unused""#)), Some(false));
    assert_eq!(helper.cfg(&Cfg::parse("test")), Some(false));
}

#[test]
fn path_workspace_through_the_fallback() {
    let home = tempfile::tempdir().unwrap();
    let located = locate_with(&fixture("path-workspace"), &without_cargo(home.path()));
    assert_eq!(located.note, None);
    assert!(located.metadata_error.is_some());
    let g = graph(located);
    assert_eq!(g.via, Via::Fallback);
    check_path_workspace(&g);
    assert_eq!(features(&g, "helper", "0.3.0"), None, "the fallback does not resolve features");
    let helper = g.get(&key("helper", "0.3.0")).unwrap();
    assert_eq!(helper.cfg(&Cfg::parse(r#"feature = "extra""#)), None);
    assert_eq!(helper.cfg(&Cfg::parse(r#"all(feature = "extra", test)"#)), Some(false));
}

#[test]
fn both_ways_agree_on_the_path_workspace() {
    let home = tempfile::tempdir().unwrap();
    let by_cargo = graph(locate_with(&fixture("path-workspace"), &with_cargo(home.path())));
    let fallback = graph(locate_with(&fixture("path-workspace"), &without_cargo(home.path())));
    assert_eq!(shape(&by_cargo), shape(&fallback));
}

fn check_vendored(g: &DepGraph) {
    let root = fixture("vendored");
    let vendor = root.join("vendor");
    let keys: Vec<String> = g.packages.keys().map(|k| k.to_string()).collect();
    assert_eq!(keys, ["leftpad-0.1.0", "leftpad-0.2.0", "twin-1.2.3", "vapp-0.1.0"]);
    assert_eq!(
        deps(g, "vapp", "0.1.0"),
        pairs(&[("leftpad", "leftpad-0.2.0"), ("old_pad", "leftpad-0.1.0"), ("twin", "twin-1.2.3")]),
        "two versions of one crate stay apart, one under a rename"
    );
    assert_eq!(deps(g, "twin", "1.2.3"), pairs(&[("leftpad", "leftpad-0.1.0")]));
    for v in ["0.1.0", "0.2.0"] {
        let p = g.get(&key("leftpad", v)).unwrap();
        assert_eq!(p.manifest_dir, Some(vendor.join(format!("leftpad-{v}"))));
        assert_eq!(p.lib.as_ref().unwrap().root, vendor.join(format!("leftpad-{v}/src/lib.rs")));
        assert_eq!(p.edition, "2018");
    }
    let twin = g.get(&key("twin", "1.2.3")).unwrap();
    assert_eq!(twin.manifest_dir, Some(vendor.join("twin")), "an unversioned vendor directory");
    assert!(twin.build_script && twin.immutable() && !twin.member);
    assert_eq!(twin.source, SourceKind::Registry);
    assert_eq!(
        twin.cache_identity().as_deref(),
        Some("registry+https://github.com/rust-lang/crates.io-index#twin@1.2.3")
    );
    let app = g.get(&key("vapp", "0.1.0")).unwrap();
    assert!(app.member && !app.immutable());
    assert_eq!(app.manifest_dir.as_deref(), Some(root.as_path()));
}

#[test]
fn vendored_through_cargo_metadata() {
    let home = tempfile::tempdir().unwrap();
    let located = locate_with(&fixture("vendored"), &with_cargo(home.path()));
    assert_eq!((&located.note, &located.metadata_error), (&None, &None));
    let g = graph(located);
    assert_eq!(g.via, Via::Metadata);
    check_vendored(&g);
    assert_eq!(features(&g, "twin", "1.2.3").unwrap(), ["default", "extra", "std"]);
    let twin = g.get(&key("twin", "1.2.3")).unwrap();
    assert_eq!(twin.cfg(&Cfg::parse(r#"feature = "never""#)), Some(false));
    assert_eq!(twin.cfg(&Cfg::parse("custom_from_build_rs")), None, "a build script may set it");
    assert_eq!(features(&g, "leftpad", "0.1.0").unwrap(), Vec::<String>::new());
}

#[test]
fn vendored_through_the_fallback() {
    let home = tempfile::tempdir().unwrap();
    let located = locate_with(&fixture("vendored"), &without_cargo(home.path()));
    assert_eq!(located.note, None);
    let g = graph(located);
    assert_eq!(g.via, Via::Fallback);
    check_vendored(&g);
    assert_eq!(features(&g, "twin", "1.2.3"), None);
}

#[test]
fn both_ways_agree_on_the_vendored_crate() {
    let home = tempfile::tempdir().unwrap();
    let by_cargo = graph(locate_with(&fixture("vendored"), &with_cargo(home.path())));
    let fallback = graph(locate_with(&fixture("vendored"), &without_cargo(home.path())));
    assert_eq!(shape(&by_cargo), shape(&fallback));
}

// ---------------------------------------------------------------------------------------------
// The fallback in a scratch workspace and a fake cargo home

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const GIT_SOURCE: &str =
    "git+https://github.com/someone/gitdep?branch=main#0123456789abcdef0123456789abcdef01234567";

/// A crate depending on `cached` (in the registry source cache), `gitdep` (a git checkout) and
/// `absent` (not downloaded), with its lock file.
fn scratch(dir: &Path, with_absent: bool) {
    let absent = if with_absent { "absent = \"3\"\n" } else { "" };
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
             cached = \"1\"\ngitdep = {{ git = \"https://github.com/someone/gitdep\", branch = \"main\" }}\n{absent}"
        ),
    );
    write(&dir.join("src/lib.rs"), "");
    let reg = "registry+https://github.com/rust-lang/crates.io-index";
    let mut lock = format!(
        "version = 4\n\n[[package]]\nname = \"scratch\"\nversion = \"0.1.0\"\ndependencies = [\n \"cached\",\n \"gitdep\",\n{}]\n\n\
         [[package]]\nname = \"cached\"\nversion = \"1.4.0\"\nsource = \"{reg}\"\n\n\
         [[package]]\nname = \"gitdep\"\nversion = \"0.9.0\"\nsource = \"{GIT_SOURCE}\"\n",
        if with_absent { " \"absent\",\n" } else { "" }
    );
    if with_absent {
        lock += &format!("\n[[package]]\nname = \"absent\"\nversion = \"3.0.1\"\nsource = \"{reg}\"\n");
    }
    write(&dir.join("Cargo.lock"), &lock);
}

fn fake_home(home: &Path) {
    let cached = home.join("registry/src/index.crates.io-1949cf8c6b5b557f/cached-1.4.0");
    write(
        &cached.join("Cargo.toml"),
        "[package]\nname = \"cached\"\nversion = \"1.4.0\"\nedition = \"2021\"\n",
    );
    write(&cached.join("src/lib.rs"), "");
    // A checkout of a repository whose package is in a subdirectory.
    let checkout = home.join("git/checkouts/gitdep-4f2a9c1e0b7d3a55/0123456/crates/gitdep");
    write(
        &checkout.join("Cargo.toml"),
        "[package]\nname = \"gitdep\"\nversion = \"0.9.0\"\n\n[lib]\npath = \"lib.rs\"\n",
    );
    write(&checkout.join("lib.rs"), "");
    // Another commit of the same repository, which must not be taken.
    let other = home.join("git/checkouts/gitdep-4f2a9c1e0b7d3a55/fedcba9/crates/gitdep");
    write(&other.join("Cargo.toml"), "[package]\nname = \"gitdep\"\nversion = \"0.9.0\"\n");
}

#[test]
fn fallback_finds_the_registry_cache_and_git_checkouts() {
    let (dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scratch(dir.path(), false);
    fake_home(home.path());
    let located = locate_with(dir.path(), &without_cargo(home.path()));
    assert_eq!(located.note, None);
    let g = graph(located);
    assert_eq!(
        deps(&g, "scratch", "0.1.0"),
        pairs(&[("cached", "cached-1.4.0"), ("gitdep", "gitdep-0.9.0")])
    );
    let cached = g.get(&key("cached", "1.4.0")).unwrap();
    assert_eq!(
        cached.lib.as_ref().unwrap().root,
        home.path().join("registry/src/index.crates.io-1949cf8c6b5b557f/cached-1.4.0/src/lib.rs")
    );
    assert_eq!(cached.edition, "2021");
    let git = g.get(&key("gitdep", "0.9.0")).unwrap();
    assert_eq!(git.source, SourceKind::Git);
    assert_eq!(
        git.lib.as_ref().unwrap().root,
        home.path().join("git/checkouts/gitdep-4f2a9c1e0b7d3a55/0123456/crates/gitdep/lib.rs")
    );
    assert_eq!(git.edition, "2015", "no edition stated");
    assert_eq!(
        git.cache_identity(),
        Some(format!("{GIT_SOURCE}#gitdep@0.9.0")),
        "the locked commit is part of it"
    );
}

#[test]
fn missing_sources_give_one_note_and_the_rest_of_the_graph() {
    let (dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scratch(dir.path(), true);
    fake_home(home.path());
    for options in [with_cargo(home.path()), without_cargo(home.path())] {
        let located = locate_with(dir.path(), &options);
        assert_eq!(located.note.as_deref(), Some(NOT_DOWNLOADED));
        let error = located.metadata_error.clone().expect("cargo metadata cannot work here");
        assert!(!error.is_empty());
        let g = graph(located);
        assert_eq!(g.via, Via::Fallback);
        let missing: Vec<String> = g.missing().map(|p| p.key.to_string()).collect();
        assert_eq!(missing, ["absent-3.0.1"]);
        assert_eq!(deps(&g, "scratch", "0.1.0").len(), 3);
        assert!(g.get(&key("cached", "1.4.0")).unwrap().manifest_dir.is_some());
    }
}

#[test]
fn without_a_lock_file_only_registry_dependencies_need_the_note() {
    let (dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(
        &dir.path().join("Cargo.toml"),
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\n\n[dependencies]\nb = { path = \"b\" }\n",
    );
    write(&dir.path().join("src/lib.rs"), "");
    write(&dir.path().join("b/Cargo.toml"), "[package]\nname = \"b\"\nversion = \"0.2.0\"\n");
    write(&dir.path().join("b/src/lib.rs"), "");
    let located = locate_with(dir.path(), &without_cargo(home.path()));
    assert_eq!(located.note, None);
    let g = graph(located);
    assert_eq!(deps(&g, "a", "0.1.0"), pairs(&[("b", "b-0.2.0")]));
    assert!(!g.get(&key("b", "0.2.0")).unwrap().member, "no [workspace]: a workspace of one package");

    write(
        &dir.path().join("b/Cargo.toml"),
        "[package]\nname = \"b\"\nversion = \"0.2.0\"\n[dependencies]\nserde = \"1\"\n",
    );
    let located = locate_with(dir.path(), &without_cargo(home.path()));
    assert_eq!(located.note.as_deref(), Some(NOT_DOWNLOADED));
    // cargo, offline and not allowed to write a lock file, fails the same way.
    let located = locate_with(dir.path(), &with_cargo(home.path()));
    assert_eq!(located.note.as_deref(), Some(NOT_DOWNLOADED));
    assert!(!dir.path().join("Cargo.lock").exists(), "stall never writes the user's lock file");
}

#[test]
fn no_manifest_no_graph_no_note() {
    let (dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    if dir.path().ancestors().any(|d| d.join("Cargo.toml").exists()) {
        return; // the temporary directory is inside some cargo project
    }
    let located = locate_with(dir.path(), &with_cargo(home.path()));
    assert!(located.graph.is_none() && located.note.is_none());
}

#[test]
fn a_cargo_that_cannot_run_or_hangs_means_the_fallback() {
    let home = tempfile::tempdir().unwrap();
    let mut options = with_cargo(home.path());
    options.cargo = Some(home.path().join("no-such-cargo"));
    let located = locate_with(&fixture("vendored"), &options);
    assert!(located.metadata_error.unwrap().starts_with("cannot run"));
    assert_eq!(located.graph.unwrap().via, Via::Fallback);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let slow = home.path().join("slow-cargo");
        write(&slow, "#!/bin/sh\nexec sleep 30\n");
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
        options.cargo = Some(slow);
        options.timeout = Duration::from_millis(200);
        let mut started = Instant::now();
        let mut located = locate_with(&fixture("vendored"), &options);
        // A test thread forking meanwhile may still hold the script open for writing: exec then
        // fails with ETXTBSY ("Text file busy"), a race of the test, not of what it checks.
        for _ in 0..50 {
            if !located.metadata_error.as_deref().is_some_and(|e| e.contains("busy")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            started = Instant::now();
            located = locate_with(&fixture("vendored"), &options);
        }
        assert!(started.elapsed() < Duration::from_secs(10), "killed at the timeout");
        let error = located.metadata_error.unwrap();
        assert!(error.contains("took more than"), "{error}");
        check_vendored(&located.graph.unwrap());
    }
}

#[test]
fn workspace_members_expand_globs_and_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\", \"tools/cli\"]\nexclude = [\"crates/old\"]\n",
    );
    for m in ["crates/a", "crates/b", "crates/old", "tools/cli"] {
        let name = m.rsplit('/').next().unwrap();
        write(
            &root.join(m).join("Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\n"),
        );
    }
    std::fs::create_dir_all(root.join("crates/not-a-crate")).unwrap();
    let doc = read_toml(&root.join("Cargo.toml")).unwrap();
    let members: Vec<PathBuf> = member_dirs(root, &doc);
    assert_eq!(members, [root.join("crates/a"), root.join("crates/b"), root.join("tools/cli")]);
    assert_eq!(workspace_root(&root.join("crates/a")), root);
}

#[test]
fn cargo_errors_fit_on_one_line() {
    let stderr = b"    Updating crates.io index\nerror: failed to download `fs-err v3.3.2`\n\nCaused by:\n  attempting to make an HTTP request, but --offline was specified\n";
    assert_eq!(
        cargo_error(stderr),
        "failed to download `fs-err v3.3.2`: attempting to make an HTTP request, but --offline was specified"
    );
    assert_eq!(cargo_error(b"killed\n"), "killed");
}

#[test]
fn lock_dependency_strings() {
    let (a1, a2, b) = (key("a", "1.0.0"), key("a", "2.0.0"), key("b", "0.1.0"));
    let by_name: HashMap<&str, Vec<&PackageKey>> =
        [("a", vec![&a1, &a2]), ("b", vec![&b])].into_iter().collect();
    assert_eq!(lock_dep_key("b", &by_name), Some(&b));
    assert_eq!(lock_dep_key("a 2.0.0", &by_name), Some(&a2));
    assert_eq!(
        lock_dep_key("a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)", &by_name),
        Some(&a1)
    );
    assert_eq!(lock_dep_key("c", &by_name), None);
}

#[test]
fn fallback_takes_patched_packages_from_their_path() {
    let (dir, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scratch(dir.path(), false);
    fake_home(home.path());
    // `cached` is patched to a vendored copy: the lock entry loses its source.
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    write(
        &dir.path().join("Cargo.toml"),
        &format!("{manifest}\n[patch.crates-io]\ncached = {{ path = \"vendor/cached\" }}\n"),
    );
    let lock = std::fs::read_to_string(dir.path().join("Cargo.lock")).unwrap();
    let unsourced = lock.replace(
        "name = \"cached\"\nversion = \"1.4.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        "name = \"cached\"\nversion = \"1.4.0\"\n",
    );
    assert_ne!(lock, unsourced);
    write(&dir.path().join("Cargo.lock"), &unsourced);
    write(
        &dir.path().join("vendor/cached/Cargo.toml"),
        "[package]\nname = \"cached\"\nversion = \"1.4.0\"\nedition = \"2021\"\n",
    );
    write(&dir.path().join("vendor/cached/src/lib.rs"), "");
    let located = locate_with(dir.path(), &without_cargo(home.path()));
    assert_eq!(located.note, None, "nothing is missing");
    let g = graph(located);
    let cached = g.get(&key("cached", "1.4.0")).unwrap();
    assert_eq!(cached.source, SourceKind::Path);
    assert_eq!(cached.manifest_dir.as_deref(), Some(dir.path().join("vendor/cached").as_path()));
    assert!(!cached.member);
}
