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
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`Capf`]: configuration ([`Service`]: unconfigured or ready), device records, timers |
//! | `session.rs` | connections: admission, the session per phone over its channel, outcomes |
//! | `issuer.rs` | Online / Offline CA issuance, CSR export and upload, `utils capf` commands |

use super::msg::{Addr, Effect, Msg, Now, ServiceAction};
use super::tvs::Queue;
use crate::capf::pending::CsrBook;
use crate::capf::{capf_cert_usable, Command, DeviceLookup, DeviceRecord};
use crate::machine::trace::{Kind, Observation};
use crate::pki::Certificate;
use crate::tls::{server_config, SimClock};
use session::Sess;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

mod issuer;
mod session;

pub use super::config::{CapfConfig, CapfModel, Issuer};

/// What the service works from: nothing until the publisher's [`CapfConfig`] arrives.
#[derive(Debug)]
enum Service {
    Unconfigured,
    Ready(Box<Ready>),
}

/// A configured service.
#[derive(Debug)]
struct Ready {
    config: Arc<CapfConfig>,
    /// The TLS server on 3804 with the CAPF certificate (`None` if rustls refused it).
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Why this release cannot use the CAPF certificate (F13), if it cannot.
    unusable: Option<String>,
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
pub(super) const CA_TIMEOUT_MS: u64 = 30_000;

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
    service: Service,
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
            service: Service::Unconfigured,
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

    /// The configuration, once the service is ready.
    fn config(&self) -> Option<&Arc<CapfConfig>> {
        self.ready().map(|r| &r.config)
    }

    fn ready(&self) -> Option<&Ready> {
        match &self.service {
            Service::Ready(r) => Some(r),
            Service::Unconfigured => None,
        }
    }

    fn model(&self) -> CapfModel {
        self.config().map(|c| c.model).unwrap_or_default()
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
            Msg::CapfDevices(records) => self.upsert(&records),
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
            Msg::CapfExportCsrs { ca } => self.export_csrs(ca, now, &mut out),
            Msg::CapfUpload { certs } => self.upload(certs, now, &mut out),
            Msg::CapfCli { command } => self.cli(&command, now, &mut out),
            _ => {}
        }
        out
    }

    fn configure(&mut self, config: Arc<CapfConfig>) {
        let s = &config.settings;
        let unusable = capf_cert_usable(&s.capf.cert, config.version)
            .err()
            .map(|e| e.to_string());
        // Any client certificate is accepted at the TLS layer (its handshake signature is
        // still checked): the phone authenticates inside the protocol (auth string, null
        // string, or an existing certificate checked against CAPF-trust — "invalid LSC").
        let tls = server_config((&s.capf.cert, &s.capf.key), vec![], &self.clock).ok();
        self.service = Service::Ready(Box::new(Ready {
            config,
            tls,
            unusable,
        }));
    }

    /// Device records from the publisher; each keeps what CAPF learnt (LSCs issued, last LSC).
    fn upsert(&mut self, records: &[DeviceRecord]) {
        for r in records.iter() {
            let mut r = r.clone();
            if let Some(old) = self.devices.0.get(&r.device_name) {
                r.lscs_issued = r.lscs_issued.max(old.lscs_issued);
                r.lsc = r.lsc.or_else(|| old.lsc.clone());
            }
            self.devices.0.insert(r.device_name.clone(), r);
        }
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
}

/// CAPF releases queued jobs and runs session deadlines and keepalives on timers.
impl crate::machine::Machine for Capf {
    fn addr(&self) -> Addr {
        Addr::Capf(self.host.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
            Input::Start => vec![],
        }
    }
}
