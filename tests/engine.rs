//! The engine end to end on hand-built worlds (the scenario files compile to the same specs).

use cucmsim::checks::phones::phones_at;
use cucmsim::engine::spec::TlsMode;
use cucmsim::engine::{run, ClusterDef, Event, FleetDef, NodeDef, Service, WorldSpec};
use cucmsim::reports::report::{by_state, canonical, trace_hash};
use cucmsim_core::machine::tvs::TvsModel;
use cucmsim_core::machine::Enterprise;
use cucmsim_core::machine::{Operator, ServiceAction};
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::KeyProfile;
use cucmsim_core::WallTime;

fn node(name: &str) -> NodeDef {
    NodeDef {
        name: name.into(),
        ip: None,
        services: [Service::CallManager, Service::Tftp, Service::Tvs]
            .into_iter()
            .collect(),
        imp: false,
    }
}

fn cluster(name: &str, version: &str) -> ClusterDef {
    ClusterDef {
        name: name.into(),
        version: version.parse().unwrap(),
        mixed_mode: false,
        key: KeyProfile::RSA2048,
        domain: format!("{name}.lab"),
        enterprise: Enterprise::default(),
        tvs: TvsModel::default(),
        capf: Default::default(),
        nodes: vec![node(&format!("{name}-pub")), node(&format!("{name}-sub"))],
    }
}

const MIN: u64 = 60_000;

fn migration(phones: u32, import: bool) -> WorldSpec {
    let all = vec![
        CertType::Tomcat,
        CertType::CallManager,
        CertType::Capf,
        CertType::ItlRecovery,
    ];
    let mut events = vec![
        (
            MIN,
            Event::Operator {
                cluster: "src".into(),
                op: Operator::BulkExport { types: all.clone() },
            },
        ),
        (
            MIN,
            Event::Operator {
                cluster: "dst".into(),
                op: Operator::BulkExport { types: all },
            },
        ),
        (
            2 * MIN,
            Event::Operator {
                cluster: "src".into(),
                op: Operator::BulkConsolidate,
            },
        ),
    ];
    if import {
        events.push((
            3 * MIN,
            Event::Operator {
                cluster: "src".into(),
                op: Operator::BulkImport,
            },
        ));
        events.push((
            3 * MIN,
            Event::Operator {
                cluster: "dst".into(),
                op: Operator::BulkImport,
            },
        ));
        for host in ["src-pub", "src-sub"] {
            events.push((
                4 * MIN,
                Event::Service {
                    host: host.into(),
                    service: Service::Tvs,
                    action: ServiceAction::Restart,
                },
            ));
        }
    }
    events.push((
        5 * MIN,
        Event::Option150 {
            first: 0,
            count: phones,
            tftp: vec!["dst-pub".into(), "dst-sub".into()],
        },
    ));
    events.push((
        6 * MIN,
        Event::ResetPhones {
            first: 0,
            count: phones,
            over_ms: 0,
        },
    ));
    WorldSpec {
        name: "migration".into(),
        seed: 1,
        duration_ms: 15 * MIN,
        epoch: WallTime::from_ymd(2025, 6, 1).unwrap(),
        phone_boot_ms: 30_000,
        tls: TlsMode::Identity,
        clusters: vec![cluster("src", "10.5"), cluster("dst", "12.5")],
        fleets: vec![FleetDef {
            name: "lobby".into(),
            first: 0,
            count: phones,
            model: "8861".into(),
            mac_start: 0x0011_2200_0000,
            cluster: 0,
            key: KeyProfile::EcP256,
            keepalive: None,
            register_retry_ms: 0,
            security: Default::default(),
            capf: Default::default(),
            caps: Default::default(),
        }],
        cas: vec![],
        operator: vec![true; events.len()],
        operator_wait_ms: WorldSpec::OPERATOR_WAIT_MS,
        events,
        link_rules: vec![],
        phone_key_pool: 64,
        latency_ms: (1, 2),
        threads: 0,
    }
}

#[test]
fn phones_boot_on_the_source_then_migrate_after_bulk_import() {
    let spec = migration(20, true);
    let out = run(&spec).unwrap();
    let trace = canonical(out.trace);
    let before = phones_at(&trace, 5 * MIN);
    assert_eq!(
        by_state(&before).get("Registered"),
        Some(&20),
        "{:?}",
        by_state(&before)
    );
    assert!(before.values().all(|v| v.cluster.as_deref() == Some("src")));
    let after = phones_at(&trace, 15 * MIN);
    assert_eq!(
        by_state(&after).get("Registered"),
        Some(&20),
        "{:?}",
        after.values().next()
    );
    assert!(after.values().all(|v| v.cluster.as_deref() == Some("dst")));
    assert!(
        trace.iter().filter(|o| o.what() == "tvs_query").count() >= 20,
        "each phone asked the source TVS"
    );
}

#[test]
fn without_the_import_every_phone_fails_and_keeps_the_source_trust() {
    let out = run(&migration(10, false)).unwrap();
    let after = phones_at(&canonical(out.trace), 15 * MIN);
    assert_eq!(
        by_state(&after).get("Trust List update failed"),
        Some(&10),
        "{:?}",
        by_state(&after)
    );
}

#[test]
fn same_seed_same_trace_hash() {
    let a = canonical(run(&migration(8, true)).unwrap().trace);
    let b = canonical(run(&migration(8, true)).unwrap().trace);
    assert_eq!(trace_hash(&a), trace_hash(&b));
}

/// Scale smoke: `cargo test --release --test tests scale_smoke -- --ignored --nocapture`.
#[test]
#[ignore]
fn scale_smoke() {
    let n: u32 = std::env::var("PHONES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let spec = migration(n, true);
    let out = run(&spec).unwrap();
    let trace = canonical(out.trace);
    let after = phones_at(&trace, 15 * MIN);
    println!(
        "{n} phones: wall {:.1} s, {} observations, {} messages, {:?}",
        out.wall_s,
        trace.len(),
        out.counters.sent,
        by_state(&after)
    );
}

#[test]
fn a_lan_without_latency_is_refused_the_windows_need_a_lookahead() {
    let mut spec = migration(4, true);
    spec.latency_ms = (0, 2);
    let err = run(&spec).err().expect("refused");
    assert!(err.contains("at least 1 ms"), "{err}");
}
