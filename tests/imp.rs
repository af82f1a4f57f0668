//! IM&P nodes (seed 002): the scenarios under `scenarios/imp/` meet their own expectations,
//! and the IM&P steps report bad input at `file:line:col`.

use super::scenarios::run_scenario;
use std::path::Path;

#[test]
fn imp_regenerate_cup_xmpp_jabber() {
    run_scenario("scenarios/imp/regenerate_cup_xmpp_jabber.toml");
}

#[test]
fn imp_cup_restart_order_sip_federation() {
    run_scenario("scenarios/imp/cup_restart_order_sip_federation.toml");
}

#[test]
fn imp_ipsec_trust_and_deletion() {
    run_scenario("scenarios/imp/ipsec_trust_and_deletion.toml");
}

#[test]
fn imp_steps_report_bad_input_with_line_and_column() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/imp/regenerate_cup_xmpp_jabber.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // (edit, text of the offending line, (column of the value, message part))
    let cases: [(&str, &str, &str, usize, &str); 7] = [
        (
            "type = \"cup-xmpp\"",
            "type = \"callmanager\"",
            "callmanager",
            8,
            "expected one of cup",
        ),
        (
            "node = \"imp-sub\"",
            "node = \"cucm-pub\"",
            "node = \"cucm-pub\"",
            8,
            "not an IM&P node",
        ),
        (
            "node = \"imp-sub\"",
            "node = \"nowhere\"",
            "nowhere",
            8,
            "no node \"nowhere\"",
        ),
        (
            "value = true",
            "value = \"yes\"",
            "\"yes\"",
            9,
            "true or false",
        ),
        (
            "name = \"alice\"",
            "name = \"\"",
            "name = \"\"",
            8,
            "needs a name",
        ),
        (
            "action = \"presence_ha\"",
            "action = \"presence_ha\"\nnode = \"xnode\"",
            "node = \"xnode\"",
            8,
            "`node` is not used by \"presence_ha\"",
        ),
        (
            "action = \"imp_restart_services\"",
            "action = \"imp_restart_services\"\nstore = \"cup-trust\"",
            "store = \"cup-trust\"",
            9,
            "`store` is not used",
        ),
    ];
    for (from, to, needle, col, msg) in cases {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text, "{from}");
        let line = bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let e = cucmsim::lang::parse_str("imp.toml", &bad).unwrap_err();
        assert_eq!((e.line, e.col), (line, col), "{e}");
        assert!(e.message.contains(msg), "{e}");
    }
    let store = text.replacen(
        "action = \"presence_ha\"\ncluster = \"lab\"\nvalue = true",
        "action = \"delete_trust_certificate\"\ncluster = \"lab\"\nnode = \"imp-pub\"\nstore = \"phone-trust\"",
        1,
    );
    let e = cucmsim::lang::parse_str("imp.toml", &store).unwrap_err();
    assert!(e.message.contains("unknown store"), "{e}");
    let line = store
        .lines()
        .position(|l| l.contains("phone-trust"))
        .unwrap()
        + 1;
    assert_eq!((e.line, e.col), (line, 9), "{e}");
}

#[test]
fn multi_san_steps_report_bad_input_with_line_and_column() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/catalogue/f21_self_signed_not_deleted_after_multi_san.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cases: [(&str, &str, usize, &str); 4] = [
        (
            "type = \"tomcat\"",
            "type = \"ipsec\"",
            8,
            "unknown multi-server type",
        ),
        (
            "certificate = \"intermediate\"",
            "certificate = \"leaf\"",
            15,
            "\"root\" or \"intermediate\"",
        ),
        (
            "cluster = \"b\"\nmode = \"CSCur97909\"",
            "cluster = \"b\"\nmode = \"CSCup28852\"",
            8,
            "defect of the CallManager multi-server certificate",
        ),
        (
            "type = \"ca-root\"",
            "type = \"ca-root\"\nnode = \"a-imp\"",
            8,
            "`node` is not used",
        ),
    ];
    for (from, to, col, msg) in cases {
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text, "{from}");
        let needle = to.lines().last().unwrap();
        let line = bad
            .lines()
            .position(|l| l.trim_end() == needle)
            .expect(needle)
            + 1;
        let e = cucmsim::lang::parse_str("f21.toml", &bad).unwrap_err();
        assert_eq!((e.line, e.col), (line, col), "{e}");
        assert!(e.message.contains(msg), "{e}");
    }
}

#[test]
fn a_run_without_phones_writes_its_reports() {
    // No phone, so no latency above the plot's floor: the HTML report used to panic here.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/imp/ipsec_trust_and_deletion.toml");
    let (code, _, stderr) =
        super::support::run(&["run", "-q", scenario.to_str().unwrap(), "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("report.html").exists());
}
