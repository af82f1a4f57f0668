//! The phone side of trust: what a phone holds (CTL, ITL, TVS cache) and the rules by which it
//! accepts a new trust list or configuration file (reference §2.3). The boot pipeline that
//! drives these rules (DHCP → CTL → ITL → config → register) builds on [`trust`].
//!
//! ```text
//!  decision.rs  FileKind, Decision, TrustPath, TrustError: what the rules decide, and why
//!  caps.rs      a model's limits (F9 ITL size, F27 RSA key length, F28 digests, F30 SBD)
//!  trust.rs     PhoneTrust: what a phone holds and the §2.3 rules (uses decision, caps)
//!  https.rs     HTTPS services verified through the CTL/ITL or TVS (uses trust)
//! ```

pub mod caps;
pub mod decision;
pub mod https;
pub mod trust;

pub use decision::{Decision, FileKind, TrustError, TrustPath};
pub use trust::PhoneTrust;

#[cfg(test)]
mod trust_tests;
