//! Wire tests: the captured forms of reference §3.2 (Jabber4Linux [OSS S4], usecallmanager
//! [OSS S2]), round trips (proptest), and truncated or oversized length fields.

use super::codes::*;
use super::wire::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn round_trip_exact(bytes: &[u8]) -> CapfMessage {
    let msg = CapfMessage::decode(bytes).unwrap();
    assert_eq!(msg.encode().unwrap(), bytes, "{msg:?}");
    msg
}

#[test]
fn certificate_element_matches_the_capture() {
    // STORE_CERT_REQ of the Jabber4Linux capture: length 03df = CERT_TYPE (4) + 3 + 984;
    // {04}[03 D8] {01}[03 D5] 00 01 <DER of 979 bytes>.
    let der: Vec<u8> = (0..979u32).map(|i| (i % 251) as u8).collect();
    let mut bytes = hex("55 09 00000007 03df  03 0001 01  04 03d8 01 03d5 00 01");
    bytes.extend_from_slice(&der);
    let msg = round_trip_exact(&bytes);
    assert_eq!(msg.command, Command::StoreCertReq);
    assert_eq!(msg.session, 7);
    assert_eq!(msg.cert_type(), Some(CertKind::Lsc));
    assert_eq!(msg.certificate(), Some((CertKind::Lsc, der.as_slice())));
}

#[test]
fn jabber4linux_sequence_decodes_and_encodes_byte_exact() {
    // Opcodes 01, 02, 03, 04, 09, 0a, 0f as captured; session 0x0102a0b3 is ours.
    let key_gen_res = hex("55 04 0102a0b3 0011 09 000e 300c300a06032a0304050003 0100");
    let msgs = [
        hex("55 01 0102a0b3 0004 07 0001 03"),
        hex("55 02 0102a0b3 0012 07 0001 02 0d 0007 435346313233 00 01 0001 01"),
        hex("55 03 0102a0b3 0005 0a 0002 0800"),
        key_gen_res,
        hex("55 0a 0102a0b3 0004 01 0001 01"),
        hex("55 0f 0102a0b3 0004 01 0001 01"),
    ];
    let decoded: Vec<_> = msgs.iter().map(|m| round_trip_exact(m)).collect();
    let opcodes: Vec<u8> = decoded.iter().map(|m| m.command.code()).collect();
    assert_eq!(opcodes, [0x01, 0x02, 0x03, 0x04, 0x0a, 0x0f]);
    assert_eq!(decoded[0].version(), Some(3));
    assert_eq!(decoded[1].device_name(), Some("CSF123"));
    assert_eq!(decoded[1].version(), Some(2));
    assert_eq!(decoded[1].reason(), Some(Reason::Success));
    assert_eq!(decoded[2].key_size(), Some(2048));
    assert_eq!(decoded[2].key_type(), None);
    assert_eq!(decoded[5].reason(), Some(Reason::Success));
    // A declined request: END_SESSION with 7 (already issued) or 9 (unknown device).
    let declined = round_trip_exact(&hex("55 0f 0102a0b3 0004 01 0001 09"));
    assert_eq!(declined.reason(), Some(Reason::UnknownDevice));
}

#[test]
fn key_size_and_sha2_signed_data_forms() {
    let msg = CapfMessage::new(Command::KeyGenReq, 1)
        .with(Element::KeyType(KeyType::Rsa))
        .with(Element::KeySize(2048));
    let bytes = msg.encode().unwrap();
    assert_eq!(&bytes[8..], &hex("11 0001 00 0a 0002 0800")[..]);
    let sha2 = CapfMessage::new(Command::AuthRes, 1).with(Element::Sha2SignedData {
        digest: 3,
        signature: vec![0xaa, 0xbb],
    });
    assert_eq!(
        &sha2.encode().unwrap()[8..],
        &hex("14 0005 03 0002 aabb")[..]
    );
    let pw = CapfMessage::new(Command::AuthRes, 1).with(Element::Password(String::new()));
    assert_eq!(&pw.encode().unwrap()[8..], &hex("0b 0001 00")[..]);
}

#[test]
fn unknown_tags_are_kept_in_order() {
    let bytes = hex("55 02 00000001 000f 0e 0002 abcd 01 0001 01 f0 0003 010203");
    let msg = round_trip_exact(&bytes);
    assert_eq!(
        msg.elements,
        vec![
            Element::Unknown {
                tag: 14,
                value: vec![0xab, 0xcd]
            },
            Element::Reason(Reason::Success),
            Element::Unknown {
                tag: 0xf0,
                value: vec![1, 2, 3]
            },
        ]
    );
}

fn err(bytes: &[u8]) -> DecodeError {
    CapfMessage::decode(bytes).unwrap_err()
}

#[test]
fn truncated_and_oversized_lengths_name_their_offset() {
    let e = err(&hex("55 01 0000"));
    assert_eq!(
        (e.offset, e.kind),
        (4, DecodeErrorKind::ShortHeader { have: 4 })
    );
    assert_eq!(
        err(&hex("56 01 00000001 0000")).kind,
        DecodeErrorKind::ProtocolId { found: 0x56 }
    );
    let e = err(&hex("55 18 00000001 0000"));
    assert_eq!(
        (e.offset, e.kind),
        (1, DecodeErrorKind::UnknownCommand { code: 24 })
    );
    // Body length 0x0100 but 4 bytes follow.
    let e = err(&hex("55 01 00000001 0100 07 0001 03"));
    let want = DecodeErrorKind::BodyTruncated {
        declared: 256,
        available: 4,
    };
    assert_eq!((e.offset, e.kind), (6, want));
    // Body shorter than the bytes present.
    let e = err(&hex("55 01 00000001 0004 07 0001 03 ff"));
    assert_eq!(
        (e.offset, e.kind),
        (12, DecodeErrorKind::TrailingBytes { count: 1 })
    );
    // Element length 0xffff inside a 4-byte body.
    let e = err(&hex("55 01 00000001 0004 07 ffff 03"));
    assert_eq!(e.offset, 9);
    assert!(matches!(
        e.kind,
        DecodeErrorKind::ElementOverrun {
            tag: 7,
            declared: 65535,
            available: 1,
            ..
        }
    ));
    // Two bytes of an element header.
    let e = err(&hex("55 01 00000001 0006 07 0001 03 07 00"));
    assert_eq!(
        (e.offset, e.kind),
        (12, DecodeErrorKind::ElementHeader { available: 2 })
    );
    // Fixed sizes, strings, the certificate framing.
    let e = err(&hex("55 01 00000001 0005 07 0002 0303"));
    assert_eq!(e.offset, 11);
    assert!(matches!(
        e.kind,
        DecodeErrorKind::ElementLength {
            len: 2,
            expected: 1,
            ..
        }
    ));
    assert_eq!(err(&hex("55 02 00000001 0005 0d 0002 4142")).offset, 13);
    assert_eq!(err(&hex("55 02 00000001 0007 0d 0004 41004200")).offset, 12);
    let e = err(&hex("55 09 00000001 0008 04 0005 01 0003 00 01"));
    assert_eq!(e.offset, 12, "{e}");
    assert_eq!(
        err(&hex("55 09 00000001 0008 04 0005 02 0002 00 01")).offset,
        11
    );
    assert_eq!(
        err(&hex("55 09 00000001 0008 04 0005 01 0002 05 01")).offset,
        14
    );
    assert!(err(&hex("55 01 0000")).to_string().starts_with("byte 4: "));
}

#[test]
fn streams_are_cut_into_frames() {
    let a = CapfMessage::new(Command::EndSession, 5).with(Element::Reason(Reason::Success));
    let mut stream = a.encode().unwrap();
    stream.extend_from_slice(&[0x55, 0x01, 0, 0]);
    assert_eq!(frame_len(&stream[..3]), Ok(None));
    assert_eq!(frame_len(&stream), Ok(Some(12)));
    let (msg, used) = CapfMessage::decode_prefix(&stream).unwrap().unwrap();
    assert_eq!((msg, used), (a, 12));
    assert_eq!(CapfMessage::decode_prefix(&stream[12..]), Ok(None));
    assert!(frame_len(&[0x16, 3, 3]).is_err());
}

#[test]
fn encode_refuses_what_cannot_be_written() {
    let nul = CapfMessage::new(Command::AuthRes, 1).with(Element::DeviceName("a\0b".into()));
    assert!(matches!(nul.encode(), Err(EncodeError::InteriorNul { .. })));
    let big = CapfMessage::new(Command::AuthRes, 1).with(Element::SignedData(vec![0; 70_000]));
    assert!(matches!(
        big.encode(),
        Err(EncodeError::ElementTooLong { .. })
    ));
    let cert = CapfMessage::new(Command::StoreCertReq, 1).with(Element::Certificate {
        kind: CertKind::Lsc,
        der: vec![0; 65_534],
    });
    assert!(matches!(
        cert.encode(),
        Err(EncodeError::ElementTooLong { .. })
    ));
    let many = (0..3).fold(CapfMessage::new(Command::AuthRes, 1), |m, _| {
        m.with(Element::SignedData(vec![0; 30_000]))
    });
    assert!(matches!(
        many.encode(),
        Err(EncodeError::BodyTooLong { .. })
    ));
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn element() -> impl Strategy<Value = Element> {
    let text = "[A-Za-z0-9 ._-]{0,20}";
    prop_oneof![
        any::<u8>().prop_map(|c| Element::Reason(Reason::from_code(c))),
        bytes(16).prop_map(Element::ReasonInfo),
        any::<u8>().prop_map(|c| Element::CertType(CertKind::from_code(c))),
        (any::<u8>(), bytes(300)).prop_map(|(k, der)| Element::Certificate {
            kind: CertKind::from_code(k),
            der
        }),
        bytes(16).prop_map(Element::CertificateId),
        bytes(64).prop_map(Element::SignedData),
        any::<u8>().prop_map(Element::Version),
        any::<u8>().prop_map(|c| Element::AuthType(AuthType::from_code(c))),
        bytes(100).prop_map(Element::PublicKey),
        any::<u16>().prop_map(Element::KeySize),
        text.prop_map(Element::Password),
        bytes(4).prop_map(Element::RetryDelay),
        text.prop_map(Element::DeviceName),
        bytes(64).prop_map(Element::SudiData),
        any::<u8>().prop_map(|c| Element::KeyType(KeyType::from_code(c))),
        any::<u8>().prop_map(|c| Element::Curve(Curve::from_code(c))),
        bytes(4).prop_map(Element::DigestType),
        (any::<u8>(), bytes(64))
            .prop_map(|(digest, signature)| Element::Sha2SignedData { digest, signature }),
        (
            any::<u8>().prop_filter("unassigned", |t| !tag::is_known(*t)),
            bytes(16)
        )
            .prop_map(|(tag, value)| Element::Unknown { tag, value }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(
        command in 1u8..=23,
        session in any::<u32>(),
        elements in prop::collection::vec(element(), 0..12),
    ) {
        let msg = CapfMessage {
            command: Command::from_code(command).unwrap(),
            session,
            elements,
        };
        let bytes = msg.encode().unwrap();
        prop_assert_eq!(CapfMessage::decode(&bytes), Ok(msg.clone()));
        prop_assert_eq!(CapfMessage::decode_prefix(&bytes), Ok(Some((msg, bytes.len()))));
        for cut in 0..bytes.len() {
            prop_assert!(CapfMessage::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn decode_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(msg) = CapfMessage::decode(&data) {
            prop_assert_eq!(msg.encode().unwrap(), data);
        }
    }
}
