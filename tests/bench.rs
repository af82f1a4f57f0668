//! `cucmsim bench tvs|capf`: the queue model against hand-checked cases and closed forms
//! (M/D/1, M/M/c), refusals, determinism, coordinated-omission correction, the saturation
//! rule, the real operations, and the command line (options, exit codes, one tiny live run).

use super::support::run;
use cucmsim::bench::capf::CapfOp;
use cucmsim::bench::load::{ClosedLoad, OpenLoad, RateProfile, ServiceTime, SplitMix};
use cucmsim::bench::model::{simulate, Load, RunOutcome, Server};
use cucmsim::bench::rig::{Operation, TvsOp};
use cucmsim::bench::run::{execute, LatencySummary, LoadSpec, Plan};
use cucmsim::bench::{cost, Mode, Service};
use cucmsim_core::pki::KeyProfile;
use serde_json::Value;

const UNBOUNDED: u64 = u64::MAX;

fn open(rate: f64, poisson: bool, requests: u64) -> Load {
    Load::Open(OpenLoad {
        rate: RateProfile::constant(rate),
        poisson,
        duration_s: None,
        requests: Some(requests),
    })
}

fn one_worker(queue_limit: u64) -> Server {
    Server {
        workers: 1,
        queue_limit,
    }
}

fn fixed_ms(ms: u64) -> ServiceTime {
    ServiceTime::Fixed(ms * 1000)
}

#[test]
fn below_capacity_nothing_queues() {
    // 1 worker, 10 ms per request, one request every 20 ms: each finds the worker free.
    let r = simulate(
        one_worker(UNBOUNDED),
        &open(50.0, false, 500),
        &fixed_ms(10),
        1,
    );
    assert_eq!(
        (r.sent, r.completed, r.refused, r.max_waiting),
        (500, 500, 0, 0)
    );
    assert!(r.latency.equivalent(r.latency.min(), 10_000));
    assert!(r.latency.equivalent(r.latency.max(), 10_000));
    assert!(
        (r.achieved_per_s() - 50.0).abs() < 0.1,
        "{}",
        r.achieved_per_s()
    );
}

#[test]
fn above_capacity_the_queue_grows_linearly() {
    // One request every 5 ms, 10 ms each: request k starts at 10k ms, latency 5k + 10 ms.
    let r = simulate(
        one_worker(UNBOUNDED),
        &open(200.0, false, 100),
        &fixed_ms(10),
        1,
    );
    assert_eq!(r.completed, 100);
    assert!(
        r.latency.equivalent(r.latency.max(), 505_000),
        "{}",
        r.latency.max()
    );
    assert!(
        (r.latency.mean() - 257_500.0).abs() < 300.0,
        "{}",
        r.latency.mean()
    );
    assert!((48..=50).contains(&r.max_waiting), "{}", r.max_waiting);
    // Capacity, not the offered 200/s: 100 requests in the 1 s it takes to serve them.
    assert!(
        (r.achieved_per_s() - 100.0).abs() < 0.5,
        "{}",
        r.achieved_per_s()
    );
    assert!((r.offered_per_s() - 200.0).abs() < 0.5);
}

#[test]
fn a_full_queue_refuses_and_bounds_the_latency() {
    let r = simulate(one_worker(5), &open(200.0, false, 1000), &fixed_ms(10), 1);
    assert_eq!(r.sent, 1000);
    assert_eq!(r.completed + r.refused, 1000);
    // Half the arrivals find the 5 places taken once the queue has filled.
    assert!((490..=500).contains(&r.refused), "{}", r.refused);
    assert_eq!(r.max_waiting, 5);
    // At most 5 ahead plus the one in service: 60 ms.
    assert!(r.latency.max() <= 60_100, "{}", r.latency.max());
}

#[test]
fn md1_mean_latency_matches_pollaczek_khinchine() {
    // M/D/1, λ = 80/s, D = 10 ms, ρ = 0.8: Wq = ρD / 2(1−ρ) = 20 ms, so latency 30 ms.
    let r = simulate(
        one_worker(UNBOUNDED),
        &open(80.0, true, 200_000),
        &fixed_ms(10),
        7,
    );
    let mean_ms = r.latency.mean() / 1000.0;
    assert!(
        (mean_ms - 30.0).abs() < 30.0 * 0.06,
        "M/D/1 mean {mean_ms} ms"
    );
}

#[test]
fn mmc_mean_latency_matches_erlang_c() {
    // M/M/2, λ = 160/s, 1/μ = 10 ms: a = 1.6, P(wait) = 6.4/9, Wq = P(wait)/(cμ − λ) = 17.78 ms.
    let (c, lambda, mu) = (2.0, 160.0, 100.0);
    let a: f64 = lambda / mu;
    let top = a * a / 2.0 * (c / (c - a));
    let p_wait = top / (1.0 + a + top);
    let expected_ms = (p_wait / (c * mu - lambda) + 1.0 / mu) * 1000.0;
    let server = Server {
        workers: 2,
        queue_limit: UNBOUNDED,
    };
    let service = ServiceTime::Exponential(10_000.0);
    let r = simulate(server, &open(lambda, true, 300_000), &service, 11);
    let mean_ms = r.latency.mean() / 1000.0;
    assert!((expected_ms - 27.78).abs() < 0.01);
    assert!(
        (mean_ms - expected_ms).abs() < expected_ms * 0.06,
        "M/M/2 mean {mean_ms} ms, Erlang C {expected_ms} ms"
    );
}

fn summary(r: &RunOutcome) -> (u64, u64, LatencySummary) {
    (r.completed, r.refused, LatencySummary::of(&r.latency))
}

#[test]
fn one_seed_one_result() {
    let service = ServiceTime::Exponential(8_000.0);
    let load = open(110.0, true, 5_000);
    let a = simulate(one_worker(50), &load, &service, 3);
    let b = simulate(one_worker(50), &load, &service, 3);
    let c = simulate(one_worker(50), &load, &service, 4);
    assert_eq!(summary(&a), summary(&b));
    assert_ne!(summary(&a), summary(&c));
}

#[test]
fn closed_model_co_correction_adds_what_waiting_clients_did_not_send() {
    // 10 clients, no think time, 1 worker at 10 ms: once the first round is through, every
    // request waits behind the 9 others (100 ms). Sending every 10 ms as intended, a client
    // would have seen 90, 80, …, 10 ms for the requests it held back.
    let load = Load::Closed(ClosedLoad {
        clients: 10,
        think_us: 0,
        poisson: false,
        duration_s: None,
        requests: Some(1000),
        expected_interval_us: 10_000,
    });
    let r = simulate(one_worker(UNBOUNDED), &load, &fixed_ms(10), 1);
    assert_eq!(r.completed, 1000);
    let raw = LatencySummary::of(&r.latency);
    assert!((raw.p50_ms - 100.0).abs() < 0.1 && (raw.p90_ms - 100.0).abs() < 0.1);
    let corrected = r
        .corrected
        .as_ref()
        .expect("closed runs keep a corrected copy");
    // First round 10, 20, …, 100 ms → 1 + 2 + … + 10 samples; then 990 × 10.
    assert_eq!(corrected.len(), 55 + 990 * 10);
    let fixed = LatencySummary::of(corrected);
    assert!((fixed.p50_ms - 50.0).abs() < 0.1, "{fixed:?}");
    assert!((r.achieved_per_s() - 100.0).abs() < 0.5);
}

#[test]
fn ramp_arrivals_follow_the_cumulative_rate() {
    // 0 → 100/s over 10 s: Λ(t) = 5 t², so 5 arrivals in the first second and 500 in all.
    let ramp = OpenLoad {
        rate: RateProfile {
            from_per_s: 0.0,
            to_per_s: 100.0,
            over_s: 10.0,
        },
        poisson: false,
        duration_s: Some(10.0),
        requests: None,
    };
    let times: Vec<u64> = ramp.arrivals(1).collect();
    assert_eq!(times.len(), 500);
    assert_eq!(times.iter().filter(|&&t| t < 1_000_000).count(), 5);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let poisson = OpenLoad {
        poisson: true,
        ..ramp
    };
    let n = poisson.arrivals(9).count() as f64;
    assert!((n - 500.0).abs() < 4.0 * 500f64.sqrt(), "{n}");
}

#[test]
fn empirical_sampling_keeps_the_calibrated_mean() {
    let mut h = cost::cost_histogram();
    for v in [100u64, 200, 300, 400, 5000] {
        h.record(v).unwrap();
    }
    let e = cucmsim::bench::load::Empirical::from_histogram(&h).unwrap();
    let mut rng = SplitMix::new(5, 0);
    let n = 100_000;
    let mean = (0..n).map(|_| e.sample(&mut rng)).sum::<u64>() as f64 / f64::from(n);
    assert!((mean - 1200.0).abs() < 40.0, "{mean}");
}

fn fixed_plan(load: LoadSpec, slo_ms: f64) -> Plan {
    Plan {
        service: Service::Tvs,
        mode: Mode::Model,
        seed: 1,
        calibrate: 0,
        server: one_worker(UNBOUNDED),
        fixed_service_us: Some(10_000),
        load,
        slo_ms,
        phone_key: KeyProfile::EcP256,
        server_key: KeyProfile::RSA2048,
    }
}

fn sweep(slo_ms: f64) -> Plan {
    fixed_plan(
        LoadSpec::Sweep {
            from: 0.5,
            to: 1.5,
            steps: 11,
            poisson: false,
            duration_s: Some(10.0),
            requests: None,
        },
        slo_ms,
    )
}

#[test]
fn saturation_is_the_last_delivered_rate() {
    // Capacity 100/s; even arrivals at 100/s still meet every request at once; 110/s cannot.
    let r = execute(&sweep(1000.0)).unwrap();
    assert_eq!(r.outcomes.len(), 11);
    let s = r.saturation.unwrap();
    assert!((s.saturation_per_s.unwrap() - 100.0).abs() < 1e-9, "{s:?}");
    assert!((s.first_failing_per_s.unwrap() - 110.0).abs() < 1e-9);
    assert!(s.first_failing_reason.unwrap().contains("achieved"));
    // A 5 ms objective fails at once: no saturation point.
    let tight = execute(&sweep(5.0)).unwrap().saturation.unwrap();
    assert_eq!(tight.saturation_per_s, None);
    assert!(tight.first_failing_reason.unwrap().contains("p99"));
}

#[test]
fn real_operations_answer_and_are_timed_on_the_server_side() {
    let tvs = TvsOp::new(21, KeyProfile::RSA2048, KeyProfile::EcP256).unwrap();
    let c = tvs.run(0).unwrap();
    assert!(c.handshake_ns > 0 && c.request_ns > 0 && c.phone_ns > 0);
    assert_eq!(c.server_ns, c.handshake_ns + c.request_ns);
    let capf = CapfOp::new(21, KeyProfile::RSA2048, KeyProfile::EcP256).unwrap();
    let cal = cost::calibrate(&capf, 3).unwrap();
    assert_eq!(cal.server.len(), 3);
    // Issuing an LSC includes an RSA-2048 signature: the request part costs more than a lookup.
    assert!(cal.request.mean() > 50.0, "{}", cal.request.mean());
    let (raw, tbs) = cost::calibrate_raw_sign(&capf, 3).unwrap();
    assert_eq!(raw.len(), 3);
    assert!((300..1200).contains(&tbs), "{tbs}");
    let a = capf.sample_lsc().unwrap();
    assert_ne!(
        capf.issue_lsc("SEP0", &capf.ca().key, 1).unwrap().serial(),
        a.serial()
    );
}

#[test]
fn bad_options_exit_2_with_a_message() {
    for args in [
        &["bench", "tvs", "--rate", "-3"][..],
        &["bench", "tvs", "--rate", "10", "--clients", "3"],
        &["bench", "capf", "--clients", "3", "--sweep"],
        &["bench", "tvs", "--duration", "10parsecs"],
        &["bench", "tvs", "--workers", "0"],
        &["bench", "tvs", "--queue-limit", "lots"],
        &["bench", "tvs", "--ramp-from", "5"],
        &["bench", "tvs", "--mode", "live", "--service-us", "100"],
        &["bench", "tvs", "--calibrate", "0"],
    ] {
        let (code, _, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            !stderr.is_empty() && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

#[test]
fn help_documents_the_options_and_their_defaults() {
    let (code, out, _) = run(&["bench", "capf", "--help"]);
    assert_eq!(code, 0);
    for needle in [
        "--queue-limit",
        "[default: 1024]",
        "--calibrate",
        "[default: 200]",
        "--slo-ms",
        "--think-ms",
        "--ramp-over",
        "INTENDED arrival",
        "record_correct",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
}

#[test]
fn tiny_live_run_writes_json_and_hgrm_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "bench",
        "tvs",
        "--mode",
        "live",
        "--calibrate",
        "3",
        "--rate",
        "40",
        "--requests",
        "8",
        "--workers",
        "1",
        "--json",
        "--out",
        out,
    ];
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["mode"], "live");
    let r = &v["runs"][0];
    assert_eq!(
        (r["completed"].as_u64(), r["refused"].as_u64()),
        (Some(8), Some(0))
    );
    assert_eq!(r["failed"], 0);
    // Every request cost at least the server's handshake: latency ≥ the calibrated p50 / 2.
    let p50_us = v["calibration"]["server_us"]["p50_us"].as_f64().unwrap();
    assert!(r["latency_ms"]["p50_ms"].as_f64().unwrap() * 1000.0 >= p50_us / 2.0);
    assert_eq!(r["live"]["server_us"]["count"], 8);
    for f in [
        "bench.json",
        "latency/open.hgrm",
        "cost/calibration_server.hgrm",
    ] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(
            f.ends_with(".json") || text.contains("Total count"),
            "{f}: {text}"
        );
    }
}
