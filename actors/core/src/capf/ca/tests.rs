//! Tests of the Online and Offline CAs: real certificates, chains verified with
//! `pki::chain::verify_chain`, every refusal, and the secure-registration usage check.

use super::*;
use crate::capf::codes::KeyType;
use crate::capf::lsc::LscCommonName;
use crate::capf::lsc::{issue_lsc, lsc_serial, LscSubject, LscTemplate};
use crate::capf::pending::CsrBook;
use crate::capf::pending::PendingCsr;
use crate::pki::cert::CertSigAlg;
use crate::pki::chain::verify_chain;
use crate::pki::identity::{IdentityRequest, NodeNames};
use crate::pki::{Backend, CertType};
use crate::pki::{Certificate, ExtKeyUsage, KeyForge, KeyProfile, KeyUsage, PublicKey};
use crate::wall::WallTime;
use crate::DigestAlg;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

const DEV: &str = "SEPB000B4BA0AEE";

fn t0() -> WallTime {
    WallTime::from_ymd(2025, 6, 1).unwrap()
}

fn built() -> WallTime {
    t0().plus_s(-WallTime::YEAR_S)
}

fn online(seed: u64, settings: OnlineCaSettings) -> OnlineCa {
    OnlineCa::new(&KeyForge::new(seed), "ms-ca", settings, built()).unwrap()
}

fn rsa_phone(seed: u64, label: &str) -> PublicKey {
    KeyForge::new(seed)
        .key(&format!("ca-tests/{label}"), KeyProfile::RSA2048)
        .public_key()
}

fn ec_phone(label: &str) -> PublicKey {
    KeyForge::new(9)
        .key(&format!("ca-tests/{label}"), KeyProfile::EcP256)
        .public_key()
}

fn request(ca: &OnlineCa, public: PublicKey) -> EnrollRequest {
    EnrollRequest::new(&OnlineCaParams::matching(&ca.settings), DEV, "8861", public)
}

fn verify(cert: &Certificate, ca: &CaHierarchy, now: WallTime) {
    let anchors = [ca.root.cert.clone()];
    for backend in Backend::ALL {
        let chain = verify_chain(cert, &ca.intermediates(), &anchors, now, backend).unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[1], ca.issuing.cert);
        assert_eq!(chain[2], ca.root.cert);
    }
}

#[test]
fn online_ca_issues_an_lsc_that_chains_to_its_root() {
    let mut ca = online(1, OnlineCaSettings::default());
    let phone = rsa_phone(1, "phone");
    let lsc = ca.enroll(&request(&ca, phone.clone()), t0()).unwrap();
    verify(&lsc, &ca.ca, t0());
    assert_eq!(ca.issued_count(), 1);
    assert_eq!(lsc.subject().to_cucm(), format!("CN={DEV}"));
    assert_eq!(lsc.issuer(), ca.ca.issuing.cert.subject());
    assert_eq!(lsc.public_key(), Some(&phone));
    assert_eq!(lsc.serial().len(), SERIAL_LEN);
    let info = lsc.info();
    assert_eq!(info.sig_alg, CertSigAlg::Rsa(DigestAlg::Sha256));
    assert_eq!((info.ca, info.has_basic_constraints), (None, true));
    assert_eq!(
        info.key_usage,
        vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    );
    assert_eq!(
        info.ext_key_usage,
        vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth]
    );
    assert_eq!(
        (info.not_before, info.not_after),
        (t0(), t0().plus_s(730 * WallTime::DAY_S))
    );
    assert_eq!(lsc_usable_for_secure_registration(&lsc), Ok(()));
    let (_, x) = X509Certificate::from_der(lsc.der()).unwrap();
    let san = x.subject_alternative_name().unwrap().unwrap();
    assert_eq!(san.value.general_names, vec![GeneralName::URI(DEV)]);
    assert!(x.key_usage().unwrap().unwrap().critical);
}

#[test]
fn online_ca_model_and_device_common_name() {
    let settings = OnlineCaSettings {
        common_name: LscCommonName::ModelAndDevice,
        ..OnlineCaSettings::default()
    };
    let mut ca = online(1, settings);
    let lsc = ca
        .enroll(&request(&ca, rsa_phone(1, "phone")), t0())
        .unwrap();
    assert_eq!(lsc.subject().common_name(), "CP-8861-SEPB000B4BA0AEE");
}

#[test]
fn same_seed_same_bytes_and_serials_never_repeat() {
    let phone = rsa_phone(1, "phone");
    let mut a = online(4, OnlineCaSettings::default());
    let mut b = online(4, OnlineCaSettings::default());
    let la = a.enroll(&request(&a, phone.clone()), t0()).unwrap();
    let lb = b.enroll(&request(&b, phone.clone()), t0()).unwrap();
    assert_eq!(la.der(), lb.der());
    assert_eq!(a.ca.root.cert, b.ca.root.cert);
    let again = a.enroll(&request(&a, phone.clone()), t0()).unwrap();
    assert_ne!(again.serial(), la.serial());
    let mut c = online(5, OnlineCaSettings::default());
    let lc = c.enroll(&request(&c, phone), t0()).unwrap();
    assert_ne!(lc.der(), la.der());
    assert_ne!(c.ca.root.cert, a.ca.root.cert);
}

#[test]
fn bad_credentials_are_refused() {
    let mut ca = online(1, OnlineCaSettings::default());
    let mut req = request(&ca, rsa_phone(1, "phone"));
    req.password = "wrong".into();
    let err = ca.enroll(&req, t0()).unwrap_err();
    assert_eq!(
        err,
        CaError::BadCredentials {
            username: "capf-enroll".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "Online CA refused the credentials of user \"capf-enroll\""
    );
    let mut req = request(&ca, rsa_phone(1, "phone"));
    req.username = "someone".into();
    assert!(matches!(
        ca.enroll(&req, t0()),
        Err(CaError::BadCredentials { .. })
    ));
    assert_eq!(ca.issued_count(), 0);
}

#[test]
fn unknown_template_is_refused() {
    let mut ca = online(1, OnlineCaSettings::default());
    let mut req = request(&ca, rsa_phone(1, "phone"));
    req.template = "WebServer".into();
    let err = ca.enroll(&req, t0()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Online CA has no certificate template \"WebServer\""
    );
    // Template names compare case-insensitively, as Windows does.
    req.template = "ciscora".into();
    assert!(ca.enroll(&req, t0()).is_ok());
}

#[test]
fn ecdsa_is_refused() {
    let mut ca = online(1, OnlineCaSettings::default());
    let err = ca.enroll(&request(&ca, ec_phone("ec")), t0()).unwrap_err();
    assert_eq!(err, CaError::EcdsaNotSupported);
    assert_eq!(err.to_string(), "Online CA does not support ECDSA");
    // An EC key type with an RSA key (a confused request) is refused too.
    let mut req = request(&ca, rsa_phone(1, "phone"));
    req.key_type = KeyType::Ec;
    assert_eq!(ca.enroll(&req, t0()), Err(CaError::EcdsaNotSupported));
}

#[test]
fn a_ca_answering_in_another_language_breaks_enrolment() {
    let settings = OnlineCaSettings {
        english: false,
        ..OnlineCaSettings::default()
    };
    let mut ca = online(1, settings);
    let err = ca
        .enroll(&request(&ca, rsa_phone(1, "phone")), t0())
        .unwrap_err();
    assert_eq!(err, CaError::NotEnglish);
    assert!(err
        .to_string()
        .contains("Cisco Certificate Enrollment Service cannot read"));
    // Whatever the CA said, CES cannot read it: even a refusal of bad credentials.
    let mut req = request(&ca, rsa_phone(1, "phone"));
    req.password = "wrong".into();
    assert_eq!(ca.enroll(&req, t0()), Err(CaError::NotEnglish));
}

#[test]
fn missing_key_usages_fail_secure_registration() {
    for (drop, problem) in [
        (
            KeyUsage::KeyEncipherment,
            LscUsageProblem::NoKeyEncipherment,
        ),
        (
            KeyUsage::DigitalSignature,
            LscUsageProblem::NoDigitalSignature,
        ),
    ] {
        let mut template = CaTemplate::default();
        template.key_usage.retain(|k| *k != drop);
        let settings = OnlineCaSettings {
            templates: vec![template],
            ..OnlineCaSettings::default()
        };
        let mut ca = online(1, settings);
        let lsc = ca
            .enroll(&request(&ca, rsa_phone(1, "phone")), t0())
            .unwrap();
        verify(&lsc, &ca.ca, t0());
        assert_eq!(lsc_usable_for_secure_registration(&lsc), Err(problem));
        assert!(problem.to_string().contains("secure registration fails"));
    }
    // No keyUsage extension at all fails as well.
    let mut template = CaTemplate::default();
    template.key_usage.clear();
    let settings = OnlineCaSettings {
        templates: vec![template],
        ..OnlineCaSettings::default()
    };
    let mut ca = online(1, settings);
    let lsc = ca
        .enroll(&request(&ca, rsa_phone(1, "phone")), t0())
        .unwrap();
    assert_eq!(
        lsc_usable_for_secure_registration(&lsc),
        Err(LscUsageProblem::NoDigitalSignature)
    );
}

#[test]
fn capf_issued_lscs_pass_the_usage_check_and_ca_certs_fail_it() {
    let names = NodeNames::lab("ca-tests", "cucm-pub");
    let forge = KeyForge::new(3);
    let capf = IdentityRequest::new(&names, CertType::Capf, built())
        .issue_self_signed(&forge)
        .unwrap();
    let who = LscSubject {
        device_name: DEV,
        model: "8861",
        hw_serial: None,
    };
    let serial = lsc_serial(&forge, &capf.cert, DEV, "0");
    let lsc = issue_lsc(
        &LscTemplate::cucm(),
        &capf,
        &who,
        &ec_phone("capf-lsc"),
        &serial,
        t0(),
    )
    .unwrap();
    assert_eq!(lsc_usable_for_secure_registration(&lsc), Ok(()));
    // The CAPF certificate itself has no keyEncipherment.
    assert_eq!(
        lsc_usable_for_secure_registration(&capf.cert),
        Err(LscUsageProblem::NoKeyEncipherment)
    );
}

#[test]
fn validity_days_are_checked_and_capped_by_the_issuing_ca() {
    for (days, ok) in [(0, false), (1, true), (1825, true), (1826, false)] {
        let template = CaTemplate {
            validity_days: days,
            ..CaTemplate::default()
        };
        let settings = OnlineCaSettings {
            templates: vec![template],
            ..OnlineCaSettings::default()
        };
        let mut ca = online(1, settings);
        let got = ca.enroll(&request(&ca, rsa_phone(1, "phone")), t0());
        if ok {
            let lsc = got.unwrap();
            assert_eq!(
                lsc.info().not_after,
                t0().plus_s(i64::from(days) * WallTime::DAY_S)
            );
        } else {
            assert_eq!(got, Err(CaError::Validity { days }));
            assert_eq!(
                got.unwrap_err().to_string(),
                format!("validity of {days} days is outside 1..=1825")
            );
        }
    }
    // Near the end of the issuing CA's life, the LSC ends with it.
    let template = CaTemplate {
        validity_days: 1825,
        ..CaTemplate::default()
    };
    let settings = OnlineCaSettings {
        templates: vec![template],
        ..OnlineCaSettings::default()
    };
    let mut ca = online(1, settings);
    let late = built().plus_s(9 * WallTime::YEAR_S);
    let lsc = ca
        .enroll(&request(&ca, rsa_phone(1, "phone")), late)
        .unwrap();
    assert_eq!(lsc.info().not_after, ca.ca.issuing.cert.info().not_after);
    verify(&lsc, &ca.ca, late);
}

#[test]
fn an_issuing_ca_outside_its_validity_issues_nothing() {
    let mut ca = online(1, OnlineCaSettings::default());
    for now in [
        built().plus_s(-1),
        built().plus_s(10 * WallTime::YEAR_S),
        WallTime(i64::MIN),
        WallTime(i64::MAX),
    ] {
        let err = ca
            .enroll(&request(&ca, rsa_phone(1, "phone")), now)
            .unwrap_err();
        assert!(matches!(err, CaError::CaNotValid { .. }), "{err}");
        assert!(err.to_string().contains("Lab Issuing CA"));
    }
}

#[test]
fn bad_device_names_are_refused_without_panicking() {
    let mut ca = online(1, OnlineCaSettings::default());
    for name in ["", "SEP 001122", "SEP\u{0}", &"X".repeat(65), "SEPé"] {
        let params = OnlineCaParams::matching(&ca.settings);
        let req = EnrollRequest::new(&params, name, "8861", rsa_phone(1, "phone"));
        assert_eq!(
            ca.enroll(&req, t0()),
            Err(CaError::DeviceName(name.to_string()))
        );
    }
    let params = OnlineCaParams::matching(&ca.settings);
    let req = EnrollRequest::new(&params, "CSFJSMITH", "Jabber", rsa_phone(1, "phone"));
    assert!(ca.enroll(&req, t0()).is_ok());
}

#[test]
fn endpoint_hostname_must_match_the_https_certificate() {
    let ca = online(1, OnlineCaSettings::default());
    let mut params = OnlineCaParams::matching(&ca.settings);
    assert_eq!(ca.check_endpoint(&params), Ok(()));
    params.hostname = "CA.LAB.LOCAL".into();
    assert_eq!(ca.check_endpoint(&params), Ok(()));
    params.hostname = "10.0.0.5".into();
    assert_eq!(
        ca.check_endpoint(&params).unwrap_err().to_string(),
        "Online CA hostname \"10.0.0.5\" does not match the CN \"ca.lab.local\" of the CA's HTTPS certificate"
    );
    let mut params = OnlineCaParams::matching(&ca.settings);
    params.port = 8443;
    assert_eq!(
        ca.check_endpoint(&params),
        Err(CaError::WrongPort {
            configured: 8443,
            actual: 443
        })
    );
    // The IIS certificate chains to the CA root (what CAPF-trust needs, seed table 1).
    verify(&ca.https.cert, &ca.ca, t0());
    assert_eq!(ca.https.cert.info().san_dns, vec!["ca.lab.local"]);
}

#[test]
fn passwords_stay_out_of_debug_output() {
    let ca = online(1, OnlineCaSettings::default());
    let params = OnlineCaParams::matching(&ca.settings);
    let text = format!("{params:?} {:?}", request(&ca, rsa_phone(1, "phone")));
    assert!(!text.contains("Cisco123"), "{text}");
    assert!(text.contains("***"));
    assert_eq!(params.template, DEFAULT_TEMPLATE);
    assert_eq!(params.port, 443);
}

#[test]
fn hierarchy_shape() {
    let ca = CaHierarchy::new(&KeyForge::new(2), "h", &CaNames::default(), built()).unwrap();
    let root = ca.root.cert.info();
    let issuing = ca.issuing.cert.info();
    assert!(ca.root.cert.is_self_issued());
    assert_eq!(root.ca, Some(Some(1)));
    assert_eq!(issuing.ca, Some(Some(0)));
    assert!(issuing.key_usage.contains(&KeyUsage::KeyCertSign));
    assert_eq!(ca.root.key.profile(), KeyProfile::RSA2048);
    assert_eq!(ca.issuing.key.profile(), KeyProfile::RSA2048);
    assert_eq!(root.not_after, built().plus_s(20 * WallTime::YEAR_S));
    assert_eq!(issuing.not_after, built().plus_s(10 * WallTime::YEAR_S));
    verify_chain(
        &ca.issuing.cert,
        &[],
        [&ca.root.cert],
        t0(),
        Backend::RustCrypto,
    )
    .unwrap();
}

#[test]
fn offline_ca_signs_pending_requests_rsa_and_ec() {
    let forge = KeyForge::new(6);
    let mut ca = OfflineCa::new(&forge, "offline-ca", &CaNames::default(), built()).unwrap();
    let mut book = CsrBook::new();
    for (device, public) in [
        ("SEP001122334455", rsa_phone(6, "offline-rsa")),
        ("SEP001122334466", ec_phone("offline-ec")),
    ] {
        let id = book.record(device, &public, t0()).unwrap().id;
        let csr = book.pending().find(|c| c.id == id).unwrap().clone();
        let cert = ca.sign(&csr, t0().plus_s(3600)).unwrap();
        verify(&cert, &ca.ca, t0().plus_s(7200));
        assert_eq!(cert.subject().common_name(), device);
        assert_eq!(cert.public_key(), Some(&public));
        assert_eq!(lsc_usable_for_secure_registration(&cert), Ok(()));
        assert_eq!(cert.info().not_before, t0().plus_s(3600));
    }
    assert_eq!(ca.issued_count(), 2);
    // Another CA's root does not verify it.
    let other = OfflineCa::new(
        &KeyForge::new(7),
        "offline-ca",
        &CaNames::default(),
        built(),
    )
    .unwrap();
    let csr = book.pending().next().unwrap().clone();
    let cert = ca.sign(&csr, t0()).unwrap();
    let anchors = [other.ca.root.cert.clone()];
    assert!(matches!(
        verify_chain(
            &cert,
            &other.ca.intermediates(),
            &anchors,
            t0(),
            Backend::Ring
        ),
        Err(CertError::BadSignature { .. })
    ));
}

#[test]
fn offline_ca_reports_a_garbled_request() {
    let mut ca = OfflineCa::new(
        &KeyForge::new(6),
        "offline-ca",
        &CaNames::default(),
        built(),
    )
    .unwrap();
    let csr = PendingCsr {
        id: 1,
        device_name: DEV.into(),
        spki_der: vec![0x30, 0x03, 0x01, 0x02],
        key_spec: crate::capf::keys::KeySpec::Rsa { bits: 2048 },
        requested_at: t0(),
    };
    assert!(matches!(ca.sign(&csr, t0()), Err(CaError::Key(_))));
    assert_eq!(ca.issued_count(), 0);
}
