//! Runs a check: reads each file once, analyses it on a big-stack worker (a panic in one file
//! becomes that file's error), parses the files the prefilter left waiting only when the call
//! graph asks for them, joins the facts, and settles suppressions and the reporting policy.
//! Every entry point (paths, stdin, an editor's buffers, a bare text) goes through `settle`.
//! With the CLI and the language server, the only place that does I/O.

pub(crate) mod cache;
mod deps;
pub(crate) mod lexer;
mod options;
pub(crate) mod prescan;
pub(crate) mod suppress;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, FileError, FileReport, Hidden, Report};
use crate::facts::{self, FileFacts, Finding, Origin};
use crate::graph::{self, Unit};
use crate::project::cfg::CfgEnv;
use crate::project::config::{Policy, ReportLevel};
use crate::project::discover::{self, io_reason, Focus};
use crate::project::modtree::{self, ModDecl, TreeFile};
use crate::project::{Place, SourceFile};
use crate::qualified::Qualified;
use crate::rules::meta::parse_error;
use crate::rules::{self, RuleOptions};
use crate::semantic::{Knowledge, Ty};
use crate::source::{SourceIndex, Span};
use cache::{Cache, Key};
pub(crate) use deps::Deps;
pub use options::{Options, RunOptions};

/// How many rounds of parsing the call graph asks for reach into dependencies.
const MAX_DEPENDENCY_ROUNDS: usize = 12;
/// How many packages away from the checked crates calls are followed: a dependency, and the
/// dependencies it calls (`fs_err` and what it wraps), not the whole tree below.
const MAX_DEPENDENCY_HOPS: u8 = 2;

/// Stack of each analysis thread. syn and the analysis recurse with the nesting of the code;
/// the prescan bounds the nesting, this leaves ample room for it in debug builds too.
pub const ANALYSIS_STACK: usize = 64 << 20;

/// Texts that stand in for files on disk (an editor's unsaved buffers), by path as the walk
/// finds it (the walked root joined with the rest).
pub(crate) type Overlay = HashMap<PathBuf, Arc<str>>;

/// Checks files and directories.
pub fn check_paths(paths: &[PathBuf], run: &RunOptions) -> Report {
    check_paths_overlaid(paths, run, &Overlay::new())
}

/// `check_paths`, reading the files in `overlay` from there instead of from disk.
pub(crate) fn check_paths_overlaid(paths: &[PathBuf], run: &RunOptions, overlay: &Overlay) -> Report {
    check_found(paths, discover::discover(paths, &run.exclude), run, overlay)
}

/// Checks the files found under `paths` (with `discover`), and the dependencies they call.
pub(crate) fn check_found(
    paths: &[PathBuf],
    mut found: discover::Discovery,
    run: &RunOptions,
    overlay: &Overlay,
) -> Report {
    let mut deps = dependencies(paths, run);
    // A dependency whose sources are among the checked files (a `cargo vendor` directory
    // checked as a whole) is checked as the user's code: followed as a dependency too, its
    // files would be parsed twice.
    deps.drop_checked(found.files.iter().filter_map(|f| f.place.package.as_deref()));
    // The workspace members' `#[cfg(feature)]`s are evaluated with the features cargo resolved
    // (for a file of the member's own directory, no other manifest in between: another
    // package may have its name).
    let mut manifest_in: HashMap<PathBuf, bool> = HashMap::new();
    for f in &mut found.files {
        let Some(m) = f.place.package.as_deref().and_then(|p| deps.members.get(p)) else { continue };
        let Some(dir) = m.dir.as_deref() else { continue };
        let Ok(path) = std::path::absolute(&f.path) else { continue };
        let own = path.starts_with(dir)
            && path.ancestors().skip(1).take_while(|a| *a != dir).all(|a| {
                !*manifest_in.entry(a.to_path_buf()).or_insert_with(|| a.join("Cargo.toml").is_file())
            });
        if own {
            f.place.features = m.features.clone();
            f.place.build_script = m.build_script;
        }
    }
    let note = deps.note.clone();
    let mut report = check_files_with(found.files, found.errors, run, overlay, deps, found.focus.as_ref());
    report.notes.extend(note);
    report
}

/// The dependencies of the project the first path is in, when the run follows them.
pub(crate) fn dependencies(paths: &[PathBuf], run: &RunOptions) -> Deps {
    let Some(first) = paths.first().filter(|_| run.dependencies) else { return Deps::default() };
    let root = std::path::absolute(first).unwrap_or_else(|_| first.clone());
    let knowledge = &run.options.knowledge;
    let cache = if run.cache { Cache::open() } else { Cache::disabled() };
    Deps::locate(&root, &|name| knowledge.is_opaque(name), &cache)
}

/// Checks one text that did not come from the walk (stdin, an editor buffer), as the file
/// `name` at `place` (where `name` sits on disk when `None`).
pub(crate) fn check_text(name: &Path, place: Option<Place>, bytes: Vec<u8>, run: &RunOptions) -> Report {
    let display = name.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let message =
                format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked");
            return Report { errors: vec![FileError { path: display, message }], ..Report::default() };
        }
    };
    let place = place.unwrap_or_else(|| discover::locate(name));
    let file = SourceFile { path: name.to_path_buf(), display, place };
    let overlay = Overlay::from([(name.to_path_buf(), Arc::from(text))]);
    check_files(vec![file], Vec::new(), run, &overlay)
}

/// Checks a text read from stdin as the file `name`, with the rest of the file's package as
/// it is on disk (a call into it from another file is followed); reports what concerns `name`.
pub(crate) fn check_text_in_package(name: &Path, bytes: Vec<u8>, run: &RunOptions) -> Report {
    let Ok(text) = std::str::from_utf8(&bytes) else { return check_text(name, None, bytes, run) };
    let found = discover::discover_packages(&[], &[name.to_path_buf()], &run.exclude);
    // The text stands in for the file under the walk's spelling of its path.
    let key = discover::same_file(name);
    let path = found.files.iter().map(|f| &f.path).find(|p| discover::same_file(p) == key);
    let overlay = Overlay::from([(path.cloned().unwrap_or_else(|| name.to_path_buf()), Arc::from(text))]);
    check_found(&[name.to_path_buf()], found, run, &overlay)
}

/// One file's analysis, plain data.
struct Analyzed {
    facts: FileFacts,
    /// The text, kept when the file may get findings (to render them).
    text: Option<Arc<str>>,
}

/// A file after the first pass: analysed, or waiting (with its outline: the functions it
/// defines and the names it re-exports) because nothing in it can be found unless the call
/// graph asks for one of them.
enum Scanned {
    Checked(Box<Analyzed>),
    Waiting(Waiting),
}

/// The package a dependency's file belongs to, as its facts depend on it.
struct DepOf {
    /// Name, version and features.
    fingerprint: String,
}

/// What a waiting file offers the call graph, as hashes of (package, qualifier, name) for
/// its functions (`Type::f` in an impl, `module::f` for a free fn) and of (package, name) for
/// what it re-exports, and the identifiers it mentions (which functions it may call): small,
/// as most files of a large run wait.
#[derive(Default, Clone, Serialize, Deserialize)]
struct Waiting {
    fns: Vec<u64>,
    /// (package, name) of its free functions: a glob re-export (`pub use self::imp::*`) can
    /// make one of them any module's.
    free_fns: Vec<u64>,
    exports: Vec<u64>,
    idents: prescan::Idents,
    /// Types it builds values of (`Name::f(..)`, `Name { .. }`).
    built: Vec<u64>,
    /// (package, name) of its methods: a call on a field of a struct another file declares
    /// names the method but not yet its type.
    methods: Vec<u64>,
    /// (package, name) of the non-generic type aliases it declares.
    #[serde(default)]
    aliases: Vec<u64>,
    /// Their names, as `Idents` probes them: a waiting file of sync code may name one (a
    /// struct's field declared with it).
    #[serde(default)]
    alias_probes: Vec<u64>,
}

/// Sets of name hashes, tested against every waiting file each round: the values are hashes
/// already, so a cheap hasher is enough.
type Hashes = rustc_hash::FxHashSet<u64>;

/// What the call graph asks of the waiting files, as `Waiting` hashes the names.
#[derive(Default)]
struct Needed {
    /// (package, qualifier, name) of the functions called.
    fns: Hashes,
    /// (package, qualifier) and (package, name): a re-export of either pulls its file in.
    parts: Hashes,
    /// (package, name) of free functions called (`module::f`, or `m::*::f` through a glob).
    free: Hashes,
    /// Types whose async code calls methods of their type parameter: the files building them
    /// say with what.
    types: Hashes,
    /// (package, name) of methods called on a field whose type is not known yet.
    methods: Hashes,
}

/// A function called, hashed as `Needed` keeps it.
#[derive(Clone, Copy)]
struct Called {
    /// (package, qualifier, name).
    fqn: u64,
    /// (package, qualifier).
    qual: u64,
    /// (package, name).
    name: u64,
    /// A free function: `module::f`, or `m::*::f` through a glob.
    free: bool,
    /// A method of a member's type (a field's, `crate::AppState::<store>::load`, or what a
    /// method returned): any type's of that name.
    of_field: bool,
    /// A method of what a method returned (`crate::AppState::<config()>::reload`).
    returned: bool,
}

impl Called {
    fn new(pkg: &str, qual: &str, name: &str) -> Called {
        Called {
            fqn: name_hash(&[pkg, qual, name]),
            qual: name_hash(&[pkg, qual]),
            name: name_hash(&[pkg, name]),
            free: qual == "*" || qual.starts_with(|c: char| c.is_lowercase()),
            of_field: qual.starts_with('<'),
            returned: qual.ends_with("()>"),
        }
    }
}

impl Needed {
    /// A function called: `pkg::a::Type::f` is wanted as `Type::f` in an impl, or as a free
    /// `f` in a module named `Type`. Its (package, name) hash when no call named it before.
    fn callee(&mut self, c: Called) -> Option<u64> {
        self.fns.insert(c.fqn);
        self.parts.insert(c.qual);
        if c.free {
            self.free.insert(c.name);
        }
        if c.of_field {
            self.methods.insert(c.name);
        }
        // Calls on what methods return are many and have common names (`get`, `len`): the
        // files with such methods are parsed, but do not reach every fn of that name.
        if c.returned {
            return None;
        }
        self.parts.insert(c.name).then_some(c.name)
    }

    fn wants(&self, w: &Waiting) -> bool {
        w.fns.iter().any(|h| self.fns.contains(h))
            || w.exports.iter().any(|h| self.parts.contains(h))
            || w.free_fns.iter().any(|h| self.free.contains(h))
            || w.built.iter().any(|h| self.types.contains(h))
            || w.methods.iter().any(|h| self.methods.contains(h))
    }
}

/// A function whose callers are looked for, as the waiting files are tested for it: its
/// package, and the probes of its type and its name.
type Probe<'a> = (Option<&'a str>, Option<u64>, u64);

fn name_hash(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Checks already discovered files.
pub(crate) fn check_files(
    files: Vec<SourceFile>,
    errors: Vec<FileError>,
    run: &RunOptions,
    overlay: &Overlay,
) -> Report {
    check_files_with(files, errors, run, overlay, Deps::default(), None)
}

/// `check_files`, following calls into the dependencies `deps` offers.
pub(crate) fn check_files_with(
    mut files: Vec<SourceFile>,
    mut errors: Vec<FileError>,
    run: &RunOptions,
    overlay: &Overlay,
    mut deps: Deps,
    focus: Option<&Focus>,
) -> Report {
    let mut options = run.options.clone();
    options.local_crates.extend(files.iter().filter_map(|f| f.place.package.clone()));
    options.local_crates.extend(deps.names().cloned());
    options.crates_digest = {
        let mut crates: Vec<&String> = options.local_crates.iter().collect();
        crates.sort();
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(format!("{crates:?}").as_bytes()))
    };
    options.catalog.drop_fallbacks(&deps.present);
    let cache = if run.cache { Cache::open() } else { Cache::disabled() };
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(ANALYSIS_STACK);
    if let Some(j) = run.jobs {
        builder = builder.num_threads(j);
    }
    let pool = builder.build().expect("cannot start worker threads");
    let user_files = files.len();
    // Per dependency file (index - user_files): its package.
    let mut dep_of: Vec<DepOf> = Vec::new();
    let scan = |options: &Options,
                files: &[SourceFile],
                dep_of: &[DepOf],
                indices: &[usize],
                mode: Mode,
                kept: &KeptOutlines| {
        pool.install(|| {
            indices
                .par_iter()
                .map(|&i| {
                    let dependency = i.checked_sub(user_files).map(|d| &dep_of[d]);
                    let mode = if dependency.is_some() && mode != Mode::Parse { Mode::Wait } else { mode };
                    scan_file(&files[i], options, mode, overlay, &cache, dependency, None, kept)
                })
                .collect::<Vec<_>>()
        })
    };
    let all: Vec<usize> = (0..files.len()).collect();
    let first = if run.prefilter { Mode::Prefilter } else { Mode::Parse };
    let none = KeptOutlines::default();
    let mut results = scan(&options, &files, &dep_of, &all, first, &none);

    // The module tree spans every file read, parsed or not: a file that only declares
    // modules still says which crate target its modules belong to, and a `#[path]` which
    // module a file is. A file whose module is not what its place suggested is read again.
    // Keys are made unique per target as soon as a file is analysed.
    let mut targets: Vec<String> = vec![String::new(); files.len()];
    let (moved, out) = assign_modules(&mut files, &results, &mut targets, &all);
    for (i, r) in moved.iter().zip(scan(&options, &files, &dep_of, &moved, first, &none)) {
        results[*i] = r;
    }
    compile_out(&mut results, &out);
    // Another file's alias of another crate's type (`pub type DbPool = r2d2::Pool<..>` in
    // db.rs, `pool: web::Data<DbPool>` in a handler): the files importing one are read again
    // knowing every such alias of the run, so that calls on their values are typed.
    // (A file of sync code declaring one is parsed for it.)
    let imported = imported_types(&files[..user_files], &results);
    // (Or one that a waiting file of another member using its package names: a struct of
    // sync code declaring a field with it. Within one package, a name as common as `Client`
    // would read hundreds of files again: only a name a few of its files mention, as a
    // store's `fn pool(&self) -> &SqlitePool` beside `pub type SqlitePool = r2d2::Pool<..>`.
    // It answers whether another member names it, and whether a few files of its own do.)
    let named_elsewhere = |i: usize, probe: u64| {
        let package = files[i].place.package.as_deref();
        let mut same_package = 0;
        let elsewhere = (0..user_files).any(|j| {
            let Ok((Scanned::Waiting(w), _)) = &results[j] else { return false };
            if j == i || !w.idents.may_contain_probe(probe) {
                return false;
            }
            match (package, files[j].place.package.as_deref()) {
                (Some(p), Some(q)) if p != q => files[j].place.uses.iter().any(|d| d == p),
                (Some(_), Some(_)) => {
                    same_package += 1;
                    false
                }
                _ => false,
            }
        });
        (elsewhere, (1..=FEW_READERS).contains(&same_package))
    };
    // A file read only for a few of its own package's files knows only those aliases: its
    // others (`type Conn = PooledConnection<..>` beside `type IndexPool`) may be named in
    // hundreds of files, each of which would be read again.
    let mut only: HashMap<usize, HashSet<u64>> = HashMap::new();
    let declaring: Vec<usize> = (0..user_files)
        .filter(|&i| match &results[i] {
            Ok((Scanned::Waiting(w), _)) => {
                let named: Vec<(bool, bool)> =
                    w.alias_probes.iter().map(|&p| named_elsewhere(i, p)).collect();
                if w.aliases.iter().any(|a| imported.contains(a)) || named.iter().any(|n| n.0) {
                    return true;
                }
                let few: HashSet<u64> =
                    w.aliases.iter().zip(&named).filter(|(_, n)| n.1).map(|(a, _)| *a).collect();
                let read = !few.is_empty();
                if read {
                    only.insert(i, few);
                }
                read
            }
            _ => false,
        })
        .collect();
    for (i, r) in declaring.iter().zip(scan(&options, &files, &dep_of, &declaring, Mode::Parse, &none)) {
        results[*i] = r;
    }
    let mut foreign = foreign_aliases(&files[..user_files], &results, &only);
    // A crate root of sync code that may re-export one (`pub use cache::CacheConn;`) is read,
    // so that its `use` items say which of the package's namesakes it is.
    let roots = reexporting_roots(&files[..user_files], &results, &foreign);
    if !roots.is_empty() {
        for (i, r) in roots.iter().zip(scan(&options, &files, &dep_of, &roots, Mode::Parse, &none)) {
            results[*i] = r;
        }
        foreign = foreign_aliases(&files[..user_files], &results, &only);
    }
    let readers = importers(&files[..user_files], &results, &foreign);
    if !readers.is_empty() {
        let mut aliased = options.clone();
        let digest = xxhash_rust::xxh3::xxh3_64(format!("{foreign:?}").as_bytes());
        aliased.fingerprint = format!("{}|aliases {digest:016x}", options.fingerprint);
        aliased.foreign_aliases = Arc::new(foreign.into_iter().collect());
        // (A file of sync code is parsed: its structs' fields may be declared with an alias.)
        for (i, r) in readers.iter().zip(scan(&aliased, &files, &dep_of, &readers, Mode::Parse, &none)) {
            results[*i] = r;
        }
    }
    // (On the pool: the first call makes every checked file's keys unique.)
    // (A dependency two packages of the run are named: the one of the version required.)
    let renames_of: Vec<Arc<[(String, String)]>> = files.iter().map(|f| f.place.renames.clone()).collect();
    let retarget = |results: &mut [Result<(Scanned, Vec<ModDecl>), FileError>],
                    targets: &[String],
                    indices: &[usize],
                    deps: &Deps| {
        let mut these = vec![false; results.len()];
        for &i in indices {
            these[i] = true;
        }
        let renames: Vec<&[(String, String)]> =
            (0..results.len()).map(|i| renames_of.get(i).map_or(&[][..], |r| &r[..])).collect();
        pool.install(|| {
            results.par_iter_mut().zip(targets).zip(these).zip(renames).for_each(
                |(((r, target), this), renames)| {
                    if let (true, Ok((Scanned::Checked(a), _))) = (this, r) {
                        a.facts.retarget(target, &|k| {
                            version_rename(k, renames).or_else(|| deps.canonical_key(k))
                        });
                    }
                },
            )
        });
    };
    retarget(&mut results, &targets, &all, &deps);

    // Parse, round by round, the waiting files the call graph needs:
    // - those that define (or re-export) a function it calls. A callee `pkg::a::Type::f` is
    //   wanted as `Type::f` in an impl, or as a free `f` in a module named `Type`; a
    //   re-export of any wanted name pulls its file in too;
    // - when none is left, those that mention a function whose callers decide where a finding
    //   runs (`graph::callers_wanted`): a caller there may make it hot or startup code.
    let mut needed = Needed::default();
    // Sync fns of parsed files not yet called by what the graph reached: (package, name) and
    // the (package, qualifier, name) of their calls. Only what async code reaches is followed.
    let mut unreached: HashMap<u64, Vec<Called>> = HashMap::new();
    let mut fresh = all;
    let mut rounds = 0;
    // Calls from the checked crates into dependencies, by canonical key (`fs_err::read`).
    // (Each once, in the order first met: the same calls are made from many files, and every
    // round walks them all.)
    let mut dep_roots: Vec<String> = Vec::new();
    let mut dep_roots_met: HashSet<String> = HashSet::new();
    // The graph of the last round, when it parsed nothing more: `settle` takes it.
    let mut prepared = None;
    loop {
        rounds += 1;
        let mut reach: Vec<Called> = Vec::new();
        for &i in fresh.iter().filter(|&&i| i < user_files) {
            if let Ok((Scanned::Checked(a), _)) = &results[i] {
                let own = files[i].place.package.as_deref();
                for (pkg, qual, name) in a.facts.entry_callees(own) {
                    let called = Called::new(pkg, qual, name);
                    // A field's type may be one of the program's own libraries'
                    // (`state.sink.timing(..)`, `sink: Arc<core::Sink>`): their methods too.
                    if called.of_field {
                        let uses = files[i].place.uses.iter();
                        reach.extend(uses.map(|p| Called::new(p, qual, name)));
                    }
                    reach.push(called);
                }
                for ((pkg, _, name), calls) in a.facts.summary_callees(own) {
                    let calls = calls.into_iter().map(|(p, q, n)| Called::new(p, q, n));
                    let me = name_hash(&[pkg, name]);
                    // Named by a call already: followed now; else once a call names it.
                    if needed.parts.contains(&me) {
                        reach.extend(calls);
                    } else {
                        unreached.entry(me).or_default().extend(calls);
                    }
                }
                // A name from a glob may be another package's, one the file glob imports a
                // module of (its prelude).
                let globbed: Vec<&str> = (a.facts.globbed_packages(own.unwrap_or_default()))
                    .filter(|p| options.local_crates.contains(*p))
                    .collect();
                if !globbed.is_empty() {
                    for (qual, name) in a.facts.glob_callees() {
                        reach.extend(globbed.iter().map(|p| Called::new(p, qual, name)));
                    }
                }
                for (pkg, ty) in a.facts.generic_owners(own) {
                    needed.types.insert(name_hash(&[pkg, ty]));
                }
                // The struct whose field is called on: the file declaring it, and one
                // re-exporting its name (a prelude), say where the field's type leads.
                for (pkg, ty) in a.facts.field_owners(own) {
                    needed.types.insert(name_hash(&[pkg, ty]));
                    needed.parts.insert(name_hash(&[pkg, ty]));
                }
                for key in a.facts.call_keys().filter_map(|k| deps.canonical_key(k)) {
                    if dep_roots_met.insert(key.clone()) {
                        dep_roots.push(key);
                    }
                }
            }
        }
        // A sync fn is reached when a reached call names it (by package and name, as a call
        // through a re-export, a glob or a trait object may): then its calls are needed too.
        while let Some(c) = reach.pop() {
            if let Some(named) = needed.callee(c) {
                reach.extend(unreached.remove(&named).into_iter().flatten());
            }
        }
        // Into dependencies, only what the checked code reaches: the functions it calls, and
        // what those call, a few packages deep. Their files are listed the first time one of
        // their functions is wanted.
        let mut expand = Vec::new();
        if rounds <= MAX_DEPENDENCY_ROUNDS {
            let parsed: Vec<(usize, &FileFacts)> = (user_files..results.len())
                .filter_map(|i| match &results[i] {
                    Ok((Scanned::Checked(a), _)) => Some((i, &a.facts)),
                    _ => None,
                })
                .collect();
            for (key, hops) in reached_in_dependencies(&dep_roots, &parsed, &deps) {
                let Some((pkg, qual, name)) = facts::key_triple(&key) else { continue };
                if hops <= MAX_DEPENDENCY_HOPS {
                    expand.push((pkg.to_string(), hops));
                }
                needed.callee(Called::new(pkg, qual, name));
            }
        }
        for (name, hops) in expand {
            let Some((package, new)) = deps.expand(&name, hops, &cache) else { continue };
            let start = files.len();
            for f in new {
                targets.push(f.place.target.clone());
                dep_of.push(DepOf { fingerprint: package.fingerprint.clone() });
                files.push(f);
            }
            let indices: Vec<usize> = (start..files.len()).collect();
            // A registry or git package's outlines, kept as one entry for all its files.
            let key = package.identity.as_ref().filter(|_| cache.is_enabled()).map(|id| {
                let context = format!("outlines|{}|{}", package.fingerprint, cache_context_of_run(&options));
                Key::package_file(id, &package.dir, &context)
            });
            let kept: KeptOutlines = key.and_then(|key| cache.get(key)).unwrap_or_default();
            results.extend(scan(&options, &files, &dep_of, &indices, Mode::Wait, &kept));
            let (moved, out) = assign_modules(&mut files, &results, &mut targets, &indices);
            for (i, r) in moved.iter().zip(scan(&options, &files, &dep_of, &moved, Mode::Wait, &kept)) {
                results[*i] = r;
            }
            if let Some(key) = key {
                let now = KeptOutlines::of(&files, &results, &indices, &options, &package.fingerprint);
                if now.0.len() != kept.0.len() || now.0.keys().any(|k| !kept.0.contains_key(k)) {
                    // Best effort, as every cache write.
                    let _ = cache.put(key, &now);
                }
            }
            compile_out(&mut results, &out);
        }
        fn waiting(r: &Result<(Scanned, Vec<ModDecl>), FileError>) -> Option<&Waiting> {
            match r {
                Ok((Scanned::Waiting(w), _)) => Some(w),
                _ => None,
            }
        }
        let mut wanted: Vec<usize> = pool.install(|| {
            results
                .par_iter()
                .enumerate()
                .filter(|(_, r)| waiting(r).is_some_and(|w| needed.wants(w)))
                .map(|(i, _)| i)
                .collect()
        });
        if wanted.is_empty() {
            let names = {
                let units: Vec<Unit> = results
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| match r {
                        Ok((Scanned::Checked(a), _)) => {
                            Some(unit(&files[i], &targets[i], a, i >= user_files, &options.knowledge))
                        }
                        _ => None,
                    })
                    .collect();
                let (names, made) = pool.install(|| graph::callers_wanted(&units, run.transitive));
                prepared = Some(made);
                names
            };
            // Only the checked crates' files: a dependency never calls them. (Each name hashed
            // once: there can be thousands, tested against every waiting file.)
            // (`name#2`: a second package of that name, which depends on it as `name`: see
            // `Place::may_call`.)
            let probes: Vec<Probe> = names
                .iter()
                .map(|w| {
                    let owner = w.owner.as_deref().map(prescan::Idents::probe);
                    (w.package.as_deref(), owner, prescan::Idents::probe(&w.name))
                })
                .collect();
            // Only a file of the function's package, or of one depending on it, can call it. A
            // method's caller names its type too (`Store::open`, or a value of `Store` built
            // or declared there): `open` alone is in half of all files.
            let mentions = |f: &SourceFile, w: &Waiting, &(pkg, owner, name): &Probe| {
                let can_call = || match (pkg, f.place.package.as_deref()) {
                    (Some(p), Some(_)) => f.place.may_call(p),
                    _ => true,
                };
                w.idents.may_contain_probe(name)
                    && owner.is_none_or(|o| w.idents.may_contain_probe(o))
                    && can_call()
            };
            wanted = pool.install(|| {
                results[..user_files]
                    .par_iter()
                    .zip(&files[..user_files])
                    .enumerate()
                    .filter(|(_, (r, f))| {
                        waiting(r).is_some_and(|w| probes.iter().any(|p| mentions(f, w, p)))
                    })
                    .map(|(i, _)| i)
                    .collect()
            });
        }
        if wanted.is_empty() {
            break;
        }

        // (What the graph made of the files so far no longer holds.)
        prepared = None;
        // A waiting file's module declarations are known already: parsed now, it is not
        // outlined again.
        let parsed = pool.install(|| {
            wanted
                .par_iter()
                .map(|&i| {
                    let dependency = i.checked_sub(user_files).map(|d| &dep_of[d]);
                    let mods = match &results[i] {
                        Ok((_, mods)) => Some(mods.clone()),
                        Err(_) => None,
                    };
                    scan_file(&files[i], &options, Mode::Parse, overlay, &cache, dependency, mods, &none)
                })
                .collect::<Vec<_>>()
        });
        for (&i, r) in wanted.iter().zip(parsed) {
            results[i] = r;
        }
        retarget(&mut results, &targets, &wanted, &deps);
        fresh = wanted;
    }

    // The files checked, as the user counts them: with a focus (one file of a package named),
    // those it covers; the rest of the package was read only to see the calls.
    let mut files_checked = 0;
    let mut checked = Vec::new();
    for (i, ((r, f), target)) in results.into_iter().zip(files).zip(targets).enumerate() {
        let dependency = i >= user_files;
        let counts = !dependency && focus.is_none_or(|focus| focus.covers(&f.path));
        match r {
            Ok((Scanned::Checked(a), _)) => {
                files_checked += usize::from(counts);
                checked.push((f, target, *a, dependency))
            }
            Ok((Scanned::Waiting(_), _)) => files_checked += usize::from(counts),
            // A dependency's file stall cannot read is its problem, not the user's.
            Err(e) if !dependency => errors.push(e),
            Err(_) => {}
        }
    }

    let mut hidden = Hidden::default();
    let mut reports = pool.install(|| {
        settle(checked, &run.options.knowledge, run.transitive, &run.policy, focus, &mut hidden, prepared)
    });
    // Rare: findings only from the call graph. Read the text again to show it with them.
    for r in &mut reports {
        if r.text.is_none() {
            r.text = match overlay.get(&r.path) {
                Some(text) => Some(text.clone()),
                None => std::fs::read_to_string(&r.path).ok().map(Arc::from),
            };
        }
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Report { files: reports, errors, files_checked, hidden, notes: Vec::new() }
}

/// The one join and finish: makes keys unique per target, adds the findings that need every
/// file, applies suppressions and the reporting policy. With a focus, keeps only the findings
/// in the files it covers and those elsewhere whose chain passes through them. Returns the
/// files with findings.
fn settle(
    mut checked: Vec<(SourceFile, String, Analyzed, bool)>,
    knowledge: &Knowledge,
    transitive: bool,
    policy: &Policy,
    focus: Option<&Focus>,
    hidden: &mut Hidden,
    prepared: Option<graph::Prepared>,
) -> Vec<FileReport> {
    let own: Vec<_> = checked.iter_mut().map(|(_, _, a, _)| std::mem::take(&mut a.facts.findings)).collect();
    // The focused files, as chains name them.
    let focused: HashSet<String> = match focus {
        Some(focus) => checked
            .iter()
            .filter(|(f, _, _, dependency)| !dependency && focus.covers(&f.path))
            .map(|(f, ..)| f.display.clone())
            .collect(),
        None => HashSet::new(),
    };
    let diagnostics = {
        let units: Vec<Unit> = checked
            .iter()
            .map(|(f, target, a, dep)| Unit {
                focused: focus.is_none() || focused.contains(&f.display),
                ..unit(f, target, a, *dep, knowledge)
            })
            .collect();
        graph::join(&units, own, transitive, prepared)
    };
    let mut reports = Vec::new();
    for ((file, _, a, dependency), mut diagnostics) in checked.into_iter().zip(diagnostics) {
        if dependency {
            continue; // only the chains from the checked code into it are reported
        }
        if focus.is_some() && !focused.contains(&file.display) {
            diagnostics.retain(|d| d.through.iter().any(|t| focused.contains(t)));
        }
        let mut suppressions = a.facts.suppressions;
        suppress::apply(&mut diagnostics, &mut suppressions);
        if policy.report_unused_suppressions {
            diagnostics.extend(suppress::unused(&suppressions));
        }
        // (Merged before the reporting level hides any: what is counted hidden is what
        // `--all` would show.)
        diagnostics.retain(|d| policy.reports(d.rule, &file.path));
        graph::one_finding_per_call_tree(&mut diagnostics);
        policy.filter(&file.path, &mut diagnostics, hidden);
        if diagnostics.is_empty() {
            continue;
        }
        diagnostics.sort_by_key(Diagnostic::sort_key);
        reports.push(FileReport { path: file.path, display: file.display, text: a.text, diagnostics });
    }
    reports
}

/// The keys reached from `roots` (calls from the checked crates into dependencies, by
/// canonical key) through the dependency functions parsed so far (`parsed`), each with how
/// many packages away from the checked crates it is.
fn reached_in_dependencies(
    roots: &[String],
    parsed: &[(usize, &FileFacts)],
    deps: &Deps,
) -> Vec<(String, u8)> {
    let keys = parsed.iter().enumerate().flat_map(|(f, (_, facts))| {
        facts.functions.iter().enumerate().map(move |(i, s)| ((f, i), s.key.as_str()))
    });
    let index = graph::keys::KeyIndex::new(keys, parsed.iter().map(|(_, f)| *f));
    let mut seen: HashMap<String, u8> = HashMap::new();
    let mut queue: std::collections::VecDeque<(String, u8)> = roots.iter().map(|k| (k.clone(), 1)).collect();
    while let Some((key, hops)) = queue.pop_front() {
        if seen.contains_key(&key) || hops > MAX_DEPENDENCY_HOPS {
            continue;
        }
        seen.insert(key.clone(), hops);
        let package = key.first_segment();
        for &(f, i) in index.lookup(&key) {
            let summary = &parsed[f].1.functions[i];
            for call in &summary.calls {
                let Some(next) = deps.canonical_key(&call.key) else { continue };
                let step = u8::from(!next.starts_with(&format!("{package}::")));
                queue.push_back((next, hops + step));
                if let Some(then) = &call.then {
                    for &(g, j) in index.lookup(&call.key) {
                        if let Some(r) = &parsed[g].1.functions[j].returns {
                            queue.push_back((format!("{r}::{then}"), hops + step));
                        }
                    }
                }
            }
        }
    }
    seen.into_iter().collect()
}

/// `key` into a dependency that `renames` spells by another package's name (`tungstenite::f`
/// -> `tungstenite#2::f`).
fn version_rename(key: &str, renames: &[(String, String)]) -> Option<String> {
    let (first, rest) = key.split_first_sep().map_or((key, None), |(f, r)| (f, Some(r)));
    let (_, to) = renames.iter().find(|(from, _)| from == first)?;
    // (The crate itself: `pub use tungstenite;`.)
    Some(rest.map_or_else(|| to.clone(), |rest| format!("{to}::{rest}")))
}

/// (package, name) of the types the checked files import from the run's crates (`use
/// crate::db::DbPool`), as `Waiting::aliases` hashes them.
fn imported_types(files: &[SourceFile], results: &[Result<(Scanned, Vec<ModDecl>), FileError>]) -> Hashes {
    let mut out = Hashes::default();
    // Packages another one glob imports a module of (`use my_core::prelude::*`): what their
    // files re-export may be imported so.
    let mut globbed: HashSet<&str> = HashSet::new();
    for (file, r) in files.iter().zip(results) {
        let Ok((Scanned::Checked(a), _)) = r else { continue };
        let package = file.place.package.as_deref().unwrap_or_default();
        globbed.extend(a.facts.globbed_packages(package));
        for (_, to) in &a.facts.aliases {
            let to = in_package(to, package);
            let (Some(pkg), Some(name)) = (to.split("::").next(), to.rsplit("::").next()) else { continue };
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.insert(name_hash(&[pkg, name]));
            }
        }
    }
    for (file, r) in files.iter().zip(results) {
        if let (Ok((Scanned::Waiting(w), _)), Some(p)) = (r, file.place.package.as_deref()) {
            if globbed.contains(p) {
                out.extend(w.exports.iter().copied());
            }
        }
    }
    out
}

/// How many files of its own package may name an alias of sync code for the file declaring it
/// to be read (see `named_elsewhere` in `check_files_with`): each of them is read again.
const FEW_READERS: usize = 8;

/// The aliases of other crates' types the checked files declare (`Options::foreign_aliases`),
/// sorted (their list is part of the readers' cache key).
/// `only`: files whose aliases count only by those names (hashed as `Waiting::aliases`).
fn foreign_aliases(
    files: &[SourceFile],
    results: &[Result<(Scanned, Vec<ModDecl>), FileError>],
    only: &HashMap<usize, HashSet<u64>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, (file, r)) in files.iter().zip(results).enumerate() {
        let Ok((Scanned::Checked(a), _)) = r else { continue };
        let package = file.place.package.as_deref().unwrap_or_default();
        for (path, ty) in &a.facts.foreign_aliases {
            let name = path.last_segment();
            if only.get(&i).is_some_and(|names| !names.contains(&name_hash(&[package, name]))) {
                continue;
            }
            out.insert(in_package(path, package), Ty::requalify(ty, "crate", package));
        }
    }
    // Re-exported at a crate's root (`pub use cache::CacheConn;` in lib.rs): `pkg::CacheConn`,
    // by the root's `use` items (a root of sync code that may re-export one is read for it:
    // `reexporting_roots`).
    let mut reexported = Vec::new();
    for (file, r) in files.iter().zip(results) {
        let package = file.place.package.as_deref().unwrap_or_default();
        if let Ok((Scanned::Checked(a), _)) = r {
            for (from, to) in &a.facts.aliases {
                let from = in_package(from, package);
                let root = crate_path(&from, package).is_some_and(|r| !r.has_sep());
                if let Some(ty) = out.get(&in_package(to, package)).filter(|_| root) {
                    reexported.push((from, ty.clone()));
                }
            }
        }
    }
    for (from, ty) in reexported {
        out.entry(from).or_insert(ty);
    }
    out
}

/// The crate roots of sync code whose `pub use` items mention the name of one of `aliases`
/// declared in a module of their package: only their `use` items tell whether the root
/// re-exports it or a namesake.
fn reexporting_roots(
    files: &[SourceFile],
    results: &[Result<(Scanned, Vec<ModDecl>), FileError>],
    aliases: &BTreeMap<String, String>,
) -> Vec<usize> {
    let in_modules: HashSet<u64> = aliases
        .keys()
        .filter_map(|path| {
            let (package, inner) = path.split_first_sep()?;
            let name = inner.split_last_sep()?.1;
            Some(name_hash(&[package, name]))
        })
        .collect();
    let mut out = Vec::new();
    for (i, (file, r)) in files.iter().zip(results).enumerate() {
        if let Ok((Scanned::Waiting(w), _)) = r {
            if file.place.is_root
                && file.place.package.is_some()
                && w.exports.iter().any(|e| in_modules.contains(e))
            {
                out.push(i);
            }
        }
    }
    out
}

/// The checked files that import one of `aliases`, by name or through a glob of its module,
/// and the files of sync code that mention one's name (a struct declaring a field with it).
fn importers(
    files: &[SourceFile],
    results: &[Result<(Scanned, Vec<ModDecl>), FileError>],
    aliases: &BTreeMap<String, String>,
) -> Vec<usize> {
    if aliases.is_empty() {
        return Vec::new();
    }
    let modules: HashSet<&str> = aliases.keys().filter_map(|p| Some(p.split_last_sep()?.0)).collect();
    let packages: HashSet<&str> = aliases.keys().filter_map(|p| p.split("::").next()).collect();
    // (name, its package): only a file of that package, or of one depending on it, names it.
    let probes: Vec<(u64, &str)> =
        aliases.keys().map(|p| (prescan::Idents::probe(p.last_segment()), p.first_segment())).collect();
    let mut out = Vec::new();
    for (i, (file, r)) in files.iter().zip(results).enumerate() {
        if let Ok((Scanned::Waiting(w), _)) = r {
            if probes.iter().any(|&(p, pkg)| w.idents.may_contain_probe(p) && file.place.may_call(pkg)) {
                out.push(i);
            }
            continue;
        }
        let Ok((Scanned::Checked(a), _)) = r else { continue };
        let package = file.place.package.as_deref().unwrap_or_default();
        let imports = a.facts.aliases.iter().any(|(_, to)| aliases.contains_key(&in_package(to, package)));
        let globs = a.facts.globs.iter().any(|(_, m)| modules.contains(in_package(m, package).as_str()))
            // (A glob of another package's module may bring its alias through a prelude, and
            // so may one of its own prelude's, glob re-exporting a package it uses.)
            || a.facts.globbed_packages(package).any(|p| packages.contains(p))
            || !a.facts.globs.is_empty() && file.place.uses.iter().any(|p| packages.contains(p.as_str()));
        if imports || globs {
            out.push(i);
        }
    }
    out
}

/// The path `path` names inside package `package` (`cache::CacheConn` of `pkg::cache::CacheConn`).
fn crate_path<'p>(path: &'p str, package: &str) -> Option<&'p str> {
    path.strip_prefix(package)?.strip_prefix("::")
}

/// `crate::db::DbPool` of package `app` as another package names it: `app::db::DbPool`.
fn in_package(path: &str, package: &str) -> String {
    Ty::requalify(path, "crate", package)
}

/// Files only `mod`s whose `#[cfg]` is false here lead to (`#[cfg(windows)] mod windows;`, a
/// feature that is off) are not compiled: they neither get findings nor define functions
/// calls could reach. They wait for nothing.
fn compile_out(results: &mut [Result<(Scanned, Vec<ModDecl>), FileError>], out: &[usize]) {
    for &i in out {
        let mods = results[i].as_mut().map(|(_, mods)| std::mem::take(mods)).unwrap_or_default();
        results[i] = Ok((Scanned::Waiting(Waiting::default()), mods));
    }
}

/// Gives the files at `indices` their targets, declared module paths and test-ness from their
/// module tree; returns those whose module path changed or that turned out to be test code
/// (they must be read again), and those compiled out.
fn assign_modules(
    files: &mut [SourceFile],
    results: &[Result<(Scanned, Vec<ModDecl>), FileError>],
    targets: &mut [String],
    indices: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let ok: Vec<usize> = indices.iter().copied().filter(|&i| results[i].is_ok()).collect();
    let assigned = {
        let tree: Vec<TreeFile> = ok
            .iter()
            .map(|&i| {
                let (f, mods) = (&files[i], &results[i].as_ref().expect("ok").1);
                let p = &f.place;
                let cfg = CfgEnv { features: p.features.as_ref(), build_script: p.build_script };
                TreeFile {
                    path: &f.path,
                    module: &p.module,
                    is_root: p.is_root,
                    target: &p.target,
                    mods,
                    cfg,
                }
            })
            .collect();
        modtree::assign_targets(&tree)
    };
    let mut moved = Vec::new();
    let mut out = Vec::new();
    for (i, a) in ok.into_iter().zip(assigned) {
        if a.compiled_out {
            out.push(i);
        }
        targets[i] = a.target;
        files[i].place.in_tree = a.reached;
        let now_test = a.test && !files[i].place.is_test;
        files[i].place.is_test |= a.test;
        if files[i].place.module != a.module || now_test {
            files[i].place.module = a.module;
            moved.push(i);
        }
    }
    (moved, out)
}

/// A file as the cross-file stage sees it. Its facts' keys must be made unique per target.
fn unit<'a>(
    file: &'a SourceFile,
    target: &'a str,
    a: &'a Analyzed,
    dependency: bool,
    knowledge: &Knowledge,
) -> Unit<'a> {
    let package = file.place.package.as_deref();
    Unit {
        display: &file.display,
        package,
        // Package names are crate names already (`async_std`), as the opaque list spells them.
        opaque: package.is_some_and(|p| knowledge.is_opaque(p)),
        focused: true,
        target,
        facts: &a.facts,
        dependency,
        uses: &file.place.uses,
        in_tree: file.place.in_tree,
    }
}

thread_local! {
    static IN_CHECK: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that stays quiet for panics caught while checking a file (they are
/// reported as that file's error) and keeps the default report for any other panic.
pub(crate) fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !IN_CHECK.with(Cell::get) {
            default(info);
        }
    }));
}

/// Reads a file, outlines it, and analyses it unless `prefilter` says it can wait; also
/// returns its `mod` declarations for the module tree.
/// How a file is scanned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Parse it, whatever it holds.
    Parse,
    /// Parse it if it may hold async code; otherwise it waits for the call graph.
    Prefilter,
    /// It waits until the call graph needs it (a dependency's file).
    Wait,
}

/// What a file's facts depend on besides its text: where it sits and the run's settings.
fn cache_context(file: &SourceFile, options: &Options, dependency: Option<&str>) -> String {
    let p = &file.place;
    format!(
        "{:?}|{}|{}|{}|{:?}|{:?}|{}|{}|{}|{}",
        p.package,
        p.target,
        p.module,
        p.is_test,
        p.runtime,
        p.features,
        p.build_script,
        options.crates_digest,
        options.include_tests,
        options.fingerprint,
    ) + dependency.unwrap_or("")
}

/// What every file's facts in a run depend on besides its place: for keys of several files.
fn cache_context_of_run(options: &Options) -> String {
    format!("{}|{}|{}", options.crates_digest, options.include_tests, options.fingerprint)
}

#[allow(clippy::too_many_arguments)]
fn scan_file(
    file: &SourceFile,
    options: &Options,
    mode: Mode,
    overlay: &Overlay,
    cache: &Cache,
    dependency: Option<&DepOf>,
    known_mods: Option<Vec<ModDecl>>,
    kept: &KeptOutlines,
) -> Result<(Scanned, Vec<ModDecl>), FileError> {
    let fingerprint = dependency.map(|d| d.fingerprint.as_str());
    // A registry or git package's file outlines the same every run: its outline is kept, and
    // the file is read only if the call graph wants it parsed.
    if mode == Mode::Wait && overlay.get(&file.path).is_none() {
        let key = (file.path.clone(), cache_context(file, options, fingerprint));
        if let Some(Outlined { waiting: Some(waiting), mods }) = kept.0.get(&key) {
            return Ok((Scanned::Waiting(waiting.clone()), mods.clone()));
        }
    }
    let bytes = match overlay.get(&file.path) {
        Some(text) => text.as_bytes().to_vec(),
        None => std::fs::read(&file.path).map_err(|e| FileError {
            path: file.display.clone(),
            message: format!("cannot read this file: {}", io_reason(&e)),
        })?,
    };
    if let (Mode::Parse, Some(mods)) = (mode, known_mods) {
        return check_bytes(file, options, cache, fingerprint, bytes).map(|s| (s, mods));
    }
    // (The checked crates' outlines are not kept: outlining costs about what reading an entry
    // does, and writing one per file slowed a cold run down by a tenth.)
    let outlined = outline_file(file, &bytes, mode, &options.knowledge);
    match outlined.waiting {
        Some(waiting) => Ok((Scanned::Waiting(waiting), outlined.mods)),
        None => check_bytes(file, options, cache, fingerprint, bytes).map(|s| (s, outlined.mods)),
    }
}

/// A file's outline as the scan uses it: the modules it declares, and what it offers the call
/// graph while it waits (`None`: it is parsed now).
#[derive(Serialize, Deserialize)]
struct Outlined {
    waiting: Option<Waiting>,
    mods: Vec<ModDecl>,
}

/// The outlines of a registry or git package's files, by path and `cache_context`: one cache
/// entry per package, as a cold run would otherwise write one per file (thousands, each a
/// file created on disk).
#[derive(Default, Serialize, Deserialize)]
struct KeptOutlines(HashMap<(PathBuf, String), Outlined>);

impl KeptOutlines {
    /// The outlines of the waiting files at `indices`.
    fn of(
        files: &[SourceFile],
        results: &[Result<(Scanned, Vec<ModDecl>), FileError>],
        indices: &[usize],
        options: &Options,
        fingerprint: &str,
    ) -> KeptOutlines {
        let mut kept = HashMap::new();
        for &i in indices {
            if let Ok((Scanned::Waiting(w), mods)) = &results[i] {
                let key = (files[i].path.clone(), cache_context(&files[i], options, Some(fingerprint)));
                kept.insert(key, Outlined { waiting: Some(w.clone()), mods: mods.clone() });
            }
        }
        KeptOutlines(kept)
    }
}

/// Outlines a file's bytes (no parse) and decides whether it waits for the call graph.
fn outline_file(file: &SourceFile, bytes: &[u8], mode: Mode, knowledge: &Knowledge) -> Outlined {
    let outline = prescan::outline(bytes);
    let module = &file.place.module;
    let mods = outline
        .mods
        .iter()
        .map(|m| ModDecl {
            module: format!("{module}::{}", m.path.join("::")),
            path_attr: m.path_attr.clone(),
            test: m.test,
            cfgs: m.cfgs.clone(),
        })
        .collect();
    let waits = match mode {
        Mode::Parse => false,
        // A module without fns that glob imports another (`mod a; use crate::prelude::*;`) is
        // parsed: its glob import is how the paths of its submodules lead elsewhere.
        Mode::Prefilter => {
            let glob_hub = outline.fns.is_empty() && outline.glob_use;
            // (So is one re-exporting std's items: its re-exports lead importers to std.)
            !outline.has_async && !glob_hub && !outline.std_exports
        }
        Mode::Wait => true,
    };
    if !waits || std::str::from_utf8(bytes).is_err() {
        return Outlined { waiting: None, mods };
    }
    // (A huge or generated file offers the call graph nothing: it stays unread.)
    let offers = bytes.len() <= prescan::LARGE_SYNC_FILE && !prescan::generated(bytes);
    let Some(pkg) = file.place.package.as_deref().filter(|_| offers) else {
        return Outlined { waiting: Some(Waiting::default()), mods };
    };
    let module_name = module.last_segment();
    let fns = outline
        .fns
        .iter()
        .map(|f| match f.split_first_sep() {
            Some((ty, name)) => name_hash(&[pkg, ty, name]),
            None => name_hash(&[pkg, module_name, f]),
        })
        .collect();
    let free_fns = outline.fns.iter().filter(|f| !f.has_sep()).map(|f| name_hash(&[pkg, f])).collect();
    let mut exports: Vec<u64> = outline.exports.iter().map(|e| name_hash(&[pkg, e])).collect();
    // `pub use self::platform::*`: any name of this module may be re-exported here.
    if outline.exports.iter().any(|e| e == "*") {
        exports.push(name_hash(&[pkg, module_name]));
    }
    let built = outline.built.iter().map(|t| name_hash(&[pkg, t])).collect();
    // (The checked crates' own: their structs' fields are what such calls are made on.)
    let methods = match mode {
        Mode::Prefilter => {
            outline.fns.iter().filter_map(|f| Some(name_hash(&[pkg, f.split_first_sep()?.1]))).collect()
        }
        _ => Vec::new(),
    };
    // (Only an alias that may name a type whose methods block, or wrap one of the crates'
    // own, `type Shared = Arc<AppState>`: reading the file for another costs a parse and
    // types nothing.)
    let (aliases, alias_probes) = outline
        .aliases
        .iter()
        .filter(|(_, names)| {
            names.iter().any(|n| knowledge.may_name_blocking_type(n) || knowledge.may_name_wrapper(n))
        })
        .map(|(t, _)| (name_hash(&[pkg, t]), prescan::Idents::probe(t)))
        .unzip();
    let waiting =
        Waiting { fns, free_fns, exports, idents: outline.idents, built, methods, aliases, alias_probes };
    Outlined { waiting: Some(waiting), mods }
}

/// Analyses a file's bytes (or takes its facts from the cache).
fn check_bytes(
    file: &SourceFile,
    options: &Options,
    cache: &Cache,
    dependency: Option<&str>,
    bytes: Vec<u8>,
) -> Result<Scanned, FileError> {
    let error = |message: String| FileError { path: file.display.clone(), message };
    // (With the cache off, no key: making one hashes the whole text.)
    let key = cache.is_enabled().then(|| Key::file(&bytes, &cache_context(file, options, dependency)));
    if let Some(facts) = key.and_then(|key| cache.get::<FileFacts>(key)) {
        let text: Option<Arc<str>> = facts.may_report().then(|| Arc::from(String::from_utf8_lossy(&bytes)));
        return Ok(Scanned::Checked(Box::new(Analyzed { facts, text })));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        error(format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked"))
    })?;
    IN_CHECK.with(|c| c.set(true));
    let facts = panic::catch_unwind(AssertUnwindSafe(|| analyze(&text, &file.place, options)));
    IN_CHECK.with(|c| c.set(false));
    let facts = facts.map_err(|payload| {
        proc_macro2::extra::invalidate_current_thread_spans();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error(format!("internal error while checking this file ({what}); please report it"))
    })?;
    if let Some(key) = key {
        let _ = cache.put(key, &facts);
    }
    // Keep the text of files that may get findings, to show it with them. (The few that get
    // findings only from the call graph read it again: keeping every text costs memory.)
    let text = facts.may_report().then(|| Arc::from(text));
    Ok(Scanned::Checked(Box::new(Analyzed { facts, text })))
}

/// Analyses one text: pure, no I/O. Must run on a thread with a large stack
/// (`ANALYSIS_STACK`): deep input is refused by the prescan, but the walk of legitimately
/// nested code still recurses.
pub(crate) fn analyze(text: &str, place: &Place, options: &Options) -> FileFacts {
    if place.is_test && !options.include_tests {
        return FileFacts::default();
    }
    // A file stall cannot read is worth a word only if it could hold async code.
    let relevant = || prescan::outline(text.as_bytes()).has_async;
    // Huge files without async code are generated bindings: parsing them for the call graph
    // costs hundreds of MB and finds nothing the catalog knows.
    if text.len() > prescan::LARGE_SYNC_FILE && !relevant() {
        return FileFacts::default();
    }
    // So are a quiet generator's (bindgen's, an SDK's): the call graph does not read them,
    // whether the first pass left them waiting or parsed every file.
    if prescan::generated(text.as_bytes()) && !relevant() {
        return FileFacts::default();
    }
    let idx = SourceIndex::new(text);
    let shape = prescan::scan(text.as_bytes());
    if let Some(why) = shape.too_deep() {
        if !relevant() {
            return FileFacts::default();
        }
        let at = idx.position_of_offset(shape.worst_offset);
        let d = parse_error::diagnostic(Span { start: at, end: at }, why, String::new());
        return FileFacts {
            findings: vec![Finding { diagnostic: d, origin: Origin::default() }],
            ..FileFacts::default()
        };
    }
    let facts = match syn::parse_file(text) {
        Ok(ast) => {
            let rule_options = RuleOptions {
                catalog: &options.catalog,
                knowledge: &options.knowledge,
                include_tests: options.include_tests,
                local_crates: &options.local_crates,
                foreign_aliases: &options.foreign_aliases,
                runtime: place.runtime.as_ref(),
            };
            let mut facts = rules::check(&ast, &idx, place, &rule_options);
            facts.suppressions = suppress::collect(text, &facts.items, &idx);
            facts
        }
        Err(_) if !relevant() => FileFacts::default(),
        Err(e) => {
            let d = lexer::parse_error(text, &idx, &e);
            FileFacts {
                findings: vec![Finding { diagnostic: d, origin: Origin::default() }],
                ..FileFacts::default()
            }
        }
    };
    // proc-macro2 keeps every parsed source in a per-thread map until told to forget it.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

/// Checks one text on the calling thread, with no I/O: the findings it has on its own, settled
/// like a run's (suppressions included).
pub(crate) fn check_alone(text: &str, place: &Place, options: &Options) -> Vec<Diagnostic> {
    let mut facts = analyze(text, place, options);
    facts.retarget(&place.target, &|_| None);
    let file = SourceFile { path: PathBuf::new(), display: String::new(), place: place.clone() };
    let target = place.target.clone();
    let analyzed = Analyzed { facts, text: None };
    let every =
        Policy { report: ReportLevel::All, include_tests: options.include_tests, ..Policy::default() };
    settle(
        vec![(file, target, analyzed, false)],
        &options.knowledge,
        true,
        &every,
        None,
        &mut Hidden::default(),
        None,
    )
    .into_iter()
    .flat_map(|r| r.diagnostics)
    .collect()
}
