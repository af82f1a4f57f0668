//! Scenario language additions: `bulk_export` of chosen nodes, `sftp_remove`, a fleet filter on
//! observation expectations, and `by` printed as the scenario wrote it.

use cucmsim::lang::parse_str;
use cucmsim::reports::runner::execute;

const SCENARIO: &str = r#"
[scenario]
name = "gaps"
duration = "1 h 15 min"

[[cluster]]
name = "src"
version = "12.5"
  [[cluster.node]]
  name = "src-pub"
  [[cluster.node]]
  name = "src-sub"

[[fleet]]
name = "f1"
count = 2
mac_start = "001122000000"
cluster = "src"

[[fleet]]
name = "f2"
count = 3
mac_start = "001122100000"
cluster = "src"

[[step]]
at = "1 min"
action = "bulk_export"
cluster = "src"
nodes = ["src-sub"]
types = ["tomcat"]

[[step]]
at = "1 min 10 s"
action = "bulk_export"
cluster = "src"
types = ["callmanager"]

[[step]]
at = "1 min 20 s"
action = "sftp_remove"
file = "src-pub_CallManager.pkcs12"

[[step]]
at = "2 min"
action = "bulk_consolidate"
cluster = "src"

[[expect]]
kind = "observation"
what = "bulk_consolidated"
detail = "2 types from 2 files"
count = 1

[[expect]]
kind = "observation"
what = "registered"
fleet = "f1"
by = "1 h 15 min"
count = 2

[[expect]]
kind = "observation"
what = "registered"
count = 5
"#;

#[test]
fn chosen_nodes_exported_a_file_removed_and_a_fleet_filter() {
    let compiled = parse_str("gaps.toml", SCENARIO).unwrap_or_else(|e| panic!("{e}"));
    let report = execute(&compiled, None).unwrap();
    let details = &report.expectations.details;
    for d in details {
        assert!(d.passed, "{d:#?}");
    }
    assert!(
        details[1].expectation.contains("in fleet f1 by 1 h 15 min"),
        "{:#?}",
        details[1]
    );
}

#[test]
fn bad_nodes_and_files_are_refused() {
    let bad = SCENARIO.replace("nodes = [\"src-sub\"]", "nodes = [\"nowhere\"]");
    let e = parse_str("gaps.toml", &bad).unwrap_err().to_string();
    assert!(e.contains("no node \"nowhere\" in cluster \"src\""), "{e}");
    let bad = SCENARIO.replace(
        "file = \"src-pub_CallManager.pkcs12\"",
        "file = \"../etc/passwd\"",
    );
    let e = parse_str("gaps.toml", &bad).unwrap_err().to_string();
    assert!(e.contains("without a path"), "{e}");
}

/// F31's "phones accept unsigned configuration files": a TFTP serving unsigned configs and no
/// ITL, as a pre-8.0 one (`serve_unsigned_configs`) — phones holding the blank rollback ITL
/// register from them; phones holding their cluster's real ITL refuse the same files.
#[test]
fn serve_unsigned_configs_opens_only_phones_holding_the_rollback_itl() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f31_rollback_left_on.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let (head, _) = text.split_once("[[expect]]").unwrap();
    let unsigned = r#"
[[step]]
at = "4 min"
action = "serve_unsigned_configs"
cluster = "rogue"
"#;
    let run = |head: &str, expect: &str| {
        let text = format!("{head}{unsigned}{expect}");
        let raw = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let o = cucmsim::lang::compile::Overrides {
            seed: None,
            phones: None,
            tls: None,
        };
        let c = cucmsim::lang::compile::compile_with("unsigned.toml", &text, raw, o)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = cucmsim::reports::runner::execute(&c, None).unwrap();
        let failed: Vec<_> = r
            .expectations
            .details
            .iter()
            .filter(|d| !d.passed)
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    };
    run(
        head,
        r#"
[[expect]]
kind = "phones"
by = "8 min"
state = "Registered"
cluster = "rogue"
count = 20

[[expect]]
kind = "observation"
what = "config_accepted"
detail = "RollbackItl"
at_least = 20

[[expect]]
kind = "no_invariant_violation"
"#,
    );
    // No rollback: the phones keep their real ITL and refuse the unsigned configs.
    let (before, after) = head.split_once("[[step]]\nat = \"2 min\"").unwrap();
    let (_, after) = after.split_once("\n\n").unwrap();
    let no_rollback = format!("{before}{after}");
    run(
        &no_rollback,
        r#"
[[expect]]
kind = "phones"
by = "8 min"
state = "Registered"
cluster = "rogue"
count = 0

[[expect]]
kind = "observation"
what = "config_rejected"
detail = "not signed"
at_least = 20
"#,
    );
}
