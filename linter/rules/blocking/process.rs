//! ## What it does
//! Finds code that waits for a child process on an async executor thread:
//! `std::process::Command::output` / `status`, `Child::wait` and `wait_with_output`.
//! Spawning alone (`Command::spawn`) is not reported.
//!
//! ## Why is this bad?
//! The thread is held for as long as the child runs: a compiler, a `git` call or a shell script
//! can take seconds, during which no other task on the thread runs.
//!
//! ## Example
//! ```rust,ignore
//! async fn git_head() -> io::Result<String> {
//!     let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output()?;
//!     Ok(String::from_utf8_lossy(&out.stdout).into_owned())
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn git_head() -> io::Result<String> {
//!     let out = tokio::process::Command::new("git").args(["rev-parse", "HEAD"]).output().await?;
//!     Ok(String::from_utf8_lossy(&out.stdout).into_owned())
//! }
//! ```
//!
//! ## Known limitations
//! A `Command` or `Child` built in another function and passed in without its type is not
//! followed.

crate::registry::declare_rule! {
    BlockingProcess = "blocking-process",
    summary: "waiting for a child process synchronously in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn a_child_waited_for_synchronously_not_tokio_process() {
        check(
            r#"
async fn git_version() -> String {
    let out = std::process::Command::new("git").arg("--version").output().unwrap();
//            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-process: blocking call `Command::output` in async fn `git_version`
    let async_out = tokio::process::Command::new("git").arg("--version").output().await.unwrap();
    format!("{:?}{:?}", out.stdout, async_out.stdout)
}
"#,
        );
    }
}
