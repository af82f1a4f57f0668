//! `report.html`: one self-contained page for a change board. At the top what the scenario is
//! for, the verdict and how it was produced (command, date, seed, cucmsim version), the
//! findings when there are any; then where the phones ended per cluster, the expectations,
//! the failures grouped by reason with example timelines, the plots (phones by state, operator
//! steps and faults marked; throughput; latency) with their tables; the real CPU cost and the
//! run's details in an appendix.

use super::plots::{latency_svg, states_svg, throughput_svg};
use super::runner::{Report, RunResult};
use super::summary::{cpu_cells, latency_cells, registered_line, state_columns, verdict};
use super::wording::{hms, hms_ms, metric_label};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:16px;line-height:1.45;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right;vertical-align:top}\
td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}\
td.l,th.l{text-align:left}.pass{color:#1d6b1d}.fail{color:#b01c1c}\
.badge{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;font-size:.8em;vertical-align:middle}\
.badge.pass{background:#1d7a1d;color:#fff}.badge.fail{background:#b01c1c;color:#fff}\
.intent{background:#f5f8fc;border-left:4px solid #4a7ab8;padding:.5em 1em;margin:1em 0}.intent p{margin:.4em 0}\
table.facts td:first-child{color:#555;white-space:nowrap}table.facts td{text-align:left}\
.finding{border:1px solid #ddd;border-left:5px solid #b01c1c;padding:.5em 1em;margin:1em 0}\
.finding.warn{border-left-color:#c98a00}.finding.info{border-left-color:#4a7ab8}\
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;font-size:13px}code{background:#f4f4f4;padding:0 .2em}\
details{margin:.4em 0}summary{cursor:pointer}svg{max-width:100%;height:auto}\
.note{color:#555}";

/// Observation kinds shown in red in a timeline.
const REFUSALS: [&str; 8] = [
    "trust_list_rejected",
    "config_rejected",
    "tls_failure",
    "tvs_timeout",
    "registration_rejected",
    "capf_failed",
    "tvs_refused",
    "https_failed",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(r: &Report) -> &'static str {
    if verdict(r) == "PASS" {
        "pass"
    } else {
        "fail"
    }
}

/// Head, title, verdict, intent and how the result was produced.
fn head(r: &Report) -> String {
    let mut h = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>cucmsim — {} — {}</title><style>{STYLE}</style></head><body>",
        esc(&r.scenario),
        verdict(r)
    );
    let _ = write!(
        h,
        "<h1>{} <span class=\"badge {}\">{}</span></h1>",
        esc(&r.scenario),
        class(r),
        verdict(r)
    );
    if !r.intent.is_empty() {
        h += "<div class=\"intent\">";
        for para in r.intent.split("\n\n") {
            let _ = write!(h, "<p>{}</p>", esc(para));
        }
        h += "</div>";
    }
    let mut facts = vec![
        ("Command", format!("<code>{}</code>", esc(&r.command))),
        ("Date", esc(&r.date)),
        ("Seed", r.seed.to_string()),
        ("cucmsim version", esc(&r.cucmsim_version)),
        (
            "Scenario file",
            format!("<code>{}</code>", esc(&r.scenario_file)),
        ),
        ("Phones", r.phones.total.to_string()),
        ("TVS sessions", esc(&r.tvs_mode)),
        (
            "Virtual time",
            hms((r.virtual_time_s * 1000.0).round() as u64),
        ),
        (
            "Wall time",
            format!(
                "{:.2} s ({:.2} s building the world)",
                r.wall_time_s, r.build_time_s
            ),
        ),
    ];
    if let Some(e) = &r.enrollment {
        facts.push((
            "CAPF enrollment",
            format!(
                "{} LSCs on {} devices, {} operations failed; first at {}, last at {}",
                e.lscs_installed,
                e.devices,
                e.failed,
                hms(e.first_installed_ms),
                hms(e.last_installed_ms)
            ),
        ));
    }
    h += "<table class=\"facts\">";
    for (k, v) in facts {
        let _ = write!(h, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    h + "</table>"
}

fn findings(r: &Report) -> String {
    if r.findings.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<h2>Findings — <span class=\"{}\">{}</span></h2>",
        class(r),
        verdict(r)
    );
    for f in &r.findings {
        let sev = esc(&f.severity.to_lowercase());
        let _ = write!(
            h,
            "<div class=\"finding {sev}\"><h3>{} <small>[{}]</small> {}</h3><ul>",
            sev.to_uppercase(),
            esc(&f.id),
            esc(&f.title)
        );
        for e in &f.evidence {
            let _ = write!(h, "<li>{}</li>", esc(e));
        }
        let _ = write!(h, "</ul><p><b>Fix:</b> {}</p></div>", esc(&f.fix));
    }
    h
}

/// Phones at the end per cluster and state, and the expectations.
fn phones_and_expectations(r: &Report) -> String {
    let cols = state_columns(r);
    let mut h = format!(
        "<h2>Phones at the end</h2><p><b>{}</b></p><p class=\"note\">By the cluster each phone is registered with (or was registered with last) and its state.</p><table><tr><th>cluster</th>",
        esc(&registered_line(r))
    );
    for c in &cols {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h += "<th>total</th></tr>";
    for (cluster, states) in &r.phones_by_cluster {
        let _ = write!(h, "<tr><td>{}</td>", esc(cluster));
        for c in &cols {
            let n = states.get(c).copied().unwrap_or(0);
            let _ = write!(
                h,
                "<td>{}</td>",
                if n == 0 { "·".into() } else { n.to_string() }
            );
        }
        let _ = write!(h, "<td>{}</td></tr>", states.values().sum::<u64>());
    }
    h += "</table><h2>Expectations</h2><table><tr><th></th><th class=\"l\">expectation</th><th class=\"l\">actual</th></tr>";
    for d in &r.expectations.details {
        let (c, m) = if d.passed {
            ("pass", "ok")
        } else {
            ("fail", "FAIL")
        };
        let _ = write!(
            h,
            "<tr><td class=\"{c}\"><b>{m}</b></td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(&d.expectation),
            esc(&d.actual)
        );
    }
    h + "</table>"
}

/// Failures grouped by reason, each with example phones and their timelines (the first
/// example open).
fn failures(r: &Report) -> String {
    if r.failure_groups.is_empty() {
        return String::new();
    }
    let mut h = String::from("<h2>Phones not registered at the end, by reason</h2>");
    for g in &r.failure_groups {
        let states: Vec<String> = g
            .states
            .iter()
            .map(|(k, n)| format!("{n} {}", esc(k)))
            .collect();
        let _ = write!(
            h,
            "<h3>{} phones: {}</h3><p class=\"note\">Ended as: {}.</p>",
            g.phones,
            esc(&g.reason),
            states.join(", ")
        );
        for (i, e) in g.examples.iter().enumerate() {
            let open = if i == 0 { " open" } else { "" };
            let _ = write!(
                h,
                "<details{open}><summary>Example <code>{}</code>: its timeline ({} observations)</summary><pre>",
                esc(&e.device),
                e.timeline.len() as u64 + e.omitted
            );
            for (j, l) in e.timeline.iter().enumerate() {
                if e.omitted > 0 && j == e.timeline.len() / 2 {
                    let _ = writeln!(h, "  … {} observations left out …", e.omitted);
                }
                let line = format!("{}  {:<22} {}", hms_ms(l.t_ms), l.what, esc(&l.detail));
                // Refusals and timeouts stand out: they are what the group is about.
                if REFUSALS.contains(&l.what) {
                    let _ = writeln!(h, "<b class=\"fail\">{line}</b>");
                } else {
                    let _ = writeln!(h, "{line}");
                }
            }
            h += "</pre></details>";
        }
    }
    h
}

/// The numbered operator steps and the faults under the timeline.
fn steps(r: &Report) -> String {
    let mut h = String::new();
    if !r.steps.is_empty() {
        h += "<table><tr><th>#</th><th>at</th><th class=\"l\">operator step</th></tr>";
        for (i, s) in r.steps.iter().enumerate() {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                i + 1,
                hms(s.from_ms),
                esc(&s.label)
            );
        }
        h += "</table>";
    }
    if !r.faults.is_empty() {
        h += "<table><tr><th>fault</th><th>from</th><th>until</th></tr>";
        for (i, w) in r.faults.iter().enumerate() {
            let _ = write!(
                h,
                "<tr><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                super::plots::fault_tag(i),
                esc(&w.label),
                hms(w.from_ms),
                hms(w.until_ms)
            );
        }
        h += "</table>";
    }
    h
}

/// The appendix: real CPU cost and the run's details.
fn appendix(r: &Report) -> String {
    let mut h = String::from("<h2>Appendix: real CPU cost on this machine</h2><p class=\"note\">Host clock, per handled input; differs from run to run and never enters virtual time.</p><table><tr><th>participant/input</th><th>count</th><th>p50 µs</th><th>p99 µs</th><th>max µs</th><th>total ms</th></tr>");
    for (name, c) in &r.cpu_cost {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(name),
            cpu_cells(c).join("</td><td>")
        );
    }
    let _ = write!(
        h,
        "</table><p>{} observations, {} messages ({} dropped, {} duplicated). Trace hash <code>{}</code>.</p><p>Reproduce: <code>{}</code></p>",
        r.events,
        r.messages.sent,
        r.messages.dropped,
        r.messages.duplicated,
        r.trace_hash,
        esc(&r.reproduce)
    );
    h
}

/// The HTML page.
pub fn report_html(r: &RunResult) -> Result<String, String> {
    let rep = &r.report;
    let series: Vec<(&str, &hdrhistogram::Histogram<u64>, f64)> = r
        .latency
        .iter()
        .map(|(k, h)| (metric_label(k), h, 1000.0))
        .collect();
    let mut h = head(rep);
    h += &findings(rep);
    h += &phones_and_expectations(rep);
    h += &failures(rep);
    h += "<h2>Phones by state over virtual time</h2>";
    h += &states_svg(&r.timeline, &rep.faults, &rep.steps)?;
    h += &steps(rep);
    h += "<h2>Throughput</h2>";
    h += &throughput_svg(&r.timeline, &rep.faults, &rep.steps)?;
    h += "<h2>Latency (virtual time)</h2>";
    h += &latency_svg("Latency by percentile", &series)?;
    h += "<table><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>";
    for (name, l) in &rep.latency {
        let _ = write!(
            h,
            "<tr><td>{} <code>{name}</code></td><td>{}</td></tr>",
            metric_label(name),
            latency_cells(l).join("</td><td>")
        );
    }
    h += "</table>";
    h += &appendix(rep);
    h += "</body></html>\n";
    Ok(h)
}
