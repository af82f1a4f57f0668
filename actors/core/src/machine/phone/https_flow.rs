//! The phone's HTTPS-service side flow (reference §2.3 item 3, §2.4; catalogue F17–F19): a
//! registered phone opens a service (Corporate Directory, EM, …) whose Tomcat presents a
//! certificate that is "not in CTL", so it checks its TVS cache, else opens TLS 2445 to a TVS
//! of its current config — the same TLS client as for trust lists, pinned to the ITL's TVS
//! records — and sends CERT_VERIFICATION_REQ with the certificate. The decisions are the pure
//! [`crate::phone::https`]; this module only moves the bytes.
//!
//! ```text
//!  HttpsOpen{server, cert} ─► not registered ─► https_skipped
//!      judge: CTL/ITL or cache ─► https_ok │ no TVS ─► https_failed "Host Not Found"
//!      AskTvs ─► TVS #i: TvsTls ClientHello … CERT_VERIFICATION_REQ ─► RES ─► https_ok | https_failed
//!                 handshake failure / abort / no answer in tvs_ms ─► TVS #i+1 … none left ─► https_failed
//! ```
//! The flow runs beside the registration and leaves the phone's state alone; a reset or power
//! failure drops it. One service at a time: a new one replaces one in progress [I].
//! The secure config download (`tftp_https_flow`, F29) judges the TFTP's certificate through
//! this same flow ([`Purpose::ConfigDownload`]); its outcome goes back to that download.

use crate::machine::trace::Kind;
use super::{Phone, T_HTTPS};
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::phone::https::{self, HttpsDecision, HttpsPath};
use crate::pki::Certificate;
use crate::tls::TlsEnd;
use crate::tvs::{TvsBody, TvsMessage};
use std::sync::Arc;

/// What the judged certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// An HTTPS service the user opened (Corporate Directory, EM, …).
    Service,
    /// The TFTP's HTTPS config download (`tftp_https_flow`).
    ConfigDownload,
}

/// One HTTPS service being verified through TVS.
#[derive(Debug)]
pub(super) struct HttpsConn {
    purpose: Purpose,
    server: String,
    cert: Certificate,
    session: u64,
    tvs_ix: usize,
    host: String,
    /// `None` in identity mode.
    tls: Option<TlsEnd>,
    request: Vec<u8>,
    sent: bool,
    received: Vec<u8>,
    deadline_ms: u64,
    /// Some TVS refused the TLS handshake.
    handshake_failed: bool,
}

impl Phone {
    /// Whether `msg` belongs to the HTTPS flow's TVS session.
    pub(super) fn https_owns(&self, msg: &Msg) -> bool {
        let Some(c) = &self.https else { return false };
        match msg {
            Msg::TvsTls { session, .. }
            | Msg::TvsAbort { session, .. }
            | Msg::TvsPlainReply { session, .. } => *session == c.session,
            _ => false,
        }
    }

    /// The user opens the service served by `server`, which presents `der`.
    pub(super) fn https_open(
        &mut self,
        server: String,
        der: Arc<[u8]>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.https = None;
        if self.registered_cluster().is_none() {
            out.push(self.obs(now, Kind::HttpsSkipped, format!("{server}: not registered")));
            return;
        }
        let cert = match Certificate::from_der(&der) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("{server}: unreadable server certificate: {e}");
                return out.push(self.obs(now, Kind::HttpsFailed, why));
            }
        };
        self.https_verify(server, cert, Purpose::Service, now, out)
    }

    /// Judges the certificate `server` presented: CTL/ITL, the TVS cache, else TVS.
    pub(super) fn https_verify(
        &mut self,
        server: String,
        cert: Certificate,
        purpose: Purpose,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.https = None;
        let tvs_count = self.config.as_ref().map_or(0, |c| c.tvs.len());
        match https::judge(&self.trust, &cert, tvs_count, now.wall) {
            HttpsDecision::Trusted(path) => self.https_done(&server, purpose, Ok(path), now, out),
            HttpsDecision::Fail(why) => self.https_done(&server, purpose, Err(why), now, out),
            HttpsDecision::AskTvs => {
                let conn = HttpsConn {
                    purpose,
                    server,
                    cert,
                    session: 0,
                    tvs_ix: 0,
                    host: String::new(),
                    tls: None,
                    request: vec![],
                    sent: false,
                    received: vec![],
                    deadline_ms: 0,
                    handshake_failed: false,
                };
                self.https_try_tvs(Box::new(conn), 0, now, out);
            }
        }
    }

    /// The end of a judgement: `https_ok` or `https_failed`, and, for a config download,
    /// the verdict handed back to it.
    fn https_done(
        &mut self,
        server: &str,
        purpose: Purpose,
        result: Result<HttpsPath, String>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let (what, detail) = match &result {
            Ok(HttpsPath::TrustList) => (
                Kind::HttpsOk,
                format!("{server}: server certificate in the CTL/ITL"),
            ),
            Ok(HttpsPath::Tvs { cached: true }) => (
                Kind::HttpsOk,
                format!("{server}: {} (TVS cache)", https::AUTHENTICATED),
            ),
            Ok(HttpsPath::Tvs { cached: false }) => {
                (Kind::HttpsOk, format!("{server}: {}", https::AUTHENTICATED))
            }
            Err(why) => (Kind::HttpsFailed, format!("{server}: {why}")),
        };
        out.push(self.obs(now, what, detail));
        if purpose == Purpose::ConfigDownload {
            self.secure_verdict(result.map(|_| ()), now, out);
        }
    }

    /// Opens a session to TVS `ix` of the current config, or fails the service when none is
    /// left.
    fn https_try_tvs(&mut self, mut c: Box<HttpsConn>, ix: usize, now: Now, out: &mut Vec<Effect>) {
        let host = self
            .config
            .as_ref()
            .and_then(|cfg| cfg.tvs.get(ix))
            .map(|s| s.address.clone());
        let Some(host) = host else {
            let why = https::exhausted(c.handshake_failed);
            return self.https_done(&c.server, c.purpose, Err(why), now, out);
        };
        self.next_session += 1;
        c.session = (u64::from(self.id) << 24) | self.next_session;
        c.tvs_ix = ix;
        c.host = host.clone();
        c.request = TvsMessage {
            session: 1000 + self.next_session as u32,
            body: TvsBody::VerifyReq {
                device_name: format!("CP-{}-{}", self.model, self.device),
                certificate: c.cert.der().to_vec(),
            },
        }
        .encode();
        c.sent = false;
        c.received.clear();
        c.tls = None;
        c.deadline_ms = now.mono_ms + self.timers.tvs_ms;
        out.push(self.obs(
            now,
            Kind::HttpsTvsVerify,
            format!("{} certificate to tvs@{host}", c.server),
        ));
        if self.tls {
            match self.open_tls(&host, now) {
                Ok(mut end) => {
                    let hello = end.take_outgoing();
                    c.tls = Some(end);
                    out.push(Effect::Send {
                        to: Addr::Tvs(host),
                        msg: Msg::TvsTls {
                            phone: self.id,
                            session: c.session,
                            bytes: hello,
                        },
                    });
                }
                Err(e) => {
                    out.push(self.obs(now, Kind::TlsFailure, e));
                    c.handshake_failed = true;
                    return self.https_try_tvs(c, ix + 1, now, out);
                }
            }
        } else {
            c.sent = true;
            out.push(Effect::Send {
                to: Addr::Tvs(host),
                msg: Msg::TvsPlain {
                    phone: self.id,
                    session: c.session,
                    client_cert: Some(self.identity().0.der().into()),
                    request: c.request.clone(),
                },
            });
        }
        out.push(Effect::Timer {
            after_ms: self.timers.tvs_ms,
            token: self.token(T_HTTPS),
        });
        self.https = Some(c);
    }

    /// The HTTPS flow's TVS did not answer in time: the next TVS.
    pub(super) fn on_https_timer(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(c) = self.https.take() else { return };
        if now.mono_ms < c.deadline_ms {
            self.https = Some(c); // a timer of an earlier session
            return;
        }
        out.push(self.obs(
            now,
            Kind::TvsTimeout,
            format!("TVS #{} did not answer", c.tvs_ix),
        ));
        let next = c.tvs_ix + 1;
        self.https_try_tvs(c, next, now, out);
    }

    /// A message of the HTTPS flow's TVS session.
    pub(super) fn on_https_msg(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let Some(mut c) = self.https.take() else {
            return;
        };
        match msg {
            Msg::TvsAbort { reason, .. } => {
                out.push(self.obs(now, Kind::TlsFailure, reason));
                c.handshake_failed = true;
                let next = c.tvs_ix + 1;
                self.https_try_tvs(c, next, now, out)
            }
            Msg::TvsPlainReply {
                server_cert, reply, ..
            } => {
                let trusted = Certificate::from_der(&server_cert)
                    .is_ok_and(|t| self.trust.trusts_tvs_server(&t));
                if !trusted {
                    out.push(self.obs(
                        now,
                        Kind::TlsFailure,
                        format!(
                            "{} (TVS certificate is not in the ITL)",
                            https::HANDSHAKE_FAILURE
                        ),
                    ));
                    c.handshake_failed = true;
                    let next = c.tvs_ix + 1;
                    return self.https_try_tvs(c, next, now, out);
                }
                self.https_settle(c, &reply, now, out)
            }
            Msg::TvsTls { bytes, .. } => self.https_tls(c, &bytes, now, out),
            _ => self.https = Some(c),
        }
    }

    fn https_tls(&mut self, mut c: Box<HttpsConn>, bytes: &[u8], now: Now, out: &mut Vec<Effect>) {
        self.clock.set(now.wall);
        let Some(end) = c.tls.as_mut() else {
            self.https = Some(c);
            return;
        };
        if let Err(e) = end.feed(bytes) {
            out.push(self.obs(
                now,
                Kind::TlsFailure,
                format!("{} ({e})", https::HANDSHAKE_FAILURE),
            ));
            c.handshake_failed = true;
            let next = c.tvs_ix + 1;
            return self.https_try_tvs(c, next, now, out);
        }
        if end.is_established() && !c.sent {
            c.sent = end.send(&c.request).is_ok();
        }
        let flight = end.take_outgoing();
        c.received.extend(end.take_plain());
        if !flight.is_empty() {
            out.push(Effect::Send {
                to: Addr::Tvs(c.host.clone()),
                msg: Msg::TvsTls {
                    phone: self.id,
                    session: c.session,
                    bytes: flight,
                },
            });
        }
        if TvsMessage::decode(&c.received).is_ok() {
            let reply = std::mem::take(&mut c.received);
            return self.https_settle(c, &reply, now, out);
        }
        self.https = Some(c);
    }

    fn https_settle(&mut self, c: Box<HttpsConn>, reply: &[u8], now: Now, out: &mut Vec<Effect>) {
        let answer = TvsMessage::decode(reply).ok().map(|m| m.body);
        let Some(TvsBody::VerifyRes {
            valid,
            roles,
            ttl_s,
        }) = answer
        else {
            let why = "TVS answer unreadable".to_string();
            return self.https_done(&c.server, c.purpose, Err(why), now, out);
        };
        out.push(self.obs(
            now,
            Kind::TvsAnswer,
            format!("https {} valid={valid}", c.server),
        ));
        match https::on_verify_answer(&mut self.trust, &c.cert, valid, &roles, ttl_s, now.wall) {
            HttpsDecision::Trusted(path) => {
                self.https_done(&c.server, c.purpose, Ok(path), now, out)
            }
            HttpsDecision::Fail(why) => self.https_done(&c.server, c.purpose, Err(why), now, out),
            HttpsDecision::AskTvs => {}
        }
    }
}
