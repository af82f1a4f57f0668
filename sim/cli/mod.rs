//! The `cucmsim` command line: `inspect` (ITL/CTL/.sgn/PEM/DER/PKCS#12, like CUCM's
//! `show itl`), `run` (a scenario on virtual time, with its reports), `check` (a scenario
//! without running it), `explore` (fault search with shrunk reproducers), `bench scale | tvs |
//! capf` (how fast the simulator and the simulated services are), `pki demo` (a small
//! cluster's real artefacts on disk), and wire mode's `serve` and `farm` ([`crate::wire`]).
//!
//! ```text
//!  argv ──args::Cli──► dispatch ──► inspect::run | run::run | check::check | explore::run | perf::scale
//!                                   | bench::main(Tvs / Capf) | demo::run ──► exit code
//! ```
//!
//! Exit codes: 0 success; 1 the file parsed but did not verify (or an expectation failed);
//! 2 bad input — unreadable file, parse error, bad arguments — with one clear line, never a panic.

pub mod args;
pub mod check;
pub mod demo;
pub mod explore;
pub mod inspect;
pub mod memory;
pub mod perf;
pub mod preflight;
pub mod progress;
pub mod run;

use crate::bench;
use args::{BenchCommand, Command, PkiCommand};

/// Sets the process's RSA backend: `--rsa-backend`, else `CUCMSIM_RSA`, else aws-lc. `Err`
/// (exit 2) when `CUCMSIM_RSA` names no backend and no flag overrides it.
pub fn choose_rsa_backend(flag: Option<cucmsim_core::pki::RsaBackend>) -> Result<(), String> {
    use cucmsim_core::pki::signer;
    let chosen = match flag {
        Some(b) => b,
        None => signer::rsa_backend_from_env()?.unwrap_or_default(),
    };
    signer::set_rsa_backend(chosen);
    Ok(())
}

/// Runs one command; returns its exit code.
pub fn dispatch(command: Command) -> u8 {
    match command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Preflight(args) => preflight::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Bench {
            command: BenchCommand::Scale(args),
        } => perf::scale(&args),
        Command::Bench {
            command: BenchCommand::Tvs(args),
        } => bench::main(bench::Service::Tvs, &args),
        Command::Bench {
            command: BenchCommand::Capf(args),
        } => bench::main(bench::Service::Capf, &args),
        Command::Pki {
            command: PkiCommand::Demo(args),
        } => demo::run(&args),
        Command::Serve(args) => crate::wire::serve::run(&args),
        Command::Farm(args) => crate::wire::farm::run(&args),
        Command::Worker(args) => crate::cluster::worker::run(&args.config()),
    }
}
