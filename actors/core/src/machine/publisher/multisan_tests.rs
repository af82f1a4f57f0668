//! Multi-server SAN steps fed one at a time: the Tomcat certificate replaces every node's
//! (with and without CSCur97909), the CallManager one restarts publisher first and
//! CSCup28852 loops on its timer.

use super::Enterprise;
use super::Publisher;
use crate::machine::msg::{Effect, Now};
use crate::pki::chain::verify_chain;
use crate::pki::cluster::{ClusterSpec, NodeSpec};
use crate::pki::identity::CertType;
use crate::pki::identity::NodeNames;
use crate::pki::{Backend, Certificate, ExtKeyUsage, KeyForge, KeyUsage, StoreName};
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
        version: CucmVersion::new(12, 5, 0),
        nodes: vec![node("pub", false), node("imp", true)],
        profiles: BTreeMap::new(),
        now: WallTime(1_700_000_000),
        itl_recovery_years: 20,
    }
    .generate(&KeyForge::new(4))
    .unwrap();
    let stores = pki.initial_stores(None);
    Publisher::new(pki, stores, false, Enterprise::default())
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
fn signed_multi_san_replaces_every_tomcat_and_its_self_signed_trust() {
    let now = Now {
        mono_ms: 0,
        wall: WallTime(1_700_000_100),
    };
    for defect in [false, true] {
        let mut p = publisher();
        let old: Vec<Certificate> = p
            .pki
            .nodes
            .iter()
            .map(|n| n.identity(CertType::Tomcat).unwrap().cert.clone())
            .collect();
        assert!(
            whats(&p.upload_multi_san(CertType::Tomcat, defect, None, now))[0]
                .contains("no tomcat multi-server CSR")
        );
        assert!(whats(&p.multi_san_csr(CertType::Tomcat, false, now))[0]
            .contains("SAN [pub-ms.lab.local, pub.lab.local, imp.lab.local]"));
        assert!(
            whats(&p.upload_ca(CertType::Tomcat, true, now))[0].contains("upload the root first")
        );
        p.upload_ca(CertType::Tomcat, false, now);
        p.upload_ca(CertType::Tomcat, true, now);
        let w = whats(&p.upload_multi_san(CertType::Tomcat, defect, None, now));
        assert_eq!(
            w.iter()
                .filter(|l| l.starts_with("multi_san_distributed"))
                .count(),
            2
        );
        assert_eq!(
            w.iter().any(|l| l.starts_with("self_signed_not_deleted")),
            defect
        );
        let a = p.pki.nodes[0]
            .identity(CertType::Tomcat)
            .unwrap()
            .cert
            .clone();
        let b = p.pki.nodes[1]
            .identity(CertType::Tomcat)
            .unwrap()
            .cert
            .clone();
        assert_eq!(a, b);
        assert_eq!(a.subject().common_name(), "pub-ms.lab.local");
        let trust = &p.stores[&StoreName::TomcatTrust];
        let ca = p.multisan.ca.clone().unwrap();
        verify_chain(
            &a,
            std::slice::from_ref(&ca.intermediate.cert),
            [&ca.root.cert],
            now.wall,
            Backend::default(),
        )
        .unwrap();
        assert!(trust.contains(&a));
        assert!(old.iter().all(|c| trust.contains(c) == defect));
    }
}

#[test]
fn callmanager_multi_san_restarts_publisher_first_and_cscup28852_loops() {
    let now = |s: i64| Now {
        mono_ms: s as u64 * 1000,
        wall: WallTime(1_700_000_100 + s),
    };
    let mut p = publisher();
    p.tftp_hosts = vec!["pub".into()];
    p.cm_hosts = vec!["pub".into()];
    let csr = whats(&p.multi_san_csr(CertType::CallManager, true, now(0)));
    assert!(csr[0].contains("SAN [pub.lab.local]"), "{csr:?}");
    p.upload_ca(CertType::CallManager, false, now(1));
    p.upload_ca(CertType::CallManager, true, now(1));
    let up = whats(&p.upload_multi_san(CertType::CallManager, false, Some(420_000), now(2)));
    assert_eq!(
        up.iter()
            .filter(|l| l.starts_with("multi_san_distributed"))
            .count(),
        1,
        "CUCM nodes only: {up:?}"
    );
    assert!(up.iter().any(|l| l.starts_with("san_lacks_cn")));
    let cm = p.pki.nodes[0].identity(CertType::CallManager).unwrap();
    assert_eq!(cm.cert.subject().common_name(), "pub-ms.lab.local");
    assert!(cm.cert.info().key_usage.contains(&KeyUsage::KeyCertSign));
    assert!(cm
        .cert
        .info()
        .ext_key_usage
        .contains(&ExtKeyUsage::IpsecEndSystem));
    assert!(p.stores[&StoreName::CallManagerTrust].contains(&cm.cert));
    // Before the restart, the timer of the loop is a no-op.
    assert!(p.on_timer(1, now(3)).is_empty());
    let out = p.multi_san_restart("pub", now(10));
    let w = whats(&out);
    assert!(w.iter().any(|l| l.starts_with("phones_reset")), "{w:?}");
    let timer = out.iter().find_map(|e| match e {
        Effect::Timer { after_ms, token } => Some((*after_ms, *token)),
        _ => None,
    });
    let (after, token) = timer.expect("CSCup28852 arms its loop");
    assert_eq!(after, 420_000);
    let again = p.on_timer(token, now(430));
    let w = whats(&again);
    assert!(w[0].starts_with("certificate_change CSCup28852"), "{w:?}");
    assert!(w.iter().any(|l| l.starts_with("phones_reset")));
    assert!(again.iter().any(|e| matches!(
        e,
        Effect::Timer {
            after_ms: 420_000,
            ..
        }
    )));
    // A stale token (an older upload) does nothing.
    assert!(p.on_timer(token + 1, now(440)).is_empty());
}
