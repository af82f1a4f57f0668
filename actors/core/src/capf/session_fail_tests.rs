//! Whole sessions that end without an LSC (F15, F16, issued once), the power-failure rule of the
//! phone's flash, and protocol errors on either side.

use super::client::ClientOutcome;
use super::device::Outcome;
use super::device::{CapfAuth, CertOperation, CertPrecedence, KeyOrder, RecordError};
use super::server::{CapfSession, Step};
use super::test_world::*;
use super::wire::{CapfMessage, Element};
use super::{Command, Curve, Reason};
use crate::pki::KeyProfile;
use crate::sgn::{CapfAuthMode, SecurityMode};
use crate::wall::WallTime;
use std::sync::Arc;

fn install(w: &mut World, auth: CapfAuth) {
    w.schedule(CertOperation::InstallUpgrade, auth);
}

#[test]
fn wrong_auth_string_is_refused_and_flash_kept() {
    let mut w = World::new();
    install(&mut w, CapfAuth::AuthString(AUTH.into()));
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    phone.settings.auth_string = Some("654321".into());
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(run.transcript, refused(7));
    assert_eq!(
        run.failure(),
        (
            Reason::InvalidElement,
            "authentication string does not match"
        )
    );
    assert_eq!(
        run.client,
        Some(ClientOutcome::Refused {
            reason: Reason::InvalidElement
        })
    );
    assert_eq!(phone.flash.auth_mode, Some(CapfAuthMode::AuthString));
    assert!(phone.lsc.is_none());
    w.record().apply(run.outcome.as_ref().unwrap());
    assert_eq!(w.record().operation, CertOperation::InstallUpgrade);
    assert_eq!(w.record().status.to_string(), "Install/Upgrade failed");
}

#[test]
fn expired_operation_completes_by() {
    let mut w = World::new();
    install(&mut w, CapfAuth::AuthString(AUTH.into()));
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    let run = w.run(w.settings(), &mut phone, t0().plus_s(2 * WallTime::DAY_S));
    assert_eq!(run.transcript, refused(7));
    assert!(
        run.failure().1.starts_with("Operation Completes By"),
        "{:?}",
        run.failure()
    );
}

#[test]
fn unknown_device_and_no_pending_operation() {
    let w = World::new();
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(run.transcript, refused(9));
    assert_eq!(
        run.failure(),
        (Reason::UnknownDevice, "unknown device SEPB000B4BA0AEE")
    );
    assert_eq!(
        run.client,
        Some(ClientOutcome::Refused {
            reason: Reason::UnknownDevice
        })
    );

    let mut w = World::new();
    w.schedule(CertOperation::None, CapfAuth::NullString);
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(run.transcript, refused(0));
    assert_eq!(run.failure(), (Reason::NoAction, "no pending operation"));
    assert_eq!(run.client, Some(ClientOutcome::NothingToDo));
    assert_eq!(phone.flash.auth_mode, None);
}

#[test]
fn capfv3_ec_preferred_needs_the_enterprise_parameter() {
    let mut w = World::new();
    let rec = w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    rec.capf_v3 = true;
    rec.key_order = KeyOrder::EcPreferredRsaBackup;
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(run.transcript, refused(7));
    assert!(run.failure().1.contains("(F16)"), "{}", run.failure().1);
    assert!(phone.lsc.is_none());
    // With "Endpoint Advanced Encryption Algorithms Support": an EC LSC.
    let mut settings = w.settings();
    settings.advanced_algorithms = true;
    let run = w.run(settings, &mut w.phone(CapfAuthMode::NullString, None), t0());
    assert_eq!(run.transcript, INSTALL);
    assert_eq!(run.sent(Command::KeyGenReq).curve(), Some(Curve::P256));
    // A non-CAPFv3 endpoint always gets RSA.
    w.record().capf_v3 = false;
    let run = w.run(
        w.settings(),
        &mut w.phone(CapfAuthMode::NullString, None),
        t0(),
    );
    assert_eq!(
        run.sent(Command::KeyGenReq).elements,
        vec![Element::KeySize(1024)]
    );
}

#[test]
fn second_request_with_issued_once() {
    for (issue_once, second) in [(true, 7), (false, 0)] {
        let mut w = World::new();
        install(&mut w, CapfAuth::NullString);
        let mut settings = w.settings();
        settings.issue_once = issue_once;
        let mut phone = w.phone(CapfAuthMode::NullString, None);
        let run = w.run(settings.clone(), &mut phone, t0());
        assert_eq!(run.transcript, INSTALL);
        w.record().apply(run.outcome.as_ref().unwrap());
        let run = w.run(settings, &mut w.phone(CapfAuthMode::NullString, None), t0());
        assert_eq!(run.transcript, refused(second));
        if issue_once {
            assert_eq!(run.failure().1, "LSC already issued to SEPB000B4BA0AEE");
        }
    }
}

#[test]
fn existing_certificate_failures() {
    // No certificate on the phone.
    let mut w = World::new();
    install(&mut w, CapfAuth::ExistingCert(CertPrecedence::Mic));
    let run = w.run(
        w.settings(),
        &mut w.phone(CapfAuthMode::ExistingMicFirst, None),
        t0(),
    );
    assert_eq!(run.transcript, refused(7));
    assert!(run.failure().1.contains("sent no certificate"));
    // A MIC whose roots are not in CAPF-trust.
    let mut settings = w.settings();
    settings.capf_trust.truncate(1);
    let mut phone = w.phone(CapfAuthMode::ExistingMicFirst, Some(KeyProfile::EcP256));
    let run = w.run(settings, &mut phone, t0());
    assert!(
        run.failure().1.starts_with("certificate not trusted"),
        "{}",
        run.failure().1
    );
    // A tampered proof.
    phone.new_session();
    let run = w.run_with(w.settings(), &mut phone, t0(), |m| {
        for e in &mut m.elements {
            if let Element::SignedData(sig) = e {
                sig[10] ^= 1;
            }
        }
    });
    assert_eq!(
        run.failure().1,
        "SIGNED_DATA does not verify under the certificate's key"
    );
    // An LSC from another cluster's CAPF, which is not in CAPF-trust: "invalid LSC" (F14/F15).
    let mut other = World::new_with_seed(78);
    other.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    let mut phone = other.phone(CapfAuthMode::NullString, None);
    assert_eq!(
        other.run(other.settings(), &mut phone, t0()).transcript,
        INSTALL
    );
    w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::ExistingCert(CertPrecedence::Lsc),
    );
    phone.config_mode = Some(CapfAuthMode::ExistingLscFirst);
    phone.new_session();
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(
        run.sent(Command::AuthRes).certificate().map(|c| c.0),
        Some(super::CertKind::Lsc)
    );
    assert!(
        run.failure().1.starts_with("invalid LSC"),
        "{}",
        run.failure().1
    );
}

#[test]
fn auth_string_on_a_secure_profile_and_unsupported_keys() {
    let mut w = World::new();
    install(&mut w, CapfAuth::AuthString(AUTH.into()));
    w.record().security_mode = SecurityMode::Encrypted;
    let run = w.run(
        w.settings(),
        &mut w.phone(CapfAuthMode::AuthString, None),
        t0(),
    );
    assert_eq!(run.transcript, refused(7));
    assert!(run.failure().1.contains("authenticated or encrypted"));
    // EC 384 exists in CUCM but not in this simulator.
    let rec = w.schedule(CertOperation::InstallUpgrade, CapfAuth::NullString);
    rec.security_mode = SecurityMode::NonSecure;
    rec.capf_v3 = true;
    rec.key_order = KeyOrder::EcOnly;
    rec.ec_curve = Curve::P384;
    assert!(matches!(w.record().validate(), Err(RecordError::Key(_))));
    let run = w.run(
        w.settings(),
        &mut w.phone(CapfAuthMode::NullString, None),
        t0(),
    );
    assert_eq!(run.transcript, refused(7));
    assert!(run.failure().1.contains("unsupported by this simulator"));
    w.record().auth = CapfAuth::AuthString("12a".into());
    assert!(matches!(
        w.record().validate(),
        Err(RecordError::AuthString(_))
    ));
}

#[test]
fn power_failure_uses_the_auth_mode_in_flash() {
    let mut w = World::new();
    install(&mut w, CapfAuth::AuthString(AUTH.into()));
    // The session was interrupted: flash holds the mode, the reboot loaded no config file.
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    phone.config_mode = None;
    phone.flash.auth_mode = Some(CapfAuthMode::AuthString);
    assert_eq!(phone.auth_mode(), CapfAuthMode::AuthString);
    assert_eq!(w.run(w.settings(), &mut phone, t0()).transcript, INSTALL);
    assert_eq!(phone.flash.auth_mode, None);
    // Neither flash nor a config: no string is sent, and CAPF refuses.
    let mut phone = w.phone(CapfAuthMode::AuthString, None);
    phone.config_mode = None;
    w.schedule(
        CertOperation::InstallUpgrade,
        CapfAuth::AuthString(AUTH.into()),
    );
    let run = w.run(w.settings(), &mut phone, t0());
    assert_eq!(
        run.failure().1,
        "no authentication string entered on the phone"
    );
}

#[test]
fn protocol_errors_end_the_session() {
    let w = World::new();
    let settings = Arc::new(w.settings());
    let (mut s, _) = CapfSession::start(5, settings.clone());
    let wrong = CapfMessage::new(Command::KeyGenRes, 5);
    let step = s.handle(&wrong, t0(), &w.devices);
    let Some(Outcome::Failed { reason, text }) = &step.outcome else {
        panic!("{step:?}")
    };
    assert_eq!(
        (*reason, text.as_str()),
        (
            Reason::InvalidElement,
            "unexpected KEY_GEN_RES while waiting for AUTH_RES"
        )
    );
    assert_eq!(step.send[0].reason(), Some(Reason::InvalidElement));
    assert_eq!(
        s.handle(&wrong, t0(), &w.devices),
        Step::default(),
        "ignored once done"
    );
    let (mut s, _) = CapfSession::start(6, settings.clone());
    let step = s.handle(&CapfMessage::new(Command::AuthRes, 7), t0(), &w.devices);
    assert!(
        matches!(&step.outcome, Some(Outcome::Failed { text, .. }) if text == "session id 7 is not 6")
    );
    let (mut s, _) = CapfSession::start(8, settings);
    assert_eq!(s.expecting(), Some(Command::AuthRes));
    let step = s.abort("key generation timed out");
    assert_eq!(step.send[0].command, Command::EndSession);
    assert!(s.is_done());
    // The phone refuses a certificate that is not for the key it generated (here another
    // issuer's: not chain-checked, since the phone cannot know an external CA's chain).
    let mut phone = w.phone(CapfAuthMode::NullString, None);
    phone.handle(&CapfMessage::new(Command::AuthReq, 9), t0());
    let gen = CapfMessage::new(Command::KeyGenReq, 9).with(Element::KeySize(1024));
    assert!(phone.handle(&gen, t0()).key_gen.is_some());
    let mic = w
        .mfg
        .issue_mic(&w.forge, "8861", "b000b4ba0aee", KeyProfile::EcP256, t0())
        .unwrap();
    let store = CapfMessage::new(Command::StoreCertReq, 9).with(Element::Certificate {
        kind: super::CertKind::Lsc,
        der: mic.cert.der().to_vec(),
    });
    let step = phone.handle(&store, t0());
    assert_eq!(step.send[0].reason(), Some(Reason::InvalidElement));
    assert_eq!(
        step.note.as_deref(),
        Some("LSC does not carry the key generated for it")
    );
    assert!(phone.lsc.is_none());
}
