//! What the phone is doing and when it gives up waiting: the status strings a report shows
//! (reference §2.4 / S18), the pipeline [`State`], the [`PhoneTimers`] and the timer tokens.
//!
//! ```text
//!  Off ─► Dhcp ─► Fetch{CTL, ITL, config} ⇄ Tvs(wait) ─► Registering ─► Registered
//!                                 │                    └► Enrolling (secure profile, no LSC)
//!                                 └──────────────► Failed{status}
//! ```
//! A timer token is `(generation << 8) | kind`: a timer of an older boot or registration is
//! stale. CAPF timers carry the CAPF connection number instead ([`T_CAPF`] and up).

use super::tvs_query::TvsQuery;
use crate::phone::trust::FileKind;
use crate::tlv::parse::Header;
use crate::tlv::TrustList;
use std::sync::Arc;

pub const OFF: &str = "Off";
pub const BOOTING: &str = "Booting";
pub const DOWNLOADING: &str = "Downloading";
pub const VERIFYING: &str = "Verifying via TVS";
pub const REGISTERING: &str = "Registering";
pub const REGISTERED: &str = "Registered";
pub const TRUST_LIST_UPDATE_FAILED: &str = "Trust List update failed";
pub const CONFIG_AUTH_FAILED: &str = "Config file authentication failed";
pub const TFTP_TIMEOUT: &str = "TFTP Timeout";
pub const REGISTRATION_FAILED: &str = "Registration failed";
/// An authenticated/encrypted profile without an LSC: the phone does not register until
/// its CAPF session ends [C S14]; the wording is [I].
pub const ENROLLING: &str = "Waiting for LSC";
/// That CAPF session failed: no LSC, no secure registration ([I] wording).
pub const LSC_FAILED: &str = "LSC enrollment failed";
/// Every state a report may list, in pipeline order.
pub const ALL: [&str; 12] = [
    OFF,
    BOOTING,
    DOWNLOADING,
    VERIFYING,
    REGISTERING,
    REGISTERED,
    TRUST_LIST_UPDATE_FAILED,
    CONFIG_AUTH_FAILED,
    TFTP_TIMEOUT,
    REGISTRATION_FAILED,
    ENROLLING,
    LSC_FAILED,
];

/// Timeouts of the pipeline and the registration keepalive, in virtual ms. Cisco publishes
/// none of them in the reference: [I], settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneTimers {
    pub dhcp_ms: u64,
    pub tftp_ms: u64,
    pub tvs_ms: u64,
    pub register_ms: u64,
    /// Keepalive interval while registered; 0 = no keepalives (the default). The reference
    /// is silent on it [I]; real SCCP phones default to 30 s, SIP phones refresh REGISTER.
    pub keepalive_ms: u64,
    /// A keepalive not acked within this long counts as missed [I] (must not exceed the
    /// interval; the scenario default is min(interval, 10 s)).
    pub keepalive_timeout_ms: u64,
    /// Keepalives missed in a row before the phone unregisters and registers again [I].
    pub keepalive_misses: u32,
    /// After every CallManager of its group refused or did not answer, wait this long and
    /// start again from the first, staying "Registering" (the phone's "Phone is
    /// registering", F12); 0 = give up with "Registration failed" (the default). Real phones
    /// keep retrying their CallManager group; the interval is unpublished [I].
    pub register_retry_ms: u64,
}

impl Default for PhoneTimers {
    fn default() -> Self {
        PhoneTimers {
            dhcp_ms: 10_000,
            tftp_ms: 10_000,
            tvs_ms: 10_000,
            register_ms: 10_000,
            keepalive_ms: 0,
            keepalive_timeout_ms: 10_000,
            keepalive_misses: 3,
            register_retry_ms: 0,
        }
    }
}

/// What the phone is doing. One state, one struct: each wait holds what it needs.
#[derive(Debug)]
pub enum State {
    Off,
    Dhcp,
    Fetch {
        kind: FileKind,
        tftp: String,
    },
    Tvs(Box<TvsWait>),
    Registering {
        cm_ix: usize,
    },
    Registered(Registration),
    /// A secure profile waits for its LSC before registering.
    Enrolling,
    Failed {
        status: &'static str,
    },
}

impl State {
    /// The status a report shows for this state.
    pub fn status(&self) -> &'static str {
        match self {
            State::Off => OFF,
            State::Dhcp => BOOTING,
            State::Fetch { .. } => DOWNLOADING,
            State::Tvs(_) => VERIFYING,
            State::Registering { .. } => REGISTERING,
            State::Registered(_) => REGISTERED,
            State::Enrolling => ENROLLING,
            State::Failed { status } => status,
        }
    }
}

/// A registration with a CallManager, and its keepalives.
#[derive(Debug)]
pub struct Registration {
    pub cluster: String,
    /// The CallManager host the phone registered with.
    pub host: String,
    /// Number of the last keepalive sent (0: none yet).
    pub seq: u32,
    /// When the last keepalive left, while it waits for its ack.
    pub outstanding_ms: Option<u64>,
    /// Keepalives missed in a row.
    pub misses: u32,
}

/// A file waiting for a TVS verdict on its signer.
#[derive(Debug)]
pub struct TvsWait {
    /// The query to the TVS servers of the config.
    pub query: TvsQuery,
    pub kind: FileKind,
    pub raw: Arc<[u8]>,
    pub header: Header,
    pub list: Option<Arc<TrustList>>,
}

pub(super) const T_DHCP: u64 = 1;
pub(super) const T_TFTP: u64 = 2;
pub(super) const T_TVS: u64 = 3;
pub(super) const T_REGISTER: u64 = 4;
pub(super) const T_KEEPALIVE: u64 = 5;
pub(super) const T_KEEPALIVE_DEADLINE: u64 = 6;
pub(super) const T_HTTPS: u64 = 7;
pub(super) const T_TFTP_HTTPS: u64 = 8;
pub(super) const T_REGISTER_RETRY: u64 = 9;
// CAPF timers carry the connection number (`capf_seq`) instead of the boot generation.
pub(super) const T_CAPF: u64 = 16;
pub(super) const T_CAPF_KEYGEN: u64 = 17;
pub(super) const T_CAPF_RETRY: u64 = 18;
