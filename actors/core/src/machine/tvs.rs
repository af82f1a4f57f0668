//! The TVS service of one node: answers QUERY_CERT and CERT_VERIFICATION from a snapshot of
//! the node's trust stores taken when the service (re)starts (reference §2, §4.1).
//!
//! ```text
//!  TvsStores ─► directory snapshot (roles by store)      Service(Stop) ─► no answers (F2)
//!  TvsPlain{request} ─► TvsDirectory::answer ─► TvsPlainReply{TVS certificate, answer}
//! ```

use super::msg::{Addr, Effect, Msg, Now, Observation, ServiceAction, TvsStores};
use crate::tvs::{RoleMap, TvsBody, TvsDirectory, TvsMessage};
use std::sync::Arc;

/// One node's TVS.
#[derive(Debug)]
pub struct Tvs {
    pub host: String,
    pub up: bool,
    pub roles: RoleMap,
    stores: Option<Arc<TvsStores>>,
    directory: TvsDirectory,
}

impl Tvs {
    pub fn new(host: &str) -> Tvs {
        Tvs {
            host: host.to_string(),
            up: true,
            roles: RoleMap::default(),
            stores: None,
            directory: TvsDirectory::default(),
        }
    }

    fn who(&self) -> String {
        format!("tvs@{}", self.host)
    }

    /// Reads the stores, as the service does when it starts.
    fn load(&mut self) {
        if let Some(s) = &self.stores {
            self.directory = TvsDirectory::snapshot(
                s.stores.iter(),
                s.own.iter().map(|(c, r)| (c, *r)),
                &self.roles,
            );
        }
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
                if self.up {
                    self.load();
                }
                let detail = format!("{action:?}, {} certificates known", self.directory.len());
                out.push(Effect::Observe(Observation::new(
                    now,
                    &self.who(),
                    "service",
                    detail,
                )));
            }
            Msg::TvsPlain {
                phone,
                session,
                request,
                ..
            } if self.up => {
                let Some(stores) = &self.stores else {
                    return out;
                };
                let Ok(req) = TvsMessage::decode(&request) else {
                    return out;
                };
                let Some(answer) = self.directory.answer(&req) else {
                    return out;
                };
                let found = matches!(
                    answer.body,
                    TvsBody::QueryRes { valid: true, .. } | TvsBody::VerifyRes { valid: true, .. }
                );
                out.push(Effect::Observe(Observation::new(
                    now,
                    &self.who(),
                    "tvs_answer",
                    format!("phone#{phone} found={found}"),
                )));
                let reply = Msg::TvsPlainReply {
                    session,
                    server_cert: stores.tvs_cert.der().into(),
                    reply: answer.encode(),
                };
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: reply,
                });
            }
            _ => {}
        }
        out
    }
}
