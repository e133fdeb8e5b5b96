//! Functions by call-graph key across the run, following `use` re-exports: the one way the
//! cross-file stage names a function.

use std::collections::HashMap;

/// A function: (file index, index in that file's list).
pub(crate) type FnId = (usize, usize);

/// Every function of a list, by key, and the run's aliases (`pub use` re-exports).
pub(crate) struct KeyIndex<'a> {
    by_key: HashMap<&'a str, Vec<FnId>>,
    aliases: HashMap<&'a str, &'a str>,
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
        KeyIndex { by_key, aliases: aliases.collect() }
    }

    /// The functions a key names, following re-exports (`crate::Store::open` ->
    /// `crate::store::Store::open`) a few steps.
    pub(crate) fn lookup(&self, key: &str) -> &[FnId] {
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
