//! IM&P steps fed one at a time to a publisher with two IM&P nodes: the seed's order of
//! regeneration and restarts, and the trust deletion with its ipsec-trust check.

use super::imp::{DeleteTarget, ImpOp};
use super::Enterprise;
use super::Publisher;
use crate::machine::msg::{Effect, Now};
use crate::pki::cluster::{ClusterSpec, NodeSpec};
use crate::pki::identity::CertType;
use crate::pki::identity::NodeNames;
use crate::pki::{KeyForge, StoreName};
use crate::tlv::content::CucmVersion;
use crate::wall::WallTime;
use std::collections::BTreeMap;

fn publisher() -> Publisher {
    let node = |h: &str, imp: bool| NodeSpec {
        names: NodeNames::lab("c", h),
        ip: None,
        runs_callmanager: !imp,
        runs_tftp: !imp,
        imp,
    };
    let pki = ClusterSpec {
        name: "c".into(),
        version: CucmVersion::new(14, 0, 0),
        nodes: vec![
            node("cucm-pub", false),
            node("imp-pub", true),
            node("imp-sub", true),
        ],
        profiles: BTreeMap::new(),
        now: WallTime(1_700_000_000),
        itl_recovery_years: 20,
    }
    .generate(&KeyForge::new(9))
    .unwrap();
    let stores = pki.initial_stores(None);
    Publisher::new(pki, stores, false, Enterprise::default())
}

fn now() -> Now {
    Now {
        mono_ms: 0,
        wall: WallTime(1_700_000_100),
    }
}

fn whats(out: &[Effect]) -> Vec<String> {
    out.iter()
        .filter_map(|e| match e {
            Effect::Observe(o) => Some(format!("{} {}", o.what(), o.detail())),
            _ => None,
        })
        .collect()
}

#[test]
fn subscriber_first_is_refused_and_restart_follows_the_seed_order() {
    let mut p = publisher();
    let sub = ImpOp::Regenerate {
        cert_type: CertType::Cup,
        node: "imp-sub".into(),
    };
    let w = whats(&p.imp_step(sub.clone(), now()));
    assert!(w[0].starts_with("operator_error") && w[0].contains("imp-pub"));
    let pubr = ImpOp::Regenerate {
        cert_type: CertType::Cup,
        node: "imp-pub".into(),
    };
    assert!(whats(&p.imp_step(pubr, now()))[0].starts_with("certificate_regenerated"));
    assert!(whats(&p.imp_step(sub, now()))[0].starts_with("certificate_regenerated"));
    p.imp_step(ImpOp::PresenceHa { enabled: true }, now());
    let restart = ImpOp::RestartServices {
        cert_type: CertType::Cup,
    };
    assert!(whats(&p.imp_step(restart.clone(), now()))[0].contains("High Availability"));
    p.imp_step(ImpOp::PresenceHa { enabled: false }, now());
    let w = whats(&p.imp_step(restart, now()));
    assert_eq!(
        w,
        vec![
            "service_restarted Cisco SIP Proxy on imp-pub",
            "service_restarted Cisco SIP Proxy on imp-sub",
            "service_restarted Cisco Presence Engine on imp-pub",
            "service_restarted Cisco Presence Engine on imp-sub",
        ]
    );
}

#[test]
fn identity_certificates_cannot_be_deleted_and_ipsec_trust_is_checked() {
    let mut p = publisher();
    let del = |target, cn: Option<&str>| ImpOp::DeleteTrust {
        node: "imp-sub".into(),
        target,
        cn: cn.map(str::to_string),
    };
    let w = whats(&p.imp_step(del(DeleteTarget::Identity(CertType::CupXmpp), None), now()));
    assert!(w[0].contains("cannot be deleted"));
    let w = whats(&p.imp_step(ImpOp::IpsecTrustCheck, now()));
    assert!(w.iter().all(|l| l.starts_with("ipsec_trust_ok")), "{w:?}");
    let w = whats(&p.imp_step(
        del(DeleteTarget::Trust(StoreName::IpsecTrust), Some("cucm-pub")),
        now(),
    ));
    assert!(w.iter().any(|l| l.starts_with("trust_certificate_deleted")));
    let w = whats(&p.imp_step(ImpOp::IpsecTrustCheck, now()));
    assert!(w[0].starts_with("ipsec_trust_ok imp-pub"));
    assert!(w[1].starts_with("ipsec_trust_mismatch imp-sub"));
    // Six years on, every tomcat certificate has expired: all three go, on imp-pub only.
    let later = Now {
        mono_ms: 1,
        wall: WallTime(1_700_000_000 + 6 * WallTime::YEAR_S),
    };
    let expired = ImpOp::DeleteTrust {
        node: "imp-pub".into(),
        target: DeleteTarget::Trust(StoreName::TomcatTrust),
        cn: None,
    };
    let w = whats(&p.imp_step(expired, later));
    let deleted = w
        .iter()
        .filter(|l| l.starts_with("trust_certificate_deleted"));
    assert_eq!(deleted.count(), 3, "{w:?}");
    assert!(w.contains(
        &"service_restarted Cisco Tomcat on imp-pub (utils service restart Cisco Tomcat)"
            .to_string()
    ));
    assert_eq!(
        p.imp.node_stores["imp-pub"][&StoreName::TomcatTrust].len(),
        0
    );
    assert_eq!(
        p.imp.node_stores["imp-sub"][&StoreName::TomcatTrust].len(),
        3
    );
}
