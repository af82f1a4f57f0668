//! The phone's boot pipeline: DHCP (option 150) → CTL → ITL → signed config, each file
//! judged by the trust rules of [`crate::phone::trust`], asking TVS when they say so
//! (reference §2.3, §7.3), then registration ([`super::register`]) or, for a secure profile
//! without an LSC, CAPF first ([`super::capf`]).
//!
//! ```text
//!  PowerOn/Reset ─► Dhcp ─DhcpAck─► Fetch(CTLSEP<MAC>.tlv) ─► Fetch(ITLSEP<MAC>.tlv) ─► Fetch(SEP<MAC>.cnf.xml.sgn)
//!                                         │ judge ─ AskTvs ─► Tvs(wait: tvs_query) ─answer─┘        │ accepted
//!                                         └ reject: keep old trust, note the failure                ▼
//!                       Failed("Trust List update failed") ◄─ config refused           Registering (register.rs)
//! ```

use super::status::{self, State, TvsWait, T_DHCP, T_TVS};
use super::tvs_query::{Heard, Question, TvsQuery};
use super::Phone;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::{Event, Refusal, Validity};
use crate::phone::trust::{Decision, FileKind, TrustError, TrustPath};
use crate::sgn::{parse_signed_config, PhoneConfig};
use crate::tlv::{parse_shared, TrustList};
use crate::tvs::TvsBody;
use std::sync::Arc;

impl Phone {
    /// Power on or reset: a new generation (older timers go stale), DHCP first.
    pub(super) fn boot(&mut self, now: Now, out: &mut Vec<Effect>) {
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

    /// DHCP answered: the first TFTP of option 150, or no TFTP at all.
    pub(super) fn on_dhcp_ack(&mut self, option150: Vec<String>, now: Now, out: &mut Vec<Effect>) {
        if !matches!(self.state, State::Dhcp) {
            return;
        }
        match option150.first() {
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
        }
    }

    /// The TFTP answered the file being fetched (a late or other file is ignored).
    pub(super) fn on_tftp_reply(
        &mut self,
        file: String,
        bytes: Option<Arc<[u8]>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let State::Fetch { kind, .. } = &self.state else {
            return;
        };
        let kind = *kind;
        if file == self.file_name(kind) {
            self.on_file(kind, bytes, now, out)
        }
    }

    pub(super) fn file_name(&self, kind: FileKind) -> String {
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
            token: self.token(super::status::T_TFTP),
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
            // A plain XML config (an unsigned TFTP) has no header: no signer, no signature.
            FileKind::Config if raw.first() == Some(&b'<') => Ok((Default::default(), None)),
            FileKind::Config => parse_signed_config(&raw).map(|c| (c.header, None)),
            _ => parse_shared(&raw).map(|l| (l.header.clone(), Some(l))),
        };
        let (header, list) = match parsed {
            Ok(p) => p,
            Err(e) => {
                let why = format!("unparsable {}: {e}", self.file_name(kind));
                return self.refuse(kind, now, why.into(), None, out);
            }
        };
        match self
            .trust
            .judge(kind, &raw, &header, now.wall, self.backend)
        {
            Decision::Accept(path) => self.accept(kind, path, &raw, list, now, out),
            Decision::Reject(e) => {
                self.refuse(kind, now, Refusal::Trust(e), signer_of(&header), out)
            }
            Decision::AskTvs { .. } => {
                let question = Question::Signer {
                    file: kind,
                    subject: header.signer_name.clone().unwrap_or_default(),
                    issuer: header.signer_issuer.clone().unwrap_or_default(),
                    serial: header.signer_serial.clone().unwrap_or_default(),
                };
                let wait = TvsWait {
                    query: TvsQuery::new(question, T_TVS),
                    kind,
                    raw,
                    header,
                    list,
                };
                self.state = State::Off; // the wait moves in once a TVS is asked
                self.ask_signer(Box::new(wait), 0, now, out);
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
                let installed = Event::TrustListInstalled {
                    file: kind,
                    path: path.clone(),
                };
                out.push(self.event(now, installed));
                self.trust.install(kind, list);
            }
            (_, None) => {}
        }
        self.next_after(kind, now, out);
    }

    fn refuse(
        &mut self,
        kind: FileKind,
        now: Now,
        reason: Refusal,
        signer: Option<String>,
        out: &mut Vec<Effect>,
    ) {
        if kind == FileKind::Config {
            return self.refuse_config(now, reason, out);
        }
        self.trust_failed = true;
        let rejected = Event::TrustListRejected {
            file: kind,
            reason,
            signer,
        };
        out.push(self.event(now, rejected));
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

    /// Asks TVS `ix` of the current config about the file's signer, or refuses the file
    /// when none is left ("check whether the TVS server is active").
    fn ask_signer(&mut self, mut wait: Box<TvsWait>, ix: usize, now: Now, out: &mut Vec<Effect>) {
        if !self.tvs_ask(&mut wait.query, ix, now, out) {
            let reason = TrustError::UnknownSigner {
                subject: wait.header.signer_name.clone().unwrap_or_default(),
                serial: hex::encode(wait.header.signer_serial.clone().unwrap_or_default()),
            };
            let why = Refusal::NoTvsLeft(Box::new(Refusal::Trust(reason)));
            let signer = signer_of(&wait.header);
            return self.refuse(wait.kind, now, why, signer, out);
        }
        self.state = State::Tvs(wait);
        out.push(self.event(
            now,
            Event::State {
                status: self.status(),
            },
        ));
    }

    /// The signer's wait, taken out of the state (which is `Off` meanwhile).
    fn take_wait(&mut self) -> Option<Box<TvsWait>> {
        match std::mem::replace(&mut self.state, State::Off) {
            State::Tvs(wait) => Some(wait),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// A message of the signer's TVS session.
    pub(super) fn on_signer_tvs(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let Some(mut wait) = self.take_wait() else {
            return;
        };
        match self.tvs_heard(&mut wait.query, msg, now, out) {
            Heard::Waiting => self.state = State::Tvs(wait),
            Heard::Failed => {
                let next = wait.query.tvs_ix + 1;
                self.ask_signer(wait, next, now, out)
            }
            Heard::Answer { body, tvs_cert } => self.settle_signer(wait, body, tvs_cert, now, out),
        }
    }

    /// The TVS being asked about the signer did not answer in time: the next one.
    pub(super) fn on_signer_timeout(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(wait) = self.take_wait() else {
            return;
        };
        self.tvs_timed_out(&wait.query, now, out);
        let next = wait.query.tvs_ix + 1;
        self.ask_signer(wait, next, now, out);
    }

    fn settle_signer(
        &mut self,
        wait: Box<TvsWait>,
        answer: Option<TvsBody>,
        tvs_cert: Option<Validity>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let Some(TvsBody::QueryRes {
            valid,
            certificate,
            roles,
            ttl_s,
        }) = answer
        else {
            let signer = signer_of(&wait.header);
            return self.refuse(wait.kind, now, "TVS answer unreadable".into(), signer, out);
        };
        let answered = Event::TvsAnswer {
            file: wait.kind,
            valid,
            tvs_cert,
        };
        out.push(self.event(now, answered));
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
            Decision::Reject(e) => {
                let signer = signer_of(&wait.header);
                self.refuse(wait.kind, now, Refusal::Trust(e), signer, out)
            }
            Decision::AskTvs { .. } => {
                let signer = signer_of(&wait.header);
                self.refuse(wait.kind, now, "TVS loop".into(), signer, out)
            }
        }
    }
}

fn header_len(raw: &[u8]) -> usize {
    if raw.first() == Some(&b'<') {
        return 0; // an unsigned config: all XML
    }
    crate::tlv::parse_header(raw)
        .map(|h| h.header_length as usize)
        .unwrap_or(raw.len())
}

/// A file's signer as its header names it: `CN=… serial …` (`None` without a name).
fn signer_of(header: &crate::tlv::parse::Header) -> Option<String> {
    let name = header.signer_name.as_deref()?;
    Some(match &header.signer_serial {
        Some(serial) => format!("{name} serial {}", hex::encode(serial)),
        None => name.to_string(),
    })
}
