//! `cucmsim bench tvs|capf`: capacity runs of the TVS and CAPF services with honest tails.
//!
//! ```text
//!  1. calibrate: run the real operation N times (TLS 1.2 handshake + query, or + LSC issue),
//!     timing only the server's calls ─► empirical cost distribution (µs, host clock)
//!  2. load: open model (fixed rate or ramp; even or Poisson arrivals) or closed model
//!     (clients, think time), one run or a sweep over rates around the calibrated capacity
//!  3. serve: --mode model ─► discrete-event FCFS queue, W workers, virtual µs (model.rs)
//!            --mode live  ─► W threads perform the real operation per request (live.rs)
//!  4. report: latency percentiles (queueing clock), cost percentiles (CPU clock), saturation
//! ```
//!
//! **Coordinated omission.** A load generator that waits for a slow answer before sending the
//! next request stops measuring exactly when the server is slow. The open model never waits:
//! each request has an intended arrival time fixed in advance and its latency is measured from
//! that time, whether it was sent late, queued or served at once. The closed model does wait
//! (that is what a client with think time does), so besides its raw latencies it records a
//! second histogram with hdrhistogram's `record_correct(latency, interval)`, which adds the
//! samples the client would have produced had it kept sending every `interval` (think time +
//! the uncontended service time unless `--expected-interval-ms` says otherwise).
//!
//! **Saturation point** of a sweep: the highest offered rate at which that step and every lower
//! step both delivered (achieved ≥ 0.95 × offered) and kept p99 latency under `--slo-ms`.
//!
//! Files: `mod.rs` arguments and dispatch; `run.rs` the plan and its execution; `rig.rs` and
//! `capf.rs` the real operations; `cost.rs` calibration; `load.rs` arrivals and service times;
//! `model.rs` the simulation; `live.rs` the real-time run; `output.rs` the table and `.hgrm`
//! files; `json.rs` the JSON document.

pub mod capf;
pub mod cost;
pub mod json;
pub mod live;
pub mod load;
pub mod model;
pub mod output;
pub mod rig;
pub mod run;

use clap::{Args, ValueEnum};
use cucmsim_core::pki::KeyProfile;
use std::path::PathBuf;

/// How requests are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Discrete-event simulation of the queue in virtual time; service times drawn from the
    /// calibrated distribution (or --service-us) with the seed. Deterministic.
    Model,
    /// Real time: worker threads perform the real operation for every request.
    Live,
}

const HELP: &str = "\
Load models (pick one; with none, --sweep runs):
  open:   --rate R, or --ramp-from R0 --ramp-to R1 [--ramp-over D]; --poisson for exponential
          gaps; stops after --duration or --requests. Latency counts from each request's
          INTENDED arrival time, so a slow server cannot hide its tail (no coordinated omission).
  closed: --clients N --think-ms T: each client sends, waits, thinks, sends again. Latency is
          from the send; a second, CO-corrected histogram (hdrhistogram record_correct with
          the interval think + uncontended service time) shows what clients sending on schedule
          would have seen.
  sweep:  the open model at --sweep-steps rates from --sweep-from to --sweep-to times the
          calibrated capacity (workers / mean server-side cost). Saturation point = the highest
          offered rate where this step and every lower one reached achieved >= 0.95 x offered
          with p99 < --slo-ms.

Service: W workers (--workers), one FCFS queue of at most --queue-limit waiting requests
(more are refused and counted). Service time = the calibrated distribution (default) or
--service-us (model mode). Calibration times only the server's calls; the phone's side runs
too (real flights need it) and is reported apart. Costs (host clock) and latencies (queueing
clock) are separate histograms. Exit 0 on success, 2 on bad options.

Examples:
  cucmsim bench tvs                            a sweep to the saturation point
  cucmsim bench tvs --rate 1500 --duration 20s --workers 4
  cucmsim bench capf --clients 50 --think-ms 100 --out /tmp/capf
  cucmsim bench tvs --mode live --rate 800 --duration 10s";

/// Options shared by `bench tvs` and `bench capf`.
#[derive(Args, Clone, Debug)]
#[command(after_help = HELP)]
pub struct BenchArgs {
    /// model: discrete-event simulation in virtual time (deterministic for a seed and a
    /// calibration); live: real worker threads do the real work on the real clock.
    #[arg(long, value_enum, default_value_t = Mode::Model)]
    pub mode: Mode,
    /// Operations timed in the calibration phase (0 skips it; then --service-us is required).
    #[arg(long, default_value_t = 200)]
    pub calibrate: u32,
    /// Worker threads of the server [default: the cores of this machine].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub workers: Option<u32>,
    /// Requests allowed to wait for a worker; more are refused. A number or "unbounded".
    #[arg(long, default_value = "1024", value_parser = parse_limit)]
    pub queue_limit: u64,
    /// Fixed service time per request, µs, instead of the calibrated distribution (model mode).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub service_us: Option<u64>,
    /// Open model: arrivals per second.
    #[arg(long, value_parser = positive, conflicts_with_all = ["ramp_from", "clients", "sweep"])]
    pub rate: Option<f64>,
    /// Exponential inter-arrival gaps (open model) or think times (closed), from the seed.
    #[arg(long)]
    pub poisson: bool,
    /// Open model ramp: starting rate per second.
    #[arg(long, value_parser = non_negative, requires = "ramp_to", conflicts_with_all = ["clients", "sweep"])]
    pub ramp_from: Option<f64>,
    /// Open model ramp: final rate per second (held after the ramp).
    #[arg(long, value_parser = positive, requires = "ramp_from")]
    pub ramp_to: Option<f64>,
    /// Open model ramp: how long the ramp takes (e.g. 30s) [default: the whole --duration].
    #[arg(long, value_parser = parse_duration, requires = "ramp_from")]
    pub ramp_over: Option<f64>,
    /// How long arrivals go on (e.g. 10s, 500ms, 2m) [default: 60s in model mode, 10s live;
    /// none when only --requests is given].
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Stop after this many requests (per sweep step).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Closed model: number of clients.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000), conflicts_with = "sweep")]
    pub clients: Option<u32>,
    /// Closed model: think time between an answer and the next request, ms.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    pub think_ms: f64,
    /// Closed model: interval for the CO correction, ms [default: think + mean service time].
    #[arg(long, value_parser = positive)]
    pub expected_interval_ms: Option<f64>,
    /// Run the open model at increasing rates and report the saturation point.
    #[arg(long)]
    pub sweep: bool,
    /// Sweep: first rate, as a fraction of the calibrated capacity.
    #[arg(long, default_value_t = 0.1, value_parser = positive)]
    pub sweep_from: f64,
    /// Sweep: last rate, as a fraction of the calibrated capacity.
    #[arg(long, default_value_t = 1.5, value_parser = positive)]
    pub sweep_to: f64,
    /// Sweep: number of rates, evenly spaced.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sweep_steps: u32,
    /// Latency objective for the saturation point: p99 must stay under it, ms.
    #[arg(long, default_value_t = 1000.0, value_parser = positive)]
    pub slo_ms: f64,
    /// Seed of the keys, arrivals and service-time draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Phone key: its MIC (TLS client certificate) and, for capf, the key the LSC is issued for
    /// (ec256 or rsa2048, …).
    #[arg(long, default_value = "ec256")]
    pub phone_key: KeyProfile,
    /// Server key: the TVS certificate's (tvs) or the CAPF certificate's, which signs the LSCs
    /// (capf). CUCM's are RSA-2048.
    #[arg(long, default_value = "rsa2048")]
    pub server_key: KeyProfile,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write bench.json, latency/*.hgrm and cost/*.hgrm (values in ms) into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Which service is benchmarked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Tvs,
    Capf,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Tvs => "tvs",
            Service::Capf => "capf",
        }
    }
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number ≥ 0")),
    }
}

/// `unbounded` or a number of requests.
pub fn parse_limit(s: &str) -> Result<u64, String> {
    if s.eq_ignore_ascii_case("unbounded") || s.eq_ignore_ascii_case("none") {
        return Ok(u64::MAX);
    }
    s.parse()
        .map_err(|_| format!("{s:?} is neither a number nor \"unbounded\""))
}

/// A duration in seconds from `10s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "{s:?} is not a positive duration (e.g. 10s, 500ms, 2m)"
        )),
    }
}

/// Runs `cucmsim bench tvs|capf`; returns the exit code.
pub fn main(service: Service, args: &BenchArgs) -> u8 {
    let fail = |e: String| {
        eprintln!("cucmsim bench {}: {e}", service.name());
        2
    };
    let plan = match run::Plan::from_args(service, args) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let report = match run::execute(&plan) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        );
    } else {
        print!("{}", output::render(&report));
    }
    if let Some(dir) = &args.out {
        match output::write_files(dir, &report) {
            Ok(files) if !args.json => {
                println!("\nwrote {} files under {}", files.len(), dir.display())
            }
            Ok(_) => {}
            Err(e) => return fail(e),
        }
    }
    0
}
