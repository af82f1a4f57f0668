//! The report forms of a run, written into one directory (default
//! `results/<scenario>/<seed>/`):
//!
//! ```text
//!  report.json      the run's JSON: phones, failures, expectations, latency, cpu_cost, faults
//!  summary.md       the same for people: tables, ready to paste into a change request
//!                   (written by [`super::summary`])
//!  report.html      one page for a change board: intent, verdict, phones per cluster, failures
//!                   with example timelines, inline SVG plots (written by [`super::html`])
//!  latency/*.hgrm   HdrHistogram percentile distributions of virtual-time latencies (ms)
//!  cpu/*.hgrm       the real CPU cost per input kind on this machine (ms, host clock)
//!  trace.jsonl      with --trace: every observation, one JSON object a line
//! ```

use super::html::report_html;
use super::metrics::hgrm;
use super::runner::RunResult;
use super::summary::summary_md;
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
