fn main() -> std::process::ExitCode {
    stall::cli::main()
}
