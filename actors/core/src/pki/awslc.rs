//! aws-lc (through `aws-lc-sys`) for RSA PKCS#1 v1.5: signing with SHA-1, SHA-256 or SHA-512
//! (`RSA_sign` with `NID_sha1` / `NID_sha256` / `NID_sha512`) and verification (`RSA_verify`),
//! on a key parsed once and kept.
//!
//! ```text
//!  rsa::RsaPrivateKey ──PKCS#1 DER──► RSA_private_key_from_bytes ──► AwsLcRsa (once per key)
//!  msg ──DigestAlg::hash──► digest ──RSA_sign(nid, digest)──► signature (same bytes as `rsa`)
//! ```
//!
//! Why aws-lc: RSA-2048 signing takes ≈ 245 µs here against ≈ 1,780 µs in the `rsa` crate and
//! ≈ 570 µs in ring (which cannot sign SHA-1, CUCM's default file digest); verification ≈ 17 µs
//! against ≈ 31 µs in ring (results/README.md, "RSA signer backends"). aws-lc's RSA objects are
//! safe to use from several threads at once (its blinding state is locked inside), so one parsed
//! key serves every thread. Its cc-based builder needs a C compiler only — no cmake, no clang.

use crate::digest::DigestAlg;
use crate::error::SigError;
use aws_lc_sys as ffi;
use std::os::raw::c_int;
use std::ptr::NonNull;

/// Smallest and largest moduli handed to aws-lc; the callers use the `rsa` crate outside.
pub const MIN_BITS: usize = 1024;
/// See [`MIN_BITS`].
pub const MAX_BITS: usize = 8192;

/// An RSA key (private, or public only) parsed by aws-lc, freed on drop.
pub struct AwsLcRsa(NonNull<ffi::RSA>);

// SAFETY: an aws-lc `RSA` is reference-counted and may be used concurrently from several
// threads once built (BoringSSL/aws-lc `rsa.h`: the blinding cache and Montgomery contexts
// are guarded by the key's own lock); this type only signs and verifies through it.
unsafe impl Send for AwsLcRsa {}
// SAFETY: as for `Send`.
unsafe impl Sync for AwsLcRsa {}

impl Drop for AwsLcRsa {
    fn drop(&mut self) {
        // SAFETY: the pointer came from an aws-lc constructor and is freed exactly once.
        unsafe { ffi::RSA_free(self.0.as_ptr()) }
    }
}

impl std::fmt::Debug for AwsLcRsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AwsLcRsa({} bits)", self.size() * 8)
    }
}

fn nid(digest: DigestAlg) -> c_int {
    match digest {
        DigestAlg::Sha1 => ffi::NID_sha1,
        DigestAlg::Sha256 => ffi::NID_sha256,
        DigestAlg::Sha512 => ffi::NID_sha512,
    }
}

/// The hashes of TLS 1.2 RSA signature schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsHash {
    Sha256,
    Sha384,
    Sha512,
}

impl TlsHash {
    fn nid(self) -> c_int {
        match self {
            TlsHash::Sha256 => ffi::NID_sha256,
            TlsHash::Sha384 => ffi::NID_sha384,
            TlsHash::Sha512 => ffi::NID_sha512,
        }
    }

    fn md(self) -> *const ffi::EVP_MD {
        // SAFETY: the getters take nothing and return pointers to static data.
        unsafe {
            match self {
                TlsHash::Sha256 => ffi::EVP_sha256(),
                TlsHash::Sha384 => ffi::EVP_sha384(),
                TlsHash::Sha512 => ffi::EVP_sha512(),
            }
        }
    }

    fn hash(self, msg: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            TlsHash::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            TlsHash::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            TlsHash::Sha512 => sha2::Sha512::digest(msg).to_vec(),
        }
    }
}

impl AwsLcRsa {
    /// Parses a PKCS#1 `RSAPrivateKey` DER; `None` when aws-lc refuses it.
    pub fn private_from_pkcs1_der(der: &[u8]) -> Option<AwsLcRsa> {
        // SAFETY: aws-lc reads `der.len()` bytes from `der`; a null result means failure.
        NonNull::new(unsafe { ffi::RSA_private_key_from_bytes(der.as_ptr(), der.len()) })
            .map(AwsLcRsa)
    }

    /// Parses a PKCS#1 `RSAPublicKey` DER; `None` when aws-lc refuses it.
    pub fn public_from_pkcs1_der(der: &[u8]) -> Option<AwsLcRsa> {
        // SAFETY: as for `private_from_pkcs1_der`.
        NonNull::new(unsafe { ffi::RSA_public_key_from_bytes(der.as_ptr(), der.len()) })
            .map(AwsLcRsa)
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` DER holding an RSA key; `None` when it holds another
    /// kind of key or aws-lc refuses it.
    pub fn private_from_pkcs8_der(der: &[u8]) -> Option<AwsLcRsa> {
        // SAFETY: the CBS borrows `der` only during the parse; the EVP_PKEY is freed here and
        // the RSA it holds keeps its own reference (get1).
        unsafe {
            let mut cbs = std::mem::zeroed::<ffi::CBS>();
            ffi::CBS_init(&mut cbs, der.as_ptr(), der.len());
            let pkey = ffi::EVP_parse_private_key(&mut cbs);
            if pkey.is_null() {
                ffi::ERR_clear_error();
                return None;
            }
            let rsa = ffi::EVP_PKEY_get1_RSA(pkey);
            ffi::EVP_PKEY_free(pkey);
            ffi::ERR_clear_error();
            NonNull::new(rsa).map(AwsLcRsa)
        }
    }

    /// The modulus length in bytes (the signature length).
    pub fn size(&self) -> usize {
        // SAFETY: a valid key.
        unsafe { ffi::RSA_size(self.0.as_ptr()) as usize }
    }

    /// PKCS#1 v1.5 signature over `hashed`, the message's `digest` already computed.
    pub fn sign_digest(&self, digest: DigestAlg, hashed: &[u8]) -> Result<Vec<u8>, SigError> {
        self.sign_nid(nid(digest), hashed)
    }

    /// PKCS#1 v1.5 signature of a TLS handshake `msg` hashed with `hash`.
    pub fn sign_pkcs1(&self, hash: TlsHash, msg: &[u8]) -> Result<Vec<u8>, SigError> {
        self.sign_nid(hash.nid(), &hash.hash(msg))
    }

    /// RSASSA-PSS signature (MGF1 with the same hash, salt as long as the hash: TLS's
    /// `rsa_pss_rsae_*`) of `msg` hashed with `hash`. Randomised, as PSS is.
    pub fn sign_pss(&self, hash: TlsHash, msg: &[u8]) -> Result<Vec<u8>, SigError> {
        let hashed = hash.hash(msg);
        let mut out = vec![0u8; self.size()];
        let mut len = 0usize;
        // SAFETY: `out` holds RSA_size bytes (max_out); the EVP_MDs are static; the key is
        // valid and may be shared.
        let ok = unsafe {
            let md = hash.md();
            ffi::RSA_sign_pss_mgf1(
                self.0.as_ptr(),
                &mut len,
                out.as_mut_ptr(),
                out.len(),
                hashed.as_ptr(),
                hashed.len(),
                md,
                md,
                ffi::RSA_PSS_SALTLEN_DIGEST,
            )
        };
        if ok != 1 {
            // SAFETY: clears this thread's error queue only.
            unsafe { ffi::ERR_clear_error() };
            return Err(SigError::Malformed("aws-lc RSA-PSS signing failed".into()));
        }
        out.truncate(len);
        Ok(out)
    }

    fn sign_nid(&self, nid: c_int, hashed: &[u8]) -> Result<Vec<u8>, SigError> {
        let mut out = vec![0u8; self.size()];
        let mut len: std::os::raw::c_uint = 0;
        // SAFETY: `out` holds RSA_size bytes, the most RSA_sign writes; `hashed` is read for
        // its length; the key is valid and may be shared (see the `Sync` note).
        let ok = unsafe {
            ffi::RSA_sign(
                nid,
                hashed.as_ptr(),
                hashed.len(),
                out.as_mut_ptr(),
                &mut len,
                self.0.as_ptr(),
            )
        };
        if ok != 1 {
            // SAFETY: clears this thread's error queue only.
            unsafe { ffi::ERR_clear_error() };
            return Err(SigError::Malformed("aws-lc RSA signing failed".into()));
        }
        out.truncate(len as usize);
        Ok(out)
    }

    /// Checks a PKCS#1 v1.5 signature over `hashed`: `Mismatch` unless it verifies.
    pub fn verify_digest(
        &self,
        digest: DigestAlg,
        hashed: &[u8],
        sig: &[u8],
    ) -> Result<(), SigError> {
        // SAFETY: both slices are read for their lengths; the key is valid.
        let ok = unsafe {
            ffi::RSA_verify(
                nid(digest),
                hashed.as_ptr(),
                hashed.len(),
                sig.as_ptr(),
                sig.len(),
                self.0.as_ptr(),
            )
        };
        // RSA_verify leaves the reason on aws-lc's per-thread error queue; drop it so the
        // queue does not grow over millions of rejected signatures.
        if ok != 1 {
            // SAFETY: clears this thread's error queue only.
            unsafe { ffi::ERR_clear_error() };
            return Err(SigError::Mismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

    #[test]
    fn signs_like_the_rsa_crate_and_verifies() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let key = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let der = key.to_pkcs1_der().unwrap();
        let lc = AwsLcRsa::private_from_pkcs1_der(der.as_bytes()).unwrap();
        let public = key.to_public_key().to_pkcs1_der().unwrap();
        let lc_pub = AwsLcRsa::public_from_pkcs1_der(public.as_bytes()).unwrap();
        assert_eq!(lc.size(), 128);
        for digest in DigestAlg::ALL {
            let hashed = digest.hash(b"msg");
            let sig = lc.sign_digest(digest, &hashed).unwrap();
            assert_eq!(lc_pub.verify_digest(digest, &hashed, &sig), Ok(()));
            let mut bad = sig.clone();
            bad[5] ^= 1;
            assert_eq!(
                lc_pub.verify_digest(digest, &hashed, &bad),
                Err(SigError::Mismatch)
            );
            assert_eq!(
                lc_pub.verify_digest(digest, &hashed, &sig[1..]),
                Err(SigError::Mismatch)
            );
        }
        assert!(AwsLcRsa::private_from_pkcs1_der(b"\x30\x03\x02\x01\x00").is_none());
        assert!(AwsLcRsa::public_from_pkcs1_der(b"").is_none());
    }
}
