//! The TVS service of one node: answers QUERY_CERT and CERT_VERIFICATION from a snapshot of
//! the node's trust stores taken when the service (re)starts (reference §2, §4.1), over a
//! real TLS session per phone request (or, in identity mode, in the clear).
//!
//! ```text
//!  TvsStores ─► (on start/restart) directory snapshot (roles by store) + TLS server config
//!                                  (TVS certificate; phone certificates checked against CAPF-trust)
//!  TvsTls flight ─► session handshake ─► request complete? ─► TvsDirectory::answer ─► TvsTls back
//!  TvsPlain{request} ─► TvsDirectory::answer ─► TvsPlainReply{TVS certificate, answer}
//!  Service(Stop) ─► no answers, sessions dropped (F2)
//! ```

use super::msg::{Addr, Effect, Msg, Now, Observation, ServiceAction, TvsStores};
use crate::pki::StoreName;
use crate::tls::{server_config, SimClock, TlsEnd};
use crate::tvs::{RoleMap, TvsBody, TvsDirectory, TvsMessage};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One phone's session: the TLS end and the request bytes received so far.
#[derive(Debug)]
struct Session {
    tls: TlsEnd,
    received: Vec<u8>,
}

/// One node's TVS.
#[derive(Debug)]
pub struct Tvs {
    pub host: String,
    pub up: bool,
    pub roles: RoleMap,
    stores: Option<Arc<TvsStores>>,
    directory: TvsDirectory,
    tls: Option<Arc<rustls::ServerConfig>>,
    sessions: BTreeMap<(u32, u64), Session>,
    clock: SimClock,
}

impl Tvs {
    pub fn new(host: &str) -> Tvs {
        Tvs {
            host: host.to_string(),
            up: true,
            roles: RoleMap::default(),
            stores: None,
            directory: TvsDirectory::default(),
            tls: None,
            sessions: BTreeMap::new(),
            clock: SimClock::default(),
        }
    }

    fn who(&self) -> String {
        format!("tvs@{}", self.host)
    }

    fn obs(&self, now: Now, what: &str, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::new(now, &self.who(), what, detail))
    }

    /// Reads the stores, as the service does when it starts.
    fn load(&mut self) {
        let Some(s) = &self.stores else { return };
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
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match msg {
            Msg::TvsStores(stores) => {
                let first = self.stores.is_none();
                self.stores = Some(stores);
                if first {
                    self.load(); // initial start; later store changes wait for a restart
                }
            }
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                self.sessions.clear();
                if self.up {
                    self.load();
                }
                out.push(self.obs(
                    now,
                    "service",
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
                if let Some(reply) = self.answer(phone, &request, now, &mut out) {
                    out.push(Effect::Send {
                        to: Addr::Phone(phone),
                        msg: Msg::TvsPlainReply {
                            session,
                            server_cert: stores.tvs_cert.der().into(),
                            reply,
                        },
                    });
                }
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

    /// Decodes a request and answers it from the directory (`None` until it is complete).
    fn answer(
        &self,
        phone: u32,
        request: &[u8],
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Option<Vec<u8>> {
        let req = TvsMessage::decode(request).ok()?;
        let answer = self.directory.answer(&req)?;
        let found = matches!(
            answer.body,
            TvsBody::QueryRes { valid: true, .. } | TvsBody::VerifyRes { valid: true, .. }
        );
        out.push(self.obs(now, "tvs_answer", format!("phone#{phone} found={found}")));
        Some(answer.encode())
    }

    fn on_tls(&mut self, phone: u32, session: u64, bytes: &[u8], now: Now, out: &mut Vec<Effect>) {
        self.clock.set(now.wall);
        let key = (phone, session);
        if !self.sessions.contains_key(&key) {
            let Some(config) = self.tls.clone() else {
                return;
            };
            match TlsEnd::server(config) {
                Ok(tls) => {
                    self.sessions.insert(
                        key,
                        Session {
                            tls,
                            received: vec![],
                        },
                    );
                }
                Err(_) => return,
            }
        }
        let Some(mut s) = self.sessions.remove(&key) else {
            return;
        };
        if let Err(e) = s.tls.feed(bytes) {
            out.push(self.obs(now, "tls_failure", format!("phone#{phone}: {e}")));
            let reason = format!("SSL3 alert read:fatal:handshake failure ({e})");
            out.push(Effect::Send {
                to: Addr::Phone(phone),
                msg: Msg::TvsAbort { session, reason },
            });
            return;
        }
        s.received.extend(s.tls.take_plain());
        let mut done = false;
        if let Some(reply) = self.answer(phone, &s.received, now, out) {
            done = s.tls.send(&reply).is_ok();
        }
        let flight = s.tls.take_outgoing();
        if !flight.is_empty() {
            out.push(Effect::Send {
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
    }
}
