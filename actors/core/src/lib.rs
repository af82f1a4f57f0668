//! # cucmsim-core: the pure core of the simulator
//!
//! Everything a CUCM cluster and a phone exchange, as real bytes, with no I/O:
//!
//! ```text
//!  seed ──► pki::KeyForge ──► keys (RSA-2048 / EC P-256, deterministic)
//!                 │
//!                 ▼
//!   pki::identity (CallManager, TVS, CAPF, ITLRecovery, …)   pki::mic (Cisco manufacturing CA → MIC)
//!                 │                                                 │
//!                 ▼                                                 ▼
//!   tlv (ITL/CTL build · sign · parse · verify)   sgn (SEP<MAC>.cnf.xml.sgn)   pkcs12 (bulk export)
//!                 │
//!                 ▼
//!   pki::store (CallManager-trust, Phone-SAST-trust, …)  ◄── pki::chain (validity at a given wall time)
//! ```
//!
//! Rules this crate keeps (design.md): it depends on no tokio, ractor or quinn; it never reads a
//! clock — wall time is always an argument ([`WallTime`]); every random choice comes from a seed.
//! The one exception is the PKCS#12 writer's salts, drawn by the `p12-keystore` crate from the OS
//! (see [`pkcs12`]); the certificates and keys inside are still seed-determined.

pub mod capf;
pub mod digest;
pub mod error;
pub mod machine;
pub mod phone;
pub mod pkcs12;
pub mod pki;
pub mod sgn;
pub mod tls;
pub mod tlv;
pub mod tvs;
pub mod wall;

pub use digest::DigestAlg;
pub use error::{CertError, SigError};
pub use wall::WallTime;
