//! The core's artefacts used together, as the simulator will: PKCS#12 round trips, signed
//! configs verified through the ITL, trust stores keyed like TVS.

use cucmsim_core::digest::DigestAlg;
use cucmsim_core::pkcs12::{bundle_file_name, read_bundle, write_bundle, Pkcs12Error};
use cucmsim_core::pki::cluster::{ClusterSpec, NodeSpec};
use cucmsim_core::pki::identity::{CertType, NodeNames};
use cucmsim_core::pki::store::{StoreName, TrustStore};
use cucmsim_core::pki::{Backend, KeyForge};
use cucmsim_core::sgn::{parse_signed_config, sign_config, PhoneConfig, SecurityMode, Server};
use cucmsim_core::tlv::verify::{find_signer, record_key};
use cucmsim_core::tlv::{parse, Role, TrustListBuilder};
use cucmsim_core::WallTime;
use std::collections::BTreeMap;

fn cluster(version: &str) -> cucmsim_core::pki::cluster::ClusterPki {
    let node = |h: &str| NodeSpec {
        names: NodeNames::lab("it", h),
        ip: None,
        runs_callmanager: true,
        runs_tftp: true,
        imp: false,
    };
    ClusterSpec {
        name: "it".into(),
        version: version.parse().unwrap(),
        nodes: vec![node("CUCM1052PUB"), node("CUCM1052SUB")],
        profiles: BTreeMap::new(),
        now: WallTime::from_ymd(2024, 6, 1).unwrap(),
        itl_recovery_years: 5,
    }
    .generate(&KeyForge::new(21))
    .unwrap()
}

#[test]
fn pkcs12_round_trip_with_cucm_names() {
    let c = cluster("10.5");
    let tomcat = c.publisher().identity(CertType::Tomcat).unwrap();
    assert_eq!(
        bundle_file_name("CUCM1052PUB", CertType::Tomcat),
        "CUCM1052PUB_tomcat.pkcs12"
    );
    let bytes = write_bundle(&[("tomcat", &tomcat.cert)], None, "s3cret").unwrap();
    let back = read_bundle(&bytes, "s3cret").unwrap();
    assert_eq!(back.certificates.len(), 1);
    assert_eq!(back.certificates[0].1, tomcat.cert);
    assert_eq!(
        read_bundle(&bytes, "nope").unwrap_err(),
        Pkcs12Error::BadPassword
    );
    assert!(matches!(
        read_bundle(b"\x30\x03\x02\x01\x03", "x"),
        Err(Pkcs12Error::Malformed(_))
    ));
    // With the private key (ITLRecovery.p12), the key comes back and still signs.
    let rec = &c.itl_recovery;
    let bytes = write_bundle(
        &[],
        Some(("ITLRecovery", &rec.key, std::slice::from_ref(&rec.cert))),
        "pw",
    )
    .unwrap();
    let back = read_bundle(&bytes, "pw").unwrap();
    let key = back.private_key().unwrap();
    assert_eq!(key.public_key(), rec.key.public_key());
}

#[test]
fn signed_config_verifies_through_the_itl_tftp_record() {
    let c = cluster("11.5");
    let certs = c.trust_list_certs();
    let signer = certs.itl_signer(0).unwrap();
    let mut b = TrustListBuilder::new("ITLFile.tlv", 1_717_200_000);
    b.records = certs.itl_records(0);
    let itl = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    let cm = c.publisher().identity(CertType::CallManager).unwrap();
    let config = PhoneConfig {
        device_name: "SEP001122334455".into(),
        callmanagers: vec!["CUCM1052PUB".into()],
        tvs: vec![
            Server {
                address: "CUCM1052PUB".into(),
                port: 2445,
            },
            Server {
                address: "CUCM1052SUB".into(),
                port: 2445,
            },
        ],
        capf: vec![Server {
            address: "CUCM1052PUB".into(),
            port: 3804,
        }],
        security_mode: SecurityMode::Authenticated,
        ..Default::default()
    };
    let sgn = sign_config(
        config.to_xml().as_bytes(),
        &config.signed_file_name(),
        &cm.cert,
        &cm.key,
        DigestAlg::Sha1,
        5,
        Backend::Ring,
    )
    .unwrap();
    let parsed = parse_signed_config(&sgn).unwrap();
    assert_eq!(
        parsed.header.filename.as_deref(),
        Some("SEP001122334455.cnf.xml.sgn")
    );
    let rec = find_signer(&parsed.header, &itl.records, &[Role::CcmTftp, Role::Tftp]).unwrap();
    assert_eq!(
        parsed.verify_with(&record_key(rec).unwrap(), Backend::Ring),
        Ok(())
    );
    assert_eq!(parsed.config().unwrap(), config);
    // Signed by another cluster: the phone's ITL has no matching record.
    let other = cluster_other();
    let foreign = sign_config(
        b"<device/>",
        "SEP001122334455.cnf.xml.sgn",
        &other.cert,
        &other.key,
        DigestAlg::Sha1,
        5,
        Backend::Ring,
    )
    .unwrap();
    let parsed = parse_signed_config(&foreign).unwrap();
    assert!(find_signer(&parsed.header, &itl.records, &[Role::CcmTftp, Role::Tftp]).is_none());
}

fn cluster_other() -> cucmsim_core::pki::Identity {
    let names = NodeNames::lab("other", "CUCM1052PUB");
    cucmsim_core::pki::identity::IdentityRequest::new(
        &names,
        CertType::CallManager,
        WallTime(1_700_000_000),
    )
    .issue_self_signed(&KeyForge::new(99))
    .unwrap()
}

#[test]
fn trust_stores_key_like_tvs_and_accept_either_dn_style() {
    let c = cluster("12.5");
    let stores = c.initial_stores(None);
    let cm_trust = &stores[&StoreName::CallManagerTrust];
    assert_eq!(
        cm_trust.len(),
        3,
        "two CallManager certificates and the CAPF"
    );
    let cm = c.nodes[1].identity(CertType::CallManager).unwrap();
    let comma_issuer = cm.cert.issuer().to_cucm().replace(';', ", ");
    assert!(cm_trust.find(cm.cert.serial(), &comma_issuer).is_some());
    let mut sast = TrustStore::new(StoreName::PhoneSastTrust);
    assert!(sast.add(c.itl_recovery.cert.clone()));
    assert!(
        !sast.add(c.itl_recovery.cert.clone()),
        "adding twice is one entry"
    );
    assert!(sast.contains(&c.itl_recovery.cert));
    assert_eq!(
        "CallManager-trust".parse::<StoreName>(),
        Ok(StoreName::CallManagerTrust)
    );
    assert!("bogus-trust".parse::<StoreName>().is_err());
    assert!(!StoreName::CapfTrust.replicates_cluster_wide());
}
