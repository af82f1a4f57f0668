//! The bounds a scenario must stay within so that its run ends, fits in memory, writes its
//! reports under a safe directory and issues certificates X.509 can date: the duration, the
//! epoch, the scenario name, the fleets' MAC ranges and the number of periodic events
//! (keepalives, register retries) the run would carry out. Each refusal says the limit.
//!
//! ```text
//!  [scenario] duration ──duration──► 1 ms ..= 7300 days
//!  [scenario] epoch    ──epoch──────► 1971-01-01 ..= 9999-12-31 − 20 years − duration
//!  [scenario] name     ──name───────► [A-Za-z0-9._-]{1,100}, not starting with '.'
//!  [[fleet]] mac_start + count ──macs──► inside 000000000000..=FFFFFFFFFFFF, no overlap
//!  Σ phones × duration ÷ period ──periodic──► at most MAX_PERIODIC_EVENTS
//! ```

use super::context::{Ctx, R};
use crate::engine::FleetDef;
use crate::lang::durations::fmt_ms;
use crate::lang::raw::{self, Dur, S};
use cucmsim_core::WallTime;

const DAY_MS: u64 = 86_400_000;
/// The longest run: 20 years of virtual time.
pub const MAX_DURATION_MS: u64 = 7300 * DAY_MS;
/// The most periodic events (keepalives, register retries) a run may plan:
/// Σ over fleets of phones × duration ÷ period. 20 phones with `keepalive = "1 ms"` over
/// 10 min would be 12 million keepalives (about 2.9 GB of trace); the bundled
/// `perf/keepalive_week.toml` plans 6.72 million.
pub const MAX_PERIODIC_EVENTS: u64 = 20_000_000;
/// The shortest keepalive interval (CUCM's Station KeepAlive Interval is 10 s or more).
pub const MIN_KEEPALIVE_MS: u64 = 1_000;
/// The longest scenario name (it names the results directory).
pub const MAX_NAME_LEN: usize = 100;
/// The longest certificate validity the simulator issues (a Cisco manufacturing root, an
/// online CA's root, ITLRecovery from 12.5): 20 years.
const LONGEST_VALIDITY_S: i64 = 20 * WallTime::YEAR_S;
/// Phones and clusters are installed one year before the epoch.
const INSTALL_BEFORE_S: i64 = WallTime::YEAR_S;
/// The last MAC address.
const MAC_MAX: u64 = 0xFFFF_FFFF_FFFF;

/// `duration`: longer than 0, at most [`MAX_DURATION_MS`].
pub(super) fn duration(cx: &Ctx, d: &S<Dur>) -> R<u64> {
    let ms = cx.ms(d)?;
    if ms == 0 {
        return Err(cx.err(d.span(), "duration must be longer than 0"));
    }
    if ms > MAX_DURATION_MS {
        return Err(cx.err(
            d.span(),
            format!(
                "duration {} is longer than the longest run, {}",
                d.get_ref().as_written(),
                fmt_ms(MAX_DURATION_MS)
            ),
        ));
    }
    Ok(ms)
}

/// The epoch leaves room for certificates issued a year before it and for the longest
/// validity after the end of the run, inside what X.509 times hold (1970..=9999 here).
pub(super) fn epoch(cx: &Ctx, span: std::ops::Range<usize>, duration_ms: u64) -> R<()> {
    let first = WallTime(INSTALL_BEFORE_S);
    let run_s = (duration_ms / 1000) as i64;
    let last = WallTime::MAX_X509.plus_s(-LONGEST_VALIDITY_S - run_s);
    if cx.epoch < first || cx.epoch > last {
        return Err(cx.err(
            span,
            format!(
                "epoch {} is out of range: with this duration it must be between {first} and {last} \
                 (certificates start one year before the epoch and last up to 20 years after the end; \
                 X.509 times here run from 1970-01-01 to 9999-12-31)",
                cx.epoch
            ),
        ));
    }
    Ok(())
}

/// The scenario name becomes a directory name: letters, digits, `.`, `_`, `-`, not starting
/// with `.`, 1 to [`MAX_NAME_LEN`] characters.
pub(super) fn name(cx: &Ctx, n: &S<String>) -> R<()> {
    let text = n.get_ref();
    if text.is_empty() {
        return Err(cx.err(n.span(), "scenario name must not be empty"));
    }
    let safe = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !safe || text.starts_with('.') || text.len() > MAX_NAME_LEN {
        let shown: String = text.chars().take(40).collect();
        let more = if text.chars().count() > 40 { "…" } else { "" };
        return Err(cx.err(
            n.span(),
            format!(
                "scenario name {shown:?}{more} is not a safe directory name: use 1 to {MAX_NAME_LEN} \
                 letters, digits, '.', '_' or '-', not starting with '.'"
            ),
        ));
    }
    Ok(())
}

/// Each fleet's MAC range `mac_start ..= mac_start + count − 1` stays below FFFFFFFFFFFF and
/// overlaps no other fleet's (device names are `SEP<MAC>`).
pub(super) fn macs(cx: &Ctx, raw: &[S<raw::Fleet>], fleets: &[FleetDef]) -> R<()> {
    for (i, (r, f)) in raw.iter().zip(fleets).enumerate() {
        let span = r.get_ref().mac_start.span();
        let Some(last) = last_mac(f) else { continue };
        if last > MAC_MAX {
            return Err(cx.err(
                span,
                format!(
                    "fleet {:?}: {} phones from {:012X} run past FFFFFFFFFFFF: start at {:012X} or lower",
                    f.name,
                    f.count,
                    f.mac_start,
                    MAC_MAX + 1 - u64::from(f.count)
                ),
            ));
        }
        for o in &fleets[..i] {
            let Some(o_last) = last_mac(o) else { continue };
            if f.mac_start <= o_last && o.mac_start <= last {
                return Err(cx.err(
                    span,
                    format!(
                        "fleet {:?} ({:012X}–{last:012X}) overlaps fleet {:?} ({:012X}–{o_last:012X}): \
                         MAC addresses name the phones and must be unique",
                        f.name, f.mac_start, o.name, o.mac_start
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The last MAC of a fleet (none for an empty fleet).
fn last_mac(f: &FleetDef) -> Option<u64> {
    (f.count > 0).then(|| f.mac_start + u64::from(f.count) - 1)
}

/// A fleet's keepalive is at least [`MIN_KEEPALIVE_MS`], and the periodic events of all
/// fleets (keepalives, and register retries as if every phone kept failing) stay within
/// [`MAX_PERIODIC_EVENTS`].
pub(super) fn periodic(
    cx: &Ctx,
    raw: &[S<raw::Fleet>],
    fleets: &[FleetDef],
    duration_ms: u64,
) -> R<()> {
    let mut total: u128 = 0;
    for (r, f) in raw.iter().zip(fleets) {
        if let (Some(k), Some(span)) = (&f.keepalive, r.get_ref().keepalive.as_ref()) {
            if k.interval_ms < MIN_KEEPALIVE_MS {
                return Err(cx.err(
                    span.span(),
                    format!(
                        "keepalive {} is shorter than {} (CUCM's Station KeepAlive Interval is 10 s or more)",
                        span.get_ref().as_written(),
                        fmt_ms(MIN_KEEPALIVE_MS)
                    ),
                ));
            }
            total += u128::from(f.count) * u128::from(duration_ms / k.interval_ms);
        }
        if let Some(retries) = duration_ms.checked_div(f.register_retry_ms) {
            total += u128::from(f.count) * u128::from(retries);
        }
    }
    if total > u128::from(MAX_PERIODIC_EVENTS) {
        let span = raw.first().map_or(0..0, |f| f.span());
        return Err(cx.err(
            span,
            format!(
                "this run would plan {total} periodic events (phones × duration ÷ keepalive or \
                 register_retry, summed over fleets), more than the limit of {MAX_PERIODIC_EVENTS}: \
                 use fewer phones, a shorter duration or longer periods"
            ),
        ));
    }
    Ok(())
}

/// A period of a step (e.g. CSCup28852's reset loop) repeats at most
/// [`MAX_PERIODIC_EVENTS`] times within the run.
pub(in crate::lang) fn period(cx: &Ctx, d: &S<Dur>, period_ms: u64) -> R<()> {
    let n = cx.duration_ms / period_ms.max(1);
    if n > MAX_PERIODIC_EVENTS {
        return Err(cx.err(
            d.span(),
            format!(
                "period {} repeats {n} times within the run, more than the limit of {MAX_PERIODIC_EVENTS}",
                d.get_ref().as_written()
            ),
        ));
    }
    Ok(())
}
