//! What the scenario language produces: [`Compiled`], the world the engine builds and runs
//! (a [`WorldSpec`]) and the [`Expectation`]s checked over its trace afterwards.
//!
//! ```text
//!  scenario.toml ──lang::compile──► Compiled { spec ──► engine::run ──► trace
//!                                              expectations ──► checks::expect::evaluate(trace) }
//! ```

use crate::engine::spec::WorldSpec;
use serde::Serialize;
use std::path::PathBuf;

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub spec: WorldSpec,
    pub expectations: Vec<Expectation>,
    /// The scenario file, for the reproduce command.
    pub source: PathBuf,
    /// What the scenario is for: its opening comment block, `#` marks removed (empty when the
    /// file opens with no comment). The report puts it at the top.
    pub intent: String,
}

/// The opening comment block of a scenario file: the `#` lines before the first other line
/// (blank lines between comment lines kept as paragraph breaks), `#` and one space removed.
pub fn intent_of(text: &str) -> String {
    let mut lines: Vec<&str> = vec![];
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            lines.push(c.strip_prefix(' ').unwrap_or(c).trim_end());
        } else if t.is_empty() && !lines.is_empty() {
            lines.push("");
        } else if !t.is_empty() {
            break;
        }
    }
    while lines.last() == Some(&"") {
        lines.pop();
    }
    // Paragraphs: comment lines joined by spaces, blank lines (or bare `#`) between them.
    lines
        .split(|l| l.is_empty())
        .filter(|p| !p.is_empty())
        .map(|p| p.join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A count comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Count {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
}

impl Count {
    pub fn holds(self, n: u64) -> bool {
        match self {
            Count::Exactly(k) => n == k,
            Count::AtLeast(k) => n >= k,
            Count::AtMost(k) => n <= k,
        }
    }

    /// `exactly 3`, `at least 3`, `at most 3`.
    pub fn text(self) -> String {
        match self {
            Count::Exactly(k) => format!("exactly {k}"),
            Count::AtLeast(k) => format!("at least {k}"),
            Count::AtMost(k) => format!("at most {k}"),
        }
    }
}

/// One expectation, resolved (fleet names to device names).
#[derive(Clone, Debug)]
pub enum Expectation {
    Phones {
        by_ms: u64,
        /// `by` as the scenario wrote it (`"1 h 15 min"`), for reports.
        by_text: String,
        state: String,
        cluster: Option<String>,
        /// Device names of the fleet, when the expectation names one.
        fleet: Option<(String, Vec<String>)>,
        count: Count,
    },
    Observation {
        by_ms: Option<u64>,
        by_text: Option<String>,
        what: cucmsim_core::machine::Kind,
        /// Only observations whose detail contains this text.
        detail: Option<String>,
        /// Only observations made by the phones of this fleet (device names, sorted).
        fleet: Option<(String, Vec<String>)>,
        happens: bool,
        count: Option<Count>,
    },
    /// Devices whose CAPF "Certificate Operation Status" is `status` at `by_ms` (the last
    /// `capf_status` observation of each device).
    CapfStatus {
        by_ms: u64,
        by_text: String,
        status: String,
        fleet: Option<(String, Vec<String>)>,
        count: Count,
    },
    NoInvariantViolation,
}
