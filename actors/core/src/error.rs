//! Typed errors of the core. Rejections are values the simulation observes (design.md
//! principle 5): a phone refusing a file records the reason, it does not crash.

use crate::wall::WallTime;
use thiserror::Error;

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SigError {
    /// The signature bytes do not match the data under that key.
    #[error("signature does not verify")]
    Mismatch,
    /// The key type cannot make or check this kind of signature.
    #[error("key type {key} cannot be used with {what}")]
    Unsupported { key: &'static str, what: String },
    /// A key or signature could not be decoded.
    #[error("malformed key or signature: {0}")]
    Malformed(String),
}

/// Why a certificate is not accepted, judged at a given wall time.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertError {
    /// The certificate's notAfter is before `now` (by the host's own clock).
    #[error("certificate {subject} expired: now {now}, not after {not_after}")]
    Expired {
        subject: String,
        now: WallTime,
        not_after: WallTime,
    },
    /// The certificate's notBefore is after `now`.
    #[error("certificate {subject} not yet valid: now {now}, not before {not_before}")]
    NotYetValid {
        subject: String,
        now: WallTime,
        not_before: WallTime,
    },
    /// No certificate in the trust store or chain issued this one.
    #[error("issuer {issuer} of {subject} is not trusted")]
    UnknownIssuer { subject: String, issuer: String },
    /// The issuer's key does not verify the certificate's signature.
    #[error("bad signature on {subject}")]
    BadSignature { subject: String },
    /// An issuer in the chain is not a CA (basicConstraints CA:FALSE or no keyCertSign).
    #[error("{issuer} is not a CA and cannot issue {subject}")]
    IssuerNotCa { subject: String, issuer: String },
    /// The chain is longer than allowed.
    #[error("chain too long")]
    ChainTooLong,
    /// The DER could not be parsed.
    #[error("malformed certificate: {0}")]
    Malformed(String),
}
