//! A scenario must hold at every seed, not only its own: every bundled scenario runs here at
//! seeds besides its own (two for scenarios of up to 40 phones, one above) and must meet its
//! expectations. Migrations of 1,000 phones run scaled to 200 and the measurement-sized
//! scenarios (mass_lsc, keepalive_week) smaller still; the two capacity scenarios, whose story
//! is the absolute load, run at full size in the ignored test
//! (`cargo test -- --ignored seeds`). The full sweep, seeds 1–8 for every scenario, is
//! `bash .ci/seed-sweep` (about an hour here).

use cucmsim::lang::compile::Overrides;
use cucmsim::reports::runner::execute;
use std::path::{Path, PathBuf};

/// Scaled down: these are sized for measurement, not for their story.
fn phones_for(path: &Path) -> Option<u32> {
    match path.file_name()?.to_str()? {
        "mass_lsc.toml" => Some(400),
        "keepalive_week.toml" => Some(200),
        "itl_bulk.toml" | "itl_no_import.toml" | "source_tvs_down.toml" => Some(200),
        _ => None,
    }
}

fn scenarios(group: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = if group.is_empty() {
        root
    } else {
        root.join(group)
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}", dir.display());
    files
}

fn at_other_seeds(group: &str) {
    let mut failed = vec![];
    for path in scenarios(group) {
        let phones = phones_for(&path);
        let own = cucmsim::lang::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let n = phones.unwrap_or(own.spec.phone_count());
        let others = if n <= 40 { 2 } else { 1 };
        for k in 1..=others {
            let seed = own.spec.seed + k;
            let o = Overrides {
                seed: Some(seed),
                phones,
                tls: None,
            };
            let c = cucmsim::lang::load_with(Some(&path), o).unwrap_or_else(|e| panic!("{e}"));
            let r = execute(&c, phones).unwrap();
            for d in r.expectations.details.iter().filter(|d| !d.passed) {
                failed.push(format!(
                    "{}: {} (actual: {})",
                    r.reproduce, d.expectation, d.actual
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn top_level_and_migration_scenarios_hold_at_other_seeds() {
    at_other_seeds("");
    at_other_seeds("migration");
}

#[test]
fn catalogue_scenarios_hold_at_other_seeds() {
    at_other_seeds("catalogue");
}

#[test]
fn enrollment_scenarios_hold_at_other_seeds() {
    at_other_seeds("enrollment");
}

#[test]
fn imp_multisan_perf_security_scenarios_hold_at_other_seeds() {
    for g in ["imp", "multisan", "perf", "security"] {
        at_other_seeds(g);
    }
}

#[test]
#[ignore = "minutes: 800 and 2,000 phones at full size"]
fn capacity_scenarios_hold_at_other_seeds() {
    at_other_seeds("capacity");
}
