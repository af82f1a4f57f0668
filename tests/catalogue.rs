//! The failure catalogue (reference §6): each scenario under `scenarios/catalogue/` reproduces
//! one documented failure and meets its own expectations of the documented symptom.

use super::scenarios::run_scenario;

#[test]
fn f05_cm_tvs_regenerated_together() {
    run_scenario("scenarios/catalogue/f05_cm_tvs_regenerated_together.toml");
}
