//! `cucmsim farm`: phones of a scenario's fleet, each with its own MIC from the seed (or a MAC
//! range with MICs from a given MIC CA), doing the real protocol on real sockets against
//! `--tftp`, `--tvs`, `--capf` — `cucmsim serve` of the same scenario, or any server that
//! trusts the MIC CA — or on QUIC streams to serve (`--transport quic`).
//!
//! ```text
//!  FarmArgs (args.rs) ─► Fleet (phones, PKI, CAPF modes from the seed) ─► phones warmed (MICs made)
//!  open model  (--rate R): operation k starts at t0 + k/R whether or not earlier ones finished;
//!                          latency = end − intended start (no coordinated omission)
//!  closed model (--clients C): C loops of operation, think, operation …
//!  each operation: boot.rs (the phone machine) │ tvsq.rs (QUERY_CERT) │ enroll.rs (CAPF)
//!  ─► one HdrHistogram per operation and sub-operation, errors by reason ─► table │ --json │ --out
//!  transport: quic/dial.rs (TCP per session │ QUIC streams);  multi.rs: --coordinate / --join
//! ```
//! Every I/O is bounded by `--timeout` from the operation's start: an unreachable, silent or
//! resetting server gives per-phone errors (`timeout`, `refused`, `reset`, `TLS alert: …`),
//! never a hang.

mod args;
mod baseline;
mod boot;
mod conn;
mod enroll;
mod fleet;
mod multi;
mod run;
mod tvsq;

pub use args::{parse_addr, FarmArgs, TransportKind, Workload, FARM_EXAMPLES};
pub use enroll::capf_client;
pub use fleet::Fleet;

pub use run::{drive, execute, prepare, Load, Outcome, Plan};
pub use tvsq::tvs_frame;

use super::clock::WireClock;
use super::hist::{Recorder, Shared};
use super::quic::dial::{QuicPool, Transport};
use super::quic::LinkKeys;
use crate::lang::compile::Overrides;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every operation shares.
pub struct Ctx {
    pub fleet: Fleet,
    pub clock: WireClock,
    pub tftp: Option<SocketAddr>,
    pub tvs: Option<SocketAddr>,
    pub capf: Option<SocketAddr>,
    pub transport: Transport,
    pub rec: Shared,
    /// TFTP: wait this long for each packet.
    pub packet_timeout: Duration,
    /// The slice of the fleet this farm runs: phones `first .. first + phones`.
    pub first: u32,
    pub phones: u32,
    /// How TVS answers are decoded.
    pub tvs_rules: cucmsim_core::tvs::DecodeRules,
}

/// Checks the addresses a workload needs.
fn check_targets(a: &FarmArgs, w: Workload) -> Result<(), String> {
    if a.transport == TransportKind::Quic {
        // Never silently ignored: over QUIC every service is reached through --quic.
        let tcp: Vec<&str> = [
            ("--tftp", a.tftp.is_some()),
            ("--tvs", a.tvs.is_some()),
            ("--capf", a.capf.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(flag, _)| flag)
        .collect();
        if !tcp.is_empty() {
            return Err(format!(
                "--transport quic reaches every service through --quic; {} would be ignored: \
                 leave it out, or use --transport tcp",
                tcp.join(", ")
            ));
        }
        return match a.quic {
            Some(_) => Ok(()),
            None => Err("--transport quic needs --quic HOST:PORT (serve's --quic-port)".into()),
        };
    }
    let missing = match w {
        Workload::Boot if a.tftp.is_none() => Some("--tftp"),
        Workload::TvsQuery | Workload::TvsVerify if a.tvs.is_none() => Some("--tvs"),
        Workload::Enroll if a.capf.is_none() => Some("--capf"),
        _ => None,
    };
    match missing {
        Some(m) => Err(format!("--workload {w:?} needs {m}")),
        None => Ok(()),
    }
}

/// The load as the arguments give it.
fn plan(a: &FarmArgs, workload: Workload, fleet_len: u32) -> Result<Plan, String> {
    let load = match (a.rate, a.clients) {
        (Some(r), _) if !(r > 0.0 && r.is_finite()) => return Err("--rate must be > 0".into()),
        (Some(r), _) => Load::Open { rate: r },
        (None, Some(0)) => return Err("--clients must be at least 1".into()),
        (None, Some(c)) => Load::Closed {
            clients: c,
            think: Duration::from_secs_f64(a.think.unwrap_or(0.0)),
        },
        (None, None) => Load::Closed {
            // One client per farm (a coordinated run needs one each).
            clients: a.farms.unwrap_or(1).max(1),
            think: Duration::ZERO,
        },
    };
    let count = match (a.count, a.duration) {
        (None, None) => Some(u64::from(fleet_len)),
        (c, _) => c,
    };
    Ok(Plan {
        workload,
        load,
        count,
        duration: a.duration.map(Duration::from_secs_f64),
        timeout: Duration::from_secs_f64(a.timeout.max(0.001)),
        max_inflight: a.max_inflight.max(1),
    })
}

/// The phones: the scenario's fleet, or `--phones` with the MIC CA; and the seed.
fn fleet(a: &FarmArgs) -> Result<(Fleet, u64, cucmsim_core::WallTime), String> {
    let (mut fleet, seed, epoch) = match (&a.scenario, a.phones) {
        (Some(scenario), _) => {
            let name = a.fleet.as_deref().ok_or("--scenario needs --fleet")?;
            let overrides = Overrides {
                seed: a.seed,
                ..Overrides::default()
            };
            let compiled =
                crate::lang::load_with(Some(scenario), overrides).map_err(|e| e.to_string())?;
            let spec = &compiled.spec;
            (Fleet::new(spec, name)?, spec.seed, spec.epoch)
        }
        (None, Some(n)) => {
            let mac = a.mac_start.as_deref().ok_or("--phones needs --mac-start")?;
            let dir = a.mic_ca.as_deref().ok_or("--phones needs --mic-ca")?;
            let f = Fleet::external(n, mac, &a.model, dir, a.seed)?;
            let (seed, epoch) = (f.spec.seed, f.spec.epoch);
            (f, seed, epoch)
        }
        (None, None) => return Err("give --scenario and --fleet, or --phones".into()),
    };
    fleet.pin(&a.identity)?;
    if let Some(v) = a.capf_version {
        let mut p = (*fleet.capf_profile).clone();
        p.version = v;
        fleet.capf_profile = Arc::new(p);
    }
    if fleet.is_empty() {
        return Err("the fleet has no phone".into());
    }
    Ok((fleet, seed, epoch))
}

/// The farm's shared context (every phone of the fleet) from the arguments.
pub fn ctx(a: &FarmArgs) -> Result<Ctx, String> {
    let (fleet, seed, epoch) = fleet(a)?;
    let transport = match (a.transport, a.quic) {
        (TransportKind::Tcp, _) => Transport::tcp(),
        (TransportKind::Quic, Some(server)) => {
            let keys = LinkKeys::from_args(a.quic_keys.as_deref(), seed)?;
            Transport::Quic(Box::new(QuicPool::new(server, &keys, a.quic_conns)?))
        }
        (TransportKind::Quic, None) => {
            return Err("--transport quic needs --quic HOST:PORT (serve's --quic-port)".into())
        }
    };
    let clock = if a.scenario_clock {
        WireClock::starting_at(epoch)
    } else {
        WireClock::new(0)
    };
    let packet = Duration::from_secs_f64((a.timeout / 8.0).clamp(0.05, 1.0));
    Ok(Ctx {
        phones: fleet.len(),
        first: 0,
        fleet,
        clock,
        tftp: a.tftp,
        tvs: a.tvs,
        capf: a.capf,
        transport,
        rec: Shared::default(),
        packet_timeout: packet,
        tvs_rules: a.tvs_decode.rules(),
    })
}

/// With `--phones` (no scenario), the server's certificates a workload needs pinned.
fn check_pins(a: &FarmArgs, w: Workload) -> Result<(), String> {
    use cucmsim_core::pki::identity::CertType as T;
    if a.phones.is_none() {
        return Ok(());
    }
    let need: &[(T, &str)] = match w {
        Workload::Boot => &[],
        Workload::TvsQuery => &[(T::Tvs, "TVS"), (T::ItlRecovery, "ITLRecovery")],
        Workload::TvsVerify => &[(T::Tvs, "TVS"), (T::Tomcat, "tomcat")],
        Workload::Enroll => &[(T::Capf, "CAPF")],
    };
    for (t, name) in need {
        if !a.identity.iter().any(|i| i.cert_type == *t) {
            return Err(format!(
                "--phones --workload {w:?} needs the server's certificate: --identity {name}=FILE.pem"
            ));
        }
    }
    Ok(())
}

/// Builds the farm's shared context and plan from the arguments.
pub fn context(a: &FarmArgs) -> Result<(Ctx, Plan), String> {
    let workload = a.workload.ok_or("--workload is needed")?;
    check_targets(a, workload)?;
    check_pins(a, workload)?;
    let ctx = ctx(a)?;
    let plan = plan(a, workload, ctx.fleet.len())?;
    Ok((ctx, plan))
}

fn fail(e: impl std::fmt::Display) -> u8 {
    eprintln!("cucmsim farm: {e}");
    2
}

/// `cucmsim farm`; returns the exit code.
pub fn run(a: &FarmArgs) -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("runtime: {e}")),
    };
    if let Some(addr) = a.join {
        return rt.block_on(multi::join(a, addr));
    }
    let (ctx, plan) = match context(a) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let dir = match &a.out {
        Some(out) => match crate::reports::outdir::prepare(Some(out), "farm", 0, a.force) {
            Ok(d) => Some(d),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let (outcome, farms, ctx) = match a.coordinate {
        Some(bind) => match rt.block_on(multi::coordinate(a, bind, ctx, plan.clone())) {
            Ok((o, f, ctx)) => (o, Some(f), ctx),
            Err(e) => return fail(e),
        },
        None => {
            let ctx = Arc::new(ctx);
            (rt.block_on(drive(ctx.clone(), plan.clone())), None, ctx)
        }
    };
    let mut report = report(a, &plan, &outcome);
    report["transport"] = ctx.transport.json();
    if let Some(f) = farms {
        report["farms"] = f;
    }
    if a.baseline {
        report["baseline"] = baseline_json(&ctx, &report, outcome.wall_s);
    }
    print_report(a, &report, &outcome.rec);
    if let Some(dir) = dir {
        let path = dir.join("report.json");
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    }
    let (_, failed) = outcome.rec.counts(plan.workload.name());
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
        "{:.1} operations/s ({:.1} ok/s) over {:.2} s; {} connection(s) over {}, at most {} open files",
        f("achieved_per_s"),
        f("ok_per_s"),
        f("wall_s"),
        report["transport"]["connections"],
        report["transport"]["kind"].as_str().unwrap_or("?"),
        report["open_fds_peak"],
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
pub fn report(a: &FarmArgs, plan: &Plan, o: &Outcome) -> serde_json::Value {
    let mut j = o.rec.to_json();
    let (ok, failed) = o.rec.counts(plan.workload.name());
    j["workload"] = plan.workload.name().into();
    match &a.scenario {
        Some(s) => {
            j["scenario"] = s.display().to_string().into();
            j["fleet"] = a.fleet.clone().into();
        }
        None => {
            j["phones"] = a.phones.into();
            j["mac_start"] = a.mac_start.clone().into();
        }
    }
    j["load"] = match plan.load {
        Load::Open { rate } => serde_json::json!({ "model": "open", "rate_per_s": rate }),
        Load::Closed { clients, think } => serde_json::json!({
            "model": "closed", "clients": clients, "think_s": think.as_secs_f64()
        }),
    };
    let wall_s = o.wall_s;
    j["wall_s"] = wall_s.into();
    j["open_fds_peak"] = o.peak_fds.into();
    let per_s = |n: u64| if wall_s > 0.0 { n as f64 / wall_s } else { 0.0 };
    j["achieved_per_s"] = per_s(ok + failed).into();
    j["ok_per_s"] = per_s(ok).into();
    j
}
