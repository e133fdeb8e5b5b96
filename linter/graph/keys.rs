//! Functions by call-graph key across the run, following `use` re-exports: the one way the
//! cross-file stage names a function.

use std::collections::HashMap;

/// A function: (file index, index in that file's list).
pub(crate) type FnId = (usize, usize);

/// Every function of a list, by key, and the run's aliases (`pub use` re-exports).
pub(crate) struct KeyIndex<'a> {
    by_key: HashMap<&'a str, Vec<FnId>>,
    aliases: HashMap<&'a str, &'a str>,
    /// Glob re-exports (`pub use self::platform::*`): module -> the modules it re-exports.
    globs: HashMap<&'a str, Vec<&'a str>>,
    /// Keys found through glob re-exports (or not found), remembered.
    through_globs: std::cell::RefCell<HashMap<String, Vec<FnId>>>,
}

impl<'a> KeyIndex<'a> {
    pub(crate) fn new(
        keys: impl Iterator<Item = (FnId, &'a str)>,
        aliases: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut by_key: HashMap<&str, Vec<FnId>> = HashMap::new();
        for (id, key) in keys {
            by_key.entry(key).or_default().push(id);
        }
        let mut names = HashMap::new();
        let mut globs: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to) in aliases {
            match from.strip_suffix("::*") {
                Some(module) => globs.entry(module).or_default().push(to),
                None => {
                    names.insert(from, to);
                }
            }
        }
        KeyIndex { by_key, aliases: names, globs, through_globs: Default::default() }
    }

    /// The functions a key names, following re-exports (`crate::Store::open` ->
    /// `crate::store::Store::open`, and through `pub use module::*`) a few steps.
    pub(crate) fn lookup(&self, key: &str) -> Vec<FnId> {
        let found = self.lookup_named(key);
        if !found.is_empty() || self.globs.is_empty() {
            return found.to_vec();
        }
        if let Some(known) = self.through_globs.borrow().get(key) {
            return known.clone();
        }
        let found = self.through_globs(key);
        self.through_globs.borrow_mut().insert(key.to_string(), found.clone());
        found
    }

    fn through_globs(&self, key: &str) -> Vec<FnId> {
        // A glob re-export of a module along the key: `a::b::f` with `pub use self::c::*` in
        // `a::b` may be `a::b::c::f`. Breadth-first, each candidate once, a bounded number.
        let mut seen = std::collections::HashSet::new();
        let mut queue = std::collections::VecDeque::from([key.to_string()]);
        while let Some(key) = queue.pop_front() {
            if seen.len() > 64 || !seen.insert(key.clone()) {
                continue;
            }
            let found = self.lookup_named(&key);
            if !found.is_empty() {
                return found.to_vec();
            }
            let mut end = key.len();
            while let Some(i) = key[..end].rfind("::") {
                for t in self.globs.get(&key[..i]).into_iter().flatten() {
                    queue.push_back(format!("{t}{}", &key[i..]));
                }
                end = i;
            }
        }
        Vec::new()
    }

    fn lookup_named(&self, key: &str) -> &[FnId] {
        let mut key = key.to_string();
        for _ in 0..8 {
            if let Some(ids) = self.by_key.get(key.as_str()) {
                return ids;
            }
            // The longest prefix that is an alias.
            let mut end = key.len();
            let rewritten = loop {
                if let Some(to) = self.aliases.get(&key[..end]) {
                    break Some(format!("{to}{}", &key[end..]));
                }
                match key[..end].rfind("::") {
                    Some(i) => end = i,
                    None => break None,
                }
            };
            match rewritten {
                Some(k) if k != key => key = k,
                _ => break,
            }
        }
        &[]
    }
}
