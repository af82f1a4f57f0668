//! serve's QUIC port: farms connect (their key pinned, [`super::server_config`]), each stream
//! opens with a service line and is handed to the same session code the TCP ports run
//! ([`crate::wire::tvs::handle`], [`crate::wire::capf::handle`]) or answers a TFTP file.
//!
//! ```text
//!  Endpoint::accept ─► handshake (≤ 10 s; a farm without the farm key: refused, `quic.connection` failed)
//!    └► connection ─► accept_bi … ─► header ≤ 16 bytes within 10 s ─► tvs │ capf │ tftp │ reset
//!  connections and streams are counted: `quic.connection` (its whole life), sessions as on TCP
//! ```

use super::{Refusal, Service};
use crate::wire::capf::CapfServer;
use crate::wire::hist::{self, Shared};
use crate::wire::tftp::Files;
use crate::wire::tvs::TvsServer;
use quinn::{RecvStream, SendStream, VarInt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

/// A stream's header and a TFTP request must arrive within this.
const HEADER_WAIT: Duration = Duration::from_secs(10);
/// Longest header or file-name line.
const LINE_MAX: usize = 256;

/// What the QUIC port serves.
#[derive(Clone)]
pub struct Backends {
    pub tvs: Option<Arc<TvsServer>>,
    pub capf: Option<Arc<CapfServer>>,
    pub files: Option<Files>,
    pub rec: Shared,
}

/// Binds the QUIC endpoint.
pub fn bind(addr: SocketAddr, config: quinn::ServerConfig) -> Result<quinn::Endpoint, String> {
    quinn::Endpoint::server(config, addr).map_err(|e| {
        format!("cannot listen on {addr} (QUIC): {e}; choose another port (0 = any free port)")
    })
}

/// Accepts farms until the task is dropped.
pub async fn serve(endpoint: quinn::Endpoint, b: Backends) {
    while let Some(incoming) = endpoint.accept().await {
        tokio::spawn(connection(incoming, b.clone()));
    }
}

async fn connection(incoming: quinn::Incoming, b: Backends) {
    let started = Instant::now();
    let peer = incoming.remote_address();
    let conn = match timeout(HEADER_WAIT, incoming).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "QUIC handshake failed: {e}");
            let reason = format!("refused: {}", short(&e.to_string()));
            hist::record(&b.rec, "quic.connection", 1, Err(&reason));
            return;
        }
        Err(_) => {
            hist::record(&b.rec, "quic.connection", 1, Err("timeout"));
            return;
        }
    };
    tracing::debug!(%peer, "QUIC farm connected");
    let end = loop {
        match conn.accept_bi().await {
            Ok((send, recv)) => {
                tokio::spawn(stream(send, recv, peer, b.clone()));
            }
            Err(e) => break e,
        }
    };
    tracing::debug!(%peer, "QUIC farm gone: {end}");
    let us = started.elapsed().as_micros() as u64;
    let r = match end {
        quinn::ConnectionError::ApplicationClosed(_) | quinn::ConnectionError::LocallyClosed => {
            Ok(())
        }
        e => Err(short(&e.to_string())),
    };
    hist::record(&b.rec, "quic.connection", us, hist::res(&r));
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Reads one `\n`-terminated line of at most [`LINE_MAX`] bytes.
async fn line(recv: &mut RecvStream) -> Option<Vec<u8>> {
    let mut out = vec![];
    loop {
        let b = recv.read_u8().await.ok()?;
        if b == b'\n' {
            return Some(out);
        }
        if out.len() >= LINE_MAX {
            return None;
        }
        out.push(b);
    }
}

fn refuse(mut send: SendStream, mut recv: RecvStream, why: Refusal) {
    let code = VarInt::from_u32(why as u32);
    let _ = send.reset(code);
    let _ = recv.stop(code);
}

async fn stream(send: SendStream, mut recv: RecvStream, peer: SocketAddr, b: Backends) {
    let header = match timeout(HEADER_WAIT, line(&mut recv)).await {
        Ok(Some(h)) => h,
        _ => return refuse(send, recv, Refusal::BadHeader),
    };
    let name = format!("{peer}/{}", recv.id());
    match Service::parse(&header) {
        Some(Service::Tvs) => match b.tvs {
            Some(s) => crate::wire::tvs::handle(tokio::io::join(recv, send), name, s).await,
            None => refuse(send, recv, Refusal::NotServed),
        },
        Some(Service::Capf) => match b.capf {
            Some(s) => {
                let ipv6 = peer.is_ipv6();
                crate::wire::capf::handle(tokio::io::join(recv, send), name, ipv6, s).await
            }
            None => refuse(send, recv, Refusal::NotServed),
        },
        Some(Service::Tftp) => match b.files.clone() {
            Some(files) => tftp(send, recv, files, &b.rec).await,
            None => refuse(send, recv, Refusal::NotServed),
        },
        None => refuse(send, recv, Refusal::BadHeader),
    }
}

/// One file: `<name>\n` in, `[0, len u32 BE, bytes]` or `[1]` (not found) out.
async fn tftp(mut send: SendStream, mut recv: RecvStream, files: Files, rec: &Shared) {
    let started = Instant::now();
    let Ok(Some(name)) = timeout(HEADER_WAIT, line(&mut recv)).await else {
        return refuse(send, recv, Refusal::BadHeader);
    };
    let name = String::from_utf8_lossy(&name)
        .trim_start_matches('/')
        .to_string();
    let found = files(&name);
    let mut out = vec![];
    match &found {
        Some(bytes) => {
            out.push(0);
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.push(1),
    }
    let r = match timeout(HEADER_WAIT, send.write_all(&out)).await {
        Ok(Ok(())) => {
            let _ = send.finish();
            match found {
                Some(_) => Ok(()),
                None => Err("File not found".to_string()),
            }
        }
        Ok(Err(e)) => Err(format!("write: {e}")),
        Err(_) => Err("timeout".to_string()),
    };
    let us = started.elapsed().as_micros() as u64;
    hist::record(rec, "tftp.get", us, hist::res(&r));
}
