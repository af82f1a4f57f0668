//! The phone's secure config download (catalogue F29; reference §5 "Secure config download
//! (HAProxy) TCP 6971, 6972" [C S19]): a registered phone fetches its configuration file over
//! HTTPS from its TFTP node, whose TFTP service presents the Tomcat certificate it loaded when
//! it started. The phone judges that certificate like any HTTPS server's — CTL/ITL, else its
//! TVS cache, else TVS ([`super::https`], the same path, not a copy) — before it sends the request.
//!
//! ```text
//!  TftpHttpsOpen{tftp} ─► not registered ─► config_https_skipped
//!      TftpHttps ClientHello … ◄─ Tomcat certificate (real TLS) ─► established
//!      judge the certificate (https.rs: ITL │ TVS cache │ CERT_VERIFICATION_REQ to TVS)
//!        trusted ─► "GET /SEP<MAC>.cnf.xml.sgn" ─► file ─► config_https_ok
//!        not     ─► config_https_failed (names the presented serial)
//!                   └ plain_fallback ─► TftpGet (6970/TFTP, no certificate) ─► config_plain_ok
//! ```
//! [I] Whether a phone falls back to the plain download when the secure one fails is not in
//! the reference: the default is no fallback (the download fails), `plain_fallback = true` on
//! the step makes it fall back. [I] The download runs beside the registration as a probe and
//! does not apply the downloaded config. One download at a time: a new one replaces one in
//! progress; a reset or power failure drops it.

use super::https::Purpose;
use super::status::T_TFTP_HTTPS;
use super::Phone;
use crate::machine::channel::Channel;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::tftp::{HTTPS_PORT, HTTP_PORT};
use crate::machine::trace::Kind;
use crate::phone::trust::FileKind;
use crate::pki::Certificate;
use crate::tls::{https_client_config, TlsEnd};
use std::sync::Arc;

/// One secure config download in progress.
#[derive(Debug)]
pub(super) struct SecureDownload {
    tftp: String,
    session: u64,
    /// TLS to the TFTP's HTTPS port, or identity mode.
    channel: Channel,
    plain_fallback: bool,
    /// Serial of the certificate the TFTP presented, once seen.
    serial: Option<String>,
    /// The certificate is being judged (TVS may take a while: no TFTP deadline meanwhile).
    judging: bool,
    verified: bool,
    /// The plain fallback download is under way.
    plain: bool,
    deadline_ms: u64,
}

impl Phone {
    fn server_name(tftp: &str) -> String {
        format!("tftp@{tftp}:{HTTPS_PORT}")
    }

    /// Whether the plain fallback download waits for `file` (then it is not the boot
    /// pipeline's).
    pub(super) fn secure_plain_wants(&self, file: &str) -> bool {
        self.secure
            .as_ref()
            .is_some_and(|d| d.plain && file == self.file_name(FileKind::Config))
    }

    /// Starts a secure download of the phone's config from `tftp`.
    pub(super) fn tftp_https_open(
        &mut self,
        tftp: String,
        plain_fallback: bool,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.secure = None;
        let file = self.file_name(FileKind::Config);
        if self.registered_cluster().is_none() {
            let why = format!("{file} from {}: not registered", Self::server_name(&tftp));
            return out.push(self.obs(now, Kind::ConfigHttpsSkipped, why));
        }
        self.next_session += 1;
        let session = (u64::from(self.id) << 24) | self.next_session;
        let mut d = SecureDownload {
            tftp: tftp.clone(),
            session,
            channel: Channel::identity(),
            plain_fallback,
            serial: None,
            judging: false,
            verified: false,
            plain: false,
            deadline_ms: 0,
        };
        if self.tls {
            self.clock.set(now.wall);
            match https_client_config(&self.clock).and_then(|c| TlsEnd::client(c, &tftp)) {
                Ok(end) => d.channel = Channel::tls(end),
                Err(e) => return out.push(self.obs(now, Kind::TlsFailure, e)),
            }
        }
        let hello = d.channel.flush();
        self.secure = Some(Box::new(d));
        self.secure_send(hello, now, out);
    }

    /// Sends `bytes` on the download's session and arms its deadline.
    fn secure_send(&mut self, bytes: Vec<u8>, now: Now, out: &mut Vec<Effect>) {
        let Some(d) = self.secure.as_mut() else {
            return;
        };
        d.deadline_ms = now.mono_ms + self.timers.tftp_ms;
        out.push(Effect::Send {
            to: Addr::Tftp(d.tftp.clone()),
            msg: Msg::TftpHttps {
                phone: self.id,
                session: d.session,
                bytes,
            },
        });
        out.push(Effect::Timer {
            after_ms: self.timers.tftp_ms,
            token: self.token(T_TFTP_HTTPS),
        });
    }

    /// The TFTP did not answer in time (not while TVS judges the certificate).
    pub(super) fn on_secure_timer(&mut self, now: Now, out: &mut Vec<Effect>) {
        let late = self
            .secure
            .as_ref()
            .is_some_and(|d| !d.judging && now.mono_ms >= d.deadline_ms);
        if !late {
            return;
        }
        if self.secure.as_ref().is_some_and(|d| d.plain) {
            self.secure = None;
            let why = format!("{}: no answer", self.file_name(FileKind::Config));
            return out.push(self.obs(now, Kind::ConfigPlainFailed, why));
        }
        self.secure_fail("no answer".into(), now, out);
    }

    /// The plain fallback download's answer (see [`Phone::secure_plain_wants`]).
    pub(super) fn on_secure_plain(
        &mut self,
        file: String,
        bytes: Option<Arc<[u8]>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let tftp = self.secure.take().map(|d| d.tftp).unwrap_or_default();
        let (what, detail) = match bytes {
            Some(b) => (
                Kind::ConfigPlainOk,
                format!(
                    "{file}: {} bytes over plain HTTP {HTTP_PORT}/TFTP from tftp@{tftp} (no server certificate)",
                    b.len(),
                ),
            ),
            None => (Kind::ConfigPlainFailed, format!("{file}: not found")),
        };
        out.push(self.obs(now, what, detail));
    }

    /// A flight (or, in identity mode, the certificate or the answer) of the download's
    /// session; one of another session is ignored.
    pub(super) fn on_secure_reply(
        &mut self,
        session: u64,
        bytes: Vec<u8>,
        server_cert: Option<Arc<[u8]>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        if self.secure.as_ref().is_none_or(|d| d.session != session) {
            return;
        }
        let Some(mut d) = self.secure.take() else {
            return;
        };
        self.clock.set(now.wall);
        let mut presented = server_cert.map(|c| c.to_vec());
        if d.channel.is_tls() {
            if let Err(e) = d.channel.feed(&bytes) {
                self.secure = Some(d);
                return self.secure_fail(format!("TLS: {e}"), now, out);
            }
            if d.channel.is_established() && d.serial.is_none() {
                presented = d.channel.peer_certificate();
            }
            let flight = d.channel.flush();
            if !flight.is_empty() {
                let session = d.session;
                out.push(Effect::Send {
                    to: Addr::Tftp(d.tftp.clone()),
                    msg: Msg::TftpHttps {
                        phone: self.id,
                        session,
                        bytes: flight,
                    },
                });
            }
        } else if d.verified {
            let _ = d.channel.feed(&bytes);
        }
        if let Some(der) = presented.filter(|_| d.serial.is_none()) {
            let cert = match Certificate::from_der(&der) {
                Ok(c) => c,
                Err(e) => {
                    self.secure = Some(d);
                    return self.secure_fail(format!("unreadable certificate: {e}"), now, out);
                }
            };
            d.serial = Some(cert.serial_hex());
            d.judging = true;
            let server = Self::server_name(&d.tftp);
            self.secure = Some(d);
            // The same judgement as an HTTPS service; it calls back `secure_verdict`.
            return self.https_verify(server, cert, Purpose::ConfigDownload, now, out);
        }
        self.secure = Some(d);
        self.secure_answer(now, out);
    }

    /// The HTTPS judgement of the served certificate.
    pub(super) fn secure_verdict(
        &mut self,
        trusted: Result<(), String>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let request = format!("GET /{}", self.file_name(FileKind::Config));
        let Some(d) = self.secure.as_mut() else {
            return;
        };
        d.judging = false;
        if let Err(why) = trusted {
            return self.secure_fail(why, now, out);
        }
        d.verified = true;
        let bytes = match d.channel.write(request.into_bytes()) {
            Ok(Some(clear)) => clear,
            Ok(None) | Err(_) => d.channel.flush(),
        };
        self.secure_send(bytes, now, out);
    }

    /// The answer, once complete: a 4-byte length, then the file (length 0: not found).
    fn secure_answer(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(d) = self.secure.as_ref() else {
            return;
        };
        let Some(head) = d.channel.received().get(..4) else {
            return;
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if d.channel.received().len() < 4 + len {
            return;
        }
        let file = self.file_name(FileKind::Config);
        let server = Self::server_name(&d.tftp);
        let serial = d.serial.clone().unwrap_or_default();
        self.secure = None;
        if len == 0 {
            let why = format!("{file} from {server}: not found");
            return out.push(self.obs(now, Kind::ConfigHttpsFailed, why));
        }
        out.push(self.obs(
            now,
            Kind::ConfigHttpsOk,
            format!("{file}: {len} bytes over HTTPS from {server} (Tomcat serial {serial})"),
        ));
    }

    /// The secure download failed: fall back to the plain one if allowed.
    fn secure_fail(&mut self, why: String, now: Now, out: &mut Vec<Effect>) {
        let Some(mut d) = self.secure.take() else {
            return;
        };
        let file = self.file_name(FileKind::Config);
        let server = Self::server_name(&d.tftp);
        let serial = d
            .serial
            .as_deref()
            .map_or(String::new(), |s| format!(" presenting Tomcat serial {s}"));
        out.push(self.obs(
            now,
            Kind::ConfigHttpsFailed,
            format!("{file} from {server}{serial}: {why}"),
        ));
        if !d.plain_fallback {
            return;
        }
        out.push(self.obs(
            now,
            Kind::ConfigHttpsFallback,
            format!(
                "{file}: plain download from tftp@{} ({HTTP_PORT}/TFTP)",
                d.tftp
            ),
        ));
        d.plain = true;
        d.channel = Channel::identity(); // the TLS session is closed
        d.deadline_ms = now.mono_ms + self.timers.tftp_ms;
        out.push(Effect::Send {
            to: Addr::Tftp(d.tftp.clone()),
            msg: Msg::TftpGet {
                phone: self.id,
                file,
            },
        });
        out.push(Effect::Timer {
            after_ms: self.timers.tftp_ms,
            token: self.token(T_TFTP_HTTPS),
        });
        self.secure = Some(d);
    }
}
