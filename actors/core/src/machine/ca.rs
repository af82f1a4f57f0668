//! A certificate authority outside CUCM as a participant (reference §3.1 "Modes"): a
//! Microsoft enterprise CA that CAPF's Online CA mode enrolls phones with, or the offline CA
//! an administrator takes exported CSRs to. The issuing itself is [`crate::capf::ca`].
//!
//! ```text
//!  CaEnroll{params, request} ─► endpoint check (hostname, port) ─► OnlineCa::enroll ─► CaAnswer
//!  CaSign{pending CSRs}      ─► OfflineCa::sign each ─► CapfUpload{device, certificate}
//! ```

use super::msg::{Addr, Effect, Msg, Now};
use crate::capf::ca::{OfflineCa, OnlineCa};
use crate::machine::trace::{Event, Kind, Observation};
use std::sync::Arc;

/// Which kind of CA this is.
#[derive(Debug)]
pub enum CaKind {
    Online(Box<OnlineCa>),
    Offline(Box<OfflineCa>),
}

/// A CA participant.
#[derive(Debug)]
pub struct CaService {
    /// The Online CA's hostname, or the offline CA's name.
    pub host: String,
    pub kind: CaKind,
}

impl CaService {
    pub fn new(host: &str, kind: CaKind) -> CaService {
        CaService {
            host: host.to_string(),
            kind,
        }
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        let who = format!("ca@{}", self.host);
        let obs = |what: Kind, detail: String| {
            Effect::Observe(Observation::note(now, &who, what, detail))
        };
        match (msg, &mut self.kind) {
            (
                Msg::CaEnroll {
                    capf,
                    phone,
                    session,
                    params,
                    request,
                },
                CaKind::Online(ca),
            ) => {
                let result = ca
                    .check_endpoint(&params)
                    .and_then(|()| ca.enroll(&request, now.wall))
                    .map(|cert| Arc::from(cert.der()))
                    .map_err(|e| e.to_string());
                let enroll = Event::CaEnroll {
                    device: request.device_name.clone(),
                    result: result.as_ref().map(|_| ()).map_err(|e| e.clone()),
                };
                out.push(Effect::Observe(Observation::new(now, &who, enroll)));
                out.push(Effect::Send {
                    to: Addr::Capf(capf),
                    msg: Msg::CaAnswer {
                        phone,
                        session,
                        result,
                    },
                });
            }
            (Msg::CaSign { capf, csrs }, CaKind::Offline(ca)) => {
                let mut certs = vec![];
                for csr in csrs.iter() {
                    match ca.sign(csr, now.wall) {
                        Ok(c) => certs.push((csr.device_name.clone(), Arc::from(c.der()))),
                        Err(e) => {
                            let detail = format!("{}: {e}", csr.device_name);
                            out.push(obs(Kind::CaRefused, detail));
                        }
                    }
                }
                out.push(obs(Kind::CaSigned, format!("{} CSRs signed", certs.len())));
                out.push(Effect::Send {
                    to: Addr::Capf(capf),
                    msg: Msg::CapfUpload { certs },
                });
            }
            _ => {}
        }
        out
    }
}

/// The CA answers messages only.
impl crate::machine::Machine for CaService {
    fn addr(&self) -> Addr {
        Addr::Ca(self.host.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}
