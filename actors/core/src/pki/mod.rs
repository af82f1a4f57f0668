//! Public-key infrastructure: keys, certificates, CUCM identities, the manufacturing CA,
//! trust stores and chain checks.
//!
//! ```text
//!  keys ──► cert (rcgen issue / x509-parser read) ──► identity (node certificates)
//!                                     │                mic (Cisco root → manufacturing CA → MIC)
//!                                     ▼
//!                          store (named trust stores) ──► chain (verify at a wall time)
//!  signer (RSA backends: aws-lc, ring, rsa) ◄── keys ──► sigcache (signatures kept by digest)
//! ```

pub mod awslc;
pub mod cert;
pub mod chain;
pub mod cluster;
pub mod dn;
pub mod identity;
pub mod keys;
pub mod mic;
pub mod ops;
pub mod regen;
pub mod rsagen;
pub mod shared_cert;
pub mod sigcache;
pub mod signer;
#[cfg(test)]
mod signer_tests;
pub mod store;
pub mod tls_signer;

pub use cert::{CertSpec, Certificate, ExtKeyUsage, KeyUsage};
pub use dn::DistinguishedName;
pub use identity::{CertType, Identity, NodeNames};
pub use keys::{Backend, KeyForge, KeyProfile, PrivateKey, PublicKey};
pub use signer::{rsa_backend, set_rsa_backend, RsaBackend};
pub use store::{StoreName, TrustStore};
