//! The command line of `cucmsim farm`: which phones (a scenario's fleet, or a MAC range with a
//! MIC CA for an external server), which servers and over what (TCP, or QUIC to serve), what
//! each phone does, the load, and how several farms work as one (`--coordinate`, `--join`).

use crate::bench::parse_duration;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Examples of `cucmsim farm`.
pub const FARM_EXAMPLES: &str = "\
Examples:
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tftp 127.0.0.1:6969 --tvs 127.0.0.1:2445 --workload boot --rate 50 --count 200
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 127.0.0.1:2445 --workload tvs-query --clients 16 --duration 20s --json --baseline
  cucmsim farm --scenario scenarios/wire/enroll.toml --fleet nulls --capf 127.0.0.1:3804 --workload enroll --rate 20 --count 100
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 127.0.0.1:2445 --workload tvs-verify --count 20
Over QUIC to `serve --quic-port 4433` (every phone's session on its own stream):
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --transport quic --quic 127.0.0.1:4433 --workload boot --rate 100
Two farms, one report (start the coordinator first; it prints where it listens):
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 10.0.0.5:2445 --workload tvs-query --clients 64 --duration 30s --coordinate 0.0.0.0:7400 --farms 2
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 10.0.0.5:2445 --join 10.0.0.9:7400

Phones for an external server (MICs from your MIC CA, the server's certificates pinned):
  cucmsim farm --phones 1000 --mac-start 001122000000 --mic-ca keys/mic-ca --identity TVS=keys/pub/TVS.pem --identity ITLRecovery=keys/ITLRecovery.pem --tvs 10.0.0.5:2445 --workload tvs-query --rate 100

Exit codes: 0 every operation succeeded, 1 some failed (see `errors`), 2 bad scenario,
arguments or output directory, or a farm of a coordinated run lost.";

/// What each phone does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Workload {
    /// TFTP CTL/ITL/config, verified by the phone machine, TVS when its trust rules ask.
    Boot,
    /// One TLS session to TVS with a QUERY_CERT for the cluster's ITLRecovery certificate.
    TvsQuery,
    /// One TLS session to TVS with a CERT_VERIFICATION of the publisher's Tomcat certificate
    /// (what usecallmanager's tvsd answers).
    TvsVerify,
    /// One CAPF session (Install/Upgrade as the scenario's capf_operation set it).
    Enroll,
}

impl Workload {
    /// The operation's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Boot => "boot",
            Workload::TvsQuery => "tvs.query",
            Workload::TvsVerify => "tvs.verify",
            Workload::Enroll => "capf.enroll",
        }
    }
}

/// How the phones reach the services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// A TCP connection per session (UDP for TFTP): any server.
    Tcp,
    /// Streams of a few QUIC connections to `cucmsim serve --quic-port`.
    Quic,
}

pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("{s:?}: {e} (expected HOST:PORT)"))?
        .next()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

/// Arguments of `cucmsim farm`.
#[derive(Args, Debug, Clone)]
pub struct FarmArgs {
    /// The scenario whose fleet the phones are (MACs, model, MICs from its seed).
    #[arg(long, required_unless_present = "phones", conflicts_with = "phones")]
    pub scenario: Option<PathBuf>,
    /// The fleet.
    #[arg(long, requires = "scenario")]
    pub fleet: Option<String>,
    /// Without a scenario: this many phones, MACs from --mac-start up, MICs issued by --mic-ca.
    #[arg(long, requires_all = ["mac_start", "mic_ca"])]
    pub phones: Option<u32>,
    /// The first phone's MAC (12 hex digits), with --phones.
    #[arg(long, requires = "phones")]
    pub mac_start: Option<String>,
    /// The MIC CA, with --phones: a directory with `issuing.pem` + `issuing.key` (and
    /// `root.pem`), as `serve --export-keys` writes under `mic-ca/`, or `cert.pem` + `key.pem`.
    #[arg(long, requires = "phones")]
    pub mic_ca: Option<PathBuf>,
    /// Phone model, with --phones.
    #[arg(long, default_value = "8861", requires = "phones")]
    pub model: String,
    /// Seed [default: the scenario's] (must match the server's to be trusted); with --phones
    /// it only derives the phones' keys.
    #[arg(long)]
    pub seed: Option<u64>,
    /// TFTP server (UDP HOST:PORT), for boot.
    #[arg(long, value_parser = parse_addr)]
    pub tftp: Option<SocketAddr>,
    /// TVS server (HOST:PORT), for boot and tvs-query.
    #[arg(long, value_parser = parse_addr)]
    pub tvs: Option<SocketAddr>,
    /// CAPF server (HOST:PORT), for enroll.
    #[arg(long, value_parser = parse_addr)]
    pub capf: Option<SocketAddr>,
    /// tcp: a connection per session to --tftp/--tvs/--capf; quic: every session and file on
    /// its own stream of --quic-conns QUIC connections to --quic (`cucmsim serve --quic-port`).
    #[arg(long, value_enum, default_value = "tcp")]
    pub transport: TransportKind,
    /// serve's QUIC address (HOST:PORT), with --transport quic.
    #[arg(long, value_parser = parse_addr)]
    pub quic: Option<SocketAddr>,
    /// QUIC connections the streams are spread over.
    #[arg(long, default_value_t = 4)]
    pub quic_conns: usize,
    /// The QUIC link's keys from files (`farm.pem`, `farm.key`, `serve.pem`) [default: derived
    /// from the seed, as serve of the same scenario does].
    #[arg(long)]
    pub quic_keys: Option<PathBuf>,
    /// What each phone does (a joining farm takes the coordinator's).
    #[arg(long, value_enum, required_unless_present = "join")]
    pub workload: Option<Workload>,
    /// Open model: operations started per second, on schedule whatever the answers.
    #[arg(long, conflicts_with = "clients")]
    pub rate: Option<f64>,
    /// Closed model: this many phones in loops (an operation, think, the next).
    #[arg(long)]
    pub clients: Option<u32>,
    /// Closed model: pause between a client's operations.
    #[arg(long, value_parser = parse_duration)]
    pub think: Option<f64>,
    /// Stop starting operations after this long.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Stop after this many operations [default with neither: one per phone of the fleet].
    #[arg(long)]
    pub count: Option<u64>,
    /// Each operation gives up after this long (every connect, read and write within it).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: f64,
    /// Operations in flight at most (open model); an arrival over it fails "farm overloaded".
    #[arg(long, default_value_t = 20_000)]
    pub max_inflight: usize,
    /// Judge certificates at the scenario's epoch (running in real time) instead of the host clock.
    #[arg(long)]
    pub scenario_clock: bool,
    /// A certificate the phones pin instead of the seed's: `--identity TVS=tvs.pem` (a real
    /// TVS) or `--identity CAPF=capf.pem`; `ITLRecovery=` / `tomcat=` set what tvs-query /
    /// tvs-verify ask about; repeatable.
    #[arg(long, value_parser = crate::wire::identity::parse_identity)]
    pub identity: Vec<crate::wire::identity::IdentityArg>,
    /// VERSION the phones send in AUTH_RES [default: the fleet's, 3 for CAPFv3 endpoints
    /// else 2]; usecallmanager's capfd wants 3.
    #[arg(long)]
    pub capf_version: Option<u8>,
    #[command(flatten)]
    pub tvs_decode: crate::wire::tvs::TvsDecodeArgs,
    /// After the run, measure raw in-memory TLS handshakes (same phone and TVS certificates,
    /// every core) and report the farm's sessions/s against them.
    #[arg(long)]
    pub baseline: bool,
    /// Coordinate a run of --farms farms (this one included) from this address (HOST:PORT;
    /// port 0 = any, printed): the others `--join` it, each gets a slice of the phones and of
    /// the load, all start together, and this farm prints the one merged report.
    #[arg(long, value_parser = parse_addr, requires = "farms", conflicts_with = "join")]
    pub coordinate: Option<SocketAddr>,
    /// Farms in a coordinated run, the coordinator included.
    #[arg(long, requires = "coordinate")]
    pub farms: Option<u32>,
    /// Join the coordinated run at HOST:PORT (the coordinator's plan is run on this farm's
    /// phones and servers).
    #[arg(long, value_parser = parse_addr)]
    pub join: Option<SocketAddr>,
    /// Coordinated runs: how long to wait for the other farms to join and be ready.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub join_timeout: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write report.json here (never over an earlier report without --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
}
