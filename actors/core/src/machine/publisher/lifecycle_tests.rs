//! The publisher's lifecycle steps fed one at a time, asserting what they send.

use super::{Enterprise, Publisher};
use crate::machine::msg::{Addr, Effect, Msg, Now, Operator};
use crate::pki::cluster::{ClusterPki, ClusterSpec, NodeSpec};
use crate::pki::identity::{CertType, NodeNames};
use crate::pki::{KeyForge, KeyProfile};
use crate::wall::WallTime;

fn now(ms: u64) -> Now {
    Now {
        mono_ms: ms,
        wall: WallTime::from_ymd(2025, 6, 1).unwrap(),
    }
}

fn publisher(version: &str, cm_key: KeyProfile) -> Publisher {
    let node = |h: &str| NodeSpec {
        names: NodeNames::lab("c", h),
        ip: None,
        runs_callmanager: true,
        runs_tftp: true,
        imp: false,
    };
    let mut profiles: std::collections::BTreeMap<_, _> = [CertType::Tomcat, CertType::Tvs]
        .into_iter()
        .map(|t| (t, KeyProfile::EcP256))
        .collect();
    profiles.insert(CertType::CallManager, cm_key);
    let pki: ClusterPki = ClusterSpec {
        name: "c".into(),
        version: version.parse().unwrap(),
        nodes: vec![node("pub"), node("sub")],
        profiles,
        now: WallTime::from_ymd(2024, 1, 1).unwrap(),
        itl_recovery_years: 20,
    }
    .generate(&KeyForge::new(3))
    .unwrap();
    let stores = pki.initial_stores(None);
    let mut p = Publisher::new(pki, stores, false, Enterprise::default());
    let hosts = vec!["pub".to_string(), "sub".to_string()];
    p.tftp_hosts = hosts.clone();
    p.tvs_hosts = hosts.clone();
    p.cm_hosts = hosts;
    p.lifecycle.seed = 3;
    p
}

/// `to: message` for every send; `what` for every observation.
fn show(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Send { to, msg } => match msg {
                Msg::TftpRebuild(b) => {
                    format!("{to}: rebuild reset={}", b.itl_reset_signer.is_some())
                }
                Msg::TvsStores(s) => format!("{to}: stores restart={}", s.restart),
                Msg::CallManagerTrust(_) => format!("{to}: trust"),
                Msg::CallManagerCert(_) => format!("{to}: cert"),
                other => format!("{to}: {other:?}"),
            },
            Effect::Observe(o) => o.what().to_string(),
            Effect::Timer { .. } => "timer".into(),
        })
        .collect()
}

fn regenerate(p: &mut Publisher, t: CertType, node: Option<&str>) -> Vec<String> {
    let op = Operator::Regenerate {
        cert_type: t,
        node: node.map(String::from),
        key: None,
    };
    show(&p.handle(Msg::Operator(op), now(1000)))
}

#[test]
fn tvs_regeneration_rebuilds_restarts_that_tvs_and_resets_the_phones() {
    let mut p = publisher("11.5", KeyProfile::EcP256);
    let old = p
        .pki
        .identity_of("sub", CertType::Tvs)
        .unwrap()
        .cert
        .clone();
    let got = regenerate(&mut p, CertType::Tvs, Some("sub"));
    assert_eq!(
        got,
        [
            "operator",
            "certificate_regenerated",
            "tftp@pub: rebuild reset=false",
            "tftp@sub: rebuild reset=false",
            "tvs@pub: stores restart=false",
            "tvs@sub: stores restart=true",
            "ccm@pub: trust",
            "ccm@pub: cert",
            "ccm@sub: trust",
            "ccm@sub: cert",
            "ccm@pub: ResetRegistered",
            "ccm@sub: ResetRegistered",
        ]
    );
    let new = &p.pki.identity_of("sub", CertType::Tvs).unwrap().cert;
    assert_ne!(new.serial(), old.serial());
    assert_eq!(
        p.pki
            .identity_of("pub", CertType::Tvs)
            .unwrap()
            .cert
            .subject()
            .common_name(),
        "pub"
    );
}

#[test]
fn itl_recovery_regeneration_neither_restarts_tvs_nor_resets_phones() {
    let mut p = publisher("12.5", KeyProfile::EcP256);
    let got = regenerate(&mut p, CertType::ItlRecovery, None);
    assert_eq!(
        got,
        [
            "operator",
            "certificate_regenerated",
            "tftp@pub: rebuild reset=false",
            "tftp@sub: rebuild reset=false",
            "tvs@pub: stores restart=false",
            "tvs@sub: stores restart=false",
            "ccm@pub: trust",
            "ccm@pub: cert",
            "ccm@sub: trust",
            "ccm@sub: cert",
        ]
    );
}

#[test]
fn manual_phone_interaction_keeps_the_phones_and_callmanager_restarts_every_tvs() {
    let mut p = publisher("11.5", KeyProfile::EcP256);
    p.enterprise.auto_reset = false;
    let got = regenerate(&mut p, CertType::CallManager, None);
    assert_eq!(
        got.iter()
            .filter(|s| *s == "certificate_regenerated")
            .count(),
        2
    );
    assert!(got.contains(&"tvs@pub: stores restart=true".to_string()));
    assert!(got.contains(&"tvs@sub: stores restart=true".to_string()));
    assert!(!got.iter().any(|s| s.contains("ResetRegistered")));
    // A CallManager regenerated on every node is in CallManager-trust, the old one is gone.
    let cm = &p.stores[&crate::pki::StoreName::CallManagerTrust];
    for host in ["pub", "sub"] {
        assert!(cm.contains(&p.pki.identity_of(host, CertType::CallManager).unwrap().cert));
    }
}

#[test]
fn drs_restore_brings_back_the_backed_up_certificates() {
    let mut p = publisher("11.5", KeyProfile::EcP256);
    let before = p
        .pki
        .identity_of("pub", CertType::CallManager)
        .unwrap()
        .cert
        .clone();
    let op = |o: Operator, p: &mut Publisher| show(&p.handle(Msg::Operator(o), now(1)));
    assert_eq!(
        op(Operator::DrsRestore, &mut p),
        ["operator", "operator_error"]
    );
    assert_eq!(op(Operator::DrsBackup, &mut p), ["operator", "drs_backup"]);
    regenerate(&mut p, CertType::CallManager, Some("pub"));
    assert_ne!(
        p.pki
            .identity_of("pub", CertType::CallManager)
            .unwrap()
            .cert,
        before
    );
    let got = op(Operator::DrsRestore, &mut p);
    assert_eq!(
        p.pki
            .identity_of("pub", CertType::CallManager)
            .unwrap()
            .cert,
        before
    );
    assert!(got.contains(&"tvs@sub: stores restart=true".to_string()));
    assert!(got.contains(&"ccm@pub: ResetRegistered".to_string()));
    // Generations go on after a restore: the next regeneration is yet another certificate.
    regenerate(&mut p, CertType::CallManager, Some("pub"));
    assert_ne!(
        p.pki
            .identity_of("pub", CertType::CallManager)
            .unwrap()
            .cert,
        before
    );
}

#[test]
fn itl_reset_signs_with_the_callmanager_key_and_refuses_a_weaker_itl_recovery() {
    let mut p = publisher("12.5", KeyProfile::EcP256);
    let got = show(&p.handle(Msg::Operator(Operator::ItlReset { remote: false }), now(1)));
    assert_eq!(
        got,
        [
            "operator",
            "itl_reset",
            "tftp@pub: rebuild reset=true",
            "tftp@sub: rebuild reset=true"
        ]
    );
    let effects = p.handle(Msg::Operator(Operator::ItlReset { remote: false }), now(2));
    let signer = effects.iter().find_map(|e| match e {
        Effect::Send {
            to: Addr::Tftp(h),
            msg: Msg::TftpRebuild(b),
        } if h == "sub" => b.itl_reset_signer.clone(),
        _ => None,
    });
    let sub_cm = p.pki.identity_of("sub", CertType::CallManager).unwrap();
    assert_eq!(signer.unwrap().cert, sub_cm.cert);
    // F10: an RSA-2048 ITLRecovery under an RSA-3072 CallManager.
    let mut weak = publisher("12.5", KeyProfile::Rsa { bits: 3072 });
    let got = show(&weak.handle(Msg::Operator(Operator::ItlReset { remote: true }), now(1)));
    assert_eq!(got, ["operator", "operator_error"]);
}

#[test]
fn a_copied_certificate_is_the_current_one() {
    let mut p = publisher("12.5", KeyProfile::EcP256);
    regenerate(&mut p, CertType::CallManager, Some("sub"));
    let current = p
        .pki
        .identity_of("sub", CertType::CallManager)
        .unwrap()
        .cert
        .clone();
    let copy = |node: &str, p: &mut Publisher| {
        let op = Operator::CopyCertificate {
            to_cluster: "other".into(),
            store: crate::pki::StoreName::PhoneSastTrust,
            node: node.into(),
            cert_type: CertType::CallManager,
        };
        p.handle(Msg::Operator(op), now(5))
    };
    let out = copy("sub", &mut p);
    let sent = out.iter().find_map(|e| match e {
        Effect::Send {
            to: Addr::Publisher(c),
            msg: Msg::Operator(Operator::UploadCertificate { der, .. }),
        } if c == "other" => Some(der.clone()),
        _ => None,
    });
    assert_eq!(sent.as_deref(), Some(current.der()));
    assert_eq!(
        show(&copy("nowhere", &mut p)),
        ["operator", "operator_error"]
    );
}

#[test]
fn in_mixed_mode_the_ctl_keeps_its_certificates_until_ctl_update() {
    let mut p = publisher("11.5", KeyProfile::EcP256);
    let refused = show(&p.handle(Msg::Operator(Operator::CtlUpdate), now(1)));
    assert_eq!(refused, ["operator", "operator_error"]);
    p.mixed_mode = true;
    let old_pub_cm = p
        .pki
        .identity_of("pub", CertType::CallManager)
        .unwrap()
        .cert
        .clone();
    let ctl_signer = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Send {
                msg: Msg::TftpRebuild(b),
                ..
            } => Some(
                b.ctl_certs
                    .as_ref()
                    .unwrap_or(&b.certs)
                    .ctl_signer()
                    .unwrap()
                    .cert
                    .clone(),
            ),
            _ => None,
        })
    };
    let op = Operator::Regenerate {
        cert_type: CertType::CallManager,
        node: Some("pub".into()),
        key: None,
    };
    let regen = p.handle(Msg::Operator(op), now(2));
    assert_eq!(ctl_signer(&regen), Some(old_pub_cm.clone()));
    let update = p.handle(Msg::Operator(Operator::CtlUpdate), now(3));
    assert_eq!(show(&update)[1], "ctl_update");
    let new_pub_cm = p
        .pki
        .identity_of("pub", CertType::CallManager)
        .unwrap()
        .cert
        .clone();
    assert_ne!(new_pub_cm, old_pub_cm);
    assert_eq!(ctl_signer(&update), Some(new_pub_cm));
}

#[test]
fn tftp_keeps_the_newest_build_and_drops_the_reset_signer_when_it_restarts() {
    use crate::machine::msg::ServiceAction;
    use crate::machine::tftp::Tftp;
    let mut p = publisher("12.5", KeyProfile::EcP256);
    let build_for_pub = |effects: Vec<Effect>| {
        effects.into_iter().find_map(|e| match e {
            Effect::Send {
                to: Addr::Tftp(h),
                msg,
            } if h == "pub" => Some(msg),
            _ => None,
        })
    };
    let first = build_for_pub(p.start(now(0))).unwrap();
    let reset =
        build_for_pub(p.handle(Msg::Operator(Operator::ItlReset { remote: false }), now(1)))
            .unwrap();
    let mut tftp = Tftp::new("pub");
    let signer = |tftp: &mut Tftp| {
        let get = Msg::TftpGet {
            phone: 1,
            file: "ITLSEP001122334455.tlv".into(),
        };
        tftp.handle(get, now(2)).into_iter().find_map(|e| match e {
            Effect::Send {
                msg: Msg::TftpReply { bytes: Some(b), .. },
                ..
            } => crate::tlv::parse_shared(&b)
                .unwrap()
                .header
                .signer_name
                .clone(),
            _ => None,
        })
    };
    tftp.handle(reset, now(2));
    tftp.handle(first, now(3)); // older: crossed on the bus, ignored
    assert!(signer(&mut tftp).unwrap().starts_with("CN=pub;"));
    tftp.handle(Msg::Service(ServiceAction::Restart), now(4));
    assert!(signer(&mut tftp)
        .unwrap()
        .starts_with("CN=ITLRECOVERY_pub;"));
}

/// One HTTPS config download from `tftp` over real TLS: the certificate the TFTP presented
/// and the file it answered with (`None`: no answer).
fn https_download(
    tftp: &mut crate::machine::tftp::Tftp,
    at: u64,
) -> (Vec<u8>, Option<Vec<u8>>, Vec<Effect>) {
    use crate::tls::{https_client_config, SimClock, TlsEnd};
    let clock = SimClock::default();
    clock.set(now(at).wall);
    let mut end = TlsEnd::client(https_client_config(&clock).unwrap(), "pub").unwrap();
    let mut flight = end.take_outgoing();
    let mut seen = vec![];
    let mut sent = false;
    let mut plain = vec![];
    for _ in 0..8 {
        if flight.is_empty() {
            break;
        }
        let msg = Msg::TftpHttps {
            phone: 7,
            session: 9,
            bytes: std::mem::take(&mut flight),
        };
        for e in tftp.handle(msg, now(at)) {
            match e {
                Effect::Send {
                    msg: Msg::TftpHttpsReply { bytes, .. },
                    ..
                } => end.feed(&bytes).unwrap(),
                other => seen.push(other),
            }
        }
        if end.is_established() && !sent {
            end.send(b"GET /SEP001122334455.cnf.xml.sgn").unwrap();
            sent = true;
        }
        plain.extend(end.take_plain());
        flight = end.take_outgoing();
    }
    let file = (plain.len() >= 4).then(|| plain[4..].to_vec());
    (end.peer_certificate().unwrap(), file, seen)
}

#[test]
fn tftp_serves_the_tomcat_it_loaded_at_start_until_restarted() {
    use crate::machine::msg::ServiceAction;
    use crate::machine::tftp::Tftp;
    let mut p = publisher("12.5", KeyProfile::EcP256);
    let tomcat = |p: &Publisher| {
        p.pki
            .identity_of("pub", CertType::Tomcat)
            .unwrap()
            .cert
            .clone()
    };
    let old = tomcat(&p);
    let mut tftp = Tftp::new("pub");
    for e in p.start(now(0)) {
        if let Effect::Send {
            to: Addr::Tftp(h),
            msg,
        } = e
        {
            if h == "pub" {
                tftp.handle(msg, now(0));
            }
        }
    }
    assert_eq!(tftp.served_tomcat().unwrap().cert, old);
    let (cert, file, _) = https_download(&mut tftp, 1);
    assert_eq!(cert, old.der());
    assert!(
        file.is_some_and(|f| !f.is_empty()),
        "the config came over TLS"
    );

    // Regenerating Tomcat tells the node's TFTP (and only its TFTP) about the file on disk.
    let op = Operator::Regenerate {
        cert_type: CertType::Tomcat,
        node: Some("pub".into()),
        key: None,
    };
    let out = p.handle(Msg::Operator(op), now(2));
    let new = tomcat(&p);
    assert_ne!(new, old);
    let notices: Vec<Msg> = out
        .into_iter()
        .filter_map(|e| match e {
            Effect::Send {
                to: Addr::Tftp(h),
                msg,
            } => Some((h, msg)),
            _ => None,
        })
        .map(|(h, m)| {
            assert_eq!(h, "pub");
            m
        })
        .collect();
    assert!(matches!(&notices[..], [Msg::TftpTomcat(_)]), "{notices:?}");
    for m in notices {
        assert!(tftp.handle(m, now(3)).is_empty());
    }
    // No restart: the cached old certificate is still presented.
    let (cert, _, seen) = https_download(&mut tftp, 4);
    assert_eq!(cert, old.der());
    let stale = format!(
        "Tomcat serial {} (cached; the node's current Tomcat is serial {})",
        old.serial_hex(),
        new.serial_hex()
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, Effect::Observe(o) if o.detail().contains(&stale))),
        "{seen:?}"
    );
    // Restart: the new one.
    let out = tftp.handle(Msg::Service(ServiceAction::Restart), now(5));
    assert!(out
        .iter()
        .any(|e| matches!(e, Effect::Observe(o) if o.what() == "tftp_tomcat_loaded")));
    let (cert, _, _) = https_download(&mut tftp, 6);
    assert_eq!(cert, new.der());
    // A stopped TFTP answers nothing on the port.
    tftp.handle(Msg::Service(ServiceAction::Stop), now(7));
    let hello = Msg::TftpHttps {
        phone: 7,
        session: 10,
        bytes: vec![0x16, 3, 3],
    };
    assert!(tftp.handle(hello, now(7)).is_empty());
}

/// The anchors of the first `CallManagerTrust` among `effects`.
fn cm_trust(effects: &[Effect]) -> Vec<crate::pki::Certificate> {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Send {
                msg: Msg::CallManagerTrust(a),
                ..
            } => Some((**a).clone()),
            _ => None,
        })
        .expect("a CallManagerTrust")
}

/// Whether a CallManager holding `anchors` accepts a secure registration with an LSC issued
/// by `capf`.
fn registers_with_lsc_of(
    anchors: Vec<crate::pki::Certificate>,
    capf: &crate::pki::Identity,
) -> bool {
    use crate::capf::lsc::{issue_lsc, LscSubject, LscTemplate};
    use crate::machine::CallManager;
    let who = LscSubject {
        device_name: "SEP00AA12000000",
        model: "8861",
        hw_serial: None,
    };
    let key = KeyForge::new(3).key("f12/phone", KeyProfile::EcP256);
    let at = WallTime::from_ymd(2025, 6, 1).unwrap();
    let lsc = issue_lsc(
        &LscTemplate::cucm(),
        capf,
        &who,
        &key.public_key(),
        &[7, 7],
        at,
    )
    .unwrap();
    let mut cm = CallManager::new("pub", "c");
    cm.handle(Msg::CallManagerTrust(std::sync::Arc::new(anchors)), now(1));
    let out = cm.handle(
        Msg::Register {
            phone: 0,
            device: who.device_name.into(),
            secure_cert: Some(lsc.der().into()),
        },
        now(2),
    );
    out.iter().any(|e| {
        matches!(
            e,
            Effect::Send {
                msg: Msg::RegisterAck { .. },
                ..
            }
        )
    })
}

#[test]
fn mixed_mode_callmanager_trusts_the_capf_of_the_ctl_until_ctl_update() {
    let mut p = publisher("12.5", KeyProfile::EcP256);
    p.mixed_mode = true;
    let old = p.pki.capf.clone();
    assert!(p.cm_anchors().contains(&old.cert));
    let op = Operator::Regenerate {
        cert_type: CertType::Capf,
        node: None,
        key: None,
    };
    let regen = p.handle(Msg::Operator(op), now(2));
    let new = p.pki.capf.clone();
    assert_ne!(new.cert, old.cert);
    // The new CAPF is in CallManager-trust, yet the CallManager goes by the stale CTL (F12).
    assert!(p.stores[&crate::pki::StoreName::CallManagerTrust].contains(&new.cert));
    let anchors = cm_trust(&regen);
    assert!(anchors.contains(&old.cert) && !anchors.contains(&new.cert));
    assert!(!registers_with_lsc_of(anchors.clone(), &new));
    assert!(registers_with_lsc_of(anchors, &old));
    // `utils ctl update CTLFile`: the CTL, and so the CallManager, name the new CAPF.
    let update = p.handle(Msg::Operator(Operator::CtlUpdate), now(3));
    let anchors = cm_trust(&update);
    assert!(anchors.contains(&new.cert) && !anchors.contains(&old.cert));
    assert!(registers_with_lsc_of(anchors.clone(), &new));
    assert!(!registers_with_lsc_of(anchors, &old));
}

#[test]
fn without_the_ctl_rule_or_mixed_mode_the_callmanager_trusts_the_current_capf() {
    for (mixed, from_ctl) in [(true, false), (false, true)] {
        let mut p = publisher("12.5", KeyProfile::EcP256);
        p.mixed_mode = mixed;
        p.enterprise.lsc_capf_from_ctl = from_ctl;
        let op = Operator::Regenerate {
            cert_type: CertType::Capf,
            node: None,
            key: None,
        };
        let regen = p.handle(Msg::Operator(op), now(2));
        let new = p.pki.capf.clone();
        assert!(
            registers_with_lsc_of(cm_trust(&regen), &new),
            "{mixed} {from_ctl}"
        );
    }
}
