//! Multi-server (SAN) Tomcat certificates signed by an external CA (reference §4.3,
//! seed 002 "multi-SAN Tomcat CSR is generated on the CUCM publisher and distributed to every
//! CUCM and IM&P node"), on a cluster's publisher, with the known defect CSCur97909 (F21).
//!
//! ```text
//!  TomcatCsr ─► key + request on the CUCM publisher: CN <pub>-ms.<domain>, SAN = the FQDN of
//!               every CUCM and IM&P node, DigitalSignature, KeyEncipherment,
//!               DataEncipherment; serverAuth, clientAuth
//!  UploadCa{root|intermediate} ─► tomcat-trust on every node (the root first: an intermediate
//!               whose issuer is not in tomcat-trust is refused)
//!  UploadSigned{cscur97909} ─► the external CA's intermediate signs the request; refused
//!               without a request or when the chain does not verify against tomcat-trust ·
//!               distributed: every node's tomcat identity is the multi-SAN certificate ·
//!               the old self-signed tomcat certificates leave tomcat-trust — unless
//!               CSCur97909 ("does not delete self-signed certs in DB"): `self_signed_not_deleted`
//!  Cisco Tomcat presents it (with the intermediate) after `imp_restart_services type=tomcat`
//! ```
//! [I] choices: the external CA (root and intermediate, RSA-2048, 10 years) is generated from
//! the seed per cluster; the request is the key and the fields a PKCS#10 CSR would carry
//! (the CA signs exactly those); the Tomcat multi-SAN CN uses CallManager's documented `-ms`
//! form; the CA-signed certificate drops KeyCertSign (it is not a CA).

use super::super::msg::{Effect, Now};
use super::Publisher;
use crate::pki::chain::verify_chain;
use crate::pki::dn::DistinguishedName;
use crate::pki::identity::CertType;
use crate::pki::{
    Backend, CertSpec, Certificate, ExtKeyUsage, Identity, KeyForge, KeyProfile, KeyUsage,
    PrivateKey, StoreName,
};
use crate::wall::WallTime;
use std::sync::Arc;

/// A certificate authority outside CUCM: a root and the intermediate that signs.
#[derive(Clone, Debug)]
pub struct ExternalCa {
    pub root: Identity,
    pub intermediate: Identity,
}

/// A pending multi-server request.
#[derive(Clone, Debug)]
pub struct MultiSanRequest {
    pub subject: DistinguishedName,
    pub san_dns: Vec<String>,
    pub key: Arc<PrivateKey>,
}

/// Multi-SAN state of a cluster.
#[derive(Clone, Debug, Default)]
pub struct MultiSanState {
    pub ca: Option<ExternalCa>,
    pub pending: Option<MultiSanRequest>,
    generation: u32,
}

impl ExternalCa {
    /// The CA of `cluster`, from `forge`, valid from `now`.
    pub fn generate(
        forge: &KeyForge,
        cluster: &str,
        now: WallTime,
    ) -> Result<Self, crate::error::CertError> {
        let make = |name: &str, issuer: Option<&Identity>| {
            let label = format!("{cluster}/external-ca/{name}");
            let key = forge.key(&label, KeyProfile::RSA2048);
            let spec = CertSpec {
                subject: DistinguishedName::new([
                    ("CN", format!("{cluster} External {name} CA")),
                    ("O", "Example".to_string()),
                ]),
                serial: forge.serial(&label, 16),
                not_before: now,
                not_after: now.plus_s(10 * WallTime::YEAR_S),
                ca: Some(if issuer.is_some() { Some(0) } else { None }),
                key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyCertSign],
                ext_key_usage: vec![],
                san_dns: vec![],
                san_uri: vec![],
            };
            let cert = Certificate::issue(&spec, &key, issuer.map(|i| (&i.cert, &*i.key)))?;
            Ok::<_, crate::error::CertError>(Identity {
                cert_type: None,
                cert,
                key,
            })
        };
        let root = make("Root", None)?;
        let intermediate = make("Intermediate", Some(&root))?;
        Ok(ExternalCa { root, intermediate })
    }

    /// Signs `req` with the intermediate: a 2-year [I] server certificate.
    pub fn sign(
        &self,
        forge: &KeyForge,
        label: &str,
        req: &MultiSanRequest,
        now: WallTime,
    ) -> Result<Certificate, crate::error::CertError> {
        let spec = CertSpec {
            subject: req.subject.clone(),
            serial: forge.serial(&format!("{label}/signed"), 16),
            not_before: now,
            not_after: now.plus_s(2 * WallTime::YEAR_S),
            ca: None,
            key_usage: vec![
                KeyUsage::DigitalSignature,
                KeyUsage::KeyEncipherment,
                KeyUsage::DataEncipherment,
            ],
            ext_key_usage: vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth],
            san_dns: req.san_dns.clone(),
            san_uri: vec![],
        };
        Certificate::issue(
            &spec,
            &req.key,
            Some((&self.intermediate.cert, &self.intermediate.key)),
        )
    }
}

impl Publisher {
    fn external_ca(&mut self, now: Now) -> Option<ExternalCa> {
        if self.imp.multisan.ca.is_none() {
            let forge = KeyForge::new(self.lifecycle.seed);
            self.imp.multisan.ca = ExternalCa::generate(&forge, &self.pki.name, now.wall).ok();
        }
        self.imp.multisan.ca.clone()
    }

    pub(super) fn tomcat_csr(&mut self, now: Now) -> Vec<Effect> {
        let forge = KeyForge::new(self.lifecycle.seed);
        self.imp.multisan.generation += 1;
        let label = format!(
            "{}/multisan/tomcat#{}",
            self.pki.name, self.imp.multisan.generation
        );
        let names = &self.pki.publisher().spec.names;
        let cn = format!("{}-ms.{}", names.hostname, names.domain);
        let subject = DistinguishedName::new([
            ("CN", cn.clone()),
            ("OU", names.ou.clone()),
            ("O", names.o.clone()),
            ("L", names.l.clone()),
            ("ST", names.st.clone()),
            ("C", names.c.clone()),
        ]);
        let san_dns: Vec<String> = self.pki.nodes.iter().map(|n| n.spec.names.fqdn()).collect();
        let req = MultiSanRequest {
            subject,
            san_dns: san_dns.clone(),
            key: forge.key(&label, KeyProfile::RSA2048),
        };
        self.imp.multisan.pending = Some(req);
        vec![self.obs(
            now,
            "multi_san_csr",
            format!(
                "tomcat multi-server CSR: CN={cn}, SAN [{}]",
                san_dns.join(", ")
            ),
        )]
    }

    fn add_to_tomcat_trust(&mut self, cert: &Certificate) {
        self.stores
            .entry(StoreName::TomcatTrust)
            .or_insert_with(|| crate::pki::TrustStore::new(StoreName::TomcatTrust))
            .add(cert.clone());
        for stores in self.imp.node_stores.values_mut() {
            if let Some(s) = stores.get_mut(&StoreName::TomcatTrust) {
                s.add(cert.clone());
            }
        }
    }

    pub(super) fn upload_ca(&mut self, intermediate: bool, now: Now) -> Vec<Effect> {
        let Some(ca) = self.external_ca(now) else {
            return vec![self.obs(now, "operator_error", "the external CA could not be made")];
        };
        let trust: Vec<Certificate> = self
            .stores
            .get(&StoreName::TomcatTrust)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let cert = if intermediate {
            if !trust.contains(&ca.root.cert) {
                return vec![self.obs(
                    now,
                    "operator_error",
                    "intermediate upload to tomcat-trust refused: its issuer (the root) is not \
                     in tomcat-trust; upload the root first",
                )];
            }
            ca.intermediate.cert
        } else {
            ca.root.cert
        };
        self.add_to_tomcat_trust(&cert);
        let mut out = vec![self.obs(
            now,
            "ca_certificate_uploaded",
            format!("tomcat-trust ← {}", cert.subject().to_cucm()),
        )];
        out.extend(self.push_stores());
        out
    }

    pub(super) fn upload_multi_san(&mut self, cscur97909: bool, now: Now) -> Vec<Effect> {
        let Some(req) = self.imp.multisan.pending.clone() else {
            return vec![self.obs(
                now,
                "operator_error",
                "no multi-server CSR to sign: generate one first",
            )];
        };
        let Some(ca) = self.external_ca(now) else {
            return vec![];
        };
        let forge = KeyForge::new(self.lifecycle.seed);
        let label = format!(
            "{}/multisan/tomcat#{}",
            self.pki.name, self.imp.multisan.generation
        );
        let cert = match ca.sign(&forge, &label, &req, now.wall) {
            Ok(c) => c,
            Err(e) => {
                return vec![self.obs(now, "operator_error", format!("CA signing failed: {e}"))]
            }
        };
        let trust: Vec<Certificate> = self
            .stores
            .get(&StoreName::TomcatTrust)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let intermediates: Vec<Certificate> = trust.clone();
        if let Err(e) = verify_chain(
            &cert,
            &intermediates,
            trust.iter(),
            now.wall,
            Backend::default(),
        ) {
            return vec![self.obs(
                now,
                "operator_error",
                format!("multi-server certificate upload refused: its chain does not verify against tomcat-trust ({e}); upload the root, then the intermediate"),
            )];
        }
        self.imp.multisan.pending = None;
        let id = Identity {
            cert_type: Some(CertType::Tomcat),
            cert: cert.clone(),
            key: req.key.clone(),
        };
        let mut out = vec![];
        let mut kept = vec![];
        for i in 0..self.pki.nodes.len() {
            let host = self.pki.nodes[i].spec.names.hostname.clone();
            let Some(old) = self.pki.nodes[i]
                .identities
                .insert(CertType::Tomcat, id.clone())
            else {
                continue;
            };
            if cscur97909 {
                kept.push(host.clone());
            } else {
                let (serial, issuer) = (old.cert.serial().to_vec(), old.cert.issuer().to_cucm());
                if let Some(s) = self.stores.get_mut(&StoreName::TomcatTrust) {
                    s.remove(&serial, &issuer);
                }
                for stores in self.imp.node_stores.values_mut() {
                    if let Some(s) = stores.get_mut(&StoreName::TomcatTrust) {
                        s.remove(&serial, &issuer);
                    }
                }
            }
            out.push(self.obs(
                now,
                "multi_san_distributed",
                format!(
                    "tomcat of {host}: {} (serial {})",
                    cert.subject().to_cucm(),
                    cert.serial_hex()
                ),
            ));
        }
        self.imp
            .chains
            .insert(CertType::Tomcat, vec![ca.intermediate.cert.clone()]);
        self.add_to_tomcat_trust(&cert);
        if !kept.is_empty() {
            out.push(self.obs(
                now,
                "self_signed_not_deleted",
                format!(
                    "CSCur97909: the self-signed tomcat certificates of {} stay in tomcat-trust",
                    kept.join(", ")
                ),
            ));
        }
        out.extend(self.push_stores());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::cluster::Enterprise;
    use crate::pki::cluster::{ClusterSpec, NodeSpec};
    use crate::pki::identity::NodeNames;
    use crate::tlv::content::CucmVersion;
    use std::collections::BTreeMap;

    fn publisher() -> Publisher {
        let node = |h: &str, imp: bool| NodeSpec {
            names: NodeNames::lab("c", h),
            ip: None,
            runs_callmanager: !imp,
            runs_tftp: !imp,
            imp,
        };
        let pki = ClusterSpec {
            name: "c".into(),
            version: CucmVersion::new(12, 5, 0),
            nodes: vec![node("pub", false), node("imp", true)],
            profiles: BTreeMap::new(),
            now: WallTime(1_700_000_000),
            itl_recovery_years: 20,
        }
        .generate(&KeyForge::new(4))
        .unwrap();
        let stores = pki.initial_stores(None);
        Publisher::new(pki, stores, false, Enterprise::default())
    }

    fn whats(out: &[Effect]) -> Vec<String> {
        out.iter()
            .filter_map(|e| match e {
                Effect::Observe(o) => Some(format!("{} {}", o.what, o.detail)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn signed_multi_san_replaces_every_tomcat_and_its_self_signed_trust() {
        let now = Now {
            mono_ms: 0,
            wall: WallTime(1_700_000_100),
        };
        for defect in [false, true] {
            let mut p = publisher();
            let old: Vec<Certificate> = p
                .pki
                .nodes
                .iter()
                .map(|n| n.identity(CertType::Tomcat).unwrap().cert.clone())
                .collect();
            assert!(whats(&p.upload_multi_san(defect, now))[0].contains("no multi-server CSR"));
            assert!(whats(&p.tomcat_csr(now))[0].contains("SAN [pub.lab.local, imp.lab.local]"));
            assert!(whats(&p.upload_ca(true, now))[0].contains("upload the root first"));
            p.upload_ca(false, now);
            p.upload_ca(true, now);
            let w = whats(&p.upload_multi_san(defect, now));
            assert_eq!(
                w.iter()
                    .filter(|l| l.starts_with("multi_san_distributed"))
                    .count(),
                2
            );
            assert_eq!(
                w.iter().any(|l| l.starts_with("self_signed_not_deleted")),
                defect
            );
            let a = p.pki.nodes[0]
                .identity(CertType::Tomcat)
                .unwrap()
                .cert
                .clone();
            let b = p.pki.nodes[1]
                .identity(CertType::Tomcat)
                .unwrap()
                .cert
                .clone();
            assert_eq!(a, b);
            assert_eq!(a.subject().common_name(), "pub-ms.lab.local");
            let trust = &p.stores[&StoreName::TomcatTrust];
            let ca = p.imp.multisan.ca.clone().unwrap();
            verify_chain(
                &a,
                std::slice::from_ref(&ca.intermediate.cert),
                [&ca.root.cert],
                now.wall,
                Backend::default(),
            )
            .unwrap();
            assert!(trust.contains(&a));
            assert!(old.iter().all(|c| trust.contains(c) == defect));
        }
    }
}
