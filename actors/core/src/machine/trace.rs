//! The typed trace: what a participant saw or did, one [`Observation`] at a time.
//!
//! ```text
//!  machine ──Effect::Observe(Observation { t_ms, who, event })──► bus ──► ordered trace
//!                                                                          ├─ trace hash (`t|who|what|detail`)
//!                                                                          ├─ invariants (read `Event`s)
//!                                                                          └─ report.json / --trace (what + detail)
//! ```
//! Every observation has a [`Kind`] — its machine-readable name (`tvs_answer`,
//! `trust_list_installed`, …), the name scenario expectations use — and an [`Event`]: a typed
//! payload where something downstream reads it (the trust path of an install, a TVS verdict, an
//! LSC serial, the cluster a phone registered with), free text where only people read it.
//! `Display` of an event is its `detail` text, byte for byte what the trace has always
//! carried, so the trace hash's canonical form `t_ms|who|what|detail` is unchanged.

use crate::phone::trust::{FileKind, TrustError, TrustPath};
use crate::wall::Now;
use crate::wall::WallTime;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The name of an observation, as scenario expectations and `report.json` spell it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $($(#[$doc])* $variant,)*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The name (`tvs_answer`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// The kind of a name, if it is one.
            pub fn from_name(name: &str) -> Option<Kind> {
                match name {
                    $($name => Some(Kind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    // ---- phones: boot pipeline, trust lists, TVS
    /// A phone's status string changed.
    State = "state",
    TrustListsErased = "trust_lists_erased",
    TrustListInstalled = "trust_list_installed",
    TrustListRejected = "trust_list_rejected",
    TvsQuery = "tvs_query",
    TvsAnswer = "tvs_answer",
    TvsTimeout = "tvs_timeout",
    ConfigAccepted = "config_accepted",
    ConfigRejected = "config_rejected",
    ConfigHttpsOk = "config_https_ok",
    ConfigHttpsFailed = "config_https_failed",
    ConfigHttpsFallback = "config_https_fallback",
    ConfigHttpsSkipped = "config_https_skipped",
    ConfigPlainOk = "config_plain_ok",
    ConfigPlainFailed = "config_plain_failed",
    TftpHttpsCert = "tftp_https_cert",
    TlsFailure = "tls_failure",
    // ---- phones: registration
    Registered = "registered",
    RegistrationRejected = "registration_rejected",
    RegisterRetry = "register_retry",
    KeepaliveMissed = "keepalive_missed",
    Unregistered = "unregistered",
    PowerFailure = "power_failure",
    ItlReset = "itl_reset",
    // ---- phones: HTTPS services
    HttpsOk = "https_ok",
    HttpsFailed = "https_failed",
    HttpsSkipped = "https_skipped",
    HttpsTvsVerify = "https_tvs_verify",
    // ---- phones and CAPF: LSCs
    CapfStart = "capf_start",
    CapfNote = "capf_note",
    CapfRetry = "capf_retry",
    CapfTimeout = "capf_timeout",
    CapfConnectFailed = "capf_connect_failed",
    CapfFailed = "capf_failed",
    CapfDone = "capf_done",
    CapfRefused = "capf_refused",
    CapfScheduled = "capf_scheduled",
    CapfSession = "capf_session",
    CapfStatus = "capf_status",
    LscIssued = "lsc_issued",
    LscInstalled = "lsc_installed",
    LscDeleted = "lsc_deleted",
    LscExpired = "lsc_expired",
    LscExpiryNotice = "lsc_expiry_notice",
    StaleLsc = "stale_lsc",
    CsrPending = "csr_pending",
    CsrExported = "csr_exported",
    CsrUploaded = "csr_uploaded",
    // ---- external CAs
    CaEnroll = "ca_enroll",
    CaSigned = "ca_signed",
    CaRefused = "ca_refused",
    CaCertificateUploaded = "ca_certificate_uploaded",
    // ---- TVS, TFTP, CallManager services
    TvsRefused = "tvs_refused",
    TvsCertNotFound = "tvs_cert_not_found",
    TftpRebuilt = "tftp_rebuilt",
    TftpTomcatLoaded = "tftp_tomcat_loaded",
    CtlBuilt = "ctl_built",
    Service = "service",
    ServiceStarted = "service_started",
    ServiceStopped = "service_stopped",
    ServiceRestarted = "service_restarted",
    // ---- the publisher: operator steps and certificate lifecycle
    Operator = "operator",
    OperatorError = "operator_error",
    Cli = "cli",
    CertificateRegenerated = "certificate_regenerated",
    CertificateChange = "certificate_change",
    PhonesReset = "phones_reset",
    TrustCertificateDeleted = "trust_certificate_deleted",
    TrustCertificateNotFound = "trust_certificate_not_found",
    BulkConsolidated = "bulk_consolidated",
    BulkImported = "bulk_imported",
    BulkImportFailed = "bulk_import_failed",
    CtlUpdate = "ctl_update",
    CtlSetCluster = "ctl_set_cluster",
    CtlProvider = "ctl_provider",
    DrsBackup = "drs_backup",
    DrsRestore = "drs_restore",
    MultiSanCsr = "multi_san_csr",
    MultiSanDistributed = "multi_san_distributed",
    MultiSanActive = "multi_san_active",
    MultiSanRestartNeeded = "multi_san_restart_needed",
    SanLacksCn = "san_lacks_cn",
    SelfSignedNotDeleted = "self_signed_not_deleted",
    // ---- IM&P and Jabber
    PresenceHa = "presence_ha",
    ImpRestartEarly = "imp_restart_early",
    IpsecTrustOk = "ipsec_trust_ok",
    IpsecTrustMismatch = "ipsec_trust_mismatch",
    SipFederation = "sip_federation",
    JabberCertificateInstalled = "jabber_certificate_installed",
    JabberCertificateWarning = "jabber_certificate_warning",
    JabberSignedIn = "jabber_signed_in",
    // ---- the harness
    /// A scenario event the harness delivered.
    Event = "event",
    /// An operator step's effects landed on the servers (or the wait for them gave up).
    StepDone = "step_done",
    /// A supervised shell stopped with an error.
    ActorFailed = "actor_failed",
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a phone refused a file: a trust rule, or something it could not read or reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The trust rules said no (reference §2.3).
    Trust(TrustError),
    /// A TVS had to vouch and none of the config's TVS could be asked.
    NoTvsLeft(Box<Refusal>),
    /// Anything else (an unreadable file or answer), as the phone words it.
    Other(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Trust(e) => write!(f, "{e}"),
            Refusal::NoTvsLeft(why) => write!(f, "{why} (no TVS left to ask)"),
            Refusal::Other(text) => f.write_str(text),
        }
    }
}

impl From<&str> for Refusal {
    fn from(text: &str) -> Refusal {
        Refusal::Other(text.to_string())
    }
}

impl From<String> for Refusal {
    fn from(text: String) -> Refusal {
        Refusal::Other(text)
    }
}

/// The file kind as the trace names it.
pub fn file_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Ctl => "CTL",
        FileKind::Itl => "ITL",
        FileKind::Config => "config",
    }
}

/// A certificate's validity window and the accepting host's wall time when it accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: WallTime,
    pub not_after: WallTime,
    /// The accepting host's own (possibly skewed) clock.
    pub at: WallTime,
}

impl Validity {
    /// `cert`'s window, accepted at `at`.
    pub fn of(cert: &crate::pki::Certificate, at: WallTime) -> Validity {
        Validity {
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            at,
        }
    }
}

/// What happened, typed where something reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A phone entered a status (`Registered`, `Trust List update failed`, …).
    State { status: &'static str },
    /// A phone installed a CTL or ITL, and how it trusted its signer.
    TrustListInstalled { file: FileKind, path: TrustPath },
    /// A phone refused a CTL or ITL and kept its old trust.
    TrustListRejected {
        file: FileKind,
        reason: Refusal,
        /// The refused file's signer as its header names it (`CN=… serial …`), when the
        /// file could be read.
        signer: Option<String>,
    },
    /// A phone asked a TVS to vouch for the signer of a file.
    TvsQuery { file: FileKind, tvs_host: String },
    /// A phone got a TVS's answer about a file's signer; in TLS mode, with the TVS
    /// certificate it accepted in the handshake.
    TvsAnswer {
        file: FileKind,
        valid: bool,
        tvs_cert: Option<Validity>,
    },
    /// A TVS looked a certificate up for a phone: its directory's verdict, and whether the
    /// stores it loaded hold the certificate it vouched for (a plain scan, as evidence).
    TvsLookup { phone: u32, found: bool, held: bool },
    /// A phone accepted its signed configuration file.
    ConfigAccepted { path: TrustPath },
    /// A phone refused its configuration file.
    ConfigRejected { reason: Refusal },
    /// A phone registered with a CallManager of `cluster`.
    Registered { cluster: String },
    /// CAPF issued an LSC to `device`.
    LscIssued { device: String, serial_hex: String },
    /// A phone installed an LSC.
    LscInstalled {
        serial_hex: String,
        issuer_cn: String,
        family: String,
        validity: Validity,
    },
    /// A CAPF device record changed status.
    CapfStatus { device: String, status: String },
    /// An external CA answered a CAPF enrollment: `Ok` issued, `Err` refused and why.
    CaEnroll {
        device: String,
        result: Result<(), String>,
    },
    /// A supervised shell stopped with an error.
    ActorFailed { error: String },
    /// Everything else: a kind and words for people.
    Note { kind: Kind, text: String },
}

impl Event {
    /// A free-text observation of `kind`.
    pub fn note(kind: Kind, text: impl Into<String>) -> Event {
        Event::Note {
            kind,
            text: text.into(),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Event::State { .. } => Kind::State,
            Event::TrustListInstalled { .. } => Kind::TrustListInstalled,
            Event::TrustListRejected { .. } => Kind::TrustListRejected,
            Event::TvsQuery { .. } => Kind::TvsQuery,
            Event::TvsAnswer { .. } | Event::TvsLookup { .. } => Kind::TvsAnswer,
            Event::ConfigAccepted { .. } => Kind::ConfigAccepted,
            Event::ConfigRejected { .. } => Kind::ConfigRejected,
            Event::Registered { .. } => Kind::Registered,
            Event::LscIssued { .. } => Kind::LscIssued,
            Event::LscInstalled { .. } => Kind::LscInstalled,
            Event::CapfStatus { .. } => Kind::CapfStatus,
            Event::CaEnroll { .. } => Kind::CaEnroll,
            Event::ActorFailed { .. } => Kind::ActorFailed,
            Event::Note { kind, .. } => *kind,
        }
    }
}

/// The `detail` text: exactly what the trace carried before it was typed.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::State { status } => f.write_str(status),
            Event::TrustListInstalled { file, path } => {
                write!(f, "{} via {path:?}", file_name(*file))
            }
            Event::TrustListRejected {
                file,
                reason,
                signer,
            } => {
                write!(f, "{}: {reason}", file_name(*file))?;
                match signer {
                    Some(s) => write!(f, " [signed by {s}]"),
                    None => Ok(()),
                }
            }
            Event::TvsQuery { file, tvs_host } => {
                write!(f, "{} signer to tvs@{tvs_host}", file_name(*file))
            }
            Event::TvsAnswer { file, valid, .. } => {
                write!(f, "{} valid={valid}", file_name(*file))
            }
            Event::TvsLookup { phone, found, .. } => write!(f, "phone#{phone} found={found}"),
            Event::ConfigAccepted { path } => write!(f, "{path:?}"),
            Event::ConfigRejected { reason } => write!(f, "{reason}"),
            Event::Registered { cluster } => f.write_str(cluster),
            Event::LscIssued { device, serial_hex } => write!(f, "{device}: serial {serial_hex}"),
            Event::LscInstalled {
                serial_hex,
                issuer_cn,
                family,
                ..
            } => {
                write!(f, "serial {serial_hex} from {issuer_cn} over {family}")
            }
            Event::CapfStatus { device, status } => write!(f, "{device}: {status}"),
            Event::CaEnroll {
                device,
                result: Ok(()),
            } => write!(f, "{device}: issued"),
            Event::CaEnroll {
                device,
                result: Err(why),
            } => write!(f, "{device}: {why}"),
            Event::ActorFailed { error } => f.write_str(error),
            Event::Note { text, .. } => f.write_str(text),
        }
    }
}

/// One line of the trace: when, who, and what happened. Ordered logs of these are hashed into
/// the run's `trace_hash` in the form `t_ms|who|what|detail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Virtual time in ms.
    pub t_ms: u64,
    /// The observing participant (`SEP<MAC>`, `tvs@host`, …).
    pub who: String,
    pub event: Event,
}

impl Observation {
    /// An observation of `event` by `who` at `now`.
    pub fn new(now: Now, who: &str, event: Event) -> Observation {
        Observation {
            t_ms: now.mono_ms,
            who: who.to_string(),
            event,
        }
    }

    /// A free-text observation.
    pub fn note(now: Now, who: &str, kind: Kind, text: impl Into<String>) -> Observation {
        Observation::new(now, who, Event::note(kind, text))
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.event.kind()
    }

    /// Its name (`what` in reports and expectations).
    pub fn what(&self) -> &'static str {
        self.event.kind().name()
    }

    /// Its detail text.
    pub fn detail(&self) -> String {
        self.event.to_string()
    }

    /// Whether the observer is a phone (`SEP<MAC>`).
    pub fn by_phone(&self) -> bool {
        self.who.starts_with("SEP")
    }
}

/// `{t_ms, who, what, detail}`, as `report.json` and `--trace` have always written it.
impl Serialize for Observation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Observation", 4)?;
        st.serialize_field("t_ms", &self.t_ms)?;
        st.serialize_field("who", &self.who)?;
        st.serialize_field("what", self.what())?;
        st.serialize_field("detail", &self.detail())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(*k));
            assert!(seen.insert(k.name()), "{} twice", k.name());
        }
        assert_eq!(Kind::from_name("tvs_answr"), None);
    }

    #[test]
    fn details_keep_their_historic_text() {
        let e = Event::TrustListInstalled {
            file: FileKind::Itl,
            path: TrustPath::Tvs { cached: false },
        };
        assert_eq!(e.to_string(), "ITL via Tvs { cached: false }");
        let e = Event::TvsAnswer {
            file: FileKind::Ctl,
            valid: true,
            tvs_cert: None,
        };
        assert_eq!(e.to_string(), "CTL valid=true");
        let r = Refusal::NoTvsLeft(Box::new(Refusal::Trust(TrustError::TvsDenied)));
        assert_eq!(
            Event::TrustListRejected {
                file: FileKind::Itl,
                reason: r,
                signer: None,
            }
            .to_string(),
            "ITL: TVS answered that the signer is not valid (no TVS left to ask)"
        );
    }
}
