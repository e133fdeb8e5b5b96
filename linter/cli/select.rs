//! Rule selectors on the command line (`--select`, `--extend-select`, `--ignore`, `stall
//! explain`): a rule id (`blocking-fs`, or `blocking_fs`), `ALL`, a family (`blocking`: every
//! rule that reports a blocking call; `serial`: the serial-await rules), or a prefix of ids
//! ending at a `-` (`serial-await`). An unknown name is an error with the closest match.

use crate::registry::names as rule_names;
use crate::registry::Rule;

/// The rules one selector names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(pub Vec<Rule>);

/// Whether a rule belongs to a family.
type Member = fn(Rule) -> bool;

/// Families: a name and the rules it covers.
const FAMILIES: &[(&str, Member)] =
    &[("blocking", Rule::is_blocking), ("serial", |r| r.id().starts_with("serial-"))];

/// Parses one selector (clap's value parser).
pub fn parse(text: &str) -> Result<Selection, String> {
    let name = rule_names::normalise(text);
    if name == "all" {
        return Ok(Selection(Rule::ALL.to_vec()));
    }
    if let Some(rule) = rule_names::rule(&name) {
        return Ok(Selection(vec![rule]));
    }
    if let Some((_, member)) = FAMILIES.iter().find(|(f, _)| *f == name) {
        return Ok(Selection(Rule::ALL.iter().copied().filter(|r| member(*r)).collect()));
    }
    let prefixed: Vec<Rule> =
        Rule::ALL.iter().copied().filter(|r| r.id().starts_with(&format!("{name}-"))).collect();
    if !name.is_empty() && !prefixed.is_empty() {
        return Ok(Selection(prefixed));
    }
    let names = Rule::ALL.iter().map(|r| r.id()).chain(FAMILIES.iter().map(|(f, _)| *f));
    let hint = match rule_names::closest(&name, names) {
        Some(near) => format!("; did you mean `{near}`?"),
        None => String::new(),
    };
    Err(format!(
        "unknown rule `{}`{hint} (`stall rules` lists the rules; `ALL`, `blocking` and `serial` select groups)",
        text.trim()
    ))
}

/// Every rule the selections name, once, in the order of `Rule::ALL`.
pub fn rules(selections: &[Selection]) -> Vec<Rule> {
    Rule::ALL.iter().copied().filter(|r| selections.iter().any(|s| s.0.contains(r))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        parse(text).unwrap().0.iter().map(|r| r.id()).collect()
    }

    #[test]
    fn ids_groups_and_prefixes() {
        assert_eq!(ids("blocking_fs"), ["blocking-fs"]);
        assert_eq!(ids("ALL").len(), Rule::ALL.len());
        assert_eq!(ids("serial"), ["serial-await-loop", "serial-await-sequence"]);
        assert_eq!(ids("serial-await"), ["serial-await-loop", "serial-await-sequence"]);
        let blocking = ids("blocking");
        assert!(blocking.contains(&"block-on-in-async") && blocking.contains(&"blocking-fs"));
        assert!(!blocking.contains(&"serial-await-loop") && !blocking.contains(&"parse-error"));
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let e = parse("blocking-fss").unwrap_err();
        assert!(e.contains("did you mean `blocking-fs`?"), "{e}");
        assert!(parse("serail").unwrap_err().contains("did you mean `serial`?"));
        assert!(!parse("frobnicate").unwrap_err().contains("did you mean"));
        assert!(parse("").is_err());
    }
}
