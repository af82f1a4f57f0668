//! `--workload boot`: the simulation's own phone machine ([`Phone`]) driven on real sockets —
//! the second driver of the same machine. The farm plays DHCP (option 150 = the fleet's TFTP
//! hosts); every TFTP host is the `--tftp` address, every TVS the `--tvs` address.
//!
//! ```text
//!  PowerOn ─► Phone::handle ─► effects:
//!    Send DhcpRequest        ─► DhcpAck{option150} fed back at once
//!    Send TftpGet{file}      ─► RFC 1350 read (over QUIC: a "tftp" stream) ─► TftpReply{file, bytes | not found}
//!    Send TvsTls{session, b} ─► that session's TCP connection or QUIC stream (opened on its first flight);
//!                               what it reads comes back as TvsTls, its end as TvsAbort (`tvs.session`)
//!    Timer{after_ms, token}  ─► real sleep ─► Timer(token)
//!    Send Register / CAPF    ─► the config was accepted: boot done (ok)
//!  state Failed{status}      ─► boot failed with that status (e.g. "Trust List update failed")
//! ```
//! The phone's own timers (TFTP, TVS: 10 s) decide as in the simulation; a transport failure
//! is recorded with its reason and handed to the phone as the simulation would (a file not
//! received, a TVS session aborted). The whole boot is bounded by the farm's `--timeout`.

use super::conn::io_reason;
use super::Ctx;
use crate::wire::hist;
use crate::wire::quic::dial::{BoxRead, BoxWrite, Transport};
use crate::wire::quic::Service;
use crate::wire::tftp;
use cucmsim_core::machine::phone::{Phone, PhoneInput, State};
use cucmsim_core::machine::{Addr, Effect, Msg};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::time::{timeout_at, Instant};

/// What reaches the phone's loop.
enum Ev {
    Input(PhoneInput),
    /// A transport failure to count (the phone hears of it through its own input).
    Note(&'static str, String),
}

/// Boots `phone` against the farm's servers.
pub async fn boot(mut phone: Phone, ctx: Arc<Ctx>, deadline: Instant) -> Result<(), String> {
    let (tx, mut rx) = unbounded_channel();
    let mut tvs: HashMap<u64, BoxWrite> = HashMap::new();
    let _ = tx.send(Ev::Input(PhoneInput::PowerOn));
    let mut last_note = None;
    loop {
        let ev = match timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => return Err("driver lost".into()),
            Err(_) => return Err(last_note.unwrap_or_else(|| "timeout".into())),
        };
        let input = match ev {
            Ev::Input(i) => i,
            Ev::Note(op, reason) => {
                last_note = Some(format!("{op}: {reason}"));
                continue;
            }
        };
        let effects = phone.handle(input, ctx.clock.now());
        for e in effects {
            if let Some(done) = effect(&phone, e, &ctx, &tx, &mut tvs, deadline).await {
                return done;
            }
        }
        match &phone.state {
            State::Failed { status } => {
                return Err(match last_note {
                    Some(n) => format!("{status} ({n})"),
                    None => status.to_string(),
                })
            }
            State::Registering { .. } | State::Registered(_) | State::Enrolling => return Ok(()),
            _ => {}
        }
    }
}

/// Carries out one effect; `Some` ends the boot.
async fn effect(
    phone: &Phone,
    e: Effect,
    ctx: &Arc<Ctx>,
    tx: &UnboundedSender<Ev>,
    tvs: &mut HashMap<u64, BoxWrite>,
    deadline: Instant,
) -> Option<Result<(), String>> {
    match e {
        Effect::Send { to: Addr::Dhcp, .. } => {
            let option150 = ctx.fleet.tftp_hosts.clone();
            let _ = tx.send(Ev::Input(PhoneInput::Msg(Msg::DhcpAck { option150 })));
        }
        Effect::Send {
            msg: Msg::TftpGet { file, .. },
            ..
        } => {
            tokio::spawn(fetch(ctx.clone(), file, tx.clone(), deadline));
        }
        Effect::Send {
            msg: Msg::TvsTls { session, bytes, .. },
            ..
        } => tvs_flight(phone.id, session, bytes, ctx, tx, tvs, deadline).await,
        Effect::Send {
            to: Addr::CallManager(_) | Addr::Capf(_),
            ..
        } => return Some(Ok(())),
        Effect::Send { .. } => {}
        Effect::Timer { after_ms, token } => {
            let tx = tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(after_ms)).await;
                let _ = tx.send(Ev::Input(PhoneInput::Timer(token)));
            });
        }
        Effect::Observe(o) => tracing::trace!("{} {}: {}", o.who, o.what(), o.detail()),
    }
    None
}

/// One TFTP read, its answer fed to the phone (a failure: no file, and the reason noted).
async fn fetch(ctx: Arc<Ctx>, file: String, tx: UnboundedSender<Ev>, deadline: Instant) {
    let started = std::time::Instant::now();
    let r = match (&ctx.transport, ctx.tftp) {
        (Transport::Quic(pool), _) => pool.tftp_get(&file, deadline).await,
        (_, Some(server)) => {
            let total = deadline.saturating_duration_since(Instant::now());
            let r = tftp::get(server, &file, ctx.packet_timeout, total).await;
            r.map_err(|e| e.to_string())
        }
        (_, None) => Err("no --tftp address".into()),
    };
    let us = started.elapsed().as_micros() as u64;
    let bytes = match r {
        Ok(b) => {
            hist::record(&ctx.rec, "tftp.get", us, Ok(()));
            b.map(Arc::from)
        }
        Err(reason) => {
            hist::record(&ctx.rec, "tftp.get", us, Err(&reason));
            let _ = tx.send(Ev::Note("tftp", reason));
            // The phone's own TFTP timer decides what a lost file means.
            return;
        }
    };
    let _ = tx.send(Ev::Input(PhoneInput::Msg(Msg::TftpReply { file, bytes })));
}

/// A TVS flight: opens the session's connection on its first flight, then writes.
async fn tvs_flight(
    phone: u32,
    session: u64,
    bytes: Vec<u8>,
    ctx: &Arc<Ctx>,
    tx: &UnboundedSender<Ev>,
    conns: &mut HashMap<u64, BoxWrite>,
    deadline: Instant,
) {
    let w = match conns.entry(session) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            let (read, write) = match ctx.transport.open(Service::Tvs, ctx.tvs, deadline).await {
                Ok(s) => s,
                Err(e) => return abort(tx, session, e),
            };
            tokio::spawn(tvs_reader(read, phone, session, ctx.clone(), tx.clone()));
            v.insert(write)
        }
    };
    if let Err(e) = w.write_all(&bytes).await {
        abort(tx, session, io_reason(&e));
    }
}

fn abort(tx: &UnboundedSender<Ev>, session: u64, reason: String) {
    let _ = tx.send(Ev::Note("tvs", reason.clone()));
    let msg = Msg::TvsAbort { session, reason };
    let _ = tx.send(Ev::Input(PhoneInput::Msg(msg)));
}

/// Reads a TVS connection until it ends: each read a TvsTls flight for the phone.
async fn tvs_reader(
    mut read: BoxRead,
    phone: u32,
    session: u64,
    ctx: Arc<Ctx>,
    tx: UnboundedSender<Ev>,
) {
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = 0usize;
    let end = loop {
        match read.read(&mut buf).await {
            Ok(0) => break None,
            Ok(n) => {
                got += n;
                let msg = Msg::TvsTls {
                    phone,
                    session,
                    bytes: buf[..n].to_vec(),
                };
                if tx.send(Ev::Input(PhoneInput::Msg(msg))).is_err() {
                    break None; // the boot is over
                }
            }
            Err(e) => break Some(io_reason(&e)),
        }
    };
    let us = started.elapsed().as_micros() as u64;
    let result = match (&end, got) {
        (None, n) if n > 0 => Ok(()),
        (None, _) => Err("closed".to_string()),
        (Some(r), _) => Err(r.clone()),
    };
    hist::record(&ctx.rec, "tvs.session", us, hist::res(&result));
    if let Err(reason) = result {
        let _ = tx.send(Ev::Input(PhoneInput::Msg(Msg::TvsAbort {
            session,
            reason,
        })));
    }
}
