//! ## What it does
//! Finds reads of standard input on an async executor thread: `std::io::stdin().read_line`,
//! `stdin().lines()`, `stdin().lock()` reads, a `Stdin` or `StdinLock` held in a variable or a
//! `BufReader`, and `std::io::read_to_string(io::stdin())`.
//!
//! ## Why is this bad?
//! Reading stdin waits for a human or another process, possibly forever. Every task on the
//! thread waits with it.
//!
//! ## Example
//! ```rust,ignore
//! async fn repl(client: Client) {
//!     let mut line = String::new();
//!     while std::io::stdin().read_line(&mut line).unwrap() > 0 {
//!         client.send(&line).await;
//!     }
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn repl(client: Client) {
//!     let mut lines = BufReader::new(tokio::io::stdin()).lines();
//!     while let Some(line) = lines.next_line().await.unwrap() {
//!         client.send(&line).await;
//!     }
//! }
//! ```
//!
//! ## Known limitations
//! Writes to stdout and stderr (`println!`) are not reported: they block too, but rarely for
//! long, and flagging them would bury everything else.

crate::registry::declare_rule! {
    BlockingStdio = "blocking-stdio",
    summary: "reading standard input synchronously in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn stdin_in_async_code_not_in_sync_code() {
        check(
            r#"
async fn ask() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
//  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-stdio: blocking call `Stdin::read_line` in async fn `ask`
    line
}

fn ask_sync() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    line
}
"#,
        );
    }

    #[test]
    fn stdin_through_functions_buffers_and_variables() {
        check(
            r#"
use std::io::{self, BufRead};

async fn all() -> String {
    let text = io::read_to_string(io::stdin()).unwrap();
//             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-stdio: blocking call `std::io::read_to_string` in async fn `all`
    let mut r = io::BufReader::new(io::stdin());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
//  ^^^^^^^^^^^^^^^^^^^^^^ blocking-stdio: blocking call `Stdin::read_line` in async fn `all`
    let memory = io::read_to_string(&b"in memory"[..]).unwrap();
    text + &memory
}
"#,
        );
    }
}
