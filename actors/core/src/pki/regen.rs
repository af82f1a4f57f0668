//! Regenerating one identity certificate of a generated cluster, as OS Administration >
//! Certificate Management > Regenerate does: a **new key and a new serial**, derived from the
//! seed with a generation counter in the key label, so the same scenario and seed regenerate
//! the same bytes (reference §2.6).
//!
//! ```text
//!  ClusterPki ──regenerate(forge, host, type, key?, generation, now)──► ClusterPki'
//!      │                                                              └► Regenerated{old, new}
//!      └── replace_in_stores(stores, old, new): every trust store that held the old
//!          certificate (CallManager-trust, tomcat-trust, CAPF-trust, ipsec-trust, …) now holds
//!          the new one instead
//! ```
//! The key profile stays the same unless the step names one ("Regeneration applies the same
//! key length" [C S12]; "Generate Self-Signed" may go to 3072/4096, F27). ITLRecovery and CAPF
//! exist once, on the publisher (see [`super::cluster`]). Validity: 5 years, ITLRecovery 20
//! from 12.5 ("extended to 20 years" on regeneration [C S10]) and 5 before.

use super::cluster::ClusterPki;
use super::identity::{CertType, Identity, IdentityRequest};
use super::keys::{KeyForge, KeyProfile};
use super::store::{StoreName, TrustStore};
use super::Certificate;
use crate::error::CertError;
use crate::version::CucmVersion;
use crate::wall::WallTime;
use std::collections::BTreeMap;

/// One regenerated certificate.
#[derive(Clone, Debug)]
pub struct Regenerated {
    pub host: String,
    pub cert_type: CertType,
    pub old: Certificate,
    pub new: Identity,
}

/// ITLRecovery validity in years for a release: 20 from 12.5, else 5 [C S10/S11].
pub fn itl_recovery_years(version: CucmVersion) -> i64 {
    if version >= CucmVersion::new(12, 5, 0) {
        20
    } else {
        5
    }
}

impl ClusterPki {
    /// The hosts holding a certificate of type `t`, in node order: the publisher alone for
    /// ITLRecovery and CAPF.
    pub fn holders(&self, t: CertType) -> Vec<String> {
        match t {
            CertType::ItlRecovery | CertType::Capf => {
                vec![self.publisher().spec.names.hostname.clone()]
            }
            _ => self
                .nodes
                .iter()
                .filter(|n| n.identity(t).is_some())
                .map(|n| n.spec.names.hostname.clone())
                .collect(),
        }
    }

    /// The identity of type `t` on `host` (ITLRecovery and CAPF: the publisher's).
    pub fn identity_of(&self, host: &str, t: CertType) -> Option<&Identity> {
        let node = self.nodes.iter().find(|n| n.spec.names.hostname == host)?;
        match t {
            CertType::ItlRecovery if node.spec.names == self.publisher().spec.names => {
                Some(&self.itl_recovery)
            }
            CertType::Capf if node.spec.names == self.publisher().spec.names => Some(&self.capf),
            CertType::ItlRecovery | CertType::Capf => None,
            other => node.identity(other),
        }
    }

    /// Regenerates certificate `t` of `host`: a new key (of `profile`, or the old key's
    /// profile) and a new serial, from `forge` with `generation` (≥ 1, unique per host and
    /// type) in the label, valid from `now`.
    pub fn regenerate(
        &mut self,
        forge: &KeyForge,
        host: &str,
        t: CertType,
        profile: Option<KeyProfile>,
        generation: u32,
        now: WallTime,
    ) -> Result<Regenerated, CertError> {
        let old = self
            .identity_of(host, t)
            .ok_or_else(|| CertError::Malformed(format!("{host} has no {t} certificate")))?
            .clone();
        let node = self
            .nodes
            .iter()
            .find(|n| n.spec.names.hostname == host)
            .expect("identity_of found the node");
        let mut req = IdentityRequest::new(&node.spec.names, t, now);
        req.profile = profile.unwrap_or_else(|| old.key.profile());
        req.generation = generation;
        if t == CertType::ItlRecovery {
            req.validity_s = itl_recovery_years(self.version) * WallTime::YEAR_S;
        }
        let new = req.issue_self_signed(forge)?;
        let slot = match t {
            CertType::ItlRecovery => &mut self.itl_recovery,
            CertType::Capf => &mut self.capf,
            other => self
                .nodes
                .iter_mut()
                .find(|n| n.spec.names.hostname == host)
                .and_then(|n| n.identities.get_mut(&other))
                .expect("identity_of found it"),
        };
        *slot = new.clone();
        Ok(Regenerated {
            host: host.to_string(),
            cert_type: t,
            old: old.cert,
            new,
        })
    }
}

/// Puts `new` in place of `old` in every store that held `old`; returns the stores touched.
pub fn replace_in_stores(
    stores: &mut BTreeMap<StoreName, TrustStore>,
    old: &Certificate,
    new: &Certificate,
) -> Vec<StoreName> {
    let mut touched = vec![];
    for (name, store) in stores.iter_mut() {
        if store.contains(old) {
            store.remove(old.serial(), &old.issuer().to_cucm());
            store.add(new.clone());
            touched.push(*name);
        }
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cluster::{ClusterSpec, NodeSpec};
    use crate::pki::identity::NodeNames;

    fn cluster() -> ClusterPki {
        let node = |h: &str| NodeSpec {
            names: NodeNames::lab("c", h),
            ip: None,
            runs_callmanager: true,
            runs_tftp: true,
            imp: false,
        };
        let profiles = CertType::ALL
            .iter()
            .filter(|t| **t != CertType::ItlRecovery)
            .map(|t| (*t, KeyProfile::EcP256))
            .collect();
        ClusterSpec {
            name: "c".into(),
            version: CucmVersion::new(12, 5, 0),
            nodes: vec![node("pub"), node("sub")],
            profiles,
            now: WallTime(1_700_000_000),
            itl_recovery_years: 20,
        }
        .generate(&KeyForge::new(5))
        .unwrap()
    }

    #[test]
    fn regeneration_makes_a_new_key_and_serial_and_replaces_it_in_the_stores() {
        let mut pki = cluster();
        let mut stores = pki.initial_stores(None);
        let forge = KeyForge::new(5);
        let later = WallTime(1_800_000_000);
        let r = pki
            .regenerate(&forge, "sub", CertType::CallManager, None, 1, later)
            .unwrap();
        assert_ne!(r.old.serial(), r.new.cert.serial());
        assert_ne!(r.old.der(), r.new.cert.der());
        assert_eq!(r.new.cert.subject(), r.old.subject());
        assert_eq!(r.new.key.profile(), KeyProfile::EcP256);
        assert_eq!(r.new.cert.info().not_before, later);
        let held = pki.identity_of("sub", CertType::CallManager).unwrap();
        assert_eq!(held.cert.der(), r.new.cert.der());
        assert_eq!(
            replace_in_stores(&mut stores, &r.old, &r.new.cert),
            vec![StoreName::CallManagerTrust]
        );
        let cm = &stores[&StoreName::CallManagerTrust];
        assert!(cm.contains(&r.new.cert) && !cm.contains(&r.old));
        // The same seed and generation give the same certificate; another generation differs.
        let mut again = cluster();
        let same = again
            .regenerate(&forge, "sub", CertType::CallManager, None, 1, later)
            .unwrap();
        assert_eq!(same.new.cert.der(), r.new.cert.der());
        let next = again
            .regenerate(&forge, "sub", CertType::CallManager, None, 2, later)
            .unwrap();
        assert_ne!(next.new.cert.serial(), r.new.cert.serial());
    }

    #[test]
    fn itl_recovery_and_capf_live_on_the_publisher_only() {
        let mut pki = cluster();
        assert_eq!(pki.holders(CertType::ItlRecovery), vec!["pub".to_string()]);
        assert_eq!(pki.holders(CertType::Tvs).len(), 2);
        assert!(pki.identity_of("sub", CertType::Capf).is_none());
        let forge = KeyForge::new(5);
        let err = pki.regenerate(&forge, "sub", CertType::Capf, None, 1, WallTime(0));
        assert!(err.is_err());
        let r = pki
            .regenerate(
                &forge,
                "pub",
                CertType::ItlRecovery,
                Some(KeyProfile::EcP256),
                1,
                WallTime(0),
            )
            .map(|_| ());
        assert!(r.is_err(), "ITLRecovery is always RSA");
    }
}
