//! Scalar values of the scenario language, read against the context: service times
//! (`"0.2 ms"`), the epoch, key profiles, service names, security profiles and address
//! families. Each parses one value and points at it when it is wrong.
//!
//! ```text
//!  S<Dur> "200 us"  ──service_us──► 200 µs   (or "FILE:LINE:COL: bad service time …")
//!  S<String> "tvs"  ──service─────► Service::Tvs
//! ```

use super::context::{Ctx, R};
use crate::engine::Service;
use crate::lang::durations::parse_duration_us;
use crate::lang::raw::{Dur, S};
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::sgn::SecurityMode;
use cucmsim_core::WallTime;

/// A service time (`"2 ms"`, `"200 us"`, or whole seconds), 0–1 h, in µs.
pub(super) fn service_us(cx: &Ctx, d: &S<Dur>) -> R<u64> {
    match d.get_ref() {
        Dur::Secs(s) if (0..=3600).contains(s) => Ok(*s as u64 * 1_000_000),
        Dur::Secs(_) => Err(cx.err(d.span(), "a service time is between 0 and 1 h")),
        Dur::Text(t) => parse_duration_us(t).map_err(|m| cx.err(d.span(), m)),
    }
}

/// An RFC 3339 time, e.g. `"2025-06-01T00:00:00Z"`, or a date, `"2025-06-01"` (midnight UTC).
pub(super) fn parse_epoch(text: &str) -> Option<WallTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(WallTime(t.unix_timestamp()));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    Some(WallTime(date.midnight().assume_utc().unix_timestamp()))
}

/// A key profile (`"rsa2048"`, `"ec-p256"`, …), or `default` when absent.
pub(super) fn key(cx: &Ctx, k: &Option<S<String>>, default: KeyProfile) -> R<KeyProfile> {
    match k {
        None => Ok(default),
        Some(k) => k.get_ref().parse().map_err(|e: String| cx.err(k.span(), e)),
    }
}

pub(in crate::lang) fn service(cx: &Ctx, s: &S<String>) -> R<Service> {
    match s.get_ref().to_ascii_lowercase().as_str() {
        "callmanager" => Ok(Service::CallManager),
        "tftp" => Ok(Service::Tftp),
        "tvs" => Ok(Service::Tvs),
        "capf" => Ok(Service::Capf),
        "ctl-provider" => Ok(Service::CtlProvider),
        other => Err(cx.err(
            s.span(),
            format!(
                "unknown service {other:?}: expected callmanager, tftp, tvs, capf or ctl-provider"
            ),
        )),
    }
}

/// A Phone Security Profile's mode: `non-secure`, `authenticated`, `encrypted`.
pub(in crate::lang) fn security_mode(cx: &Ctx, p: &S<String>) -> R<SecurityMode> {
    match p.get_ref().as_str() {
        "non-secure" => Ok(SecurityMode::NonSecure),
        "authenticated" => Ok(SecurityMode::Authenticated),
        "encrypted" => Ok(SecurityMode::Encrypted),
        other => Err(cx.err(
            p.span(),
            format!("security profile must be \"non-secure\", \"authenticated\" or \"encrypted\", not {other:?}"),
        )),
    }
}

/// `["ipv4", "ipv6"]` → (v4, v6).
pub(super) fn families_of(cx: &Ctx, a: &S<Vec<String>>) -> R<(bool, bool)> {
    let mut v = (false, false);
    for f in a.get_ref() {
        match f.to_ascii_lowercase().as_str() {
            "ipv4" | "v4" => v.0 = true,
            "ipv6" | "v6" => v.1 = true,
            other => {
                return Err(cx.err(
                    a.span(),
                    format!("address family {other:?}: expected \"ipv4\" or \"ipv6\""),
                ))
            }
        }
    }
    if v == (false, false) {
        return Err(cx.err(a.span(), "give at least one of \"ipv4\", \"ipv6\""));
    }
    Ok(v)
}
