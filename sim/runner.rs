//! `cucmsim run`: run a compiled scenario, evaluate its expectations, write `report.json`,
//! print the human summary (or the JSON), and say how to reproduce a failure.

use crate::engine::{run, WorldSpec};
use crate::expect::{evaluate, fmt_ms, Expectation, Outcome};
use crate::report::{by_state, canonical, failures, phones_at, trace_hash};
use cucmsim_core::machine::Observation;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub spec: WorldSpec,
    pub expectations: Vec<Expectation>,
    /// The scenario file, for the reproduce command.
    pub source: PathBuf,
}

/// The machine-readable report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub trace_hash: String,
    pub phones: Phones,
    pub failures: BTreeMap<String, u64>,
    pub expectations: Expectations,
    pub virtual_time_s: f64,
    pub wall_time_s: f64,
    /// Observations in the trace.
    pub events: u64,
    pub messages: Messages,
    pub tvs_mode: String,
    pub reproduce: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Phones {
    pub total: u64,
    pub by_state: BTreeMap<String, u64>,
    pub by_cluster: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Expectations {
    pub passed: u64,
    pub failed: u64,
    pub details: Vec<Outcome>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Messages {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// The command that reproduces this run.
pub fn reproduce_command(c: &Compiled, phones: Option<u32>) -> String {
    let mut cmd = format!("cucmsim run {} --seed {}", c.source.display(), c.spec.seed);
    if let Some(n) = phones {
        cmd += &format!(" --phones {n}");
    }
    cmd
}

/// Runs and builds the report.
pub fn execute(c: &Compiled, phones_override: Option<u32>) -> Result<Report, String> {
    execute_with_trace(c, phones_override).map(|(r, _)| r)
}

/// Runs and returns the report and the canonical observation trace.
pub fn execute_with_trace(
    c: &Compiled,
    phones_override: Option<u32>,
) -> Result<(Report, Vec<Observation>), String> {
    let out = run(&c.spec)?;
    let trace = canonical(out.trace);
    let end = phones_at(&trace, c.spec.duration_ms);
    let details = evaluate(&c.expectations, &trace);
    let passed = details.iter().filter(|d| d.passed).count() as u64;
    let mut by_cluster = BTreeMap::new();
    for v in end.values() {
        if let Some(cl) = &v.cluster {
            *by_cluster.entry(cl.clone()).or_insert(0) += 1;
        }
    }
    let report = Report {
        scenario: c.spec.name.clone(),
        seed: c.spec.seed,
        trace_hash: trace_hash(&trace),
        phones: Phones {
            total: u64::from(c.spec.phone_count()),
            by_state: by_state(&end),
            by_cluster,
        },
        failures: failures(&end),
        expectations: Expectations {
            passed,
            failed: details.len() as u64 - passed,
            details,
        },
        virtual_time_s: out.virtual_ms as f64 / 1000.0,
        wall_time_s: out.wall_s,
        events: trace.len() as u64,
        messages: Messages {
            sent: out.counters.sent,
            delivered: out.counters.delivered,
            dropped: out.counters.dropped,
            duplicated: out.counters.duplicated,
        },
        tvs_mode: format!("{:?}", c.spec.tls).to_lowercase(),
        reproduce: reproduce_command(c, phones_override),
    };
    Ok((report, trace))
}

/// Writes the trace as JSON lines (one observation a line) to `path`.
pub fn write_trace(path: &Path, trace: &[Observation]) -> Result<(), String> {
    let mut text = String::new();
    for o in trace {
        text += &serde_json::to_string(o).map_err(|e| e.to_string())?;
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The human summary.
pub fn summary(r: &Report) -> String {
    let mut s = format!(
        "scenario {} (seed {}), {} phones, TVS sessions: {}\n",
        r.scenario, r.seed, r.phones.total, r.tvs_mode
    );
    let _ = writeln!(s, "phones by state at the end:");
    for (state, n) in &r.phones.by_state {
        let _ = writeln!(s, "  {n:>7}  {state}");
    }
    for (cluster, n) in &r.phones.by_cluster {
        let _ = writeln!(s, "  {n:>7}  registered on {cluster}");
    }
    if !r.failures.is_empty() {
        let _ = writeln!(s, "failures by reason:");
        for (reason, n) in &r.failures {
            let _ = writeln!(s, "  {n:>7}  {reason}");
        }
    }
    let _ = writeln!(
        s,
        "expectations: {} passed, {} failed",
        r.expectations.passed, r.expectations.failed
    );
    for d in &r.expectations.details {
        let mark = if d.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(s, "  {mark} {} (actual: {})", d.expectation, d.actual);
    }
    let _ = writeln!(
        s,
        "virtual time {}, wall time {:.2} s, {} observations, {} messages ({} dropped)",
        fmt_ms((r.virtual_time_s * 1000.0) as u64),
        r.wall_time_s,
        r.events,
        r.messages.sent,
        r.messages.dropped
    );
    let _ = writeln!(s, "trace hash {}", r.trace_hash);
    if r.expectations.failed > 0 {
        let _ = writeln!(s, "reproduce: {}", r.reproduce);
    }
    s
}

/// Writes `report.json` into `dir`.
pub fn write_report(dir: &Path, r: &Report) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("report.json");
    let json = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
