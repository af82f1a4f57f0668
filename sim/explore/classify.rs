//! What counts as a failure, and when two failures are the same. An invariant violated is a
//! simulator or model defect (the simulation broke a rule that holds in every run); an
//! expectation failing means the plan breaks the user's procedure (the fragility explore is
//! for). Two failures are the same when they name the same invariant, or the same
//! expectation of the scenario.
//!
//! ```text
//!  trace ──invariants::check──► one Failure per invariant id (its first violation)
//!        ──expect::evaluate───► one Failure per failed expectation (not no_invariant_violation)
//!  Failure::key() = "invariant:<id>" | "expect:<n>"   (dedup and shrinking compare keys)
//! ```

use crate::checks::expect::Outcome;
use crate::checks::invariants::Violation;
use crate::checks::phones::phones_at;
use crate::lang::{fmt_ms, Compiled, Expectation};
use cucmsim_core::machine::Observation;
use serde::Serialize;

/// The two kinds of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An invariant violated: a defect of the simulator or of its model.
    Invariant,
    /// An expectation of the scenario failed: the plan breaks the procedure.
    Expectation,
}

/// One failure of a case.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub kind: Kind,
    /// The invariant id, or `expect-<n>` (the n-th `[[expect]]` of the file, from 1).
    pub id: String,
    /// What failed, in words.
    pub what: String,
    /// Virtual time (ms) of the violation, or the expectation's time.
    pub at_ms: u64,
    /// The participant (`SEP<MAC>`, `tvs@host`, …), when one is to blame.
    pub who: Option<String>,
    /// What happened.
    pub detail: String,
}

impl Failure {
    /// The identity two failures share when they are the same.
    pub fn key(&self) -> String {
        match self.kind {
            Kind::Invariant => format!("invariant:{}", self.id),
            Kind::Expectation => format!("expect:{}", self.id),
        }
    }
}

/// The failures of one run, invariants first, each invariant and expectation once.
pub fn classify(
    c: &Compiled,
    trace: &[Observation],
    outcomes: &[Outcome],
    violations: &[Violation],
) -> Vec<Failure> {
    let mut out: Vec<Failure> = vec![];
    for v in violations {
        if out.iter().any(|f| f.id == v.id) {
            continue;
        }
        out.push(Failure {
            kind: Kind::Invariant,
            id: v.id.to_string(),
            what: format!("invariant {} violated (a simulator or model defect)", v.id),
            at_ms: v.at,
            who: Some(v.who.clone()),
            detail: v.detail.clone(),
        });
    }
    for (i, (e, o)) in c.expectations.iter().zip(outcomes).enumerate() {
        if o.passed || matches!(e, Expectation::NoInvariantViolation) {
            continue;
        }
        let (at_ms, who) = blame(c, e, trace);
        out.push(Failure {
            kind: Kind::Expectation,
            id: format!("expect-{}", i + 1),
            what: format!("expectation \"{}\" failed", o.expectation),
            at_ms,
            who: who.as_ref().map(|(w, _)| w.clone()),
            detail: match who {
                Some((_, why)) => format!("actual {}; {why}", o.actual),
                None => format!("actual {}", o.actual),
            },
        });
    }
    out
}

/// When an expectation is judged, and a phone that is not as it expects (with its state).
fn blame(c: &Compiled, e: &Expectation, trace: &[Observation]) -> (u64, Option<(String, String)>) {
    match e {
        Expectation::Phones {
            by_ms,
            state,
            cluster,
            fleet,
            ..
        } => {
            let views = phones_at(trace, *by_ms);
            let odd = views.iter().find(|(dev, v)| {
                let in_fleet = fleet
                    .as_ref()
                    .is_none_or(|(_, d)| d.binary_search(dev).is_ok());
                in_fleet && (&v.state != state || (cluster.is_some() && &v.cluster != cluster))
            });
            let who = odd.map(|(dev, v)| {
                let mut why = format!("{dev} is \"{}\"", v.state);
                if let Some(cl) = &v.cluster {
                    why += &format!(" on {cl}");
                }
                if let Some(f) = &v.last_failure {
                    why += &format!(" ({f})");
                }
                (dev.clone(), why)
            });
            (*by_ms, who)
        }
        Expectation::CapfStatus { by_ms, .. } => (*by_ms, None),
        Expectation::Observation { by_ms, .. } => (by_ms.unwrap_or(c.spec.duration_ms), None),
        Expectation::NoInvariantViolation => (c.spec.duration_ms, None),
    }
}

/// `"8 min (480000 ms)"`, `"7 min 18.129 s (438129 ms)"`.
pub fn when(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{} ({ms} ms)", fmt_ms(ms))
    } else {
        let s = (ms % 60_000) as f64 / 1000.0;
        format!("{} min {s:.3} s ({ms} ms)", ms / 60_000)
    }
}
