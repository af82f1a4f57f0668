//! CAPF enrollment: every scenario under `scenarios/enrollment/` meets its expectations (the
//! 40,000-phone `mass_lsc` scaled down), the trace hash is the same for the same seed, and
//! the enrollment keywords report bad values at `file:line:col`.

use super::scenarios::run_scenario;
use super::support::{run, scratch};
use cucmsim::lang::compile::Overrides;
use cucmsim::reports::runner::execute;
use std::path::Path;

#[test]
fn auth_string_mismatch_fails_only_the_phones_with_the_wrong_string() {
    run_scenario("scenarios/enrollment/auth_string_mismatch.toml");
}

#[test]
fn an_expired_operation_completes_by_refuses_every_session() {
    run_scenario("scenarios/enrollment/completes_by_expired.toml");
}

#[test]
fn power_failure_mid_session_enrolls_after_the_reboot() {
    run_scenario("scenarios/enrollment/power_failure.toml");
}

#[test]
fn f13_a_capf_certificate_without_keycertsign_fails_tls_on_14su2_only() {
    run_scenario("scenarios/enrollment/f13_capf_not_ca.toml");
}

#[test]
fn f14_a_secure_phone_moved_to_another_cluster_is_not_trusted() {
    run_scenario("scenarios/enrollment/f14_secure_phone_moved.toml");
}

#[test]
fn f16_ec_preferred_needs_the_advanced_algorithms_parameter() {
    run_scenario("scenarios/enrollment/f16_ec_preferred.toml");
}

#[test]
fn secure_profiles_register_only_after_their_lsc() {
    run_scenario("scenarios/enrollment/secure_profile.toml");
}

#[test]
fn a_firewall_idle_timeout_kills_sessions_until_the_keepalive_is_shorter() {
    run_scenario("scenarios/enrollment/firewall_keepalive.toml");
}

#[test]
fn every_row_of_the_ipv6_table() {
    run_scenario("scenarios/enrollment/ipv6_table.toml");
}

#[test]
fn online_ca_issues_and_refuses_as_documented() {
    run_scenario("scenarios/enrollment/online_ca.toml");
}

#[test]
fn offline_ca_pending_csrs_and_stale_lscs() {
    run_scenario("scenarios/enrollment/offline_ca.toml");
}

#[test]
fn the_certificate_monitor_and_an_lsc_expiry_query_renew_only_what_expires() {
    run_scenario("scenarios/enrollment/lsc_renewal.toml");
}

#[test]
fn a_capf_session_limit_fails_a_burst_and_passes_a_maintenance_window() {
    run_scenario("scenarios/capacity/capf_limit.toml");
}

#[test]
fn mic_roots_in_callmanager_trust_let_mics_register_securely() {
    run_scenario("scenarios/enrollment/mic_roots_in_callmanager_trust.toml");
}

#[test]
fn troubleshoot_fetches_and_delete_removes_the_lsc() {
    run_scenario("scenarios/enrollment/delete_troubleshoot.toml");
}

fn mass_lsc(phones: u32, seed: u64) -> cucmsim::reports::runner::Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/enrollment/mass_lsc.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let raw = toml::from_str(&text).unwrap();
    let o = Overrides {
        seed: Some(seed),
        phones: Some(phones),
        tls: None,
    };
    let c = cucmsim::lang::compile::compile_with("mass_lsc.toml", &text, raw, o).unwrap();
    execute(&c, Some(phones)).unwrap()
}

#[test]
fn mass_lsc_scaled_down_enrolls_every_phone_deterministically() {
    let r = mass_lsc(150, 3);
    let failed: Vec<_> = r
        .expectations
        .details
        .iter()
        .filter(|d| !d.passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\nreproduce: {}", r.reproduce);
    let e = r.enrollment.as_ref().expect("an enrollment summary");
    assert_eq!((e.lscs_installed, e.devices, e.failed), (150, 150, 0));
    assert!(r.latency.contains_key("capf.enrollment_ms"));
    // Key generation (30 s) bounds each enrollment from below.
    assert!(r.latency["capf.enrollment_ms"].p50_ms >= 30_000.0);
    assert_eq!(mass_lsc(150, 3).trace_hash, r.trace_hash);
}

#[test]
fn enrollment_keywords_are_checked_with_their_position() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/enrollment/auth_string_mismatch.toml"),
    )
    .unwrap();
    let cases = [
        (
            "auth_string = \"246810\"\n\n[[expect]]",
            "auth_string = \"24x810\"\n\n[[expect]]",
            "auth_string",
            "is not 4–10 digits",
        ),
        (
            "operation = \"install\"",
            "operation = \"renew\"",
            "operation",
            "expected install, delete",
        ),
        (
            "auth_mode = \"auth_string\"",
            "auth_mode = \"pin\"",
            "auth_mode",
            "expected auth_string",
        ),
        (
            "version = \"14SU2\"",
            "version = \"14SU2\"\n  [cluster.capf]\n  keepalive = \"2 min\"",
            "keepalive",
            "5–60 min",
        ),
        (
            "count = 20\nmac_start = \"00BB00000000\"",
            "count = 20\nip_mode = \"ipv5\"\nmac_start = \"00BB00000000\"",
            "ip_mode",
            "unknown phone IP mode",
        ),
        (
            "version = \"14SU2\"",
            "version = \"14SU2\"\n  [cluster.capf]\n  issuer = \"online_ca\"\n  ca = \"nope\"",
            "ca =",
            "no [[ca]] named",
        ),
    ];
    for (i, (from, to, marker, message)) in cases.iter().enumerate() {
        assert!(base.contains(from), "case {i}: {from}");
        let bad = base.replacen(from, to, 1);
        let line = bad
            .lines()
            .position(|l| l.contains(marker) && to.contains(l.trim()))
            .unwrap()
            + 1;
        let (_g, path) = scratch(&format!("bad{i}.toml"), bad.as_bytes());
        let (code, _, stderr) = run(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 2, "case {i}: {stderr}");
        assert!(
            stderr.starts_with(&format!("{}:{line}:", path.display())),
            "case {i}: {stderr}"
        );
        assert!(stderr.contains(message), "case {i}: {stderr}");
    }
}
