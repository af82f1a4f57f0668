//! The phone side of trust: what a phone holds (CTL, ITL, TVS cache) and the rules by which it
//! accepts a new trust list or configuration file (reference §2.3). The boot pipeline that
//! drives these rules (DHCP → CTL → ITL → config → register) builds on [`trust`].

pub mod caps;
pub mod decision;
pub mod https;
pub mod trust;

pub use decision::{Decision, FileKind, TrustError, TrustPath};
pub use trust::PhoneTrust;

#[cfg(test)]
mod trust_tests;
