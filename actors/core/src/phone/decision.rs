//! What the trust rules decide about a new CTL, ITL or signed config file, and why: the
//! vocabulary shared by the rules (`trust.rs`) and the model's limits (`caps.rs`).
//!
//! ```text
//!  (FileKind, file) ──► PhoneTrust::judge ──► Decision::Accept(TrustPath)
//!                                           ├► Decision::AskTvs { subject, issuer, serial }
//!                                           └► Decision::Reject(TrustError)
//! ```

use crate::digest::DigestAlg;
use crate::tlv::VerifyError;
use thiserror::Error;

/// What kind of file is being judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Ctl,
    Itl,
    Config,
}

/// How a file came to be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustPath {
    /// The phone held no ITL and no CTL.
    FirstUse,
    /// The phone holds the rollback ITL: anything goes.
    RollbackItl,
    /// Signed by a certificate in the phone's CTL.
    Ctl,
    /// Signed by a certificate in the phone's ITL.
    Itl,
    /// Signed by a certificate TVS vouched for (now or from the 24-hour cache).
    Tvs { cached: bool },
}

/// Why a file was refused. The phone keeps its old trust.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TrustError {
    #[error("signer {subject} (serial {serial}) is not in the phone's CTL/ITL and TVS did not vouch for it")]
    UnknownSigner { subject: String, serial: String },
    #[error("TVS answered that the signer is not valid")]
    TvsDenied,
    #[error("TVS vouched for the signer without the role {needed}")]
    TvsWrongRole { needed: String },
    #[error("the file's signature does not verify: {0}")]
    BadSignature(VerifyError),
    #[error("the file is not signed")]
    Unsigned,
    #[error("the file is signed with {0}, which this phone model cannot verify")]
    UnsupportedDigest(DigestAlg),
    /// F9: the ITL is over the phone's size limit.
    #[error("the ITL holds {certs} certificates in {bytes} bytes, over this phone's limit of {max_certs} certificates / {max_bytes} bytes")]
    ItlTooLarge {
        certs: usize,
        bytes: usize,
        max_certs: usize,
        max_bytes: usize,
    },
    /// F27: the signer's RSA key is longer than this phone model handles.
    #[error("the signer's RSA key has {bits} bits; this phone model handles at most {max}")]
    KeyTooLong { bits: u32, max: u32 },
}

/// What the phone does next with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept(TrustPath),
    /// Ask a TVS from the current config for the signer (QUERY_CERT_REQ).
    AskTvs {
        subject: String,
        issuer: String,
        serial: Vec<u8>,
    },
    Reject(TrustError),
}
