//! The `cucmsim` binary: parse the command line, run the command, exit with its code. The
//! commands live in [`cucmsim::cli`].
//!
//! Exit codes: 0 success; 1 the file parsed but did not verify (or an expectation failed);
//! 2 bad input — unreadable file, parse error, bad arguments — with one clear line, never a panic.

use clap::Parser;
use cucmsim::cli::{args::Cli, dispatch};
use std::process::ExitCode;

/// `tracing` logs on stderr, filtered by `RUST_LOG` (nothing when it is unset).
fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
}

fn main() -> ExitCode {
    init_tracing();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Err(e) = cucmsim::cli::choose_rsa_backend(cli.rsa_backend) {
        eprintln!("cucmsim: {e}");
        return ExitCode::from(2);
    }
    ExitCode::from(dispatch(cli.command))
}
