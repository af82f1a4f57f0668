//! Multi-server (SAN) certificates signed by an external CA (reference §4.3, seed 002
//! "multi-SAN Tomcat CSR is generated on the CUCM publisher and distributed to every CUCM and
//! IM&P node"), on a cluster's publisher: Tomcat (CUCM and IM&P nodes) and CallManager (CUCM
//! nodes only), with the known defects CSCur97909 (F21), CSCup28852 (F20) and CSCus47235
//! (F22).
//!
//! ```text
//!  Csr{tomcat|callmanager, cscus47235} ─► key + request on the CUCM publisher:
//!        tomcat       CN <pub>-ms.<domain>, SAN = CN + FQDN of every CUCM and IM&P node,
//!                     DigitalSignature, KeyEncipherment, DataEncipherment; serverAuth, clientAuth
//!        callmanager  CN <pub>-ms.<domain> (<pub>-EC-ms.<domain> when the publisher's
//!                     CallManager key is EC), SAN = CN + FQDN of every CUCM node,
//!                     DigitalSignature, KeyEncipherment, KeyCertSign; serverAuth, clientAuth,
//!                     IPsec end system (§4.3 table)
//!        CSCus47235 (10.5.2): the CN is not duplicated into the SAN
//!  UploadCa{type, root|intermediate} ─► tomcat-trust (every node) or CallManager-trust (the
//!        root first: an intermediate whose issuer is not in the store is refused)
//!  UploadSigned{type, cscur97909, cscup28852} ─► the external CA's intermediate signs the
//!        request; refused without a request or when the chain does not verify against the
//!        type's trust store · every listed node's identity is the multi-SAN certificate ·
//!        the old self-signed certificates leave the trust stores — unless CSCur97909
//!        ("does not delete self-signed certs in DB"): `self_signed_not_deleted` ·
//!        a signed certificate whose SAN lacks its CN: `san_lacks_cn`
//!        tomcat: Cisco Tomcat presents it after `imp_restart_services type=tomcat`
//!        callmanager: mixed mode keeps the CTL as it was until `utils ctl update CTLFile`;
//!        every CUCM node awaits "Restart TFTP, CallManager, CTIManager and TVS"
//!  RestartCm{node} ─► refused on a subscriber while the publisher awaits its restart ·
//!        the node's TFTP rebuilds its ITL/CTL/configs, its TVS restarts on the new stores ·
//!        last node done ─► `multi_san_active`; "Phone Interaction on Certificate Update" =
//!        automatic ─► ResetRegistered on every CallManager (`phones_reset`)
//!        CSCup28852 ─► Timer(period, default 420 s) ─► `certificate_change`: the TFTP
//!        rebuilds, the phones are reset again ─► Timer(period) … while the certificate is
//!        the active one
//! ```
//! [I] choices: the external CA (root and intermediate, RSA-2048, 10 years) is generated from
//! the seed per cluster and serves both types; the request is the key and the fields a
//! PKCS#10 CSR would carry (the CA signs exactly those); the Tomcat multi-SAN CN uses
//! CallManager's documented `-ms` form; the CA-signed Tomcat certificate drops KeyCertSign
//! (it is not a CA), the CallManager one keeps the §4.3 usages; CA certificates for the
//! CallManager type go to CallManager-trust, mirroring tomcat-trust (the reference only
//! names the procedure); the CN duplicated into the SAN is inferred from CSCus47235's title
//! ("CN not duplicated into SAN"); the services restart publisher first (§4.3 gives no
//! order; the IM&P rule of seed 002 is the model); the phones reset once, when the last
//! listed node restarted; CSCup28852's 7-minute loop (F20 "[I] Simulate it as a periodic
//! (420 s) auto-reset loop") runs whatever the version, the switch standing for an affected
//! one.

use super::super::msg::{Effect, Now};
use super::Publisher;
use crate::machine::trace::Kind;
use crate::pki::chain::verify_chain;
use crate::pki::dn::DistinguishedName;
use crate::pki::identity::CertType;
use crate::pki::regen::replace_in_stores;
use crate::pki::{
    Backend, CertSpec, Certificate, ExtKeyUsage, Identity, KeyForge, KeyProfile, KeyUsage,
    PrivateKey, StoreName,
};
use crate::wall::WallTime;
use std::collections::BTreeMap;
use std::sync::Arc;

/// CSCup28852's period when the scenario names none: "phone reset every 7min" [C S16].
pub const CSCUP28852_PERIOD_MS: u64 = 420_000;

/// The services §4.3 restarts after a CallManager multi-server upload, in its order.
pub const CM_SERVICES: [&str; 4] = [
    "Cisco Tftp",
    "Cisco CallManager",
    "Cisco CTIManager",
    "Cisco Trust Verification Service",
];

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
    pub key_usage: Vec<KeyUsage>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
    /// The hosts whose identity the signed certificate becomes.
    pub hosts: Vec<String>,
}

/// The CallManager multi-server certificate once uploaded.
#[derive(Clone, Debug)]
pub struct CmMultiSan {
    pub cert: Certificate,
    /// CUCM nodes whose TFTP, CallManager, CTIManager and TVS have not restarted yet, the
    /// publisher first.
    pub awaiting: Vec<String>,
    /// CSCup28852: the certificate-change processing re-runs every this many ms.
    pub cscup28852_ms: Option<u64>,
}

/// Multi-SAN state of a cluster.
#[derive(Clone, Debug, Default)]
pub struct MultiSanState {
    pub ca: Option<ExternalCa>,
    /// Pending requests by type (tomcat, callmanager).
    pub pending: BTreeMap<CertType, MultiSanRequest>,
    generation: u32,
    /// The uploaded CallManager multi-server certificate.
    pub cm: Option<CmMultiSan>,
    /// Bumped at each CallManager upload: a CSCup28852 timer of an older one is a no-op.
    epoch: u64,
}

/// The trust store CA certificates of multi-server type `t` go to.
pub fn trust_store_of(t: CertType) -> StoreName {
    match t {
        CertType::CallManager => StoreName::CallManagerTrust,
        _ => StoreName::TomcatTrust,
    }
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

    /// Signs `req` with the intermediate: a 2-year [I] server certificate with the request's
    /// subject, SAN and usages.
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
            key_usage: req.key_usage.clone(),
            ext_key_usage: req.ext_key_usage.clone(),
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

    fn multisan_label(&self, t: CertType) -> String {
        let kind = if t == CertType::CallManager {
            "callmanager"
        } else {
            "tomcat"
        };
        format!(
            "{}/multisan/{kind}#{}",
            self.pki.name, self.imp.multisan.generation
        )
    }

    /// "Generate CSR", Multi-server (SAN), of type `t` (Tomcat or CallManager) on the
    /// publisher; `cscus47235`: the CN is not duplicated into the SAN (F22).
    pub(super) fn multi_san_csr(&mut self, t: CertType, cscus47235: bool, now: Now) -> Vec<Effect> {
        let forge = KeyForge::new(self.lifecycle.seed);
        self.imp.multisan.generation += 1;
        let label = self.multisan_label(t);
        let callmanager = t == CertType::CallManager;
        let publisher = self.pki.publisher();
        let names = &publisher.spec.names;
        let ec = callmanager
            && publisher
                .identity(CertType::CallManager)
                .is_some_and(|id| id.key.profile() == KeyProfile::EcP256);
        let cn = format!(
            "{}{}-ms.{}",
            names.hostname,
            if ec { "-EC" } else { "" },
            names.domain
        );
        let subject = DistinguishedName::new([
            ("CN", cn.clone()),
            ("OU", names.ou.clone()),
            ("O", names.o.clone()),
            ("L", names.l.clone()),
            ("ST", names.st.clone()),
            ("C", names.c.clone()),
        ]);
        let listed: Vec<_> = self
            .pki
            .nodes
            .iter()
            .filter(|n| !callmanager || !n.spec.imp)
            .collect();
        let hosts: Vec<String> = listed
            .iter()
            .map(|n| n.spec.names.hostname.clone())
            .collect();
        let mut san_dns: Vec<String> = if cscus47235 { vec![] } else { vec![cn.clone()] };
        san_dns.extend(listed.iter().map(|n| n.spec.names.fqdn()));
        let (key_usage, ext_key_usage) = if callmanager {
            (
                vec![
                    KeyUsage::DigitalSignature,
                    KeyUsage::KeyEncipherment,
                    KeyUsage::KeyCertSign,
                ],
                vec![
                    ExtKeyUsage::ServerAuth,
                    ExtKeyUsage::ClientAuth,
                    ExtKeyUsage::IpsecEndSystem,
                ],
            )
        } else {
            (
                vec![
                    KeyUsage::DigitalSignature,
                    KeyUsage::KeyEncipherment,
                    KeyUsage::DataEncipherment,
                ],
                vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth],
            )
        };
        let profile = if ec {
            KeyProfile::EcP256
        } else {
            KeyProfile::RSA2048
        };
        let req = MultiSanRequest {
            subject,
            san_dns: san_dns.clone(),
            key: forge.key(&label, profile),
            key_usage,
            ext_key_usage,
            hosts,
        };
        self.imp.multisan.pending.insert(t, req);
        let kind = if callmanager { "callmanager" } else { "tomcat" };
        vec![self.obs(
            now,
            Kind::MultiSanCsr,
            format!(
                "{kind} multi-server CSR: CN={cn}, SAN [{}]",
                san_dns.join(", ")
            ),
        )]
    }

    fn add_to_trust(&mut self, store: StoreName, cert: &Certificate) {
        self.stores
            .entry(store)
            .or_insert_with(|| crate::pki::TrustStore::new(store))
            .add(cert.clone());
        for stores in self.imp.node_stores.values_mut() {
            if let Some(s) = stores.get_mut(&store) {
                s.add(cert.clone());
            }
        }
    }

    fn trust_of(&self, store: StoreName) -> Vec<Certificate> {
        self.stores
            .get(&store)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Upload of the external CA's root or intermediate to the trust store of type `t`.
    pub(super) fn upload_ca(&mut self, t: CertType, intermediate: bool, now: Now) -> Vec<Effect> {
        let Some(ca) = self.external_ca(now) else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                "the external CA could not be made",
            )];
        };
        let store = trust_store_of(t);
        let name = store.cucm_name();
        let cert = if intermediate {
            if !self.trust_of(store).contains(&ca.root.cert) {
                return vec![self.obs(
                    now,
                    Kind::OperatorError,
                    format!(
                        "intermediate upload to {name} refused: its issuer (the root) is not \
                         in {name}; upload the root first"
                    ),
                )];
            }
            ca.intermediate.cert
        } else {
            ca.root.cert
        };
        self.add_to_trust(store, &cert);
        let mut out = vec![self.obs(
            now,
            Kind::CaCertificateUploaded,
            format!("{name} ← {}", cert.subject().to_cucm()),
        )];
        out.extend(self.push_stores());
        if store == StoreName::CallManagerTrust {
            out.extend(self.push_cm_trust());
        }
        out
    }

    /// The CA signs the pending request of type `t`, which is uploaded and distributed.
    pub(super) fn upload_multi_san(
        &mut self,
        t: CertType,
        cscur97909: bool,
        cscup28852_ms: Option<u64>,
        now: Now,
    ) -> Vec<Effect> {
        let Some(req) = self.imp.multisan.pending.get(&t).cloned() else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!("no {t} multi-server CSR to sign: generate one first"),
            )];
        };
        let Some(ca) = self.external_ca(now) else {
            return vec![];
        };
        let forge = KeyForge::new(self.lifecycle.seed);
        let label = self.multisan_label(t);
        let cert = match ca.sign(&forge, &label, &req, now.wall) {
            Ok(c) => c,
            Err(e) => {
                return vec![self.obs(now, Kind::OperatorError, format!("CA signing failed: {e}"))]
            }
        };
        let store = trust_store_of(t);
        let trust = self.trust_of(store);
        if let Err(e) = verify_chain(&cert, &trust, trust.iter(), now.wall, Backend::default()) {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!(
                    "multi-server certificate upload refused: its chain does not verify \
                     against {} ({e}); upload the root, then the intermediate",
                    store.cucm_name()
                ),
            )];
        }
        self.imp.multisan.pending.remove(&t);
        if t == CertType::CallManager && self.mixed_mode && self.lifecycle.ctl_certs.is_none() {
            // The CTL stays as it was until `utils ctl update CTLFile` [C S12/S13].
            self.lifecycle.ctl_certs = Some(self.pki.trust_list_certs());
        }
        let id = Identity {
            cert_type: Some(t),
            cert: cert.clone(),
            key: req.key.clone(),
        };
        let mut out = vec![];
        let mut kept = vec![];
        for i in 0..self.pki.nodes.len() {
            let host = self.pki.nodes[i].spec.names.hostname.clone();
            if !req.hosts.contains(&host) {
                continue;
            }
            let Some(old) = self.pki.nodes[i].identities.insert(t, id.clone()) else {
                continue;
            };
            if cscur97909 {
                kept.push(host.clone());
            } else if t == CertType::CallManager {
                // CallManager-trust and Phone-SAST-trust, as a regeneration does.
                replace_in_stores(&mut self.stores, &old.cert, &cert);
            } else {
                let (serial, issuer) = (old.cert.serial().to_vec(), old.cert.issuer().to_cucm());
                if let Some(s) = self.stores.get_mut(&store) {
                    s.remove(&serial, &issuer);
                }
                for stores in self.imp.node_stores.values_mut() {
                    if let Some(s) = stores.get_mut(&store) {
                        s.remove(&serial, &issuer);
                    }
                }
            }
            out.push(self.obs(
                now,
                Kind::MultiSanDistributed,
                format!(
                    "{} of {host}: {} (serial {})",
                    if t == CertType::CallManager {
                        "callmanager"
                    } else {
                        "tomcat"
                    },
                    cert.subject().to_cucm(),
                    cert.serial_hex()
                ),
            ));
        }
        self.imp
            .chains
            .insert(t, vec![ca.intermediate.cert.clone()]);
        if t == CertType::Tomcat {
            self.add_to_trust(store, &cert);
        }
        if !kept.is_empty() {
            out.push(self.obs(
                now,
                Kind::SelfSignedNotDeleted,
                format!(
                    "CSCur97909: the self-signed {} certificates of {} stay in {}",
                    store.cucm_name().trim_end_matches("-trust"),
                    kept.join(", "),
                    store.cucm_name()
                ),
            ));
        }
        let cn = cert.subject().common_name().to_string();
        if !cert
            .info()
            .san_dns
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&cn))
        {
            out.push(self.obs(
                now,
                Kind::SanLacksCn,
                format!(
                    "the signed certificate's SAN [{}] does not contain its CN {cn}",
                    cert.info().san_dns.join(", ")
                ),
            ));
        }
        if t == CertType::CallManager {
            self.imp.multisan.epoch += 1;
            self.imp.multisan.cm = Some(CmMultiSan {
                cert: cert.clone(),
                awaiting: req.hosts.clone(),
                cscup28852_ms,
            });
            out.push(self.obs(
                now,
                Kind::MultiSanRestartNeeded,
                format!(
                    "restart {} on {}, the publisher first{}",
                    CM_SERVICES.join(", "),
                    req.hosts.join(", "),
                    if self.mixed_mode {
                        "; mixed mode: run `utils ctl update CTLFile` before"
                    } else {
                        ""
                    }
                ),
            ));
            out.extend(self.push_cm_trust());
        }
        out.extend(self.push_stores());
        out
    }

    /// "Restart TFTP, CallManager, CTIManager and TVS" on CUCM node `node` (§4.3).
    pub(super) fn multi_san_restart(&mut self, node: &str, now: Now) -> Vec<Effect> {
        let pub_host = self.pki.publisher().spec.names.hostname.clone();
        let is_cucm = self
            .pki
            .nodes
            .iter()
            .any(|n| !n.spec.imp && n.spec.names.hostname == node);
        if !is_cucm {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!("{node} is not a CUCM node: it runs no TFTP, CallManager or TVS"),
            )];
        }
        let awaiting = self
            .imp
            .multisan
            .cm
            .as_ref()
            .map(|c| c.awaiting.clone())
            .unwrap_or_default();
        if node != pub_host && awaiting.contains(&pub_host) {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!(
                    "restart of {} on {node} refused: the publisher {pub_host} restarts them \
                     first",
                    CM_SERVICES.join(", ")
                ),
            )];
        }
        let mut out: Vec<Effect> = CM_SERVICES
            .iter()
            .map(|s| self.obs(now, Kind::ServiceRestarted, format!("{s} on {node}")))
            .collect();
        let Some(cm) = self.imp.multisan.cm.as_mut() else {
            return out;
        };
        if !cm.awaiting.iter().any(|h| h == node) {
            return out;
        }
        cm.awaiting.retain(|h| h != node);
        let done = cm.awaiting.is_empty();
        let period = cm.cscup28852_ms;
        let subject = cm.cert.subject().to_cucm();
        // The node's TFTP builds its files from the new certificates; its TVS restarts.
        out.extend(self.rebuild_tftp(now).into_iter().filter(
            |e| matches!(e, Effect::Send { to: super::super::msg::Addr::Tftp(h), .. } if h == node),
        ));
        out.extend(self.push_stores_restarting(&[node.to_string()]));
        if !done {
            return out;
        }
        out.push(self.obs(
            now,
            Kind::MultiSanActive,
            format!("callmanager multi-server certificate {subject} active on every CUCM node"),
        ));
        out.extend(self.auto_reset(now, "the CallManager certificate changed"));
        if let Some(ms) = period {
            out.push(Effect::Timer {
                after_ms: ms,
                token: self.imp.multisan.epoch,
            });
        }
        out
    }

    /// "Phone Interaction on Certificate Update" = automatic: every registered phone resets.
    fn auto_reset(&self, now: Now, why: &str) -> Vec<Effect> {
        if !self.enterprise.auto_reset {
            return vec![];
        }
        let mut out = vec![self.obs(
            now,
            Kind::PhonesReset,
            format!(
                "cluster {}: Phone Interaction on Certificate Update resets the registered \
                 phones ({why})",
                self.pki.name
            ),
        )];
        out.extend(self.reset_registered());
        out
    }

    /// A publisher timer: CSCup28852's certificate-change loop (F20).
    pub fn on_timer(&mut self, token: u64, now: Now) -> Vec<Effect> {
        self.lifecycle.revision += 1;
        let Some(cm) = &self.imp.multisan.cm else {
            return vec![];
        };
        let Some(ms) = cm.cscup28852_ms else {
            return vec![];
        };
        if token != self.imp.multisan.epoch || !cm.awaiting.is_empty() {
            return vec![];
        }
        let mut out = vec![self.obs(
            now,
            Kind::CertificateChange,
            format!(
                "CSCup28852: certificate-change processing runs again for the multi-server \
                 CallManager certificate {}; the TFTP rebuilds the ITL and configuration files",
                cm.cert.subject().to_cucm()
            ),
        )];
        out.extend(self.rebuild_tftp(now));
        out.extend(self.auto_reset(now, "CSCup28852"));
        out.push(Effect::Timer {
            after_ms: ms,
            token,
        });
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
                Effect::Observe(o) => Some(format!("{} {}", o.what(), o.detail())),
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
            assert!(
                whats(&p.upload_multi_san(CertType::Tomcat, defect, None, now))[0]
                    .contains("no tomcat multi-server CSR")
            );
            assert!(whats(&p.multi_san_csr(CertType::Tomcat, false, now))[0]
                .contains("SAN [pub-ms.lab.local, pub.lab.local, imp.lab.local]"));
            assert!(whats(&p.upload_ca(CertType::Tomcat, true, now))[0]
                .contains("upload the root first"));
            p.upload_ca(CertType::Tomcat, false, now);
            p.upload_ca(CertType::Tomcat, true, now);
            let w = whats(&p.upload_multi_san(CertType::Tomcat, defect, None, now));
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

    #[test]
    fn callmanager_multi_san_restarts_publisher_first_and_cscup28852_loops() {
        let now = |s: i64| Now {
            mono_ms: s as u64 * 1000,
            wall: WallTime(1_700_000_100 + s),
        };
        let mut p = publisher();
        p.tftp_hosts = vec!["pub".into()];
        p.cm_hosts = vec!["pub".into()];
        let csr = whats(&p.multi_san_csr(CertType::CallManager, true, now(0)));
        assert!(csr[0].contains("SAN [pub.lab.local]"), "{csr:?}");
        p.upload_ca(CertType::CallManager, false, now(1));
        p.upload_ca(CertType::CallManager, true, now(1));
        let up = whats(&p.upload_multi_san(CertType::CallManager, false, Some(420_000), now(2)));
        assert_eq!(
            up.iter()
                .filter(|l| l.starts_with("multi_san_distributed"))
                .count(),
            1,
            "CUCM nodes only: {up:?}"
        );
        assert!(up.iter().any(|l| l.starts_with("san_lacks_cn")));
        let cm = p.pki.nodes[0].identity(CertType::CallManager).unwrap();
        assert_eq!(cm.cert.subject().common_name(), "pub-ms.lab.local");
        assert!(cm.cert.info().key_usage.contains(&KeyUsage::KeyCertSign));
        assert!(cm
            .cert
            .info()
            .ext_key_usage
            .contains(&ExtKeyUsage::IpsecEndSystem));
        assert!(p.stores[&StoreName::CallManagerTrust].contains(&cm.cert));
        // Before the restart, the timer of the loop is a no-op.
        assert!(p.on_timer(1, now(3)).is_empty());
        let out = p.multi_san_restart("pub", now(10));
        let w = whats(&out);
        assert!(w.iter().any(|l| l.starts_with("phones_reset")), "{w:?}");
        let timer = out.iter().find_map(|e| match e {
            Effect::Timer { after_ms, token } => Some((*after_ms, *token)),
            _ => None,
        });
        let (after, token) = timer.expect("CSCup28852 arms its loop");
        assert_eq!(after, 420_000);
        let again = p.on_timer(token, now(430));
        let w = whats(&again);
        assert!(w[0].starts_with("certificate_change CSCup28852"), "{w:?}");
        assert!(w.iter().any(|l| l.starts_with("phones_reset")));
        assert!(again.iter().any(|e| matches!(
            e,
            Effect::Timer {
                after_ms: 420_000,
                ..
            }
        )));
        // A stale token (an older upload) does nothing.
        assert!(p.on_timer(token + 1, now(440)).is_empty());
    }
}
