//! Round trips of every frame kind built from generated letters, observations, counters and
//! cost histograms; refusals of the messages that never travel; garbage and truncated frames.

use super::*;
use crate::lp::StepDelta;
use crate::steps::{Cause, Mail};
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::trace::Validity;
use cucmsim_core::machine::{Addr, Event, Input, Kind, Msg, Operator, Refusal, ServiceAction};
use cucmsim_core::phone::{FileKind, TrustError, TrustPath};
use cucmsim_core::tlv::verify::VerifyError;
use cucmsim_core::{DigestAlg, WallTime};
use proptest::collection::vec;
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// The number of travelling message variants [`msg`] builds.
const TRAVELLING: u8 = 26;

/// What a generated message or event is built from.
#[derive(Clone, Debug)]
struct Seed {
    n: u32,
    m: u64,
    flag: bool,
    text: String,
    a: Vec<u8>,
    b: Option<Vec<u8>>,
}

fn seed() -> impl Strategy<Value = Seed> {
    (
        any::<u32>(),
        any::<u64>(),
        any::<bool>(),
        "\\PC{0,12}",
        vec(any::<u8>(), 0..48),
        proptest::option::of(vec(any::<u8>(), 0..48)),
    )
        .prop_map(|(n, m, flag, text, a, b)| Seed {
            n,
            m,
            flag,
            text,
            a,
            b,
        })
}

/// Travelling message number `i` (0..TRAVELLING): DHCP, TFTP, TVS, registration.
fn msg(i: u8, s: &Seed) -> Msg {
    let (phone, session) = (s.n, s.m);
    let arc = || Arc::<[u8]>::from(&s.a[..]);
    let oarc = || s.b.as_deref().map(Arc::<[u8]>::from);
    let text = || s.text.clone();
    match i {
        0 => Msg::DhcpRequest { phone },
        1 => Msg::DhcpAck {
            option150: vec![text(), "tftp2".into()],
        },
        2 => Msg::TftpGet {
            phone,
            file: text(),
        },
        3 => Msg::TftpReply {
            file: text(),
            bytes: oarc(),
        },
        4 => Msg::TvsTls {
            phone,
            session,
            bytes: s.a.clone(),
        },
        5 => Msg::TvsPlain {
            phone,
            session,
            client_cert: oarc(),
            request: s.a.clone(),
        },
        6 => Msg::TvsPlainReply {
            session,
            server_cert: arc(),
            reply: s.a.clone(),
        },
        7 => Msg::TvsAbort {
            session,
            reason: text(),
        },
        8 => Msg::Register {
            phone,
            device: text(),
            secure_cert: oarc(),
        },
        9 => Msg::RegisterAck {
            cluster: text(),
            server_cert: oarc(),
        },
        10 => Msg::RegisterAbort { phone },
        11 => Msg::RegisterReject { reason: text() },
        12 => Msg::Keepalive {
            phone,
            seq: s.n ^ 7,
        },
        13 => Msg::KeepaliveAck { seq: phone },
        14 => Msg::Reset,
        15 => Msg::PowerOff,
        _ => session_msg(i, s),
    }
}

/// Travelling message number `i` (16..TRAVELLING): CAPF, HTTPS, the harness.
fn session_msg(i: u8, s: &Seed) -> Msg {
    let (phone, session, ipv6) = (s.n, s.m, s.flag);
    let arc = || Arc::<[u8]>::from(&s.a[..]);
    let oarc = || s.b.as_deref().map(Arc::<[u8]>::from);
    let text = || s.text.clone();
    match i {
        16 => Msg::CapfTls {
            phone,
            session,
            ipv6,
            bytes: s.a.clone(),
        },
        17 => Msg::CapfPlain {
            phone,
            session,
            ipv6,
            server_cert: oarc(),
            bytes: s.a.clone(),
        },
        18 => Msg::CapfAbort {
            session,
            reason: text(),
        },
        19 => Msg::CapfClose { phone, session },
        20 => Msg::CapfKeepalive { session },
        21 => Msg::EraseTrustLists,
        22 => Msg::HttpsOpen {
            server: text(),
            cert: arc(),
        },
        23 => Msg::TftpHttpsOpen {
            tftp: text(),
            plain_fallback: ipv6,
        },
        24 => Msg::TftpHttps {
            phone,
            session,
            bytes: s.a.clone(),
        },
        _ => Msg::TftpHttpsReply {
            session,
            bytes: s.a.clone(),
            server_cert: oarc(),
        },
    }
}

fn letter() -> impl Strategy<Value = Letter> {
    (
        0..TRAVELLING + 2,
        seed(),
        any::<(u64, u64, u64, u32, u32)>(),
    )
        .prop_map(|(i, s, (due_ms, src, seq, slot, cause))| {
            let input = match i {
                i if i < TRAVELLING => Input::Msg(msg(i, &s)),
                i if i == TRAVELLING => Input::Start,
                _ => Input::Timer(s.m),
            };
            Letter {
                due_ms,
                src,
                seq,
                slot,
                mail: Mail {
                    input,
                    cause: Cause(cause),
                },
            }
        })
}

fn file(i: u32) -> FileKind {
    [FileKind::Ctl, FileKind::Itl, FileKind::Config][i as usize % 3]
}

fn path(i: u32) -> TrustPath {
    match i % 6 {
        0 => TrustPath::FirstUse,
        1 => TrustPath::RollbackItl,
        2 => TrustPath::Ctl,
        3 => TrustPath::Itl,
        4 => TrustPath::Tvs { cached: false },
        _ => TrustPath::Tvs { cached: true },
    }
}

fn verify_error(i: u32, s: &Seed) -> VerifyError {
    match i % 8 {
        0 => VerifyError::NoSignature,
        1 => VerifyError::NoSignerInHeader,
        2 => VerifyError::NoSignerRecord {
            serial: s.text.clone(),
            issuer: "CN=x".into(),
        },
        3 => VerifyError::UnsupportedDigest(s.n as u8),
        4 => VerifyError::UnsupportedAlgorithm(s.m as u8),
        5 => VerifyError::BadSignerKey(s.text.clone()),
        6 => VerifyError::LengthMismatch {
            found: s.n as usize,
            expected: 256,
        },
        _ => VerifyError::Mismatch,
    }
}

/// A refusal: `i` picks the base, `depth` the `NoTvsLeft` nesting.
fn refusal(i: u32, depth: u32, s: &Seed) -> Refusal {
    let base = match i % 9 {
        0 => TrustError::UnknownSigner {
            subject: s.text.clone(),
            serial: "01ab".into(),
        },
        1 => TrustError::TvsDenied,
        2 => TrustError::TvsWrongRole {
            needed: s.text.clone(),
        },
        3 => TrustError::BadSignature(verify_error(i / 9, s)),
        4 => TrustError::Unsigned,
        5 => TrustError::UnsupportedDigest(DigestAlg::ALL[i as usize % 3]),
        6 => TrustError::ItlTooLarge {
            certs: 9,
            bytes: s.n as usize,
            max_certs: 8,
            max_bytes: 1,
        },
        7 => TrustError::KeyTooLong {
            bits: s.n,
            max: 2048,
        },
        _ => return nest(Refusal::Other(s.text.clone()), depth),
    };
    nest(Refusal::Trust(base), depth)
}

fn nest(mut r: Refusal, depth: u32) -> Refusal {
    for _ in 0..depth {
        r = Refusal::NoTvsLeft(Box::new(r));
    }
    r
}

fn validity(s: &Seed) -> Validity {
    let t = s.m as i64;
    Validity {
        not_before: WallTime(t),
        not_after: WallTime(-t),
        at: WallTime(s.n.into()),
    }
}

/// Event variant number `i` (0..15); `j` picks the details.
fn event(i: u32, j: u32, s: &Seed) -> Event {
    let text = || s.text.clone();
    match i {
        0 => Event::State {
            status: status::ALL[j as usize % status::ALL.len()],
        },
        1 => Event::TrustListInstalled {
            file: file(j),
            path: path(j / 3),
        },
        2 => Event::TrustListRejected {
            file: file(j),
            reason: refusal(j, j % 3, s),
            signer: s.flag.then(text),
        },
        3 => Event::TvsQuery {
            file: file(j),
            tvs_host: text(),
        },
        4 => Event::TvsAnswer {
            file: file(j),
            valid: s.flag,
            tvs_cert: s.flag.then(|| validity(s)),
        },
        5 => Event::TvsLookup {
            phone: s.n,
            found: s.flag,
            held: j % 2 == 0,
        },
        6 => Event::ConfigAccepted { path: path(j) },
        7 => Event::ConfigRejected {
            reason: refusal(j / 2, j % 4, s),
        },
        8 => Event::Registered { cluster: text() },
        9 => Event::LscIssued {
            device: text(),
            serial_hex: "7f".into(),
        },
        10 => Event::LscInstalled {
            serial_hex: text(),
            issuer_cn: "CAPF".into(),
            family: "ipv4".into(),
            validity: validity(s),
        },
        11 => Event::CapfStatus {
            device: text(),
            status: "Pending".into(),
        },
        12 => Event::CaEnroll {
            device: text(),
            result: if s.flag { Ok(()) } else { Err(text()) },
        },
        13 => Event::ActorFailed { error: text() },
        _ => Event::note(Kind::ALL[j as usize % Kind::ALL.len()], text()),
    }
}

fn observation() -> impl Strategy<Value = Observation> {
    (0u32..15, any::<u32>(), seed(), any::<u64>(), "\\PC{0,10}").prop_map(|(i, j, s, t_ms, who)| {
        Observation {
            t_ms,
            who,
            event: event(i, j, &s),
        }
    })
}

fn window_done() -> impl Strategy<Value = WindowDone> {
    (
        vec((any::<u32>(), letter()), 0..6),
        proptest::option::of(any::<u64>()),
        vec(any::<(u32, u64, u64, u64)>(), 0..4),
        any::<u64>(),
    )
        .prop_map(|(out, next_due, steps, events)| WindowDone {
            out,
            next_due,
            steps: steps
                .into_iter()
                .map(|(c, added, done, last_done_ms)| {
                    (
                        c,
                        StepDelta {
                            added,
                            done,
                            last_done_ms,
                        },
                    )
                })
                .collect(),
            events,
        })
}

fn group() -> impl Strategy<Value = Group> {
    (
        vec("[a-z0-9.-]{1,10}", 0..3),
        vec(any::<(u32, u32)>(), 0..3),
    )
        .prop_map(|(hosts, phones)| Group {
            hosts: hosts.into_iter().collect(),
            phones,
        })
}

/// A meter with histograms under several keys: (kind index, input index, durations in ns).
fn meter(entries: &[(usize, usize, Vec<u64>)]) -> CostMeter {
    let mut m = CostMeter::default();
    for (k, i, samples) in entries {
        let kind = names::ADDR_KINDS[k % names::ADDR_KINDS.len()];
        let input = names::MSG_KINDS[i % names::MSG_KINDS.len()];
        for ns in samples {
            m.record(kind, input, Duration::from_nanos(*ns));
        }
    }
    m
}

fn same_costs(a: &CostMeter, b: &CostMeter) -> bool {
    a.histograms().count() == b.histograms().count()
        && a.histograms().zip(b.histograms()).all(|(x, y)| x == y)
}

fn dbg<T: std::fmt::Debug>(x: &T) -> String {
    format!("{x:?}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn window_requests_round_trip(
        end_ms in any::<u64>(),
        skews in vec((group(), any::<i64>()), 0..3),
        letters in vec((any::<u32>(), vec(letter(), 0..8)), 0..5),
    ) {
        let r = WindowReq { end_ms, skews, letters };
        let back = decode_window_req(&encode_window_req(&r).unwrap()).unwrap();
        prop_assert_eq!(back.end_ms, r.end_ms);
        prop_assert_eq!(&back.skews, &r.skews);
        prop_assert_eq!(dbg(&back.letters), dbg(&r.letters));
    }

    #[test]
    fn window_answers_round_trip(
        done in vec((any::<u32>(), window_done()), 0..4),
        busy_ns in any::<u64>(),
    ) {
        let r = WindowResp { done, busy_ns };
        let back = decode_window_resp(&encode_window_resp(&r).unwrap()).unwrap();
        prop_assert_eq!(dbg(&back), dbg(&r));
    }

    #[test]
    fn harvests_round_trip(
        trace in vec(observation(), 0..24),
        c in any::<(u64, u64, u64, u64)>(),
        costs in vec((0usize..9, 0usize..48, vec(1u64..2_000_000_000_000, 1..20)), 0..6),
    ) {
        let counters = Counters { sent: c.0, delivered: c.1, dropped: c.2, duplicated: c.3 };
        let r = FinishResp { trace, counters, costs: meter(&costs) };
        let back = decode_finish(&encode_finish(&r).unwrap()).unwrap();
        prop_assert_eq!(&back.trace, &r.trace);
        prop_assert_eq!(back.counters, r.counters);
        prop_assert!(same_costs(&back.costs, &r.costs));
    }

    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..256), tag in 0usize..4) {
        let mut b = bytes;
        if tag < 3 && b.len() >= 2 {
            b[0] = [b'W', b'D', b'F'][tag];
            b[1] = VERSION;
        }
        let _ = decode_window_req(&b);
        let _ = decode_window_resp(&b);
        let _ = decode_finish(&b);
    }

    #[test]
    fn truncated_and_extended_frames_are_refused(
        letters in vec(letter(), 1..6),
        trace in vec(observation(), 1..6),
        flip in any::<(usize, u8)>(),
    ) {
        let req = encode_window_req(&WindowReq { end_ms: 5, skews: vec![], letters: vec![(1, letters)] })
            .unwrap();
        let fin = encode_finish(&FinishResp { trace, ..FinishResp::default() }).unwrap();
        for cut in 0..req.len() {
            prop_assert!(decode_window_req(&req[..cut]).is_err());
        }
        for cut in 0..fin.len() {
            prop_assert!(decode_finish(&fin[..cut]).is_err());
        }
        let mut longer = req.clone();
        longer.push(0);
        prop_assert!(matches!(decode_window_req(&longer), Err(CodecError::Malformed(_))));
        // A flipped byte decodes to something or to an error, never a panic.
        let mut flipped = fin.clone();
        let at = flip.0 % flipped.len();
        flipped[at] ^= flip.1 | 1;
        let _ = decode_finish(&flipped);
    }
}

/// Every travelling variant's `kind` is one the cost meter's names know.
#[test]
fn travelling_kinds_are_listed() {
    let s = Seed {
        n: 1,
        m: 2,
        flag: true,
        text: "x".into(),
        a: vec![1],
        b: None,
    };
    for i in 0..TRAVELLING {
        let m = msg(i, &s);
        assert_eq!(names::input_kind(m.kind()), Some(m.kind()));
    }
    let mut seen = std::collections::BTreeSet::new();
    assert!(names::MSG_KINDS.iter().all(|k| seen.insert(*k)));
    for a in [
        Addr::Phone(1),
        Addr::Tvs("h".into()),
        Addr::Dhcp,
        Addr::Ca("c".into()),
    ] {
        assert_eq!(names::addr_kind(a.kind()), Some(a.kind()));
    }
}

#[test]
fn service_messages_cannot_travel() {
    let cases = [
        Msg::Service(ServiceAction::Restart),
        Msg::Operator(Operator::BulkConsolidate),
        Msg::SftpRemove { name: "f".into() },
        Msg::SftpList {
            reply_to: Addr::Publisher("c".into()),
        },
        Msg::CallManagerCert(Arc::from(&b"der"[..])),
        Msg::DhcpSet {
            first: 0,
            count: 1,
            option150: vec![],
        },
        Msg::CapfCli {
            command: "csr list".into(),
        },
        Msg::CapfUpload { certs: vec![] },
        Msg::ResetRegistered,
    ];
    for m in cases {
        let kind = m.kind();
        let letter = Letter {
            due_ms: 1,
            src: 2,
            seq: 3,
            slot: 0,
            mail: Mail::plain(Input::Msg(m)),
        };
        let req = WindowReq {
            end_ms: 9,
            skews: vec![],
            letters: vec![(0, vec![letter])],
        };
        assert_eq!(
            encode_window_req(&req).unwrap_err(),
            CodecError::CannotTravel(kind)
        );
    }
}

#[test]
fn unknown_names_and_foreign_frames_are_malformed() {
    let o = Observation {
        t_ms: 1,
        who: "SEP1".into(),
        event: Event::State { status: "Dancing" },
    };
    let bytes = encode_finish(&FinishResp {
        trace: vec![o],
        ..FinishResp::default()
    })
    .unwrap();
    let err = decode_finish(&bytes).err().unwrap();
    assert!(
        err.to_string().contains("unknown phone status \"Dancing\""),
        "{err}"
    );

    let mut costs = CostMeter::default();
    costs.record("martian", "Start", Duration::from_micros(3));
    let bytes = encode_finish(&FinishResp {
        costs,
        ..FinishResp::default()
    })
    .unwrap();
    assert!(decode_finish(&bytes)
        .err()
        .unwrap()
        .to_string()
        .contains("martian"));

    let resp = encode_window_resp(&WindowResp::default()).unwrap();
    assert!(decode_window_req(&resp)
        .err()
        .unwrap()
        .to_string()
        .contains("expected a window request"));
    let mut other_version = resp.clone();
    other_version[1] = VERSION + 1;
    assert!(decode_window_resp(&other_version)
        .err()
        .unwrap()
        .to_string()
        .contains("version"));
    assert!(decode_window_resp(&[]).is_err());
    assert!(decode_window_resp(&vec![b'D'; MAX_FRAME + 1]).is_err());
}

#[test]
fn refusals_nest_only_so_deep() {
    let s = Seed {
        n: 1,
        m: 2,
        flag: false,
        text: "x".into(),
        a: vec![],
        b: None,
    };
    let ok = refusal(1, wire_trace_depth(), &s);
    let o = |reason| Observation {
        t_ms: 0,
        who: "SEP".into(),
        event: Event::ConfigRejected { reason },
    };
    let f = FinishResp {
        trace: vec![o(ok)],
        ..FinishResp::default()
    };
    assert_eq!(
        decode_finish(&encode_finish(&f).unwrap()).unwrap().trace,
        f.trace
    );
    let deep = FinishResp {
        trace: vec![o(refusal(1, wire_trace_depth() + 1, &s))],
        ..FinishResp::default()
    };
    assert!(matches!(
        encode_finish(&deep),
        Err(CodecError::Malformed(_))
    ));
}

fn wire_trace_depth() -> u32 {
    super::wire_trace::MAX_REFUSAL_DEPTH.into()
}

/// The size figure quoted in the module doc: a window of 1,000 `TftpGet` letters.
#[test]
fn size_of_a_typical_window() {
    let letters = (0..1000u32)
        .map(|i| Letter {
            due_ms: 60_000 + u64::from(i % 50),
            src: 0x9e37_79b9_7f4a_7c15 ^ u64::from(i),
            seq: 2 * u64::from(i),
            slot: i,
            mail: Mail::plain(Input::Msg(Msg::TftpGet {
                phone: i,
                file: format!("ITLSEP{:012X}.tlv", i),
            })),
        })
        .collect();
    let req = WindowReq {
        end_ms: 60_050,
        skews: vec![],
        letters: vec![(3, letters)],
    };
    let bytes = encode_window_req(&req).unwrap();
    let per = bytes.len() as f64 / 1000.0;
    println!(
        "1,000 TftpGet letters: {} bytes, {per:.1} bytes/letter",
        bytes.len()
    );
    assert_eq!(decode_window_req(&bytes).unwrap().letters[0].1.len(), 1000);
}

/// A boot window's replies of one file carry its bytes once, and arrive sharing one `Arc`.
#[test]
fn shared_payloads_travel_once() {
    let itl: Arc<[u8]> = (0..6000u32).map(|i| i as u8).collect();
    let copy: Arc<[u8]> = Arc::from(&itl[..]);
    let letters: Vec<Letter> = (0..1000u32)
        .map(|i| {
            let bytes = Some(if i % 2 == 0 {
                itl.clone()
            } else {
                copy.clone()
            });
            let m = Msg::TftpReply {
                file: format!("ITLSEP{i:012X}.tlv"),
                bytes,
            };
            Letter {
                due_ms: 7,
                src: 1,
                seq: u64::from(i),
                slot: i,
                mail: Mail::plain(Input::Msg(m)),
            }
        })
        .collect();
    let done = WindowDone {
        out: letters.into_iter().map(|l| (4, l)).collect(),
        ..WindowDone::default()
    };
    let bytes = encode_window_resp(&WindowResp {
        done: vec![(9, done)],
        busy_ns: 1,
    })
    .unwrap();
    println!(
        "1,000 TftpReply letters of one 6,000-byte file: {} bytes",
        bytes.len()
    );
    assert!(bytes.len() < 6000 + 1000 * 40, "{} bytes", bytes.len());
    let back = decode_window_resp(&bytes).unwrap();
    let payload = |l: &Letter| match &l.mail.input {
        Input::Msg(Msg::TftpReply { bytes: Some(b), .. }) => b.clone(),
        other => panic!("{other:?}"),
    };
    let out = &back.done[0].1.out;
    let first = payload(&out[0].1);
    assert_eq!(first[..], itl[..]);
    assert!(out.iter().all(|(_, l)| Arc::ptr_eq(&payload(l), &first)));
}

#[test]
fn a_payload_the_frame_lacks_is_malformed() {
    let m = Msg::TftpReply {
        file: "f".into(),
        bytes: Some(Arc::from(&[0xab][..])),
    };
    let l = Letter {
        due_ms: 0,
        src: 0,
        seq: 0,
        slot: 0,
        mail: Mail::plain(Input::Msg(m)),
    };
    let bytes = encode_window_req(&WindowReq {
        end_ms: 0,
        skews: vec![],
        letters: vec![(0, vec![l])],
    })
    .unwrap();
    // Header, one payload of one byte (0xab), then the rest: drop the payload.
    assert_eq!(bytes[2..5], [1, 1, 0xab]);
    let without = [&bytes[..2], &[0], &bytes[5..]].concat();
    let err = decode_window_req(&without).unwrap_err();
    assert!(
        err.to_string().contains("payload 0 of a frame that has 0"),
        "{err}"
    );
}
