//! The CallManager service of one node: it acknowledges registrations and keepalives while
//! its service runs, checks a secure registration's certificate against the anchors the
//! publisher pushes, and resets the phones registered with it on request.
//!
//! ```text
//!  publisher ─► CallManagerTrust(anchors) · CallManagerCert(der)   (kept for secure phones)
//!  Register{phone, secure_cert?} ─► chain check (secure) ─► RegisterAck | RegisterReject
//!  Keepalive{phone, seq}         ─► registration refreshed ─► KeepaliveAck
//!  ResetRegistered               ─► Reset to every registered phone, in id order
//!  Service(Stop|Start|Restart)   ─► up/down (down forgets every registration)
//! ```
//! A keepalive also refreshes the phone's registration (as a SIP REGISTER refresh does), so
//! a CallManager restarted under registered phones knows them again at their next keepalive.

use super::msg::{Addr, Effect, Msg, Now, ServiceAction};
use crate::machine::trace::{Kind, Observation};
use crate::pki::chain::verify_chain;
use crate::pki::{Backend, Certificate};
use std::sync::Arc;

/// The CallManager service of one node: registration and keepalives.
#[derive(Debug)]
pub struct CallManager {
    pub host: String,
    pub cluster: String,
    pub up: bool,
    registered: PhoneSet,
    /// What a secure registration's certificate must chain to (CallManager-trust + CAPF).
    trust: Arc<Vec<Certificate>>,
    /// The certificate it presents to secure phones.
    cert: Option<Arc<[u8]>>,
}

impl CallManager {
    pub fn new(host: &str, cluster: &str) -> CallManager {
        CallManager {
            host: host.into(),
            cluster: cluster.into(),
            up: true,
            registered: PhoneSet::default(),
            trust: Arc::new(vec![]),
            cert: None,
        }
    }

    /// Why a secure registration's certificate is not trusted here, if it is not: it must
    /// chain to CallManager-trust or this cluster's CAPF (an LSC from a foreign CAPF is not,
    /// F14 [C S14]).
    fn untrusted(&self, der: &[u8], now: Now) -> Option<String> {
        let cert = match Certificate::from_der(der) {
            Ok(c) => c,
            Err(e) => return Some(format!("unreadable certificate: {e}")),
        };
        verify_chain(&cert, &[], self.trust.iter(), now.wall, Backend::Ring)
            .err()
            .map(|e| format!("{} not trusted: {e}", cert.subject().common_name()))
    }

    /// Phones registered here.
    pub fn registered(&self) -> usize {
        self.registered.len()
    }

    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match msg {
            Msg::CallManagerTrust(trust) => self.trust = trust,
            Msg::CallManagerCert(cert) => self.cert = Some(cert),
            Msg::RegisterAbort { phone } => {
                self.registered.remove(phone);
            }
            Msg::Register {
                phone,
                secure_cert: Some(der),
                ..
            } if self.up && self.untrusted(&der, now).is_some() => {
                let why = self.untrusted(&der, now).unwrap_or_default();
                out.push(Effect::Observe(Observation::note(
                    now,
                    &format!("ccm@{}", self.host),
                    Kind::TlsFailure,
                    format!("phone#{phone} secure registration: {why}"),
                )));
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::RegisterReject {
                        reason: format!("TLS to ccm@{} failed: {why}", self.host),
                    },
                });
            }
            Msg::Register {
                phone, secure_cert, ..
            } if self.up => {
                self.registered.insert(phone);
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::RegisterAck {
                        cluster: self.cluster.clone(),
                        server_cert: secure_cert.and(self.cert.clone()),
                    },
                });
            }
            Msg::Keepalive { phone, seq } if self.up => {
                self.registered.insert(phone);
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::KeepaliveAck { seq },
                });
            }
            Msg::ResetRegistered => {
                for phone in std::mem::take(&mut self.registered).iter() {
                    out.push(Effect::Send {
                        to: Addr::Phone(phone),
                        msg: Msg::Reset,
                    });
                }
            }
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                if !self.up {
                    self.registered.clear();
                }
                out.push(Effect::Observe(Observation::note(
                    now,
                    &format!("ccm@{}", self.host),
                    Kind::Service,
                    format!("{action:?}"),
                )));
            }
            _ => {}
        }
        out
    }
}

/// A set of phone ids as a bitmap: a keepalive's registration refresh touches one word
/// (10,000 phones keep 157 words), and iteration goes in id order (deterministic resets).
#[derive(Debug, Default)]
struct PhoneSet {
    words: Vec<u64>,
    len: usize,
}

impl PhoneSet {
    fn insert(&mut self, phone: u32) {
        let (w, bit) = (phone as usize / 64, 1u64 << (phone % 64));
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        if self.words[w] & bit == 0 {
            self.words[w] |= bit;
            self.len += 1;
        }
    }

    fn remove(&mut self, phone: u32) {
        let (w, bit) = (phone as usize / 64, 1u64 << (phone % 64));
        if let Some(word) = self.words.get_mut(w).filter(|word| **word & bit != 0) {
            *word &= !bit;
            self.len -= 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }

    /// The ids in increasing order.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1u64 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }
}

/// The CallManager answers messages only.
impl crate::machine::Machine for CallManager {
    fn addr(&self) -> crate::machine::Addr {
        crate::machine::Addr::CallManager(self.host.clone())
    }
    fn on_input(
        &mut self,
        input: crate::machine::Input,
        now: crate::machine::Now,
    ) -> Vec<crate::machine::Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}
