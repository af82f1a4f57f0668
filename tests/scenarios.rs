//! Every bundled scenario runs as a test and meets its own expectations; the scenario
//! language reports bad files with `file:line:col` and exit code 2.

use super::support::{run, scratch};
use cucmsim::lang::compile::Overrides;
use cucmsim::runner::execute;
use std::path::Path;

fn run_scenario(rel: &str) {
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
fn variant(extra: &str, phones: u32) -> cucmsim::runner::Report {
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

fn assert_all_pass(r: &cucmsim::runner::Report) {
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
    let (r, trace) = cucmsim::runner::execute_with_trace(&c, None).unwrap();
    assert_all_pass(&r);
    // Only the CTL went through TVS; the destination ITL was verified against the new CTL.
    assert!(trace
        .iter()
        .filter(|o| o.what == "tvs_query")
        .all(|o| o.detail.starts_with("CTL")));
    assert!(trace
        .iter()
        .any(|o| o.what == "trust_list_installed" && o.detail == "ITL via Ctl"));
}
