//! CAPF (Certificate Authority Proxy Function, reference §3): the protocol on TLS port 3804 by
//! which CUCM installs, deletes and fetches a phone's LSC — as pure building blocks. No I/O and
//! no clock: every call takes the caller's wall time, and a session is fed decoded messages.
//!
//! An install session (Install/Upgrade, reference §3.2):
//!
//! ```text
//!   CapfSession (CUCM, server.rs)                    CapfClient (phone, client.rs)
//!   start(id) ── AUTH_REQ{VERSION 3, AUTH_TYPE} ───────────►  flash := auth mode
//!             ◄── AUTH_RES{REASON 1, DEVICE_NAME, PASSWORD | CERTIFICATE + SIGNED_DATA} ──
//!   device record: unknown → END 9, no op → END 0, deadline/auth fails → END 7
//!   key order → ── KEY_GEN_REQ{KEY_TYPE, KEY_SIZE | CURVE} ─►  key from KeyForge
//!             ◄── REQUEST_IN_PROGRESS ─────────────────────   (KeyGenStarted: the caller
//!             ◄── KEY_GEN_RES{PUBLIC_KEY = SPKI} ───────────    delays this by model)
//!   lsc::issue_lsc (CAPF-signed, SHA-256)
//!             ── STORE_CERT_REQ{CERT_TYPE 1, CERTIFICATE} ──►  chains to CAPF? store it
//!             ◄── STORE_CERT_RES{REASON 1} ─────────────────
//!   Outcome::Issued ── END_SESSION{REASON 1} ──────────────►  ClientOutcome::Installed
//! ```
//!
//! | file | role |
//! |---|---|
//! | [`codes`] | commands 1..23, element tags, REASON / AUTH_TYPE / KEY_TYPE / CURVE / cert type |
//! | [`wire`], [`fields`] | the 8-byte header and TLV body: encode, decode (typed errors with byte offsets), typed reads |
//! | [`keys`] | KEY_GEN_REQ key specs, PUBLIC_KEY as SPKI, the SIGNED_DATA proof of an existing certificate |
//! | [`lsc`] | the LSC template and issuance; the F13 check of the CAPF certificate |
//! | [`device`] | the CUCM device record (operation, auth mode, key order, deadline, status), and how a session's [`Outcome`] changes it |
//! | [`server`], [`settings`] | [`CapfSession`]: one session on the CUCM side; [`CapfSettings`] |
//! | [`client`] | [`CapfClient`]: the phone side |
//! | [`pending`] | the Offline CA bookkeeping: pending CSRs, uploaded certificates, stale LSCs |
//! | [`ca`] | LSC issuers other than CAPF: the Online CA and the Offline CA |
//! | [`ipv6`] | which address family a phone uses to reach CAPF, and the "Enable IPv6" rules |
//!
//! Where the reference is silent or marks something [I], the choice is a field of
//! [`CapfSettings`], [`LscTemplate`] or [`ClientSettings`], and its doc says so. TLS around the
//! messages is [`crate::tls`]'s job; [`wire::frame_len`] cuts messages out of the byte stream.
//! The session itself asks its caller for an external issuer's certificate ([`ca`]);
//! SUDI_DATA, keepalives and retries are not modelled here.

pub mod ca;
pub mod client;
pub mod codes;
pub mod device;
pub mod fields;
pub mod ipv6;
pub mod keys;
pub mod lsc;
pub mod pending;
pub mod server;
pub mod settings;
pub mod wire;

pub use client::{CapfClient, CapfFlash, ClientOutcome, ClientSettings, ClientStep, KeyGenStarted};
pub use codes::{
    AuthType, CertKind, Command, Curve, KeyType, Reason, PROTOCOL_ID, PROTOCOL_VERSION,
};
pub use device::{
    CapfAuth, CertOperation, CertPrecedence, DeviceRecord, KeyOrder, OperationStatus, Outcome,
    RecordError,
};
pub use keys::{KeyError, KeySpec};
pub use lsc::{capf_cert_usable, issue_lsc, CapfCertProblem, LscCommonName, LscError, LscTemplate};
pub use server::{CapfSession, Step};
pub use settings::{CapfSettings, DeviceLookup};
pub use wire::{frame_len, CapfMessage, DecodeError, DecodeErrorKind, Element, EncodeError};

#[cfg(test)]
mod ipv6_tests;
#[cfg(test)]
mod lsc_tests;
#[cfg(test)]
mod pending_tests;
#[cfg(test)]
mod session_fail_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod test_world;
#[cfg(test)]
mod wire_tests;
