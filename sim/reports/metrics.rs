//! Virtual-time metrics of a run, read from the observation trace only: one HdrHistogram per
//! exchange (phone CTL / ITL / config verification, TVS query end to end, boot to registration,
//! per-phone migration), the phones by state over virtual time, and throughput over time.
//!
//! ```text
//!  canonical trace ──per phone, in order──► latency histograms (µs of virtual time)
//!                  ──one pass, by bucket──► timeline: phones per state, events per second
//! ```
//! What each latency measures (all on the simulated clock, network latency included):
//! - `phone.ctl_ms` / `phone.itl_ms`: the phone asks TFTP for `CTLSEP<MAC>.tlv` / `ITLSEP<MAC>.tlv`
//!   → its verdict (installed or rejected), TVS round trip included when it needed one;
//! - `phone.config_ms`: `SEP<MAC>.cnf.xml.sgn` requested → accepted or rejected;
//! - `tvs.query_ms`: the phone's TVS query sent → answer, timeout or TLS failure (the whole
//!   TLS session: handshake, query, answer; queueing at the TVS included);
//! - `tvs.service_ms` (measured by the bus, not from the trace): the time a session spent
//!   inside the TVS — each request flight's delivery to the TVS's next message on the session,
//!   summed: queueing and service without the network;
//! - `phone.boot_to_registered_ms`: power-on, reset or loss of registration (missed
//!   keepalives) → registered;
//! - `phone.migration_ms`: the reset that ends on another cluster → registered there.
//!
//! The real CPU cost of the same work is measured apart (`cucmsim_actors::cost`): the two
//! clocks never share a histogram.

use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{Event, Kind, Observation};
use cucmsim_core::phone::trust::FileKind;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The file a phone fetches at each step of its boot, in order (the pipeline always asks for
/// the CTL, then the ITL, then its configuration file).
const FETCH_ORDER: [&str; 3] = ["phone.ctl_ms", "phone.itl_ms", "phone.config_ms"];

/// A histogram of virtual-time latencies in µs (the trace has ms resolution; µs leaves room
/// for finer clocks without changing the files).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1_000_000 * 3600 * 24 * 366, 3).expect("valid bounds")
}

/// Percentiles of one histogram, in ms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Summarises a histogram whose values are in `unit_per_ms` units per ms (1000 for µs).
pub fn summarize(h: &Histogram<u64>, unit_per_ms: f64) -> Summary {
    // Lowest equivalent value: virtual-time latencies are whole ms and print as such.
    let q = |p: f64| h.lowest_equivalent(h.value_at_quantile(p)) as f64 / unit_per_ms;
    Summary {
        count: h.len(),
        p50_ms: q(0.5),
        p90_ms: q(0.9),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: h.lowest_equivalent(h.max()) as f64 / unit_per_ms,
    }
}

#[derive(Default)]
struct Track {
    boot_ms: Option<u64>,
    fetches: Vec<u64>,
    tvs_query_ms: Option<u64>,
    cluster: Option<String>,
    /// When the current CAPF operation started (retries included until it ends).
    capf_start_ms: Option<u64>,
}

/// Latency histograms (µs) by metric name, from a canonical trace.
pub fn latencies(trace: &[Observation]) -> BTreeMap<&'static str, Histogram<u64>> {
    let mut hists: BTreeMap<&'static str, Histogram<u64>> = BTreeMap::new();
    let mut record = |name: &'static str, from_ms: u64, to_ms: u64| {
        let us = to_ms.saturating_sub(from_ms) * 1000;
        hists
            .entry(name)
            .or_insert_with(new_histogram)
            .saturating_record(us);
    };
    let mut tracks: HashMap<&str, Track> = HashMap::new();
    for o in trace.iter().filter(|o| o.who.starts_with("SEP")) {
        let t = tracks.entry(o.who.as_str()).or_default();
        match (o.kind(), &o.event) {
            (_, Event::State { status }) if *status == status::BOOTING => {
                t.boot_ms = Some(o.t_ms);
                t.fetches.clear();
                t.tvs_query_ms = None;
            }
            // Lost its registration (missed keepalives) without rebooting: the next
            // registration is measured from here.
            (Kind::Unregistered, _) => t.boot_ms = Some(o.t_ms),
            (_, Event::State { status }) if *status == status::DOWNLOADING => {
                t.fetches.push(o.t_ms)
            }
            (_, Event::TrustListInstalled { file, .. } | Event::TrustListRejected { file, .. }) => {
                let ix = usize::from(*file == FileKind::Itl);
                if let Some(&from) = t.fetches.get(ix) {
                    record(FETCH_ORDER[ix], from, o.t_ms);
                }
            }
            (Kind::ConfigAccepted | Kind::ConfigRejected, _) => {
                if let Some(&from) = t.fetches.get(2) {
                    record(FETCH_ORDER[2], from, o.t_ms);
                }
            }
            (Kind::TvsQuery, _) => t.tvs_query_ms = Some(o.t_ms),
            (Kind::TvsAnswer | Kind::TvsTimeout | Kind::TlsFailure, _) => {
                if let Some(from) = t.tvs_query_ms.take() {
                    record("tvs.query_ms", from, o.t_ms);
                }
            }
            (Kind::CapfStart, _) => t.capf_start_ms = Some(o.t_ms),
            (Kind::LscInstalled, _) => {
                if let Some(from) = t.capf_start_ms.take() {
                    record("capf.enrollment_ms", from, o.t_ms);
                }
            }
            (Kind::CapfFailed | Kind::CapfDone | Kind::LscDeleted, _) => t.capf_start_ms = None,
            (_, Event::Registered { cluster }) => {
                if let Some(boot) = t.boot_ms {
                    record("phone.boot_to_registered_ms", boot, o.t_ms);
                    if t.cluster.as_deref().is_some_and(|c| c != cluster) {
                        record("phone.migration_ms", boot, o.t_ms);
                    }
                }
                t.cluster = Some(cluster.to_string());
            }
            _ => {}
        }
    }
    hists
}

/// Phones by state and events per second over virtual time, sampled at bucket ends.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timeline {
    /// End of each bucket, ms of virtual time.
    pub t_ms: Vec<u64>,
    /// Phones in each state at each bucket's end ("Off": not powered on yet).
    pub states: BTreeMap<String, Vec<u64>>,
    /// Events per second of virtual time within each bucket, by kind.
    pub rates: BTreeMap<&'static str, Vec<f64>>,
}

/// What counts as throughput, by observation kind (phone side unless named).
const RATE_KINDS: [(Kind, &str); 5] = [
    (Kind::Registered, "registrations/s"),
    (Kind::TrustListInstalled, "trust lists installed/s"),
    (Kind::TvsQuery, "TVS queries/s"),
    (Kind::TrustListRejected, "trust lists rejected/s"),
    (Kind::LscInstalled, "LSCs installed/s"),
];

/// CAPF enrollment over the whole run: how many LSCs, and when the first session started
/// and the last LSC was installed (the time to enroll every phone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enrollment {
    pub lscs_installed: u64,
    /// Distinct devices that installed at least one LSC.
    pub devices: u64,
    /// CAPF operations the phones gave up on or were refused.
    pub failed: u64,
    pub first_started_ms: u64,
    pub first_installed_ms: u64,
    pub last_installed_ms: u64,
}

/// The enrollment summary, if any phone started a CAPF session.
pub fn enrollment(trace: &[Observation]) -> Option<Enrollment> {
    let mut e = Enrollment {
        lscs_installed: 0,
        devices: 0,
        failed: 0,
        first_started_ms: u64::MAX,
        first_installed_ms: 0,
        last_installed_ms: 0,
    };
    let mut devices = std::collections::BTreeSet::new();
    for o in trace.iter().filter(|o| o.who.starts_with("SEP")) {
        match o.kind() {
            Kind::CapfStart => e.first_started_ms = e.first_started_ms.min(o.t_ms),
            Kind::LscInstalled => {
                if e.lscs_installed == 0 {
                    e.first_installed_ms = o.t_ms;
                }
                e.lscs_installed += 1;
                e.last_installed_ms = o.t_ms;
                devices.insert(o.who.as_str());
            }
            Kind::CapfFailed => e.failed += 1,
            _ => {}
        }
    }
    e.devices = devices.len() as u64;
    (e.first_started_ms != u64::MAX).then_some(e)
}

/// The timeline of a canonical trace over `[0, end_ms]` in `buckets` steps.
pub fn timeline(trace: &[Observation], phones: u64, end_ms: u64, buckets: u64) -> Timeline {
    let step = end_ms.div_ceil(buckets.max(1)).max(1);
    let mut out = Timeline::default();
    // A registered phone counts under "Registered (cluster)", so a migration shows as two
    // lines crossing.
    let mut cluster: HashMap<&str, &str> = HashMap::new();
    let mut current: HashMap<&str, String> = HashMap::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut window: BTreeMap<&str, u64> = BTreeMap::new();
    let mut it = trace.iter().peekable();
    let mut bucket_end = step;
    loop {
        while let Some(o) =
            it.next_if(|o| o.t_ms < bucket_end || bucket_end >= end_ms && o.t_ms <= end_ms)
        {
            if !o.who.starts_with("SEP") {
                continue;
            }
            if let Event::Registered { cluster: c } = &o.event {
                cluster.insert(o.who.as_str(), c.as_str());
            }
            if let Event::State { status } = &o.event {
                let label = match (*status, cluster.get(o.who.as_str())) {
                    ("Registered", Some(c)) => format!("Registered ({c})"),
                    (state, _) => state.to_string(),
                };
                if let Some(prev) = current.insert(o.who.as_str(), label.clone()) {
                    *counts.entry(prev).or_default() -= 1;
                }
                *counts.entry(label).or_default() += 1;
            }
            if let Some((_, label)) = RATE_KINDS.iter().find(|(k, _)| *k == o.kind()) {
                *window.entry(label).or_default() += 1;
            }
        }
        out.t_ms.push(bucket_end.min(end_ms));
        let seen: u64 = counts.values().sum();
        let mut snapshot = counts.clone();
        snapshot.insert("Off".into(), phones.saturating_sub(seen));
        let ix = out.t_ms.len() - 1;
        for (state, n) in snapshot {
            let series = out.states.entry(state).or_insert_with(|| vec![0; ix]);
            series.push(n);
        }
        for series in out.states.values_mut() {
            series.resize(ix + 1, 0);
        }
        for (_, label) in RATE_KINDS {
            let n = window.remove(label).unwrap_or(0);
            out.rates
                .entry(label)
                .or_default()
                .push(n as f64 * 1000.0 / step as f64);
        }
        if bucket_end >= end_ms {
            break;
        }
        bucket_end += step;
    }
    out.states.retain(|_, v| v.iter().any(|&n| n > 0));
    out.rates.retain(|_, v| v.iter().any(|&n| n > 0.0));
    out
}

/// The HdrHistogram percentile-distribution text (`.hgrm`), values in ms, as
/// `HistogramLogProcessor` and the online plotter read it.
pub fn hgrm(h: &Histogram<u64>, unit_per_ms: f64, decimals: usize) -> String {
    let mut s = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if h.is_empty() {
        return s + "#[Mean    =        0.000, StdDeviation   =        0.000]\n#[Max     =        0.000, Total count    =            0]\n";
    }
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let p = v.quantile_iterated_to();
        let value = h.lowest_equivalent(v.value_iterated_to()) as f64 / unit_per_ms;
        let inverse = if p < 1.0 {
            format!("{:.2}", 1.0 / (1.0 - p))
        } else {
            "inf".into()
        };
        s += &format!("{value:>12.decimals$} {p:>14.12} {total:>10} {inverse:>14}\n");
    }
    s += &format!(
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]\n#[Max     = {:>12.3}, Total count    = {:>12}]\n",
        h.mean() / unit_per_ms,
        h.stdev() / unit_per_ms,
        h.lowest_equivalent(h.max()) as f64 / unit_per_ms,
        h.len(),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use cucmsim_core::machine::Now;
    use cucmsim_core::phone::trust::TrustPath;
    use cucmsim_core::wall::WallTime;

    fn obs(t_ms: u64, who: &str, event: Event) -> Observation {
        let now = Now {
            mono_ms: t_ms,
            wall: WallTime(0),
        };
        Observation::new(now, who, event)
    }
    fn state(status: &'static str) -> Event {
        Event::State { status }
    }
    fn registered(cluster: &str) -> Event {
        Event::Registered {
            cluster: cluster.into(),
        }
    }
    fn installed(path: TrustPath) -> Event {
        Event::TrustListInstalled {
            file: FileKind::Itl,
            path,
        }
    }

    #[test]
    fn itl_and_tvs_and_migration_latencies_come_from_one_phone_track() {
        let p = "SEP000000000001";
        let trace = vec![
            obs(0, p, state(status::BOOTING)),
            obs(2, p, state(status::DOWNLOADING)),
            obs(5, p, state(status::DOWNLOADING)),
            obs(8, p, installed(TrustPath::FirstUse)),
            obs(8, p, state(status::DOWNLOADING)),
            obs(
                11,
                p,
                Event::ConfigAccepted {
                    path: TrustPath::Itl,
                },
            ),
            obs(14, p, registered("src")),
            obs(1000, p, state(status::BOOTING)),
            obs(1002, p, state(status::DOWNLOADING)),
            obs(1005, p, state(status::DOWNLOADING)),
            obs(
                1008,
                p,
                Event::TvsQuery {
                    file: FileKind::Itl,
                    tvs_host: "a".into(),
                },
            ),
            obs(
                1020,
                p,
                Event::TvsAnswer {
                    file: FileKind::Itl,
                    valid: true,
                    tvs_cert: None,
                },
            ),
            obs(1020, p, installed(TrustPath::Tvs { cached: false })),
            obs(1020, p, state(status::DOWNLOADING)),
            obs(
                1023,
                p,
                Event::ConfigAccepted {
                    path: TrustPath::Itl,
                },
            ),
            obs(1030, p, registered("dst")),
        ];
        let h = latencies(&trace);
        let itl = &h["phone.itl_ms"];
        assert_eq!(itl.len(), 2);
        assert_eq!(itl.min(), 3000);
        assert!(itl.equivalent(itl.max(), 15_000));
        assert_eq!(h["tvs.query_ms"].len(), 1);
        assert!(h["tvs.query_ms"].equivalent(h["tvs.query_ms"].max(), 12_000));
        assert_eq!(h["phone.config_ms"].len(), 2);
        assert_eq!(h["phone.boot_to_registered_ms"].len(), 2);
        let m = &h["phone.migration_ms"];
        assert_eq!(m.len(), 1);
        assert!(m.equivalent(m.max(), 30_000));
        assert!(!h.contains_key("phone.ctl_ms"));
    }

    #[test]
    fn timeline_counts_states_and_off_phones_per_bucket() {
        let trace = vec![
            obs(5, "SEP1", state(status::BOOTING)),
            obs(15, "SEP1", registered("a")),
            obs(15, "SEP1", state(status::REGISTERED)),
            obs(25, "SEP2", state(status::BOOTING)),
        ];
        let tl = timeline(&trace, 3, 30, 3);
        assert_eq!(tl.t_ms, vec![10, 20, 30]);
        assert_eq!(tl.states["Off"], vec![2, 2, 1]);
        assert_eq!(tl.states["Booting"], vec![1, 0, 1]);
        assert_eq!(tl.states["Registered (a)"], vec![0, 1, 1]);
        assert_eq!(tl.rates["registrations/s"], vec![0.0, 100.0, 0.0]);
    }

    #[test]
    fn hgrm_ends_with_the_total_count() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let text = hgrm(&h, 1000.0, 3);
        assert!(text.contains("Total count    =         1000"), "{text}");
        let s = summarize(&h, 1000.0);
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 500.0).abs() < 1.0 && (s.max_ms - 1000.0).abs() < 1.0);
    }
}
