//! QUIC endpoints authenticated by pinned keys, for both of cucmsim's QUIC links: wire mode's
//! farm ↔ serve ([`crate::wire::quic`]) and a distributed run's nodes ([`crate::cluster`]).
//! TLS 1.3 only, one ALPN, each end presenting its own certificate and accepting exactly the
//! peer certificates that carry one of the pinned public keys (the handshake signature proves
//! possession); dates and names are not judged — the pin is the key.
//!
//! ```text
//!  server_config(own cert+key, pinned peer keys, ALPN, transport) ─► quinn::ServerConfig
//!  client_config(own cert+key, pinned peer keys, ALPN, transport) ─► quinn::ClientConfig
//! ```

use cucmsim_core::pki::{Certificate, PrivateKey, PublicKey};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::sync::Arc;

/// One end of a pinned link: what it presents, what it accepts.
pub struct Link<'a> {
    /// Its certificate and key.
    pub cert: &'a Certificate,
    pub key: &'a PrivateKey,
    /// The peer keys it accepts, and what the peer is called in logs.
    pub peers: Vec<PublicKey>,
    pub peer_name: &'static str,
    pub alpn: &'static [u8],
}

impl Link<'_> {
    fn verifier(&self) -> Arc<PinnedKeys> {
        Arc::new(PinnedKeys {
            keys: self.peers.clone(),
            what: self.peer_name,
            algs: algorithms(),
        })
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![CertificateDer::from(self.cert.der().to_vec())]
    }
}

/// The server side of `link`, with `transport`.
pub fn server_config(
    link: &Link<'_>,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ServerConfig, String> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(link.verifier())
        .with_single_cert(link.chain(), key_der(link.key))
        .map_err(|e| format!("QUIC server key: {e}"))?;
    tls.alpn_protocols = vec![link.alpn.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| format!("QUIC server: {e}"))?;
    let mut c = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    c.transport_config(transport);
    Ok(c)
}

/// The client side of `link`, with `transport`.
pub fn client_config(
    link: &Link<'_>,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ClientConfig, String> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(link.verifier())
        .with_client_auth_cert(link.chain(), key_der(link.key))
        .map_err(|e| format!("QUIC client key: {e}"))?;
    tls.alpn_protocols = vec![link.alpn.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| format!("QUIC client: {e}"))?;
    let mut c = quinn::ClientConfig::new(Arc::new(crypto));
    c.transport_config(transport);
    Ok(c)
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

/// Accepts exactly the certificates carrying one of `keys` (both directions of the link).
#[derive(Debug)]
struct PinnedKeys {
    keys: Vec<PublicKey>,
    what: &'static str,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedKeys {
    fn check(&self, der: &CertificateDer<'_>) -> Result<(), Error> {
        let cert = Certificate::from_der(der.as_ref())
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        match cert.public_key() {
            Some(k) if self.keys.contains(k) => Ok(()),
            _ => {
                tracing::debug!("QUIC: {} certificate refused: not a pinned key", self.what);
                Err(Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }
}

/// The handshake-signature methods both verifier traits share. Unlike the simulated phones'
/// verifiers (`cucmsim_core::tls`), these real links' signatures are not counted as simulated
/// crypto work.
macro_rules! pinned_signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(m, c, d, &self.algs)
        }

        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(m, c, d, &self.algs)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs.supported_schemes()
        }
    };
}

impl ServerCertVerifier for PinnedKeys {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    pinned_signature_checks!();
}

impl ClientCertVerifier for PinnedKeys {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    pinned_signature_checks!();
}

fn key_der(key: &PrivateKey) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_pkcs8_der()))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cucmsim_core::pki::{KeyForge, KeyProfile};

    fn cert_of(key: &PrivateKey, name: &str) -> Certificate {
        let now = cucmsim_core::WallTime::from_ymd(2025, 1, 1).unwrap();
        let spec = cucmsim_core::pki::CertSpec {
            subject: cucmsim_core::pki::DistinguishedName::new([("CN", name)]),
            serial: vec![1],
            not_before: now,
            not_after: now.plus_s(86_400),
            ca: None,
            key_usage: vec![],
            ext_key_usage: vec![],
            san_dns: vec![],
            san_uri: vec![],
        };
        Certificate::issue(&spec, key, None).unwrap()
    }

    #[test]
    fn only_a_pinned_key_is_accepted() {
        let forge = KeyForge::new(7);
        let (a, b) = (
            forge.key("a", KeyProfile::EcP256),
            forge.key("b", KeyProfile::EcP256),
        );
        let pinned = PinnedKeys {
            keys: vec![a.public_key()],
            what: "peer",
            algs: algorithms(),
        };
        let der = |k: &PrivateKey| CertificateDer::from(cert_of(k, "x").der().to_vec());
        assert!(pinned.check(&der(&a)).is_ok());
        assert!(pinned.check(&der(&b)).is_err());
        assert!(pinned
            .check(&CertificateDer::from(vec![0x30, 0x00]))
            .is_err());
    }
}
