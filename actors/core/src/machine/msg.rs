//! What travels between machines ([`Msg`]), where it goes ([`Addr`]), what machines ask of
//! their shell ([`Effect`]) and what they report ([`Observation`]).

use crate::wall::WallTime;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// The two clocks: monotonic virtual time (drives timers) and this host's wall clock (drives
/// certificate validity; a scenario may skew it per host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now {
    pub mono_ms: u64,
    pub wall: WallTime,
}

/// A destination on the bus. Services are addressed by the node's host name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Addr {
    Phone(u32),
    Tftp(String),
    Tvs(String),
    CallManager(String),
    /// A cluster's publisher: database, Bulk Certificate Management, operator steps.
    Publisher(String),
    Dhcp,
    Sftp,
}

impl Addr {
    /// The host this address lives on (`phone:<n>` for phones, `dhcp`, `sftp`).
    pub fn host(&self) -> String {
        match self {
            Addr::Phone(n) => format!("phone:{n}"),
            Addr::Tftp(h) | Addr::Tvs(h) | Addr::CallManager(h) | Addr::Publisher(h) => h.clone(),
            Addr::Dhcp => "dhcp".into(),
            Addr::Sftp => "sftp".into(),
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Phone(n) => write!(f, "phone#{n}"),
            Addr::Tftp(h) => write!(f, "tftp@{h}"),
            Addr::Tvs(h) => write!(f, "tvs@{h}"),
            Addr::CallManager(h) => write!(f, "ccm@{h}"),
            Addr::Publisher(c) => write!(f, "publisher@{c}"),
            Addr::Dhcp => f.write_str("dhcp"),
            Addr::Sftp => f.write_str("sftp"),
        }
    }
}

/// A message on the bus.
#[derive(Clone, Debug)]
pub enum Msg {
    /// Phone → DHCP: who is my TFTP server (option 150)?
    DhcpRequest {
        phone: u32,
    },
    /// DHCP → phone.
    DhcpAck {
        option150: Vec<String>,
    },
    /// Phone → TFTP: a file by name (`CTLSEP<MAC>.tlv`, `ITLSEP<MAC>.tlv`, `SEP<MAC>.cnf.xml.sgn`).
    TftpGet {
        phone: u32,
        file: String,
    },
    /// TFTP → phone: the file, or not found.
    TftpReply {
        file: String,
        bytes: Option<Arc<[u8]>>,
    },
    /// Phone ↔ TVS over TLS: one flight of TLS records of session `session`.
    TvsTls {
        phone: u32,
        session: u64,
        bytes: Vec<u8>,
    },
    /// Phone → TVS without TLS (scenario `tls = "identity"`): the request with the phone's
    /// certificate; TVS → phone: the answer with the TVS certificate.
    TvsPlain {
        phone: u32,
        session: u64,
        client_cert: Option<Arc<[u8]>>,
        request: Vec<u8>,
    },
    TvsPlainReply {
        session: u64,
        server_cert: Arc<[u8]>,
        reply: Vec<u8>,
    },
    /// The TLS session failed at the far end (the phone sees a handshake failure alert).
    TvsAbort {
        session: u64,
        reason: String,
    },
    /// Phone → CallManager.
    Register {
        phone: u32,
        device: String,
    },
    RegisterAck {
        cluster: String,
    },
    /// Registered phone → its CallManager, every keepalive interval (a generic registration
    /// keepalive: SCCP KeepAlive, or a SIP REGISTER refresh) [I].
    Keepalive {
        phone: u32,
        seq: u32,
    },
    /// CallManager → phone: keepalive `seq` acknowledged (only while the service runs).
    KeepaliveAck {
        seq: u32,
    },
    /// Cluster → phone: reset (operator step, or automatic after a certificate update).
    Reset,
    /// Publisher → TFTP: rebuild the served files from this cluster state.
    TftpRebuild(Arc<TftpBuild>),
    /// Publisher → TVS: the node's trust stores, read when TVS (re)starts.
    TvsStores(Arc<TvsStores>),
    /// Harness → a service: stop, start or restart it.
    Service(ServiceAction),
    /// Publisher → SFTP: store a file (Bulk Certificate Management export).
    SftpPut {
        name: String,
        bytes: Arc<[u8]>,
    },
    /// Publisher → SFTP: send me every file.
    SftpList {
        reply_to: Addr,
    },
    /// SFTP → publisher.
    SftpFiles {
        files: Vec<(String, Arc<[u8]>)>,
    },
    /// Harness → publisher: an operator step.
    Operator(Operator),
    /// Harness → DHCP: phones `first..first+count` now get `option150`.
    DhcpSet {
        first: u32,
        count: u32,
        option150: Vec<String>,
    },
    /// → CallManager: reset every phone registered here (operator "Reset" of the device pool,
    /// or the automatic reset after a certificate update or a rollback parameter change).
    ResetRegistered,
    /// Harness → phone: delete the CTL and ITL (Settings > Security > Reset Security Settings,
    /// or a factory reset), then boot (the fix of F5–F7, F11, F34).
    EraseTrustLists,
}

impl Msg {
    /// Whether the message travels on a TCP stream (TVS 2445 over TLS, SIP/SCCP registration,
    /// SFTP): the network may lose or delay it, but TCP never hands a duplicate to the
    /// application. TFTP (UDP 69) and DHCP can see duplicates.
    pub fn on_stream(&self) -> bool {
        matches!(
            self,
            Msg::TvsTls { .. }
                | Msg::TvsAbort { .. }
                | Msg::TvsPlain { .. }
                | Msg::TvsPlainReply { .. }
                | Msg::Register { .. }
                | Msg::RegisterAck { .. }
                | Msg::Keepalive { .. }
                | Msg::KeepaliveAck { .. }
                | Msg::SftpPut { .. }
                | Msg::SftpList { .. }
                | Msg::SftpFiles { .. }
        )
    }
}

/// Service control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceAction {
    Stop,
    Start,
    Restart,
}

/// What a TFTP node needs to build its files.
#[derive(Clone, Debug)]
pub struct TftpBuild {
    pub cluster: String,
    /// Index of this TFTP node in `certs.nodes`.
    pub node_ix: usize,
    pub certs: crate::tlv::content::ClusterCerts,
    pub mixed_mode: bool,
    pub rollback: bool,
    pub digest: crate::digest::DigestAlg,
    /// CallManager group (host names) written into every config.
    pub callmanagers: Vec<String>,
    /// TVS list written into every config.
    pub tvs: Vec<String>,
    /// CAPF hosts written into every config.
    pub capf: Vec<String>,
    /// Wall time stamped into the files.
    pub built_at: WallTime,
    /// The publisher's change counter: a TFTP keeps the newest build when two cross on the
    /// bus (two steps at one instant).
    pub revision: u64,
    /// `utils itl reset localkey|remotekey`: sign the ITL with this key instead, until the
    /// TFTP service restarts [C S10/S20].
    pub itl_reset_signer: Option<crate::pki::Identity>,
    /// Mixed mode: the certificates the CTL was last built from (`utils ctl update
    /// CTLFile`), when a regeneration changed them since; `None`: the current ones.
    pub ctl_certs: Option<crate::tlv::content::ClusterCerts>,
}

/// What a TVS instance reads when it starts.
#[derive(Clone, Debug)]
pub struct TvsStores {
    pub stores: Vec<crate::pki::TrustStore>,
    /// The node's own certificates with their ITL roles.
    pub own: Vec<(crate::pki::Certificate, crate::tlv::Role)>,
    /// The TVS certificate presented to phones, and its key.
    pub tvs_cert: crate::pki::Certificate,
    pub tvs_key: Arc<crate::pki::PrivateKey>,
    /// The service model of the TVS process (workers, queue, service times).
    pub model: crate::machine::tvs::TvsModel,
    /// Restart the TVS process to read these at once (a regeneration of a certificate TVS
    /// serves, or a DRS restore); otherwise they wait for the next restart.
    pub restart: bool,
    /// The publisher's change counter: a TVS ignores stores older than those it has.
    pub revision: u64,
}

/// Operator steps handled by a publisher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operator {
    /// Bulk Certificate Management export of the given certificate types.
    BulkExport {
        types: Vec<crate::pki::identity::CertType>,
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
    /// key of `key` (default: the old key's profile). See `machine::cluster::lifecycle`.
    Regenerate {
        cert_type: crate::pki::identity::CertType,
        node: Option<String>,
        key: Option<crate::pki::KeyProfile>,
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
}

/// What a machine asks its shell to do.
#[derive(Clone, Debug)]
pub enum Effect {
    Send {
        to: Addr,
        msg: Msg,
    },
    /// Call back with `Input::Timer(token)` after `after_ms` of virtual time.
    Timer {
        after_ms: u64,
        token: u64,
    },
    Observe(Observation),
}

/// One line of the trace: who, what, and details. Ordered logs of these are hashed into the
/// run's `trace_hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The observing participant (`SEP<MAC>`, `tvs@host`, …).
    pub who: String,
    /// Machine-readable kind: `state`, `trust_list_installed`, `trust_list_rejected`,
    /// `tvs_query`, `tvs_answer`, `config_rejected`, `registered`, `tls_failure`, …
    pub what: String,
    /// Free text (reasons, file names, counts).
    pub detail: String,
}

impl Observation {
    pub fn new(now: Now, who: &str, what: &str, detail: impl Into<String>) -> Observation {
        Observation {
            t_ms: now.mono_ms,
            who: who.to_string(),
            what: what.to_string(),
            detail: detail.into(),
        }
    }
}
