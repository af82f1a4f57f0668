//! TFTP (RFC 1350) over UDP: the server `serve` runs on the cluster's TFTP port and the client
//! the farm's phones use. Read requests only (phones never write); octet or netascii mode both
//! send the file's bytes unchanged; 512-byte blocks, lock-step DATA/ACK.
//!
//! ```text
//!  phone ── RRQ "ITLSEP….tlv\0octet\0" ──► :69            server: a new socket (its TID) per transfer
//!        ◄── DATA 1 (512 bytes) ── TID     ── ACK 1 ──►    retransmit DATA after 1 s, 5 tries
//!        ◄── DATA n (< 512: the last) ──   ── ACK n ──►    ERROR 1 "File not found" for an unknown file
//!  anything else on :69: ERROR 4 (illegal operation) or ERROR 2 (write refused)
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::time::timeout;

const RRQ: u16 = 1;
const WRQ: u16 = 2;
const DATA: u16 = 3;
const ACK: u16 = 4;
const ERROR: u16 = 5;
/// Block size of RFC 1350.
pub const BLOCK: usize = 512;
/// Server: wait this long for an ACK before sending the block again.
const RETRANSMIT: Duration = Duration::from_secs(1);
/// Server: give up on a client after this many unanswered sends of one block.
const TRIES: u32 = 5;

/// Where the server's files come from: a file name to its bytes (`None`: not found).
pub type Files = Arc<dyn Fn(&str) -> Option<Arc<[u8]>> + Send + Sync>;
/// Called with each finished transfer: file, µs from RRQ to the last ACK, and the failure.
pub type Done = Arc<dyn Fn(&str, u64, Result<(), &str>) + Send + Sync>;

fn error_packet(code: u16, text: &str) -> Vec<u8> {
    let mut p = vec![0, ERROR as u8];
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(text.as_bytes());
    p.push(0);
    p
}

fn opcode(p: &[u8]) -> Option<u16> {
    (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]))
}

/// The file name and mode of a read request.
fn parse_rrq(p: &[u8]) -> Option<(String, String)> {
    let mut parts = p.get(2..)?.split(|&b| b == 0);
    let file = std::str::from_utf8(parts.next()?).ok()?;
    let mode = std::str::from_utf8(parts.next()?)
        .ok()?
        .to_ascii_lowercase();
    let known = mode == "octet" || mode == "netascii";
    (!file.is_empty() && known).then(|| (file.trim_start_matches('/').to_string(), mode))
}

/// Serves read requests on `socket` until the task is dropped.
pub async fn serve(socket: UdpSocket, files: Files, done: Done) {
    let mut buf = vec![0u8; 1500];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue; // e.g. ICMP errors from an earlier send: keep serving
        };
        let p = &buf[..n];
        match opcode(p) {
            Some(RRQ) => match parse_rrq(p) {
                Some((file, _mode)) => {
                    let (files, done) = (files.clone(), done.clone());
                    let local = socket.local_addr().ok();
                    tokio::spawn(async move { transfer(local, peer, file, files, done).await });
                }
                None => {
                    let _ = socket
                        .send_to(&error_packet(4, "malformed request"), peer)
                        .await;
                }
            },
            Some(WRQ) => {
                let _ = socket
                    .send_to(&error_packet(2, "write not allowed"), peer)
                    .await;
            }
            _ => {
                let _ = socket
                    .send_to(&error_packet(4, "illegal TFTP operation"), peer)
                    .await;
            }
        }
    }
}

/// One transfer from a fresh socket (its transfer ID).
async fn transfer(
    local: Option<SocketAddr>,
    peer: SocketAddr,
    file: String,
    files: Files,
    done: Done,
) {
    let started = Instant::now();
    let ip = local.map(|a| a.ip()).unwrap_or_else(|| [0, 0, 0, 0].into());
    let Ok(sock) = UdpSocket::bind(SocketAddr::new(ip, 0)).await else {
        return done(&file, 0, Err("no socket"));
    };
    if sock.connect(peer).await.is_err() {
        return done(&file, 0, Err("connect"));
    }
    let Some(bytes) = files(&file) else {
        let _ = sock.send(&error_packet(1, "File not found")).await;
        return done(
            &file,
            started.elapsed().as_micros() as u64,
            Err("not found"),
        );
    };
    let result = send_blocks(&sock, &bytes).await;
    done(&file, started.elapsed().as_micros() as u64, result);
}

/// Sends `bytes` in blocks, each until acknowledged.
async fn send_blocks(sock: &UdpSocket, bytes: &[u8]) -> Result<(), &'static str> {
    let blocks = bytes.len() / BLOCK + 1; // a last block shorter than 512, maybe empty
    let mut buf = [0u8; 64];
    for i in 0..blocks {
        let block = ((i + 1) & 0xffff) as u16;
        let chunk = &bytes[i * BLOCK..((i + 1) * BLOCK).min(bytes.len())];
        let mut packet = vec![0, DATA as u8];
        packet.extend_from_slice(&block.to_be_bytes());
        packet.extend_from_slice(chunk);
        let mut acked = false;
        for _ in 0..TRIES {
            if sock.send(&packet).await.is_err() {
                return Err("client unreachable");
            }
            let deadline = Instant::now() + RETRANSMIT;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match timeout(left, sock.recv(&mut buf)).await {
                    Ok(Ok(n)) if n >= 4 && opcode(&buf[..n]) == Some(ACK) => {
                        if u16::from_be_bytes([buf[2], buf[3]]) == block {
                            acked = true;
                            break;
                        }
                    }
                    Ok(Ok(n)) if opcode(&buf[..n]) == Some(ERROR) => return Err("client aborted"),
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => return Err("client unreachable"),
                    Err(_) => break,
                }
            }
            if acked {
                break;
            }
        }
        if !acked {
            return Err("no ACK");
        }
    }
    Ok(())
}

/// Why a client read failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetError {
    /// Nothing came back in time.
    Timeout,
    /// The server's host refused (ICMP port unreachable).
    Refused,
    /// An ERROR packet other than "not found", or a broken exchange.
    Protocol(String),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Timeout => f.write_str("timeout"),
            GetError::Refused => f.write_str("refused"),
            GetError::Protocol(t) => write!(f, "protocol: {t}"),
        }
    }
}

/// Reads `file` from the server at `server`: `Ok(None)` when it answers "File not found".
/// Each packet waits `per_packet` (re-sent 3 times); the whole read ends by `total`.
pub async fn get(
    server: SocketAddr,
    file: &str,
    per_packet: Duration,
    total: Duration,
) -> Result<Option<Vec<u8>>, GetError> {
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("addr")
    } else {
        "[::]:0".parse().expect("addr")
    };
    let sock = UdpSocket::bind(local)
        .await
        .map_err(|e| GetError::Protocol(format!("bind: {e}")))?;
    let mut rrq = vec![0, RRQ as u8];
    rrq.extend_from_slice(file.as_bytes());
    rrq.push(0);
    rrq.extend_from_slice(b"octet\0");
    match timeout(total, read_blocks(&sock, server, rrq, per_packet)).await {
        Ok(r) => r,
        Err(_) => Err(GetError::Timeout),
    }
}

async fn read_blocks(
    sock: &UdpSocket,
    server: SocketAddr,
    rrq: Vec<u8>,
    per_packet: Duration,
) -> Result<Option<Vec<u8>>, GetError> {
    let mut out = vec![];
    let mut tid: Option<SocketAddr> = None;
    let mut last = rrq;
    let mut expect: u16 = 1;
    let mut buf = vec![0u8; 4 + BLOCK + 64];
    let mut tries = 0;
    loop {
        let to = tid.unwrap_or(server);
        if let Err(e) = sock.send_to(&last, to).await {
            return Err(refused_or(e));
        }
        let (n, from) = match timeout(per_packet, sock.recv_from(&mut buf)).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Err(refused_or(e)),
            Err(_) => {
                tries += 1;
                if tries > 3 {
                    return Err(GetError::Timeout);
                }
                continue;
            }
        };
        if from.ip() != server.ip() || tid.is_some_and(|t| t != from) {
            continue; // a stranger (RFC 1350: answer ERROR 5; ignoring is enough here)
        }
        let p = &buf[..n];
        match opcode(p) {
            Some(ERROR) => {
                let code = p.get(2..4).map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                if code == 1 {
                    return Ok(None);
                }
                let text = String::from_utf8_lossy(p.get(4..).unwrap_or_default());
                return Err(GetError::Protocol(format!(
                    "ERROR {code} {}",
                    text.trim_end_matches('\0')
                )));
            }
            Some(DATA) if n >= 4 => {
                tid = Some(from);
                let block = u16::from_be_bytes([p[2], p[3]]);
                let mut ack = vec![0, ACK as u8];
                ack.extend_from_slice(&block.to_be_bytes());
                if block == expect {
                    out.extend_from_slice(&p[4..]);
                    expect = expect.wrapping_add(1);
                    tries = 0;
                    if n - 4 < BLOCK {
                        let _ = sock.send_to(&ack, from).await;
                        return Ok(Some(out));
                    }
                }
                last = ack; // a duplicate block is acknowledged again
            }
            _ => return Err(GetError::Protocol("unexpected packet".into())),
        }
    }
}

fn refused_or(e: std::io::Error) -> GetError {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        GetError::Refused
    } else {
        GetError::Protocol(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn server(files: Vec<(&'static str, Vec<u8>)>) -> SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let map: std::collections::HashMap<String, Arc<[u8]>> = files
            .into_iter()
            .map(|(k, v)| (k.to_string(), Arc::from(v)))
            .collect();
        let files: Files = Arc::new(move |f| map.get(f).cloned());
        tokio::spawn(serve(sock, files, Arc::new(|_, _, _| {})));
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_of_every_size_come_back_whole() {
        let sizes = [0usize, 1, 511, 512, 513, 1024, 5000];
        let files: Vec<_> = sizes
            .iter()
            .map(|&n| {
                let name: &'static str = Box::leak(format!("f{n}").into_boxed_str());
                (name, (0..n).map(|i| (i % 251) as u8).collect())
            })
            .collect();
        let addr = server(files.clone()).await;
        let d = Duration::from_millis(500);
        for (name, bytes) in files {
            let got = get(addr, name, d, d * 8).await.unwrap();
            assert_eq!(got.as_deref(), Some(&bytes[..]), "{name}");
        }
        assert_eq!(get(addr, "missing", d, d * 8).await, Ok(None));
    }

    #[tokio::test]
    async fn garbage_is_answered_with_an_error_and_the_server_stays_up() {
        let addr = server(vec![("a", b"hello".to_vec())]).await;
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for junk in [
            &b""[..],
            b"\x00",
            b"\x00\x01",
            b"\x00\x02x\x00octet\x00",
            b"\xff\xff",
        ] {
            sock.send_to(junk, addr).await.unwrap();
        }
        let d = Duration::from_millis(500);
        assert_eq!(get(addr, "a", d, d * 8).await, Ok(Some(b"hello".to_vec())));
    }

    #[tokio::test]
    async fn nobody_listening_is_a_quick_error() {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        drop(sock);
        let d = Duration::from_millis(100);
        let e = get(addr, "a", d, d * 8).await.unwrap_err();
        assert!(matches!(e, GetError::Timeout | GetError::Refused), "{e}");
    }
}
