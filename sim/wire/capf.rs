//! CAPF on a real TCP port (3804): each connection is one phone's TLS session, fed to the
//! cluster's CAPF machine ([`cucmsim_core::machine::capf::Capf`], the one the simulation runs:
//! device records from the scenario's `capf_operation` steps, admission and session limits,
//! [`cucmsim_core::capf::CapfSession`] per phone, LSCs signed by the CAPF key). The machine's
//! sends go to the connection they name; its timers (key-generation deadline, keepalives) run
//! on the real clock.
//!
//! ```text
//!  accept ─► conn n ─► Capf::handle(CapfTls{phone: n, session 0, ipv6, bytes}) ─► effects:
//!      Send{Phone(m), CapfTls}   ─► connection m's writer (n, or a waiting one admitted now)
//!      Send{Phone(m), CapfAbort} ─► connection m closed ("refused: …")
//!      Timer{after_ms, token}    ─► sleep, then Capf::on_timer(token)
//!      Observe(capf_status …)    ─► the connection's outcome; tracing under RUST_LOG
//!  EOF / 30 s of silence (no key generation in progress) ─► CapfClose{n}; `capf.session` recorded
//! ```
//! The same sessions arrive on QUIC streams ([`super::quic`]) through [`handle`].
//! One machine serves every connection (its device records and LSC serials must stay one
//! copy), so CAPF's handshakes and signatures take one core at a time, under a mutex held only
//! while an input is handled — never across a socket wait, so a slow phone holds up nobody.

use super::clock::WireClock;
use super::hist::{self, Shared};
use cucmsim_core::machine::capf::Capf;
use cucmsim_core::machine::{Addr, Effect, Event, Input, Machine, Msg};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;

/// A connection that sends nothing this long is closed (the machine's own key-generation
/// deadline is longer; a farm's phones generate keys in milliseconds).
pub const IDLE: Duration = Duration::from_secs(30);

/// What a connection's writer is told.
enum Out {
    Bytes(Vec<u8>),
    Close(String),
}

/// The CAPF machine and the connections its sends go to.
pub struct CapfServer {
    pub machine: Mutex<Capf>,
    pub clock: WireClock,
    pub rec: Shared,
    pub limit: Arc<Semaphore>,
    conns: Mutex<HashMap<u32, mpsc::UnboundedSender<Out>>>,
    next: AtomicU32,
}

impl CapfServer {
    pub fn new(machine: Capf, clock: WireClock, rec: Shared, limit: usize) -> Arc<CapfServer> {
        Arc::new(CapfServer {
            machine: Mutex::new(machine),
            clock,
            rec,
            limit: Arc::new(Semaphore::new(limit)),
            conns: Mutex::default(),
            next: AtomicU32::new(1),
        })
    }

    /// Runs one input through the machine and carries out its effects; returns the CAPF
    /// status a session ended with, if one did.
    fn input(self: &Arc<Self>, input: Input) -> Option<String> {
        let effects = {
            let mut m = self.machine.lock().unwrap_or_else(|p| p.into_inner());
            m.on_input(input, self.clock.now())
        };
        let mut status = None;
        for e in effects {
            if let Some(s) = self.effect(e) {
                status = Some(s);
            }
        }
        status
    }

    fn effect(self: &Arc<Self>, e: Effect) -> Option<String> {
        match e {
            Effect::Send {
                to: Addr::Phone(n),
                msg,
            } => {
                let out = match msg {
                    Msg::CapfTls { bytes, .. } if !bytes.is_empty() => Out::Bytes(bytes),
                    Msg::CapfAbort { reason, .. } => Out::Close(reason),
                    _ => return None, // keepalives are TCP's business on a real socket
                };
                let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(tx) = conns.get(&n) {
                    let _ = tx.send(out);
                }
            }
            Effect::Send { .. } => {} // CapfRecord to the publisher: nobody to tell
            Effect::Timer { after_ms, token } => {
                let me = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    me.input(Input::Timer(token));
                });
            }
            Effect::Observe(o) => {
                tracing::debug!("{} {}: {}", o.who, o.what(), o.detail());
                if let Event::CapfStatus { status, .. } = o.event {
                    return Some(status);
                }
            }
        }
        None
    }
}

/// A session's result from the status it ended with.
fn judged(status: Option<String>) -> Result<(), String> {
    match status {
        Some(s) if s.contains("Success") => Ok(()),
        Some(s) => Err(s),
        None => Err("closed before the end of a session".into()),
    }
}

/// Serves connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, server: Arc<CapfServer>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ipv6 = peer.is_ipv6();
        tokio::spawn(handle(stream, peer.to_string(), ipv6, server.clone()));
    }
}

/// One phone's session on any byte stream (a TCP connection, a QUIC stream): admitted under
/// the connection limit, served, recorded as `capf.session`.
pub async fn handle<S>(stream: S, peer: String, ipv6: bool, server: Arc<CapfServer>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(permit) = server.limit.clone().try_acquire_owned() else {
        hist::record(
            &server.rec,
            "capf.session",
            1,
            Err("refused: connection limit"),
        );
        return;
    };
    let started = Instant::now();
    let id = server.next.fetch_add(1, Ordering::Relaxed);
    let r = connection(stream, id, ipv6, &server).await;
    let us = started.elapsed().as_micros() as u64;
    if let Err(e) = &r {
        tracing::debug!(%peer, conn = id, "CAPF session failed: {e}");
    }
    hist::record(&server.rec, "capf.session", us, hist::res(&r));
    drop(permit);
}

async fn connection<S>(
    mut stream: S,
    id: u32,
    ipv6: bool,
    server: &Arc<CapfServer>,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    server
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, tx);
    let mut buf = vec![0u8; 16 * 1024];
    let mut status = None;
    let result = loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Bytes(b)) => {
                    if !matches!(timeout(IDLE, stream.write_all(&b)).await, Ok(Ok(()))) {
                        break Err("write failed".to_string());
                    }
                }
                Some(Out::Close(reason)) => break Err(format!("refused: {reason}")),
                None => break Err("server closed".to_string()),
            },
            r = timeout(IDLE, stream.read(&mut buf)) => match r {
                Ok(Ok(0)) => break judged(status),
                Ok(Ok(n)) => {
                    let msg = Msg::CapfTls { phone: id, session: 0, ipv6, bytes: buf[..n].to_vec() };
                    if let Some(s) = server.input(Input::Msg(msg)) {
                        status = Some(s);
                    }
                }
                Ok(Err(e)) => break Err(format!("read: {}", e.kind())),
                Err(_) => break Err("timeout".to_string()),
            },
        }
    };
    server
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    server.input(Input::Msg(Msg::CapfClose {
        phone: id,
        session: 0,
    }));
    let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
    result
}
