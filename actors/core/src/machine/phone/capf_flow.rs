//! The phone's CAPF session (reference §3.1–3.2, seed 003): when it starts, the TLS
//! connection to 3804 pinned to the ITL's CAPF record, the [`CapfClient`] that answers the
//! server, key generation in virtual time, and the retries after a communication failure.
//!
//! ```text
//!  config has <capfAuthMode> ≠ 0 and a <capfList> ─┬─ non-secure profile: after RegisterAck
//!                                                  └─ secure profile, no LSC: before registering
//!  connect(family) ─► CapfTls ClientHello (pinned to the ITL CAPF record) ─► AUTH_REQ …
//!      KEY_GEN_REQ ─► key generation (KeygenTimes by key, virtual time) ─► KEY_GEN_RES …
//!      END_SESSION ─► Installed (LSC kept, presented from now on) │ Refused │ NothingToDo
//!  refused / TLS failure before AUTH_REQ ─► next address family (IPv6 table) if any
//!  communication failure (abort, timeout) ─► 3 more tries, 30 s apart [C S14] ─► give up
//!  power failure / reset mid-session ─► connection lost; flash keeps the auth mode
//! ```
//! The CAPF certificate is trusted through the ITL's CAPF record only; validating it through
//! TVS instead (reference §2.3 step 4) is not modelled [I]. The phone waits `response_ms`
//! for each server message [I].

use crate::machine::trace::{Event, Kind, Observation, Validity};
use super::{status, Phone, State, T_CAPF, T_CAPF_KEYGEN, T_CAPF_RETRY};
use crate::capf::{CapfClient, CapfMessage, ClientOutcome, ClientSettings};
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::pki::keys::PrivateKey;
use crate::pki::{Certificate, Identity, KeyForge, KeyProfile};
use crate::sgn::{CapfAuthMode, SecurityMode};
use crate::tls::{pinned_client_config, TlsEnd};
use crate::tlv::Role;
use std::sync::Arc;

/// How long a phone takes to generate a key, by key, in virtual ms. Cisco says only "up to
/// 30 or more minutes" on some models with larger keys [C S14], so every figure is [I];
/// a fleet's `keygen` overrides them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeygenTimes {
    pub ec_ms: u64,
    pub rsa1024_ms: u64,
    pub rsa2048_ms: u64,
    pub rsa3072_ms: u64,
    pub rsa4096_ms: u64,
}

impl Default for KeygenTimes {
    fn default() -> Self {
        KeygenTimes {
            ec_ms: 2_000,
            rsa1024_ms: 10_000,
            rsa2048_ms: 30_000,
            rsa3072_ms: 120_000,
            rsa4096_ms: 300_000,
        }
    }
}

impl KeygenTimes {
    /// The same time for every key (a fleet's `keygen`).
    pub fn all(ms: u64) -> KeygenTimes {
        KeygenTimes {
            ec_ms: ms,
            rsa1024_ms: ms,
            rsa2048_ms: ms,
            rsa3072_ms: ms,
            rsa4096_ms: ms,
        }
    }

    pub fn of(&self, profile: KeyProfile) -> u64 {
        match profile {
            KeyProfile::EcP256 => self.ec_ms,
            KeyProfile::Rsa { bits } if bits <= 1024 => self.rsa1024_ms,
            KeyProfile::Rsa { bits } if bits <= 2048 => self.rsa2048_ms,
            KeyProfile::Rsa { bits } if bits <= 3072 => self.rsa3072_ms,
            KeyProfile::Rsa { .. } => self.rsa4096_ms,
        }
    }
}

/// A fleet's CAPF settings, shared by its phones.
#[derive(Clone, Debug)]
pub struct PhoneCapf {
    /// The authentication string typed on the phone, if any.
    pub auth_string: Option<String>,
    /// The phone was told the unique string BAT generated for it
    /// ([`crate::capf::device::unique_auth_string`]); overrides `auth_string`.
    pub unique_auth_string: bool,
    /// VERSION in AUTH_RES: 3 for CAPFv3 endpoints.
    pub version: u8,
    pub keygen: KeygenTimes,
    /// Keys of generated key pairs come from a pool of this many per key type, shared by the
    /// fleet (0: every phone its own). Generating an RSA key takes the simulator 65–200 ms,
    /// which at 40,000 phones would dwarf everything else; the phone's key generation *time*
    /// is modelled by `keygen` either way, and every LSC is still issued and verified for
    /// real. [I], a setting.
    pub key_pool: u32,
    pub forge: KeyForge,
    /// Address families to try towards CAPF, in order (`true` = IPv6), from the IPv6 table of
    /// seed 003; `Err` says why the phone cannot reach CAPF at all.
    pub families: Result<Vec<bool>, String>,
    /// More tries after a communication failure, and the pause between them: 3 × 30 s, not
    /// configurable in CUCM [C S14].
    pub retries: u32,
    pub retry_ms: u64,
    /// How long the phone waits for each server message [I].
    pub response_ms: u64,
}

impl PhoneCapf {
    /// Cisco's retry figures and [I] defaults for the rest.
    pub fn new(forge: KeyForge) -> PhoneCapf {
        PhoneCapf {
            auth_string: None,
            unique_auth_string: false,
            version: 3,
            keygen: KeygenTimes::default(),
            key_pool: 64,
            forge,
            families: Ok(vec![false]),
            retries: 3,
            retry_ms: 30_000,
            response_ms: 30_000,
        }
    }
}

/// One connection to CAPF.
#[derive(Debug)]
pub(super) struct CapfConn {
    seq: u64,
    session: u64,
    host: String,
    family_ix: usize,
    ipv6: bool,
    /// `None` in identity mode.
    tls: Option<TlsEnd>,
    /// Identity mode: whether the server certificate was checked against the ITL.
    verified: bool,
    received: Vec<u8>,
    client: CapfClient,
    /// KEY_GEN_RES, held while the key is being generated.
    key_reply: Option<CapfMessage>,
    /// The phone gives up on the server if nothing arrives by then (`None` while generating).
    deadline_ms: Option<u64>,
    /// Whether AUTH_REQ arrived (a failure before it tries the next address family).
    talked: bool,
}

impl Phone {
    pub(super) fn secure_profile(&self) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.security_mode != SecurityMode::NonSecure)
    }

    /// The certificate, key and chain the phone presents: its LSC once it has one, else its
    /// MIC with the manufacturing chain.
    pub(super) fn identity(&self) -> (&Certificate, &Arc<PrivateKey>, &[Certificate]) {
        match &self.lsc {
            Some(lsc) => (&lsc.cert, &lsc.key, &[]),
            None => (&self.cert, &self.key, &self.chain),
        }
    }

    /// Whether this boot's config asks for a CAPF operation not yet run this boot.
    pub(super) fn capf_wanted(&self) -> bool {
        let Some(config) = &self.config else {
            return false;
        };
        self.capf_profile.is_some()
            && self.capf.is_none()
            && self.capf_done_boot != Some(self.boots)
            && config.capf_auth_mode != CapfAuthMode::None
            && !config.capf.is_empty()
    }

    fn capf_token(&self, kind: u64) -> u64 {
        (self.capf_seq << 8) | kind
    }

    pub(super) fn start_capf(&mut self, now: Now, out: &mut Vec<Effect>) {
        self.capf_failures = 0;
        let mode = self.config.as_ref().map(|c| c.capf_auth_mode);
        out.push(self.obs(now, Kind::CapfStart, format!("auth mode {mode:?}")));
        self.capf_connect(0, now, out);
    }

    /// Drops a connection in progress (reset, power failure), keeping the LSC and flash.
    pub(super) fn drop_capf(&mut self) {
        if let Some(conn) = self.capf.take() {
            self.lsc = conn.client.lsc;
            self.capf_flash = conn.client.flash;
            self.capf_pending_key = conn.client.pending_key;
        }
        self.capf_seq += 1;
    }

    /// Power failure: off until the next reset boots the phone.
    pub(super) fn power_off(&mut self, now: Now, out: &mut Vec<Effect>) {
        self.generation += 1;
        self.drop_capf();
        out.push(self.obs(now, Kind::PowerFailure, "phone off"));
        self.enter(State::Off, now, out);
    }

    fn capf_records(&self) -> Vec<Certificate> {
        self.trust
            .itl
            .iter()
            .flat_map(|itl| itl.records.iter())
            .filter(|r| r.role == Some(Role::Capf))
            .filter_map(|r| {
                r.certificate
                    .as_deref()
                    .and_then(|d| Certificate::from_der(d).ok())
            })
            .collect()
    }

    fn capf_connect(&mut self, family_ix: usize, now: Now, out: &mut Vec<Effect>) {
        let Some(profile) = self.capf_profile.clone() else {
            return;
        };
        let families = match &profile.families {
            Ok(f) => f.clone(),
            Err(why) => return self.capf_end(format!("cannot connect to CAPF: {why}"), now, out),
        };
        let Some(&ipv6) = families.get(family_ix) else {
            return self.capf_comm_failure("no address family left to try".into(), now, out);
        };
        let Some(host) = self
            .config
            .as_ref()
            .and_then(|c| c.capf.first())
            .map(|s| s.address.clone())
        else {
            return;
        };
        let (client, lsc) = self.capf_client();
        self.lsc = lsc;
        self.capf_seq += 1;
        self.next_session += 1;
        let session = (u64::from(self.id) << 24) | self.next_session;
        let mut conn = CapfConn {
            seq: self.capf_seq,
            session,
            host: host.clone(),
            family_ix,
            ipv6,
            tls: None,
            verified: false,
            received: vec![],
            client,
            key_reply: None,
            deadline_ms: Some(now.mono_ms + profile.response_ms),
            talked: false,
        };
        let msg = if self.tls {
            self.clock.set(now.wall);
            let (cert, key, chain) = self.identity_of(&conn);
            let tls =
                pinned_client_config("CAPF", self.capf_records(), (cert, key), chain, &self.clock)
                    .and_then(|config| TlsEnd::client(config, &host));
            let mut tls = match tls {
                Ok(t) => t,
                Err(e) => {
                    out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {e}")));
                    self.capf = Some(Box::new(conn));
                    return self.capf_comm_failure(e, now, out);
                }
            };
            let hello = tls.take_outgoing();
            conn.tls = Some(tls);
            Msg::CapfTls {
                phone: self.id,
                session,
                ipv6,
                bytes: hello,
            }
        } else {
            Msg::CapfPlain {
                phone: self.id,
                session,
                ipv6,
                server_cert: None,
                bytes: vec![],
            }
        };
        out.push(Effect::Send {
            to: Addr::Capf(host),
            msg,
        });
        out.push(Effect::Timer {
            after_ms: profile.response_ms,
            token: self.capf_token(T_CAPF),
        });
        self.capf = Some(Box::new(conn));
    }

    /// The identity presented on the CAPF connection: the MIC when the auth mode gives the
    /// MIC precedence, else the LSC the client holds, else the MIC [I: the reference does
    /// not say which certificate the phone presents on 3804].
    fn identity_of<'a>(
        &'a self,
        conn: &'a CapfConn,
    ) -> (&'a Certificate, &'a Arc<PrivateKey>, &'a [Certificate]) {
        match &conn.client.lsc {
            Some(lsc) if conn.client.auth_mode() != CapfAuthMode::ExistingMicFirst => {
                (&lsc.cert, &lsc.key, &[])
            }
            _ => (&self.cert, &self.key, &self.chain),
        }
    }

    /// A CAPF client for this session; the phone's LSC moves into it (returned `None`).
    fn capf_client(&mut self) -> (CapfClient, Option<Identity>) {
        let profile = self.capf_profile.clone().expect("checked by the caller");
        let key_label = if profile.key_pool > 0 {
            format!("lsc-pool/{}", self.id % profile.key_pool)
        } else {
            format!("phone/{}/lsc", self.device)
        };
        let settings = ClientSettings {
            device_name: self.device.clone(),
            version: profile.version,
            auth_string: if profile.unique_auth_string {
                Some(crate::capf::device::unique_auth_string(
                    profile.forge.seed(),
                    &self.device,
                ))
            } else {
                profile.auth_string.clone()
            },
            mic: Some(Identity {
                cert_type: None,
                cert: self.cert.clone(),
                key: self.key.clone(),
            }),
            key_label,
            forge: profile.forge.clone(),
            request_in_progress: true,
        };
        let mut client = CapfClient::new(settings, self.lsc.take(), self.capf_flash);
        client.pending_key = self.capf_pending_key.take();
        client.config_mode = self.config.as_ref().map(|c| c.capf_auth_mode);
        client.capf_cert = self.capf_records().into_iter().next();
        (client, None)
    }

    pub(super) fn on_capf_msg(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let session = match &msg {
            Msg::CapfTls { session, .. }
            | Msg::CapfPlain { session, .. }
            | Msg::CapfAbort { session, .. }
            | Msg::CapfKeepalive { session } => *session,
            _ => return,
        };
        let Some(mut conn) = self.capf.take() else {
            return;
        };
        if conn.session != session {
            self.capf = Some(conn);
            return;
        }
        self.clock.set(now.wall);
        match msg {
            Msg::CapfAbort { reason, .. } => {
                self.capf = Some(conn);
                out.push(self.obs(now, Kind::CapfConnectFailed, reason.clone()));
                return self.capf_comm_failure(reason, now, out);
            }
            Msg::CapfKeepalive { .. } => {}
            Msg::CapfTls { bytes, .. } => {
                let Some(tls) = conn.tls.as_mut() else {
                    self.capf = Some(conn);
                    return;
                };
                if let Err(e) = tls.feed(&bytes) {
                    let text = format!("SSL3 alert read:fatal:handshake failure ({e})");
                    out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {text}")));
                    self.capf = Some(conn);
                    return self.capf_comm_failure(text, now, out);
                }
                conn.received.extend(tls.take_plain());
            }
            Msg::CapfPlain {
                server_cert, bytes, ..
            } => {
                if !conn.verified {
                    let records = self.capf_records();
                    let ok = server_cert
                        .as_deref()
                        .is_some_and(|d| records.iter().any(|r| r.der() == d));
                    if !ok {
                        let text = "CAPF certificate is not a CAPF record of the phone's ITL";
                        out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {text}")));
                        self.capf = Some(conn);
                        return self.capf_comm_failure(text.into(), now, out);
                    }
                    conn.verified = true;
                }
                conn.received.extend(bytes);
            }
            _ => {}
        }
        self.capf_process(conn, now, out);
    }

    /// Runs every complete CAPF message received through the client.
    fn capf_process(&mut self, mut conn: Box<CapfConn>, now: Now, out: &mut Vec<Effect>) {
        let profile = self
            .capf_profile
            .clone()
            .expect("a connection has a profile");
        let mut outcome = None;
        let mut sent = false;
        loop {
            let (m, used) = match CapfMessage::decode_prefix(&conn.received) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    outcome = Some(ClientOutcome::Aborted {
                        text: format!("undecodable CAPF message: {e}"),
                    });
                    break;
                }
            };
            conn.received.drain(..used);
            conn.talked = true;
            let step = conn.client.handle(&m, now.wall);
            self.capf_flash = conn.client.flash;
            if let Some(note) = &step.note {
                out.push(self.obs(now, Kind::CapfNote, note.clone()));
            }
            for reply in &step.send {
                sent |= self.capf_write(&mut conn, reply, out);
            }
            if let Some(k) = step.key_gen {
                let ms = profile.keygen.of(k.profile);
                conn.key_reply = Some(k.reply);
                conn.deadline_ms = None;
                out.push(Effect::Timer {
                    after_ms: ms,
                    token: (conn.seq << 8) | T_CAPF_KEYGEN,
                });
            }
            if step.outcome.is_some() {
                outcome = step.outcome;
                break;
            }
        }
        self.capf_flush(&mut conn, out);
        if let Some(outcome) = outcome {
            self.capf = Some(conn);
            return self.capf_finish(outcome, now, out);
        }
        if (sent || conn.talked) && conn.key_reply.is_none() {
            conn.deadline_ms = Some(now.mono_ms + profile.response_ms);
            out.push(Effect::Timer {
                after_ms: profile.response_ms,
                token: (conn.seq << 8) | T_CAPF,
            });
        }
        self.capf = Some(conn);
    }

    /// Writes one CAPF message (one write, as the phone's client needs [OSS]).
    fn capf_write(&self, conn: &mut CapfConn, m: &CapfMessage, out: &mut Vec<Effect>) -> bool {
        let Ok(bytes) = m.encode() else { return false };
        match &mut conn.tls {
            Some(tls) => tls.send(&bytes).is_ok(),
            None => {
                out.push(Effect::Send {
                    to: Addr::Capf(conn.host.clone()),
                    msg: Msg::CapfPlain {
                        phone: self.id,
                        session: conn.session,
                        ipv6: conn.ipv6,
                        server_cert: None,
                        bytes,
                    },
                });
                true
            }
        }
    }

    fn capf_flush(&self, conn: &mut CapfConn, out: &mut Vec<Effect>) {
        if let Some(tls) = &mut conn.tls {
            let bytes = tls.take_outgoing();
            if !bytes.is_empty() {
                out.push(Effect::Send {
                    to: Addr::Capf(conn.host.clone()),
                    msg: Msg::CapfTls {
                        phone: self.id,
                        session: conn.session,
                        ipv6: conn.ipv6,
                        bytes,
                    },
                });
            }
        }
    }

    pub(super) fn on_capf_timer(&mut self, token: u64, now: Now, out: &mut Vec<Effect>) {
        if token >> 8 != self.capf_seq {
            return; // a connection or boot ago
        }
        match token & 0xff {
            T_CAPF => {
                let overdue = self
                    .capf
                    .as_ref()
                    .and_then(|c| c.deadline_ms)
                    .is_some_and(|d| now.mono_ms >= d);
                if overdue {
                    out.push(self.obs(now, Kind::CapfTimeout, "CAPF did not answer"));
                    self.capf_comm_failure("CAPF did not answer".into(), now, out);
                }
            }
            T_CAPF_KEYGEN => {
                let Some(mut conn) = self.capf.take() else {
                    return;
                };
                if let Some(reply) = conn.key_reply.take() {
                    self.capf_write(&mut conn, &reply, out);
                    self.capf_flush(&mut conn, out);
                    let ms = self.capf_profile.as_ref().map_or(30_000, |p| p.response_ms);
                    conn.deadline_ms = Some(now.mono_ms + ms);
                    out.push(Effect::Timer {
                        after_ms: ms,
                        token: (conn.seq << 8) | T_CAPF,
                    });
                }
                self.capf = Some(conn);
            }
            T_CAPF_RETRY if self.capf.is_none() && self.capf_done_boot != Some(self.boots) => {
                self.capf_connect(0, now, out);
            }
            _ => {}
        }
    }

    /// The connection failed: the next address family if CAPF never talked on this one, else
    /// one of the three retries 30 s apart, else give up.
    fn capf_comm_failure(&mut self, reason: String, now: Now, out: &mut Vec<Effect>) {
        let Some(conn) = self.capf.take() else {
            return;
        };
        // The phone closes the connection it gives up on (harmless if CAPF already did).
        out.push(Effect::Send {
            to: Addr::Capf(conn.host.clone()),
            msg: Msg::CapfClose {
                phone: self.id,
                session: conn.session,
            },
        });
        let (family_ix, talked) = (conn.family_ix, conn.talked);
        self.lsc = conn.client.lsc;
        self.capf_flash = conn.client.flash;
        self.capf_pending_key = conn.client.pending_key;
        self.capf_seq += 1;
        let families = self
            .capf_profile
            .as_ref()
            .and_then(|p| p.families.as_ref().ok())
            .map_or(0, |f| f.len());
        if !talked && family_ix + 1 < families {
            return self.capf_connect(family_ix + 1, now, out);
        }
        let Some(profile) = self.capf_profile.clone() else {
            return;
        };
        self.capf_failures += 1;
        if self.capf_failures <= profile.retries {
            out.push(self.obs(
                now,
                Kind::CapfRetry,
                format!(
                    "{reason}; try {} of {} in {} s",
                    self.capf_failures,
                    profile.retries,
                    profile.retry_ms / 1000
                ),
            ));
            out.push(Effect::Timer {
                after_ms: profile.retry_ms,
                token: self.capf_token(T_CAPF_RETRY),
            });
        } else {
            self.capf_end(
                format!("gave up after {} retries: {reason}", profile.retries),
                now,
                out,
            );
        }
    }

    fn capf_finish(&mut self, outcome: ClientOutcome, now: Now, out: &mut Vec<Effect>) {
        let mut family = "";
        if let Some(conn) = self.capf.take() {
            family = if conn.ipv6 { "IPv6" } else { "IPv4" };
            self.lsc = conn.client.lsc;
            self.capf_flash = conn.client.flash;
            self.capf_pending_key = conn.client.pending_key;
        }
        self.capf_seq += 1;
        self.capf_done_boot = Some(self.boots);
        let event = match &outcome {
            ClientOutcome::Installed { cert } => Event::LscInstalled {
                serial_hex: hex::encode(cert.serial()),
                issuer_cn: cert.issuer().common_name().to_string(),
                family: family.to_string(),
                validity: Validity::of(cert, now.wall),
            },
            ClientOutcome::Deleted => Event::note(Kind::LscDeleted, ""),
            ClientOutcome::Fetched => Event::note(Kind::CapfDone, "certificates fetched"),
            ClientOutcome::NothingToDo => Event::note(Kind::CapfDone, "no pending operation"),
            ClientOutcome::Refused { reason } => {
                Event::note(Kind::CapfFailed, format!("END_SESSION {reason:?}"))
            }
            ClientOutcome::Aborted { text } => Event::note(Kind::CapfFailed, text.clone()),
        };
        out.push(Effect::Observe(Observation::new(now, &self.device, event)));
        self.after_capf(now, out);
    }

    /// The operation ended without a session outcome (unreachable, retries exhausted).
    fn capf_end(&mut self, reason: String, now: Now, out: &mut Vec<Effect>) {
        self.capf_seq += 1;
        self.capf_done_boot = Some(self.boots);
        out.push(self.obs(now, Kind::CapfFailed, reason));
        self.after_capf(now, out);
    }

    /// A secure profile that waited for its LSC registers now, or fails without one.
    fn after_capf(&mut self, now: Now, out: &mut Vec<Effect>) {
        if matches!(self.state, State::Enrolling) {
            if self.lsc.is_some() {
                self.register(0, now, out);
            } else {
                self.enter(
                    State::Failed {
                        status: status::LSC_FAILED,
                    },
                    now,
                    out,
                );
            }
        }
    }
}
