//! `cucmsim serve`: one cluster node's TFTP (UDP, RFC 1350), HTTP (6970), TVS (TLS 2445) and
//! CAPF (TLS 3804) on real sockets in real time, driven by the simulation's own machines in the
//! state the scenario's seed gives them ([`super::world`]).
//!
//! ```text
//!  scenario ──world::services──► Tftp · Tvs (× shards) · Capf machines
//!  bind ──► "cucmsim serve: listening tftp=… http=… tvs=… capf=… quic=…" (ports 0: ephemeral, actual shown)
//!  --quic-port ──► quic/serve.rs: farms' streams to the same TVS · CAPF · files
//!  run until SIGINT / SIGTERM / --duration ──► report.json (server latencies) in --out, table on stderr
//! ```

use super::capf::CapfServer;
use super::clock::WireClock;
use super::hist::{self, Recorder, Shared};
use super::quic::LinkKeys;
use super::tftp::Files;
use super::tvs::{TvsServer, TvsShards};
use super::world::{services, ServeOptions, Services};
use crate::bench::parse_duration;
use crate::lang::compile::Overrides;
use clap::Args;
use cucmsim_core::machine::tftp::Tftp;
use cucmsim_core::machine::{Effect, Msg};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Examples of `cucmsim serve`.
pub const SERVE_EXAMPLES: &str = "\
Examples:
  cucmsim serve scenarios/default.toml --cluster src --tftp-port 6969
  cucmsim serve scenarios/wire/enroll.toml --cluster hq --tftp-port 0 --tvs-port 0 --duration 60s
  cucmsim serve scenarios/default.toml --cluster src --tftp-port 0 --export-keys /tmp/keys --duration 1s
  cucmsim serve scenarios/wire/enroll.toml --cluster hq --capf-key-type --capf-require-version 3
  cucmsim serve scenarios/default.toml --cluster src --tftp-port 0 --tvs-port 0 --quic-port 4433

The first stdout line names the addresses (ports 0 are chosen by the system):
  cucmsim serve: listening tftp=127.0.0.1:41000 http=127.0.0.1:41001 tvs=… capf=… quic=…
Stops on Ctrl-C, SIGTERM or after --duration, then writes report.json (server-side latency
per operation) under --out [default: results/<scenario>-serve/<seed>/].
Exit codes: 0 stopped cleanly, 2 bad scenario, arguments, port or output directory.";

/// Arguments of `cucmsim serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The scenario whose cluster is served (keys and certificates from its seed).
    pub scenario: PathBuf,
    /// The cluster to serve.
    #[arg(long)]
    pub cluster: String,
    /// The node whose TFTP and TVS are served [default: the cluster's publisher].
    #[arg(long)]
    pub node: Option<String>,
    /// Seed [default: the scenario's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// TFTP port (UDP; 0 = any free port; 69 needs privileges).
    #[arg(long, default_value_t = 69)]
    pub tftp_port: u16,
    /// Plain HTTP config-download port (0 = any).
    #[arg(long, default_value_t = 6970)]
    pub http_port: u16,
    /// TVS port (TLS over TCP; 0 = any).
    #[arg(long, default_value_t = 2445)]
    pub tvs_port: u16,
    /// CAPF port (TLS over TCP; 0 = any).
    #[arg(long, default_value_t = 3804)]
    pub capf_port: u16,
    /// QUIC port for farms (`farm --transport quic`): every phone's TVS/CAPF session and TFTP
    /// file on its own stream (0 = any) [default: no QUIC].
    #[arg(long)]
    pub quic_port: Option<u16>,
    /// The QUIC link's keys from files (`serve.pem`, `serve.key`, `farm.pem`: only farms with
    /// the farm key get in) [default: both derived from the seed].
    #[arg(long)]
    pub quic_keys: Option<PathBuf>,
    /// Stop after this long (e.g. 30s, 10m) [default: until Ctrl-C or SIGTERM].
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Connections open at once per TLS service; more are closed at once and counted.
    #[arg(long, default_value_t = 10_000)]
    pub max_conns: usize,
    /// TVS machines connections are spread over [default: the CPU count].
    #[arg(long)]
    pub shards: Option<usize>,
    /// Judge certificates at the scenario's epoch (running in real time from it) instead of
    /// the host's wall clock.
    #[arg(long)]
    pub scenario_clock: bool,
    /// A certificate (and key) to serve instead of the seed's, e.g.
    /// `--identity TVS=tvs.pem,tvs.key` (types: TVS, CAPF, CallManager, tomcat, ITLRecovery;
    /// PEM certificate, PKCS#8 PEM key); repeatable.
    #[arg(long, value_parser = super::identity::parse_identity)]
    pub identity: Vec<super::identity::IdentityArg>,
    /// Write the cluster's identities and the MIC CA, keys included, into this (empty)
    /// directory before serving, for another server (`<node>/<Type>.pem/.key`, `mic-ca/`).
    #[arg(long)]
    pub export_keys: Option<PathBuf>,
    /// CAPF: put KEY_TYPE in every KEY_GEN_REQ (CAPFv3 endpoints always get it; usecallmanager's
    /// `capfc` refuses a request without it, the CUCM of a Jabber capture sent none).
    #[arg(long)]
    pub capf_key_type: bool,
    /// CAPF: refuse an AUTH_RES whose VERSION is not this (usecallmanager's `capfd` wants 3)
    /// [default: any].
    #[arg(long)]
    pub capf_require_version: Option<u8>,
    #[command(flatten)]
    pub tvs_decode: super::tvs::TvsDecodeArgs,
    /// Where report.json goes (never over an earlier report without --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the report already in --out.
    #[arg(long)]
    pub force: bool,
}

/// Where a running server listens.
#[derive(Clone, Debug, Default)]
pub struct Addrs {
    pub tftp: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub tvs: Option<SocketAddr>,
    pub capf: Option<SocketAddr>,
    pub quic: Option<SocketAddr>,
}

impl Addrs {
    /// The line a test or a script parses.
    pub fn line(&self) -> String {
        let show = |a: &Option<SocketAddr>| a.map_or("-".to_string(), |a| a.to_string());
        format!(
            "cucmsim serve: listening tftp={} http={} tvs={} capf={} quic={}",
            show(&self.tftp),
            show(&self.http),
            show(&self.tvs),
            show(&self.capf),
            show(&self.quic)
        )
    }
}

/// A server running on the current tokio runtime; dropping it stops the listeners.
pub struct Running {
    pub addrs: Addrs,
    pub rec: Shared,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops the listeners; returns what was recorded.
    pub fn stop(self) -> Recorder {
        for t in &self.tasks {
            t.abort();
        }
        hist::snapshot(&self.rec)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The TFTP machine as a file source (`TftpGet` in, `TftpReply` out).
fn files(tftp: Tftp, clock: WireClock) -> Files {
    let tftp = Mutex::new(tftp);
    Arc::new(move |file: &str| {
        let mut t = tftp.lock().unwrap_or_else(|p| p.into_inner());
        let msg = Msg::TftpGet {
            phone: 0,
            file: file.to_string(),
        };
        t.handle(msg, clock.now())
            .into_iter()
            .find_map(|e| match e {
                Effect::Send {
                    msg: Msg::TftpReply { bytes, .. },
                    ..
                } => bytes,
                _ => None,
            })
    })
}

fn bind_err(what: &str, addr: SocketAddr, e: std::io::Error) -> String {
    format!("cannot listen on {addr} ({what}): {e}; choose another port (0 = any free port)")
}

async fn tcp(what: &str, ip: IpAddr, port: u16) -> Result<(TcpListener, SocketAddr), String> {
    let addr = SocketAddr::new(ip, port);
    let l = TcpListener::bind(addr)
        .await
        .map_err(|e| bind_err(what, addr, e))?;
    let a = l.local_addr().map_err(|e| e.to_string())?;
    Ok((l, a))
}

/// TVS machines to spread connections over.
fn shards(args: &ServeArgs) -> usize {
    args.shards
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

/// Binds every port of `services` and starts serving on the current runtime.
pub async fn start(args: &ServeArgs, s: Services, clock: WireClock) -> Result<Running, String> {
    let rec: Shared = Arc::default();
    let mut addrs = Addrs::default();
    let mut tasks = vec![];
    let mut quic = super::quic::serve::Backends {
        tvs: None,
        capf: None,
        files: None,
        rec: rec.clone(),
    };
    let tvs: Vec<_> = (0..shards(args))
        .filter_map(|_| s.new_tvs(clock.wall()))
        .map(|mut t| {
            t.decode = args.tvs_decode.rules();
            t
        })
        .collect();
    if let Some(tftp) = s.tftp {
        let files = files(tftp, clock);
        quic.files = Some(files.clone());
        let addr = SocketAddr::new(args.bind, args.tftp_port);
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|e| bind_err("TFTP", addr, e))?;
        addrs.tftp = Some(udp.local_addr().map_err(|e| e.to_string())?);
        let r = rec.clone();
        let done: super::tftp::Done =
            Arc::new(move |_, us, res| hist::record(&r, "tftp.get", us, res));
        tasks.push(tokio::spawn(super::tftp::serve(udp, files.clone(), done)));
        let (l, a) = tcp("HTTP", args.bind, args.http_port).await?;
        addrs.http = Some(a);
        let r = rec.clone();
        let done: super::http::Done =
            Arc::new(move |us, res| hist::record(&r, "http.get", us, res));
        tasks.push(tokio::spawn(super::http::serve(l, files, done)));
    }
    if !tvs.is_empty() {
        let (l, a) = tcp("TVS", args.bind, args.tvs_port).await?;
        addrs.tvs = Some(a);
        let server = Arc::new(TvsServer {
            shards: TvsShards::new(tvs),
            clock,
            rec: rec.clone(),
            limit: Arc::new(Semaphore::new(args.max_conns.max(1))),
        });
        quic.tvs = Some(server.clone());
        tasks.push(tokio::spawn(super::tvs::serve(l, server)));
    }
    if let Some(capf) = s.capf {
        let (l, a) = tcp("CAPF", args.bind, args.capf_port).await?;
        addrs.capf = Some(a);
        let server = CapfServer::new(capf, clock, rec.clone(), args.max_conns.max(1));
        quic.capf = Some(server.clone());
        tasks.push(tokio::spawn(super::capf::serve(l, server)));
    }
    if let Some(port) = args.quic_port {
        let keys = LinkKeys::from_args(args.quic_keys.as_deref(), s.seed)?;
        let streams = u32::try_from(args.max_conns).unwrap_or(u32::MAX);
        let config = super::quic::server_config(&keys, streams)?;
        let endpoint = super::quic::serve::bind(SocketAddr::new(args.bind, port), config)?;
        addrs.quic = Some(endpoint.local_addr().map_err(|e| e.to_string())?);
        tasks.push(tokio::spawn(super::quic::serve::serve(endpoint, quic)));
    }
    Ok(Running { addrs, rec, tasks })
}

/// Waits for Ctrl-C, SIGTERM or the duration.
async fn stopped(duration: Option<f64>) -> &'static str {
    let sleep = async {
        match duration {
            Some(d) => tokio::time::sleep(std::time::Duration::from_secs_f64(d)).await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = sleep => "duration over",
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term => "terminated",
    }
}

/// `cucmsim serve`; returns the exit code.
pub fn run(args: &ServeArgs) -> u8 {
    match serve_main(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cucmsim serve: {e}");
            2
        }
    }
}

fn serve_main(args: &ServeArgs) -> Result<(), String> {
    let overrides = Overrides {
        seed: args.seed,
        ..Overrides::default()
    };
    let compiled =
        crate::lang::load_with(Some(&args.scenario), overrides).map_err(|e| e.to_string())?;
    let spec = &compiled.spec;
    let dir = crate::reports::outdir::prepare(
        args.out.as_deref(),
        &format!("{}-serve", spec.name),
        spec.seed,
        args.force,
    )?;
    let clock = if args.scenario_clock {
        WireClock::starting_at(spec.epoch)
    } else {
        WireClock::new(0)
    };
    let opts = ServeOptions {
        node: args.node.clone(),
        identities: args.identity.clone(),
        export: args.export_keys.clone(),
        capf_key_type: args.capf_key_type,
        capf_require_version: args.capf_require_version,
    };
    let s = services(spec, &args.cluster, &opts, clock.wall())?;
    let node = s.node.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let (why, rec, addrs) = rt.block_on(async {
        let running = start(args, s, clock).await?;
        println!("{}", running.addrs.line());
        eprintln!(
            "cucmsim serve: cluster {} node {node}, seed {}; Ctrl-C stops",
            args.cluster, spec.seed
        );
        let why = stopped(args.duration).await;
        let addrs = running.addrs.clone();
        Ok::<_, String>((why, running.stop(), addrs))
    })?;
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    eprintln!("cucmsim serve: {why}");
    eprint!("{}", rec.table());
    let mut report = rec.to_json();
    report["scenario"] = spec.name.clone().into();
    report["cluster"] = args.cluster.clone().into();
    report["node"] = node.into();
    report["seed"] = spec.seed.into();
    report["listening"] = addrs.line().into();
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("cucmsim serve: report {}", path.display());
    Ok(())
}
