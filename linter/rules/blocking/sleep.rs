//! ## What it does
//! Finds `std::thread::sleep` called on an async executor thread: in an `async fn`, an
//! `async` block or closure, or a plain closure that runs inside one.
//!
//! ## Why is this bad?
//! An executor runs many tasks on a few threads and switches between them only at `.await`.
//! `std::thread::sleep` puts the whole thread to sleep, so every other task scheduled on that
//! thread waits too; on a single-threaded runtime the whole program stops.
//!
//! ## Example
//! ```rust,ignore
//! async fn poll_status(client: &Client) {
//!     loop {
//!         client.refresh().await;
//!         std::thread::sleep(Duration::from_secs(5));
//!     }
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn poll_status(client: &Client) {
//!     loop {
//!         client.refresh().await;
//!         tokio::time::sleep(Duration::from_secs(5)).await;
//!     }
//! }
//! ```
//!
//! ## Known limitations
//! Sleeps reached through a dependency are seen only when its sources are downloaded (and
//! two packages deep at most). A sleep inside a closure that is stored and later sent to
//! `spawn_blocking` is reported as if it ran in place.

crate::registry::declare_rule! {
    BlockingSleep = "blocking-sleep",
    summary: "`std::thread::sleep` in async code",
    severity: Warning,
    fixable: true,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn a_sleep_in_async_code_directly_or_through_a_helper() {
        check(
            r#"
use std::time::Duration;

async fn poll(d: Duration) {
    std::thread::sleep(d);
//  ^^^^^^^^^^^^^^^^^^^^^ blocking-sleep: blocking call `std::thread::sleep` in async fn `poll`
    tokio::time::sleep(d).await;
}

fn pause(d: Duration) {
    std::thread::sleep(d);
}

async fn through_helper(d: Duration) {
    pause(d);
//  ^^^^^^^^ blocking-sleep: `pause` blocks in async fn `through_helper`: it reaches `std::thread::sleep`
}
"#,
        );
    }
}
