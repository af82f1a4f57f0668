//! The publisher's operator steps: one router that logs the step (`operator`) and hands it to
//! the concern that carries it out, and the steps that only reach the services
//! (certificate upload, the HTTPS service and TFTP-HTTPS probes).
//!
//! ```text
//!  Operator ─► `operator` observation ─► route:
//!        Bulk*                             ─► bulk.rs
//!        Regenerate · ItlReset · Drs* · CopyCertificate · CtlUpdate · CtlProvider
//!                                          ─► lifecycle.rs
//!        Imp(ImpOp)                        ─► imp.rs (multi-SAN ops on to multisan.rs)
//!        Capf* · CertificateMonitor        ─► devices.rs
//!        SetParameter · CtlSetCluster      ─► parameters.rs
//!        UploadCertificate ─► store ─► TvsStores · CallManagerTrust · CapfConfig
//!        HttpsService ─► HttpsOpen{node's Tomcat} → each phone
//!        TftpHttps    ─► TftpHttpsOpen{tftp}      → each phone
//! ```

use super::Publisher;
use crate::machine::msg::{Addr, Effect, Msg, Now, Operator};
use crate::machine::trace::Kind;
use crate::pki::identity::CertType;
use crate::pki::{Certificate, StoreName, TrustStore};
use std::sync::Arc;

impl Publisher {
    /// Logs operator step `op` and carries it out.
    pub(super) fn operator(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        let mut out = vec![self.obs(
            now,
            Kind::Operator,
            format!("{op:?}").chars().take(120).collect::<String>(),
        )];
        out.extend(self.route(op, now));
        out
    }

    /// Hands `op` to the concern that carries it out.
    fn route(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        match op {
            op @ (Operator::BulkExport { .. }
            | Operator::BulkExportNodes { .. }
            | Operator::SftpRemove { .. }
            | Operator::BulkConsolidate
            | Operator::BulkImport
            | Operator::BulkImportDefect { .. }) => self.bulk_step(op, now),
            op @ (Operator::Regenerate { .. }
            | Operator::FipsEnable { .. }
            | Operator::ItlReset { .. }
            | Operator::DrsBackup
            | Operator::DrsRestore
            | Operator::CopyCertificate { .. }
            | Operator::CtlUpdate
            | Operator::CtlProvider { .. }) => self.lifecycle_step(op, now),
            Operator::Imp(op) => self.imp_step(op, now),
            op @ (Operator::CapfUpdate(_)
            | Operator::CapfOfflineSign { .. }
            | Operator::CapfCli { .. }
            | Operator::CertificateMonitor { .. }
            | Operator::CapfKeepalive { .. }) => self.device_step(op, now),
            Operator::SetParameter { name, value } => self.set_parameter(&name, &value, now),
            Operator::CtlSetCluster { mixed } => self.ctl_set_cluster(mixed, now),
            Operator::UploadCertificate { store, der } => self.upload_certificate(store, &der, now),
            Operator::HttpsService { node, first, count } => {
                self.https_service(node.as_deref(), first, count, now)
            }
            Operator::TftpHttps {
                node,
                first,
                count,
                plain_fallback,
            } => self.tftp_https(node, first, count, plain_fallback, now),
        }
    }

    /// A certificate uploaded to `store` (OS Administration > Upload Certificate).
    fn upload_certificate(&mut self, store: StoreName, der: &[u8], now: Now) -> Vec<Effect> {
        match Certificate::from_der(der) {
            Ok(cert) => {
                self.stores
                    .entry(store)
                    .or_insert_with(|| TrustStore::new(store))
                    .add(cert);
                let mut out = self.push_stores();
                out.extend(self.push_cm_trust());
                out.extend(self.push_capf());
                out
            }
            Err(e) => vec![self.obs(now, Kind::OperatorError, format!("upload refused: {e}"))],
        }
    }

    /// The HTTPS service on `node`'s Tomcat (default: the publisher): each phone is handed
    /// the node's current Tomcat certificate, as its TLS handshake would present it.
    fn https_service(&self, node: Option<&str>, first: u32, count: u32, now: Now) -> Vec<Effect> {
        let n = match node {
            Some(h) => self.pki.nodes.iter().find(|n| n.spec.names.hostname == h),
            None => Some(self.pki.publisher()),
        };
        let Some(tomcat) =
            n.and_then(|n| Some((n.spec.names.hostname.clone(), n.identity(CertType::Tomcat)?)))
        else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!("no Tomcat certificate on {node:?}"),
            )];
        };
        let (host, id) = tomcat;
        let der: Arc<[u8]> = id.cert.der().into();
        (first..first + count)
            .map(|p| Effect::Send {
                to: Addr::Phone(p),
                msg: Msg::HttpsOpen {
                    server: host.clone(),
                    cert: der.clone(),
                },
            })
            .collect()
    }

    /// Phones `first..first+count` probe the TFTP-HTTPS service of `node` (default: the
    /// first TFTP node).
    fn tftp_https(
        &self,
        node: Option<String>,
        first: u32,
        count: u32,
        plain_fallback: bool,
        now: Now,
    ) -> Vec<Effect> {
        let tftp = node.or_else(|| self.tftp_hosts.first().cloned());
        match tftp.filter(|h| self.tftp_hosts.contains(h)) {
            Some(tftp) => (first..first + count)
                .map(|p| Effect::Send {
                    to: Addr::Phone(p),
                    msg: Msg::TftpHttpsOpen {
                        tftp: tftp.clone(),
                        plain_fallback,
                    },
                })
                .collect(),
            None => vec![self.obs(now, Kind::OperatorError, "no such TFTP node")],
        }
    }
}
