//! ## What it does
//! Finds blocking HTTP clients used on an async executor thread: `reqwest::blocking`, `ureq`,
//! `attohttpc`, `minreq`. The request-sending call is reported (`send`, `call`, `get(..)`).
//!
//! ## Why is this bad?
//! A blocking request holds the thread for the whole round trip. `reqwest::blocking` also runs
//! its own runtime and panics when it is created or dropped inside another runtime.
//!
//! ## Example
//! ```rust,ignore
//! async fn fetch(url: &str) -> reqwest::Result<String> {
//!     reqwest::blocking::get(url)?.text()
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn fetch(url: &str) -> reqwest::Result<String> {
//!     reqwest::get(url).await?.text().await
//! }
//! ```
//!
//! ## Known limitations
//! A blocking client stored in a field is recognised when the field's type is written out
//! (`client: reqwest::blocking::Client`); one returned by another function is not followed.

crate::registry::declare_rule! {
    BlockingHttp = "blocking-http",
    summary: "a blocking HTTP client in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn a_blocking_client_not_the_async_one() {
        check(
            r#"
async fn fetch(url: &str) -> String {
    let body = reqwest::blocking::get(url).unwrap().text().unwrap();
//             ^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-http: blocking call `reqwest::blocking::get` in async fn `fetch`
    let client = reqwest::Client::new();
    let other = client.get(url).send().await.unwrap().text().await.unwrap();
    body + &other
}
"#,
        );
    }
}
