//! The cluster-side machines besides TFTP and TVS: the publisher (database of trust stores,
//! enterprise parameters, Bulk Certificate Management), the CallManager service, the DHCP
//! server (option 150) and the shared SFTP directory.
//!
//! ```text
//!  start ─► TftpRebuild → every TFTP node · TvsStores → every TVS node
//!  BulkExport ─► SftpPut <HOST>_<type>.pkcs12            (every node, the chosen types)
//!  BulkConsolidate ─► SftpList ─► SftpFiles ─► SftpPut consolidated_<type>.pkcs12
//!  BulkImport ─► SftpList ─► SftpFiles ─► stores per §4.1 ─► TvsStores (effective at TVS restart)
//!  SetParameter rollback_to_pre_8 ─► TftpRebuild (rollback ITL) ─► ResetRegistered
//! ```
//! The CallManager acknowledges registrations and keepalives while its service runs; a
//! keepalive also refreshes the phone's registration there (as a SIP REGISTER refresh does),
//! so a CallManager restarted under registered phones knows them again at their next keepalive.
//!
//! Import mapping [C S6]: CAPF → CallManager-trust; tomcat → tomcat-trust; CallManager and
//! ITLRecovery → Phone-SAST-trust and CallManager-trust. The import reads the consolidated
//! files, so consolidation on one cluster must come first [C S6]. Bundle password: `cucmsim`.

use super::capf::CapfConfig;
use super::msg::{
    Addr, CapfUpdate, DeviceConfig, Effect, Msg, Now, Operator, ServiceAction, TftpBuild, TvsStores,
};
use crate::capf::{CapfAuth, CertOperation, DeviceRecord};
use crate::digest::DigestAlg;
use crate::machine::trace::{Kind, Observation};
use crate::pkcs12::{bundle_file_name, read_bundle, write_bundle};
use crate::pki::chain::verify_chain;
use crate::pki::cluster::ClusterPki;
use crate::pki::identity::CertType;
use crate::pki::Backend;
use crate::pki::{Certificate, StoreName, TrustStore};
use crate::sgn::SecurityMode;
use crate::tlv::content::ClusterCerts;
use crate::tlv::Role;

use super::tvs::TvsModel;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[path = "lifecycle.rs"]
pub mod lifecycle;

#[path = "imp.rs"]
pub mod imp;

#[path = "multisan.rs"]
pub mod multisan;

/// Password of the bundles the simulated publishers write [I].
pub const BUNDLE_PASSWORD: &str = "cucmsim";

/// Enterprise parameters the trust machinery reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enterprise {
    /// "Prepare Cluster for Rollback to pre 8.0".
    pub rollback: bool,
    /// "Phone Interaction on Certificate Update": automatic reset (default) or manual.
    pub auto_reset: bool,
    /// "TFTP File Signature Algorithm".
    pub digest: DigestAlg,
    /// Whether the phones' config carries the TVS list. `false` models CSCti64589 (8.6.2,
    /// F17): phones that booted from `XmlDefault.cnf.xml`, which has no TVS entry, have an
    /// empty TVS list. [I] The switch applies to every config the cluster's TFTP serves (as
    /// if every phone booted from the default config, e.g. auto-registered).
    pub default_config_tvs: bool,
    /// Mixed mode: the CallManager trusts the LSCs of this cluster's CAPF through the CAPF
    /// record of the cluster's CTL file, not through the CAPF certificate in
    /// CallManager-trust. CUCM "doesn't trust the LSC certificate sent by the phone because
    /// it was issued by another CAPF, whose certificate isn't in the CTL file" [C S14, seed
    /// 003]; that the CTL record *replaces* the store copy for the cluster's own CAPF is [I]
    /// (F12: a CAPF regenerated without `utils ctl update CTLFile`). `false`: CallManager-trust
    /// plus the current CAPF, as in non-secure mode.
    pub lsc_capf_from_ctl: bool,
}

impl Default for Enterprise {
    fn default() -> Self {
        Enterprise {
            rollback: false,
            auto_reset: true,
            digest: DigestAlg::Sha1,
            default_config_tvs: true,
            lsc_capf_from_ctl: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    Consolidate,
    Import,
}

/// A cluster's publisher: its database and operator steps.
#[derive(Debug)]
pub struct Publisher {
    pub pki: ClusterPki,
    pub stores: BTreeMap<StoreName, TrustStore>,
    pub mixed_mode: bool,
    pub enterprise: Enterprise,
    /// Hosts running each service.
    pub tftp_hosts: Vec<String>,
    pub tvs_hosts: Vec<String>,
    pub cm_hosts: Vec<String>,
    /// The service model of this cluster's TVS processes, sent with their stores.
    pub tvs_model: TvsModel,
    /// The host running CAPF (the publisher) and the service's configuration; CAPF-trust and
    /// the CAPF identity are refreshed from the stores and PKI whenever they are sent.
    pub capf: Option<(String, CapfConfig)>,
    /// Device records (CAPF information and security profile), by device name.
    pub devices: BTreeMap<String, DeviceRecord>,
    /// Left mixed mode: the CTL stays, with blank CCM+TFTP records.
    pub non_secure_ctl: bool,
    /// Hosts where the Cisco CTL Provider runs (it decides whether ITLRecovery is in the CTL).
    pub ctl_providers: BTreeSet<String>,
    awaiting: Option<Awaiting>,
    /// Certificate regeneration, `utils itl reset`, DRS ([`lifecycle`]).
    pub lifecycle: lifecycle::Lifecycle,
    /// IM&P nodes: their trust stores, services and Jabber clients ([`imp`]).
    pub imp: imp::ImpState,
    /// Each node's Tomcat certificate as its TFTP service last heard of it (F29): a step
    /// that changes one (regeneration, multi-SAN install) tells that node's TFTP.
    tomcat_on_disk: BTreeMap<String, Arc<[u8]>>,
}

impl Publisher {
    pub fn new(
        pki: ClusterPki,
        stores: BTreeMap<StoreName, TrustStore>,
        mixed_mode: bool,
        enterprise: Enterprise,
    ) -> Publisher {
        Publisher {
            pki,
            stores,
            mixed_mode,
            enterprise,
            tftp_hosts: vec![],
            tvs_hosts: vec![],
            cm_hosts: vec![],
            tvs_model: TvsModel::default(),
            capf: None,
            devices: BTreeMap::new(),
            non_secure_ctl: false,
            ctl_providers: BTreeSet::new(),
            awaiting: None,
            lifecycle: lifecycle::Lifecycle::default(),
            imp: imp::ImpState::default(),
            tomcat_on_disk: BTreeMap::new(),
        }
        .with_tomcat_on_disk()
    }

    fn with_tomcat_on_disk(mut self) -> Publisher {
        self.tomcat_on_disk = self.tomcat_ders();
        self
    }

    fn tomcat_ders(&self) -> BTreeMap<String, Arc<[u8]>> {
        self.pki
            .nodes
            .iter()
            .filter_map(|n| {
                let id = n.identity(CertType::Tomcat)?;
                Some((n.spec.names.hostname.clone(), id.cert.der().into()))
            })
            .collect()
    }

    /// After an operator step: the Tomcat certificates that changed on disk, to the TFTP
    /// service of their node, which reads them at its next (re)start (F29 [C S12]).
    fn notify_tomcat(&mut self) -> Vec<Effect> {
        let now = self.tomcat_ders();
        let mut out = vec![];
        for (host, der) in &now {
            let changed = self.tomcat_on_disk.get(host) != Some(der);
            let identity = self.pki.identity_of(host, CertType::Tomcat);
            if let (true, true, Some(id)) = (changed, self.tftp_hosts.contains(host), identity) {
                out.push(Effect::Send {
                    to: Addr::Tftp(host.clone()),
                    msg: Msg::TftpTomcat(Arc::new(id.clone())),
                });
            }
        }
        self.tomcat_on_disk = now;
        out
    }

    fn name(&self) -> &str {
        &self.pki.name
    }

    fn obs(&self, now: Now, what: Kind, detail: impl Into<String>) -> Effect {
        Effect::Observe(Observation::note(
            now,
            &format!("publisher@{}", self.name()),
            what,
            detail,
        ))
    }

    /// What the cluster sends its services when it comes up.
    pub fn start(&self, now: Now) -> Vec<Effect> {
        let mut out = self.rebuild_tftp(now);
        out.extend(self.push_stores());
        out.extend(self.push_cm_trust());
        out.extend(self.push_capf());
        if let Some((host, _)) = &self.capf {
            let all: Vec<DeviceRecord> = self.devices.values().cloned().collect();
            out.push(Effect::Send {
                to: Addr::Capf(host.clone()),
                msg: Msg::CapfDevices(Arc::new(all)),
            });
        }
        out
    }

    /// `msg` to the CAPF service, if the cluster runs one.
    fn to_capf(&self, msg: Msg) -> Vec<Effect> {
        self.capf
            .iter()
            .map(|(host, _)| Effect::Send {
                to: Addr::Capf(host.clone()),
                msg: msg.clone(),
            })
            .collect()
    }

    /// CAPF's configuration with CAPF-trust as it is now.
    fn push_capf(&self) -> Vec<Effect> {
        let Some((host, config)) = &self.capf else {
            return vec![];
        };
        let mut config = config.clone();
        let mut settings = (*config.settings).clone();
        settings.capf = self.pki.capf.clone();
        settings.capf_trust = self
            .stores
            .get(&StoreName::CapfTrust)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        config.settings = Arc::new(settings);
        vec![Effect::Send {
            to: Addr::Capf(host.clone()),
            msg: Msg::CapfConfig(Arc::new(config)),
        }]
    }

    /// What a secure registration's certificate must chain to on this cluster's
    /// CallManagers: CallManager-trust and this cluster's CAPF. In mixed mode (with
    /// `lsc_capf_from_ctl`) the CAPF is the one the CTL file carries — until `utils ctl
    /// update CTLFile` the CAPF the CTL was built from, even after a regeneration (F12) —
    /// and the current CAPF certificate in CallManager-trust does not count for it [I].
    pub fn cm_anchors(&self) -> Vec<Certificate> {
        let mut anchors: Vec<Certificate> = self
            .stores
            .get(&StoreName::CallManagerTrust)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let capf = if self.mixed_mode && self.enterprise.lsc_capf_from_ctl {
            anchors.retain(|c| c != &self.pki.capf.cert);
            match &self.lifecycle.ctl_certs {
                Some(ctl) => ctl.capf.as_ref().map(|id| id.cert.clone()),
                None => Some(self.pki.capf.cert.clone()),
            }
        } else {
            Some(self.pki.capf.cert.clone())
        };
        if let Some(capf) = capf.filter(|c| !anchors.contains(c)) {
            anchors.push(capf);
        }
        anchors
    }

    /// [`Self::cm_anchors`] to every CallManager, and to each the certificate it presents to
    /// secure phones (its node's CallManager identity).
    fn push_cm_trust(&self) -> Vec<Effect> {
        let anchors = Arc::new(self.cm_anchors());
        let mut out = vec![];
        for h in &self.cm_hosts {
            out.push(Effect::Send {
                to: Addr::CallManager(h.clone()),
                msg: Msg::CallManagerTrust(anchors.clone()),
            });
            if let Some(id) = self.pki.identity_of(h, CertType::CallManager) {
                out.push(Effect::Send {
                    to: Addr::CallManager(h.clone()),
                    msg: Msg::CallManagerCert(Arc::from(id.cert.der())),
                });
            }
        }
        out
    }

    /// Per-device config settings for the TFTP files.
    fn device_configs(&self) -> Arc<BTreeMap<String, DeviceConfig>> {
        let map = self
            .devices
            .values()
            .filter(|d| {
                d.security_mode != SecurityMode::NonSecure || d.operation != CertOperation::None
            })
            .map(|d| {
                let capf_auth_mode = if d.operation == CertOperation::None {
                    crate::sgn::CapfAuthMode::None
                } else {
                    d.auth.phone_mode()
                };
                let c = DeviceConfig {
                    security_mode: d.security_mode,
                    capf_auth_mode,
                };
                (d.device_name.clone(), c)
            })
            .collect();
        Arc::new(map)
    }

    /// What the trust-list builders need: the PKI's certificates and whether a CTL Provider
    /// runs.
    pub(super) fn trust_list_certs(&self) -> ClusterCerts {
        let mut certs = self.pki.trust_list_certs();
        certs.ctl_provider = !self.ctl_providers.is_empty();
        certs
    }

    fn rebuild_tftp(&self, now: Now) -> Vec<Effect> {
        let certs = self.trust_list_certs();
        let capf = vec![self.pki.publisher().spec.names.hostname.clone()];
        let devices = self.device_configs();
        self.tftp_hosts
            .iter()
            .filter_map(|host| {
                let node_ix = certs.nodes.iter().position(|n| &n.hostname == host)?;
                let build = TftpBuild {
                    cluster: self.name().to_string(),
                    node_ix,
                    certs: certs.clone(),
                    mixed_mode: self.mixed_mode,
                    rollback: self.enterprise.rollback,
                    digest: self.enterprise.digest,
                    callmanagers: self.cm_hosts.clone(),
                    tvs: if self.enterprise.default_config_tvs {
                        self.tvs_hosts.clone()
                    } else {
                        vec![]
                    },
                    capf: capf.clone(),
                    built_at: now.wall,
                    devices: devices.clone(),
                    non_secure_ctl: self.non_secure_ctl,
                    revision: self.lifecycle.revision,
                    itl_reset_signer: None,
                    ctl_certs: self.lifecycle.ctl_certs.clone(),
                    tomcat: self.pki.identity_of(host, CertType::Tomcat).cloned(),
                };
                Some(Effect::Send {
                    to: Addr::Tftp(host.clone()),
                    msg: Msg::TftpRebuild(Arc::new(build)),
                })
            })
            .collect()
    }

    fn push_stores(&self) -> Vec<Effect> {
        let stores: Vec<TrustStore> = self
            .stores
            .values()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        self.tvs_hosts
            .iter()
            .filter_map(|host| {
                let node = self
                    .pki
                    .nodes
                    .iter()
                    .find(|n| &n.spec.names.hostname == host)?;
                let tvs = node.identity(CertType::Tvs)?;
                let (tvs_cert, tvs_key) = (tvs.cert.clone(), tvs.key.clone());
                let mut own: Vec<(Certificate, Role)> =
                    vec![(self.pki.itl_recovery.cert.clone(), Role::Sast)];
                own.extend(lifecycle::cluster_callmanagers(&self.pki, host));
                own.push((tvs_cert.clone(), Role::Tvs));
                own.push((self.pki.capf.cert.clone(), Role::Capf));
                let msg = Msg::TvsStores(Arc::new(TvsStores {
                    stores: stores.clone(),
                    own,
                    tvs_cert,
                    tvs_key,
                    model: self.tvs_model,
                    restart: false,
                    revision: self.lifecycle.revision,
                }));
                Some(Effect::Send {
                    to: Addr::Tvs(host.clone()),
                    msg,
                })
            })
            .collect()
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        self.lifecycle.revision += 1;
        let mut out = match msg {
            Msg::Operator(op) => self.operator(op, now),
            Msg::CapfRecord(rec) => {
                // The database learns the outcome; configs change at the next TFTP rebuild.
                self.devices.insert(rec.device_name.clone(), *rec);
                vec![]
            }
            Msg::SftpFiles { files } => match self.awaiting.take() {
                Some(Awaiting::Consolidate) => self.consolidate(&files, now),
                Some(Awaiting::Import) => self.import(&files, now),
                None => vec![],
            },
            _ => vec![],
        };
        out.extend(self.notify_tomcat());
        out
    }

    fn operator(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        let mut out = vec![self.obs(
            now,
            Kind::Operator,
            format!("{op:?}").chars().take(120).collect::<String>(),
        )];
        match op {
            Operator::BulkExport { types } => out.extend(self.export(&types)),
            Operator::BulkConsolidate => {
                self.awaiting = Some(Awaiting::Consolidate);
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpList {
                        reply_to: Addr::Publisher(self.name().to_string()),
                    },
                });
            }
            Operator::BulkImport => {
                self.awaiting = Some(Awaiting::Import);
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpList {
                        reply_to: Addr::Publisher(self.name().to_string()),
                    },
                });
            }
            Operator::UploadCertificate { store, der } => match Certificate::from_der(&der) {
                Ok(cert) => {
                    self.stores
                        .entry(store)
                        .or_insert_with(|| TrustStore::new(store))
                        .add(cert);
                    out.extend(self.push_stores());
                    out.extend(self.push_cm_trust());
                    out.extend(self.push_capf());
                }
                Err(e) => out.push(self.obs(now, Kind::OperatorError, format!("upload refused: {e}"))),
            },
            Operator::SetParameter { name, value } => {
                out.extend(self.set_parameter(&name, &value, now))
            }
            Operator::CapfUpdate(update) => out.extend(self.capf_update(&update, now)),
            Operator::CapfOfflineSign { ca } => {
                out.extend(self.to_capf(Msg::CapfExportCsrs { ca }))
            }
            Operator::CapfCli { command } => out.extend(self.to_capf(Msg::CapfCli { command })),
            Operator::CertificateMonitor { notify_days } => {
                out.extend(self.certificate_monitor(notify_days, now))
            }
            Operator::CapfKeepalive { minutes } => {
                if !(5..=60).contains(&minutes) {
                    out.push(self.obs(now, Kind::OperatorError, "keep_alive must be 5–60 minutes"));
                } else if let Some((_, config)) = &mut self.capf {
                    config.model.keepalive_ms = u64::from(minutes) * 60_000;
                    out.extend(self.push_capf());
                }
            }
            op @ (Operator::Regenerate { .. }
            | Operator::ItlReset { .. }
            | Operator::DrsBackup
            | Operator::DrsRestore
            | Operator::CopyCertificate { .. }
            | Operator::CtlUpdate
            | Operator::CtlProvider { .. }) => out.extend(self.lifecycle_step(op, now)),
            Operator::HttpsService { node, first, count } => {
                out.extend(self.https_service(node.as_deref(), first, count, now))
            }
            Operator::TftpHttps {
                node,
                first,
                count,
                plain_fallback,
            } => {
                let tftp = node.or_else(|| self.tftp_hosts.first().cloned());
                match tftp.filter(|h| self.tftp_hosts.contains(h)) {
                    Some(tftp) => out.extend((first..first + count).map(|p| Effect::Send {
                        to: Addr::Phone(p),
                        msg: Msg::TftpHttpsOpen {
                            tftp: tftp.clone(),
                            plain_fallback,
                        },
                    })),
                    None => out.push(self.obs(now, Kind::OperatorError, "no such TFTP node")),
                }
            }
            Operator::BulkImportDefect { bug } => out.push(self.obs(
                now,
                Kind::BulkImportFailed,
                format!("{bug}: Bulk Certificate Management consolidate/import failed; no certificate imported"),
            )),
            Operator::Imp(op) => out.extend(self.imp_step(op, now)),
            Operator::CtlSetCluster { mixed } => {
                // A cluster that leaves mixed mode keeps serving a CTL, its CCM+TFTP records
                // blanked; one that was never mixed has no CTL to blank.
                self.non_secure_ctl = !mixed && (self.mixed_mode || self.non_secure_ctl);
                self.mixed_mode = mixed;
                let mode = if mixed { "mixed-mode" } else { "non-secure-mode" };
                out.push(self.obs(now, Kind::CtlSetCluster, mode));
                out.extend(self.rebuild_tftp(now));
            }
        }
        out
    }

    /// The HTTPS service on `node`'s Tomcat (default: the publisher): each phone is handed
    /// the node's current Tomcat certificate, as its TLS handshake would present it.
    fn https_service(&self, node: Option<&str>, first: u32, count: u32, now: Now) -> Vec<Effect> {
        let n = match node {
            Some(h) => self.pki.nodes.iter().find(|n| n.spec.names.hostname == h),
            None => Some(self.pki.publisher()),
        };
        let Some(tomcat) =
            n.and_then(|n| Some((n.spec.names.hostname.clone(), n.identity(CertType::Tomcat)?)))
        else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!("no Tomcat certificate on {node:?}"),
            )];
        };
        let (host, id) = tomcat;
        let der: Arc<[u8]> = id.cert.der().into();
        (first..first + count)
            .map(|p| Effect::Send {
                to: Addr::Phone(p),
                msg: Msg::HttpsOpen {
                    server: host.clone(),
                    cert: der.clone(),
                },
            })
            .collect()
    }

    /// The certificate monitor over the devices' LSCs (the Certificate Expiry Monitor's
    /// notice [I: the reference names "certificate monitoring (expiry notice, revocation after
    /// expiry)" without details]): `lsc_expiry_notice` for an LSC that expires within
    /// `notify_days`, `lsc_expired` for one already expired (a secure registration with it
    /// fails its TLS: the CallManager checks validity).
    fn certificate_monitor(&self, notify_days: u32, now: Now) -> Vec<Effect> {
        let horizon = now.wall.plus_s(i64::from(notify_days) * 86_400);
        let mut out = vec![];
        for rec in self.devices.values() {
            let Some(lsc) = &rec.lsc else { continue };
            let not_after = lsc.info().not_after;
            let name = &rec.device_name;
            if not_after < now.wall {
                out.push(self.obs(
                    now,
                    Kind::LscExpired,
                    format!("{name}: expired {not_after}"),
                ));
            } else if not_after < horizon {
                out.push(self.obs(
                    now,
                    Kind::LscExpiryNotice,
                    format!("{name}: expires {not_after}"),
                ));
            }
        }
        out
    }

    /// Applies a bulk CAPF change to the device records, tells CAPF, rebuilds the configs.
    fn capf_update(&mut self, u: &CapfUpdate, now: Now) -> Vec<Effect> {
        let seed = self
            .capf
            .as_ref()
            .map_or(0, |(_, c)| c.settings.forge.seed());
        let mut changed = vec![];
        for (name, model, v3) in &u.devices {
            if let Some(before) = u.lsc_expires_before {
                let expires = self
                    .devices
                    .get(name)
                    .and_then(|r| r.lsc.as_ref())
                    .map(|c| c.info().not_after);
                if expires.is_none_or(|t| t >= before) {
                    continue; // the query does not select it
                }
            }
            let rec = self
                .devices
                .entry(name.clone())
                .or_insert_with(|| DeviceRecord::new(name, model));
            rec.capf_v3 = *v3;
            rec.auth = if u.unique_auth_strings {
                CapfAuth::AuthString(crate::capf::device::unique_auth_string(seed, name))
            } else {
                u.auth.clone()
            };
            rec.key_order = u.key_order;
            rec.rsa_bits = u.rsa_bits;
            rec.ec_curve = u.ec_curve;
            if let Some(m) = u.security_mode {
                rec.security_mode = m;
            }
            rec.schedule(u.operation, u.completes_by);
            changed.push(rec.clone());
        }
        let mut out = vec![self.obs(
            now,
            Kind::CapfScheduled,
            format!("{} devices: {}", changed.len(), u.operation.label()),
        )];
        if let Some((host, _)) = &self.capf {
            out.push(Effect::Send {
                to: Addr::Capf(host.clone()),
                msg: Msg::CapfDevices(Arc::new(changed)),
            });
        }
        out.extend(self.rebuild_tftp(now));
        out
    }

    fn export(&self, types: &[CertType]) -> Vec<Effect> {
        let mut out = vec![];
        let mut put = |host: &str, t: CertType, cert: &Certificate| {
            if let Ok(bytes) = write_bundle(&[(t.cucm_name(), cert)], None, BUNDLE_PASSWORD) {
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpPut {
                        name: bundle_file_name(host, t),
                        bytes: bytes.into(),
                    },
                });
            }
        };
        for node in &self.pki.nodes {
            let host = &node.spec.names.hostname;
            for t in [CertType::Tomcat, CertType::CallManager] {
                if let (true, Some(id)) = (types.contains(&t), node.identity(t)) {
                    put(host, t, &id.cert);
                }
            }
        }
        let pub_host = self.pki.publisher().spec.names.hostname.clone();
        if types.contains(&CertType::Capf) {
            put(&pub_host, CertType::Capf, &self.pki.capf.cert);
        }
        if types.contains(&CertType::ItlRecovery) {
            put(
                &pub_host,
                CertType::ItlRecovery,
                &self.pki.itl_recovery.cert,
            );
        }
        out
    }

    fn consolidate(&self, files: &[(String, Arc<[u8]>)], now: Now) -> Vec<Effect> {
        let mut by_type: BTreeMap<CertType, Vec<Certificate>> = BTreeMap::new();
        for (name, bytes) in files
            .iter()
            .filter(|(n, _)| !n.starts_with("consolidated_"))
        {
            let Some(t) = bundle_type(name) else { continue };
            if let Ok(bundle) = read_bundle(bytes, BUNDLE_PASSWORD) {
                by_type
                    .entry(t)
                    .or_default()
                    .extend(bundle.all_certificates().into_iter().cloned());
            }
        }
        let mut out = vec![self.obs(
            now,
            Kind::BulkConsolidated,
            format!("{} types from {} files", by_type.len(), files.len()),
        )];
        for (t, certs) in by_type {
            let aliases: Vec<String> = (0..certs.len())
                .map(|i| format!("{}-{i}", t.cucm_name()))
                .collect();
            let entries: Vec<(&str, &Certificate)> = aliases
                .iter()
                .map(String::as_str)
                .zip(certs.iter())
                .collect();
            if let Ok(bytes) = write_bundle(&entries, None, BUNDLE_PASSWORD) {
                let name = format!("consolidated_{}.pkcs12", t.cucm_name());
                out.push(Effect::Send {
                    to: Addr::Sftp,
                    msg: Msg::SftpPut {
                        name,
                        bytes: bytes.into(),
                    },
                });
            }
        }
        out
    }

    fn import(&mut self, files: &[(String, Arc<[u8]>)], now: Now) -> Vec<Effect> {
        let mut added = 0;
        for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("consolidated_")) {
            let Some(t) = bundle_type(name) else { continue };
            let Ok(bundle) = read_bundle(bytes, BUNDLE_PASSWORD) else {
                continue;
            };
            for cert in bundle.all_certificates() {
                for store in import_stores(t) {
                    added += usize::from(
                        self.stores
                            .entry(*store)
                            .or_insert_with(|| TrustStore::new(*store))
                            .add(cert.clone()),
                    );
                }
            }
        }
        let mut out = vec![self.obs(
            now,
            Kind::BulkImported,
            format!("{added} new store entries"),
        )];
        out.extend(self.push_stores());
        out.extend(self.push_cm_trust());
        out.extend(self.push_capf());
        out
    }

    fn set_parameter(&mut self, name: &str, value: &str, now: Now) -> Vec<Effect> {
        let truthy = matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        );
        match name {
            "rollback_to_pre_8" => self.enterprise.rollback = truthy,
            "phone_interaction_on_cert_update" => {
                self.enterprise.auto_reset = value.eq_ignore_ascii_case("automatic")
            }
            "tftp_file_signature" => match DigestAlg::parse(value) {
                Some(d) => self.enterprise.digest = d,
                None => {
                    return vec![self.obs(
                        now,
                        Kind::OperatorError,
                        format!("bad digest {value:?}"),
                    )]
                }
            },
            "endpoint_advanced_encryption" | "ipv6" => {
                let Some((_, config)) = &mut self.capf else {
                    return vec![self.obs(now, Kind::OperatorError, "this cluster runs no CAPF")];
                };
                if name == "ipv6" {
                    config.ipv6_enabled = truthy;
                } else {
                    let mut settings = (*config.settings).clone();
                    settings.advanced_algorithms = truthy;
                    config.settings = Arc::new(settings);
                }
                return self.push_capf();
            }
            _ => {
                return vec![self.obs(
                    now,
                    Kind::OperatorError,
                    format!("unknown parameter {name:?}"),
                )]
            }
        }
        let mut out = self.rebuild_tftp(now);
        if name == "rollback_to_pre_8"
            || self.enterprise.auto_reset && name == "tftp_file_signature"
        {
            // Phones reset to fetch the new ITL ("wait ten minutes for the phones to restart").
            out.extend(self.cm_hosts.iter().map(|h| Effect::Send {
                to: Addr::CallManager(h.clone()),
                msg: Msg::ResetRegistered,
            }));
        }
        out
    }
}

fn bundle_type(name: &str) -> Option<CertType> {
    let stem = name.strip_suffix(".pkcs12")?;
    let t = stem.rsplit('_').next()?;
    t.parse().ok()
}

fn import_stores(t: CertType) -> &'static [StoreName] {
    match t {
        CertType::Capf => &[StoreName::CallManagerTrust],
        CertType::Tomcat => &[StoreName::TomcatTrust],
        CertType::CallManager | CertType::ItlRecovery => {
            &[StoreName::PhoneSastTrust, StoreName::CallManagerTrust]
        }
        _ => &[],
    }
}

/// The CallManager service of one node: registration and keepalives.
#[derive(Debug)]
pub struct CallManager {
    pub host: String,
    pub cluster: String,
    pub up: bool,
    registered: PhoneSet,
    /// What a secure registration's certificate must chain to (CallManager-trust + CAPF).
    trust: Arc<Vec<Certificate>>,
    /// The certificate it presents to secure phones.
    cert: Option<Arc<[u8]>>,
}

impl CallManager {
    pub fn new(host: &str, cluster: &str) -> CallManager {
        CallManager {
            host: host.into(),
            cluster: cluster.into(),
            up: true,
            registered: PhoneSet::default(),
            trust: Arc::new(vec![]),
            cert: None,
        }
    }

    /// Why a secure registration's certificate is not trusted here, if it is not: it must
    /// chain to CallManager-trust or this cluster's CAPF (an LSC from a foreign CAPF is not,
    /// F14 [C S14]).
    fn untrusted(&self, der: &[u8], now: Now) -> Option<String> {
        let cert = match Certificate::from_der(der) {
            Ok(c) => c,
            Err(e) => return Some(format!("unreadable certificate: {e}")),
        };
        verify_chain(&cert, &[], self.trust.iter(), now.wall, Backend::Ring)
            .err()
            .map(|e| format!("{} not trusted: {e}", cert.subject().common_name()))
    }

    /// Phones registered here.
    pub fn registered(&self) -> usize {
        self.registered.len()
    }

    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        let mut out = vec![];
        match msg {
            Msg::CallManagerTrust(trust) => self.trust = trust,
            Msg::CallManagerCert(cert) => self.cert = Some(cert),
            Msg::RegisterAbort { phone } => {
                self.registered.remove(phone);
            }
            Msg::Register {
                phone,
                secure_cert: Some(der),
                ..
            } if self.up && self.untrusted(&der, now).is_some() => {
                let why = self.untrusted(&der, now).unwrap_or_default();
                out.push(Effect::Observe(Observation::note(
                    now,
                    &format!("ccm@{}", self.host),
                    Kind::TlsFailure,
                    format!("phone#{phone} secure registration: {why}"),
                )));
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::RegisterReject {
                        reason: format!("TLS to ccm@{} failed: {why}", self.host),
                    },
                });
            }
            Msg::Register {
                phone, secure_cert, ..
            } if self.up => {
                self.registered.insert(phone);
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::RegisterAck {
                        cluster: self.cluster.clone(),
                        server_cert: secure_cert.and(self.cert.clone()),
                    },
                });
            }
            Msg::Keepalive { phone, seq } if self.up => {
                self.registered.insert(phone);
                out.push(Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::KeepaliveAck { seq },
                });
            }
            Msg::ResetRegistered => {
                for phone in std::mem::take(&mut self.registered).iter() {
                    out.push(Effect::Send {
                        to: Addr::Phone(phone),
                        msg: Msg::Reset,
                    });
                }
            }
            Msg::Service(action) => {
                self.up = !matches!(action, ServiceAction::Stop);
                if !self.up {
                    self.registered.clear();
                }
                out.push(Effect::Observe(Observation::note(
                    now,
                    &format!("ccm@{}", self.host),
                    Kind::Service,
                    format!("{action:?}"),
                )));
            }
            _ => {}
        }
        out
    }
}

/// A set of phone ids as a bitmap: a keepalive's registration refresh touches one word
/// (10,000 phones keep 157 words), and iteration goes in id order (deterministic resets).
#[derive(Debug, Default)]
struct PhoneSet {
    words: Vec<u64>,
    len: usize,
}

impl PhoneSet {
    fn insert(&mut self, phone: u32) {
        let (w, bit) = (phone as usize / 64, 1u64 << (phone % 64));
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        if self.words[w] & bit == 0 {
            self.words[w] |= bit;
            self.len += 1;
        }
    }

    fn remove(&mut self, phone: u32) {
        let (w, bit) = (phone as usize / 64, 1u64 << (phone % 64));
        if let Some(word) = self.words.get_mut(w).filter(|word| **word & bit != 0) {
            *word &= !bit;
            self.len -= 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }

    /// The ids in increasing order.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1u64 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }
}

/// DHCP: option 150 per phone range.
#[derive(Debug, Default)]
pub struct Dhcp {
    ranges: Vec<(u32, u32, Vec<String>)>,
}

impl Dhcp {
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::DhcpSet {
                first,
                count,
                option150,
            } => {
                self.ranges.push((first, count, option150));
                vec![]
            }
            Msg::DhcpRequest { phone } => {
                let option150 = self
                    .ranges
                    .iter()
                    .rev()
                    .find(|(f, c, _)| phone >= *f && phone < f + c)
                    .map(|(_, _, o)| o.clone())
                    .unwrap_or_default();
                vec![Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::DhcpAck { option150 },
                }]
            }
            _ => vec![],
        }
    }
}

/// The shared SFTP directory both clusters export to (§4.1: same server and directory).
#[derive(Debug, Default)]
pub struct Sftp {
    pub files: BTreeMap<String, Arc<[u8]>>,
}

impl Sftp {
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::SftpPut { name, bytes } => {
                self.files.insert(name, bytes);
                vec![]
            }
            Msg::SftpList { reply_to } => {
                let files = self
                    .files
                    .iter()
                    .map(|(n, b)| (n.clone(), b.clone()))
                    .collect();
                vec![Effect::Send {
                    to: reply_to,
                    msg: Msg::SftpFiles { files },
                }]
            }
            _ => vec![],
        }
    }
}

/// The publisher starts its services, takes operator steps and messages, and runs timers.
impl crate::machine::Machine for Publisher {
    fn addr(&self) -> Addr {
        Addr::Publisher(self.pki.name.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Start => self.start(now),
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
        }
    }
}

/// The CallManager answers messages only.
impl crate::machine::Machine for CallManager {
    fn addr(&self) -> Addr {
        Addr::CallManager(self.host.clone())
    }
    fn on_input(&mut self, input: crate::machine::Input, now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}

/// DHCP answers messages only.
impl crate::machine::Machine for Dhcp {
    fn addr(&self) -> Addr {
        Addr::Dhcp
    }
    fn on_input(&mut self, input: crate::machine::Input, _now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}

/// SFTP answers messages only.
impl crate::machine::Machine for Sftp {
    fn addr(&self) -> Addr {
        Addr::Sftp
    }
    fn on_input(&mut self, input: crate::machine::Input, _now: Now) -> Vec<Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}
