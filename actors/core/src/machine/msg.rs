//! What travels between machines ([`Msg`]), where it goes ([`Addr`]), what machines ask of
//! their shell ([`Effect`]) and what they report ([`Observation`]).

use super::trace::Observation;
use crate::wall::WallTime;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

pub use super::operator::{CapfUpdate, Operator, ServiceAction};

pub use crate::wall::Now;

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
    /// The CAPF service (TLS 3804), on the cluster's publisher host.
    Capf(String),
    /// A certificate authority outside CUCM: an Online CA by its hostname, an offline CA by
    /// its name.
    Ca(String),
}

impl Addr {
    /// The participant kind (`"phone"`, `"tvs"`, …), for labels (the cost meter's keys).
    pub fn kind(&self) -> &'static str {
        match self {
            Addr::Phone(_) => "phone",
            Addr::Tftp(_) => "tftp",
            Addr::Tvs(_) => "tvs",
            Addr::CallManager(_) => "callmanager",
            Addr::Publisher(_) => "publisher",
            Addr::Dhcp => "dhcp",
            Addr::Sftp => "sftp",
            Addr::Capf(_) => "capf",
            Addr::Ca(_) => "ca",
        }
    }

    /// The host this address lives on (`phone:<n>` for phones, `dhcp`, `sftp`).
    pub fn host(&self) -> String {
        match self {
            Addr::Phone(n) => format!("phone:{n}"),
            Addr::Tftp(h)
            | Addr::Tvs(h)
            | Addr::CallManager(h)
            | Addr::Publisher(h)
            | Addr::Capf(h)
            | Addr::Ca(h) => h.clone(),
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
            Addr::Capf(h) => write!(f, "capf@{h}"),
            Addr::Ca(h) => write!(f, "ca@{h}"),
        }
    }
}

/// A message on the bus.
#[derive(Clone, Debug)]
pub enum Msg {
    /// Phone → DHCP: who is my TFTP server (option 150)?
    DhcpRequest { phone: u32 },
    /// DHCP → phone.
    DhcpAck { option150: Vec<String> },
    /// Phone → TFTP: a file by name (`CTLSEP<MAC>.tlv`, `ITLSEP<MAC>.tlv`, `SEP<MAC>.cnf.xml.sgn`).
    TftpGet { phone: u32, file: String },
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
    TvsAbort { session: u64, reason: String },
    /// Phone → CallManager. A phone with an authenticated or encrypted profile registers over
    /// TLS presenting its LSC (`secure_cert`).
    Register {
        phone: u32,
        device: String,
        secure_cert: Option<Arc<[u8]>>,
    },
    RegisterAck {
        cluster: String,
        /// A secure registration: the certificate the CallManager presented in its TLS
        /// handshake (SIP 5061 / SCCP 2443), for the phone to authenticate it.
        server_cert: Option<Arc<[u8]>>,
    },
    /// Publisher → CallManager: the certificate the service presents (its node's
    /// CallManager identity), sent with its trust whenever either changes.
    CallManagerCert(Arc<[u8]>),
    /// Phone → CallManager: the phone did not trust the certificate the CallManager
    /// presented and closed the TLS connection (the registration never completed).
    RegisterAbort { phone: u32 },
    /// CallManager → phone: the secure registration's TLS failed (certificate not trusted).
    RegisterReject { reason: String },
    /// Registered phone → its CallManager, every keepalive interval (a generic registration
    /// keepalive: SCCP KeepAlive, or a SIP REGISTER refresh) [I].
    Keepalive { phone: u32, seq: u32 },
    /// CallManager → phone: keepalive `seq` acknowledged (only while the service runs).
    KeepaliveAck { seq: u32 },
    /// Cluster → phone: reset (operator step, or automatic after a certificate update).
    Reset,
    /// Harness → phone: power failure (the phone is off until the next `Reset`, which boots
    /// it); what the phone keeps in flash survives.
    PowerOff,
    /// Publisher → TFTP: rebuild the served files from this cluster state.
    TftpRebuild(Arc<TftpBuild>),
    /// Publisher → TVS: the node's trust stores, read when TVS (re)starts.
    TvsStores(Arc<TvsStores>),
    /// Harness → a service: stop, start or restart it.
    Service(ServiceAction),
    /// Publisher → SFTP: store a file (Bulk Certificate Management export).
    SftpPut { name: String, bytes: Arc<[u8]> },
    /// Publisher → SFTP: delete a file (an operator tidying the directory).
    SftpRemove { name: String },
    /// Publisher → SFTP: send me every file.
    SftpList { reply_to: Addr },
    /// SFTP → publisher.
    SftpFiles { files: Vec<(String, Arc<[u8]>)> },
    /// Harness → publisher: an operator step.
    Operator(Operator),
    /// Harness → DHCP: phones `first..first+count` now get `option150`.
    DhcpSet {
        first: u32,
        count: u32,
        option150: Vec<String>,
    },
    /// Phone ↔ CAPF over TLS (port 3804): one flight of TLS records of session `session`.
    CapfTls {
        phone: u32,
        session: u64,
        /// The address family the phone connects with (reference seed 003's IPv6 table).
        ipv6: bool,
        bytes: Vec<u8>,
    },
    /// Phone ↔ CAPF without TLS (scenario `tls = "identity"`): CAPF messages in the clear; the
    /// CAPF certificate travels with the server's first message for the phone's identity check.
    CapfPlain {
        phone: u32,
        session: u64,
        ipv6: bool,
        server_cert: Option<Arc<[u8]>>,
        bytes: Vec<u8>,
    },
    /// CAPF → phone: the connection was refused or the TLS handshake failed.
    CapfAbort { session: u64, reason: String },
    /// Phone → CAPF: the phone gave up on this connection and closed it (TCP FIN).
    CapfClose { phone: u32, session: u64 },
    /// CAPF → phone: a transport keepalive on an open session while the phone generates its
    /// key (`utils capf set keep_alive`, 5–60 min, default 15 [C S14]); it keeps a firewall's
    /// idle timer from expiring.
    CapfKeepalive { session: u64 },
    /// CAPF (Cisco Certificate Enrollment Service) → Online CA: enroll a phone's key.
    CaEnroll {
        capf: String,
        phone: u32,
        session: u64,
        params: Arc<crate::capf::ca::OnlineCaParams>,
        request: Arc<crate::capf::ca::EnrollRequest>,
    },
    /// Online CA → CAPF: the certificate (DER), or why not.
    CaAnswer {
        phone: u32,
        session: u64,
        result: Result<Arc<[u8]>, String>,
    },
    /// CAPF → offline CA: the pending requests the administrator exported.
    CaSign {
        capf: String,
        csrs: Arc<Vec<crate::capf::pending::PendingCsr>>,
    },
    /// Offline CA → CAPF: the administrator uploads the signed certificates.
    CapfUpload { certs: Vec<(String, Arc<[u8]>)> },
    /// Publisher → CAPF: export the pending requests to offline CA `ca`.
    CapfExportCsrs { ca: String },
    /// Publisher → CAPF: a `utils capf` command (`csr list`, `stale-lsc list`,
    /// `stale-lsc delete all`); the output goes to the trace.
    CapfCli { command: String },
    /// CAPF → publisher: a device's record after a CAPF session (status, LSC issued).
    CapfRecord(Box<crate::capf::DeviceRecord>),
    /// Publisher → CAPF: the service's settings (certificate, CAPF-trust, issuer mode, model).
    CapfConfig(Arc<crate::machine::config::CapfConfig>),
    /// Publisher → CAPF: device records added or changed (phone page, UDT, BAT).
    CapfDevices(Arc<Vec<crate::capf::DeviceRecord>>),
    /// Publisher → CallManager: certificates a secure registration's LSC may chain to
    /// (CallManager-trust and the cluster's own CAPF).
    CallManagerTrust(Arc<Vec<crate::pki::Certificate>>),
    /// → CallManager: reset every phone registered here (operator "Reset" of the device pool,
    /// or the automatic reset after a certificate update or a rollback parameter change).
    ResetRegistered,
    /// Harness → phone: delete the CTL and ITL (Settings > Security > Reset Security Settings,
    /// or a factory reset), then boot (the fix of F5–F7, F11, F34).
    EraseTrustLists,
    /// Publisher → phone: the user opens an HTTPS service (Corporate Directory, EM, …) served
    /// by the Tomcat of `server`, which presents certificate `cert` (DER) in its TLS handshake
    /// (reference §2.3 item 3; see `machine::phone::https`).
    HttpsOpen { server: String, cert: Arc<[u8]> },
    /// Publisher → TFTP: the node's Tomcat certificate and key on disk changed (regenerated
    /// or uploaded). The TFTP service reads it at its next (re)start only (F29 [C S12]).
    TftpTomcat(Arc<crate::pki::Identity>),
    /// Publisher → phone: download the configuration file over HTTPS from the TFTP service
    /// of `tftp` (secure config download, TCP 6971 [C S19]; see
    /// `machine::phone::tftp_https`). `plain_fallback`: on a failure, fall back to the
    /// plain download (6970/TFTP) [I].
    TftpHttpsOpen { tftp: String, plain_fallback: bool },
    /// Phone → TFTP on its HTTPS config-download port: TLS records of session `session`, or
    /// (`tls = "identity"` scenarios) nothing to open, then the request in the clear.
    TftpHttps {
        phone: u32,
        session: u64,
        bytes: Vec<u8>,
    },
    /// TFTP → phone: TLS records of the HTTPS config-download session; in identity mode the
    /// served certificate travels as `server_cert` and the answer in the clear.
    TftpHttpsReply {
        session: u64,
        bytes: Vec<u8>,
        server_cert: Option<Arc<[u8]>>,
    },
}

impl Msg {
    /// The variant's name (`"TftpReply"`), for labels (the cost meter's `phone/TftpReply`).
    /// A match without a wildcard: a new variant does not compile until it is named here.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::DhcpRequest { .. } => "DhcpRequest",
            Msg::DhcpAck { .. } => "DhcpAck",
            Msg::TftpGet { .. } => "TftpGet",
            Msg::TftpReply { .. } => "TftpReply",
            Msg::TvsTls { .. } => "TvsTls",
            Msg::TvsPlain { .. } => "TvsPlain",
            Msg::TvsPlainReply { .. } => "TvsPlainReply",
            Msg::TvsAbort { .. } => "TvsAbort",
            Msg::Register { .. } => "Register",
            Msg::RegisterAck { .. } => "RegisterAck",
            Msg::CallManagerCert(_) => "CallManagerCert",
            Msg::RegisterAbort { .. } => "RegisterAbort",
            Msg::RegisterReject { .. } => "RegisterReject",
            Msg::Keepalive { .. } => "Keepalive",
            Msg::KeepaliveAck { .. } => "KeepaliveAck",
            Msg::Reset => "Reset",
            Msg::PowerOff => "PowerOff",
            Msg::TftpRebuild(_) => "TftpRebuild",
            Msg::TvsStores(_) => "TvsStores",
            Msg::Service(_) => "Service",
            Msg::SftpPut { .. } => "SftpPut",
            Msg::SftpList { .. } => "SftpList",
            Msg::SftpRemove { .. } => "SftpRemove",
            Msg::SftpFiles { .. } => "SftpFiles",
            Msg::Operator(_) => "Operator",
            Msg::DhcpSet { .. } => "DhcpSet",
            Msg::CapfTls { .. } => "CapfTls",
            Msg::CapfPlain { .. } => "CapfPlain",
            Msg::CapfAbort { .. } => "CapfAbort",
            Msg::CapfClose { .. } => "CapfClose",
            Msg::CapfKeepalive { .. } => "CapfKeepalive",
            Msg::CaEnroll { .. } => "CaEnroll",
            Msg::CaAnswer { .. } => "CaAnswer",
            Msg::CaSign { .. } => "CaSign",
            Msg::CapfUpload { .. } => "CapfUpload",
            Msg::CapfExportCsrs { .. } => "CapfExportCsrs",
            Msg::CapfCli { .. } => "CapfCli",
            Msg::CapfRecord(_) => "CapfRecord",
            Msg::CapfConfig(_) => "CapfConfig",
            Msg::CapfDevices(_) => "CapfDevices",
            Msg::CallManagerTrust(_) => "CallManagerTrust",
            Msg::ResetRegistered => "ResetRegistered",
            Msg::EraseTrustLists => "EraseTrustLists",
            Msg::HttpsOpen { .. } => "HttpsOpen",
            Msg::TftpTomcat(_) => "TftpTomcat",
            Msg::TftpHttpsOpen { .. } => "TftpHttpsOpen",
            Msg::TftpHttps { .. } => "TftpHttps",
            Msg::TftpHttpsReply { .. } => "TftpHttpsReply",
        }
    }

    /// The connection a stream message belongs to: the session id of a TVS, CAPF or
    /// TFTP-HTTPS connection (a firewall tracks these), `None` for everything else.
    pub fn session(&self) -> Option<u64> {
        match self {
            Msg::TvsTls { session, .. }
            | Msg::TvsPlain { session, .. }
            | Msg::TvsPlainReply { session, .. }
            | Msg::TvsAbort { session, .. }
            | Msg::CapfTls { session, .. }
            | Msg::CapfPlain { session, .. }
            | Msg::CapfAbort { session, .. }
            | Msg::CapfClose { session, .. }
            | Msg::CapfKeepalive { session }
            | Msg::TftpHttps { session, .. }
            | Msg::TftpHttpsReply { session, .. } => Some(*session),
            _ => None,
        }
    }

    /// The session of a phone ↔ TVS message (TLS, identity mode or abort), `None` otherwise.
    pub fn tvs_session(&self) -> Option<u64> {
        match self {
            Msg::TvsTls { session, .. }
            | Msg::TvsPlain { session, .. }
            | Msg::TvsPlainReply { session, .. }
            | Msg::TvsAbort { session, .. } => Some(*session),
            _ => None,
        }
    }

    /// Whether the message is a datagram (TFTP on UDP 69, DHCP): the network may reorder
    /// datagrams. Everything else between two endpoints arrives in the order it was sent —
    /// TCP streams, and the publisher's database changes as its services read them (a
    /// later change never lands before an earlier one).
    pub fn datagram(&self) -> bool {
        matches!(
            self,
            Msg::DhcpRequest { .. }
                | Msg::DhcpAck { .. }
                | Msg::TftpGet { .. }
                | Msg::TftpReply { .. }
        )
    }

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
                | Msg::RegisterReject { .. }
                | Msg::CapfTls { .. }
                | Msg::CapfPlain { .. }
                | Msg::CapfAbort { .. }
                | Msg::CapfClose { .. }
                | Msg::CapfKeepalive { .. }
                | Msg::CaEnroll { .. }
                | Msg::CaAnswer { .. }
                | Msg::Keepalive { .. }
                | Msg::KeepaliveAck { .. }
                | Msg::SftpPut { .. }
                | Msg::SftpList { .. }
                | Msg::SftpRemove { .. }
                | Msg::SftpFiles { .. }
                | Msg::TftpHttps { .. }
                | Msg::TftpHttpsReply { .. }
        )
    }
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
    /// Per-device settings written into that device's config (devices not listed:
    /// non-secure, no CAPF operation).
    pub devices: Arc<std::collections::BTreeMap<String, DeviceConfig>>,
    /// Not mixed mode, but the cluster was: `utils ctl set-cluster non-secure-mode` leaves a
    /// CTL whose CCM+TFTP records are blanked [C S7/S8].
    pub non_secure_ctl: bool,
    /// Serve configuration files unsigned and no ITL (`serve_unsigned_configs`, [I]: as a
    /// pre-8.0 TFTP does): what a phone holding the rollback ITL accepts (§2.5, F31).
    pub unsigned_configs: bool,
    /// The node's Tomcat certificate and key as they are on disk now. The TFTP service
    /// loads it when it starts and presents the loaded one on its HTTPS config-download port
    /// until its next (re)start (F29 [C S12]; see `machine::tftp`).
    pub tomcat: Option<crate::pki::Identity>,
}

/// What a device's config file carries besides the cluster-wide lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceConfig {
    /// `<deviceSecurityMode>`, from the device's Phone Security Profile.
    pub security_mode: crate::sgn::SecurityMode,
    /// `<capfAuthMode>`: set while a CAPF operation is pending [I: the reference does not say
    /// whether CUCM writes it otherwise].
    pub capf_auth_mode: crate::sgn::CapfAuthMode,
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
    pub model: crate::machine::config::TvsModel,
    /// Restart the TVS process to read these at once (a regeneration of a certificate TVS
    /// serves, or a DRS restore); otherwise they wait for the next restart.
    pub restart: bool,
    /// The publisher's change counter: a TVS ignores stores older than those it has.
    pub revision: u64,
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
