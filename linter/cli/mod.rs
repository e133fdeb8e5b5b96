//! The command line: flags (clap derive), exit codes, stdin mode. Thin: everything it does is
//! a library call followed by printing.

pub mod cargo;
mod color;
mod fixing;

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::diagnostic::Report;
use crate::engine::{self, RunOptions};
use crate::output::{self, Context, Format, Style};
use crate::project::config;
use crate::registry::Rule;
use color::ColorChoice;

/// Exit codes.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "stall",
    version,
    about = "Find code that stalls an async Rust runtime",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files and directories (default: the current directory)
    Check(CheckArgs),
    /// List the rules
    Rules,
    /// Print a rule's documentation
    Explain {
        /// A rule id, e.g. blocking-fs
        rule: String,
    },
    /// Run the language server (LSP over stdin/stdout), for editors
    Lsp,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check; `-` reads one file from stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long = "output-format", alias = "format", value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colour
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Also check test code (`#[test]`, `#[tokio::test]`, `#[cfg(test)]`)
    #[arg(long)]
    pub include_tests: bool,
    /// Do not follow calls into sync functions of the checked crates
    #[arg(long)]
    pub no_transitive: bool,
    /// Show every finding, also those in code that runs only at startup or supports tests
    /// (by default only code that runs beside other tasks is reported; the rest is counted)
    #[arg(long)]
    pub all: bool,
    /// Name to use for the file read from stdin
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Print findings only, no summary
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the number of findings per rule
    #[arg(long)]
    pub statistics: bool,
    /// Exit with 0 even when there are findings (errors still exit with 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Worker threads (default: all cores)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Report only these rules (comma-separated rule ids)
    #[arg(long, value_delimiter = ',', value_parser = parse_rule, value_name = "RULES")]
    pub select: Vec<Rule>,
    /// Do not report these rules (comma-separated rule ids)
    #[arg(long, value_delimiter = ',', value_parser = parse_rule, value_name = "RULES")]
    pub ignore: Vec<Rule>,
    /// Use this config file (stall.toml syntax, or a Cargo.toml with a stall metadata table)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore config files
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
    /// Apply the fixes that are safe (machine-applicable), then report what is left
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff, also apply fixes that may need a hand (maybe-incorrect)
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Show the fixes as a unified diff instead of writing them
    #[arg(long)]
    pub diff: bool,
    /// Report `stall: allow(..)` suppressions that suppress nothing
    #[arg(long)]
    pub report_unused_suppressions: bool,
    /// Parse every file up front instead of only those that can matter (same findings; slower)
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
}

pub fn main() -> ExitCode {
    engine::install_panic_hook();
    let cli = Cli::parse();
    ExitCode::from(dispatch(cli, &[PathBuf::from(".")], None))
}

/// Runs a parsed command line. `check` without paths checks `defaults`; `workspace` (from
/// cargo metadata, for `cargo stall`) names the packages of files for `--format cargo`.
pub(crate) fn dispatch(cli: Cli, defaults: &[PathBuf], workspace: Option<&cargo::Workspace>) -> u8 {
    match cli.command {
        Command::Check(args) => check(args, defaults, workspace),
        Command::Rules => {
            let mut out = io::stdout().lock();
            for rule in Rule::ALL {
                let _ = writeln!(out, "{:<24}{}", rule.id(), rule.summary());
            }
            EXIT_CLEAN
        }
        Command::Explain { rule } => match Rule::from_id(&rule) {
            Some(r) => {
                print!("# {}\n\n{}", r.id(), r.doc());
                EXIT_CLEAN
            }
            None => {
                eprintln!("error: unknown rule `{rule}`; run `stall rules` to list them");
                EXIT_ERROR
            }
        },
        Command::Lsp => match crate::lsp::serve() {
            Ok(()) => EXIT_CLEAN,
            Err(e) => {
                eprintln!("error: stall lsp: {e}");
                EXIT_ERROR
            }
        },
    }
}

fn check(args: CheckArgs, defaults: &[PathBuf], workspace: Option<&cargo::Workspace>) -> u8 {
    let run = match run_options(&args) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let stdin = args.paths.len() == 1 && args.paths[0].as_os_str() == "-";
    let paths = if args.paths.is_empty() { defaults.to_vec() } else { args.paths.clone() };
    let mut report = if stdin { check_stdin(&args, &run) } else { engine::check_paths(&paths, &run) };
    if (args.fix || args.diff) && !stdin {
        let mut out = io::stdout().lock();
        let applied = match fixing::apply(&report, args.unsafe_fixes, args.diff, &mut out) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: cannot write output: {e}");
                return EXIT_ERROR;
            }
        };
        for (path, why) in &applied.refused {
            eprintln!("warning: {path}: not fixed: {why}");
        }
        if args.diff {
            eprintln!("{} fix(es) in {} file(s) would be applied.", applied.fixed, applied.files);
            return if applied.fixed > 0 { EXIT_FINDINGS } else { EXIT_CLEAN };
        }
        if applied.fixed > 0 {
            eprintln!("Fixed {} problem(s) in {} file(s).", applied.fixed, applied.files);
            report = engine::check_paths(&paths, &run);
        }
    }
    let mut context = Context { root: std::env::current_dir().unwrap_or_default(), ..Context::default() };
    if args.format == Format::Cargo {
        context.targets = cargo::Targets::new(workspace).of_report(&report);
    }
    let style = Style {
        color: args.color.enabled(io::stdout().is_terminal()),
        quiet: args.quiet,
        statistics: args.statistics,
        context,
    };
    let mut out = io::stdout().lock();
    let written = output::write(&report, args.format, &style, &mut out).and_then(|_| out.flush());
    if let Err(e) = written {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return EXIT_ERROR;
        }
    }
    // JSON and SARIF carry the errors; the other formats leave them to stderr.
    if !matches!(args.format, Format::Json | Format::Sarif) {
        for e in &report.errors {
            eprintln!("error: {}: {}", e.path, e.message);
        }
    }
    if !report.errors.is_empty() {
        EXIT_ERROR
    } else if report.diagnostics().next().is_some() && !args.exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Options from the config (found from the first path, or named by `--config`), then flags.
fn run_options(args: &CheckArgs) -> Result<RunOptions, String> {
    let mut run = RunOptions { jobs: args.jobs, prefilter: !args.no_prefilter, ..Default::default() };
    let start = match (&args.stdin_filename, args.paths.first()) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) if p.as_os_str() != "-" => p.clone(),
        _ => PathBuf::from("."),
    };
    if !args.isolated {
        let loaded = match &args.config {
            Some(path) => Some(config::load_file(path)),
            None => config::discover(&start).transpose(),
        };
        if let Some(loaded) = loaded {
            let loaded = loaded.map_err(|e| format!("{e}; fix the config or pass --isolated"))?;
            run.apply_config(&loaded).map_err(|e| e.to_string())?;
        }
    }
    if args.include_tests {
        run.options.include_tests = true;
    }
    run.policy.include_tests = run.options.include_tests;
    if args.all {
        run.policy.report = crate::project::config::ReportLevel::All;
    }
    if args.no_transitive {
        run.transitive = false;
    }
    if !args.select.is_empty() {
        run.policy.select = Some(args.select.iter().copied().collect());
    }
    run.policy.ignore.extend(args.ignore.iter().copied());
    run.policy.report_unused_suppressions = args.report_unused_suppressions;
    Ok(run)
}

fn parse_rule(s: &str) -> Result<Rule, String> {
    Rule::from_id(s).ok_or_else(|| format!("unknown rule `{s}`; `stall rules` lists them"))
}

fn check_stdin(args: &CheckArgs, run: &RunOptions) -> Report {
    let name = args.stdin_filename.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
    let mut bytes = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut bytes) {
        let mut report = Report::default();
        report.errors.push(crate::diagnostic::FileError {
            path: name.display().to_string(),
            message: format!("cannot read standard input: {e}"),
        });
        return report;
    }
    match String::from_utf8(bytes) {
        Ok(text) => engine::check_text(&name, None, text.into(), run),
        Err(e) => {
            let mut report = Report::default();
            let at = e.utf8_error().valid_up_to();
            report.errors.push(crate::diagnostic::FileError {
                path: name.display().to_string(),
                message: format!("not valid UTF-8 (first bad byte at offset {at}); the file was not checked"),
            });
            report
        }
    }
}
