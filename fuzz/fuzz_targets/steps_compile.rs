//! Fuzz target: the steps' compiler. The input's text becomes the body of one `[[step]]`
//! table appended to a fixed two-cluster scenario, so every input exercises an action's key
//! checks, name resolution and timing rather than the TOML reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

const BASE: &str = "[scenario]\nname = \"fuzz\"\nduration = \"10 min\"\n\n\
[[cluster]]\nname = \"a\"\nversion = \"12.5\"\nsecurity_mode = \"mixed\"\n  [[cluster.node]]\n  name = \"a-pub\"\n  [[cluster.node]]\n  name = \"a-sub\"\n\n\
[[cluster]]\nname = \"b\"\nversion = \"10.5\"\n  [[cluster.node]]\n  name = \"b-pub\"\n\n\
[[fleet]]\nname = \"f1\"\ncount = 3\nmac_start = \"001122000000\"\ncluster = \"a\"\n\n\
[[fleet]]\nname = \"f2\"\ncount = 2\nmac_start = \"001122100000\"\ncluster = \"b\"\n\n[[step]]\n";

fuzz_target!(|data: &[u8]| {
    let Ok(step) = std::str::from_utf8(data) else {
        return;
    };
    if step.contains('[') {
        return; // one step table: no new headers
    }
    let text = format!("{BASE}{step}\n");
    let _ = cucmsim::lang::parse_str("fuzz.toml", &text);
});
