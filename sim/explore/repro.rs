//! What explore writes: for each distinct failure a reproducer, `<failure>-<hash>.toml`, a
//! complete scenario in the normal language (the user's file with the shrunk plan applied)
//! opening with a comment that says what failed, when, in which participant, the trace hash,
//! the original plan's size and the command that replays it; and `index.json` listing them.
//!
//! ```text
//!  Found { failure, shrunk plan, base } ──text──► "# cucmsim explore: …" + Base::render(plan)
//!  Vec<Found> + counts ──index──► DIR/index.json (the same JSON `--json` prints)
//! ```

use super::base::Base;
use super::classify::{when, Failure, Kind};
use super::plan::{describe, Item};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One distinct failure, shrunk and written.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// The reproducer's path.
    pub file: String,
    pub kind: Kind,
    pub id: String,
    pub what: String,
    pub at_ms: u64,
    pub who: Option<String>,
    pub detail: String,
    /// Faults and perturbations in the reproducer's plan.
    pub faults: usize,
    /// In the plan of the case that first showed it.
    pub original_faults: usize,
    /// That case's number (0: the scenario alone, with no plan).
    pub case: u64,
    pub phones: u32,
    pub trace_hash: String,
    pub shrink_runs: u32,
    pub shrink_accepted: u32,
    pub shrink_s: f64,
    /// Shows only with the canary planted (replay: `explore FILE --replay --canary`).
    pub needs_canary: bool,
    pub plan: Vec<Item>,
}

impl Found {
    /// The record of `failure`, shown by the shrunk plan (its file still to be written).
    pub fn new(
        shrunk: &super::shrink::Shrunk,
        failure: &Failure,
        case: u64,
        original_faults: usize,
        trace_hash: &str,
    ) -> Found {
        Found {
            file: String::new(),
            kind: failure.kind,
            id: failure.id.clone(),
            what: failure.what.clone(),
            at_ms: failure.at_ms,
            who: failure.who.clone(),
            detail: failure.detail.clone(),
            faults: shrunk.plan.len(),
            original_faults,
            case,
            phones: shrunk.base.phones,
            trace_hash: trace_hash.to_string(),
            shrink_runs: shrunk.runs,
            shrink_accepted: shrunk.accepted,
            shrink_s: shrunk.elapsed_s,
            needs_canary: false,
            plan: shrunk.plan.clone(),
        }
    }
}

/// What a failure's reproducer is made of.
pub struct Repro<'a> {
    pub base: &'a Base,
    pub plan: &'a [Item],
    pub failure: &'a Failure,
    pub trace_hash: &'a str,
    pub original_plan: usize,
    pub case: u64,
    /// The explore command that found it.
    pub command: &'a str,
    /// The failure shows only with the canary planted.
    pub canary: bool,
}

/// `tvs_vouches_from_stores-3f2a1b2c.toml`, `expect-2-3f2a1b2c.toml`.
pub fn file_name(f: &Failure, trace_hash: &str) -> String {
    let id: String =
        f.id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
    format!("{id}-{}.toml", &trace_hash[..trace_hash.len().min(8)])
}

/// The reproducer's text; `path` is where it is written (for the replay command).
pub fn text(r: &Repro<'_>, path: &Path) -> String {
    let f = r.failure;
    let mut s = String::new();
    let _ = writeln!(s, "# Reproducer written by cucmsim explore.");
    let what = match f.kind {
        Kind::Invariant => f.what.clone(),
        Kind::Expectation => format!("{} (the plan below breaks the procedure)", f.what),
    };
    let _ = writeln!(s, "# What failed: {what}");
    let _ = writeln!(s, "# At virtual time {}", when(f.at_ms));
    if let Some(who) = &f.who {
        let _ = writeln!(s, "# In participant {who}");
    }
    for line in f.detail.lines() {
        let _ = writeln!(s, "#   {line}");
    }
    let _ = writeln!(s, "# Trace hash {}", r.trace_hash);
    let _ = writeln!(
        s,
        "# Plan: {} fault(s) or perturbation(s), shrunk from {} (case {} of `{}`), {} phone(s):",
        r.plan.len(),
        r.original_plan,
        r.case,
        r.command,
        r.base.phones
    );
    if r.plan.is_empty() {
        let _ = writeln!(s, "#   (none: the scenario fails as written)");
    }
    for item in r.plan {
        let _ = writeln!(s, "#   - {}", describe(item, &r.base.step_names));
    }
    if r.canary {
        let _ = writeln!(
            s,
            "# Found with the planted canary defect on; replay with it (exit 1, this hash):\n#   cucmsim explore {} --replay --canary",
            path.display()
        );
    } else {
        let _ = writeln!(
            s,
            "# Replay (exit 1, this trace hash every time):\n#   cucmsim run {}",
            path.display()
        );
    }
    let _ = writeln!(
        s,
        "# Derived from {}; its own comment follows.",
        r.base.file
    );
    let _ = writeln!(s);
    s + &r.base.render(r.plan)
}

/// Writes the reproducer into `dir`; returns its path.
pub fn write(dir: &Path, r: &Repro<'_>) -> Result<PathBuf, String> {
    let path = dir.join(file_name(r.failure, r.trace_hash));
    std::fs::write(&path, text(r, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// What one explore did: the `--json` summary and `index.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    /// The search seed.
    pub seed: u64,
    /// The world's seed (the scenario's).
    pub world_seed: u64,
    pub phones: u32,
    pub canary: bool,
    pub cases: u64,
    pub elapsed_s: f64,
    /// Of `elapsed_s`, running cases (not shrinking).
    pub search_s: f64,
    /// Cases a second while searching, after the first.
    pub cases_per_s: f64,
    /// The first case, which built the world's artefacts for all the others.
    pub first_case_s: f64,
    pub shrink_s: f64,
    pub out: String,
    pub failures: Vec<Found>,
}

/// Writes `index.json` into `dir`.
pub fn write_index(dir: &Path, s: &Summary) -> Result<(), String> {
    let path = dir.join("index.json");
    let json = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}
