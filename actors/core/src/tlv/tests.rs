//! Codec tests: the §1.6 arithmetic, the independent vector, round trips and corruption.

use super::build::{RecordSpec, TrustListBuilder};
use super::content::{ClusterCerts, CtlMode, CucmVersion, NodeCerts};
use super::parse::parse;
use super::tags::Role;
use super::verify::VerifyError;
use crate::digest::DigestAlg;
use crate::pki::cert::{CertSpec, Certificate, KeyUsage};
use crate::pki::dn::DistinguishedName;
use crate::pki::identity::{CertType, IdentityRequest, NodeNames};
use crate::pki::keys::{Backend, KeyForge, KeyProfile};
use crate::pki::Identity;
use crate::wall::WallTime;
use proptest::prelude::*;
use std::net::Ipv4Addr;

const VECTOR: &[u8] = include_bytes!("../../testdata/ITLFile.tlv");
const VECTOR_SIGNER_PEM: &str = include_str!("../../testdata/sast.pem");

fn now() -> WallTime {
    WallTime::from_ymd(2025, 3, 1).unwrap()
}

/// A certificate whose subject and issuer text are exactly 61 characters (62 with the NUL),
/// like Cisco's `show ctl` example, on a key of `profile`.
fn cert_62(seed_label: &str, profile: KeyProfile) -> Identity {
    let forge = KeyForge::new(62);
    let key = forge.key(seed_label, profile);
    // "CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL" is 61 characters.
    let subject = DistinguishedName::new([
        ("CN", "cucm-1051-a-pub"),
        ("OU", "TAC"),
        ("O", "Cisco"),
        ("L", "Krakow"),
        ("ST", "Malopolska"),
        ("C", "PL"),
    ]);
    assert_eq!(subject.to_cucm().len(), 61);
    let spec = CertSpec {
        subject,
        serial: forge.serial(seed_label, 16),
        not_before: now(),
        not_after: now().plus_s(5 * WallTime::YEAR_S),
        ca: Some(None),
        key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyCertSign],
        ext_key_usage: vec![],
        san_dns: vec![],
        san_uri: vec![],
    };
    let cert = Certificate::issue(&spec, &key, None).unwrap();
    Identity {
        cert_type: None,
        cert,
        key,
    }
}

#[test]
fn header_arithmetic_333_padded_to_336() {
    // Cisco's CUCM 10.5 tokenless CTL: SIGNERID 149 {62, 16, 62}, RSA-1024 (128-byte signature),
    // FILENAME 12, no tag 28 → 333 bytes of fields, padded to 336.
    let signer = cert_62("ctl-signer", KeyProfile::RSA1024);
    let mut b = TrustListBuilder::new("CTLFile.tlv", 1_425_675_367);
    b.records.push(RecordSpec::cert(
        &signer.cert,
        Role::Sast,
        "cucm-1051-a-pub",
        None,
    ));
    let bytes = b.sign(&signer.cert, &signer.key).unwrap();
    let list = parse(&bytes).unwrap();
    assert_eq!(list.header.header_length, 336);
    assert_eq!(list.header.padding, 3);
    assert_eq!(list.header.signature.as_ref().unwrap().len(), 128);
    let signer_id_len = list
        .header
        .tag_order
        .iter()
        .find(|(t, _)| *t == 3)
        .unwrap()
        .1;
    assert_eq!(signer_id_len, 149);
    assert_eq!(
        list.header
            .tag_order
            .iter()
            .find(|(t, _)| *t == 7)
            .unwrap()
            .1,
        15
    );
    assert_eq!(
        list.header
            .tag_order
            .iter()
            .find(|(t, _)| *t == 9)
            .unwrap()
            .1,
        8
    );
    // With tag 28 (5 bytes) the fields are 338 bytes, padded to 340 — so 10.5 had no tag 28.
    b.signer_version = Some((1, 1));
    let with_28 = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    assert_eq!(with_28.header.header_length, 340);
    assert_eq!(with_28.header.padding, 2);
}

#[test]
fn record_arithmetic_1156_and_blank_33() {
    let signer = cert_62("rec", KeyProfile::RSA1024);
    let rec = RecordSpec::cert(
        &signer.cert,
        Role::Sast,
        "cucm-1051-a-pub",
        Some(Ipv4Addr::new(10, 48, 47, 153)),
    );
    let bytes = rec.encode().unwrap();
    // 5 + Σ(3 + len) over DNS 16, subject 62, role 2, issuer 62, serial 16, key 140,
    // signature 128, certificate, IP 4.
    let cert_len = signer.cert.der().len();
    assert_eq!(
        bytes.len(),
        5 + (3 + 16)
            + (3 + 62)
            + (3 + 2)
            + (3 + 62)
            + (3 + 16)
            + (3 + 140)
            + (3 + 128)
            + (3 + cert_len)
            + (3 + 4)
    );
    // Cisco's record has a 694-byte certificate: 1156 bytes.
    assert_eq!(bytes.len() - cert_len + 694, 1156);
    let blank = RecordSpec::Blank {
        dns_name: "10.48.47.153".into(),
        role: Role::CcmTftp,
        ip: Some(Ipv4Addr::new(10, 48, 47, 153)),
    };
    assert_eq!(blank.encode().unwrap().len(), 33);
}

#[test]
fn independent_vector_parses_and_verifies() {
    let list = parse(VECTOR).unwrap();
    let h = &list.header;
    assert_eq!(h.version, (1, 2));
    assert_eq!(h.header_length, 404);
    assert_eq!(h.padding, 3);
    assert_eq!(
        h.signer_name.as_deref(),
        Some("CN=ITLRECOVERY_pub;OU=TAC;O=Lab")
    );
    assert_eq!(
        hex::encode(h.signer_serial.as_ref().unwrap()),
        "70caf64e090751b9df22f49f754fc5bb"
    );
    assert_eq!(h.digest(), Some(DigestAlg::Sha1));
    assert_eq!(h.signature_algorithm, Some(0));
    assert_eq!(h.modulus_index, Some(2));
    assert_eq!(h.filename.as_deref(), Some("ITLFile.tlv"));
    assert_eq!(h.timestamp, Some(1_700_000_000));
    assert_eq!(list.records.len(), 3);
    let lens: Vec<u16> = list.records.iter().map(|r| r.length).collect();
    assert_eq!(lens, [1412, 1380, 1380]);
    let roles: Vec<Role> = list.records.iter().map(|r| r.role.unwrap()).collect();
    assert_eq!(roles, [Role::Sast, Role::CcmTftp, Role::Sast]);
    assert_eq!(
        crate::digest::sha1_hex(list.records[0].certificate.as_ref().unwrap()),
        "5cc5ca63af723d566d76061425d59aecf442826c"
    );
    assert!(list
        .records
        .iter()
        .all(|r| r.ip == Some(Ipv4Addr::new(10, 0, 0, 1))));
    for backend in Backend::ALL {
        assert_eq!(list.verify_self(backend), Ok(0));
    }
    // The signer certificate shipped beside it verifies it too.
    let signer = Certificate::from_pem(VECTOR_SIGNER_PEM).unwrap();
    assert_eq!(
        list.verify_with(signer.public_key().unwrap(), Backend::Ring),
        Ok(())
    );
    assert_eq!(list.kind(), "itl");
}

#[test]
fn vector_with_a_flipped_signature_byte_fails() {
    let mut bytes = VECTOR.to_vec();
    // SIGNERID spans 10..102, SIGNATUREINFO 102..120, the signature value 123..379.
    bytes[200] ^= 0x01;
    let list = parse(&bytes).unwrap();
    assert_eq!(list.verify_self(Backend::Ring), Err(VerifyError::Mismatch));
}

fn cluster(version: &str, profile: KeyProfile) -> ClusterCerts {
    let forge = KeyForge::new(5);
    let mk = |host: &str, t: CertType| {
        let names = NodeNames::lab("c1", host);
        let mut req = IdentityRequest::new(&names, t, now());
        if t != CertType::ItlRecovery {
            req.profile = profile;
        }
        req.issue_self_signed(&forge).unwrap()
    };
    let node = |host: &str, last: u8| NodeCerts {
        hostname: host.to_string(),
        ip: Some(Ipv4Addr::new(10, 0, 0, last)),
        callmanager: mk(host, CertType::CallManager),
        tvs: mk(host, CertType::Tvs),
        runs_callmanager: true,
        runs_tftp: true,
    };
    ClusterCerts {
        version: version.parse::<CucmVersion>().unwrap(),
        nodes: vec![node("pub", 1), node("sub", 2)],
        itl_recovery: Some(mk("pub", CertType::ItlRecovery)),
        capf: Some(mk("pub", CertType::Capf)),
        ctl_provider: false,
    }
}

fn build_itl(c: &ClusterCerts, tftp: usize, digest: DigestAlg) -> Vec<u8> {
    let mut b = TrustListBuilder::new("ITLFile.tlv", now().0 as u32);
    b.digest = digest;
    b.records = c.itl_records(tftp);
    let signer = c.itl_signer(tftp).unwrap();
    b.sign(&signer.cert, &signer.key).unwrap()
}

#[test]
fn itl_signer_and_content_by_version() {
    let old = cluster("11.5", KeyProfile::RSA2048);
    let list = parse(&build_itl(&old, 1, DigestAlg::Sha1)).unwrap();
    assert_eq!(
        list.header.signer_name.as_deref(),
        Some(old.nodes[1].callmanager.cert.subject().to_cucm().as_str())
    );
    let roles: Vec<_> = list.records.iter().map(|r| r.role.unwrap()).collect();
    assert_eq!(
        roles,
        [
            Role::Sast,
            Role::Sast,
            Role::CcmTftp,
            Role::Tvs,
            Role::Tvs,
            Role::Capf
        ]
    );
    // The TFTP node's CallManager appears twice, with two roles.
    assert_eq!(list.records[1].certificate, list.records[2].certificate);
    assert_eq!(list.verify_self(Backend::Ring), Ok(1));

    let new = cluster("12.5", KeyProfile::RSA2048);
    let list = parse(&build_itl(&new, 0, DigestAlg::Sha256)).unwrap();
    assert!(list
        .header
        .signer_name
        .as_deref()
        .unwrap()
        .starts_with("CN=ITLRECOVERY_pub"));
    assert_eq!(list.verify_self(Backend::RustCrypto), Ok(0));
}

#[test]
fn ec_identities_in_records_and_ec_signed_extension() {
    let c = cluster("14", KeyProfile::EcP256);
    let list = parse(&build_itl(&c, 0, DigestAlg::Sha256)).unwrap();
    assert_eq!(list.records[1].public_key.as_ref().unwrap().len(), 65); // X9.62 point
    assert_eq!(list.verify_self(Backend::Ring), Ok(0));
    // An EC signer (the project's extension, tag 10 = 1): verifies, and tag 11 is absent.
    let ec = &c.nodes[0].callmanager;
    let mut b = TrustListBuilder::new("ITLFile.tlv", 1);
    b.records = vec![RecordSpec::cert(&ec.cert, Role::Sast, "pub", None)];
    let list = parse(&b.sign(&ec.cert, &ec.key).unwrap()).unwrap();
    assert_eq!(list.header.signature_algorithm, Some(1));
    assert_eq!(list.header.modulus_index, None);
    assert_eq!(list.header.header_length % 4, 0);
    assert_eq!(list.verify_self(Backend::Ring), Ok(0));
}

#[test]
fn ctl_modes_and_rollback_itl() {
    let c = cluster("10.5", KeyProfile::RSA2048);
    let signer = c.ctl_signer().unwrap();
    let mut b = TrustListBuilder::new("CTLFile.tlv", 7);
    b.records = c.ctl_records(CtlMode::Mixed);
    let mixed = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    assert_eq!(mixed.kind(), "ctl");
    assert!(
        mixed.records.iter().all(|r| r.role != Some(Role::Tvs)),
        "TVS is not in the CTL"
    );
    assert!(
        mixed.records.last().unwrap().signature.is_none(),
        "CAPF record without tag 8"
    );
    b.records = c.ctl_records(CtlMode::NonSecure);
    let non_secure = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    let blanks: Vec<_> = non_secure.records.iter().filter(|r| r.is_blank()).collect();
    assert_eq!(blanks.len(), 2);
    assert!(blanks
        .iter()
        .all(|r| r.length as usize == 5 + 3 + r.dns_name.as_ref().unwrap().len() + 1 + 5 + 7));
    assert_eq!(non_secure.verify_self(Backend::Ring), Ok(0));

    let mut b = TrustListBuilder::new("ITLFile.tlv", 7);
    b.records = c.rollback_itl_records(0);
    let signer = c.itl_signer(0).unwrap();
    let rollback = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
    assert_eq!(
        rollback
            .records
            .iter()
            .filter(|r| r.is_blank() && r.role == Some(Role::Tvs))
            .count(),
        2
    );
    assert_eq!(rollback.verify_self(Backend::Ring), Ok(0));
}

/// Writes a file the way other implementations do: `,`-separated names, header tags in another
/// order, tag 28, records without DNS name or IP and in usecallmanager's tag order.
fn foreign_style(signer: &Identity, others: &[Identity]) -> Vec<u8> {
    use super::wire::{cstr, put_tlv};
    let comma = |dn: &DistinguishedName| {
        dn.0.iter()
            .map(|(a, v)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let record = |id: &Identity, role: Role| {
        let mut body = vec![];
        put_tlv(&mut body, 3, &cstr(&comma(id.cert.subject())));
        put_tlv(&mut body, 5, &cstr(&comma(id.cert.issuer())));
        put_tlv(&mut body, 6, id.cert.serial());
        put_tlv(&mut body, 4, &role.code().to_be_bytes());
        put_tlv(&mut body, 7, &id.cert.public_key().unwrap().record_bytes());
        put_tlv(&mut body, 8, &id.cert.info().signature);
        put_tlv(&mut body, 9, id.cert.der());
        let mut out = vec![];
        put_tlv(&mut out, 1, &((body.len() + 5) as u16).to_be_bytes());
        out.extend(body);
        out
    };
    let mut records = record(signer, Role::Sast);
    for o in others {
        records.extend(record(o, Role::Tvs));
    }
    // Header: VERSION, HEADERLENGTH, SIGNERVERSION(28), FILENAME, TIMESTAMP, SIGNERID,
    // SIGNATUREINFO, SIGNATURE, padding.
    let mut signer_id = vec![];
    put_tlv(&mut signer_id, 4, &cstr(&comma(signer.cert.subject())));
    put_tlv(&mut signer_id, 5, signer.cert.serial());
    put_tlv(&mut signer_id, 6, &cstr(&comma(signer.cert.issuer())));
    let mut algo = vec![];
    put_tlv(&mut algo, 10, &[0]);
    put_tlv(&mut algo, 11, &[2]);
    let mut info = vec![];
    put_tlv(&mut info, 8, &[2]);
    put_tlv(&mut info, 9, &algo);
    let mut head = vec![];
    put_tlv(&mut head, 1, &[1, 2]);
    put_tlv(&mut head, 2, &[0, 0]);
    put_tlv(&mut head, 28, &[1, 1]);
    put_tlv(&mut head, 14, &cstr("ITLFile.tlv"));
    put_tlv(&mut head, 15, &1_700_000_000u32.to_be_bytes());
    put_tlv(&mut head, 3, &signer_id);
    put_tlv(&mut head, 7, &info);
    let sig_at = head.len();
    let total = head.len() + 3 + 256;
    let pad = (4 - total % 4) % 4;
    let header_length = (total + pad) as u16;
    head[8..10].copy_from_slice(&header_length.to_be_bytes());
    let mut unsigned = head.clone();
    unsigned.extend(std::iter::repeat_n(13u8, pad));
    unsigned.extend(&records);
    let sig = signer
        .key
        .sign(
            Backend::RustCrypto,
            DigestAlg::Sha256,
            &unsigned,
            crate::pki::keys::EcdsaEncoding::Fixed,
        )
        .unwrap();
    let mut out = head[..sig_at].to_vec();
    put_tlv(&mut out, 12, &sig);
    out.extend(std::iter::repeat_n(13u8, pad));
    out.extend(&records);
    out
}

#[test]
fn files_from_other_implementations_read_and_verify() {
    let c = cluster("12.5", KeyProfile::EcP256);
    let signer = c.itl_recovery.clone().unwrap();
    let bytes = foreign_style(&signer, &[c.nodes[0].tvs.clone()]);
    let list = parse(&bytes).unwrap();
    assert_eq!(list.header.signer_version, Some((1, 1)));
    assert!(list.header.signer_name.as_deref().unwrap().contains(','));
    assert!(list
        .records
        .iter()
        .all(|r| r.dns_name.is_none() && r.ip.is_none()));
    assert_eq!(list.records[1].public_key.as_ref().unwrap().len(), 65);
    assert_eq!(list.verify_self(Backend::Ring), Ok(0));
    assert_eq!(list.verify_self(Backend::RustCrypto), Ok(0));
}

#[test]
fn unknown_tags_are_reported_not_fatal() {
    let signer = cert_62("unk", KeyProfile::RSA1024);
    let mut b = TrustListBuilder::new("ITLFile.tlv", 1);
    b.records
        .push(RecordSpec::cert(&signer.cert, Role::Sast, "x", None));
    let mut bytes = b.sign(&signer.cert, &signer.key).unwrap();
    // Append a record carrying an unknown tag 99.
    bytes.extend_from_slice(&[1, 0, 2, 0, 12, 99, 0, 4, 1, 2, 3, 4]);
    let list = parse(&bytes).unwrap();
    assert_eq!(list.records[1].unknown[0].tag, 99);
    // The signature no longer covers the appended bytes.
    assert_eq!(list.verify_self(Backend::Ring), Err(VerifyError::Mismatch));
}

#[test]
fn truncations_and_bad_lengths_name_the_offset() {
    let err = parse(&VECTOR[..3]).unwrap_err();
    assert_eq!(err.offset, 0);
    let err = parse(&VECTOR[..500]).unwrap_err();
    assert!(err.offset >= 404, "{err}");
    let mut bad = VECTOR.to_vec();
    bad[8] = 0xff; // HEADERLENGTH far beyond the file
    let err = parse(&bad).unwrap_err();
    assert_eq!(err.offset, 5);
    assert!(err.to_string().contains("header length"), "{err}");
    assert!(parse(&[]).is_err());
}

/// A fixed pool of identities for property tests (RSA key generation is slow).
fn pool() -> Vec<Identity> {
    let c = cluster("12.5", KeyProfile::RSA2048);
    let e = cluster("14", KeyProfile::EcP256);
    vec![
        c.itl_recovery.clone().unwrap(),
        c.nodes[0].callmanager.clone(),
        c.nodes[1].tvs.clone(),
        c.capf.clone().unwrap(),
        e.nodes[0].callmanager.clone(),
        e.nodes[1].tvs.clone(),
        cert_62("pool", KeyProfile::RSA1024),
    ]
}

fn arb_role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Sast),
        Just(Role::Ccm),
        Just(Role::CcmTftp),
        Just(Role::Tftp),
        Just(Role::Capf),
        Just(Role::AppServer),
        Just(Role::Tvs),
        (100u16..200).prop_map(Role::Other),
    ]
}

fn arb_record(n: usize) -> impl Strategy<Value = (usize, Role, bool, bool, bool, Option<u8>)> {
    (
        0..n,
        arb_role(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(1u8..=3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn build_parse_verify_round_trip(
        signer_ix in 0usize..7,
        records in proptest::collection::vec(arb_record(7), 0..8),
        digest_code in 1u8..=3,
        tag28 in any::<bool>(),
        timestamp in any::<u32>(),
    ) {
        let pool = pool();
        let signer = &pool[signer_ix];
        let digest = DigestAlg::from_code(digest_code).unwrap();
        let mut b = TrustListBuilder::new("ITLFile.tlv", timestamp);
        b.digest = digest;
        b.signer_version = tag28.then_some((1, 1));
        b.records.push(RecordSpec::cert(&signer.cert, Role::Sast, "signer", None));
        for (ix, role, blank, dns, ip, hash) in &records {
            let ip = ip.then(|| Ipv4Addr::new(10, 1, 2, *ix as u8));
            b.records.push(if *blank {
                RecordSpec::Blank { dns_name: format!("n{ix}"), role: *role, ip }
            } else {
                RecordSpec::Cert {
                    cert: pool[*ix].cert.clone(), role: *role,
                    dns_name: dns.then(|| format!("host{ix}")), ip,
                    with_signature: *dns, cert_hash: hash.and_then(DigestAlg::from_code),
                }
            });
        }
        let bytes = b.sign(&signer.cert, &signer.key).unwrap();
        let list = parse(&bytes).unwrap();
        prop_assert_eq!(list.header.header_length % 4, 0);
        prop_assert_eq!(list.records.len(), b.records.len());
        prop_assert_eq!(list.header.digest(), Some(digest));
        prop_assert_eq!(list.header.timestamp, Some(timestamp));
        for (spec, rec) in b.records.iter().zip(&list.records) {
            prop_assert_eq!(rec.role, Some(spec.role()));
            prop_assert_eq!(rec.certificate.as_deref(), spec.certificate().map(|c| c.der()));
        }
        prop_assert!(list.verify_self(Backend::Ring).is_ok());
        prop_assert!(list.verify_self(Backend::RustCrypto).is_ok());
    }

    #[test]
    fn flipping_any_byte_fails_verify_or_parse(pos_frac in 0.0f64..1.0, bit in 0u8..8) {
        let bytes = signed_sample();
        let pos = ((bytes.len() as f64) * pos_frac) as usize % bytes.len();
        let mut bad = bytes.clone();
        bad[pos] ^= 1 << bit;
        match parse(&bad) {
            Err(_) => {}
            Ok(list) => prop_assert!(list.verify_self(Backend::Ring).is_err(), "byte {} bit {} still verifies", pos, bit),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(list) = parse(&bytes) {
            let _ = list.verify_self(Backend::Ring);
        }
    }
}

fn signed_sample() -> Vec<u8> {
    use std::sync::OnceLock;
    static SAMPLE: OnceLock<Vec<u8>> = OnceLock::new();
    SAMPLE
        .get_or_init(|| build_itl(&cluster("12.5", KeyProfile::RSA2048), 0, DigestAlg::Sha1))
        .clone()
}

#[test]
fn flipping_each_byte_of_the_vector_fails_verify_or_parse() {
    // Exhaustive over every byte of the independent vector (4,576 bytes, one bit each).
    for pos in 0..VECTOR.len() {
        let mut bad = VECTOR.to_vec();
        bad[pos] ^= 0x10;
        if let Ok(list) = parse(&bad) {
            assert!(
                list.verify_self(Backend::Ring).is_err(),
                "flipping byte {pos} still verifies"
            );
        }
    }
}

#[test]
fn forty_certificates_exceed_the_phone_limit() {
    let c = cluster("12.5", KeyProfile::RSA2048);
    let mut b = TrustListBuilder::new("ITLFile.tlv", 1);
    b.records = c.itl_records(0);
    let tvs = c.nodes[0].tvs.cert.clone();
    while b.records.len() < 40 {
        b.records
            .push(RecordSpec::cert(&tvs, Role::Tvs, "tvs", None));
    }
    let signer = c.itl_signer(0).unwrap();
    let bytes = b.sign(&signer.cert, &signer.key).unwrap();
    let list = parse(&bytes).unwrap();
    let certs = list
        .records
        .iter()
        .filter(|r| r.certificate.is_some())
        .count();
    assert_eq!(certs, 40);
    assert!(super::content::exceeds_phone_limit(bytes.len(), certs));
    assert!(
        bytes.len() > super::content::ITL_MAX_BYTES,
        "40 RSA-2048 records are over 64 KB: {}",
        bytes.len()
    );
}

/// CSCwf85275 [C S13]: with the CTL Provider active the ITLRecovery certificate appears in
/// the CTL — an extra SAST record before 12.0; from 12.0 it is the signer's record already.
#[test]
fn ctl_provider_puts_itl_recovery_in_the_ctl() {
    let sast_serials = |c: &ClusterCerts| -> Vec<Vec<u8>> {
        c.ctl_records(CtlMode::Mixed)
            .iter()
            .filter_map(|r| match r {
                RecordSpec::Cert {
                    cert,
                    role: Role::Sast,
                    ..
                } => Some(cert.serial().to_vec()),
                _ => None,
            })
            .collect()
    };
    for version in ["10.5", "11.5"] {
        let mut c = cluster(version, KeyProfile::RSA2048);
        let rec = c.itl_recovery.clone().unwrap();
        assert_eq!(sast_serials(&c).len(), 1, "{version}: the signer only");
        assert!(!sast_serials(&c).contains(&rec.cert.serial().to_vec()));
        c.ctl_provider = true;
        let with = sast_serials(&c);
        assert_eq!(with.len(), 2, "{version}: signer + ITLRecovery");
        assert!(with.contains(&rec.cert.serial().to_vec()));
        // Still a valid CTL, signed by the publisher's CallManager.
        let signer = c.ctl_signer().unwrap();
        let mut b = TrustListBuilder::new("CTLFile.tlv", 7);
        b.records = c.ctl_records(CtlMode::Mixed);
        let ctl = parse(&b.sign(&signer.cert, &signer.key).unwrap()).unwrap();
        assert_eq!(ctl.verify_self(Backend::Ring), Ok(0));
    }
    let mut c = cluster("12.5", KeyProfile::RSA2048);
    let before = sast_serials(&c);
    c.ctl_provider = true;
    assert_eq!(
        sast_serials(&c),
        before,
        "12.5: ITLRecovery signs, no second record"
    );
}
