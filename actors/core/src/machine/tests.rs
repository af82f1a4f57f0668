//! Machines fed one input at a time, asserting the exact effects (openraft style).

use super::cluster::{CallManager, Dhcp, Enterprise, Publisher, Sftp};
use super::msg::{Addr, Effect, Msg, Now, Operator, ServiceAction};
use super::phone::{status, Phone, PhoneInput};
use super::tftp::Tftp;
use super::tvs::Tvs;
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
            Effect::Observe(o) => format!("observe {} {} {}", o.who, o.what, o.detail),
        })
        .collect()
}

fn msg_name(m: &Msg) -> String {
    match m {
        Msg::DhcpRequest { phone } => format!("DhcpRequest({phone})"),
        Msg::TftpGet { file, .. } => format!("TftpGet({file})"),
        Msg::TftpReply { file, bytes } => format!("TftpReply({file}, {})", bytes.is_some()),
        Msg::TvsPlain { .. } => "TvsPlain".into(),
        Msg::TvsPlainReply { .. } => "TvsPlainReply".into(),
        Msg::Register { device, .. } => format!("Register({device})"),
        Msg::RegisterAck { cluster } => format!("RegisterAck({cluster})"),
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

#[test]
fn phone_boots_to_registered_through_real_tftp_files() {
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
    let mut p = phone();
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
    assert_eq!(
        show(&tvs.handle(plain(), now(4))),
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
                device: "SEP".into()
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
