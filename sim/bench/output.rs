//! What `bench tvs|capf` shows and writes: the table on stdout, and under `--out` the JSON
//! document (`json.rs`) and one HdrHistogram percentile-distribution file per histogram,
//! values in ms.
//!
//! ```text
//!  <out>/bench.json
//!  <out>/latency/<run>.hgrm               queueing clock: intended arrival (or send) → answer
//!  <out>/latency/<run>.co_corrected.hgrm  closed model, hdrhistogram record_correct
//!  <out>/cost/calibration_<part>.hgrm     host clock: server side, handshake, request, phone, raw_sign
//!  <out>/cost/<run>_live_<part>.hgrm      host clock, live mode: costs measured by the workers
//! ```

use super::cost::CostSummary;
use super::run::LatencySummary;
use super::run::{Outcome, Report};
use crate::reports::metrics::hgrm;
use hdrhistogram::Histogram;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn cost_row(s: &mut String, name: &str, h: &Histogram<u64>) {
    let c = CostSummary::of(h);
    let _ = writeln!(
        s,
        "  {name:<34} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>10.1}",
        c.mean_us, c.p50_us, c.p90_us, c.p99_us, c.p999_us, c.max_us, c.per_s_one_core
    );
}

fn header(r: &Report) -> String {
    let p = &r.plan;
    let mode = match p.mode {
        super::Mode::Model => "model (discrete-event simulation of the queue, virtual time)",
        super::Mode::Live => "live (real worker threads, real operations, real clock)",
    };
    let limit = if p.server.queue_limit == u64::MAX {
        "unbounded".to_string()
    } else {
        p.server.queue_limit.to_string()
    };
    let service = match p.mode {
        super::Mode::Model => r.service_time.describe(),
        super::Mode::Live => format!(
            "the real operation, performed by a worker for every request (calibrated server \
             side: mean {:.0} µs; the worker also runs the phone's side)",
            r.service_time.mean_us()
        ),
    };
    format!(
        "cucmsim bench {}: mode {mode}, seed {}\noperation: {}\nserver: {} workers, one FCFS \
         queue, queue limit {limit}\nservice time: {service}\n",
        p.service.name(),
        p.seed,
        r.operation,
        p.server.workers,
    )
}

fn calibration_table(s: &mut String, r: &Report) {
    let Some(c) = &r.calibration else { return };
    let _ = writeln!(
        s,
        "\ncalibrated cost per operation on this machine ({} runs, one thread, host clock, µs):",
        c.iterations
    );
    let _ = writeln!(
        s,
        "  {:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "", "mean", "p50", "p90", "p99", "p99.9", "max", "per s/core"
    );
    cost_row(s, "server side (the service time)", &c.server);
    cost_row(s, "  handshake part", &c.handshake);
    cost_row(s, "  request part", &c.request);
    cost_row(s, "phone side (not counted)", &c.phone);
    if let Some((h, tbs)) = &c.raw_sign {
        cost_row(s, &format!("raw CA signature ({tbs}-byte TBS)"), h);
        let (srv, req, raw) = (
            CostSummary::of(&c.server).per_s_one_core,
            CostSummary::of(&c.request).per_s_one_core,
            CostSummary::of(h).per_s_one_core,
        );
        let _ = writeln!(
            s,
            "  LSCs/s vs raw signatures/s (one core): LSC issue {req:.0}/s ÷ raw {raw:.0}/s = {:.2}; \
             whole enrollment {srv:.0}/s ÷ raw = {:.2}",
            req / raw.max(1e-9),
            srv / raw.max(1e-9)
        );
    }
}

fn latency_table(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "\ncapacity = {} workers ÷ mean service time = {:.1}/s",
        r.plan.server.workers, r.capacity_per_s
    );
    if let (super::Mode::Live, Some(c)) = (r.plan.mode, &r.calibration) {
        let both = c.server.mean() + c.phone.mean();
        let _ = writeln!(
            s,
            "live: the workers also run the phone side, so this machine serves at most {} ÷ \
             (server + phone) = {:.1}/s here",
            r.plan.server.workers,
            f64::from(r.plan.server.workers) * 1e6 / both.max(1e-9)
        );
    }
    let _ = writeln!(
        s,
        "\nlatency, ms (open model: from the intended arrival; closed: from the send):"
    );
    let _ = writeln!(
        s,
        "  {:<52} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "load", "offered/s", "achieved/s", "p50", "p90", "p99", "p99.9", "max", "refused"
    );
    let row = |s: &mut String, name: &str, o: &Outcome, h: &Histogram<u64>| {
        let l = LatencySummary::of(h);
        let _ = writeln!(
            s,
            "  {name:<52} {:>10.1} {:>10.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8}",
            o.run.offered_per_s(),
            o.run.achieved_per_s(),
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms,
            o.run.refused + o.run.failed
        );
    };
    for o in &r.outcomes {
        row(s, &o.description, o, &o.run.latency);
        if let Some(c) = &o.run.corrected {
            row(s, "  same, CO-corrected (record_correct)", o, c);
        }
        if let Some(l) = &o.live {
            let (srv, ph, w) = (
                CostSummary::of(&l.costs.server),
                CostSummary::of(&l.costs.phone),
                CostSummary::of(&l.worker_us),
            );
            let errors = if l.errors.is_empty() {
                String::new()
            } else {
                format!("; errors: {:?}", l.errors)
            };
            let _ = writeln!(
                s,
                "    live workers: server side mean {:.0} µs (p99 {:.0}), phone side mean {:.0} µs, \
                 worker time mean {:.0} µs, busy {:.0}%{}",
                srv.mean_us,
                srv.p99_us,
                ph.mean_us,
                w.mean_us,
                l.worker_busy * 100.0,
                errors
            );
            if let Some(cpu) = l.process_cpu_s {
                let _ = writeln!(
                    s,
                    "    this process got {cpu:.1} s of CPU in {:.1} s of wall time ({:.2} cores); \
                     machine load average before the run: {}",
                    l.wall_s,
                    cpu / l.wall_s.max(1e-9),
                    l.load_before.map_or("?".into(), |x| format!("{x:.2}"))
                );
            }
        }
    }
}

/// The table printed on stdout.
pub fn render(r: &Report) -> String {
    let mut s = header(r);
    calibration_table(&mut s, r);
    latency_table(&mut s, r);
    if let Some(sat) = &r.saturation {
        let _ = writeln!(
            s,
            "\nsaturation point (highest offered rate where it and every lower step reached \
             achieved ≥ {} × offered with p99 < {} ms):",
            sat.min_achieved_ratio, sat.slo_ms
        );
        match (sat.saturation_per_s, sat.fraction_of_capacity) {
            (Some(rate), Some(f)) => {
                let _ = writeln!(
                    s,
                    "  {rate:.1}/s ({:.0}% of the calibrated capacity)",
                    f * 100.0
                );
            }
            (Some(rate), None) => {
                let _ = writeln!(s, "  {rate:.1}/s");
            }
            _ => s.push_str("  none: the lowest rate already failed\n"),
        }
        if let (Some(rate), Some(why)) = (sat.first_failing_per_s, &sat.first_failing_reason) {
            let _ = writeln!(s, "  first failing step: {rate:.1}/s ({why})");
        }
    }
    s
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes bench.json and the `.hgrm` files under `dir`; returns the paths written.
pub fn write_files(dir: &Path, r: &Report) -> Result<Vec<PathBuf>, String> {
    let (lat, cost) = (dir.join("latency"), dir.join("cost"));
    for d in [&lat, &cost] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let mut files = vec![];
    let mut put = |path: PathBuf, text: String| -> Result<(), String> {
        write(&path, &text)?;
        files.push(path);
        Ok(())
    };
    let json = serde_json::to_string_pretty(&r.json()).map_err(|e| e.to_string())?;
    put(dir.join("bench.json"), json)?;
    if let Some(c) = &r.calibration {
        for (name, h) in [
            ("server", &c.server),
            ("handshake", &c.handshake),
            ("request", &c.request),
            ("phone", &c.phone),
        ] {
            put(
                cost.join(format!("calibration_{name}.hgrm")),
                hgrm(h, 1000.0, 3),
            )?;
        }
        if let Some((h, _)) = &c.raw_sign {
            put(cost.join("calibration_raw_sign.hgrm"), hgrm(h, 1000.0, 3))?;
        }
    }
    for o in &r.outcomes {
        put(
            lat.join(format!("{}.hgrm", o.label)),
            hgrm(&o.run.latency, 1000.0, 3),
        )?;
        if let Some(h) = &o.run.corrected {
            put(
                lat.join(format!("{}.co_corrected.hgrm", o.label)),
                hgrm(h, 1000.0, 3),
            )?;
        }
        if let Some(l) = &o.live {
            for (name, h) in [
                ("server", &l.costs.server),
                ("phone", &l.costs.phone),
                ("worker", &l.worker_us),
            ] {
                put(
                    cost.join(format!("{}_live_{name}.hgrm", o.label)),
                    hgrm(h, 1000.0, 3),
                )?;
            }
        }
    }
    Ok(files)
}
