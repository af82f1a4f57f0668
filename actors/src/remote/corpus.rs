//! The fuzz target `remote_frames`' seed corpus (`fuzz/seeds/remote_frames/`): one frame of
//! each kind, built here so that the committed files are the codec's current bytes. A change
//! of the wire format fails `seed_corpus_is_current`; regenerate the files with
//! `CUCMSIM_WRITE_SEEDS=1 cargo test -p cucmsim-actors write_seed_corpus -- --ignored`.

use super::*;
use crate::lp::StepDelta;
use crate::steps::{Cause, Mail};
use cucmsim_core::machine::trace::Validity;
use cucmsim_core::machine::{Event, Input, Kind, Msg, Refusal};
use cucmsim_core::phone::{FileKind, TrustError, TrustPath};
use cucmsim_core::WallTime;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const PHONE: &str = "SEP000000000007";

fn letter(due_ms: u64, seq: u64, input: Input) -> Letter {
    let mail = Mail {
        input,
        cause: Cause(2),
    };
    Letter {
        due_ms,
        src: 0xabcdef,
        seq,
        slot: 3,
        mail,
    }
}

fn request() -> WindowReq {
    let ctl = Arc::from(&b"\x01\x02\x00\x04ctl!"[..]);
    let msgs = [
        Msg::TftpGet {
            phone: 7,
            file: "ITLSEP000000000007.tlv".into(),
        },
        Msg::TftpReply {
            file: "CTLSEP000000000007.tlv".into(),
            bytes: Some(ctl),
        },
        Msg::TvsTls {
            phone: 7,
            session: 9,
            bytes: vec![0x16, 3, 3, 0, 1, 0],
        },
    ];
    let mut letters = vec![letter(1000, 0, Input::Start)];
    for (i, m) in msgs.into_iter().enumerate() {
        letters.push(letter(
            1010 + 10 * i as u64,
            2 + 2 * i as u64,
            Input::Msg(m),
        ));
    }
    letters.push(letter(1040, 8, Input::Timer(0x0102)));
    let group = Group {
        hosts: ["cucm-a".to_string()].into(),
        phones: vec![(0, 10)],
    };
    WindowReq {
        end_ms: 1200,
        skews: vec![(group, -300)],
        letters: vec![(2, letters)],
    }
}

fn answer() -> WindowResp {
    let register = Msg::Register {
        phone: 7,
        device: PHONE.into(),
        secure_cert: None,
    };
    let step = StepDelta {
        added: 1,
        done: 1,
        last_done_ms: 1040,
    };
    let done = WindowDone {
        out: vec![(0, letter(1100, 10, Input::Msg(register)))],
        next_due: Some(1150),
        steps: vec![(2, step)],
        events: 5,
    };
    WindowResp {
        done: vec![(2, done)],
        busy_ns: 123_456,
    }
}

fn harvest() -> FinishResp {
    let validity = Validity {
        not_before: WallTime(1_700_000_000),
        not_after: WallTime(1_900_000_000),
        at: WallTime(1_800_000_000),
    };
    let denied = Refusal::NoTvsLeft(Box::new(Refusal::Trust(TrustError::TvsDenied)));
    let events = [
        Event::State { status: "Booting" },
        Event::TrustListInstalled {
            file: FileKind::Ctl,
            path: TrustPath::Tvs { cached: false },
        },
        Event::ConfigRejected { reason: denied },
        Event::LscInstalled {
            serial_hex: "7f".into(),
            issuer_cn: "CAPF-1".into(),
            family: "ipv4".into(),
            validity,
        },
        Event::note(Kind::RegisterRetry, "again"),
    ];
    let trace = (0..)
        .zip(events)
        .map(|(i, event)| Observation {
            t_ms: 1000 + 10 * i,
            who: PHONE.into(),
            event,
        })
        .collect();
    let mut costs = CostMeter::default();
    costs.record("phone", "TftpReply", Duration::from_micros(850));
    costs.record("phone", "TftpReply", Duration::from_micros(900));
    costs.record("phone", "Start", Duration::from_nanos(700));
    let counters = Counters {
        sent: 10,
        delivered: 9,
        dropped: 1,
        duplicated: 0,
    };
    FinishResp {
        trace,
        counters,
        costs,
    }
}

/// (file name, bytes) of each seed.
fn seeds() -> [(&'static str, Vec<u8>); 3] {
    [
        ("window_req.bin", encode_window_req(&request()).unwrap()),
        ("window_resp.bin", encode_window_resp(&answer()).unwrap()),
        ("finish.bin", encode_finish(&harvest()).unwrap()),
    ]
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/remote_frames")
}

#[test]
fn seed_corpus_is_current() {
    for (name, bytes) in seeds() {
        let on_disk = std::fs::read(dir().join(name)).unwrap();
        assert!(
            on_disk == bytes,
            "fuzz/seeds/remote_frames/{name} is not the codec's current bytes: {}",
            "CUCMSIM_WRITE_SEEDS=1 cargo test -p cucmsim-actors write_seed_corpus -- --ignored"
        );
    }
    let fin = decode_finish(&seeds()[2].1).unwrap();
    assert_eq!(fin.trace, harvest().trace);
}

#[test]
#[ignore = "writes the fuzz seed corpus; run with CUCMSIM_WRITE_SEEDS=1"]
fn write_seed_corpus() {
    if std::env::var_os("CUCMSIM_WRITE_SEEDS").is_some() {
        for (name, bytes) in seeds() {
            std::fs::write(dir().join(name), bytes).unwrap();
        }
    }
}
