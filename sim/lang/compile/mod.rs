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
mod limits;
mod scale;
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
use scale::Scale;
use std::path::PathBuf;
use timeline::Timeline;
use values::parse_epoch;

/// Command-line overrides applied while compiling.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    /// Total phones, shared exactly among the fleets (largest remainder); counts of phones in
    /// expectations scale with them (see `scale`), other counts do not.
    pub phones: Option<u32>,
    pub tls: Option<TlsMode>,
}

pub use limits::{MAX_DURATION_MS, MAX_PERIODIC_EVENTS, MIN_KEEPALIVE_MS};

/// Compiles a parsed file.
pub fn compile(file: &str, text: &str, raw: raw::File) -> R<Compiled> {
    compile_with(file, text, raw, Overrides::default())
}

/// Compiles a parsed file with command-line overrides.
pub fn compile_with(file: &str, text: &str, raw: raw::File, o: Overrides) -> R<Compiled> {
    let cx = Ctx {
        file,
        text,
        epoch: default_epoch(),
        duration_ms: 0,
    };
    let meta = scenario_table(&cx, &raw)?;
    limits::name(&cx, &meta.name)?;
    let duration_ms = limits::duration(&cx, &meta.duration)?;
    let cx = Ctx {
        epoch: epoch(&cx, meta)?,
        duration_ms,
        ..cx
    };
    if let Some(e) = &meta.epoch {
        limits::epoch(&cx, e.span(), duration_ms)?;
    }
    let cas = capf::cas(&cx, &raw.ca)?;
    let clusters = topology::clusters(&cx, &raw.cluster, &cas)?;
    let fleets = fleets::fleets(&cx, &raw.fleet, &clusters, o.phones)?;
    limits::macs(&cx, &raw.fleet, &fleets)?;
    limits::periodic(&cx, &raw.fleet, &fleets, duration_ms)?;
    let scale = Scale::new(&raw.fleet, &fleets, o.phones.is_some());
    let mut t = Timeline {
        cx: &cx,
        clusters: &clusters,
        fleets: &fleets,
        cas: &cas,
        events: vec![],
        rules: vec![],
    };
    let (expectations, steps) = timed(&mut t, &raw, &scale)?;
    // Sorted by time; at one instant steps before faults, each in file order.
    let mut events: Vec<(bool, (u64, Event))> = std::mem::take(&mut t.events)
        .into_iter()
        .enumerate()
        .map(|(i, e)| (i < steps, e))
        .collect();
    events.sort_by_key(|(_, (t, _))| *t);
    let (operator, events): (Vec<bool>, Vec<(u64, Event)>) = events.into_iter().unzip();
    let link_rules = std::mem::take(&mut t.rules);
    let spec = WorldSpec {
        name: meta.name.get_ref().clone(),
        seed: o.seed.or(meta.seed).unwrap_or(1),
        duration_ms,
        epoch: cx.epoch,
        phone_boot_ms: meta
            .phone_boot
            .as_ref()
            .map(|d| cx.ms(d))
            .transpose()?
            .unwrap_or(30_000),
        tls: o.tls.unwrap_or(tls(&cx, meta)?),
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
        threads: 0, // every core; `run --threads` sets it
    };
    Ok(Compiled {
        spec,
        expectations,
        source: PathBuf::from(file),
        intent: crate::lang::compiled::intent_of(text),
    })
}

/// The `[scenario]` table, which every file must have.
fn scenario_table<'a>(cx: &Ctx<'_>, raw: &'a raw::File) -> R<&'a raw::Meta> {
    let meta = raw.scenario.as_ref();
    let meta = meta.ok_or_else(|| cx.err(0..0, "missing [scenario] table (name, duration)"))?;
    Ok(meta.get_ref())
}

/// 2025-06-01T00:00:00Z, the epoch when the scenario gives none.
fn default_epoch() -> WallTime {
    WallTime::from_ymd(2025, 6, 1).expect("valid date")
}

/// Steps and faults into `t`, then the expectations (counts scaled by `scale`); also how
/// many of `t`'s events came from steps (they come first).
fn timed(t: &mut Timeline, raw: &raw::File, scale: &Scale) -> R<(Vec<Expectation>, usize)> {
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
        Some(e) => parse_epoch(&e.get_ref().0).ok_or_else(|| {
            cx.err(
                e.span(),
                format!(
                    "bad epoch {:?}: expected a date and time (RFC 3339), e.g. \"2025-06-01T00:00:00Z\", or a date, \"2025-06-01\"",
                    e.get_ref().0
                ),
            )
        })?,
        None => default_epoch(),
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
