//! What a run means: phone states at any virtual time, failures grouped by reason, the trace
//! hash, and the `report.json` / human summary built from them. Everything here reads the
//! observation trace only.

use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{Event, Kind, Observation};
use sha2::{Digest, Sha256};
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

/// Counts phones per state.
pub fn by_state(views: &BTreeMap<String, PhoneView>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for v in views.values() {
        *out.entry(v.state.clone()).or_insert(0) += 1;
    }
    out
}

/// Failure reasons of phones not registered, grouped (the reason's text up to its first
/// variable part, so thousands of phones fold into a few lines).
pub fn failures(views: &BTreeMap<String, PhoneView>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for v in views.values().filter(|v| v.state != "Registered") {
        if let Some(reason) = &v.last_failure {
            *out.entry(fold_reason(reason)).or_insert(0) += 1;
        }
    }
    out
}

fn fold_reason(reason: &str) -> String {
    // "ITL: signer CN=… (serial …) is not in …" → keep the kind and drop names and serials.
    let mut words = vec![];
    for w in reason.split_whitespace() {
        if w.contains('=') || w.chars().filter(|c| c.is_ascii_hexdigit()).count() > 12 {
            words.push("…");
        } else {
            words.push(w);
        }
    }
    let mut text = words.join(" ");
    while text.contains("… …") {
        text = text.replace("… …", "…");
    }
    text
}

/// SHA-256 over the ordered trace: same scenario and seed, same hash.
pub fn trace_hash(trace: &[Observation]) -> String {
    let mut h = Sha256::new();
    for o in trace {
        h.update(format!("{}|{}|{}|{}\n", o.t_ms, o.who, o.what(), o.event).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Orders a trace canonically: by time, then participant; each participant's own order kept.
pub fn canonical(mut trace: Vec<Observation>) -> Vec<Observation> {
    trace.sort_by(|a, b| a.t_ms.cmp(&b.t_ms).then_with(|| a.who.cmp(&b.who)));
    trace
}
