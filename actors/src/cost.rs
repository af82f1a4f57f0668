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

/// The bounds of every cost histogram: 1 ns to 10 min, 2 significant digits.
pub const HIST_LOWEST: u64 = 1;
/// See [`HIST_LOWEST`].
pub const HIST_HIGHEST: u64 = 600_000_000_000;
/// See [`HIST_LOWEST`].
pub const HIST_SIGFIG: u8 = 2;

/// An empty histogram with the meter's bounds ([`HIST_LOWEST`] …).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(HIST_LOWEST, HIST_HIGHEST, HIST_SIGFIG)
        .expect("valid histogram bounds")
}

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
        let h = self
            .hists
            .entry((kind, input))
            .or_insert_with(new_histogram);
        h.saturating_record(ns);
    }

    /// Every histogram with its (participant kind, input kind), in key order.
    pub fn histograms(
        &self,
    ) -> impl Iterator<Item = (&'static str, &'static str, &Histogram<u64>)> + '_ {
        self.hists.iter().map(|((k, i), h)| (*k, *i, h))
    }

    /// Adds histogram `h` (with the meter's bounds, [`new_histogram`]) under `kind/input`;
    /// `Err` when its bounds differ from those of the histogram already there.
    pub fn add_histogram(
        &mut self,
        kind: &'static str,
        input: &'static str,
        h: Histogram<u64>,
    ) -> Result<(), hdrhistogram::AdditionError> {
        match self.hists.get_mut(&(kind, input)) {
            Some(mine) => mine.add(&h),
            None => {
                self.hists.insert((kind, input), h);
                Ok(())
            }
        }
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
