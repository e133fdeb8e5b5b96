//! An on-disk cache of serialisable facts, so a warm run re-analyses only what changed.
//!
//! Entries live under `STALL_CACHE_DIR` (when set and not empty) or the platform cache
//! directory (`~/.cache/stall` on Linux), in a subdirectory per stall version. Two kinds of key:
//! immutable packages (registry and git sources) by (package id, enabled features, stall
//! version), and the user's files by content hash plus whatever else their facts depend on.
//!
//! Every entry carries a header (magic, format version, build tag, entry id, payload length,
//! checksum). An entry that fails any check is treated as absent: the caller recomputes and
//! `put` overwrites it. Nothing read from the cache is trusted before the checks pass. Writes go
//! to a temporary file that is renamed into place, so concurrent runs only ever see whole
//! entries: the last writer wins, and both wrote the same facts.
//!
//! The cache is best effort: a failure to read is a miss, a failure to write is returned to
//! the caller, who may ignore it. It never makes a run fail.

// Per-package keys and `get_or_compute` are kept for caching dependency facts by package id;
// today the engine keys every file by content, and only the tests use them.
#![allow(dead_code)]

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde::de::DeserializeOwned;
use serde::Serialize;
use xxhash_rust::xxh3::Xxh3Default;

/// The version whose facts the cache holds: each version has its own subdirectory.
pub(crate) const STALL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The environment variable that overrides the cache directory.
pub(crate) const CACHE_DIR_ENV: &str = "STALL_CACHE_DIR";

const MAGIC: [u8; 4] = *b"STLC";
/// Bump when the header layout or the payload encoding changes.
const FORMAT: u16 = 3;
const HEADER_LEN: usize = 48;

/// What an entry is about; each kind has its own subdirectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Space {
    Package,
    File,
    Project,
}

impl Space {
    fn dir(self) -> &'static str {
        match self {
            Space::Package => "pkg",
            Space::File => "file",
            Space::Project => "project",
        }
    }
}

/// A cache key: a 128-bit hash of everything the cached facts depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    space: Space,
    hash: u128,
}

impl Key {
    /// Facts of an immutable package (registry or git source): its package id, the features
    /// cargo enabled for it (in any order), and the stall version.
    pub(crate) fn package<I, S>(package_id: &str, features: I) -> Key
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut features: Vec<String> = features.into_iter().map(|f| f.as_ref().to_string()).collect();
        features.sort();
        features.dedup();
        let mut h = Parts::new("package");
        h.part(STALL_VERSION.as_bytes());
        h.part(package_id.as_bytes());
        h.part(&(features.len() as u64).to_le_bytes());
        for f in &features {
            h.part(f.as_bytes());
        }
        Key { space: Space::Package, hash: h.finish() }
    }

    /// Facts of one of the user's files: its contents, and `context`, which names everything
    /// else the facts depend on (the file's package and module path, a digest of the settings).
    pub(crate) fn file(contents: &[u8], context: &str) -> Key {
        let mut h = Parts::new("file");
        h.part(STALL_VERSION.as_bytes());
        h.part(context.as_bytes());
        h.part(contents);
        Key { space: Space::File, hash: h.finish() }
    }

    /// What a registry or git package's file offers before it is parsed: the package's
    /// identity and the file's path name its text, which never changes under them, so the
    /// file need not be read to find its entry. `context` as for [`Key::file`].
    pub(crate) fn package_file(identity: &str, path: &Path, context: &str) -> Key {
        let mut h = Parts::new("package file");
        h.part(STALL_VERSION.as_bytes());
        h.part(identity.as_bytes());
        h.part(path.as_os_str().as_encoded_bytes());
        h.part(context.as_bytes());
        Key { space: Space::Package, hash: h.finish() }
    }

    /// What is known about a project as a whole (its dependency graph): `context` names where
    /// the run started and the environment that decides the answer; the entry itself records
    /// the files it was computed from, which the reader checks.
    pub(crate) fn project(context: &str) -> Key {
        let mut h = Parts::new("project");
        h.part(STALL_VERSION.as_bytes());
        h.part(context.as_bytes());
        Key { space: Space::Project, hash: h.finish() }
    }
}

/// Hashes a sequence of byte strings unambiguously (each is length-prefixed).
struct Parts(Xxh3Default);

impl Parts {
    fn new(domain: &str) -> Parts {
        let mut p = Parts(Xxh3Default::new());
        p.part(domain.as_bytes());
        p
    }

    fn part(&mut self, bytes: &[u8]) {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn finish(&self) -> u128 {
        self.0.digest128()
    }
}

/// The on-disk cache, or a disabled one that never reads or writes.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    /// The per-version directory; `None` when disabled.
    root: Option<PathBuf>,
}

impl Cache {
    /// The cache as configured by the environment: `STALL_CACHE_DIR`, else the platform cache
    /// directory. Disabled when neither can be determined.
    pub(crate) fn open() -> Cache {
        Cache::configured(std::env::var_os(CACHE_DIR_ENV), true)
    }

    /// A cache that never reads or writes (`--no-cache`).
    pub(crate) fn disabled() -> Cache {
        Cache { root: None }
    }

    /// A cache whose base directory is `base` (the per-version subdirectory is added).
    pub(crate) fn in_dir(base: &Path) -> Cache {
        Cache { root: Some(base.join(format!("v{STALL_VERSION}"))) }
    }

    /// The cache for an override directory (the value of `STALL_CACHE_DIR`, if any; empty means
    /// unset) and whether caching is on at all.
    pub(crate) fn configured(override_dir: Option<OsString>, enabled: bool) -> Cache {
        if !enabled {
            return Cache::disabled();
        }
        let base = match override_dir.filter(|d| !d.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => dirs::cache_dir().map(|d| d.join("stall")),
        };
        match base {
            Some(base) => Cache::in_dir(&base),
            None => Cache::disabled(),
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.root.is_some()
    }

    /// The per-version directory entries are stored in, when enabled.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The value stored for `key` as a `T`, if there is a valid entry. A missing, unreadable,
    /// corrupt or stale entry is a miss.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: Key) -> Option<T> {
        let (path, id) = self.entry::<T>(key)?;
        let bytes = fs::read(path).ok()?;
        let payload = check(&bytes, id)?;
        match postcard::take_from_bytes::<T>(payload) {
            Ok((value, [])) => Some(value),
            _ => None,
        }
    }

    /// Stores `value` for `key`, replacing any entry. A disabled cache does nothing.
    pub(crate) fn put<T: Serialize>(&self, key: Key, value: &T) -> io::Result<()> {
        let Some((path, id)) = self.entry::<T>(key) else { return Ok(()) };
        let payload = postcard::to_stdvec(value).map_err(io::Error::other)?;
        let bytes = encode(id, &payload);
        let dir = path.parent().expect("an entry path has a directory");
        // A cold run writes thousands of entries into a few hundred directories: each is
        // made (and the cache tagged) once per process, or again if it went away since.
        static MADE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
        let made = MADE.lock().ok().is_some_and(|m| m.as_ref().is_some_and(|m| m.contains(dir)));
        if made {
            match write_atomically(&path, &bytes) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                done => return done,
            }
        }
        fs::create_dir_all(dir)?;
        self.tag_directory();
        if let Ok(mut m) = MADE.lock() {
            m.get_or_insert_with(HashSet::new).insert(dir.to_path_buf());
        }
        write_atomically(&path, &bytes)
    }

    /// The cached value for `key`, or `compute()`'s, which is then stored (best effort).
    pub(crate) fn get_or_compute<T, F>(&self, key: Key, compute: F) -> T
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        if let Some(v) = self.get(key) {
            return v;
        }
        let v = compute();
        let _ = self.put(key, &v);
        v
    }

    /// Where the entry for `key` holding a `T` lives, and its entry id. The value type is part
    /// of the id, so one key can hold facts of several kinds without confusing them.
    fn entry<T>(&self, key: Key) -> Option<(PathBuf, u128)> {
        let root = self.root.as_ref()?;
        let mut h = Parts::new("entry");
        h.part(&key.hash.to_le_bytes());
        h.part(std::any::type_name::<T>().as_bytes());
        let id = h.finish();
        let hex = format!("{id:032x}");
        Some((root.join(key.space.dir()).join(format!("{hex}.bin")), id))
    }

    /// Marks the cache's base directory for backup tools (<https://bford.info/cachedir/>).
    fn tag_directory(&self) {
        let Some(base) = self.root.as_ref().and_then(|r| r.parent()) else { return };
        let tag = base.join("CACHEDIR.TAG");
        if !tag.exists() {
            let text = "Signature: 8a477f597d28d172789f06886806bc55\n\
                        # This file is a cache directory tag created by stall.\n";
            let _ = write_atomically(&tag, text.as_bytes());
        }
    }
}

/// Identifies the stall build that wrote an entry: its version and, where it can be read, the
/// executable's size and modification time, so that a rebuilt binary whose facts changed shape
/// without a version bump (a development build) does not trust the old entries.
fn build_tag() -> u64 {
    static TAG: OnceLock<u64> = OnceLock::new();
    *TAG.get_or_init(|| {
        let mut h = Parts::new("build");
        h.part(STALL_VERSION.as_bytes());
        h.part(&FORMAT.to_le_bytes());
        if let Some(meta) = std::env::current_exe().ok().and_then(|p| fs::metadata(p).ok()) {
            h.part(&meta.len().to_le_bytes());
            if let Some(since) =
                meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            {
                h.part(&since.as_nanos().to_le_bytes());
            }
        }
        h.finish() as u64
    })
}

/// Header then payload. The checksum covers the header's other fields and the payload.
fn encode(id: u128, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&build_tag().to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let sum = checksum(&out, payload);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn checksum(header: &[u8], payload: &[u8]) -> u64 {
    let mut h = Xxh3Default::new();
    h.update(header);
    h.update(payload);
    h.digest()
}

/// The payload of a valid entry with id `id`; `None` if anything is off.
fn check(bytes: &[u8], id: u128) -> Option<&[u8]> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    let u16_at = |i: usize| u16::from_le_bytes(header[i..i + 2].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().unwrap());
    let u128_at = |i: usize| u128::from_le_bytes(header[i..i + 16].try_into().unwrap());
    let valid = header[..4] == MAGIC
        && u16_at(4) == FORMAT
        && u16_at(6) == 0
        && u64_at(8) == build_tag()
        && u128_at(16) == id
        && u64_at(32) == payload.len() as u64
        && u64_at(40) == checksum(&header[..40], payload);
    valid.then_some(payload)
}

/// Writes `bytes` to a fresh temporary file beside `path`, then renames it over `path`: a
/// reader sees the old entry or the new one, never a partial write.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Facts {
        name: String,
        calls: Vec<(String, u32)>,
        blocking: Option<Kind>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Kind {
        Fs,
        Net { dns: bool },
    }

    fn sample() -> Facts {
        Facts {
            name: "fs_err::read_to_string".into(),
            calls: vec![("std::fs::File::open".into(), 22), ("std::io::Read::read_to_string".into(), 23)],
            blocking: Some(Kind::Net { dns: true }),
        }
    }

    fn key() -> Key {
        Key::package("registry+https://github.com/rust-lang/crates.io-index#fs-err@3.1.0", ["tokio"])
    }

    fn entry_path(cache: &Cache, key: Key) -> PathBuf {
        cache.entry::<Facts>(key).unwrap().0
    }

    #[test]
    fn a_value_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        assert_eq!(cache.get::<Facts>(key()), None);
        cache.put(key(), &sample()).unwrap();
        assert_eq!(cache.get::<Facts>(key()), Some(sample()));
        let file_key = Key::file(b"fn main() {}", "app::main");
        cache.put(file_key, &vec![1u8, 2, 3]).unwrap();
        assert_eq!(cache.get::<Vec<u8>>(file_key), Some(vec![1, 2, 3]));
        assert!(dir.path().join(format!("v{STALL_VERSION}")).is_dir(), "a per-version directory");
        assert!(dir.path().join("CACHEDIR.TAG").is_file());
    }

    #[test]
    fn a_file_s_facts_read_back() {
        // Async fns' summaries hold callees with optional parts: a format without field names
        // must not skip any of them when writing, or every such file misses on a warm run.
        let facts = crate::testing::facts(
            "struct S { c: C }\nimpl S { async fn a(&self) { self.c.get().await; x.run().await; } }\n\
             async fn f(s: S, ids: Vec<u8>) { for i in ids { s.a().await; } }",
        );
        assert!(!facts.async_fns.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        let key = Key::file(b"src", "ctx");
        cache.put(key, &facts).unwrap();
        let back: crate::facts::FileFacts = cache.get(key).expect("the facts read back");
        assert_eq!(postcard::to_stdvec(&back).unwrap(), postcard::to_stdvec(&facts).unwrap());
    }

    #[test]
    fn keys_depend_on_what_the_facts_depend_on() {
        let id = "registry+https://github.com/rust-lang/crates.io-index#walkdir@2.5.0";
        assert_eq!(Key::package(id, ["b", "a"]), Key::package(id, ["a", "b", "a"]), "feature order");
        assert_ne!(Key::package(id, ["a"]), Key::package(id, ["a", "b"]));
        assert_ne!(Key::package(id, ["ab"]), Key::package(id, ["a", "b"]));
        assert_ne!(
            Key::package(id, Vec::<String>::new()),
            Key::package(&id.replace("2.5.0", "2.4.0"), [""; 0])
        );
        assert_ne!(Key::file(b"x", "a"), Key::file(b"y", "a"));
        assert_ne!(Key::file(b"x", "a"), Key::file(b"x", "b"));
        assert_ne!(Key::file(b"ax", ""), Key::file(b"x", "a"), "parts are delimited");
    }

    #[test]
    fn one_key_holds_each_value_type_apart() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        cache.put(key(), &7u32).unwrap();
        assert_eq!(cache.get::<String>(key()), None);
        cache.put(key(), &"seven".to_string()).unwrap();
        assert_eq!(cache.get::<u32>(key()), Some(7));
        assert_eq!(cache.get::<String>(key()).as_deref(), Some("seven"));
    }

    /// Damages the stored entry with `damage`, checks it is a miss, then that a put rewrites it.
    fn damaged_entry_is_ignored_and_rewritten(damage: impl Fn(&mut Vec<u8>)) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        cache.put(key(), &sample()).unwrap();
        let path = entry_path(&cache, key());
        let mut bytes = fs::read(&path).unwrap();
        damage(&mut bytes);
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get::<Facts>(key()), None, "a damaged entry is never trusted");
        let recomputed = cache.get_or_compute(key(), sample);
        assert_eq!(recomputed, sample());
        assert_ne!(fs::read(&path).unwrap(), bytes, "the entry was rewritten");
        assert_eq!(cache.get::<Facts>(key()), Some(sample()));
    }

    #[test]
    fn a_truncated_entry_is_ignored() {
        damaged_entry_is_ignored_and_rewritten(|b| b.truncate(b.len() - 1));
        damaged_entry_is_ignored_and_rewritten(|b| b.truncate(HEADER_LEN));
        damaged_entry_is_ignored_and_rewritten(|b| b.truncate(10));
        damaged_entry_is_ignored_and_rewritten(|b| b.clear());
    }

    #[test]
    fn a_flipped_byte_is_ignored() {
        // In the payload, in the length, in the checksum, in the magic.
        for at in [HEADER_LEN + 3, 33, 41, 0] {
            damaged_entry_is_ignored_and_rewritten(|b| b[at] ^= 0x10);
        }
        damaged_entry_is_ignored_and_rewritten(|b| b.push(0));
    }

    #[test]
    fn an_entry_of_another_version_or_build_is_ignored() {
        // Another format version, with a checksum that matches: stale, not corrupt.
        let restamp = |b: &mut Vec<u8>, at: usize, field: &[u8]| {
            b[at..at + field.len()].copy_from_slice(field);
            let sum = checksum(&b[..40], &b[HEADER_LEN..]);
            b[40..48].copy_from_slice(&sum.to_le_bytes());
        };
        damaged_entry_is_ignored_and_rewritten(|b| restamp(b, 4, &(FORMAT + 1).to_le_bytes()));
        damaged_entry_is_ignored_and_rewritten(|b| restamp(b, 8, &(build_tag() ^ 1).to_le_bytes()));
        // Another key's entry copied over this one.
        damaged_entry_is_ignored_and_rewritten(|b| restamp(b, 16, &1u128.to_le_bytes()));
    }

    #[test]
    fn a_payload_that_does_not_decode_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::in_dir(dir.path());
        let (path, id) = cache.entry::<Facts>(key()).unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, encode(id, &[0xff; 5])).unwrap();
        assert_eq!(cache.get::<Facts>(key()), None);
        // Trailing bytes after a valid value are not a valid entry either.
        let mut payload = postcard::to_stdvec(&sample()).unwrap();
        payload.push(0);
        fs::write(&path, encode(id, &payload)).unwrap();
        assert_eq!(cache.get::<Facts>(key()), None);
    }

    #[test]
    fn a_disabled_cache_never_writes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::configured(Some(dir.path().into()), false);
        assert!(!cache.is_enabled());
        cache.put(key(), &sample()).unwrap();
        assert_eq!(cache.get::<Facts>(key()), None);
        assert_eq!(cache.get_or_compute(key(), sample), sample());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
        assert!(Cache::disabled().dir().is_none());
    }

    #[test]
    fn the_override_directory_wins_unless_empty() {
        let cache = Cache::configured(Some("/some/where".into()), true);
        assert_eq!(cache.dir(), Some(Path::new("/some/where").join(format!("v{STALL_VERSION}")).as_path()));
        let default = Cache::configured(Some("".into()), true);
        if let Some(base) = dirs::cache_dir() {
            assert_eq!(default.dir(), Some(base.join("stall").join(format!("v{STALL_VERSION}")).as_path()));
        }
    }

    #[test]
    fn concurrent_writers_and_readers_see_whole_entries() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<Facts> = (0..4)
            .map(|i| Facts {
                name: format!("writer {i}"),
                calls: vec![("x".repeat(i * 4000), i as u32)],
                blocking: None,
            })
            .collect();
        std::thread::scope(|s| {
            for v in &values {
                let cache = Cache::in_dir(dir.path());
                s.spawn(move || {
                    for _ in 0..50 {
                        cache.put(key(), v).unwrap();
                    }
                });
            }
            for _ in 0..2 {
                let cache = Cache::in_dir(dir.path());
                let values = &values;
                s.spawn(move || {
                    for _ in 0..200 {
                        if let Some(got) = cache.get::<Facts>(key()) {
                            assert!(values.contains(&got), "a reader saw a torn entry");
                        }
                    }
                });
            }
        });
        let cache = Cache::in_dir(dir.path());
        assert!(values.contains(&cache.get::<Facts>(key()).unwrap()));
        let leftovers: Vec<_> = fs::read_dir(entry_path(&cache, key()).parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}
