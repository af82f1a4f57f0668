//! The plan of one `bench tvs|capf` invocation (arguments checked and resolved) and its
//! execution: build the real operation, calibrate it, run each load in model or live mode, and
//! find the saturation point of a sweep.
//!
//! ```text
//!  BenchArgs ──from_args──► Plan ──execute──► rig (keys from the seed) ─► Calibration
//!                                    ─► ServiceTime (calibrated or fixed) ─► capacity W / mean
//!                                    ─► loads (one, or the sweep's rates) ─► model | live ─► Report
//! ```

use super::capf::CapfOp;
use super::cost::{calibrate, calibrate_raw_sign, Calibration};
use super::live::{run_live, LiveOutcome};
use super::load::{ClosedLoad, Empirical, OpenLoad, RateProfile, ServiceTime};
use super::model::{simulate, Load, RunOutcome, Server};
use super::rig::{Operation, TvsOp};
use super::{BenchArgs, Mode, Service};
use cucmsim_core::pki::KeyProfile;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;

/// Achieved throughput must reach this fraction of the offered rate at the saturation point.
pub const MIN_ACHIEVED_RATIO: f64 = 0.95;

/// What to offer the server.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadSpec {
    Open(OpenLoad),
    Closed {
        load: ClosedLoad,
        /// `--expected-interval-ms`; otherwise think + mean service time, known after calibration.
        interval_us: Option<u64>,
    },
    /// Open loads at `steps` fractions of the calibrated capacity from `from` to `to`.
    Sweep {
        from: f64,
        to: f64,
        steps: u32,
        poisson: bool,
        duration_s: Option<f64>,
        requests: Option<u64>,
    },
}

/// A checked invocation.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub service: Service,
    pub mode: Mode,
    pub seed: u64,
    pub calibrate: u32,
    pub server: Server,
    pub fixed_service_us: Option<u64>,
    pub load: LoadSpec,
    pub slo_ms: f64,
    pub phone_key: KeyProfile,
    pub server_key: KeyProfile,
}

/// The most requests one open-model load may plan (rate × duration, or --requests).
pub const MAX_REQUESTS: u64 = 10_000_000;

/// An open-model load (`--rate`, or a ramp's highest rate) plans at most [`MAX_REQUESTS`]
/// requests over `duration_s`, so a run ends (`--rate 1000000000` would plan 60 billion).
fn planned_requests(a: &BenchArgs, duration_s: Option<f64>) -> Result<(), String> {
    let peak = match (a.rate, a.ramp_from, a.ramp_to) {
        (Some(r), _, _) => r,
        (None, Some(from), Some(to)) => from.max(to),
        _ => return Ok(()),
    };
    let by_time = duration_s.map_or(f64::INFINITY, |d| peak * d);
    let planned = by_time.min(a.requests.map_or(f64::INFINITY, |n| n as f64));
    if planned > MAX_REQUESTS as f64 {
        let d = duration_s.unwrap_or(f64::INFINITY);
        return Err(format!(
            "this load would send about {planned:.0} requests; the limit is {MAX_REQUESTS} per run: \
             over {d} s the rate can be at most {:.0} per second (or give --requests up to {MAX_REQUESTS}, \
             or a shorter --duration)",
            (MAX_REQUESTS as f64 / d).floor()
        ));
    }
    Ok(())
}

fn cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

impl Plan {
    /// Checks the arguments and fills in the defaults that depend on other arguments.
    pub fn from_args(service: Service, a: &BenchArgs) -> Result<Plan, String> {
        if a.mode == Mode::Live && a.service_us.is_some() {
            return Err(
                "--service-us applies to --mode model (live mode performs the real \
                        operation for every request)"
                    .into(),
            );
        }
        if a.calibrate == 0 && (a.mode == Mode::Live || a.service_us.is_none()) {
            return Err("--calibrate 0 needs --mode model and --service-us".into());
        }
        if a.sweep_to < a.sweep_from {
            return Err("--sweep-to must not be below --sweep-from".into());
        }
        let default_s = if a.mode == Mode::Live { 10.0 } else { 60.0 };
        let duration_s = match (a.duration, a.requests) {
            (None, None) => Some(default_s),
            (d, _) => d,
        };
        planned_requests(a, duration_s)?;
        let load = load_spec(a, duration_s)?;
        Ok(Plan {
            service,
            mode: a.mode,
            seed: a.seed,
            calibrate: a.calibrate,
            server: Server {
                workers: a.workers.unwrap_or_else(cores),
                queue_limit: a.queue_limit,
            },
            fixed_service_us: a.service_us,
            load,
            slo_ms: a.slo_ms,
            phone_key: a.phone_key,
            server_key: a.server_key,
        })
    }
}

/// The load the arguments ask for: closed (clients), a ramp, a constant rate, or a sweep.
fn load_spec(a: &BenchArgs, duration_s: Option<f64>) -> Result<LoadSpec, String> {
    let think_us = (a.think_ms * 1000.0).round() as u64;
    Ok(if let Some(clients) = a.clients {
        LoadSpec::Closed {
            load: ClosedLoad {
                clients,
                think_us,
                poisson: a.poisson,
                duration_s,
                requests: a.requests,
                expected_interval_us: 0,
            },
            interval_us: a
                .expected_interval_ms
                .map(|ms| (ms * 1000.0).round() as u64),
        }
    } else if let (Some(from), Some(to)) = (a.ramp_from, a.ramp_to) {
        let over_s = a
            .ramp_over
            .or(duration_s)
            .ok_or("give --ramp-over (or --duration) when --requests bounds a ramp".to_string())?;
        LoadSpec::Open(OpenLoad {
            rate: RateProfile {
                from_per_s: from,
                to_per_s: to,
                over_s,
            },
            poisson: a.poisson,
            duration_s,
            requests: a.requests,
        })
    } else if let Some(rate) = a.rate {
        LoadSpec::Open(OpenLoad {
            rate: RateProfile::constant(rate),
            poisson: a.poisson,
            duration_s,
            requests: a.requests,
        })
    } else {
        LoadSpec::Sweep {
            from: a.sweep_from,
            to: a.sweep_to,
            steps: a.sweep_steps,
            poisson: a.poisson,
            duration_s,
            requests: a.requests,
        }
    })
}

/// Latency percentiles, ms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    /// From a histogram in µs (values are the lowest equivalent of their bucket).
    pub fn of(h: &Histogram<u64>) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary {
                count: 0,
                mean_ms: 0.0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p99_ms: 0.0,
                p999_ms: 0.0,
                max_ms: 0.0,
            };
        }
        let q = |p: f64| h.lowest_equivalent(h.value_at_quantile(p)) as f64 / 1000.0;
        LatencySummary {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: h.lowest_equivalent(h.max()) as f64 / 1000.0,
        }
    }
}

/// One load's result.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// File stem of its `.hgrm` files.
    pub label: String,
    pub description: String,
    /// The sweep step's rate, per second.
    pub nominal_per_s: Option<f64>,
    pub run: RunOutcome,
    pub live: Option<LiveOutcome>,
}

/// The saturation point of a sweep.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Saturation {
    pub slo_ms: f64,
    pub min_achieved_ratio: f64,
    /// Highest offered rate where this step and every lower one passed; `None` if the first failed.
    pub saturation_per_s: Option<f64>,
    pub fraction_of_capacity: Option<f64>,
    pub first_failing_per_s: Option<f64>,
    pub first_failing_reason: Option<String>,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    pub plan: Plan,
    pub operation: String,
    pub calibration: Option<Calibration>,
    pub service_time: ServiceTime,
    /// workers × 1e6 ÷ mean service time, per second.
    pub capacity_per_s: f64,
    pub outcomes: Vec<Outcome>,
    pub saturation: Option<Saturation>,
}

/// Why a sweep step does not count as delivered, if it does not.
pub fn step_failure(o: &Outcome, slo_ms: f64) -> Option<String> {
    let offered = o.nominal_per_s.unwrap_or_else(|| o.run.offered_per_s());
    let achieved = o.run.achieved_per_s();
    let p99 = LatencySummary::of(&o.run.latency).p99_ms;
    if achieved < MIN_ACHIEVED_RATIO * offered {
        Some(format!(
            "achieved {achieved:.1}/s < {MIN_ACHIEVED_RATIO} × offered {offered:.1}/s"
        ))
    } else if p99 >= slo_ms {
        Some(format!("p99 {p99:.1} ms ≥ SLO {slo_ms} ms"))
    } else {
        None
    }
}

/// The saturation point of sweep outcomes in increasing rate order.
pub fn saturation(outcomes: &[Outcome], slo_ms: f64, capacity_per_s: f64) -> Saturation {
    let mut s = Saturation {
        slo_ms,
        min_achieved_ratio: MIN_ACHIEVED_RATIO,
        saturation_per_s: None,
        fraction_of_capacity: None,
        first_failing_per_s: None,
        first_failing_reason: None,
    };
    for o in outcomes {
        let rate = o.nominal_per_s.unwrap_or_else(|| o.run.offered_per_s());
        if let Some(why) = step_failure(o, slo_ms) {
            s.first_failing_per_s = Some(rate);
            s.first_failing_reason = Some(why);
            break;
        }
        s.saturation_per_s = Some(rate);
        s.fraction_of_capacity = (capacity_per_s > 0.0).then(|| rate / capacity_per_s);
    }
    s
}

fn describe_open(o: &OpenLoad) -> String {
    let kind = if o.poisson { "Poisson" } else { "even" };
    let r = &o.rate;
    let rate = if r.from_per_s == r.to_per_s {
        format!("{:.1}/s", r.to_per_s)
    } else {
        format!(
            "ramp {:.1}→{:.1}/s over {}s",
            r.from_per_s, r.to_per_s, r.over_s
        )
    };
    let stop = match (o.duration_s, o.requests) {
        (Some(d), Some(n)) => format!("{d}s or {n} requests"),
        (Some(d), None) => format!("{d}s"),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => String::new(),
    };
    format!("open {rate} {kind}, {stop}")
}

/// The loads to run: (label, description, nominal rate, load).
fn loads(plan: &Plan, mean_us: f64, capacity: f64) -> Vec<(String, String, Option<f64>, Load)> {
    match &plan.load {
        LoadSpec::Open(o) => {
            let label = if o.rate.from_per_s == o.rate.to_per_s {
                "open"
            } else {
                "ramp"
            };
            vec![(label.into(), describe_open(o), None, Load::Open(o.clone()))]
        }
        LoadSpec::Closed { load, interval_us } => {
            let mut l = load.clone();
            l.expected_interval_us =
                interval_us.unwrap_or(l.think_us + mean_us.round().max(1.0) as u64);
            let d = format!(
                "closed {} clients, think {} ms{}, CO interval {} ms",
                l.clients,
                l.think_us as f64 / 1000.0,
                if l.poisson { " (exponential)" } else { "" },
                l.expected_interval_us as f64 / 1000.0
            );
            vec![("closed".into(), d, None, Load::Closed(l))]
        }
        LoadSpec::Sweep {
            from,
            to,
            steps,
            poisson,
            duration_s,
            requests,
        } => (0..*steps)
            .map(|i| {
                let f = if *steps > 1 {
                    from + (to - from) * f64::from(i) / f64::from(steps - 1)
                } else {
                    *from
                };
                let rate = (capacity * f).max(1e-3);
                let o = OpenLoad {
                    rate: RateProfile::constant(rate),
                    poisson: *poisson,
                    duration_s: *duration_s,
                    requests: *requests,
                };
                let d = format!("{:>4.0}% {}", f * 100.0, describe_open(&o));
                (format!("sweep_{:02}", i + 1), d, Some(rate), Load::Open(o))
            })
            .collect(),
    }
}

type Built = (Arc<dyn Operation>, Option<Arc<CapfOp>>);

fn build_op(plan: &Plan) -> Result<Built, String> {
    Ok(match plan.service {
        Service::Tvs => (
            Arc::new(TvsOp::new(plan.seed, plan.server_key, plan.phone_key)?),
            None,
        ),
        Service::Capf => {
            let capf = Arc::new(CapfOp::new(plan.seed, plan.server_key, plan.phone_key)?);
            (capf.clone(), Some(capf))
        }
    })
}

/// Runs the plan.
pub fn execute(plan: &Plan) -> Result<Report, String> {
    let need_op = plan.calibrate > 0 || plan.mode == Mode::Live;
    let (op, capf) = if need_op {
        let (op, capf) = build_op(plan)?;
        (Some(op), capf)
    } else {
        (None, None)
    };
    let mut calibration = match &op {
        Some(op) if plan.calibrate > 0 => Some(calibrate(op.as_ref(), plan.calibrate)?),
        _ => None,
    };
    if let (Some(c), Some(capf)) = (calibration.as_mut(), &capf) {
        c.raw_sign = Some(calibrate_raw_sign(capf, plan.calibrate)?);
    }
    let service_time = match (plan.fixed_service_us, &calibration) {
        (Some(us), _) => ServiceTime::Fixed(us),
        (None, Some(c)) => {
            ServiceTime::Empirical(Empirical::from_histogram(&c.server).ok_or("empty calibration")?)
        }
        (None, None) => return Err("no service time: calibrate or give --service-us".into()),
    };
    let mean_us = service_time.mean_us();
    let capacity_per_s = f64::from(plan.server.workers) * 1e6 / mean_us.max(1e-9);
    let mut outcomes = vec![];
    for (i, (label, description, nominal_per_s, load)) in
        loads(plan, mean_us, capacity_per_s).into_iter().enumerate()
    {
        let (run, live) = match (&op, plan.mode) {
            (Some(op), Mode::Live) => {
                let first_id = 1_000_000 * (i as u64 + 1);
                let l = run_live(op.as_ref(), plan.server, &load, plan.seed, first_id);
                (l.run.clone(), Some(l))
            }
            _ => (simulate(plan.server, &load, &service_time, plan.seed), None),
        };
        outcomes.push(Outcome {
            label,
            description,
            nominal_per_s,
            run,
            live,
        });
    }
    let saturation = matches!(plan.load, LoadSpec::Sweep { .. })
        .then(|| saturation(&outcomes, plan.slo_ms, capacity_per_s));
    Ok(Report {
        plan: plan.clone(),
        operation: op.as_ref().map_or_else(
            || {
                format!(
                    "{} operation (not built: fixed service time)",
                    plan.service.name()
                )
            },
            |o| o.describe(),
        ),
        calibration,
        service_time,
        capacity_per_s,
        outcomes,
        saturation,
    })
}
