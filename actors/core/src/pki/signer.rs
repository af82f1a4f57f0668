//! RSA signer backends: who computes an RSA PKCS#1 v1.5 signature or verification when a key is
//! asked for the native path ([`Backend::Ring`](super::Backend::Ring)), chosen once per process.
//!
//! ```text
//!  PrivateKey::sign(Backend::Ring, …) ──► signer(rsa_backend()) ──► aws-lc  (default: every digest)
//!                                                                  │ ring    (SHA-2; SHA-1 → rsa)
//!                                                                  └ rsa     (pure Rust, everything)
//!  PrivateKey::sign(Backend::RustCrypto, …) ─────────────────────► rsa     (always: the cross-check)
//! ```
//!
//! PKCS#1 v1.5 is deterministic, so every backend gives the same bytes and the same verdicts;
//! only the speed differs (results/README.md, "RSA signer backends"). The choice: the
//! `CUCMSIM_RSA` environment variable (`aws-lc`, `ring` or `rsa`), read on first use, or
//! [`set_rsa_backend`] (`cucmsim --rsa-backend`), which wins; [`with_rsa_backend`] forces one on
//! the calling thread (tests, benchmarks). Each key keeps its parsed native
//! forms ([`RsaForms`]): aws-lc and ring parse a private key once, never per signature.

use super::awslc::{self, AwsLcRsa};
use crate::digest::DigestAlg;
use crate::error::SigError;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the RSA backend.
pub const RSA_BACKEND_ENV: &str = "CUCMSIM_RSA";

/// An implementation of RSA PKCS#1 v1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum RsaBackend {
    /// aws-lc through `aws-lc-sys`: SHA-1, SHA-256, SHA-512; keys of 1024–8192 bits (others
    /// go to `rsa`).
    #[default]
    #[serde(rename = "aws-lc")]
    AwsLc,
    /// ring: signs SHA-256/512 with keys of 2048 bits or more, verifies keys of 2048 bits or
    /// more; the rest goes to `rsa` (the project's behaviour before aws-lc).
    #[serde(rename = "ring")]
    Ring,
    /// The `rsa` crate: pure Rust, does everything, the slowest.
    #[serde(rename = "rsa")]
    Rsa,
}

impl RsaBackend {
    /// Every backend, the default first.
    pub const ALL: [RsaBackend; 3] = [RsaBackend::AwsLc, RsaBackend::Ring, RsaBackend::Rsa];

    /// `aws-lc`, `ring` or `rsa`.
    pub fn name(self) -> &'static str {
        match self {
            RsaBackend::AwsLc => "aws-lc",
            RsaBackend::Ring => "ring",
            RsaBackend::Rsa => "rsa",
        }
    }
}

impl fmt::Display for RsaBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RsaBackend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "awslc" => Ok(RsaBackend::AwsLc),
            "ring" => Ok(RsaBackend::Ring),
            "rsa" | "rustcrypto" => Ok(RsaBackend::Rsa),
            _ => Err(format!(
                "unknown RSA backend {s:?} (expected aws-lc, ring or rsa)"
            )),
        }
    }
}

/// 0: not chosen yet; otherwise 1 + the index in [`RsaBackend::ALL`].
static SELECTED: AtomicU8 = AtomicU8::new(0);

/// The backend named by `CUCMSIM_RSA`: `Ok(None)` when unset or empty, `Err` when it names
/// no backend (the command line reports that and exits 2).
pub fn rsa_backend_from_env() -> Result<Option<RsaBackend>, String> {
    match std::env::var(RSA_BACKEND_ENV) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| format!("{RSA_BACKEND_ENV}: {e}")),
        _ => Ok(None),
    }
}

thread_local! {
    static FORCED: Cell<Option<RsaBackend>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's RSA backend forced to `backend` and the signature cache bypassed,
/// so every RSA signature made in `f` on this thread is computed by `backend` (cross-checks,
/// benchmarks). Other threads keep the process's backend.
pub fn with_rsa_backend<T>(backend: RsaBackend, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<RsaBackend>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|c| c.replace(Some(backend))));
    f()
}

/// The backend forced on this thread by [`with_rsa_backend`], if any.
pub fn forced_rsa_backend() -> Option<RsaBackend> {
    FORCED.with(Cell::get)
}

/// The RSA backend on this thread: the one [`with_rsa_backend`] forces, else the process's —
/// the last [`set_rsa_backend`], else `CUCMSIM_RSA`, else aws-lc.
pub fn rsa_backend() -> RsaBackend {
    if let Some(b) = forced_rsa_backend() {
        return b;
    }
    match SELECTED.load(Ordering::Relaxed) {
        0 => {
            let chosen = rsa_backend_from_env().ok().flatten().unwrap_or_default();
            match SELECTED.compare_exchange(0, code(chosen), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => chosen,
                Err(n) => RsaBackend::ALL[usize::from(n - 1)], // set meanwhile: that one
            }
        }
        n => RsaBackend::ALL[usize::from(n - 1)],
    }
}

/// Chooses the process's RSA backend from now on (signatures and verdicts do not change).
pub fn set_rsa_backend(backend: RsaBackend) {
    SELECTED.store(code(backend), Ordering::Relaxed);
}

fn code(backend: RsaBackend) -> u8 {
    1 + RsaBackend::ALL
        .iter()
        .position(|&b| b == backend)
        .expect("in ALL") as u8
}

/// A key's native forms, each parsed on first use and kept for the key's life.
#[derive(Default)]
pub struct RsaForms {
    awslc: OnceLock<Option<AwsLcRsa>>,
    ring: OnceLock<Option<Box<ring::rsa::KeyPair>>>,
    fingerprint: OnceLock<[u8; 32]>,
}

impl RsaForms {
    /// SHA-256 of the modulus: names the key in the signature cache.
    pub fn fingerprint(&self, key: &rsa::RsaPrivateKey) -> [u8; 32] {
        *self.fingerprint.get_or_init(|| {
            use sha2::Digest as _;
            sha2::Sha256::digest(key.n().to_bytes_be()).into()
        })
    }

    fn awslc(&self, key: &rsa::RsaPrivateKey) -> Option<&AwsLcRsa> {
        self.awslc
            .get_or_init(|| {
                let bits = key.size() * 8;
                if !(awslc::MIN_BITS..=awslc::MAX_BITS).contains(&bits) {
                    return None;
                }
                let der = key.to_pkcs1_der().ok()?;
                AwsLcRsa::private_from_pkcs1_der(der.as_bytes())
            })
            .as_ref()
    }

    fn ring(&self, key: &rsa::RsaPrivateKey) -> Option<&ring::rsa::KeyPair> {
        self.ring
            .get_or_init(|| {
                let der = key.to_pkcs8_der().ok()?;
                ring::rsa::KeyPair::from_pkcs8(der.as_bytes())
                    .ok()
                    .map(Box::new)
            })
            .as_deref()
    }
}

/// Signs and verifies RSA PKCS#1 v1.5 with one implementation.
pub trait RsaSigner: Sync {
    /// Which backend this is.
    fn backend(&self) -> RsaBackend;
    /// Signs `msg`, whose `digest` is `hashed`, with `key` (`forms`: its cached native forms).
    fn sign(
        &self,
        key: &rsa::RsaPrivateKey,
        forms: &RsaForms,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
    ) -> Result<Vec<u8>, SigError>;
    /// Verifies `sig` over `msg`, whose `digest` is `hashed`: `Mismatch` unless it verifies.
    fn verify(
        &self,
        key: &rsa::RsaPublicKey,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError>;
}

/// The signer of `backend`.
pub fn signer(backend: RsaBackend) -> &'static dyn RsaSigner {
    match backend {
        RsaBackend::AwsLc => &AwsLcSigner,
        RsaBackend::Ring => &RingSigner,
        RsaBackend::Rsa => &RustCryptoSigner,
    }
}

/// aws-lc; keys it does not take go to the `rsa` crate.
struct AwsLcSigner;

impl RsaSigner for AwsLcSigner {
    fn backend(&self) -> RsaBackend {
        RsaBackend::AwsLc
    }

    fn sign(
        &self,
        key: &rsa::RsaPrivateKey,
        forms: &RsaForms,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
    ) -> Result<Vec<u8>, SigError> {
        match forms.awslc(key) {
            Some(k) => k.sign_digest(digest, hashed),
            None => RustCryptoSigner.sign(key, forms, digest, msg, hashed),
        }
    }

    fn verify(
        &self,
        key: &rsa::RsaPublicKey,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError> {
        let bits = key.size() * 8;
        let parsed = (awslc::MIN_BITS..=awslc::MAX_BITS)
            .contains(&bits)
            .then(|| key.to_pkcs1_der().ok())
            .flatten()
            .and_then(|der| AwsLcRsa::public_from_pkcs1_der(der.as_bytes()));
        match parsed {
            Some(k) => k.verify_digest(digest, hashed, sig),
            None => RustCryptoSigner.verify(key, digest, msg, hashed, sig),
        }
    }
}

/// ring for what it does (SHA-2 signing, keys of 2048 bits or more); the rest to `rsa`.
struct RingSigner;

impl RsaSigner for RingSigner {
    fn backend(&self) -> RsaBackend {
        RsaBackend::Ring
    }

    fn sign(
        &self,
        key: &rsa::RsaPrivateKey,
        forms: &RsaForms,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
    ) -> Result<Vec<u8>, SigError> {
        let alg: &'static dyn ring::signature::RsaEncoding = match digest {
            DigestAlg::Sha256 => &ring::signature::RSA_PKCS1_SHA256,
            DigestAlg::Sha512 => &ring::signature::RSA_PKCS1_SHA512,
            DigestAlg::Sha1 => return RustCryptoSigner.sign(key, forms, digest, msg, hashed),
        };
        let Some(pair) = forms.ring(key) else {
            return RustCryptoSigner.sign(key, forms, digest, msg, hashed);
        };
        let mut sig = vec![0u8; pair.public().modulus_len()];
        // PKCS#1 v1.5 is deterministic: ring's RNG argument is used only for blinding.
        pair.sign(alg, &ring::rand::SystemRandom::new(), msg, &mut sig)
            .map_err(|_| SigError::Malformed("ring RSA signing failed".into()))?;
        Ok(sig)
    }

    fn verify(
        &self,
        key: &rsa::RsaPublicKey,
        digest: DigestAlg,
        msg: &[u8],
        hashed: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError> {
        use ring::signature as rs;
        if key.size() < 256 {
            return RustCryptoSigner.verify(key, digest, msg, hashed, sig);
        }
        let alg: &'static dyn rs::VerificationAlgorithm = match digest {
            DigestAlg::Sha1 => &rs::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            DigestAlg::Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
            DigestAlg::Sha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
        };
        let der = key
            .to_pkcs1_der()
            .map_err(|e| SigError::Malformed(e.to_string()))?;
        rs::UnparsedPublicKey::new(alg, der.as_bytes())
            .verify(msg, sig)
            .map_err(|_| SigError::Mismatch)
    }
}

/// The `rsa` crate: pure Rust, every key size and digest.
pub(super) struct RustCryptoSigner;

fn pkcs1v15(digest: DigestAlg) -> rsa::Pkcs1v15Sign {
    match digest {
        DigestAlg::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        DigestAlg::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        DigestAlg::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
    }
}

impl RsaSigner for RustCryptoSigner {
    fn backend(&self) -> RsaBackend {
        RsaBackend::Rsa
    }

    fn sign(
        &self,
        key: &rsa::RsaPrivateKey,
        _forms: &RsaForms,
        digest: DigestAlg,
        _msg: &[u8],
        hashed: &[u8],
    ) -> Result<Vec<u8>, SigError> {
        key.sign(pkcs1v15(digest), hashed)
            .map_err(|e| SigError::Malformed(e.to_string()))
    }

    fn verify(
        &self,
        key: &rsa::RsaPublicKey,
        digest: DigestAlg,
        _msg: &[u8],
        hashed: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError> {
        key.verify(pkcs1v15(digest), hashed, sig)
            .map_err(|_| SigError::Mismatch)
    }
}
