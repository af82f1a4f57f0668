//! The command line as clap reads it: `cucmsim inspect | run | check | bench {scale, tvs,
//! capf} | pki demo`, each command's arguments defined beside its code.
//!
//! ```text
//!  argv ──Cli::try_parse──► Command ──cli::dispatch──► the command's run(), an exit code
//! ```

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cucmsim",
    version,
    about = "Simulator of Cisco Unified CM certificate trust: ITL/CTL, TVS, CAPF"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Show what is inside an ITL/CTL (`.tlv`), a signed config (`.sgn`), a PEM/DER
    /// certificate or a PKCS#12 bundle, like CUCM's `show itl` / `show ctl`.
    ///
    /// Exit 0 when the file parsed and its signature verified, 1 when it parsed but did not
    /// verify (or no signer record was found), 2 when it could not be read or parsed.
    Inspect(super::inspect::InspectArgs),
    /// Run a scenario on virtual time and check its expectations (no file: the bundled
    /// default, scenarios/default.toml). Exit 0 when every expectation holds, 1 when one
    /// fails, 2 for a bad scenario. Writes report.json under --out
    /// (default results/<scenario>/<seed>/).
    Run(super::run::RunArgs),
    /// Check a scenario file without running it: exit 0 when it is valid, 2 with
    /// `file:line:col: what is wrong` when it is not.
    Check(super::check::CheckArgs),
    /// Search a scenario for failures: fault plans and operator slips generated over its own
    /// nodes, services, fleets and steps; every distinct failure (an invariant violated, an
    /// expectation failed) shrunk to a small scenario file under --out. Exit 0 when nothing
    /// failed, 1 when failures were found, 2 for bad input.
    Explore(super::explore::ExploreArgs),
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
pub enum BenchCommand {
    /// How fast and lean the simulator is: a migration at --phones (default 100,000) against
    /// the bound Σ verifications × single-verify cost ÷ cores, both measured in this run, and
    /// RSS per phone from a second, smaller run.
    Scale(super::perf::ScaleArgs),
    /// TVS capacity: the server side of phone↔TVS sessions (TLS 1.2 handshake + QUERY_CERT),
    /// calibrated for real in this run, then served by W workers in model or live mode.
    Tvs(crate::bench::BenchArgs),
    /// CAPF capacity: the server side of enrollments (TLS 1.2 handshake + one LSC issued and
    /// signed by the CAPF key), calibrated for real in this run; LSCs/s vs raw signatures/s.
    Capf(crate::bench::BenchArgs),
}

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Write a two-node cluster's certificates, ITL, CTL, a signed config file and PKCS#12
    /// bundles to a directory, so you can look at real files.
    Demo(super::demo::DemoArgs),
}
