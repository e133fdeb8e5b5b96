//! ## What it does
//! Finds synchronous file-system calls on an async executor thread: `std::fs` functions,
//! opening `std::fs::File` / `OpenOptions`, reads and writes on a `std::fs::File` held in a
//! local binding, parameter or field, and `Path` methods that query the disk
//! (`exists`, `metadata`, `read_dir`, `canonicalize`, ..). A blocking function handed by path
//! to a call that runs it here counts as a call (`paths.iter().map(std::fs::read)`,
//! `.and_then(File::open)`); one handed to `spawn_blocking` or a thread does not. A `poll_*`
//! fn (or async fn) of `impl<R: Read> Stream for S<R>` that reads `self.inner: R` blocks when
//! the crate builds `S` with a `std::fs::File` (`S::new(File::open(p)?)`, `S { inner: file }`).
//! A literal path under `/proc/` or `/sys/` (also through `format!`, `Path::new` or a `const`),
//! or the `/dev/fd` listing, names a kernel pseudo-file, answered from memory: it is not
//! reported.
//! One metadata operation each time a program's hot code runs (`path.exists()`, `rename` or
//! `create_dir_all` in a handler, outside loops and closures) has exposure `brief`: counted by
//! default, shown with `--all`. What is read or written through an opened file is worse than
//! the open and is what a helper is reported for (`File::open(p)?.read_to_string(..)` is one
//! finding, the read), also through a serde format reading or writing it
//! (`serde_json::from_reader(BufReader::new(file))`); writes to one file in one body
//! (`write!(f, ..)` again and again) are one finding.
//!
//! ## Why is this bad?
//! File-system calls block the calling thread until the kernel answers. On a slow disk, a
//! network file system or a large file that is milliseconds to seconds in which no other task
//! on the thread makes progress.
//!
//! ## Example
//! ```rust,ignore
//! async fn load(path: &Path) -> anyhow::Result<Config> {
//!     let text = std::fs::read_to_string(path)?;
//!     Ok(toml::from_str(&text)?)
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn load(path: &Path) -> anyhow::Result<Config> {
//!     let text = tokio::fs::read_to_string(path).await?;
//!     Ok(toml::from_str(&text)?)
//! }
//! ```
//! For many small operations, one `tokio::task::spawn_blocking` around all of them is cheaper.
//!
//! ## Known limitations
//! Types are not inferred: a `std::fs::File` is recognised when it comes from `File::open`,
//! `File::create`, an `OpenOptions` chain, or a parameter or field declared with that type.
//! Files returned by other functions are not followed.

crate::registry::declare_rule! {
    BlockingFs = "blocking-fs",
    summary: "synchronous file-system I/O in async code",
    severity: Warning,
    fixable: true,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn file_system_calls_on_values_paths_and_files_not_when_offloaded() {
        check(
            r#"
use std::io::Read;

async fn load(path: &std::path::Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
//              ^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-fs: blocking call `std::fs::File::open` in async fn `load`
    let mut s = String::new();
    f.read_to_string(&mut s)?;
//  ^^^^^^^^^^^^^^^^^^^^^^^^ blocking-fs: blocking call `File::read_to_string` in async fn `load`
    let t = tokio::fs::read_to_string(path).await?;
    if path.exists() {
//     ^^^^^^^^^^^^^ blocking-fs: blocking call `Path::exists` in async fn `load`
        return Ok(t);
    }
    Ok(s)
}

async fn offloaded(path: std::path::PathBuf) {
    let _ = tokio::task::spawn_blocking(move || std::fs::read(&path)).await;
}
"#,
        );
    }

    #[test]
    fn function_paths_handed_to_adaptors_run_here() {
        check(
            r#"
async fn load(paths: Vec<std::path::PathBuf>) {
    let _all: Vec<_> = paths.iter().map(std::fs::read).collect();
//                                      ^^^^^^^^^^^^^ blocking-fs: blocking call `std::fs::read` in async fn `load`
    let _off = std::thread::spawn(work);
    let _owned: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
}

fn work() {
    let _ = std::fs::read("/var/cache/app");
}
"#,
        );
    }

    /// A `poll_*` fn reading through its type parameter blocks when the crate builds the type
    /// with a file; the same type built over memory does not.
    #[test]
    fn generic_readers_block_when_built_with_a_file() {
        check(
            r#"
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

struct Chunks<R> { inner: R, buf: Vec<u8> }
struct Replay<R> { inner: R }

impl<R: Read + Unpin> futures::Stream for Chunks<R> {
    type Item = usize;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let this = self.get_mut();
        Poll::Ready(this.inner.read(&mut this.buf).ok())
//                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-fs: blocking call `File::read` in `poll_next`, which the executor polls
    }
}

impl<R: Read + Unpin> futures::Stream for Replay<R> {
    type Item = usize;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let mut buf = [0u8; 8];
        Poll::Ready(self.get_mut().inner.read(&mut buf).ok())
    }
}

fn open(p: &std::path::Path) -> Chunks<std::fs::File> {
    Chunks { inner: std::fs::File::open(p).unwrap(), buf: vec![0; 8] }
}

fn replay(b: &'static [u8]) -> Replay<&'static [u8]> {
    Replay { inner: b }
}
"#,
        );
    }
}
