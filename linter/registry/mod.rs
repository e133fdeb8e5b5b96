//! Every rule: id, summary, family, default severity, fixability and documentation. The list
//! is generated (build.rs) from the `declare_rule!` in each file under `linter/rules/`, so a
//! rule is declared in one place, next to its doc; every output asks this module.

pub(crate) mod names;

use std::fmt;

use serde::{Deserialize, Serialize};

/// How loud a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What kind of problem a rule finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Blocking work on an executor thread; these carry transitive chains.
    Blocking,
    /// Futures awaited one by one that could run together.
    Serial,
    /// About the run itself: unparsable files, unused suppressions.
    Meta,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Blocking => "blocking",
            Family::Serial => "serial",
            Family::Meta => "meta",
        }
    }
}

/// A rule's metadata, as its file declares it.
struct RuleInfo {
    rule: Rule,
    id: &'static str,
    summary: &'static str,
    family: Family,
    severity: Severity,
    fixable: bool,
    /// The rule file's text: its `//!` lines are the documentation.
    source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/registry.rs"));

/// Declares a rule in its file; build.rs reads the same tokens to generate `Rule` and the
/// registry. Expands to `RULE`, the rule's id for the code of that file.
macro_rules! declare_rule {
    ($variant:ident = $id:literal, summary: $summary:literal, severity: $severity:ident, fixable: $fixable:literal $(,)?) => {
        #[allow(dead_code)]
        pub(crate) const RULE: $crate::registry::Rule = $crate::registry::Rule::$variant;
    };
}
pub(crate) use declare_rule;

impl Rule {
    pub const ALL: &'static [Rule] = &{
        let mut all = [Rule::ParseError; INFOS.len()];
        let mut i = 0;
        while i < INFOS.len() {
            all[i] = INFOS[i].rule;
            i += 1;
        }
        all
    };

    fn info(self) -> &'static RuleInfo {
        // INFOS is small and in `ALL` order.
        INFOS.iter().find(|i| i.rule == self).expect("every rule is registered")
    }

    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// One line for `stall rules` and SARIF's shortDescription.
    pub fn summary(self) -> &'static str {
        self.info().summary
    }

    pub fn family(self) -> Family {
        self.info().family
    }

    pub fn default_severity(self) -> Severity {
        self.info().severity
    }

    /// Whether some of its findings carry a fix.
    pub fn fixable(self) -> bool {
        self.info().fixable
    }

    /// Rules that report blocking calls (and carry transitive chains).
    pub fn is_blocking(self) -> bool {
        self.family() == Family::Blocking
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        INFOS.iter().find(|i| i.id == id).map(|i| i.rule)
    }

    /// The rule's documentation: the `//!` lines of its file.
    pub fn doc(self) -> String {
        let mut doc = String::new();
        for line in self.info().source.lines() {
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
    fn every_rule_has_a_complete_doc_and_round_trips() {
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
            assert!(rule.id().starts_with(rule.family().name()) || rule.family() != Family::Serial);
        }
    }

    #[test]
    fn metadata_comes_from_the_rule_files() {
        assert_eq!(Rule::ParseError.default_severity(), Severity::Error);
        assert_eq!(Rule::BlockingFs.default_severity(), Severity::Warning);
        assert_eq!(Rule::BlockingSleep.family(), Family::Blocking);
        assert_eq!(Rule::SerialAwaitLoop.family(), Family::Serial);
        assert!(Rule::BlockingSleep.fixable() && !Rule::SerialAwaitLoop.fixable());
        assert!(Rule::BlockOnInAsync.is_blocking() && !Rule::UnusedSuppression.is_blocking());
    }
}
