//! Fuzz target: `cucmsim check` on arbitrary bytes — UTF-8 text, the TOML reader and the
//! whole scenario compiler, with and without `--phones`. Every input must give a compiled
//! scenario or a positioned error, never a panic.
#![no_main]
use cucmsim::lang::compile::Overrides;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cucmsim::lang::parse_str("fuzz.toml", text);
    let phones = Overrides {
        phones: Some(1 + u32::from(data.first().copied().unwrap_or(0)) % 64),
        ..Overrides::default()
    };
    let _ = cucmsim::lang::parse_with("fuzz.toml", text, phones);
});
