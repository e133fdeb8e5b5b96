//! The serial rules' name lists (`names.toml`, embedded): which calls, receivers and methods
//! make awaits ordered or idle on purpose. Data, like the blocking catalog; each list says why.

use std::sync::LazyLock;

use serde::Deserialize;

const BUILTIN: &str = include_str!("names.toml");

/// One list: a call name matches by `names` (exactly), `prefixes`, `suffixes`, `contains`
/// (anywhere) or `words` (one of its `_`-separated words).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct List {
    /// Why a name on this list changes the judgement: the data's documentation, which the
    /// tests require.
    #[cfg_attr(not(test), allow(dead_code))]
    pub reason: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    #[serde(default)]
    suffixes: Vec<String>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
}

impl List {
    pub(crate) fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
            || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
            || self.contains.iter().any(|c| name.contains(c.as_str()))
            || name.split('_').any(|w| self.words.iter().any(|x| x == w))
    }

    /// A name on the list, or one ending in `_` and a name on it (`write_tx`, `event_sender`).
    pub(crate) fn matches_suffixed(&self, name: &str) -> bool {
        self.matches(name)
            || self
                .names
                .iter()
                .any(|n| name.strip_suffix(n.as_str()).is_some_and(|rest| rest.ends_with('_')))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Names {
    pub timers: List,
    pub pacing: List,
    pub yields: List,
    pub concurrent: List,
    pub awaited_joins: List,
    pub joined_values: List,
    pub sequential: List,
    pub outputs: List,
    pub idle_waits: List,
    pub stepwise: List,
    pub local_or_ordered: List,
    pub command_queues: List,
    pub ordered_handles: List,
    pub connections: List,
    pub pools: List,
    pub clients: List,
    pub one_connection_clients: List,
    pub tallies: List,
    pub mutators: List,
    pub drains: List,
    pub fresh_iterators: List,
    pub adaptors: List,
    pub accessors: List,
    pub mut_borrows: List,
    pub not_futures: List,
    pub spawned: List,
    pub timeouts: List,
    pub ordered_collections: List,
    pub guards: List,
    pub writes: List,
    pub checks: List,
    pub appends: List,
    pub fetches: List,
    pub object_stores: List,
}

static NAMES: LazyLock<Names> = LazyLock::new(|| toml::from_str(BUILTIN).expect("names.toml parses"));

pub(crate) fn names() -> &'static Names {
    &NAMES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_loads_with_a_reason() {
        let n = names();
        let lists = [
            &n.timers,
            &n.pacing,
            &n.yields,
            &n.concurrent,
            &n.awaited_joins,
            &n.joined_values,
            &n.sequential,
            &n.idle_waits,
            &n.stepwise,
            &n.local_or_ordered,
            &n.command_queues,
            &n.ordered_handles,
            &n.connections,
            &n.pools,
            &n.clients,
            &n.tallies,
            &n.mutators,
            &n.drains,
            &n.fresh_iterators,
            &n.adaptors,
            &n.accessors,
            &n.mut_borrows,
            &n.not_futures,
            &n.spawned,
            &n.timeouts,
            &n.ordered_collections,
            &n.guards,
            &n.writes,
            &n.checks,
            &n.appends,
            &n.fetches,
            &n.object_stores,
            &n.one_connection_clients,
        ];
        for l in lists {
            assert!(l.reason.len() > 20, "{l:?}");
        }
        assert!(
            n.sequential.matches("write_i32")
                && n.sequential.matches("send")
                && !n.sequential.matches("fetch")
        );
        assert!(n.stepwise.matches("create_dir_all") && n.local_or_ordered.matches("create_reaction"));
        assert!(
            n.command_queues.matches_suffixed("redis_pipe") && !n.command_queues.matches_suffixed("pipes")
        );
        assert!(n.clients.matches("HttpClient") && !n.clients.matches("ClientId"));
        assert!(n.writes.matches("delete_image_alias") && n.writes.matches("update"));
        assert!(n.fetches.matches("fetch_and_store") && !n.fetches.matches("store_release"));
        assert!(!n.writes.matches("fetch_details") && !n.writes.matches("stats"));
        assert!(n.connections.matches("db_conn") && n.connections.matches("PgConnection"));
        assert!(!n.connections.matches("connector") && n.pools.matches("PgPool"));
    }
}
