//! `cargo stall`: checks the current workspace's members; `cargo stall --message-format=json`
//! runs cargo check and appends stall's findings to its messages.
fn main() -> std::process::ExitCode {
    stall::cargo_main()
}
