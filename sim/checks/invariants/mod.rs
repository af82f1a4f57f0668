//! Invariants: small checks that read the typed trace only (design.md principle 8, openraft's
//! `tests-turmoil` style). Each file holds one invariant; each sees every observation in trace
//! order and reports a [`Violation`] the moment one is broken.
//!
//! ```text
//!  canonical trace ──one pass──► every Invariant::see(o) ──► Vec<Violation { id, at, who, detail }>
//!                                every Invariant::finish()
//! ```
//!
//! | id                           | what must hold                                                    |
//! |------------------------------|-------------------------------------------------------------------|
//! | `verified_trust_list`        | a phone installs a CTL/ITL only by a trust path, a fresh TVS path only after a valid TVS answer |
//! | `tvs_vouches_from_stores`    | a TVS vouches only for a certificate its loaded stores hold       |
//! | `lsc_issued_once`            | CAPF never issues one LSC serial twice; a phone installs only an issued LSC |
//! | `validity_by_host_clock`     | no certificate is accepted outside its validity by the accepting host's clock |
//! | `registration_after_config`  | a phone registers only after it accepted a configuration file     |
//! | `no_actor_failed`            | no supervised shell stopped with an error                         |

mod lsc_issued_once;
mod no_actor_failed;
mod registration_after_config;
mod tvs_vouches_from_stores;
mod validity_by_host_clock;
mod verified_trust_list;

use cucmsim_core::machine::Observation;
use serde::Serialize;
use std::fmt;

/// One broken invariant: which, when, by whom, and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The invariant's id (its file name).
    pub id: &'static str,
    /// Virtual time in ms.
    pub at: u64,
    /// The participant that broke it (`SEP<MAC>`, `tvs@host`, …).
    pub who: String,
    pub detail: String,
}

impl Violation {
    fn new(id: &'static str, o: &Observation, detail: impl Into<String>) -> Violation {
        Violation {
            id,
            at: o.t_ms,
            who: o.who.clone(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} [{}]: {}", self.at, self.who, self.id, self.detail)
    }
}

/// One invariant, fed the trace in order.
trait Invariant {
    /// Sees one observation; pushes a violation if it breaks the invariant.
    fn see(&mut self, o: &Observation, out: &mut Vec<Violation>);
    /// The end of the trace (for invariants that need all of it).
    fn finish(&mut self, _out: &mut Vec<Violation>) {}
}

/// Every invariant, in the order of the table above.
fn all() -> Vec<Box<dyn Invariant>> {
    vec![
        Box::<verified_trust_list::VerifiedTrustList>::default(),
        Box::<tvs_vouches_from_stores::TvsVouchesFromStores>::default(),
        Box::<lsc_issued_once::LscIssuedOnce>::default(),
        Box::<validity_by_host_clock::ValidityByHostClock>::default(),
        Box::<registration_after_config::RegistrationAfterConfig>::default(),
        Box::<no_actor_failed::NoActorFailed>::default(),
    ]
}

/// The violations of a canonical trace (empty when all hold).
pub fn check(trace: &[Observation]) -> Vec<Violation> {
    let mut checks = all();
    let mut out = vec![];
    for o in trace {
        for c in checks.iter_mut() {
            c.see(o, &mut out);
        }
    }
    for c in checks.iter_mut() {
        c.finish(&mut out);
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use cucmsim_core::machine::{Event, Now, Observation};
    use cucmsim_core::wall::WallTime;

    /// An observation at `t_ms` by `who`.
    pub fn at(t_ms: u64, who: &str, event: Event) -> Observation {
        let now = Now {
            mono_ms: t_ms,
            wall: WallTime(1_700_000_000),
        };
        Observation::new(now, who, event)
    }
}
