//! Every ```toml example in `scenarios/README.md` is valid TOML and reads as (part of) a
//! scenario file: known tables and keys only, each `[[step]]` / `[[expect]]` with its header.

use cucmsim::lang::raw;

/// The ```toml blocks of the language reference, with their first line numbers.
fn examples() -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/README.md"))
        .expect("scenarios/README.md");
    let mut out = vec![];
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some((i + 2, String::new())),
            (Some(_), "```") => out.push(current.take().expect("open block")),
            (Some((_, body)), l) => {
                body.push_str(l);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```toml block");
    out
}

/// A fragment under `[cluster.…]` gets the cluster it belongs to.
fn as_file(body: &str) -> String {
    let first = body
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with('['))
        .unwrap_or("");
    if first.starts_with("[cluster.") || first.starts_with("[[cluster.") {
        format!("[[cluster]]\nname = \"c\"\nversion = \"14\"\n{body}")
    } else {
        body.to_string()
    }
}

#[test]
fn every_toml_example_in_the_language_reference_reads() {
    let examples = examples();
    assert!(examples.len() >= 10, "found {} examples", examples.len());
    let mut bad = vec![];
    for (line, body) in &examples {
        if let Err(e) = toml::from_str::<raw::File>(&as_file(body)) {
            bad.push(format!("scenarios/README.md example at line {line}: {e}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_step_without_its_header_is_caught() {
    let body = "[[step]]\nat = \"1 min\"\naction = \"drs_backup\"\nat = \"2 min\"\n";
    assert!(toml::from_str::<raw::File>(body).is_err());
}
