//! Checking a parsed scenario and compiling it into what the engine runs: names resolved to
//! hosts and phone ranges, steps and faults into timed events and link rules, expectations
//! into checks over the trace. Every error points at the offending value.
//!
//! ```text
//!  raw::File ──compile_with──► [[ca]] ──capf::cas──────────┐
//!                              [[cluster]] ──topology──────┤ topology (names resolve here)
//!                              [[fleet]] ──fleets──────────┘
//!                              [[step]]   ──steps::step──────► Timeline.events
//!                              [[fault]]  ──faults::fault────► Timeline.events / rules
//!                              [[expect]] ──expectations─────► Vec<Expectation>
//!                              [scenario] ──────────────────► Compiled { WorldSpec, expectations }
//! ```

mod capf;
pub(in crate::lang) mod context;
mod expectations;
mod faults;
mod fleets;
mod steps;
mod timeline;
mod topology;
pub(in crate::lang) mod values;

use crate::engine::spec::TlsMode;
use crate::engine::{Event, WorldSpec};
use crate::lang::compiled::{Compiled, Expectation};
use crate::lang::raw::{self, Meta, S};
use context::{Ctx, R};
use cucmsim_core::WallTime;
use std::path::PathBuf;
use timeline::Timeline;
use values::parse_epoch;

/// Command-line overrides applied while compiling.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    /// Total phones: fleets and expectation counts scale proportionally.
    pub phones: Option<u32>,
    pub tls: Option<TlsMode>,
}

/// Compiles a parsed file.
pub fn compile(file: &str, text: &str, raw: raw::File) -> R<Compiled> {
    compile_with(file, text, raw, Overrides::default())
}

/// Compiles a parsed file with command-line overrides.
pub fn compile_with(file: &str, text: &str, raw: raw::File, o: Overrides) -> R<Compiled> {
    let default_epoch = WallTime::from_ymd(2025, 6, 1).expect("valid date");
    let cx = Ctx {
        file,
        text,
        epoch: default_epoch,
    };
    let meta = raw
        .scenario
        .as_ref()
        .ok_or_else(|| cx.err(0..0, "missing [scenario] table (name, duration)"))?;
    let meta = meta.get_ref();
    let epoch = epoch(&cx, meta)?;
    let cx = Ctx { epoch, ..cx };
    let cas = capf::cas(&cx, &raw.ca)?;
    let clusters = topology::clusters(&cx, &raw.cluster, &cas)?;
    let declared: u32 = raw
        .fleet
        .iter()
        .map(|f| (*f.get_ref().count.get_ref()).clamp(0, u32::MAX as i64) as u32)
        .sum();
    let (fleets, _scale) = fleets::fleets(&cx, &raw.fleet, &clusters, o.phones)?;
    let scale_count = |n: i64| -> u64 {
        match (o.phones, declared) {
            (Some(total), d) if d > 0 => {
                ((n as f64) * f64::from(total) / f64::from(d)).round() as u64
            }
            _ => n.max(0) as u64,
        }
    };
    let mut t = Timeline {
        cx: &cx,
        clusters: &clusters,
        fleets: &fleets,
        cas: &cas,
        events: vec![],
        rules: vec![],
    };
    let (expectations, steps) = timed(&mut t, &raw, &scale_count)?;
    // Sorted by time; at one instant steps before faults, each in file order.
    let mut events: Vec<(bool, (u64, Event))> = std::mem::take(&mut t.events)
        .into_iter()
        .enumerate()
        .map(|(i, e)| (i < steps, e))
        .collect();
    events.sort_by_key(|(_, (t, _))| *t);
    let (operator, events): (Vec<bool>, Vec<(u64, Event)>) = events.into_iter().unzip();
    let link_rules = std::mem::take(&mut t.rules);
    let tls = tls(&cx, meta)?;
    let name = meta.name.get_ref().clone();
    if name.is_empty() {
        return Err(cx.err(meta.name.span(), "scenario name must not be empty"));
    }
    let spec = WorldSpec {
        name,
        seed: o.seed.or(meta.seed).unwrap_or(1),
        duration_ms: cx.ms(&meta.duration)?,
        epoch,
        phone_boot_ms: meta
            .phone_boot
            .as_ref()
            .map(|d| cx.ms(d))
            .transpose()?
            .unwrap_or(30_000),
        tls: o.tls.unwrap_or(tls),
        clusters,
        fleets,
        cas,
        events,
        operator,
        operator_wait_ms: meta
            .operator_wait
            .as_ref()
            .map(|d| cx.ms(d))
            .transpose()?
            .unwrap_or(WorldSpec::OPERATOR_WAIT_MS),
        link_rules,
        phone_key_pool: phone_key_pool(&cx, meta)?,
        latency_ms: (1, 2),
    };
    Ok(Compiled {
        spec,
        expectations,
        source: PathBuf::from(file),
        intent: crate::lang::compiled::intent_of(text),
    })
}

/// Steps and faults into `t`, then the expectations (counts scaled by `scale`); also how
/// many of `t`'s events came from steps (they come first).
fn timed(
    t: &mut Timeline,
    raw: &raw::File,
    scale: &dyn Fn(i64) -> u64,
) -> R<(Vec<Expectation>, usize)> {
    for s in &raw.step {
        steps::step(t, s.get_ref())?;
    }
    let steps = t.events.len();
    for f in &raw.fault {
        faults::fault(t, f.get_ref())?;
    }
    let expectations = raw
        .expect
        .iter()
        .map(|e| expectations::expect(t, e.get_ref(), scale))
        .collect::<R<Vec<_>>>()?;
    Ok((expectations, steps))
}

/// `epoch`: the wall clock at t = 0 (default 2025-06-01).
fn epoch(cx: &Ctx, meta: &Meta) -> R<WallTime> {
    Ok(match &meta.epoch {
        Some(e) => parse_epoch(e.get_ref()).ok_or_else(|| {
            cx.err(
                e.span(),
                "bad epoch: expected RFC 3339, e.g. \"2025-06-01T00:00:00Z\"",
            )
        })?,
        None => WallTime::from_ymd(2025, 6, 1).expect("valid date"),
    })
}

/// `tls`: "full" (default) or "identity".
fn tls(cx: &Ctx, meta: &Meta) -> R<TlsMode> {
    let Some(t) = &meta.tls else {
        return Ok(TlsMode::Full);
    };
    match t.get_ref().as_str() {
        "full" => Ok(TlsMode::Full),
        "identity" => Ok(TlsMode::Identity),
        other => Err(cx.err(
            t.span(),
            format!("tls must be \"full\" or \"identity\", not {other:?}"),
        )),
    }
}

/// `phone_key_pool`: 0–100,000 (default 64).
fn phone_key_pool(cx: &Ctx, meta: &Meta) -> R<u32> {
    let pool: &Option<S<i64>> = &meta.phone_key_pool;
    match pool {
        None => Ok(64),
        Some(n) if (0..=100_000).contains(n.get_ref()) => Ok(*n.get_ref() as u32),
        Some(n) => Err(cx.err(n.span(), "phone_key_pool must be between 0 and 100,000")),
    }
}
