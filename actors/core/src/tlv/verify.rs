//! Verifying a trust list's signature: find the signer record (a SAST record whose serial —
//! and issuer, when both name one — match SIGNERID), take its key, check the signature over
//! the file minus the SIGNATURE TLV.
//!
//! usecallmanager matches on serial only; real phones likely match serial + issuer [I]. Here
//! the issuer must match when both the header and the record carry one, compared with
//! [`crate::pki::dn::normalize`] so `,`-separated names from other tools still match.

use super::parse::{signed_bytes, Header, Record, TrustList};
use super::tags::{Role, MODULUS_BYTES, SIG_ALG_ECDSA_P256, SIG_ALG_RSA};
use crate::pki::dn;
use crate::pki::keys::{Backend, PublicKey};
use crate::pki::Certificate;
use thiserror::Error;

/// Why a trust list's signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("the header has no SIGNATURE (tag 12)")]
    NoSignature,
    #[error("the header does not name a signer serial (tag 5)")]
    NoSignerInHeader,
    #[error("no SAST record matches signer serial {serial} issuer {issuer}")]
    NoSignerRecord { serial: String, issuer: String },
    #[error("unknown digest code {0} (tag 8)")]
    UnsupportedDigest(u8),
    #[error("unknown signature algorithm {0} (tag 10)")]
    UnsupportedAlgorithm(u8),
    #[error("signer record has no usable key: {0}")]
    BadSignerKey(String),
    #[error("signature length {found} does not match the signer key ({expected} bytes)")]
    LengthMismatch { found: usize, expected: usize },
    #[error("the signature does not verify")]
    Mismatch,
}

/// Finds the record among `records` whose role is in `roles` and whose serial (and issuer)
/// match the header's signer.
pub fn find_signer<'a>(
    header: &Header,
    records: &'a [Record],
    roles: &[Role],
) -> Option<&'a Record> {
    let serial = header.signer_serial.as_deref()?;
    let issuer = header.signer_issuer.as_deref().map(dn::normalize);
    records.iter().find(|r| {
        r.role.is_some_and(|role| roles.contains(&role))
            && r.serial.as_deref() == Some(serial)
            && match (&issuer, r.issuer.as_deref()) {
                (Some(want), Some(have)) => dn::normalize(have) == *want,
                _ => true,
            }
    })
}

/// The public key of a record: from its certificate, else from its PUBLICKEY tag.
pub fn record_key(record: &Record) -> Result<PublicKey, VerifyError> {
    if let Some(der) = &record.certificate {
        let cert =
            Certificate::from_der(der).map_err(|e| VerifyError::BadSignerKey(e.to_string()))?;
        if let Some(k) = cert.public_key() {
            return Ok(k.clone());
        }
    }
    match &record.public_key {
        Some(bytes) => PublicKey::from_record_bytes(bytes)
            .map_err(|e| VerifyError::BadSignerKey(e.to_string())),
        None => Err(VerifyError::BadSignerKey(
            "no certificate or public key".into(),
        )),
    }
}

/// Verifies the header's signature over `raw` with `key`.
pub fn verify_signature(
    raw: &[u8],
    header: &Header,
    key: &PublicKey,
    backend: Backend,
) -> Result<(), VerifyError> {
    let sig = header
        .signature
        .as_deref()
        .ok_or(VerifyError::NoSignature)?;
    let code = header.digest_code.unwrap_or(1);
    let digest = header
        .digest()
        .ok_or(VerifyError::UnsupportedDigest(code))?;
    match (header.signature_algorithm.unwrap_or(SIG_ALG_RSA), key) {
        (SIG_ALG_RSA, PublicKey::Rsa(_)) => {
            let expected = key
                .profile()
                .name()
                .trim_start_matches("rsa")
                .parse::<usize>()
                .unwrap_or(0)
                / 8;
            if sig.len() != expected {
                return Err(VerifyError::LengthMismatch {
                    found: sig.len(),
                    expected,
                });
            }
            if let Some(idx) = header.modulus_index {
                if MODULUS_BYTES.get(idx as usize) != Some(&expected) {
                    return Err(VerifyError::LengthMismatch {
                        found: sig.len(),
                        expected,
                    });
                }
            }
        }
        (SIG_ALG_ECDSA_P256, PublicKey::EcP256(_)) => {}
        (SIG_ALG_RSA | SIG_ALG_ECDSA_P256, _) => return Err(VerifyError::Mismatch),
        (other, _) => return Err(VerifyError::UnsupportedAlgorithm(other)),
    }
    let signed = signed_bytes(raw, header);
    key.verify(backend, digest, &signed, sig)
        .map_err(|_| VerifyError::Mismatch)
}

impl TrustList {
    /// The SAST record that signed this file, per the header.
    pub fn signer_record(&self) -> Option<&Record> {
        find_signer(&self.header, &self.records, &[Role::Sast])
    }

    /// Verifies the file against its own signer record (what `show itl` reports). Returns the
    /// index of the signer record.
    pub fn verify_self(&self, backend: Backend) -> Result<usize, VerifyError> {
        if self.header.signature.is_none() {
            return Err(VerifyError::NoSignature);
        }
        let serial = self
            .header
            .signer_serial
            .as_deref()
            .ok_or(VerifyError::NoSignerInHeader)?;
        let record = self
            .signer_record()
            .ok_or_else(|| VerifyError::NoSignerRecord {
                serial: hex::encode(serial),
                issuer: self.header.signer_issuer.clone().unwrap_or_default(),
            })?;
        let key = record_key(record)?;
        verify_signature(&self.raw, &self.header, &key, backend)?;
        Ok(self
            .records
            .iter()
            .position(|r| std::ptr::eq(r, record))
            .unwrap_or(0))
    }

    /// Verifies the file with a key the caller trusts (e.g. from the phone's current ITL or a
    /// certificate TVS returned).
    pub fn verify_with(&self, key: &PublicKey, backend: Backend) -> Result<(), VerifyError> {
        verify_signature(&self.raw, &self.header, key, backend)
    }
}
