//! TLS handshake signatures with the RSA backend: the rustls crypto provider the simulated TLS
//! sessions use — ring's, except that RSA private keys sign through aws-lc when aws-lc is the
//! process's RSA backend ([`super::signer`]). EC keys, key exchange, ciphers and every
//! verification stay ring's, so handshakes carry the same messages of the same sizes.
//!
//! ```text
//!  ServerConfig / ClientConfig ──load_private_key(PKCS#8)──► RSA and aws-lc? ──► AwsLcRsaKey
//!                                                                  └─ else ──► ring's key
//!  handshake ──choose_scheme(offered)──► PSS-SHA512 … PKCS1-SHA256 (ring's order) ──► sign
//! ```
//!
//! RSA-2048 handshake signature: aws-lc ≈ 250 µs, ring ≈ 570 µs here (results/README.md). The
//! key is parsed once per configuration (a TVS, CAPF or Tomcat server's lifetime).

use super::awslc::{AwsLcRsa, TlsHash, MAX_BITS, MIN_BITS};
use super::signer::{rsa_backend, RsaBackend};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use std::sync::Arc;

/// ring's provider with [`RsaKeys`] as its key provider.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        key_provider: &RsaKeys,
        ..rustls::crypto::ring::default_provider()
    }
}

/// Loads RSA keys into aws-lc (when it is the RSA backend), every other key into ring.
#[derive(Debug)]
pub struct RsaKeys;

impl rustls::crypto::KeyProvider for RsaKeys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, Error> {
        if rsa_backend() == RsaBackend::AwsLc {
            if let PrivateKeyDer::Pkcs8(der) = &key_der {
                let key = AwsLcRsa::private_from_pkcs8_der(der.secret_pkcs8_der())
                    .filter(|k| (MIN_BITS..=MAX_BITS).contains(&(k.size() * 8)));
                if let Some(key) = key {
                    return Ok(Arc::new(AwsLcRsaKey(Arc::new(key))));
                }
            }
        }
        rustls::crypto::ring::sign::any_supported_type(&key_der)
    }
}

/// ring's preference among RSA schemes, so a handshake picks what it picked with ring.
const SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

/// An RSA key parsed by aws-lc.
#[derive(Debug)]
struct AwsLcRsaKey(Arc<AwsLcRsa>);

impl SigningKey for AwsLcRsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = SCHEMES.into_iter().find(|s| offered.contains(s))?;
        Some(Box::new(AwsLcRsaSigner {
            key: Arc::clone(&self.0),
            scheme,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

#[derive(Debug)]
struct AwsLcRsaSigner {
    key: Arc<AwsLcRsa>,
    scheme: SignatureScheme,
}

impl Signer for AwsLcRsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use SignatureScheme as S;
        let signed = match self.scheme {
            S::RSA_PSS_SHA512 => self.key.sign_pss(TlsHash::Sha512, message),
            S::RSA_PSS_SHA384 => self.key.sign_pss(TlsHash::Sha384, message),
            S::RSA_PSS_SHA256 => self.key.sign_pss(TlsHash::Sha256, message),
            S::RSA_PKCS1_SHA512 => self.key.sign_pkcs1(TlsHash::Sha512, message),
            S::RSA_PKCS1_SHA384 => self.key.sign_pkcs1(TlsHash::Sha384, message),
            _ => self.key.sign_pkcs1(TlsHash::Sha256, message),
        };
        signed.map_err(|e| Error::General(e.to_string()))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::{KeyForge, KeyProfile};
    use rustls::crypto::KeyProvider;

    /// Every scheme signs with aws-lc and ring verifies it, as the peer's rustls does.
    #[test]
    fn aws_lc_handshake_signatures_verify_with_ring() {
        use ring::signature as rs;
        let key = KeyForge::new(21).key("tls/rsa", KeyProfile::RSA2048);
        let der = PrivateKeyDer::Pkcs8(key.to_pkcs8_der().into());
        let loaded = AwsLcRsaKey(Arc::new(
            AwsLcRsa::private_from_pkcs8_der(&key.to_pkcs8_der()).unwrap(),
        ));
        let public = key.public_key().record_bytes();
        let algs: [&dyn rs::VerificationAlgorithm; 6] = [
            &rs::RSA_PSS_2048_8192_SHA512,
            &rs::RSA_PSS_2048_8192_SHA384,
            &rs::RSA_PSS_2048_8192_SHA256,
            &rs::RSA_PKCS1_2048_8192_SHA512,
            &rs::RSA_PKCS1_2048_8192_SHA384,
            &rs::RSA_PKCS1_2048_8192_SHA256,
        ];
        for (scheme, alg) in SCHEMES.into_iter().zip(algs) {
            let signer = loaded.choose_scheme(&[scheme]).unwrap();
            assert_eq!(signer.scheme(), scheme);
            let sig = signer.sign(b"handshake transcript").unwrap();
            let verdict = rs::UnparsedPublicKey::new(alg, &public);
            assert!(
                verdict.verify(b"handshake transcript", &sig).is_ok(),
                "{scheme:?}"
            );
            assert!(verdict.verify(b"other transcript", &sig).is_err());
        }
        // ring's order: PSS-SHA512 first when offered.
        let all = loaded.choose_scheme(&SCHEMES).unwrap();
        assert_eq!(all.scheme(), SignatureScheme::RSA_PSS_SHA512);
        assert!(loaded
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .is_none());
        // The provider loads RSA and P-256 keys alike.
        assert!(RsaKeys.load_private_key(der).is_ok());
        let ec = KeyForge::new(21).key("tls/ec", KeyProfile::EcP256);
        let ec_der = PrivateKeyDer::Pkcs8(ec.to_pkcs8_der().into());
        let ec_key = RsaKeys.load_private_key(ec_der).unwrap();
        assert_eq!(ec_key.algorithm(), SignatureAlgorithm::ECDSA);
        assert!(AwsLcRsa::private_from_pkcs8_der(&ec.to_pkcs8_der()).is_none());
    }
}
