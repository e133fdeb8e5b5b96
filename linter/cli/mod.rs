//! The command line: flags (clap derive), exit codes, stdin mode. Thin: everything it does is
//! a library call followed by printing.

mod allow;
pub mod cargo;
mod color;
mod fixing;
mod progress;
mod select;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::diagnostic::Report;
use crate::diagnostic::Severity;
use crate::engine::{self, RunOptions};
use crate::output::{self, count, Context, Format, Style};
use crate::project::config;
use crate::registry::Rule;
use color::ColorChoice;
use select::Selection;

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
    Check(Box<CheckArgs>),
    /// List the rules
    Rules,
    /// Print a rule's documentation
    Explain {
        /// A rule id (e.g. blocking-fs), or a family (`blocking`, `serial`) or `ALL` for several
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
    /// Write the report to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,
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
    /// Print only the number of findings per rule (a table; a JSON list with
    /// `--output-format json`)
    #[arg(long)]
    pub statistics: bool,
    /// Exit with 0 even when there are findings (errors still exit with 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Worker threads (default: all cores)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Report only these rules: comma-separated rule ids (`blocking-fs` or `blocking_fs`),
    /// `ALL`, or a family (`blocking`, `serial`)
    #[arg(long, value_delimiter = ',', value_parser = select::parse, value_name = "RULES")]
    pub select: Vec<Selection>,
    /// Report these rules too, on top of the selection (of the config or `--select`)
    #[arg(long, value_delimiter = ',', value_parser = select::parse, value_name = "RULES")]
    pub extend_select: Vec<Selection>,
    /// Do not report these rules (ids or families, as for `--select`)
    #[arg(long, value_delimiter = ',', value_parser = select::parse, value_name = "RULES")]
    pub ignore: Vec<Selection>,
    /// Leave out paths matching these globs (comma-separated, relative to the working
    /// directory), on top of the config's `exclude`. Files named on the command line are
    /// checked anyway
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub exclude: Vec<String>,
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
    /// Add `// stall: allow(rule) -- REASON` at every current finding (REASON: `TODO` unless
    /// given), to adopt stall on existing code and hold only new code to the rules
    #[arg(
        long,
        value_name = "REASON",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "TODO",
        conflicts_with_all = ["fix", "diff"]
    )]
    pub add_allow: Option<String>,
    /// Report `stall: allow(..)` suppressions that suppress nothing
    #[arg(long)]
    pub report_unused_suppressions: bool,
    /// Parse every file up front instead of only those that can matter (same findings; slower)
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
    /// Do not follow calls into the sources of dependencies
    #[arg(long)]
    pub no_dependencies: bool,
    /// Neither read nor write the cache of analysed files (`STALL_CACHE_DIR` sets where it is)
    #[arg(long)]
    pub no_cache: bool,
}

/// How the command line was reached: `stall`, or `cargo stall` (which checks the workspace
/// members by default and exits as cargo does).
#[derive(Default)]
pub(crate) struct Host<'a> {
    /// What `check` checks without paths.
    pub defaults: Vec<PathBuf>,
    /// The workspace (`cargo metadata`), naming the packages of files for `--format cargo`.
    pub workspace: Option<&'a cargo::Workspace>,
    /// Cargo's exit codes: 0 unless an error-level finding or an error (then 101), as
    /// `cargo clippy` exits.
    pub cargo: bool,
    /// `-D warnings` (after `--`): every finding is an error.
    pub deny_warnings: bool,
}

pub fn main() -> ExitCode {
    engine::install_panic_hook();
    let cli = Cli::parse();
    ExitCode::from(dispatch(cli, &Host { defaults: vec![PathBuf::from(".")], ..Host::default() }))
}

/// Runs a parsed command line.
pub(crate) fn dispatch(cli: Cli, host: &Host) -> u8 {
    match cli.command {
        Command::Check(args) => check(*args, host),
        Command::Rules => {
            let mut out = io::stdout().lock();
            for rule in Rule::ALL {
                let _ = writeln!(out, "{:<24}{}", rule.id(), rule.summary());
            }
            EXIT_CLEAN
        }
        Command::Explain { rule } => match select::parse(&rule) {
            Ok(selection) => {
                let docs: Vec<String> =
                    selection.0.iter().map(|r| format!("# {}\n\n{}", r.id(), r.doc())).collect();
                print!("{}", docs.join("\n"));
                EXIT_CLEAN
            }
            Err(e) => {
                eprintln!("error: {e}");
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

fn check(args: CheckArgs, host: &Host) -> u8 {
    if args.statistics && !matches!(args.format, Format::Human | Format::Concise | Format::Json) {
        eprintln!("error: --statistics prints a table, or JSON with `--output-format json`");
        return EXIT_ERROR;
    }
    let run = match run_options(&args) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let stdin = args.paths.len() == 1 && args.paths[0].as_os_str() == "-";
    if stdin {
        return check_stdin(&args, &run, host);
    }
    let paths = if args.paths.is_empty() { host.defaults.clone() } else { args.paths.clone() };
    let check_all = || {
        let found = crate::project::discover::discover_packages(&paths, &[], &run.exclude);
        let progress = progress::Progress::start(found.files.len());
        let report = engine::check_found(&paths, found, &run, &engine::Overlay::new());
        progress.finish();
        report
    };
    let mut report = check_all();
    if let Some(reason) = &args.add_allow {
        let added = allow::add(&report, reason);
        for (path, why) in &added.refused {
            eprintln!("warning: {path}: not suppressed: {why}");
        }
        eprintln!(
            "Added {} in {}.",
            count(added.lines, "suppression", "suppressions"),
            count(added.files, "file", "files")
        );
        if added.lines > 0 {
            report = check_all();
        }
    }
    if args.fix || args.diff {
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
        for (manifest, features) in &applied.features {
            let verb = if args.diff { "would enable" } else { "enabled" };
            let names: Vec<String> = features.iter().map(|f| format!("`{f}`")).collect();
            eprintln!("{manifest}: {verb} tokio's {} for the fixes.", names.join(" and "));
        }
        if args.diff {
            eprintln!("{} would be applied.", applied.summary("fix", "fixes"));
            return if applied.fixed > 0 { EXIT_FINDINGS } else { EXIT_CLEAN };
        }
        if applied.fixed > 0 {
            eprintln!("Fixed {}.", applied.summary("problem", "problems"));
            report = check_all();
        }
    }
    finish(&args, host, report)
}

/// Prints a report as the flags ask, and says how the run ended.
fn finish(args: &CheckArgs, host: &Host, mut report: Report) -> u8 {
    for file in &mut report.files {
        crate::fix::name_needed_features(&mut file.diagnostics);
        if host.deny_warnings {
            for d in &mut file.diagnostics {
                d.severity = Severity::Error;
            }
        }
    }
    let mut context = Context { root: std::env::current_dir().unwrap_or_default(), ..Context::default() };
    if args.format == Format::Cargo {
        context.targets = cargo::Targets::new(host.workspace).of_report(&report);
    }
    let to_terminal = args.output_file.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: args.color.enabled(to_terminal) && args.output_file.is_none(),
        quiet: args.quiet,
        statistics: args.statistics,
        context,
    };
    if let Err(e) = write_report(&report, args.format, &style, args.output_file.as_deref()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
            return EXIT_ERROR;
        }
    }
    // JSON and SARIF carry the errors; the other formats leave them to stderr.
    if !matches!(args.format, Format::Json | Format::Sarif) || args.output_file.is_some() {
        for e in &report.errors {
            eprintln!("error: {}: {}", e.path, e.message);
        }
    }
    if !args.quiet {
        for n in &report.notes {
            eprintln!("note: {n}");
        }
    }
    exit_code(&report, args.exit_zero, host.cargo)
}

/// 0, 1 (findings) or 2 (errors); as cargo (`cargo stall`): 0, or 101 for errors and
/// error-level findings.
fn exit_code(report: &Report, exit_zero: bool, cargo: bool) -> u8 {
    let mut findings = report.diagnostics().map(|(_, d)| d);
    if cargo {
        let failed =
            !report.errors.is_empty() || (!exit_zero && findings.any(|d| d.severity == Severity::Error));
        return if failed { cargo::EXIT_CARGO_FAILURE } else { EXIT_CLEAN };
    }
    if !report.errors.is_empty() {
        EXIT_ERROR
    } else if findings.next().is_some() && !exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Writes the report to standard output, or to `file`.
fn write_report(report: &Report, format: Format, style: &Style, file: Option<&Path>) -> io::Result<()> {
    match file {
        Some(path) => {
            let f = File::create(path)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
            let mut out = BufWriter::new(f);
            output::write(report, format, style, &mut out)?;
            out.flush()
        }
        None => {
            let mut out = io::stdout().lock();
            output::write(report, format, style, &mut out)?;
            out.flush()
        }
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
    if !args.exclude.is_empty() {
        run.add_excludes(&args.exclude, Path::new("."))?;
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
    if args.no_dependencies {
        run.dependencies = false;
    }
    if args.no_cache {
        run.cache = false;
    }
    if !args.select.is_empty() {
        run.policy.select = Some(select::rules(&args.select).into_iter().collect());
    }
    if let Some(selected) = &mut run.policy.select {
        selected.extend(select::rules(&args.extend_select));
    }
    run.policy.ignore.extend(select::rules(&args.ignore));
    run.policy.report_unused_suppressions = args.report_unused_suppressions;
    Ok(run)
}

/// Stdin mode: the text read from stdin, checked as the file `--stdin-filename` names. With
/// `--fix`, the fixed text goes to stdout (for editors) and what is left to stderr; with
/// `--diff`, the diff goes to stdout.
fn check_stdin(args: &CheckArgs, run: &RunOptions, host: &Host) -> u8 {
    if args.add_allow.is_some() {
        eprintln!("error: --add-allow edits files; it does not read standard input");
        return EXIT_ERROR;
    }
    let name = args.stdin_filename.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
    let mut bytes = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut bytes) {
        let mut report = Report::default();
        report.errors.push(crate::diagnostic::FileError {
            path: name.display().to_string(),
            message: format!("cannot read standard input: {e}"),
        });
        return finish(args, host, report);
    }
    let check = |bytes: Vec<u8>| match &args.stdin_filename {
        Some(name) => engine::check_text_in_package(name, bytes, run),
        None => engine::check_text(&name, None, bytes, run),
    };
    let report = check(bytes.clone());
    if !(args.fix || args.diff) {
        return finish(args, host, report);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Not UTF-8: the report says so, and the text goes back unchanged.
            if !args.diff {
                let _ = io::stdout().write_all(e.as_bytes());
            }
            return finish_to_stderr(args, host, report);
        }
    };
    // Only the text's own findings: the others are in files of its package.
    let own = crate::project::discover::same_file(&name);
    let diagnostics: Vec<_> = report
        .files
        .iter()
        .filter(|f| crate::project::discover::same_file(&f.path) == own)
        .flat_map(|f| f.diagnostics.iter().cloned())
        .collect();
    let (fixed, n) = match fixing::fix_text(&text, &diagnostics, args.unsafe_fixes) {
        Ok(Some(f)) => f,
        Ok(None) => (text.clone(), 0),
        Err(why) => {
            eprintln!("warning: {}: not fixed: {why}", name.display());
            (text.clone(), 0)
        }
    };
    let mut out = io::stdout().lock();
    let written = if args.diff {
        let shown = name.display().to_string();
        let d = similar::TextDiff::from_lines(&text, &fixed);
        write!(out, "{}", d.unified_diff().header(&shown, &shown))
    } else {
        out.write_all(fixed.as_bytes())
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        eprintln!("error: cannot write output: {e}");
        return EXIT_ERROR;
    }
    drop(out);
    if args.diff {
        eprintln!("{} would be applied.", count(n, "fix", "fixes"));
        return if n > 0 { EXIT_FINDINGS } else { EXIT_CLEAN };
    }
    // What is left after the fixes, on stderr: stdout holds the source.
    let left = if n > 0 { check(fixed.into_bytes()) } else { report };
    finish_to_stderr(args, host, left)
}

/// `finish`, with the report on stderr (stdout holds the fixed source).
fn finish_to_stderr(args: &CheckArgs, host: &Host, mut report: Report) -> u8 {
    for file in &mut report.files {
        crate::fix::name_needed_features(&mut file.diagnostics);
    }
    let style = Style {
        color: args.color.enabled(io::stderr().is_terminal()),
        quiet: args.quiet,
        statistics: args.statistics,
        context: Context { root: std::env::current_dir().unwrap_or_default(), ..Context::default() },
    };
    let mut err = io::stderr().lock();
    let _ = output::write(&report, args.format, &style, &mut err);
    for e in &report.errors {
        let _ = writeln!(err, "error: {}: {}", e.path, e.message);
    }
    exit_code(&report, args.exit_zero, host.cargo)
}
