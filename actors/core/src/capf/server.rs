//! The CUCM side of one CAPF session, sans-I/O: decoded phone messages in (with `now`, the CAPF
//! host's wall clock), messages to send and, at the end, an [`Outcome`] out.
//!
//! ```text
//!  start ─► AUTH_REQ{VERSION 3, AUTH_TYPE}
//!  AUTH_RES ─► no DEVICE_NAME ─────────────────────────────► END_SESSION 7
//!            ─► device unknown ────────────────────────────► END_SESSION 9   Failed
//!            ─► no pending op ── issued once and setting on ─► END_SESSION 7 "already issued"
//!                             └─ otherwise ─────────────────► END_SESSION 0   Failed{0}
//!            ─► past "Operation Completes By" / bad auth ──► END_SESSION 7   Failed
//!            ─► Install/Upgrade ─► KEY_GEN_REQ ─► (REQUEST_IN_PROGRESS) KEY_GEN_RES{PUBLIC_KEY}
//!                   ─► issue LSC ─► STORE_CERT_REQ ─► STORE_CERT_RES{1} ─► END_SESSION 1 Issued
//!            ─► Delete ─► DELETE_CERT_REQ ─► DELETE_CERT_RES ─► END_SESSION 1           Deleted
//!            ─► Troubleshoot ─► FETCH_CERT_REQ ─► FETCH_CERT_RES ─► END_SESSION 0       Fetched
//!  anything else, or a session id that is not ours ────────► END_SESSION 7   Failed
//! ```
//! The order of the AUTH_RES checks follows reference §3.2 step 4 (device, operation, then
//! authentication). Authentication (§3.1, F15): an auth string must be 4–10 digits, match
//! PASSWORD, and is refused on an authenticated/encrypted profile [C S14]; existing-certificate
//! mode needs a CERTIFICATE that chains to CAPF-trust at `now` ("invalid LSC" otherwise) and a
//! SIGNED_DATA proof ([`super::keys::check_proof`]). Which of LSC or MIC the phone offers is its
//! choice; the precedence setting is not enforced here [I]. Timers (key generation timeout,
//! keepalive, phone retries) belong to the machine that drives the session: it ends a session
//! with [`CapfSession::abort`].

use super::codes::{CertKind, Command, Reason, PROTOCOL_VERSION};
use super::device::{check_auth_string, CapfAuth, CertOperation, DeviceRecord, Outcome};
use super::keys::{check_proof, public_key_from_spki, KeySpec};
use super::lsc::{issue_lsc, lsc_serial, LscSubject};
use super::settings::{CapfSettings, DeviceLookup};
use super::wire::{CapfMessage, Element};
use crate::pki::chain::verify_chain;
use crate::pki::Certificate;
use crate::sgn::SecurityMode;
use crate::wall::WallTime;
use std::sync::Arc;

/// What one input produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Messages to the phone, in order (each in one write).
    pub send: Vec<CapfMessage>,
    /// Set once, when the session ends.
    pub outcome: Option<Outcome>,
    /// With an external issuer (Online or Offline CA): the phone's new key, for which the
    /// caller must get a certificate and call [`CapfSession::issued`], [`CapfSession::deferred`]
    /// or [`CapfSession::issue_failed`].
    pub issue: Option<crate::pki::PublicKey>,
}

#[derive(Clone, Debug)]
enum State {
    ExpectAuthRes,
    ExpectKeyGenRes {
        spec: KeySpec,
    },
    ExpectStoreCertRes {
        lsc: Certificate,
    },
    /// Waiting for an external issuer's certificate for the phone's new key.
    AwaitingIssuer,
    ExpectFetchCertRes,
    ExpectDeleteCertRes,
    Done,
}

/// One CAPF session on the server.
#[derive(Clone, Debug)]
pub struct CapfSession {
    id: u32,
    settings: Arc<CapfSettings>,
    state: State,
    device: Option<DeviceRecord>,
}

impl CapfSession {
    /// A new session with id `id` (the server counts them up per connection) and its AUTH_REQ.
    pub fn start(id: u32, settings: Arc<CapfSettings>) -> (CapfSession, CapfMessage) {
        let mut req =
            CapfMessage::new(Command::AuthReq, id).with(Element::Version(PROTOCOL_VERSION));
        if let Some(a) = settings.auth_req_auth_type {
            req = req.with(Element::AuthType(a));
        }
        let session = CapfSession {
            id,
            settings,
            state: State::ExpectAuthRes,
            device: None,
        };
        (session, req)
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The device record as read at AUTH_RES.
    pub fn device(&self) -> Option<&DeviceRecord> {
        self.device.as_ref()
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The command the session waits for (`None` once done).
    pub fn expecting(&self) -> Option<Command> {
        Some(match self.state {
            State::ExpectAuthRes => Command::AuthRes,
            State::ExpectKeyGenRes { .. } => Command::KeyGenRes,
            State::ExpectStoreCertRes { .. } => Command::StoreCertRes,
            State::ExpectFetchCertRes => Command::FetchCertRes,
            State::ExpectDeleteCertRes => Command::DeleteCertRes,
            State::AwaitingIssuer | State::Done => return None,
        })
    }

    /// Handles one message from the phone. After the end, input is ignored.
    pub fn handle(
        &mut self,
        msg: &CapfMessage,
        now: WallTime,
        devices: &impl DeviceLookup,
    ) -> Step {
        if self.is_done() {
            return Step::default();
        }
        if msg.session != self.id {
            return self.fail(format!("session id {} is not {}", msg.session, self.id));
        }
        let state = std::mem::replace(&mut self.state, State::Done);
        match (state, msg.command) {
            (State::ExpectAuthRes, Command::AuthRes) => self.on_auth(msg, now, devices),
            (s @ State::ExpectKeyGenRes { .. }, Command::RequestInProgress) => {
                self.state = s;
                Step::default()
            }
            (State::ExpectKeyGenRes { spec }, Command::KeyGenRes) => self.on_key(spec, msg, now),
            (State::ExpectStoreCertRes { lsc }, Command::StoreCertRes) => match msg.reason() {
                Some(Reason::Success) => self.end(Reason::Success, Outcome::Issued { cert: lsc }),
                r => self.fail(format!("phone did not store the LSC (reason {r:?})")),
            },
            (State::ExpectDeleteCertRes, Command::DeleteCertRes) => {
                let outcome = match msg.reason() {
                    Some(Reason::Success) => Outcome::Deleted,
                    r => failed(r.unwrap_or(Reason::InvalidElement), "phone deleted no LSC"),
                };
                // usecallmanager ends with 1 whatever the phone answered [OSS S2].
                self.end(Reason::Success, outcome)
            }
            (State::ExpectFetchCertRes, Command::FetchCertRes) => {
                let outcome = fetched(msg);
                self.end(Reason::NoAction, outcome)
            }
            (state, cmd) => {
                self.state = state;
                let want = self.expecting().map_or("nothing".into(), |c| c.to_string());
                self.fail(format!("unexpected {cmd} while waiting for {want}"))
            }
        }
    }

    /// Ends the session from outside (key generation timeout, connection lost): END_SESSION 7.
    pub fn abort(&mut self, text: &str) -> Step {
        if self.is_done() {
            return Step::default();
        }
        self.fail(text.to_string())
    }

    fn on_auth(&mut self, msg: &CapfMessage, now: WallTime, devices: &impl DeviceLookup) -> Step {
        let Some(name) = msg.device_name() else {
            return self.fail("AUTH_RES without DEVICE_NAME".into());
        };
        if let Some(v) = self.settings.require_version {
            if msg.version() != Some(v) {
                return self.fail(format!("VERSION {:?}, {v} required", msg.version()));
            }
        }
        let Some(rec) = devices.device(name) else {
            let text = format!("unknown device {name}");
            return self.end(Reason::UnknownDevice, failed(Reason::UnknownDevice, &text));
        };
        self.device = Some(rec.clone());
        if rec.operation == CertOperation::None {
            if self.settings.issue_once && rec.lscs_issued > 0 {
                return self.fail(format!("LSC already issued to {name}"));
            }
            let outcome = failed(Reason::NoAction, "no pending operation");
            return self.end(Reason::NoAction, outcome);
        }
        if let Some(by) = rec.completes_by.filter(|by| now > *by) {
            return self.fail(format!(
                "Operation Completes By {by} has passed (now {now})"
            ));
        }
        if let Err(why) = self.authenticate(rec, msg, now) {
            return self.fail(why);
        }
        if rec.operation == CertOperation::InstallUpgrade {
            // A certificate an offline CA signed for a key this phone generated earlier.
            if let Some(lsc) = devices.ready_lsc(name) {
                return self.store(lsc.clone());
            }
        }
        let (command, state, elements) = match rec.operation {
            CertOperation::InstallUpgrade => {
                let spec = match rec.key_spec(self.settings.advanced_algorithms) {
                    Ok(spec) => spec,
                    Err(e) => return self.fail(e.to_string()),
                };
                if let Err(e) = spec.profile() {
                    return self.fail(e.to_string());
                }
                let key_type = rec.capf_v3 || self.settings.rsa_key_type_to_legacy;
                let elements = spec.request_elements(key_type);
                (
                    Command::KeyGenReq,
                    State::ExpectKeyGenRes { spec },
                    elements,
                )
            }
            CertOperation::Delete => (Command::DeleteCertReq, State::ExpectDeleteCertRes, vec![]),
            _ => (Command::FetchCertReq, State::ExpectFetchCertRes, vec![]),
        };
        self.state = state;
        let mut req = CapfMessage::new(command, self.id);
        req.elements = elements;
        Step {
            send: vec![req],
            ..Step::default()
        }
    }

    fn authenticate(
        &self,
        rec: &DeviceRecord,
        msg: &CapfMessage,
        now: WallTime,
    ) -> Result<(), String> {
        match &rec.auth {
            CapfAuth::NullString => Ok(()),
            CapfAuth::AuthString(s) => {
                if rec.security_mode != SecurityMode::NonSecure {
                    return Err(
                        "\"By Authentication String\" cannot be used with an authenticated \
                                or encrypted security profile"
                            .into(),
                    );
                }
                check_auth_string(s).map_err(|e| e.to_string())?;
                match msg.password() {
                    Some(p) if p == s => Ok(()),
                    Some("") | None => Err("no authentication string entered on the phone".into()),
                    Some(_) => Err("authentication string does not match".into()),
                }
            }
            CapfAuth::ExistingCert(_) => {
                let Some((kind, der)) = msg.certificate() else {
                    return Err(
                        "existing-certificate mode, but the phone sent no certificate".into(),
                    );
                };
                let cert = Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
                let s = &self.settings;
                if let Err(e) = verify_chain(&cert, &[], &s.capf_trust, now, s.backend) {
                    return Err(match kind {
                        CertKind::Lsc => format!("invalid LSC: {e}"),
                        _ => format!("certificate not trusted by CAPF-trust: {e}"),
                    });
                }
                let public = cert
                    .public_key()
                    .ok_or("certificate key is neither RSA nor P-256")?;
                check_proof(
                    public,
                    &rec.device_name,
                    der,
                    msg,
                    s.require_sha2_signed_data,
                )
                .map_err(|e| e.to_string())
            }
        }
    }

    fn on_key(&mut self, spec: KeySpec, msg: &CapfMessage, now: WallTime) -> Step {
        let Some(spki) = msg.public_key() else {
            return self.fail(format!(
                "key generation failed on the phone (reason {:?})",
                msg.reason()
            ));
        };
        let public = match public_key_from_spki(spki) {
            Ok(p) => p,
            Err(e) => return self.fail(e.to_string()),
        };
        if KeySpec::of(&public) != spec {
            let got = KeySpec::of(&public);
            return self.fail(format!("phone sent a {got:?} key, {spec:?} was requested"));
        }
        let Some(rec) = &self.device else {
            return self.fail("no device record".into());
        };
        let s = &self.settings;
        if s.external_issuer {
            self.state = State::AwaitingIssuer;
            return Step {
                issue: Some(public),
                ..Step::default()
            };
        }
        let nonce = format!("{}#{}@{}", rec.lscs_issued, self.id, now.0);
        let serial = lsc_serial(&s.forge, &s.capf.cert, &rec.device_name, &nonce);
        let who = LscSubject {
            device_name: &rec.device_name,
            model: &rec.model,
            hw_serial: rec.hw_serial.as_deref(),
        };
        let lsc = match issue_lsc(&s.template, &s.capf, &who, &public, &serial, now) {
            Ok(c) => c,
            Err(e) => return self.fail(e.to_string()),
        };
        self.store(lsc)
    }

    /// Sends STORE_CERT_REQ with `lsc`.
    fn store(&mut self, lsc: Certificate) -> Step {
        let req = CapfMessage::new(Command::StoreCertReq, self.id)
            .with(Element::CertType(CertKind::Lsc))
            .with(Element::Certificate {
                kind: CertKind::Lsc,
                der: lsc.der().to_vec(),
            });
        self.state = State::ExpectStoreCertRes { lsc };
        Step {
            send: vec![req],
            ..Step::default()
        }
    }

    /// The external issuer's certificate for the key of [`Step::issue`].
    pub fn issued(&mut self, lsc: Certificate) -> Step {
        if !matches!(self.state, State::AwaitingIssuer) {
            return Step::default();
        }
        self.store(lsc)
    }

    /// The external issuer refused (Online CA errors): END_SESSION 7.
    pub fn issue_failed(&mut self, text: &str) -> Step {
        if !matches!(self.state, State::AwaitingIssuer) {
            return Step::default();
        }
        self.fail(text.to_string())
    }

    /// The request waits for an offline CA: the session ends with nothing done
    /// (END_SESSION 0) and the operation stays pending until the signed certificate is
    /// uploaded and the phone connects again [I: the reference does not say what the phone is
    /// told meanwhile].
    pub fn deferred(&mut self, text: &str) -> Step {
        if !matches!(self.state, State::AwaitingIssuer) {
            return Step::default();
        }
        self.end(Reason::NoAction, failed(Reason::NoAction, text))
    }

    fn end(&mut self, reason: Reason, outcome: Outcome) -> Step {
        self.state = State::Done;
        let end = CapfMessage::new(Command::EndSession, self.id).with(Element::Reason(reason));
        Step {
            send: vec![end],
            outcome: Some(outcome),
            issue: None,
        }
    }

    fn fail(&mut self, text: String) -> Step {
        let outcome = Outcome::Failed {
            reason: Reason::InvalidElement,
            text,
        };
        self.end(Reason::InvalidElement, outcome)
    }
}

fn failed(reason: Reason, text: &str) -> Outcome {
    Outcome::Failed {
        reason,
        text: text.to_string(),
    }
}

fn fetched(msg: &CapfMessage) -> Outcome {
    if msg.reason() != Some(Reason::Success) {
        return failed(
            msg.reason().unwrap_or(Reason::InvalidElement),
            "phone returned no certificate",
        );
    }
    let mut certs = vec![];
    for (kind, der) in msg.certificates() {
        match Certificate::from_der(der) {
            Ok(c) => certs.push((kind, c)),
            Err(e) => return failed(Reason::InvalidElement, &format!("fetched certificate: {e}")),
        }
    }
    Outcome::Fetched { certs }
}
