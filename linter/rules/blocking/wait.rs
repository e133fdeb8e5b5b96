//! ## What it does
//! Finds blocking waits on an async executor thread: `recv` on `std::sync::mpsc`,
//! `crossbeam_channel` and `flume` receivers, `Condvar::wait*`, `std::sync::Barrier::wait`,
//! `std::thread::JoinHandle::join`, `std::thread::scope`, and tokio's `blocking_*` methods.
//! A `recv()` or `join()` whose receiver's type is unknown is reported only when its result is
//! used as a `Result` at once (`.unwrap()`, `?`, `match .. { Ok(..) .. }`), which an async
//! `recv()` (a future) cannot be.
//!
//! ## Why is this bad?
//! The thread waits for another thread to act. If that other party is a task on the same
//! executor, it may never run: the program deadlocks.
//!
//! ## Example
//! ```rust,ignore
//! async fn next_job(rx: &std::sync::mpsc::Receiver<Job>) -> Job {
//!     rx.recv().unwrap()
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn next_job(rx: &mut tokio::sync::mpsc::Receiver<Job>) -> Job {
//!     rx.recv().await.unwrap()
//! }
//! ```
//!
//! ## Known limitations
//! `Mutex::lock` is not reported: a short critical section with a std mutex is fine in async
//! code. Holding a guard across `.await` is a different bug, left to clippy.

crate::registry::declare_rule! {
    BlockingWait = "blocking-wait",
    summary: "waiting on a channel, Condvar, Barrier or thread in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn thread_and_channel_waits_not_async_receives() {
        check(
            r#"
async fn drain(rx: std::sync::mpsc::Receiver<u32>, h: std::thread::JoinHandle<()>) {
    let _v = rx.recv().unwrap();
//           ^^^^^^^^^ blocking-wait: blocking call `Receiver::recv` in async fn `drain`
    h.join().unwrap();
//  ^^^^^^^^ blocking-wait: blocking call `JoinHandle::join` in async fn `drain`
}

async fn drain_async(mut rx: tokio::sync::mpsc::Receiver<u32>) {
    let _v = rx.recv().await;
}
"#,
        );
    }
}
