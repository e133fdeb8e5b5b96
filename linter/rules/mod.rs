//! The rules. Each lives in its own file whose `//!` doc is what `stall explain RULE` prints.
//! The blocking rules share one detector (`crate::context`) driven by the catalog; their
//! files hold their docs. The serial-await rules hold their own analysis.

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod block_on_in_async;
pub mod blocking_db;
pub mod blocking_fs;
pub mod blocking_http;
pub mod blocking_net;
pub mod blocking_process;
pub mod blocking_sleep;
pub mod blocking_stdio;
pub mod blocking_wait;
pub mod parse_error;
pub mod serial_await_loop;
pub mod serial_await_sequence;
pub mod unused_suppression;

macro_rules! rules {
    ($($variant:ident = $id:literal, $file:literal, $summary:literal;)*) => {
        /// A rule id, stable across releases.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Rule {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// One line for `stall rules` and SARIF's shortDescription.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            fn source(self) -> &'static str {
                match self { $(Rule::$variant => include_str!($file),)* }
            }
        }
    };
}

rules! {
    BlockingSleep = "blocking-sleep", "blocking_sleep.rs", "`std::thread::sleep` in async code";
    BlockingFs = "blocking-fs", "blocking_fs.rs", "synchronous file-system I/O in async code";
    BlockingNet = "blocking-net", "blocking_net.rs", "synchronous sockets or DNS lookups in async code";
    BlockingStdio = "blocking-stdio", "blocking_stdio.rs", "reading standard input synchronously in async code";
    BlockingProcess = "blocking-process", "blocking_process.rs", "waiting for a child process synchronously in async code";
    BlockingHttp = "blocking-http", "blocking_http.rs", "a blocking HTTP client in async code";
    BlockingDb = "blocking-db", "blocking_db.rs", "a synchronous database driver in async code";
    BlockingWait = "blocking-wait", "blocking_wait.rs", "waiting on a channel, Condvar, Barrier or thread in async code";
    BlockOnInAsync = "block-on-in-async", "block_on_in_async.rs", "`block_on` called from async code";
    SerialAwaitLoop = "serial-await-loop", "serial_await_loop.rs", "independent futures awaited one per loop iteration";
    SerialAwaitSequence = "serial-await-sequence", "serial_await_sequence.rs", "futures created together but awaited one after another";
    ParseError = "parse-error", "parse_error.rs", "a file that could not be parsed";
    UnusedSuppression = "unused-suppression", "unused_suppression.rs", "a suppression comment that suppresses nothing";
}

impl Rule {
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }

    /// The rule's documentation: the `//!` lines of its file.
    pub fn doc(self) -> String {
        let mut doc = String::new();
        for line in self.source().lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                if !doc.is_empty() {
                    break;
                }
                continue;
            };
            doc.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            doc.push('\n');
        }
        doc
    }

    /// Rules that report blocking calls (and carry transitive chains).
    pub fn is_blocking(self) -> bool {
        !matches!(
            self,
            Rule::SerialAwaitLoop | Rule::SerialAwaitSequence | Rule::ParseError | Rule::UnusedSuppression
        )
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_complete_doc() {
        for rule in Rule::ALL {
            let doc = rule.doc();
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
                "## Known limitations",
            ] {
                assert!(doc.contains(heading), "{rule}: missing {heading}");
            }
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        }
    }
}
