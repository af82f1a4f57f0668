//! What a phone model can handle, as settings: the ITL size limit (F9), the longest RSA key
//! it verifies (F27) and the file-signature digests it verifies (F28).
//!
//! ```text
//!  fleet settings ──► PhoneCaps ──apply (in trust.rs)──► PhoneTrust{digests, limits}
//!  new ITL ──► Limits::itl_refusal (certificates with a certificate TLV, file bytes)
//!  signer key ──► Limits::key_refusal (RSA modulus bits)
//! ```
//! Security By Default can be off for a model (F30): it then trusts its CTL alone.
//!
//! Numbers: "more than 39 certificates … exceeds 64 kilobytes … causing the phone
//! registration to fail" [C S10/S11] gives the defaults 39 certificates and 65,536 bytes; how a
//! phone counts certificates is [I] (records that carry a certificate, so the TFTP node's
//! CallManager counts twice). Which models refuse RSA keys over 2048 bits (F27) or SHA-512
//! signatures (F28) Cisco does not list: "some phone models" [C S12] — so both are per-fleet
//! settings [I], and the default model handles every key and digest.

use super::decision::{FileKind, TrustError};
use crate::digest::DigestAlg;
use crate::pki::{KeyProfile, PublicKey};
use crate::tlv::content::{ITL_MAX_BYTES, ITL_MAX_CERTS};
use crate::tlv::parse_shared;

/// A phone model's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// An ITL with more certificates than this is refused (F9).
    pub itl_max_certs: usize,
    /// An ITL of more bytes than this is refused (F9).
    pub itl_max_bytes: usize,
    /// The longest RSA key whose signatures the model verifies (F27); `None`: any.
    pub max_rsa_bits: Option<u32>,
    /// Security By Default (ITL + TVS, CUCM 8.0+ phones). Without it (7940/7960, Jabber,
    /// some TelePresence) the phone fetches no ITL and asks no TVS: a CTL is all it trusts
    /// (F30).
    pub security_by_default: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            itl_max_certs: ITL_MAX_CERTS,
            itl_max_bytes: ITL_MAX_BYTES,
            max_rsa_bits: None,
            security_by_default: true,
        }
    }
}

impl Limits {
    /// Why a new file of `kind` is refused for its size, if it is (ITLs only).
    pub fn itl_refusal(&self, kind: FileKind, raw: &[u8]) -> Option<TrustError> {
        if kind != FileKind::Itl {
            return None;
        }
        let certs = parse_shared(raw)
            .map(|l| l.records.iter().filter(|r| r.certificate.is_some()).count())
            .unwrap_or(0);
        (certs > self.itl_max_certs || raw.len() > self.itl_max_bytes).then_some(
            TrustError::ItlTooLarge {
                certs,
                bytes: raw.len(),
                max_certs: self.itl_max_certs,
                max_bytes: self.itl_max_bytes,
            },
        )
    }

    /// Why a signature by `key` is refused, if it is (an RSA key over the model's limit).
    pub fn key_refusal(&self, key: &PublicKey) -> Option<TrustError> {
        match (key.profile(), self.max_rsa_bits) {
            (KeyProfile::Rsa { bits }, Some(max)) if bits > max => {
                Some(TrustError::KeyTooLong { bits, max })
            }
            _ => None,
        }
    }
}

/// A fleet's model capabilities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneCaps {
    pub limits: Limits,
    /// File-signature digests the model verifies.
    pub digests: Vec<DigestAlg>,
}

impl Default for PhoneCaps {
    fn default() -> Self {
        PhoneCaps {
            limits: Limits::default(),
            digests: DigestAlg::ALL.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::KeyForge;

    #[test]
    fn rsa_keys_over_the_limit_are_refused_and_ec_keys_pass() {
        let forge = KeyForge::new(9);
        let rsa = forge.key("caps/rsa", KeyProfile::RSA2048).public_key();
        let ec = forge.key("caps/ec", KeyProfile::EcP256).public_key();
        let mut l = Limits::default();
        assert_eq!(l.key_refusal(&rsa), None);
        l.max_rsa_bits = Some(1024);
        assert_eq!(
            l.key_refusal(&rsa),
            Some(TrustError::KeyTooLong {
                bits: 2048,
                max: 1024
            })
        );
        assert_eq!(l.key_refusal(&ec), None);
    }

    #[test]
    fn the_itl_limit_counts_certificates_and_bytes() {
        let itl = include_bytes!("../../testdata/ITLFile.tlv");
        let certs = parse_shared(itl)
            .unwrap()
            .records
            .iter()
            .filter(|r| r.certificate.is_some())
            .count();
        let mut l = Limits::default();
        assert_eq!(l.itl_refusal(FileKind::Itl, itl), None);
        assert_eq!(l.itl_refusal(FileKind::Ctl, itl), None);
        l.itl_max_certs = certs - 1;
        assert!(matches!(
            l.itl_refusal(FileKind::Itl, itl),
            Some(TrustError::ItlTooLarge { .. })
        ));
        l.itl_max_certs = certs;
        l.itl_max_bytes = itl.len() - 1;
        assert!(l.itl_refusal(FileKind::Itl, itl).is_some());
    }
}
