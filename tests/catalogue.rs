//! The failure catalogue (reference §6): each scenario under `scenarios/catalogue/` reproduces
//! one documented failure and meets its own expectations of the documented symptom (F1, F2
//! and F4 live under `scenarios/migration/` and run in `scenarios.rs`).

use super::scenarios::run_scenario;

fn catalogue(name: &str) {
    run_scenario(&format!("scenarios/catalogue/{name}.toml"));
}

#[test]
fn f03_rollback_on_mixed_mode_source() {
    catalogue("f03_rollback_on_mixed_mode_source");
}

#[test]
fn f05_cm_tvs_regenerated_together() {
    catalogue("f05_cm_tvs_regenerated_together");
}

#[test]
fn f06_cm_tvs_itlrecovery_renewed_at_once() {
    catalogue("f06_cm_tvs_itlrecovery_renewed_at_once");
}

#[test]
fn f07_phones_offline_during_regeneration() {
    catalogue("f07_phones_offline_during_regeneration");
}

#[test]
fn f08_itlrecovery_regenerated_without_double_reset() {
    catalogue("f08_itlrecovery_regenerated_without_double_reset");
}

#[test]
fn f09_itl_over_39_certificates() {
    catalogue("f09_itl_over_39_certificates");
}

#[test]
fn f10_itlrecovery_1024_bits() {
    catalogue("f10_itlrecovery_1024_bits");
}

#[test]
fn f11_drs_backup_older_than_regeneration() {
    catalogue("f11_drs_backup_older_than_regeneration");
}

#[test]
fn f12_capf_regenerated_without_ctl_update() {
    catalogue("f12_capf_regenerated_without_ctl_update");
}

#[test]
fn f27_callmanager_rsa4096() {
    catalogue("f27_callmanager_rsa4096");
}

#[test]
fn f28_sha512_file_signature() {
    catalogue("f28_sha512_file_signature");
}

#[test]
fn f29_tomcat_without_tftp_restart() {
    catalogue("f29_tomcat_without_tftp_restart");
}

#[test]
fn f30_tokenless_ctl_publisher_callmanager_regenerated() {
    catalogue("f30_tokenless_ctl_publisher_callmanager_regenerated");
}

#[test]
fn f31_rollback_left_on() {
    catalogue("f31_rollback_left_on");
}

#[test]
fn f32_fips_regenerates_everything() {
    catalogue("f32_fips_regenerates_everything");
}

#[test]
fn f33_pre12_several_tftp_nodes() {
    catalogue("f33_pre12_several_tftp_nodes");
}

#[test]
fn f34_itl_from_another_cluster() {
    catalogue("f34_itl_from_another_cluster");
}

/// The F5 scenario with `from` replaced by `to`: the compile error, as `line:col: message`.
fn error_after(from: &str, to: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f05_cm_tvs_regenerated_together.toml");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from}");
    let bad = text.replacen(from, to, 1);
    match cucmsim::lang::parse_str("f05.toml", &bad) {
        Ok(_) => panic!("{to:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn lifecycle_steps_and_phone_limits_are_checked_with_their_position() {
    let step = "action = \"regenerate_certificate\"\ncluster = \"old\"\ntype = \"callmanager\"\n";
    // The step's first `type` line is line 52 of the file.
    let cases = [
        (
            step.to_string(),
            step.replace("callmanager", "sip"),
            "f05.toml:52:8: unknown certificate type \"sip\": expected one of callmanager, tvs, itlrecovery, tomcat, capf, ipsec",
        ),
        (
            step.to_string(),
            step.replace("callmanager", "itlrecovery") + "node = \"old-sub\"\n",
            "f05.toml:53:8: ITLRecovery exists only on the publisher (\"old-pub\")",
        ),
        (
            step.to_string(),
            step.replace("callmanager", "itlrecovery") + "key = \"ec256\"\n",
            "f05.toml:53:7: ITLRecovery certificates cannot use a ec256 key",
        ),
        (
            step.to_string(),
            step.to_string() + "key = \"rsa5000\"\n",
            "f05.toml:53:7: RSA size 5000 not one of 512, 1024, 2048, 3072, 4096",
        ),
        (
            step.to_string(),
            step.to_string() + "mode = \"localkey\"\n",
            "f05.toml:53:8: `mode` is not used by \"regenerate_certificate\"",
        ),
        (
            step.to_string(),
            step.replace("type = \"callmanager\"\n", ""),
            "f05.toml:50:10: regenerate_certificate needs `type`",
        ),
        (
            step.to_string(),
            step.replace("regenerate_certificate", "itl_reset")
                .replace("type = \"callmanager\"", "mode = \"nokey\""),
            "f05.toml:52:8: mode must be \"localkey\" or \"remotekey\", not \"nokey\"",
        ),
        (
            step.to_string(),
            "action = \"ctl_update\"\ncluster = \"old\"\n".to_string(),
            "f05.toml:51:11: ctl_update needs a mixed-mode cluster; \"old\" is non-secure",
        ),
        (
            "cluster = \"old\"\n\n[[fleet]]".to_string(),
            "cluster = \"old\"\nmax_rsa_bits = 2000\n\n[[fleet]]".to_string(),
            "max_rsa_bits must be one of 512, 1024, 2048, 3072, 4096",
        ),
        (
            "cluster = \"old\"\n\n[[fleet]]".to_string(),
            "cluster = \"old\"\nfile_digests = [\"md5\"]\n\n[[fleet]]".to_string(),
            "unknown digest \"md5\": expected sha1, sha256 or sha512",
        ),
        (
            "cluster = \"old\"\n\n[[fleet]]".to_string(),
            "cluster = \"old\"\nregister_retry = \"500 ms\"\n\n[[fleet]]".to_string(),
            "register_retry must be between 1 s and 1 h (leave it out to give up)",
        ),
        (
            "cluster = \"old\"\n\n[[fleet]]".to_string(),
            "cluster = \"old\"\nregister_retry = true\n\n[[fleet]]".to_string(),
            "",
        ),
    ];
    for (from, to, want) in cases {
        let got = error_after(&from, &to);
        assert!(got.ends_with(want), "{got}\nwanted: {want}");
        assert!(got.starts_with("f05.toml:"), "{got}");
    }
}

#[test]
fn regenerated_certificates_come_from_the_seed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f10_itlrecovery_1024_bits.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let run = |seed| {
        let o = cucmsim::lang::compile::Overrides {
            seed: Some(seed),
            phones: None,
            tls: None,
        };
        let c = cucmsim::lang::parse_with("f10.toml", &text, o).unwrap();
        let (report, trace) = cucmsim::reports::runner::execute_with_trace(&c, None).unwrap();
        let serials: Vec<String> = trace
            .iter()
            .filter(|o| o.what() == "certificate_regenerated")
            .map(|o| o.detail().clone())
            .collect();
        (report.trace_hash, serials)
    };
    let (a, serials_a) = run(10);
    let (b, serials_b) = run(10);
    let (c, serials_c) = run(11);
    assert_eq!(a, b);
    assert_eq!(serials_a, serials_b);
    assert_eq!(serials_a.len(), 2);
    assert_ne!(a, c);
    assert_ne!(serials_a, serials_c);
}

#[test]
fn f19_foreign_tomcat_not_in_tomcat_trust() {
    catalogue("f19_foreign_tomcat_not_in_tomcat_trust");
}

#[test]
fn f17_tvs_missing_from_default_config() {
    catalogue("f17_tvs_missing_from_default_config");
}

#[test]
fn f18_tvs_tls_handshake_failure() {
    catalogue("f18_tvs_tls_handshake_failure");
}

#[test]
fn f23_bulk_import_cscuy43181() {
    catalogue("f23_bulk_import_cscuy43181");
}

#[test]
fn https_service_and_defect_are_checked_with_their_position() {
    let step = "action = \"regenerate_certificate\"\ncluster = \"old\"\ntype = \"callmanager\"\n";
    let cases = [
        (
            "action = \"https_service\"\ncluster = \"old\"\nnode = \"nope\"\n",
            "f05.toml:52:8: no node \"nope\" in cluster \"old\"",
        ),
        (
            "action = \"https_service\"\ncluster = \"nope\"\n",
            "f05.toml:51:11: no cluster named \"nope\"",
        ),
        (
            "action = \"https_service\"\ncluster = \"old\"\ntype = \"tvs\"\n",
            "f05.toml:52:8: `type` is not used by \"https_service\"",
        ),
        (
            "action = \"https_service\"\ncluster = \"old\"\ndefect = \"CSCuy43181\"\n",
            "f05.toml:52:10: `defect` is not used by \"https_service\"",
        ),
        (
            "action = \"tftp_https\"\ncluster = \"old\"\nnode = \"nope\"\n",
            "f05.toml:52:8: no node \"nope\" in cluster \"old\"",
        ),
        (
            "action = \"tftp_https\"\ncluster = \"old\"\ntype = \"tvs\"\n",
            "f05.toml:52:8: `type` is not used by \"tftp_https\"",
        ),
        (
            "action = \"https_service\"\ncluster = \"old\"\nplain_fallback = true\n",
            "f05.toml:52:18: `plain_fallback` is not used by \"https_service\"",
        ),
        (
            "action = \"bulk_import\"\ncluster = \"old\"\ndefect = \"CSCuy43181\"\n",
            "f05.toml:52:10: CSCuy43181 affects migrations from 8.x/9.x to 10.5(2) or newer: the scenario needs a cluster of each",
        ),
    ];
    for (to, want) in cases {
        let got = error_after(step, to);
        assert_eq!(got, want);
    }
}

#[test]
fn f20_cscup28852_phones_reset_every_7_min() {
    catalogue("f20_cscup28852_phones_reset_every_7_min");
}

#[test]
fn f22_cscus47235_cn_not_in_san() {
    catalogue("f22_cscus47235_cn_not_in_san");
}

#[test]
fn f21_self_signed_not_deleted_after_multi_san() {
    catalogue("f21_self_signed_not_deleted_after_multi_san");
}

#[test]
fn utils_ctl_set_cluster_mixed_then_non_secure_keeps_phones_registered() {
    run_scenario("scenarios/security/ctl_set_cluster.toml");
}

#[test]
fn f24_cscwf85275_itlrecovery_in_ctl() {
    catalogue("f24_cscwf85275_itlrecovery_in_ctl");
}

/// F3 with a non-secure destination: the phones hold the source's CTL and the blank rollback
/// ITL, and the destination serves only an ITL. Rollback blanks the ITL, never the CTL (§2.5),
/// so the phones verify the destination ITL against their CTL — which does not know its signer
/// — and cannot ask TVS (the blank ITL has no TVS record): the ITL and the configs are refused
/// and no phone registers on the destination. (A defect once accepted the ITL "via
/// RollbackItl" and migrated the phones with no TVS ever vouching; `verified_trust_list` now
/// flags such an install.)
#[test]
fn f03_rollback_itl_does_not_open_a_phone_that_holds_a_ctl() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f03_rollback_on_mixed_mode_source.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let (head, _) = text.split_once("[[expect]]").unwrap();
    let head = head.replacen(
        "name = \"dst\"\nversion = \"12.5\"\nsecurity_mode = \"mixed\"",
        "name = \"dst\"\nversion = \"12.5\"\nsecurity_mode = \"non-secure\"",
        1,
    );
    assert!(head.contains("security_mode = \"non-secure\""));
    let text = head
        + r#"
[[expect]]
kind = "phones"
by = "12 min"
state = "Registered"
cluster = "dst"
count = 0

[[expect]]
kind = "observation"
what = "trust_list_rejected"
at_least = 20

[[expect]]
kind = "no_invariant_violation"
"#;
    let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let o = cucmsim::lang::compile::Overrides {
        seed: None,
        phones: None,
        tls: None,
    };
    let c = cucmsim::lang::compile::compile_with("f03_nonsecure_dst.toml", &text, raw, o)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = cucmsim::reports::runner::execute(&c, None).unwrap();
    let failed: Vec<_> = r
        .expectations
        .details
        .iter()
        .filter(|d| !d.passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}
