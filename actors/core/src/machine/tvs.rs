//! The TVS service of one node: answers QUERY_CERT and CERT_VERIFICATION from a snapshot of
//! the node's trust stores taken when the service (re)starts (reference §2, §4.1), over a
//! real TLS session per phone request (or, in identity mode, in the clear), through a
//! multi-server FCFS queue in virtual time ([`TvsModel`]).
//!
//! ```text
//!  TvsStores ─► (on start/restart) directory snapshot (roles by store) + TLS server config
//!                                  (TVS certificate; phone certificates checked against CAPF-trust)
//!                                  + the service model (workers, queue limit, service times)
//!  TvsTls first flight ─► queue full? ─► refused (observed; the phone hears nothing)
//!                      └► session handshake ─► job ─┐
//!  TvsTls later flight ─► handshake / request complete? ─► TvsDirectory::answer ─► TvsTls back
//!  TvsPlain{request} ─► queue full? ─► refused │ TvsDirectory::answer ─► job ─┤
//!                                                                             ▼
//!        a session is one job: its reply effects are computed now (real crypto) and held;
//!        service = handshake + query; start = max(arrival, earliest free worker);
//!        done = start + service (µs) ─► Timer(⌈done⌉ ms) ─► effects released at done
//!  Service(Stop) ─► no answers, sessions and queued jobs dropped (F2)
//! ```
//! A session's whole cost (handshake and query) is charged to its first flight, so the queue
//! is an exact FCFS multi-server queue of sessions, as in `cucmsim bench tvs --mode model`;
//! its later flights are answered at once (their work is in the job, and they arrive only
//! after the job's reply). Only a refusal is observed; queueing shows in the latencies
//! (`tvs.query_ms`, `tvs.service_ms`), not as extra trace.

use super::channel::Channel;
use super::msg::{Addr, Effect, Msg, Now, ServiceAction, TvsStores};
use crate::machine::trace::{Event, Kind, Observation};
use crate::pki::StoreName;
use crate::tls::{server_config, SimClock, TlsEnd};
use crate::tvs::{RoleMap, TvsBody, TvsDirectory, TvsMessage};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::Arc;

pub use super::config::TvsModel;

/// An exact FCFS multi-server queue in µs of virtual time. Jobs arrive in time order (the
/// machine sees its inputs in order), so start times never decrease.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// When each worker is next free, µs, with its number: the earliest on top.
    free_at_us: BinaryHeap<Reverse<(u64, usize)>>,
    /// Start times of admitted jobs that have not started yet, in order.
    starts_us: VecDeque<u64>,
    /// Jobs computed but not yet complete: (completion µs, job number) → their effects.
    pending: BTreeMap<(u64, u64), Vec<Effect>>,
    jobs: u64,
}

impl Queue {
    pub(crate) fn clear(&mut self) {
        self.free_at_us.clear();
        self.starts_us.clear();
        self.pending.clear();
    }

    /// Jobs waiting for a worker at `now_us`.
    pub(crate) fn waiting(&mut self, now_us: u64) -> usize {
        while self.starts_us.front().is_some_and(|s| *s <= now_us) {
            self.starts_us.pop_front();
        }
        self.starts_us.len()
    }

    /// Whether a job arriving at `now_us` would wait (every worker busy).
    pub(crate) fn all_busy(&self, now_us: u64) -> bool {
        self.free_at_us
            .peek()
            .is_some_and(|Reverse((free, _))| *free > now_us)
    }

    /// Admits a job of `service_us` arriving at `now`: its effects now when it is already
    /// complete, else a timer for its completion (rounded up to the next ms).
    pub(crate) fn submit(
        &mut self,
        workers: u32,
        now: Now,
        service_us: u64,
        effects: Vec<Effect>,
        out: &mut Vec<Effect>,
    ) {
        let workers = workers.max(1) as usize;
        if self.free_at_us.len() != workers {
            // First job (or the model changed): every worker idle.
            self.free_at_us = (0..workers).map(|w| Reverse((0, w))).collect();
        }
        let now_us = now.mono_ms * 1000;
        let Reverse((free, w)) = self.free_at_us.pop().expect("at least one worker");
        let start = free.max(now_us);
        let done = start + service_us;
        self.free_at_us.push(Reverse((done, w)));
        if start > now_us {
            self.starts_us.push_back(start);
        }
        if done <= now_us {
            out.extend(effects);
            return;
        }
        self.jobs += 1;
        self.pending.insert((done, self.jobs), effects);
        out.push(Effect::Timer {
            after_ms: done.div_ceil(1000) - now.mono_ms,
            token: self.jobs,
        });
    }

    /// Releases the effects of every job complete by `now`, in completion order; their
    /// observations carry the release time.
    pub(crate) fn release(&mut self, now: Now, out: &mut Vec<Effect>) {
        let now_us = now.mono_ms * 1000;
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now_us {
                break;
            }
            for mut e in entry.remove() {
                if let Effect::Observe(o) = &mut e {
                    o.t_ms = now.mono_ms;
                }
                out.push(e);
            }
        }
    }
}

/// One node's TVS.
#[derive(Debug)]
pub struct Tvs {
    pub host: String,
    pub up: bool,
    pub roles: RoleMap,
    stores: Option<Arc<TvsStores>>,
    /// The stores as read at the last (re)start: what the directory was built from.
    loaded: Option<Arc<TvsStores>>,
    directory: TvsDirectory,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// TLS sessions by (phone, session), each with the request bytes received so far.
    sessions: BTreeMap<(u32, u64), Channel>,
    clock: SimClock,
    pub model: TvsModel,
    /// How requests are decoded where the reference is silent (version, repeated and
    /// unknown elements) [I].
    pub decode: crate::tvs::DecodeRules,
    queue: Queue,
    /// The planted defect of `cucmsim explore --canary` (off in every scenario run): a TVS
    /// that comes back from a stop (a `service_down` or `node_crash` ending) reloads the
    /// trust stores of its first start, a stale copy, and when that directory does not know
    /// a certificate it answers from the publisher's current stores, which it has not loaded.
    /// It so vouches for a certificate outside its loaded stores, which invariant
    /// `tvs_vouches_from_stores` must catch. Off, nothing changes.
    pub canary: bool,
    /// Canary only: the service came back from a stop and has not stopped since.
    canary_armed: bool,
    /// Canary only: the stores of the first start.
    canary_first: Option<Arc<TvsStores>>,
}

impl Tvs {
    pub fn new(host: &str) -> Tvs {
        Tvs {
            host: host.to_string(),
            up: true,
            roles: RoleMap::default(),
            stores: None,
            loaded: None,
            directory: TvsDirectory::default(),
            tls: None,
            sessions: BTreeMap::new(),
            clock: SimClock::default(),
            model: TvsModel::default(),
            queue: Queue::default(),
            canary: false,
            decode: crate::tvs::DecodeRules::default(),
            canary_armed: false,
            canary_first: None,
        }
    }

    /// Canary only (see [`Tvs::canary`]): after a service action, back from a stop, the
    /// stores of the first start are what the service loads.
    fn canary_load(&mut self, was_up: bool) {
        self.canary_armed = self.up && (self.canary_armed || !was_up);
        if self.canary_armed && !was_up {
            let current = self.stores.take();
            self.stores = self.canary_first.clone();
            self.load();
            self.stores = current;
        }
    }

    /// Canary only (see [`Tvs::canary`]): the answer from the current but unloaded stores.
    fn canary_answer(&self, req: &TvsMessage) -> Option<TvsMessage> {
        let s = self.stores.as_ref()?;
        if !self.canary_armed || self.loaded.as_ref().is_some_and(|l| Arc::ptr_eq(l, s)) {
            return None;
        }
        let pending = TvsDirectory::snapshot(
            s.stores.iter(),
            s.own.iter().map(|(c, r)| (c, *r)),
            &self.roles,
        );
        pending.answer(req)
    }

    fn who(&self) -> String {
        format!("tvs@{}", self.host)
    }

    fn obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::note(now, &self.who(), what, detail))
    }

    /// Whether the stores loaded at the last (re)start hold the certificate an answer vouches
    /// for, by a plain scan (the evidence of invariant `tvs_vouches_from_stores`).
    fn loaded_stores_hold(&self, request: &TvsBody, answer: &TvsBody) -> bool {
        let der = match (request, answer) {
            (
                _,
                TvsBody::QueryRes {
                    certificate: Some(der),
                    ..
                },
            ) => der,
            (TvsBody::VerifyReq { certificate, .. }, _) => certificate,
            _ => return false,
        };
        let Some(s) = &self.loaded else { return false };
        let mut certs = s
            .stores
            .iter()
            .flat_map(|st| st.iter())
            .chain(s.own.iter().map(|(c, _)| c));
        certs.any(|c| c.der() == der.as_slice())
    }

    /// Reads the stores, as the service does when it starts.
    fn load(&mut self) {
        let Some(s) = &self.stores else { return };
        if self.canary && self.canary_first.is_none() {
            self.canary_first = Some(s.clone());
        }
        self.loaded = Some(s.clone());
        self.directory = TvsDirectory::snapshot(
            s.stores.iter(),
            s.own.iter().map(|(c, r)| (c, *r)),
            &self.roles,
        );
        let anchors = s
            .stores
            .iter()
            .filter(|st| st.name() == StoreName::CapfTrust)
            .flat_map(|st| st.iter().cloned())
            .collect();
        self.tls = server_config((&s.tvs_cert, &s.tvs_key), anchors, &self.clock).ok();
        self.sessions.clear();
        self.queue.clear();
    }

    /// Whether TLS session (`phone`, `session`) is open: it is from its first flight until
    /// its answer is written or it failed (a wire driver closes the connection then).
    pub fn has_session(&self, phone: u32, session: u64) -> bool {
        self.sessions.contains_key(&(phone, session))
    }

    /// Forgets a session whose connection closed before its answer (wire mode's close).
    pub fn close_session(&mut self, phone: u32, session: u64) {
        self.sessions.remove(&(phone, session));
    }

    /// A job's completion timer: releases every job complete by now (a stale token finds
    /// nothing to release).
    pub fn on_timer(&mut self, _token: u64, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        self.queue.release(now, &mut out);
        out
    }

    /// Whether a new session is refused: it would wait, and `queue_limit` jobs already wait.
    /// A refusal is observed.
    fn refused(&mut self, phone: u32, now: Now, out: &mut Vec<Effect>) -> bool {
        let now_us = now.mono_ms * 1000;
        let waiting = self.queue.waiting(now_us);
        if waiting < self.model.queue_limit as usize || !self.queue.all_busy(now_us) {
            return false;
        }
        out.push(self.obs(
            now,
            Kind::TvsRefused,
            format!("phone#{phone}: queue full ({waiting} waiting)"),
        ));
        true
    }

    fn submit(&mut self, now: Now, service_us: u64, job: Vec<Effect>, out: &mut Vec<Effect>) {
        self.queue
            .submit(self.model.workers, now, service_us, job, out);
    }

    /// Handles one message (jobs complete by now are released first).
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        self.queue.release(now, &mut out);
        match msg {
            Msg::TvsStores(stores) => {
                // Older stores that crossed newer ones on the bus are dropped, but a restart
                // they ask for still happens (with the newer stores).
                let stale = self
                    .stores
                    .as_ref()
                    .is_some_and(|s| s.revision > stores.revision);
                let first = self.stores.is_none();
                let restart = stores.restart && !first && self.up;
                if !stale {
                    self.model = stores.model;
                    self.stores = Some(stores);
                }
                if first || restart {
                    self.load(); // initial start; later store changes wait for a restart
                }
                if restart {
                    let detail = format!(
                        "Restart (certificate update), {} certificates known",
                        self.directory.len()
                    );
                    out.push(self.obs(now, Kind::Service, detail));
                }
            }
            Msg::Service(action) => {
                let was_up = self.up;
                self.up = !matches!(action, ServiceAction::Stop);
                self.sessions.clear();
                self.queue.clear();
                if self.up {
                    self.load();
                }
                if self.canary {
                    self.canary_load(was_up);
                }
                out.push(self.obs(
                    now,
                    Kind::Service,
                    format!("{action:?}, {} certificates known", self.directory.len()),
                ));
            }
            Msg::TvsPlain {
                phone,
                session,
                request,
                ..
            } if self.up => {
                let Some(stores) = self.stores.clone() else {
                    return out;
                };
                if self.refused(phone, now, &mut out) {
                    return out;
                }
                let mut job = vec![];
                if let Ok(Some(reply)) = self.answer(phone, &request, now, &mut job) {
                    job.push(Effect::Send {
                        to: Addr::Phone(phone),
                        msg: Msg::TvsPlainReply {
                            session,
                            server_cert: stores.tvs_cert.der().into(),
                            reply,
                        },
                    });
                }
                let service_us = self.model.handshake_us + self.model.query_us;
                self.submit(now, service_us, job, &mut out);
            }
            Msg::TvsTls {
                phone,
                session,
                bytes,
            } if self.up => self.on_tls(phone, session, &bytes, now, &mut out),
            _ => {}
        }
        out
    }

    /// Decodes a request and answers it from the directory (`Ok(None)` until it is complete,
    /// `Err` when a whole request does not decode under [`Tvs::decode`]).
    fn answer(
        &self,
        phone: u32,
        request: &[u8],
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Result<Option<Vec<u8>>, String> {
        let req = match TvsMessage::decode_with(request, &self.decode) {
            Ok(r) => r,
            Err(e) if TvsMessage::complete_len(request).is_some() => {
                return Err(format!("TVS: refused request ({})", e.0))
            }
            Err(_) => return Ok(None),
        };
        let valid = |a: &TvsMessage| {
            matches!(
                a.body,
                TvsBody::QueryRes { valid: true, .. } | TvsBody::VerifyRes { valid: true, .. }
            )
        };
        let Some(mut answer) = self.directory.answer(&req) else {
            return Ok(None);
        };
        if self.canary && !valid(&answer) {
            if let Some(planted) = self.canary_answer(&req).filter(|a| valid(a)) {
                answer = planted;
            }
        }
        let found = valid(&answer);
        let held = found && self.loaded_stores_hold(&req.body, &answer.body);
        let lookup = Event::TvsLookup { phone, found, held };
        out.push(Effect::Observe(Observation::new(now, &self.who(), lookup)));
        if !found && matches!(req.body, TvsBody::VerifyReq { .. }) {
            // CERT_VERIFICATION of a certificate in no store (F19) [C S9].
            out.push(self.obs(
                now,
                Kind::TvsCertNotFound,
                "ERROR:CertificateCTLCache::getCertificateInformation - Cannot find the certificate in the cache",
            ));
        }
        Ok(Some(answer.encode()))
    }

    fn on_tls(&mut self, phone: u32, session: u64, bytes: &[u8], now: Now, out: &mut Vec<Effect>) {
        self.clock.set(now.wall);
        let key = (phone, session);
        let new = !self.sessions.contains_key(&key);
        if new {
            let Some(config) = self.tls.clone() else {
                return;
            };
            if self.refused(phone, now, out) {
                return;
            }
            match TlsEnd::server(config) {
                Ok(tls) => {
                    self.sessions.insert(key, Channel::tls(tls));
                }
                Err(_) => return,
            }
        }
        let Some(mut s) = self.sessions.remove(&key) else {
            return;
        };
        let mut job = vec![];
        if let Err(e) = s.feed(bytes) {
            job.push(self.obs(now, Kind::TlsFailure, format!("phone#{phone}: {e}")));
            let reason = format!("SSL3 alert read:fatal:handshake failure ({e})");
            job.push(Effect::Send {
                to: Addr::Phone(phone),
                msg: Msg::TvsAbort { session, reason },
            });
            return self.finish_flight(new, now, job, out);
        }
        let mut done = false;
        match self.answer(phone, s.received(), now, &mut job) {
            Ok(Some(reply)) => done = s.write(reply).is_ok(),
            Ok(None) => {}
            Err(reason) => {
                job.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::TvsAbort { session, reason },
                });
                return self.finish_flight(new, now, job, out);
            }
        }
        let flight = s.flush();
        if !flight.is_empty() {
            job.push(Effect::Send {
                to: Addr::Phone(phone),
                msg: Msg::TvsTls {
                    phone,
                    session,
                    bytes: flight,
                },
            });
        }
        if !done {
            self.sessions.insert(key, s);
        }
        self.finish_flight(new, now, job, out);
    }

    /// A session's first flight becomes its job; a later flight's effects go out at once.
    fn finish_flight(&mut self, first: bool, now: Now, job: Vec<Effect>, out: &mut Vec<Effect>) {
        if first {
            let service_us = self.model.handshake_us + self.model.query_us;
            self.submit(now, service_us, job, out);
        } else {
            out.extend(job);
        }
    }
}

/// TVS releases each queued job's reply on a timer of its own.
impl crate::machine::Machine for Tvs {
    fn addr(&self) -> Addr {
        Addr::Tvs(self.host.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
            Input::Start => vec![],
        }
    }
}
