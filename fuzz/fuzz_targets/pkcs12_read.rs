//! Fuzz target: the PKCS#12 reader (Bulk Certificate Management bundles) on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = cucmsim_core::pkcs12::read_bundle(data, "cucmsim") {
        let _ = bundle.all_certificates();
        let _ = bundle.private_key();
    }
});
