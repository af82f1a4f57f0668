//! LSC issuers other than the CAPF itself: the "Online CA" and "Offline CA" values of the
//! service parameter "Certificate Issuer to Endpoint" (reference §3.1 "Modes"; seed 003, "CAPF
//! running modes", "Configure Online CA settings", "Current Online CA limitations").
//!
//! ```text
//!  Online CA:  CAPF ── EnrollRequest{device, model, phone key, key type, user, password,
//!              (Cisco Certificate       template} ──► OnlineCa::enroll ──► LSC (or CaError)
//!               Enrollment Service)    a simulated Microsoft enterprise CA: root → issuing CA
//!  Offline CA: CAPF records a PendingCsr (pending.rs) ──► admin submits it ──► OfflineCa::sign
//!              ──► admin uploads the certificate (pending::CsrBook::upload)
//! ```
//!
//! Both CAs are an RSA-2048 root and an RSA-2048 issuing CA ([`CaHierarchy`]), keys and serials
//! from [`KeyForge`](crate::pki::KeyForge) labels under the CA's label, so a seed gives the same bytes every run. Time
//! is always an argument. What the reference and the seed fix \[C\], and what is chosen here \[I\]:
//!
//! | what | value | source |
//! |---|---|---|
//! | Online CA type | Microsoft CA only; needs the Cisco Certificate Enrollment Service | [C S14] |
//! | ECDSA phone keys | refused by the Online CA: [`CaError::EcdsaNotSupported`] | [C S14, 14SU2 guide] |
//! | CA answering in a language other than English | the feature does not work: [`CaError::NotEnglish`] | [C seed 003] |
//! | LSC without Digital Signature + Key Encipherment | secure registration fails: [`lsc_usable_for_secure_registration`] | [C S14] |
//! | Online CA hostname | must equal the CN of the CA's IIS HTTPS certificate: [`OnlineCa::check_endpoint`] | [C seed 003] |
//! | Online CA LSC validity | the CA's template decides ("as long as the CA allows") | [C seed 003] |
//! | port | 443 (the seed's "e.g. 443") | \[I\] |
//! | template | [`DEFAULT_TEMPLATE`] `CiscoRA`: DS + KE, serverAuth + clientAuth, 730 days | \[I\] |
//! | LSC subject | `CN=<device name>` ([`LscCommonName::DeviceName`](crate::capf::LscCommonName::DeviceName)), SAN URI = device name | \[I\] |
//! | serials | 19 bytes, as Microsoft AD CS writes them | \[I\] |
//! | CA validity | root 20 years, issuing CA 10 years; an LSC never outlives its issuer | \[I\] |
//! | validity days | 1..=1825 (the CAPF's range) checked on every template | [C S14] for the range |
//!
//! "CA unreachable" and mTLS (unsupported by the Online CA feature) are the caller's concern.
//!
//! | file | role |
//! |---|---|
//! | `template.rs` | what an issued LSC carries ([`CaTemplate`]), and whether it serves secure registration |
//! | `hierarchy.rs` | a root and an issuing CA ([`CaHierarchy`]); signing a key the CA never holds |
//! | `online.rs` | the Online CA: settings, CAPF's parameters, the enrolment request, [`OnlineCa`] |
//! | `offline.rs` | the Offline CA: [`OfflineCa`] signs a pending request |

mod hierarchy;
mod offline;
mod online;
mod template;

pub use hierarchy::{CaHierarchy, CaNames};
pub use offline::OfflineCa;
pub use online::{EnrollRequest, OnlineCa, OnlineCaParams, OnlineCaSettings};
pub use template::{lsc_usable_for_secure_registration, CaTemplate, LscUsageProblem};

use super::keys::KeyError;
use crate::error::CertError;
use crate::wall::WallTime;
use thiserror::Error;

/// The default Online CA template name \[I\]: a Microsoft CA template the administrator creates
/// for LSCs (the seed: "enter the name of the template; the Microsoft CA creates the template").
pub const DEFAULT_TEMPLATE: &str = "CiscoRA";

/// Length of the serials the simulated CAs write: 19 bytes, like Microsoft AD CS \[I\].
pub const SERIAL_LEN: usize = 19;

/// Why a CA issued nothing. The Display texts are the trace lines.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CaError {
    #[error("Online CA refused the credentials of user {username:?}")]
    BadCredentials { username: String },
    #[error("Online CA has no certificate template {template:?}")]
    UnknownTemplate { template: String },
    #[error("Online CA does not support ECDSA")]
    EcdsaNotSupported,
    #[error("Online CA answered in a language other than English; the Cisco Certificate Enrollment Service cannot read the answer")]
    NotEnglish,
    #[error("Online CA hostname {configured:?} does not match the CN {certificate_cn:?} of the CA's HTTPS certificate")]
    HostnameMismatch {
        configured: String,
        certificate_cn: String,
    },
    #[error("Online CA port {configured} is not the CA's HTTPS port {actual}")]
    WrongPort { configured: u16, actual: u16 },
    #[error("validity of {days} days is outside 1..=1825")]
    Validity { days: u32 },
    #[error("device name {0:?} is not a device name")]
    DeviceName(String),
    #[error("issuing CA {subject} is not valid at {now}")]
    CaNotValid { subject: String, now: WallTime },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot issue the certificate: {0}")]
    Issue(#[from] CertError),
}

#[cfg(test)]
mod tests;
