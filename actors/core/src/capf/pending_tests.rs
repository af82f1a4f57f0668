//! Tests of pending CSRs, uploads, stale LSCs and their CLI renderings, with certificates
//! signed by a real [`OfflineCa`].

use super::pending::*;
use crate::capf::ca::{CaNames, OfflineCa};
use crate::capf::codes::Curve;
use crate::capf::keys::{spki_der, KeySpec};
use crate::pki::chain::verify_chain;
use crate::pki::{Backend, KeyForge, KeyProfile};
use crate::pki::{Certificate, PublicKey};
use crate::wall::WallTime;
use proptest::prelude::*;

const DEV: &str = "SEPB000B4BA0AEE";
const OTHER: &str = "SEP001122334455";

fn t(hours: i64) -> WallTime {
    WallTime::from_ymd(2025, 6, 1).unwrap().plus_s(hours * 3600)
}

fn key(label: &str) -> PublicKey {
    KeyForge::new(21)
        .key(&format!("pending-tests/{label}"), KeyProfile::EcP256)
        .public_key()
}

fn rsa_key(label: &str) -> PublicKey {
    KeyForge::new(21)
        .key(&format!("pending-tests/{label}"), KeyProfile::RSA2048)
        .public_key()
}

fn offline_ca() -> OfflineCa {
    OfflineCa::new(
        &KeyForge::new(21),
        "offline",
        &CaNames::default(),
        t(-24 * 365),
    )
    .unwrap()
}

/// The admin submits the request with `id` to the CA.
fn sign(ca: &mut OfflineCa, book: &CsrBook, id: u64, now: WallTime) -> Certificate {
    let csr = book.pending().find(|c| c.id == id).unwrap().clone();
    ca.sign(&csr, now).unwrap()
}

#[test]
fn a_request_is_listed_signed_uploaded_and_installed() {
    let mut ca = offline_ca();
    let mut book = CsrBook::new();
    let public = rsa_key("phone");
    let rec = book.record(DEV, &public, t(0)).unwrap();
    assert_eq!(
        rec,
        Recorded {
            id: 1,
            superseded: vec![],
            stale: None
        }
    );
    let csr = book.current(DEV).unwrap();
    assert_eq!(csr.key_spec, KeySpec::Rsa { bits: 2048 });
    assert_eq!(csr.requested_at, t(0));
    assert_eq!(csr.public_key().unwrap(), public);
    assert_eq!(
        book.render_csr_list(),
        "Pending CSRs: 1\n2025-06-01T00:00:00Z  SEPB000B4BA0AEE  RSA-2048  request 1\n"
    );

    let cert = sign(&mut ca, &book, 1, t(2));
    verify_chain(
        &cert,
        &ca.ca.intermediates(),
        [&ca.ca.root.cert],
        t(3),
        Backend::Ring,
    )
    .unwrap();
    assert_eq!(
        book.upload(DEV, &cert, t(3)),
        Ok(Uploaded::ReadyToInstall { request_id: 1 })
    );
    assert_eq!(book.ready(DEV), Some(&cert));
    assert_eq!(book.current(DEV), None);
    assert_eq!(book.render_csr_list(), "No pending CSRs\n");
    // Uploading it again is refused.
    assert_eq!(
        book.upload(DEV, &cert, t(4)),
        Err(PendingError::AlreadyUploaded {
            device: DEV.into(),
            request_id: 1
        })
    );
    assert_eq!(book.installed(DEV), Some(cert.clone()));
    assert_eq!(book.ready(DEV), None);
    assert_eq!(book.installed(DEV), None);
    assert!(book.stale().is_empty());
    // Nothing left for the device.
    assert_eq!(
        book.upload(DEV, &cert, t(5)).unwrap_err().to_string(),
        "no pending CSR for device SEPB000B4BA0AEE"
    );
}

#[test]
fn uploads_must_match_device_and_key() {
    let mut ca = offline_ca();
    let mut book = CsrBook::new();
    book.record(DEV, &key("dev"), t(0)).unwrap();
    book.record(OTHER, &key("other"), t(0)).unwrap();
    let for_other = sign(&mut ca, &book, 2, t(1));
    // The other device's certificate uploaded for DEV: its key matches no request of DEV.
    let err = book.upload(DEV, &for_other, t(1)).unwrap_err();
    assert_eq!(
        err,
        PendingError::KeyMismatch {
            device: DEV.into(),
            requests: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "the certificate's public key matches none of the 1 pending CSR(s) of SEPB000B4BA0AEE"
    );
    assert_eq!(
        book.upload("SEP999999999999", &for_other, t(1)),
        Err(PendingError::NoRequest {
            device: "SEP999999999999".into()
        })
    );
    // Nothing changed.
    assert_eq!(book.pending().count(), 2);
    assert_eq!(
        book.upload(OTHER, &for_other, t(1)),
        Ok(Uploaded::ReadyToInstall { request_id: 2 })
    );
}

#[test]
fn a_certificate_for_a_superseded_request_is_a_stale_lsc() {
    let mut ca = offline_ca();
    let mut book = CsrBook::new();
    book.record(DEV, &key("first"), t(0)).unwrap();
    let rec = book.record(DEV, &key("second"), t(1)).unwrap();
    assert_eq!(
        rec,
        Recorded {
            id: 2,
            superseded: vec![1],
            stale: None
        }
    );
    assert_eq!(book.current(DEV).map(|c| c.id), Some(2));
    assert_eq!(
        book.render_csr_list(),
        "Pending CSRs: 2\n\
         2025-06-01T00:00:00Z  SEPB000B4BA0AEE  EC-256  request 1  superseded by request 2\n\
         2025-06-01T01:00:00Z  SEPB000B4BA0AEE  EC-256  request 2\n"
    );
    // The admin had already submitted the first CSR; its certificate arrives late.
    let old = sign(&mut ca, &book, 1, t(2));
    assert_eq!(
        book.upload(DEV, &old, t(3)),
        Ok(Uploaded::Stale {
            request_id: 1,
            superseded_by: 2
        })
    );
    assert_eq!(book.ready(DEV), None);
    let stale = &book.stale()[0];
    assert_eq!(
        (stale.request_id, stale.superseded_by, stale.stale_since),
        (1, 2, t(3))
    );
    assert_eq!(stale.cert, old);
    assert_eq!(
        book.render_stale_list(),
        format!(
            "Stale LSCs: 1\n2025-06-01T03:00:00Z  SEPB000B4BA0AEE  serial {}  request 1 of 2025-06-01T00:00:00Z  superseded by request 2\n",
            old.serial_hex()
        )
    );
    // The current request still works.
    let new = sign(&mut ca, &book, 2, t(4));
    assert_eq!(
        book.upload(DEV, &new, t(4)),
        Ok(Uploaded::ReadyToInstall { request_id: 2 })
    );
    assert_eq!(book.installed(DEV), Some(new));
    // utils capf stale-lsc delete all
    assert_eq!(book.delete_all_stale(), 1);
    assert!(book.stale().is_empty());
    assert_eq!(render_stale_delete_all(1), "Deleted 1 stale LSC(s)\n");
    assert_eq!(book.delete_all_stale(), 0);
    assert_eq!(render_stale_delete_all(0), "No stale LSCs to delete\n");
    assert_eq!(book.render_stale_list(), "No stale LSCs\n");
}

#[test]
fn an_uploaded_certificate_not_yet_installed_goes_stale_on_a_new_request() {
    let mut ca = offline_ca();
    let mut book = CsrBook::new();
    book.record(DEV, &key("first"), t(0)).unwrap();
    book.record(OTHER, &key("other"), t(0)).unwrap();
    let cert = sign(&mut ca, &book, 1, t(1));
    book.upload(DEV, &cert, t(1)).unwrap();
    // The phone was reset and generated a new key before it installed the certificate.
    let rec = book.record(DEV, &key("second"), t(2)).unwrap();
    assert_eq!(rec.id, 3);
    assert!(rec.superseded.is_empty());
    let stale = rec.stale.unwrap();
    assert_eq!(
        (stale.request_id, stale.superseded_by, stale.stale_since),
        (1, 3, t(2))
    );
    assert_eq!(stale.cert, cert);
    assert_eq!(book.stale(), std::slice::from_ref(&stale));
    assert_eq!(book.ready(DEV), None);
    assert_eq!(book.installed(DEV), None);
    // The other device is untouched.
    assert_eq!(book.current(OTHER).map(|c| c.id), Some(2));
    assert_eq!(book.pending().count(), 2);
}

#[test]
fn spki_input_and_device_names_are_checked() {
    let mut book = CsrBook::new();
    assert!(matches!(
        book.record_spki(DEV, b"not a key", t(0)),
        Err(PendingError::Key(_))
    ));
    assert!(matches!(
        book.record_spki(DEV, &[], t(0)),
        Err(PendingError::Key(_))
    ));
    let spki = spki_der(&key("phone")).unwrap();
    let rec = book.record_spki(DEV, &spki, t(0)).unwrap();
    assert_eq!(book.current(DEV).unwrap().spki_der, spki);
    assert_eq!(
        book.current(DEV).unwrap().key_spec,
        KeySpec::Ec(Curve::P256)
    );
    assert_eq!(rec.id, 1);
    for bad in ["", "SEP 1", "SEP\n1"] {
        assert_eq!(
            book.record(bad, &key("phone"), t(0)),
            Err(PendingError::DeviceName(bad.into()))
        );
    }
    // Refused requests take no request number.
    assert_eq!(book.record(OTHER, &key("other"), t(1)).unwrap().id, 2);
}

#[test]
fn a_certificate_for_a_key_nobody_requested_is_refused() {
    // Signed by the right CA for the right device name, but for a key of another book.
    let mut ca = offline_ca();
    let mut book = CsrBook::new();
    book.record(DEV, &key("a"), t(0)).unwrap();
    let mut other = CsrBook::new();
    other.record(DEV, &key("b"), t(0)).unwrap();
    let cert = sign(&mut ca, &other, 1, t(1));
    assert!(matches!(
        book.upload(DEV, &cert, t(1)),
        Err(PendingError::KeyMismatch { requests: 1, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn garbage_spki_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                  name in "[ -~]{0,20}") {
        let mut book = CsrBook::new();
        let _ = book.record_spki(&name, &bytes, t(0));
    }
}
