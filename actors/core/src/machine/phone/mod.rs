//! The phone: one machine, its inputs routed to one concept each.
//!
//! ```text
//!  PhoneInput ─► Phone::handle ─┬─ PowerOn / Reset / EraseTrustLists / DhcpAck / TftpReply ─► boot.rs
//!                               ├─ Register{Ack,Reject} / KeepaliveAck / register timers ─► register.rs
//!                               ├─ Tvs{Tls,PlainReply,Abort} by session ─┬─ the signer's wait ─► boot.rs ─┐
//!                               │                                       └─ the HTTPS service ─► https.rs ┤
//!                               │                                                     tvs_query.rs ◄─────┘
//!                               ├─ HttpsOpen ─► https.rs   TftpHttps{Open,Reply} ─► tftp_https.rs
//!                               └─ Capf{Tls,Plain,Abort,Keepalive} / CAPF timers ─► capf.rs
//! ```
//!
//! | file | role |
//! |---|---|
//! | [`status`] | status strings, [`State`], [`PhoneTimers`], timer tokens |
//! | `boot.rs` | DHCP → CTL → ITL → config, each file judged (asking TVS about its signer) |
//! | `register.rs` | registration with the CallManager group, keepalives |
//! | `tvs_query.rs` | the one TVS query: each TVS of the config in turn, over TLS or identity |
//! | `https.rs` | the HTTPS service, judged by CTL/ITL, TVS cache or TVS |
//! | `tftp_https.rs` | the secure (HTTPS) config download from the TFTP (F29) |
//! | `capf.rs`, `capf_profile.rs` | the CAPF session that installs the LSC; the fleet's settings |
//!
//! Timers carry the boot generation, so a timer from before a reset is a no-op; losing a
//! registration starts a new generation too, so its keepalive timers go stale with it.

use super::msg::{Addr, Effect, Msg, Now};
use crate::capf::CapfFlash;
use crate::machine::trace::{Event, Kind, Observation};
use crate::phone::trust::PhoneTrust;
use crate::pki::keys::PrivateKey;
use crate::pki::{Backend, Certificate, Identity};
use crate::sgn::{PhoneConfig, SecurityMode};
use crate::tls::SimClock;
use std::sync::Arc;

mod boot;
mod capf;
mod capf_profile;
mod https;
mod register;
pub mod status;
mod tftp_https;
mod tvs_query;

pub use capf_profile::{KeygenTimes, PhoneCapf};
pub use status::{PhoneTimers, Registration, State, TvsWait};
pub use tvs_query::{Question, TvsQuery};

use capf::CapfState;
use https::HttpsConn;
use status::{
    T_CAPF, T_DHCP, T_HTTPS, T_KEEPALIVE, T_KEEPALIVE_DEADLINE, T_REGISTER, T_REGISTER_RETRY,
    T_TFTP, T_TFTP_HTTPS, T_TVS,
};
use tftp_https::SecureDownload;

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
    /// The CAPF connection and what outlives it ([`capf`]).
    capf: CapfState,
    boots: u64,
    generation: u64,
    next_session: u64,
    trust_failed: bool,
    tftp: Option<String>,
    /// An HTTPS service being verified through TVS ([`https`]).
    https: Option<Box<HttpsConn>>,
    /// A secure (HTTPS) config download from the TFTP ([`tftp_https`], F29).
    secure: Option<Box<SecureDownload>>,
}

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
            capf: CapfState::default(),
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
        self.state.status()
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
        out.push(self.event(
            now,
            Event::State {
                status: self.status(),
            },
        ));
    }

    fn secure_profile(&self) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.security_mode != SecurityMode::NonSecure)
    }

    /// The certificate, key and chain the phone presents: its LSC once it has one, else its
    /// MIC with the manufacturing chain.
    fn identity(&self) -> (&Certificate, &Arc<PrivateKey>, &[Certificate]) {
        match &self.lsc {
            Some(lsc) => (&lsc.cert, &lsc.key, &[]),
            None => (&self.cert, &self.key, &self.chain),
        }
    }

    /// Handles one input.
    pub fn handle(&mut self, input: PhoneInput, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match input {
            PhoneInput::PowerOn | PhoneInput::Msg(Msg::Reset) => self.boot(now, &mut out),
            PhoneInput::Msg(Msg::PowerOff) => self.power_off(now, &mut out),
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

    /// Power failure: off until the next reset boots the phone; side flows are dropped.
    fn power_off(&mut self, now: Now, out: &mut Vec<Effect>) {
        self.https = None;
        self.secure = None;
        self.generation += 1;
        self.drop_capf();
        out.push(self.obs(now, Kind::PowerFailure, "phone off"));
        self.enter(State::Off, now, out);
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
            (T_TVS, State::Tvs(_)) => self.on_signer_timeout(now, out),
            (T_REGISTER, State::Registering { .. }) => self.on_register_timeout(now, out),
            (T_REGISTER_RETRY, State::Registering { .. }) => self.register(0, now, out),
            (T_KEEPALIVE, State::Registered(_)) => self.keepalive_tick(now, out),
            (T_KEEPALIVE_DEADLINE, State::Registered(_)) => self.keepalive_deadline(now, out),
            (T_HTTPS, _) => self.on_https_timer(now, out),
            (T_TFTP_HTTPS, _) => self.on_secure_timer(now, out),
            _ => {}
        }
    }

    /// Routes a message to its concept; each handler ignores what is late or not its own.
    fn on_msg(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        if let Some(session) = tvs_query::tvs_session(&msg) {
            return self.on_tvs_msg(session, msg, now, out);
        }
        match msg {
            Msg::DhcpAck { option150 } => self.on_dhcp_ack(option150, now, out),
            Msg::TftpReply { file, bytes } if self.secure_plain_wants(&file) => {
                self.on_secure_plain(file, bytes, now, out)
            }
            Msg::TftpReply { file, bytes } => self.on_tftp_reply(file, bytes, now, out),
            Msg::RegisterAck {
                cluster,
                server_cert,
            } => self.on_register_ack(cluster, server_cert, now, out),
            Msg::RegisterReject { reason } => self.on_register_reject(reason, now, out),
            Msg::KeepaliveAck { seq } => self.on_keepalive_ack(seq, now),
            Msg::HttpsOpen { server, cert } => self.https_open(server, cert, now, out),
            Msg::TftpHttpsOpen {
                tftp,
                plain_fallback,
            } => self.tftp_https_open(tftp, plain_fallback, now, out),
            Msg::TftpHttpsReply {
                session,
                bytes,
                server_cert,
            } => self.on_secure_reply(session, bytes, server_cert, now, out),
            msg @ (Msg::CapfTls { .. }
            | Msg::CapfPlain { .. }
            | Msg::CapfAbort { .. }
            | Msg::CapfKeepalive { .. }) => self.on_capf_msg(msg, now, out),
            _ => {} // not a phone's message
        }
    }

    /// A TVS message goes to the query of its session: the HTTPS service's or the signer's.
    fn on_tvs_msg(&mut self, session: u64, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        if self
            .https
            .as_ref()
            .is_some_and(|c| c.query.session == session)
        {
            self.on_https_tvs(msg, now, out)
        } else if matches!(&self.state, State::Tvs(w) if w.query.session == session) {
            self.on_signer_tvs(msg, now, out)
        }
    }
}

/// The shell's `Start` is the phone's power-on.
impl crate::machine::Machine for Phone {
    fn addr(&self) -> Addr {
        Addr::Phone(self.id)
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        let input = match input {
            Input::Start => PhoneInput::PowerOn,
            Input::Msg(m) => PhoneInput::Msg(m),
            Input::Timer(t) => PhoneInput::Timer(t),
        };
        self.handle(input, now)
    }
}
