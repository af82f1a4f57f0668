//! Fuzz target: X.509 DER parsing into the facts the trust machinery reads.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = cucmsim_core::pki::Certificate::from_der(data) {
        let _ = cert.subject().to_cucm();
        let _ = cert.sha1_hex();
        if let Some(key) = cert.public_key() {
            let _ = cert.check_signed_by(key, cucmsim_core::pki::Backend::Ring);
        }
    }
});
