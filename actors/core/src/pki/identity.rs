//! The identity certificates of a CUCM or IM&P node, with CUCM-like subjects and the key
//! usages of reference §4.3.
//!
//! | type | CN | key (default) | usages |
//! |---|---|---|---|
//! | CallManager | `<host>` | RSA-2048 | DS, KE, KCS; serverAuth, clientAuth, IPsec |
//! | CallManager-ECDSA | `<host>-EC` | P-256 | DS, KA, KCS; serverAuth, clientAuth, IPsec |
//! | Tomcat | `<host>.<domain>` | RSA-2048 | DS, KE, DE, KCS; serverAuth, clientAuth |
//! | TVS | `<host>` | RSA-2048 | DS, KE, DE, KCS |
//! | CAPF | `CAPF-<8 hex>` | RSA-2048 | DS, KCS; CA:TRUE pathlen:0 (14SU2+, F13) |
//! | ITLRecovery | `ITLRECOVERY_<host>` | RSA-2048, always RSA | DS, KE, KCS |
//! | ipsec | `<host>` | RSA-2048 | DS, KE, KCS; serverAuth, clientAuth, IPsec |
//! | cup / cup-xmpp / cup-xmpp-s2s | `<host>` / `<host>.<domain>` | RSA-2048 | DS, KE, KCS; serverAuth, clientAuth |
//!
//! Sources: `CAPF-<8 hex>` and the CallManager/TVS/CAPF usages are [C] (§3.1, §4.3). The CNs of
//! TVS, Tomcat, ITLRecovery, ipsec and the IM&P certificates, and the usages of the rest, are
//! [I]: a setting a scenario may override through [`NodeNames`]. Self-signed identities carry
//! CA:TRUE, as CUCM's self-signed certificates do.

use super::cert::{CertSpec, Certificate, ExtKeyUsage, KeyUsage};
use super::dn::DistinguishedName;
use super::keys::{KeyForge, KeyProfile, PrivateKey};
use crate::error::CertError;
use crate::wall::WallTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The identity certificate types of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CertType {
    CallManager,
    CallManagerEcdsa,
    Tomcat,
    Tvs,
    Capf,
    ItlRecovery,
    Ipsec,
    Cup,
    CupXmpp,
    CupXmppS2s,
}

impl CertType {
    /// Every type, in a stable order.
    pub const ALL: [CertType; 10] = [
        CertType::CallManager,
        CertType::CallManagerEcdsa,
        CertType::Tomcat,
        CertType::Tvs,
        CertType::Capf,
        CertType::ItlRecovery,
        CertType::Ipsec,
        CertType::Cup,
        CertType::CupXmpp,
        CertType::CupXmppS2s,
    ];
    /// The certificates of a CUCM node (ITLRecovery and CAPF only where the cluster puts them).
    pub const CUCM_NODE: [CertType; 5] = [
        CertType::CallManager,
        CertType::CallManagerEcdsa,
        CertType::Tomcat,
        CertType::Tvs,
        CertType::Ipsec,
    ];
    /// The certificates of an IM&P node.
    pub const IMP_NODE: [CertType; 5] = [
        CertType::Cup,
        CertType::CupXmpp,
        CertType::CupXmppS2s,
        CertType::Ipsec,
        CertType::Tomcat,
    ];

    /// CUCM's name (as in OS Administration > Certificate Management).
    pub fn cucm_name(self) -> &'static str {
        match self {
            CertType::CallManager => "CallManager",
            CertType::CallManagerEcdsa => "CallManager-ECDSA",
            CertType::Tomcat => "tomcat",
            CertType::Tvs => "TVS",
            CertType::Capf => "CAPF",
            CertType::ItlRecovery => "ITLRecovery",
            CertType::Ipsec => "ipsec",
            CertType::Cup => "cup",
            CertType::CupXmpp => "cup-xmpp",
            CertType::CupXmppS2s => "cup-xmpp-s2s",
        }
    }

    /// The key profile CUCM uses unless told otherwise.
    pub fn default_profile(self) -> KeyProfile {
        match self {
            CertType::CallManagerEcdsa => KeyProfile::EcP256,
            _ => KeyProfile::RSA2048,
        }
    }

    /// Whether `profile` is allowed: ITLRecovery is always RSA ("Key Type is automatically set
    /// to RSA", [C S12]); CallManager-ECDSA is always EC.
    pub fn allows(self, profile: KeyProfile) -> bool {
        match self {
            CertType::ItlRecovery => matches!(profile, KeyProfile::Rsa { .. }),
            CertType::CallManagerEcdsa => profile == KeyProfile::EcP256,
            _ => true,
        }
    }

    fn usages(self) -> (Vec<KeyUsage>, Vec<ExtKeyUsage>) {
        use ExtKeyUsage::*;
        use KeyUsage::*;
        match self {
            CertType::CallManager | CertType::Ipsec => (
                vec![DigitalSignature, KeyEncipherment, KeyCertSign],
                vec![ServerAuth, ClientAuth, IpsecEndSystem],
            ),
            CertType::CallManagerEcdsa => (
                vec![DigitalSignature, KeyAgreement, KeyCertSign],
                vec![ServerAuth, ClientAuth, IpsecEndSystem],
            ),
            CertType::Tomcat => (
                vec![
                    DigitalSignature,
                    KeyEncipherment,
                    DataEncipherment,
                    KeyCertSign,
                ],
                vec![ServerAuth, ClientAuth],
            ),
            CertType::Tvs => (
                vec![
                    DigitalSignature,
                    KeyEncipherment,
                    DataEncipherment,
                    KeyCertSign,
                ],
                vec![],
            ),
            CertType::Capf => (vec![DigitalSignature, KeyCertSign], vec![]),
            CertType::ItlRecovery => (vec![DigitalSignature, KeyEncipherment, KeyCertSign], vec![]),
            CertType::Cup | CertType::CupXmpp | CertType::CupXmppS2s => (
                vec![DigitalSignature, KeyEncipherment, KeyCertSign],
                vec![ServerAuth, ClientAuth],
            ),
        }
    }
}

impl fmt::Display for CertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cucm_name())
    }
}

impl FromStr for CertType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CertType::ALL
            .into_iter()
            .find(|t| t.cucm_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = CertType::ALL.iter().map(|t| t.cucm_name()).collect();
                format!(
                    "unknown certificate type {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl TryFrom<String> for CertType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<CertType> for String {
    fn from(t: CertType) -> String {
        t.cucm_name().to_string()
    }
}

/// Names a node's certificates are made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeNames {
    /// Cluster label: keeps keys of two clusters with the same host names apart.
    pub cluster: String,
    pub hostname: String,
    pub domain: String,
    pub ou: String,
    pub o: String,
    pub l: String,
    pub st: String,
    pub c: String,
}

impl NodeNames {
    /// Names with the organisation fields of the lab examples in Cisco's documents.
    pub fn lab(cluster: &str, hostname: &str) -> NodeNames {
        NodeNames {
            cluster: cluster.to_string(),
            hostname: hostname.to_string(),
            domain: "lab.local".to_string(),
            ou: "TAC".to_string(),
            o: "Cisco".to_string(),
            l: "Krakow".to_string(),
            st: "Malopolska".to_string(),
            c: "PL".to_string(),
        }
    }

    /// Fully qualified domain name.
    pub fn fqdn(&self) -> String {
        if self.domain.is_empty() {
            self.hostname.clone()
        } else {
            format!("{}.{}", self.hostname, self.domain)
        }
    }

    fn subject(&self, cn: String) -> DistinguishedName {
        DistinguishedName::new([
            ("CN", cn),
            ("OU", self.ou.clone()),
            ("O", self.o.clone()),
            ("L", self.l.clone()),
            ("ST", self.st.clone()),
            ("C", self.c.clone()),
        ])
    }
}

/// A certificate with its private key.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert_type: Option<CertType>,
    pub cert: Certificate,
    pub key: Arc<PrivateKey>,
}

/// How to make an identity certificate.
#[derive(Clone, Debug)]
pub struct IdentityRequest<'a> {
    pub names: &'a NodeNames,
    pub cert_type: CertType,
    pub profile: KeyProfile,
    /// Issue time on the issuing host's wall clock.
    pub now: WallTime,
    pub validity_s: i64,
    /// Regeneration counter: each regeneration makes a new key and serial.
    pub generation: u32,
}

impl<'a> IdentityRequest<'a> {
    /// The default request: CUCM's key profile and 5 years' validity [C S12].
    pub fn new(names: &'a NodeNames, cert_type: CertType, now: WallTime) -> Self {
        IdentityRequest {
            names,
            cert_type,
            profile: cert_type.default_profile(),
            now,
            validity_s: 5 * WallTime::YEAR_S,
            generation: 0,
        }
    }

    fn label(&self) -> String {
        format!(
            "{}/{}/{}#{}",
            self.names.cluster,
            self.names.hostname,
            self.cert_type.cucm_name(),
            self.generation
        )
    }

    fn common_name(&self, forge: &KeyForge) -> String {
        let n = self.names;
        match self.cert_type {
            CertType::CallManager | CertType::Tvs | CertType::Ipsec | CertType::Cup => {
                n.hostname.clone()
            }
            CertType::CallManagerEcdsa => format!("{}-EC", n.hostname),
            CertType::Tomcat | CertType::CupXmpp | CertType::CupXmppS2s => n.fqdn(),
            CertType::Capf => format!(
                "CAPF-{}",
                hex::encode(forge.bytes(&format!("capf-cn/{}", self.label()), 4))
            ),
            CertType::ItlRecovery => format!("ITLRECOVERY_{}", n.hostname),
        }
    }

    /// Issues the self-signed identity certificate, keys and serial derived from `forge`.
    pub fn issue_self_signed(&self, forge: &KeyForge) -> Result<Identity, CertError> {
        if !self.cert_type.allows(self.profile) {
            return Err(CertError::Malformed(format!(
                "{} certificates cannot use a {} key",
                self.cert_type, self.profile
            )));
        }
        let label = self.label();
        let key = forge.key(&label, self.profile);
        let (key_usage, ext_key_usage) = self.cert_type.usages();
        let ca = match self.cert_type {
            CertType::Capf => Some(Some(0)),
            _ => Some(None),
        };
        let spec = CertSpec {
            subject: self.names.subject(self.common_name(forge)),
            serial: forge.serial(&label, 16),
            not_before: self.now,
            not_after: self.now.plus_s(self.validity_s),
            ca,
            key_usage,
            ext_key_usage,
            san_dns: vec![self.names.fqdn()],
            san_uri: vec![],
        };
        let cert = Certificate::issue(&spec, &key, None)?;
        Ok(Identity {
            cert_type: Some(self.cert_type),
            cert,
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capf_subject_and_constraints() {
        let names = NodeNames::lab("a", "cucm-pub");
        let now = WallTime::from_ymd(2025, 1, 1).unwrap();
        let id = IdentityRequest::new(&names, CertType::Capf, now)
            .issue_self_signed(&KeyForge::new(1))
            .unwrap();
        let cn = id.cert.subject().common_name().to_string();
        assert!(cn.starts_with("CAPF-") && cn.len() == 13, "{cn}");
        assert_eq!(id.cert.info().ca, Some(Some(0)));
        assert!(id.cert.info().key_usage.contains(&KeyUsage::KeyCertSign));
        assert_eq!(id.cert.serial().len(), 16);
        assert_eq!(
            id.cert.info().not_after.0 - id.cert.info().not_before.0,
            5 * WallTime::YEAR_S
        );
    }

    #[test]
    fn itl_recovery_refuses_ec() {
        let names = NodeNames::lab("a", "pub");
        let mut req = IdentityRequest::new(&names, CertType::ItlRecovery, WallTime(1_700_000_000));
        req.profile = KeyProfile::EcP256;
        assert!(req.issue_self_signed(&KeyForge::new(1)).is_err());
    }
}
