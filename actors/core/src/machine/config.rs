//! What the publisher configures its services with, as it travels on the bus
//! ([`super::msg::Msg::CapfConfig`], [`super::msg::TvsStores`]): the TVS and CAPF capacity
//! models and the CAPF's certificate issuer. Plain data, so the message types and the
//! services both depend on it and not on each other.

use crate::capf::ca::OnlineCaParams;
use crate::capf::CapfSettings;
use crate::tlv::content::CucmVersion;
use std::sync::Arc;

/// The TVS process's capacity in virtual time. Cisco publishes no TVS throughput (reference
/// §5: UNKNOWN), so every figure here is [I] and a scenario setting (`[cluster.tvs]`). The
/// defaults keep small scenarios close to an instant TVS: a session costs 2.2 ms of one of
/// four workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TvsModel {
    /// Jobs processed in parallel (at least 1).
    pub workers: u32,
    /// Jobs waiting for a worker; a new session arriving while this many wait is refused.
    pub queue_limit: u32,
    /// The server's cost of a full TLS handshake, µs (charged in identity mode too, so both
    /// modes load the TVS alike).
    pub handshake_us: u64,
    /// Lookup and answer of one request, µs.
    pub query_us: u64,
}

impl Default for TvsModel {
    fn default() -> Self {
        TvsModel {
            workers: 4,
            queue_limit: 1000,
            handshake_us: 2_000,
            query_us: 200,
        }
    }
}

/// The CAPF process's capacity and timers in virtual time (`[cluster.capf]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapfModel {
    /// Sessions open at once; 0 = unlimited, as usecallmanager's `capfd --limit` defaults
    /// [OSS] (CUCM publishes none) [I].
    pub max_sessions: u32,
    /// Connections waiting for a session slot; one arriving when this many wait is refused.
    pub queue_limit: u32,
    /// CPU workers for handshakes and issuance [I].
    pub workers: u32,
    /// The server's cost of a TLS handshake, µs [I].
    pub handshake_us: u64,
    /// Issuing (signing) one LSC, µs [I].
    pub issue_us: u64,
    /// A session that hears nothing from its phone this long is aborted (key generation
    /// timeout; CME's default 30 min [C S22], CUCM's unpublished [I]).
    pub keygen_timeout_ms: u64,
    /// `utils capf set keep_alive`: 5–60 min, default 15 [C S14].
    pub keepalive_ms: u64,
}

impl Default for CapfModel {
    fn default() -> Self {
        CapfModel {
            max_sessions: 0,
            queue_limit: 100_000,
            workers: 2,
            handshake_us: 2_000,
            issue_us: 2_000,
            keygen_timeout_ms: 30 * 60_000,
            keepalive_ms: 15 * 60_000,
        }
    }
}

/// The service parameter "Certificate Issuer to Endpoint" [C S14].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Issuer {
    /// "Cisco Certificate Authority Proxy Function": CAPF signs (the default).
    #[default]
    Capf,
    /// "Online CA": the Cisco Certificate Enrollment Service enrolls with a Microsoft CA.
    OnlineCa(Arc<OnlineCaParams>),
    /// "Offline CA": requests wait as pending CSRs for the administrator to get signed.
    OfflineCa,
}

/// What the publisher gives its CAPF service.
#[derive(Clone, Debug)]
pub struct CapfConfig {
    /// The cluster (its publisher keeps the device records' copy of record).
    pub cluster: String,
    pub issuer: Issuer,
    pub settings: Arc<CapfSettings>,
    pub version: CucmVersion,
    pub model: CapfModel,
    /// Enterprise parameter "Enable IPv6": when false, CAPF refuses phones connecting over
    /// IPv6 (seed 003: it "ignores or refuses" them; refusing is [I]).
    pub ipv6_enabled: bool,
}
