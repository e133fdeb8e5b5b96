//! Rule names as people type them: `blocking-fs`, `blocking_fs` (as `#[cfg_attr(stall,
//! allow(stall::blocking_fs))]` spells it), `Blocking-FS`; and the closest name for a typo.
//! Knows the rules only through `Rule::ALL` and `Rule::id`.

use super::Rule;

/// A name folded for comparison: trimmed, lower case, `_` read as `-`.
pub(crate) fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// The rule a name means, however it is spelled (`blocking_fs`, `Blocking-Fs`).
pub(crate) fn rule(name: &str) -> Option<Rule> {
    let name = normalise(name);
    Rule::ALL.iter().copied().find(|r| r.id() == name)
}

/// The candidate closest to `name`, if one is close enough to be what was meant: a few edits
/// away (`blocking-fss`, `blockingfs`, `blocking-file`), or holding every word of `name` in
/// order (`fs` -> `blocking-fs`, `serial-loop` -> `serial-await-loop`).
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = normalise(name);
    if name.is_empty() {
        return None;
    }
    let words: Vec<&str> = name.split('-').filter(|w| !w.is_empty()).collect();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&name, candidate);
        let close = distance <= (name.chars().count() / 3).max(1);
        let score = if close {
            distance
        } else if holds_words_in_order(candidate, &words) {
            // Further than a typo, but plainly named by its words.
            100 + candidate.len()
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn holds_words_in_order(candidate: &str, words: &[&str]) -> bool {
    let mut parts = candidate.split('-');
    !words.is_empty() && words.iter().all(|w| parts.any(|p| p == *w))
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_a_rule() {
        assert_eq!(rule("blocking_fs"), Some(Rule::BlockingFs));
        assert_eq!(rule(" Blocking-FS "), Some(Rule::BlockingFs));
        assert_eq!(rule("blocking-fss"), None);
    }

    fn suggest_rule(name: &str) -> Option<&'static str> {
        closest(name, Rule::ALL.iter().map(|r| r.id()))
    }

    #[test]
    fn typos_get_the_closest_id() {
        assert_eq!(suggest_rule("blocking-fss"), Some("blocking-fs"));
        assert_eq!(suggest_rule("blockingfs"), Some("blocking-fs"));
        assert_eq!(suggest_rule("blokcing-sleep"), Some("blocking-sleep"));
        assert_eq!(suggest_rule("fs"), Some("blocking-fs"));
        assert_eq!(suggest_rule("serial-loop"), Some("serial-await-loop"));
        assert_eq!(suggest_rule("frobnicate"), None);
        assert_eq!(suggest_rule(""), None);
    }
}
