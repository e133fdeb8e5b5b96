//! Functions by call-graph key across the run, following `use` re-exports: the one way the
//! cross-file stage names a function.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::FileFacts;
use crate::qualified::Qualified;

/// A function: (file index, index in that file's list).
pub(crate) type FnId = (usize, usize);

/// Every function of a list, by key, and the run's aliases (`pub use` re-exports).
pub(crate) struct KeyIndex<'a> {
    by_key: HashMap<&'a str, Vec<FnId>>,
    aliases: HashMap<&'a str, &'a str>,
    /// The names glob re-exports (`pub use self::platform::*`) give functions:
    /// `a::b::f` for `a::b::platform::f`. Made once, so a lookup is a hash probe.
    through_globs: HashMap<String, Vec<FnId>>,
    /// Module -> the modules it glob imports (`use other::*`), for the names the resolver left
    /// to them (`m::*::Db`).
    globs: HashMap<&'a str, Vec<&'a str>>,
    /// The members the aliases name (`<config()>` of `crate::AppState::<config()>`): a key
    /// through any other member (see `Ty::Member`) leads nowhere, and is not followed.
    members: rustc_hash::FxHashSet<&'a str>,
}

/// Bounds on glob re-export names: chains of globs followed, and names made in all.
const GLOB_STEPS: usize = 4;
/// Bounds a lookup's steps through glob imports and the aliases between them (`use super::*`
/// of a module with `use crate::prelude::*`, whose `pub use` names the type).
const LOOKUP_STEPS: usize = 8;
const GLOB_NAMES: usize = 200_000;

impl<'a> KeyIndex<'a> {
    /// `keys` by the `use` items of `files`: their aliases (`module::*` for a glob re-export)
    /// and private glob imports.
    pub(crate) fn new(
        keys: impl Iterator<Item = (FnId, &'a str)>,
        files: impl Iterator<Item = &'a FileFacts> + Clone,
    ) -> Self {
        let pairs = |list: fn(&'a FileFacts) -> &'a [(String, String)]| {
            files.clone().flat_map(move |f| list(f).iter().map(|(a, b)| (a.as_str(), b.as_str())))
        };
        let (aliases, private_globs) = (pairs(|f| &f.aliases), pairs(|f| &f.globs));
        let mut by_key: HashMap<&str, Vec<FnId>> = HashMap::default();
        // A fn of an impl whose type came through a glob import (`use super::*; impl Cache`):
        // named `m::*::Cache::save` by its file, it is found by the glob's targets too.
        let mut through_own_globs: Vec<(String, FnId)> = Vec::new();
        for (id, key) in keys {
            by_key.entry(key).or_default().push(id);
            if key.contains("::*::") {
                through_own_globs.push((key.to_string(), id));
            }
        }
        let mut names = HashMap::default();
        // Re-exported module -> the modules that glob re-export it.
        let mut globbed_into: HashMap<&str, Vec<&str>> = HashMap::default();
        let mut globs: HashMap<&str, Vec<&str>> = HashMap::default();
        let mut members = rustc_hash::FxHashSet::default();
        for (from, to) in aliases {
            // (Every member an alias names: `Config::<zones>::<item>` names `<zones>` too.)
            members.extend(from.split("::").filter(|m| m.starts_with('<')));
            match from.strip_suffix("::*") {
                Some(module) => {
                    globbed_into.entry(to).or_default().push(module);
                    globs.entry(module).or_default().push(to);
                }
                None => {
                    names.insert(from, to);
                }
            }
        }
        for (module, to) in private_globs {
            globs.entry(module).or_default().push(to);
        }
        let mut through_globs = glob_names(&by_key, &globbed_into);
        for (key, id) in through_own_globs {
            let Some((module, rest)) = key.split_once("::*::") else { continue };
            for target in globs.get(module).into_iter().flatten() {
                through_globs.entry(format!("{target}::{rest}")).or_default().push(id);
            }
        }
        KeyIndex { by_key, aliases: names, through_globs, globs, members }
    }

    /// The modules `module` glob imports (`use other::*`), then those they glob import (a
    /// prelude's `pub use crate::paths::*`), nearest first, each once: `steps` levels deep.
    pub(crate) fn glob_reach(&self, module: &str, steps: usize) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        let mut level: Vec<&str> = vec![module];
        for _ in 0..steps {
            let next: Vec<&'a str> = level
                .iter()
                .flat_map(|m| self.globs.get(m).into_iter().flatten().copied())
                .filter(|t| !out.contains(t))
                .collect();
            out.extend(&next);
            level = next;
        }
        out
    }

    /// The functions a key names, following re-exports (`crate::Store::open` ->
    /// `crate::store::Store::open`, and through `pub use module::*`) a few steps.
    pub(crate) fn lookup(&self, key: &str) -> &[FnId] {
        self.lookup_named(key)
    }

    /// `key` with the aliases of its prefix followed (`crate::AppState::<verifier>::verify` ->
    /// `core::auth::TokenVerifier::verify` for a field declared `Arc<dyn TokenVerifier>`): a
    /// trait object's member names the trait, whose impls a call may run.
    pub(crate) fn dealiased<'k>(&self, key: &'k str) -> std::borrow::Cow<'k, str> {
        let mut key = std::borrow::Cow::Borrowed(key);
        for _ in 0..8 {
            // A name its module has from a glob import (`state.transcoder` with `AppState`
            // from `use crate::prelude::*`; a field `Arc<dyn Transcoder>` with `use
            // core::prelude::*`): followed into the glob that names it.
            let next = self.rewrite(&key).or_else(|| self.through_glob(&key));
            match next {
                Some(k) if k != *key && k.contains("::*::") => match self.through_glob(&k) {
                    Some(k) => key = std::borrow::Cow::Owned(k),
                    None => break,
                },
                Some(k) if k != *key => key = std::borrow::Cow::Owned(k),
                _ => break,
            }
        }
        key
    }

    /// `m::*::Name::rest` as the one glob import of `m` that names `Name`: the one re-exporting
    /// it (`pub use crate::transcode::Transcoder` in the prelude), or `m`'s only glob.
    /// (A module whose only glob is itself a glob re-export, an app's prelude of `pub use
    /// core::prelude::*`, hands the name on: `only::*::Name`.)
    fn through_glob(&self, key: &str) -> Option<String> {
        let (module, rest) = key.split_once("::*::")?;
        let targets = self.globs.get(module)?;
        let name = rest.first_segment();
        let naming: Vec<String> = targets
            .iter()
            .filter(|t| self.aliases.contains_key(format!("{t}::{name}").as_str()))
            .map(|t| format!("{t}::{rest}"))
            .collect();
        match (naming.as_slice(), targets.as_slice()) {
            ([one], _) => Some(one.clone()),
            ([], [only]) if self.globs.contains_key(only) => Some(format!("{only}::*::{rest}")),
            ([], [only]) => Some(format!("{only}::{rest}")),
            _ => None,
        }
    }

    fn find(&self, key: &str) -> Option<&[FnId]> {
        self.by_key.get(key).or_else(|| self.through_globs.get(key)).map(Vec::as_slice)
    }

    fn lookup_named(&self, key: &str) -> &[FnId] {
        if let Some(ids) = self.find(key) {
            return ids;
        }
        if key.contains("::<") && key.split("::").any(|s| s.starts_with('<') && !self.members.contains(s)) {
            return &[];
        }
        // Keys tried already: glob imports may form cycles (`a` imports `b::*`, `b` imports
        // `a::*`), which would otherwise be walked again at every depth.
        let mut tried = rustc_hash::FxHashSet::default();
        self.lookup_depth(key, 0, &mut tried)
    }

    fn lookup_depth(&self, key: &str, depth: usize, tried: &mut rustc_hash::FxHashSet<String>) -> &[FnId] {
        // `m::*::Db::open`: a name module `m` has from one of its glob imports (`use lib::*`),
        // looked up in each (`lib::Db::open`, aliases followed).
        let Some((module, rest)) = key.split_once("::*::") else {
            return self.lookup_aliased(key, depth, tried);
        };
        // Only these recurse, so only they can go round a circle.
        if depth >= LOOKUP_STEPS || !tried.insert(key.to_string()) {
            return &[];
        }
        for target in self.globs.get(module).into_iter().flatten() {
            let ids = self.lookup_depth(&format!("{target}::{rest}"), depth + 1, tried);
            if !ids.is_empty() {
                return ids;
            }
            // Through that module's own glob imports (`use super::*` of a module that has
            // `use crate::prelude::*`).
            if self.globs.contains_key(target) {
                let ids = self.lookup_depth(&format!("{target}::*::{rest}"), depth + 1, tried);
                if !ids.is_empty() {
                    return ids;
                }
            }
        }
        &[]
    }

    fn lookup_aliased(&self, key: &str, depth: usize, tried: &mut rustc_hash::FxHashSet<String>) -> &[FnId] {
        // (Most keys name nothing of the run, `std::..` and other crates': no allocation
        // until an alias rewrites them.)
        let mut key = std::borrow::Cow::Borrowed(key);
        for _ in 0..8 {
            if let Some(ids) = self.find(&key) {
                return ids;
            }
            match self.rewrite(&key) {
                // An alias to a name its module has from a glob (`crate::ctx::*::Cache`).
                Some(k) if k.contains("::*::") && depth < LOOKUP_STEPS => {
                    return self.lookup_depth(&k, depth + 1, tried)
                }
                Some(k) if k != *key => key = std::borrow::Cow::Owned(k),
                _ => break,
            }
        }
        &[]
    }

    /// `key` with its longest prefix that is an alias replaced by what the alias names.
    fn rewrite(&self, key: &str) -> Option<String> {
        if self.aliases.is_empty() {
            return None;
        }
        let mut end = key.len();
        loop {
            if let Some(to) = self.aliases.get(&key[..end]) {
                return Some(format!("{to}{}", &key[end..]));
            }
            end = key[..end].rfind_sep()?;
        }
    }
}

/// The extra names glob re-exports give the functions of `by_key`: for each module `m` that
/// glob re-exports `t`, `m::rest` for every `t::rest`, chains followed a few steps. A function's
/// own key always wins over a glob name.
fn glob_names(
    by_key: &HashMap<&str, Vec<FnId>>,
    globbed_into: &HashMap<&str, Vec<&str>>,
) -> HashMap<String, Vec<FnId>> {
    let mut out: HashMap<String, Vec<FnId>> = HashMap::default();
    if globbed_into.is_empty() {
        return out;
    }
    let renamed = |key: &str, ids: &[FnId], next: &mut Vec<(String, Vec<FnId>)>| {
        for i in key.sep_offsets() {
            for module in globbed_into.get(&key[..i]).into_iter().flatten() {
                next.push((format!("{module}{}", &key[i..]), ids.to_vec()));
            }
        }
    };
    let mut frontier = Vec::new();
    for (key, ids) in by_key {
        renamed(key, ids, &mut frontier);
    }
    for _ in 0..GLOB_STEPS {
        let mut next = Vec::new();
        for (key, ids) in frontier {
            if out.len() >= GLOB_NAMES || by_key.contains_key(key.as_str()) || out.contains_key(&key) {
                continue;
            }
            renamed(&key, &ids, &mut next);
            out.insert(key, ids);
        }
        frontier = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(aliases: &[(&str, &str)], globs: &[(&str, &str)]) -> FileFacts {
        let pairs = |l: &[(&str, &str)]| l.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        FileFacts { aliases: pairs(aliases), globs: pairs(globs), ..FileFacts::default() }
    }

    #[test]
    fn follows_glob_imports_of_glob_imported_modules_and_field_aliases() {
        // `use super::*` in `cmds::backup`, `use crate::prelude::*` in `cmds` and `ctx`, the
        // prelude re-exporting `Ctx` and `Cache`, `Ctx::cache` declared `Arc<Cache>`, and
        // `impl Cache` written in `cache::persist` after `use super::*`.
        let files = [facts(
            &[
                ("c::prelude::Ctx", "c::ctx::Ctx"),
                ("c::prelude::Cache", "c::cache::Cache"),
                ("c::ctx::Ctx::<cache>", "c::ctx::*::Cache"),
            ],
            &[
                ("c::cmds::backup", "c::cmds"),
                ("c::cmds", "c::prelude"),
                ("c::ctx", "c::prelude"),
                ("c::cache::persist", "c::cache"),
            ],
        )];
        let index = KeyIndex::new([((0, 0), "c::cache::persist::*::Cache::save")].into_iter(), files.iter());
        assert_eq!(index.lookup("c::cmds::backup::*::Ctx::<cache>::save"), [(0, 0)]);
        assert_eq!(index.lookup("c::cache::Cache::save"), [(0, 0)]);
        assert!(index.lookup("c::cmds::backup::*::Ctx::<cache>::load").is_empty());
    }

    #[test]
    fn glob_imports_in_a_cycle_end() {
        let files = [facts(&[], &[("c::a", "c::b"), ("c::b", "c::a")])];
        let index = KeyIndex::new([((0, 0), "c::z::f")].into_iter(), files.iter());
        assert!(index.lookup("c::a::*::f").is_empty());
    }
}
