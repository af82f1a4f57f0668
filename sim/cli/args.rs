//! The command line as clap reads it: `cucmsim inspect | run | check | bench {scale, tvs,
//! capf} | pki demo`, each command's arguments defined beside its code.
//!
//! ```text
//!  argv ──Cli::try_parse──► Command ──cli::dispatch──► the command's run(), an exit code
//! ```

use clap::{Parser, Subcommand};

/// Examples of the whole tool (`cucmsim --help`).
pub const CLI_EXAMPLES: &str = "\
Examples:
  cucmsim run                                  the bundled default: 200 phones, 10.5 → 12.5
  cucmsim run scenarios/migration/itl_recovery_missing.toml
  cucmsim check my-migration.toml
  cucmsim pki demo --out /tmp/demo
  cucmsim inspect /tmp/demo/tftp/CUCMPUB/ITLFile.tlv   like `show itl`

Exit codes: 0 success; 1 an expectation failed (run) or a signature did not verify
(inspect); 2 bad input (unreadable file, scenario error, bad arguments).";

/// Examples of `cucmsim run`.
pub const RUN_EXAMPLES: &str = "\
Examples:
  cucmsim run                                  the bundled default (scenarios/default.toml)
  cucmsim run scenarios/migration/itl_no_import.toml --seed 7
  cucmsim run scenarios/enrollment/mass_lsc.toml --phones 2000 --out /tmp/lsc
  cucmsim run my-migration.toml --json > report.json
  cucmsim run my-migration.toml --workers 10.0.0.2:7400,10.0.0.3:7400 --secret cluster.secret
                                               phones on two `cucmsim worker`s, same trace

Open report.html (in --out) in a browser: the verdict, the phones per cluster, the failures
with example timelines and the plots. Progress goes to stderr: a bar on a terminal, a plain
line every few seconds otherwise; --quiet turns it off.
Exit codes: 0 every expectation holds, 1 one failed, 2 bad scenario, arguments or output
directory.";

/// Examples of `cucmsim check`.
pub const CHECK_EXAMPLES: &str = "\
Examples:
  cucmsim check scenarios/default.toml
  for f in scenarios/*/*.toml; do cucmsim check \"$f\" || break; done

Exit codes: 0 valid, 2 invalid (`file:line:col: what is wrong` on stderr).";

/// Examples of `cucmsim inspect`.
pub const INSPECT_EXAMPLES: &str = "\
Examples:
  cucmsim inspect ITLFile.tlv                  like `show itl` on the CUCM CLI
  cucmsim inspect SEP001122334455.cnf.xml.sgn --trust ITLFile.tlv
  cucmsim inspect CUCMPUB_tomcat.pkcs12 --password cucmsim --json

Exit codes: 0 parsed and verified, 1 parsed but not verified, 2 unreadable or unparsable.";

/// Examples of `cucmsim bench`.
pub const BENCH_EXAMPLES: &str = "\
Examples:
  cucmsim bench scale --phones 20000 --baseline-phones 2000
  cucmsim bench tvs --rate 1500 --duration 20s
  cucmsim bench capf --clients 50";

/// Examples of `cucmsim bench scale`.
pub const SCALE_EXAMPLES: &str = "\
Examples:
  cucmsim bench scale                          100,000 phones against a 10,000-phone baseline
  cucmsim bench scale --phones 20000 --baseline-phones 0 --tls identity
  cucmsim bench scale --scenario my-migration.toml --json

Exit codes: 0 measured, 2 bad scenario or arguments.";

/// Examples of `cucmsim pki` and `cucmsim pki demo`.
pub const PKI_EXAMPLES: &str = "\
Examples:
  cucmsim pki demo --out /tmp/demo
  cucmsim pki demo --out /tmp/demo105 --cucm-version 10.5 --digest sha256 --seed 2
  cucmsim pki demo --cluster SRC --cucm-version 10.5 --out /tmp/src --force
  cucmsim inspect /tmp/demo/tftp/CUCMPUB/ITLFile.tlv

Exit codes: 0 written, 2 bad arguments, a file already there (without --force) or an
unwritable directory.";

#[derive(Parser)]
#[command(
    name = "cucmsim",
    version = crate::version(),
    about = "Simulator of Cisco Unified CM certificate trust: ITL/CTL, TVS, CAPF",
    after_help = CLI_EXAMPLES
)]
pub struct Cli {
    /// The RSA implementation for every command: aws-lc (default), ring (SHA-1 signing falls
    /// back to rsa) or rsa (pure Rust, the slowest). Signatures, verdicts and trace hashes are
    /// the same with each; only speed differs. Default: $CUCMSIM_RSA, else aws-lc.
    #[arg(long, global = true, value_name = "BACKEND")]
    pub rsa_backend: Option<cucmsim_core::pki::RsaBackend>,
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
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(super::inspect::InspectArgs),
    /// Run a scenario on virtual time and check its expectations (no file: the bundled
    /// default, scenarios/default.toml). Exit 0 when every expectation holds, 1 when one
    /// fails, 2 for a bad scenario. Writes report.json under --out
    /// (default results/<scenario>/<seed>/).
    #[command(after_help = RUN_EXAMPLES)]
    Run(super::run::RunArgs),
    /// Check a scenario file without running it: exit 0 when it is valid, 2 with
    /// `file:line:col: what is wrong` when it is not.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(super::check::CheckArgs),
    /// Will this migration work? Preflight from the two clusters' own files (ITL/CTL, trust
    /// stores, certificates, Bulk Certificate Management bundles; layout in the README's "Preflight" section):
    /// phones holding the source's real trust lists move to the destination's, asking the
    /// source TVS. Exit 0 pass, 1 fail (with findings: catalogue entry, evidence, fix), 2 bad
    /// input (naming the file).
    Preflight(super::preflight::PreflightArgs),
    /// Search a scenario for failures: fault plans and operator slips generated over its own
    /// nodes, services, fleets and steps; every distinct failure (an invariant violated, an
    /// expectation failed) shrunk to a small scenario file under --out. Exit 0 when nothing
    /// failed, 1 when failures were found, 2 for bad input.
    Explore(super::explore::ExploreArgs),
    /// Benchmarks of the simulator and of the simulated services.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Wire mode: one cluster node's TFTP (UDP), HTTP 6970, TVS (TLS 2445) and CAPF (TLS 3804)
    /// on real sockets, driven by the simulation's machines at the scenario's seed. Prints the
    /// addresses, stops on Ctrl-C / SIGTERM / --duration, writes server-side latencies.
    #[command(after_help = crate::wire::serve::SERVE_EXAMPLES)]
    Serve(crate::wire::serve::ServeArgs),
    /// Wire mode: a fleet's phones (own MICs from the seed) doing boot, TVS queries or CAPF
    /// enrollment on real sockets against `serve` or any server; per-operation HdrHistograms.
    #[command(after_help = crate::wire::farm::FARM_EXAMPLES)]
    Farm(Box<crate::wire::farm::FarmArgs>),
    /// A node of distributed runs: hosts phone shards of the runs a coordinator (`cucmsim run
    /// SCENARIO --workers ADDR,… --secret FILE`) spreads over it, one run at a time. The nodes
    /// talk ractor_cluster over QUIC; only nodes with the same secret file are let in.
    #[command(after_help = crate::cluster::worker::WORKER_EXAMPLES)]
    Worker(crate::cluster::worker::WorkerArgs),
    /// Public-key infrastructure tools.
    #[command(after_help = PKI_EXAMPLES)]
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
    #[command(after_help = SCALE_EXAMPLES)]
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
    /// Write a two-node cluster's certificates, ITL, CTL, a signed config file, PKCS#12
    /// bundles, trust stores and cluster.toml to a directory, in the layout `preflight` reads
    /// (--cluster NAME names the cluster and its nodes NAMEPUB, NAMESUB). Never overwrites a
    /// file (exit 2) unless --force.
    #[command(after_help = PKI_EXAMPLES)]
    Demo(super::demo::DemoArgs),
}
