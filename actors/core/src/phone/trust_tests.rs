//! The §2.3 rules, one situation each: a migration through TVS, the cache, rejections.

use super::trust::*;
use crate::digest::DigestAlg;
use crate::pki::cluster::{ClusterPki, ClusterSpec, NodeSpec};
use crate::pki::identity::{CertType, NodeNames};
use crate::pki::store::{StoreName, TrustStore};
use crate::pki::Backend;
use crate::pki::KeyForge;
use crate::sgn::{parse_signed_config, sign_config};
use crate::tlv::{parse, TrustListBuilder};
use crate::tlv::{TrustList, VerifyError};
use crate::tvs::{RoleMap, TvsBody, TvsDirectory, TvsMessage};
use crate::wall::WallTime;
use std::collections::BTreeMap;

fn now() -> WallTime {
    WallTime::from_ymd(2025, 6, 1).unwrap()
}

fn cluster(name: &str, version: &str) -> ClusterPki {
    let node = |h: &str| NodeSpec {
        names: NodeNames::lab(name, h),
        ip: None,
        runs_callmanager: true,
        runs_tftp: true,
        imp: false,
    };
    ClusterSpec {
        name: name.into(),
        version: version.parse().unwrap(),
        nodes: vec![node(&format!("{name}pub")), node(&format!("{name}sub"))],
        profiles: BTreeMap::new(),
        now: WallTime::from_ymd(2024, 1, 1).unwrap(),
        itl_recovery_years: 5,
    }
    .generate(&KeyForge::new(77))
    .unwrap()
}

fn itl(c: &ClusterPki, digest: DigestAlg) -> TrustList {
    let certs = c.trust_list_certs();
    let signer = certs.itl_signer(0).unwrap();
    let mut b = TrustListBuilder::new("ITLFile.tlv", now().0 as u32);
    b.digest = digest;
    b.records = certs.itl_records(0);
    parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap()
}

fn judge(p: &PhoneTrust, kind: FileKind, list: &TrustList, at: WallTime) -> Decision {
    p.judge(kind, &list.raw, &list.header, at, Backend::Ring)
}

fn phone_on(c: &ClusterPki) -> PhoneTrust {
    let mut p = PhoneTrust::new();
    let first = itl(c, DigestAlg::Sha1);
    assert_eq!(
        judge(&p, FileKind::Itl, &first, now()),
        Decision::Accept(TrustPath::FirstUse)
    );
    p.install(FileKind::Itl, first.into());
    p
}

/// The source cluster's TVS after Bulk Certificate Management imported `dst`'s certificates
/// (CallManager and ITLRecovery → Phone-SAST-trust and CallManager-trust) and TVS restarted.
fn source_tvs(dst: Option<&ClusterPki>) -> TvsDirectory {
    let mut sast = TrustStore::new(StoreName::PhoneSastTrust);
    let mut cm = TrustStore::new(StoreName::CallManagerTrust);
    if let Some(d) = dst {
        for id in [
            &d.itl_recovery,
            d.publisher().identity(CertType::CallManager).unwrap(),
        ] {
            sast.add(id.cert.clone());
            cm.add(id.cert.clone());
        }
    }
    TvsDirectory::snapshot([&sast, &cm], [], &RoleMap::default())
}

fn ask(tvs: &TvsDirectory, d: &Decision) -> TvsMessage {
    let Decision::AskTvs {
        subject,
        issuer,
        serial,
    } = d
    else {
        panic!("expected AskTvs, got {d:?}")
    };
    let req = TvsMessage {
        session: 1001,
        body: TvsBody::QueryReq {
            device_name: "CP-8861-SEP001122334455".into(),
            subject: subject.clone(),
            issuer: issuer.clone(),
            serial: serial.clone(),
        },
    };
    // Through the wire format both ways, as the bus will carry it.
    TvsMessage::decode(
        &tvs.answer(&TvsMessage::decode(&req.encode()).unwrap())
            .unwrap()
            .encode(),
    )
    .unwrap()
}

fn apply(p: &mut PhoneTrust, list: &TrustList, answer: &TvsMessage, at: WallTime) -> Decision {
    let TvsBody::QueryRes {
        valid,
        certificate,
        roles,
        ttl_s,
    } = &answer.body
    else {
        panic!("{answer:?}")
    };
    p.on_tvs_answer(
        FileKind::Itl,
        &list.raw,
        &list.header,
        *valid,
        certificate.as_deref(),
        roles,
        *ttl_s,
        at,
        Backend::Ring,
    )
}

#[test]
fn same_cluster_itl_is_accepted_by_its_known_sast() {
    let src = cluster("src", "10.5");
    let p = phone_on(&src);
    assert_eq!(
        judge(&p, FileKind::Itl, &itl(&src, DigestAlg::Sha256), now()),
        Decision::Accept(TrustPath::Itl)
    );
}

#[test]
fn migration_goes_through_the_source_tvs_and_is_cached_24h() {
    let (src, dst) = (cluster("src", "10.5"), cluster("dst", "12.5"));
    let mut p = phone_on(&src);
    let new = itl(&dst, DigestAlg::Sha1);
    let first = judge(&p, FileKind::Itl, &new, now());
    let answer = ask(&source_tvs(Some(&dst)), &first);
    assert_eq!(
        apply(&mut p, &new, &answer, now()),
        Decision::Accept(TrustPath::Tvs { cached: false })
    );
    assert_eq!(
        judge(&p, FileKind::Itl, &new, now().plus_s(86_399)),
        Decision::Accept(TrustPath::Tvs { cached: true })
    );
    assert!(matches!(
        judge(&p, FileKind::Itl, &new, now().plus_s(86_401)),
        Decision::AskTvs { .. }
    ));
}

#[test]
fn without_the_import_the_source_tvs_refuses() {
    let (src, dst) = (cluster("src", "10.5"), cluster("dst", "12.5"));
    let mut p = phone_on(&src);
    let new = itl(&dst, DigestAlg::Sha1);
    let answer = ask(&source_tvs(None), &judge(&p, FileKind::Itl, &new, now()));
    assert_eq!(
        apply(&mut p, &new, &answer, now()),
        Decision::Reject(TrustError::TvsDenied)
    );
}

#[test]
fn a_tampered_file_is_refused_even_when_tvs_vouches() {
    let (src, dst) = (cluster("src", "10.5"), cluster("dst", "12.5"));
    let mut p = phone_on(&src);
    let mut new = itl(&dst, DigestAlg::Sha1);
    let last = new.raw.len() - 10;
    new.raw[last] ^= 1;
    let answer = ask(
        &source_tvs(Some(&dst)),
        &judge(&p, FileKind::Itl, &new, now()),
    );
    assert_eq!(
        apply(&mut p, &new, &answer, now()),
        Decision::Reject(TrustError::BadSignature(VerifyError::Mismatch))
    );
}

#[test]
fn configs_need_a_tftp_signer_and_rollback_accepts_anything() {
    let src = cluster("src", "11.5");
    let mut p = phone_on(&src);
    let cm = src.publisher().identity(CertType::CallManager).unwrap();
    let sgn = sign_config(
        b"<device/>",
        "SEP001122334455.cnf.xml.sgn",
        &cm.cert,
        &cm.key,
        DigestAlg::Sha1,
        1,
        Backend::Ring,
    )
    .unwrap();
    let cfg = parse_signed_config(&sgn).unwrap();
    assert_eq!(
        p.judge(
            FileKind::Config,
            &cfg.raw,
            &cfg.header,
            now(),
            Backend::Ring
        ),
        Decision::Accept(TrustPath::Itl)
    );
    // Signed by the subscriber's CallManager, which this TFTP node's ITL does not carry.
    let sub = src.nodes[1].identity(CertType::CallManager).unwrap();
    let sgn = sign_config(
        b"<device/>",
        "x.sgn",
        &sub.cert,
        &sub.key,
        DigestAlg::Sha1,
        1,
        Backend::Ring,
    )
    .unwrap();
    let cfg = parse_signed_config(&sgn).unwrap();
    assert!(matches!(
        p.judge(
            FileKind::Config,
            &cfg.raw,
            &cfg.header,
            now(),
            Backend::Ring
        ),
        Decision::AskTvs { .. }
    ));
    // "Prepare Cluster for Rollback": the phone takes the blank ITL, then anything.
    let certs = src.trust_list_certs();
    let signer = certs.itl_signer(0).unwrap();
    let mut b = TrustListBuilder::new("ITLFile.tlv", 2);
    b.records = certs.rollback_itl_records(0);
    let rollback = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    assert_eq!(
        judge(&p, FileKind::Itl, &rollback, now()),
        Decision::Accept(TrustPath::Itl)
    );
    p.install(FileKind::Itl, rollback.into());
    assert!(p.holds_rollback_itl());
    assert_eq!(
        p.judge(
            FileKind::Config,
            &cfg.raw,
            &cfg.header,
            now(),
            Backend::Ring
        ),
        Decision::Accept(TrustPath::RollbackItl)
    );
    let foreign = itl(&cluster("dst", "12.5"), DigestAlg::Sha1);
    assert_eq!(
        judge(&p, FileKind::Itl, &foreign, now()),
        Decision::Accept(TrustPath::RollbackItl)
    );
}

#[test]
fn tvs_server_must_match_an_itl_tvs_record() {
    let (src, dst) = (cluster("src", "10.5"), cluster("dst", "12.5"));
    let p = phone_on(&src);
    assert!(p.trusts_tvs_server(&src.nodes[1].identity(CertType::Tvs).unwrap().cert));
    assert!(!p.trusts_tvs_server(&dst.nodes[0].identity(CertType::Tvs).unwrap().cert));
}

#[test]
fn a_model_without_sha512_refuses_sha512_files() {
    let src = cluster("src", "12.5");
    let mut p = phone_on(&src);
    p.digests = vec![DigestAlg::Sha1, DigestAlg::Sha256];
    assert_eq!(
        judge(&p, FileKind::Itl, &itl(&src, DigestAlg::Sha512), now()),
        Decision::Reject(TrustError::UnsupportedDigest(DigestAlg::Sha512))
    );
}

#[test]
fn a_secure_registration_authenticates_the_callmanager_by_the_ctl() {
    use crate::tlv::content::CtlMode;
    let c = cluster("m", "12.5");
    let other = cluster("o", "12.5");
    let cm = |c: &ClusterPki, h: &str| c.identity_of(h, CertType::CallManager).unwrap().clone();
    let mut p = phone_on(&c);
    // No CTL (not mixed mode): nothing to check with [I].
    assert_eq!(p.check_callmanager(cm(&other, "opub").cert.der()), Ok(()));
    let certs = c.trust_list_certs();
    let signer = certs.ctl_signer().unwrap();
    let mut b = TrustListBuilder::new("CTLFile.tlv", now().0 as u32);
    b.records = certs.ctl_records(CtlMode::Mixed);
    let ctl = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    p.install(FileKind::Ctl, ctl.into());
    for h in ["mpub", "msub"] {
        assert_eq!(p.check_callmanager(cm(&c, h).cert.der()), Ok(()), "{h}");
    }
    let err = p
        .check_callmanager(cm(&other, "opub").cert.der())
        .unwrap_err();
    assert!(err.contains("not a CCM or CCM+TFTP record"), "{err}");
    // A certificate of the CTL in another role (the CAPF record) does not authenticate a
    // CallManager.
    assert!(p.check_callmanager(c.capf.cert.der()).is_err());
    // Non-secure mode: the CCM+TFTP records are blank, so no CallManager passes.
    b.records = certs.ctl_records(CtlMode::NonSecure);
    let blank = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    p.install(FileKind::Ctl, blank.into());
    assert!(p.check_callmanager(cm(&c, "mpub").cert.der()).is_err());
}

#[test]
fn a_phone_with_a_ctl_is_not_opened_by_the_rollback_itl() {
    // F3 / §2.5: rollback blanks the ITL, not the CTL. A mixed-mode phone holding its CTL and
    // the blank ITL must still verify a foreign ITL against the CTL, and the blank ITL has no
    // TVS record to ask, so the foreign ITL is not accepted "via RollbackItl".
    use crate::tlv::content::CtlMode;
    let (src, dst) = (cluster("src", "12.5"), cluster("dst", "12.5"));
    let mut p = phone_on(&src);
    let certs = src.trust_list_certs();
    let ctl_signer = certs.ctl_signer().unwrap();
    let mut b = TrustListBuilder::new("CTLFile.tlv", now().0 as u32);
    b.records = certs.ctl_records(CtlMode::Mixed);
    let ctl = parse(&b.sign(&ctl_signer.cert, &ctl_signer.key).unwrap()).unwrap();
    p.install(FileKind::Ctl, ctl.into());
    let signer = certs.itl_signer(0).unwrap();
    let mut b = TrustListBuilder::new("ITLFile.tlv", 2);
    b.records = certs.rollback_itl_records(0);
    let rollback = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    assert!(matches!(
        judge(&p, FileKind::Itl, &rollback, now()),
        Decision::Accept(TrustPath::Ctl | TrustPath::Itl)
    ));
    p.install(FileKind::Itl, rollback.into());
    assert!(p.holds_rollback_itl());
    let foreign = itl(&dst, DigestAlg::Sha1);
    let d = judge(&p, FileKind::Itl, &foreign, now());
    assert!(
        !matches!(d, Decision::Accept(_)),
        "a foreign ITL must not be accepted by a phone holding a CTL: {d:?}"
    );
    // The source's own ITL still verifies, through the CTL.
    assert!(matches!(
        judge(&p, FileKind::Itl, &itl(&src, DigestAlg::Sha1), now()),
        Decision::Accept(TrustPath::Ctl | TrustPath::Itl)
    ));
    // And without the CTL, the rollback ITL opens the door as Cisco documents.
    p.ctl = None;
    assert_eq!(
        judge(&p, FileKind::Itl, &foreign, now()),
        Decision::Accept(TrustPath::RollbackItl)
    );
}
