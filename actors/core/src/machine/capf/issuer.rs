//! The CAPF service's external issuers and its CSR book: an Online CA enrollment the session
//! waits for, an Offline CA's pending CSR, their export and upload, and `utils capf` commands.
//!
//! ```text
//!  KEY_GEN_RES, issuer Online CA ─► CaEnroll ─► CaAnswer ─► STORE_CERT_REQ │ END_SESSION 7
//!                  Offline CA ─► pending CSR (session ends) ─► CapfExportCsrs ─► CaSign …
//!                                 CapfUpload{certs} ─► ready to install at the next session
//! ```

use super::{capf_token, Capf, Issuer, Sess, CA_TIMEOUT_MS, T_DEADLINE};
use crate::capf::ca::EnrollRequest;
use crate::capf::pending::{render_stale_delete_all, Uploaded};
use crate::capf::Step;
use crate::machine::msg::{Addr, Effect, Msg, Now};
use crate::machine::trace::Kind;
use crate::pki::{Certificate, PublicKey};
use std::sync::Arc;

impl Capf {
    /// The phone's new key goes to the configured external issuer: an enrollment request to
    /// the Online CA (the session waits for its answer), or a pending CSR (the session ends,
    /// the operation stays pending).
    pub(super) fn external_issue(
        &mut self,
        key: (u32, u64),
        s: &mut Sess,
        public: PublicKey,
        now: Now,
        out: &mut Vec<Effect>,
    ) -> Step {
        let issuer = self.config().map(|c| c.issuer.clone()).unwrap_or_default();
        let (device, model) = s
            .capf
            .device()
            .map(|d| (d.device_name.clone(), d.model.clone()))
            .unwrap_or_default();
        match issuer {
            Issuer::OnlineCa(params) => {
                let request = EnrollRequest::new(&params, &device, &model, public);
                out.push(Effect::Send {
                    to: Addr::Ca(params.hostname.clone()),
                    msg: Msg::CaEnroll {
                        capf: self.host.clone(),
                        phone: key.0,
                        session: key.1,
                        params: params.clone(),
                        request: Arc::new(request),
                    },
                });
                s.deadline_ms = now.mono_ms + CA_TIMEOUT_MS;
                out.push(Effect::Timer {
                    after_ms: CA_TIMEOUT_MS,
                    token: capf_token(T_DEADLINE, s.capf.id()),
                });
                Step::default()
            }
            Issuer::OfflineCa => match self.devices.1.record(&device, &public, now.wall) {
                Ok(r) => {
                    if let Some(stale) = &r.stale {
                        let serial = hex::encode(stale.cert.serial());
                        out.push(self.obs(
                            now,
                            Kind::StaleLsc,
                            format!("{device}: serial {serial}"),
                        ));
                    }
                    out.push(self.obs(
                        now,
                        Kind::CsrPending,
                        format!("{device}: request {}", r.id),
                    ));
                    s.capf.deferred("CSR pending for the offline CA")
                }
                Err(e) => s.capf.issue_failed(&e.to_string()),
            },
            Issuer::Capf => s.capf.issue_failed("no external issuer configured"),
        }
    }

    /// The Online CA answered: STORE_CERT_REQ with its certificate, or END_SESSION 7.
    pub(super) fn on_ca_answer(
        &mut self,
        key: (u32, u64),
        result: Result<Arc<[u8]>, String>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let Some(mut s) = self.sessions.remove(&key) else {
            return;
        };
        self.clock.set(now.wall);
        let step = match result.and_then(|d| Certificate::from_der(&d).map_err(|e| e.to_string())) {
            Ok(cert) => s.capf.issued(cert),
            Err(e) => s.capf.issue_failed(&format!("Online CA: {e}")),
        };
        let id = s.capf.id();
        s.deadline_ms = now.mono_ms + self.model().keygen_timeout_ms;
        out.push(Effect::Timer {
            after_ms: self.model().keygen_timeout_ms,
            token: capf_token(T_DEADLINE, id),
        });
        self.send(key, &mut s, &step.send, out);
        match step.outcome {
            Some(outcome) => self.finish(key, id, &s, &outcome, now, out),
            None => {
                self.sessions.insert(key, s);
            }
        }
    }

    /// `CapfExportCsrs`: every pending CSR to the offline CA.
    pub(super) fn export_csrs(&mut self, ca: String, now: Now, out: &mut Vec<Effect>) {
        let csrs: Vec<_> = self.devices.1.pending().cloned().collect();
        out.push(self.obs(
            now,
            Kind::CsrExported,
            format!("{} pending CSRs to {ca}", csrs.len()),
        ));
        out.push(Effect::Send {
            to: Addr::Ca(ca),
            msg: Msg::CaSign {
                capf: self.host.clone(),
                csrs: Arc::new(csrs),
            },
        });
    }

    /// `CapfUpload`: certificates the offline CA signed, ready for the next session.
    pub(super) fn upload(
        &mut self,
        certs: Vec<(String, Arc<[u8]>)>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        for (device, der) in certs {
            let result = Certificate::from_der(&der)
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    self.devices
                        .1
                        .upload(&device, &c, now.wall)
                        .map_err(|e| e.to_string())
                });
            let detail = match result {
                Ok(Uploaded::ReadyToInstall { .. }) => format!("{device}: ready to install"),
                Ok(other) => format!("{device}: {other:?}"),
                Err(e) => format!("{device}: refused: {e}"),
            };
            out.push(self.obs(now, Kind::CsrUploaded, detail));
        }
    }

    /// `utils capf <command>` on the CSR book.
    pub(super) fn cli(&mut self, command: &str, now: Now, out: &mut Vec<Effect>) {
        let book = &mut self.devices.1;
        let text = match command {
            "csr list" => book.render_csr_list(),
            "stale-lsc list" => book.render_stale_list(),
            "stale-lsc delete all" => render_stale_delete_all(book.delete_all_stale()),
            other => format!("unknown command {other:?}\n"),
        };
        out.push(self.obs(now, Kind::Cli, format!("utils capf {command}\n{text}")));
    }
}
