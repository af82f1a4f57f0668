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
fn f27_callmanager_rsa4096() {
    catalogue("f27_callmanager_rsa4096");
}

#[test]
fn f28_sha512_file_signature() {
    catalogue("f28_sha512_file_signature");
}

#[test]
fn f31_rollback_left_on() {
    catalogue("f31_rollback_left_on");
}

#[test]
fn f33_pre12_several_tftp_nodes() {
    catalogue("f33_pre12_several_tftp_nodes");
}

#[test]
fn f34_itl_from_another_cluster() {
    catalogue("f34_itl_from_another_cluster");
}
