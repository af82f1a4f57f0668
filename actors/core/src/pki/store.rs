//! Trust stores with CUCM's names, keyed by (serial, issuer) like TVS's "Unique MAP ID".
//!
//! Which certificates a store holds decides what TVS vouches for and with which roles
//! (reference §4.1): Phone-SAST-trust → SAST, CallManager-trust → CCM/TFTP, tomcat-trust →
//! APP-SERVER. Deleting from CAPF-trust, tomcat-trust, CallManager-trust or Phone-SAST-trust
//! deletes cluster-wide; CAPF-trust imports are node-local (§4.1, [C S12]).

use super::cert::Certificate;
use super::dn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The trust stores of a CUCM or IM&P node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StoreName {
    CallManagerTrust,
    CallManagerEcdsaTrust,
    TomcatTrust,
    TomcatEcdsaTrust,
    PhoneSastTrust,
    PhoneCtlTrust,
    PhoneTrust,
    PhoneVpnTrust,
    CapfTrust,
    IpsecTrust,
    TvsTrust,
    CupTrust,
    CupXmppTrust,
    CupXmppS2sTrust,
}

impl StoreName {
    /// Every store, in a stable order.
    pub const ALL: [StoreName; 14] = [
        StoreName::CallManagerTrust,
        StoreName::CallManagerEcdsaTrust,
        StoreName::TomcatTrust,
        StoreName::TomcatEcdsaTrust,
        StoreName::PhoneSastTrust,
        StoreName::PhoneCtlTrust,
        StoreName::PhoneTrust,
        StoreName::PhoneVpnTrust,
        StoreName::CapfTrust,
        StoreName::IpsecTrust,
        StoreName::TvsTrust,
        StoreName::CupTrust,
        StoreName::CupXmppTrust,
        StoreName::CupXmppS2sTrust,
    ];

    /// CUCM's name, e.g. `CallManager-trust`.
    pub fn cucm_name(self) -> &'static str {
        match self {
            StoreName::CallManagerTrust => "CallManager-trust",
            StoreName::CallManagerEcdsaTrust => "CallManager-ECDSA-trust",
            StoreName::TomcatTrust => "tomcat-trust",
            StoreName::TomcatEcdsaTrust => "tomcat-ECDSA-trust",
            StoreName::PhoneSastTrust => "Phone-SAST-trust",
            StoreName::PhoneCtlTrust => "Phone-CTL-trust",
            StoreName::PhoneTrust => "Phone-trust",
            StoreName::PhoneVpnTrust => "Phone-VPN-trust",
            StoreName::CapfTrust => "CAPF-trust",
            StoreName::IpsecTrust => "ipsec-trust",
            StoreName::TvsTrust => "TVS-trust",
            StoreName::CupTrust => "cup-trust",
            StoreName::CupXmppTrust => "cup-xmpp-trust",
            StoreName::CupXmppS2sTrust => "cup-xmpp-s2s-trust",
        }
    }

    /// Whether an upload or delete on one node applies to every node of the cluster.
    /// CAPF-trust is node-local [C S12]; the rest replicate [I for stores S12 does not list].
    pub fn replicates_cluster_wide(self) -> bool {
        !matches!(self, StoreName::CapfTrust)
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cucm_name())
    }
}

impl FromStr for StoreName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StoreName::ALL
            .into_iter()
            .find(|n| n.cucm_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = StoreName::ALL.iter().map(|n| n.cucm_name()).collect();
                format!(
                    "unknown trust store {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl TryFrom<String> for StoreName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<StoreName> for String {
    fn from(n: StoreName) -> String {
        n.cucm_name().to_string()
    }
}

/// The lookup key TVS uses: serial hex followed by the issuer DN ("Unique MAP ID", [C S9]),
/// with the DN normalised so `,` and `;` forms meet.
pub fn map_id(serial: &[u8], issuer: &str) -> String {
    format!("{}{}", hex::encode_upper(serial), dn::normalize(issuer))
}

/// One named store: certificates keyed by [`map_id`], iterated in a stable order.
#[derive(Clone, Debug)]
pub struct TrustStore {
    name: StoreName,
    certs: BTreeMap<String, Certificate>,
}

impl TrustStore {
    /// An empty store.
    pub fn new(name: StoreName) -> TrustStore {
        TrustStore {
            name,
            certs: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> StoreName {
        self.name
    }

    /// Adds (or replaces) a certificate; returns true when it was not there before.
    pub fn add(&mut self, cert: Certificate) -> bool {
        let id = map_id(cert.serial(), &cert.issuer().to_cucm());
        self.certs.insert(id, cert).is_none()
    }

    /// Removes by serial and issuer.
    pub fn remove(&mut self, serial: &[u8], issuer: &str) -> Option<Certificate> {
        self.certs.remove(&map_id(serial, issuer))
    }

    /// Finds by serial and issuer.
    pub fn find(&self, serial: &[u8], issuer: &str) -> Option<&Certificate> {
        self.certs.get(&map_id(serial, issuer))
    }

    /// Whether this exact certificate (same DER) is in the store.
    pub fn contains(&self, cert: &Certificate) -> bool {
        self.find(cert.serial(), &cert.issuer().to_cucm())
            .is_some_and(|c| c == cert)
    }

    /// Certificates whose subject matches `subject` (either separator style).
    pub fn by_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> impl Iterator<Item = &'a Certificate> + 'a {
        let want = dn::normalize(subject);
        self.certs
            .values()
            .filter(move |c| dn::normalize(&c.subject().to_cucm()) == want)
    }

    /// All certificates, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Certificate> {
        self.certs.values()
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}
