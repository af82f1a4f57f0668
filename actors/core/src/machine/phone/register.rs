//! The phone's registration with its CallManager group and the keepalives that keep it.
//!
//! ```text
//!  register(ix) ─► Registering ─Register─► ccm@<host> ─RegisterAck─► Registered ─► CAPF (non-secure profile)
//!       │  RegisterReject │ no answer in register_ms │ CallManager certificate not in the CTL
//!       └► register(ix + 1) … none left ─► register_retry_ms? wait, start again : Failed("Registration failed")
//!  Registered ─ every keepalive interval ─► Keepalive ─► KeepaliveAck
//!       N keepalives in a row not acked ─► unregistered ─► register(0)
//! ```
//! Keepalives cost one timer per interval in the normal case, and no observation: a
//! keepalive that gets no ack within the timeout is noticed at the next keepalive tick. Once
//! one was missed, each keepalive also arms a deadline timer, so the phone unregisters exactly
//! at the timeout of the N-th keepalive in a row that went unanswered. Keepalive ticks fall on
//! whole seconds of virtual time (see [`first_keepalive_ms`]). Losing a registration starts a
//! new generation, so its keepalive timers go stale with it.

use super::status::{
    self, Registration, State, T_KEEPALIVE, T_KEEPALIVE_DEADLINE, T_REGISTER, T_REGISTER_RETRY,
};
use super::Phone;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::{Event, Kind};
use std::sync::Arc;

impl Phone {
    /// Registers with CallManager `ix` of the config; after the last one, starts the group
    /// again after `register_retry_ms`, or fails.
    pub(super) fn register(&mut self, ix: usize, now: Now, out: &mut Vec<Effect>) {
        let cm = self
            .config
            .as_ref()
            .and_then(|c| c.callmanagers.get(ix))
            .cloned();
        let Some(host) = cm else {
            return self.group_exhausted(ix, now, out);
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

    /// Every CallManager of the group was tried (`ix` of them).
    fn group_exhausted(&mut self, ix: usize, now: Now, out: &mut Vec<Effect>) {
        if self.timers.register_retry_ms > 0 && ix > 0 {
            // Start over after the retry interval, still "Registering". A new generation
            // stales this round's timers.
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
        self.enter(
            State::Failed {
                status: status::REGISTRATION_FAILED,
            },
            now,
            out,
        );
    }

    /// The registration timer: the CallManager did not answer, the next one.
    pub(super) fn on_register_timeout(&mut self, now: Now, out: &mut Vec<Effect>) {
        if let State::Registering { cm_ix } = self.state {
            self.register(cm_ix + 1, now, out);
        }
    }

    pub(super) fn on_register_reject(&mut self, reason: String, now: Now, out: &mut Vec<Effect>) {
        let State::Registering { cm_ix } = self.state else {
            return;
        };
        out.push(self.obs(now, Kind::RegistrationRejected, reason));
        self.register(cm_ix + 1, now, out);
    }

    /// The CallManager accepted; a secure registration first checks its certificate
    /// against the CTL (else the phone closes the TLS connection and tries the next).
    pub(super) fn on_register_ack(
        &mut self,
        cluster: String,
        server_cert: Option<Arc<[u8]>>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let State::Registering { cm_ix } = self.state else {
            return;
        };
        let host = self
            .config
            .as_ref()
            .and_then(|c| c.callmanagers.get(cm_ix))
            .cloned()
            .unwrap_or_default();
        if let Some(Err(why)) = server_cert.map(|der| self.trust.check_callmanager(&der)) {
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
            return self.register(cm_ix + 1, now, out);
        }
        let registered = Event::Registered {
            cluster: cluster.clone(),
        };
        out.push(self.event(now, registered));
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

    /// An ack of the outstanding keepalive in time clears the misses; a late one counts as
    /// missed.
    pub(super) fn on_keepalive_ack(&mut self, seq: u32, now: Now) {
        let timeout = self.timers.keepalive_timeout_ms;
        if let State::Registered(r) = &mut self.state {
            if r.seq == seq
                && r.outstanding_ms
                    .is_some_and(|sent| now.mono_ms <= sent + timeout)
            {
                r.outstanding_ms = None;
                r.misses = 0;
            }
        }
    }

    /// The keepalive tick: judge the previous keepalive if it is still unanswered, then send
    /// the next one (and, once one was missed, arm its deadline).
    pub(super) fn keepalive_tick(&mut self, now: Now, out: &mut Vec<Effect>) {
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

    /// The deadline of a keepalive sent after a miss.
    pub(super) fn keepalive_deadline(&mut self, now: Now, out: &mut Vec<Effect>) {
        let State::Registered(r) = &self.state else {
            return;
        };
        let overdue = r
            .outstanding_ms
            .is_some_and(|sent| now.mono_ms >= sent + self.timers.keepalive_timeout_ms);
        if overdue {
            self.keepalive_missed(now, out);
        }
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
