//! Expectations of a scenario, evaluated against the trace: phones per state (and cluster,
//! fleet) by a virtual time; an observation happens or never happens; devices per CAPF status;
//! no invariant violated.
//!
//! ```text
//!  Compiled.expectations ─┐
//!  trace ─────────────────┴─evaluate──► Outcome { expectation text, passed, actual }
//! ```

use super::invariants;
use super::phones::phones_at;
use crate::lang::{fmt_ms, Count, Expectation};
use cucmsim_core::machine::{Event, Kind, Observation};
use serde::Serialize;
use std::collections::BTreeMap;

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
            by_text,
            state,
            cluster,
            fleet,
            count,
        } => phones(
            trace,
            (*by_ms, by_text),
            state,
            cluster.as_ref(),
            fleet.as_ref(),
            *count,
        ),
        Expectation::CapfStatus {
            by_ms,
            by_text,
            status,
            fleet,
            count,
        } => capf_status(trace, (*by_ms, by_text), status, fleet.as_ref(), *count),
        Expectation::Observation {
            by_ms,
            by_text,
            what,
            detail,
            fleet,
            happens,
            count,
        } => observation(
            trace,
            (*by_ms, by_text.as_deref()),
            (*what, detail.as_ref(), fleet.as_ref()),
            *happens,
            *count,
        ),
        Expectation::NoInvariantViolation => no_invariant_violation(trace),
    }
}

/// Whether `dev` is one of the fleet's devices (sorted), or there is no fleet.
fn in_fleet(fleet: Option<&(String, Vec<String>)>, dev: &String) -> bool {
    fleet.is_none_or(|(_, devices)| devices.binary_search(dev).is_ok())
}

/// `count` phones in `state` (on `cluster`, in `fleet`) by `by_ms`.
fn phones(
    trace: &[Observation],
    (by_ms, by_text): (u64, &str),
    state: &String,
    cluster: Option<&String>,
    fleet: Option<&(String, Vec<String>)>,
    count: Count,
) -> Outcome {
    let views = phones_at(trace, by_ms);
    let n = views
        .iter()
        .filter(|(dev, _)| in_fleet(fleet, dev))
        .filter(|(_, v)| &v.state == state && cluster.is_none_or(|c| v.cluster.as_ref() == Some(c)))
        .count() as u64;
    let mut text = format!("{} phones \"{state}\"", count.text());
    if let Some(c) = cluster {
        text += &format!(" on {c}");
    }
    if let Some((name, _)) = fleet {
        text += &format!(" in fleet {name}");
    }
    text += &format!(" by {by_text}");
    Outcome {
        expectation: text,
        passed: count.holds(n),
        actual: format!("{n}"),
    }
}

/// `count` devices whose last `capf_status` by `by_ms` is `status`.
fn capf_status(
    trace: &[Observation],
    (by_ms, by_text): (u64, &str),
    status: &String,
    fleet: Option<&(String, Vec<String>)>,
    count: Count,
) -> Outcome {
    let mut last: BTreeMap<&str, &str> = Default::default();
    for o in trace.iter().filter(|o| o.t_ms <= by_ms) {
        if let Event::CapfStatus { device, status } = &o.event {
            last.insert(device, status);
        }
    }
    let n = last
        .iter()
        .filter(|(dev, st)| *st == status && in_fleet(fleet, &dev.to_string()))
        .count() as u64;
    let mut text = format!("{} devices with CAPF status \"{status}\"", count.text());
    if let Some((name, _)) = fleet {
        text += &format!(" in fleet {name}");
    }
    text += &format!(" by {by_text}");
    Outcome {
        expectation: text,
        passed: count.holds(n),
        actual: format!("{n}"),
    }
}

/// A fleet's name and its device names (sorted).
type FleetDevices = (String, Vec<String>);

/// An observation `what` (whose detail holds `detail`, made by a phone of `fleet`) happens
/// (`count` times) or never.
fn observation(
    trace: &[Observation],
    (by_ms, by_text): (Option<u64>, Option<&str>),
    (what, detail, fleet): (Kind, Option<&String>, Option<&FleetDevices>),
    happens: bool,
    count: Option<Count>,
) -> Outcome {
    let n = trace
        .iter()
        .filter(|o| o.kind() == what && by_ms.is_none_or(|t| o.t_ms <= t))
        .filter(|o| detail.is_none_or(|d| o.detail().contains(d.as_str())))
        .filter(|o| in_fleet(fleet, &o.who))
        .count() as u64;
    let passed = match (happens, count) {
        (true, Some(c)) => c.holds(n),
        (true, None) => n > 0,
        (false, _) => n == 0,
    };
    let mut by = fleet
        .map(|(name, _)| format!(" in fleet {name}"))
        .unwrap_or_default();
    match (by_text, by_ms) {
        (Some(t), _) => by += &format!(" by {t}"),
        (None, Some(t)) => by += &format!(" by {}", fmt_ms(t)),
        (None, None) => {}
    }
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

fn no_invariant_violation(trace: &[Observation]) -> Outcome {
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
