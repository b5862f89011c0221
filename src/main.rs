//! The `gatecheck` binary: everything lives in the library (`gatecheck::cli`).

fn main() -> std::process::ExitCode {
    gatecheck::cli::main()
}
