//! The phone side of a CAPF session, sans-I/O: it answers the server from its own settings.
//!
//! ```text
//!  AUTH_REQ ─► flash := auth mode ─► AUTH_RES{REASON 1, VERSION, DEVICE_NAME, PASSWORD,
//!                                              [CERTIFICATE, SIGNED_DATA, SHA2_SIGNED_DATA]}
//!  KEY_GEN_REQ ─► REQUEST_IN_PROGRESS now; key from KeyForge; KEY_GEN_RES{PUBLIC_KEY} handed
//!                 back as KeyGenStarted::reply, for the caller to send after the model's delay
//!  STORE_CERT_REQ ─► LSC chains to the CAPF certificate and carries our new key? ─► store it,
//!                    STORE_CERT_RES{1}; otherwise STORE_CERT_RES{7} and keep the old LSC
//!  FETCH_CERT_REQ ─► FETCH_CERT_RES{1, LSC, MIC} (7 with none)
//!  DELETE_CERT_REQ ─► drop the LSC, DELETE_CERT_RES{1} (7 with none)
//!  END_SESSION{r} ─► ClientOutcome; flash cleared when the operation completed (r = 0 or 1)
//! ```
//! The auth mode "in flash" [C S14]: on power failure during a session the phone uses the mode
//! stored in flash when it cannot load a new configuration file after reboot; the value is
//! cleared when the operation completes. [`CapfFlash`] is that value, owned by the caller so it
//! survives a reboot; [`CapfClient::auth_mode`] prefers the mode of a configuration file loaded
//! this boot and falls back to flash. A refused session (7, 9) keeps flash [I].
//!
//! How long key generation takes is not modelled here (seconds to 30+ minutes by model and
//! size [C S14]): the reply is ready at once and the caller delays it. SUDI_DATA is not sent.

use super::codes::{CertKind, Command, Reason};
use super::keys::{prove, spki_der, KeySpec};
use super::wire::{CapfMessage, Element};
use crate::pki::chain::verify_chain;
use crate::pki::{Backend, Certificate, Identity, KeyForge, KeyProfile, PrivateKey};
use crate::sgn::CapfAuthMode;
use crate::wall::WallTime;
use std::sync::Arc;

/// What the phone keeps in flash across a power failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapfFlash {
    /// The auth mode of the session in progress; cleared when its operation completes.
    pub auth_mode: Option<CapfAuthMode>,
    /// Keys generated so far (labels new keys, so each enrollment makes a fresh key).
    pub keys_generated: u32,
}

/// The phone's fixed CAPF settings.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub device_name: String,
    /// VERSION in AUTH_RES: 3 for CAPFv3 endpoints [OSS S2]; Jabber sent 2 [OSS S4].
    pub version: u8,
    /// The authentication string entered on the phone, if any.
    pub auth_string: Option<String>,
    pub mic: Option<Identity>,
    /// KeyForge label prefix of this phone's LSC keys, e.g. `phone/B000B4BA0AEE/lsc`.
    pub key_label: String,
    pub forge: KeyForge,
    /// Send REQUEST_IN_PROGRESS when key generation starts (usecallmanager's capfc does; the
    /// Jabber4Linux client does not).
    pub request_in_progress: bool,
}

/// Key generation has started: send `reply` (KEY_GEN_RES) when the model's key time is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGenStarted {
    pub profile: KeyProfile,
    pub reply: CapfMessage,
}

/// How a session ended, from the phone's side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOutcome {
    Installed {
        cert: Certificate,
    },
    Deleted,
    Fetched,
    /// END_SESSION 0 or 1 with nothing done.
    NothingToDo,
    /// END_SESSION 7, 9 or another reason.
    Refused {
        reason: Reason,
    },
    /// The phone gave up on the server (unexpected message).
    Aborted {
        text: String,
    },
}

/// What one input produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStep {
    /// Messages to send now.
    pub send: Vec<CapfMessage>,
    pub key_gen: Option<KeyGenStarted>,
    /// Why the phone refused something (for the trace).
    pub note: Option<String>,
    pub outcome: Option<ClientOutcome>,
}

/// What a session changed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Did {
    Nothing,
    Installed,
    Deleted,
    Fetched,
}

/// Where the session stands. One state, one struct: the session id and what it did exist
/// only once AUTH_REQ opened it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A new client, or [`CapfClient::new_session`]: waiting for AUTH_REQ (until then a
    /// message must carry session id 0).
    AwaitingAuth,
    /// AUTH_REQ named the session; `did` is what it changed so far.
    Open { session: u32, did: Did },
    /// END_SESSION came, or the client gave up: nothing more is answered.
    Ended,
}

/// The phone's CAPF client.
#[derive(Debug)]
pub struct CapfClient {
    pub settings: ClientSettings,
    /// The phone's LSC, if it has one.
    pub lsc: Option<Identity>,
    pub flash: CapfFlash,
    /// `<capfAuthMode>` of a configuration file loaded this boot.
    pub config_mode: Option<CapfAuthMode>,
    /// The CAPF certificate the phone trusts (ITL CAPF record, or the TLS peer vouched by TVS).
    pub capf_cert: Option<Certificate>,
    /// The key generated for this session's request, or for one an offline CA has not
    /// answered yet; kept across sessions (and by the caller across reboots) so a later
    /// STORE_CERT_REQ can match it.
    pub pending_key: Option<Arc<PrivateKey>>,
    phase: Phase,
}

impl CapfClient {
    pub fn new(settings: ClientSettings, lsc: Option<Identity>, flash: CapfFlash) -> CapfClient {
        CapfClient {
            settings,
            lsc,
            flash,
            config_mode: None,
            capf_cert: None,
            pending_key: None,
            phase: Phase::AwaitingAuth,
        }
    }

    /// Readies the client for a new session (a retry, or the next operation), keeping the LSC,
    /// flash, configuration and CAPF certificate.
    pub fn new_session(&mut self) {
        self.phase = Phase::AwaitingAuth;
    }

    /// The session id messages must carry (0 before AUTH_REQ).
    fn session(&self) -> u32 {
        match self.phase {
            Phase::Open { session, .. } => session,
            Phase::AwaitingAuth | Phase::Ended => 0,
        }
    }

    fn did(&self) -> Did {
        match self.phase {
            Phase::Open { did, .. } => did,
            Phase::AwaitingAuth | Phase::Ended => Did::Nothing,
        }
    }

    /// Notes what the session changed.
    fn record(&mut self, did: Did) {
        self.phase = Phase::Open {
            session: self.session(),
            did,
        };
    }

    /// The mode this session uses: this boot's config file, else flash, else none.
    pub fn auth_mode(&self) -> CapfAuthMode {
        self.config_mode
            .or(self.flash.auth_mode)
            .unwrap_or_default()
    }

    /// Handles one message from the server at the phone's wall time `now`.
    pub fn handle(&mut self, msg: &CapfMessage, now: WallTime) -> ClientStep {
        if self.phase == Phase::Ended {
            return ClientStep::default();
        }
        if msg.command != Command::AuthReq && msg.session != self.session() {
            return self.abort(format!(
                "session id {} is not {}",
                msg.session,
                self.session()
            ));
        }
        match msg.command {
            Command::AuthReq => self.on_auth_req(msg),
            Command::KeyGenReq => self.on_key_gen(msg),
            Command::StoreCertReq => self.on_store(msg, now),
            Command::FetchCertReq => self.on_fetch(),
            Command::DeleteCertReq => self.on_delete(),
            Command::EndSession => self.on_end(msg.reason().unwrap_or(Reason::Other(255))),
            other => self.abort(format!("unexpected {other}")),
        }
    }

    fn reply(&self, command: Command) -> CapfMessage {
        CapfMessage::new(command, self.session())
    }

    fn on_auth_req(&mut self, msg: &CapfMessage) -> ClientStep {
        self.phase = Phase::Open {
            session: msg.session,
            did: self.did(),
        };
        let mode = self.auth_mode();
        self.flash.auth_mode = Some(mode);
        let s = &self.settings;
        let password = match mode {
            CapfAuthMode::AuthString => s.auth_string.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let existing = match mode {
            CapfAuthMode::ExistingLscFirst => self.lsc_entry().or(self.mic_entry()),
            CapfAuthMode::ExistingMicFirst => self.mic_entry().or(self.lsc_entry()),
            _ => None,
        };
        let mut res = self
            .reply(Command::AuthRes)
            .with(Element::Reason(Reason::Success));
        let mut sha2 = None;
        if let Some((kind, id)) = existing {
            let der = id.cert.der().to_vec();
            if let Ok(proof) = prove(&id.key, &s.device_name, &der) {
                res = res
                    .with(Element::Certificate { kind, der })
                    .with(Element::SignedData(proof.signed_data));
                sha2 = proof.sha512;
            }
        }
        res = res
            .with(Element::Version(s.version))
            .with(Element::Password(password))
            .with(Element::DeviceName(s.device_name.clone()));
        if let Some(signature) = sha2 {
            let digest = super::keys::SHA512_CODE;
            res = res.with(Element::Sha2SignedData { digest, signature });
        }
        ClientStep {
            send: vec![res],
            ..ClientStep::default()
        }
    }

    fn lsc_entry(&self) -> Option<(CertKind, &Identity)> {
        self.lsc.as_ref().map(|id| (CertKind::Lsc, id))
    }

    fn mic_entry(&self) -> Option<(CertKind, &Identity)> {
        self.settings.mic.as_ref().map(|id| (CertKind::Mic, id))
    }

    fn on_key_gen(&mut self, msg: &CapfMessage) -> ClientStep {
        let spec = KeySpec::from_request(msg);
        let profile = match spec.and_then(KeySpec::profile) {
            Ok(p) => p,
            Err(e) => return self.refuse(Command::KeyGenRes, e.to_string()),
        };
        let label = format!("{}#{}", self.settings.key_label, self.flash.keys_generated);
        self.flash.keys_generated += 1;
        let key = self.settings.forge.key(&label, profile);
        let spki = match spki_der(&key.public_key()) {
            Ok(d) => d,
            Err(e) => return self.refuse(Command::KeyGenRes, e.to_string()),
        };
        self.pending_key = Some(key);
        let mut send = vec![];
        if self.settings.request_in_progress {
            send.push(self.reply(Command::RequestInProgress));
        }
        let reply = self
            .reply(Command::KeyGenRes)
            .with(Element::PublicKey(spki));
        ClientStep {
            send,
            key_gen: Some(KeyGenStarted { profile, reply }),
            ..ClientStep::default()
        }
    }

    fn on_store(&mut self, msg: &CapfMessage, now: WallTime) -> ClientStep {
        match self.check_lsc(msg, now) {
            Ok(id) => {
                self.lsc = Some(id);
                self.record(Did::Installed);
                let res = self
                    .reply(Command::StoreCertRes)
                    .with(Element::Reason(Reason::Success));
                ClientStep {
                    send: vec![res],
                    ..ClientStep::default()
                }
            }
            Err(why) => self.refuse(Command::StoreCertRes, why),
        }
    }

    /// The new LSC as an identity, if it carries the key generated for it (this session's,
    /// or a request's still pending: both are `pending_key`) and, when CAPF issued it, chains to the CAPF certificate
    /// at `now`. An LSC from an Online or Offline CA is not chain-checked: the phone has no
    /// way to know that CA [I].
    fn check_lsc(&mut self, msg: &CapfMessage, now: WallTime) -> Result<Identity, String> {
        let (_, der) = msg
            .certificate()
            .ok_or("STORE_CERT_REQ without CERTIFICATE")?;
        let cert = Certificate::from_der(der).map_err(|e| format!("LSC: {e}"))?;
        let capf = self
            .capf_cert
            .as_ref()
            .ok_or("no CAPF certificate to check the LSC")?;
        if cert.issuer() == capf.subject() {
            verify_chain(&cert, &[], [capf], now, Backend::Ring)
                .map_err(|e| format!("LSC: {e}"))?;
        }
        let key = self
            .pending_key
            .clone()
            .filter(|k| cert.public_key() == Some(&k.public_key()))
            .ok_or("LSC does not carry the key generated for it")?;
        self.pending_key = None;
        Ok(Identity {
            cert_type: None,
            cert,
            key,
        })
    }

    fn on_fetch(&mut self) -> ClientStep {
        let mut res = self
            .reply(Command::FetchCertRes)
            .with(Element::Reason(Reason::Success));
        for (kind, id) in self.lsc_entry().into_iter().chain(self.mic_entry()) {
            let der = id.cert.der().to_vec();
            res = res.with(Element::Certificate { kind, der });
        }
        if res.elements.len() == 1 {
            return self.refuse(Command::FetchCertRes, "no certificate to fetch".into());
        }
        self.record(Did::Fetched);
        ClientStep {
            send: vec![res],
            ..ClientStep::default()
        }
    }

    fn on_delete(&mut self) -> ClientStep {
        if self.lsc.take().is_none() {
            return self.refuse(Command::DeleteCertRes, "no LSC to delete".into());
        }
        self.record(Did::Deleted);
        let res = self
            .reply(Command::DeleteCertRes)
            .with(Element::Reason(Reason::Success));
        ClientStep {
            send: vec![res],
            ..ClientStep::default()
        }
    }

    fn on_end(&mut self, reason: Reason) -> ClientStep {
        let did = self.did();
        self.phase = Phase::Ended;
        let outcome = match (reason, did) {
            (Reason::Success, Did::Installed) => match &self.lsc {
                Some(id) => ClientOutcome::Installed {
                    cert: id.cert.clone(),
                },
                None => ClientOutcome::NothingToDo,
            },
            (Reason::Success, Did::Deleted) => ClientOutcome::Deleted,
            (Reason::NoAction | Reason::Success, Did::Fetched) => ClientOutcome::Fetched,
            (Reason::NoAction | Reason::Success, _) => ClientOutcome::NothingToDo,
            (reason, _) => ClientOutcome::Refused { reason },
        };
        if !matches!(outcome, ClientOutcome::Refused { .. }) {
            self.flash.auth_mode = None;
        }
        ClientStep {
            outcome: Some(outcome),
            ..ClientStep::default()
        }
    }

    /// Answers `command` with REASON 7 and says why.
    fn refuse(&self, command: Command, why: String) -> ClientStep {
        let res = self
            .reply(command)
            .with(Element::Reason(Reason::InvalidElement));
        ClientStep {
            send: vec![res],
            note: Some(why),
            ..ClientStep::default()
        }
    }

    fn abort(&mut self, text: String) -> ClientStep {
        self.phase = Phase::Ended;
        ClientStep {
            outcome: Some(ClientOutcome::Aborted { text }),
            ..ClientStep::default()
        }
    }
}
