//! Every bundled scenario runs as a test and meets its own expectations; the scenario
//! language reports bad files with `file:line:col` and exit code 2.

use super::support::{run, scratch};
use cucmsim::lang::compile::Overrides;
use cucmsim::reports::runner::execute;
use std::path::Path;

pub(crate) fn run_scenario(rel: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let compiled = cucmsim::lang::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = execute(&compiled, None).unwrap();
    let failed: Vec<_> = report
        .expectations
        .details
        .iter()
        .filter(|d| !d.passed)
        .collect();
    assert!(
        failed.is_empty(),
        "{rel}: {failed:#?}\nreproduce: {}",
        report.reproduce
    );
}

#[test]
fn default_scenario() {
    run_scenario("scenarios/default.toml");
}

#[test]
fn migration_itl_bulk() {
    run_scenario("scenarios/migration/itl_bulk.toml");
}

#[test]
fn migration_itl_no_import() {
    run_scenario("scenarios/migration/itl_no_import.toml");
}

#[test]
fn migration_source_tvs_down() {
    run_scenario("scenarios/migration/source_tvs_down.toml");
}

#[test]
fn capacity_tvs_overload() {
    run_scenario("scenarios/capacity/tvs_overload.toml");
}

#[test]
fn migration_itl_recovery_missing() {
    run_scenario("scenarios/migration/itl_recovery_missing.toml");
}

#[test]
fn same_seed_same_trace_hash_different_seed_differs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let hash = |seed| {
        let text = std::fs::read_to_string(&path).unwrap();
        let raw = toml::from_str(&text).unwrap();
        let o = Overrides {
            seed: Some(seed),
            phones: Some(30),
            tls: None,
        };
        let c = cucmsim::lang::compile::compile_with("default.toml", &text, raw, o).unwrap();
        execute(&c, Some(30)).unwrap().trace_hash
    };
    assert_eq!(hash(7), hash(7));
    assert_ne!(hash(7), hash(8));
}

#[test]
fn check_reports_unknown_keys_with_line_and_column() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml"),
    )
    .unwrap();
    let bad = text.replacen("  ip = \"10.1.0.1\"", "  ipp = \"10.1.0.1\"", 1);
    let line = bad.lines().position(|l| l.contains("ipp")).unwrap() + 1;
    let (_g, path) = scratch("bad.toml", bad.as_bytes());
    let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!("{}:{line}:3: ", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("ipp"), "{stderr}");
    // A reference to a cluster that does not exist points at the value.
    let bad = text.replacen(
        "cluster = \"src\"\n\n[[step]]",
        "cluster = \"nowhere\"\n\n[[step]]",
        1,
    );
    let line = bad.lines().position(|l| l.contains("nowhere")).unwrap() + 1;
    let (_g2, path) = scratch("bad2.toml", bad.as_bytes());
    let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!("{}:{line}:11: ", path.display())),
        "{stderr}"
    );
    // Bad durations, and a valid file.
    let bad = text.replacen("duration = \"20 min\"", "duration = \"20 fortnights\"", 1);
    let (_g3, path) = scratch("bad3.toml", bad.as_bytes());
    let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(":9:12: bad duration"), "{stderr}");
    // `over` spreads resets of fleets only; with `cluster` it is an error at the value.
    let bad = text.replacen(
        "action = \"reset_phones\"\n",
        "action = \"reset_phones\"\ncluster = \"dst\"\nover = \"2 min\"\n",
        1,
    );
    let line = bad.lines().position(|l| l.starts_with("over =")).unwrap() + 1;
    let (_g5, path) = scratch("bad5.toml", bad.as_bytes());
    let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}:{line}:8: `over` spreads", path.display())),
        "{stderr}"
    );
    let (_g4, path) = scratch("good.toml", text.as_bytes());
    assert_eq!(run(&["check", path.to_str().unwrap()]).0, 0);
    assert_eq!(run(&["check", "/nonexistent.toml"]).0, 2);
}

#[test]
fn run_writes_report_json_with_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["run", "--phones", "20", "--out", out, "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "scenario",
        "seed",
        "trace_hash",
        "phones",
        "failures",
        "expectations",
        "virtual_time_s",
        "wall_time_s",
        "events",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["phones"]["total"], 20);
    assert_eq!(v["phones"]["by_state"]["Registered"], 20);
    assert_eq!(v["expectations"]["failed"], 0);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(file["trace_hash"], v["trace_hash"]);
    // Latency percentiles in virtual time, with the documented keys and a sane order.
    let itl = &v["latency"]["phone.itl_ms"];
    assert_eq!(itl["count"], 40, "two boots of 20 phones: {itl}");
    let p = |k: &str| itl[k].as_f64().unwrap();
    assert!(p("p50_ms") > 0.0 && p("p50_ms") <= p("p90_ms"));
    assert!(p("p90_ms") <= p("p99_ms") && p("p99_ms") <= p("p999_ms"));
    assert!(p("p999_ms") <= p("max_ms"));
    assert_eq!(v["latency"]["phone.migration_ms"]["count"], 20);
    assert_eq!(v["latency"]["tvs.query_ms"]["count"], 20);
    assert_eq!(v["latency"]["tvs.service_ms"]["count"], 20);
    // Real CPU cost is its own section: phones verified 3 files a boot.
    assert_eq!(v["cpu_cost"]["phone/TftpReply"]["count"], 120);
    // The other forms: Markdown, HTML with three inline SVG plots, .hgrm files.
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.starts_with("# default — seed 1 — PASS"), "{md}");
    assert!(md.contains("| phone.itl_ms | 40 |"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains("Registered (dst)") && html.contains("Registered (src)"));
    let hgrm = std::fs::read_to_string(dir.path().join("latency/phone.itl_ms.hgrm")).unwrap();
    assert!(hgrm.contains("Total count    =           40"), "{hgrm}");
    assert!(dir.path().join("cpu/phone.TftpReply.hgrm").exists());
}

/// The default scenario with extra TOML appended, at a small size.
fn variant(extra: &str, phones: u32) -> cucmsim::reports::runner::Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Drop the default expectations; the test states its own.
    let text = text
        .split("[[expect]]")
        .next()
        .unwrap()
        .replace("count = 200", &format!("count = {phones}"))
        + extra;
    let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let o = Overrides {
        seed: Some(3),
        phones: None,
        tls: None,
    };
    let c = cucmsim::lang::compile::compile_with("variant.toml", &text, raw, o)
        .unwrap_or_else(|e| panic!("{e}"));
    execute(&c, None).unwrap()
}

fn assert_all_pass(r: &cucmsim::reports::runner::Report) {
    let failed: Vec<_> = r
        .expectations
        .details
        .iter()
        .filter(|d| !d.passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn phone_clock_skew_makes_the_tvs_certificate_expired_over_real_tls() {
    // Clusters are installed a year before the epoch with 5-year certificates: phones whose
    // clock runs 5 years ahead see the source TVS certificate as expired in the handshake.
    let r = variant(
        r#"
[[fault]]
kind = "clock_skew"
host = "lobby"
by = "1825 days"
at = "6 min"

[[expect]]
kind = "phones"
by = "20 min"
state = "Trust List update failed"
count = 12

[[expect]]
kind = "observation"
what = "tls_failure"
at_least = 24
"#,
        12,
    );
    assert_all_pass(&r);
}

#[test]
fn a_partition_between_phones_and_source_tvs_fails_the_migration() {
    let r = variant(
        r#"
[[fault]]
kind = "partition"
between = ["lobby", "src"]
at = "6 min"
for = "14 min"

[[expect]]
kind = "phones"
by = "20 min"
state = "Trust List update failed"
count = 10

[[expect]]
kind = "observation"
what = "tvs_timeout"
at_least = 20
"#,
        10,
    );
    assert_all_pass(&r);
}

#[test]
fn heavy_loss_and_duplication_do_not_break_invariants() {
    let r = variant(
        r#"
[[fault]]
kind = "duplicate"
rate = 0.3
at = "0 s"
for = "20 min"

[[fault]]
kind = "delay"
ms = 300
jitter_ms = 200
at = "0 s"
for = "20 min"

[[expect]]
kind = "phones"
by = "20 min"
state = "Registered"
cluster = "dst"
count = 10

[[expect]]
kind = "no_invariant_violation"
"#,
        10,
    );
    assert_all_pass(&r);
}

#[test]
fn secure_migration_verifies_the_new_ctl_through_tvs_then_the_itl_through_the_ctl() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .split("[[expect]]")
        .next()
        .unwrap()
        .replace("count = 200", "count = 8");
    let text = text.replace(
        "version = \"10.5\"\n",
        "version = \"10.5\"\nsecurity_mode = \"mixed\"\n",
    );
    let text = text.replace(
        "version = \"12.5\"\n",
        "version = \"12.5\"\nsecurity_mode = \"mixed\"\n",
    ) + r#"
[[expect]]
kind = "phones"
by = "20 min"
state = "Registered"
cluster = "dst"
count = 8

[[expect]]
kind = "observation"
what = "tvs_query"
count = 8

[[expect]]
kind = "no_invariant_violation"
"#;
    let raw = toml::from_str(&text).unwrap();
    let c = cucmsim::lang::compile::compile_with("mixed.toml", &text, raw, Overrides::default())
        .unwrap();
    let (r, trace) = cucmsim::reports::runner::execute_with_trace(&c, None).unwrap();
    assert_all_pass(&r);
    // Only the CTL went through TVS; the destination ITL was verified against the new CTL.
    assert!(trace
        .iter()
        .filter(|o| o.what() == "tvs_query")
        .all(|o| o.detail().starts_with("CTL")));
    assert!(trace
        .iter()
        .any(|o| o.what() == "trust_list_installed" && o.detail() == "ITL via Ctl"));
}

/// `scenarios/perf/keepalive_week.toml` at `phones` phones (the `--phones` override) for
/// `duration`; or, with `expect`, a fleet of `phones` and these expectations instead of the
/// file's. `edit` rewrites the text first.
fn keepalive_week(
    phones: u32,
    duration: &str,
    edit: &dyn Fn(String) -> String,
    expect: Option<&str>,
) -> (
    cucmsim::reports::runner::Report,
    Vec<cucmsim_core::machine::Observation>,
) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/perf/keepalive_week.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace(
            "duration = \"7 days\"",
            &format!("duration = \"{duration}\""),
        )
        .replace("by = \"7 days\"", &format!("by = \"{duration}\""));
    let (text, scale) = match expect {
        Some(e) => {
            let head = text.split("[[expect]]").next().unwrap();
            let head = head.replace("count = 10000", &format!("count = {phones}"));
            (head + e, None)
        }
        None => (text, Some(phones)),
    };
    let text = edit(text);
    let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let o = Overrides {
        seed: None,
        phones: scale,
        tls: None,
    };
    let c = cucmsim::lang::compile::compile_with("keepalive_week.toml", &text, raw, o)
        .unwrap_or_else(|e| panic!("{e}"));
    cucmsim::reports::runner::execute_with_trace(&c, scale).unwrap()
}

#[test]
fn keepalive_week_small_keeps_every_phone_registered_and_adds_no_trace() {
    // 50 phones for 6 h 7 min: each registers within the 30 s boot window, then sends a
    // keepalive every 15 min (the first brought forward to a whole second): 24 each, the
    // last by 6 h 30 s, the 25th not before 6 h 15 min.
    const RUN: &str = "6 h 7 min";
    let (r, trace) = keepalive_week(50, RUN, &|t| t, None);
    assert_all_pass(&r);
    assert_eq!(r.phones.by_state["Registered"], 50);
    // The same world without keepalives: the same trace, 50 × 24 keepalives and acks fewer.
    let (quiet, quiet_trace) = keepalive_week(
        50,
        RUN,
        &|t| t.replace("keepalive = \"15 min\"\n", ""),
        None,
    );
    assert_all_pass(&quiet);
    assert_eq!(
        r.trace_hash, quiet.trace_hash,
        "keepalives add no observation"
    );
    assert_eq!(trace.len(), quiet_trace.len());
    assert_eq!(r.messages.sent - quiet.messages.sent, 2 * 50 * 24);
    assert_eq!(r.messages.dropped, 0);
}

#[test]
fn phones_notice_a_stopped_callmanager_by_missed_keepalives_and_fail_over() {
    // A second node; the publisher's CallManager stops at 1 h for 2 h. Each phone misses
    // its next keepalive (noticed at the tick after), then two more, each at its 10 s
    // deadline, unregisters, finds cm-pub silent (10 s registration timeout) and registers
    // with cm-sub.
    let second_node = |t: String| {
        t.replace(
            "  ip = \"10.1.0.1\"\n",
            "  ip = \"10.1.0.1\"\n  [[cluster.node]]\n  name = \"cm-sub\"\n  ip = \"10.1.0.2\"\n",
        )
    };
    let expect = r#"
[[fault]]
kind = "service_down"
cluster = "campus"
node = "cm-pub"
service = "callmanager"
at = "1 h"
for = "2 h"

[[expect]]
kind = "phones"
by = "6 h"
state = "Registered"
cluster = "campus"
count = 50

[[expect]]
kind = "observation"
what = "keepalive_missed"
by = "1 h"
happens = false

[[expect]]
kind = "observation"
what = "keepalive_missed"
count = 150

[[expect]]
kind = "observation"
what = "unregistered"
count = 50

[[expect]]
kind = "no_invariant_violation"
"#;
    let (r, trace) = keepalive_week(50, "6 h", &second_node, Some(expect));
    assert_all_pass(&r);
    const STOP_MS: u64 = 3_600_000;
    const KA_MS: u64 = 900_000;
    let of = |who: &str, what: &str| -> Vec<u64> {
        trace
            .iter()
            .filter(|o| o.who == who && o.what() == what)
            .map(|o| o.t_ms)
            .collect()
    };
    let devices: std::collections::BTreeSet<&str> = trace
        .iter()
        .filter(|o| o.what() == "unregistered")
        .map(|o| o.who.as_str())
        .collect();
    assert_eq!(devices.len(), 50);
    for d in devices {
        let missed = of(d, "keepalive_missed");
        let [first, second, third] = missed[..] else {
            panic!("{d}: {missed:?}")
        };
        let unregistered = of(d, "unregistered")[0];
        // First keepalive after the stop at t1 (noticed at t1 + 15 min), the second missed
        // at t1 + 15 min + 10 s, the third and last at t1 + 30 min + 10 s.
        assert_eq!(second - first, 10_000, "{d}");
        assert_eq!(third - first, KA_MS + 10_000, "{d}");
        assert_eq!(unregistered, third, "{d}");
        let t1 = first - KA_MS;
        assert!((STOP_MS..STOP_MS + KA_MS).contains(&t1), "{d}: {t1}");
        // Back on cm-sub after cm-pub's registration timeout (10 s) and a round trip.
        let again = *of(d, "registered").last().unwrap();
        assert!(
            (unregistered + 10_000..unregistered + 10_010).contains(&again),
            "{d}: {again}"
        );
    }
}

#[test]
fn a_tvs_with_one_slow_worker_drains_a_reset_of_500_phones_in_turn() {
    // 500 phones reset at 7 min and each asks the source TVS to vouch for the destination's
    // ITL signer. The source TVS has one worker and a 10 ms handshake (+ 0.2 ms query): its
    // sessions are served one after another, so the phones come through in turn over the
    // drain time, 500 × 10.2 ms = 5.1 s, well inside the phones' 10 s TVS timeout.
    const PHONES: u64 = 500;
    const SESSION_US: u64 = 10_200;
    const RESET_MS: u64 = 7 * 60_000;
    let drain_ms = PHONES * SESSION_US / 1000;
    // Outside the queue a phone spends a few LAN round trips (1–3 ms each way): DHCP, CTL and
    // ITL before its session, two TLS round trips after its job, the config and the
    // registration; at most `PIPELINE_MS` in all.
    const PIPELINE_MS: u64 = 60;
    let by = |ms: u64| format!("\"{} ms\"", RESET_MS + ms);
    let through = |ms: u64| {
        (
            ms.saturating_sub(PIPELINE_MS) * 1000 / SESSION_US,
            ms * 1000 / SESSION_US,
        )
    };
    let (half_lo, half_hi) = through(drain_ms / 2);
    let (late_lo, late_hi) = through(drain_ms - 500);
    let expect = format!(
        r#"
[[expect]]
kind = "phones"
by = {half}
state = "Registered"
cluster = "dst"
at_least = {half_lo}

[[expect]]
kind = "phones"
by = {half}
state = "Registered"
cluster = "dst"
at_most = {half_hi}

[[expect]]
kind = "phones"
by = {late}
state = "Registered"
cluster = "dst"
at_least = {late_lo}

[[expect]]
kind = "phones"
by = {late}
state = "Registered"
cluster = "dst"
at_most = {late_hi}

[[expect]]
kind = "phones"
by = {done}
state = "Registered"
cluster = "dst"
count = {PHONES}

[[expect]]
kind = "observation"
what = "tvs_timeout"
happens = false

[[expect]]
kind = "observation"
what = "tvs_refused"
happens = false

[[expect]]
kind = "no_invariant_violation"
"#,
        half = by(drain_ms / 2),
        late = by(drain_ms - 500),
        done = by(drain_ms + PIPELINE_MS),
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .split("[[expect]]")
        .next()
        .unwrap()
        .replace("count = 200", &format!("count = {PHONES}"))
        .replacen(
            "version = \"10.5\"\n",
            "version = \"10.5\"\n  [cluster.tvs]\n  workers = 1\n  handshake = \"10 ms\"\n  query = \"200 us\"\n",
            1,
        )
        + &expect;
    let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let c =
        cucmsim::lang::compile::compile_with("tvs_queue.toml", &text, raw, Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));
    let r = execute(&c, None).unwrap();
    assert_all_pass(&r);
    // The query latency spans the queue: the first session takes one service time, the last
    // the whole drain.
    let q = &r.latency["tvs.query_ms"];
    assert_eq!(q.count, PHONES);
    // (Percentiles come from an HdrHistogram: 3 significant digits, hence the 0.1 %.)
    assert!(
        q.max_ms >= drain_ms as f64 * 0.999 && q.max_ms <= (drain_ms + PIPELINE_MS) as f64,
        "{q:?}"
    );
    assert!(
        q.p50_ms >= (drain_ms / 2 - PIPELINE_MS) as f64
            && q.p50_ms <= (drain_ms / 2 + PIPELINE_MS) as f64,
        "{q:?}"
    );
}

#[test]
fn keepalive_and_tvs_settings_are_checked_with_their_position() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/perf/keepalive_week.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let err = |edit: &dyn Fn(&str) -> String, needle: &str| {
        let bad = edit(&text);
        let line = bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let e = cucmsim::lang::parse_str("k.toml", &bad).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        e.message
    };
    let m = err(
        &|t| t.replace("keepalive = \"15 min\"", "keepalive_misses = 3"),
        "keepalive_misses",
    );
    assert!(m.contains("needs `keepalive`"), "{m}");
    let m = err(
        &|t| {
            t.replace(
                "keepalive = \"15 min\"",
                "keepalive = \"15 min\"\nkeepalive_timeout = \"16 min\"",
            )
        },
        "keepalive_timeout",
    );
    assert!(m.contains("at most the keepalive interval"), "{m}");
    let tvs = |extra: &'static str| {
        move |t: &str| {
            t.replace(
                "version = \"12.5\"\n",
                &format!("version = \"12.5\"\n  [cluster.tvs]\n  {extra}\n"),
            )
        }
    };
    let m = err(&tvs("workers = 0"), "workers");
    assert!(m.contains("workers must be between 1"), "{m}");
    let m = err(&tvs("handshake = \"2 fortnights\""), "handshake");
    assert!(m.contains("bad service time"), "{m}");
    let m = err(&tvs("threads = 2"), "threads");
    assert!(m.contains("unknown field `threads`"), "{m}");
    // Valid settings compile into the world.
    let good = tvs(
        "workers = 2\n  queue_limit = 5\n  handshake = \"1.5 ms\"\n  query = \"250 us\"",
    )(&text);
    let c = cucmsim::lang::parse_str("k.toml", &good).unwrap();
    let m = c.spec.clusters[0].tvs;
    assert_eq!(
        (m.workers, m.queue_limit, m.handshake_us, m.query_us),
        (2, 5, 1_500, 250)
    );
    let k = c.spec.fleets[0].keepalive.unwrap();
    assert_eq!(
        (k.interval_ms, k.timeout_ms, k.misses),
        (900_000, 10_000, 3)
    );
}

/// The CallManager multi-server certificate in mixed mode: without `ctl_update` before the
/// restarts the secure phones refuse the CallManager's new certificate (not in their CTL).
#[test]
fn multisan_callmanager_mixed_mode() {
    run_scenario("scenarios/multisan/callmanager_mixed_mode.toml");
}

#[test]
fn check_refuses_an_observation_name_the_simulator_never_emits() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml"),
    )
    .unwrap();
    assert!(text.contains("what = \"tvs_query\""));
    let bad = text.replacen("what = \"tvs_query\"", "what = \"tvs_querry\"", 1);
    let line = bad.lines().position(|l| l.contains("tvs_querry")).unwrap() + 1;
    let (_g, path) = scratch("typo.toml", bad.as_bytes());
    let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{}:{line}:8: unknown observation `tvs_querry`",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `tvs_query`?"), "{stderr}");
}

/// Operator steps at the same instant happen one after another, each once the previous one's
/// effects have landed: the whole bulk-certificate exchange and the TVS restart written at
/// one instant migrate the phones as the spread-out procedure does, and the report says when
/// each step started and landed.
#[test]
fn operator_steps_at_one_instant_keep_their_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/migration/itl_bulk.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = ["\"2 min\"", "\"3 min\"", "\"5 min\""]
        .iter()
        .fold(text, |t, at| {
            t.replace(&format!("at = {at}"), "at = \"4 min\"")
        });
    let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let o = Overrides {
        seed: None,
        phones: Some(40),
        tls: None,
    };
    let c = cucmsim::lang::compile::compile_with("one_instant.toml", &text, raw, o)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = execute(&c, Some(40)).unwrap();
    assert_all_pass(&r);
    let steps = &r.operator_steps;
    assert!(steps.len() >= 8, "{steps:#?}");
    for pair in steps.windows(2) {
        let landed = pair[0].landed_ms.expect("every step lands");
        assert!(landed >= pair[0].started_ms);
        if pair[1].at_ms == pair[0].at_ms {
            // The director acts at window barriers: the next step starts at the first
            // barrier after the landing, at most one lookahead (the 1 ms LAN latency) later.
            let started = pair[1].started_ms;
            assert!(started >= landed && started <= landed + 1, "{pair:#?}");
        }
    }
    let restart = steps
        .iter()
        .find(|s| s.step.starts_with("Restart"))
        .unwrap_or_else(|| panic!("{steps:#?}"));
    let import = steps
        .iter()
        .find(|s| s.step.contains("Certificate Import"))
        .unwrap();
    assert!(restart.started_ms > import.landed_ms.unwrap(), "{steps:#?}");
}
