//! QUIC between farms and `serve`: each phone's own TLS session (TVS, CAPF — the very bytes the
//! TCP path carries, the phone's MIC or LSC inside) rides on its own bidirectional stream of a
//! few QUIC connections, so one farm drives tens of thousands of phones from one UDP socket.
//!
//! ```text
//!  farm ══ QUIC (TLS 1.3, ALPN "cucmsim-wire/1", farm certificate required) ══► serve --quic-port
//!    stream: "tvs\n"  + the phone's TLS 1.2 session to TVS   ─► tvs::handle  (tvs.session)
//!    stream: "capf\n" + the phone's TLS session to CAPF       ─► capf::handle (capf.session)
//!    stream: "tftp\n" + "<file>\n"  ◄─ [0, len u32 BE, bytes] found │ [1] not found  (tftp.get)
//!    unknown header / service not served here ─► stream reset with a code ([`Refusal`])
//! ```
//! The link is authenticated both ways by pinned public keys ([`LinkKeys`]): serve accepts only
//! a farm presenting the farm key, the farm accepts only the serve key. By default both are
//! derived from the scenario's seed (a farm and a serve of the same scenario and seed agree);
//! `--quic-keys DIR` reads them from files instead (`serve.pem`, `serve.key`, `farm.pem`,
//! `farm.key`; `serve --export-keys` writes the seed's under `quic/`). The keys are EC P-256;
//! certificate dates are not judged (the pin is the key).

pub mod dial;
pub mod keys;
pub mod serve;

pub use keys::LinkKeys;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

use cucmsim_core::pki::{Certificate, PrivateKey, PublicKey};

/// The ALPN both ends require.
pub const ALPN: &[u8] = b"cucmsim-wire/1";
/// The server name the farm asks for (not checked: the pin is the key).
pub const SERVER_NAME: &str = "cucmsim-serve";
/// A QUIC connection with no packet for this long is closed (keep-alives every 5 s).
pub const IDLE: Duration = Duration::from_secs(30);

/// What a stream asks for (its first line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Tvs,
    Capf,
    Tftp,
}

impl Service {
    /// The header line that opens a stream.
    pub fn header(self) -> &'static [u8] {
        match self {
            Service::Tvs => b"tvs\n",
            Service::Capf => b"capf\n",
            Service::Tftp => b"tftp\n",
        }
    }

    /// The service a header line (without its `\n`) names.
    pub fn parse(line: &[u8]) -> Option<Service> {
        match line {
            b"tvs" => Some(Service::Tvs),
            b"capf" => Some(Service::Capf),
            b"tftp" => Some(Service::Tftp),
            _ => None,
        }
    }
}

/// Why serve reset a stream (the QUIC reset code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The header names no service.
    BadHeader = 1,
    /// The service exists but this serve does not run it (e.g. no CAPF on this node).
    NotServed = 2,
}

impl Refusal {
    /// The reason for a reset code, as the farm's error table shows it.
    pub fn reason(code: u64) -> String {
        match code {
            1 => "QUIC: stream refused (bad header)".into(),
            2 => "QUIC: service not served there".into(),
            c => format!("QUIC: stream reset ({c})"),
        }
    }
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

/// Accepts exactly the certificates carrying one of `keys` (both directions of the link).
#[derive(Debug)]
pub struct PinnedKeys {
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
                tracing::debug!(
                    "QUIC: {} certificate refused: not the pinned key",
                    self.what
                );
                Err(Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }

    fn tls12(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(m, c, d, &self.algs)
    }

    fn tls13(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(m, c, d, &self.algs)
    }
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

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12(m, c, d)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13(m, c, d)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
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

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12(m, c, d)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13(m, c, d)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

fn key_der(key: &PrivateKey) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_pkcs8_der()))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn transport(max_streams: u32) -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(quinn::VarInt::from_u32(max_streams.max(1)));
    t.max_concurrent_uni_streams(quinn::VarInt::from_u32(0));
    t.keep_alive_interval(Some(Duration::from_secs(5)));
    if let Ok(idle) = quinn::IdleTimeout::try_from(IDLE) {
        t.max_idle_timeout(Some(idle));
    }
    Arc::new(t)
}

/// serve's QUIC configuration: its key, farms' keys required, `max_streams` phones at once
/// per connection.
pub fn server_config(keys: &LinkKeys, max_streams: u32) -> Result<quinn::ServerConfig, String> {
    let key = keys
        .serve_key
        .as_ref()
        .ok_or("--quic-keys: serve.key is needed to serve QUIC")?;
    let verifier = Arc::new(PinnedKeys {
        keys: keys.farm.public_key().into_iter().cloned().collect(),
        what: "farm",
        algs: algorithms(),
    });
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(keys.serve.der().to_vec())],
            key_der(key),
        )
        .map_err(|e| format!("QUIC server key: {e}"))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| format!("QUIC server: {e}"))?;
    let mut c = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    c.transport_config(transport(max_streams));
    Ok(c)
}

/// The farm's QUIC configuration: its key presented, serve's key pinned.
pub fn client_config(keys: &LinkKeys) -> Result<quinn::ClientConfig, String> {
    let key = keys
        .farm_key
        .as_ref()
        .ok_or("--quic-keys: farm.key is needed to connect")?;
    let verifier = Arc::new(PinnedKeys {
        keys: keys.serve.public_key().into_iter().cloned().collect(),
        what: "serve",
        algs: algorithms(),
    });
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(
            vec![CertificateDer::from(keys.farm.der().to_vec())],
            key_der(key),
        )
        .map_err(|e| format!("QUIC farm key: {e}"))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| format!("QUIC client: {e}"))?;
    let mut c = quinn::ClientConfig::new(Arc::new(crypto));
    c.transport_config(transport(1));
    Ok(c)
}
