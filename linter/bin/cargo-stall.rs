//! `cargo stall`: checks the current workspace's members; `cargo stall --message-format=json`
//! runs cargo check and appends stall's findings to its messages.
// As in `stall`: the analysis allocates many small nodes per file.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    stall::cargo_main()
}
