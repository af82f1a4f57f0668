//! The CAPF service on a cluster's publisher (reference §3): TLS on 3804 with the CAPF
//! certificate, one [`CapfSession`] per phone connection, the device records it works from,
//! and its capacity in virtual time.
//!
//! ```text
//!  CapfConfig ─► settings, TLS server config; F13 check of the CAPF certificate by version
//!  CapfDevices ─► upsert device records (keeps what CAPF learnt: LSCs issued, last LSC)
//!  CapfTls / CapfPlain first flight ─► IPv6 from a phone and IPv6 off? ─► CapfAbort (refused)
//!        ├► CAPF certificate unusable on this version (F13) ─► CapfAbort "TLS connection failure"
//!        ├► max_sessions open? ─► wait in the queue (≤ queue_limit) or CapfAbort "busy"
//!        └► handshake (job: handshake_us on a worker) ─► AUTH_REQ once established
//!  later flights ─► CapfSession::handle per message ─► replies; KEY_GEN_RES → LSC issued
//!        (job: issue_us on a worker) ─► STORE_CERT_REQ … END_SESSION ─► outcome:
//!        record updated, `capf_status` "<device>: Upgrade Success" / "Install/Upgrade failed"
//!  while the phone generates its key: CapfKeepalive every keepalive_ms; a session idle past
//!  keygen_timeout_ms is aborted (END_SESSION 7, "Install/Upgrade failed")
//! ```
//! Every figure of [`CapfModel`] is [I]: Cisco publishes no CAPF throughput or concurrency
//! limit ("use a maintenance window", reference §3.1, §5); usecallmanager's `capfd --limit`
//! bounds concurrent clients. The keepalive default (15 min, 5–60) is Cisco's [C S14]; the
//! key generation timeout follows the CME default of 30 min [C S22] (CUCM's is [I]).

use crate::machine::trace::{Event, Kind, Observation};
use super::msg::{Addr, Effect, Msg, Now, ServiceAction};
use super::tvs::Queue;
use crate::capf::ca::{EnrollRequest, OnlineCaParams};
use crate::capf::pending::{render_stale_delete_all, CsrBook, Uploaded};
use crate::capf::{
    capf_cert_usable, CapfMessage, CapfSession, CapfSettings, Command, DeviceLookup, DeviceRecord,
    Outcome, Step,
};
use crate::pki::{Certificate, PublicKey};
use crate::tls::{server_config, SimClock, TlsEnd};
use crate::tlv::content::CucmVersion;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The CAPF process's capacity and timers in virtual time (`[cluster.capf]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapfModel {
    /// Sessions open at once; 0 = unlimited, as usecallmanager's `capfd --limit` defaults
    /// [OSS] (CUCM publishes none) [I].
    pub max_sessions: u32,
    /// Connections waiting for a session slot; one arriving when this many wait is refused.
    pub queue_limit: u32,
    /// CPU workers for handshakes and issuance [I].
    pub workers: u32,
    /// The server's cost of a TLS handshake, µs [I].
    pub handshake_us: u64,
    /// Issuing (signing) one LSC, µs [I].
    pub issue_us: u64,
    /// A session that hears nothing from its phone this long is aborted (key generation
    /// timeout; CME's default 30 min [C S22], CUCM's unpublished [I]).
    pub keygen_timeout_ms: u64,
    /// `utils capf set keep_alive`: 5–60 min, default 15 [C S14].
    pub keepalive_ms: u64,
}

impl Default for CapfModel {
    fn default() -> Self {
        CapfModel {
            max_sessions: 0,
            queue_limit: 100_000,
            workers: 2,
            handshake_us: 2_000,
            issue_us: 2_000,
            keygen_timeout_ms: 30 * 60_000,
            keepalive_ms: 15 * 60_000,
        }
    }
}

/// The service parameter "Certificate Issuer to Endpoint" [C S14].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Issuer {
    /// "Cisco Certificate Authority Proxy Function": CAPF signs (the default).
    #[default]
    Capf,
    /// "Online CA": the Cisco Certificate Enrollment Service enrolls with a Microsoft CA.
    OnlineCa(Arc<OnlineCaParams>),
    /// "Offline CA": requests wait as pending CSRs for the administrator to get signed.
    OfflineCa,
}

/// What the publisher gives its CAPF service.
#[derive(Clone, Debug)]
pub struct CapfConfig {
    /// The cluster (its publisher keeps the device records' copy of record).
    pub cluster: String,
    pub issuer: Issuer,
    pub settings: Arc<CapfSettings>,
    pub version: CucmVersion,
    pub model: CapfModel,
    /// Enterprise parameter "Enable IPv6": when false, CAPF refuses phones connecting over
    /// IPv6 (seed 003: it "ignores or refuses" them; refusing is [I]).
    pub ipv6_enabled: bool,
}

/// One phone connection.
#[derive(Debug)]
struct Sess {
    /// `None` in identity mode.
    tls: Option<TlsEnd>,
    ipv6: bool,
    capf: CapfSession,
    /// AUTH_REQ, until the handshake is done.
    auth_req: Option<Vec<u8>>,
    /// Whether the server certificate went out yet (identity mode).
    cert_sent: bool,
    received: Vec<u8>,
    /// The session is aborted if nothing arrives from the phone before this.
    deadline_ms: u64,
}

/// The device records (CUCM's database as this CAPF sees it) and the pending CSRs.
#[derive(Debug, Default)]
struct Devices(BTreeMap<String, DeviceRecord>, CsrBook);

impl DeviceLookup for Devices {
    fn device(&self, name: &str) -> Option<&DeviceRecord> {
        self.0.get(name)
    }

    fn ready_lsc(&self, name: &str) -> Option<&Certificate> {
        self.1.ready(name)
    }
}

/// How long CAPF waits for the Online CA's answer [I].
const CA_TIMEOUT_MS: u64 = 30_000;

const T_DEADLINE: u64 = 1;
const T_KEEPALIVE: u64 = 2;

fn capf_token(kind: u64, id: u32) -> u64 {
    (kind << 56) | u64::from(id)
}

/// The CAPF service.
#[derive(Debug)]
pub struct Capf {
    pub host: String,
    pub up: bool,
    config: Option<Arc<CapfConfig>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Why this release cannot use the CAPF certificate (F13), if it cannot.
    unusable: Option<String>,
    devices: Devices,
    sessions: BTreeMap<(u32, u64), Sess>,
    by_id: BTreeMap<u32, (u32, u64)>,
    waiting: VecDeque<(u32, u64, bool, Msg)>,
    next_id: u32,
    queue: Queue,
    clock: SimClock,
    /// Serials of every LSC issued (hex), for the trace's "never issued twice" invariant.
    pub issued: u64,
}

impl Capf {
    pub fn new(host: &str) -> Capf {
        Capf {
            host: host.to_string(),
            up: true,
            config: None,
            tls: None,
            unusable: None,
            devices: Devices::default(),
            sessions: BTreeMap::new(),
            by_id: BTreeMap::new(),
            waiting: VecDeque::new(),
            next_id: 0,
            queue: Queue::default(),
            clock: SimClock::default(),
            issued: 0,
        }
    }

    fn who(&self) -> String {
        format!("capf@{}", self.host)
    }

    fn obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::note(now, &self.who(), what, detail))
    }

    fn model(&self) -> CapfModel {
        self.config.as_ref().map(|c| c.model).unwrap_or_default()
    }

    /// The record of `device`, if CUCM knows it.
    pub fn device(&self, device: &str) -> Option<&DeviceRecord> {
        self.devices.0.get(device)
    }

    /// Handles one message (jobs complete by now are released first).
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        self.queue.release(now, &mut out);
        match msg {
            Msg::CapfConfig(config) => self.configure(config),
            Msg::CapfDevices(records) => {
                for r in records.iter() {
                    let mut r = r.clone();
                    if let Some(old) = self.devices.0.get(&r.device_name) {
                        r.lscs_issued = r.lscs_issued.max(old.lscs_issued);
                        r.lsc = r.lsc.or_else(|| old.lsc.clone());
                    }
                    self.devices.0.insert(r.device_name.clone(), r);
                }
            }
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                self.sessions.clear();
                self.by_id.clear();
                self.waiting.clear();
                self.queue.clear();
                out.push(self.obs(now, Kind::Service, format!("{action:?}")));
            }
            m @ (Msg::CapfTls { .. } | Msg::CapfPlain { .. }) if self.up => {
                self.on_flight(m, now, &mut out)
            }
            Msg::CapfClose { phone, session } => self.on_close((phone, session), now, &mut out),
            Msg::CaAnswer {
                phone,
                session,
                result,
            } => self.on_ca_answer((phone, session), result, now, &mut out),
            Msg::CapfExportCsrs { ca } => {
                let csrs: Vec<_> = self.devices.1.pending().cloned().collect();
                out.push(self.obs(
                    now,
                    Kind::CsrExported,
                    format!("{} pending CSRs to {ca}", csrs.len()),
                ));
                out.push(Effect::Send {
                    to: Addr::Ca(ca),
                    msg: Msg::CaSign {
                        capf: self.host.clone(),
                        csrs: Arc::new(csrs),
                    },
                });
            }
            Msg::CapfUpload { certs } => {
                for (device, der) in certs {
                    let result = Certificate::from_der(&der)
                        .map_err(|e| e.to_string())
                        .and_then(|c| {
                            self.devices
                                .1
                                .upload(&device, &c, now.wall)
                                .map_err(|e| e.to_string())
                        });
                    let detail = match result {
                        Ok(Uploaded::ReadyToInstall { .. }) => {
                            format!("{device}: ready to install")
                        }
                        Ok(other) => format!("{device}: {other:?}"),
                        Err(e) => format!("{device}: refused: {e}"),
                    };
                    out.push(self.obs(now, Kind::CsrUploaded, detail));
                }
            }
            Msg::CapfCli { command } => {
                let book = &mut self.devices.1;
                let text = match command.as_str() {
                    "csr list" => book.render_csr_list(),
                    "stale-lsc list" => book.render_stale_list(),
                    "stale-lsc delete all" => render_stale_delete_all(book.delete_all_stale()),
                    other => format!("unknown command {other:?}\n"),
                };
                out.push(self.obs(now, Kind::Cli, format!("utils capf {command}\n{text}")));
            }
            _ => {}
        }
        out
    }

    fn configure(&mut self, config: Arc<CapfConfig>) {
        let s = &config.settings;
        self.unusable = capf_cert_usable(&s.capf.cert, config.version)
            .err()
            .map(|e| e.to_string());
        // Any client certificate is accepted at the TLS layer (its handshake signature is
        // still checked): the phone authenticates inside the protocol (auth string, null
        // string, or an existing certificate checked against CAPF-trust — "invalid LSC").
        self.tls = server_config((&s.capf.cert, &s.capf.key), vec![], &self.clock).ok();
        self.config = Some(config);
    }

    /// A timer: a queued job completes, a session's deadline, or a keepalive.
    pub fn on_timer(&mut self, token: u64, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        self.queue.release(now, &mut out);
        let (kind, id) = (token >> 56, (token & 0xffff_ffff) as u32);
        let Some(&key) = self.by_id.get(&id) else {
            return out;
        };
        match kind {
            T_DEADLINE => {
                let expired = self
                    .sessions
                    .get(&key)
                    .is_some_and(|s| now.mono_ms >= s.deadline_ms);
                if expired {
                    let Some(mut s) = self.sessions.remove(&key) else {
                        return out;
                    };
                    let step = s.capf.abort(&format!(
                        "no answer from the phone within {} min (key generation timeout)",
                        self.model().keygen_timeout_ms / 60_000
                    ));
                    let mut job = vec![];
                    self.send(key, &mut s, &step.send, &mut job);
                    out.extend(job);
                    if let Some(outcome) = step.outcome {
                        self.finish(key, id, &s, &outcome, now, &mut out);
                    }
                }
            }
            T_KEEPALIVE => {
                let waiting_key = self
                    .sessions
                    .get(&key)
                    .is_some_and(|s| s.capf.expecting() == Some(Command::KeyGenRes));
                if waiting_key {
                    out.push(Effect::Send {
                        to: Addr::Phone(key.0),
                        msg: Msg::CapfKeepalive { session: key.1 },
                    });
                    out.push(Effect::Timer {
                        after_ms: self.model().keepalive_ms.max(1),
                        token: capf_token(T_KEEPALIVE, id),
                    });
                }
            }
            _ => {}
        }
        out
    }

    /// The phone closed its connection: a waiting one leaves the queue; an open session ends
    /// (END_SESSION 7 to nobody) and frees its slot.
    fn on_close(&mut self, key: (u32, u64), now: Now, out: &mut Vec<Effect>) {
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

    fn abort(&self, phone: u32, session: u64, reason: String) -> Effect {
        Effect::Send {
            to: Addr::Phone(phone),
            msg: Msg::CapfAbort { session, reason },
        }
    }

    fn on_flight(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
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
        let Some(config) = self.config.clone() else {
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
        if let Some(why) = &self.unusable {
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
    fn open(
        &mut self,
        key: (u32, u64),
        ipv6: bool,
        msg: Msg,
        config: &CapfConfig,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let tls = match &msg {
            Msg::CapfTls { .. } => {
                let Some(server) = self.tls.clone() else {
                    return;
                };
                match TlsEnd::server(server) {
                    Ok(t) => Some(t),
                    Err(_) => return,
                }
            }
            _ => None,
        };
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let id = self.next_id;
        let (capf, auth_req) = CapfSession::start(id, config.settings.clone());
        let Ok(auth_req) = auth_req.encode() else {
            return;
        };
        let s = Sess {
            tls,
            ipv6,
            capf,
            auth_req: Some(auth_req),
            cert_sent: false,
            received: vec![],
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

    fn feed(&mut self, key: (u32, u64), msg: Msg, now: Now, out: &mut Vec<Effect>) {
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
    fn feed_into(&mut self, key: (u32, u64), msg: Msg, now: Now, out: &mut Vec<Effect>) -> bool {
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
        match (&mut s.tls, msg) {
            (Some(tls), Msg::CapfTls { bytes, .. }) => {
                if let Err(e) = tls.feed(&bytes) {
                    out.push(self.obs(now, Kind::TlsFailure, format!("phone#{}: {e}", key.0)));
                    let reason = format!("SSL3 alert read:fatal:handshake failure ({e})");
                    out.push(self.abort(key.0, key.1, reason));
                    self.by_id.remove(&id);
                    return false;
                }
                if tls.is_established() {
                    if let Some(req) = s.auth_req.take() {
                        let _ = tls.send(&req);
                    }
                }
                s.received.extend(tls.take_plain());
            }
            (None, Msg::CapfPlain { bytes, .. }) => {
                if let Some(req) = s.auth_req.take() {
                    self.write(key, &mut s, req, out);
                }
                s.received.extend(bytes);
            }
            _ => {}
        }
        let mut issuing = false;
        let mut ended = None;
        loop {
            let decoded = CapfMessage::decode_prefix(&s.received);
            let (m, used) = match decoded {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    let step = s.capf.abort(&format!("undecodable message: {e}"));
                    self.send(key, &mut s, &step.send, out);
                    ended = step.outcome;
                    break;
                }
            };
            s.received.drain(..used);
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
            self.send(key, &mut s, &step.send, out);
            if step.outcome.is_some() {
                ended = step.outcome;
                break;
            }
            if let Some(public) = step.issue {
                let step = self.external_issue(key, &mut s, public, now, out);
                self.send(key, &mut s, &step.send, out);
                if step.outcome.is_some() {
                    ended = step.outcome;
                    break;
                }
            }
        }
        self.flush(key, &mut s, out);
        match ended {
            Some(outcome) => self.finish(key, id, &s, &outcome, now, out),
            None => {
                self.sessions.insert(key, s);
            }
        }
        issuing
    }

    /// The phone's new key goes to the configured external issuer: an enrollment request to
    /// the Online CA (the session waits for its answer), or a pending CSR (the session ends,
    /// the operation stays pending).
    fn external_issue(
        &mut self,
        key: (u32, u64),
        s: &mut Sess,
        public: PublicKey,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Step {
        let issuer = self
            .config
            .as_ref()
            .map(|c| c.issuer.clone())
            .unwrap_or_default();
        let (device, model) = s
            .capf
            .device()
            .map(|d| (d.device_name.clone(), d.model.clone()))
            .unwrap_or_default();
        match issuer {
            Issuer::OnlineCa(params) => {
                let request = EnrollRequest::new(&params, &device, &model, public);
                out.push(Effect::Send {
                    to: Addr::Ca(params.hostname.clone()),
                    msg: Msg::CaEnroll {
                        capf: self.host.clone(),
                        phone: key.0,
                        session: key.1,
                        params: params.clone(),
                        request: Arc::new(request),
                    },
                });
                s.deadline_ms = now.mono_ms + CA_TIMEOUT_MS;
                out.push(Effect::Timer {
                    after_ms: CA_TIMEOUT_MS,
                    token: capf_token(T_DEADLINE, s.capf.id()),
                });
                Step::default()
            }
            Issuer::OfflineCa => match self.devices.1.record(&device, &public, now.wall) {
                Ok(r) => {
                    if let Some(stale) = &r.stale {
                        let serial = hex::encode(stale.cert.serial());
                        out.push(self.obs(now, Kind::StaleLsc, format!("{device}: serial {serial}")));
                    }
                    out.push(self.obs(now, Kind::CsrPending, format!("{device}: request {}", r.id)));
                    s.capf.deferred("CSR pending for the offline CA")
                }
                Err(e) => s.capf.issue_failed(&e.to_string()),
            },
            Issuer::Capf => s.capf.issue_failed("no external issuer configured"),
        }
    }

    /// The Online CA answered: STORE_CERT_REQ with its certificate, or END_SESSION 7.
    fn on_ca_answer(
        &mut self,
        key: (u32, u64),
        result: Result<Arc<[u8]>, String>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let Some(mut s) = self.sessions.remove(&key) else {
            return;
        };
        self.clock.set(now.wall);
        let step = match result.and_then(|d| Certificate::from_der(&d).map_err(|e| e.to_string())) {
            Ok(cert) => s.capf.issued(cert),
            Err(e) => s.capf.issue_failed(&format!("Online CA: {e}")),
        };
        let id = s.capf.id();
        s.deadline_ms = now.mono_ms + self.model().keygen_timeout_ms;
        out.push(Effect::Timer {
            after_ms: self.model().keygen_timeout_ms,
            token: capf_token(T_DEADLINE, id),
        });
        self.send(key, &mut s, &step.send, out);
        match step.outcome {
            Some(outcome) => self.finish(key, id, &s, &outcome, now, out),
            None => {
                self.sessions.insert(key, s);
            }
        }
    }

    /// Encodes and writes CAPF messages to the phone.
    fn send(&self, key: (u32, u64), s: &mut Sess, msgs: &[CapfMessage], out: &mut Vec<Effect>) {
        for m in msgs {
            if let Ok(bytes) = m.encode() {
                self.write(key, s, bytes, out);
            }
        }
        self.flush(key, s, out);
    }

    fn write(&self, key: (u32, u64), s: &mut Sess, bytes: Vec<u8>, out: &mut Vec<Effect>) {
        match &mut s.tls {
            Some(tls) => {
                let _ = tls.send(&bytes);
            }
            None => {
                let server_cert = (!s.cert_sent).then(|| {
                    self.config
                        .as_ref()
                        .map(|c| Arc::from(c.settings.capf.cert.der()))
                });
                s.cert_sent = true;
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
    }

    /// Sends what the TLS end has to send.
    fn flush(&self, key: (u32, u64), s: &mut Sess, out: &mut Vec<Effect>) {
        if let Some(tls) = &mut s.tls {
            let bytes = tls.take_outgoing();
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
    }

    /// A session ended: the record takes the outcome, the trace says so, a waiting
    /// connection gets the slot.
    fn finish(
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
            if let Some(c) = &self.config {
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

    fn admit_waiting(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(config) = self.config.clone() else {
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
