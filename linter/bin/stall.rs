fn main() -> std::process::ExitCode {
    stall::main()
}
