//! The report forms of a run, written into one directory (default
//! `results/<scenario>/<seed>/`):
//!
//! ```text
//!  report.json      the run's JSON: phones, failures, expectations, latency, cpu_cost, faults
//!  summary.md       the same for people: tables, ready to paste into a change request
//!  report.html      one page with inline SVG plots (latency percentiles, phones by state with
//!                   fault windows shaded, throughput) and the tables
//!  latency/*.hgrm   HdrHistogram percentile distributions of virtual-time latencies (ms)
//!  cpu/*.hgrm       the real CPU cost per input kind on this machine (ms, host clock)
//!  trace.jsonl      with --trace: every observation, one JSON object a line
//! ```

use super::metrics::hgrm;
use super::plots::{latency_svg, states_svg, throughput_svg};
use super::runner::{fmt_latency, Report, RunResult};
use crate::lang::fmt_ms;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn mkdir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Writes report.json, summary.md, report.html and the `.hgrm` files into `dir`; returns the
/// paths written.
pub fn write_all(dir: &Path, r: &RunResult) -> Result<Vec<PathBuf>, String> {
    mkdir(dir)?;
    let mut written = vec![super::runner::write_report(dir, &r.report)?];
    let md = dir.join("summary.md");
    write(&md, &summary_md(&r.report))?;
    written.push(md);
    let html = dir.join("report.html");
    write(&html, &report_html(r)?)?;
    written.push(html);
    for (sub, hists, unit, decimals) in [
        (
            "latency",
            r.latency
                .iter()
                .map(|(k, h)| (k.to_string(), h))
                .collect::<Vec<_>>(),
            1000.0,
            3,
        ),
        (
            "cpu",
            r.cpu
                .iter()
                .map(|(k, h)| (k.replace('/', "."), h))
                .collect(),
            1e6,
            4,
        ),
    ] {
        let d = dir.join(sub);
        // Files of an earlier run with other metrics must not linger beside these.
        let _ = std::fs::remove_dir_all(&d);
        mkdir(&d)?;
        for (name, h) in hists {
            let p = d.join(format!("{name}.hgrm"));
            write(&p, &hgrm(h, unit, decimals))?;
            written.push(p);
        }
    }
    Ok(written)
}

/// count, p50, p90, p99, p99.9, max of one latency metric, as table cells.
fn latency_cells(l: &super::metrics::Summary) -> [String; 6] {
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
fn cpu_cells(c: &super::runner::CpuCost) -> [String; 5] {
    [
        c.count.to_string(),
        format!("{:.1}", c.p50_us),
        format!("{:.1}", c.p99_us),
        format!("{:.1}", c.max_us),
        format!("{:.1}", c.total_ms),
    ]
}

fn verdict(r: &Report) -> &'static str {
    if r.expectations.failed == 0 {
        "PASS"
    } else {
        "FAIL"
    }
}

/// The Markdown summary.
pub fn summary_md(r: &Report) -> String {
    let mut s = format!(
        "# {} — seed {} — {}\n\n{} phones, TVS sessions: {}, virtual time {}, wall time {:.2} s.\n\n",
        r.scenario,
        r.seed,
        verdict(r),
        r.phones.total,
        r.tvs_mode,
        fmt_ms((r.virtual_time_s * 1000.0) as u64),
        r.wall_time_s
    );
    s += "## Expectations\n\n| | expectation | actual |\n|---|---|---|\n";
    for d in &r.expectations.details {
        let mark = if d.passed { "ok" } else { "**FAIL**" };
        let _ = writeln!(s, "| {mark} | {} | {} |", d.expectation, d.actual);
    }
    s += "\n## Phones at the end\n\n| state | phones |\n|---|---:|\n";
    for (state, n) in &r.phones.by_state {
        let _ = writeln!(s, "| {state} | {n} |");
    }
    for (cluster, n) in &r.phones.by_cluster {
        let _ = writeln!(s, "| registered on {cluster} | {n} |");
    }
    if !r.failures.is_empty() {
        s += "\n## Failures by reason\n\n| reason | phones |\n|---|---:|\n";
        for (reason, n) in &r.failures {
            let _ = writeln!(s, "| {} | {n} |", reason.replace('|', "\\|"));
        }
    }
    if !r.faults.is_empty() {
        s += "\n## Faults\n\n| from | until | fault |\n|---|---|---|\n";
        for w in &r.faults {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                fmt_ms(w.from_ms),
                fmt_ms(w.until_ms),
                w.label
            );
        }
    }
    s += "\n## Latency (virtual time)\n\n| metric | count | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (name, l) in &r.latency {
        let _ = writeln!(s, "| {name} | {} |", latency_cells(l).join(" | "));
    }
    s += "\n## Real CPU cost on this machine (host clock)\n\n| participant/input | count | p50 µs | p99 µs | max µs | total ms |\n|---|---:|---:|---:|---:|---:|\n";
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The numbered operator steps and the faults under the timeline.
fn steps_html(rep: &Report) -> String {
    let mut h = String::from("<table><tr><th>#</th><th>at</th><th>operator step</th></tr>");
    for (i, s) in rep.steps.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            fmt_ms(s.from_ms),
            esc(&s.label)
        );
    }
    h += "</table>";
    if !rep.faults.is_empty() {
        h += "<table><tr><th>fault</th><th>from</th><th>until</th></tr>";
        for w in &rep.faults {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&w.label),
                fmt_ms(w.from_ms),
                fmt_ms(w.until_ms)
            );
        }
        h += "</table>";
    }
    h
}

/// The page's head, title, verdict line and expectations table (left open).
fn html_head(rep: &Report) -> String {
    let mut h = String::from("<!doctype html>\n<html><head><meta charset=\"utf-8\">");
    let _ = write!(
        h,
        "<title>cucmsim — {} seed {}</title><style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.pass{{color:#2a7d2a}}.fail{{color:#b22}}code{{background:#f4f4f4}}</style></head><body>",
        esc(&rep.scenario),
        rep.seed
    );
    let class = if rep.expectations.failed == 0 {
        "pass"
    } else {
        "fail"
    };
    let _ = write!(
        h,
        "<h1>{} <small>seed {}</small> <span class=\"{class}\">{}</span></h1><p>{} phones, TVS sessions: {}, virtual time {}, wall time {:.2} s, {} observations, {} messages. Trace hash <code>{}</code>.</p>",
        esc(&rep.scenario),
        rep.seed,
        verdict(rep),
        rep.phones.total,
        rep.tvs_mode,
        fmt_ms((rep.virtual_time_s * 1000.0) as u64),
        rep.wall_time_s,
        rep.events,
        rep.messages.sent,
        rep.trace_hash
    );
    h += "<h2>Expectations</h2><table><tr><th>expectation</th><th>actual</th><th></th></tr>";
    for d in &rep.expectations.details {
        let (c, m) = if d.passed {
            ("pass", "ok")
        } else {
            ("fail", "FAIL")
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{c}\">{m}</td></tr>",
            esc(&d.expectation),
            esc(&d.actual)
        );
    }
    h
}

/// The HTML page: the Markdown summary's tables as HTML, and the three plots inline.
pub fn report_html(r: &RunResult) -> Result<String, String> {
    let rep = &r.report;
    let series: Vec<(&str, &hdrhistogram::Histogram<u64>, f64)> =
        r.latency.iter().map(|(k, h)| (*k, h, 1000.0)).collect();
    let lat = latency_svg("Latency by percentile (virtual time)", &series)?;
    let states = states_svg(&r.timeline, &rep.faults, &rep.steps)?;
    let tput = throughput_svg(&r.timeline, &rep.faults, &rep.steps)?;
    let mut h = html_head(rep);
    h += "</table><h2>Phones by state over virtual time</h2>";
    h += &states;
    h += &steps_html(rep);
    h += "<h2>Latency</h2>";
    h += &lat;
    h += "<table><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>";
    for (name, l) in &rep.latency {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{}</td></tr>",
            latency_cells(l).join("</td><td>")
        );
    }
    h += "</table><h2>Throughput</h2>";
    h += &tput;
    h += "<h2>Phones at the end</h2><table><tr><th>state</th><th>phones</th></tr>";
    for (state, n) in &rep.phones.by_state {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(state));
    }
    h += "</table>";
    if !rep.failures.is_empty() {
        h += "<h2>Failures by reason</h2><table><tr><th>reason</th><th>phones</th></tr>";
        for (reason, n) in &rep.failures {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(reason));
        }
        h += "</table>";
    }
    h += "<h2>Real CPU cost on this machine</h2><p>Host clock, per handled input; differs from run to run and never enters virtual time.</p><table><tr><th>participant/input</th><th>count</th><th>p50 µs</th><th>p99 µs</th><th>max µs</th><th>total ms</th></tr>";
    for (name, c) in &rep.cpu_cost {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{}</td></tr>",
            cpu_cells(c).join("</td><td>")
        );
    }
    let _ = writeln!(
        h,
        "</table><p>Reproduce: <code>{}</code></p></body></html>",
        esc(&rep.reproduce)
    );
    Ok(h)
}
