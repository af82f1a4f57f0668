//! A phone's TLS session on a real byte stream — its own TCP connection, or its own QUIC
//! stream ([`crate::wire::quic::dial`]): the core's sans-I/O [`TlsEnd`] (the same client
//! configurations and certificate checks the simulated phones use) pumped over it, every step
//! bounded by the operation's deadline.
//!
//! ```text
//!  open (TCP connect │ QUIC stream; refused │ timeout) ─► ClientHello ─► read ─► feed (TLS alert │ bad certificate) ─► …
//!  established ─► send(request) ─► read until the caller's decoder has a whole message
//! ```
//! Failures come back as short reasons for the farm's error table: `refused`, `timeout`,
//! `reset`, `closed`, `TLS alert: …`, `TLS: …`.

pub use crate::wire::quic::dial::io_reason;
use crate::wire::quic::dial::{BoxRead, BoxWrite, Transport};
use crate::wire::quic::Service;
use cucmsim_core::tls::TlsEnd;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

/// One TLS session over a byte stream.
pub struct TlsConn {
    r: BoxRead,
    w: BoxWrite,
    pub tls: TlsEnd,
    deadline: Instant,
}

/// A TLS error from rustls as a short reason.
pub fn tls_reason(e: &str) -> String {
    if let Some(rest) = e.split("received fatal alert: ").nth(1) {
        return format!("TLS alert: {rest}");
    }
    let short: String = e.chars().take(80).collect();
    format!("TLS: {short}")
}

impl TlsConn {
    /// Opens the stream to `service` (over TCP: at `addr`); everything must be done by
    /// `deadline`.
    pub async fn connect(
        transport: &Transport,
        service: Service,
        addr: Option<SocketAddr>,
        tls: TlsEnd,
        deadline: Instant,
    ) -> Result<TlsConn, String> {
        let (r, w) = transport.open(service, addr, deadline).await?;
        Ok(TlsConn {
            r,
            w,
            tls,
            deadline,
        })
    }

    /// Writes what TLS has to send.
    pub async fn flush(&mut self) -> Result<(), String> {
        let out = self.tls.take_outgoing();
        if out.is_empty() {
            return Ok(());
        }
        match timeout_at(self.deadline, self.w.write_all(&out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io_reason(&e)),
            Err(_) => Err("timeout".into()),
        }
    }

    /// Reads once and feeds TLS.
    async fn read_some(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 16 * 1024];
        let n = match timeout_at(self.deadline, self.r.read(&mut buf)).await {
            Ok(Ok(0)) => return Err("closed".into()),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(io_reason(&e)),
            Err(_) => return Err("timeout".into()),
        };
        let fed = self.tls.feed(&buf[..n]);
        // An alert for the peer (e.g. bad certificate) goes out before we give up.
        let _ = self.flush().await;
        fed.map_err(|e| tls_reason(&e))
    }

    /// Completes the handshake.
    pub async fn handshake(&mut self) -> Result<(), String> {
        loop {
            self.flush().await?;
            if self.tls.is_established() {
                return Ok(());
            }
            self.read_some().await?;
        }
    }

    /// Sends application data (one TLS record flight, one write).
    pub async fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.tls.send(data).map_err(|e| tls_reason(&e))?;
        self.flush().await
    }

    /// Reads until `complete` finds a whole message in the plaintext received so far
    /// (`complete` returns how many bytes it used); returns those bytes.
    pub async fn recv(
        &mut self,
        pending: &mut Vec<u8>,
        complete: impl Fn(&[u8]) -> Option<usize>,
    ) -> Result<Vec<u8>, String> {
        loop {
            pending.extend(self.tls.take_plain());
            if let Some(n) = complete(pending) {
                return Ok(pending.drain(..n).collect());
            }
            self.read_some().await?;
        }
    }

    /// Closes the write side (the server sees EOF).
    pub async fn close(mut self) {
        let _ = timeout_at(self.deadline, self.w.shutdown()).await;
    }
}
