//! Wire mode on loopback: `serve` started in-process on ephemeral ports, `farm` phones against
//! it (boot of the default scenario's lobby fleet; TVS queries; CAPF enrollment by null string,
//! authentication string and existing MIC), garbage on every port, unreachable servers, and the
//! binary's `serve` line, `--duration` stop and report.

use cucmsim::lang;
use cucmsim::wire::clock::WireClock;
use cucmsim::wire::farm::{self, FarmArgs, TransportKind, Workload};
use cucmsim::wire::hist::Recorder;
use cucmsim::wire::serve::{self, Running, ServeArgs};
use cucmsim::wire::world::{services, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn root(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn serve_args(scenario: &str, cluster: &str) -> ServeArgs {
    ServeArgs {
        scenario: root(scenario),
        cluster: cluster.into(),
        node: None,
        seed: None,
        bind: "127.0.0.1".parse().unwrap(),
        tftp_port: 0,
        http_port: 0,
        tvs_port: 0,
        capf_port: 0,
        quic_port: Some(0),
        quic_keys: None,
        duration: None,
        max_conns: 1000,
        shards: Some(2),
        scenario_clock: false,
        identity: vec![],
        export_keys: None,
        capf_key_type: false,
        capf_require_version: None,
        tvs_decode: Default::default(),
        out: None,
        force: false,
    }
}

async fn start(scenario: &str, cluster: &str) -> Running {
    let args = serve_args(scenario, cluster);
    let spec = lang::load(&args.scenario).unwrap().spec;
    let clock = WireClock::new(0);
    let s = services(&spec, cluster, &ServeOptions::default(), clock.wall()).unwrap();
    serve::start(&args, s, clock).await.unwrap()
}

fn farm_args(scenario: &str, fleet: &str, workload: Workload) -> FarmArgs {
    FarmArgs {
        scenario: Some(root(scenario)),
        fleet: Some(fleet.into()),
        phones: None,
        mac_start: None,
        mic_ca: None,
        model: "8861".into(),
        seed: None,
        tftp: None,
        tvs: None,
        capf: None,
        transport: TransportKind::Tcp,
        quic: None,
        quic_conns: 2,
        quic_keys: None,
        workload: Some(workload),
        rate: None,
        clients: Some(8),
        think: None,
        duration: None,
        count: None,
        timeout: 10.0,
        max_inflight: 10_000,
        scenario_clock: false,
        identity: vec![],
        capf_version: None,
        tvs_decode: Default::default(),
        baseline: false,
        coordinate: None,
        farms: None,
        join: None,
        join_timeout: 20.0,
        json: true,
        out: None,
        force: false,
    }
}

async fn farm(a: FarmArgs) -> Recorder {
    let (ctx, plan) = tokio::task::spawn_blocking(move || farm::context(&a))
        .await
        .unwrap()
        .unwrap();
    farm::drive(Arc::new(ctx), plan).await.rec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lobby_fleet_boots_against_serve_and_tvs_answers_queries() {
    let server = start("scenarios/default.toml", "src").await;
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::Boot);
    a.tftp = server.addrs.tftp;
    a.tvs = server.addrs.tvs;
    (a.clients, a.rate) = (None, Some(400.0));
    let rec = farm(a.clone()).await;
    assert_eq!(rec.counts("boot"), (200, 0), "{}", rec.table());
    // Fresh phones: CTL (not found on a non-secure cluster), ITL, config — all over TFTP.
    assert_eq!(rec.counts("tftp.get"), (600, 0), "{}", rec.table());
    a.workload = Some(Workload::TvsQuery);
    a.count = Some(40);
    let rec = farm(a.clone()).await;
    assert_eq!(rec.counts("tvs.query"), (40, 0), "{}", rec.table());
    // CERT_VERIFICATION of the publisher's Tomcat (an HTTPS server), as tvsd answers it.
    (a.workload, a.count) = (Some(Workload::TvsVerify), Some(10));
    let rec = farm(a).await;
    assert_eq!(rec.counts("tvs.verify"), (10, 0), "{}", rec.table());
    let served = server.stop();
    assert_eq!(served.counts("tvs.session"), (50, 0), "{}", served.table());
    let (ok, _) = served.counts("tftp.get");
    assert!(
        ok >= 400,
        "ITL and config served to every phone\n{}",
        served.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capf_enrolls_by_null_string_auth_string_and_existing_mic() {
    let server = start("scenarios/wire/enroll.toml", "hq").await;
    for fleet in ["nulls", "strings", "mics"] {
        let mut a = farm_args("scenarios/wire/enroll.toml", fleet, Workload::Enroll);
        a.capf = server.addrs.capf;
        (a.clients, a.count) = (Some(4), Some(6));
        let rec = farm(a).await;
        assert_eq!(
            rec.counts("capf.enroll"),
            (6, 0),
            "{fleet}\n{}",
            rec.table()
        );
    }
    // Phones CAPF has no record of (another scenario's fleet, same seed and MIC CA) are
    // refused; the default scenario's CAPF certificate is not this cluster's, so the phone
    // refuses the TLS handshake first.
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::Enroll);
    a.capf = server.addrs.capf;
    (a.clients, a.count, a.timeout) = (Some(2), Some(2), 3.0);
    let rec = farm(a).await;
    assert_eq!(rec.counts("capf.enroll"), (0, 2), "{}", rec.table());
    let served = server.stop();
    assert_eq!(served.counts("capf.session").0, 18, "{}", served.table());
}

/// Bytes that are no protocol at all, then a TLS-looking start that goes nowhere.
fn junk(seed: u8) -> Vec<u8> {
    let mut v: Vec<u8> = (0..300u16)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    if seed % 2 == 0 {
        v[..5].copy_from_slice(&[0x16, 0x03, 0x01, 0x00, 0x40]);
    }
    v
}

async fn poke_tcp(addr: SocketAddr, bytes: &[u8]) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let _ = s.write_all(bytes).await;
    let mut buf = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbage_on_every_port_leaves_serve_answering() {
    let server = start("scenarios/default.toml", "src").await;
    let a = &server.addrs;
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for seed in 0..8u8 {
        udp.send_to(&junk(seed), a.tftp.unwrap()).await.unwrap();
        for port in [a.http, a.tvs, a.capf] {
            poke_tcp(port.unwrap(), &junk(seed)).await;
        }
    }
    // Silent connections (a stalled handshake) do not hold the others up.
    let _stalled: Vec<_> = futures_connect(a.tvs.unwrap(), 20).await;
    let mut f = farm_args("scenarios/default.toml", "lobby", Workload::TvsQuery);
    (f.tvs, f.count) = (a.tvs, Some(10));
    let rec = farm(f).await;
    assert_eq!(rec.counts("tvs.query"), (10, 0), "{}", rec.table());
    let cfg = cucmsim::wire::http::get(
        a.http.unwrap(),
        "SEP001122000000.cnf.xml.sgn",
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(
        cfg.is_some_and(|b| b.len() > 100),
        "HTTP 6970 serves the signed config"
    );
    let served = server.stop();
    let (_, failed) = served.counts("tvs.session");
    assert!(
        failed >= 8,
        "garbage sessions failed and were counted\n{}",
        served.table()
    );
}

async fn futures_connect(addr: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut v = vec![];
    for _ in 0..n {
        if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
            v.push(s);
        }
    }
    v
}

/// An address nothing listens on (bound, then released).
async fn dead_tcp() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreachable_servers_give_per_phone_errors_quickly() {
    let t0 = Instant::now();
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::TvsQuery);
    (a.tvs, a.count) = (Some(dead_tcp().await), Some(10));
    let rec = farm(a.clone()).await;
    assert_eq!(rec.counts("tvs.query"), (0, 10));
    assert_eq!(
        rec.errors.get("tvs.query: refused"),
        Some(&10),
        "{}",
        rec.table()
    );
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    (a.workload, a.tftp, a.timeout, a.count) = (
        Some(Workload::Boot),
        Some(udp.local_addr().unwrap()),
        1.0,
        Some(8),
    );
    let rec = farm(a).await;
    assert_eq!(rec.counts("boot"), (0, 8), "{}", rec.table());
    assert!(
        rec.errors.keys().any(|k| k.contains("timeout")),
        "{}",
        rec.table()
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
}

#[test]
fn the_binary_prints_its_addresses_stops_after_duration_and_writes_a_report() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("serve");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cucmsim"))
        .args([
            "serve",
            "scenarios/default.toml",
            "--cluster",
            "src",
            "--tftp-port",
            "0",
        ])
        .args([
            "--http-port",
            "0",
            "--tvs-port",
            "0",
            "--capf-port",
            "0",
            "--duration",
            "1s",
        ])
        .arg("--out")
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = stdout.lines().next().unwrap();
    assert!(
        line.starts_with("cucmsim serve: listening tftp=127.0.0.1:"),
        "{line}"
    );
    assert!(!line.contains(":0 "), "actual ports are shown: {line}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert!(report["operations"].is_object() && report["errors"].is_object());
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_cucmsim"))
        .args([
            "serve",
            "scenarios/default.toml",
            "--cluster",
            "nope",
            "--duration",
            "1s",
        ])
        .arg("--out")
        .arg(out.path().join("bad"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no cluster \"nope\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tvs_identity_from_files_is_served_and_pinned_and_keys_export() {
    use cucmsim_core::pki::identity::{CertType, IdentityRequest, NodeNames};
    let dir = tempfile::tempdir().unwrap();
    let t0 = cucmsim_core::WallTime::from_ymd(2025, 1, 1).unwrap();
    let other = IdentityRequest::new(&NodeNames::lab("lab", "tvs1"), CertType::Tvs, t0)
        .issue_self_signed(&cucmsim_core::pki::KeyForge::new(99))
        .unwrap();
    let (cert, key) = (dir.path().join("tvs.pem"), dir.path().join("tvs.key"));
    std::fs::write(&cert, other.cert.to_pem()).unwrap();
    let pem = pem::Pem::new("PRIVATE KEY", other.key.to_pkcs8_der());
    std::fs::write(&key, pem::encode(&pem)).unwrap();
    let spec = format!("TVS={},{}", cert.display(), key.display());
    let id = cucmsim::wire::identity::parse_identity(&spec).unwrap();
    assert!(cucmsim::wire::identity::parse_identity(&format!("TVS={}", key.display())).is_err());

    let args = serve_args("scenarios/default.toml", "src");
    let compiled = lang::load(&args.scenario).unwrap();
    let export = dir.path().join("export");
    let opts = ServeOptions {
        identities: vec![id.clone()],
        export: Some(export.clone()),
        ..ServeOptions::default()
    };
    let clock = WireClock::new(0);
    let s = services(&compiled.spec, "src", &opts, clock.wall()).unwrap();
    let server = serve::start(&args, s, clock).await.unwrap();
    for f in [
        "src-pub/TVS.pem",
        "src-pub/TVS.key",
        "CAPF.key",
        "mic-ca/root.key",
    ] {
        assert!(export.join(f).exists(), "{f} exported");
    }
    // The seed's TVS certificate pinned: the phone refuses the server's.
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::TvsQuery);
    (a.tvs, a.count, a.clients) = (server.addrs.tvs, Some(3), Some(1));
    let rec = farm(a.clone()).await;
    assert_eq!(rec.counts("tvs.query"), (0, 3), "{}", rec.table());
    assert!(
        rec.errors.keys().any(|k| k.contains("TLS")),
        "{}",
        rec.table()
    );
    // The file's certificate pinned: served and trusted.
    a.identity = vec![id];
    let rec = farm(a).await;
    assert_eq!(rec.counts("tvs.query"), (3, 0), "{}", rec.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capf_version_rules_are_settings_on_both_sides() {
    // serve as usecallmanager's capfd behaves: VERSION 3 required.
    let mut args = serve_args("scenarios/wire/enroll.toml", "hq");
    args.capf_require_version = Some(3);
    let spec = lang::load(&args.scenario).unwrap().spec;
    let opts = ServeOptions {
        capf_require_version: Some(3),
        capf_key_type: true,
        ..ServeOptions::default()
    };
    let clock = WireClock::new(0);
    let s = services(&spec, "hq", &opts, clock.wall()).unwrap();
    let server = serve::start(&args, s, clock).await.unwrap();
    let mut a = farm_args("scenarios/wire/enroll.toml", "nulls", Workload::Enroll);
    (a.capf, a.clients, a.count) = (server.addrs.capf, Some(2), Some(2));
    let rec = farm(a.clone()).await;
    assert_eq!(rec.counts("capf.enroll"), (0, 2), "{}", rec.table());
    assert!(
        rec.errors.keys().any(|k| k.contains("END_SESSION")),
        "{}",
        rec.table()
    );
    a.capf_version = Some(3);
    let rec = farm(a).await;
    assert_eq!(rec.counts("capf.enroll"), (2, 0), "{}", rec.table());
}

async fn farm_out(a: FarmArgs) -> (farm::Outcome, serde_json::Value) {
    let (ctx, plan) = tokio::task::spawn_blocking(move || farm::context(&a))
        .await
        .unwrap()
        .unwrap();
    let ctx = Arc::new(ctx);
    let out = farm::drive(ctx.clone(), plan).await;
    (out, ctx.transport.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lobby_boots_and_queries_tvs_over_quic_streams_of_two_connections() {
    let server = start("scenarios/default.toml", "src").await;
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::Boot);
    (a.transport, a.quic) = (TransportKind::Quic, server.addrs.quic);
    (a.clients, a.rate, a.count) = (None, Some(400.0), Some(60));
    let (out, transport) = farm_out(a.clone()).await;
    assert_eq!(out.rec.counts("boot"), (60, 0), "{}", out.rec.table());
    // CTL (not found), ITL and config, each on its own stream.
    assert_eq!(out.rec.counts("tftp.get"), (180, 0), "{}", out.rec.table());
    assert_eq!(transport["kind"], "quic");
    assert_eq!(transport["connections"], 2, "{transport}");
    assert_eq!(transport["streams"], 180, "{transport}");
    (a.workload, a.count) = (Some(Workload::TvsQuery), Some(30));
    let (out, transport) = farm_out(a).await;
    assert_eq!(out.rec.counts("tvs.query"), (30, 0), "{}", out.rec.table());
    assert_eq!(transport["connections"], 2, "{transport}");
    let served = server.stop();
    assert_eq!(served.counts("tvs.session"), (30, 0), "{}", served.table());
    assert!(served.counts("tftp.get").0 >= 120, "{}", served.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capf_enrolls_over_quic_and_a_farm_without_the_farm_key_is_refused() {
    let server = start("scenarios/wire/enroll.toml", "hq").await;
    for fleet in ["nulls", "mics"] {
        let mut a = farm_args("scenarios/wire/enroll.toml", fleet, Workload::Enroll);
        (a.transport, a.quic) = (TransportKind::Quic, server.addrs.quic);
        (a.clients, a.count) = (Some(4), Some(6));
        let (out, _) = farm_out(a).await;
        let rec = out.rec;
        assert_eq!(
            rec.counts("capf.enroll"),
            (6, 0),
            "{fleet}\n{}",
            rec.table()
        );
    }
    // serve's certificate right, the farm's key another seed's: serve refuses the farm.
    use cucmsim::wire::quic::LinkKeys;
    let seed = lang::load(&root("scenarios/wire/enroll.toml"))
        .unwrap()
        .spec
        .seed;
    let (good, other) = (
        LinkKeys::derive(seed).unwrap(),
        LinkKeys::derive(4242).unwrap(),
    );
    let wrong = LinkKeys {
        serve: good.serve,
        serve_key: None,
        farm: other.farm,
        farm_key: other.farm_key,
    };
    let dir = tempfile::tempdir().unwrap();
    wrong.write(dir.path()).unwrap();
    let mut a = farm_args("scenarios/wire/enroll.toml", "nulls", Workload::Enroll);
    (a.transport, a.quic, a.quic_keys) = (
        TransportKind::Quic,
        server.addrs.quic,
        Some(dir.path().into()),
    );
    (a.clients, a.count, a.timeout) = (Some(1), Some(3), 3.0);
    let (out, _) = farm_out(a).await;
    assert_eq!(out.rec.counts("capf.enroll"), (0, 3), "{}", out.rec.table());
    assert!(
        out.rec
            .errors
            .keys()
            .all(|k| k.contains("QUIC: serve refused this farm's key")),
        "{}",
        out.rec.table()
    );
    let served = server.stop();
    assert_eq!(served.counts("capf.session"), (12, 0), "{}", served.table());
    assert!(
        served.counts("quic.connection").1 >= 3,
        "{}",
        served.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phones_from_a_mac_range_and_an_exported_mic_ca_query_serve() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("keys");
    let args = serve_args("scenarios/default.toml", "src");
    let spec = lang::load(&args.scenario).unwrap().spec;
    let opts = ServeOptions {
        export: Some(export.clone()),
        ..ServeOptions::default()
    };
    let clock = WireClock::new(0);
    let s = services(&spec, "src", &opts, clock.wall()).unwrap();
    let server = serve::start(&args, s, clock).await.unwrap();
    let id = |t: &str, f: &str| {
        let spec = format!("{t}={}", export.join(f).display());
        cucmsim::wire::identity::parse_identity(&spec).unwrap()
    };
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::TvsQuery);
    (a.scenario, a.fleet) = (None, None);
    (a.phones, a.mac_start) = (Some(6), Some("00AB12000000".into()));
    a.mic_ca = Some(export.join("mic-ca"));
    a.identity = vec![
        id("TVS", "src-pub/TVS.pem"),
        id("ITLRecovery", "ITLRecovery.pem"),
    ];
    (a.tvs, a.clients) = (server.addrs.tvs, Some(2));
    let (out, _) = farm_out(a.clone()).await;
    assert_eq!(out.rec.counts("tvs.query"), (6, 0), "{}", out.rec.table());
    // The same phones with MICs from a CA TVS does not trust: refused in the handshake.
    let other = cucmsim_core::pki::mic::ManufacturingCa::new(
        &cucmsim_core::pki::KeyForge::new(99),
        cucmsim_core::WallTime::from_ymd(2024, 1, 1).unwrap(),
    )
    .unwrap();
    let bad = dir.path().join("other-ca");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("cert.pem"), other.issuing.cert.to_pem()).unwrap();
    let key = pem::Pem::new("PRIVATE KEY", other.issuing.key.to_pkcs8_der());
    std::fs::write(bad.join("key.pem"), pem::encode(&key)).unwrap();
    (a.mic_ca, a.count, a.timeout) = (Some(bad), Some(2), 3.0);
    let (out, _) = farm_out(a.clone()).await;
    assert_eq!(out.rec.counts("tvs.query"), (0, 2), "{}", out.rec.table());
    // Without the server's TVS certificate there is nothing to pin: refused up front.
    a.identity.clear();
    let e = farm::context(&a).err().unwrap();
    assert!(e.contains("--identity TVS="), "{e}");
    drop(server);
}

/// `cucmsim farm …` started with piped output.
fn farm_process(args: &[String]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_cucmsim"))
        .arg("farm")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_farm_processes_merge_into_one_report() {
    use std::io::BufRead;
    let server = start("scenarios/default.toml", "src").await;
    let (tvs, quic) = (server.addrs.tvs.unwrap(), server.addrs.quic.unwrap());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let common = s(&["--scenario", "scenarios/default.toml", "--fleet", "lobby"]);
    let mut coord = common.clone();
    coord.extend(s(&["--tvs", &tvs.to_string()]));
    coord.extend(s(&[
        "--workload",
        "tvs-query",
        "--clients",
        "4",
        "--count",
        "30",
    ]));
    coord.extend(s(&[
        "--coordinate",
        "127.0.0.1:0",
        "--farms",
        "2",
        "--json",
    ]));
    let mut c = farm_process(&coord);
    let mut err = std::io::BufReader::new(c.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "coordinator ended early"
        );
        if let Some(rest) = line.split("coordinating on ").nth(1) {
            break rest.split(':').take(2).collect::<Vec<_>>().join(":");
        }
    };
    let drain = std::thread::spawn(move || std::io::read_to_string(err).unwrap_or_default());
    // The second farm reaches serve over QUIC.
    let mut join = common.clone();
    join.extend(s(&[
        "--transport",
        "quic",
        "--quic",
        &quic.to_string(),
        "--join",
        &addr,
    ]));
    let j = farm_process(&join);
    let (c, j) = tokio::task::spawn_blocking(move || {
        (c.wait_with_output().unwrap(), j.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    let why = format!(
        "{}\n{}",
        drain.join().unwrap(),
        String::from_utf8_lossy(&j.stderr)
    );
    assert_eq!(c.status.code(), Some(0), "{why}");
    assert_eq!(j.status.code(), Some(0), "{why}");
    let report: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(report["operations"]["tvs.query"]["count"], 30, "{report}");
    let farms = report["farms"].as_array().unwrap();
    assert_eq!(farms.len(), 2);
    assert_eq!(farms[0]["ok"], 15);
    assert_eq!(farms[1]["ok"], 15);
    assert_eq!(farms[1]["transport"]["kind"], "quic");
    assert_eq!(farms[1]["first_phone"], 100, "the second half of the fleet");
    let served = server.stop();
    assert_eq!(served.counts("tvs.session"), (30, 0), "{}", served.table());
}

#[test]
fn a_coordinator_whose_farms_do_not_come_stops_with_a_clear_error() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cucmsim"))
        .args([
            "farm",
            "--scenario",
            "scenarios/default.toml",
            "--fleet",
            "lobby",
        ])
        .args([
            "--tvs",
            "127.0.0.1:9",
            "--workload",
            "tvs-query",
            "--count",
            "4",
        ])
        .args([
            "--coordinate",
            "127.0.0.1:0",
            "--farms",
            "3",
            "--join-timeout",
            "1s",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only 1 of 3 farms joined"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_farm_that_vanishes_mid_run_is_named_in_the_coordinators_error() {
    use std::io::BufRead;
    use tokio::net::TcpStream;
    async fn frame(s: &mut TcpStream, v: serde_json::Value) {
        let body = serde_json::to_vec(&v).unwrap();
        s.write_all(&(body.len() as u32).to_be_bytes())
            .await
            .unwrap();
        s.write_all(&body).await.unwrap();
    }
    async fn read(s: &mut TcpStream) -> serde_json::Value {
        let n = s.read_u32().await.unwrap() as usize;
        let mut b = vec![0; n];
        s.read_exact(&mut b).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }
    let dead = dead_tcp().await.to_string();
    let mut c = farm_process(
        &[
            "--scenario",
            "scenarios/default.toml",
            "--fleet",
            "lobby",
            "--tvs",
            &dead,
            "--workload",
            "tvs-query",
            "--rate",
            "20",
            "--duration",
            "1s",
            "--timeout",
            "1s",
            "--coordinate",
            "127.0.0.1:0",
            "--farms",
            "2",
        ]
        .map(String::from),
    );
    let mut err = std::io::BufReader::new(c.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "coordinator ended early"
        );
        if let Some(rest) = line.split("coordinating on ").nth(1) {
            break rest.split(':').take(2).collect::<Vec<_>>().join(":");
        }
    };
    // A farm that joins, is told to go, and vanishes.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    frame(
        &mut s,
        serde_json::json!({"type": "join", "version": 1, "phones": 200}),
    )
    .await;
    assert_eq!(read(&mut s).await["type"], "assign");
    frame(&mut s, serde_json::json!({"type": "ready"})).await;
    assert_eq!(read(&mut s).await["type"], "go");
    drop(s);
    let t0 = Instant::now();
    let o = tokio::task::spawn_blocking(move || c.wait_with_output().unwrap())
        .await
        .unwrap();
    let rest = std::io::read_to_string(err).unwrap_or_default();
    assert_eq!(o.status.code(), Some(2), "{rest}");
    assert!(
        rest.contains("farm 1 (") && rest.contains("disappeared"),
        "{rest}"
    );
    assert!(t0.elapsed() < Duration::from_secs(15));
}

/// One TLS session to TVS at `addr` as phone 0 of the lobby, sending `request` as it is;
/// the plaintext answer (empty when the server closed without one).
async fn tvs_raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    use cucmsim_core::tls::{client_config, SimClock, TlsEnd};
    let spec = lang::load(&root("scenarios/default.toml")).unwrap().spec;
    let fleet = farm::Fleet::new(&spec, "lobby").unwrap();
    let phone = fleet.phone(0).unwrap();
    let clock = SimClock::default();
    clock.set(WireClock::new(0).wall());
    let certs = fleet.tvs_certs.clone();
    let config = client_config(certs, (&phone.cert, &phone.key), &phone.chain, &clock).unwrap();
    let mut tls = TlsEnd::client(config, "tvs").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 16384];
    let mut sent = false;
    let mut plain = vec![];
    loop {
        if tls.is_established() && !sent {
            tls.send(request).unwrap();
            sent = true;
        }
        let out = tls.take_outgoing();
        if !out.is_empty() {
            s.write_all(&out).await.unwrap();
        }
        let n = match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return plain,
        };
        if tls.feed(&buf[..n]).is_err() {
            return plain;
        }
        plain.extend(tls.take_plain());
        if farm::tvs_frame(&plain).is_some() {
            return plain;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tvs_decoding_rules_are_settings_of_serve() {
    use cucmsim::wire::tvs::{TvsDecodeArgs, UnknownArg};
    use cucmsim_core::tvs::{TvsBody, TvsMessage};
    // A CERT_VERIFICATION of the publisher's Tomcat with an element 6 (not in §2.2) in it.
    let spec = lang::load(&root("scenarios/default.toml")).unwrap().spec;
    let fleet = farm::Fleet::new(&spec, "lobby").unwrap();
    let mut req = TvsMessage {
        session: 1001,
        body: TvsBody::VerifyReq {
            device_name: "CP-8861-SEP001122000000".into(),
            certificate: fleet.verify_target.der().to_vec(),
        },
    }
    .encode();
    req.extend_from_slice(&[6, 0, 2, 0xAB, 0xCD]);
    let len = u16::from_be_bytes([req[8], req[9]]) + 5;
    req[8..10].copy_from_slice(&len.to_be_bytes());
    let mut old = req.clone();
    old[1] = 2; // another version
    let lenient = start("scenarios/default.toml", "src").await;
    let answer = TvsMessage::decode(&tvs_raw(lenient.addrs.tvs.unwrap(), &req).await).unwrap();
    assert!(
        matches!(answer.body, TvsBody::VerifyRes { valid: true, .. }),
        "{answer:?}"
    );
    assert!(
        tvs_raw(lenient.addrs.tvs.unwrap(), &old).await.is_empty(),
        "version 2 refused"
    );
    let served = lenient.stop();
    assert!(
        served.errors.keys().any(|k| k.contains("version 2")),
        "{}",
        served.table()
    );
    let mut args = serve_args("scenarios/default.toml", "src");
    args.tvs_decode = TvsDecodeArgs {
        tvs_unknown: Some(UnknownArg::Refuse),
        ..TvsDecodeArgs::default()
    };
    let clock = WireClock::new(0);
    let s = services(&spec, "src", &ServeOptions::default(), clock.wall()).unwrap();
    let strict = serve::start(&args, s, clock).await.unwrap();
    assert!(tvs_raw(strict.addrs.tvs.unwrap(), &req).await.is_empty());
    let served = strict.stop();
    assert!(
        served
            .errors
            .keys()
            .any(|k| k.contains("unknown element tag 6")),
        "{}",
        served.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_resets_a_quic_stream_that_names_no_service_and_bad_phone_ranges_are_refused() {
    use cucmsim::wire::quic::dial::QuicPool;
    use cucmsim::wire::quic::LinkKeys;
    let server = start("scenarios/default.toml", "src").await;
    let seed = lang::load(&root("scenarios/default.toml"))
        .unwrap()
        .spec
        .seed;
    let pool = QuicPool::new(
        server.addrs.quic.unwrap(),
        &LinkKeys::derive(seed).unwrap(),
        1,
    )
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let (_send, mut recv) = pool.stream(b"ntp\n", deadline).await.unwrap();
    let mut buf = [0u8; 8];
    let e: std::io::Error = recv.read(&mut buf).await.unwrap_err().into();
    assert_eq!(
        cucmsim::wire::quic::dial::io_reason(&e),
        "QUIC: stream refused (bad header)"
    );
    // The same connection still serves files.
    let itl = pool.tftp_get("ITLFile.tlv", deadline).await.unwrap();
    assert!(itl.is_some_and(|b| b.len() > 100));
    assert_eq!(pool.tftp_get("nothing.here", deadline).await.unwrap(), None);
    drop(server);
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::Boot);
    (a.scenario, a.fleet, a.phones, a.mic_ca) = (None, None, Some(3), Some("/nonexistent".into()));
    a.tftp = Some("127.0.0.1:9".parse().unwrap());
    for (mac, want) in [
        ("00AB1200000", "12 hex digits"),
        ("00AB1200000G", "12 hex digits"),
    ] {
        a.mac_start = Some(mac.into());
        let e = farm::context(&a).err().unwrap();
        assert!(e.contains(want), "{e}");
    }
    a.mac_start = Some("00AB12000000".into());
    let e = farm::context(&a).err().unwrap();
    assert!(e.contains("--mic-ca") && e.contains("/nonexistent"), "{e}");
}

#[test]
fn tcp_addresses_with_the_quic_transport_are_refused_not_ignored() {
    let mut a = farm_args("scenarios/default.toml", "lobby", Workload::TvsQuery);
    a.transport = TransportKind::Quic;
    a.quic = Some("127.0.0.1:9".parse().unwrap());
    a.tvs = Some("127.0.0.1:2445".parse().unwrap());
    let e = farm::context(&a).err().unwrap();
    assert!(e.contains("--tvs would be ignored"), "{e}");
}
