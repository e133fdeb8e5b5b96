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
//! Waits that cannot block are left alone: `try_recv`, `try_iter`, `try_lock`, timed waits
//! given a constant bound under a millisecond (`recv_timeout(Duration::ZERO)`: a poll), a
//! deadline of `Instant::now()`, and `h.join()` inside `if h.is_finished() { .. }`.
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

    #[test]
    fn polls_and_finished_threads_do_not_wait() {
        check(
            r#"
use std::time::Duration;
const POLL: Duration = Duration::from_micros(10);

async fn poll(rx: std::sync::mpsc::Receiver<u32>, h: std::thread::JoinHandle<()>) {
    let _ = rx.recv_timeout(Duration::ZERO);
    let _ = rx.recv_timeout(POLL);
    let _ = rx.try_recv();
    let _ = rx.recv_timeout(Duration::from_millis(2));
//          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-wait: blocking call `Receiver::recv_timeout` in async fn `poll`
    if h.is_finished() && true {
        h.join().unwrap();
    }
}
"#,
        );
    }
}
