//! Byte exchanges with usecallmanager's `tvsd`, `capfd`, `tvsc` and `capfc` (independent
//! implementations real phones talk to), recorded by running them locally against `cucmsim
//! farm` / `cucmsim serve` (`tests/vectors/usecallmanager/*.json`: the plaintext inside TLS,
//! message by message; how they were recorded is in results/README.md, "Wire mode"). Replayed
//! here against our codecs and our phone-side CAPF client: every message decodes, our encoder
//! gives the same bytes back, the daemons' answers mean what the farm concluded, our client
//! answers capfd's messages byte for byte as it did on the wire, and our `DecodeRules::TVSD`
//! accepts and refuses exactly what tvsd did.

use cucmsim::wire::farm::{self, Fleet};
use cucmsim_core::capf::{CapfMessage, ClientOutcome};
use cucmsim_core::tlv::Role;
use cucmsim_core::tvs::{DecodeRules, TvsBody, TvsMessage};
use cucmsim_core::WallTime;
use serde_json::Value;
use std::sync::Arc;

fn vector(name: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/usecallmanager/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The messages of a recorded exchange: (from the phone?, bytes).
fn messages(v: &Value) -> Vec<(bool, Vec<u8>)> {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let bytes = hex::decode(m["hex"].as_str().unwrap()).unwrap();
            (m["from"] == "phone", bytes)
        })
        .collect()
}

/// Decodes a TVS exchange; our own side's messages must re-encode to the same bytes.
fn tvs(name: &str, ours: &str) -> Vec<TvsMessage> {
    let mut out = vec![];
    for (from_phone, bytes) in messages(&vector(name)) {
        let m = TvsMessage::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        if (ours == "phone") == from_phone {
            assert_eq!(m.encode(), bytes, "{name}: our encoding of {m:?}");
        }
        out.push(m);
    }
    out
}

#[test]
fn tvsd_answers_a_known_certificate_with_status_roles_and_ttl_and_an_unknown_with_status_only() {
    let known = tvs("tvsd_verify_known", "phone");
    assert!(matches!(known[0].body, TvsBody::VerifyReq { .. }));
    assert_eq!(known[1].session, known[0].session, "the session echoed");
    let roles = vec![Role::from_code(1), Role::from_code(3)];
    assert_eq!(
        known[1].body,
        TvsBody::VerifyRes {
            valid: true,
            roles,
            ttl_s: 86_400
        }
    );
    let unknown = tvs("tvsd_verify_unknown", "phone");
    // STATUS only: no ROLES, no TTL element (decoded as none and 0).
    let (_, answer) = messages(&vector("tvsd_verify_unknown")).pop().unwrap();
    assert_eq!(answer.len(), 14, "header + one STATUS element");
    assert_eq!(
        unknown[1].body,
        TvsBody::VerifyRes {
            valid: false,
            roles: vec![],
            ttl_s: 0
        }
    );
}

#[test]
fn tvsc_requests_decode_and_serve_answers_in_our_encoding() {
    let known = tvs("tvsc_verify_known_vs_serve", "server");
    match &known[0].body {
        TvsBody::VerifyReq { device_name, .. } => {
            assert_eq!(device_name, "CP-8861-SEP001122000000")
        }
        b => panic!("{b:?}"),
    }
    assert!(matches!(
        known[1].body,
        TvsBody::VerifyRes { valid: true, .. }
    ));
    let unknown = tvs("tvsc_verify_unknown_vs_serve", "server");
    assert!(matches!(
        unknown[1].body,
        TvsBody::VerifyRes { valid: false, .. }
    ));
}

#[test]
fn our_tvsd_decoding_rules_accept_and_refuse_what_tvsd_did() {
    let v = vector("tvsd_decoding_rules");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let request = hex::decode(c["request"].as_str().unwrap()).unwrap();
        let answered = !c["answer"].as_str().unwrap().is_empty();
        // tvsd answers iff the request decodes and its certificate is one (it then knows it).
        let ours = TvsMessage::decode_with(&request, &DecodeRules::TVSD);
        let usable = match &ours {
            Ok(TvsMessage {
                body: TvsBody::VerifyReq { certificate, .. },
                ..
            }) => cucmsim_core::pki::Certificate::from_der(certificate).is_ok(),
            _ => false,
        };
        assert_eq!(usable, answered, "{name}: ours {ours:?}");
        if answered {
            let a = TvsMessage::decode(&hex::decode(c["answer"].as_str().unwrap()).unwrap());
            assert!(matches!(
                a.unwrap().body,
                TvsBody::VerifyRes { valid: true, .. }
            ));
        }
    }
    // The default rules differ from tvsd where the reference is silent: first wins, unknown skipped.
    let first = hex::decode(cases[1]["request"].as_str().unwrap()).unwrap();
    assert!(TvsMessage::decode(&first).is_ok());
}

/// Every CAPF message decodes and re-encodes to the same bytes.
fn capf(name: &str) -> Vec<(bool, CapfMessage)> {
    messages(&vector(name))
        .into_iter()
        .map(|(from_phone, bytes)| {
            let m = CapfMessage::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.encode().unwrap(), bytes, "{name}: {m:?}");
            (from_phone, m)
        })
        .collect()
}

/// Our phone-side client, as the farm built it, answers capfd's recorded messages with the
/// recorded phone messages, byte for byte, and ends installed.
fn replay_capfd(name: &str, fleet_name: &str) {
    let v = vector(name);
    let spec = cucmsim::lang::load(&std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/wire/enroll.toml"
    )))
    .unwrap()
    .spec;
    let mut fleet = Fleet::new(&spec, fleet_name).unwrap();
    let mut p = (*fleet.capf_profile).clone();
    p.version = 3; // recorded with --capf-version 3, as capfd wants
    fleet.capf_profile = Arc::new(p);
    let phone = fleet.phone(0).unwrap();
    let mut client = farm::capf_client(&phone, &fleet);
    let now = WallTime(v["recorded_at_unix_s"].as_i64().unwrap());
    let msgs = capf(name);
    let mut expected = msgs.iter().filter(|(p, _)| *p).map(|(_, m)| m);
    let mut outcome = None;
    for (_, m) in msgs.iter().filter(|(p, _)| !*p) {
        let step = client.handle(m, now);
        let mut sent = step.send;
        sent.extend(step.key_gen.map(|k| k.reply));
        for ours in sent {
            let theirs = expected.next().expect("capfd heard no more from the farm");
            assert_eq!(&ours, theirs, "{name}");
        }
        outcome = step.outcome.or(outcome);
    }
    assert!(expected.next().is_none(), "{name}: our client said less");
    assert!(
        matches!(outcome, Some(ClientOutcome::Installed { .. })),
        "{name}: {outcome:?}"
    );
}

#[test]
fn our_capf_client_answers_capfd_as_it_did_on_the_wire() {
    replay_capfd("capfd_enroll_auth_string", "strings");
    replay_capfd("capfd_enroll_null_string", "nulls");
}

#[test]
fn capfc_messages_and_serve_answers_decode_and_re_encode() {
    let msgs = capf("capfc_enroll_auth_string_vs_serve");
    assert_eq!(msgs.len(), 8);
    assert!(
        msgs[0].1.encode().unwrap().starts_with(&[0x55, 0x01]),
        "AUTH_REQ first"
    );
}
