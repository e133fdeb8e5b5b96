//! The options of a run: built-in knowledge and catalog, then the config, then flags.

use rustc_hash::FxHashSet as HashSet;
use std::sync::Arc;

use serde::Deserialize;

use crate::project::config::{ConfigError, Loaded, Policy};
use crate::project::discover::Exclude;
use crate::rules::blocking::{Catalog, CatalogFile};
use crate::semantic::Knowledge;

/// What the analysis of each file needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) catalog: Catalog,
    /// The model's knowledge, taught every path the catalog names.
    pub(crate) knowledge: Knowledge,
    pub include_tests: bool,
    /// Package names of the run (calls between workspace members are followed).
    pub(crate) local_crates: HashSet<String>,
    /// A digest of `local_crates`, made once per run: every cached file's facts depend on it.
    pub(crate) crates_digest: String,
    /// What the config changed in the catalog and knowledge: cached facts depend on it.
    pub(crate) fingerprint: String,
    /// Type aliases of other crates' types that the run's files declare, by path with the
    /// package's name for `crate` (`app::db::DbPool` -> `r2d2::Pool<..>`): the files that
    /// import one are read again with them (the fingerprint then says so).
    pub(crate) foreign_aliases: std::sync::Arc<rustc_hash::FxHashMap<String, String>>,
}

impl Default for Options {
    fn default() -> Self {
        let catalog = Catalog::builtin();
        let mut knowledge = Knowledge::builtin();
        catalog.teach(&mut knowledge);
        Options {
            catalog,
            knowledge,
            include_tests: false,
            local_crates: HashSet::default(),
            crates_digest: String::new(),
            fingerprint: String::new(),
            foreign_aliases: Default::default(),
        }
    }
}

/// Options of a whole run.
#[derive(Clone)]
pub struct RunOptions {
    pub options: Options,
    /// Report blocking reached through sync functions of the checked crates.
    pub transitive: bool,
    /// Worker threads; all cores when `None`.
    pub jobs: Option<usize>,
    /// Skip parsing files that cannot hold findings until the call graph needs them.
    /// Findings are the same either way (a test holds this); off only to prove that.
    pub prefilter: bool,
    /// Follow calls into the sources of dependencies (`--no-dependencies` turns it off).
    pub dependencies: bool,
    /// Read and write the cache of analysed files (`--no-cache` turns it off).
    pub cache: bool,
    /// Paths excluded by config.
    pub(crate) exclude: Exclude,
    /// Which findings to report, and how.
    pub(crate) policy: Policy,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            options: Options::default(),
            transitive: true,
            jobs: None,
            prefilter: true,
            dependencies: true,
            cache: true,
            exclude: Arc::new(|_| false),
            policy: Policy::default(),
        }
    }
}

impl RunOptions {
    /// The same options with `n` worker threads.
    pub fn with_jobs(mut self, n: usize) -> Self {
        self.jobs = Some(n);
        self
    }

    /// Leaves out the paths matching `patterns`, globs relative to `dir` (`--exclude`).
    pub(crate) fn add_excludes(&mut self, patterns: &[String], dir: &std::path::Path) -> Result<(), String> {
        let excluded = crate::project::config::excluder(patterns, dir)?;
        let previous = self.exclude.clone();
        self.exclude = Arc::new(move |p| previous(p) || excluded(p));
        Ok(())
    }

    /// Applies a config: catalog entries, allowed APIs, offload wrappers, exclusions and the
    /// reporting policy.
    pub(crate) fn apply_config(&mut self, loaded: &Loaded) -> Result<(), ConfigError> {
        let c = &loaded.config;
        let mut blocking = Vec::new();
        for entry in &c.blocking {
            let parsed =
                Deserialize::deserialize(entry.get_ref().clone()).map_err(|e: toml::de::Error| {
                    loaded.error_at(Some(entry.span().start), e.message().trim().to_string())
                })?;
            blocking.push(parsed);
        }
        let options = &mut self.options;
        options.fingerprint = format!("{:?}|{:?}|{:?}", c.blocking, c.allow, c.offload);
        options.catalog.extend(CatalogFile { blocking, ..CatalogFile::default() });
        options.catalog.allow(c.allow.iter().cloned());
        options.catalog.teach(&mut options.knowledge);
        options.knowledge.add_offload(&c.offload);
        if let Some(d) = c.dependencies {
            self.dependencies = d;
        }
        if let Some(t) = c.include_tests {
            options.include_tests = t;
            self.policy.include_tests = t;
        }
        if let Some(t) = c.transitive {
            self.transitive = t;
        }
        if let Some(excluded) = loaded.excluder()? {
            let previous = self.exclude.clone();
            self.exclude = Arc::new(move |p| previous(p) || excluded(p));
        }
        loaded.apply_policy(&mut self.policy)
    }
}
