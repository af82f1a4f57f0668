//! Tests of the report forms (`summary.md`, `report.html`) on a report built by hand: a
//! failed migration with a finding, a failure group with an example timeline, steps named in
//! the field's words, CPU cost for the appendix. No world is run, so they take milliseconds.

use super::findings::Finding;
use super::html::report_html;
use super::metrics::Timeline;
use super::outcome::{Example, FailureGroup, Line};
use super::plots::Window;
use super::runner::{CpuCost, Expectations, Messages, Phones, Report, RunResult};
use super::summary::summary_md;
use super::wording::step_label;
use crate::checks::expect::Outcome;
use crate::engine::spec::Event;
use cucmsim_core::machine::Operator;
use std::collections::BTreeMap;

fn step(at_ms: u64, op: Operator) -> Window {
    let ev = Event::Operator {
        cluster: "src".into(),
        op,
    };
    Window {
        from_ms: at_ms,
        until_ms: at_ms,
        label: step_label(&ev).unwrap(),
    }
}

fn failure_group() -> FailureGroup {
    let line = |t_ms, what, detail: &str| Line {
        t_ms,
        what,
        detail: detail.into(),
    };
    FailureGroup {
        reason: "ITL: signer … (serial …) is not in the phone's CTL/ITL".into(),
        phones: 3,
        states: [("Trust List update failed".to_string(), 3)].into(),
        examples: vec![Example {
            device: "SEP001122000000".into(),
            reason: Some("ITL: signer CN=dst-pub (serial 5a02) is not …".into()),
            timeline: vec![
                line(420_000, "state", "Booting"),
                line(440_008, "trust_list_rejected", "ITL: signer CN=dst-pub …"),
            ],
            omitted: 0,
        }],
    }
}

/// A failed three-phone migration with one finding.
pub fn report() -> Report {
    Report {
        scenario: "change_4711".into(),
        seed: 7,
        trace_hash: "ab12".into(),
        phones: Phones {
            total: 3,
            by_state: [("Trust List update failed".to_string(), 3)].into(),
            by_cluster: BTreeMap::new(),
        },
        failures: BTreeMap::new(),
        expectations: Expectations {
            passed: 0,
            failed: 1,
            details: vec![Outcome {
                expectation: "exactly 3 phones \"Registered\" on dst by 30 min".into(),
                passed: false,
                actual: "0".into(),
            }],
        },
        virtual_time_s: 1800.0,
        wall_time_s: 1.5,
        build_time_s: 1.0,
        events: 60,
        execution: Default::default(),
        messages: Messages {
            sent: 10,
            delivered: 10,
            dropped: 0,
            duplicated: 0,
        },
        tvs_mode: "identity".into(),
        rsa_backend: "aws-lc".into(),
        signature_cache: Default::default(),
        reproduce: "cucmsim run change.toml --seed 7".into(),
        latency: BTreeMap::new(),
        cpu_cost: [(
            "phone/TftpReply".to_string(),
            CpuCost {
                count: 9,
                p50_us: 50.0,
                p99_us: 90.0,
                max_us: 95.0,
                total_ms: 0.5,
            },
        )]
        .into(),
        faults: vec![],
        steps: vec![
            step(120_000, Operator::BulkExport { types: vec![] }),
            step(240_000, Operator::BulkImport),
        ],
        enrollment: None,
        findings: vec![Finding {
            id: "F4".into(),
            severity: "fail".into(),
            title: "The destination's ITL signer is unknown to the source TVS".into(),
            evidence: vec!["ITLRecovery serial 5a02 is not in Phone-SAST-trust".into()],
            fix: "Import the destination's ITLRecovery (Bulk Certificate Import)".into(),
        }],
        cucmsim_version: crate::version().into(),
        scenario_file: "change.toml".into(),
        phones_override: None,
        operator_steps: vec![],
        intent: "Change 4711: move the lobby phones.\n\nExpected: all on dst.".into(),
        command: "cucmsim run change.toml --seed 7".into(),
        date: "2026-12-04 18:00:00 UTC".into(),
        phones_by_cluster: [(
            "src".to_string(),
            [("Trust List update failed".to_string(), 3)].into(),
        )]
        .into(),
        failure_groups: vec![failure_group()],
    }
}

fn result(report: Report) -> RunResult {
    RunResult {
        report,
        trace: vec![],
        latency: BTreeMap::new(),
        cpu: BTreeMap::new(),
        timeline: Timeline::default(),
    }
}

/// What both forms must say, in the order a change board reads it.
fn assert_in_order(text: &str, parts: &[&str]) {
    let mut from = 0;
    for p in parts {
        match text[from..].find(p) {
            Some(i) => from += i + p.len(),
            None => panic!("{p:?} missing or out of order in:\n{text}"),
        }
    }
}

#[test]
fn summary_md_opens_with_intent_verdict_and_version_and_ends_with_the_appendix() {
    let md = summary_md(&report());
    assert!(md.starts_with("# change_4711 — seed 7 — FAIL"), "{md}");
    assert_in_order(
        &md,
        &[
            "> Change 4711: move the lobby phones.",
            "> Expected: all on dst.",
            "| command | `cucmsim run change.toml --seed 7` |",
            "| date | 2026-12-04 18:00:00 UTC |",
            "| seed | 7 |",
            &format!("| cucmsim | {} |", crate::version()),
            "## Findings — FAIL",
            "[F4] The destination's ITL signer is unknown to the source TVS",
            "- ITLRecovery serial 5a02 is not in Phone-SAST-trust",
            "**Fix:** Import the destination's ITLRecovery",
            "## Phones at the end",
            "Registered at the end: 0 of 3 phones.",
            "| cluster | Trust List update failed | total |",
            "| src | 3 | 3 |",
            "## Expectations",
            "## Phones not registered at the end, by reason",
            "### 3 phones: ITL: signer … (serial …)",
            "Example `SEP001122000000`",
            "0:07:00.000  state",
            "0:07:20.008  trust_list_rejected",
            "## Operator steps",
            "Bulk Certificate Export on src",
            "Bulk Certificate Import on src",
            "## Appendix: real CPU cost",
            "| phone/TftpReply | 9 |",
        ],
    );
    assert!(!md.contains("BulkExport"), "{md}");
}

#[test]
fn report_html_opens_with_intent_verdict_and_version_and_ends_with_the_appendix() {
    let html = report_html(&result(report())).unwrap();
    assert_in_order(
        &html,
        &[
            "<span class=\"badge fail\">FAIL</span>",
            "<div class=\"intent\"><p>Change 4711: move the lobby phones.</p><p>Expected: all on dst.</p>",
            "<code>cucmsim run change.toml --seed 7</code>",
            "2026-12-04 18:00:00 UTC",
            crate::version(),
            "Findings",
            "[F4]</small> The destination's ITL signer",
            "<b>Fix:</b>",
            "Phones at the end",
            "<td>src</td><td>3</td><td>3</td>",
            "Phones not registered at the end, by reason",
            "<details open><summary>Example <code>SEP001122000000</code>",
            "0:07:20.008  trust_list_rejected",
            "Bulk Certificate Export on src",
            "Appendix: real CPU cost",
            "phone/TftpReply",
        ],
    );
    assert!(!html.contains("BulkExport"));
}

#[test]
fn a_passing_run_without_findings_shows_no_findings_section() {
    let mut r = report();
    r.findings.clear();
    r.failure_groups.clear();
    r.expectations.failed = 0;
    r.expectations.details[0].passed = true;
    let md = summary_md(&r);
    assert!(md.starts_with("# change_4711 — seed 7 — PASS"), "{md}");
    assert!(!md.contains("Findings") && !md.contains("not registered at the end"));
    let html = report_html(&result(r)).unwrap();
    assert!(html.contains("badge pass") && !html.contains("Findings"));
}
