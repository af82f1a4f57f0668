//! TVS on a real TCP port (2445): each connection is one phone's TLS 1.2 session, its bytes fed
//! to the node's TVS machine ([`cucmsim_core::machine::tvs::Tvs`], the one the simulation runs)
//! and its flights written back. Several identical machines (shards, one per core) take the
//! connections in turn, so handshakes run in parallel and never queue behind a slow client.
//!
//! ```text
//!  accept ─► over --max-conns? ─► closed at once, counted "refused: connection limit"
//!        └► conn n ─► shard n % S: Tvs::handle(TvsTls{phone: n, session 0, bytes}, now)
//!             ◄── TvsTls flights written back   TvsAbort ─► close ("TLS failure: …")
//!             session answered (Tvs::has_session false) ─► close; `tvs.session` recorded
//!  no byte for 10 s (stalled handshake, silent client) ─► close, "timeout"; garbage ─► TLS alert, close
//! ```
//! The same sessions arrive on QUIC streams ([`super::quic`]) through [`handle`].
//! Like usecallmanager's `tvsd`, one request per connection; a phone opens a new session for
//! the next question.

use super::clock::WireClock;
use super::hist::{self, Shared};
use clap::{Args, ValueEnum};
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Effect, Msg};
use cucmsim_core::tvs::{DecodeRules, Duplicates, UnknownElements};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// How TVS messages are decoded where reference §2.2 is silent [I] (serve: requests; farm:
/// answers); the defaults are the core's [`DecodeRules::default`].
#[derive(Args, Debug, Clone, Default)]
pub struct TvsDecodeArgs {
    /// TVS messages whose version byte is not 1 are accepted (default: refused, §2.2).
    #[arg(long)]
    pub tvs_any_version: bool,
    /// A TVS element that appears twice: the first counts, the last counts (as
    /// usecallmanager's tvsd), or the message is refused [default: first].
    #[arg(long, value_enum)]
    pub tvs_duplicates: Option<DuplicatesArg>,
    /// A TVS element §2.2 does not list: skipped, or the message refused (as tvsd) [default: skip].
    #[arg(long, value_enum)]
    pub tvs_unknown: Option<UnknownArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DuplicatesArg {
    First,
    Last,
    Refuse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UnknownArg {
    Skip,
    Refuse,
}

impl TvsDecodeArgs {
    /// The rules these flags give.
    pub fn rules(&self) -> DecodeRules {
        let d = DecodeRules::default();
        DecodeRules {
            require_version: !self.tvs_any_version,
            duplicates: match self.tvs_duplicates {
                None => d.duplicates,
                Some(DuplicatesArg::First) => Duplicates::First,
                Some(DuplicatesArg::Last) => Duplicates::Last,
                Some(DuplicatesArg::Refuse) => Duplicates::Refuse,
            },
            unknown: match self.tvs_unknown {
                None => d.unknown,
                Some(UnknownArg::Skip) => UnknownElements::Skip,
                Some(UnknownArg::Refuse) => UnknownElements::Refuse,
            },
        }
    }
}

/// A connection that sends nothing this long is closed.
pub const IDLE: Duration = Duration::from_secs(10);

/// The TVS machines connections are spread over.
pub struct TvsShards {
    shards: Vec<Mutex<Tvs>>,
    next: AtomicU32,
}

impl TvsShards {
    pub fn new(shards: Vec<Tvs>) -> TvsShards {
        TvsShards {
            shards: shards.into_iter().map(Mutex::new).collect(),
            next: AtomicU32::new(0),
        }
    }
}

/// What the TVS listener shares with its connections.
pub struct TvsServer {
    pub shards: TvsShards,
    pub clock: WireClock,
    pub rec: Shared,
    pub limit: Arc<Semaphore>,
}

/// Serves connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, server: Arc<TvsServer>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(handle(stream, peer.to_string(), server.clone()));
    }
}

/// One phone's session on any byte stream (a TCP connection, a QUIC stream): admitted under
/// the connection limit, served, recorded as `tvs.session`.
pub async fn handle<S>(stream: S, peer: String, server: Arc<TvsServer>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(permit) = server.limit.clone().try_acquire_owned() else {
        hist::record(
            &server.rec,
            "tvs.session",
            1,
            Err("refused: connection limit"),
        );
        return;
    };
    let started = Instant::now();
    let id = server.shards.next.fetch_add(1, Ordering::Relaxed);
    let r = session(stream, id, &server).await;
    let us = started.elapsed().as_micros() as u64;
    if let Err(e) = &r {
        tracing::debug!(%peer, conn = id, "TVS session failed: {e}");
    }
    hist::record(&server.rec, "tvs.session", us, hist::res(&r));
    drop(permit);
}

/// What one flight produced: bytes to write, and whether the session is over (`Some`: ok or
/// the failure).
fn feed(server: &TvsServer, id: u32, bytes: Vec<u8>) -> (Vec<u8>, Option<Result<(), String>>) {
    let shard = &server.shards.shards[id as usize % server.shards.shards.len()];
    let mut tvs = shard.lock().unwrap_or_else(|p| p.into_inner());
    let msg = Msg::TvsTls {
        phone: id,
        session: 0,
        bytes,
    };
    let effects = tvs.handle(msg, server.clock.now());
    let mut out = vec![];
    let mut end = None;
    for e in effects {
        match e {
            Effect::Send {
                msg: Msg::TvsTls { bytes, .. },
                ..
            } => out.extend(bytes),
            Effect::Send {
                msg: Msg::TvsAbort { reason, .. },
                ..
            } if reason.starts_with("TVS:") => end = Some(Err(reason)),
            Effect::Send {
                msg: Msg::TvsAbort { reason, .. },
                ..
            } => end = Some(Err(format!("TLS failure: {}", short(&reason)))),
            Effect::Observe(o) => tracing::debug!(conn = id, "{}: {}", o.what(), o.detail()),
            _ => {}
        }
    }
    if end.is_none() && !tvs.has_session(id, 0) {
        end = Some(Ok(()));
    }
    (out, end)
}

/// The first words of a TLS error, as an error-table key.
fn short(reason: &str) -> String {
    reason
        .split(['(', ':'])
        .rev()
        .find(|s| !s.trim().is_empty())
        .unwrap_or(reason)
        .trim()
        .chars()
        .take(60)
        .collect()
}

async fn session<S>(mut stream: S, id: u32, server: &TvsServer) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    let result = loop {
        let n = match timeout(IDLE, stream.read(&mut buf)).await {
            Ok(Ok(0)) => break Err("closed by the phone before the answer".to_string()),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => break Err(format!("read: {}", e.kind())),
            Err(_) => break Err("timeout".to_string()),
        };
        let (out, end) = feed(server, id, buf[..n].to_vec());
        if !out.is_empty() {
            match timeout(IDLE, stream.write_all(&out)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => break Err(format!("write: {}", e.kind())),
                Err(_) => break Err("timeout".to_string()),
            }
        }
        if let Some(end) = end {
            break end;
        }
    };
    if result.is_err() {
        let shard = &server.shards.shards[id as usize % server.shards.shards.len()];
        shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .close_session(id, 0);
    }
    let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
    result
}
