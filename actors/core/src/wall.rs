//! Simulated wall-clock time: seconds since the Unix epoch, always passed in, never read.
//!
//! Certificate validity, ITL timestamps and rcgen validity windows are judged by a host's own
//! simulated wall clock (which a scenario may skew), so the core takes a [`WallTime`] argument
//! wherever time matters.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point on the simulated wall clock, in seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WallTime(pub i64);

impl WallTime {
    /// Seconds in a (non-leap) day.
    pub const DAY_S: i64 = 86_400;
    /// Seconds in 365 days, the unit CUCM uses for "5 years" validity.
    pub const YEAR_S: i64 = 365 * Self::DAY_S;

    /// 9999-12-31T23:59:59Z, the latest time X.509 GeneralizedTime can carry.
    pub const MAX_X509: WallTime = WallTime(253_402_300_799);

    /// Unix seconds.
    pub fn unix_s(self) -> i64 {
        self.0
    }

    /// This instant moved by `secs` (negative moves back).
    pub fn plus_s(self, secs: i64) -> WallTime {
        WallTime(self.0.saturating_add(secs))
    }

    /// As a `time` date-time (UTC); out-of-range values clamp to the representable range.
    pub fn to_offset_date_time(self) -> time::OffsetDateTime {
        let clamped = self.0.clamp(0, Self::MAX_X509.0);
        time::OffsetDateTime::from_unix_timestamp(clamped)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    /// From a calendar date at midnight UTC.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<WallTime> {
        let month = time::Month::try_from(month).ok()?;
        let date = time::Date::from_calendar_date(year, month, day).ok()?;
        Some(WallTime(date.midnight().assume_utc().unix_timestamp()))
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

/// The two clocks a machine is handed with each input: monotonic virtual time (drives timers)
/// and this host's wall clock (drives certificate validity; a scenario may skew it per host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now {
    pub mono_ms: u64,
    pub wall: WallTime,
}
