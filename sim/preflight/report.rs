//! What a preflight prints and writes: the verdict, the findings (catalogue entry, evidence,
//! fix), the phones by outcome with example timelines, and — under `--out` — `preflight.json`
//! plus the run report forms (`report.json`, `summary.md`, `report.html`), whose `findings`
//! carry the same findings.

use super::drive::INSTALLED;
use super::Outcome;
use crate::checks::expect::Outcome as Outcome_;
use crate::reports::metrics::{latencies, summarize, timeline};
use crate::reports::report::{canonical, trace_hash};
use crate::reports::runner::{Expectations, Messages, Phones, Report, RunResult};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Example phones shown per outcome.
const EXAMPLES: usize = 2;

fn cluster_text(c: &super::ClusterSummary, t: &mut String) {
    let _ = writeln!(
        t,
        "  {}: nodes {}; TFTP {}; TVS list {}",
        c.name,
        c.nodes.join(", "),
        c.tftp_nodes.join(", "),
        c.tvs_list.join(", ")
    );
    for s in &c.signers {
        let _ = writeln!(t, "    {s}");
    }
    for n in &c.inferred {
        let _ = writeln!(t, "    inferred: {n}");
    }
    if !c.imported.is_empty() {
        let _ = writeln!(
            t,
            "    bulk import added {} store entries",
            c.imported.len()
        );
    }
}

/// The text form.
pub fn text(o: &Outcome, written: &[PathBuf]) -> String {
    let mut t = format!(
        "Preflight {} ({}, CUCM {}, {}) → {} ({}, CUCM {}, {}){}: {}\n",
        o.source.name,
        o.source.dir,
        o.source.version,
        o.source.security_mode,
        o.destination.name,
        o.destination.dir,
        o.destination.version,
        o.destination.security_mode,
        if o.with_bulk_import {
            ", after Bulk Certificate Management"
        } else {
            ""
        },
        o.verdict.to_ascii_uppercase()
    );
    for c in [&o.source, &o.destination] {
        cluster_text(c, &mut t);
    }
    let _ = writeln!(
        t,
        "Phones ({} total, migration date {}):",
        o.runs.len(),
        o.date
    );
    for (state, n) in &o.phones {
        let _ = writeln!(t, "  {state:<28} {n}");
    }
    for f in &o.findings {
        let _ = writeln!(
            t,
            "[{}] {} {}",
            f.severity.to_ascii_uppercase(),
            f.id,
            f.title
        );
        for e in &f.evidence {
            let _ = writeln!(t, "    evidence: {e}");
        }
        let _ = writeln!(t, "    fix: {}", f.fix);
    }
    for state in o.phones.keys() {
        for r in o
            .runs
            .iter()
            .filter(|r| &r.outcome == state)
            .take(if state == INSTALLED { 1 } else { EXAMPLES })
        {
            let _ = writeln!(
                t,
                "Example {} ({} → {}): {}",
                r.device, r.source_tftp, r.destination_tftp, r.outcome
            );
            for l in &r.timeline {
                let _ = writeln!(t, "    {l}");
            }
        }
    }
    for p in written {
        let _ = writeln!(t, "wrote {}", p.display());
    }
    t
}

/// The preflight's two checks as the report's expectations: every phone installs the
/// destination's trust lists, and no finding is a failure.
fn expectations(o: &Outcome) -> Expectations {
    let installed = o.phones.get(INSTALLED).copied().unwrap_or(0);
    let fails = o.findings.iter().filter(|f| f.severity == "fail").count();
    let details = vec![
        Outcome_ {
            expectation: format!(
                "all {} phones install the destination's trust lists",
                o.runs.len()
            ),
            passed: installed == o.runs.len() as u64,
            actual: format!("{installed} installed"),
        },
        Outcome_ {
            expectation: "no finding of severity fail".into(),
            passed: fails == 0,
            actual: format!("{fails} failing findings"),
        },
    ];
    let passed = details.iter().filter(|d| d.passed).count() as u64;
    Expectations {
        passed,
        failed: details.len() as u64 - passed,
        details,
    }
}

/// The run report built from the preflight's trace, with its findings and phones by outcome.
fn run_result(o: &Outcome, command: &str) -> RunResult {
    let trace = canonical(o.trace.clone());
    let end_ms = trace.last().map_or(1, |x| x.t_ms.max(1));
    let latency = latencies(&trace);
    let end = crate::checks::phones::phones_at(&trace, end_ms);
    let mut failures = BTreeMap::new();
    for r in o.runs.iter().filter(|r| r.outcome != INSTALLED) {
        *failures
            .entry(r.reason.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    let report = Report {
        scenario: format!("preflight {} → {}", o.source.name, o.destination.name),
        // No scenario file: the clusters' own files (`--write-scenario` writes one).
        scenario_file: String::new(),
        phones_override: None,
        operator_steps: vec![],
        seed: o.seed,
        trace_hash: trace_hash(&trace),
        phones: Phones {
            total: o.runs.len() as u64,
            by_state: o.phones.clone(),
            by_cluster: BTreeMap::new(),
        },
        failures,
        expectations: expectations(o),
        virtual_time_s: end_ms as f64 / 1000.0,
        wall_time_s: o.wall_time_s,
        build_time_s: 0.0,
        events: trace.len() as u64,
        execution: Default::default(),
        messages: Messages {
            sent: 0,
            delivered: 0,
            dropped: 0,
            duplicated: 0,
        },
        tvs_mode: "identity".into(),
        rsa_backend: cucmsim_core::pki::rsa_backend().name().to_string(),
        signature_cache: Default::default(),
        reproduce: command.to_string(),
        latency: latency
            .iter()
            .map(|(k, h)| (k.to_string(), summarize(h, 1000.0)))
            .collect(),
        cpu_cost: BTreeMap::new(),
        faults: vec![],
        steps: vec![],
        enrollment: None,
        findings: o.findings.clone(),
        cucmsim_version: crate::version().to_string(),
        intent: format!(
            "Preflight: phones registered on {} (holding its real CTL/ITL) move to {} and \
             judge its real trust lists, asking {}'s TVS.",
            o.source.name, o.destination.name, o.source.name
        ),
        command: command.to_string(),
        date: crate::reports::runner::now_utc(),
        phones_by_cluster: crate::reports::outcome::by_cluster_and_state(&trace, &end, end_ms),
        failure_groups: crate::reports::outcome::failure_groups(&trace, &end),
    };
    RunResult {
        timeline: timeline(&trace, o.runs.len() as u64, end_ms, 60),
        report,
        trace,
        latency,
        cpu: BTreeMap::new(),
    }
}

/// Writes preflight.json and the report forms into `dir`; returns the paths.
pub fn write(dir: &Path, o: &Outcome, command: &str) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = dir.join("preflight.json");
    let body = serde_json::to_string_pretty(o).map_err(|e| e.to_string())?;
    std::fs::write(&json, body).map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    let mut written = vec![json];
    written.extend(crate::reports::output::write_all(
        dir,
        &run_result(o, command),
    )?);
    Ok(written)
}
