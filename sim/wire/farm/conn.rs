//! A phone's TLS session on a real TCP connection: the core's sans-I/O [`TlsEnd`] (the same
//! client configurations and certificate checks the simulated phones use) pumped over a
//! tokio socket, every step bounded by the operation's deadline.
//!
//! ```text
//!  connect (refused │ timeout) ─► ClientHello ─► read ─► feed (TLS alert │ bad certificate) ─► …
//!  established ─► send(request) ─► read until the caller's decoder has a whole message
//! ```
//! Failures come back as short reasons for the farm's error table: `refused`, `timeout`,
//! `reset`, `closed`, `TLS alert: …`, `TLS: …`.

use cucmsim_core::tls::TlsEnd;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

/// One TLS session over TCP.
pub struct TlsConn {
    tcp: TcpStream,
    pub tls: TlsEnd,
    deadline: Instant,
}

/// A socket error as a short reason.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "refused".into(),
        K::ConnectionReset => "reset".into(),
        K::TimedOut => "timeout".into(),
        K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => "closed".into(),
        k => format!("{k}"),
    }
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
    /// Connects and starts the handshake; everything must be done by `deadline`.
    pub async fn connect(
        addr: SocketAddr,
        tls: TlsEnd,
        deadline: Instant,
    ) -> Result<TlsConn, String> {
        let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(io_reason(&e)),
            Err(_) => return Err("timeout".into()),
        };
        let _ = tcp.set_nodelay(true);
        Ok(TlsConn { tcp, tls, deadline })
    }

    /// Writes what TLS has to send.
    pub async fn flush(&mut self) -> Result<(), String> {
        let out = self.tls.take_outgoing();
        if out.is_empty() {
            return Ok(());
        }
        match timeout_at(self.deadline, self.tcp.write_all(&out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(io_reason(&e)),
            Err(_) => Err("timeout".into()),
        }
    }

    /// Reads once and feeds TLS.
    async fn read_some(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 16 * 1024];
        let n = match timeout_at(self.deadline, self.tcp.read(&mut buf)).await {
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
        let _ = timeout_at(self.deadline, self.tcp.shutdown()).await;
    }
}
