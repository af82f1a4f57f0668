//! The Jabber client participant: a user's Jabber that signs in to an IM&P node over real
//! TLS — the XMPP session to the Cisco XCP Router (CUP-XMPP certificate) and the HTTPS
//! session to Cisco Tomcat — and trusts only its own certificate trust store (seed 002:
//! "Jabber validates the Tomcat and CUP-XMPP services with the CUCM and IM&P Tomcat and
//! CUP-XMPP server certificates"; when the certificate, or its root and intermediate, is
//! not in the device's trust store, "the Jabber client shows a security warning pop-up for
//! the untrusted certificate").
//!
//! ```text
//!  Jabber::login(node, [(service, served identity)]) ─► per service: TlsEnd::client ⇄ TlsEnd::server
//!        (rustls, TLS 1.2, the server presents the certificate the service loaded at its
//!        last restart; the client accepts it iff it is in, or chains to, the trust store)
//!        ├─ every handshake completes ─► `jabber_signed_in`
//!        └─ a certificate not trusted  ─► `jabber_certificate_warning` (the pop-up)
//!  Jabber::install(cert) ─► the certificate pushed to the device (group policy, MDM, e-mail)
//! ```
//! [I] choices: a new Jabber client's trust store is empty (the certificates "are not
//! installed" until pushed); the client presents no certificate (user sign-in is a password,
//! outside the trust model); a user does not accept the warning, so it shows at every
//! sign-in until the certificate is pushed.

use crate::pki::chain::verify_chain;
use crate::pki::{Backend, Certificate, Identity};
use crate::tls::{SimClock, TlsEnd};
use crate::wall::WallTime;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use std::sync::Arc;

/// A Jabber client: its name and certificate trust store.
#[derive(Clone, Debug, Default)]
pub struct Jabber {
    pub name: String,
    pub trust: Vec<Certificate>,
}

/// The outcome of one service's TLS session at sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutcome {
    Trusted,
    /// The certificate is not trusted: the security warning pop-up, with the reason.
    Warning(String),
}

/// Jabber's check of a server certificate: in, or chaining to, its trust store, valid now.
#[derive(Debug)]
struct JabberVerifier {
    trust: Vec<Certificate>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for JabberVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let leaf = Certificate::from_der(end_entity.as_ref())
            .map_err(|e| Error::General(format!("unreadable certificate: {e}")))?;
        let inter: Vec<Certificate> = intermediates
            .iter()
            .filter_map(|c| Certificate::from_der(c.as_ref()).ok())
            .collect();
        verify_chain(
            &leaf,
            &inter,
            self.trust.iter(),
            WallTime(now.as_secs() as i64),
            Backend::default(),
        )
        .map(|_| ServerCertVerified::assertion())
        .map_err(|e| {
            Error::General(format!(
                "certificate {} is not in the Jabber trust store ({e})",
                leaf.subject().to_cucm()
            ))
        })
    }

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
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Jabber {
    /// A client with an empty trust store [I].
    pub fn new(name: &str) -> Jabber {
        Jabber {
            name: name.to_string(),
            trust: vec![],
        }
    }

    /// Pushes a certificate to the device's trust store; false when it was there already.
    pub fn install(&mut self, cert: Certificate) -> bool {
        if self.trust.contains(&cert) {
            return false;
        }
        self.trust.push(cert);
        true
    }

    /// One TLS session to `host` whose service presents `server`, at wall time `now`.
    /// `chain`: certificates the server sends after its own (intermediates).
    pub fn connect(
        &self,
        host: &str,
        server: &Identity,
        chain: &[Certificate],
        now: WallTime,
    ) -> SessionOutcome {
        match self.handshake(host, server, chain, now) {
            Ok(()) => SessionOutcome::Trusted,
            Err(e) => SessionOutcome::Warning(e),
        }
    }

    fn handshake(
        &self,
        host: &str,
        server: &Identity,
        chain: &[Certificate],
        now: WallTime,
    ) -> Result<(), String> {
        let mut presented = vec![CertificateDer::from(server.cert.der().to_vec())];
        presented.extend(chain.iter().map(|c| CertificateDer::from(c.der().to_vec())));
        let clock = SimClock::default();
        clock.set(now);
        let verifier = Arc::new(JabberVerifier {
            trust: self.trust.clone(),
            algs: provider().signature_verification_algorithms,
        });
        let mut client_cfg =
            rustls::ClientConfig::builder_with_details(provider(), Arc::new(clock.clone()))
                .with_protocol_versions(&[&rustls::version::TLS12])
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
        client_cfg.resumption = rustls::client::Resumption::disabled();
        let server_cfg =
            rustls::ServerConfig::builder_with_details(provider(), Arc::new(clock.clone()))
                .with_protocol_versions(&[&rustls::version::TLS12])
                .map_err(|e| e.to_string())?
                .with_no_client_auth()
                .with_single_cert(
                    presented,
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key.to_pkcs8_der())),
                )
                .map_err(|e| e.to_string())?;
        let mut client = TlsEnd::client(Arc::new(client_cfg), host)?;
        let mut srv = TlsEnd::server(Arc::new(server_cfg))?;
        for _ in 0..8 {
            let c = client.take_outgoing();
            srv.feed(&c)?;
            let s = srv.take_outgoing();
            client.feed(&s)?;
            if client.is_established() && srv.is_established() {
                return Ok(());
            }
        }
        Err("TLS handshake did not complete".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::identity::{CertType, IdentityRequest, NodeNames};
    use crate::pki::KeyForge;

    #[test]
    fn warns_until_the_certificate_is_installed() {
        let names = NodeNames::lab("c", "imp-pub");
        let now = WallTime(1_700_000_000);
        let id = IdentityRequest::new(&names, CertType::CupXmpp, now)
            .issue_self_signed(&KeyForge::new(2))
            .unwrap();
        let mut j = Jabber::new("alice");
        assert!(matches!(
            j.connect("imp-pub", &id, &[], now),
            SessionOutcome::Warning(_)
        ));
        assert!(j.install(id.cert.clone()));
        assert_eq!(j.connect("imp-pub", &id, &[], now), SessionOutcome::Trusted);
    }
}
