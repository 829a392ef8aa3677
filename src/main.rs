fn main() -> std::process::ExitCode {
    cfsign::cli::main()
}
