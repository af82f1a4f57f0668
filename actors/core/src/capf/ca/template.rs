//! What a CA puts in the LSCs it issues ([`CaTemplate`]: key usages, extended key usages,
//! validity), and whether an LSC can serve secure registration (it needs Digital Signature and
//! Key Encipherment [C S14]).
//!
//! ```text
//!  CaTemplate ──► CaHierarchy::issue ──► LSC ──► lsc_usable_for_secure_registration ──► Ok | LscUsageProblem
//! ```

use super::DEFAULT_TEMPLATE;
use crate::pki::{Certificate, ExtKeyUsage, KeyUsage};
use thiserror::Error;

/// A certificate template: what the CA puts in what it issues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaTemplate {
    /// The template name a request must give (Online CA) \[I\].
    pub name: String,
    /// Key usages of issued certificates. Dropping Digital Signature or Key Encipherment
    /// reproduces "Online CA LSCs without them fail secure registration" [C S14].
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    /// Validity of issued certificates in days, 1..=1825; default 730 \[I\].
    pub validity_days: u32,
}

impl CaTemplate {
    /// An LSC template named `name`: Digital Signature + Key Encipherment, serverAuth +
    /// clientAuth, 730 days \[I\].
    pub fn lsc(name: &str) -> CaTemplate {
        CaTemplate {
            name: name.to_string(),
            key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            ext_key_usage: vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth],
            validity_days: 730,
        }
    }
}

impl Default for CaTemplate {
    fn default() -> Self {
        CaTemplate::lsc(DEFAULT_TEMPLATE)
    }
}

/// Why an LSC cannot be used for secure registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum LscUsageProblem {
    #[error("LSC lacks the Digital Signature key usage: secure registration fails")]
    NoDigitalSignature,
    #[error("LSC lacks the Key Encipherment key usage: secure registration fails")]
    NoKeyEncipherment,
}

/// Whether a phone can register securely with `cert` as its LSC: "while using Online CA for
/// LSC operations, if the LSC does not carry the Digital Signature and Key Encipherment key
/// usages, secure registration of the device fails" [C S14, seed 003]. A certificate with no
/// keyUsage extension fails too (it does not "carry" them) \[I\].
pub fn lsc_usable_for_secure_registration(cert: &Certificate) -> Result<(), LscUsageProblem> {
    let ku = &cert.info().key_usage;
    if !ku.contains(&KeyUsage::DigitalSignature) {
        return Err(LscUsageProblem::NoDigitalSignature);
    }
    if !ku.contains(&KeyUsage::KeyEncipherment) {
        return Err(LscUsageProblem::NoKeyEncipherment);
    }
    Ok(())
}
