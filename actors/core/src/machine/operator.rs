//! Operator steps: what the harness asks a cluster's publisher to do ([`Operator`]), as the
//! scenario's `[[step]]` entries say it; the bulk CAPF settings one step carries
//! ([`CapfUpdate`]); and service control, stop / start / restart ([`ServiceAction`]), which a
//! step or the harness applies to a service.
//!
//! ```text
//!  scenario step ──► Msg::Operator(Operator) ──► Publisher ──► effects on TFTP, TVS, CAPF, phones
//! ```

use crate::wall::WallTime;
use std::fmt;
use std::sync::Arc;

/// Service control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceAction {
    Stop,
    Start,
    Restart,
}

/// Operator steps handled by a publisher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operator {
    /// Bulk Certificate Management export of the given certificate types.
    BulkExport {
        types: Vec<crate::pki::identity::CertType>,
    },
    /// Bulk Certificate Management export from the chosen nodes only (their certificates of
    /// the given types; CAPF and ITLRecovery when the publisher is among them).
    BulkExportNodes {
        types: Vec<crate::pki::identity::CertType>,
        nodes: Vec<String>,
    },
    /// The operator deletes file `name` from the shared SFTP directory.
    SftpRemove {
        name: String,
    },
    BulkConsolidate,
    BulkImport,
    /// Manual upload of a certificate (DER) to a trust store.
    UploadCertificate {
        store: crate::pki::StoreName,
        der: Arc<[u8]>,
    },
    /// Set an enterprise parameter by its scenario name.
    SetParameter {
        name: String,
        value: String,
    },
    /// Regenerate certificate `cert_type` on `node` (default: every node holding it), with a
    /// key of `key` (default: the old key's profile). See `machine::publisher::lifecycle`.
    Regenerate {
        cert_type: crate::pki::identity::CertType,
        node: Option<String>,
        key: Option<crate::pki::KeyProfile>,
    },
    /// `utils fips enable` on `node` (default: every node): every certificate FIPS
    /// regenerates, at once, then the services take them as after the node's reboot.
    FipsEnable {
        node: Option<String>,
    },
    /// `utils itl reset localkey` (`remote: false`) or `remotekey` (`remote: true`).
    ItlReset {
        remote: bool,
    },
    /// DRS backup of the certificates and trust stores.
    DrsBackup,
    /// DRS restore of the last backup.
    DrsRestore,
    /// Send the current certificate `cert_type` of `node` to cluster `to_cluster`'s
    /// publisher as an `UploadCertificate` to `store` (the scenario's `upload_certificate`:
    /// the file the operator downloads from one cluster and uploads to the other).
    CopyCertificate {
        to_cluster: String,
        store: crate::pki::StoreName,
        node: String,
        cert_type: crate::pki::identity::CertType,
    },
    /// `utils ctl update CTLFile` (mixed mode): rebuild the CTL from the current certificates.
    CtlUpdate,
    /// Serviceability: start or stop the Cisco CTL Provider (TCP 2444) on `host`.
    CtlProvider {
        host: String,
        action: ServiceAction,
    },
    /// CAPF settings of devices (phone page, Universal Device Template, or a Bulk
    /// Administration "Update Phones" query with Apply Config).
    CapfUpdate(Arc<CapfUpdate>),
    /// `utils capf set keep_alive <minutes>` (5–60).
    CapfKeepalive {
        minutes: u32,
    },
    /// Export CAPF's pending CSRs to offline CA `ca`, which signs them; the administrator
    /// uploads the certificates.
    CapfOfflineSign {
        ca: String,
    },
    /// A `utils capf` command: `csr list`, `stale-lsc list`, `stale-lsc delete all`.
    CapfCli {
        command: String,
    },
    /// The certificate monitor's pass over the devices' LSCs: an expiry notice for those
    /// expiring within `notify_days`, and the expired ones.
    CertificateMonitor {
        notify_days: u32,
    },
    /// Registered phones `first..first+count` open an HTTPS service served by the Tomcat of
    /// `node` (default: the publisher) of this cluster: the publisher hands each phone the
    /// node's current Tomcat certificate ([`Msg::HttpsOpen`](super::Msg::HttpsOpen)).
    HttpsService {
        node: Option<String>,
        first: u32,
        count: u32,
    },
    /// Registered phones `first..first+count` download their configuration file over HTTPS
    /// from the TFTP service of `node` (default: the cluster's first TFTP node)
    /// ([`Msg::TftpHttpsOpen`](super::Msg::TftpHttpsOpen)).
    TftpHttps {
        node: Option<String>,
        first: u32,
        count: u32,
        plain_fallback: bool,
    },
    /// Bulk Certificate Management import hit a known defect (`bug`, e.g. CSCuy43181): the
    /// GUI import fails and no certificate reaches the trust stores.
    BulkImportDefect {
        bug: String,
    },
    /// An IM&P step (seed 002): regeneration, service restarts, High Availability, the
    /// ipsec-trust check, trust deletion, Jabber clients. See `machine::publisher::imp`.
    Imp(crate::machine::publisher::imp::ImpOp),
    /// `utils ctl set-cluster mixed-mode` (`mixed: true`) or `non-secure-mode`.
    CtlSetCluster {
        mixed: bool,
    },
}

/// A bulk change of CAPF settings: the same settings for every listed device, except the
/// authentication string, which may be unique per device.
#[derive(Clone, PartialEq, Eq)]
pub struct CapfUpdate {
    /// `(device name, model, CAPFv3)` of each device; devices CUCM doesn't know are added.
    pub devices: Vec<(String, String, bool)>,
    pub operation: crate::capf::CertOperation,
    pub auth: crate::capf::CapfAuth,
    /// "unique": a different authentication string per device, drawn from the seed and
    /// reported in the trace (BAT's per-device strings) — the phones are told theirs.
    pub unique_auth_strings: bool,
    pub key_order: crate::capf::KeyOrder,
    pub rsa_bits: u16,
    pub ec_curve: crate::capf::Curve,
    pub completes_by: Option<WallTime>,
    pub security_mode: Option<crate::sgn::SecurityMode>,
    /// The BAT query "LSC expires before": only devices whose LSC (in the database) expires
    /// before this wall time are updated.
    pub lsc_expires_before: Option<WallTime>,
}

/// Short: the device count instead of the list (traces quote it), no authentication string.
impl fmt::Debug for CapfUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            crate::capf::CapfAuth::AuthString(_) if self.unique_auth_strings => {
                "AuthString(unique)"
            }
            crate::capf::CapfAuth::AuthString(_) => "AuthString",
            crate::capf::CapfAuth::NullString => "NullString",
            crate::capf::CapfAuth::ExistingCert(_) => "ExistingCert",
        };
        f.debug_struct("CapfUpdate")
            .field("devices", &self.devices.len())
            .field("operation", &self.operation)
            .field("auth", &auth)
            .field("key_order", &self.key_order)
            .field("security_mode", &self.security_mode)
            .finish_non_exhaustive()
    }
}
