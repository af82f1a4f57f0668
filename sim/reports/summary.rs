//! `summary.md`: the report for people, in Markdown to paste into a change request. The same
//! order as `report.html`: what the scenario is for and the verdict with how it was produced,
//! the findings, where the phones ended per cluster, the expectations, the failures grouped
//! with example timelines, the operator steps and faults, the latencies; the real CPU cost in
//! an appendix.

use super::runner::{fmt_latency, Report};
use super::wording::{hms, hms_ms};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// count, p50, p90, p99, p99.9, max of one latency metric, as table cells.
pub fn latency_cells(l: &super::metrics::Summary) -> [String; 6] {
    [
        l.count.to_string(),
        fmt_latency(l.p50_ms),
        fmt_latency(l.p90_ms),
        fmt_latency(l.p99_ms),
        fmt_latency(l.p999_ms),
        fmt_latency(l.max_ms),
    ]
}

/// count, p50, p99, max (µs) and total (ms) of one input kind's CPU cost, as table cells.
pub fn cpu_cells(c: &super::runner::CpuCost) -> [String; 5] {
    [
        c.count.to_string(),
        format!("{:.1}", c.p50_us),
        format!("{:.1}", c.p99_us),
        format!("{:.1}", c.max_us),
        format!("{:.1}", c.total_ms),
    ]
}

/// PASS when every expectation holds and no finding is a failure; FAIL otherwise.
pub fn verdict(r: &Report) -> &'static str {
    let failing_finding = r.findings.iter().any(|f| f.severity == "fail");
    if r.expectations.failed == 0 && !failing_finding {
        "PASS"
    } else {
        "FAIL"
    }
}

/// A table cell: no line breaks, no bare `|`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown summary.
pub fn summary_md(r: &Report) -> String {
    let mut s = format!("# {} — seed {} — {}\n\n", r.scenario, r.seed, verdict(r));
    for para in r.intent.split("\n\n").filter(|p| !p.is_empty()) {
        let _ = writeln!(s, "> {para}\n>");
    }
    if !r.intent.is_empty() {
        s.truncate(s.len() - 2);
    }
    s += &facts_md(r);
    s += &findings_md(r);
    s += &phones_md(r);
    s += "\n## Expectations\n\n| | expectation | actual |\n|---|---|---|\n";
    for d in &r.expectations.details {
        let mark = if d.passed { "ok" } else { "**FAIL**" };
        let _ = writeln!(
            s,
            "| {mark} | {} | {} |",
            cell(&d.expectation),
            cell(&d.actual)
        );
    }
    s += &failures_md(r);
    s += &steps_md(r);
    s += "\n## Latency (virtual time)\n\n| metric | count | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (name, l) in &r.latency {
        let _ = writeln!(s, "| {name} | {} |", latency_cells(l).join(" | "));
    }
    s += "\n## Appendix: real CPU cost on this machine\n\nHost clock, per handled input; differs from run to run and never enters virtual time.\n\n| participant/input | count | p50 µs | p99 µs | max µs | total ms |\n|---|---:|---:|---:|---:|---:|\n";
    for (name, c) in &r.cpu_cost {
        let _ = writeln!(s, "| {name} | {} |", cpu_cells(c).join(" | "));
    }
    let _ = write!(
        s,
        "\n{} observations, {} messages ({} dropped, {} duplicated). Trace hash `{}`.\n\nReproduce: `{}`\n",
        r.events,
        r.messages.sent,
        r.messages.dropped,
        r.messages.duplicated,
        r.trace_hash,
        r.reproduce
    );
    s
}

/// How the result was produced: command, date, seed, version, size, times.
fn facts_md(r: &Report) -> String {
    let mut s = String::from("\n| | |\n|---|---|\n");
    let rows = [
        ("verdict", format!("**{}**", verdict(r))),
        ("command", format!("`{}`", r.command)),
        ("date", r.date.clone()),
        ("seed", r.seed.to_string()),
        ("cucmsim", r.cucmsim_version.clone()),
        ("scenario file", format!("`{}`", r.scenario_file)),
        ("phones", r.phones.total.to_string()),
        ("TVS sessions", r.tvs_mode.clone()),
        (
            "virtual time",
            hms((r.virtual_time_s * 1000.0).round() as u64),
        ),
        (
            "wall time",
            format!(
                "{:.2} s ({:.2} s building the world)",
                r.wall_time_s, r.build_time_s
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {} |", cell(&v));
    }
    s
}

fn findings_md(r: &Report) -> String {
    if r.findings.is_empty() {
        return String::new();
    }
    let mut s = format!("\n## Findings — {}\n", verdict(r));
    for f in &r.findings {
        let _ = writeln!(
            s,
            "\n### {} [{}] {}\n",
            f.severity.to_uppercase(),
            f.id,
            f.title
        );
        for e in &f.evidence {
            let _ = writeln!(s, "- {e}");
        }
        let _ = writeln!(s, "\n**Fix:** {}", f.fix);
    }
    s
}

/// The states in the order a phone goes through them (others after, by name).
pub fn state_columns(r: &Report) -> Vec<String> {
    let seen: BTreeSet<&String> = r
        .phones_by_cluster
        .values()
        .flat_map(|m| m.keys())
        .collect();
    let order = cucmsim_core::machine::phone::status::ALL;
    let mut cols: Vec<String> = order
        .iter()
        .filter(|s| seen.iter().any(|x| x.as_str() == **s))
        .map(|s| s.to_string())
        .collect();
    cols.extend(
        seen.into_iter()
            .filter(|x| !order.contains(&x.as_str()))
            .cloned(),
    );
    cols
}

/// The key fact in one line: `Registered at the end: 198 of 200 phones (dst 198).`
pub fn registered_line(r: &Report) -> String {
    let registered: u64 = r.phones.by_cluster.values().sum();
    let by: Vec<String> = r
        .phones
        .by_cluster
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let mut s = format!(
        "Registered at the end: {registered} of {} phones",
        r.phones.total
    );
    if !by.is_empty() {
        s += &format!(" ({})", by.join(", "));
    }
    s + "."
}

fn phones_md(r: &Report) -> String {
    let cols = state_columns(r);
    let mut s = format!(
        "\n## Phones at the end\n\n**{}**\n\nBy the cluster each phone is registered with (or was registered with last) and its state.\n\n| cluster |",
        registered_line(r)
    );
    for c in &cols {
        let _ = write!(s, " {} |", cell(c));
    }
    s += " total |\n|---|";
    s += &"---:|".repeat(cols.len() + 1);
    s += "\n";
    for (cluster, states) in &r.phones_by_cluster {
        let _ = write!(s, "| {cluster} |");
        for c in &cols {
            let _ = write!(s, " {} |", states.get(c).copied().unwrap_or(0));
        }
        let _ = writeln!(s, " {} |", states.values().sum::<u64>());
    }
    s
}

fn failures_md(r: &Report) -> String {
    if r.failure_groups.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n## Phones not registered at the end, by reason\n");
    for g in &r.failure_groups {
        let states: Vec<String> = g.states.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            s,
            "\n### {} phones: {}\n\nEnded as: {}.\n",
            g.phones,
            g.reason,
            states.join(", ")
        );
        for e in &g.examples {
            let _ = writeln!(s, "Example `{}`:\n\n```text", e.device);
            for (i, l) in e.timeline.iter().enumerate() {
                if e.omitted > 0 && i == e.timeline.len() / 2 {
                    let _ = writeln!(s, "  … {} observations left out …", e.omitted);
                }
                let _ = writeln!(s, "{}  {:<22} {}", hms_ms(l.t_ms), l.what, l.detail);
            }
            s += "```\n\n";
        }
    }
    s
}

fn steps_md(r: &Report) -> String {
    let mut s = String::new();
    if !r.steps.is_empty() {
        s += "\n## Operator steps\n\n| # | at | step |\n|---:|---|---|\n";
        for (i, w) in r.steps.iter().enumerate() {
            let _ = writeln!(s, "| {} | {} | {} |", i + 1, hms(w.from_ms), cell(&w.label));
        }
    }
    if !r.faults.is_empty() {
        s += "\n## Faults\n\n| from | until | fault |\n|---|---|---|\n";
        for w in &r.faults {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                hms(w.from_ms),
                hms(w.until_ms),
                cell(&w.label)
            );
        }
    }
    s
}
