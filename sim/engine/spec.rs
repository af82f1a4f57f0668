//! What the engine runs: the world and its timed events, already resolved (names to hosts,
//! fleets to phone id ranges). The scenario language compiles to this.

use cucmsim_actors::{Group, LinkRule};
use cucmsim_core::capf::ca::OnlineCaSettings;
use cucmsim_core::machine::capf::CapfModel;
use cucmsim_core::machine::tvs::TvsModel;
use cucmsim_core::machine::Enterprise;
use cucmsim_core::machine::{Operator, ServiceAction};
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::sgn::SecurityMode;
use cucmsim_core::tlv::content::CucmVersion;
use cucmsim_core::WallTime;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// CUCM services a node may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    CallManager,
    Tftp,
    Tvs,
    Capf,
    CtlProvider,
}

/// A node.
#[derive(Clone, Debug)]
pub struct NodeDef {
    pub name: String,
    pub ip: Option<Ipv4Addr>,
    pub services: BTreeSet<Service>,
    pub imp: bool,
}

/// A cluster.
#[derive(Clone, Debug)]
pub struct ClusterDef {
    pub name: String,
    pub version: CucmVersion,
    pub mixed_mode: bool,
    pub key: KeyProfile,
    pub domain: String,
    pub enterprise: Enterprise,
    /// The service model of every TVS process of the cluster ([I] defaults).
    pub tvs: TvsModel,
    /// The CAPF service (`[cluster.capf]` and the CAPF enterprise parameters).
    pub capf: CapfDef,
    /// `nodes[0]` is the publisher.
    pub nodes: Vec<NodeDef>,
}

/// The name under which uploads find Cisco's manufacturing CA (the MICs' issuer).
pub const MIC_CA: &str = "Cisco Manufacturing CA";

/// A certificate authority outside CUCM (scenario `[[ca]]`).
#[derive(Clone, Debug)]
pub struct CaDef {
    /// Its name; an Online CA is reached at its hostname.
    pub name: String,
    pub kind: CaKindDef,
}

#[derive(Clone, Debug)]
pub enum CaKindDef {
    Online(OnlineCaSettings),
    Offline,
}

/// "Certificate Issuer to Endpoint" of a cluster's CAPF.
#[derive(Clone, Debug, Default)]
pub enum IssuerDef {
    #[default]
    Capf,
    /// Online CA `ca`, with CAPF's service parameters (`None`: what the CA expects).
    Online {
        ca: String,
        hostname: Option<String>,
        port: Option<u16>,
        template: Option<String>,
        username: Option<String>,
        password: Option<String>,
    },
    Offline {
        ca: String,
    },
}

/// How a cluster's CAPF is set up.
#[derive(Clone, Debug)]
pub struct CapfDef {
    pub model: CapfModel,
    /// "Duration Of Certificate Validity (in days)", 1–1825.
    pub validity_days: u32,
    /// "LSC issued once" [OSS S4] (default off).
    pub issue_once: bool,
    /// The CAPF certificate lacks keyCertSign (and pathlen:0), as older ones could: from
    /// 14SU2 the TLS connection to 3804 fails (F13).
    pub legacy_certificate: bool,
    /// The address families CAPF listens on (v4, v6).
    pub addresses: (bool, bool),
    /// Enterprise parameter "Enable IPv6".
    pub ipv6_enabled: bool,
    /// Enterprise parameter "Endpoint Advanced Encryption Algorithms Support" (F16).
    pub advanced_algorithms: bool,
    pub issuer: IssuerDef,
}

impl Default for CapfDef {
    fn default() -> Self {
        CapfDef {
            model: CapfModel::default(),
            validity_days: 1825,
            issue_once: false,
            legacy_certificate: false,
            addresses: (true, false),
            ipv6_enabled: false,
            advanced_algorithms: false,
            issuer: IssuerDef::Capf,
        }
    }
}

/// A fleet's CAPF side.
#[derive(Clone, Debug, Default)]
pub struct FleetCapf {
    /// The authentication string typed on the phones.
    pub auth_string: Option<String>,
    /// The phones know the unique per-device strings BAT generated.
    pub unique_auth_string: bool,
    /// CAPFv3 endpoints (EC keys possible).
    pub capf_v3: bool,
    /// Key generation time for every key, overriding the per-key defaults.
    pub keygen_ms: Option<u64>,
    /// Address families CAPF is tried over, in order (`true` = IPv6), or why none works.
    pub families: Option<Result<Vec<bool>, String>>,
}

/// Registration keepalives of a fleet [I]: every `interval_ms` while registered; a keepalive
/// not acked within `timeout_ms` is missed; `misses` in a row unregister the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub misses: u32,
}

impl Keepalive {
    /// Keepalives every `interval_ms` with the [I] defaults: timeout min(interval, 10 s),
    /// three misses in a row.
    pub fn every(interval_ms: u64) -> Keepalive {
        Keepalive {
            interval_ms,
            timeout_ms: interval_ms.min(10_000),
            misses: 3,
        }
    }
}

/// A fleet of phones: ids `first..first + count`.
#[derive(Clone, Debug)]
pub struct FleetDef {
    pub name: String,
    pub first: u32,
    pub count: u32,
    pub model: String,
    pub mac_start: u64,
    /// Index into `WorldSpec::clusters`: where the phones start.
    pub cluster: usize,
    pub key: KeyProfile,
    /// Registration keepalives (`None`: none, the default).
    pub keepalive: Option<Keepalive>,
    /// After the whole CallManager group failed, start again after this long, still
    /// "Registering" (0: give up, "Registration failed") [I].
    pub register_retry_ms: u64,
    /// The Phone Security Profile's mode.
    pub security: SecurityMode,
    pub capf: FleetCapf,
    /// What the model handles: ITL size, RSA key length, file digests (F9, F27, F28).
    pub caps: cucmsim_core::phone::caps::PhoneCaps,
}

/// A timed event the director carries out.
#[derive(Clone, Debug)]
pub enum Event {
    /// An operator step on a cluster's publisher.
    Operator { cluster: String, op: Operator },
    /// Phones `first..first+count` get a new option 150.
    Option150 {
        first: u32,
        count: u32,
        tftp: Vec<String>,
    },
    /// Reset phones by id range, each at an instant drawn from the seed within `over_ms`
    /// (0: all at once).
    ResetPhones {
        first: u32,
        count: u32,
        over_ms: u64,
    },
    /// Reset every phone registered with a cluster.
    ResetCluster { cluster: String },
    /// Stop, start or restart a service on a host.
    Service {
        host: String,
        service: Service,
        action: ServiceAction,
    },
    /// Skew the wall clock of a group of hosts.
    Skew { group: Group, secs: i64 },
    /// Upload certificate `which` (`root` or `issuing`) of CA `ca` to `store` on `cluster`.
    UploadCa {
        cluster: String,
        store: cucmsim_core::pki::StoreName,
        ca: String,
        which: String,
    },
    /// Power failure of phones `first..first+count` (they stay off until a `ResetPhones`).
    PowerOff { first: u32, count: u32 },
    /// Upload certificate `cert_type` of `owner`'s node `node` to `store` on `cluster`.
    Upload {
        cluster: String,
        store: cucmsim_core::pki::StoreName,
        owner: String,
        node: String,
        cert_type: cucmsim_core::pki::identity::CertType,
    },
    /// Phones `first..first+count` delete their CTL and ITL and boot.
    EraseTrust { first: u32, count: u32 },
}

/// How phones talk to TVS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// A real TLS handshake over the bus (the default).
    Full,
    /// The TVS certificate is checked against the ITL without a handshake (very large runs).
    Identity,
}

/// Everything the engine needs.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    pub name: String,
    pub seed: u64,
    pub duration_ms: u64,
    pub epoch: WallTime,
    /// Phones power on spread over this window.
    pub phone_boot_ms: u64,
    pub tls: TlsMode,
    pub clusters: Vec<ClusterDef>,
    pub fleets: Vec<FleetDef>,
    /// Certificate authorities outside the clusters.
    pub cas: Vec<CaDef>,
    /// Events, sorted by time.
    pub events: Vec<(u64, Event)>,
    /// `operator[i]`: event `i` is an operator step (from a `[[step]]`), carried out one after
    /// another once the previous step's effects have landed; the others (faults) happen at
    /// their instant. Missing entries are faults.
    pub operator: Vec<bool>,
    /// How long the operator waits for a step's effects to land before going on [I].
    pub operator_wait_ms: u64,
    pub link_rules: Vec<LinkRule>,
    /// Phones' generated CAPF keys come from a pool of this many per key type (0: each
    /// phone its own) [I].
    pub phone_key_pool: u32,
    /// LAN latency: base and jitter, ms [I]. The base is the lookahead of the parallel
    /// windows (`check` refuses less than 1 ms).
    pub latency_ms: (u64, u64),
    /// Worker threads that run it (0: every core). Execution only: the trace is the same at
    /// any count.
    pub threads: usize,
}

impl WorldSpec {
    /// How long the operator waits for a step's effects by default: 5 min [I] (the reference
    /// is silent; a page that has not come back after five minutes is given up on).
    pub const OPERATOR_WAIT_MS: u64 = 300_000;

    /// Whether event `i` is an operator step.
    pub fn is_operator_step(&self, i: usize) -> bool {
        self.operator.get(i).copied().unwrap_or(false)
    }

    /// Total phones.
    pub fn phone_count(&self) -> u32 {
        self.fleets.iter().map(|f| f.count).sum()
    }

    /// The fleet of phone `id`.
    pub fn fleet_of(&self, id: u32) -> Option<&FleetDef> {
        self.fleets
            .iter()
            .find(|f| id >= f.first && id < f.first + f.count)
    }

    /// The hosts of a cluster's nodes running `service`, in node order.
    pub fn hosts_with(&self, cluster: usize, service: Service) -> Vec<String> {
        self.clusters
            .get(cluster)
            .map(|c| {
                c.nodes
                    .iter()
                    .filter(|n| n.services.contains(&service))
                    .map(|n| n.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
