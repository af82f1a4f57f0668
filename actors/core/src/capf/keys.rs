//! Key material on the CAPF wire: what KEY_GEN_REQ asks for ([`KeySpec`]), the PUBLIC_KEY the
//! phone answers with (SubjectPublicKeyInfo DER), and the proof that a phone holds the key of
//! its existing certificate (SIGNED_DATA, SHA2_SIGNED_DATA).
//!
//! ```text
//!  KEY_GEN_REQ{KEY_TYPE, KEY_SIZE | CURVE} ──► KeySpec ──► KeyProfile (KeyForge makes the key)
//!  KEY_GEN_RES{PUBLIC_KEY = SPKI DER}      ──► public_key_from_spki ──► PublicKey
//!  auth data = device name ‖ 00 ‖ certificate DER
//!    RSA: SIGNED_DATA = RSA "private-encrypt" (PKCS#1 type-1 padding, raw hash, no DigestInfo)
//!         of SHA-1(auth data); SHA2_SIGNED_DATA = {3}{len16}{same with SHA-512}
//!    EC:  ECDSA-SHA1 / ECDSA-SHA512 (DER) over the auth data            [OSS S2]
//! ```
//! CUCM offers RSA 512/1024/2048/3072/4096 and EC 256/384/521 [C S15]. This crate makes RSA of
//! every one of those sizes and EC on P-256 only; P-384 and P-521 give
//! [`KeyError::Unsupported`] — a limit of this simulator, not of CUCM.
//!
//! The RSA proof is checked with the `rsa` crate's unprefixed PKCS#1 v1.5 scheme: the raw public
//! operation followed by a strict type-1 unpadding (usecallmanager only compares the hash at the
//! tail, so it accepts a superset of what is accepted here).

use super::codes::{Curve, KeyType};
use super::wire::{CapfMessage, Element};
use crate::digest::DigestAlg;
use crate::error::SigError;
use crate::pki::keys::EcdsaEncoding;
use crate::pki::{Backend, KeyProfile, PrivateKey, PublicKey};
use rsa::traits::PublicKeyParts;
use thiserror::Error;

/// Digest code of SHA2_SIGNED_DATA: 3 = SHA-512 [OSS S2].
pub const SHA512_CODE: u8 = 3;

/// The key a KEY_GEN_REQ asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySpec {
    Rsa { bits: u16 },
    Ec(Curve),
}

/// Why a key cannot be asked for, made or read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("{what}: offered by CUCM but unsupported by this simulator (it makes RSA and EC P-256 keys)")]
    Unsupported { what: String },
    #[error("{what}: not a key CUCM offers")]
    Invalid { what: String },
    #[error("malformed public key: {0}")]
    Malformed(String),
}

impl KeySpec {
    /// RSA key sizes CUCM offers [C S15].
    pub const RSA_BITS: [u16; 5] = [512, 1024, 2048, 3072, 4096];

    /// The crate's key profile for this spec, or why there is none.
    pub fn profile(self) -> Result<KeyProfile, KeyError> {
        match self {
            KeySpec::Rsa { bits } if KeySpec::RSA_BITS.contains(&bits) => Ok(KeyProfile::Rsa {
                bits: u32::from(bits),
            }),
            KeySpec::Ec(Curve::P256) => Ok(KeyProfile::EcP256),
            KeySpec::Ec(c @ (Curve::P384 | Curve::P521)) => Err(KeyError::Unsupported {
                what: format!("EC {}", c.bits().unwrap_or_default()),
            }),
            other => Err(KeyError::Invalid {
                what: format!("{other:?}"),
            }),
        }
    }

    /// The spec a public key satisfies.
    pub fn of(public: &PublicKey) -> KeySpec {
        match public {
            PublicKey::Rsa(k) => KeySpec::Rsa {
                bits: u16::try_from(k.size() * 8).unwrap_or(u16::MAX),
            },
            PublicKey::EcP256(_) => KeySpec::Ec(Curve::P256),
        }
    }

    /// KEY_GEN_REQ elements. `key_type` adds KEY_TYPE for RSA too (EC always carries it).
    pub fn request_elements(self, key_type: bool) -> Vec<Element> {
        match self {
            KeySpec::Rsa { bits } if key_type => {
                vec![Element::KeyType(KeyType::Rsa), Element::KeySize(bits)]
            }
            KeySpec::Rsa { bits } => vec![Element::KeySize(bits)],
            KeySpec::Ec(c) => vec![Element::KeyType(KeyType::Ec), Element::Curve(c)],
        }
    }

    /// Reads a KEY_GEN_REQ. No KEY_TYPE means RSA: the real CUCM in the Jabber4Linux capture
    /// sent only `{0a}[00 02] 08 00` [OSS S4].
    pub fn from_request(msg: &CapfMessage) -> Result<KeySpec, KeyError> {
        match msg.key_type().unwrap_or(KeyType::Rsa) {
            KeyType::Rsa => msg
                .key_size()
                .map(|bits| KeySpec::Rsa { bits })
                .ok_or_else(|| KeyError::Invalid {
                    what: "RSA request without KEY_SIZE".into(),
                }),
            KeyType::Ec => msg
                .curve()
                .map(KeySpec::Ec)
                .ok_or_else(|| KeyError::Invalid {
                    what: "EC request without CURVE".into(),
                }),
            KeyType::Other(c) => Err(KeyError::Invalid {
                what: format!("KEY_TYPE {c}"),
            }),
        }
    }
}

/// The SubjectPublicKeyInfo DER of `public` (what PUBLIC_KEY carries).
pub fn spki_der(public: &PublicKey) -> Result<Vec<u8>, KeyError> {
    use p256::pkcs8::EncodePublicKey;
    let doc = match public {
        PublicKey::Rsa(k) => k.to_public_key_der(),
        PublicKey::EcP256(k) => k.to_public_key_der(),
    };
    doc.map(|d| d.as_bytes().to_vec())
        .map_err(|e| KeyError::Malformed(e.to_string()))
}

const RSA_OID: &str = "1.2.840.113549.1.1.1";
const EC_OID: &str = "1.2.840.10045.2.1";

/// Reads a PUBLIC_KEY element. Never panics, whatever the bytes.
pub fn public_key_from_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::SubjectPublicKeyInfo;
    let malformed = |e: String| KeyError::Malformed(e);
    let (rest, spki) = SubjectPublicKeyInfo::from_der(der).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the key", rest.len())));
    }
    let bits = &spki.subject_public_key.data;
    match spki.algorithm.algorithm.to_id_string().as_str() {
        RSA_OID => rsa::RsaPublicKey::from_pkcs1_der(bits)
            .map(PublicKey::Rsa)
            .map_err(|e| malformed(format!("RSA key: {e}"))),
        EC_OID => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                    .map(PublicKey::EcP256)
                    .map_err(|e| malformed(format!("P-256 point: {e}"))),
                "1.3.132.0.34" => Err(KeyError::Unsupported {
                    what: "EC 384".into(),
                }),
                "1.3.132.0.35" => Err(KeyError::Unsupported {
                    what: "EC 521".into(),
                }),
                other => Err(KeyError::Invalid {
                    what: format!("EC curve {other:?}"),
                }),
            }
        }
        other => Err(KeyError::Invalid {
            what: format!("key algorithm {other}"),
        }),
    }
}

/// What the existing-certificate proof signs: device name ‖ 00 ‖ certificate DER.
pub fn auth_data(device: &str, cert_der: &[u8]) -> Vec<u8> {
    [device.as_bytes(), &[0], cert_der].concat()
}

/// SIGNED_DATA and, when the key can make it, the SHA-512 signature of SHA2_SIGNED_DATA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub signed_data: Vec<u8>,
    /// `None` for RSA keys too small for a padded SHA-512 hash (RSA-512: 64 + 11 > 64 bytes).
    pub sha512: Option<Vec<u8>>,
}

/// Signs the auth data with the phone's existing key.
pub fn prove(key: &PrivateKey, device: &str, cert_der: &[u8]) -> Result<Proof, SigError> {
    let data = auth_data(device, cert_der);
    match key {
        PrivateKey::Rsa { key, .. } => {
            let raw = |d: DigestAlg| {
                key.sign(rsa::Pkcs1v15Sign::new_unprefixed(), &d.hash(&data))
                    .map_err(|e| SigError::Malformed(e.to_string()))
            };
            Ok(Proof {
                signed_data: raw(DigestAlg::Sha1)?,
                sha512: raw(DigestAlg::Sha512).ok(),
            })
        }
        PrivateKey::EcP256(_) => {
            let sign = |d| key.sign(Backend::RustCrypto, d, &data, EcdsaEncoding::Der);
            Ok(Proof {
                signed_data: sign(DigestAlg::Sha1)?,
                sha512: Some(sign(DigestAlg::Sha512)?),
            })
        }
    }
}

/// Why an existing-certificate proof was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProofError {
    #[error("no SIGNED_DATA")]
    MissingSignedData,
    #[error("no SHA2_SIGNED_DATA")]
    MissingSha2,
    #[error("SHA2_SIGNED_DATA digest code {0}, expected 3 (SHA-512)")]
    Sha2Digest(u8),
    #[error("SIGNED_DATA does not verify under the certificate's key")]
    Sha1Mismatch,
    #[error("SHA2_SIGNED_DATA does not verify under the certificate's key")]
    Sha2Mismatch,
}

/// Checks SIGNED_DATA (required) and SHA2_SIGNED_DATA (required when `require_sha2`, checked
/// whenever present) against the certificate's public key.
pub fn check_proof(
    public: &PublicKey,
    device: &str,
    cert_der: &[u8],
    msg: &CapfMessage,
    require_sha2: bool,
) -> Result<(), ProofError> {
    let data = auth_data(device, cert_der);
    let verify = |d: DigestAlg, sig: &[u8]| match public {
        PublicKey::Rsa(k) => k
            .verify(rsa::Pkcs1v15Sign::new_unprefixed(), &d.hash(&data), sig)
            .is_ok(),
        PublicKey::EcP256(_) => public.verify(Backend::RustCrypto, d, &data, sig).is_ok(),
    };
    let sha1 = msg.signed_data().ok_or(ProofError::MissingSignedData)?;
    if !verify(DigestAlg::Sha1, sha1) {
        return Err(ProofError::Sha1Mismatch);
    }
    match msg.sha2_signed_data() {
        None if require_sha2 => Err(ProofError::MissingSha2),
        None => Ok(()),
        Some((code, _)) if code != SHA512_CODE => Err(ProofError::Sha2Digest(code)),
        Some((_, sig)) if !verify(DigestAlg::Sha512, sig) => Err(ProofError::Sha2Mismatch),
        Some(_) => Ok(()),
    }
}
