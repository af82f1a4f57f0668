//! The CallManager multi-server certificate after its upload (reference §4.3): every listed
//! CUCM node restarts TFTP, CallManager, CTIManager and TVS, the publisher first; when the
//! last one has, the phones reset, and CSCup28852 (F20) keeps re-running the
//! certificate-change processing on a timer.
//!
//! ```text
//!  upload (multisan.rs) ─► await_cm_restarts ─► `multi_san_restart_needed`, CallManagerTrust
//!  MultiSanRestart{node} ─► refused on a subscriber while the publisher awaits its restart
//!        ─► `service_restarted` ×4 ─► the node's TftpRebuild · its TvsStores{restart}
//!        ─► last node: `multi_san_active` ─► `phones_reset` + ResetRegistered (automatic)
//!                      ─► Timer(period, epoch) with CSCup28852
//!  Timer(epoch) ─► `certificate_change` ─► TftpRebuild ─► phones reset ─► Timer(period) …
//!        (a timer of an older upload, or before every restart: nothing)
//! ```

use super::external_ca::MultiSanRequest;
use super::Publisher;
use crate::machine::msg::{Addr, Effect, Now};
use crate::machine::trace::Kind;
use crate::pki::Certificate;

/// The services §4.3 restarts after a CallManager multi-server upload, in its order.
pub const CM_SERVICES: [&str; 4] = [
    "Cisco Tftp",
    "Cisco CallManager",
    "Cisco CTIManager",
    "Cisco Trust Verification Service",
];

/// The CallManager multi-server certificate once uploaded.
#[derive(Clone, Debug)]
pub struct CmMultiSan {
    pub cert: Certificate,
    /// CUCM nodes whose TFTP, CallManager, CTIManager and TVS have not restarted yet, the
    /// publisher first.
    pub awaiting: Vec<String>,
    /// CSCup28852: the certificate-change processing re-runs every this many ms.
    pub cscup28852_ms: Option<u64>,
}

impl Publisher {
    /// A CallManager multi-server upload: every listed CUCM node awaits the restart of its
    /// services; the CallManagers trust the new certificate.
    pub(super) fn await_cm_restarts(
        &mut self,
        req: &MultiSanRequest,
        cert: &Certificate,
        cscup28852_ms: Option<u64>,
        now: Now,
    ) -> Vec<Effect> {
        self.multisan.epoch += 1;
        self.multisan.cm = Some(CmMultiSan {
            cert: cert.clone(),
            awaiting: req.hosts.clone(),
            cscup28852_ms,
        });
        let mut out = vec![self.obs(
            now,
            Kind::MultiSanRestartNeeded,
            format!(
                "restart {} on {}, the publisher first{}",
                CM_SERVICES.join(", "),
                req.hosts.join(", "),
                if self.mixed_mode {
                    "; mixed mode: run `utils ctl update CTLFile` before"
                } else {
                    ""
                }
            ),
        )];
        out.extend(self.push_cm_trust());
        out
    }

    /// Why "Restart TFTP, CallManager, CTIManager and TVS" on `node` is refused, if it is:
    /// `node` is no CUCM node, or the publisher has not restarted them yet.
    fn multi_san_restart_refused(&self, node: &str) -> Option<String> {
        let pub_host = self.pki.publisher().spec.names.hostname.clone();
        let is_cucm = self
            .pki
            .nodes
            .iter()
            .any(|n| !n.spec.imp && n.spec.names.hostname == node);
        if !is_cucm {
            return Some(format!(
                "{node} is not a CUCM node: it runs no TFTP, CallManager or TVS"
            ));
        }
        let awaiting = self
            .multisan
            .cm
            .as_ref()
            .map(|c| c.awaiting.clone())
            .unwrap_or_default();
        if node != pub_host && awaiting.contains(&pub_host) {
            return Some(format!(
                "restart of {} on {node} refused: the publisher {pub_host} restarts them \
                 first",
                CM_SERVICES.join(", ")
            ));
        }
        None
    }

    /// "Restart TFTP, CallManager, CTIManager and TVS" on CUCM node `node` (§4.3).
    pub(super) fn multi_san_restart(&mut self, node: &str, now: Now) -> Vec<Effect> {
        if let Some(why) = self.multi_san_restart_refused(node) {
            return vec![self.obs(now, Kind::OperatorError, why)];
        }
        let mut out: Vec<Effect> = CM_SERVICES
            .iter()
            .map(|s| self.obs(now, Kind::ServiceRestarted, format!("{s} on {node}")))
            .collect();
        let Some(cm) = self.multisan.cm.as_mut() else {
            return out;
        };
        if !cm.awaiting.iter().any(|h| h == node) {
            return out;
        }
        cm.awaiting.retain(|h| h != node);
        let done = cm.awaiting.is_empty();
        let period = cm.cscup28852_ms;
        let subject = cm.cert.subject().to_cucm();
        // The node's TFTP builds its files from the new certificates; its TVS restarts.
        out.extend(
            self.rebuild_tftp(now)
                .into_iter()
                .filter(|e| matches!(e, Effect::Send { to: Addr::Tftp(h), .. } if h == node)),
        );
        out.extend(self.push_stores_restarting(&[node.to_string()]));
        if !done {
            return out;
        }
        out.push(self.obs(
            now,
            Kind::MultiSanActive,
            format!("callmanager multi-server certificate {subject} active on every CUCM node"),
        ));
        out.extend(self.auto_reset(now, "the CallManager certificate changed"));
        if let Some(ms) = period {
            out.push(Effect::Timer {
                after_ms: ms,
                token: self.multisan.epoch,
            });
        }
        out
    }

    /// "Phone Interaction on Certificate Update" = automatic: every registered phone resets.
    fn auto_reset(&self, now: Now, why: &str) -> Vec<Effect> {
        if !self.enterprise.auto_reset {
            return vec![];
        }
        let mut out = vec![self.obs(
            now,
            Kind::PhonesReset,
            format!(
                "cluster {}: Phone Interaction on Certificate Update resets the registered \
                 phones ({why})",
                self.pki.name
            ),
        )];
        out.extend(self.reset_registered());
        out
    }

    /// CSCup28852's certificate-change loop (F20): timer `token` of the current upload runs
    /// the certificate-change processing again and re-arms itself.
    pub(super) fn cscup28852_tick(&mut self, token: u64, now: Now) -> Vec<Effect> {
        let Some(cm) = &self.multisan.cm else {
            return vec![];
        };
        let Some(ms) = cm.cscup28852_ms else {
            return vec![];
        };
        if token != self.multisan.epoch || !cm.awaiting.is_empty() {
            return vec![];
        }
        let mut out = vec![self.obs(
            now,
            Kind::CertificateChange,
            format!(
                "CSCup28852: certificate-change processing runs again for the multi-server \
                 CallManager certificate {}; the TFTP rebuilds the ITL and configuration files",
                cm.cert.subject().to_cucm()
            ),
        )];
        out.extend(self.rebuild_tftp(now));
        out.extend(self.auto_reset(now, "CSCup28852"));
        out.push(Effect::Timer {
            after_ms: ms,
            token,
        });
        out
    }
}
