//! Fuzz target: the PKCS#12 reader (Bulk Certificate Management bundles) on arbitrary bytes.
//!
//! The password is "password", the one the seeds under `fuzz/seeds/pkcs12_read/` were written
//! with. Seeds without a MAC let mutations reach the bag parsing; seeds with one only exercise
//! the outer structure and the MAC check (any change to the content breaks the MAC).
//!
//! Panics in p12-keystore: `read_bundle` runs the p12-keystore parser inside `catch_unwind`
//! and turns a panic there into `Pkcs12Error::Malformed`, so in production such a panic is
//! handled. Under libFuzzer that `catch_unwind` never sees it: libfuzzer-sys installs a panic
//! hook that aborts the process *before* unwinding. So this target installs, once, a hook
//! that lets a panic unwind when it was raised inside p12-keystore (its source file is in
//! the p12-keystore crate, or a frame of p12-keystore is on the stack), printing a note with
//! the input's hex, and hands every other panic (cucmsim-core's own included) to libFuzzer's
//! aborting hook, which reports it as a crash. The call itself is also wrapped in
//! `catch_unwind`: a panic that escapes `read_bundle` would be a bug in cucmsim-core, so it
//! aborts too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// How many p12-keystore panics were let through to `read_bundle`'s `catch_unwind`.
static P12_PANICS: AtomicUsize = AtomicUsize::new(0);
/// Notes printed in full (message, location, input hex) before going quiet.
const NOTES_IN_FULL: usize = 5;

thread_local! {
    /// The input being run, for the note a p12-keystore panic prints.
    static CURRENT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // libfuzzer-sys's hook (print, then abort) was installed before the first input.
        let aborting = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let in_file = info
                .location()
                .is_some_and(|l| l.file().contains("p12-keystore"));
            // With line-tables-only debug info, inlined frames are named without their crate
            // path, so the frames' source files are looked at too.
            let in_stack = || {
                let trace = std::backtrace::Backtrace::force_capture().to_string();
                trace.contains("p12-keystore") || trace.contains("p12_keystore::")
            };
            if !(in_file || in_stack()) {
                aborting(info);
                return;
            }
            let n = P12_PANICS.fetch_add(1, Ordering::Relaxed) + 1;
            if n <= NOTES_IN_FULL {
                let hex = CURRENT.with(|c| {
                    c.borrow()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                });
                eprintln!(
                    "pkcs12_read: p12-keystore panic #{n} (caught by read_bundle's catch_unwind): \
                     {info}\npkcs12_read: input hex: {hex}"
                );
            } else if n.is_power_of_two() {
                eprintln!("pkcs12_read: {n} p12-keystore panics caught so far");
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        c.extend_from_slice(data);
    });
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        if let Ok(bundle) = cucmsim_core::pkcs12::read_bundle(data, "password") {
            let _ = bundle.all_certificates();
            let _ = bundle.private_key();
        }
    }));
    if outcome.is_err() {
        eprintln!("pkcs12_read: a p12-keystore panic escaped read_bundle");
        std::process::abort();
    }
});
