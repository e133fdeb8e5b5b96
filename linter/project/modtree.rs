//! The module tree: which crate target each file belongs to, found by following `mod x;`
//! declarations from the crate roots (`src/lib.rs`, `src/main.rs`, binaries, tests, examples,
//! and the paths a manifest names). Pure: works on paths and declarations already read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cfg::{Cfg, CfgEnv};

/// A `mod name;` item whose body is in another file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ModDecl {
    /// The declared module's path (`crate::net::http`), as seen from the declaring file.
    pub module: String,
    /// Its `#[path = ".."]`, if any.
    pub path_attr: Option<String>,
    /// Declared under `#[cfg(test)]`: the module and those it declares are test code.
    pub test: bool,
    /// The `cfg(..)`s of its `#[cfg]` attributes.
    pub cfgs: Vec<String>,
}

/// One file as the tree sees it.
pub(crate) struct TreeFile<'a> {
    pub path: &'a Path,
    /// Its module path as analysed (`crate::net` for `src/net/mod.rs`).
    pub module: &'a str,
    pub is_root: bool,
    /// The target it is given when no root reaches it.
    pub target: &'a str,
    pub mods: &'a [ModDecl],
    /// What its `#[cfg]`s are evaluated with: its package's features.
    pub cfg: CfgEnv<'a>,
}

/// The target of every file (the target of the root whose `mod` declarations reach it), its
/// module path as declared (`crate::sys` for a `#[path = "sys/unix.rs"] mod sys;`), which can
/// differ from the one its place in the directory tree suggests, and whether a root reaches it
/// (a file no target declares is not compiled), whether it is compiled only for tests (a
/// `#[cfg(test)] mod` leads to it), and whether it is compiled out (only `mod`s whose `#[cfg]`
/// is false here lead to it: `#[cfg(windows)] mod windows;`, a feature that is off).
pub(crate) fn assign_targets(files: &[TreeFile]) -> Vec<Assigned> {
    let index: HashMap<&Path, usize> = files.iter().enumerate().map(|(i, f)| (f.path, i)).collect();
    let mut target: Vec<Option<String>> = vec![None; files.len()];
    let mut module: Vec<String> = files.iter().map(|f| f.module.to_string()).collect();
    let mut test = vec![false; files.len()];
    let mut off = vec![false; files.len()];
    let mut stack = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if f.is_root {
            target[i] = Some(f.target.to_string());
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        let file = &files[i];
        for decl in file.mods {
            let decl_off = off[i] || decl.cfgs.iter().any(|c| Cfg::parse(c).compiles_out(&file.cfg));
            for candidate in module_files(file, decl) {
                if let Some(&j) = index.get(candidate.as_path()) {
                    // A file reached only through compiled-out `mod`s so far, now reached
                    // through one compiled in, is walked again from there.
                    let first = target[j].is_none() && !files[j].is_root;
                    if first || (off[j] && !decl_off && !files[j].is_root) {
                        target[j] = target[i].clone();
                        let rel = decl.module.strip_prefix(file.module).unwrap_or(&decl.module);
                        module[j] = format!("{}{rel}", module[i]);
                        test[j] = test[i] || decl.test;
                        off[j] = decl_off;
                        stack.push(j);
                    }
                    break;
                }
            }
        }
    }
    target
        .into_iter()
        .zip(files)
        .zip(module)
        .zip(test)
        .zip(off)
        .map(|((((t, f), module), test), off)| Assigned {
            reached: t.is_some(),
            target: t.unwrap_or_else(|| f.target.to_string()),
            module,
            test,
            compiled_out: off,
        })
        .collect()
}

/// Where the module tree puts a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Assigned {
    pub target: String,
    pub module: String,
    /// A crate root reaches it.
    pub reached: bool,
    /// Compiled only for tests.
    pub test: bool,
    /// Only `mod`s whose `#[cfg]` is false lead to it: not compiled here.
    pub compiled_out: bool,
}

/// Where the file of `decl` may be: `dir/name.rs` or `dir/name/mod.rs`, `dir` being the
/// declaring file's directory (for roots and `mod.rs`) or `dir/<stem>` (for `a.rs`), plus any
/// inline modules in between; or the `#[path]`, relative to the declaring file's directory.
fn module_files(file: &TreeFile, decl: &ModDecl) -> Vec<PathBuf> {
    let dir = file.path.parent().unwrap_or(Path::new(""));
    if let Some(p) = &decl.path_attr {
        return vec![dir.join(p)];
    }
    let own_dir = file.is_root || file.path.file_name().is_some_and(|n| n == "mod.rs");
    let mut base = dir.to_path_buf();
    if !own_dir {
        if let Some(stem) = file.path.file_stem() {
            base.push(stem);
        }
    }
    let rel = decl.module.strip_prefix(file.module).unwrap_or(&decl.module);
    let segments: Vec<&str> = rel.split("::").filter(|s| !s.is_empty()).collect();
    let Some((name, inline)) = segments.split_last() else { return Vec::new() };
    for s in inline {
        base.push(s);
    }
    vec![base.join(format!("{name}.rs")), base.join(name).join("mod.rs")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(module: &str) -> ModDecl {
        ModDecl { module: module.into(), path_attr: None, test: false, cfgs: Vec::new() }
    }

    fn file<'a>(path: &'a str, module: &'a str, is_root: bool, mods: &'a [ModDecl]) -> TreeFile<'a> {
        let target = if is_root { "root" } else { "?" };
        TreeFile { path: Path::new(path), module, is_root, target, mods, cfg: CfgEnv::default() }
    }

    #[test]
    fn modules_of_a_binary_belong_to_the_binary() {
        let main_mods = [decl("crate::config"), decl("crate::net")];
        let net_mods = [decl("crate::net::http")];
        let files = [
            file("p/src/main.rs", "crate", true, &main_mods),
            file("p/src/config.rs", "crate::config", false, &[]),
            file("p/src/net/mod.rs", "crate::net", false, &net_mods),
            file("p/src/net/http.rs", "crate::net::http", false, &[]),
            file("p/src/orphan.rs", "crate::orphan", false, &[]),
        ];
        let got = assign_targets(&files);
        let targets: Vec<&str> = got.iter().map(|g| g.target.as_str()).collect();
        assert_eq!(targets, ["root", "root", "root", "root", "?"]);
        // A file no root declares is not compiled into any target.
        let reached: Vec<bool> = got.iter().map(|g| g.reached).collect();
        assert_eq!(reached, [true, true, true, true, false]);
    }

    #[test]
    fn path_attributes_and_non_mod_rs_parents() {
        let lib_mods =
            [ModDecl { path_attr: Some("platform/unix.rs".into()), ..decl("crate::sys") }, decl("crate::a")];
        let a_mods = [decl("crate::a::b")];
        let files = [
            file("src/lib.rs", "crate", true, &lib_mods),
            file("src/platform/unix.rs", "crate::platform::unix", false, &[]),
            file("src/a.rs", "crate::a", false, &a_mods),
            file("src/a/b.rs", "crate::a::b", false, &[]),
        ];
        let got = assign_targets(&files);
        let targets: Vec<&str> = got.iter().map(|g| g.target.as_str()).collect();
        assert_eq!(targets, ["root", "root", "root", "root"]);
        // The file a `#[path]` names is the declared module, wherever it sits.
        assert_eq!(got[1].module, "crate::sys");
        assert_eq!(got[3].module, "crate::a::b");
    }

    #[test]
    fn a_cfg_test_module_and_what_it_declares_are_test_code() {
        let lib_mods = [ModDecl { test: true, ..decl("crate::test_case") }, decl("crate::net")];
        let case_mods = [decl("crate::test_case::data")];
        let files = [
            file("src/lib.rs", "crate", true, &lib_mods),
            file("src/test_case.rs", "crate::test_case", false, &case_mods),
            file("src/test_case/data.rs", "crate::test_case::data", false, &[]),
            file("src/net.rs", "crate::net", false, &[]),
        ];
        let test: Vec<bool> = assign_targets(&files).iter().map(|g| g.test).collect();
        assert_eq!(test, [false, true, true, false]);
    }

    #[test]
    fn a_module_whose_cfg_is_false_and_what_it_declares_are_compiled_out() {
        let features = std::collections::BTreeSet::from(["tls".to_string()]);
        let cfg = |c: &str| ModDecl { cfgs: vec![c.into()], ..decl("") };
        let lib_mods = [
            ModDecl { module: "crate::update".into(), ..cfg("cfg(feature = \"self-update\")") },
            ModDecl { module: "crate::tls".into(), ..cfg("cfg(feature = \"tls\")") },
            ModDecl { module: "crate::shared".into(), ..cfg("cfg(all(feature = \"self-update\", unix))") },
            ModDecl { module: "crate::tests".into(), ..cfg("cfg(all(test, feature = \"self-update\"))") },
        ];
        let update_mods = [decl("crate::update::download")];
        // `shared` is also declared by `tls`, which is compiled in: so it is too.
        let tls_mods = [ModDecl { path_attr: Some("shared.rs".into()), ..decl("crate::tls::shared") }];
        let mut files = vec![
            file("src/lib.rs", "crate", true, &lib_mods),
            file("src/update.rs", "crate::update", false, &update_mods),
            file("src/update/download.rs", "crate::update::download", false, &[]),
            file("src/tls.rs", "crate::tls", false, &tls_mods),
            file("src/shared.rs", "crate::shared", false, &[]),
            file("src/tests.rs", "crate::tests", false, &[]),
        ];
        for f in &mut files {
            f.cfg = CfgEnv { features: Some(&features), build_script: false };
        }
        let got = assign_targets(&files);
        let out: Vec<bool> = got.iter().map(|g| g.compiled_out).collect();
        assert_eq!(out, [false, true, true, false, false, false]);
        assert!(got.iter().all(|g| g.reached));
        // Without known features nothing is compiled out for a feature.
        for f in &mut files {
            f.cfg = CfgEnv::default();
        }
        assert!(assign_targets(&files).iter().all(|g| !g.compiled_out));
    }
}
