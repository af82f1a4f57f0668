//! Real TLS sessions with no sockets: rustls is sans-I/O, so a phone and a TVS run a genuine
//! handshake over byte buffers that the bus carries as messages, inside virtual time.
//!
//! ```text
//!  phone TlsEnd::client ──ClientHello──► bus ──► TVS TlsEnd::server
//!        ◄── ServerHello, TVS certificate (checked against the ITL's TVS records), … ──
//!        ── client certificate (MIC/LSC, checked against CAPF-trust), Finished, query ──►
//!        ◄────────────────────────────── answer ─────────────────────────────────────
//! ```
//! Trust decisions made here (and only here): the phone accepts the TVS certificate iff it is
//! byte-identical to a TVS record of its ITL ("Role is = 21", [C S5]) and valid at the phone's
//! simulated wall clock; the TVS accepts the phone's certificate iff it chains to one of the
//! given anchors at the TVS's clock. Whether a real TVS verifies the phone's certificate is [I];
//! with no anchors it accepts any. Handshake signatures are checked by rustls with ring and made
//! by ring, or by aws-lc for RSA keys when it is the RSA backend.
//! Time comes from a [`SimClock`] the caller sets before feeding bytes — never the host clock.
//!
//! Protocol: TLS 1.2 only. CUCM 14's TVS cipher list is all TLS 1.2 [C S19]; rustls offers its
//! ECDHE-RSA/ECDSA-AES-GCM suites, which are in that list (the CBC and static-RSA ones are
//! not implemented by rustls). A fresh client configuration per session means no resumption:
//! every TVS session is a full handshake, as a phone's first contact is.
//!
//! The participants hold a [`TlsEnd`] inside a [`crate::machine::channel::Channel`], which
//! also covers identity mode (no handshake) and keeps the pending and received plaintext.

use crate::pki::chain::verify_chain;
use crate::pki::keys::PrivateKey;
use crate::pki::{Backend, Certificate};
use crate::wall::WallTime;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::fmt;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A simulated wall clock shared with rustls.
#[derive(Clone, Debug, Default)]
pub struct SimClock(Arc<AtomicI64>);

impl SimClock {
    pub fn set(&self, now: WallTime) {
        self.0.store(now.0, Ordering::Relaxed);
    }
    pub fn get(&self) -> WallTime {
        WallTime(self.0.load(Ordering::Relaxed))
    }
}

impl rustls::time_provider::TimeProvider for SimClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            self.get().0.max(0) as u64,
        )))
    }
}

/// ring's provider, RSA private keys signing through the RSA backend ([`crate::pki::tls_signer`]).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(crate::pki::tls_signer::provider())
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

fn at(now: UnixTime) -> WallTime {
    WallTime(now.as_secs() as i64)
}

fn cert_error(e: crate::error::CertError) -> Error {
    use crate::error::CertError as E;
    match e {
        E::Expired { .. } => Error::InvalidCertificate(CertificateError::Expired),
        E::NotYetValid { .. } => Error::InvalidCertificate(CertificateError::NotValidYet),
        E::BadSignature { .. } => Error::InvalidCertificate(CertificateError::BadSignature),
        E::UnknownIssuer { .. } | E::IssuerNotCa { .. } | E::ChainTooLong => {
            Error::InvalidCertificate(CertificateError::UnknownIssuer)
        }
        E::Malformed(_) => Error::InvalidCertificate(CertificateError::BadEncoding),
    }
}

/// The phone's check of the TVS certificate: a TVS record of its ITL, valid now.
#[derive(Debug)]
pub struct PhoneTvsVerifier {
    expected: Vec<Certificate>,
    /// The ITL role the records were taken from (`TVS`, `CAPF`), for the error text.
    role: &'static str,
    algs: WebPkiSupportedAlgorithms,
}

/// The handshake-signature half of our certificate verifiers (server and client side):
/// rustls's checks over `self.algs`, each counted for the cost model.
macro_rules! handshake_signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            count_handshake_signature(d.scheme);
            verify_tls12_signature(m, c, d, &self.algs)
        }

        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            count_handshake_signature(d.scheme);
            verify_tls13_signature(m, c, d, &self.algs)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs.supported_schemes()
        }
    };
}

impl ServerCertVerifier for PhoneTvsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(cert) = self
            .expected
            .iter()
            .find(|c| c.der() == end_entity.as_ref())
        else {
            return Err(Error::General(format!(
                "{0} certificate is not a {0} record of the phone's ITL",
                self.role
            )));
        };
        cert.check_validity(at(now)).map_err(cert_error)?;
        Ok(ServerCertVerified::assertion())
    }

    handshake_signature_checks!();
}

/// The phone's TLS client for an HTTPS server whose certificate it judges after the
/// handshake, through its CTL/ITL or TVS ([`crate::phone::https`]): any certificate valid
/// now is accepted here (handshake signatures are still checked by rustls), and the phone
/// reads it with [`TlsEnd::peer_certificate`] before it sends any request. [I] A real phone
/// takes that decision inside the handshake; deciding before the first request byte gives
/// the same outcome.
#[derive(Debug)]
pub struct DeferredVerifier {
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for DeferredVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let cert = Certificate::from_der(end_entity.as_ref()).map_err(cert_error)?;
        cert.check_validity(at(now)).map_err(cert_error)?;
        Ok(ServerCertVerified::assertion())
    }

    handshake_signature_checks!();
}

/// A phone-side HTTPS client (secure config download): no client certificate [I], the
/// server certificate judged after the handshake ([`DeferredVerifier`]).
pub fn https_client_config(clock: &SimClock) -> Result<Arc<rustls::ClientConfig>, String> {
    let verifier = Arc::new(DeferredVerifier { algs: algorithms() });
    let mut config =
        rustls::ClientConfig::builder_with_details(provider(), Arc::new(clock.clone()))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// The TVS's check of the phone's certificate (MIC or LSC).
#[derive(Debug)]
pub struct TvsClientVerifier {
    anchors: Vec<Certificate>,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for TvsClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let leaf = Certificate::from_der(end_entity.as_ref()).map_err(cert_error)?;
        if self.anchors.is_empty() {
            return Ok(ClientCertVerified::assertion());
        }
        let inter: Vec<Certificate> = intermediates
            .iter()
            .filter_map(|c| Certificate::from_der(c.as_ref()).ok())
            .collect();
        verify_chain(&leaf, &inter, &self.anchors, at(now), Backend::Ring).map_err(cert_error)?;
        Ok(ClientCertVerified::assertion())
    }

    handshake_signature_checks!();
}

/// Counts a handshake signature checked here, and the peer's signing of it
/// ([`crate::pki::ops`]). The simulated keys are RSA-2048 or P-256.
fn count_handshake_signature(scheme: SignatureScheme) {
    use crate::pki::ops::{count, Op};
    let ec = matches!(
        scheme,
        SignatureScheme::ECDSA_NISTP256_SHA256
            | SignatureScheme::ECDSA_NISTP384_SHA384
            | SignatureScheme::ECDSA_NISTP521_SHA512
    );
    if ec {
        count(Op::VerifyEc256);
        count(Op::SignEc256);
    } else {
        count(Op::VerifyRsa2048);
        count(Op::SignRsa2048Sha2);
    }
}

fn key_der(key: &PrivateKey) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_pkcs8_der()))
}

/// The phone side: trusts exactly `tvs_records` (the ITL's TVS certificates) and presents
/// `identity` (its MIC or LSC) followed by `chain` (e.g. the manufacturing CA).
pub fn client_config(
    tvs_records: Vec<Certificate>,
    identity: (&Certificate, &PrivateKey),
    chain: &[Certificate],
    clock: &SimClock,
) -> Result<Arc<rustls::ClientConfig>, String> {
    pinned_client_config("TVS", tvs_records, identity, chain, clock)
}

/// A phone-side client that trusts exactly `records` (the ITL's records of `role`, e.g. the
/// CAPF record for the CAPF session on 3804 [C S10][OSS S3]).
pub fn pinned_client_config(
    role: &'static str,
    tvs_records: Vec<Certificate>,
    identity: (&Certificate, &PrivateKey),
    chain: &[Certificate],
    clock: &SimClock,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut certs = vec![CertificateDer::from(identity.0.der().to_vec())];
    certs.extend(chain.iter().map(|c| CertificateDer::from(c.der().to_vec())));
    let verifier = Arc::new(PhoneTvsVerifier {
        expected: tvs_records,
        role,
        algs: algorithms(),
    });
    let config = rustls::ClientConfig::builder_with_details(provider(), Arc::new(clock.clone()))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(certs, key_der(identity.1))
        .map_err(|e| e.to_string())?;
    let mut config = config;
    // Every TVS session is a full handshake; the default session store would also preallocate
    // ~13 KB a phone for tickets nobody uses.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// The TVS side: presents its TVS certificate, checks client certificates against `anchors`.
pub fn server_config(
    identity: (&Certificate, &PrivateKey),
    anchors: Vec<Certificate>,
    clock: &SimClock,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let verifier = Arc::new(TvsClientVerifier {
        anchors,
        algs: algorithms(),
    });
    let config = rustls::ServerConfig::builder_with_details(provider(), Arc::new(clock.clone()))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(identity.0.der().to_vec())],
            key_der(identity.1),
        )
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// One end of a session, fed and drained with byte buffers.
pub struct TlsEnd {
    conn: rustls::Connection,
}

impl fmt::Debug for TlsEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsEnd(established: {})", !self.conn.is_handshaking())
    }
}

impl TlsEnd {
    /// A client connecting to `host`.
    pub fn client(config: Arc<rustls::ClientConfig>, host: &str) -> Result<TlsEnd, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| format!("server name {host:?}: {e}"))?;
        let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        Ok(TlsEnd { conn: conn.into() })
    }

    /// A server.
    pub fn server(config: Arc<rustls::ServerConfig>) -> Result<TlsEnd, String> {
        let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
        Ok(TlsEnd { conn: conn.into() })
    }

    /// Feeds received TLS bytes; `Err` is the handshake or record failure, as text.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            match self.conn.read_tls(&mut bytes) {
                Ok(0) => break,
                Ok(_) => {
                    self.conn.process_new_packets().map_err(|e| e.to_string())?;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Bytes to send to the peer.
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        let mut out = vec![];
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut out).is_err() {
                break;
            }
        }
        out
    }

    /// The certificate the peer presented in the handshake (its end entity), once received.
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        self.conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec())
    }

    /// Whether the handshake is complete.
    pub fn is_established(&self) -> bool {
        !self.conn.is_handshaking()
    }

    /// Queues application data (sent once the handshake allows).
    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| e.to_string())
    }

    /// Application data received so far.
    pub fn take_plain(&mut self) -> Vec<u8> {
        let mut out = vec![];
        let mut buf = [0u8; 4096];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::identity::{CertType, IdentityRequest, NodeNames};
    use crate::pki::mic::ManufacturingCa;
    use crate::pki::{KeyForge, KeyProfile};

    struct Setup {
        tvs: crate::pki::Identity,
        mic: crate::pki::Identity,
        mfg: ManufacturingCa,
    }

    fn setup() -> Setup {
        let forge = KeyForge::new(3);
        let t0 = WallTime::from_ymd(2024, 1, 1).unwrap();
        let tvs = IdentityRequest::new(&NodeNames::lab("c", "pub"), CertType::Tvs, t0)
            .issue_self_signed(&forge)
            .unwrap();
        let mfg = ManufacturingCa::new(&forge, t0).unwrap();
        let mic = mfg
            .issue_mic(&forge, "8861", "001122334455", KeyProfile::EcP256, t0)
            .unwrap();
        Setup { tvs, mic, mfg }
    }

    /// Pumps flights between the two ends until neither has anything to send.
    fn pump(c: &mut TlsEnd, s: &mut TlsEnd) -> Result<(), String> {
        for _ in 0..10 {
            let to_s = c.take_outgoing();
            if !to_s.is_empty() {
                s.feed(&to_s).map_err(|e| format!("server: {e}"))?;
            }
            let to_c = s.take_outgoing();
            if !to_c.is_empty() {
                c.feed(&to_c).map_err(|e| format!("client: {e}"))?;
            }
            if to_s.is_empty() && to_c.is_empty() {
                break;
            }
        }
        Ok(())
    }

    fn session(
        s: &Setup,
        expected: Vec<Certificate>,
        anchors: Vec<Certificate>,
        when: WallTime,
    ) -> (Result<(), String>, TlsEnd, TlsEnd) {
        let clock = SimClock::default();
        clock.set(when);
        let cc = client_config(
            expected,
            (&s.mic.cert, &s.mic.key),
            std::slice::from_ref(&s.mfg.issuing.cert),
            &clock,
        )
        .unwrap();
        let sc = server_config((&s.tvs.cert, &s.tvs.key), anchors, &clock).unwrap();
        let mut c = TlsEnd::client(cc, "pub").unwrap();
        let mut srv = TlsEnd::server(sc).unwrap();
        (pump(&mut c, &mut srv), c, srv)
    }

    #[test]
    fn handshake_and_application_data() {
        let s = setup();
        let now = WallTime::from_ymd(2025, 6, 1).unwrap();
        let (r, mut c, mut srv) = session(
            &s,
            vec![s.tvs.cert.clone()],
            vec![s.mfg.root.cert.clone()],
            now,
        );
        r.unwrap();
        assert!(c.is_established() && srv.is_established());
        c.send(b"query").unwrap();
        pump(&mut c, &mut srv).unwrap();
        assert_eq!(srv.take_plain(), b"query");
        srv.send(b"answer").unwrap();
        pump(&mut c, &mut srv).unwrap();
        assert_eq!(c.take_plain(), b"answer");
    }

    #[test]
    fn tvs_certificate_not_in_the_itl_fails() {
        let s = setup();
        let other = IdentityRequest::new(
            &NodeNames::lab("x", "pub"),
            CertType::Tvs,
            WallTime::from_ymd(2024, 1, 1).unwrap(),
        )
        .issue_self_signed(&KeyForge::new(4))
        .unwrap();
        let (r, ..) = session(
            &s,
            vec![other.cert],
            vec![],
            WallTime::from_ymd(2025, 6, 1).unwrap(),
        );
        assert!(r.unwrap_err().contains("not a TVS record"));
    }

    #[test]
    fn expiry_is_judged_by_the_simulated_clock() {
        let s = setup();
        let late = WallTime::from_ymd(2030, 1, 1).unwrap(); // TVS certificate: 2024 + 5 years
        let (r, ..) = session(&s, vec![s.tvs.cert.clone()], vec![], late);
        let e = r.unwrap_err();
        assert!(e.contains("expired") || e.contains("Expired"), "{e}");
    }

    #[test]
    fn unknown_phone_certificate_is_refused_by_tvs() {
        let s = setup();
        let other =
            ManufacturingCa::new(&KeyForge::new(9), WallTime::from_ymd(2024, 1, 1).unwrap())
                .unwrap();
        let (r, ..) = session(
            &s,
            vec![s.tvs.cert.clone()],
            vec![other.root.cert.clone()],
            WallTime::from_ymd(2025, 6, 1).unwrap(),
        );
        assert!(r.unwrap_err().starts_with("server:"));
    }

    #[test]
    fn garbage_never_panics() {
        let s = setup();
        let clock = SimClock::default();
        let sc = server_config((&s.tvs.cert, &s.tvs.key), vec![], &clock).unwrap();
        for seed in 0u8..50 {
            let mut srv = TlsEnd::server(sc.clone()).unwrap();
            let junk: Vec<u8> = (0..200u16)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
                .collect();
            let _ = srv.feed(&junk);
            let _ = srv.take_outgoing();
        }
    }
}
