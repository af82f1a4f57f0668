//! The committed reference reports under `results/reference/` reproduce their trace hash with
//! the current code: each `report.json` names its scenario file, seed and `--phones`, and the
//! run is repeated here for the references of up to 300 phones; the larger ones (1,000- and
//! 2,000-phone migrations, 10,000 phones for a week, 40,000 enrollments) take minutes on the
//! 2-core CI machine: `cargo test -- --ignored references` repeats them.

use cucmsim::lang::compile::Overrides;
use cucmsim::reports::runner::execute;
use std::path::{Path, PathBuf};

/// Phones above which a reference is repeated only by the ignored test.
const CI_PHONES: u64 = 300;

fn references() -> Vec<(PathBuf, serde_json::Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/reference");
    let mut out = vec![];
    for scenario in std::fs::read_dir(&root).expect("results/reference") {
        for run in std::fs::read_dir(scenario.unwrap().path()).unwrap() {
            let path = run.unwrap().path().join("report.json");
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, serde_json::from_str(&text).unwrap()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 6, "the reference reports are committed");
    out
}

fn repeat(path: &Path, r: &serde_json::Value) {
    let file = r["scenario_file"].as_str().expect("scenario_file");
    let seed = r["seed"].as_u64().expect("seed");
    let phones = r["phones_override"].as_u64().map(|n| n as u32);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let o = Overrides {
        seed: Some(seed),
        phones,
        tls: None,
    };
    let c = cucmsim::lang::load_with(Some(&scenario), o).unwrap_or_else(|e| panic!("{e}"));
    let now = execute(&c, phones).unwrap();
    assert_eq!(
        now.trace_hash,
        r["trace_hash"].as_str().unwrap(),
        "{} no longer reproduces; regenerate it with: {}",
        path.display(),
        now.reproduce
    );
}

#[test]
fn committed_references_reproduce_their_trace_hash() {
    for (path, r) in references() {
        if r["phones"]["total"].as_u64().unwrap() <= CI_PHONES {
            repeat(&path, &r);
        }
    }
}

#[test]
#[ignore = "minutes: the references of over 300 phones"]
fn large_references_reproduce_their_trace_hash() {
    for (path, r) in references() {
        if r["phones"]["total"].as_u64().unwrap() > CI_PHONES {
            repeat(&path, &r);
        }
    }
}
