//! The `cfsign` command: the CLI layer (flags, environment variables,
//! profiles, the terminal) on top of the `cfsign` library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
