//! What the publisher pushes to its cluster's services, built from its database: shared by
//! every concern, so a step changes the database and then calls the pushes it needs.
//!
//! ```text
//!  rebuild_tftp      ─► TftpRebuild{certs, mode, parameters, devices, revision} → each TFTP node
//!  push_stores       ─► TvsStores{stores, own certificates, TVS identity}      → each TVS node
//!  push_cm_trust     ─► CallManagerTrust(cm_anchors) + CallManagerCert        → each CallManager
//!  push_capf         ─► CapfConfig{CAPF identity, CAPF-trust}                 → CAPF
//!  reset_registered  ─► ResetRegistered                                       → each CallManager
//!  notify_tomcat     ─► TftpTomcat (a node's Tomcat certificate changed, F29) → its TFTP node
//! ```

use super::Publisher;
use crate::capf::CertOperation;
use crate::machine::msg::{Addr, DeviceConfig, Effect, Msg, Now, TftpBuild, TvsStores};
use crate::pki::cluster::ClusterPki;
use crate::pki::identity::CertType;
use crate::pki::{Certificate, StoreName, TrustStore};
use crate::sgn::SecurityMode;
use crate::tlv::content::ClusterCerts;
use crate::tlv::Role;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The CallManager certificates a TVS on `host` vouches for as its own: every CallManager of
/// the cluster as SAST [I] (the cluster's database holds them all; before 12.0 each TFTP node
/// signs its own ITL, so a phone moving between TFTP nodes relies on TVS for the other
/// node's signer, F33), and `host`'s own also as CCM+TFTP.
pub fn cluster_callmanagers(pki: &ClusterPki, host: &str) -> Vec<(Certificate, Role)> {
    let mut out = vec![];
    for n in &pki.nodes {
        if let Some(cm) = n.identity(CertType::CallManager) {
            out.push((cm.cert.clone(), Role::Sast));
            if n.spec.names.hostname == host {
                out.push((cm.cert.clone(), Role::CcmTftp));
            }
        }
    }
    out
}

impl Publisher {
    pub(super) fn tomcat_ders(&self) -> BTreeMap<String, Arc<[u8]>> {
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
    pub(super) fn notify_tomcat(&mut self) -> Vec<Effect> {
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

    /// `msg` to the CAPF service, if the cluster runs one.
    pub(super) fn to_capf(&self, msg: Msg) -> Vec<Effect> {
        self.capf
            .iter()
            .map(|(host, _)| Effect::Send {
                to: Addr::Capf(host.clone()),
                msg: msg.clone(),
            })
            .collect()
    }

    /// CAPF's configuration with CAPF-trust as it is now.
    pub(super) fn push_capf(&self) -> Vec<Effect> {
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
    pub(super) fn push_cm_trust(&self) -> Vec<Effect> {
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

    pub(super) fn rebuild_tftp(&self, now: Now) -> Vec<Effect> {
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
                    unsigned_configs: self.enterprise.unsigned_configs,
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
                    revision: self.revision,
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

    pub(super) fn push_stores(&self) -> Vec<Effect> {
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
                own.extend(cluster_callmanagers(&self.pki, host));
                own.push((tvs_cert.clone(), Role::Tvs));
                own.push((self.pki.capf.cert.clone(), Role::Capf));
                let msg = Msg::TvsStores(Arc::new(TvsStores {
                    stores: stores.clone(),
                    own,
                    tvs_cert,
                    tvs_key,
                    model: self.tvs_model,
                    restart: false,
                    revision: self.revision,
                }));
                Some(Effect::Send {
                    to: Addr::Tvs(host.clone()),
                    msg,
                })
            })
            .collect()
    }

    /// The stores for every TVS; those on `restart` restart to read them at once.
    pub(super) fn push_stores_restarting(&self, restart: &[String]) -> Vec<Effect> {
        self.push_stores()
            .into_iter()
            .map(|effect| match effect {
                Effect::Send {
                    to: Addr::Tvs(host),
                    msg: Msg::TvsStores(stores),
                } if restart.contains(&host) => {
                    let mut stores = (*stores).clone();
                    stores.restart = true;
                    Effect::Send {
                        to: Addr::Tvs(host),
                        msg: Msg::TvsStores(Arc::new(stores)),
                    }
                }
                other => other,
            })
            .collect()
    }

    pub(super) fn reset_registered(&self) -> Vec<Effect> {
        self.cm_hosts
            .iter()
            .map(|h| Effect::Send {
                to: Addr::CallManager(h.clone()),
                msg: Msg::ResetRegistered,
            })
            .collect()
    }
}
