//! `cucmsim farm`: phones of a scenario's fleet, each with its own MIC from the seed, doing the
//! real protocol on real sockets against `--tftp`, `--tvs`, `--capf` — `cucmsim serve` of the
//! same scenario, or any server that trusts the scenario's MIC CA.
//!
//! ```text
//!  FarmArgs ─► Fleet (phones, PKI, CAPF modes from the seed) ─► phones warmed (MICs made)
//!  open model  (--rate R): operation k starts at t0 + k/R whether or not earlier ones finished;
//!                          latency = end − intended start (no coordinated omission)
//!  closed model (--clients C): C loops of operation, think, operation …
//!  each operation: boot.rs (the phone machine) │ tvsq.rs (QUERY_CERT) │ enroll.rs (CAPF)
//!  ─► one HdrHistogram per operation and sub-operation, errors by reason ─► table │ --json │ --out
//! ```
//! Every I/O is bounded by `--timeout` from the operation's start: an unreachable, silent or
//! resetting server gives per-phone errors (`timeout`, `refused`, `reset`, `TLS alert: …`),
//! never a hang.

mod baseline;
mod boot;
mod conn;
mod enroll;
mod fleet;
mod run;
mod tvsq;

pub use fleet::Fleet;
pub use run::{drive, Load, Plan};
pub use tvsq::tvs_frame;

use super::clock::WireClock;
use super::hist::{Recorder, Shared};
use crate::bench::parse_duration;
use crate::lang::compile::Overrides;
use clap::{Args, ValueEnum};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Examples of `cucmsim farm`.
pub const FARM_EXAMPLES: &str = "\
Examples:
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tftp 127.0.0.1:6969 --tvs 127.0.0.1:2445 --workload boot --rate 50 --count 200
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 127.0.0.1:2445 --workload tvs-query --clients 16 --duration 20s --json --baseline
  cucmsim farm --scenario scenarios/wire/enroll.toml --fleet nulls --capf 127.0.0.1:3804 --workload enroll --rate 20 --count 100
  cucmsim farm --scenario scenarios/default.toml --fleet lobby --tvs 127.0.0.1:2445 --workload tvs-verify --count 20

Exit codes: 0 every operation succeeded, 1 some failed (see `errors`), 2 bad scenario,
arguments or output directory.";

/// What each phone does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
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

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("{s:?}: {e} (expected HOST:PORT)"))?
        .next()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

/// Arguments of `cucmsim farm`.
#[derive(Args, Debug, Clone)]
pub struct FarmArgs {
    /// The scenario whose fleet the phones are (MACs, model, MICs from its seed).
    #[arg(long)]
    pub scenario: PathBuf,
    /// The fleet.
    #[arg(long)]
    pub fleet: String,
    /// Seed [default: the scenario's] (must match the server's to be trusted).
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
    #[arg(long, value_enum)]
    pub workload: Workload,
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
    /// TVS) or `--identity CAPF=capf.pem`; repeatable.
    #[arg(long, value_parser = crate::wire::identity::parse_identity)]
    pub identity: Vec<crate::wire::identity::IdentityArg>,
    /// VERSION the phones send in AUTH_RES [default: the fleet's, 3 for CAPFv3 endpoints
    /// else 2]; usecallmanager's capfd wants 3.
    #[arg(long)]
    pub capf_version: Option<u8>,
    /// After the run, measure raw in-memory TLS handshakes (same phone and TVS certificates,
    /// every core) and report the farm's sessions/s against them.
    #[arg(long)]
    pub baseline: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write report.json here (never over an earlier report without --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
}

/// What every operation shares.
pub struct Ctx {
    pub fleet: Fleet,
    pub clock: WireClock,
    pub tftp: Option<SocketAddr>,
    pub tvs: Option<SocketAddr>,
    pub capf: Option<SocketAddr>,
    pub rec: Shared,
    /// TFTP: wait this long for each packet.
    pub packet_timeout: Duration,
}

/// Checks the addresses a workload needs.
fn check_targets(a: &FarmArgs) -> Result<(), String> {
    let missing = match a.workload {
        Workload::Boot if a.tftp.is_none() => Some("--tftp"),
        Workload::TvsQuery | Workload::TvsVerify if a.tvs.is_none() => Some("--tvs"),
        Workload::Enroll if a.capf.is_none() => Some("--capf"),
        _ => None,
    };
    match missing {
        Some(m) => Err(format!("--workload {:?} needs {m}", a.workload)),
        None => Ok(()),
    }
}

/// The load as the arguments give it.
fn plan(a: &FarmArgs, fleet_len: u32) -> Result<Plan, String> {
    let load = match (a.rate, a.clients) {
        (Some(r), _) if !(r > 0.0 && r.is_finite()) => return Err("--rate must be > 0".into()),
        (Some(r), _) => Load::Open { rate: r },
        (None, Some(0)) => return Err("--clients must be at least 1".into()),
        (None, Some(c)) => Load::Closed {
            clients: c,
            think: Duration::from_secs_f64(a.think.unwrap_or(0.0)),
        },
        (None, None) => Load::Closed {
            clients: 1,
            think: Duration::ZERO,
        },
    };
    let count = match (a.count, a.duration) {
        (None, None) => Some(u64::from(fleet_len)),
        (c, _) => c,
    };
    Ok(Plan {
        workload: a.workload,
        load,
        count,
        duration: a.duration.map(Duration::from_secs_f64),
        timeout: Duration::from_secs_f64(a.timeout.max(0.001)),
        max_inflight: a.max_inflight.max(1),
    })
}

/// Builds the farm's shared context from the arguments.
pub fn context(a: &FarmArgs) -> Result<(Ctx, Plan), String> {
    check_targets(a)?;
    let overrides = Overrides {
        seed: a.seed,
        ..Overrides::default()
    };
    let compiled =
        crate::lang::load_with(Some(&a.scenario), overrides).map_err(|e| e.to_string())?;
    let mut fleet = Fleet::new(&compiled.spec, &a.fleet)?;
    fleet.pin(&a.identity)?;
    if let Some(v) = a.capf_version {
        let mut p = (*fleet.capf_profile).clone();
        p.version = v;
        fleet.capf_profile = Arc::new(p);
    }
    if fleet.is_empty() {
        return Err(format!("fleet {} has no phone", a.fleet));
    }
    let plan = plan(a, fleet.len())?;
    let clock = if a.scenario_clock {
        WireClock::starting_at(compiled.spec.epoch)
    } else {
        WireClock::new(0)
    };
    let packet = Duration::from_secs_f64((a.timeout / 8.0).clamp(0.05, 1.0));
    let ctx = Ctx {
        fleet,
        clock,
        tftp: a.tftp,
        tvs: a.tvs,
        capf: a.capf,
        rec: Shared::default(),
        packet_timeout: packet,
    };
    Ok((ctx, plan))
}

/// `cucmsim farm`; returns the exit code.
pub fn run(a: &FarmArgs) -> u8 {
    let (ctx, plan) = match context(a) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cucmsim farm: {e}");
            return 2;
        }
    };
    let dir = match &a.out {
        Some(out) => match crate::reports::outdir::prepare(Some(out), "farm", 0, a.force) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("cucmsim farm: {e}");
                return 2;
            }
        },
        None => None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cucmsim farm: runtime: {e}");
            return 2;
        }
    };
    let ctx = Arc::new(ctx);
    let outcome = rt.block_on(drive(ctx.clone(), plan.clone()));
    let mut report = report(a, &plan, &outcome.0, outcome.1);
    if a.baseline {
        report["baseline"] = baseline_json(&ctx, &report, outcome.1);
    }
    print_report(a, &report, &outcome.0);
    if let Some(dir) = dir {
        let path = dir.join("report.json");
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cucmsim farm: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    let (_, failed) = outcome.0.counts(plan.workload.name());
    u8::from(failed > 0)
}

/// The report on stdout: JSON, or the table and the rates.
fn print_report(a: &FarmArgs, report: &serde_json::Value, rec: &Recorder) {
    if a.json {
        let text = serde_json::to_string_pretty(report).unwrap_or_default();
        println!("{text}");
        return;
    }
    print!("{}", rec.table());
    let f = |k: &str| report[k].as_f64().unwrap_or(0.0);
    println!(
        "{:.1} operations/s ({:.1} ok/s) over {:.2} s",
        f("achieved_per_s"),
        f("ok_per_s"),
        f("wall_s")
    );
    let b = &report["baseline"];
    if let Some(raw) = b["raw_handshakes_per_s"].as_f64() {
        println!(
            "baseline: {raw:.1} raw in-memory TLS handshakes/s on {} threads; farm/raw = {:.2}",
            b["threads"],
            b["ratio"].as_f64().unwrap_or(0.0)
        );
    } else if let Some(e) = b["error"].as_str() {
        println!("baseline: {e}");
    }
}

/// Raw handshakes/s beside the farm's sessions/s.
fn baseline_json(ctx: &Ctx, report: &serde_json::Value, wall_s: f64) -> serde_json::Value {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let for_s = wall_s.clamp(2.0, 10.0);
    match baseline::raw_handshakes_per_s(&ctx.fleet, ctx.clock.wall(), threads, for_s) {
        Ok(raw) => {
            let farm = report["ok_per_s"].as_f64().unwrap_or(0.0);
            serde_json::json!({
                "raw_handshakes_per_s": raw,
                "threads": threads,
                "farm_sessions_per_s": farm,
                "ratio": if raw > 0.0 { farm / raw } else { 0.0 },
            })
        }
        Err(e) => serde_json::json!({ "error": e }),
    }
}

/// The report: what was asked, what was done, the histograms and errors.
pub fn report(a: &FarmArgs, plan: &Plan, rec: &Recorder, wall_s: f64) -> serde_json::Value {
    let mut j = rec.to_json();
    let (ok, failed) = rec.counts(plan.workload.name());
    j["workload"] = plan.workload.name().into();
    j["scenario"] = a.scenario.display().to_string().into();
    j["fleet"] = a.fleet.clone().into();
    j["load"] = match plan.load {
        Load::Open { rate } => serde_json::json!({ "model": "open", "rate_per_s": rate }),
        Load::Closed { clients, think } => serde_json::json!({
            "model": "closed", "clients": clients, "think_s": think.as_secs_f64()
        }),
    };
    j["wall_s"] = wall_s.into();
    let per_s = |n: u64| if wall_s > 0.0 { n as f64 / wall_s } else { 0.0 };
    j["achieved_per_s"] = per_s(ok + failed).into();
    j["ok_per_s"] = per_s(ok).into();
    j
}
