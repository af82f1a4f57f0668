//! Fuzz target: the CAPF wire message decoder (bytes a phone or the CAPF service receives).
//! If decode succeeds, encode must succeed and decode back to the same message; the typed
//! reads a session makes of untrusted elements (key request, SubjectPublicKeyInfo) must not
//! panic either.
#![no_main]
use cucmsim_core::capf::keys::{public_key_from_spki, KeySpec};
use cucmsim_core::capf::{frame_len, CapfMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = frame_len(data);
    let _ = CapfMessage::decode_prefix(data);
    if let Ok(msg) = CapfMessage::decode(data) {
        let bytes = msg.encode().expect("a decoded message encodes");
        assert_eq!(bytes, data, "decode then encode gives the same bytes");
        assert_eq!(CapfMessage::decode(&bytes).as_ref(), Ok(&msg));
        let _ = KeySpec::from_request(&msg).map(KeySpec::profile);
        if let Some(spki) = msg.public_key() {
            let _ = public_key_from_spki(spki);
        }
        let _ = (
            msg.certificates().count(),
            msg.sha2_signed_data(),
            msg.device_name(),
        );
    }
});
