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
}
