//! Machines fed one input at a time, asserting the exact effects (openraft style).

use super::msg::{Addr, Effect, Msg, Now, Operator, ServiceAction};
use super::phone::{status, Phone, PhoneInput};
use super::tftp::Tftp;
use super::tvs::{Tvs, TvsModel};
use super::{CallManager, Dhcp, Enterprise, Publisher, Sftp};
use crate::pki::cluster::{ClusterPki, ClusterSpec, NodeSpec};
use crate::pki::identity::{CertType, NodeNames};
use crate::pki::mic::ManufacturingCa;
use crate::pki::{KeyForge, KeyProfile, StoreName};
use crate::wall::WallTime;
use std::collections::BTreeMap;
use std::sync::Arc;

fn now(ms: u64) -> Now {
    Now {
        mono_ms: ms,
        wall: WallTime::from_ymd(2025, 6, 1)
            .unwrap()
            .plus_s((ms / 1000) as i64),
    }
}

/// Effects as short strings, so a test states them exactly.
fn show(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Send { to, msg } => format!("send {to} {}", msg_name(msg)),
            Effect::Timer { after_ms, token } => format!("timer {after_ms} #{token}"),
            Effect::Observe(o) => format!("observe {} {} {}", o.who, o.what(), o.detail()),
        })
        .collect()
}

fn msg_name(m: &Msg) -> String {
    match m {
        Msg::DhcpRequest { phone } => format!("DhcpRequest({phone})"),
        Msg::TftpGet { file, .. } => format!("TftpGet({file})"),
        Msg::TftpReply { file, bytes } => format!("TftpReply({file}, {})", bytes.is_some()),
        Msg::TvsPlain { .. } => "TvsPlain".into(),
        Msg::TvsTls { .. } => "TvsTls".into(),
        Msg::TvsPlainReply { .. } => "TvsPlainReply".into(),
        Msg::Register { device, .. } => format!("Register({device})"),
        Msg::RegisterAck { cluster, .. } => format!("RegisterAck({cluster})"),
        Msg::Keepalive { seq, .. } => format!("Keepalive({seq})"),
        Msg::KeepaliveAck { seq } => format!("KeepaliveAck({seq})"),
        Msg::SftpPut { name, .. } => format!("SftpPut({name})"),
        Msg::SftpList { .. } => "SftpList".into(),
        Msg::TftpRebuild(b) => format!("TftpRebuild({})", b.node_ix),
        Msg::TvsStores(_) => "TvsStores".into(),
        Msg::Reset => "Reset".into(),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}

fn cluster(name: &str) -> ClusterPki {
    let node = |h: &str| NodeSpec {
        names: NodeNames::lab(name, h),
        ip: None,
        runs_callmanager: true,
        runs_tftp: true,
        imp: false,
    };
    ClusterSpec {
        name: name.into(),
        version: "12.5".parse().unwrap(),
        nodes: vec![node(&format!("{name}-pub")), node(&format!("{name}-sub"))],
        profiles: BTreeMap::new(),
        now: WallTime::from_ymd(2024, 1, 1).unwrap(),
        itl_recovery_years: 20,
    }
    .generate(&KeyForge::new(5))
    .unwrap()
}

fn phone() -> Phone {
    let forge = KeyForge::new(5);
    let mfg = ManufacturingCa::new(&forge, WallTime::from_ymd(2020, 1, 1).unwrap()).unwrap();
    let mic = mfg
        .issue_mic(
            &forge,
            "8861",
            "001122334455",
            KeyProfile::EcP256,
            WallTime::from_ymd(2020, 1, 1).unwrap(),
        )
        .unwrap();
    Phone::new(
        7,
        "001122334455",
        "8861",
        mic.cert,
        mic.key,
        vec![mfg.issuing.cert],
    )
}

fn publisher(c: &ClusterPki) -> Publisher {
    let mut p = Publisher::new(
        c.clone(),
        c.initial_stores(None),
        false,
        Enterprise::default(),
    );
    let hosts: Vec<String> = c
        .nodes
        .iter()
        .map(|n| n.spec.names.hostname.clone())
        .collect();
    p.tftp_hosts = hosts.clone();
    p.tvs_hosts = hosts.clone();
    p.cm_hosts = hosts;
    p
}

#[test]
fn phone_power_on_asks_dhcp_and_sets_a_timer() {
    let mut p = phone();
    let out = p.handle(PhoneInput::PowerOn, now(0));
    assert_eq!(
        show(&out),
        [
            "observe SEP001122334455 state Booting",
            "send dhcp DhcpRequest(7)",
            "timer 10000 #257"
        ]
    );
    let out = p.handle(
        PhoneInput::Msg(Msg::DhcpAck {
            option150: vec!["a-pub".into()],
        }),
        now(5),
    );
    assert_eq!(
        show(&out),
        [
            "observe SEP001122334455 state Downloading",
            "send tftp@a-pub TftpGet(CTLSEP001122334455.tlv)",
            "timer 10000 #258"
        ]
    );
    // The DHCP timer no longer matches the state, and a timer from an older boot is a no-op.
    assert!(p.handle(PhoneInput::Timer(257), now(10_000)).is_empty());
    assert!(p.handle(PhoneInput::Timer(2), now(10_000)).is_empty());
    // This boot's TFTP timer while downloading: "TFTP Timeout".
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(258), now(10_005))),
        ["observe SEP001122334455 state TFTP Timeout"]
    );
    assert_eq!(p.status(), status::TFTP_TIMEOUT);
}

/// Boots `p` against a real TFTP and CallManager of cluster "a" until the pipeline is
/// quiet; returns the CallManager and the last virtual ms used.
fn boot_to_registered(p: &mut Phone) -> (CallManager, u64) {
    let c = cluster("a");
    let pubr = publisher(&c);
    let mut tftp = Tftp::new("a-pub");
    for e in pubr.start(now(0)) {
        if let Effect::Send {
            to: Addr::Tftp(h),
            msg,
        } = e
        {
            if h == "a-pub" {
                tftp.handle(msg, now(0));
            }
        }
    }
    p.handle(PhoneInput::PowerOn, now(0));
    let mut inbox = vec![Msg::DhcpAck {
        option150: vec!["a-pub".into()],
    }];
    let mut cm = CallManager::new("a-pub", "a");
    let mut t = 1;
    while let Some(msg) = inbox.pop() {
        for e in p.handle(PhoneInput::Msg(msg), now(t)) {
            if let Effect::Send { to, msg } = e {
                let replies = match to {
                    Addr::Tftp(_) => tftp.handle(msg, now(t)),
                    Addr::CallManager(_) => cm.handle(msg, now(t)),
                    _ => vec![],
                };
                inbox.extend(replies.into_iter().filter_map(|r| match r {
                    Effect::Send { msg, .. } => Some(msg),
                    _ => None,
                }));
            }
        }
        t += 1;
    }
    (cm, t)
}

#[test]
fn phone_boots_to_registered_through_real_tftp_files() {
    let mut p = phone();
    boot_to_registered(&mut p);
    assert_eq!(p.status(), status::REGISTERED);
    assert_eq!(p.registered_cluster(), Some("a"));
    assert!(p.trust.itl.is_some(), "first ITL trusted on first use");
    assert!(p.trust.ctl.is_none(), "non-secure cluster serves no CTL");
    assert_eq!(p.config.as_ref().unwrap().tvs.len(), 2);
}

#[test]
fn tvs_answers_only_after_start_and_from_its_snapshot() {
    let c = cluster("a");
    let mut tvs = Tvs::new("a-pub");
    let pubr = publisher(&c);
    for e in pubr.start(now(0)) {
        if let Effect::Send {
            to: Addr::Tvs(h),
            msg,
        } = e
        {
            if h == "a-pub" {
                assert!(tvs.handle(msg, now(0)).is_empty());
            }
        }
    }
    let out = tvs.handle(Msg::Service(ServiceAction::Stop), now(1));
    assert_eq!(
        show(&out),
        ["observe tvs@a-pub service Stop, 7 certificates known"]
    );
    let req = crate::tvs::TvsMessage {
        session: 1,
        body: crate::tvs::TvsBody::QueryReq {
            device_name: "x".into(),
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            serial: vec![1],
        },
    };
    let plain = || Msg::TvsPlain {
        phone: 7,
        session: 9,
        client_cert: None,
        request: req.encode(),
    };
    assert!(
        tvs.handle(plain(), now(2)).is_empty(),
        "a stopped TVS does not answer"
    );
    tvs.handle(Msg::Service(ServiceAction::Start), now(3));
    // The default service model: handshake 2 ms + query 0.2 ms, released at 6.2 → 7 ms.
    assert_eq!(show(&tvs.handle(plain(), now(4))), ["timer 3 #1"]);
    assert_eq!(
        show(&tvs.on_timer(1, now(7))),
        [
            "observe tvs@a-pub tvs_answer phone#7 found=false",
            "send phone#7 TvsPlainReply"
        ]
    );
}

#[test]
fn bulk_export_consolidate_import_fill_the_stores() {
    let (a, b) = (cluster("a"), cluster("b"));
    let (mut pa, mut pb) = (publisher(&a), publisher(&b));
    let mut sftp = Sftp::default();
    let all = vec![
        CertType::Tomcat,
        CertType::CallManager,
        CertType::Capf,
        CertType::ItlRecovery,
    ];
    for p in [&mut pa, &mut pb] {
        let out = p.handle(
            Msg::Operator(Operator::BulkExport { types: all.clone() }),
            now(0),
        );
        assert_eq!(
            show(&out).iter().filter(|s| s.contains("SftpPut")).count(),
            6
        );
        for e in out {
            if let Effect::Send { msg, .. } = e {
                sftp.handle(msg);
            }
        }
    }
    assert!(sftp.files.contains_key("a-pub_tomcat.pkcs12"));
    let round = |p: &mut Publisher, op: Operator, sftp: &mut Sftp| {
        for e in p.handle(Msg::Operator(op), now(1)) {
            if let Effect::Send {
                to: Addr::Sftp,
                msg,
            } = e
            {
                for reply in sftp.handle(msg) {
                    if let Effect::Send { msg, .. } = reply {
                        for e2 in p.handle(msg, now(2)) {
                            if let Effect::Send {
                                to: Addr::Sftp,
                                msg,
                            } = e2
                            {
                                sftp.handle(msg);
                            }
                        }
                    }
                }
            }
        }
    };
    round(&mut pa, Operator::BulkConsolidate, &mut sftp);
    assert!(sftp.files.contains_key("consolidated_ITLRecovery.pkcs12"));
    round(&mut pa, Operator::BulkImport, &mut sftp);
    let sast = &pa.stores[&StoreName::PhoneSastTrust];
    assert!(
        sast.contains(&b.itl_recovery.cert),
        "the other cluster's ITLRecovery is now trusted"
    );
    assert!(pa.stores[&StoreName::CallManagerTrust].contains(&b.capf.cert));
    assert!(pa.stores[&StoreName::TomcatTrust]
        .contains(&b.nodes[1].identity(CertType::Tomcat).unwrap().cert));
}

#[test]
fn dhcp_and_callmanager_basics() {
    let mut d = Dhcp::default();
    d.handle(Msg::DhcpSet {
        first: 0,
        count: 10,
        option150: vec!["a".into()],
    });
    d.handle(Msg::DhcpSet {
        first: 5,
        count: 5,
        option150: vec!["b".into()],
    });
    let out = d.handle(Msg::DhcpRequest { phone: 6 });
    assert!(
        matches!(&out[0], Effect::Send { msg: Msg::DhcpAck { option150 }, .. } if option150 == &["b".to_string()])
    );
    let mut cm = CallManager::new("a-pub", "a");
    assert_eq!(
        show(&cm.handle(
            Msg::Register {
                phone: 3,
                device: "SEP".into(),
                secure_cert: None,
            },
            now(0)
        )),
        ["send phone#3 RegisterAck(a)"]
    );
    assert_eq!(
        show(&cm.handle(Msg::ResetRegistered, now(1))),
        ["send phone#3 Reset"]
    );
    let _ = Arc::new(0);
}

#[test]
fn tftp_serves_per_device_names_and_stops_when_down() {
    let c = cluster("a");
    let pubr = publisher(&c);
    let mut tftp = Tftp::new("a-sub");
    for e in pubr.start(now(0)) {
        if let Effect::Send {
            to: Addr::Tftp(h),
            msg,
        } = e
        {
            if h == "a-sub" {
                let out = tftp.handle(msg, now(0));
                assert_eq!(out.len(), 1);
                assert!(
                    show(&out)[0].starts_with("observe tftp@a-sub tftp_rebuilt ITL "),
                    "{:?}",
                    show(&out)
                );
            }
        }
    }
    let get = |file: &str| Msg::TftpGet {
        phone: 4,
        file: file.into(),
    };
    assert_eq!(
        show(&tftp.handle(get("ITLSEP001122334455.tlv"), now(1))),
        ["send phone#4 TftpReply(ITLSEP001122334455.tlv, true)"]
    );
    assert_eq!(
        show(&tftp.handle(get("CTLSEP001122334455.tlv"), now(1))),
        ["send phone#4 TftpReply(CTLSEP001122334455.tlv, false)"]
    );
    assert_eq!(
        show(&tftp.handle(get("SEP001122334455.cnf.xml.sgn"), now(1))),
        ["send phone#4 TftpReply(SEP001122334455.cnf.xml.sgn, true)"]
    );
    assert_eq!(
        show(&tftp.handle(Msg::Service(ServiceAction::Stop), now(2))),
        ["observe tftp@a-sub service Stop"]
    );
    assert!(
        tftp.handle(get("ITLSEP001122334455.tlv"), now(3))
            .is_empty(),
        "a stopped TFTP does not answer"
    );
}

/// A TVS of cluster "a" started with `model`, and a query in identity mode from `phone`.
fn tvs_with(model: TvsModel) -> (Tvs, impl Fn(u32) -> Msg) {
    let c = cluster("a");
    let mut pubr = publisher(&c);
    pubr.tvs_model = model;
    let mut tvs = Tvs::new("a-pub");
    for e in pubr.start(now(0)) {
        if let Effect::Send {
            to: Addr::Tvs(h),
            msg,
        } = e
        {
            if h == "a-pub" {
                assert!(tvs.handle(msg, now(0)).is_empty());
            }
        }
    }
    let req = crate::tvs::TvsMessage {
        session: 1,
        body: crate::tvs::TvsBody::QueryReq {
            device_name: "x".into(),
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            serial: vec![1],
        },
    }
    .encode();
    let plain = move |phone: u32| Msg::TvsPlain {
        phone,
        session: 9,
        client_cert: None,
        request: req.clone(),
    };
    (tvs, plain)
}

#[test]
fn tvs_with_one_worker_releases_the_second_reply_one_service_time_later() {
    // One session = handshake + query = 1.7 ms of the only worker.
    let model = TvsModel {
        workers: 1,
        queue_limit: 10,
        handshake_us: 1_500,
        query_us: 200,
    };
    let (mut tvs, plain) = tvs_with(model);
    // Both arrive at 0: the first completes at 1.7 ms, the second at 3.4 ms; timers in whole
    // ms, rounded up.
    assert_eq!(show(&tvs.handle(plain(7), now(0))), ["timer 2 #1"]);
    assert_eq!(show(&tvs.handle(plain(8), now(0))), ["timer 4 #2"]);
    let first = tvs.on_timer(1, now(2));
    assert_eq!(
        show(&first),
        [
            "observe tvs@a-pub tvs_answer phone#7 found=false",
            "send phone#7 TvsPlainReply"
        ]
    );
    assert!(
        matches!(&first[0], Effect::Observe(o) if o.t_ms == 2),
        "observed when released"
    );
    assert!(
        tvs.on_timer(2, now(3)).is_empty(),
        "not complete before 3.4 ms"
    );
    assert_eq!(
        show(&tvs.on_timer(2, now(4))),
        [
            "observe tvs@a-pub tvs_answer phone#8 found=false",
            "send phone#8 TvsPlainReply"
        ]
    );
    assert!(
        tvs.on_timer(2, now(5)).is_empty(),
        "a repeated timer is a no-op"
    );
}

#[test]
fn tvs_refuses_a_new_session_when_its_queue_is_full() {
    let model = TvsModel {
        workers: 1,
        queue_limit: 1,
        handshake_us: 1_500,
        query_us: 200,
    };
    let (mut tvs, plain) = tvs_with(model);
    assert_eq!(show(&tvs.handle(plain(7), now(0))), ["timer 2 #1"]); // served at once
    assert_eq!(show(&tvs.handle(plain(8), now(0))), ["timer 4 #2"]); // waits: 1 waiting
    assert_eq!(
        show(&tvs.handle(plain(9), now(0))),
        ["observe tvs@a-pub tvs_refused phone#9: queue full (1 waiting)"],
        "refused: no answer, no timer (the phone times out as with a silent TVS)"
    );
    // At 2 ms the second session is being served (since 1.7 ms): room again. Jobs complete by
    // now are released before the new input is handled; the new one completes at 3.4 + 1.7.
    assert_eq!(
        show(&tvs.handle(plain(10), now(2))),
        [
            "observe tvs@a-pub tvs_answer phone#7 found=false",
            "send phone#7 TvsPlainReply",
            "timer 4 #3"
        ]
    );
    assert!(tvs.on_timer(1, now(2)).is_empty(), "already released");
    // A stop drops the queue; its timers find nothing.
    tvs.handle(Msg::Service(ServiceAction::Stop), now(3));
    assert!(tvs.on_timer(2, now(4)).is_empty());
    assert!(tvs.on_timer(3, now(6)).is_empty());
}

#[test]
fn tvs_with_zero_service_time_answers_at_once() {
    let model = TvsModel {
        workers: 1,
        queue_limit: 0,
        handshake_us: 0,
        query_us: 0,
    };
    let (mut tvs, plain) = tvs_with(model);
    for phone in [7, 8] {
        assert_eq!(
            show(&tvs.handle(plain(phone), now(1))),
            [
                format!("observe tvs@a-pub tvs_answer phone#{phone} found=false"),
                format!("send phone#{phone} TvsPlainReply")
            ]
        );
    }
}

/// A phone with keepalives every 15 min (timeout 10 s, 3 misses), registered on "a-pub".
fn keepalive_phone() -> (Phone, CallManager, u64) {
    let mut p = phone();
    p.timers.keepalive_ms = 900_000;
    p.timers.keepalive_timeout_ms = 10_000;
    p.timers.keepalive_misses = 3;
    let (cm, t) = boot_to_registered(&mut p);
    assert_eq!(p.status(), status::REGISTERED);
    (p, cm, t)
}

const KA: u64 = 900_000;
// Boot generation 1: tick = 1 << 8 | 5, deadline = 1 << 8 | 6.
const TICK: u64 = 261;
const DEADLINE: u64 = 262;

#[test]
fn registered_phone_keeps_alive_without_observations() {
    let (mut p, mut cm, t) = keepalive_phone();
    // The first keepalive is brought forward to a whole second; then one every interval.
    let mut at = t + KA - t % 1000;
    assert_eq!(at % 1000, 0);
    for seq in 1..=3 {
        let out = p.handle(PhoneInput::Timer(TICK), now(at));
        assert_eq!(
            show(&out),
            [
                format!("send ccm@a-pub Keepalive({seq})"),
                format!("timer {KA} #{TICK}")
            ]
        );
        let Effect::Send { msg, .. } = out[0].clone() else {
            unreachable!()
        };
        let ack = cm.handle(msg, now(at + 1));
        assert_eq!(show(&ack), [format!("send phone#7 KeepaliveAck({seq})")]);
        let Effect::Send { msg, .. } = ack[0].clone() else {
            unreachable!()
        };
        assert!(p.handle(PhoneInput::Msg(msg), now(at + 2)).is_empty());
        at += KA;
    }
    assert_eq!(p.status(), status::REGISTERED);
    // A stopped CallManager acks nothing.
    cm.handle(Msg::Service(ServiceAction::Stop), now(at));
    assert!(cm
        .handle(Msg::Keepalive { phone: 7, seq: 4 }, now(at))
        .is_empty());
}

#[test]
fn three_missed_keepalives_unregister_the_phone() {
    let (mut p, _cm, t) = keepalive_phone();
    let t1 = t + KA;
    // Keepalive 1 goes unanswered; the phone notices at the next tick (no deadline timer
    // while all is well) and from then on arms a deadline for each keepalive.
    p.handle(PhoneInput::Timer(TICK), now(t1));
    let t2 = t1 + KA;
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(TICK), now(t2))),
        [
            "observe SEP001122334455 keepalive_missed ccm@a-pub: keepalive 1 not acked within 10000 ms (1 of 3)".to_string(),
            "send ccm@a-pub Keepalive(2)".into(),
            format!("timer 10000 #{DEADLINE}"),
            format!("timer {KA} #{TICK}"),
        ]
    );
    // A late ack (after the timeout) does not save it.
    assert!(p
        .handle(
            PhoneInput::Msg(Msg::KeepaliveAck { seq: 2 }),
            now(t2 + 10_001)
        )
        .is_empty());
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(DEADLINE), now(t2 + 10_000))),
        ["observe SEP001122334455 keepalive_missed ccm@a-pub: keepalive 2 not acked within 10000 ms (2 of 3)"]
    );
    let t3 = t2 + KA;
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(TICK), now(t3))),
        [
            "send ccm@a-pub Keepalive(3)".to_string(),
            format!("timer 10000 #{DEADLINE}"),
            format!("timer {KA} #{TICK}"),
        ]
    );
    // The third miss, at its deadline: unregistered, registering again from the top of the
    // CallManager group in a new generation (2 << 8 | 4).
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(DEADLINE), now(t3 + 10_000))),
        [
            "observe SEP001122334455 keepalive_missed ccm@a-pub: keepalive 3 not acked within 10000 ms (3 of 3)",
            "observe SEP001122334455 unregistered ccm@a-pub: 3 keepalives in a row not acked",
            "observe SEP001122334455 state Registering",
            "send ccm@a-pub Register(SEP001122334455)",
            "timer 10000 #516"
        ]
    );
    assert_eq!(p.status(), status::REGISTERING);
    // The old registration's timers are stale.
    assert!(p.handle(PhoneInput::Timer(TICK), now(t3 + KA)).is_empty());
    // Registered again: keepalives resume in the new generation (2 << 8 | 5).
    let out = p.handle(
        PhoneInput::Msg(Msg::RegisterAck {
            cluster: "a".into(),
            server_cert: None,
        }),
        now(t3 + 10_003),
    );
    assert_eq!(
        show(&out),
        [
            "observe SEP001122334455 registered a".to_string(),
            "observe SEP001122334455 state Registered".into(),
            format!("timer {} #517", KA - (t3 + 10_003) % 1000)
        ]
    );
}

#[test]
fn an_acked_keepalive_clears_earlier_misses() {
    let (mut p, _cm, t) = keepalive_phone();
    p.handle(PhoneInput::Timer(TICK), now(t + KA));
    p.handle(PhoneInput::Timer(TICK), now(t + 2 * KA)); // keepalive 1 missed
    assert!(p
        .handle(
            PhoneInput::Msg(Msg::KeepaliveAck { seq: 2 }),
            now(t + 2 * KA + 3)
        )
        .is_empty());
    assert!(
        p.handle(PhoneInput::Timer(DEADLINE), now(t + 2 * KA + 10_000))
            .is_empty(),
        "acked in time: the deadline finds nothing"
    );
    // Back to the quiet path: no deadline timer with the next keepalive.
    assert_eq!(
        show(&p.handle(PhoneInput::Timer(TICK), now(t + 3 * KA))),
        [
            "send ccm@a-pub Keepalive(3)".to_string(),
            format!("timer {KA} #{TICK}")
        ]
    );
}

#[test]
fn tvs_tls_session_is_one_job_and_its_later_flights_answer_at_once() {
    use crate::tls::{client_config, SimClock, TlsEnd};
    let model = TvsModel {
        workers: 1,
        queue_limit: 10,
        handshake_us: 5_000,
        query_us: 500,
    };
    // A TVS whose CAPF-trust holds the manufacturing CA of `phone()`'s MIC.
    let c = cluster("a");
    let forge = KeyForge::new(5);
    let mfg = ManufacturingCa::new(&forge, WallTime::from_ymd(2020, 1, 1).unwrap()).unwrap();
    let mut pubr = Publisher::new(
        c.clone(),
        c.initial_stores(Some(&mfg)),
        false,
        Enterprise::default(),
    );
    pubr.tvs_hosts = vec!["a-pub".into()];
    pubr.tvs_model = model;
    let mut tvs = Tvs::new("a-pub");
    for e in pubr.start(now(0)) {
        if let Effect::Send { msg, .. } = e {
            tvs.handle(msg, now(0));
        }
    }
    let p = phone();
    let clock = SimClock::default();
    clock.set(now(0).wall);
    let tvs_cert = c.nodes[0].identity(CertType::Tvs).unwrap().cert.clone();
    let config = client_config(vec![tvs_cert], (&p.cert, &p.key), &p.chain, &clock).unwrap();
    let mut end = TlsEnd::client(config, "a-pub").unwrap();
    let flight = |bytes| Msg::TvsTls {
        phone: 7,
        session: 1,
        bytes,
    };
    // The ClientHello is the session's job: handshake + query = 5.5 ms → released at 6 ms.
    let out = tvs.handle(flight(end.take_outgoing()), now(0));
    assert_eq!(show(&out), ["timer 6 #1"]);
    let mut replies = tvs.on_timer(1, now(6));
    assert_eq!(show(&replies), ["send phone#7 TvsTls"]);
    // Later flights come back at once, the answer last.
    let req = crate::tvs::TvsMessage {
        session: 1,
        body: crate::tvs::TvsBody::QueryReq {
            device_name: "x".into(),
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            serial: vec![1],
        },
    }
    .encode();
    let mut sent = false;
    let mut t = 7;
    let mut seen = vec![];
    while let Some(Effect::Send {
        msg: Msg::TvsTls { bytes, .. },
        ..
    }) = replies.pop()
    {
        end.feed(&bytes).unwrap();
        if end.is_established() && !sent {
            end.send(&req).unwrap();
            sent = true;
        }
        let next = end.take_outgoing();
        if next.is_empty() {
            break;
        }
        replies = tvs.handle(flight(next), now(t));
        seen.push(show(&replies));
        t += 1;
    }
    assert_eq!(
        seen.last().unwrap(),
        &[
            "observe tvs@a-pub tvs_answer phone#7 found=false",
            "send phone#7 TvsTls"
        ]
    );
    assert!(seen.iter().flatten().all(|e| !e.starts_with("timer")));
    assert!(crate::tvs::TvsMessage::decode(&end.take_plain()).is_ok());
}

#[test]
fn a_refused_phone_starts_its_callmanager_group_again_only_with_register_retry() {
    use super::phone::State;
    let mut p = phone();
    let (_cm, t) = boot_to_registered(&mut p);
    let n = p.config.as_ref().unwrap().callmanagers.len();
    let reject = || {
        PhoneInput::Msg(Msg::RegisterReject {
            reason: "TLS to ccm@a-pub failed: not trusted".into(),
        })
    };
    // Without a retry interval the last CallManager's refusal ends the registration.
    p.state = State::Registering { cm_ix: n - 1 };
    p.handle(reject(), now(t));
    assert_eq!(p.status(), status::REGISTRATION_FAILED);
    // With one the phone stays "Registering" and starts again from the first after it.
    p.timers.register_retry_ms = 30_000;
    p.state = State::Registering { cm_ix: n - 1 };
    let out = show(&p.handle(reject(), now(t + 1)));
    assert_eq!(p.status(), status::REGISTERING);
    assert!(out.iter().any(|s| s.contains("register_retry")), "{out:?}");
    let timer = out
        .iter()
        .find_map(|s| s.strip_prefix("timer 30000 #"))
        .expect("a retry timer");
    let token: u64 = timer.parse().unwrap();
    // The registration timer of the round before is stale (older generation).
    let stale = (((token >> 8) - 1) << 8) | 4;
    assert!(p
        .handle(PhoneInput::Timer(stale), now(t + 10_000))
        .is_empty());
    assert_eq!(p.status(), status::REGISTERING);
    let again = show(&p.handle(PhoneInput::Timer(token), now(t + 30_001)));
    assert!(
        again.contains(&"send ccm@a-pub Register(SEP001122334455)".to_string()),
        "{again:?}"
    );
    assert_eq!(p.status(), status::REGISTERING);
}
