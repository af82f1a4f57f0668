//! The CAPF service's connections: a first flight opens a session (or waits for a slot, or
//! is refused), each later flight runs through [`CapfSession`], replies go back over the
//! session's [`Channel`] (TLS on 3804, or identity mode), and an ended session frees its slot.
//!
//! ```text
//!  first flight ─► on_flight ─► refused (IPv6 off, F13, busy) │ waiting │ open: Channel + AUTH_REQ pending
//!  later flight ─► feed ─► Channel::feed ─► CapfMessage … ─► CapfSession::handle ─► send ─► flush
//!                     └► KEY_GEN_RES: LSC issued (a job) │ external issuer (issuer.rs)
//!  END_SESSION / abort / close ─► finish: device record, capf_status, next waiting connection
//! ```

use super::{capf_token, Capf, CapfConfig, T_DEADLINE, T_KEEPALIVE};
use crate::capf::{CapfMessage, CapfSession, Command, Outcome};
use crate::machine::channel::Channel;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::{Event, Kind, Observation};
use crate::tls::TlsEnd;
use std::sync::Arc;

/// One phone connection.
#[derive(Debug)]
pub(super) struct Sess {
    /// TLS on 3804, or identity mode; AUTH_REQ pending until the handshake is done.
    channel: Channel,
    ipv6: bool,
    pub(super) capf: CapfSession,
    /// The session is aborted if nothing arrives from the phone before this.
    pub(super) deadline_ms: u64,
}

impl Capf {
    /// The phone closed its connection: a waiting one leaves the queue; an open session ends
    /// (END_SESSION 7 to nobody) and frees its slot.
    pub(super) fn on_close(&mut self, key: (u32, u64), now: Now, out: &mut Vec<Effect>) {
        self.waiting.retain(|(p, s, ..)| (*p, *s) != key);
        let Some(mut s) = self.sessions.remove(&key) else {
            return;
        };
        let id = s.capf.id();
        let step = s.capf.abort("the phone closed the connection");
        if let Some(outcome) = step.outcome {
            self.finish(key, id, &s, &outcome, now, out);
        } else {
            self.by_id.remove(&id);
            self.admit_waiting(now, out);
        }
    }

    pub(super) fn abort(&self, phone: u32, session: u64, reason: String) -> Effect {
        Effect::Send {
            to: Addr::Phone(phone),
            msg: Msg::CapfAbort { session, reason },
        }
    }

    pub(super) fn on_flight(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let (phone, session, ipv6) = match &msg {
            Msg::CapfTls {
                phone,
                session,
                ipv6,
                ..
            }
            | Msg::CapfPlain {
                phone,
                session,
                ipv6,
                ..
            } => (*phone, *session, *ipv6),
            _ => return,
        };
        let key = (phone, session);
        if self.sessions.contains_key(&key) {
            return self.feed(key, msg, now, out);
        }
        let Some(config) = self.config().cloned() else {
            return;
        };
        if ipv6 && !config.ipv6_enabled {
            out.push(self.obs(
                now,
                Kind::CapfRefused,
                format!("phone#{phone}: IPv6 connection while \"Enable IPv6\" is False"),
            ));
            let reason = "connection refused: CAPF does not accept IPv6 (Enable IPv6 = False)";
            return out.push(self.abort(phone, session, reason.into()));
        }
        if let Some(why) = self.ready().and_then(|r| r.unusable.as_ref()) {
            out.push(self.obs(now, Kind::TlsFailure, format!("phone#{phone}: {why}")));
            let reason = format!("TLS connection failure on 3804: {why}");
            return out.push(self.abort(phone, session, reason));
        }
        let model = config.model;
        if model.max_sessions > 0 && self.sessions.len() >= model.max_sessions as usize {
            if self.waiting.len() < model.queue_limit as usize {
                self.waiting.push_back((phone, session, ipv6, msg));
            } else {
                out.push(self.obs(
                    now,
                    Kind::CapfRefused,
                    format!("phone#{phone}: {} waiting", self.waiting.len()),
                ));
                out.push(self.abort(phone, session, "CAPF busy: connection refused".into()));
            }
            return;
        }
        self.open(key, ipv6, msg, &config, now, out);
    }

    /// Opens a session for a first flight: TLS server end, AUTH_REQ, the handshake as a job.
    pub(super) fn open(
        &mut self,
        key: (u32, u64),
        ipv6: bool,
        msg: Msg,
        config: &CapfConfig,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let channel = match &msg {
            Msg::CapfTls { .. } => {
                let Some(server) = self.ready().and_then(|r| r.tls.clone()) else {
                    return;
                };
                match TlsEnd::server(server) {
                    Ok(t) => Channel::tls(t),
                    Err(_) => return,
                }
            }
            _ => Channel::identity(),
        };
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let id = self.next_id;
        let (capf, auth_req) = CapfSession::start(id, config.settings.clone());
        let Ok(auth_req) = auth_req.encode() else {
            return;
        };
        let s = Sess {
            channel: channel.with_pending(auth_req),
            ipv6,
            capf,
            deadline_ms: now.mono_ms + config.model.keygen_timeout_ms,
        };
        self.sessions.insert(key, s);
        self.by_id.insert(id, key);
        out.push(Effect::Timer {
            after_ms: config.model.keygen_timeout_ms,
            token: capf_token(T_DEADLINE, id),
        });
        let mut job = vec![];
        self.feed_into(key, msg, now, &mut job);
        self.queue.submit(
            config.model.workers,
            now,
            config.model.handshake_us,
            job,
            out,
        );
    }

    pub(super) fn feed(&mut self, key: (u32, u64), msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let mut job = vec![];
        let issuing = self.feed_into(key, msg, now, &mut job);
        if issuing {
            let model = self.model();
            self.queue
                .submit(model.workers, now, model.issue_us, job, out);
        } else {
            out.extend(job);
        }
    }

    /// Feeds one flight to its session; returns whether it issued an LSC (a job to charge).
    pub(super) fn feed_into(
        &mut self,
        key: (u32, u64),
        msg: Msg,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> bool {
        self.clock.set(now.wall);
        let Some(mut s) = self.sessions.remove(&key) else {
            return false;
        };
        let id = s.capf.id();
        s.deadline_ms = now.mono_ms + self.model().keygen_timeout_ms;
        out.push(Effect::Timer {
            after_ms: self.model().keygen_timeout_ms,
            token: capf_token(T_DEADLINE, id),
        });
        match (s.channel.is_tls(), msg) {
            (true, Msg::CapfTls { bytes, .. }) => {
                if let Err(e) = s.channel.feed(&bytes) {
                    out.push(self.obs(now, Kind::TlsFailure, format!("phone#{}: {e}", key.0)));
                    let reason = format!("SSL3 alert read:fatal:handshake failure ({e})");
                    out.push(self.abort(key.0, key.1, reason));
                    self.by_id.remove(&id);
                    return false;
                }
            }
            (false, Msg::CapfPlain { bytes, .. }) => {
                if let Some(req) = s.channel.take_pending() {
                    self.write(key, &mut s, req, out);
                }
                let _ = s.channel.feed(&bytes);
            }
            _ => {}
        }
        let (issuing, ended) = self.run_messages(key, &mut s, now, out);
        self.flush(key, &mut s, out);
        match ended {
            Some(outcome) => self.finish(key, id, &s, &outcome, now, out),
            None => {
                self.sessions.insert(key, s);
            }
        }
        issuing
    }

    /// Runs every complete message received through the session; returns whether one was
    /// the KEY_GEN_RES that issues an LSC, and the outcome if the session ended.
    pub(super) fn run_messages(
        &mut self,
        key: (u32, u64),
        s: &mut Sess,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> (bool, Option<Outcome>) {
        let id = s.capf.id();
        let mut issuing = false;
        let mut ended = None;
        loop {
            let decoded = CapfMessage::decode_prefix(s.channel.received());
            let (m, used) = match decoded {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    let step = s.capf.abort(&format!("undecodable message: {e}"));
                    self.send(key, s, &step.send, out);
                    ended = step.outcome;
                    break;
                }
            };
            s.channel.consume(used);
            let before = s.capf.expecting();
            let step = s.capf.handle(&m, now.wall, &self.devices);
            if before == Some(Command::KeyGenRes) && m.command == Command::KeyGenRes {
                issuing = true;
            }
            if s.capf.expecting() == Some(Command::KeyGenRes) && before != s.capf.expecting() {
                out.push(Effect::Timer {
                    after_ms: self.model().keepalive_ms.max(1),
                    token: capf_token(T_KEEPALIVE, id),
                });
            }
            self.send(key, s, &step.send, out);
            if step.outcome.is_some() {
                ended = step.outcome;
                break;
            }
            if let Some(public) = step.issue {
                let step = self.external_issue(key, s, public, now, out);
                self.send(key, s, &step.send, out);
                if step.outcome.is_some() {
                    ended = step.outcome;
                    break;
                }
            }
        }
        (issuing, ended)
    }

    /// Encodes and writes CAPF messages to the phone.
    pub(super) fn send(
        &self,
        key: (u32, u64),
        s: &mut Sess,
        msgs: &[CapfMessage],
        out: &mut Vec<Effect>,
    ) {
        for m in msgs {
            if let Ok(bytes) = m.encode() {
                self.write(key, s, bytes, out);
            }
        }
        self.flush(key, s, out);
    }

    pub(super) fn write(
        &self,
        key: (u32, u64),
        s: &mut Sess,
        bytes: Vec<u8>,
        out: &mut Vec<Effect>,
    ) {
        if let Ok(Some(bytes)) = s.channel.write(bytes) {
            let server_cert = s
                .channel
                .first_clear_write()
                .then(|| self.config().map(|c| Arc::from(c.settings.capf.cert.der())));
            out.push(Effect::Send {
                to: Addr::Phone(key.0),
                msg: Msg::CapfPlain {
                    phone: key.0,
                    session: key.1,
                    ipv6: s.ipv6,
                    server_cert: server_cert.flatten(),
                    bytes,
                },
            });
        }
    }

    /// Sends what the TLS end has to send.
    pub(super) fn flush(&self, key: (u32, u64), s: &mut Sess, out: &mut Vec<Effect>) {
        let bytes = s.channel.flush();
        if !bytes.is_empty() {
            out.push(Effect::Send {
                to: Addr::Phone(key.0),
                msg: Msg::CapfTls {
                    phone: key.0,
                    session: key.1,
                    ipv6: s.ipv6,
                    bytes,
                },
            });
        }
    }

    /// A session ended: the record takes the outcome, the trace says so, a waiting
    /// connection gets the slot.
    pub(super) fn finish(
        &mut self,
        key: (u32, u64),
        id: u32,
        s: &Sess,
        outcome: &Outcome,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.by_id.remove(&id);
        let device = s.capf.device().map(|d| d.device_name.clone());
        if let Some(rec) = device.as_ref().and_then(|d| self.devices.0.get_mut(d)) {
            rec.apply(outcome);
            let status = rec.status.to_string();
            let name = rec.device_name.clone();
            let copy = Box::new(rec.clone());
            let event = Event::CapfStatus {
                device: name,
                status,
            };
            out.push(Effect::Observe(Observation::new(now, &self.who(), event)));
            if let Some(c) = self.config() {
                out.push(Effect::Send {
                    to: Addr::Publisher(c.cluster.clone()),
                    msg: Msg::CapfRecord(copy),
                });
            }
        }
        let who = device.unwrap_or_else(|| format!("phone#{}", key.0));
        let detail = match outcome {
            Outcome::Issued { cert } => {
                self.issued += 1;
                self.devices.1.installed(&who);
                let event = Event::LscIssued {
                    device: who.clone(),
                    serial_hex: hex::encode(cert.serial()),
                };
                out.push(Effect::Observe(Observation::new(now, &self.who(), event)));
                format!("{who}: LSC issued")
            }
            Outcome::Deleted => format!("{who}: LSC deleted"),
            Outcome::Fetched { certs } => format!("{who}: {} certificate(s) fetched", certs.len()),
            Outcome::Failed { reason, text } => format!("{who}: END_SESSION {reason:?}: {text}"),
        };
        out.push(self.obs(now, Kind::CapfSession, detail));
        self.admit_waiting(now, out);
    }

    pub(super) fn admit_waiting(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(config) = self.config().cloned() else {
            return;
        };
        while config.model.max_sessions == 0
            || self.sessions.len() < config.model.max_sessions as usize
        {
            let Some((phone, session, ipv6, msg)) = self.waiting.pop_front() else {
                return;
            };
            self.open((phone, session), ipv6, msg, &config, now, out);
        }
    }
}
