//! The TFTP service's plain HTTP port (6970): `GET /<file>` answers the same files as TFTP
//! (phones from 8.x on fetch configs over HTTP when they can). A small HTTP/1.0 handler:
//! one request per connection, the request head limited to 8 KiB and 5 s.
//!
//! ```text
//!  GET /SEP001122000000.cnf.xml.sgn HTTP/1.1 ─► 200 + bytes │ 404 not found │ 405 other methods
//!  anything unreadable ─► 400 ; silence ─► closed after 5 s
//! ```

use super::tftp::Files;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const HEAD_LIMIT: usize = 8192;
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Called with each answered request: µs from accept to the last byte, and the failure.
pub type Done = std::sync::Arc<dyn Fn(u64, Result<(), &str>) + Send + Sync>;

/// Serves connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, files: Files, done: Done) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await; // e.g. out of descriptors
            continue;
        };
        let (files, done) = (files.clone(), done.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let r = answer(stream, &files).await;
            done(started.elapsed().as_micros() as u64, r);
        });
    }
}

/// Reads the request head (up to the blank line).
async fn read_head(stream: &mut TcpStream) -> Result<String, &'static str> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = match timeout(HEAD_TIMEOUT, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return Err("closed before a request"),
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return Err("read error"),
            Err(_) => return Err("timeout"),
        };
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return String::from_utf8(head).map_err(|_| "bad request");
        }
        if head.len() > HEAD_LIMIT {
            return Err("request head too long");
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &[u8], kind: &str) {
    let head = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = timeout(HEAD_TIMEOUT, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.shutdown().await
    })
    .await;
}

async fn answer(mut stream: TcpStream, files: &Files) -> Result<(), &'static str> {
    let head = match read_head(&mut stream).await {
        Ok(h) => h,
        Err(e) => {
            respond(
                &mut stream,
                "400 Bad Request",
                b"bad request\n",
                "text/plain",
            )
            .await;
            return Err(e);
        }
    };
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        respond(&mut stream, "405 Method Not Allowed", b"", "text/plain").await;
        return Err("method not allowed");
    }
    let file = path.trim_start_matches('/');
    match files(file) {
        Some(bytes) => {
            let body: &[u8] = if method == "HEAD" { &[] } else { &bytes };
            respond(&mut stream, "200 OK", body, "application/octet-stream").await;
            Ok(())
        }
        None => {
            respond(&mut stream, "404 Not Found", b"not found\n", "text/plain").await;
            Err("not found")
        }
    }
}

/// A client GET of `file` (for tests and the farm): the body on 200, `None` on 404.
pub async fn get(
    addr: std::net::SocketAddr,
    file: &str,
    wait: Duration,
) -> Result<Option<Vec<u8>>, String> {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let req = format!("GET /{file} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut all = vec![];
        s.read_to_end(&mut all).await.map_err(|e| e.to_string())?;
        let split = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no response head")?;
        let status = String::from_utf8_lossy(&all[..split]);
        if status.starts_with("HTTP/1.0 200") {
            Ok(Some(all[split + 4..].to_vec()))
        } else if status.starts_with("HTTP/1.0 404") {
            Ok(None)
        } else {
            Err(status.lines().next().unwrap_or_default().to_string())
        }
    };
    timeout(wait, fut)
        .await
        .map_err(|_| "timeout".to_string())?
}
