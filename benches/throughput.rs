//! Throughput harness: on the same files, (a) the floor of any syn-based linter, reading
//! every `.rs` file and `syn::parse_file` on it, and (b) `stall check` end to end with no
//! cache (every file analysed); each on one thread and on all cores, with wall time, MB/s and
//! peak RSS, and the ratio b/a. Then (c) a warm run on all cores: the cache already holds
//! every file's facts (its peak RSS includes the run that filled it).
//!
//! Run: `cargo bench --bench throughput -- DIR` (make a corpus with
//! `benches/vendor-corpus.sh`). Each measurement runs in a child process of its own, so peak
//! RSS belongs to that measurement alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;

// The allocator the `stall` binary ships with, for both measurements: the floor is then what
// parsing alone costs with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("--phase") {
        let (phase, threads, dir) = (&args[1], args[2].parse().unwrap(), PathBuf::from(&args[3]));
        return child(phase, threads, &dir);
    }
    let Some(dir) = args.first() else {
        eprintln!("usage: cargo bench --bench throughput -- DIR");
        std::process::exit(2);
    };
    let files = rust_files(Path::new(dir));
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    let lines: usize = files.iter().map(|f| std::fs::read(f).map(|b| bytecount(&b)).unwrap_or(0)).sum();
    let mb = bytes as f64 / 1e6;
    println!("corpus: {dir}: {} files, {lines} lines, {mb:.1} MB", files.len());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("{:<14}{:>8}{:>10}{:>10}{:>12}", "measure", "threads", "wall s", "MB/s", "peak RSS MB");
    let row = |name: &str, phase: &str, threads: usize| {
        let (wall, rss) = measure(phase, threads, dir);
        println!("{name:<14}{threads:>8}{wall:>10.2}{:>10.1}{:>12.0}", mb / wall, rss / 1024.0);
        wall
    };
    for threads in [1, cores] {
        let parse = row("(a) syn parse", "parse", threads);
        let check = row("(b) stall", "check", threads);
        println!("ratio b/a on {threads} thread(s): {:.2}", check / parse);
    }
    // A warm run: every file's facts already in the cache (a second run of an unchanged tree).
    row("(c) warm", "warm", cores);
}

/// Runs one measurement in a child process: (wall seconds, peak RSS in KiB).
fn measure(phase: &str, threads: usize, dir: &str) -> (f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--phase", phase, &threads.to_string(), dir])
        .output()
        .expect("run the measurement");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let wall: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
    let rss: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
    (wall, rss)
}

fn bytecount(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    stall::discover_files(&[dir.to_path_buf()])
}

/// One measurement; prints `wall_seconds peak_rss_kb`.
fn child(phase: &str, threads: usize, dir: &Path) {
    let start = Instant::now();
    match phase {
        "parse" => {
            let files = rust_files(dir);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(stall::ANALYSIS_STACK)
                .build()
                .unwrap();
            let parsed: usize = pool.install(|| {
                files
                    .par_iter()
                    .map(|f| {
                        let ok = std::fs::read_to_string(f).ok().map(|t| syn::parse_file(&t).is_ok());
                        proc_macro2::extra::invalidate_current_thread_spans();
                        usize::from(ok == Some(true))
                    })
                    .sum()
            });
            std::hint::black_box(parsed);
        }
        "warm" => {
            // The cache filled by a first run (not timed) in a directory of its own.
            let cache = std::env::temp_dir().join(format!("stall-bench-cache-{}", std::process::id()));
            std::env::set_var("STALL_CACHE_DIR", &cache);
            let run = stall::RunOptions::default().with_jobs(threads);
            std::hint::black_box(stall::check_paths(&[dir.to_path_buf()], &run).files.len());
            let start = Instant::now();
            let report = stall::check_paths(&[dir.to_path_buf()], &run);
            std::hint::black_box(report.files.len());
            let wall = start.elapsed().as_secs_f64();
            let _ = std::fs::remove_dir_all(&cache);
            println!("{wall} {}", peak_rss_kb());
            return;
        }
        _ => {
            // Cold: no cache read or written, every file analysed.
            let mut run = stall::RunOptions::default().with_jobs(threads);
            run.cache = false;
            let report = stall::check_paths(&[dir.to_path_buf()], &run);
            std::hint::black_box(report.files.len());
        }
    }
    let wall = start.elapsed().as_secs_f64();
    println!("{wall} {}", peak_rss_kb());
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
