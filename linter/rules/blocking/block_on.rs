//! ## What it does
//! Finds `block_on` called on an async executor thread: `futures::executor::block_on`,
//! `Runtime::block_on`, `Handle::block_on`, `pollster::block_on`, `async_std::task::block_on`,
//! `smol::block_on` and any method named `block_on`.
//!
//! ## Why is this bad?
//! `block_on` parks the thread until the future completes. Inside a runtime this either panics
//! ("Cannot start a runtime from within a runtime") or deadlocks when the future needs the very
//! thread it is blocking.
//!
//! ## Example
//! ```rust,ignore
//! async fn handler(state: State) -> String {
//!     futures::executor::block_on(state.load())
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn handler(state: State) -> String {
//!     state.load().await
//! }
//! ```
//!
//! ## Known limitations
//! `block_on` inside `spawn_blocking` or `block_in_place` is not reported: that is the
//! supported way to call async code from sync code.

crate::registry::declare_rule! {
    BlockOnInAsync = "block-on-in-async",
    summary: "`block_on` called from async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn block_on_in_async_code_not_in_a_sync_entry() {
        check(
            r#"
async fn nested() -> u32 {
    futures::executor::block_on(async { 1 })
//  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ block-on-in-async: blocking call `futures::executor::block_on` in async fn `nested`
}

fn entry() -> u32 {
    futures::executor::block_on(async { 1 })
}
"#,
        );
    }

    /// A crate fn that runs its closure parameter on a blocking pool (in some branch, or
    /// inside a closure it hands to `block_in_place`) is an offload wrapper: closures handed
    /// to it, and a `block_on` in them, run off the executor. One that runs it inline is not.
    #[test]
    fn closures_handed_to_offload_wrappers_are_off_the_executor() {
        check(
            r#"
async fn maybe_spawn_blocking<F: FnOnce() -> u32 + Send + 'static>(f: F) -> u32 {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => rt.spawn_blocking(f).await.unwrap(),
        Err(_) => f(),
    }
}

fn in_place<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(move || f())
}

fn inline<T>(f: impl FnOnce() -> T) -> T {
    f()
}

async fn caller() -> u32 {
    let a = maybe_spawn_blocking(|| {
        tokio::runtime::Handle::current().block_on(async { std::fs::read("a").unwrap().len() as u32 })
    })
    .await;
    let b = in_place(|| futures::executor::block_on(async { 2 }));
    let c = inline(|| futures::executor::block_on(async { 3 }));
//                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ block-on-in-async: blocking call `futures::executor::block_on` in async fn `caller`
    a + b + c
}
"#,
        );
    }
}
