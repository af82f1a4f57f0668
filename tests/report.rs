//! The report a change board reads and the command line around it: a failing run's
//! `report.html`, `summary.md` and `report.json` (intent, verdict, version, phones per cluster,
//! failures with a timeline, steps in the field's words, the appendix), progress lines when
//! stderr is not a terminal, and every command's `--help` (an example that parses, defaults).

use crate::support::{run, scratch};
use clap::{CommandFactory, Parser};
use cucmsim::cli::args::Cli;
use std::path::Path;

/// F1 (no import) at 4 phones in identity mode, expecting what the change plan wanted: every
/// phone on the destination. It fails.
fn failing_scenario() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/migration/itl_no_import.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.split("[[expect]]").next().unwrap();
    body.replace("count = 1000", "count = 4")
        + "[[expect]]\nkind = \"phones\"\nby = \"20 min\"\nstate = \"Registered\"\ncluster = \"dst\"\ncount = 4\n"
}

#[test]
fn a_failing_run_reports_for_a_change_board() {
    let (_g, scenario) = scratch("change.toml", failing_scenario().as_bytes());
    let out = tempfile::tempdir().unwrap();
    let (s, o) = (scenario.to_str().unwrap(), out.path().to_str().unwrap());
    let args = ["run", s, "--tls", "identity", "--out", o];
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Not a terminal: plain progress lines, the build phase named, virtual time in h:mm:ss.
    assert!(
        stderr.contains("cucmsim run: building the world: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("cucmsim run: running: virtual 0:00:00 of 0:20:00"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cucmsim run: finished, wall 0:0"),
        "{stderr}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["cucmsim_version"], cucmsim::version());
    assert!(json["intent"]
        .as_str()
        .unwrap()
        .starts_with("The seed's migration without the import step (F1)"));
    assert_eq!(
        json["command"],
        format!("cucmsim run {s} --tls identity --out {o}")
    );
    assert!(json["date"].as_str().unwrap().ends_with(" UTC"));
    assert_eq!(
        json["phones_by_cluster"]["src"]["Trust List update failed"],
        4
    );
    let group = &json["failure_groups"][0];
    assert_eq!(group["phones"], 4);
    let reason = group["reason"].as_str().unwrap();
    // The cause first (the ITL refused), then what the phone shows.
    assert_eq!(
        reason,
        "ITL: TVS answered that the signer is not valid → new config not honoured after a Trust List update failure"
    );
    let timeline = group["examples"][0]["timeline"].as_array().unwrap();
    let whats: Vec<&str> = timeline
        .iter()
        .map(|l| l["what"].as_str().unwrap())
        .collect();
    assert!(
        whats.contains(&"registered") && whats.contains(&"trust_list_rejected"),
        "{whats:?}"
    );
    let times: Vec<u64> = timeline
        .iter()
        .map(|l| l["t_ms"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    for text in [&html, &md] {
        for needle in [
            "FAIL",
            "The seed's migration without the import step (F1)",
            cucmsim::version(),
            "Phones at the end",
            "Registered at the end: 0 of 4 phones.",
            "Phones not registered at the end, by reason",
            "trust_list_rejected",
            "Bulk Certificate Export on src",
            "Bulk Certificate Consolidate on src",
            "Reset 4 phones",
            "Appendix: real CPU cost",
        ] {
            assert!(text.contains(needle), "{needle:?} missing");
        }
        assert!(!text.contains("BulkExport ("), "raw step names left");
        // The CPU cost comes after everything else.
        assert!(text.find("Appendix").unwrap() > text.find("Latency").unwrap());
    }
    assert_eq!(html.matches("<svg").count(), 3);
}

/// `(command path, long help)` of every command and subcommand.
fn helps() -> Vec<(String, String)> {
    fn walk(cmd: &mut clap::Command, path: String, out: &mut Vec<(String, String)>) {
        out.push((path.clone(), cmd.render_long_help().to_string()));
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            let name = format!("{path} {}", sub.get_name());
            walk(sub, name, out);
        }
    }
    let mut out = vec![];
    let mut cmd = Cli::command();
    cmd.build();
    walk(&mut cmd, "cucmsim".into(), &mut out);
    out
}

#[test]
fn every_command_help_has_examples_that_parse() {
    let helps = helps();
    assert!(
        helps.len() >= 9,
        "{:?}",
        helps.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    for (path, help) in &helps {
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`{path} --help` has no Examples:\n{help}"));
        let mut parsed = 0;
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            // The command, then its comment after two spaces; shell plumbing is not clap's.
            let command = line.trim().split("  ").next().unwrap();
            if !command.starts_with("cucmsim ") || command.contains(['|', '>', '&', '$', ';']) {
                continue;
            }
            let words: Vec<&str> = command.split_whitespace().collect();
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("`{path} --help` example `{command}` does not parse: {e}");
            }
            parsed += 1;
        }
        assert!(parsed > 0, "`{path} --help`: no example parsed\n{examples}");
    }
}

#[test]
fn help_shows_defaults_and_exit_codes() {
    let helps: std::collections::BTreeMap<String, String> = helps().into_iter().collect();
    let run = &helps["cucmsim run"];
    for needle in [
        "[default: results/<scenario>/<seed>/]",
        "[default: the scenario's `seed`]",
        "[default: the scenario's fleets as written]",
        "Exit codes: 0",
    ] {
        assert!(
            run.contains(needle),
            "{needle:?} missing from run --help:\n{run}"
        );
    }
    assert!(helps["cucmsim bench scale"].contains("[default: 100000]"));
    assert!(helps["cucmsim pki demo"].contains("[default: 12.5]"));
    assert!(helps["cucmsim"].contains("Exit codes: 0"));
    assert!(helps["cucmsim check"].contains("Exit codes: 0 valid, 2 invalid"));
}
