//! Compiling `[[expect]]`: each `kind` checks the keys it uses and resolves fleet names to
//! device names; counts scale with `--phones`.
//!
//! ```text
//!  [[expect]] kind = "phones" | "observation" | "capf_status" | "no_invariant_violation"
//!    ──expect──► Expectation (evaluated over the trace by crate::checks::expect)
//! ```

use super::context::R;
use super::scale::{per_phone, Scale};
use super::timeline::Timeline;
use crate::lang::compiled::{Count, Expectation};
use crate::lang::raw::{self, Dur, S};
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::Kind;

type MakeCount = fn(u64) -> Count;

/// The count of `e` (`count`, `at_least` or `at_most`), scaled by `scale` unless
/// `absolute = true`.
fn count(
    t: &Timeline,
    e: &raw::Expect,
    scale: &dyn Fn(u64) -> u64,
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
    let absolute = e.absolute.as_ref().is_some_and(|a| *a.get_ref());
    match given[..] {
        [] if required => Err(t
            .cx
            .err(e.kind.span(), "give one of `count`, `at_least`, `at_most`")),
        [] => match &e.absolute {
            Some(a) => Err(t.cx.err(
                a.span(),
                "`absolute` goes with `count`, `at_least` or `at_most`",
            )),
            None => Ok(None),
        },
        [(v, f)] if *v.get_ref() >= 0 => {
            let n = *v.get_ref() as u64;
            Ok(Some(f(if absolute { n } else { scale(n) })))
        }
        [(v, _)] => Err(t.cx.err(v.span(), "counts cannot be negative")),
        [_, (v, _), ..] => Err(t
            .cx
            .err(v.span(), "give only one of `count`, `at_least`, `at_most`")),
    }
}

/// `by` in ms (within the run) and as written.
fn by(t: &Timeline, b: &S<Dur>) -> R<(u64, String)> {
    Ok((t.cx.at(b)?, b.get_ref().as_written()))
}

/// The observation kind `what` names, with a suggestion when it names none.
fn observation_kind(t: &Timeline, what: &S<String>) -> R<Kind> {
    Kind::from_name(what.get_ref()).ok_or_else(|| {
        let near = crate::lang::suggest(what.get_ref(), Kind::ALL.iter().map(|k| k.name()));
        t.cx.err(
            what.span(),
            format!("unknown observation `{}`{near}", what.get_ref()),
        )
    })
}

pub(super) fn expect(t: &Timeline, e: &raw::Expect, scale: &Scale) -> R<Expectation> {
    let kind = e.kind.get_ref().as_str();
    let fleet_name = e.fleet.as_ref().map(|f| f.get_ref().clone());
    let phones = |n: u64| scale.phones(n, fleet_name.as_deref());
    match kind {
        "phones" => phones_in_state(t, e, &phones),
        "observation" => observation(t, e, &phones),
        "capf_status" => capf_status(t, e, &phones),
        "no_invariant_violation" => {
            t.only(kind, &e.present(), &[])?;
            Ok(Expectation::NoInvariantViolation)
        }
        other => {
            let kinds = [
                "phones",
                "observation",
                "capf_status",
                "no_invariant_violation",
            ];
            let near = crate::lang::suggest(other, kinds.iter().copied());
            Err(t.cx.err(e.kind.span(), format!("unknown expectation kind {other:?}{near} (expected phones, observation, capf_status or no_invariant_violation)")))
        }
    }
}

/// `kind = "phones"`: phones in a state by a time.
fn phones_in_state(t: &Timeline, e: &raw::Expect, phones: &dyn Fn(u64) -> u64) -> R<Expectation> {
    let kind = "phones";
    t.only(
        kind,
        &e.present(),
        &[
            "by", "state", "cluster", "fleet", "count", "at_least", "at_most", "absolute",
        ],
    )?;
    let b =
        e.by.as_ref()
            .ok_or_else(|| t.cx.err(e.kind.span(), "phones needs `by`"))?;
    let state = e
        .state
        .as_ref()
        .ok_or_else(|| t.cx.err(e.kind.span(), "phones needs `state`"))?;
    if !status::ALL.contains(&state.get_ref().as_str()) {
        let near = crate::lang::suggest(state.get_ref(), status::ALL.iter().copied());
        return Err(t.cx.err(
            state.span(),
            format!(
                "unknown phone state {:?}{near} (expected one of {})",
                state.get_ref(),
                status::ALL.join(", ")
            ),
        ));
    }
    let cluster = match &e.cluster {
        Some(c) => Some(t.cluster(&e.cluster, c.span())?.name.clone()),
        None => None,
    };
    let fleet = e.fleet.as_ref().map(|f| t.fleet_devices(f)).transpose()?;
    let count = count(t, e, phones, true)?.expect("required");
    let (by_ms, by_text) = by(t, b)?;
    Ok(Expectation::Phones {
        by_ms,
        by_text,
        state: state.get_ref().clone(),
        cluster,
        fleet,
        count,
    })
}

/// `kind = "observation"`: observations of a kind happen (so many times) or never.
fn observation(t: &Timeline, e: &raw::Expect, phones: &dyn Fn(u64) -> u64) -> R<Expectation> {
    let kind = "observation";
    t.only(
        kind,
        &e.present(),
        &[
            "by", "what", "detail", "fleet", "happens", "count", "at_least", "at_most", "absolute",
        ],
    )?;
    let what = e
        .what
        .as_ref()
        .ok_or_else(|| t.cx.err(e.kind.span(), "observation needs `what`"))?;
    let what = observation_kind(t, what)?;
    let by = e.by.as_ref().map(|b| by(t, b)).transpose()?;
    let detail = e.detail.as_ref().map(|d| d.get_ref().clone());
    let fleet = e.fleet.as_ref().map(|f| t.fleet_devices(f)).transpose()?;
    let happens = e.happens.as_ref().is_none_or(|h| *h.get_ref());
    if let (false, Some((_, span))) = (
        happens,
        e.present()
            .into_iter()
            .find(|(n, _)| matches!(*n, "count" | "at_least" | "at_most")),
    ) {
        return Err(t.cx.err(span, "happens = false means never: leave out `count`, `at_least` and `at_most` (or write count = 0)"));
    }
    let keep = |n: u64| n;
    let scale_fn: &dyn Fn(u64) -> u64 = if per_phone(what) { phones } else { &keep };
    let count = count(t, e, scale_fn, false)?;
    Ok(Expectation::Observation {
        by_ms: by.as_ref().map(|b| b.0),
        by_text: by.map(|b| b.1),
        what,
        detail,
        fleet,
        happens,
        count,
    })
}

/// `kind = "capf_status"`: devices whose CAPF status is `status` by a time.
fn capf_status(t: &Timeline, e: &raw::Expect, phones: &dyn Fn(u64) -> u64) -> R<Expectation> {
    let kind = "capf_status";
    t.only(
        kind,
        &e.present(),
        &[
            "by", "status", "fleet", "count", "at_least", "at_most", "absolute",
        ],
    )?;
    let b =
        e.by.as_ref()
            .ok_or_else(|| t.cx.err(e.kind.span(), "capf_status needs `by`"))?;
    let status = e
        .status
        .as_ref()
        .ok_or_else(|| t.cx.err(e.kind.span(), "capf_status needs `status`"))?;
    let known = [
        "Upgrade Success",
        "Install/Upgrade failed",
        "Delete Success",
        "Delete failed",
        "Troubleshoot Success",
        "Troubleshoot failed",
    ];
    if !known.contains(&status.get_ref().as_str()) {
        let near = crate::lang::suggest(status.get_ref(), known.iter().copied());
        return Err(t.cx.err(
            status.span(),
            format!(
                "unknown CAPF status {:?}{near} (expected one of {})",
                status.get_ref(),
                known.join(", ")
            ),
        ));
    }
    let fleet = e.fleet.as_ref().map(|f| t.fleet_devices(f)).transpose()?;
    let count = count(t, e, phones, true)?.expect("required");
    let (by_ms, by_text) = by(t, b)?;
    Ok(Expectation::CapfStatus {
        by_ms,
        by_text,
        status: status.get_ref().clone(),
        fleet,
        count,
    })
}
