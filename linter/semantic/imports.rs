//! Flattens `use` trees into name -> path imports and glob imports.

use syn::UseTree;

/// A path as written in a `use`: `extern_root` for a leading `::`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsePath {
    pub extern_root: bool,
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Import {
    /// `use a::b as c;` binds `c` to `a::b`.
    Name { alias: String, target: UsePath },
    /// `use a::b::*;`
    Glob(UsePath),
}

pub(crate) fn flatten(tree: &UseTree, extern_root: bool, out: &mut Vec<Import>) {
    let mut prefix = Vec::new();
    walk(tree, extern_root, &mut prefix, out);
}

fn walk(tree: &UseTree, extern_root: bool, prefix: &mut Vec<String>, out: &mut Vec<Import>) {
    let path = |prefix: &[String]| UsePath { extern_root, segments: prefix.to_vec() };
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            walk(&p.tree, extern_root, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push(Import::Name { alias: last.clone(), target: path(prefix) });
                }
            } else {
                prefix.push(name.clone());
                out.push(Import::Name { alias: name, target: path(prefix) });
                prefix.pop();
            }
        }
        UseTree::Rename(r) => {
            let alias = r.rename.to_string();
            if alias == "_" {
                return;
            }
            let name = r.ident.to_string();
            let mut target = prefix.clone();
            if name != "self" {
                target.push(name);
            }
            out.push(Import::Name { alias, target: UsePath { extern_root, segments: target } });
        }
        UseTree::Glob(_) => out.push(Import::Glob(path(prefix))),
        UseTree::Group(g) => {
            for t in &g.items {
                walk(t, extern_root, prefix, out);
            }
        }
    }
}

/// std's modules whose functions block (files, paths' queries, sockets and DNS, processes,
/// threads and their sleeps and joins, channels): only their re-exports lead importers to
/// blocking calls. (A library re-exporting `fmt` or `mem` is common, and would make every
/// importer be read again.)
pub(crate) const BLOCKING_STD_MODULES: &[&str] = &["fs", "net", "path", "process", "thread", "sync::mpsc"];

/// The standard library's modules and functions that `pub use` items of `items` (in module
/// `module`, and the inline modules in it) re-export, as (the path they make, std's path):
/// `pub use std::fs;` in `crate::prelude` makes `crate::prelude::fs`, `pub use
/// std::process::Command;` makes `crate::prelude::Command`. Only names in
/// `BLOCKING_STD_MODULES`. (A re-exported type is followed in paths, `Command::new(..)`, and
/// where it names a field's or a parameter's type: `cmd: &mut Command`.)
pub(crate) fn std_reexports(items: &[syn::Item], module: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in items {
        match item {
            syn::Item::Use(u) if !matches!(u.vis, syn::Visibility::Inherited) => {
                let mut imports = Vec::new();
                flatten(&u.tree, u.leading_colon.is_some(), &mut imports);
                for i in imports {
                    let Import::Name { alias, target } = i else { continue };
                    let path = target.segments.join("::");
                    let blocking = BLOCKING_STD_MODULES.iter().any(|m| {
                        path.strip_prefix("std::")
                            .and_then(|p| p.strip_prefix(m))
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
                    });
                    if blocking {
                        out.push((format!("{module}::{alias}"), path));
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    out.extend(std_reexports(items, &format!("{module}::{}", m.ident)));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(src: &str) -> Vec<String> {
        let item: syn::ItemUse = syn::parse_str(src).unwrap();
        let mut out = Vec::new();
        flatten(&item.tree, item.leading_colon.is_some(), &mut out);
        out.iter()
            .map(|i| match i {
                Import::Name { alias, target } => format!("{alias}={}", target.segments.join("::")),
                Import::Glob(p) => format!("*={}", p.segments.join("::")),
            })
            .collect()
    }

    #[test]
    fn groups_self_renames_and_globs() {
        assert_eq!(
            imports("use std::{fs::{self, File as F}, io::*, thread::sleep, x as _};"),
            ["fs=std::fs", "F=std::fs::File", "*=std::io", "sleep=std::thread::sleep"]
        );
    }

    #[test]
    fn std_reexports_are_pub_uses_of_blocking_modules() {
        let file: syn::File = syn::parse_str(
            "pub use std::fs::{self, read_to_string as read_text}; pub use std::sync::Arc; use std::thread; \
             pub mod inner { pub(crate) use std::thread; } pub use crate::fs2; pub use std::{fmt, io}; \
             pub use std::process::Command;",
        )
        .unwrap();
        let got = std_reexports(&file.items, "crate::prelude");
        let want = [
            ("crate::prelude::fs", "std::fs"),
            ("crate::prelude::read_text", "std::fs::read_to_string"),
            ("crate::prelude::inner::thread", "std::thread"),
            ("crate::prelude::Command", "std::process::Command"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    }
}
