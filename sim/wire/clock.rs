//! Wire mode's two clocks, handed to the pure machines as [`Now`]: monotonic ms since the
//! driver started (drives their timers) and the host's wall clock (drives certificate validity;
//! design.md: "in wire mode the simulated clock follows the host's"), optionally moved by a
//! fixed offset so a scenario's certificates can be judged at the scenario's own epoch.

use cucmsim_core::machine::Now;
use cucmsim_core::WallTime;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where wire-mode time comes from.
#[derive(Clone, Copy, Debug)]
pub struct WireClock {
    origin: Instant,
    /// Seconds added to the host's wall clock.
    offset_s: i64,
}

impl WireClock {
    /// The host's wall clock, moved by `offset_s`.
    pub fn new(offset_s: i64) -> WireClock {
        WireClock {
            origin: Instant::now(),
            offset_s,
        }
    }

    /// A clock whose wall time starts at `at` (the scenario's epoch) and runs in real time.
    pub fn starting_at(at: WallTime) -> WireClock {
        WireClock::new(at.0 - host_wall().0)
    }

    /// The host's wall clock moved by the offset.
    pub fn wall(&self) -> WallTime {
        host_wall().plus_s(self.offset_s)
    }

    /// Both clocks now.
    pub fn now(&self) -> Now {
        Now {
            mono_ms: self.origin.elapsed().as_millis() as u64,
            wall: self.wall(),
        }
    }
}

/// The host's wall clock, Unix seconds.
pub fn host_wall() -> WallTime {
    let s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    WallTime(s)
}
