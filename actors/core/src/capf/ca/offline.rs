//! The Offline CA: the administrator exports CAPF's pending requests, the external CA signs
//! each, and the administrator uploads the certificates to CUCM.
//!
//! ```text
//!  PendingCsr (pending.rs) ──► OfflineCa::sign ──► CaHierarchy::issue ──► LSC ──► CsrBook::upload
//! ```

use super::hierarchy::{lsc_subject, CaHierarchy, CaNames};
use super::template::CaTemplate;
use super::CaError;
use crate::capf::lsc::LscCommonName;
use crate::capf::pending::PendingCsr;
use crate::pki::{Certificate, KeyForge};
use crate::wall::WallTime;

/// The external CA of the Offline CA mode: the administrator submits a pending request and
/// gets a certificate back, to upload to CUCM.
#[derive(Clone, Debug)]
pub struct OfflineCa {
    pub ca: CaHierarchy,
    /// What the CA issues. Default [`CaTemplate::default`] \[I\].
    pub template: CaTemplate,
    issued: u64,
}

impl OfflineCa {
    /// Builds the CA from `forge` under `label`, valid from `now`.
    pub fn new(
        forge: &KeyForge,
        label: &str,
        names: &CaNames,
        now: WallTime,
    ) -> Result<OfflineCa, CaError> {
        Ok(OfflineCa {
            ca: CaHierarchy::new(forge, label, names, now)?,
            template: CaTemplate::default(),
            issued: 0,
        })
    }

    /// How many certificates this CA has issued.
    pub fn issued_count(&self) -> u64 {
        self.issued
    }

    /// Signs the request `csr` at `now`: subject `CN=<device name>`, SAN URI = device name,
    /// the template's usages and validity. Any RSA or P-256 key is accepted (the "no ECDSA"
    /// limit is the Online CA's).
    pub fn sign(&mut self, csr: &PendingCsr, now: WallTime) -> Result<Certificate, CaError> {
        let public = csr.public_key()?;
        let subject = lsc_subject(LscCommonName::DeviceName, &csr.device_name, "");
        let cert = self.ca.issue(
            &self.template,
            &csr.device_name,
            subject,
            &public,
            &format!("{}#{}", csr.id, self.issued),
            now,
        )?;
        self.issued += 1;
        Ok(cert)
    }
}
