//! Keys: RSA (PKCS#1 v1.5) and EC P-256 (ECDSA, RFC 6979), derived from the seed, cached, and
//! used through two interchangeable crypto backends.
//!
//! ```text
//!  KeyForge{seed} ──label──► SHA-256(seed‖profile‖label) ──► ChaCha20 ──► RSA-n / P-256 key
//!                                                   └── process-wide memo (RSA keygen is 65–200 ms)
//! ```
//!
//! Backends ([`Backend`]): `RustCrypto` (the `rsa` and `p256` crates) makes every signature the
//! formats need, including RSA with SHA-1 (CUCM's default file digest); `Ring` is the native
//! path: RSA through the process's RSA backend ([`super::signer`]: aws-lc by default, ring or
//! `rsa`), P-256 verification with SHA-256 through ring, the rest through RustCrypto. Both give
//! the same answer; only speed differs. Trust lists and signed configs sign through
//! [`PrivateKey::sign_cached`] ([`super::sigcache`]), so bytes signed again cost a look-up.

use super::signer::{rsa_backend, signer, RsaForms, RsaSigner, RustCryptoSigner};
use crate::digest::DigestAlg;
use crate::error::SigError;
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

/// The kind and size of a key, as a scenario names it: `rsa2048`, `rsa1024`, `ec256`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeyProfile {
    /// RSA with a modulus of `bits` bits (512–4096; CUCM default 2048).
    Rsa { bits: u32 },
    /// ECDSA on NIST P-256 (CallManager-ECDSA, CAPFv3 LSCs).
    EcP256,
}

impl KeyProfile {
    /// RSA-2048, CUCM's default for identity certificates.
    pub const RSA2048: KeyProfile = KeyProfile::Rsa { bits: 2048 };
    /// RSA-1024, legacy clusters (F10).
    pub const RSA1024: KeyProfile = KeyProfile::Rsa { bits: 1024 };

    /// Short name used in scenarios and reports.
    pub fn name(self) -> String {
        match self {
            KeyProfile::Rsa { bits } => format!("rsa{bits}"),
            KeyProfile::EcP256 => "ec256".to_string(),
        }
    }
}

impl fmt::Display for KeyProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for KeyProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase().replace(['-', '_'], "");
        if lower == "ec256" || lower == "ecp256" || lower == "ecdsa" || lower == "ec" {
            return Ok(KeyProfile::EcP256);
        }
        if let Some(bits) = lower.strip_prefix("rsa") {
            let bits: u32 = bits.parse().map_err(|_| format!("bad RSA size in {s:?}"))?;
            if [512, 1024, 2048, 3072, 4096].contains(&bits) {
                return Ok(KeyProfile::Rsa { bits });
            }
            return Err(format!(
                "RSA size {bits} not one of 512, 1024, 2048, 3072, 4096"
            ));
        }
        Err(format!(
            "unknown key profile {s:?} (expected rsa1024, rsa2048, rsa4096 or ec256)"
        ))
    }
}

impl TryFrom<String> for KeyProfile {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<KeyProfile> for String {
    fn from(p: KeyProfile) -> String {
        p.name()
    }
}

/// Which implementation computes signatures and verifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Pure Rust: the `rsa` and `p256` crates. Supports everything.
    RustCrypto,
    /// The native path: RSA through the process's RSA backend ([`super::signer`], aws-lc by
    /// default), P-256 SHA-256 verification through ring, RustCrypto for the rest.
    #[default]
    Ring,
}

impl Backend {
    /// Both backends, for benchmarks.
    pub const ALL: [Backend; 2] = [Backend::RustCrypto, Backend::Ring];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::RustCrypto => "rustcrypto",
            Backend::Ring => "ring",
        }
    }
}

/// How an ECDSA signature is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcdsaEncoding {
    /// ASN.1 DER `SEQUENCE { r, s }`, as in X.509.
    Der,
    /// Fixed 64-byte `r ‖ s`, used in ITL/CTL files (the project's extension of the format).
    Fixed,
}

/// A private key.
pub enum PrivateKey {
    /// RSA, with its native forms (aws-lc, ring) parsed on first use.
    Rsa {
        key: Box<rsa::RsaPrivateKey>,
        forms: Box<RsaForms>,
    },
    /// ECDSA P-256.
    EcP256(p256::ecdsa::SigningKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.profile())
    }
}

impl PrivateKey {
    /// Generates a key of `profile` from `rng`.
    pub fn generate(profile: KeyProfile, rng: &mut ChaCha20Rng) -> PrivateKey {
        match profile {
            // The `rsa` crate's key, found at aws-lc's speed (see `rsagen`).
            KeyProfile::Rsa { bits } if (1024..=8192).contains(&bits) => {
                PrivateKey::from_rsa(super::rsagen::generate(rng, bits as usize))
            }
            KeyProfile::Rsa { bits } => {
                let key = rsa::RsaPrivateKey::new(rng, bits as usize)
                    .expect("RSA generation with a supported size cannot fail");
                PrivateKey::from_rsa(key)
            }
            KeyProfile::EcP256 => PrivateKey::EcP256(p256::ecdsa::SigningKey::random(rng)),
        }
    }

    /// Wraps an RSA key.
    pub fn from_rsa(key: rsa::RsaPrivateKey) -> PrivateKey {
        PrivateKey::Rsa {
            key: Box::new(key),
            forms: Box::default(),
        }
    }

    /// Reads a PKCS#8 DER private key (RSA or P-256).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, SigError> {
        use rsa::pkcs8::DecodePrivateKey;
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(PrivateKey::from_rsa(k));
        }
        p256::ecdsa::SigningKey::from_pkcs8_der(der)
            .map(PrivateKey::EcP256)
            .map_err(|e| SigError::Malformed(format!("PKCS#8 key is neither RSA nor P-256: {e}")))
    }

    /// The key's profile.
    pub fn profile(&self) -> KeyProfile {
        match self {
            PrivateKey::Rsa { key, .. } => KeyProfile::Rsa {
                bits: (key.size() * 8) as u32,
            },
            PrivateKey::EcP256(_) => KeyProfile::EcP256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa { key, .. } => PublicKey::Rsa(key.to_public_key()),
            PrivateKey::EcP256(k) => PublicKey::EcP256(*k.verifying_key()),
        }
    }

    /// PKCS#8 DER encoding (for PKCS#12 bundles and rustls).
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        let doc = match self {
            PrivateKey::Rsa { key, .. } => key.to_pkcs8_der(),
            PrivateKey::EcP256(k) => k.to_pkcs8_der(),
        };
        doc.expect("encoding an in-memory key cannot fail")
            .as_bytes()
            .to_vec()
    }

    /// Signs `msg` hashed with `digest`. RSA: PKCS#1 v1.5. EC: ECDSA (RFC 6979, deterministic).
    pub fn sign(
        &self,
        backend: Backend,
        digest: DigestAlg,
        msg: &[u8],
        enc: EcdsaEncoding,
    ) -> Result<Vec<u8>, SigError> {
        let memo = RSA_MEMO_ON.load(std::sync::atomic::Ordering::Relaxed);
        self.sign_inner(backend, digest, msg, enc, memo)
    }

    /// [`sign`](Self::sign) through the signature cache ([`super::sigcache`]) for RSA on the
    /// native path (`Backend::Ring`, no backend forced on this thread): for bytes that may be
    /// signed again (trust lists, signed configuration files).
    pub fn sign_cached(
        &self,
        backend: Backend,
        digest: DigestAlg,
        msg: &[u8],
        enc: EcdsaEncoding,
    ) -> Result<Vec<u8>, SigError> {
        self.sign_inner(backend, digest, msg, enc, true)
    }

    fn sign_inner(
        &self,
        backend: Backend,
        digest: DigestAlg,
        msg: &[u8],
        enc: EcdsaEncoding,
        cached: bool,
    ) -> Result<Vec<u8>, SigError> {
        use super::ops::{count, Op};
        match self {
            PrivateKey::Rsa { key, forms } => {
                // Counted per call, kept signatures too (the scale bound's operations).
                count(match (key.size(), digest) {
                    (256, DigestAlg::Sha1) => Op::SignRsa2048Sha1,
                    (256, _) => Op::SignRsa2048Sha2,
                    _ => Op::SignRsaOther,
                });
                let hashed = digest.hash(msg);
                let sign = || {
                    let with: &dyn RsaSigner = match backend {
                        Backend::Ring => signer(rsa_backend()),
                        Backend::RustCrypto => &RustCryptoSigner,
                    };
                    with.sign(key, forms, digest, msg, &hashed)
                };
                // The pure-Rust reference and a forced backend always compute (cross-checks).
                let cached = cached
                    && backend == Backend::Ring
                    && super::signer::forced_rsa_backend().is_none();
                if cached {
                    super::sigcache::get_or_sign(forms.fingerprint(key), digest, &hashed, sign)
                } else {
                    sign()
                }
            }
            PrivateKey::EcP256(k) => {
                count(Op::SignEc256);
                let prehash = digest.hash(msg);
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(&prehash)
                    .map_err(|e| SigError::Malformed(e.to_string()))?;
                Ok(match enc {
                    EcdsaEncoding::Der => sig.to_der().as_bytes().to_vec(),
                    EcdsaEncoding::Fixed => sig.to_bytes().to_vec(),
                })
            }
        }
    }

    /// Length in bytes of a signature this key makes in `enc` (DER ECDSA: the maximum, 72).
    pub fn signature_len(&self, enc: EcdsaEncoding) -> usize {
        match self {
            PrivateKey::Rsa { key, .. } => key.size(),
            PrivateKey::EcP256(_) => match enc {
                EcdsaEncoding::Fixed => 64,
                EcdsaEncoding::Der => 72,
            },
        }
    }
}

static RSA_MEMO_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Signatures the signature cache keeps (per generation) once [`memoize_rsa_signatures`] ran.
const MEMO_CAPACITY: usize = 100_000;

/// Sends every RSA signature through the signature cache from now on, and widens it to 100,000
/// signatures a generation: RSA PKCS#1 v1.5 is deterministic, so a kept signature has the bytes
/// a new one would. For many runs of one world (`cucmsim explore` signs the same ITLs,
/// configurations and certificates in every case); off unless called.
pub fn memoize_rsa_signatures() {
    RSA_MEMO_ON.store(true, std::sync::atomic::Ordering::Relaxed);
    super::sigcache::keep_across_runs();
    if super::sigcache::capacity() > 0 {
        super::sigcache::set_capacity(super::sigcache::capacity().max(MEMO_CAPACITY));
    }
}

/// A public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA.
    Rsa(rsa::RsaPublicKey),
    /// ECDSA P-256.
    EcP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// The key's profile.
    pub fn profile(&self) -> KeyProfile {
        match self {
            PublicKey::Rsa(k) => KeyProfile::Rsa {
                bits: (k.size() * 8) as u32,
            },
            PublicKey::EcP256(_) => KeyProfile::EcP256,
        }
    }

    /// The form an ITL/CTL record stores (tag 7): PKCS#1 `RSAPublicKey` DER, or the X9.62
    /// uncompressed EC point. It is also the subjectPublicKey bit string of the certificate.
    pub fn record_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa(k) => k
                .to_pkcs1_der()
                .expect("encode RSA public key")
                .as_bytes()
                .to_vec(),
            PublicKey::EcP256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
        }
    }

    /// Reads the record form (tag 7): PKCS#1 DER (starts with 0x30) or an uncompressed point.
    pub fn from_record_bytes(bytes: &[u8]) -> Result<PublicKey, SigError> {
        match bytes.first() {
            Some(0x30) => rsa::RsaPublicKey::from_pkcs1_der(bytes)
                .map(PublicKey::Rsa)
                .map_err(|e| SigError::Malformed(format!("RSA public key: {e}"))),
            Some(0x04) => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map(PublicKey::EcP256)
                .map_err(|e| SigError::Malformed(format!("EC point: {e}"))),
            _ => Err(SigError::Malformed(
                "public key is neither PKCS#1 RSA nor an EC point".into(),
            )),
        }
    }

    /// Verifies `sig` over `msg` hashed with `digest`. ECDSA accepts DER or fixed `r‖s`.
    pub fn verify(
        &self,
        backend: Backend,
        digest: DigestAlg,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError> {
        super::ops::count_verify(match self {
            PublicKey::Rsa(k) => Some(k.size() * 8),
            PublicKey::EcP256(_) => None,
        });
        match self {
            PublicKey::Rsa(k) => {
                let with: &dyn RsaSigner = match backend {
                    Backend::Ring => signer(rsa_backend()),
                    Backend::RustCrypto => &RustCryptoSigner,
                };
                with.verify(k, digest, msg, &digest.hash(msg), sig)
            }
            PublicKey::EcP256(k) => {
                if backend == Backend::Ring && digest == DigestAlg::Sha256 {
                    return ring_verify_p256(k, msg, sig);
                }
                let parsed = if sig.len() == 64 {
                    p256::ecdsa::Signature::from_slice(sig)
                } else {
                    p256::ecdsa::Signature::from_der(sig)
                }
                .map_err(|_| SigError::Mismatch)?;
                k.verify_prehash(&digest.hash(msg), &parsed)
                    .map_err(|_| SigError::Mismatch)
            }
        }
    }
}

fn ring_verify_p256(k: &p256::ecdsa::VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<(), SigError> {
    use ring::signature as rs;
    let alg: &'static dyn rs::VerificationAlgorithm = if sig.len() == 64 {
        &rs::ECDSA_P256_SHA256_FIXED
    } else {
        &rs::ECDSA_P256_SHA256_ASN1
    };
    let point = k.to_encoded_point(false);
    rs::UnparsedPublicKey::new(alg, point.as_bytes())
        .verify(msg, sig)
        .map_err(|_| SigError::Mismatch)
}

/// Derives keys and other random material from one seed. Same seed and label, same key.
#[derive(Clone, Debug)]
pub struct KeyForge {
    seed: u64,
}

type Memo = Mutex<HashMap<[u8; 32], Arc<PrivateKey>>>;

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(HashMap::new()))
}

impl KeyForge {
    /// A forge for `seed`.
    pub fn new(seed: u64) -> KeyForge {
        KeyForge { seed }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A generator for `purpose`, independent of every other purpose.
    pub fn rng(&self, purpose: &str) -> ChaCha20Rng {
        let mut h = sha2::Sha256::new();
        h.update(b"cucmsim/v1/");
        h.update(self.seed.to_be_bytes());
        h.update(purpose.as_bytes());
        ChaCha20Rng::from_seed(h.finalize().into())
    }

    /// The key of `profile` for `label` (e.g. `"clusterA/pub/CallManager#0"`), memoised
    /// process-wide because RSA key generation is slow.
    pub fn key(&self, label: &str, profile: KeyProfile) -> Arc<PrivateKey> {
        let purpose = format!("key/{}/{label}", profile.name());
        let mut h = sha2::Sha256::new();
        h.update(self.seed.to_be_bytes());
        h.update(purpose.as_bytes());
        let id: [u8; 32] = h.finalize().into();
        if let Some(k) = memo().lock().expect("key memo").get(&id) {
            return Arc::clone(k);
        }
        let key = Arc::new(PrivateKey::generate(profile, &mut self.rng(&purpose)));
        memo()
            .lock()
            .expect("key memo")
            .entry(id)
            .or_insert(key)
            .clone()
    }

    /// A positive certificate serial of `len` bytes (16 for CUCM self-signed certificates).
    pub fn serial(&self, label: &str, len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len.max(1)];
        self.rng(&format!("serial/{label}")).fill_bytes(&mut bytes);
        bytes[0] &= 0x7f; // positive INTEGER
        if bytes[0] == 0 {
            bytes[0] = 0x5a; // minimal encoding: no leading zero byte
        }
        bytes
    }

    /// `n` random bytes for `purpose`.
    pub fn bytes(&self, purpose: &str, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        self.rng(purpose).fill_bytes(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_key_and_serial() {
        let a = KeyForge::new(7).key("t/ec", KeyProfile::EcP256);
        let b = KeyForge::new(7).key("t/ec", KeyProfile::EcP256);
        assert_eq!(a.public_key(), b.public_key());
        let c = KeyForge::new(8).key("t/ec", KeyProfile::EcP256);
        assert_ne!(a.public_key(), c.public_key());
        assert_eq!(
            KeyForge::new(7).serial("x", 16),
            KeyForge::new(7).serial("x", 16)
        );
        assert_eq!(KeyForge::new(7).serial("x", 16).len(), 16);
    }

    #[test]
    fn every_backend_signs_and_verifies_every_digest() {
        let forge = KeyForge::new(1);
        for profile in [KeyProfile::RSA1024, KeyProfile::RSA2048, KeyProfile::EcP256] {
            let key = forge.key("t/sig", profile);
            let public = key.public_key();
            for digest in DigestAlg::ALL {
                for sb in Backend::ALL {
                    for enc in [EcdsaEncoding::Der, EcdsaEncoding::Fixed] {
                        let sig = key.sign(sb, digest, b"hello", enc).unwrap();
                        for vb in Backend::ALL {
                            assert_eq!(
                                public.verify(vb, digest, b"hello", &sig),
                                Ok(()),
                                "{profile} {digest} {sb:?} {vb:?}"
                            );
                            assert_eq!(
                                public.verify(vb, digest, b"hellO", &sig),
                                Err(SigError::Mismatch)
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn ec_signatures_are_deterministic() {
        let key = KeyForge::new(3).key("t/det", KeyProfile::EcP256);
        let a = key
            .sign(Backend::Ring, DigestAlg::Sha256, b"x", EcdsaEncoding::Fixed)
            .unwrap();
        let b = key
            .sign(Backend::Ring, DigestAlg::Sha256, b"x", EcdsaEncoding::Fixed)
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn record_bytes_round_trip() {
        for profile in [KeyProfile::RSA1024, KeyProfile::EcP256] {
            let public = KeyForge::new(2).key("t/rec", profile).public_key();
            assert_eq!(
                PublicKey::from_record_bytes(&public.record_bytes()).unwrap(),
                public
            );
        }
        assert_eq!(
            KeyForge::new(2)
                .key("t/rec", KeyProfile::RSA1024)
                .public_key()
                .record_bytes()
                .len(),
            140
        );
    }

    #[test]
    fn profiles_parse() {
        assert_eq!("rsa2048".parse::<KeyProfile>(), Ok(KeyProfile::RSA2048));
        assert_eq!("EC-256".parse::<KeyProfile>(), Ok(KeyProfile::EcP256));
        assert!("rsa777".parse::<KeyProfile>().is_err());
    }
}
