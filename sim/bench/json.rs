//! The machine-readable report (`--json`, and `bench.json` under `--out`): every figure of
//! the table, with costs in µs (host clock) and latencies in ms (queueing clock) kept apart.
//!
//! ```text
//!  Report ──json()──► { service, mode, workers, queue_limit (null = unbounded), service_time_*,
//!                       capacity_per_s, calibration{server_us, …, capf{…}}, runs[…], sweep }
//! ```

use super::cost::CostSummary;
use super::run::{step_failure, LatencySummary, Report, Saturation};
use serde::Serialize;

#[derive(Serialize)]
struct CapfFigures {
    lsc_tbs_bytes: usize,
    raw_sign_us: CostSummary,
    /// One enrollment's whole server side, per second on one core.
    enrollments_per_s_one_core: f64,
    /// The request part (key decoded, LSC issued, encoded, sent), per second on one core.
    lsc_issue_per_s_one_core: f64,
    raw_signatures_per_s_one_core: f64,
    lsc_issue_over_raw_sign: f64,
    enrollment_over_raw_sign: f64,
}

#[derive(Serialize)]
struct CalibrationJson {
    iterations: u32,
    server_us: CostSummary,
    handshake_us: CostSummary,
    request_us: CostSummary,
    phone_us_not_counted: CostSummary,
    capf: Option<CapfFigures>,
}

#[derive(Serialize)]
struct LiveJson {
    server_us: CostSummary,
    phone_us: CostSummary,
    worker_us: CostSummary,
    worker_busy: f64,
    errors: Vec<String>,
    wall_s: f64,
    process_cpu_s: Option<f64>,
    load_average_before: Option<f64>,
}

#[derive(Serialize)]
struct RunJson {
    label: String,
    load: String,
    nominal_per_s: Option<f64>,
    offered_per_s: f64,
    achieved_per_s: f64,
    sent: u64,
    completed: u64,
    refused: u64,
    failed: u64,
    max_waiting: u64,
    window_s: f64,
    last_completion_s: f64,
    latency_ms: LatencySummary,
    latency_co_corrected_ms: Option<LatencySummary>,
    delivered: Option<bool>,
    live: Option<LiveJson>,
}

/// The machine-readable report.
#[derive(Serialize)]
pub struct ReportJson {
    service: &'static str,
    operation: String,
    mode: &'static str,
    seed: u64,
    workers: u32,
    /// `null` when unbounded.
    queue_limit: Option<u64>,
    service_time_source: &'static str,
    service_time: String,
    service_time_mean_us: f64,
    capacity_per_s: f64,
    calibration: Option<CalibrationJson>,
    runs: Vec<RunJson>,
    sweep: Option<Saturation>,
}

impl Report {
    /// The JSON form.
    pub fn json(&self) -> ReportJson {
        let calibration = self.calibration.as_ref().map(|c| {
            let server = CostSummary::of(&c.server);
            let request = CostSummary::of(&c.request);
            CalibrationJson {
                iterations: c.iterations,
                capf: c.raw_sign.as_ref().map(|(h, tbs)| {
                    let raw = CostSummary::of(h);
                    let ratio = |x: f64| {
                        if raw.per_s_one_core > 0.0 {
                            x / raw.per_s_one_core
                        } else {
                            0.0
                        }
                    };
                    CapfFigures {
                        lsc_tbs_bytes: *tbs,
                        enrollments_per_s_one_core: server.per_s_one_core,
                        lsc_issue_per_s_one_core: request.per_s_one_core,
                        raw_signatures_per_s_one_core: raw.per_s_one_core,
                        lsc_issue_over_raw_sign: ratio(request.per_s_one_core),
                        enrollment_over_raw_sign: ratio(server.per_s_one_core),
                        raw_sign_us: raw,
                    }
                }),
                server_us: server,
                handshake_us: CostSummary::of(&c.handshake),
                request_us: request,
                phone_us_not_counted: CostSummary::of(&c.phone),
            }
        });
        let sweep = self.saturation.is_some();
        let runs = self
            .outcomes
            .iter()
            .map(|o| RunJson {
                label: o.label.clone(),
                load: o.description.clone(),
                nominal_per_s: o.nominal_per_s,
                offered_per_s: o.run.offered_per_s(),
                achieved_per_s: o.run.achieved_per_s(),
                sent: o.run.sent,
                completed: o.run.completed,
                refused: o.run.refused,
                failed: o.run.failed,
                max_waiting: o.run.max_waiting,
                window_s: o.run.window_s,
                last_completion_s: o.run.last_completion_s,
                latency_ms: LatencySummary::of(&o.run.latency),
                latency_co_corrected_ms: o.run.corrected.as_ref().map(LatencySummary::of),
                delivered: sweep.then(|| step_failure(o, self.plan.slo_ms).is_none()),
                live: o.live.as_ref().map(|l| LiveJson {
                    server_us: CostSummary::of(&l.costs.server),
                    phone_us: CostSummary::of(&l.costs.phone),
                    worker_us: CostSummary::of(&l.worker_us),
                    worker_busy: l.worker_busy,
                    errors: l.errors.clone(),
                    wall_s: l.wall_s,
                    process_cpu_s: l.process_cpu_s,
                    load_average_before: l.load_before,
                }),
            })
            .collect();
        ReportJson {
            service: self.plan.service.name(),
            operation: self.operation.clone(),
            mode: mode_name(self),
            seed: self.plan.seed,
            workers: self.plan.server.workers,
            queue_limit: (self.plan.server.queue_limit != u64::MAX)
                .then_some(self.plan.server.queue_limit),
            service_time_source: self.service_time.source(),
            service_time: self.service_time.describe(),
            service_time_mean_us: self.service_time.mean_us(),
            capacity_per_s: self.capacity_per_s,
            calibration,
            runs,
            sweep: self.saturation.clone(),
        }
    }
}

pub(super) fn mode_name(r: &Report) -> &'static str {
    match r.plan.mode {
        super::Mode::Model => "model",
        super::Mode::Live => "live",
    }
}
