//! Fuzz target: the ITL/CTL parser and verifier, and the `.sgn` reader, on arbitrary bytes.
#![no_main]
use cucmsim_core::pki::Backend;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = cucmsim_core::tlv::parse(data) {
        let _ = list.kind();
        let _ = list.signed_bytes();
        let _ = list.verify_self(Backend::Ring);
    }
    if let Ok(cfg) = cucmsim_core::sgn::parse_signed_config(data) {
        let _ = cfg.payload();
        let _ = cfg.config();
    }
});
