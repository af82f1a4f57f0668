//! The certificate lifecycle on a cluster's publisher: regeneration of identity
//! certificates, `utils itl reset localkey|remotekey`, and DRS backup and restore of the
//! certificates (reference §2.5, §2.6; failure entries F5–F8, F10, F11).
//!
//! ```text
//!  Regenerate{type, node?, key?} ─► ClusterPki::regenerate (new key + serial from the seed)
//!        │                          stores: the old certificate replaced by the new one
//!        ├─ CallManager, TVS, ITLRecovery, CAPF ─► TftpRebuild (new ITL/CTL, signer by version)
//!        ├─ TvsStores to every TVS; restart=true where TVS serves the new certificate at once:
//!        │     TVS → that node's TVS · CallManager, CAPF → every TVS · ITLRecovery → none
//!        └─ "Phone Interaction on Certificate Update" = automatic and type ∈ {TVS, CAPF,
//!           CallManager (the TFTP certificate)} ─► ResetRegistered on every CallManager
//!  ItlReset{localkey|remotekey} ─► TftpRebuild with the ITL signed by the CallManager key
//!        (localkey) or the ITLRecovery of ITLRecovery.p12 (remotekey), until the TFTP
//!        service restarts · refused when ITLRecovery is weaker than CallManager (F10)
//!  DrsBackup ─► snapshot of the PKI and trust stores
//!  DrsRestore ─► the snapshot back ─► TftpRebuild, TVS restart, every phone reset (F11)
//!  CopyCertificate{to, store, node, type} ─► UploadCertificate{store, current DER} ─► to
//!  CtlUpdate (mixed mode) ─► the CTL rebuilt from the current certificates ─► TftpRebuild
//!  Regenerate · CtlUpdate · DrsRestore ─► CallManagerTrust (in mixed mode the CAPF the CTL
//!        carries: the old one after a CAPF regeneration until CtlUpdate, F12)
//! ```
//! In mixed mode the CTL keeps the certificates it was built from across regenerations until
//! `utils ctl update CTLFile` ("run `utils ctl update CTLFile` before restarting services"
//! [C S12/S13]); the TFTP re-signs that content at each rebuild with the key it was signed
//! with, which for a phone is the same as serving the old file [I].
//! Modelling choices, each [I] where the reference is silent:
//! - Which services restart: the reference only says the TVS process picks up a new TVS
//!   certificate; CallManager and CAPF regeneration also restart every TVS (so TVS vouches
//!   for the new CallManager at once, which the documented order "TVS first, then TFTP"
//!   relies on); ITLRecovery regeneration restarts none, so TVS keeps vouching for the old
//!   ITLRecovery until `restart_service tvs` — which is why phones reject an ITL signed by a
//!   new ITLRecovery without the double-reset procedure (F8). Tomcat and ipsec regeneration
//!   only update the stores (effective at the next TVS restart).
//! - The automatic reset covers TVS, CAPF and TFTP (CallManager) certificates, as the
//!   parameter's description says [C S12]; ITLRecovery is not among them.
//! - `localkey` re-signs each TFTP node's ITL with that node's own CallManager key, the one
//!   its phones hold with the SAST role ("the CallManager certificate also has SAST role, so
//!   `utils itl reset localkey` works" [C S10]); CUCM re-signs the publisher's ITL and
//!   copies it to the TFTP nodes, which is the same for a phone of the publisher's TFTP.
//! - `remotekey` signs with the ITLRecovery the operator exported at install time ("file get
//!   tftp ITLRecovery.p12", as S10 recommends): the cluster's ITLRecovery before its first
//!   regeneration.
//! - A DRS restore ends with the cluster's reboot, so every registered phone resets whatever
//!   "Phone Interaction on Certificate Update" says.

use super::Publisher;
use crate::machine::msg::{Addr, Effect, Msg, Now, Operator, ServiceAction};
use crate::machine::trace::Kind;
use crate::pki::cluster::ClusterPki;
use crate::pki::identity::CertType;
use crate::pki::regen::replace_in_stores;
use crate::pki::{Identity, KeyForge, KeyProfile, StoreName, TrustStore};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The publisher's lifecycle state.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    /// The scenario seed: regenerated keys and serials are drawn from it.
    pub seed: u64,
    generations: BTreeMap<(String, CertType), u32>,
    backup: Option<Backup>,
    /// ITLRecovery as exported at install time (`ITLRecovery.p12`), kept for `remotekey`.
    exported_itl_recovery: Option<Identity>,
    /// Mixed mode: what the CTL was built from, kept from the first regeneration until
    /// `utils ctl update CTLFile` (`None`: the current certificates).
    pub ctl_certs: Option<crate::tlv::content::ClusterCerts>,
}

#[derive(Clone, Debug)]
struct Backup {
    pki: ClusterPki,
    stores: BTreeMap<StoreName, TrustStore>,
}

/// Whether a regenerated certificate of type `t` triggers "Phone Interaction on Certificate
/// Update" (TVS, CAPF, TFTP certificates [C S12]).
pub fn resets_phones(t: CertType) -> bool {
    matches!(t, CertType::CallManager | CertType::Tvs | CertType::Capf)
}

/// What `utils fips enable` regenerates, all before the node reboots (reference §6, F32;
/// SSH is not simulated).
pub const FIPS_REGENERATES: [CertType; 6] = [
    CertType::CallManager,
    CertType::Tomcat,
    CertType::Ipsec,
    CertType::Tvs,
    CertType::Capf,
    CertType::ItlRecovery,
];

/// RSA modulus bits; 0 for EC keys, which F10's comparison leaves out.
fn rsa_bits(p: KeyProfile) -> u32 {
    match p {
        KeyProfile::Rsa { bits } => bits,
        KeyProfile::EcP256 => 0,
    }
}

impl Publisher {
    /// Carries out a lifecycle step (the [`Operator`] variants of this module).
    pub(super) fn lifecycle_step(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        match op {
            Operator::Regenerate {
                cert_type,
                node,
                key,
            } => self.regenerate(&[cert_type], node, key, now),
            Operator::FipsEnable { node } => self.regenerate(&FIPS_REGENERATES, node, None, now),
            Operator::ItlReset { remote } => self.itl_reset(remote, now),
            Operator::DrsBackup => self.drs_backup(now),
            Operator::DrsRestore => self.drs_restore(now),
            Operator::CtlUpdate => self.ctl_update(now),
            Operator::CtlProvider { host, action } => self.ctl_provider(host, action, now),
            Operator::CopyCertificate {
                to_cluster,
                store,
                node,
                cert_type,
            } => self.copy_certificate(to_cluster, store, &node, cert_type, now),
            _ => vec![],
        }
    }

    fn drs_backup(&mut self, now: Now) -> Vec<Effect> {
        self.lifecycle.backup = Some(Backup {
            pki: self.pki.clone(),
            stores: self.stores.clone(),
        });
        vec![self.obs(now, Kind::DrsBackup, "certificates and trust stores saved")]
    }

    /// `utils ctl update CTLFile` (mixed mode only): the CTL from the current certificates.
    fn ctl_update(&mut self, now: Now) -> Vec<Effect> {
        if !self.mixed_mode {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                "utils ctl update CTLFile: the cluster is not in mixed mode",
            )];
        }
        self.lifecycle.ctl_certs = None;
        let mut out = vec![self.obs(
            now,
            Kind::CtlUpdate,
            "utils ctl update CTLFile: the CTL file was updated from the current certificates",
        )];
        out.extend(self.rebuild_tftp(now));
        out.extend(self.push_cm_trust());
        out
    }

    /// The Cisco CTL Provider stopped or started on `host`.
    fn ctl_provider(&mut self, host: String, action: ServiceAction, now: Now) -> Vec<Effect> {
        // The CTL file changes only when it is rebuilt: keep the current one until
        // `utils ctl update CTLFile` [I], as after a regeneration.
        if self.mixed_mode && self.lifecycle.ctl_certs.is_none() {
            self.lifecycle.ctl_certs = Some(self.trust_list_certs());
        }
        if action == ServiceAction::Stop {
            self.ctl_providers.remove(&host);
        } else {
            self.ctl_providers.insert(host.clone());
        }
        vec![self.obs(now, Kind::CtlProvider, format!("{host}: {action:?}"))]
    }

    /// `node`'s current `cert_type` certificate, uploaded to `store` on `to_cluster`.
    fn copy_certificate(
        &self,
        to_cluster: String,
        store: StoreName,
        node: &str,
        cert_type: CertType,
        now: Now,
    ) -> Vec<Effect> {
        match self.pki.identity_of(node, cert_type) {
            Some(id) => vec![Effect::Send {
                to: Addr::Publisher(to_cluster),
                msg: Msg::Operator(Operator::UploadCertificate {
                    store,
                    der: id.cert.der().into(),
                }),
            }],
            None => vec![self.obs(
                now,
                Kind::OperatorError,
                format!("{node} has no {cert_type} certificate"),
            )],
        }
    }

    fn regenerate(
        &mut self,
        types: &[CertType],
        node: Option<String>,
        key: Option<KeyProfile>,
        now: Now,
    ) -> Vec<Effect> {
        if self.mixed_mode && self.lifecycle.ctl_certs.is_none() {
            // The CTL stays as it was until `utils ctl update CTLFile` [C S12/S13].
            self.lifecycle.ctl_certs = Some(self.trust_list_certs());
        }
        if types.contains(&CertType::ItlRecovery) && self.lifecycle.exported_itl_recovery.is_none()
        {
            self.lifecycle.exported_itl_recovery = Some(self.pki.itl_recovery.clone());
        }
        let forge = KeyForge::new(self.lifecycle.seed);
        let mut out = vec![];
        let mut done: Vec<(CertType, String)> = vec![];
        for &t in types {
            let hosts = match &node {
                // One type on a named node: the step checked it holds one.
                Some(h) if types.len() == 1 => vec![h.clone()],
                // FIPS on one node: what that node holds (ITLRecovery and CAPF only on the
                // publisher).
                Some(h) => self.pki.holders(t).into_iter().filter(|x| x == h).collect(),
                None => self.pki.holders(t),
            };
            for host in hosts {
                let (seen, ok) = self.regenerate_on(&forge, &host, t, key, now);
                out.push(seen);
                if ok {
                    done.push((t, host));
                }
            }
        }
        if done.is_empty() {
            return out;
        }
        out.extend(self.after_regeneration(&done, now));
        out
    }

    /// Regenerates `t` on `host`: its observation, and whether it was done.
    fn regenerate_on(
        &mut self,
        forge: &KeyForge,
        host: &str,
        t: CertType,
        key: Option<KeyProfile>,
        now: Now,
    ) -> (Effect, bool) {
        let g = self
            .lifecycle
            .generations
            .entry((host.to_string(), t))
            .or_insert(0);
        *g += 1;
        match self.pki.regenerate(forge, host, t, key, *g, now.wall) {
            Ok(r) => {
                let stores = replace_in_stores(&mut self.stores, &r.old, &r.new.cert);
                let stores: Vec<&str> = stores.iter().map(|s| s.cucm_name()).collect();
                let seen = self.obs(
                    now,
                    Kind::CertificateRegenerated,
                    format!(
                        "{t} of {host}: serial {} → {}, {} key; stores updated: [{}]",
                        r.old.serial_hex(),
                        r.new.cert.serial_hex(),
                        r.new.key.profile(),
                        stores.join(", ")
                    ),
                );
                (seen, true)
            }
            Err(e) => {
                let why = format!("regenerate {t} on {host}: {e}");
                (self.obs(now, Kind::OperatorError, why), false)
            }
        }
    }

    /// What follows a regeneration of `t` on the hosts `done`: the TFTP rebuild, the TVS
    /// stores (restarting where TVS serves the new certificate at once), the CallManager
    /// trust, CAPF's configuration, and the automatic phone reset.
    /// What follows regenerations (`done`: each type and host), once for all of them: the
    /// TFTP rebuilds its files, TVS restarts, the CallManagers and CAPF take the new
    /// certificates, and "Phone Interaction on Certificate Update" resets the phones.
    fn after_regeneration(&self, done: &[(CertType, String)], now: Now) -> Vec<Effect> {
        let any = |f: &dyn Fn(CertType) -> bool| done.iter().any(|(t, _)| f(*t));
        let mut out = vec![];
        if any(&|t| {
            matches!(
                t,
                CertType::CallManager | CertType::Tvs | CertType::ItlRecovery | CertType::Capf
            )
        }) {
            out.extend(self.rebuild_tftp(now));
        }
        let mut restart: Vec<String> = vec![];
        if any(&|t| matches!(t, CertType::CallManager | CertType::Capf)) {
            restart.extend(self.tvs_hosts.iter().cloned());
        }
        for (t, host) in done {
            if *t == CertType::Tvs && !restart.contains(host) {
                restart.push(host.clone());
            }
        }
        out.extend(self.push_stores_restarting(&restart));
        out.extend(self.push_cm_trust());
        if any(&|t| t == CertType::Capf) {
            // The CAPF service serves (and issues with) the new certificate from now on [I]:
            // CUCM restarts it after a CAPF regeneration.
            out.extend(self.push_capf());
        }
        if self.enterprise.auto_reset && any(&resets_phones) {
            out.extend(self.reset_registered());
        }
        out
    }

    fn itl_reset(&mut self, remote: bool, now: Now) -> Vec<Effect> {
        let cmd = if remote {
            "utils itl reset remotekey"
        } else {
            "utils itl reset localkey"
        };
        let recovery_bits = rsa_bits(self.pki.itl_recovery.key.profile());
        let cm_bits = self
            .pki
            .nodes
            .iter()
            .filter_map(|n| n.identity(CertType::CallManager))
            .map(|id| rsa_bits(id.key.profile()))
            .max()
            .unwrap_or(0);
        if recovery_bits < cm_bits {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                format!(
                    "{cmd} failed: ITLRecovery is {} while CallManager is {cm_bits}-bit (F10)",
                    self.pki.itl_recovery.key.profile()
                ),
            )];
        }
        let recovery = self
            .lifecycle
            .exported_itl_recovery
            .clone()
            .unwrap_or_else(|| self.pki.itl_recovery.clone());
        let signer_of = |host: &str| match remote {
            true => Some(recovery.clone()),
            false => self.pki.identity_of(host, CertType::CallManager).cloned(),
        };
        let signed_by = match remote {
            true => recovery.cert.subject().common_name().to_string(),
            false => "each TFTP node's CallManager".to_string(),
        };
        let mut out = vec![self.obs(
            now,
            Kind::ItlReset,
            format!(
                "{cmd}: Generating the reset ITL file..... The reset ITL file was generated \
                 successfully (signed by {signed_by}); Transferring new reset ITL file to the \
                 TFTP server nodes"
            ),
        )];
        for effect in self.rebuild_tftp(now) {
            out.push(match effect {
                Effect::Send {
                    to: Addr::Tftp(host),
                    msg: Msg::TftpRebuild(build),
                } => {
                    let mut build = (*build).clone();
                    build.itl_reset_signer = signer_of(&host);
                    let to = Addr::Tftp(host);
                    Effect::Send {
                        to,
                        msg: Msg::TftpRebuild(Arc::new(build)),
                    }
                }
                other => other,
            });
        }
        out
    }

    fn drs_restore(&mut self, now: Now) -> Vec<Effect> {
        let Some(backup) = self.lifecycle.backup.clone() else {
            return vec![self.obs(
                now,
                Kind::OperatorError,
                "DRS restore: no backup to restore",
            )];
        };
        self.pki = backup.pki;
        self.stores = backup.stores;
        self.lifecycle.ctl_certs = None; // the backup's CTL comes back with its certificates
        let mut out = vec![self.obs(
            now,
            Kind::DrsRestore,
            "certificates and trust stores restored from the backup; cluster rebooted",
        )];
        out.extend(self.rebuild_tftp(now));
        let all = self.tvs_hosts.clone();
        out.extend(self.push_stores_restarting(&all));
        out.extend(self.push_cm_trust());
        out.extend(self.reset_registered());
        out
    }
}
