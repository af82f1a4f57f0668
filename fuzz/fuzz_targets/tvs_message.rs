//! Fuzz target: the TVS wire message decoder (bytes a phone or TVS receives).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = cucmsim_core::tvs::TvsMessage::decode(data) {
        let _ = msg.encode();
    }
});
