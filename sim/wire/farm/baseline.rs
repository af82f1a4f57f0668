//! `farm --baseline`: the ceiling a farm against `serve` on the same host is measured against —
//! raw TLS 1.2 handshakes between the same phone (MIC) and TVS (certificate and key) with both
//! ends in memory, no socket and no protocol, on as many threads as the host has cores, right
//! after the farm's run. The ratio `farm sessions/s ÷ raw handshakes/s` says what sockets,
//! the TVS framing and the drivers cost; both figures use every core, so it is also the ratio
//! per core.
//!
//! ```text
//!  thread × cores: loop { client TlsEnd ⇄ server TlsEnd until both established } for D seconds
//!  ─► handshakes / D  (with the farm's sessions/s of the same run beside it)
//! ```

use super::fleet::Fleet;
use cucmsim_core::tls::{client_config, server_config, SimClock, TlsEnd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One full handshake with both ends in memory.
fn handshake(
    client: &impl Fn() -> Result<TlsEnd, String>,
    server: &impl Fn() -> Result<TlsEnd, String>,
) -> Result<(), String> {
    let mut c = client()?;
    let mut s = server()?;
    for _ in 0..10 {
        let to_s = c.take_outgoing();
        if !to_s.is_empty() {
            s.feed(&to_s)?;
        }
        let to_c = s.take_outgoing();
        if !to_c.is_empty() {
            c.feed(&to_c)?;
        }
        if c.is_established() && s.is_established() && to_s.is_empty() && to_c.is_empty() {
            return Ok(());
        }
    }
    Err("handshake did not complete".into())
}

/// Raw handshakes per second on `threads` threads for `for_s` seconds.
pub fn raw_handshakes_per_s(
    fleet: &Fleet,
    wall: cucmsim_core::WallTime,
    threads: usize,
    for_s: f64,
) -> Result<f64, String> {
    let phone = fleet.phone(0)?;
    let tvs = fleet
        .tvs_identity
        .as_ref()
        .ok_or("the cluster has no TVS")?;
    let clock = SimClock::default();
    clock.set(wall);
    let client = client_config(
        fleet.tvs_certs.clone(),
        (&phone.cert, &phone.key),
        &phone.chain,
        &clock,
    )?;
    // Like serve's TVS: the phone's certificate checked against CAPF-trust (the MIC CA).
    let anchors = vec![fleet.mfg.root.cert.clone()];
    let server = server_config((&tvs.cert, &tvs.key), anchors, &clock)?;
    let client = || TlsEnd::client(client.clone(), "tvs");
    let server = || TlsEnd::server(server.clone());
    handshake(&client, &server)?;
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if handshake(&client, &server).is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(for_s.max(0.1)));
        stop.store(true, Ordering::Relaxed);
    });
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
