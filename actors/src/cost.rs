//! The real CPU cost of every input a machine handles, measured by the shell with the host's
//! monotonic clock, kept in one HdrHistogram per (participant kind, input kind).
//!
//! This is the *other* clock: virtual time drives the simulated world and never depends on how
//! fast this machine is; these figures say what the simulation itself costs here (a phone
//! handling an `ITLSEP<MAC>.tlv` reply = parse + signature verification; a TVS handling a TLS
//! flight = its share of a real handshake). They are never mixed into virtual-time histograms,
//! and never reach the trace hash: two runs of one seed give the same trace and different costs.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Histograms of handling cost in nanoseconds (2 significant digits, up to 10 min), keyed
/// `kind/input` (`phone/TftpReply`): the shell names them with `Addr::kind` and `Input::kind`
/// (the message's variant name, `Msg::kind`).
#[derive(Default)]
pub struct CostMeter {
    hists: BTreeMap<(&'static str, &'static str), Histogram<u64>>,
}

impl CostMeter {
    /// Records one handled input.
    pub fn record(&mut self, kind: &'static str, input: &'static str, took: Duration) {
        let ns = (took.as_nanos() as u64).max(1);
        let h = self.hists.entry((kind, input)).or_insert_with(|| {
            Histogram::new_with_bounds(1, 600_000_000_000, 2).expect("valid histogram bounds")
        });
        h.saturating_record(ns);
    }

    /// Every histogram, keyed `kind/input`.
    pub fn into_histograms(self) -> BTreeMap<String, Histogram<u64>> {
        self.hists
            .into_iter()
            .map(|((k, i), h)| (format!("{k}/{i}"), h))
            .collect()
    }
}

impl CostMeter {
    /// Adds another meter's histograms (logical processes' meters into the run's).
    pub fn merge(&mut self, other: CostMeter) {
        for (k, h) in other.hists {
            match self.hists.get_mut(&k) {
                Some(mine) => mine.add(&h).expect("same histogram bounds"),
                None => {
                    self.hists.insert(k, h);
                }
            }
        }
    }
}
