//! The phone's one TVS query (reference §2.3, §7.3; catalogue F17–F19): ask each TVS of the
//! current config in turn — over TLS 2445 pinned to the ITL's TVS records, or in identity
//! mode with the TVS certificate checked against them — until one answers. The boot pipeline
//! asks QUERY_CERT for the signer of a file ([`Question::Signer`]), the HTTPS service
//! CERT_VERIFICATION for a server's certificate ([`Question::Certificate`]); what the answer
//! means (and the 24 h TVS cache it fills) is theirs: [`crate::phone::trust`] and
//! [`crate::phone::https`].
//!
//! ```text
//!  tvs_ask(ix) ─► no TVS #ix in the config ─► false (the caller gives up)
//!      └► TLS: TvsTls ClientHello … handshake … request ─► TvsTls … answer ─► Heard::Answer
//!         identity: TvsPlain{request} ─► TvsPlainReply{TVS certificate, answer} ─► Heard::Answer
//!      handshake failure │ TvsAbort │ TVS certificate not in the ITL ─► Heard::Failed ─► tvs_ask(ix + 1)
//!      no answer in tvs_ms (the caller's timer) ─► tvs_timed_out ─► tvs_ask(ix + 1)
//! ```

use super::Phone;
use crate::machine::channel::Channel;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::{Event, Kind, Validity};
use crate::phone::https::HANDSHAKE_FAILURE;
use crate::phone::trust::FileKind;
use crate::pki::Certificate;
use crate::tls::{client_config, TlsEnd};
use crate::tvs::{TvsBody, TvsMessage};

/// What a TVS query asks.
#[derive(Debug)]
pub enum Question {
    /// QUERY_CERT: the signer of a trust list or config file (the boot pipeline).
    Signer {
        /// The file whose signer is asked about.
        file: FileKind,
        subject: String,
        issuer: String,
        serial: Vec<u8>,
    },
    /// CERT_VERIFICATION: the certificate an HTTPS server presented (the HTTPS service).
    Certificate { server: String, cert: Certificate },
}

impl Question {
    fn body(&self, device_name: String) -> TvsBody {
        match self {
            Question::Signer {
                subject,
                issuer,
                serial,
                ..
            } => TvsBody::QueryReq {
                device_name,
                subject: subject.clone(),
                issuer: issuer.clone(),
                serial: serial.clone(),
            },
            Question::Certificate { cert, .. } => TvsBody::VerifyReq {
                device_name,
                certificate: cert.der().to_vec(),
            },
        }
    }

    /// The observation that opens a session to `host`.
    fn asking(&self, host: &str) -> Event {
        match self {
            Question::Signer { file, .. } => Event::TvsQuery {
                file: *file,
                tvs_host: host.to_string(),
            },
            Question::Certificate { server, .. } => Event::note(
                Kind::HttpsTvsVerify,
                format!("{server} certificate to tvs@{host}"),
            ),
        }
    }

    /// Why an identity-mode TVS is refused.
    fn untrusted(&self) -> String {
        match self {
            Question::Signer { .. } => {
                "TVS certificate is not in the ITL: handshake failure".into()
            }
            Question::Certificate { .. } => {
                format!("{HANDSHAKE_FAILURE} (TVS certificate is not in the ITL)")
            }
        }
    }
}

/// One TVS query: the question, and the TVS of the config being asked over which channel.
#[derive(Debug)]
pub struct TvsQuery {
    pub question: Question,
    /// The session with the TVS being asked (messages of earlier ones are not ours).
    pub session: u64,
    /// Which TVS of the config is being asked.
    pub tvs_ix: usize,
    host: String,
    channel: Channel,
    /// The kind of timer armed for each TVS (the boot pipeline's or the HTTPS service's).
    timer: u64,
    /// When the TVS being asked is late.
    pub deadline_ms: u64,
    /// Some TVS refused the TLS handshake.
    pub handshake_failed: bool,
}

impl TvsQuery {
    /// A query not sent yet; each TVS asked arms a timer of kind `timer`.
    pub fn new(question: Question, timer: u64) -> TvsQuery {
        TvsQuery {
            question,
            session: 0,
            tvs_ix: 0,
            host: String::new(),
            channel: Channel::identity(),
            timer,
            deadline_ms: 0,
            handshake_failed: false,
        }
    }
}

/// What a TVS message did to a query.
#[derive(Debug)]
pub enum Heard {
    /// Nothing decided yet.
    Waiting,
    /// This TVS failed (handshake, abort, certificate not in the ITL): ask the next.
    Failed,
    /// The TVS answered (`body` `None`: unreadable), and the certificate it was accepted by
    /// as this phone's clock saw it (the evidence of invariant `validity_by_host_clock`).
    Answer {
        body: Option<TvsBody>,
        tvs_cert: Option<Validity>,
    },
}

/// The session of a message of a TVS session, if it is one.
pub(super) fn tvs_session(msg: &Msg) -> Option<u64> {
    match msg {
        Msg::TvsTls { session, .. }
        | Msg::TvsPlainReply { session, .. }
        | Msg::TvsAbort { session, .. } => Some(*session),
        _ => None,
    }
}

impl Phone {
    /// Asks TVS `ix` of the current config (the next ones when a TLS client cannot be
    /// made); false when none is left.
    pub(super) fn tvs_ask(
        &mut self,
        q: &mut TvsQuery,
        mut ix: usize,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> bool {
        loop {
            let tvs = self.config.as_ref().and_then(|c| c.tvs.get(ix));
            let Some(host) = tvs.map(|s| s.address.clone()) else {
                return false;
            };
            self.next_session += 1;
            q.session = (u64::from(self.id) << 24) | self.next_session;
            q.tvs_ix = ix;
            q.host = host.clone();
            q.deadline_ms = now.mono_ms + self.timers.tvs_ms;
            let device_name = format!("CP-{}-{}", self.model, self.device);
            let request = TvsMessage {
                session: 1000 + self.next_session as u32,
                body: q.question.body(device_name),
            }
            .encode();
            let asking = q.question.asking(&host);
            out.push(self.event(now, asking));
            let msg = if self.tls {
                match self.open_tls(&host, now) {
                    Ok(end) => {
                        q.channel = Channel::tls(end).with_pending(request);
                        let hello = q.channel.flush();
                        self.tvs_flight(q, hello)
                    }
                    Err(e) => {
                        out.push(self.obs(now, Kind::TlsFailure, e));
                        q.handshake_failed = true;
                        ix += 1;
                        continue;
                    }
                }
            } else {
                q.channel = Channel::identity();
                Msg::TvsPlain {
                    phone: self.id,
                    session: q.session,
                    client_cert: Some(self.identity().0.der().into()),
                    request,
                }
            };
            out.push(Effect::Send {
                to: Addr::Tvs(host),
                msg,
            });
            out.push(Effect::Timer {
                after_ms: self.timers.tvs_ms,
                token: self.token(q.timer),
            });
            return true;
        }
    }

    fn tvs_flight(&self, q: &TvsQuery, bytes: Vec<u8>) -> Msg {
        Msg::TvsTls {
            phone: self.id,
            session: q.session,
            bytes,
        }
    }

    /// A TLS client pinned to the TVS records of the held ITL, at this phone's wall clock.
    fn open_tls(&self, host: &str, now: Now) -> Result<TlsEnd, String> {
        self.clock.set(now.wall);
        let records: Vec<Certificate> = self
            .trust
            .itl
            .iter()
            .flat_map(|itl| itl.records.iter())
            .filter(|r| r.role == Some(crate::tlv::Role::Tvs))
            .filter_map(|r| {
                r.certificate
                    .as_deref()
                    .and_then(|d| Certificate::from_der(d).ok())
            })
            .collect();
        let (cert, key, chain) = self.identity();
        let config = client_config(records, (cert, key), chain, &self.clock)?;
        TlsEnd::client(config, host)
    }

    /// A message of the query's session: a TLS flight (advance the handshake, send the
    /// request once it is up, read the answer when complete), the identity-mode answer, or
    /// the TVS's abort. A failure is the phone's "SSL3 alert … handshake failure".
    pub(super) fn tvs_heard(
        &mut self,
        q: &mut TvsQuery,
        msg: Msg,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Heard {
        match msg {
            Msg::TvsAbort { reason, .. } => {
                out.push(self.obs(now, Kind::TlsFailure, reason));
                q.handshake_failed = true;
                Heard::Failed
            }
            Msg::TvsPlainReply {
                server_cert, reply, ..
            } => {
                // Identity mode: the TVS certificate must still match a TVS record of the ITL.
                let cert = Certificate::from_der(&server_cert)
                    .ok()
                    .filter(|c| self.trust.trusts_tvs_server(c));
                let Some(cert) = cert else {
                    out.push(self.obs(now, Kind::TlsFailure, q.question.untrusted()));
                    q.handshake_failed = true;
                    return Heard::Failed;
                };
                Heard::Answer {
                    body: TvsMessage::decode(&reply).ok().map(|m| m.body),
                    tvs_cert: Some(Validity::of(&cert, now.wall)),
                }
            }
            Msg::TvsTls { bytes, .. } => self.tvs_tls(q, &bytes, now, out),
            _ => Heard::Waiting,
        }
    }

    fn tvs_tls(
        &mut self,
        q: &mut TvsQuery,
        bytes: &[u8],
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Heard {
        self.clock.set(now.wall);
        if !q.channel.is_tls() {
            return Heard::Waiting;
        }
        if let Err(e) = q.channel.feed(bytes) {
            let why = format!("{HANDSHAKE_FAILURE} ({e})");
            out.push(self.obs(now, Kind::TlsFailure, why));
            q.handshake_failed = true;
            return Heard::Failed;
        }
        let flight = q.channel.flush();
        if !flight.is_empty() {
            out.push(Effect::Send {
                to: Addr::Tvs(q.host.clone()),
                msg: self.tvs_flight(q, flight),
            });
        }
        match TvsMessage::decode(q.channel.received()) {
            Ok(m) => {
                q.channel.take_received();
                let tvs_cert = q
                    .channel
                    .peer_certificate()
                    .and_then(|der| Certificate::from_der(&der).ok())
                    .map(|c| Validity::of(&c, now.wall));
                Heard::Answer {
                    body: Some(m.body),
                    tvs_cert,
                }
            }
            Err(_) => Heard::Waiting,
        }
    }

    /// The TVS being asked did not answer in time (the caller asks the next).
    pub(super) fn tvs_timed_out(&self, q: &TvsQuery, now: Now, out: &mut Vec<Effect>) {
        let why = format!("TVS #{} did not answer", q.tvs_ix);
        out.push(self.obs(now, Kind::TvsTimeout, why));
    }
}
