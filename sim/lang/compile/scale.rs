//! How `--phones` scales expectation counts: counts of phones (and of what each phone does)
//! follow the phone counts, counts of what operators and services do do not, and
//! `absolute = true` keeps any count as written.
//!
//! ```text
//!  phones / capf_status, fleet f   n ──► round(n × actual_f ÷ declared_f)
//!  phones / capf_status, no fleet  n ──► round(n × Σ actual ÷ Σ declared)
//!  observation of a phone's kind   n ──► the same (a fleet's ratio with `fleet`)
//!  observation of any other kind, or absolute = true   n ──► n
//! ```

use crate::engine::FleetDef;
use crate::lang::raw::{self, S};
use cucmsim_core::machine::Kind;

/// Declared and actual phone counts, per fleet and in all.
pub(super) struct Scale {
    /// `(fleet name, declared, actual)`; empty without `--phones`.
    fleets: Vec<(String, u64, u64)>,
}

impl Scale {
    pub(super) fn new(raw: &[S<raw::Fleet>], fleets: &[FleetDef], scaled: bool) -> Scale {
        let fleets = if scaled {
            raw.iter()
                .zip(fleets)
                .map(|(r, f)| {
                    let declared = (*r.get_ref().count.get_ref()).max(0) as u64;
                    (f.name.clone(), declared, u64::from(f.count))
                })
                .collect()
        } else {
            vec![]
        };
        Scale { fleets }
    }

    /// `n` scaled as a count of phones of `fleet` (or of every fleet).
    pub(super) fn phones(&self, n: u64, fleet: Option<&str>) -> u64 {
        if self.fleets.is_empty() {
            return n;
        }
        let (declared, actual) = match fleet.and_then(|f| self.fleets.iter().find(|x| x.0 == f)) {
            Some((_, d, a)) => (*d, *a),
            None => self
                .fleets
                .iter()
                .fold((0, 0), |(d, a), x| (d + x.1, a + x.2)),
        };
        if declared == 0 {
            return n;
        }
        let scaled =
            (u128::from(n) * u128::from(actual) + u128::from(declared) / 2) / u128::from(declared);
        u64::try_from(scaled).unwrap_or(u64::MAX)
    }
}

/// Whether observations of `kind` come once per phone (a phone's trust lists, TVS queries,
/// registrations, CAPF sessions and LSCs, a CA's enrollment of a phone), so their counts
/// scale with `--phones`; operator steps, services, the publisher and IM&P do not.
pub(super) fn per_phone(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        State
            | TrustListsErased
            | TrustListInstalled
            | TrustListRejected
            | TvsQuery
            | TvsAnswer
            | TvsTimeout
            | ConfigAccepted
            | ConfigRejected
            | ConfigHttpsOk
            | ConfigHttpsFailed
            | ConfigHttpsFallback
            | ConfigHttpsSkipped
            | ConfigPlainOk
            | ConfigPlainFailed
            | TftpHttpsCert
            | TlsFailure
            | Registered
            | RegistrationRejected
            | RegisterRetry
            | KeepaliveMissed
            | Unregistered
            | PowerFailure
            | ItlReset
            | HttpsOk
            | HttpsFailed
            | HttpsSkipped
            | HttpsTvsVerify
            | CapfStart
            | CapfNote
            | CapfRetry
            | CapfTimeout
            | CapfConnectFailed
            | CapfFailed
            | CapfDone
            | CapfRefused
            | CapfScheduled
            | CapfSession
            | CapfStatus
            | LscIssued
            | LscInstalled
            | LscDeleted
            | LscExpired
            | LscExpiryNotice
            | StaleLsc
            | CsrPending
            | CsrExported
            | CsrUploaded
            | CaEnroll
            | CaSigned
            | CaRefused
            | TvsRefused
            | TvsCertNotFound
    )
}
