//! What a run means: phones per state at the end, failures grouped by reason, the trace hash
//! and the canonical order it is computed over. Everything here reads the observation trace
//! only (phone states as of a time come from [`crate::checks::phones`]).
//!
//! ```text
//!  trace ──canonical──► ordered trace ──trace_hash──► "3f2a…" (same scenario + seed, same hash)
//!  phones_at(trace, end) ──by_state / failures──► report.json's phones and failures
//! ```

use crate::checks::phones::PhoneView;
use cucmsim_core::machine::Observation;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

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
    let order =
        |a: &Observation, b: &Observation| a.t_ms.cmp(&b.t_ms).then_with(|| a.who.cmp(&b.who));
    // The engine hands its trace over in this order already: no second copy for the sort.
    if !trace.is_sorted_by(|a, b| order(a, b).is_le()) {
        trace.sort_by(order);
    }
    trace
}
