//! What each phone is doing as of a virtual time, read from the observation trace: its state,
//! the cluster it registered with, its last refusal. The `phones` expectations count these
//! views, and the report counts them at the end of the run.
//!
//! ```text
//!  trace (SEP… "state" / "registered" / "*_rejected" / "tls_failure") ──phones_at(t)──► device → PhoneView
//! ```

use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{Event, Kind, Observation};
use std::collections::BTreeMap;

/// A phone as of some virtual time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhoneView {
    pub state: String,
    /// The cluster it registered with last (while `state` is "Registered").
    pub cluster: Option<String>,
    /// The last refusal reason it observed, if any.
    pub last_failure: Option<String>,
}

/// The phones' states as of `t_ms`, keyed by device name (`SEP<MAC>`).
pub fn phones_at(trace: &[Observation], t_ms: u64) -> BTreeMap<String, PhoneView> {
    let mut out: BTreeMap<String, PhoneView> = BTreeMap::new();
    for o in trace
        .iter()
        .filter(|o| o.t_ms <= t_ms && o.who.starts_with("SEP"))
    {
        let v = out.entry(o.who.clone()).or_default();
        match &o.event {
            Event::State { status } => {
                v.state = status.to_string();
                if *status != status::REGISTERED {
                    v.cluster = None;
                }
            }
            Event::Registered { cluster } => v.cluster = Some(cluster.clone()),
            Event::TrustListRejected { .. }
            | Event::ConfigRejected { .. }
            | Event::Note {
                kind: Kind::TlsFailure,
                ..
            } => v.last_failure = Some(o.detail()),
            _ => {}
        }
    }
    out
}
