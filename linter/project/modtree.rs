//! The module tree: which crate target each file belongs to, found by following `mod x;`
//! declarations from the crate roots (`src/lib.rs`, `src/main.rs`, binaries, tests, examples,
//! and the paths a manifest names). Pure: works on paths and declarations already read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A `mod name;` item whose body is in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModDecl {
    /// The declared module's path (`crate::net::http`), as seen from the declaring file.
    pub module: String,
    /// Its `#[path = ".."]`, if any.
    pub path_attr: Option<String>,
    /// Declared under `#[cfg(test)]`: the module and those it declares are test code.
    pub test: bool,
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
}

/// The target of every file (the target of the root whose `mod` declarations reach it), its
/// module path as declared (`crate::sys` for a `#[path = "sys/unix.rs"] mod sys;`), which can
/// differ from the one its place in the directory tree suggests, and whether a root reaches it
/// (a file no target declares is not compiled), and whether it is compiled only for tests
/// (a `#[cfg(test)] mod` leads to it).
pub(crate) fn assign_targets(files: &[TreeFile]) -> Vec<Assigned> {
    let index: HashMap<&Path, usize> = files.iter().enumerate().map(|(i, f)| (f.path, i)).collect();
    let mut target: Vec<Option<String>> = vec![None; files.len()];
    let mut module: Vec<String> = files.iter().map(|f| f.module.to_string()).collect();
    let mut test = vec![false; files.len()];
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
            for candidate in module_files(file, decl) {
                if let Some(&j) = index.get(candidate.as_path()) {
                    if target[j].is_none() && !files[j].is_root {
                        target[j] = target[i].clone();
                        let rel = decl.module.strip_prefix(file.module).unwrap_or(&decl.module);
                        module[j] = format!("{}{rel}", module[i]);
                        test[j] = test[i] || decl.test;
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
        .map(|(((t, f), module), test)| Assigned {
            reached: t.is_some(),
            target: t.unwrap_or_else(|| f.target.to_string()),
            module,
            test,
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
        ModDecl { module: module.into(), path_attr: None, test: false }
    }

    fn file<'a>(path: &'a str, module: &'a str, is_root: bool, mods: &'a [ModDecl]) -> TreeFile<'a> {
        TreeFile { path: Path::new(path), module, is_root, target: if is_root { "root" } else { "?" }, mods }
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
        let lib_mods = [
            ModDecl { module: "crate::sys".into(), path_attr: Some("platform/unix.rs".into()), test: false },
            decl("crate::a"),
        ];
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
}
