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
//!  RestartCm{node} (multisan_restart.rs) ─► refused on a subscriber while the publisher awaits its restart ·
//!        the node's TFTP rebuilds its ITL/CTL/configs, its TVS restarts on the new stores ·
//!        last node done ─► `multi_san_active`; "Phone Interaction on Certificate Update" =
//!        automatic ─► ResetRegistered on every CallManager (`phones_reset`)
//!        CSCup28852 ─► Timer(period, default 420 s) ─► `certificate_change`: the TFTP
//!        rebuilds, the phones are reset again ─► Timer(period) … while the certificate is
//!        the active one
//! ```
//! [I] choices: the external CA is [`super::external_ca`]'s; the Tomcat multi-SAN CN uses
//! CallManager's documented `-ms` form; the CA-signed Tomcat certificate drops KeyCertSign
//! (it is not a CA), the CallManager one keeps the §4.3 usages; CA certificates for the
//! CallManager type go to CallManager-trust, mirroring tomcat-trust (the reference only
//! names the procedure); the CN duplicated into the SAN is inferred from CSCus47235's title
//! ("CN not duplicated into SAN"); the services restart publisher first (§4.3 gives no
//! order; the IM&P rule of seed 002 is the model); the phones reset once, when the last
//! listed node restarted; CSCup28852's 7-minute loop (F20 "[I] Simulate it as a periodic
//! (420 s) auto-reset loop") runs whatever the version, the switch standing for an affected
//! one.

use super::external_ca::{ExternalCa, MultiSanRequest};
use super::multisan_restart::CmMultiSan;
use super::Publisher;
use crate::machine::msg::{Effect, Now};
use crate::machine::trace::Kind;
use crate::pki::chain::verify_chain;
use crate::pki::dn::DistinguishedName;
use crate::pki::identity::CertType;
use crate::pki::regen::replace_in_stores;
use crate::pki::{
    Backend, Certificate, ExtKeyUsage, Identity, KeyForge, KeyProfile, KeyUsage, StoreName,
};
use std::collections::BTreeMap;

/// CSCup28852's period when the scenario names none: "phone reset every 7min" [C S16].
pub const CSCUP28852_PERIOD_MS: u64 = 420_000;

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
    pub(super) epoch: u64,
    /// Extra certificates a service sends after its own (a CA-signed certificate's
    /// intermediate), by type.
    pub chains: BTreeMap<CertType, Vec<Certificate>>,
}

/// The trust store CA certificates of multi-server type `t` go to.
pub fn trust_store_of(t: CertType) -> StoreName {
    match t {
        CertType::CallManager => StoreName::CallManagerTrust,
        _ => StoreName::TomcatTrust,
    }
}

/// `callmanager` or `tomcat`, as the steps name the types.
fn kind_of(t: CertType) -> &'static str {
    if t == CertType::CallManager {
        "callmanager"
    } else {
        "tomcat"
    }
}

/// The key usages and extended key usages of a multi-server request (§4.3 table).
fn usages(callmanager: bool) -> (Vec<KeyUsage>, Vec<ExtKeyUsage>) {
    if callmanager {
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
    }
}

impl Publisher {
    fn external_ca(&mut self, now: Now) -> Option<ExternalCa> {
        if self.multisan.ca.is_none() {
            let forge = KeyForge::new(self.lifecycle.seed);
            self.multisan.ca = ExternalCa::generate(&forge, &self.pki.name, now.wall).ok();
        }
        self.multisan.ca.clone()
    }

    fn multisan_label(&self, t: CertType) -> String {
        let kind = kind_of(t);
        format!(
            "{}/multisan/{kind}#{}",
            self.pki.name, self.multisan.generation
        )
    }

    /// The subject of a multi-server request: the publisher's names with CN
    /// `<pub>-ms.<domain>` (`<pub>-EC-ms.<domain>` for an EC CallManager key); its CN, and
    /// whether the key is EC.
    fn multi_san_subject(&self, callmanager: bool) -> (String, DistinguishedName, bool) {
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
        (cn, subject, ec)
    }

    /// "Generate CSR", Multi-server (SAN), of type `t` (Tomcat or CallManager) on the
    /// publisher; `cscus47235`: the CN is not duplicated into the SAN (F22).
    pub(super) fn multi_san_csr(&mut self, t: CertType, cscus47235: bool, now: Now) -> Vec<Effect> {
        let forge = KeyForge::new(self.lifecycle.seed);
        self.multisan.generation += 1;
        let label = self.multisan_label(t);
        let callmanager = t == CertType::CallManager;
        let (cn, subject, ec) = self.multi_san_subject(callmanager);
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
        let (key_usage, ext_key_usage) = usages(callmanager);
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
        self.multisan.pending.insert(t, req);
        let kind = kind_of(t);
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
        let (req, ca, cert) = match self.signed_multi_san(t, now) {
            Ok(signed) => signed,
            Err(refused) => return refused,
        };
        self.multisan.pending.remove(&t);
        if t == CertType::CallManager && self.mixed_mode && self.lifecycle.ctl_certs.is_none() {
            // The CTL stays as it was until `utils ctl update CTLFile` [C S12/S13].
            self.lifecycle.ctl_certs = Some(self.pki.trust_list_certs());
        }
        let store = trust_store_of(t);
        let (mut out, kept) = self.distribute_multi_san(t, &req, &cert, cscur97909, now);
        self.multisan
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
        out.extend(self.san_lacks_cn(&cert, now));
        if t == CertType::CallManager {
            out.extend(self.await_cm_restarts(&req, &cert, cscup28852_ms, now));
        }
        out.extend(self.push_stores());
        out
    }

    /// The pending request of type `t` signed by the external CA and verified against the
    /// type's trust store, or the refusal.
    fn signed_multi_san(
        &mut self,
        t: CertType,
        now: Now,
    ) -> Result<(MultiSanRequest, ExternalCa, Certificate), Vec<Effect>> {
        let Some(req) = self.multisan.pending.get(&t).cloned() else {
            return Err(vec![self.obs(
                now,
                Kind::OperatorError,
                format!("no {t} multi-server CSR to sign: generate one first"),
            )]);
        };
        let Some(ca) = self.external_ca(now) else {
            return Err(vec![]);
        };
        let forge = KeyForge::new(self.lifecycle.seed);
        let label = self.multisan_label(t);
        let cert = match ca.sign(&forge, &label, &req, now.wall) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("CA signing failed: {e}");
                return Err(vec![self.obs(now, Kind::OperatorError, why)]);
            }
        };
        let store = trust_store_of(t);
        let trust = self.trust_of(store);
        if let Err(e) = verify_chain(&cert, &trust, trust.iter(), now.wall, Backend::default()) {
            return Err(vec![self.obs(
                now,
                Kind::OperatorError,
                format!(
                    "multi-server certificate upload refused: its chain does not verify \
                     against {} ({e}); upload the root, then the intermediate",
                    store.cucm_name()
                ),
            )]);
        }
        Ok((req, ca, cert))
    }

    /// Every listed node's identity of type `t` becomes `cert`; the old self-signed
    /// certificates leave the trust stores unless CSCur97909 keeps them. The observations,
    /// and the hosts whose old certificates were kept.
    fn distribute_multi_san(
        &mut self,
        t: CertType,
        req: &MultiSanRequest,
        cert: &Certificate,
        cscur97909: bool,
        now: Now,
    ) -> (Vec<Effect>, Vec<String>) {
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
            } else {
                self.drop_self_signed(t, &old.cert, cert);
            }
            out.push(self.obs(
                now,
                Kind::MultiSanDistributed,
                format!(
                    "{} of {host}: {} (serial {})",
                    kind_of(t),
                    cert.subject().to_cucm(),
                    cert.serial_hex()
                ),
            ));
        }
        (out, kept)
    }

    /// The self-signed `old` leaves the trust stores of type `t`: replaced by `new` in
    /// CallManager-trust and Phone-SAST-trust (as a regeneration does), removed from
    /// tomcat-trust (the cluster's and every node's copy).
    fn drop_self_signed(&mut self, t: CertType, old: &Certificate, new: &Certificate) {
        if t == CertType::CallManager {
            replace_in_stores(&mut self.stores, old, new);
            return;
        }
        let store = trust_store_of(t);
        let (serial, issuer) = (old.serial().to_vec(), old.issuer().to_cucm());
        if let Some(s) = self.stores.get_mut(&store) {
            s.remove(&serial, &issuer);
        }
        for stores in self.imp.node_stores.values_mut() {
            if let Some(s) = stores.get_mut(&store) {
                s.remove(&serial, &issuer);
            }
        }
    }

    /// `san_lacks_cn` when the signed certificate's SAN does not contain its CN (F22).
    fn san_lacks_cn(&self, cert: &Certificate, now: Now) -> Vec<Effect> {
        let cn = cert.subject().common_name().to_string();
        if cert
            .info()
            .san_dns
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&cn))
        {
            return vec![];
        }
        vec![self.obs(
            now,
            Kind::SanLacksCn,
            format!(
                "the signed certificate's SAN [{}] does not contain its CN {cn}",
                cert.info().san_dns.join(", ")
            ),
        )]
    }
}
