//! When to colour output: `--color`, then NO_COLOR, CLICOLOR_FORCE and CARGO_TERM_COLOR, then
//! whether stdout is a terminal.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn enabled(self, is_terminal: bool) -> bool {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        decide(self, is_terminal, env("NO_COLOR"), env("CLICOLOR_FORCE"), env("CARGO_TERM_COLOR"))
    }
}

fn decide(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<String>,
    force: Option<String>,
    cargo: Option<String>,
) -> bool {
    match choice {
        ColorChoice::Always => return true,
        ColorChoice::Never => return false,
        ColorChoice::Auto => {}
    }
    if no_color.is_some() {
        return false;
    }
    if force.is_some_and(|v| v != "0") {
        return true;
    }
    match cargo.as_deref() {
        Some("always") => return true,
        Some("never") => return false,
        _ => {}
    }
    is_terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_environment_and_environment_beats_terminal() {
        let s = |v: &str| Some(v.to_string());
        assert!(decide(ColorChoice::Always, false, s("1"), None, None));
        assert!(!decide(ColorChoice::Never, true, None, s("1"), None));
        assert!(!decide(ColorChoice::Auto, true, s("1"), None, None));
        assert!(decide(ColorChoice::Auto, false, None, s("1"), None));
        assert!(!decide(ColorChoice::Auto, false, None, s("0"), None));
        assert!(decide(ColorChoice::Auto, false, None, None, s("always")));
        assert!(!decide(ColorChoice::Auto, true, None, None, s("never")));
        assert!(decide(ColorChoice::Auto, true, None, None, None));
    }
}
