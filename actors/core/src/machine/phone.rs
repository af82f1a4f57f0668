//! The phone: boot pipeline DHCP (option 150) → CTL → ITL → signed config → registration,
//! applying the trust rules of [`crate::phone::trust`] at each file and asking TVS when they
//! say so (reference §2.3, §7.3).
//!
//! ```text
//!  PowerOn/Reset ─► Dhcp ─DhcpAck─► Fetch(CTLSEP<MAC>.tlv) ─► Fetch(ITLSEP<MAC>.tlv) ─► Fetch(SEP<MAC>.cnf.xml.sgn)
//!                                         │ judge ─ AskTvs ─► Tvs{session} ─answer─┘          │ accepted
//!                                         └ reject: keep old trust, note the failure          ▼
//!                       Failed("Trust List update failed") ◄─ config refused      Registering ─Ack─► Registered
//!                                                                                        ▲                  │ every keepalive interval
//!                                                   N keepalives in a row not acked ─────┘ (unregistered)    ▼ Keepalive ─► KeepaliveAck
//! ```
//! Timers carry the boot generation, so a timer from before a reset is a no-op; losing a
//! registration starts a new generation too, so its keepalive timers go stale with it.
//!
//! Keepalives cost one timer per interval in the normal case, and no observation: a
//! keepalive that gets no ack within the timeout is noticed at the next keepalive tick. Once
//! one was missed, each keepalive also arms a deadline timer, so the phone unregisters exactly
//! at the timeout of the N-th keepalive in a row that went unanswered. Keepalive ticks fall on
//! whole seconds of virtual time (see [`first_keepalive_ms`]).

use crate::machine::trace::{Event, Kind, Observation, Refusal, Validity};
use super::msg::{Addr, Effect, Msg, Now};
use crate::capf::CapfFlash;
use crate::phone::trust::{Decision, FileKind, PhoneTrust, TrustError, TrustPath};
use crate::pki::keys::PrivateKey;
use crate::pki::{Backend, Certificate, Identity};
use crate::sgn::{parse_signed_config, PhoneConfig};
use crate::tls::{client_config, SimClock, TlsEnd};
use crate::tlv::parse::Header;
use crate::tlv::{parse_shared, TrustList};
use crate::tvs::{TvsBody, TvsMessage};
use std::sync::Arc;

mod capf_flow;
use capf_flow::CapfConn;
mod https_flow;
pub use capf_flow::{KeygenTimes, PhoneCapf};
use https_flow::HttpsConn;
mod tftp_https_flow;
use tftp_https_flow::SecureDownload;

/// Status strings of reference §2.4 / S18 and the pipeline's own states.
pub mod status {
    pub const OFF: &str = "Off";
    pub const BOOTING: &str = "Booting";
    pub const DOWNLOADING: &str = "Downloading";
    pub const VERIFYING: &str = "Verifying via TVS";
    pub const REGISTERING: &str = "Registering";
    pub const REGISTERED: &str = "Registered";
    pub const TRUST_LIST_UPDATE_FAILED: &str = "Trust List update failed";
    pub const CONFIG_AUTH_FAILED: &str = "Config file authentication failed";
    pub const TFTP_TIMEOUT: &str = "TFTP Timeout";
    pub const REGISTRATION_FAILED: &str = "Registration failed";
    /// An authenticated/encrypted profile without an LSC: the phone does not register until
    /// its CAPF session ends [C S14]; the wording is [I].
    pub const ENROLLING: &str = "Waiting for LSC";
    /// That CAPF session failed: no LSC, no secure registration ([I] wording).
    pub const LSC_FAILED: &str = "LSC enrollment failed";
    /// Every state a report may list, in pipeline order.
    pub const ALL: [&str; 12] = [
        OFF,
        BOOTING,
        DOWNLOADING,
        VERIFYING,
        REGISTERING,
        REGISTERED,
        TRUST_LIST_UPDATE_FAILED,
        CONFIG_AUTH_FAILED,
        TFTP_TIMEOUT,
        REGISTRATION_FAILED,
        ENROLLING,
        LSC_FAILED,
    ];
}

/// Timeouts of the pipeline and the registration keepalive, in virtual ms. Cisco publishes
/// none of them in the reference: [I], settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneTimers {
    pub dhcp_ms: u64,
    pub tftp_ms: u64,
    pub tvs_ms: u64,
    pub register_ms: u64,
    /// Keepalive interval while registered; 0 = no keepalives (the default). The reference
    /// is silent on it [I]; real SCCP phones default to 30 s, SIP phones refresh REGISTER.
    pub keepalive_ms: u64,
    /// A keepalive not acked within this long counts as missed [I] (must not exceed the
    /// interval; the scenario default is min(interval, 10 s)).
    pub keepalive_timeout_ms: u64,
    /// Keepalives missed in a row before the phone unregisters and registers again [I].
    pub keepalive_misses: u32,
    /// After every CallManager of its group refused or did not answer, wait this long and
    /// start again from the first, staying "Registering" (the phone's "Phone is
    /// registering", F12); 0 = give up with "Registration failed" (the default). Real phones
    /// keep retrying their CallManager group; the interval is unpublished [I].
    pub register_retry_ms: u64,
}

impl Default for PhoneTimers {
    fn default() -> Self {
        PhoneTimers {
            dhcp_ms: 10_000,
            tftp_ms: 10_000,
            tvs_ms: 10_000,
            register_ms: 10_000,
            keepalive_ms: 0,
            keepalive_timeout_ms: 10_000,
            keepalive_misses: 3,
            register_retry_ms: 0,
        }
    }
}

/// What the phone is doing. One state, one struct: each wait holds what it needs.
#[derive(Debug)]
pub enum State {
    Off,
    Dhcp,
    Fetch {
        kind: FileKind,
        tftp: String,
    },
    Tvs(Box<TvsWait>),
    Registering {
        cm_ix: usize,
    },
    Registered(Registration),
    /// A secure profile waits for its LSC before registering.
    Enrolling,
    Failed {
        status: &'static str,
    },
}

/// A registration with a CallManager, and its keepalives.
#[derive(Debug)]
pub struct Registration {
    pub cluster: String,
    /// The CallManager host the phone registered with.
    pub host: String,
    /// Number of the last keepalive sent (0: none yet).
    pub seq: u32,
    /// When the last keepalive left, while it waits for its ack.
    pub outstanding_ms: Option<u64>,
    /// Keepalives missed in a row.
    pub misses: u32,
}

/// A file waiting for a TVS verdict.
#[derive(Debug)]
pub struct TvsWait {
    pub session: u64,
    pub tvs_ix: usize,
    /// The TLS session to TVS (`None` in identity mode).
    pub tls: Option<TlsEnd>,
    /// The encoded QUERY_CERT_REQ, sent once the handshake completes.
    pub request: Vec<u8>,
    pub sent: bool,
    /// Plaintext received so far.
    pub received: Vec<u8>,
    pub kind: FileKind,
    pub raw: Arc<[u8]>,
    pub header: Header,
    pub list: Option<Arc<TrustList>>,
}

/// Inputs of the phone machine.
#[derive(Clone, Debug)]
pub enum PhoneInput {
    PowerOn,
    Msg(Msg),
    Timer(u64),
}

/// A phone.
#[derive(Debug)]
pub struct Phone {
    pub id: u32,
    /// `SEP<MAC>`.
    pub device: String,
    pub model: String,
    pub trust: PhoneTrust,
    pub config: Option<PhoneConfig>,
    /// The MIC (or LSC) presented to TVS, its key and the chain sent with it.
    pub cert: Certificate,
    pub key: Arc<PrivateKey>,
    pub chain: Vec<Certificate>,
    /// TVS sessions over real TLS (else: identity check of the TVS certificate).
    pub tls: bool,
    clock: SimClock,
    pub state: State,
    pub timers: PhoneTimers,
    pub backend: Backend,
    /// After a Trust List update failure in this boot, refuse the new config even if TVS
    /// would vouch for its signer. F1/F4 say such phones "don't take the new config or
    /// register" [C S5]; the per-file mechanism is [I], hence a setting (default on).
    pub refuse_config_after_trust_failure: bool,
    /// The fleet's CAPF settings (`None`: the phone never runs CAPF).
    pub capf_profile: Option<Arc<PhoneCapf>>,
    /// The LSC, once CAPF installed one; presented instead of the MIC from then on.
    pub lsc: Option<Identity>,
    /// The CAPF auth mode kept in flash across a power failure [C S14].
    pub capf_flash: CapfFlash,
    capf: Option<Box<CapfConn>>,
    /// A key generated for a request an offline CA has not signed yet (kept in flash).
    capf_pending_key: Option<Arc<PrivateKey>>,
    /// Communication failures of the current CAPF operation (3 more tries at 30 s [C S14]).
    capf_failures: u32,
    /// Numbers CAPF connections; CAPF timers carry it (a new connection or boot stales them).
    capf_seq: u64,
    /// The boot in which a CAPF operation ended (one operation a boot).
    capf_done_boot: Option<u64>,
    boots: u64,
    generation: u64,
    next_session: u64,
    trust_failed: bool,
    tftp: Option<String>,
    /// An HTTPS service being verified through TVS ([`https_flow`]).
    https: Option<Box<HttpsConn>>,
    /// A secure (HTTPS) config download from the TFTP ([`tftp_https_flow`], F29).
    secure: Option<Box<SecureDownload>>,
}

const T_DHCP: u64 = 1;
const T_TFTP: u64 = 2;
const T_TVS: u64 = 3;
const T_REGISTER: u64 = 4;
const T_KEEPALIVE: u64 = 5;
const T_KEEPALIVE_DEADLINE: u64 = 6;
const T_HTTPS: u64 = 7;
const T_TFTP_HTTPS: u64 = 8;
const T_REGISTER_RETRY: u64 = 9;
// CAPF timers carry the connection number (`capf_seq`) instead of the boot generation.
const T_CAPF: u64 = 16;
const T_CAPF_KEYGEN: u64 = 17;
const T_CAPF_RETRY: u64 = 18;

impl Phone {
    /// A phone that has never booted: no CTL, no ITL, no config.
    pub fn new(
        id: u32,
        mac: &str,
        model: &str,
        cert: Certificate,
        key: Arc<PrivateKey>,
        chain: Vec<Certificate>,
    ) -> Phone {
        Phone {
            id,
            device: format!("SEP{}", mac.to_ascii_uppercase()),
            model: model.to_string(),
            trust: PhoneTrust::new(),
            config: None,
            cert,
            key,
            chain,
            tls: true,
            clock: SimClock::default(),
            state: State::Off,
            timers: PhoneTimers::default(),
            backend: Backend::default(),
            refuse_config_after_trust_failure: true,
            capf_profile: None,
            lsc: None,
            capf_flash: CapfFlash::default(),
            capf: None,
            capf_pending_key: None,
            capf_failures: 0,
            capf_seq: 0,
            capf_done_boot: None,
            boots: 0,
            generation: 0,
            next_session: 0,
            trust_failed: false,
            tftp: None,
            https: None,
            secure: None,
        }
    }

    /// The status a report shows for this phone.
    pub fn status(&self) -> &'static str {
        match &self.state {
            State::Off => status::OFF,
            State::Dhcp => status::BOOTING,
            State::Fetch { .. } => status::DOWNLOADING,
            State::Tvs(_) => status::VERIFYING,
            State::Registering { .. } => status::REGISTERING,
            State::Registered(_) => status::REGISTERED,
            State::Enrolling => status::ENROLLING,
            State::Failed { status } => status,
        }
    }

    /// The cluster the phone is registered with, if any.
    pub fn registered_cluster(&self) -> Option<&str> {
        match &self.state {
            State::Registered(r) => Some(&r.cluster),
            _ => None,
        }
    }

    fn token(&self, kind: u64) -> u64 {
        (self.generation << 8) | kind
    }

    fn obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::note(now, &self.device, what, detail))
    }

    fn event(&self, now: Now, event: Event) -> Effect {
        Effect::Observe(Observation::new(now, &self.device, event))
    }

    fn enter(&mut self, state: State, now: Now, out: &mut Vec<Effect>) {
        self.state = state;
        out.push(self.event(now, Event::State { status: self.status() }));
    }

    /// Handles one input.
    pub fn handle(&mut self, input: PhoneInput, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match input {
            PhoneInput::PowerOn | PhoneInput::Msg(Msg::Reset) => self.boot(now, &mut out),
            PhoneInput::Msg(Msg::PowerOff) => {
                self.https = None;
                self.secure = None;
                self.power_off(now, &mut out)
            }
            PhoneInput::Msg(Msg::EraseTrustLists) => {
                self.trust.erase();
                out.push(self.obs(now, Kind::TrustListsErased, "CTL and ITL deleted"));
                self.boot(now, &mut out)
            }
            PhoneInput::Timer(token) => self.on_timer(token, now, &mut out),
            PhoneInput::Msg(msg) => self.on_msg(msg, now, &mut out),
        }
        out
    }

    fn boot(&mut self, now: Now, out: &mut Vec<Effect>) {
        self.generation += 1;
        self.boots += 1;
        self.drop_capf();
        self.https = None;
        self.secure = None;
        self.trust_failed = false;
        self.enter(State::Dhcp, now, out);
        out.push(Effect::Send {
            to: Addr::Dhcp,
            msg: Msg::DhcpRequest { phone: self.id },
        });
        out.push(Effect::Timer {
            after_ms: self.timers.dhcp_ms,
            token: self.token(T_DHCP),
        });
    }

    fn on_timer(&mut self, token: u64, now: Now, out: &mut Vec<Effect>) {
        if token & 0xff >= T_CAPF {
            return self.on_capf_timer(token, now, out);
        }
        if token >> 8 != self.generation {
            return; // from before a reset
        }
        match (token & 0xff, &self.state) {
            (T_DHCP, State::Dhcp) | (T_TFTP, State::Fetch { .. }) => self.enter(
                State::Failed {
                    status: status::TFTP_TIMEOUT,
                },
                now,
                out,
            ),
            (T_TVS, State::Tvs(wait)) => {
                let next = wait.tvs_ix + 1;
                out.push(self.obs(
                    now,
                    Kind::TvsTimeout,
                    format!("TVS #{} did not answer", wait.tvs_ix),
                ));
                self.try_tvs(next, now, out);
            }
            (T_REGISTER, State::Registering { cm_ix }) => {
                let next = cm_ix + 1;
                self.register(next, now, out);
            }
            (T_REGISTER_RETRY, State::Registering { .. }) => self.register(0, now, out),
            (T_KEEPALIVE, State::Registered(_)) => self.keepalive_tick(now, out),
            (T_HTTPS, _) => self.on_https_timer(now, out),
            (T_TFTP_HTTPS, _) => self.on_secure_timer(now, out),
            (T_KEEPALIVE_DEADLINE, State::Registered(r)) => {
                let overdue = r
                    .outstanding_ms
                    .is_some_and(|sent| now.mono_ms >= sent + self.timers.keepalive_timeout_ms);
                if overdue {
                    self.keepalive_missed(now, out);
                }
            }
            _ => {}
        }
    }

    fn on_msg(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        match (msg, &self.state) {
            (msg, _) if self.https_owns(&msg) => self.on_https_msg(msg, now, out),
            (Msg::HttpsOpen { server, cert }, _) => self.https_open(server, cert, now, out),
            (msg, _) if self.secure_owns(&msg) => self.on_secure_msg(msg, now, out),
            (
                Msg::TftpHttpsOpen {
                    tftp,
                    plain_fallback,
                },
                _,
            ) => self.tftp_https_open(tftp, plain_fallback, now, out),
            (Msg::DhcpAck { option150 }, State::Dhcp) => match option150.first() {
                Some(tftp) => {
                    self.tftp = Some(tftp.clone());
                    self.fetch(FileKind::Ctl, now, out);
                }
                None => self.enter(
                    State::Failed {
                        status: status::TFTP_TIMEOUT,
                    },
                    now,
                    out,
                ),
            },
            (Msg::TftpReply { file, bytes }, State::Fetch { kind, .. })
                if file == self.file_name(*kind) =>
            {
                let kind = *kind;
                self.on_file(kind, bytes, now, out)
            }
            (
                Msg::TvsPlainReply {
                    session,
                    server_cert,
                    reply,
                },
                State::Tvs(w),
            ) if w.session == session => self.on_tvs_reply(&server_cert, &reply, now, out),
            (Msg::TvsTls { session, bytes, .. }, State::Tvs(w)) if w.session == session => {
                self.on_tvs_tls(&bytes, now, out)
            }
            (Msg::TvsAbort { session, reason }, State::Tvs(w)) if w.session == session => {
                let next = w.tvs_ix + 1;
                out.push(self.obs(now, Kind::TlsFailure, reason));
                self.try_tvs(next, now, out);
            }
            (Msg::RegisterReject { reason }, State::Registering { cm_ix }) => {
                let next = cm_ix + 1;
                out.push(self.obs(now, Kind::RegistrationRejected, reason));
                self.register(next, now, out);
            }
            (
                msg @ (Msg::CapfTls { .. }
                | Msg::CapfPlain { .. }
                | Msg::CapfAbort { .. }
                | Msg::CapfKeepalive { .. }),
                _,
            ) => self.on_capf_msg(msg, now, out),
            (
                Msg::RegisterAck {
                    cluster,
                    server_cert,
                },
                State::Registering { cm_ix },
            ) => {
                let host = self
                    .config
                    .as_ref()
                    .and_then(|c| c.callmanagers.get(*cm_ix))
                    .cloned()
                    .unwrap_or_default();
                if let Some(Err(why)) = server_cert.map(|der| self.trust.check_callmanager(&der)) {
                    // The phone closes the TLS connection: not registered there; next one.
                    let next = cm_ix + 1;
                    out.push(self.obs(now, Kind::TlsFailure, why.clone()));
                    out.push(Effect::Send {
                        to: Addr::CallManager(host.clone()),
                        msg: Msg::RegisterAbort { phone: self.id },
                    });
                    out.push(self.obs(
                        now,
                        Kind::RegistrationRejected,
                        format!("TLS to ccm@{host}: {why}"),
                    ));
                    return self.register(next, now, out);
                }
                out.push(self.event(
                    now,
                    Event::Registered {
                        cluster: cluster.clone(),
                    },
                ));
                let r = Registration {
                    cluster,
                    host,
                    seq: 0,
                    outstanding_ms: None,
                    misses: 0,
                };
                self.enter(State::Registered(r), now, out);
                if self.timers.keepalive_ms > 0 {
                    out.push(Effect::Timer {
                        after_ms: first_keepalive_ms(self.timers.keepalive_ms, now),
                        token: self.token(T_KEEPALIVE),
                    });
                }
                // A non-secure profile registers first, then runs CAPF [C S14].
                if self.capf_wanted() {
                    self.start_capf(now, out);
                }
            }
            (Msg::KeepaliveAck { seq }, State::Registered(r)) if r.seq == seq => {
                let timeout = self.timers.keepalive_timeout_ms;
                if let State::Registered(r) = &mut self.state {
                    if r.outstanding_ms
                        .is_some_and(|sent| now.mono_ms <= sent + timeout)
                    {
                        r.outstanding_ms = None;
                        r.misses = 0;
                    } // a late ack: the keepalive counts as missed
                }
            }
            _ => {} // late or duplicate: ignored
        }
    }

    fn file_name(&self, kind: FileKind) -> String {
        match kind {
            FileKind::Ctl => format!("CTL{}.tlv", self.device),
            FileKind::Itl => format!("ITL{}.tlv", self.device),
            FileKind::Config => format!("{}.cnf.xml.sgn", self.device),
        }
    }

    fn fetch(&mut self, kind: FileKind, now: Now, out: &mut Vec<Effect>) {
        let Some(tftp) = self.tftp.clone() else {
            return;
        };
        self.enter(
            State::Fetch {
                kind,
                tftp: tftp.clone(),
            },
            now,
            out,
        );
        out.push(Effect::Send {
            to: Addr::Tftp(tftp),
            msg: Msg::TftpGet {
                phone: self.id,
                file: self.file_name(kind),
            },
        });
        out.push(Effect::Timer {
            after_ms: self.timers.tftp_ms,
            token: self.token(T_TFTP),
        });
    }

    /// After a file is settled (accepted or refused), go on with the pipeline.
    fn next_after(&mut self, kind: FileKind, now: Now, out: &mut Vec<Effect>) {
        match kind {
            FileKind::Ctl if !self.trust.limits.security_by_default => {
                self.fetch(FileKind::Config, now, out) // no ITL without Security By Default
            }
            FileKind::Ctl => self.fetch(FileKind::Itl, now, out),
            FileKind::Itl => self.fetch(FileKind::Config, now, out),
            FileKind::Config => {
                // A secure profile with a CAPF operation pending does not register until
                // the session ends [C S14].
                if self.secure_profile() && self.capf_wanted() {
                    self.enter(State::Enrolling, now, out);
                    self.start_capf(now, out);
                } else {
                    self.register(0, now, out)
                }
            }
        }
    }

    fn on_file(
        &mut self,
        kind: FileKind,
        bytes: Option<Arc<[u8]>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let Some(raw) = bytes else {
            // No CTL (non-secure cluster) or no ITL (pre-8.0): nothing to judge.
            if kind == FileKind::Config {
                return self.refuse_config(now, "config file not found".into(), out);
            }
            return self.next_after(kind, now, out);
        };
        let held = match kind {
            FileKind::Ctl => self.trust.ctl.as_ref(),
            FileKind::Itl => self.trust.itl.as_ref(),
            FileKind::Config => None,
        };
        if held.is_some_and(|l| l.raw[..] == raw[..]) {
            return self.next_after(kind, now, out); // same checksum: nothing to do
        }
        if kind == FileKind::Config && self.trust_failed && self.refuse_config_after_trust_failure {
            return self.refuse_config(
                now,
                "new config not honoured after a Trust List update failure".into(),
                out,
            );
        }
        let parsed = match kind {
            FileKind::Config => parse_signed_config(&raw).map(|c| (c.header, None)),
            _ => parse_shared(&raw).map(|l| (l.header.clone(), Some(l))),
        };
        let (header, list) = match parsed {
            Ok(p) => p,
            Err(e) => {
                let why = format!("unparsable {}: {e}", self.file_name(kind));
                return self.refuse(kind, now, Refusal::Other(why), out);
            }
        };
        match self
            .trust
            .judge(kind, &raw, &header, now.wall, self.backend)
        {
            Decision::Accept(path) => self.accept(kind, path, &raw, list, now, out),
            Decision::Reject(e) => self.refuse(kind, now, Refusal::Trust(e), out),
            Decision::AskTvs { .. } => {
                let wait = TvsWait {
                    session: 0,
                    tvs_ix: 0,
                    tls: None,
                    request: vec![],
                    sent: false,
                    received: vec![],
                    kind,
                    raw,
                    header,
                    list,
                };
                self.state = State::Tvs(Box::new(wait));
                self.try_tvs(0, now, out);
            }
        }
    }

    fn accept(
        &mut self,
        kind: FileKind,
        path: TrustPath,
        raw: &[u8],
        list: Option<Arc<TrustList>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        match (kind, list) {
            (FileKind::Config, _) => {
                let config = std::str::from_utf8(&raw[header_len(raw)..])
                    .ok()
                    .and_then(|x| PhoneConfig::from_xml(x).ok());
                match config {
                    Some(c) => {
                        out.push(self.event(now, Event::ConfigAccepted { path: path.clone() }));
                        self.config = Some(c);
                    }
                    None => return self.refuse_config(now, "config XML unreadable".into(), out),
                }
            }
            (_, Some(list)) => {
                out.push(self.event(
                    now,
                    Event::TrustListInstalled {
                        file: kind,
                        path: path.clone(),
                    },
                ));
                self.trust.install(kind, list);
            }
            (_, None) => {}
        }
        self.next_after(kind, now, out);
    }

    fn refuse(&mut self, kind: FileKind, now: Now, reason: Refusal, out: &mut Vec<Effect>) {
        if kind == FileKind::Config {
            return self.refuse_config(now, reason, out);
        }
        self.trust_failed = true;
        out.push(self.event(
            now,
            Event::TrustListRejected {
                file: kind,
                reason,
            },
        ));
        self.next_after(kind, now, out);
    }

    fn refuse_config(&mut self, now: Now, reason: Refusal, out: &mut Vec<Effect>) {
        out.push(self.event(now, Event::ConfigRejected { reason }));
        let status = if self.trust_failed {
            status::TRUST_LIST_UPDATE_FAILED
        } else {
            status::CONFIG_AUTH_FAILED
        };
        self.enter(State::Failed { status }, now, out);
    }

    /// Opens a TVS session to TVS `ix` of the current config, or refuses the file when none
    /// is left ("check whether the TVS server is active").
    fn try_tvs(&mut self, ix: usize, now: Now, out: &mut Vec<Effect>) {
        let State::Tvs(mut wait) = std::mem::replace(&mut self.state, State::Off) else {
            return;
        };
        let tvs = self
            .config
            .as_ref()
            .and_then(|c| c.tvs.get(ix))
            .map(|s| s.address.clone());
        let Some(host) = tvs else {
            let reason = TrustError::UnknownSigner {
                subject: wait.header.signer_name.clone().unwrap_or_default(),
                serial: hex::encode(wait.header.signer_serial.clone().unwrap_or_default()),
            };
            let kind = wait.kind;
            let reason = Refusal::NoTvsLeft(Box::new(Refusal::Trust(reason)));
            return self.refuse(kind, now, reason, out);
        };
        self.next_session += 1;
        wait.session = (u64::from(self.id) << 24) | self.next_session;
        wait.tvs_ix = ix;
        let request = TvsMessage {
            session: 1000 + self.next_session as u32,
            body: TvsBody::QueryReq {
                device_name: format!("CP-{}-{}", self.model, self.device),
                subject: wait.header.signer_name.clone().unwrap_or_default(),
                issuer: wait.header.signer_issuer.clone().unwrap_or_default(),
                serial: wait.header.signer_serial.clone().unwrap_or_default(),
            },
        };
        out.push(self.event(
            now,
            Event::TvsQuery {
                file: wait.kind,
                tvs_host: host.clone(),
            },
        ));
        wait.request = request.encode();
        wait.sent = false;
        wait.received.clear();
        wait.tls = None;
        if self.tls {
            match self.open_tls(&host, now) {
                Ok(mut end) => {
                    let hello = end.take_outgoing();
                    wait.tls = Some(end);
                    out.push(Effect::Send {
                        to: Addr::Tvs(host),
                        msg: Msg::TvsTls {
                            phone: self.id,
                            session: wait.session,
                            bytes: hello,
                        },
                    });
                }
                Err(e) => {
                    out.push(self.obs(now, Kind::TlsFailure, e));
                    self.state = State::Tvs(wait);
                    return self.try_tvs(ix + 1, now, out);
                }
            }
        } else {
            wait.sent = true;
            out.push(Effect::Send {
                to: Addr::Tvs(host),
                msg: Msg::TvsPlain {
                    phone: self.id,
                    session: wait.session,
                    client_cert: Some(self.identity().0.der().into()),
                    request: wait.request.clone(),
                },
            });
        }
        out.push(Effect::Timer {
            after_ms: self.timers.tvs_ms,
            token: self.token(T_TVS),
        });
        self.state = State::Tvs(wait);
        out.push(self.event(now, Event::State { status: self.status() }));
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

    /// A TLS flight from TVS: advance the handshake, send the query once it is up, read the
    /// answer when it arrives. A handshake failure is the phone's "SSL3 alert … handshake
    /// failure" and moves on to the next TVS.
    fn on_tvs_tls(&mut self, bytes: &[u8], now: Now, out: &mut Vec<Effect>) {
        let State::Tvs(mut wait) = std::mem::replace(&mut self.state, State::Off) else {
            return;
        };
        self.clock.set(now.wall);
        let Some(end) = wait.tls.as_mut() else {
            self.state = State::Tvs(wait);
            return;
        };
        if let Err(e) = end.feed(bytes) {
            out.push(self.obs(
                now,
                Kind::TlsFailure,
                format!("SSL3 alert read:fatal:handshake failure ({e})"),
            ));
            let next = wait.tvs_ix + 1;
            self.state = State::Tvs(wait);
            return self.try_tvs(next, now, out);
        }
        if end.is_established() && !wait.sent {
            wait.sent = end.send(&wait.request).is_ok();
        }
        let flight = end.take_outgoing();
        wait.received.extend(end.take_plain());
        if !flight.is_empty() {
            let host = self
                .config
                .as_ref()
                .and_then(|c| c.tvs.get(wait.tvs_ix))
                .map(|s| s.address.clone())
                .unwrap_or_default();
            out.push(Effect::Send {
                to: Addr::Tvs(host),
                msg: Msg::TvsTls {
                    phone: self.id,
                    session: wait.session,
                    bytes: flight,
                },
            });
        }
        if TvsMessage::decode(&wait.received).is_ok() {
            let reply = std::mem::take(&mut wait.received);
            let tvs_cert = end
                .peer_certificate()
                .and_then(|der| Certificate::from_der(&der).ok())
                .map(|c| Validity::of(&c, now.wall));
            return self.settle_tvs(wait, &reply, tvs_cert, now, out);
        }
        self.state = State::Tvs(wait);
    }

    fn on_tvs_reply(&mut self, server_cert: &[u8], reply: &[u8], now: Now, out: &mut Vec<Effect>) {
        let State::Tvs(wait) = std::mem::replace(&mut self.state, State::Off) else {
            return;
        };
        // Identity mode: the TVS certificate must still match a TVS record of the ITL.
        let cert = Certificate::from_der(server_cert)
            .ok()
            .filter(|c| self.trust.trusts_tvs_server(c));
        let Some(cert) = cert else {
            out.push(self.obs(
                now,
                Kind::TlsFailure,
                "TVS certificate is not in the ITL: handshake failure",
            ));
            let next = wait.tvs_ix + 1;
            self.state = State::Tvs(wait);
            return self.try_tvs(next, now, out);
        };
        let tvs_cert = Some(Validity::of(&cert, now.wall));
        self.settle_tvs(wait, reply, tvs_cert, now, out);
    }

    /// `tvs_cert`: the TVS certificate the phone accepted, and when by its clock.
    fn settle_tvs(
        &mut self,
        wait: Box<TvsWait>,
        reply: &[u8],
        tvs_cert: Option<Validity>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let answer = TvsMessage::decode(reply).ok().map(|m| m.body);
        let Some(TvsBody::QueryRes {
            valid,
            certificate,
            roles,
            ttl_s,
        }) = answer
        else {
            let why = Refusal::Other("TVS answer unreadable".into());
            return self.refuse(wait.kind, now, why, out);
        };
        out.push(self.event(
            now,
            Event::TvsAnswer {
                file: wait.kind,
                valid,
                tvs_cert,
            },
        ));
        let decision = self.trust.on_tvs_answer(
            wait.kind,
            &wait.raw,
            &wait.header,
            valid,
            certificate.as_deref(),
            &roles,
            ttl_s,
            now.wall,
            self.backend,
        );
        match decision {
            Decision::Accept(path) => {
                let TvsWait {
                    kind, raw, list, ..
                } = *wait;
                self.accept(kind, path, &raw, list, now, out)
            }
            Decision::Reject(e) => self.refuse(wait.kind, now, Refusal::Trust(e), out),
            Decision::AskTvs { .. } => {
                let why = Refusal::Other("TVS loop".into());
                self.refuse(wait.kind, now, why, out)
            }
        }
    }

    fn register(&mut self, ix: usize, now: Now, out: &mut Vec<Effect>) {
        let cm = self
            .config
            .as_ref()
            .and_then(|c| c.callmanagers.get(ix))
            .cloned();
        let Some(host) = cm else {
            if self.timers.register_retry_ms > 0 && ix > 0 {
                // Every CallManager of the group tried: start over after the retry interval,
                // still "Registering". A new generation stales this round's timers.
                self.generation += 1;
                out.push(self.obs(
                    now,
                    Kind::RegisterRetry,
                    format!(
                        "no CallManager of {ix} accepted; retrying in {} ms",
                        self.timers.register_retry_ms
                    ),
                ));
                self.enter(State::Registering { cm_ix: ix }, now, out);
                out.push(Effect::Timer {
                    after_ms: self.timers.register_retry_ms,
                    token: self.token(T_REGISTER_RETRY),
                });
                return;
            }
            return self.enter(
                State::Failed {
                    status: status::REGISTRATION_FAILED,
                },
                now,
                out,
            );
        };
        self.enter(State::Registering { cm_ix: ix }, now, out);
        // Authenticated/encrypted: TLS to the CallManager with the LSC (or, lacking one, the
        // MIC) as client certificate.
        let secure_cert = self
            .secure_profile()
            .then(|| Arc::from(self.identity().0.der()));
        out.push(Effect::Send {
            to: Addr::CallManager(host),
            msg: Msg::Register {
                phone: self.id,
                device: self.device.clone(),
                secure_cert,
            },
        });
        out.push(Effect::Timer {
            after_ms: self.timers.register_ms,
            token: self.token(T_REGISTER),
        });
    }
}

impl Phone {
    /// The keepalive tick: judge the previous keepalive if it is still unanswered, then send
    /// the next one (and, once one was missed, arm its deadline).
    fn keepalive_tick(&mut self, now: Now, out: &mut Vec<Effect>) {
        let overdue = matches!(&self.state, State::Registered(r) if r.outstanding_ms.is_some());
        if overdue && self.keepalive_missed(now, out) {
            return;
        }
        let State::Registered(r) = &mut self.state else {
            return;
        };
        r.seq += 1;
        r.outstanding_ms = Some(now.mono_ms);
        let (seq, suspect) = (r.seq, r.misses > 0);
        out.push(Effect::Send {
            to: Addr::CallManager(r.host.clone()),
            msg: Msg::Keepalive {
                phone: self.id,
                seq,
            },
        });
        if suspect {
            out.push(Effect::Timer {
                after_ms: self.timers.keepalive_timeout_ms,
                token: self.token(T_KEEPALIVE_DEADLINE),
            });
        }
        out.push(Effect::Timer {
            after_ms: self.timers.keepalive_ms,
            token: self.token(T_KEEPALIVE),
        });
    }

    /// The outstanding keepalive got no ack in time. After `keepalive_misses` in a row the
    /// phone unregisters and registers again from the top of its CallManager group (the usual
    /// way: each CallManager in turn, then "Registration failed"); returns whether it did.
    fn keepalive_missed(&mut self, now: Now, out: &mut Vec<Effect>) -> bool {
        let State::Registered(r) = &mut self.state else {
            return false;
        };
        r.outstanding_ms = None;
        r.misses += 1;
        let (misses, seq) = (r.misses, r.seq);
        let host = r.host.clone();
        let limit = self.timers.keepalive_misses.max(1);
        let missed = self.obs(
            now,
            Kind::KeepaliveMissed,
            format!(
                "ccm@{host}: keepalive {seq} not acked within {} ms ({misses} of {limit})",
                self.timers.keepalive_timeout_ms
            ),
        );
        out.push(missed);
        if misses < limit {
            return false;
        }
        let lost = self.obs(
            now,
            Kind::Unregistered,
            format!("ccm@{host}: {misses} keepalives in a row not acked"),
        );
        out.push(lost);
        self.generation += 1; // this registration's timers are stale from now on
        self.register(0, now, out);
        true
    }
}

/// When the first keepalive of a registration goes: one interval later, brought forward to a
/// whole second of virtual time when the interval is at least 1 s [I]. Keepalive ticks then
/// fall on whole seconds (for intervals of whole seconds), so thousands of phones share a few
/// instants of virtual time instead of one each: the engine advances its clock far less
/// often (a week of 15-minute keepalives from 10,000 phones runs about 30 % faster). No phone
/// is more than 1 s early once; nothing else about the timing changes.
fn first_keepalive_ms(interval_ms: u64, now: Now) -> u64 {
    if interval_ms >= 1000 {
        interval_ms - now.mono_ms % 1000
    } else {
        interval_ms
    }
}

fn header_len(raw: &[u8]) -> usize {
    crate::tlv::parse_header(raw)
        .map(|h| h.header_length as usize)
        .unwrap_or(raw.len())
}
