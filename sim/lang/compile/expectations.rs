//! Compiling `[[expect]]`: each `kind` checks the keys it uses and resolves fleet names to
//! device names; counts scale with `--phones`.
//!
//! ```text
//!  [[expect]] kind = "phones" | "observation" | "capf_status" | "no_invariant_violation"
//!    ──expect──► Expectation (evaluated over the trace by crate::checks::expect)
//! ```

use super::context::R;
use super::timeline::Timeline;
use crate::lang::compiled::{Count, Expectation};
use crate::lang::raw::{self, S};
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::Kind;

type MakeCount = fn(u64) -> Count;

fn count(
    t: &Timeline,
    e: &raw::Expect,
    scale: &dyn Fn(i64) -> u64,
    required: bool,
) -> R<Option<Count>> {
    let given: Vec<(&S<i64>, MakeCount)> = [
        (&e.count, Count::Exactly as MakeCount),
        (&e.at_least, Count::AtLeast),
        (&e.at_most, Count::AtMost),
    ]
    .into_iter()
    .filter_map(|(v, f)| v.as_ref().map(|v| (v, f)))
    .collect();
    match given[..] {
        [] if required => Err(t
            .cx
            .err(e.kind.span(), "give one of `count`, `at_least`, `at_most`")),
        [] => Ok(None),
        [(v, f)] if *v.get_ref() >= 0 => Ok(Some(f(scale(*v.get_ref())))),
        [(v, _)] => Err(t.cx.err(v.span(), "counts cannot be negative")),
        [_, (v, _), ..] => Err(t
            .cx
            .err(v.span(), "give only one of `count`, `at_least`, `at_most`")),
    }
}

pub(super) fn expect(t: &Timeline, e: &raw::Expect, scale: &dyn Fn(i64) -> u64) -> R<Expectation> {
    let kind = e.kind.get_ref().as_str();
    match kind {
        "phones" => {
            t.only(kind, &e.present(), &["by", "state", "cluster", "fleet", "count", "at_least", "at_most"])?;
            let by = e.by.as_ref().ok_or_else(|| t.cx.err(e.kind.span(), "phones needs `by`"))?;
            let state = e.state.as_ref().ok_or_else(|| t.cx.err(e.kind.span(), "phones needs `state`"))?;
            if !status::ALL.contains(&state.get_ref().as_str()) {
                return Err(t.cx.err(state.span(), format!("unknown phone state {:?}: expected one of {}", state.get_ref(), status::ALL.join(", "))));
            }
            let cluster = match &e.cluster {
                Some(c) => Some(t.cluster(&e.cluster, c.span())?.name.clone()),
                None => None,
            };
            let fleet = e.fleet.as_ref().map(|f| t.fleet_devices(f)).transpose()?;
            let count = count(t, e, scale, true)?.expect("required");
            Ok(Expectation::Phones { by_ms: t.cx.ms(by)?, state: state.get_ref().clone(), cluster, fleet, count })
        }
        "observation" => {
            t.only(kind, &e.present(), &["by", "what", "detail", "count", "at_least", "at_most"])?;
            let what = e.what.as_ref().ok_or_else(|| t.cx.err(e.kind.span(), "observation needs `what`"))?;
            let by_ms = e.by.as_ref().map(|b| t.cx.ms(b)).transpose()?;
            let detail = e.detail.as_ref().map(|d| d.get_ref().clone());
            let what = Kind::from_name(what.get_ref()).ok_or_else(|| {
                let near = crate::lang::suggest(what.get_ref(), Kind::ALL.iter().map(|k| k.name()));
                t.cx.err(what.span(), format!("unknown observation `{}`{near}", what.get_ref()))
            })?;
            Ok(Expectation::Observation { by_ms, what, detail, happens: e.happens.unwrap_or(true), count: count(t, e, scale, false)? })
        }
        "capf_status" => {
            t.only(kind, &e.present(), &["by", "status", "fleet", "count", "at_least", "at_most"])?;
            let by = e.by.as_ref().ok_or_else(|| t.cx.err(e.kind.span(), "capf_status needs `by`"))?;
            let status = e.status.as_ref().ok_or_else(|| t.cx.err(e.kind.span(), "capf_status needs `status`"))?;
            let known = ["Upgrade Success", "Install/Upgrade failed", "Delete Success", "Delete failed", "Troubleshoot Success", "Troubleshoot failed"];
            if !known.contains(&status.get_ref().as_str()) {
                return Err(t.cx.err(status.span(), format!("unknown CAPF status {:?}: expected one of {}", status.get_ref(), known.join(", "))));
            }
            let fleet = e.fleet.as_ref().map(|f| t.fleet_devices(f)).transpose()?;
            let count = count(t, e, scale, true)?.expect("required");
            Ok(Expectation::CapfStatus { by_ms: t.cx.ms(by)?, status: status.get_ref().clone(), fleet, count })
        }
        "no_invariant_violation" => {
            t.only(kind, &e.present(), &[])?;
            Ok(Expectation::NoInvariantViolation)
        }
        other => Err(t.cx.err(e.kind.span(), format!("unknown expectation kind {other:?}: expected phones, observation, capf_status or no_invariant_violation"))),
    }
}
