//! Whole sessions that succeed, driven in memory between [`super::CapfSession`] and
//! [`super::CapfClient`]: install by auth string (RSA and EC), null string, existing MIC and
//! existing LSC; delete; troubleshoot; and the Jabber4Linux capture replayed against the server.

use super::client::ClientOutcome;
use super::device::Outcome;
use super::device::{CapfAuth, CertOperation, CertPrecedence, KeyOrder};
use super::keys::spki_der;
use super::server::CapfSession;
use super::test_world::*;
use super::wire::{CapfMessage, Element};
use super::{AuthType, CertKind, Command, Curve, KeyType};
use crate::pki::chain::verify_chain;
use crate::pki::{Backend, Certificate, KeyProfile};
use crate::sgn::CapfAuthMode;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Checks an install and returns the LSC: the phone holds it with its new key, it chains to
/// the CAPF, and the record moves to "Upgrade Success".
fn installed(w: &mut World, run: &Run, phone: &super::CapfClient) -> Certificate {
    assert_eq!(run.transcript, INSTALL);
    let Some(Outcome::Issued { cert }) = &run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(
        run.client,
        Some(ClientOutcome::Installed { cert: cert.clone() })
    );
    let lsc = phone.lsc.as_ref().unwrap();
    assert_eq!(&lsc.cert, cert);
    assert_eq!(cert.public_key(), Some(&lsc.key.public_key()));
    verify_chain(cert, &[], [&w.capf.cert], t0(), Backend::Ring).unwrap();
    assert_eq!(
        phone.flash.auth_mode, None,
        "flash cleared when the operation completes"
    );
    w.record().apply(run.outcome.as_ref().unwrap());
    assert_eq!(w.record().operation, CertOperation::None);
    assert_eq!(w.record().status.to_string(), "Upgrade Success");
    cert.clone()
}

#[test]
fn install_by_auth_string_rsa() {
    let mut w = World::new();
    w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::AuthString(AUTH.into()),
    );
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    let run = w.run(w.settings(), &mut phone, t0());
    let auth_req = run.sent(Command::AuthReq);
    assert_eq!(auth_req.version(), Some(3));
    assert_eq!(auth_req.auth_type(), Some(AuthType::None));
    assert_eq!(run.sent(Command::AuthRes).password(), Some(AUTH));
    assert_eq!(
        run.sent(Command::KeyGenReq).elements,
        vec![Element::KeySize(1024)]
    );
    assert_eq!(
        run.sent(Command::StoreCertReq).cert_type(),
        Some(CertKind::Lsc)
    );
    let lsc = installed(&mut w, &run, &phone);
    assert_eq!(lsc.public_key().unwrap().profile(), KeyProfile::RSA1024);
    assert_eq!(lsc.subject().common_name(), "CP-8861-SEPB000B4BA0AEE");
    assert_eq!(w.record().lscs_issued, 1);
}

#[test]
fn install_by_auth_string_ec_capfv3() {
    let mut w = World::new();
    let rec = w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::AuthString(AUTH.into()),
    );
    rec.capf_v3 = true;
    rec.key_order = KeyOrder::EcOnly;
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    let run = w.run(w.settings(), &mut phone, t0());
    let want = vec![Element::KeyType(KeyType::Ec), Element::Curve(Curve::P256)];
    assert_eq!(run.sent(Command::KeyGenReq).elements, want);
    let lsc = installed(&mut w, &run, &phone);
    assert_eq!(lsc.public_key().unwrap().profile(), KeyProfile::EcP256);
}

#[test]
fn install_by_null_string() {
    let mut w = World::new();
    w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    phone.settings.auth_string = None;
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(run.sent(Command::AuthRes).password(), Some(""));
    installed(&mut w, &run, &phone);
}

#[test]
fn install_by_existing_mic_rsa_proof() {
    let mut w = World::new();
    w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::ExistingCert(CertPrecedence::Mic),
    );
    let mut phone = w.phone(CapfAuthMode::ExistingMicFirst, Some(KeyProfile::RSA1024));
    let run = w.run(w.settings(), &mut phone, t0());
    let res = run.sent(Command::AuthRes);
    let mic = phone.settings.mic.as_ref().unwrap();
    assert_eq!(res.certificate(), Some((CertKind::Mic, mic.cert.der())));
    assert_eq!(
        res.signed_data().map(<[u8]>::len),
        Some(128),
        "RSA-1024 private-encrypt"
    );
    assert_eq!(
        res.sha2_signed_data().map(|(d, s)| (d, s.len())),
        Some((3, 128))
    );
    installed(&mut w, &run, &phone);
}

#[test]
fn upgrade_by_existing_lsc_ec_proof() {
    let mut w = World::new();
    let rec = w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    rec.capf_v3 = true;
    rec.key_order = KeyOrder::EcOnly;
    let mut phone = w.phone(CapfAuthMode::NullString, Some(KeyProfile::EcP256));
    let first = w.run(w.settings(), &mut phone, t0());
    let old = installed(&mut w, &first, &phone);
    // The admin schedules an upgrade authenticated by the LSC just issued.
    w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::ExistingCert(CertPrecedence::Lsc),
    );
    phone.config_mode = Some(CapfAuthMode::ExistingLscFirst);
    phone.new_session();
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(
        run.sent(Command::AuthRes).certificate(),
        Some((CertKind::Lsc, old.der()))
    );
    let new = installed(&mut w, &run, &phone);
    assert_ne!(new.serial(), old.serial());
    assert_ne!(
        new.public_key(),
        old.public_key(),
        "a fresh key per enrollment"
    );
    assert_eq!(w.record().lscs_issued, 2);
}

#[test]
fn delete_operation() {
    let mut w = World::new();
    w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    let first = w.run(w.settings(), &mut phone, t0());
    installed(&mut w, &first, &phone);
    w.schedule(CertOperation::Delete, CapfAuth::NullString);
    assert_eq!(w.record().status.to_string(), "Delete pending");
    phone.new_session();
    let run = w.run(w.settings(), &mut phone, t0());
    let want = [
        "S:AUTH_REQ",
        "P:AUTH_RES",
        "S:DELETE_CERT_REQ",
        "P:DELETE_CERT_RES",
        "S:END_SESSION 1",
    ];
    assert_eq!(run.transcript, want);
    assert_eq!(run.outcome, Some(Outcome::Deleted));
    assert_eq!(run.client, Some(ClientOutcome::Deleted));
    assert!(phone.lsc.is_none());
    w.record().apply(run.outcome.as_ref().unwrap());
    assert_eq!(w.record().status.to_string(), "Delete Success");
    assert!(w.record().lsc.is_none());
}

#[test]
fn troubleshoot_operation_fetches_lsc_and_mic() {
    let mut w = World::new();
    w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    let mut phone = w.phone(CapfAuthMode::NullString, Some(KeyProfile::EcP256));
    let first = w.run(w.settings(), &mut phone, t0());
    let lsc = installed(&mut w, &first, &phone);
    w.schedule(CertOperation::Troubleshoot, CapfAuth::NullString);
    phone.new_session();
    let run = w.run(w.settings(), &mut phone, t0());
    let want = [
        "S:AUTH_REQ",
        "P:AUTH_RES",
        "S:FETCH_CERT_REQ",
        "P:FETCH_CERT_RES",
        "S:END_SESSION 0",
    ];
    assert_eq!(run.transcript, want);
    let mic = phone.settings.mic.as_ref().unwrap().cert.clone();
    let certs = vec![(CertKind::Lsc, lsc), (CertKind::Mic, mic)];
    assert_eq!(run.outcome, Some(Outcome::Fetched { certs }));
    assert_eq!(run.client, Some(ClientOutcome::Fetched));
    w.record().apply(run.outcome.as_ref().unwrap());
    assert_eq!(w.record().status.to_string(), "Troubleshoot Success");
}

#[test]
fn jabber4linux_capture_against_the_server() {
    // The real CUCM of the capture: AUTH_REQ with VERSION only, KEY_GEN_REQ with KEY_SIZE only.
    let w = World::new();
    let mut rec = super::DeviceRecord::new("CSF123", "Jabber");
    rec.schedule(CertOperation::InstallUpgrade, None);
    let devices = BTreeMap::from([("CSF123".to_string(), rec)]);
    let mut settings = w.settings();
    settings.auth_req_auth_type = None;
    let (mut s, auth_req) = CapfSession::start(0x0102_a0b3, Arc::new(settings));
    let hex = |s: &str| hex::decode(s.replace(' ', "")).unwrap();
    let wire = |m: &CapfMessage| m.encode().unwrap();
    assert_eq!(wire(&auth_req), hex("55 01 0102a0b3 0004 07 0001 03"));
    let feed = |s: &mut CapfSession, bytes: Vec<u8>| {
        let step = s.handle(&CapfMessage::decode(&bytes).unwrap(), t0(), &devices);
        assert_eq!(step.send.len(), 1);
        (wire(&step.send[0]), step.outcome)
    };
    let req = hex("55 02 0102a0b3 0012 07 0001 02 0d 0007 435346313233 00 01 0001 01");
    let (key_gen_req, _) = feed(&mut s, req);
    assert_eq!(key_gen_req, hex("55 03 0102a0b3 0005 0a 0002 0800"));
    // Jabber's "CSR" is a SubjectPublicKeyInfo of an RSA-2048 key.
    let spki = spki_der(&w.capf.key.public_key()).unwrap();
    let res = CapfMessage::new(Command::KeyGenRes, 0x0102_a0b3).with(Element::PublicKey(spki));
    let (store, _) = feed(&mut s, wire(&res));
    assert_eq!(&store[..2], &[0x55, 0x09]);
    assert_eq!(&store[8..12], &hex("03 0001 01")[..]);
    let ack = hex("55 0a 0102a0b3 0004 01 0001 01");
    let (end, outcome) = feed(&mut s, ack);
    assert_eq!(end, hex("55 0f 0102a0b3 0004 01 0001 01"));
    let Some(Outcome::Issued { cert }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(cert.subject().common_name(), "CP-Jabber-CSF123");
}
