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
