//! A cluster's publisher: the database of trust stores, device records and enterprise
//! parameters, and every operator step the administration pages and CLI offer. It decides;
//! the cluster's services (TFTP, TVS, CallManager, CAPF) carry out what it pushes them.
//!
//! ```text
//!  start ─► TftpRebuild → every TFTP node · TvsStores → every TVS node
//!        ─► CallManagerTrust → every CallManager · CapfConfig + CapfDevices → CAPF
//!  Msg::Operator(op) ─► operator.rs routes by concern:
//!        bulk.rs       BulkExport · BulkConsolidate · BulkImport (─► SFTP) · BulkImportDefect
//!        lifecycle.rs  Regenerate · ItlReset · DRS · CopyCertificate · CtlUpdate · CtlProvider
//!        imp.rs        Imp(ImpOp) ─► IM&P steps · imp_delete.rs · imp_jabber.rs · multi-SAN:
//!          multisan.rs MultiSanCsr · UploadCaCertificate · UploadMultiSan (external_ca.rs)
//!          multisan_restart.rs MultiSanRestart · the CallManager certificate going live
//!        devices.rs    CapfUpdate · CapfKeepalive · CAPF CLI / offline signing · monitor
//!        parameters.rs SetParameter (enterprise parameters) · CtlSetCluster
//!        operator.rs   UploadCertificate · HttpsService · TftpHttps
//!  Msg::CapfRecord ─► the device record (configs change at the next TFTP rebuild)
//!  Msg::SftpFiles  ─► bulk.rs (the consolidation or import it awaits)
//!  every input     ─► services.rs: changed Tomcat certificates → their TFTP (F29)
//!  timer           ─► multisan_restart.rs: CSCup28852's certificate-change loop (F20)
//! ```
//! Layout: `mod.rs` holds the struct and the three entry points; `services.rs` builds what
//! the services receive (shared by every concern); each concern file owns its state struct,
//! which the publisher holds side by side ([`bulk::BulkState`], [`lifecycle::Lifecycle`],
//! [`imp::ImpState`], [`multisan::MultiSanState`]).

pub mod bulk;
mod devices;
pub mod external_ca;
pub mod imp;
mod imp_delete;
mod imp_jabber;
pub mod lifecycle;
pub mod multisan;
pub mod multisan_restart;
mod operator;
pub mod parameters;
mod services;

#[cfg(test)]
mod imp_tests;
#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod multisan_tests;

pub use bulk::BUNDLE_PASSWORD;
pub use parameters::Enterprise;

use super::capf::CapfConfig;
use super::msg::{Effect, Msg, Now};
use super::tvs::TvsModel;
use crate::capf::DeviceRecord;
use crate::machine::trace::{Kind, Observation};
use crate::pki::cluster::ClusterPki;
use crate::pki::{StoreName, TrustStore};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A cluster's publisher: its database, the hosts of its services, and the state of each
/// concern's operator steps.
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
    /// Counts the publisher's inputs; stamped on every TFTP build and TVS store push so a
    /// receiver keeps the newest when two cross on the bus.
    revision: u64,
    /// Each node's Tomcat certificate as its TFTP service last heard of it (F29; kept by
    /// [`services`]).
    tomcat_on_disk: BTreeMap<String, Arc<[u8]>>,
    /// Bulk Certificate Management: the SFTP listing it awaits ([`bulk`]).
    pub bulk: bulk::BulkState,
    /// Certificate regeneration, `utils itl reset`, DRS, the CTL's content ([`lifecycle`]).
    pub lifecycle: lifecycle::Lifecycle,
    /// IM&P nodes: their trust stores, services and Jabber clients ([`imp`]).
    pub imp: imp::ImpState,
    /// Multi-server SAN requests, the external CA, the uploaded certificates ([`multisan`]).
    pub multisan: multisan::MultiSanState,
}

impl Publisher {
    pub fn new(
        pki: ClusterPki,
        stores: BTreeMap<StoreName, TrustStore>,
        mixed_mode: bool,
        enterprise: Enterprise,
    ) -> Publisher {
        let mut p = Publisher {
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
            revision: 0,
            tomcat_on_disk: BTreeMap::new(),
            bulk: bulk::BulkState::default(),
            lifecycle: lifecycle::Lifecycle::default(),
            imp: imp::ImpState::default(),
            multisan: multisan::MultiSanState::default(),
        };
        p.tomcat_on_disk = p.tomcat_ders();
        p
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
        out.extend(self.push_devices());
        out
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, now: Now) -> Vec<Effect> {
        self.revision += 1;
        let mut out = match msg {
            Msg::Operator(op) => self.operator(op, now),
            Msg::CapfRecord(rec) => {
                // The database learns the outcome; configs change at the next TFTP rebuild.
                self.devices.insert(rec.device_name.clone(), *rec);
                vec![]
            }
            Msg::SftpFiles { files } => self.sftp_files(&files, now),
            _ => vec![],
        };
        out.extend(self.notify_tomcat());
        out
    }

    /// A publisher timer: CSCup28852's certificate-change loop (F20, [`multisan_restart`]).
    pub fn on_timer(&mut self, token: u64, now: Now) -> Vec<Effect> {
        self.revision += 1;
        self.cscup28852_tick(token, now)
    }
}

/// The publisher starts its services, takes operator steps and messages, and runs timers.
impl crate::machine::Machine for Publisher {
    fn addr(&self) -> crate::machine::Addr {
        crate::machine::Addr::Publisher(self.pki.name.clone())
    }
    fn on_input(
        &mut self,
        input: crate::machine::Input,
        now: crate::machine::Now,
    ) -> Vec<crate::machine::Effect> {
        use crate::machine::Input;
        match input {
            Input::Start => self.start(now),
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
        }
    }
}
