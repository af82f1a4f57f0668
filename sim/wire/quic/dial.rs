//! The farm's side of a phone's byte stream: a TCP connection per session (`--transport tcp`),
//! or a stream of one of a few QUIC connections to serve (`--transport quic`, [`QuicPool`]),
//! both handed out as a reader and a writer half so the TLS pump ([`crate::wire::farm`]) does
//! not know which.
//!
//! ```text
//!  Transport::open(Tvs │ Capf, --tvs/--capf addr, deadline)
//!    tcp:  connect(addr) ─► (read half, write half)                 one socket per session
//!    quic: pool[k mod K] (connected on first use, again after a loss) ─► open_bi ─► "tvs\n"
//!          ─► (RecvStream, SendStream)                               K connections, one UDP socket
//!  tftp_get over QUIC: "tftp\n<file>\n" ─► [0, len, bytes] │ [1]
//! ```

use super::{client_config, LinkKeys, Refusal, Service, SERVER_NAME};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

pub type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
pub type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// How a farm reaches the services.
pub enum Transport {
    /// One TCP connection per session; `connects` counts them.
    Tcp {
        connects: AtomicU64,
    },
    Quic(Box<QuicPool>),
}

/// A socket error as a short reason (QUIC stream and connection errors named as such).
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref() {
        if let Some(r) = inner.downcast_ref::<quinn::ReadError>() {
            return match r {
                quinn::ReadError::Reset(code) => Refusal::reason(code.into_inner()),
                quinn::ReadError::ConnectionLost(c) => conn_reason(c),
                other => format!("QUIC: {other}"),
            };
        }
        if let Some(w) = inner.downcast_ref::<quinn::WriteError>() {
            return match w {
                quinn::WriteError::Stopped(code) => Refusal::reason(code.into_inner()),
                quinn::WriteError::ConnectionLost(c) => conn_reason(c),
                other => format!("QUIC: {other}"),
            };
        }
    }
    match e.kind() {
        K::ConnectionRefused => "refused".into(),
        K::ConnectionReset => "reset".into(),
        K::TimedOut => "timeout".into(),
        K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => "closed".into(),
        k => format!("{k}"),
    }
}

/// A QUIC connection's end as a short reason.
fn conn_reason(e: &quinn::ConnectionError) -> String {
    use quinn::ConnectionError as E;
    match e {
        E::TransportError(t) if t.reason.contains("peer certificate") => {
            "QUIC: serve's key is not the pinned one (another seed, or --quic-keys)".into()
        }
        E::TransportError(t) if t.code.to_string().contains("crypto") => {
            let r: String = t.reason.chars().take(60).collect();
            format!("QUIC: handshake failed: {r}")
        }
        E::ConnectionClosed(c) if c.error_code.to_string().contains("crypto") => {
            "QUIC: serve refused this farm's key (another seed, or --quic-keys)".into()
        }
        E::TimedOut => "QUIC: timeout".into(),
        other => {
            let s: String = other.to_string().chars().take(80).collect();
            format!("QUIC: {s}")
        }
    }
}

impl Transport {
    pub fn tcp() -> Transport {
        Transport::Tcp {
            connects: AtomicU64::new(0),
        }
    }

    /// A fresh byte stream to `service`: over TCP to `addr`, or a QUIC stream to serve.
    pub async fn open(
        &self,
        service: Service,
        addr: Option<SocketAddr>,
        deadline: Instant,
    ) -> Result<(BoxRead, BoxWrite), String> {
        match self {
            Transport::Tcp { connects } => {
                let flag = match service {
                    Service::Tvs => "--tvs",
                    Service::Capf => "--capf",
                    Service::Tftp => "--tftp",
                };
                let addr = addr.ok_or_else(|| format!("no {flag} address"))?;
                let s = match timeout_at(deadline, TcpStream::connect(addr)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return Err(io_reason(&e)),
                    Err(_) => return Err("timeout".into()),
                };
                connects.fetch_add(1, Ordering::Relaxed);
                let _ = s.set_nodelay(true);
                let (r, w) = s.into_split();
                Ok((Box::new(r), Box::new(w)))
            }
            Transport::Quic(pool) => {
                let (send, recv) = pool.stream(service.header(), deadline).await?;
                Ok((Box::new(recv), Box::new(send)))
            }
        }
    }

    /// What the report says about the transport.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Transport::Tcp { connects } => serde_json::json!({
                "kind": "tcp", "connections": connects.load(Ordering::Relaxed),
            }),
            Transport::Quic(p) => serde_json::json!({
                "kind": "quic", "server": p.server.to_string(),
                "connections": p.connects.load(Ordering::Relaxed),
                "streams": p.streams.load(Ordering::Relaxed), "udp_sockets": 1,
            }),
        }
    }

    /// Closes the QUIC connections (serve sees a clean end); TCP has nothing open.
    pub async fn close(&self) {
        if let Transport::Quic(p) = self {
            p.close().await;
        }
    }
}

/// K QUIC connections to serve from one UDP socket, streams spread over them in turn.
pub struct QuicPool {
    pub server: SocketAddr,
    config: quinn::ClientConfig,
    endpoint: OnceLock<Result<quinn::Endpoint, String>>,
    conns: Vec<tokio::sync::Mutex<Option<quinn::Connection>>>,
    next: AtomicUsize,
    pub connects: AtomicU64,
    pub streams: AtomicU64,
}

impl QuicPool {
    pub fn new(server: SocketAddr, keys: &LinkKeys, conns: usize) -> Result<QuicPool, String> {
        Ok(QuicPool {
            server,
            config: client_config(keys)?,
            endpoint: OnceLock::new(),
            conns: (0..conns.max(1))
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            next: AtomicUsize::new(0),
            connects: AtomicU64::new(0),
            streams: AtomicU64::new(0),
        })
    }

    /// The UDP socket, bound on first use (inside the runtime).
    fn endpoint(&self) -> Result<&quinn::Endpoint, String> {
        self.endpoint
            .get_or_init(|| {
                let local: SocketAddr = if self.server.is_ipv4() {
                    "0.0.0.0:0".parse().expect("addr")
                } else {
                    "[::]:0".parse().expect("addr")
                };
                quinn::Endpoint::client(local).map_err(|e| format!("QUIC: bind: {e}"))
            })
            .as_ref()
            .map_err(|e| e.clone())
    }

    /// Connection `k mod K`, connected if it is not (or was lost).
    async fn connection(&self, deadline: Instant) -> Result<quinn::Connection, String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let mut slot = match timeout_at(deadline, self.conns[i].lock()).await {
            Ok(g) => g,
            Err(_) => return Err("QUIC: timeout".into()),
        };
        if let Some(c) = slot.as_ref().filter(|c| c.close_reason().is_none()) {
            return Ok(c.clone());
        }
        let connecting = self
            .endpoint()?
            .connect_with(self.config.clone(), self.server, SERVER_NAME)
            .map_err(|e| format!("QUIC: {e}"))?;
        let c = match timeout_at(deadline, connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(conn_reason(&e)),
            Err(_) => return Err("QUIC: timeout".into()),
        };
        self.connects.fetch_add(1, Ordering::Relaxed);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// A new stream, its header written.
    pub async fn stream(
        &self,
        header: &[u8],
        deadline: Instant,
    ) -> Result<(quinn::SendStream, quinn::RecvStream), String> {
        let c = self.connection(deadline).await?;
        let (mut send, recv) = match timeout_at(deadline, c.open_bi()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(conn_reason(&e)),
            Err(_) => return Err("QUIC: timeout (no stream free)".into()),
        };
        self.streams.fetch_add(1, Ordering::Relaxed);
        match timeout_at(deadline, send.write_all(header)).await {
            Ok(Ok(())) => Ok((send, recv)),
            Ok(Err(e)) => Err(io_reason(&e.into())),
            Err(_) => Err("timeout".into()),
        }
    }

    /// A file over a QUIC stream: `Ok(None)` when serve has no such file.
    pub async fn tftp_get(&self, file: &str, deadline: Instant) -> Result<Option<Vec<u8>>, String> {
        let mut request = Service::Tftp.header().to_vec();
        request.extend_from_slice(file.as_bytes());
        request.push(b'\n');
        let (mut send, mut recv) = self.stream(&request, deadline).await?;
        let _ = send.finish();
        let read = async {
            match recv.read_u8().await? {
                0 => {
                    let n = recv.read_u32().await? as usize;
                    let mut bytes = vec![0; n];
                    AsyncReadExt::read_exact(&mut recv, &mut bytes).await?;
                    Ok(Some(bytes))
                }
                _ => Ok::<_, std::io::Error>(None),
            }
        };
        match timeout_at(deadline, read).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(io_reason(&e)),
            Err(_) => Err("timeout".into()),
        }
    }

    async fn close(&self) {
        if let Some(Ok(ep)) = self.endpoint.get() {
            ep.close(quinn::VarInt::from_u32(0), b"farm done");
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ep.wait_idle()).await;
        }
    }
}
