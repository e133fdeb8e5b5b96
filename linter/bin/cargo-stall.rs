//! `cargo stall`: checks the current workspace.
fn main() -> std::process::ExitCode {
    stall::cli::main()
}
