//! Tests of LSC issuance, key specs, SPKI, the existing-certificate proof and the F13 check.

use super::codes::*;
use super::keys::*;
use super::lsc::*;
use super::wire::{CapfMessage, Element};
use crate::pki::cert::CertSigAlg;
use crate::pki::chain::verify_chain;
use crate::pki::identity::{IdentityRequest, NodeNames};
use crate::pki::*;
use crate::tlv::content::CucmVersion;
use crate::wall::WallTime;
use crate::DigestAlg;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

fn now() -> WallTime {
    WallTime::from_ymd(2025, 6, 1).unwrap()
}

fn capf(profile: KeyProfile) -> Identity {
    let names = NodeNames::lab("lsc-tests", "cucm-pub");
    let mut req = IdentityRequest::new(&names, CertType::Capf, now().plus_s(-WallTime::DAY_S));
    req.profile = profile;
    req.issue_self_signed(&KeyForge::new(5)).unwrap()
}

const WHO: LscSubject = LscSubject {
    device_name: "SEPB000B4BA0AEE",
    model: "8861",
    hw_serial: Some("FCH18198CNQ"),
};

#[test]
fn cucm_template_issues_the_real_subject_and_extensions() {
    let capf = capf(KeyProfile::RSA2048);
    let phone = KeyForge::new(5).key("lsc-tests/phone", KeyProfile::EcP256);
    let serial = lsc_serial(&KeyForge::new(5), &capf.cert, WHO.device_name, "0");
    let lsc = issue_lsc(
        &LscTemplate::cucm(),
        &capf,
        &WHO,
        &phone.public_key(),
        &serial,
        now(),
    )
    .unwrap();
    let cn = capf.cert.subject().common_name();
    assert_eq!(
        lsc.subject().to_cucm(),
        "serialNumber=PID:CP-8861 SN:FCH18198CNQ;C=PL;O=Cisco;OU=TAC;CN=CP-8861-SEPB000B4BA0AEE"
    );
    assert_eq!(lsc.issuer(), capf.cert.subject());
    assert!(cn.starts_with("CAPF-"));
    let info = lsc.info();
    assert_eq!(
        (info.not_before, info.not_after),
        (now(), now().plus_s(1825 * WallTime::DAY_S))
    );
    assert_eq!(lsc.serial().len(), 16);
    assert_eq!(lsc.serial(), serial.as_slice());
    assert_eq!((info.ca, info.has_basic_constraints), (None, true));
    assert_eq!(
        info.key_usage,
        vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    );
    assert_eq!(
        info.ext_key_usage,
        vec![
            ExtKeyUsage::ServerAuth,
            ExtKeyUsage::ClientAuth,
            ExtKeyUsage::IpsecEndSystem
        ]
    );
    assert_eq!(info.sig_alg, CertSigAlg::Rsa(DigestAlg::Sha256));
    assert_eq!(lsc.public_key(), Some(&phone.public_key()));
    let anchors = [capf.cert.clone()];
    verify_chain(&lsc, &[], &anchors, now(), Backend::RustCrypto).unwrap();
    // Criticality and the SAN URI, read with x509-parser directly.
    let (_, x) = X509Certificate::from_der(lsc.der()).unwrap();
    let bc = x.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    assert!(x.key_usage().unwrap().unwrap().critical);
    let san = x.subject_alternative_name().unwrap().unwrap();
    assert_eq!(
        san.value.general_names,
        vec![GeneralName::URI("SEPB000B4BA0AEE")]
    );
}

#[test]
fn usecallmanager_template_and_ec_capf() {
    let capf = capf(KeyProfile::EcP256);
    let phone = KeyForge::new(5).key("lsc-tests/phone-rsa", KeyProfile::RSA1024);
    let mut t = LscTemplate::usecallmanager();
    t.validity_days = 1;
    let who = LscSubject {
        hw_serial: None,
        ..WHO
    };
    let lsc = issue_lsc(&t, &capf, &who, &phone.public_key(), &[1, 2, 3], now()).unwrap();
    assert_eq!(
        lsc.subject().to_cucm(),
        "CN=SEPB000B4BA0AEE;O=Cisco;OU=TAC;L=Krakow;ST=Malopolska;C=PL"
    );
    assert_eq!(lsc.info().sig_alg, CertSigAlg::Ecdsa(DigestAlg::Sha256));
    assert_eq!(lsc.info().not_after, now().plus_s(WallTime::DAY_S));
    lsc.check_signed_by(&capf.key.public_key(), Backend::Ring)
        .unwrap();
    // Without a hardware serial, SN takes the MAC [I].
    let cucm = LscTemplate::cucm().subject(capf.cert.subject(), &who);
    assert_eq!(
        cucm.get("serialNumber"),
        Some("PID:CP-8861 SN:B000B4BA0AEE")
    );
    for days in [0, 1826] {
        t.validity_days = days;
        let e = issue_lsc(&t, &capf, &who, &phone.public_key(), &[1], now()).unwrap_err();
        assert_eq!(e, LscError::Validity { days });
    }
}

#[test]
fn key_specs_spki_and_what_the_simulator_cannot_make() {
    for bits in KeySpec::RSA_BITS {
        assert_eq!(
            KeySpec::Rsa { bits }.profile(),
            Ok(KeyProfile::Rsa {
                bits: u32::from(bits)
            })
        );
    }
    assert_eq!(KeySpec::Ec(Curve::P256).profile(), Ok(KeyProfile::EcP256));
    for c in [Curve::P384, Curve::P521] {
        let e = KeySpec::Ec(c).profile().unwrap_err();
        assert!(matches!(e, KeyError::Unsupported { .. }));
        assert!(
            e.to_string().contains("unsupported by this simulator"),
            "{e}"
        );
    }
    assert!(matches!(
        KeySpec::Rsa { bits: 1536 }.profile(),
        Err(KeyError::Invalid { .. })
    ));
    assert!(matches!(
        KeySpec::Ec(Curve::Other(9)).profile(),
        Err(KeyError::Invalid { .. })
    ));
    let forge = KeyForge::new(5);
    for profile in [KeyProfile::RSA1024, KeyProfile::EcP256] {
        let public = forge.key("lsc-tests/spki", profile).public_key();
        let der = spki_der(&public).unwrap();
        assert_eq!(public_key_from_spki(&der), Ok(public.clone()));
        assert_eq!(KeySpec::of(&public).profile(), Ok(profile));
    }
    // A P-384 SubjectPublicKeyInfo (point bytes are not looked at).
    let mut p384 = hex::decode("3076301006072a8648ce3d020106052b81040022036200").unwrap();
    p384.push(4);
    p384.extend_from_slice(&[0; 96]);
    assert!(matches!(
        public_key_from_spki(&p384),
        Err(KeyError::Unsupported { .. })
    ));
    assert!(matches!(
        public_key_from_spki(&[0x30, 0x03, 1, 2]),
        Err(KeyError::Malformed(_))
    ));
    // A request with no KEY_TYPE is RSA (the real CUCM in the Jabber4Linux capture).
    let req = CapfMessage::new(Command::KeyGenReq, 1).with(Element::KeySize(2048));
    assert_eq!(KeySpec::from_request(&req), Ok(KeySpec::Rsa { bits: 2048 }));
}

#[test]
fn existing_certificate_proof_rsa_and_ec() {
    let forge = KeyForge::new(5);
    let cert_der = b"not really a certificate".to_vec();
    for profile in [KeyProfile::RSA1024, KeyProfile::EcP256] {
        let key = forge.key("lsc-tests/proof", profile);
        let proof = prove(&key, "SEP001122334455", &cert_der).unwrap();
        let msg = |signed: Vec<u8>| {
            CapfMessage::new(Command::AuthRes, 1)
                .with(Element::SignedData(signed))
                .with(Element::Sha2SignedData {
                    digest: SHA512_CODE,
                    signature: proof.sha512.clone().unwrap(),
                })
        };
        let public = key.public_key();
        let good = msg(proof.signed_data.clone());
        assert_eq!(
            check_proof(&public, "SEP001122334455", &cert_der, &good, true),
            Ok(())
        );
        assert_eq!(
            check_proof(&public, "SEP001122334456", &cert_der, &good, true),
            Err(ProofError::Sha1Mismatch)
        );
        if let PrivateKey::Rsa { key: k, .. } = &*key {
            // "Private-encrypt" of the raw SHA-1: type-1 padding, no DigestInfo.
            use rsa::traits::PublicKeyParts;
            let em = rsa::BigUint::from_bytes_be(&proof.signed_data)
                .modpow(k.e(), k.n())
                .to_bytes_be();
            let hash = DigestAlg::Sha1.hash(&auth_data("SEP001122334455", &cert_der));
            assert_eq!(em.len(), k.size() - 1, "leading 00 dropped by the integer");
            assert_eq!(&em[..2], &[1, 0xff]);
            assert_eq!(&em[em.len() - 21..], &[&[0][..], &hash].concat()[..]);
        }
    }
    let small = forge.key("lsc-tests/rsa512", KeyProfile::Rsa { bits: 512 });
    let proof = prove(&small, "SEP1", &cert_der).unwrap();
    assert_eq!(
        proof.sha512, None,
        "SHA-512 + padding does not fit 64 bytes"
    );
    let msg = CapfMessage::new(Command::AuthRes, 1).with(Element::SignedData(proof.signed_data));
    let public = small.public_key();
    assert_eq!(check_proof(&public, "SEP1", &cert_der, &msg, false), Ok(()));
    assert_eq!(
        check_proof(&public, "SEP1", &cert_der, &msg, true),
        Err(ProofError::MissingSha2)
    );
}

#[test]
fn capf_certificate_rule_from_14su2() {
    let v = |s: &str| s.parse::<CucmVersion>().unwrap();
    let good = capf(KeyProfile::RSA2048);
    for version in ["12.5", "14SU2", "15"] {
        assert_eq!(capf_cert_usable(&good.cert, v(version)), Ok(()));
    }
    let forge = KeyForge::new(5);
    let key = forge.key("lsc-tests/old-capf", KeyProfile::EcP256);
    let spec = |ca, key_usage| CertSpec {
        subject: DistinguishedName::new([("CN", "CAPF-0badcafe")]),
        serial: vec![9],
        not_before: now(),
        not_after: now().plus_s(WallTime::YEAR_S),
        ca,
        key_usage,
        ext_key_usage: vec![],
        san_dns: vec![],
        san_uri: vec![],
    };
    let leaf =
        Certificate::issue(&spec(None, vec![KeyUsage::DigitalSignature]), &key, None).unwrap();
    assert_eq!(
        capf_cert_usable(&leaf, v("14SU2")),
        Err(CapfCertProblem::NotCa)
    );
    assert_eq!(capf_cert_usable(&leaf, v("14SU1")), Ok(()));
    assert_eq!(capf_cert_usable(&leaf, v("12.5")), Ok(()));
    let no_kcs = spec(Some(Some(0)), vec![KeyUsage::DigitalSignature]);
    let no_kcs = Certificate::issue(&no_kcs, &key, None).unwrap();
    assert_eq!(
        capf_cert_usable(&no_kcs, v("15")),
        Err(CapfCertProblem::NoKeyCertSign)
    );
    let no_ds = Certificate::issue(
        &spec(Some(Some(0)), vec![KeyUsage::KeyCertSign]),
        &key,
        None,
    );
    assert_eq!(
        capf_cert_usable(&no_ds.unwrap(), v("15")),
        Err(CapfCertProblem::NoDigitalSignature)
    );
}
