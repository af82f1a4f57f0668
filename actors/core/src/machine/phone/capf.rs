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

use super::status::{self, State, T_CAPF, T_CAPF_KEYGEN, T_CAPF_RETRY};
use super::Phone;
use crate::capf::{CapfClient, CapfMessage, ClientOutcome, ClientSettings};
use crate::machine::channel::Channel;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::{Event, Kind, Validity};
use crate::pki::keys::PrivateKey;
use crate::pki::{Certificate, Identity};
use crate::sgn::CapfAuthMode;
use crate::tls::{pinned_client_config, TlsEnd};
use crate::tlv::Role;
use std::sync::Arc;

/// The phone's CAPF side: the connection in progress and what outlives connections.
#[derive(Debug, Default)]
pub(super) struct CapfState {
    conn: Option<Box<CapfConn>>,
    /// A key generated for a request an offline CA has not signed yet (kept in flash).
    pending_key: Option<Arc<PrivateKey>>,
    /// Communication failures of the current CAPF operation (3 more tries at 30 s [C S14]).
    failures: u32,
    /// Numbers CAPF connections; CAPF timers carry it (a new connection or boot stales them).
    seq: u64,
    /// The boot in which a CAPF operation ended (one operation a boot).
    done_boot: Option<u64>,
}

/// What the phone waits for on a CAPF connection.
#[derive(Debug)]
enum Wait {
    /// A server message, until `deadline_ms` (then the phone gives up on the server).
    Server { deadline_ms: u64 },
    /// Its own key generation; KEY_GEN_RES goes out when it ends.
    KeyGen { reply: CapfMessage },
}

/// One connection to CAPF.
#[derive(Debug)]
struct CapfConn {
    seq: u64,
    session: u64,
    host: String,
    family_ix: usize,
    ipv6: bool,
    /// TLS pinned to the ITL's CAPF records, or identity mode.
    channel: Channel,
    client: CapfClient,
    wait: Wait,
    /// Whether AUTH_REQ arrived (a failure before it tries the next address family).
    talked: bool,
}

impl Phone {
    /// Whether this boot's config asks for a CAPF operation not yet run this boot.
    pub(super) fn capf_wanted(&self) -> bool {
        let Some(config) = &self.config else {
            return false;
        };
        self.capf_profile.is_some()
            && self.capf.conn.is_none()
            && self.capf.done_boot != Some(self.boots)
            && config.capf_auth_mode != CapfAuthMode::None
            && !config.capf.is_empty()
    }

    fn capf_token(&self, kind: u64) -> u64 {
        (self.capf.seq << 8) | kind
    }

    pub(super) fn start_capf(&mut self, now: Now, out: &mut Vec<Effect>) {
        self.capf.failures = 0;
        let mode = self.config.as_ref().map(|c| c.capf_auth_mode);
        out.push(self.obs(now, Kind::CapfStart, format!("auth mode {mode:?}")));
        self.capf_connect(0, now, out);
    }

    /// Drops a connection in progress (reset, power failure), keeping the LSC and flash.
    pub(super) fn drop_capf(&mut self) {
        if let Some(conn) = self.capf.conn.take() {
            self.lsc = conn.client.lsc;
            self.capf_flash = conn.client.flash;
            self.capf.pending_key = conn.client.pending_key;
        }
        self.capf.seq += 1;
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
        self.capf.seq += 1;
        self.next_session += 1;
        let session = (u64::from(self.id) << 24) | self.next_session;
        let mut conn = CapfConn {
            seq: self.capf.seq,
            session,
            host: host.clone(),
            family_ix,
            ipv6,
            channel: Channel::identity(),
            client,
            wait: Wait::Server {
                deadline_ms: now.mono_ms + profile.response_ms,
            },
            talked: false,
        };
        let msg = if self.tls {
            self.clock.set(now.wall);
            let (cert, key, chain) = self.identity_of(&conn);
            let tls =
                pinned_client_config("CAPF", self.capf_records(), (cert, key), chain, &self.clock)
                    .and_then(|config| TlsEnd::client(config, &host));
            let tls = match tls {
                Ok(t) => t,
                Err(e) => {
                    out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {e}")));
                    self.capf.conn = Some(Box::new(conn));
                    return self.capf_comm_failure(e, now, out);
                }
            };
            conn.channel = Channel::tls(tls);
            let hello = conn.channel.flush();
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
        self.capf.conn = Some(Box::new(conn));
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
        client.pending_key = self.capf.pending_key.take();
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
        let Some(mut conn) = self.capf.conn.take() else {
            return;
        };
        if conn.session != session {
            self.capf.conn = Some(conn);
            return;
        }
        self.clock.set(now.wall);
        match msg {
            Msg::CapfAbort { reason, .. } => {
                self.capf.conn = Some(conn);
                out.push(self.obs(now, Kind::CapfConnectFailed, reason.clone()));
                return self.capf_comm_failure(reason, now, out);
            }
            Msg::CapfKeepalive { .. } => {}
            Msg::CapfTls { bytes, .. } => {
                if !conn.channel.is_tls() {
                    self.capf.conn = Some(conn);
                    return;
                }
                if let Err(e) = conn.channel.feed(&bytes) {
                    let text = format!("SSL3 alert read:fatal:handshake failure ({e})");
                    out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {text}")));
                    self.capf.conn = Some(conn);
                    return self.capf_comm_failure(text, now, out);
                }
            }
            Msg::CapfPlain {
                server_cert, bytes, ..
            } => {
                let ok = conn.channel.check_peer(|| {
                    let records = self.capf_records();
                    server_cert
                        .as_deref()
                        .is_some_and(|d| records.iter().any(|r| r.der() == d))
                });
                if !ok {
                    let text = "CAPF certificate is not a CAPF record of the phone's ITL";
                    out.push(self.obs(now, Kind::TlsFailure, format!("CAPF: {text}")));
                    self.capf.conn = Some(conn);
                    return self.capf_comm_failure(text.into(), now, out);
                }
                let _ = conn.channel.feed(&bytes);
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
            let (m, used) = match CapfMessage::decode_prefix(conn.channel.received()) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    outcome = Some(ClientOutcome::Aborted {
                        text: format!("undecodable CAPF message: {e}"),
                    });
                    break;
                }
            };
            conn.channel.consume(used);
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
                conn.wait = Wait::KeyGen { reply: k.reply };
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
            self.capf.conn = Some(conn);
            return self.capf_finish(outcome, now, out);
        }
        if (sent || conn.talked) && matches!(conn.wait, Wait::Server { .. }) {
            conn.wait = Wait::Server {
                deadline_ms: now.mono_ms + profile.response_ms,
            };
            out.push(Effect::Timer {
                after_ms: profile.response_ms,
                token: (conn.seq << 8) | T_CAPF,
            });
        }
        self.capf.conn = Some(conn);
    }

    /// Writes one CAPF message (one write, as the phone's client needs [OSS]).
    fn capf_write(&self, conn: &mut CapfConn, m: &CapfMessage, out: &mut Vec<Effect>) -> bool {
        let Ok(bytes) = m.encode() else { return false };
        match conn.channel.write(bytes) {
            Ok(None) => true,
            Err(_) => false,
            Ok(Some(bytes)) => {
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
        let bytes = conn.channel.flush();
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

    pub(super) fn on_capf_timer(&mut self, token: u64, now: Now, out: &mut Vec<Effect>) {
        if token >> 8 != self.capf.seq {
            return; // a connection or boot ago
        }
        match token & 0xff {
            T_CAPF => {
                let overdue = self
                    .capf
                    .conn
                    .as_ref()
                    .is_some_and(|c| matches!(c.wait, Wait::Server { deadline_ms } if now.mono_ms >= deadline_ms));
                if overdue {
                    out.push(self.obs(now, Kind::CapfTimeout, "CAPF did not answer"));
                    self.capf_comm_failure("CAPF did not answer".into(), now, out);
                }
            }
            T_CAPF_KEYGEN => {
                let Some(mut conn) = self.capf.conn.take() else {
                    return;
                };
                if let Wait::KeyGen { reply } = &conn.wait {
                    let reply = reply.clone();
                    let ms = self.capf_profile.as_ref().map_or(30_000, |p| p.response_ms);
                    conn.wait = Wait::Server {
                        deadline_ms: now.mono_ms + ms,
                    };
                    self.capf_write(&mut conn, &reply, out);
                    self.capf_flush(&mut conn, out);
                    out.push(Effect::Timer {
                        after_ms: ms,
                        token: (conn.seq << 8) | T_CAPF,
                    });
                }
                self.capf.conn = Some(conn);
            }
            T_CAPF_RETRY if self.capf.conn.is_none() && self.capf.done_boot != Some(self.boots) => {
                self.capf_connect(0, now, out);
            }
            _ => {}
        }
    }

    /// The connection failed: the next address family if CAPF never talked on this one, else
    /// one of the three retries 30 s apart, else give up.
    fn capf_comm_failure(&mut self, reason: String, now: Now, out: &mut Vec<Effect>) {
        let Some(conn) = self.capf.conn.take() else {
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
        self.capf.pending_key = conn.client.pending_key;
        self.capf.seq += 1;
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
        self.capf.failures += 1;
        if self.capf.failures <= profile.retries {
            out.push(self.obs(
                now,
                Kind::CapfRetry,
                format!(
                    "{reason}; try {} of {} in {} s",
                    self.capf.failures,
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
        if let Some(conn) = self.capf.conn.take() {
            family = if conn.ipv6 { "IPv6" } else { "IPv4" };
            self.lsc = conn.client.lsc;
            self.capf_flash = conn.client.flash;
            self.capf.pending_key = conn.client.pending_key;
        }
        self.capf.seq += 1;
        self.capf.done_boot = Some(self.boots);
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
        out.push(self.event(now, event));
        self.after_capf(now, out);
    }

    /// The operation ended without a session outcome (unreachable, retries exhausted).
    fn capf_end(&mut self, reason: String, now: Now, out: &mut Vec<Effect>) {
        self.capf.seq += 1;
        self.capf.done_boot = Some(self.boots);
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
