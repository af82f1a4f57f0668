//! The `cucmsim` command line: `inspect` (ITL/CTL/.sgn/PEM/DER/PKCS#12, like CUCM's
//! `show itl`) and `pki demo` (a small cluster's real artefacts on disk).
//!
//! Exit codes: 0 success; 1 the file parsed but did not verify (or an expectation failed);
//! 2 bad input — unreadable file, parse error, bad arguments — with one clear line, never a panic.

use clap::{Parser, Subcommand};
use cucmsim::{bench, demo, inspect, perf, run_cmd};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cucmsim",
    version,
    about = "Simulator of Cisco Unified CM certificate trust: ITL/CTL, TVS, CAPF"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what is inside an ITL/CTL (`.tlv`), a signed config (`.sgn`), a PEM/DER
    /// certificate or a PKCS#12 bundle, like CUCM's `show itl` / `show ctl`.
    ///
    /// Exit 0 when the file parsed and its signature verified, 1 when it parsed but did not
    /// verify (or no signer record was found), 2 when it could not be read or parsed.
    Inspect(inspect::InspectArgs),
    /// Run a scenario on virtual time and check its expectations (no file: the bundled
    /// default, scenarios/default.toml). Exit 0 when every expectation holds, 1 when one
    /// fails, 2 for a bad scenario. Writes report.json under --out
    /// (default results/<scenario>/<seed>/).
    Run(run_cmd::RunArgs),
    /// Check a scenario file without running it: exit 0 when it is valid, 2 with
    /// `file:line:col: what is wrong` when it is not.
    Check(run_cmd::CheckArgs),
    /// Benchmarks of the simulator and of the simulated services.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Public-key infrastructure tools.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// How fast and lean the simulator is: a migration at --phones (default 100,000) against
    /// the bound Σ verifications × single-verify cost ÷ cores, both measured in this run, and
    /// RSS per phone from a second, smaller run.
    Scale(perf::ScaleArgs),
    /// TVS capacity: the server side of phone↔TVS sessions (TLS 1.2 handshake + QUERY_CERT),
    /// calibrated for real in this run, then served by W workers in model or live mode.
    Tvs(bench::BenchArgs),
    /// CAPF capacity: the server side of enrollments (TLS 1.2 handshake + one LSC issued and
    /// signed by the CAPF key), calibrated for real in this run; LSCs/s vs raw signatures/s.
    Capf(bench::BenchArgs),
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Write a two-node cluster's certificates, ITL, CTL, a signed config file and PKCS#12
    /// bundles to a directory, so you can look at real files.
    Demo(demo::DemoArgs),
}

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
    let code = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Run(args) => run_cmd::run(&args),
        Command::Check(args) => run_cmd::check(&args),
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
    };
    ExitCode::from(code)
}
