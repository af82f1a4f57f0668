//! The Jabber clients of a cluster's IM&P nodes: certificates installed in their trust
//! stores, and their sign-in, which runs real TLS to the XCP Router (cup-xmpp) and Cisco
//! Tomcat of the node with the certificates those services loaded at their last restart.
//!
//! ```text
//!  JabberInstall{client, node, type} ─► node's current certificate ─► client's trust store
//!  JabberInstallRoot{client} ─► the external CA's root ─► client's trust store
//!  JabberLogin{client, node} ─► for XCP Router, then Tomcat: TLS with the served certificate
//!        (+ the CA-signed one's intermediate) ─► trusted | `jabber_certificate_warning`
//!        ─► `jabber_signed_in`
//! ```

use super::Publisher;
use crate::machine::jabber::{Jabber, SessionOutcome};
use crate::machine::msg::{Effect, Now};
use crate::machine::trace::{Kind, Observation};
use crate::pki::identity::CertType;

impl Publisher {
    /// Pushes `node`'s current `cert_type` certificate to Jabber client `client`.
    pub(super) fn jabber_install(
        &mut self,
        client: &str,
        node: &str,
        cert_type: CertType,
        now: Now,
    ) -> Vec<Effect> {
        let Some(id) = self.pki.identity_of(node, cert_type) else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!("{node} has no {cert_type} certificate"),
            )];
        };
        let cert = id.cert.clone();
        let serial = cert.serial_hex();
        let j = self
            .imp
            .jabbers
            .entry(client.to_string())
            .or_insert_with(|| Jabber::new(client));
        j.install(cert);
        vec![Effect::Observe(Observation::note(
            now,
            &format!("jabber:{client}"),
            Kind::JabberCertificateInstalled,
            format!("{cert_type} of {node} (serial {serial}) in the trust store"),
        ))]
    }

    /// Pushes the external CA's root to Jabber client `client`.
    pub(super) fn jabber_install_root(&mut self, client: &str, now: Now) -> Vec<Effect> {
        let Some(root) = self.multisan.ca.as_ref().map(|c| c.root.cert.clone()) else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                "no external CA root yet: upload it to tomcat-trust first",
            )];
        };
        let j = self
            .imp
            .jabbers
            .entry(client.to_string())
            .or_insert_with(|| Jabber::new(client));
        j.install(root.clone());
        vec![Effect::Observe(Observation::note(
            now,
            &format!("jabber:{client}"),
            Kind::JabberCertificateInstalled,
            format!("{} in the trust store", root.subject().to_cucm()),
        ))]
    }

    /// Jabber client `client` signs in to IM&P node `node`: real TLS to the services it
    /// uses there, a warning for each certificate it does not trust.
    pub(super) fn jabber_login(&mut self, client: &str, node: &str, now: Now) -> Vec<Effect> {
        let who = format!("jabber:{client}");
        let jabber = self
            .imp
            .jabbers
            .entry(client.to_string())
            .or_insert_with(|| Jabber::new(client))
            .clone();
        let mut out = vec![];
        let mut warned = false;
        for (service, t) in [
            ("Cisco XCP Router", CertType::CupXmpp),
            ("Cisco Tomcat", CertType::Tomcat),
        ] {
            let Some(id) = self.imp.served.get(&(node.to_string(), t)) else {
                out.push(self.obs(
                    now,
                    Kind::OperatorError,
                    format!("{node} has no {t} certificate"),
                ));
                return out;
            };
            let chain = self.multisan.chains.get(&t).cloned().unwrap_or_default();
            match jabber.connect(node, id, &chain, now.wall) {
                SessionOutcome::Trusted => {}
                SessionOutcome::Warning(why) => {
                    warned = true;
                    out.push(Effect::Observe(Observation::note(
                        now,
                        &who,
                        Kind::JabberCertificateWarning,
                        format!(
                            "{t} certificate of {node} ({service}, serial {}) not trusted: \
                             security warning pop-up; {why}",
                            id.cert.serial_hex()
                        ),
                    )));
                }
            }
        }
        out.push(Effect::Observe(Observation::note(
            now,
            &who,
            Kind::JabberSignedIn,
            format!(
                "signed in to {node}{}",
                if warned {
                    " after the certificate warning"
                } else {
                    " without warnings"
                }
            ),
        )));
        out
    }
}
