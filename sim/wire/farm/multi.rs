//! Several farms, one report: `--coordinate BIND --farms N` waits for N−1 `--join HOST:PORT`
//! farms, gives each a slice of the fleet's phones and of the load, starts them together, and
//! merges their HdrHistograms (V2-serialized, added with `Histogram::add`, never averaged
//! percentiles) and error counts into the report it prints.
//!
//! ```text
//!  joiner ── Join{phones} ──► coordinator        (a fleet of another size: Abort)
//!         ◄── Assign{index, first, phones, plan share} ──   (count and clients split, rate ÷ N)
//!         prepare (MICs) ── Ready ──►   … all ready …   ◄── Go ──   every farm executes
//!         ── Result{recorder (V2 histograms), wall_s, transport} ──►  merged
//!  frames: u32 BE length + JSON, ≤ 64 MiB, on plain TCP; every wait bounded (--join-timeout,
//!  the run's own length + --timeout): a farm that vanishes is named in the error, never a hang
//! ```

use super::run::{execute, prepare, Load, Outcome, Plan};
use super::{check_targets, ctx, Ctx, FarmArgs};
use crate::wire::hist::{Recorder, RecorderWire};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout_at, Instant};

const VERSION: u32 = 1;
const FRAME_MAX: usize = 64 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame {
    Join {
        version: u32,
        phones: u32,
    },
    Assign {
        index: u32,
        farms: u32,
        first: u32,
        phones: u32,
        plan: Plan,
    },
    Ready,
    Go,
    Result {
        wall_s: f64,
        peak_fds: Option<u64>,
        recorder: RecorderWire,
        transport: Value,
    },
    Abort {
        reason: String,
    },
}

async fn send(s: &mut TcpStream, f: &Frame, deadline: Instant) -> Result<(), String> {
    let body = serde_json::to_vec(f).map_err(|e| e.to_string())?;
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend(body);
    match timeout_at(deadline, s.write_all(&bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("send: {e}")),
        Err(_) => Err("send: timeout".into()),
    }
}

async fn recv(s: &mut TcpStream, deadline: Instant) -> Result<Frame, String> {
    let read = async {
        let n = s.read_u32().await? as usize;
        if n > FRAME_MAX {
            return Err(std::io::Error::other(format!("a {n}-byte frame")));
        }
        let mut body = vec![0; n];
        s.read_exact(&mut body).await?;
        serde_json::from_slice(&body).map_err(std::io::Error::other)
    };
    match timeout_at(deadline, read).await {
        Ok(Ok(Frame::Abort { reason })) => Err(format!("aborted: {reason}")),
        Ok(Ok(f)) => Ok(f),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err("disappeared (connection closed)".into())
        }
        Ok(Err(e)) => Err(format!("disappeared ({e})")),
        Err(_) => Err("no answer in time".into()),
    }
}

/// Farm `i` of `farms`'s part of `total` (the parts add up to `total`).
fn part(total: u64, i: u32, farms: u32) -> u64 {
    let (i, f) = (u128::from(i), u128::from(farms));
    let t = u128::from(total);
    (t * (i + 1) / f - t * i / f) as u64
}

/// Farm `i`'s share of the plan: its part of the count and of the clients, rate ÷ farms.
fn share(plan: &Plan, i: u32, farms: u32) -> Plan {
    let mut p = plan.clone();
    p.count = plan.count.map(|c| part(c, i, farms));
    p.load = match plan.load {
        Load::Open { rate } => Load::Open {
            rate: rate / f64::from(farms),
        },
        Load::Closed { clients, think } => Load::Closed {
            clients: part(u64::from(clients), i, farms) as u32,
            think,
        },
    };
    p
}

/// A joined farm.
struct Peer {
    index: u32,
    addr: SocketAddr,
    s: TcpStream,
    first: u32,
    phones: u32,
}

/// Waits for `farms − 1` joiners of a fleet of `phones` phones.
async fn gather(
    l: &TcpListener,
    farms: u32,
    phones: u32,
    deadline: Instant,
) -> Result<Vec<Peer>, String> {
    let mut peers: Vec<Peer> = vec![];
    while peers.len() + 1 < farms as usize {
        let (mut s, addr) = match timeout_at(deadline, l.accept()).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Err(format!("accept: {e}")),
            Err(_) => {
                return Err(format!(
                    "only {} of {} farms joined in time (--join-timeout)",
                    peers.len() + 1,
                    farms
                ))
            }
        };
        let hello = recv(&mut s, Instant::now() + Duration::from_secs(10)).await;
        let refuse = match hello {
            Ok(Frame::Join { version, .. }) if version != VERSION => {
                format!("protocol version {version}, the coordinator speaks {VERSION}")
            }
            Ok(Frame::Join { phones: p, .. }) if p != phones => {
                format!("its fleet has {p} phones, the coordinator's {phones}: not the same fleet")
            }
            Ok(Frame::Join { .. }) => {
                let index = peers.len() as u32 + 1;
                let first = (u64::from(phones) * u64::from(index) / u64::from(farms)) as u32;
                let phones = part(u64::from(phones), index, farms) as u32;
                peers.push(Peer {
                    index,
                    addr,
                    s,
                    first,
                    phones,
                });
                eprintln!("cucmsim farm: farm {index} joined from {addr}");
                continue;
            }
            Ok(other) => format!("expected Join, got {other:?}"),
            Err(e) => e,
        };
        eprintln!("cucmsim farm: refused a farm from {addr}: {refuse}");
        let _ = send(
            &mut s,
            &Frame::Abort { reason: refuse },
            Instant::now() + Duration::from_secs(2),
        )
        .await;
    }
    Ok(peers)
}

/// Assigns the slices, waits until every farm is ready, starts them.
async fn start(
    peers: &mut [Peer],
    farms: u32,
    plan: &Plan,
    ctx: &Arc<Ctx>,
    wait: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + wait;
    for p in peers.iter_mut() {
        let f = Frame::Assign {
            index: p.index,
            farms,
            first: p.first,
            phones: p.phones,
            plan: share(plan, p.index, farms),
        };
        send(&mut p.s, &f, deadline)
            .await
            .map_err(|e| format!("farm {} ({}): {e}", p.index, p.addr))?;
    }
    prepare(ctx.clone(), share(plan, 0, farms)).await;
    for p in peers.iter_mut() {
        match recv(&mut p.s, deadline).await {
            Ok(Frame::Ready) => {}
            Ok(f) => {
                return Err(format!(
                    "farm {} ({}): expected Ready, got {f:?}",
                    p.index, p.addr
                ))
            }
            Err(e) => return Err(format!("farm {} ({}): {e}", p.index, p.addr)),
        }
    }
    for p in peers.iter_mut() {
        send(&mut p.s, &Frame::Go, deadline)
            .await
            .map_err(|e| format!("farm {} ({}): {e}", p.index, p.addr))?;
    }
    Ok(())
}

/// One farm's figures in the report's `farms` list.
fn farm_json(
    index: u32,
    addr: &str,
    first: u32,
    phones: u32,
    o: &Outcome,
    w: &str,
    transport: Value,
) -> Value {
    let (ok, failed) = o.rec.counts(w);
    json!({
        "index": index, "address": addr, "first_phone": first, "phones": phones,
        "wall_s": o.wall_s, "ok": ok, "failed": failed, "open_fds_peak": o.peak_fds,
        "transport": transport,
    })
}

/// `--coordinate`: runs this farm's slice and merges every farm's into one outcome.
pub async fn coordinate(
    a: &FarmArgs,
    bind: SocketAddr,
    mut ctx: Ctx,
    plan: Plan,
) -> Result<(Outcome, Value, Arc<Ctx>), String> {
    let farms = a.farms.unwrap_or(0);
    if farms < 2 {
        return Err("--farms counts every farm, this one included: at least 2".into());
    }
    let phones = ctx.fleet.len();
    if phones < farms {
        return Err(format!(
            "{phones} phones cannot be split over {farms} farms"
        ));
    }
    if let Load::Closed { clients, .. } = plan.load {
        if clients < farms {
            return Err(format!(
                "--clients {clients} cannot be split over {farms} farms"
            ));
        }
    }
    let l = TcpListener::bind(bind)
        .await
        .map_err(|e| format!("--coordinate {bind}: {e}"))?;
    let addr = l.local_addr().map_err(|e| e.to_string())?;
    eprintln!(
        "cucmsim farm: coordinating on {addr}: waiting for {} farm(s) to --join",
        farms - 1
    );
    let wait = Duration::from_secs_f64(a.join_timeout.max(0.1));
    let mut peers = gather(&l, farms, phones, Instant::now() + wait).await?;
    ctx.phones = part(u64::from(phones), 0, farms) as u32;
    let ctx = Arc::new(ctx);
    start(&mut peers, farms, &plan, &ctx, wait).await?;
    let mine = execute(ctx.clone(), share(&plan, 0, farms)).await;
    let w = plan.workload.name();
    let me = farm_json(
        0,
        &addr.to_string(),
        0,
        ctx.phones,
        &mine,
        w,
        ctx.transport.json(),
    );
    // The farms run equal shares side by side: each has this long after ours to report
    // (a vanished one is seen at once, its connection closed).
    let grace = Instant::now() + plan.timeout + wait;
    let (merged, mut list) = collect(peers, mine, w, grace).await?;
    list.insert(0, me);
    Ok((merged, Value::Array(list), ctx))
}

/// Every joined farm's Result, merged into `mine`.
async fn collect(
    peers: Vec<Peer>,
    mine: Outcome,
    w: &str,
    grace: Instant,
) -> Result<(Outcome, Vec<Value>), String> {
    let mut rec = mine.rec;
    let mut wall_s = mine.wall_s;
    let mut list = vec![];
    for mut p in peers {
        let who = format!("farm {} ({})", p.index, p.addr);
        let Frame::Result {
            wall_s: ws,
            peak_fds,
            recorder,
            transport,
        } = recv(&mut p.s, grace)
            .await
            .map_err(|e| format!("{who}: {e}"))?
        else {
            return Err(format!("{who}: expected its Result"));
        };
        let theirs = Recorder::from_wire(&recorder).map_err(|e| format!("{who}: {e}"))?;
        rec.merge(&theirs).map_err(|e| format!("{who}: {e}"))?;
        wall_s = wall_s.max(ws);
        let o = Outcome {
            rec: theirs,
            wall_s: ws,
            peak_fds,
        };
        let addr = p.addr.to_string();
        list.push(farm_json(
            p.index, &addr, p.first, p.phones, &o, w, transport,
        ));
    }
    let merged = Outcome {
        rec,
        wall_s,
        peak_fds: mine.peak_fds,
    };
    Ok((merged, list))
}

/// Connects to the coordinator, retrying until `deadline` (it may start after us).
async fn dial(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, String> {
    loop {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) if Instant::now() + Duration::from_millis(200) < deadline => {
                tracing::debug!("coordinator {addr}: {e}; again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(e)) => return Err(format!("coordinator {addr}: {e}")),
            Err(_) => return Err(format!("coordinator {addr}: timeout")),
        }
    }
}

/// `--join`: runs the slice and plan the coordinator gives, sends back the figures.
async fn join_run(a: &FarmArgs, addr: SocketAddr) -> Result<u8, String> {
    let wait = Duration::from_secs_f64(a.join_timeout.max(0.1));
    let a2 = a.clone();
    let mut ctx = tokio::task::spawn_blocking(move || ctx(&a2))
        .await
        .map_err(|e| e.to_string())??;
    let mut s = dial(addr, Instant::now() + wait).await?;
    let hello = Frame::Join {
        version: VERSION,
        phones: ctx.fleet.len(),
    };
    send(&mut s, &hello, Instant::now() + wait).await?;
    let (index, farms, first, phones, plan) = match recv(&mut s, Instant::now() + wait).await {
        Ok(Frame::Assign {
            index,
            farms,
            first,
            phones,
            plan,
        }) => (index, farms, first, phones, plan),
        Ok(f) => return Err(format!("coordinator: expected Assign, got {f:?}")),
        Err(e) => return Err(format!("coordinator: {e}")),
    };
    if let Err(e) = check_targets(a, plan.workload) {
        let _ = send(
            &mut s,
            &Frame::Abort {
                reason: format!("farm {index}: {e}"),
            },
            Instant::now() + wait,
        )
        .await;
        return Err(e);
    }
    eprintln!(
        "cucmsim farm: farm {index} of {farms}: phones {first}..{}, {}",
        first + phones,
        plan.workload.name()
    );
    (ctx.first, ctx.phones) = (first, phones);
    let ctx = Arc::new(ctx);
    prepare(ctx.clone(), plan.clone()).await;
    send(&mut s, &Frame::Ready, Instant::now() + wait).await?;
    match recv(&mut s, Instant::now() + wait).await {
        Ok(Frame::Go) => {}
        Ok(f) => return Err(format!("coordinator: expected Go, got {f:?}")),
        Err(e) => return Err(format!("coordinator: {e}")),
    }
    let o = execute(ctx.clone(), plan.clone()).await;
    eprint!("{}", o.rec.table());
    let result = Frame::Result {
        wall_s: o.wall_s,
        peak_fds: o.peak_fds,
        recorder: o.rec.to_wire()?,
        transport: ctx.transport.json(),
    };
    send(&mut s, &result, Instant::now() + wait)
        .await
        .map_err(|e| format!("coordinator gone before the figures: {e}"))?;
    let (_, failed) = o.rec.counts(plan.workload.name());
    Ok(u8::from(failed > 0))
}

/// `cucmsim farm --join HOST:PORT`; returns the exit code.
pub async fn join(a: &FarmArgs, addr: SocketAddr) -> u8 {
    match join_run(a, addr).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cucmsim farm: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_plan() {
        for (total, farms) in [(200u64, 3u32), (7, 2), (1, 1), (5, 5)] {
            let sum: u64 = (0..farms).map(|i| part(total, i, farms)).sum();
            assert_eq!(sum, total);
        }
    }
}
