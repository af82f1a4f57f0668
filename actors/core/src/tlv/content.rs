//! What CUCM puts in its trust lists, by version (reference §1.7).
//!
//! | file | signer | records |
//! |---|---|---|
//! | ITL < 12.0 | TFTP node's CallManager | ITLRecovery (SAST, if any), TFTP node's CallManager as SAST **and** as CCM+TFTP (or TFTP), every TVS (TVS), CAPF (CAPF) |
//! | ITL ≥ 12.0 | ITLRecovery | the same |
//! | rollback ITL | as above | the signer (SAST), blank CCM+TFTP and blank TVS records |
//! | CTL (mixed) | publisher CallManager (< 12.0) / ITLRecovery (≥ 12.0) | signer (SAST), every CallManager (CCM+TFTP / CCM / TFTP), CAPF; no TVS |
//! | CTL (non-secure) | as above | CCM+TFTP records blanked |
//!
//! The rollback ITL's exact form is [I]: "empty TVS and TFTP certificate sections" [C S10],
//! modelled with the blank-record form seen in CTLs.

use super::build::RecordSpec;
use super::tags::Role;
use crate::pki::cluster::ClusterPki;
use crate::pki::identity::CertType;
use crate::pki::Identity;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// More than this many certificates push the ITL over 64 KB and registration fails (F9).
pub const ITL_MAX_CERTS: usize = 39;
/// The phone's ITL size limit in bytes (64 KB).
pub const ITL_MAX_BYTES: usize = 64 * 1024;

/// Whether an ITL of `bytes` bytes with `certs` certificates is past the phone's limit.
pub fn exceeds_phone_limit(bytes: usize, certs: usize) -> bool {
    certs > ITL_MAX_CERTS || bytes > ITL_MAX_BYTES
}

pub use crate::version::CucmVersion;

/// One node's certificates as the trust lists need them.
#[derive(Clone, Debug)]
pub struct NodeCerts {
    pub hostname: String,
    pub ip: Option<Ipv4Addr>,
    pub callmanager: Identity,
    pub tvs: Identity,
    pub runs_callmanager: bool,
    pub runs_tftp: bool,
}

/// A cluster's certificates as the trust lists need them. `nodes[0]` is the publisher.
#[derive(Clone, Debug)]
pub struct ClusterCerts {
    pub version: CucmVersion,
    pub nodes: Vec<NodeCerts>,
    pub itl_recovery: Option<Identity>,
    pub capf: Option<Identity>,
    /// The Cisco CTL Provider (TCP 2444) is active on some node when the CTL is built: then
    /// "the ITLRecovery certificate appears in the CTL" (CSCwf85275) [C S13].
    pub ctl_provider: bool,
}

/// Security mode for the CTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtlMode {
    /// Mixed mode: CCM+TFTP records carry certificates.
    Mixed,
    /// After `utils ctl set-cluster non-secure-mode`: CCM+TFTP records blanked.
    NonSecure,
}

impl ClusterCerts {
    /// The identity that signs the ITL of the TFTP node `tftp`.
    pub fn itl_signer(&self, tftp: usize) -> Option<&Identity> {
        if self.version.itl_signed_by_itl_recovery() {
            self.itl_recovery.as_ref()
        } else {
            self.nodes.get(tftp).map(|n| &n.callmanager)
        }
    }

    /// The identity that signs the CTL: publisher CallManager before 12.0, ITLRecovery after.
    pub fn ctl_signer(&self) -> Option<&Identity> {
        if self.version.itl_signed_by_itl_recovery() {
            self.itl_recovery.as_ref()
        } else {
            self.nodes.first().map(|n| &n.callmanager)
        }
    }

    fn cm_role(node: &NodeCerts) -> Role {
        match (node.runs_callmanager, node.runs_tftp) {
            (true, true) => Role::CcmTftp,
            (false, true) => Role::Tftp,
            _ => Role::Ccm,
        }
    }

    /// The records of the ITL served by TFTP node `tftp`.
    pub fn itl_records(&self, tftp: usize) -> Vec<RecordSpec> {
        let Some(node) = self.nodes.get(tftp) else {
            return vec![];
        };
        let mut out = vec![];
        if let Some(rec) = &self.itl_recovery {
            let pub_node = &self.nodes[0];
            out.push(RecordSpec::cert(
                &rec.cert,
                Role::Sast,
                &pub_node.hostname,
                pub_node.ip,
            ));
        }
        out.push(RecordSpec::cert(
            &node.callmanager.cert,
            Role::Sast,
            &node.hostname,
            node.ip,
        ));
        out.push(RecordSpec::cert(
            &node.callmanager.cert,
            Self::cm_role(node),
            &node.hostname,
            node.ip,
        ));
        for n in &self.nodes {
            out.push(RecordSpec::cert(&n.tvs.cert, Role::Tvs, &n.hostname, n.ip));
        }
        if let Some(capf) = &self.capf {
            let pub_node = &self.nodes[0];
            out.push(RecordSpec::cert(
                &capf.cert,
                Role::Capf,
                &pub_node.hostname,
                pub_node.ip,
            ));
        }
        out
    }

    /// The rollback ITL ("Prepare Cluster for Rollback to pre 8.0" = True): the signer's SAST
    /// record, then blank CCM+TFTP and TVS records.
    pub fn rollback_itl_records(&self, tftp: usize) -> Vec<RecordSpec> {
        let mut out = vec![];
        if let (Some(signer), Some(node)) = (self.itl_signer(tftp), self.nodes.get(tftp)) {
            out.push(RecordSpec::cert(
                &signer.cert,
                Role::Sast,
                &node.hostname,
                node.ip,
            ));
            out.push(RecordSpec::Blank {
                dns_name: node.hostname.clone(),
                role: Self::cm_role(node),
                ip: node.ip,
            });
        }
        for n in &self.nodes {
            out.push(RecordSpec::Blank {
                dns_name: n.hostname.clone(),
                role: Role::Tvs,
                ip: n.ip,
            });
        }
        out
    }

    /// The records of the CTL.
    pub fn ctl_records(&self, mode: CtlMode) -> Vec<RecordSpec> {
        let mut out = vec![];
        let Some(pub_node) = self.nodes.first() else {
            return out;
        };
        if let Some(signer) = self.ctl_signer() {
            out.push(RecordSpec::cert(
                &signer.cert,
                Role::Sast,
                &pub_node.hostname,
                pub_node.ip,
            ));
        }
        for n in self
            .nodes
            .iter()
            .filter(|n| n.runs_callmanager || n.runs_tftp)
        {
            let role = Self::cm_role(n);
            out.push(match mode {
                CtlMode::Mixed => RecordSpec::cert(&n.callmanager.cert, role, &n.hostname, n.ip),
                CtlMode::NonSecure => RecordSpec::Blank {
                    dns_name: n.hostname.clone(),
                    role,
                    ip: n.ip,
                },
            });
        }
        // CSCwf85275 [C S13]: with the CTL Provider active the ITLRecovery certificate appears
        // in the CTL. From 12.0 it is there anyway, as the signer's SAST record. [I]: as a SAST
        // record of the publisher, like the signer's.
        if let Some(rec) = self.itl_recovery.as_ref().filter(|_| self.ctl_provider) {
            let signer_is_rec = self
                .ctl_signer()
                .is_some_and(|s| s.cert.der() == rec.cert.der());
            if !signer_is_rec {
                out.push(RecordSpec::cert(
                    &rec.cert,
                    Role::Sast,
                    &pub_node.hostname,
                    pub_node.ip,
                ));
            }
        }
        if let Some(capf) = &self.capf {
            // CUCM 10.x CTLs write the CAPF record without tag 8 [C S8].
            out.push(RecordSpec::Cert {
                cert: capf.cert.clone(),
                role: Role::Capf,
                dns_name: Some(pub_node.hostname.clone()),
                ip: pub_node.ip,
                with_signature: false,
                cert_hash: None,
            });
        }
        out
    }
}

/// The trust lists' view of a cluster's PKI (written here so `pki` need not know `tlv`).
impl ClusterPki {
    /// The content the trust-list builders need (CUCM nodes only).
    pub fn trust_list_certs(&self) -> ClusterCerts {
        let nodes = self
            .nodes
            .iter()
            .filter(|n| !n.spec.imp)
            .filter_map(|n| {
                Some(NodeCerts {
                    hostname: n.spec.names.hostname.clone(),
                    ip: n.spec.ip,
                    callmanager: n.identity(CertType::CallManager)?.clone(),
                    tvs: n.identity(CertType::Tvs)?.clone(),
                    runs_callmanager: n.spec.runs_callmanager,
                    runs_tftp: n.spec.runs_tftp,
                })
            })
            .collect();
        ClusterCerts {
            version: self.version,
            nodes,
            itl_recovery: Some(self.itl_recovery.clone()),
            capf: Some(self.capf.clone()),
            ctl_provider: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v: CucmVersion = "11.5(1)SU3".parse().unwrap();
        assert_eq!(v, CucmVersion::new(11, 5, 3));
        assert_eq!(
            "14SU2".parse::<CucmVersion>().unwrap(),
            CucmVersion::new(14, 0, 2)
        );
        assert!(CucmVersion::new(12, 5, 0) > CucmVersion::new(11, 5, 9));
        assert!("7.1".parse::<CucmVersion>().is_err());
        assert!("abc".parse::<CucmVersion>().is_err());
        assert!(!CucmVersion::new(11, 5, 0).itl_signed_by_itl_recovery());
        assert!(CucmVersion::new(12, 0, 0).itl_signed_by_itl_recovery());
    }

    #[test]
    fn phone_limit() {
        assert!(!exceeds_phone_limit(60_000, 39));
        assert!(exceeds_phone_limit(60_000, 40));
        assert!(exceeds_phone_limit(65_537, 10));
    }
}
