//! The trace does not depend on the thread count: bundled scenarios run on 1, 2 and 4 worker
//! threads (conservative windows, phones on shards) and must give the same trace hash — and
//! still meet their expectations. The scenarios cover the paths where an order could leak in:
//! migrations with TVS sessions over real TLS, a partition, a firewall forgetting idle
//! connections, clock skew, CAPF enrollment with a power failure, operator steps landing one
//! after another, keepalives over days.

use cucmsim::checks::expect::evaluate;
use cucmsim::engine::{run_shared, Prebuilt, Shared, WorldSpec};
use cucmsim::lang::compile::Overrides;
use cucmsim::reports::report::{canonical, trace_hash};
use cucmsim_core::machine::Observation;
use std::path::Path;

/// (scenario, phones for the run: small, the story does not need more).
const CASES: &[(&str, Option<u32>)] = &[
    ("default.toml", Some(60)),
    (
        "catalogue/f07_phones_offline_during_regeneration.toml",
        None,
    ),
    ("enrollment/firewall_keepalive.toml", None),
    ("enrollment/power_failure.toml", None),
    ("migration/source_tvs_down.toml", Some(60)),
    ("perf/keepalive_week.toml", Some(40)),
];

fn trace_at(spec: &WorldSpec, prebuilt: &Prebuilt, threads: usize) -> Vec<Observation> {
    let spec = WorldSpec {
        threads,
        ..spec.clone()
    };
    let shared = Shared {
        prebuilt: Some(prebuilt),
        ..Shared::default()
    };
    let out = run_shared(&spec, &shared, &mut |_| {}).unwrap();
    assert_eq!(out.threads, threads);
    canonical(out.trace)
}

#[test]
fn same_trace_hash_at_1_2_and_4_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut differ = vec![];
    for (file, phones) in CASES {
        let path = root.join(file);
        let o = Overrides {
            phones: *phones,
            ..Overrides::default()
        };
        let c = cucmsim::lang::load_with(Some(&path), o).unwrap_or_else(|e| panic!("{e}"));
        let prebuilt = Prebuilt::default();
        let one = trace_hash(&trace_at(&c.spec, &prebuilt, 1));
        for threads in [2, 4] {
            let trace = trace_at(&c.spec, &prebuilt, threads);
            let h = trace_hash(&trace);
            if h != one {
                differ.push(format!("{file}: 1 thread {one}, {threads} threads {h}"));
            }
            // The runs are also right, not only alike.
            for d in evaluate(&c.expectations, &trace)
                .iter()
                .filter(|d| !d.passed)
            {
                differ.push(format!(
                    "{file} at {threads} threads: {} (actual: {})",
                    d.expectation, d.actual
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
