//! Expectations of a scenario, evaluated against the trace: phones per state (and cluster,
//! fleet) by a virtual time; an observation happens or never happens; no invariant violated.

use crate::checks::invariants;
use crate::report::phones_at;
use cucmsim_core::machine::{Event, Kind, Observation};
use serde::Serialize;

/// A count comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Count {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
}

impl Count {
    pub fn holds(self, n: u64) -> bool {
        match self {
            Count::Exactly(k) => n == k,
            Count::AtLeast(k) => n >= k,
            Count::AtMost(k) => n <= k,
        }
    }

    fn text(self) -> String {
        match self {
            Count::Exactly(k) => format!("exactly {k}"),
            Count::AtLeast(k) => format!("at least {k}"),
            Count::AtMost(k) => format!("at most {k}"),
        }
    }
}

/// One expectation, resolved (fleet names to device names).
#[derive(Clone, Debug)]
pub enum Expectation {
    Phones {
        by_ms: u64,
        state: String,
        cluster: Option<String>,
        /// Device names of the fleet, when the expectation names one.
        fleet: Option<(String, Vec<String>)>,
        count: Count,
    },
    Observation {
        by_ms: Option<u64>,
        what: Kind,
        /// Only observations whose detail contains this text.
        detail: Option<String>,
        happens: bool,
        count: Option<Count>,
    },
    /// Devices whose CAPF "Certificate Operation Status" is `status` at `by_ms` (the last
    /// `capf_status` observation of each device).
    CapfStatus {
        by_ms: u64,
        status: String,
        fleet: Option<(String, Vec<String>)>,
        count: Count,
    },
    NoInvariantViolation,
}

/// The result of one expectation.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub expectation: String,
    pub passed: bool,
    pub actual: String,
}

/// Evaluates every expectation.
pub fn evaluate(expectations: &[Expectation], trace: &[Observation]) -> Vec<Outcome> {
    expectations
        .iter()
        .map(|e| evaluate_one(e, trace))
        .collect()
}

fn evaluate_one(e: &Expectation, trace: &[Observation]) -> Outcome {
    match e {
        Expectation::Phones {
            by_ms,
            state,
            cluster,
            fleet,
            count,
        } => {
            let views = phones_at(trace, *by_ms);
            let n = views
                .iter()
                .filter(|(dev, _)| {
                    fleet
                        .as_ref()
                        .is_none_or(|(_, devices)| devices.binary_search(dev).is_ok())
                })
                .filter(|(_, v)| {
                    &v.state == state
                        && cluster
                            .as_ref()
                            .is_none_or(|c| v.cluster.as_ref() == Some(c))
                })
                .count() as u64;
            let mut text = format!("{} phones \"{state}\"", count.text());
            if let Some(c) = cluster {
                text += &format!(" on {c}");
            }
            if let Some((name, _)) = fleet {
                text += &format!(" in fleet {name}");
            }
            text += &format!(" by {}", fmt_ms(*by_ms));
            Outcome {
                expectation: text,
                passed: count.holds(n),
                actual: format!("{n}"),
            }
        }
        Expectation::CapfStatus {
            by_ms,
            status,
            fleet,
            count,
        } => {
            let mut last: std::collections::BTreeMap<&str, &str> = Default::default();
            for o in trace.iter().filter(|o| o.t_ms <= *by_ms) {
                if let Event::CapfStatus { device, status } = &o.event {
                    last.insert(device, status);
                }
            }
            let n = last
                .iter()
                .filter(|(dev, st)| {
                    *st == status
                        && fleet.as_ref().is_none_or(|(_, devices)| {
                            devices.binary_search(&dev.to_string()).is_ok()
                        })
                })
                .count() as u64;
            let mut text = format!("{} devices with CAPF status \"{status}\"", count.text());
            if let Some((name, _)) = fleet {
                text += &format!(" in fleet {name}");
            }
            text += &format!(" by {}", fmt_ms(*by_ms));
            Outcome {
                expectation: text,
                passed: count.holds(n),
                actual: format!("{n}"),
            }
        }
        Expectation::Observation {
            by_ms,
            what,
            detail,
            happens,
            count,
        } => {
            let n = trace
                .iter()
                .filter(|o| o.kind() == *what && by_ms.is_none_or(|t| o.t_ms <= t))
                .filter(|o| {
                    detail
                        .as_ref()
                        .is_none_or(|d| o.detail().contains(d.as_str()))
                })
                .count() as u64;
            let passed = match (happens, count) {
                (true, Some(c)) => c.holds(n),
                (true, None) => n > 0,
                (false, _) => n == 0,
            };
            let by = by_ms
                .map(|t| format!(" by {}", fmt_ms(t)))
                .unwrap_or_default();
            let what = match detail {
                Some(d) => format!("{what}\" with \"{d}"),
                None => what.to_string(),
            };
            let text = match (happens, count) {
                (true, Some(c)) => format!("observation \"{what}\" {} times{by}", c.text()),
                (true, None) => format!("observation \"{what}\" happens{by}"),
                (false, _) => format!("observation \"{what}\" never happens{by}"),
            };
            Outcome {
                expectation: text,
                passed,
                actual: format!("{n} times"),
            }
        }
        Expectation::NoInvariantViolation => {
            let v = invariants::check(trace);
            let actual = if v.is_empty() {
                "none".to_string()
            } else {
                format!("{} violations, first: {}", v.len(), v[0])
            };
            Outcome {
                expectation: "no invariant violated".into(),
                passed: v.is_empty(),
                actual,
            }
        }
    }
}

/// `90 s`, `15 min`, `2 h` — the shortest exact form.
pub fn fmt_ms(ms: u64) -> String {
    match ms {
        0 => "0 s".into(),
        m if m % 86_400_000 == 0 => format!("{} days", m / 86_400_000),
        m if m % 3_600_000 == 0 => format!("{} h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{} min", m / 60_000),
        m if m % 1_000 == 0 => format!("{} s", m / 1_000),
        m => format!("{m} ms"),
    }
}
